"""The transform and filter processors end to end over OTLP/JSON: statement tables over spans
and logs (in the manner of the reference's e2e tests), error modes, groups and cascading drops."""

from __future__ import annotations

import copy
import json
import logging
from importlib import resources

import pytest

import ottl
from ottl.eval import otlp_json
from ottl.eval.processors import GroupCompileError, ProcessingError

TRACE_ID = "0102030405060708090a0b0c0d0e0f10"


def kv(k, v):
    if isinstance(v, bool):
        return {"key": k, "value": {"boolValue": v}}
    if isinstance(v, int):
        return {"key": k, "value": {"intValue": str(v)}}
    if isinstance(v, float):
        return {"key": k, "value": {"doubleValue": v}}
    return {"key": k, "value": {"stringValue": v}}


def traces():
    return {"resourceSpans": [{
        "resource": {"attributes": [kv("service.name", "cart"), kv("host.name", "h1")]},
        "scopeSpans": [{"scope": {"name": "lib", "version": "1"}, "spans": [
            {"traceId": TRACE_ID, "spanId": "0102030405060708", "name": "GET /cart", "kind": 2,
             "startTimeUnixNano": "1000000000", "endTimeUnixNano": "1500000000",
             "attributes": [kv("http.status_code", 503), kv("http.url", "http://x/?token=abc")],
             "events": [{"timeUnixNano": "1200000000", "name": "exception",
                         "attributes": [kv("exception.type", "E")]},
                        {"timeUnixNano": "1300000000", "name": "retry"}],
             "status": {"code": 2, "message": "boom"}},
            {"traceId": TRACE_ID, "spanId": "0102030405060709", "parentSpanId": "0102030405060708",
             "name": "SELECT", "kind": 3, "attributes": [kv("db.system", "postgresql")]},
        ]}],
    }]}


def logs():
    return {"resourceLogs": [{
        "resource": {"attributes": [kv("service.name", "api")]},
        "scopeLogs": [{"scope": {"name": "app"}, "logRecords": [
            {"timeUnixNano": "5", "severityNumber": 9, "severityText": "INFO",
             "body": {"stringValue": "user=bob password=hunter2"}, "attributes": [kv("a", 1)]},
            {"timeUnixNano": "6", "severityNumber": 5, "body": {"stringValue": "debug"}},
        ]}],
    }]}


def spans_of(doc):
    return doc["resourceSpans"][0]["scopeSpans"][0]["spans"]


def attrs(record):
    out = {}
    for a in record.get("attributes", []):
        (kind, value), = a["value"].items() if a["value"] else (("empty", None),)
        out[a["key"]] = value
    return out


# -- statement tables ---------------------------------------------------------------------------

SPAN_CASES = [
    ('set(span.attributes["test"], "pass")', lambda s: attrs(s[0])["test"] == "pass"),
    ('set(span.name, "renamed") where span.kind == SPAN_KIND_CLIENT', lambda s: s[1]["name"] == "renamed" and s[0]["name"] == "GET /cart"),
    ('set(span.attributes["svc"], resource.attributes["service.name"])', lambda s: attrs(s[1])["svc"] == "cart"),
    ('set(span.attributes["ms"], (span.end_time_unix_nano - span.start_time_unix_nano) / 1000000)', lambda s: attrs(s[0])["ms"] == "500"),
    ('set(span.status.code, STATUS_CODE_OK) where span.attributes["http.status_code"] == nil', lambda s: s[1]["status"]["code"] == 1 and s[0]["status"]["code"] == 2),
    # nil never orders: the missing status code is not below 500.
    ('set(span.status.code, STATUS_CODE_OK) where span.attributes["http.status_code"] < 500', lambda s: "status" not in s[1] and s[0]["status"]["code"] == 2),
    ('set(span.attributes["id"], span.span_id.string)', lambda s: attrs(s[0])["id"] == "0102030405060708"),
    ('set(span.attributes["parent"], span.parent_span_id.string)', lambda s: attrs(s[0])["parent"] == "" and attrs(s[1])["parent"] == "0102030405060708"),
    ('set(span.attributes["kind"], span.kind.string)', lambda s: attrs(s[0])["kind"] == "Server"),
    ('set(span.kind.deprecated_string, "SPAN_KIND_PRODUCER")', lambda s: s[0]["kind"] == 4),
    ('set(span.trace_state["vendor"], "x")', lambda s: s[0]["traceState"] == "vendor=x"),
    ('set(span.attributes["nested"]["a"][1], "v")', lambda s: attrs(s[0])["nested"] == {"values": [{"key": "a", "value": {"arrayValue": {"values": [{}, {"stringValue": "v"}]}}}]}),
    ('set(span.attributes["list"], [1, "two", 3.5])', lambda s: attrs(s[0])["list"] == {"values": [{"intValue": "1"}, {"stringValue": "two"}, {"doubleValue": 3.5}]}),
    ('set(span.attributes["map"], {"k": "v", "n": {"x": true}})', lambda s: attrs(s[0])["map"]["values"][0] == {"key": "k", "value": {"stringValue": "v"}}),
    ('set(span.attributes["missing"], span.attributes["nope"])', lambda s: "missing" not in attrs(s[0])),
    ('set(span.start_time, span.end_time)', lambda s: s[0]["startTimeUnixNano"] == "1500000000"),
    ('set(span.attributes["neg"], -span.attributes["http.status_code"]) where span.attributes["http.status_code"] != nil', lambda s: attrs(s[0])["neg"] == "-503"),
    ('set(span.dropped_attributes_count, 7)', lambda s: s[0]["droppedAttributesCount"] == 7),
    ('set(span.attributes["scope"], scope.name) where scope.version == "1"', lambda s: attrs(s[0])["scope"] == "lib"),
]


@pytest.mark.parametrize("statement, check", SPAN_CASES, ids=[c[0] for c in SPAN_CASES])
def test_span_statements(statement, check):
    out = ottl.transform(traces(), [statement])
    assert check(spans_of(out)), json.dumps(spans_of(out), indent=1)


def test_spanevent_statements_see_their_span_and_index():
    out = ottl.transform(traces(), [
        'set(spanevent.attributes["i"], spanevent.event_index)',
        'set(spanevent.attributes["span"], span.name)',
    ])
    events = spans_of(out)[0]["events"]
    assert [attrs(e)["i"] for e in events] == ["0", "1"]
    assert attrs(events[1])["span"] == "GET /cart"


def test_resource_and_scope_statements_run_once_per_resource_and_scope():
    out = ottl.transform(traces(), ['set(resource.attributes["seen"], true)',
                                    'set(resource.attributes["host.name"], "h2")'])
    assert attrs(out["resourceSpans"][0]["resource"]) == {"service.name": "cart", "host.name": "h2", "seen": True}
    out = ottl.transform(traces(), ['set(scope.name, "renamed")'])
    assert out["resourceSpans"][0]["scopeSpans"][0]["scope"]["name"] == "renamed"


def test_log_statements():
    out = ottl.transform(logs(), [
        'set(log.attributes["sev"], log.severity_text) where log.severity_number >= SEVERITY_NUMBER_INFO',
        'set(log.body, "redacted") where log.severity_number == SEVERITY_NUMBER_INFO',
        'set(log.attributes["b"], log.body.string)',
    ])
    records = out["resourceLogs"][0]["scopeLogs"][0]["logRecords"]
    assert attrs(records[0])["sev"] == "INFO" and "sev" not in attrs(records[1])
    assert records[0]["body"] == {"stringValue": "redacted"}
    assert attrs(records[1])["b"] == "debug"


def test_log_body_keys_make_an_empty_body_a_map():
    doc = logs()
    del doc["resourceLogs"][0]["scopeLogs"][0]["logRecords"][1]["body"]
    out = ottl.transform(doc, ['set(log.body["k"], "v") where log.time_unix_nano == 6'])
    body = out["resourceLogs"][0]["scopeLogs"][0]["logRecords"][1]["body"]
    assert body == {"kvlistValue": {"values": [{"key": "k", "value": {"stringValue": "v"}}]}}


def test_the_cache_lives_for_one_record_of_one_group():
    out = ottl.transform(traces(), [
        'set(span.cache["n"], span.name) where span.kind == SPAN_KIND_SERVER',
        'set(span.attributes["cached"], span.cache["n"])',
    ])
    assert attrs(spans_of(out)[0])["cached"] == "GET /cart"
    assert "cached" not in attrs(spans_of(out)[1])


def test_group_conditions_gate_statements():
    config = """
trace_statements:
  - context: span
    conditions: ['kind == SPAN_KIND_CLIENT', 'name == "nothing"']
    statements: ['set(attributes["client"], true)']
"""
    out = ottl.transform(traces(), config=config)
    assert "client" not in attrs(spans_of(out)[0]) and attrs(spans_of(out)[1])["client"] is True


# -- error modes --------------------------------------------------------------------------------

FAILING = 'set(span.attributes["x"], 1 / 0) where span.kind == SPAN_KIND_SERVER'


def test_propagate_fails_the_payload_and_leaves_the_input_unchanged():
    doc = traces()
    before = copy.deepcopy(doc)
    with pytest.raises(ProcessingError) as info:
        ottl.transform(doc, ['set(span.attributes["ok"], true)', FAILING], error_mode="propagate")
    assert "divide by 0" in str(info.value) and "^" in str(info.value)
    assert doc == before


@pytest.mark.parametrize("mode, logged", [("ignore", True), ("silent", False)])
def test_ignore_and_silent_skip_the_failing_statement(mode, logged, caplog):
    with caplog.at_level(logging.WARNING, logger="ottl"):
        out = ottl.transform(traces(), [FAILING, 'set(span.attributes["after"], true)'], error_mode=mode)
    assert all(attrs(s)["after"] is True for s in spans_of(out))
    assert "x" not in attrs(spans_of(out)[0])
    assert ("divide by 0" in caplog.text) is logged


def test_a_failing_condition_counts_as_false_in_ignore_mode():
    out = ottl.transform(traces(), ['set(span.attributes["y"], 1) where 1 / 0 == 1',
                                    'set(span.attributes["z"], 2)'], error_mode="ignore")
    assert "y" not in attrs(spans_of(out)[0]) and attrs(spans_of(out)[0])["z"] == "2"


def test_statements_that_do_not_compile_are_reported_together():
    with pytest.raises(GroupCompileError) as info:
        ottl.transform(traces(), ['set(span.nope, 1)', 'set(span.name,'])
    assert len(info.value.errors) == 2


# -- filter ---------------------------------------------------------------------------------------


def test_filter_drops_matching_spans_and_prunes_empty_parents():
    out = ottl.filter(traces(), ['span.kind == SPAN_KIND_CLIENT'])
    assert [s["name"] for s in spans_of(out)] == ["GET /cart"]
    out = ottl.filter(traces(), ['span.name != ""'])
    assert out == {}  # OTLP/JSON (protojson) leaves an empty repeated field out


def test_filter_span_events_keeps_the_span():
    out = ottl.filter(traces(), ['spanevent.name == "retry"'])
    assert [e["name"] for e in spans_of(out)[0]["events"]] == ["exception"]


def test_filter_resource_conditions_drop_whole_resources():
    assert ottl.filter(traces(), ['resource.attributes["service.name"] == "cart"']) == {}


def test_filter_logs_with_the_old_config_style():
    out = ottl.filter(logs(), config="filter:\n  logs:\n    log_record:\n      - severity_number < SEVERITY_NUMBER_INFO\n")
    assert len(out["resourceLogs"][0]["scopeLogs"][0]["logRecords"]) == 1


def test_filter_error_modes():
    with pytest.raises(ProcessingError):
        ottl.filter(traces(), ['1 / 0 == 1'], context="span")
    # A failing condition counts as false: nothing is dropped.
    kept = ottl.filter(traces(), ['1 / 0 == 1'], context="span", error_mode="ignore")
    assert kept == otlp_json.dump(otlp_json.load(traces()))


# -- documents in and out -------------------------------------------------------------------------


def test_documents_keep_their_form():
    text = json.dumps(traces())
    out_text = ottl.transform(text, ['set(span.name, "x")'])
    assert isinstance(out_text, str) and json.loads(out_text)["resourceSpans"][0]["scopeSpans"][0]["spans"][0]["name"] == "x"
    from ottl.eval import otlp_proto

    data = otlp_proto.dump(otlp_json.load(traces()))
    out_bytes = ottl.transform(data, ['set(span.name, "x")'])
    assert isinstance(out_bytes, bytes)
    assert otlp_proto.load(out_bytes).resources[0].scope_spans[0].spans[0].name == "x"


def test_built_in_samples_run_through_the_built_in_configs():
    files = resources.files("ottl.examples")
    for sample in ("sample_traces.json", "sample_logs.json"):
        doc = json.loads(files.joinpath(sample).read_text())
        out = ottl.transform(doc, config=files.joinpath("transform.yaml").read_text())
        assert out != otlp_json.dump(otlp_json.load(doc))
        kept = ottl.filter(doc, config=files.joinpath("filter.yaml").read_text())
        assert json.dumps(kept).count('"name"') < json.dumps(doc).count('"name"') or "resourceLogs" in kept
