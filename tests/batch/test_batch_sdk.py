"""OpenTelemetry SDK objects in and out of batches (ottl.sdk, ottl._sdk_wire), against the
official OTLP encoder of opentelemetry-exporter-otlp-proto-common as the oracle.

In: our bytes are the official encoder's bytes, and decode to a batch equal field for field to
its message. Out: batch -> SDK objects -> official encoder gives the original message back.
Spans and logs come from the real SDK (providers, in-memory exporters) and from hypothesis."""

from __future__ import annotations

import logging
import math
import subprocess
import sys
import textwrap
import warnings
from types import SimpleNamespace

import pytest
from batch_strategies import as_message_dict, strip_key_strindex
from google.protobuf.json_format import MessageToDict
from hypothesis import given
from hypothesis import strategies as st

pytest.importorskip("opentelemetry.sdk", reason="opentelemetry-sdk is in the test extra")
pytest.importorskip("opentelemetry.exporter.otlp.proto.common",
                    reason="opentelemetry-exporter-otlp-proto-common is in the test extra")

from opentelemetry import trace as trace_api  # noqa: E402
from opentelemetry._logs import LogRecord, SeverityNumber  # noqa: E402
from opentelemetry.attributes import BoundedAttributes  # noqa: E402
from opentelemetry.exporter.otlp.proto.common._log_encoder import encode_logs  # noqa: E402
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans  # noqa: E402
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import (  # noqa: E402
    ExportLogsServiceRequest,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (  # noqa: E402
    ExportTraceServiceRequest,
)
from opentelemetry.sdk._logs import LoggerProvider, LogRecordLimits, ReadableLogRecord  # noqa: E402
from opentelemetry.sdk._logs.export import (  # noqa: E402
    InMemoryLogRecordExporter,
    SimpleLogRecordProcessor,
)
from opentelemetry.sdk.resources import Resource  # noqa: E402
from opentelemetry.sdk.trace import Event, ReadableSpan, SpanLimits, TracerProvider  # noqa: E402
from opentelemetry.sdk.trace.export import SimpleSpanProcessor  # noqa: E402
from opentelemetry.sdk.trace.export.in_memory_span_exporter import (  # noqa: E402
    InMemorySpanExporter,
)
from opentelemetry.sdk.util import BoundedList  # noqa: E402
from opentelemetry.sdk.util.instrumentation import InstrumentationScope  # noqa: E402
from opentelemetry.trace import (  # noqa: E402
    Link,
    NonRecordingSpan,
    SpanContext,
    SpanKind,
    Status,
    StatusCode,
    TraceFlags,
    TraceState,
    set_span_in_context,
)

from ottl import _sdk_wire, limits  # noqa: E402
from ottl._batch import LogBatch, SpanBatch, decode_logs, decode_traces  # noqa: E402
from ottl.sdk import (  # noqa: E402
    batch_to_logs,
    batch_to_spans,
    logs_to_batch,
    logs_to_protobuf,
    spans_to_batch,
    spans_to_protobuf,
)

# ---- comparison helpers ----


def _official_dict(msg) -> dict:
    return strip_key_strindex(MessageToDict(msg, always_print_fields_with_no_presence=True,
                                            preserving_proto_field_name=True,
                                            use_integers_for_enums=True))


def _our_dict(batch) -> dict:
    d = batch.to_dict()
    groups = d.get("resource_spans", d.get("resource_logs"))
    for group in groups:
        res = group.get("resource")
        if res is not None:
            assert res["entity_refs"] == []
    return as_message_dict(d)


def check_spans(spans) -> SpanBatch:
    """Our bytes are the official encoder's; our batch is its message field for field; the
    batch's spans give the official encoder its message back."""
    msg = encode_spans(spans)
    official = msg.SerializeToString()
    ours = spans_to_protobuf(spans)
    assert ours == official
    assert ExportTraceServiceRequest.FromString(ours) == msg or _has_nan(msg)
    batch = spans_to_batch(spans)
    assert isinstance(batch, SpanBatch)
    assert len(batch) == sum(len(ss.spans) for rs in msg.resource_spans for ss in rs.scope_spans)
    assert _our_dict(batch) == _official_dict(msg)
    back = batch_to_spans(batch)
    assert all(type(s) is ReadableSpan for s in back)
    assert encode_spans(back).SerializeToString() == official
    assert spans_to_protobuf(back) == official
    return batch


def check_logs(records) -> LogBatch:
    msg = encode_logs(records)
    official = msg.SerializeToString()
    ours = logs_to_protobuf(records)
    assert ours == official
    batch = logs_to_batch(records)
    assert isinstance(batch, LogBatch)
    assert _our_dict(batch) == _official_dict(msg)
    back = batch_to_logs(batch)
    assert all(type(r) is ReadableLogRecord for r in back)
    assert encode_logs(back).SerializeToString() == official
    assert logs_to_protobuf(back) == official
    return batch


def _has_nan(msg) -> bool:
    return "NaN" in str(MessageToDict(msg))


# ---- values of every kind ----

EVERY_KIND = {
    "str": "text ü €",
    "empty.str": "",
    "bool.t": True,
    "bool.f": False,
    "int": -42,
    "int.max": 2**63 - 1,
    "int.min": -(2**63),
    "float": 3.25,
    "float.neg0": -0.0,
    "float.inf": math.inf,
    "bytes": b"\x00\xffbin",
    "empty.bytes": b"",
    "strs": ["a", "", "ü"],
    "bools": [True, False],
    "ints": [1, -2, 2**40],
    "floats": [0.5, -1.5],
    "bytes.list": [b"a", b""],
    "empty.list": [],
    "with.none": ["a", None],
    "tuple": (1, 2),
}


# ---- real SDK spans ----


@pytest.fixture(scope="module")
def sdk_spans() -> list:
    exporter = InMemorySpanExporter()
    res_a = Resource.create({"service.name": "checkout", "deployment.environment": "prod",
                             "host.ids": [1, 2, 3]},
                            schema_url="https://opentelemetry.io/schemas/1.24.0")
    res_b = Resource({"service.name": "billing", "weight": 0.5, "raw": b"\x01"})
    p_a = TracerProvider(resource=res_a, span_limits=SpanLimits(max_span_attributes=30,
                                                                max_events=2, max_links=1,
                                                                max_event_attributes=2))
    p_b = TracerProvider(resource=res_b)
    for p in (p_a, p_b):
        p.add_span_processor(SimpleSpanProcessor(exporter))
    flask = p_a.get_tracer("opentelemetry.instrumentation.flask", "0.48b0",
                           schema_url="https://opentelemetry.io/schemas/1.21.0",
                           attributes={"library.kind": "http", "n": 2})
    db = p_a.get_tracer("db")
    billing = p_b.get_tracer("billing", "2.0")

    remote = SpanContext(0x0AF7651916CD43DD8448EB211C80319C, 0xB7AD6B7169203331, True,
                         TraceFlags(TraceFlags.SAMPLED), TraceState([("vendor", "v1"), ("k", "x")]))
    remote_ctx = set_span_in_context(NonRecordingSpan(remote))
    with flask.start_as_current_span("GET /items/{id}", context=remote_ctx, kind=SpanKind.SERVER,
                                     attributes=EVERY_KIND) as root:
        root.add_event("started", {"attempt": 1, "why": ["a", "b"], "dropped.a": 1,
                                   "dropped.b": 2})
        root.add_event("no attributes")
        root.add_event("third: drops one event")
        with db.start_as_current_span(
                "SELECT", kind=SpanKind.CLIENT,
                links=[Link(remote, {"link.attr": "v", "n": 3}), Link(root.get_span_context())],
        ) as child:
            child.set_attribute("db.statement", "SELECT 1")
            child.set_status(Status(StatusCode.ERROR, "timeout"))
            child.record_exception(ValueError("boom"))
        with db.start_as_current_span("producer", kind=SpanKind.PRODUCER) as p:
            p.set_status(Status(StatusCode.OK))
            for i in range(35):  # past max_span_attributes: dropped
                p.set_attribute(f"a{i}", i)
        with db.start_as_current_span("consumer", kind=SpanKind.CONSUMER,
                                      attributes={"nested": {"k": [1, {"x": None}], "e": {}}}):
            pass
    with billing.start_as_current_span("charge", kind=SpanKind.INTERNAL) as charge:
        charge.update_name("charge card")
        with billing.start_as_current_span("inner"):
            pass
    with flask.start_as_current_span("second root"):
        pass
    spans = list(exporter.get_finished_spans())
    assert len(spans) == 7
    return spans


def test_sdk_spans_give_the_official_bytes_and_message(sdk_spans):
    batch = check_spans(sdk_spans)
    # Grouped as the official encoder groups: two resources, three scopes, interleaved input.
    assert len(batch.resources()) == 2
    assert [s["scope"]["name"] for s in batch.scopes()] == [
        "db", "opentelemetry.instrumentation.flask", "billing"]


def test_sdk_spans_carry_what_the_sdk_holds(sdk_spans):
    batch = spans_to_batch(sdk_spans)
    back = batch_to_spans(batch)
    by_name = {s.name: s for s in back}
    orig = {s.name: s for s in sdk_spans}
    assert set(by_name) == set(orig)
    for name, s in by_name.items():
        o = orig[name]
        assert s.context.trace_id == o.context.trace_id
        assert s.context.span_id == o.context.span_id
        assert s.context.trace_state == o.context.trace_state
        assert (s.parent is None) == (o.parent is None)
        if o.parent is not None:
            assert s.parent.span_id == o.parent.span_id
            assert s.parent.is_remote == o.parent.is_remote
        assert s.kind == o.kind
        assert (s.start_time, s.end_time) == (o.start_time, o.end_time)
        assert dict(s.attributes) == {k: _tuples(v) for k, v in o.attributes.items()}
        assert s.dropped_attributes == o.dropped_attributes
        assert s.dropped_events == o.dropped_events
        assert s.dropped_links == o.dropped_links
        assert s.status.status_code == o.status.status_code
        assert s.status.description == o.status.description
        assert [(e.name, e.timestamp, dict(e.attributes), e.dropped_attributes) for e in s.events] \
            == [(e.name, e.timestamp, dict(e.attributes or {}), e.dropped_attributes)
                for e in o.events]
        # A link's trace state is not written by the official encoder: the batch has none.
        assert [(lk.context.trace_id, lk.context.span_id, lk.context.is_remote,
                 dict(lk.attributes), lk.dropped_attributes) for lk in s.links] == [
            (lk.context.trace_id, lk.context.span_id, lk.context.is_remote,
             dict(lk.attributes or {}), lk.dropped_attributes) for lk in o.links]
        assert s.resource == o.resource
        assert _scope(s.instrumentation_scope) == _scope(o.instrumentation_scope)
    root = by_name["GET /items/{id}"]
    assert root.parent.is_remote and root.dropped_events == 1
    assert list(root.context.trace_state.items()) == [("vendor", "v1"), ("k", "x")]
    assert by_name["producer"].dropped_attributes == 5
    assert by_name["SELECT"].dropped_links == 1
    assert by_name["SELECT"].status.description == "timeout"


def _scope(scope):
    # The wire has no unset version, only "" (the SDK's tracers say "", its loggers None).
    return (scope.name, scope.version or "", scope.schema_url, dict(scope.attributes))


def _tuples(v):
    if isinstance(v, list | tuple):
        return tuple(_tuples(x) for x in v)
    if isinstance(v, dict):
        return {k: _tuples(x) for k, x in v.items()}
    return v


# ---- hypothesis: ReadableSpans built directly ----

_keys = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=6)
_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**63), 2**63 - 1),
    st.floats(allow_nan=True, allow_infinity=True), st.binary(max_size=6),
    st.text(st.characters(blacklist_categories=("Cs",)), max_size=6),
)
any_values = st.recursive(
    _scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.lists(inner, max_size=3).map(tuple),
                            st.dictionaries(_keys, inner, max_size=3)),
    max_leaves=8,
)
# Values the official encoder refuses (the attribute is left out): ints outside int64, objects
# of other types, such values nested in a list.
_refused = st.one_of(st.integers(2**63, 2**70), st.integers(-(2**70), -(2**63) - 1),
                     st.just(object()), st.builds(lambda: [1, 2**64]), st.just({1, 2}))
_attr_values = st.one_of(any_values, any_values, any_values, _refused)


@st.composite
def attribute_maps(draw, allow_refused=True):
    d = draw(st.dictionaries(_keys, _attr_values if allow_refused else any_values, max_size=4))
    form = draw(st.sampled_from(["dict", "bounded", "none"]))
    if form == "none" and not d:
        return None
    if form == "bounded":
        b = BoundedAttributes(maxlen=draw(st.sampled_from([None, 2])), attributes=d,
                              immutable=True)
        b.dropped += draw(st.integers(0, 3))
        return b
    return d


_trace_states = st.sampled_from([
    TraceState(), TraceState([("a", "1")]), TraceState([("vendor", "x-y"), ("k@t", "v=")]),
])
_contexts = st.builds(
    SpanContext, st.integers(0, 2**128 - 1), st.integers(0, 2**64 - 1), st.booleans(),
    st.integers(0, 255).map(TraceFlags), _trace_states)

RESOURCES = [
    Resource({"service.name": "a"}),
    Resource({"service.name": "a"}),  # equal to the first: grouped with it
    Resource({"service.name": "b", "ids": (1, 2)}, "https://opentelemetry.io/schemas/1.24.0"),
    Resource.get_empty(),
]
SCOPES = [
    None,
    InstrumentationScope("lib"),
    InstrumentationScope("lib"),  # equal to the one before
    InstrumentationScope("lib", "1.0", "https://s", {"a": 1, "l": ["x"]}),
    InstrumentationScope("other", None, None, {"k": 1.5}),
]


class SubSpan(ReadableSpan):
    """A subclass: read through the public properties, not the instance attributes."""


class SubEvent(Event):
    pass


@st.composite
def events(draw):
    cls = draw(st.sampled_from([Event, SubEvent]))
    return cls(draw(st.text(max_size=6)), draw(attribute_maps()),
               draw(st.integers(0, 2**64 - 1)))


@st.composite
def links(draw):
    return Link(draw(_contexts), draw(attribute_maps()))


def _sequence(draw, items):
    seq = draw(st.lists(items, max_size=2))
    if draw(st.booleans()):
        bounded = BoundedList.from_seq(None, seq)
        bounded.dropped = draw(st.integers(0, 5))
        return bounded
    return seq


@st.composite
def readable_spans(draw, allow_refused=True):
    status = draw(st.sampled_from([
        Status(StatusCode.UNSET), Status(StatusCode.OK), Status(StatusCode.ERROR),
        Status(StatusCode.ERROR, "failed: ü"),
    ]))
    cls = draw(st.sampled_from([ReadableSpan, ReadableSpan, SubSpan]))
    return cls(
        name=draw(st.text(max_size=8)),
        context=draw(_contexts),
        parent=draw(st.none() | _contexts),
        resource=draw(st.sampled_from(RESOURCES)),
        attributes=draw(attribute_maps(allow_refused)),
        events=_sequence(draw, events()),
        links=_sequence(draw, links()),
        kind=draw(st.sampled_from(list(SpanKind))),
        status=status,
        start_time=draw(st.none() | st.integers(0, 2**64 - 1)),
        end_time=draw(st.none() | st.integers(0, 2**64 - 1)),
        instrumentation_scope=draw(st.sampled_from(SCOPES)),
    )


@given(st.lists(readable_spans(), max_size=6))
def test_generated_spans_give_the_official_bytes_and_message(spans):
    logging.disable(logging.ERROR)  # refused attributes are logged by both encoders
    try:
        check_spans(spans)
    finally:
        logging.disable(logging.NOTSET)


# ---- projections (what a filter reads of each span) ----

# Each part of a projection -> the Span fields it carries.
PART_FIELDS = {"name": ("name",), "kind": ("kind",), "times": ("start_time_unix_nano",
               "end_time_unix_nano"), "status": ("status",), "trace_state": ("trace_state",),
               "dropped": ("dropped_attributes_count", "dropped_events_count",
                           "dropped_links_count")}


def _spans_of(data: bytes):
    msg = ExportTraceServiceRequest.FromString(data)
    return msg, [sp for rs in msg.resource_spans for ss in rs.scope_spans for sp in ss.spans]


@given(st.lists(readable_spans(), max_size=6),
       st.sets(st.sampled_from(sorted(_sdk_wire.PROJECTABLE_SPAN_PARTS)), min_size=1),
       st.booleans(), st.data())
def test_a_projection_carries_the_parts_it_names_of_each_span(spans, parts, grouped, data):
    """Each span of a projected request carries exactly the named parts of the same span in
    the whole request (the attributes: those of the keys); grouped, the request keeps the
    resources and scopes and its order says where each span came from; not grouped, one
    empty resource and scope hold the spans in the order given."""
    present = sorted({k for sp in spans for k in (sp.attributes or {})} | {"missing"})
    keys = data.draw(st.none() | st.lists(st.sampled_from(present), unique=True, max_size=3))
    logging.disable(logging.ERROR)  # refused attributes are logged by both encoders
    try:
        whole, order = _sdk_wire.encode_spans_ordered(spans)
        projected, porder = _sdk_wire.encode_spans_ordered(spans, (parts, keys, grouped))
    finally:
        logging.disable(logging.NOTSET)
    wmsg, wspans = _spans_of(whole)
    pmsg, pspans = _spans_of(projected)
    by_input = dict(zip(order, wspans))
    if grouped:
        assert porder == order
        assert [rs.resource for rs in pmsg.resource_spans] == \
            [rs.resource for rs in wmsg.resource_spans]
    else:
        assert porder is None
        porder = list(range(len(spans)))
        assert len(pmsg.resource_spans) == (1 if spans else 0)
        for rs in pmsg.resource_spans:
            assert rs.resource.ByteSize() == 0 and len(rs.scope_spans) == 1
            assert rs.scope_spans[0].scope.ByteSize() == 0
    assert len(pspans) == len(spans)
    for i, got in zip(porder, pspans):
        want = by_input[i]
        for part, fields in PART_FIELDS.items():
            for f in fields:
                expect = getattr(want, f) if part in parts else type(getattr(want, f))()
                assert getattr(got, f) == expect, (part, f)
        expect_attrs = {}
        if "attributes" in parts:
            expect_attrs = {kv.key: kv.value for kv in want.attributes
                            if keys is None or kv.key in keys}
        assert {kv.key: kv.value for kv in got.attributes} == expect_attrs
        assert not got.trace_id and not got.span_id and not got.events and not got.links


def test_a_projection_names_only_known_parts_and_string_keys():
    with pytest.raises(ValueError, match="cannot project span parts"):
        _sdk_wire.encode_spans_ordered([], ({"events"}, None))
    with pytest.raises(TypeError, match="keys"):
        _sdk_wire.encode_spans_ordered([], ({"attributes"}, [1]))


# ---- real SDK logs ----

BODIES = ["plain message", "", 42, -1.5, True, b"\x00raw", None, ["a", 1, None, [2.5]],
          {"event": "payment", "amount": 12.5, "items": [{"sku": "x", "n": 2}], "ok": False,
           "raw": b"\x01", "none": None}, (1, 2), {}]


@pytest.fixture(scope="module")
def sdk_logs() -> list:
    exporter = InMemoryLogRecordExporter()
    providers = [
        LoggerProvider(resource=Resource.create({"service.name": "api"}),
                       log_record_limits=LogRecordLimits(max_attributes=4)),
        LoggerProvider(resource=Resource({"service.name": "worker", "n": 1}, "https://s/1")),
    ]
    for p in providers:
        p.add_log_record_processor(SimpleLogRecordProcessor(exporter))
    loggers = [providers[0].get_logger("api", "1.0", attributes={"scope.attr": [1, 2]}),
               providers[0].get_logger("api.db", schema_url="https://s/2"),
               providers[1].get_logger("worker")]
    tracer = TracerProvider().get_tracer("t")
    for i, body in enumerate(BODIES):
        span = tracer.start_span("s")
        ctx = set_span_in_context(span) if i % 2 else None
        attributes = dict(list(EVERY_KIND.items())[i % 5: i % 5 + 3 + i % 3])
        loggers[i % 3].emit(
            timestamp=1_700_000_000_000_000_000 + i if i % 4 else None,
            observed_timestamp=1_700_000_000_000_001_000 + i,
            context=ctx,
            severity_number=list(SeverityNumber)[i % 25] if i % 3 else None,
            severity_text=["INFO", "", None][i % 3],
            body=body,
            attributes=attributes,
            event_name="evt.name" if i % 5 == 0 else None,
        )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the SDK warns that it dropped attributes: meant here
        loggers[0].emit(body="many attributes", attributes={f"a{i}": i for i in range(7)})
    recs = list(exporter.get_finished_logs())
    assert len(recs) == len(BODIES) + 1
    return recs


def test_sdk_logs_give_the_official_bytes_and_message(sdk_logs):
    batch = check_logs(sdk_logs)
    assert len(batch) == len(sdk_logs)
    assert len(batch.resources()) == 2
    assert batch.records().__next__()["body"] == {"string_value": "plain message"}


def test_sdk_logs_carry_what_the_sdk_holds(sdk_logs):
    back = batch_to_logs(logs_to_batch(sdk_logs))
    key = lambda r: r.log_record.observed_timestamp  # noqa: E731
    for b, o in zip(sorted(back, key=key), sorted(sdk_logs, key=key)):
        bl, ol = b.log_record, o.log_record
        assert bl.body == _tuples(ol.body) or (ol.body in ({}, ()) and bl.body == ol.body)
        assert (bl.trace_id, bl.span_id, int(bl.trace_flags)) == (
            ol.trace_id, ol.span_id, int(ol.trace_flags))
        assert bl.severity_number == (ol.severity_number or None if
                                      ol.severity_number != SeverityNumber.UNSPECIFIED else None)
        assert bl.severity_text == (ol.severity_text or None)
        assert bl.timestamp == ol.timestamp
        assert b.dropped_attributes == o.dropped_attributes
        assert dict(bl.attributes) == {k: _tuples(v) for k, v in ol.attributes.items()}
        assert b.resource == o.resource
        assert _scope(b.instrumentation_scope) == _scope(o.instrumentation_scope)
    assert max(r.dropped_attributes for r in back) == 3


def test_logs_made_inside_a_span_keep_their_own_ids(sdk_logs):
    # The conversion must not take the ids of a span current at conversion time.
    tracer = TracerProvider().get_tracer("t")
    batch = logs_to_batch(sdk_logs)
    with tracer.start_as_current_span("current"):
        back = batch_to_logs(batch)
    expected = [int.from_bytes(r["trace_id"], "big") for r in batch.records()]
    assert 0 in expected
    assert [r.log_record.trace_id for r in back] == expected


# ---- hypothesis: log records built directly ----


@st.composite
def readable_logs(draw, allow_refused=True):
    ctx = draw(_contexts)
    record = LogRecord(
        timestamp=draw(st.none() | st.integers(0, 2**64 - 1)),
        observed_timestamp=draw(st.integers(0, 2**64 - 1)),
        context=set_span_in_context(NonRecordingSpan(ctx)),
        severity_text=draw(st.none() | st.text(max_size=5)),
        severity_number=draw(st.none() | st.sampled_from(list(SeverityNumber))),
        body=draw(any_values),
        attributes=draw(attribute_maps(allow_refused)),
        event_name=draw(st.none() | st.text(max_size=5)),
    )
    return ReadableLogRecord(record, draw(st.sampled_from(RESOURCES)),
                             draw(st.sampled_from(SCOPES)))


@given(st.lists(readable_logs(), max_size=6))
def test_generated_logs_give_the_official_bytes_and_message(records):
    logging.disable(logging.ERROR)
    try:
        check_logs(records)
    finally:
        logging.disable(logging.NOTSET)


@given(st.lists(readable_logs(), min_size=1, max_size=4))
def test_logdata_shaped_records_are_read_by_the_same_names(records):
    # SDK <= 1.38 handed exporters LogData: the resource and dropped count on its log_record.
    logging.disable(logging.ERROR)
    try:
        shaped = [SimpleNamespace(
            log_record=_with(r.log_record, resource=r.resource,
                             dropped_attributes=r.dropped_attributes),
            instrumentation_scope=r.instrumentation_scope) for r in records]
        assert logs_to_protobuf(shaped) == encode_logs(records).SerializeToString()
    finally:
        logging.disable(logging.NOTSET)


def _with(log_record, **extra):
    ns = SimpleNamespace(**vars(log_record))
    for k, v in extra.items():
        setattr(ns, k, v)
    return ns


# ---- rules, one by one ----


def _span(**kw) -> ReadableSpan:
    base = dict(name="s", context=SpanContext(1, 2, False), resource=RESOURCES[0])
    base.update(kw)
    return ReadableSpan(**base)


def test_refused_attributes_are_left_out_and_logged_as_the_official_encoder_does(caplog):
    attrs = {"ok": 1, "big": 2**64, "obj": object(), "deep.bad": [1, [2**70]], "surrogate": "\ud800",
             "after": "x"}
    spans = [_span(attributes=attrs)]
    with caplog.at_level(logging.ERROR):
        ours = spans_to_protobuf(spans)
    logged = [r for r in caplog.records if r.name == "ottl.sdk"]
    assert len(logged) == 4
    assert ours == encode_spans(spans).SerializeToString()
    kept = [kv.key for kv in ExportTraceServiceRequest.FromString(ours)
            .resource_spans[0].scope_spans[0].spans[0].attributes]
    assert kept == ["ok", "after"]


def test_a_refused_body_raises_as_the_official_encoder_does():
    rec = ReadableLogRecord(LogRecord(body=object()), RESOURCES[0])
    with pytest.raises(Exception):
        encode_logs([rec])
    with pytest.raises(TypeError):
        logs_to_protobuf([rec])
    with pytest.raises(OverflowError):
        logs_to_protobuf([ReadableLogRecord(LogRecord(body=2**64), RESOURCES[0])])


def _nested(depth: int):
    v = "leaf"
    for _ in range(depth - 1):
        v = [v]
    return v


def test_values_nested_to_the_decoders_limit_pass_and_deeper_ones_are_refused(caplog):
    top = limits.MAX_NESTING_DEPTH
    batch = spans_to_batch([_span(attributes={"deep": _nested(top)})])
    assert len(batch.column("attributes.key")) == 1
    # The official encoder itself fails from about 50 levels on (upb's message depth limit of
    # 100 counts the span's own levels too); below that we agree with it.
    assert spans_to_protobuf([_span(attributes={"deep": _nested(40)})]) == \
        encode_spans([_span(attributes={"deep": _nested(40)})]).SerializeToString()
    with caplog.at_level(logging.ERROR):
        batch = spans_to_batch([_span(attributes={"deep": _nested(top + 1), "k": 1})])
    assert [batch.string(int(k)) for k in batch.column("attributes.key")] == ["k"]
    with pytest.raises(ValueError, match="nested deeper"):
        logs_to_batch([ReadableLogRecord(LogRecord(body=_nested(top + 1)), RESOURCES[0])])


def test_bad_ids_and_numbers_raise():
    with pytest.raises(OverflowError):
        spans_to_protobuf([_span(context=SpanContext(2**128, 1, False))])
    with pytest.raises(OverflowError):
        spans_to_protobuf([_span(context=SpanContext(1, -1, False))])
    with pytest.raises(KeyError):
        spans_to_protobuf([_span(kind=7)])  # the official encoder: KeyError too
    with pytest.raises(OverflowError):
        spans_to_protobuf([_span(start_time=-1)])
    for bad in (spans_to_batch, spans_to_protobuf):
        with pytest.raises(AttributeError):
            bad([object()])


def test_limits_are_passed_to_the_decoder():
    from ottl._batch import OtlpDecodeError

    lo_attrs, lo_len = limits.MIN_MAX_ATTRIBUTES, limits.MIN_MAX_STRING_LENGTH
    spans = [_span(attributes={f"k{i}": i for i in range(lo_attrs + 1)})]
    with pytest.raises(OtlpDecodeError):
        spans_to_batch(spans, max_attributes=lo_attrs)
    assert len(spans_to_batch(spans, max_attributes=lo_attrs + 1)) == 1
    with pytest.raises(OtlpDecodeError):
        spans_to_batch([_span(name="x" * (lo_len + 1))], max_string_length=lo_len)
    with pytest.raises(OtlpDecodeError):
        logs_to_batch([ReadableLogRecord(LogRecord(body="x" * (lo_len + 1)), RESOURCES[0])],
                      max_string_length=lo_len)


def test_empty_inputs():
    assert spans_to_protobuf([]) == b"" == encode_spans([]).SerializeToString()
    assert len(spans_to_batch([])) == 0 and batch_to_spans(spans_to_batch([])) == []
    assert len(logs_to_batch(iter([]))) == 0 and batch_to_logs(logs_to_batch([])) == []


def test_a_generator_of_spans_is_read_once():
    spans = [_span(name=str(i), resource=Resource({"i": i % 2})) for i in range(6)]
    assert spans_to_protobuf(iter(spans)) == encode_spans(spans).SerializeToString()
    # fresh objects from a generator: ids may be reused once a span is gone
    gen = (_span(name=str(i), resource=Resource({"i": i % 2})) for i in range(50))
    msg = ExportTraceServiceRequest.FromString(spans_to_protobuf(gen))
    assert [len(rs.scope_spans[0].spans) for rs in msg.resource_spans] == [25, 25]


def test_wrong_batch_kind_is_refused():
    with pytest.raises(TypeError):
        batch_to_spans(logs_to_batch([]))
    with pytest.raises(TypeError):
        batch_to_logs(spans_to_batch([]))


# ---- out: what the SDK cannot hold ----


def _otlp_span_batch() -> SpanBatch:
    from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
    from opentelemetry.proto.trace.v1 import trace_pb2

    req = ExportTraceServiceRequest()
    rs = req.resource_spans.add(schema_url="https://r")
    rs.resource.dropped_attributes_count = 4
    rs.resource.attributes.add(key="service.name").value.string_value = "x"
    ss = rs.scope_spans.add(schema_url="https://s")
    ss.scope.name = "lib"
    ss.scope.dropped_attributes_count = 2
    span = ss.spans.add(trace_id=b"\x01" * 16, span_id=b"\x02" * 8, name="n", kind=0,
                        flags=0x1 | 0x100, trace_state="bad state!")
    span.status.code = trace_pb2.Status.STATUS_CODE_OK
    span.status.message = "fine"
    span.attributes.extend([
        KeyValue(key="dup", value=AnyValue(int_value=1)),
        KeyValue(key="dup", value=AnyValue(int_value=2)),
        KeyValue(key="", value=AnyValue(string_value="empty key")),
        KeyValue(key="novalue"),
        KeyValue(key="kv", value=AnyValue(kvlist_value={"values": [
            KeyValue(key="a", value=AnyValue(bool_value=True))]})),
    ])
    span2 = ss.spans.add(trace_id=b"\x01" * 16, span_id=b"\x03" * 8, kind=9)
    span2.parent_span_id = b"\x02" * 8
    span2.flags = 0x300
    return decode_traces(req.SerializeToString())


def test_what_the_sdk_cannot_hold_is_dropped_as_documented(caplog):
    batch = _otlp_span_batch()
    with caplog.at_level(logging.WARNING):
        s1, s2 = batch_to_spans(batch)
    assert s1.kind == SpanKind.INTERNAL and s2.kind == SpanKind.INTERNAL  # 0 and 9
    assert s1.status.status_code == StatusCode.OK and s1.status.description is None
    assert dict(s1.context.trace_state) == {}  # not a valid W3C trace state
    assert s1.context.trace_flags == 1
    # the last of duplicate keys wins; an empty key is dropped and counted; no value -> None
    assert dict(s1.attributes) == {"dup": 2, "novalue": None, "kv": {"a": True}}
    assert s1.dropped_attributes == 1
    assert s1.resource.schema_url == "https://r"
    assert s1.instrumentation_scope.schema_url == "https://s"
    assert s2.parent.span_id == int.from_bytes(b"\x02" * 8, "big") and s2.parent.is_remote
    msg = encode_spans([s1, s2])
    assert msg.resource_spans[0].resource.dropped_attributes_count == 0
    out = msg.resource_spans[0].scope_spans[0].spans
    assert [s.flags for s in out] == [0x100, 0x300]
    assert [s.kind for s in out] == [1, 1]


def test_ids_the_sdk_cannot_hold_raise():
    from opentelemetry.proto.trace.v1 import trace_pb2

    req = ExportTraceServiceRequest()
    req.resource_spans.add().scope_spans.add().spans.append(
        trace_pb2.Span(trace_id=b"\x01" * 17, span_id=b"\x02" * 8))
    with pytest.raises(ValueError, match="trace_id"):
        batch_to_spans(decode_traces(req.SerializeToString()))


def test_import_error_names_the_extra(tmp_path):
    code = textwrap.dedent("""
        import sys
        class Block:
            def find_spec(self, name, path=None, target=None):
                if name == "opentelemetry.sdk" or name.startswith("opentelemetry.sdk."):
                    raise ImportError("blocked for the test")
        sys.meta_path.insert(0, Block())
        try:
            import ottl.sdk
        except ImportError as e:
            print("IMPORTERROR", e)
    """)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, cwd=str(tmp_path),
                          env={**__import__("os").environ,
                               "PYTHONPATH": str(__import__("pathlib").Path(__file__)
                                                 .resolve().parents[2])})
    assert "IMPORTERROR" in proc.stdout, proc.stdout + proc.stderr
    assert "pip install 'ottl[sdk]'" in proc.stdout
    assert "opentelemetry-sdk" in proc.stdout


def test_trace_api_is_the_one_the_sdk_uses():
    # SpanContext from the API is what ReadableSpan carries: the fast paths key on it.
    assert trace_api.SpanContext is SpanContext
