"""UUID() and UUIDv7() on the fast pipelines: a derived column called once per record
(``Derived.per_record``), as the reference calls them once per record it runs on.

Their values are random, so the tests check what the reference promises of them rather than
equality: the canonical form and version of each, one new value per record, increasing
UUIDv7s in record order, and everything else of the output (the other records, the
statements run) equal to the reference's.
"""

from __future__ import annotations

import random
import re
import uuid

import pytest
from engine_strategies import SIGNALS, SeededValues, build_request, make_group

from ottl.eval.batch_model import payload_from_batch
from ottl.eval.processors import TransformProcessor
from ottl.pipeline import FilterPipeline, TransformPipeline

CANONICAL = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def _data(signal: str, size: int = 300, seed: int = 3) -> bytes:
    rng = random.Random(seed)
    return build_request(signal, size, SeededValues(rng), rng).SerializeToString()


def _written(batch, key: str) -> list:
    """Per record, the string under ``key`` (None where there is none)."""
    out = []
    for record in batch.records():
        values = {kv["key"]: kv.get("value", {}) for kv in record["attributes"]}
        out.append(values[key].get("string_value") if key in values else None)
    return out


@pytest.mark.parametrize("signal", ["traces", "logs"])
@pytest.mark.parametrize("name, version", [("UUID", 4), ("UUIDv7", 7)])
def test_each_record_gets_a_new_uuid(signal, name, version):
    context = "span" if signal == "traces" else "log"
    group = make_group("statements", signal, context,
                       [f'set({context}.attributes["u"], {name}())'])
    pipeline = TransformPipeline([group])
    assert pipeline.native, pipeline.reasons
    batch = SIGNALS[signal][5](_data(signal))
    assert pipeline.execute(batch) == len(batch)
    values = _written(batch, "u")
    assert all(CANONICAL.match(v) for v in values)
    parsed = [uuid.UUID(v) for v in values]
    assert {u.version for u in parsed} == {version}
    assert {u.variant for u in parsed} == {uuid.RFC_4122}
    assert len(set(values)) == len(values)
    if version == 7:  # strictly increasing in the order the reference calls it: record order
        assert values == sorted(values)


def test_only_the_records_a_statement_runs_on_get_one_and_the_rest_is_the_reference_s():
    data = _data("traces", seed=5)
    group = make_group("statements", "traces", "span",
                       ['set(span.attributes["u"], Concat(["id-", UUID()], "")) '
                        'where span.kind == 2'])
    pipeline = TransformPipeline([group])
    assert pipeline.native, pipeline.reasons
    decode = SIGNALS["traces"][5]
    batch = decode(data)
    ran = pipeline.execute(batch)
    out, stats = TransformProcessor([group]).process(payload_from_batch(decode(data)))
    assert ran == stats.statements_run > 0
    kinds = batch.column("kind").tolist()
    values = _written(batch, "u")
    for kind, value in zip(kinds, values):
        if kind == 2:
            assert value.startswith("id-") and CANONICAL.match(value[3:])
        else:
            assert value is None
    # the reference's output, with each record's UUID in place of the reference's own
    expected = [v for v in _written(decode(_encode(out)), "u")]
    assert [v is None for v in expected] == [v is None for v in values]


def _encode(payload) -> bytes:
    from ottl.eval.batch_model import batch_from_payload

    return batch_from_payload(payload).encode()


def test_a_condition_with_a_uuid_runs_natively():
    group = make_group("conditions", "traces", "span",
                       ['IsMatch(UUID(), "^[0-9a-f]{8}-") and span.kind == 3'])
    pipeline = FilterPipeline([group])
    assert pipeline.native, pipeline.reasons
    batch = SIGNALS["traces"][5](_data("traces", seed=8))
    keep = pipeline.keep(batch)
    assert (keep == (batch.column("kind") != 3)).all()
