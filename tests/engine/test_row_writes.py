"""Records' attribute rows rewritten whole (``ottl._vm.set_rows``, what ``flatten`` and
``stringify_all`` of a whole map write through): the rows written hold the maps given, in
order; a row given what it already holds stays as it came (not dirty, its input bytes copied);
bad input is refused and leaves the batch as it was. The editors themselves are checked
against the reference by test_statements_differential.py."""

from __future__ import annotations

import random

import pytest
from engine_strategies import SeededValues, build_request

from ottl import _vm
from ottl._batch import decode_logs, decode_traces
from ottl.compiler.opcodes import FIELD_INDEX
from ottl.eval.batch_model import attributes_from_otlp
from ottl.eval.values import PMap, PSlice


def _batch(signal: str, n: int = 30):
    rng = random.Random(11)
    data = build_request(signal, n, SeededValues(rng), rng).SerializeToString()
    return (decode_traces if signal == "traces" else decode_logs)(data)


@pytest.mark.parametrize("signal", ["traces", "logs"])
def test_rows_hold_what_was_written_and_the_rest_stay(signal):
    batch = _batch(signal)
    field = FIELD_INDEX["SPAN_ATTRS" if signal == "traces" else "LOG_ATTRS"]
    before = [attributes_from_otlp(batch._attributes(i)) for i in range(len(batch))]
    # a row emptied, a row given what it holds (each key once, strings and ints only: a map
    # or list stored anew is never the one it had), and a row given a new map
    emptied = next(i for i in range(3, len(batch)) if before[i])
    same = next(i for i in range(len(batch)) if i != emptied and before[i] and
                len(batch._attributes(i)) == len(before[i]) and
                all(type(v) in (str, int) for v in before[i].values()))
    written = {emptied: PMap(), same: before[same],
               len(batch) - 1: PMap({"x": 1, "nested": PMap({"a": PSlice(["b", 2.5])})})}
    _vm.set_rows(batch, field, sorted(written), [written[r] for r in sorted(written)])
    for i in range(len(batch)):
        assert attributes_from_otlp(batch._attributes(i)) == written.get(i, before[i]), i
    dirty = _vm.dirty_records(batch)
    assert dirty[emptied] and dirty[len(batch) - 1] and not dirty[same] and dirty.sum() == 2


def test_refusals_leave_the_batch_as_it_was():
    batch = _batch("logs")
    field = FIELD_INDEX["LOG_ATTRS"]
    before = [batch._attributes(i) for i in range(len(batch))]
    with pytest.raises(IndexError, match="out of order or range"):
        _vm.set_rows(batch, field, [3, 1], [PMap(), PMap()])
    with pytest.raises(IndexError):
        _vm.set_rows(batch, field, [len(batch)], [PMap()])
    with pytest.raises(IndexError, match="not a record's map"):
        _vm.set_rows(batch, FIELD_INDEX["LOG_BODY"], [0], [PMap()])
    with pytest.raises(TypeError):
        _vm.set_rows(batch, field, [0], [PMap({"t": object()})])
    with pytest.raises(ValueError, match="differ in length"):
        _vm.set_rows(batch, field, [0, 1], [PMap()])
    assert [batch._attributes(i) for i in range(len(batch))] == before
    assert not _vm.dirty_records(batch).any()
