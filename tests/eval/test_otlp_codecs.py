"""OTLP/JSON and OTLP protobuf in and out of the evaluator's records."""

from __future__ import annotations

import json
from importlib import resources

import pytest
from google.protobuf.json_format import MessageToDict
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from ottl.eval import otlp_json, otlp_proto
from ottl.eval.otlp_json import OtlpFormatError
from ottl.eval.values import PMap, PSlice
from ottl.run import decode

SAMPLES = ["sample_traces.json", "sample_logs.json"]


def sample(name):
    return json.loads(resources.files("ottl.examples").joinpath(name).read_text())


@pytest.mark.parametrize("name", SAMPLES)
def test_json_round_trip_is_stable(name):
    doc = sample(name)
    once = otlp_json.dump(otlp_json.load(doc))
    assert otlp_json.dump(otlp_json.load(once)) == once
    # Nothing of the input is lost: every attribute key survives.
    assert json.dumps(doc).count('"key"') == json.dumps(once).count('"key"')


@pytest.mark.parametrize("name", SAMPLES)
def test_protobuf_round_trip_through_the_official_classes(name):
    payload = otlp_json.load(sample(name))
    data = otlp_proto.dump(payload)
    official = (ExportTraceServiceRequest if "traces" in name else ExportLogsServiceRequest)()
    official.ParseFromString(data)
    assert official.SerializeToString() == data
    again = otlp_proto.load(data)
    assert again.signal == payload.signal
    assert otlp_json.dump(again) == otlp_json.dump(payload)
    # The official JSON form names the same trace ids (base64 there, hex in OTLP/JSON).
    as_dict = MessageToDict(official)
    assert len(as_dict[next(iter(as_dict))]) == len(payload.resources)


def test_signal_detection_from_protobuf_content():
    traces = otlp_proto.dump(otlp_json.load(sample("sample_traces.json")))
    logs = otlp_proto.dump(otlp_json.load(sample("sample_logs.json")))
    assert otlp_proto.load(traces).signal == "traces"
    assert otlp_proto.load(logs).signal == "logs"
    assert decode(traces)[1] == "otlp-proto"
    assert decode(json.dumps(sample("sample_logs.json")).encode())[1] == "otlp-json"


def test_any_values_of_every_kind():
    doc = {"resourceLogs": [{"scopeLogs": [{"logRecords": [{"body": {"kvlistValue": {"values": [
        {"key": "s", "value": {"stringValue": "x"}},
        {"key": "i", "value": {"intValue": "-9223372036854775808"}},
        {"key": "n", "value": {"intValue": 7}},
        {"key": "d", "value": {"doubleValue": 1.5}},
        {"key": "b", "value": {"boolValue": False}},
        {"key": "y", "value": {"bytesValue": "AAE="}},
        {"key": "a", "value": {"arrayValue": {"values": [{"intValue": "1"}, {}]}}},
        {"key": "e", "value": {}},
    ]}}}]}]}]}
    body = otlp_json.load(doc).resources[0].scope_logs[0].log_records[0].body
    assert isinstance(body, PMap)
    assert dict(body) == {"s": "x", "i": -(2**63), "n": 7, "d": 1.5, "b": False,
                          "y": b"\x00\x01", "a": PSlice([1, None]), "e": None}
    out = otlp_json.dump(otlp_json.load(doc))
    values = out["resourceLogs"][0]["scopeLogs"][0]["logRecords"][0]["body"]["kvlistValue"]["values"]
    assert values[2] == {"key": "n", "value": {"intValue": "7"}}
    assert values[7] == {"key": "e", "value": {}}


@pytest.mark.parametrize(
    "doc, fragment",
    [
        ([], "$: expected a JSON object"),
        ({}, "neither resourceSpans nor resourceLogs"),
        ({"resourceSpans": {}}, "$.resourceSpans: expected an array"),
        ({"resourceSpans": [{"scopeSpans": [{"spans": [{"traceId": "zz"}]}]}]},
         "$.resourceSpans[0].scopeSpans[0].spans[0].traceId: 'zz' is not hex"),
        ({"resourceSpans": [{"scopeSpans": [{"spans": [{"spanId": "0102"}]}]}]},
         "spanId: expected 8 bytes"),
        ({"resourceSpans": [{"scopeSpans": [{"spans": [{"startTimeUnixNano": "soon"}]}]}]},
         "startTimeUnixNano: 'soon' is not an integer"),
        ({"resourceLogs": [{"scopeLogs": [{"logRecords": [{"body": {"intValue": "1", "boolValue": True}}]}]}]},
         "exactly one field"),
        ({"resourceLogs": [{"scopeLogs": [{"logRecords": [{"attributes": [{"key": 1}]}]}]}]},
         "attributes[0].key: expected a string"),
        ({"resourceMetrics": []}, "metrics are not supported"),
    ],
)
def test_bad_json_documents_name_the_path(doc, fragment):
    with pytest.raises(OtlpFormatError) as info:
        otlp_json.load(doc)
    assert fragment in str(info.value)


@pytest.mark.parametrize("data", [b"\x0a\xff\xff", b"garbage that is not protobuf \xff", b"{not json"])
def test_bad_bytes_are_a_format_error(data):
    with pytest.raises(OtlpFormatError):
        decode(data)
