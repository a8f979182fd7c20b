"""span.kind.string and span.kind.deprecated_string on the VM: the kind's name as the reference
gives it ("Server", "SPAN_KIND_SERVER"; "" for a kind without one, negative or past the last),
interned once per batch. Setting either to a constant is setting span.kind to that name's
number (a constant of another type writes nothing, as the setter takes strings only); an
unknown name, or a value that varies by record, stays with the reference."""

from __future__ import annotations

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from engine_strategies import make_group, transform_agrees

from ottl._batch import decode_traces
from ottl.engine import compile_condition, compile_statement

KINDS = [0, 1, 2, 3, 4, 5, 6, -1, 2**31 - 1]


def _request() -> bytes:
    req = ExportTraceServiceRequest()
    ss = req.resource_spans.add().scope_spans.add()
    for kind in KINDS:
        ss.spans.add(name=f"k{kind}", kind=kind)
    return req.SerializeToString()


def _batch():
    return decode_traces(_request())


@pytest.mark.parametrize("text, expected", [
    ('span.kind.string == "Server"', [k == 2 for k in KINDS]),
    ('span.kind.string == ""', [k not in range(6) for k in KINDS]),
    ('span.kind.string == "Unspecified"', [k == 0 for k in KINDS]),
    ('span.kind.deprecated_string == "SPAN_KIND_CONSUMER"', [k == 5 for k in KINDS]),
    ('span.kind.deprecated_string != "SPAN_KIND_UNSPECIFIED"', [k != 0 for k in KINDS]),
    ('IsMatch(span.kind.string, "^(Client|Producer)$")', [k in (3, 4) for k in KINDS]),
    ('span.kind.string < "Producer"', [k in (1, 3, 5) or k not in range(6) for k in KINDS]),
])
def test_kind_names(text: str, expected: list[bool]):
    batch = _batch()
    condition = compile_condition(text)
    assert condition.native, condition.reason
    assert condition.native_filter(batch).tolist() == expected
    assert condition.reference_filter(batch).tolist() == expected


def test_a_kind_name_written_to_an_attribute():
    batch = _batch()
    statement = compile_statement('set(span.attributes["kind"], span.kind.deprecated_string)')
    assert statement.native, statement.reason
    statement.execute(batch)
    spans = batch.to_dict()["resource_spans"][0]["scope_spans"][0]["spans"]
    got = [s["attributes"][0]["value"]["string_value"] for s in spans]
    assert got == ["SPAN_KIND_UNSPECIFIED", "SPAN_KIND_INTERNAL", "SPAN_KIND_SERVER",
                   "SPAN_KIND_CLIENT", "SPAN_KIND_PRODUCER", "SPAN_KIND_CONSUMER", "", "", ""]


@pytest.mark.parametrize("text, kinds", [
    ('set(span.kind.string, "Server")', [2] * len(KINDS)),
    ('set(span.kind.string, "Unspecified") where span.name != "k3"',
     [0 if k != 3 else 3 for k in KINDS]),
    ('set(span.kind.deprecated_string, "SPAN_KIND_CONSUMER") where span.kind.string == ""',
     [5 if k not in range(6) else k for k in KINDS]),
    ('set(span.kind.string, Concat(["Cli", "ent"], ""))', [3] * len(KINDS)),
    ('set(span.kind.string, 4)', KINDS),  # not a string: nothing written
    ('set(span.kind.string, nil)', KINDS),
    ('set(span.kind.deprecated_string, "Server")', None),  # a name of the other form
    ('set(span.kind.string, "server")', None),
    ('set(span.kind.deprecated_string, span.name)', None),
])
def test_setting_a_kind_name(text: str, kinds):
    statement = compile_statement(text)
    assert statement.native == (kinds is not None), statement.reason
    if kinds is None:
        assert "set of span.kind" in statement.reason
        return
    batch = _batch()
    statement.execute(batch)
    assert batch.column("kind").tolist() == kinds
    for mode in ("propagate", "ignore"):
        transform_agrees("traces", _request(), [make_group("statements", "traces", "span",
                                                           [text], mode)])
