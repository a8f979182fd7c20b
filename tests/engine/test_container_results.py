"""Converters whose results are maps or lists (Split, ParseJSON, ParseKeyValue...) run on the
fast engine: each distinct result is stored once as a run of the batch's value pool
(``ottl._vm.store_value``), and the records point at it."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from ottl import _vm
from ottl._batch import TAG_ARRAY, TAG_KVLIST, decode_logs, decode_traces
from ottl.engine import compile_statement
from ottl.eval.values import PMap, PSlice

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks" / "benchmarks"))
from otlp_data import logs_request, trace_request  # noqa: E402


def _attrs(record: dict) -> dict:
    return {kv["key"]: kv.get("value") for kv in record["attributes"]}


def test_a_list_result_is_stored_once_per_distinct_value():
    batch = decode_traces(trace_request(200, n_resources=2).SerializeToString())
    names = [r["name"] for r in batch.records()]
    stmt = compile_statement('set(span.attributes["parts"], Split(span.name, " "))')
    assert stmt.native, stmt.reason
    before = len(batch.column("values.tag"))
    assert stmt.execute(batch).all()  # natively: no NeedsReference
    stored = len(batch.column("values.tag")) - before
    assert stored == sum(len(n.split(" ")) for n in set(names))
    for name, record in zip(names, batch.records()):
        got = _attrs(record)["parts"]["array_value"]["values"]
        assert [v["string_value"] for v in got] == name.split(" ")


def test_a_map_result_round_trips_through_the_encoder():
    batch = decode_logs(logs_request(50, n_resources=1).SerializeToString())
    stmt = compile_statement(
        'set(log.attributes["kv"], ParseKeyValue(Concat(["a=", log.severity_text, " b=2"], "")))')
    assert stmt.native, stmt.reason
    stmt.execute(batch)
    again = decode_logs(batch.encode(verbatim=True))
    for record in again.records():
        kv = _attrs(record)["kv"]["kvlist_value"]["values"]
        assert [(e["key"], e["value"]["string_value"]) for e in kv] == [
            ("a", record["severity_text"]), ("b", "2")]


def test_store_value_layout():
    batch = decode_traces(trace_request(5, n_resources=1).SerializeToString())
    tag, val = _vm.store_value(batch, PMap({"l": PSlice([1, "x", PMap()])}))
    assert tag == TAG_KVLIST
    assert batch.value(tag, val) == {"kvlist_value": {"values": [{"key": "l", "value": {
        "array_value": {"values": [{"int_value": 1}, {"string_value": "x"},
                                   {"kvlist_value": {"values": []}}]}}}]}}
    tag, val = _vm.store_value(batch, PSlice())
    assert tag == TAG_ARRAY and batch.value(tag, val) == {"array_value": {"values": []}}
    with pytest.raises(TypeError, match="complex"):
        _vm.store_value(batch, PSlice([1j]))
