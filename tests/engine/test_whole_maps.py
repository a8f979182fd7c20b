"""Whole attributes maps as converter arguments and values (``Len(span.attributes)``,
``Keys(resource.attributes)``, ``merge_maps(span.attributes, resource.attributes, ...)``), a
span's events and links (``Len(span.events)``), and converter results no column holds passed
to another converter (``Len(Split(...))``), on the fast engine."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from engine_strategies import make_group, transform_agrees
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

import ottl.derive
from ottl._batch import decode_traces
from ottl.derive import NeedsReference
from ottl.engine import compile_condition, compile_statement

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks" / "benchmarks"))
from otlp_data import trace_request  # noqa: E402


def _data(spans: int = 200, resources: int = 4) -> bytes:
    return trace_request(spans, n_resources=resources).SerializeToString()


def _repeated_key_request() -> bytes:
    """Three spans, the second holding the key "a" twice (OTLP allows it on the wire)."""
    req = ExportTraceServiceRequest()
    spans = req.resource_spans.add().scope_spans.add().spans
    for i, keys in enumerate([["a", "b"], ["a", "b", "a"], ["c"]]):
        span = spans.add(name=f"s{i}")
        for j, key in enumerate(keys):
            kv = span.attributes.add(key=key)
            kv.value.int_value = j
    return req.SerializeToString()


@pytest.mark.parametrize("threshold", [0, 5, 9, 10, 11, 30])
def test_len_of_the_records_map_agrees_with_the_reference(threshold):
    text = f"Len(span.attributes) > {threshold}"
    cond = compile_condition(text, "span")
    assert cond.native, cond.reason
    assert cond._derived._plans[0] is not None  # counted from the offsets, not per record
    batch = decode_traces(_data())
    assert batch.attribute_keys_unique
    expected = cond.reference_filter(decode_traces(_data()))
    assert np.array_equal(cond.native_filter(batch), expected)


def test_a_repeated_key_is_counted_once_as_the_reference_map_holds_it():
    data = _repeated_key_request()
    batch = decode_traces(data)
    assert not batch.attribute_keys_unique
    stmt = compile_statement('set(span.attributes["n"], Len(span.attributes))')
    assert stmt.native, stmt.reason
    stmt.execute(batch)
    # the count is taken before the set adds "n"; the repeated "a" counts once
    got = [{kv["key"]: kv["value"] for kv in r["attributes"]}["n"] for r in batch.records()]
    assert got == [{"int_value": 2}, {"int_value": 2}, {"int_value": 1}]
    cond = compile_condition("Len(span.attributes) == 2", "span")
    assert cond.native_filter(decode_traces(data)).tolist() == [1, 1, 0]
    assert cond.reference_filter(decode_traces(data)).tolist() == [1, 1, 0]


def test_a_parents_map_is_built_once_per_parent(monkeypatch):
    built = []
    real = ottl.derive.attributes_from_otlp
    monkeypatch.setattr(ottl.derive, "attributes_from_otlp",
                        lambda items: built.append(1) or real(items))
    batch = decode_traces(_data(200, 4))
    stmt = compile_statement('set(span.attributes["keys"], Keys(resource.attributes))')
    assert stmt.native, stmt.reason
    assert stmt.execute(batch).all()
    assert len(built) == len(batch.resources()) == 4
    resources = batch.resources()
    owners = batch.column("resource").tolist()
    for owner, record in zip(owners, batch.records()):
        keys = {kv["key"]: kv["value"] for kv in record["attributes"]}["keys"]
        expected = [kv["key"] for kv in resources[owner]["resource"]["attributes"]]
        assert [v["string_value"] for v in keys["array_value"]["values"]] == expected


def test_merge_maps_from_the_resources_map():
    batch = decode_traces(_data(60, 3))
    before = [{kv["key"]: kv["value"] for kv in r["attributes"]} for r in batch.records()]
    stmt = compile_statement('merge_maps(span.attributes, resource.attributes, "insert")')
    assert stmt.native, stmt.reason
    stmt.execute(batch)
    resources = batch.resources()
    for owner, old, record in zip(batch.column("resource").tolist(), before, batch.records()):
        merged = {kv["key"]: kv["value"] for kv in record["attributes"]}
        parent = {kv["key"]: kv["value"] for kv in resources[owner]["resource"]["attributes"]}
        assert merged == {**parent, **old}  # insert: the span's own values win


@pytest.mark.parametrize("text", [
    'Len(Split(span.name, " ")) > 1',
    'Len(Values(span.attributes)) == Len(span.attributes)',
    'Len(Keys(resource.attributes)) > Len(scope.attributes)',
    'IsMatch(Format("%v", [Split(span.name, " ")]), "GET")',
])
def test_an_inner_result_no_column_holds_reaches_the_outer_converter(text):
    cond = compile_condition(text, "span")
    assert cond.native, cond.reason
    got = cond.native_filter(decode_traces(_data()))  # no NeedsReference
    assert np.array_equal(got, cond.reference_filter(decode_traces(_data())))


def test_a_list_result_read_by_the_vm_still_goes_to_the_reference():
    cond = compile_condition('Split(span.name, " ") == nil', "span")
    assert cond.native, cond.reason
    with pytest.raises(NeedsReference, match="Split gave a list"):
        cond.native_filter(decode_traces(_data()))
    assert not cond.filter(decode_traces(_data())).any()  # the reference decides


@pytest.mark.parametrize("text", [
    'set(span.attributes["k"], span.attributes)',
    'merge_maps(span.attributes["k"], span.attributes, "upsert")',
    'merge_maps(span.attributes, span.attributes, "upsert")',
])
def test_a_map_written_into_itself_is_left_to_the_reference(text):
    # the reference's setter makes the entry before it reads the map
    stmt = compile_statement(text)
    assert not stmt.native
    assert "own" in stmt.reason


def _with_links() -> bytes:
    """benchmarks' spans (some with one or two events), a few given links."""
    req = trace_request(300, n_resources=3)
    for i, span in enumerate(s for rs in req.resource_spans for ss in rs.scope_spans
                             for s in ss.spans):
        for j in range(i % 4 if i % 5 == 0 else 0):
            link = span.links.add(trace_id=bytes([j + 1] * 16), span_id=bytes([i % 250 + 1] * 8))
            link.attributes.add(key="k").value.int_value = j
    return req.SerializeToString()


@pytest.mark.parametrize("texts", [
    ['set(span.attributes["events"], Len(span.events))',
     'set(span.attributes["links"], Len(span.links))'],
    ['set(span.attributes["busy"], true) where Len(span.events) + Len(span.links) > 1'],
    ['set(span.attributes["listed"], IsList(span.events))'],
])
def test_a_spans_events_and_links_as_parts(texts):
    data = _with_links()
    batch = decode_traces(data)
    assert np.diff(batch.column("event_off")).max() > 0
    assert np.diff(batch.column("link_off")).max() > 1
    transform_agrees("traces", data, [make_group("statements", "traces", "span", texts,
                                                 "propagate")])


def test_len_of_events_and_links_is_counted_from_offsets():
    stmt = compile_statement('set(span.attributes["n"], Len(span.events) * 10 + Len(span.links))')
    assert stmt.native, stmt.reason
    assert all(plan is not None for plan in stmt._derived._plans)  # no reference call
    batch = decode_traces(_with_links())
    events, links = np.diff(batch.column("event_off")), np.diff(batch.column("link_off"))
    stmt.execute(batch)
    got = [{kv["key"]: kv["value"] for kv in r["attributes"]}["n"]["int_value"]
           for r in batch.records()]
    assert got == (events * 10 + links).tolist()
