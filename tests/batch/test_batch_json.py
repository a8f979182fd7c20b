"""OTLP/JSON in and out of the batches (csrc/otlp_json_*.c), against the official classes,
google.protobuf.json_format and the reference evaluator's reader (ottl/eval/otlp_json.py)."""

from __future__ import annotations

import base64
import json
import math
import struct
import threading

import numpy as np
import pytest
from batch_strategies import as_message_dict, log_requests, trace_requests
from google.protobuf.json_format import MessageToDict
from hypothesis import given
from hypothesis import strategies as st
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1 import common_pb2

from ottl import limits
from ottl._batch import (
    TAG_DOUBLE,
    TAG_EMPTY,
    TAG_NONE,
    TAG_STRING,
    OtlpDecodeError,
    OtlpJsonDecodeError,
    decode_logs,
    decode_logs_json,
    decode_traces,
    decode_traces_json,
)
from ottl.eval import otlp_json, otlp_proto

ID_KEYS = {"traceId", "spanId", "parentSpanId", "trace_id", "span_id", "parent_span_id"}


def hex_ids(obj):
    """MessageToDict writes bytes as base64; OTLP/JSON writes trace and span ids as hex."""
    if isinstance(obj, dict):
        return {k: base64.b64decode(v).hex() if k in ID_KEYS else hex_ids(v)
                for k, v in obj.items()}
    if isinstance(obj, list):
        return [hex_ids(v) for v in obj]
    return obj


def official(msg, **kw) -> dict:
    """The official JSON mapping of msg, as OTLP/JSON spells it (hex ids, enums as numbers)."""
    kw.setdefault("use_integers_for_enums", True)
    return hex_ids(MessageToDict(msg, **kw))


def canonical_nans(msg):
    """JSON has one NaN ("NaN"): payloads and sign of NaN doubles do not survive it (nor
    protojson). Every NaN in msg becomes the canonical quiet NaN, in place."""
    def walk(m):
        for f, value in m.ListFields():
            if f.message_type is None:
                if f.name == "double_value" and math.isnan(value):
                    m.double_value = float("nan")
                continue
            for item in value if _repeated(f) else [value]:
                walk(item)
    walk(msg)
    return msg


def _repeated(f) -> bool:
    rep = getattr(f, "is_repeated", None)
    return bool(rep) if rep is not None else f.label == f.LABEL_REPEATED


def check_order(desc, obj) -> None:
    """Members of every object come in the message's declaration order (as protojson writes)."""
    fields = {f.json_name: f for f in desc.fields}
    positions = [list(desc.fields).index(fields[k]) for k in obj]
    assert positions == sorted(positions), (desc.full_name, list(obj))
    for key, value in obj.items():
        f = fields[key]
        if f.message_type is None:
            continue
        for item in value if isinstance(value, list) else [value]:
            check_order(f.message_type, item)


def t_doc(*spans, resource=None, scope=None) -> dict:
    group = {"scopeSpans": [{"spans": list(spans)}]}
    if resource is not None:
        group["resource"] = resource
    if scope is not None:
        group["scopeSpans"][0]["scope"] = scope
    return {"resourceSpans": [group]}


def l_doc(*logs) -> dict:
    return {"resourceLogs": [{"scopeLogs": [{"logRecords": list(logs)}]}]}


def one_span(doc) -> dict:
    """The first span of a decoded JSON doc, as the official class reads our protobuf."""
    msg = ExportTraceServiceRequest.FromString(decode_traces_json(json.dumps(doc)).encode())
    return msg.resource_spans[0].scope_spans[0].spans[0]


def one_log(doc):
    msg = ExportLogsServiceRequest.FromString(decode_logs_json(json.dumps(doc)).encode())
    return msg.resource_logs[0].scope_logs[0].log_records[0]


def attr_doc(value) -> dict:
    return t_doc({"attributes": [{"key": "k", "value": value}]})


def attr(value) -> common_pb2.KeyValue:
    return one_span(attr_doc(value)).attributes[0]


def json_error(data, decode=decode_traces_json, **kw) -> OtlpJsonDecodeError:
    if isinstance(data, dict):
        data = json.dumps(data)
    with pytest.raises(OtlpJsonDecodeError) as info:
        decode(data, **kw)
    return info.value


# ---- (a) encode_json against MessageToDict ----

@given(trace_requests)
def test_encode_json_is_the_official_mapping_traces(msg):
    out = decode_traces(msg.SerializeToString()).encode_json()
    doc = json.loads(out)
    assert doc == official(msg)
    check_order(ExportTraceServiceRequest.DESCRIPTOR, doc)


@given(log_requests)
def test_encode_json_is_the_official_mapping_logs(msg):
    doc = json.loads(decode_logs(msg.SerializeToString()).encode_json())
    assert doc == official(msg)
    check_order(ExportLogsServiceRequest.DESCRIPTOR, doc)


# ---- (b) decode_*_json of the official mapping gives the message back ----

@given(trace_requests, st.sampled_from(["camel", "snake", "unicode", "indented", "names"]))
def test_decode_json_of_the_official_mapping_traces(msg, style):
    doc = official(msg, preserving_proto_field_name=style == "snake",
                   use_integers_for_enums=style != "names")
    text = json.dumps(doc, ensure_ascii=style != "unicode",
                      indent=2 if style == "indented" else None)
    batch = decode_traces_json(text)
    canonical_nans(msg)
    assert ExportTraceServiceRequest.FromString(batch.encode()) == msg
    assert ExportTraceServiceRequest.FromString(batch.encode(verbatim=True)) == msg
    # And the same batch as from the protobuf bytes.
    assert as_message_dict(batch.to_dict()) == as_message_dict(
        decode_traces(msg.SerializeToString()).to_dict())


@given(log_requests, st.sampled_from(["camel", "snake", "unicode", "names"]))
def test_decode_json_of_the_official_mapping_logs(msg, style):
    doc = official(msg, preserving_proto_field_name=style == "snake",
                   use_integers_for_enums=style != "names")
    batch = decode_logs_json(json.dumps(doc, ensure_ascii=style != "unicode").encode())
    canonical_nans(msg)
    assert ExportLogsServiceRequest.FromString(batch.encode()) == msg
    assert ExportLogsServiceRequest.FromString(batch.encode(verbatim=True)) == msg


@given(trace_requests)
def test_json_round_trip_is_a_fixpoint(msg):
    once = decode_traces(msg.SerializeToString()).encode_json()
    assert decode_traces_json(once).encode_json() == once


@given(trace_requests, st.data())
def test_encode_json_with_a_mask_is_the_masked_protobuf(msg, data):
    batch = decode_traces(msg.SerializeToString())
    mask = np.array(data.draw(st.lists(st.booleans(), min_size=len(batch), max_size=len(batch))),
                    dtype=bool)
    expected = ExportTraceServiceRequest.FromString(batch.encode(mask))
    assert json.loads(batch.encode_json(mask)) == official(expected)


@given(log_requests, st.data())
def test_encode_json_with_a_mask_logs(msg, data):
    batch = decode_logs(msg.SerializeToString())
    mask = data.draw(st.lists(st.integers(0, 2), min_size=len(batch), max_size=len(batch)))
    expected = ExportLogsServiceRequest.FromString(batch.encode(mask))
    assert json.loads(batch.encode_json(mask)) == official(expected)


# ---- (c) JSON written by the reference evaluator's writer ----

def _regular_ids(msg):
    """The reference model holds ids of exactly 16 and 8 bytes (or none)."""
    def fix(obj, name, width):
        raw = getattr(obj, name)
        if raw and len(raw) != width:
            setattr(obj, name, (raw + bytes(width))[:width])

    groups = getattr(msg, "resource_spans", None) or getattr(msg, "resource_logs", None) or []
    for g in groups:
        for sg in getattr(g, "scope_spans", None) or getattr(g, "scope_logs", None) or []:
            for r in getattr(sg, "spans", None) or getattr(sg, "log_records", None) or []:
                fix(r, "trace_id", 16)
                fix(r, "span_id", 8)
                if hasattr(r, "parent_span_id"):
                    fix(r, "parent_span_id", 8)
                for link in getattr(r, "links", []):
                    fix(link, "trace_id", 16)
                    fix(link, "span_id", 8)
    return msg


def _without_presence(msg):
    """What the reference model cannot hold: an empty AnyValue in a KeyValue (it reads {} as
    no value) and an empty status (it always writes one)."""
    def values(kvs):
        for kv in kvs:
            if kv.HasField("value") and kv.value.WhichOneof("value") is None:
                kv.ClearField("value")
            elif kv.HasField("value"):
                any_value(kv.value)

    def any_value(v):
        if v.HasField("kvlist_value"):
            values(v.kvlist_value.values)
        elif v.HasField("array_value"):
            for x in v.array_value.values:
                any_value(x)

    groups = getattr(msg, "resource_spans", None) or getattr(msg, "resource_logs", None) or []
    for g in groups:
        values(g.resource.attributes)
        for sg in getattr(g, "scope_spans", None) or getattr(g, "scope_logs", None) or []:
            values(sg.scope.attributes)
            for r in getattr(sg, "spans", None) or getattr(sg, "log_records", None) or []:
                values(r.attributes)
                for e in getattr(r, "events", []):
                    values(e.attributes)
                for link in getattr(r, "links", []):
                    values(link.attributes)
                if hasattr(r, "status") and r.status == type(r.status)():
                    r.ClearField("status")
                if hasattr(r, "body") and r.HasField("body"):
                    any_value(r.body)
    return msg


@pytest.mark.parametrize("signal", ["traces", "logs"])
@given(data=st.data())
def test_json_written_by_the_reference_writer(signal, data):
    cls, decode, requests = (
        (ExportTraceServiceRequest, decode_traces_json, trace_requests) if signal == "traces"
        else (ExportLogsServiceRequest, decode_logs_json, log_requests))
    msg = _regular_ids(data.draw(requests))
    doc = otlp_json.dump(otlp_proto.load(msg.SerializeToString(), signal))
    batch = decode(json.dumps(doc))
    expected = cls.FromString(otlp_proto.dump(otlp_json.load(doc)))
    assert _without_presence(cls.FromString(batch.encode())) == _without_presence(expected)
    # And the reference reads what we write back to the same document, once given what
    # protojson leaves out and the reference requires: "key" when the key is "", and the list of
    # resource groups when it is empty.
    ours = _with_keys(json.loads(batch.encode_json()))
    ours.setdefault("resourceSpans" if signal == "traces" else "resourceLogs", [])
    assert otlp_json.dump(otlp_json.load(ours)) == doc


def _with_keys(obj):
    if isinstance(obj, list):
        return [_with_keys(v) for v in obj]
    if not isinstance(obj, dict):
        return obj
    out = {k: _with_keys(v) for k, v in obj.items()}
    for k in ("attributes", "values"):
        for kv in out.get(k, []) if isinstance(out.get(k), list) else []:
            if isinstance(kv, dict) and ("value" in kv or not kv) and k == "attributes":
                kv.setdefault("key", "")
    if "kvlistValue" in out:
        for kv in out["kvlistValue"].get("values", []):
            kv.setdefault("key", "")
    return out


@pytest.mark.parametrize("name", ["sample_traces.json", "sample_logs.json"])
def test_the_example_documents(name):
    from importlib import resources
    text = resources.files("ottl.examples").joinpath(name).read_text()
    doc = json.loads(text)
    decode = decode_traces_json if "traces" in name else decode_logs_json
    batch = decode(text)
    assert len(batch) > 0
    again = json.loads(batch.encode_json())
    assert otlp_json.dump(otlp_json.load(again)) == otlp_json.dump(otlp_json.load(doc))


# ---- what is accepted ----

def test_ids_hex_either_case_and_empty_is_absent():
    span = one_span(t_doc({"traceId": "0AF7651916CD43DD8448EB211C80319C",
                           "spanId": "b7ad6b7169203331", "parentSpanId": ""}))
    assert span.trace_id == bytes.fromhex("0af7651916cd43dd8448eb211c80319c")
    assert span.span_id == bytes.fromhex("b7ad6b7169203331")
    assert span.parent_span_id == b""
    batch = decode_traces_json(json.dumps(t_doc({"parentSpanId": ""})))
    assert batch.column("present")[0] == 0


def test_ids_of_other_lengths_are_kept():
    span = one_span(t_doc({"traceId": "abcd", "spanId": "00" * 9}))
    assert span.trace_id == b"\xab\xcd" and span.span_id == bytes(9)


@pytest.mark.parametrize("text,raw", [
    ("AP8=", b"\x00\xff"), ("AP8", b"\x00\xff"), ("AP-_", b"\x00\xff\xbf"),
    ("AP+/", b"\x00\xff\xbf"),
    ("", b""), ("QUJD", b"ABC"), ("QUI", b"AB"), ("QQ==", b"A"), ("QQ", b"A"),
    ("QR==", b"A"),  # nonzero trailing bits are ignored, as protojson and Python do
])
def test_bytes_values_in_base64_standard_or_url_safe(text, raw):
    value = attr({"bytesValue": text}).value
    assert value.WhichOneof("value") == "bytes_value" and value.bytes_value == raw


@pytest.mark.parametrize("given_,expected", [
    (5, 5), ("5", 5), (5.0, 5), ("5e0", 5), (1e3, 1000), ("1E3", 1000), ("-0", 0), ("0.5e1", 5),
    (-(2**63), -(2**63)), (str(2**63 - 1), 2**63 - 1), ("1000000000000000000e-18", 1),
])
def test_int64_values_as_numbers_or_strings(given_, expected):
    text = json.dumps(attr_doc({"intValue": 0})).replace('"intValue": 0',
                                                         f'"intValue": {json.dumps(given_)}')
    batch = decode_traces_json(text)
    assert batch.column("attributes.value")[0] == expected


def test_exact_integers_beyond_double_precision():
    text = '{"resourceSpans":[{"scopeSpans":[{"spans":[{"startTimeUnixNano":18446744073709551615,' \
           '"endTimeUnixNano":"9007199254740993"}]}]}]}'
    span = ExportTraceServiceRequest.FromString(decode_traces_json(text).encode()) \
        .resource_spans[0].scope_spans[0].spans[0]
    assert span.start_time_unix_nano == 2**64 - 1
    assert span.end_time_unix_nano == 9007199254740993


@pytest.mark.parametrize("given_,expected", [
    ("SPAN_KIND_SERVER", 2), ("SPAN_KIND_CONSUMER", 5), (3, 3), ("3", 3), (3.0, 3), (99, 99),
    (-1, -1), ("SPAN_KIND_UNSPECIFIED", 0),
])
def test_enums_as_numbers_or_names(given_, expected):
    assert one_span(t_doc({"kind": given_})).kind == expected


def test_status_and_severity_names():
    span = one_span(t_doc({"status": {"code": "STATUS_CODE_ERROR", "message": "boom"}}))
    assert span.status.code == 2 and span.status.message == "boom"
    assert one_log(l_doc({"severityNumber": "SEVERITY_NUMBER_INFO"})).severity_number == 9
    assert one_log(l_doc({"severityNumber": "SEVERITY_NUMBER_FATAL4"})).severity_number == 24
    assert one_span(t_doc({"status": {}})).HasField("status")


@pytest.mark.parametrize("given_", [
    "NaN", "Infinity", "-Infinity", 0.1, -0.0, 5e-324, 1.7976931348623157e308, 1e22, 1e23,
    123456789012345678, "2.5", 0, 1, -3, 2.2250738585072014e-308, 9007199254740993,
])
def test_doubles(given_):
    value = attr({"doubleValue": given_}).value
    assert value.WhichOneof("value") == "double_value"
    want = float(given_)
    got = value.double_value
    if math.isnan(want):
        assert math.isnan(got)
    else:
        assert got == want and math.copysign(1, got) == math.copysign(1, want)


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_doubles_read_as_python_reads_them(x):
    for text in (repr(x), f"{x:.17e}", f"{x:.3e}", f"{x:.20f}"):
        doc = '{"resourceSpans":[{"scopeSpans":[{"spans":[{"attributes":[{"key":"k","value":' \
              '{"doubleValue":%s}}]}]}]}]}' % text
        if math.isinf(float(text)):  # rounded past the largest double: refused, as protojson does
            assert "out of range" in json_error(doc).reason
            continue
        batch = decode_traces_json(doc)
        got = batch.column("attributes.value").view(np.float64)[0]
        assert struct.pack("<d", got) == struct.pack("<d", float(text)), text


@given(st.integers(0, 10**30), st.integers(-40, 40), st.booleans())
def test_decimal_numbers_round_correctly(mantissa, exp, neg):
    text = f"{'-' if neg else ''}{mantissa}e{exp}"
    doc = '{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":{"doubleValue":%s}}]}]}]}' % text
    got = decode_logs_json(doc).column("body").view(np.float64)[0]
    assert struct.pack("<d", got) == struct.pack("<d", float(text))


@given(st.floats())
def test_doubles_written_shortest_and_read_back_exactly(x):
    msg = ExportLogsServiceRequest()
    msg.resource_logs.add().scope_logs.add().log_records.add().body.double_value = x
    out = decode_logs(msg.SerializeToString()).encode_json()
    log = json.loads(out)["resourceLogs"][0]["scopeLogs"][0]["logRecords"][0]
    text = log["body"]["doubleValue"]
    if isinstance(text, str):
        assert text in ("NaN", "Infinity", "-Infinity")
    else:
        raw = out.split(b'"doubleValue":')[1].split(b"}")[0].decode()
        assert float(raw) == x
        # The first of %.15g, %.16g, %.17g that reads back (from %.1g for subnormals): as short
        # as Python's repr but where only a neighbour of the correctly rounded 16 digits reads
        # back (at powers of two).
        start = 1 if abs(x) < 2.2250738585072014e-308 else 15
        shortest = next(f"{x:.{p}g}" for p in range(start, 18) if float(f"{x:.{p}g}") == x)
        assert float(raw) == float(shortest) and _digits(raw) == _digits(shortest)
        assert _digits(raw) <= _digits(repr(x)) + 1
    assert ExportLogsServiceRequest.FromString(decode_logs_json(out).encode()) == canonical_nans(msg)


def _digits(text: str) -> int:
    mantissa = text.lower().split("e")[0].lstrip("-").replace(".", "")
    return max(1, len(mantissa.strip("0")))


def test_null_is_absent_everywhere():
    doc = t_doc({"name": None, "traceId": None, "attributes": None, "events": None,
                 "status": None, "kind": None, "startTimeUnixNano": None,
                 "links": [{"traceId": None, "attributes": [{"key": "a", "value": None}]}]},
                resource=None, scope=None)
    span = one_span(doc)
    assert span == trace_pb2_span(links=[{"attributes": [{"key": "a"}]}])
    # A null oneof member sets nothing, so another member may follow.
    value = attr({"stringValue": None, "intValue": "7"}).value
    assert value.int_value == 7
    assert not attr(None).HasField("value")


def trace_pb2_span(**kw):
    from google.protobuf.json_format import ParseDict
    from opentelemetry.proto.trace.v1 import trace_pb2
    return ParseDict(kw, trace_pb2.Span())


def test_empty_value_string_and_zero_values_keep_their_presence():
    batch = decode_traces_json(json.dumps(t_doc({"attributes": [
        {"key": "e", "value": {}}, {"key": "s", "value": {"stringValue": ""}},
        {"key": "n"}, {"key": "i", "value": {"intValue": "0"}},
        {"key": "d", "value": {"doubleValue": 0}}, {"key": "a", "value": {"arrayValue": {}}},
    ]})))
    assert list(batch.column("attributes.tag")) == [TAG_EMPTY, TAG_STRING, TAG_NONE, 3,
                                                    TAG_DOUBLE, 5]
    out = json.loads(batch.encode_json())
    attrs = out["resourceSpans"][0]["scopeSpans"][0]["spans"][0]["attributes"]
    assert attrs == [{"key": "e", "value": {}}, {"key": "s", "value": {"stringValue": ""}},
                     {"key": "n"}, {"key": "i", "value": {"intValue": "0"}},
                     {"key": "d", "value": {"doubleValue": 0}},
                     {"key": "a", "value": {"arrayValue": {}}}]


def test_unknown_members_are_skipped_and_counted():
    doc = t_doc({"name": "n", "futureField": {"a": [1, {"b": None}, "x", True, -2.5e3]},
                 "attributes": [{"key": "k", "value": {"stringValue": "v", "extra": []},
                                 "other": "x"}]},
                resource={"unknownish": 1})
    doc["resourceLogs"] = []  # the other signal's field is unknown here
    batch = decode_traces_json(json.dumps(doc))
    assert batch.unknown_field_count == 5
    msg = ExportTraceServiceRequest.FromString(batch.encode())
    span = msg.resource_spans[0].scope_spans[0].spans[0]
    assert span.name == "n" and span.attributes[0].value.string_value == "v"


def test_escapes_and_surrogate_pairs():
    text = ('{"resourceSpans":[{"scopeSpans":[{"spans":[{"\\u006eame":'
            '"a\\"b\\\\c\\/d\\b\\f\\n\\r\\t'
            '\\u00e9\\u20AC\\ud83d\\ude00\\u0000"}]}]}]}')
    span = one_span(json.loads(text))
    assert span.name == 'a"b\\c/d\b\f\n\r\t\u00e9\u20ac\U0001F600\x00'
    batch = decode_traces_json(text)
    assert batch.string(int(batch.column("name")[0])) == span.name
    # Written back with only the escapes JSON needs.
    out = batch.encode_json()
    assert '"name":"a\\"b\\\\c/d\\b\\f\\n\\r\\t\u00e9\u20ac\U0001F600\\u0000"'.encode() in out


def test_whitespace_and_input_types():
    text = (' \n\t{ "resourceSpans" : [ { "scopeSpans" : [ { "spans" : [ { "name" : "x" } ] } ] }'
            ' ] }\r\n')
    for data in (text, text.encode(), bytearray(text.encode()), memoryview(text.encode())):
        assert len(decode_traces_json(data)) == 1


def test_empty_request_and_empty_groups():
    assert len(decode_traces_json("{}")) == 0
    assert decode_traces_json("{}").encode_json() == b"{}"
    assert decode_logs_json('{"resourceLogs":[]}').encode_json() == b"{}"
    batch = decode_traces_json('{"resourceSpans":[{},{"scopeSpans":[{}]}]}')
    assert batch.encode_json() == b'{"resourceSpans":[{},{"scopeSpans":[{}]}]}'


def test_entity_refs_and_key_strindex():
    doc = t_doc({"attributes": [{"key": "k", "keyStrindex": 3}]},
                resource={"entityRefs": [{"type": "host", "idKeys": ["host.id", "host.name"],
                                          "schemaUrl": "s", "descriptionKeys": []}]})
    batch = decode_traces_json(json.dumps(doc))
    msg = ExportTraceServiceRequest.FromString(batch.encode(verbatim=True))
    ref = msg.resource_spans[0].resource.entity_refs[0]
    assert (ref.type, list(ref.id_keys), ref.schema_url) == ("host", ["host.id", "host.name"], "s")
    assert msg.resource_spans[0].scope_spans[0].spans[0].attributes[0].key_strindex == 3
    out = json.loads(decode_traces_json(json.dumps(doc)).encode_json())
    assert out["resourceSpans"][0]["resource"] == {
        "entityRefs": [{"schemaUrl": "s", "type": "host", "idKeys": ["host.id", "host.name"]}]}


def test_nesting_up_to_the_limit():
    depth = limits.MAX_NESTING_DEPTH
    value: dict = {"intValue": "1"}
    for _ in range(depth - 1):
        value = {"arrayValue": {"values": [value]}}
    batch = decode_traces_json(json.dumps(attr_doc(value)))
    assert len(batch.column("values.tag")) == depth - 1
    err = json_error(attr_doc({"arrayValue": {"values": [value]}}))
    assert "nested deeper" in err.reason
    assert err.path.endswith("array_value.values[0]")
    assert err.path.startswith("resource_spans[0].scope_spans[0].spans[0].attributes[0].value")


def test_threads_decode_json_concurrently():
    import sys
    from pathlib import Path
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks" / "benchmarks"))
    from otlp_data import trace_request
    msg = trace_request(300, n_resources=3)
    text = decode_traces(msg.SerializeToString()).encode_json()
    errors = []

    def work():
        try:
            for _ in range(5):
                batch = decode_traces_json(text)
                assert ExportTraceServiceRequest.FromString(batch.encode()) == msg
                assert batch.encode_json() == text
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors


def test_encode_json_grows_past_its_first_guess():
    # Control characters are six bytes each in JSON: far over the guessed size.
    msg = ExportLogsServiceRequest()
    msg.resource_logs.add().scope_logs.add().log_records.add().body.string_value = "\x01" * 5000
    out = decode_logs(msg.SerializeToString()).encode_json()
    assert len(out) > 30000
    assert ExportLogsServiceRequest.FromString(decode_logs_json(out).encode()) == msg


# ---- errors: offsets and paths ----

SPAN0 = "resource_spans[0].scope_spans[0].spans[0]"


def test_error_types():
    err = json_error("[")
    assert isinstance(err, OtlpDecodeError) and isinstance(err, ValueError)
    assert err.offset == 0 and "JSON object" in err.reason
    assert "at byte 0" in str(err)


@pytest.mark.parametrize("text,offset", [
    ("", 0), ("   ", 3), ("{", 1), ('{"resourceSpans"', 16), ('{"resourceSpans":', 17),
    ('{"resourceSpans":[', 18), ('{"resourceSpans":[{}', 20), ('{"resourceSpans":[{}]', 21),
    ('{} x', 3), ("{}{}", 2), ('{"a":tru}', 8), ('{"a":1,}', 7), ('{"a" 1}', 5), ("{'a':1}", 1),
    ('{"a":01}', 6), ('{"a":1.}', 7), ('{"a":-}', 6), ('{"a":1e}', 7), ('{"a":NaN}', 5),
    ('\ufeff{}', 0), ('{"a":"\x01"}', 6), ('{"a":"\\x"}', 6), ('{"a":"\\u12"}', 6),
])
def test_syntax_errors(text, offset):
    err = json_error(text.encode("utf-8"))
    assert err.offset == offset, err


def test_every_prefix_of_a_document_is_refused():
    text = json.dumps(t_doc({"traceId": "00" * 16, "name": "x", "kind": 2,
                             "attributes": [{"key": "k", "value": {"doubleValue": 1.5}}]}))
    for k in range(len(text)):
        err = json_error(text[:k])
        assert 0 <= err.offset <= k


@pytest.mark.parametrize("span,path,offset_of,reason", [
    ({"name": 5}, "name", "5", "expected a string, got a number"),
    ({"traceId": 5}, "trace_id", "5", "expected a hex string"),
    ({"traceId": "abc"}, "trace_id", '"abc"', "even number"),
    ({"spanId": "00112233445566zz"}, "span_id", "zz", "invalid hex digit 'z'"),
    ({"kind": True}, "kind", "true", "expected an enum name or number"),
    ({"kind": "SPAN_KIND_SERVR"}, "kind", '"SPAN_KIND_SERVR"', "unknown SpanKind"),
    ({"kind": 2**31}, "kind", str(2**31), "out of range"),
    ({"flags": -1}, "flags", "-1", "out of range"),
    ({"flags": 2**32}, "flags", str(2**32), "out of range"),
    ({"droppedAttributesCount": 1.5}, "dropped_attributes_count", "1.5", "not an integer"),
    ({"startTimeUnixNano": str(2**64)}, "start_time_unix_nano", '"1844', "out of range"),
    ({"startTimeUnixNano": "1e400"}, "start_time_unix_nano", '"1e400"', "out of range"),
    ({"startTimeUnixNano": " 5"}, "start_time_unix_nano", '" 5"', "expected an integer"),
    ({"startTimeUnixNano": [1]}, "start_time_unix_nano", "[1]", "got an array"),
    ({"attributes": {}}, "attributes", "{}", "expected an array, got an object"),
    ({"attributes": [None]}, "attributes[0]", "null", "expected an object, got null"),
    ({"attributes": [{"key": 1}]}, "attributes[0].key", "1", "expected a string"),
    ({"status": []}, "status", "[]", "expected an object"),
    ({"status": {"code": 1.25}}, "status.code", "1.25", "not an integer"),
    ({"events": [{"timeUnixNano": "-1"}]}, "events[0].time_unix_nano", '"-1"', "out of range"),
    ({"links": [{"flags": "x"}]}, "links[0].flags", '"x"', "expected an integer"),
    ({"attributes": [{"key": "k", "value": {"boolValue": "true"}}]},
     "attributes[0].value.bool_value", '"true"', "expected true or false"),
    ({"attributes": [{"key": "k", "value": {"intValue": str(2**63)}}]},
     "attributes[0].value.int_value", '"9223', "out of range"),
    ({"attributes": [{"key": "k", "value": {"intValue": "1.5"}}]},
     "attributes[0].value.int_value", '"1.5"', "not an integer"),
    ({"attributes": [{"key": "k", "value": {"doubleValue": "1e400"}}]},
     "attributes[0].value.double_value", '"1e400"', "out of range"),
    ({"attributes": [{"key": "k", "value": {"doubleValue": True}}]},
     "attributes[0].value.double_value", "true", "expected a number"),
    ({"attributes": [{"key": "k", "value": {"doubleValue": "nan"}}]},
     "attributes[0].value.double_value", '"nan"', "expected a number"),
    ({"attributes": [{"key": "k", "value": {"bytesValue": "QQ="}}]},
     "attributes[0].value.bytes_value", "=", "invalid base64 character '='"),
    ({"attributes": [{"key": "k", "value": {"bytesValue": "Q"}}]},
     "attributes[0].value.bytes_value", '"Q"', "invalid base64"),
    ({"attributes": [{"key": "k", "value": {"bytesValue": "A+-B"}}]},
     "attributes[0].value.bytes_value", "+", "invalid base64 character '+'"),
    ({"attributes": [{"key": "k", "value": {"bytesValue": 7}}]},
     "attributes[0].value.bytes_value", "7", "expected a base64 string"),
    ({"attributes": [{"key": "k", "value": {"stringValue": "a", "intValue": "1"}}]},
     "attributes[0].value", '"intValue"', "second member of the AnyValue oneof"),
    ({"attributes": [{"key": "k", "value": {"arrayValue": {"values": [1]}}}]},
     "attributes[0].value.array_value.values[0]", "1", "expected an object"),
    ({"attributes": [{"key": "k", "value": {"kvlistValue": {"values": [{"key": []}]}}}]},
     "attributes[0].value.kvlist_value.values[0].key", "[]", "expected a string"),
    ({"traceId": "", "trace_id": ""}, "", '"trace_id"', "appears twice"),
])
def test_errors_carry_offset_and_path(span, path, offset_of, reason):
    text = json.dumps(t_doc(span))
    err = json_error(text)
    want = SPAN0 + ("." + path if path else "")
    assert err.path == want, err
    assert reason in err.reason, err
    assert err.offset == text.index(offset_of, text.index('"spans"')), err


def test_duplicate_member_names_in_the_text():
    text = '{"resourceSpans":[{"scopeSpans":[{"spans":[{"name":"a","name":"b"}]}]}]}'
    err = json_error(text)
    assert err.offset == text.index('"name":"b"') and err.path == SPAN0


@pytest.mark.parametrize("raw,bad", [
    (b"\xff", 0), (b"\xc0\xaf", 0), (b"\xed\xa0\x80", 0), (b"\xe2\x82", 0),
    (b"ok\xf5\x80\x80\x80", 2),
    (b"\xf4\x90\x80\x80", 0), (b"\xc3", 0),
])
def test_invalid_utf8_is_refused_where_it_is(raw, bad):
    for where in ("value", "key", "unknown"):
        if where == "value":
            text = b'{"resourceSpans":[{"scopeSpans":[{"spans":[{"name":"' + raw + b'"}]}]}]}'
        elif where == "key":
            text = b'{"resourceSpans":[{"scopeSpans":[{"spans":[{"' + raw + b'":1}]}]}]}'
        else:
            text = b'{"resourceSpans":[{"scopeSpans":[{"spans":[{"x":["' + raw + b'"]}]}]}]}'
        err = json_error(text)
        assert err.offset == text.index(raw) + bad, (where, err)
        assert "UTF-8" in err.reason


@pytest.mark.parametrize("escape", ["\\ud800", "\\udc00", "\\ud800\\u0041", "\\ud800x",
                                    "\\udbff\\ud800"])
def test_lone_surrogates_are_refused(escape):
    text = '{"resourceSpans":[{"scopeSpans":[{"spans":[{"name":"ab' + escape + '"}]}]}]}'
    err = json_error(text)
    assert err.offset == text.index("\\u") and "surrogate" in err.reason
    assert err.path == SPAN0 + ".name"


def test_a_lone_surrogate_in_a_str_is_refused_at_its_byte():
    text = '{"resourceSpans":[{"scopeSpans":[{"spans":[{"name":"\u00e9\ud800"}]}]}]}'
    err = json_error(text)
    assert err.offset == text.index("\ud800") + 1  # the é takes two bytes
    assert "UTF-8" in err.reason


def test_control_characters_must_be_escaped():
    text = '{"resourceSpans":[{"scopeSpans":[{"spans":[{"name":"a\nb"}]}]}]}'
    err = json_error(text)
    assert err.offset == text.index("\n") and "control character" in err.reason


def test_string_length_limit():
    limit = limits.MIN_MAX_STRING_LENGTH
    ok = "x" * limit
    decode_traces_json(json.dumps(t_doc({"name": ok})), max_string_length=limit)
    text = json.dumps(t_doc({"name": ok + "x"}))
    err = json_error(text, max_string_length=limit)
    assert err.path == SPAN0 + ".name" and "over the limit" in err.reason
    assert err.offset == text.index('"xxx')
    # Escaped: the limit counts the bytes the string has, not its escaped form.
    escaped = json.dumps(t_doc({"name": "\u00e9" * (limit // 2)}))
    decode_traces_json(escaped, max_string_length=limit)
    json_error(json.dumps(t_doc({"name": "\u00e9" * (limit // 2 + 1)})), max_string_length=limit)
    err = json_error(attr_doc({"bytesValue": base64.b64encode(bytes(limit + 1)).decode()}),
                     max_string_length=limit)
    assert "bytes value" in err.reason and err.path.endswith("attributes[0].value.bytes_value")


def test_attribute_count_limit():
    limit = limits.MIN_MAX_ATTRIBUTES
    attrs = [{"key": str(i)} for i in range(limit)]
    decode_traces_json(json.dumps(t_doc({"attributes": attrs})), max_attributes=limit)
    text = json.dumps(t_doc({"attributes": attrs + [{"key": "over"}]}))
    err = json_error(text, max_attributes=limit)
    assert err.path == f"{SPAN0}.attributes[{limit}]" and err.offset == text.index('{"key": "over"')
    err = json_error(attr_doc({"kvlistValue": {"values": attrs + [{}]}}), max_attributes=limit)
    assert err.path.endswith(f"attributes[0].value.kvlist_value.values[{limit}]")
    assert "kvlist" in err.reason
    err = json_error(l_doc({"body": {"arrayValue": {"values": [{}] * (limit + 1)}}}),
                     decode_logs_json, max_attributes=limit)
    assert err.path == ("resource_logs[0].scope_logs[0].log_records[0].body.array_value"
                        f".values[{limit}]")


def test_unknown_members_nest_only_so_deep():
    ok = t_doc({"x": json.loads("[" * 500 + "]" * 500)})
    decode_traces_json(json.dumps(ok))
    text = json.dumps(t_doc({"x": json.loads("[" * 600 + "]" * 600)}))
    err = json_error(text)
    assert "nested deeper" in err.reason and err.path == SPAN0


def test_huge_and_odd_numbers_in_unknown_members_are_checked_not_converted():
    decode_traces_json('{"x": 1' + "0" * 5000 + 'e99999999999999999999}')
    decode_traces_json('{"x": -0.0000000000000000001e-99999}')
    assert json_error('{"x": 1e+}').offset == 9
    assert json_error('{"x": [1,2,]}').offset == 11


def test_top_level_must_be_an_object():
    for text, kind in (("[]", "an array"), ("null", "null"), ('"x"', "a string"),
                       ("1", "a number")):
        err = json_error(text)
        assert err.offset == 0 and kind in err.reason and err.path == ""


# ---- malformed-input fuzzing ----

JSON_SPLICES = ['"', "{", "}", "[", "]", ",", ":", "\\", "\\u", "\\ud800", "null", "-", "1e999",
                "0.5", "true", '"x"', '{"a":', "\udc00", "\x00", "\x7f", "\u00e9",
                "18446744073709551616",
                '"NaN"', '""', "{}", "[]"]


@st.composite
def mutated_json(draw, requests):
    msg = draw(requests)
    doc = official(msg, preserving_proto_field_name=draw(st.booleans()))
    data = bytearray(json.dumps(doc, ensure_ascii=draw(st.booleans())).encode())
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["truncate", "flip", "byte", "splice", "delete", "dup"]))
        if not data:
            kind = "splice"
        at = draw(st.integers(0, max(0, len(data) - 1)))
        if kind == "truncate":
            del data[at:]
        elif kind == "flip":
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif kind == "byte":
            data[at] = draw(st.integers(0, 255))
        elif kind == "delete":
            del data[at]
        elif kind == "dup":
            end = draw(st.integers(at, min(len(data), at + 40)))
            data[at:at] = data[at:end]
        else:
            data[at:at] = draw(st.sampled_from(JSON_SPLICES)).encode("utf-8", "surrogatepass")
    return bytes(data)


def _accepted(batch, data, cls) -> None:
    # Whatever we accept is JSON (our grammar is RFC 8259's, stricter than Python's json).
    json.loads(data)
    first = batch.encode()
    cls.FromString(first)
    again = decode_traces_json if cls is ExportTraceServiceRequest else decode_logs_json
    assert again(batch.encode_json()).encode() == first


@given(mutated_json(trace_requests))
def test_mutated_trace_json_raises_only_the_codec_error(data):
    try:
        batch = decode_traces_json(data)
    except OtlpJsonDecodeError as exc:
        assert 0 <= exc.offset <= len(data)
        assert "internal error" not in exc.reason
        return
    _accepted(batch, data, ExportTraceServiceRequest)


@given(mutated_json(log_requests))
def test_mutated_log_json_raises_only_the_codec_error(data):
    try:
        batch = decode_logs_json(data)
    except OtlpJsonDecodeError as exc:
        assert 0 <= exc.offset <= len(data)
        assert "internal error" not in exc.reason
        return
    _accepted(batch, data, ExportLogsServiceRequest)


@given(st.binary(max_size=64) | st.text(max_size=64))
def test_arbitrary_input_raises_only_the_codec_error(data):
    for decode in (decode_traces_json, decode_logs_json):
        try:
            decode(data)
        except OtlpJsonDecodeError as exc:
            assert "internal error" not in exc.reason


MEMBER_NAMES = ["key", "value", "values", "stringValue", "intValue", "arrayValue", "kvlistValue",
                "attributes", "spans", "scopeSpans", "resourceSpans", "name", "kind", "traceId",
                "body", "logRecords", "scopeLogs", "resourceLogs", "doubleValue", "bytesValue"]


def _containers(inner):
    return st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(MEMBER_NAMES), inner,
                                                         max_size=3)


@given(st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
                    _containers, max_leaves=20))
def test_wrong_types_anywhere_raise_only_the_codec_error(doc):
    text = json.dumps(doc, allow_nan=True)
    for decode in (decode_traces_json, decode_logs_json):
        try:
            decode(text)
        except OtlpJsonDecodeError as exc:
            assert "internal error" not in exc.reason
            assert 0 <= exc.offset <= len(text.encode("utf-8", "surrogatepass"))
