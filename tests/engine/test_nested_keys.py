"""Keys followed into nested values over whole columns (``ottl._vm.follow_keys``, what
``derive_vector`` uses for ``log.body["level"]`` or ``span.attributes["a"][0]``) against the
reference's read_keys, record by record: a row it computes holds the reference's value, and a
row where the reference fails is one it leaves to the reference. The expressions themselves are
checked end to end by test_differential.py (conditions) and test_statement_failures.py (sets,
with error modes)."""

from __future__ import annotations

import random
import struct

import pytest
from engine_strategies import (
    CONTEXT_OF,
    KEYS,
    MISSING_KEY,
    SeededValues,
    batches,
    build_request,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ottl import _vm
from ottl._batch import TAG_ABSENT, decode_logs
from ottl.compiler.opcodes import FIELD_INDEX
from ottl.derive import to_python
from ottl.eval.errors import EvalError
from ottl.eval.paths import LiteralKey, read_keys
from ottl.eval.values import PMap, PSlice

SLOW = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example]

key_paths = st.lists(st.one_of(st.sampled_from([*KEYS[:3], MISSING_KEY]),
                               st.sampled_from([0, 1, 2, -1])), min_size=1, max_size=3)


def _canon(v):
    """A value in a form that compares NaN equal to itself and keeps types apart."""
    if isinstance(v, PMap):
        return ("map", [(k, _canon(x)) for k, x in v.items()])
    if isinstance(v, (PSlice, list)):
        return ("list", [_canon(x) for x in v])
    if isinstance(v, float):
        return ("float", struct.pack("<d", v))
    return (type(v).__name__, v)


def _check(batch, tags, vals, keys, base):
    """Follows ``keys`` natively and by the reference over a column; ``base(row)`` is what the
    reference reads before the keys (None where the attribute is missing)."""
    got_t, got_v, left = _vm.follow_keys(batch, tags, vals, keys)
    key_fns = [LiteralKey(k) for k in keys]
    decided = 0
    for row in range(len(tags)):
        missing = tags[row] == TAG_ABSENT
        try:
            expected = None if missing else read_keys(base(row), key_fns, None)
        except EvalError:
            assert left[row], f"row {row}: the reference fails, the kernel computed a value"
            continue
        if left[row]:
            raise AssertionError(f"row {row}: the kernel left a value the reference reads: "
                                 f"{expected!r}")
        decided += 1
        assert _canon(to_python(batch, int(got_t[row]), int(got_v[row]))) == _canon(expected), row
    return decided


@pytest.mark.parametrize("signal", ["traces", "logs"])
@pytest.mark.parametrize("size", [7, 300])
def test_following_keys_into_attributes_and_bodies(signal, size):
    context = CONTEXT_OF[signal]
    owner = FIELD_INDEX["SPAN_ATTRS" if context == "span" else "LOG_ATTRS"]
    totals = {"decided": 0}

    @settings(max_examples=60 if size < 100 else 10, deadline=None, suppress_health_check=SLOW)
    @given(drawn=batches(signal, size), key=st.sampled_from([*KEYS, MISSING_KEY]), keys=key_paths)
    def run(drawn, key, keys):
        batch, _ = drawn
        tags, vals = _vm.column(batch, owner, key, absent=True)
        totals["decided"] += _check(batch, tags, vals, keys,
                                    lambda row: to_python(batch, int(tags[row]), int(vals[row])))
        if signal == "logs":
            body = _vm.column(batch, FIELD_INDEX["LOG_BODY"])
            totals["decided"] += _check(batch, *body, keys, lambda row: to_python(
                batch, int(body[0][row]), int(body[1][row])))

    run()
    assert totals["decided"] > 0  # not every path failed


def test_refusals_and_an_empty_column():
    rng = random.Random(3)
    batch = decode_logs(build_request("logs", 5, SeededValues(rng), rng).SerializeToString())
    tags, vals = _vm.column(batch, FIELD_INDEX["LOG_BODY"])
    with pytest.raises(TypeError, match="a key must be a str or an int, not float"):
        _vm.follow_keys(batch, tags, vals, [1.5])
    with pytest.raises(ValueError, match="differ in length"):
        _vm.follow_keys(batch, tags, vals[:0], ["k"])
    out = _vm.follow_keys(batch, tags[:0], vals[:0], ["k"])
    assert [len(a) for a in out] == [0, 0, 0]
