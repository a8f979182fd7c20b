"""Ids on the VM: their `.string` paths (span.trace_id.string, span.span_id.string,
span.parent_span_id.string, log.trace_id.string, log.span_id.string: lowercase hex of the id's
bytes, "" for an absent or all-zero id) and the ids themselves in comparisons (TraceID and
SpanID values: bytewise, with ids of their own type only; an absent id is the all-zero one), as
the reference gives them; ids as converter arguments (``Hex(span.span_id)``) and as values a set
stores (their bytes, as the reference's setter stores them). Setting them:
tests/engine/test_id_writes.py."""

from __future__ import annotations

import random

import numpy as np
import pytest
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from engine_strategies import make_group, transform_agrees

from ottl._batch import decode_logs, decode_traces
from ottl.engine import NeedsReference, compile_condition, compile_statement
from ottl.eval.otlp_json import OtlpFormatError

TRACE = bytes(range(1, 17))
SPAN = bytes.fromhex("a1b2c3d4e5f60718")


def _spans() -> bytes:
    req = ExportTraceServiceRequest()
    ss = req.resource_spans.add().scope_spans.add()
    ss.spans.add(name="root", trace_id=TRACE, span_id=SPAN)  # no parent
    ss.spans.add(name="child", trace_id=TRACE, span_id=bytes(8)[:7] + b"\x01",
                 parent_span_id=SPAN)
    ss.spans.add(name="zeros", trace_id=bytes(16), span_id=bytes(8), parent_span_id=bytes(8))
    ss.spans.add(name="none")
    return req.SerializeToString()


def _logs() -> bytes:
    req = ExportLogsServiceRequest()
    sl = req.resource_logs.add().scope_logs.add()
    sl.log_records.add(trace_id=TRACE, span_id=SPAN)
    sl.log_records.add(trace_id=bytes(16))
    sl.log_records.add()
    return req.SerializeToString()


def _agrees(batch, text: str, expected: list[bool]) -> None:
    """The condition runs natively and both engines give ``expected``."""
    condition = compile_condition(text)
    assert condition.native, condition.reason
    assert condition.native_filter(batch).tolist() == expected
    assert condition.reference_filter(batch).tolist() == expected


@pytest.mark.parametrize("text, expected", [
    ('span.parent_span_id.string == ""', [True, False, True, True]),
    (f'span.trace_id.string == "{TRACE.hex()}"', [True, True, False, False]),
    ('span.span_id.string == "0000000000000001"', [False, True, False, False]),
    ('span.span_id.string == "0000000000000000"', [False, False, False, False]),
    (f'span.parent_span_id.string == "{SPAN.hex()}"', [False, True, False, False]),
    ('span.trace_id.string > "0"', [True, True, False, False]),
    ('span.trace_id.string == nil', [False, False, False, False]),
    ('IsMatch(span.span_id.string, "^a1b2")', [True, False, False, False]),
    ('Len(span.trace_id.string) == 32', [True, True, False, False]),
    ('span.span_id.string == span.parent_span_id.string', [False, False, True, True]),
])
def test_span_id_strings(text: str, expected: list[bool]):
    _agrees(decode_traces(_spans()), text, expected)


ZERO_SPAN = "SpanID(0x0000000000000000)"


@pytest.mark.parametrize("text, expected", [
    (f"span.parent_span_id == {ZERO_SPAN}", [True, False, True, True]),  # root spans
    (f"span.trace_id == TraceID(0x{TRACE.hex()})", [True, True, False, False]),
    (f"span.trace_id != TraceID(0x{TRACE.hex()})", [False, False, True, True]),
    (f"span.span_id > {ZERO_SPAN}", [True, True, False, False]),
    (f"span.parent_span_id == SpanID(0x{SPAN.hex()})", [False, True, False, False]),
    ("span.parent_span_id == SpanID(0xffffffffffffffff)", [False, False, False, False]),
    ("span.span_id == span.parent_span_id", [False, False, True, True]),
    ("span.span_id < span.parent_span_id", [False, True, False, False]),
    # ids of different types, an id against bytes, and nil: unequal and unordered
    ("span.trace_id == span.span_id", [False, False, False, False]),
    ("span.trace_id != span.span_id", [True, True, True, True]),
    (f"span.trace_id == 0x{TRACE.hex()}", [False, False, False, False]),
    (f"span.span_id <= TraceID(0x{TRACE.hex()})", [False, False, False, False]),
    ("span.trace_id == nil", [False, False, False, False]),
    ("span.trace_id >= nil", [False, False, False, False]),
    (f"span.trace_id == TraceID(0x{TRACE.hex()}) and span.span_id.string != \"\"",
     [True, True, False, False]),
    # IsRootSpan(): the parent id is empty, compiled as that comparison (a path names the
    # context)
    ('IsRootSpan() and span.name != "zz"', [True, False, True, True]),
    ('not IsRootSpan() or span.name == "none"', [False, True, False, True]),
])
def test_span_ids(text: str, expected: list[bool]):
    _agrees(decode_traces(_spans()), text, expected)


@pytest.mark.parametrize("text, expected", [
    (f"log.trace_id == TraceID(0x{TRACE.hex()})", [True, False, False]),
    (f"log.span_id == {ZERO_SPAN}", [False, True, True]),
    (f'log.trace_id.string == "{TRACE.hex()}"', [True, False, False]),
    ('log.span_id.string == ""', [False, True, True]),
    ('log.trace_id.string != ""', [True, False, False]),
])
def test_log_id_strings(text: str, expected: list[bool]):
    _agrees(decode_logs(_logs()), text, expected)


@pytest.mark.parametrize("text, reason", [
    ('set(span.kind.string, span.name)', "set of span.kind.string"),
])
def test_what_stays_with_the_reference(text: str, reason: str):
    statement = compile_statement(text)
    assert not statement.native
    assert reason in statement.reason, statement.reason


@pytest.mark.parametrize("texts", [
    ['set(span.attributes["t"], span.trace_id)', 'set(span.attributes["p"], span.parent_span_id)'],
    ['set(span.attributes["h"], Hex(span.span_id))', 'set(span.name, String(span.trace_id))'],
    ['set(span.attributes["c"], TraceID(0x0102030405060708090a0b0c0d0e0f10))'],
    ['set(span.attributes["x"], Concat([span.name, Hex(span.trace_id)], "-"))',
     'set(span.attributes["y"], SHA256(String(span.parent_span_id)))'],
    ['set(span.attributes["t"], span.trace_id)',
     'set(span.attributes["same"], true) where TraceID(span.attributes["t"]) == span.trace_id'],
])
def test_ids_as_values_and_converter_arguments(texts: list[str]):
    transform_agrees("traces", _spans(), [make_group("statements", "traces", "span", texts,
                                                     "propagate")])


def test_a_log_id_as_a_value():
    transform_agrees("logs", _logs(), [make_group(
        "statements", "logs", "log",
        ['set(log.attributes["t"], log.trace_id)', 'set(log.body, Hex(log.span_id))'],
        "propagate")])


def test_is_root_span_as_a_value():
    # the parent id compared with the empty one over whole columns (no reference call)
    statement = compile_statement('set(span.attributes["root"], IsRootSpan())')
    assert statement.native, statement.reason
    assert all(plan is not None for plan in statement._derived._plans)
    transform_agrees("traces", _spans(), [make_group(
        "statements", "traces", "span",
        ['set(span.attributes["root"], IsRootSpan())',
         'set(span.name, Concat([String(IsRootSpan()), span.name], "-"))'], "propagate")])
    batch = decode_traces(_spans())
    statement.execute(batch)
    got = [{kv["key"]: kv["value"] for kv in r["attributes"]}["root"] for r in batch.records()]
    assert got == [{"bool_value": v} for v in (True, False, True, True)]


def test_is_root_span_gates_a_statement():
    gated = compile_statement('set(span.attributes["root"], true) where IsRootSpan()')
    assert gated.native, gated.reason
    assert gated.execute(decode_traces(_spans())).tolist() == [True, False, True, True]


def test_a_statement_gated_on_an_id():
    batch = decode_traces(_spans())
    statement = compile_statement(
        f'set(span.name, "root") where span.parent_span_id == {ZERO_SPAN}')
    assert statement.native, statement.reason
    assert statement.execute(batch).tolist() == [True, False, True, True]
    names = [s["name"] for s in batch.to_dict()["resource_spans"][0]["scope_spans"][0]["spans"]]
    assert names == ["root", "child", "root", "root"]


def test_an_id_string_written_to_an_attribute():
    batch = decode_traces(_spans())
    statement = compile_statement('set(span.attributes["parent"], span.parent_span_id.string)')
    assert statement.native, statement.reason
    statement.execute(batch)
    spans = batch.to_dict()["resource_spans"][0]["scope_spans"][0]["spans"]
    got = [{kv["key"]: kv["value"] for kv in s["attributes"]}["parent"] for s in spans]
    assert got == [{"string_value": v} for v in ["", SPAN.hex(), "", ""]]


def test_an_irregular_id_sends_the_batch_to_the_reference():
    # A 3-byte trace id: the decoder keeps it aside, the reference refuses the record.
    req = ExportTraceServiceRequest()
    ss = req.resource_spans.add().scope_spans.add()
    ss.spans.add(name="a", trace_id=TRACE)
    ss.spans.add(name="b", trace_id=b"\x01\x02\x03")
    batch = decode_traces(req.SerializeToString())
    for text in ('span.trace_id.string == ""', 'IsMatch(span.trace_id.string, "^01")',
                 "span.trace_id == TraceID(0x0102030405060708090a0b0c0d0e0f10)"):
        condition = compile_condition(text)
        assert condition.native
        with pytest.raises(NeedsReference, match="trace_id"):
            condition.native_filter(batch)
        with pytest.raises(OtlpFormatError, match="span 1 trace_id"):
            condition.filter(batch)
    statement = compile_statement('set(span.attributes["t"], span.trace_id.string)')
    with pytest.raises(NeedsReference, match="span 1"):
        statement.execute(batch)
    # the raw id read as a converter's argument (a derived column) refuses it the same way
    statement = compile_statement('set(span.attributes["t"], Hex(span.trace_id))')
    assert statement.native, statement.reason
    with pytest.raises(NeedsReference, match="irregular length"):
        statement.execute(batch)
    assert batch.to_dict()["resource_spans"][0]["scope_spans"][0]["spans"][0].get(
        "attributes", []) == []
    # A condition that reads no id still runs natively over the batch.
    assert compile_condition('span.name == "b"').native_filter(batch).tolist() == [False, True]


def test_reading_ids_interns_strings_without_staling_column_views():
    # Thousands of distinct ids grow the string table while the filter prepares; the batch's
    # columns read afterwards must come from the moved table.
    rng = random.Random(5)
    req = ExportTraceServiceRequest()
    ss = req.resource_spans.add().scope_spans.add()
    for i in range(3000):
        ss.spans.add(name=f"op{i % 5}", trace_id=rng.randbytes(16), span_id=rng.randbytes(8))
    batch = decode_traces(req.SerializeToString())
    before = batch.string_count
    names = [s["name"] for s in batch.to_dict()["resource_spans"][0]["scope_spans"][0]["spans"]]
    offsets = batch.column("strings.offsets")
    mask = compile_condition('span.trace_id.string < "8"').native_filter(batch)
    expected = [s.trace_id.hex() < "8" for s in ss.spans]
    assert mask.tolist() == expected
    assert batch.string_count >= before + 3000
    assert len(batch.column("strings.offsets")) == batch.string_count + 1 > len(offsets)
    after = [s["name"] for s in batch.to_dict()["resource_spans"][0]["scope_spans"][0]["spans"]]
    assert after == names
    assert ExportTraceServiceRequest.FromString(batch.encode()) == req


def test_a_projected_batch_reads_ids_whole():
    data = _spans()
    batch = decode_traces(data, attribute_keys=["k"])
    condition = compile_condition(
        'span.parent_span_id.string == "" and span.attributes["k"] == nil')
    assert condition.native
    assert np.array_equal(condition.native_filter(batch), [True, False, True, True])
