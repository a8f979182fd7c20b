"""Hypothesis strategies for OTLP requests built with the official classes, over every field and
value kind; and small helpers to write protobuf bytes by hand for the error tests."""

from __future__ import annotations

import base64
import math

from hypothesis import strategies as st
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1 import common_pb2
from opentelemetry.proto.logs.v1 import logs_pb2
from opentelemetry.proto.resource.v1 import resource_pb2
from opentelemetry.proto.trace.v1 import trace_pb2

# Proto3 strings are UTF-8: no lone surrogates.
texts = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12)
keys = st.one_of(st.sampled_from(["service.name", "http.method", "k", ""]), texts)
int32s = st.integers(-(2**31), 2**31 - 1)
uint32s = st.integers(0, 2**32 - 1)
int64s = st.integers(-(2**63), 2**63 - 1)
uint64s = st.one_of(st.just(0), st.integers(0, 2**64 - 1))
doubles = st.floats(allow_nan=True, allow_infinity=True)


def _ids(width: int):
    # Usual width, absent, or any other length (legal protobuf, kept as "irregular").
    return st.one_of(st.binary(min_size=width, max_size=width), st.just(b""),
                     st.binary(max_size=width + 4))


def _scalar():
    AV = common_pb2.AnyValue
    return st.one_of(
        texts.map(lambda s: AV(string_value=s)),
        st.booleans().map(lambda b: AV(bool_value=b)),
        int64s.map(lambda i: AV(int_value=i)),
        doubles.map(lambda d: AV(double_value=d)),
        st.binary(max_size=12).map(lambda b: AV(bytes_value=b)),
        int32s.map(lambda i: AV(string_value_strindex=i)),
        st.just(AV()),
    )


def _kvlist(pairs):
    out = common_pb2.AnyValue()
    out.kvlist_value.SetInParent()
    for key, value in pairs:
        kv = out.kvlist_value.values.add(key=key)
        if value is not None:
            kv.value.CopyFrom(value)
    return out


def _array(values):
    out = common_pb2.AnyValue()
    out.array_value.SetInParent()
    out.array_value.values.extend(values)
    return out


any_values = st.recursive(
    _scalar(),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4).map(_array),
        st.lists(st.tuples(keys, st.one_of(st.none(), inner)), max_size=4).map(_kvlist),
    ),
    max_leaves=10,
)


@st.composite
def key_values(draw):
    kv = common_pb2.KeyValue(key=draw(keys))
    value = draw(st.one_of(st.none(), any_values))
    if value is not None:
        kv.value.CopyFrom(value)
    return kv


attributes = st.lists(key_values(), max_size=5)


@st.composite
def resources(draw):
    r = resource_pb2.Resource(dropped_attributes_count=draw(uint32s))
    r.attributes.extend(draw(attributes))
    for _ in range(draw(st.integers(0, 2))):
        r.entity_refs.add(type=draw(texts), schema_url=draw(texts), id_keys=draw(st.lists(texts, max_size=2)))
    return r


@st.composite
def scopes(draw):
    s = common_pb2.InstrumentationScope(name=draw(texts), version=draw(texts),
                                        dropped_attributes_count=draw(uint32s))
    s.attributes.extend(draw(attributes))
    return s


@st.composite
def spans(draw):
    s = trace_pb2.Span(
        trace_id=draw(_ids(16)), span_id=draw(_ids(8)), trace_state=draw(texts),
        parent_span_id=draw(_ids(8)), flags=draw(uint32s), name=draw(texts),
        kind=draw(st.one_of(st.integers(0, 5), int32s)),
        start_time_unix_nano=draw(uint64s), end_time_unix_nano=draw(uint64s),
        dropped_attributes_count=draw(uint32s), dropped_events_count=draw(uint32s),
        dropped_links_count=draw(uint32s),
    )
    s.attributes.extend(draw(attributes))
    for _ in range(draw(st.integers(0, 2))):
        e = s.events.add(time_unix_nano=draw(uint64s), name=draw(texts),
                         dropped_attributes_count=draw(uint32s))
        e.attributes.extend(draw(attributes))
    for _ in range(draw(st.integers(0, 2))):
        link = s.links.add(trace_id=draw(_ids(16)), span_id=draw(_ids(8)),
                           trace_state=draw(texts), dropped_attributes_count=draw(uint32s),
                           flags=draw(uint32s))
        link.attributes.extend(draw(attributes))
    if draw(st.booleans()):
        s.status.SetInParent()
        s.status.message = draw(texts)
        s.status.code = draw(st.one_of(st.integers(0, 2), int32s))
    return s


@st.composite
def log_records(draw):
    r = logs_pb2.LogRecord(
        time_unix_nano=draw(uint64s), observed_time_unix_nano=draw(uint64s),
        severity_number=draw(st.one_of(st.integers(0, 24), int32s)), severity_text=draw(texts),
        dropped_attributes_count=draw(uint32s), flags=draw(uint32s),
        trace_id=draw(_ids(16)), span_id=draw(_ids(8)), event_name=draw(texts),
    )
    body = draw(st.one_of(st.none(), any_values))
    if body is not None:
        r.body.CopyFrom(body)
    r.attributes.extend(draw(attributes))
    return r


def _requests(request_cls, group_field, scope_field, record_field, records):
    @st.composite
    def build(draw):
        req = request_cls()
        for _ in range(draw(st.integers(0, 3))):
            group = getattr(req, group_field).add(schema_url=draw(texts))
            res = draw(st.one_of(st.none(), resources()))
            if res is not None:
                group.resource.CopyFrom(res)
            for _ in range(draw(st.integers(0, 3))):
                sg = getattr(group, scope_field).add(schema_url=draw(texts))
                scope = draw(st.one_of(st.none(), scopes()))
                if scope is not None:
                    sg.scope.CopyFrom(scope)
                getattr(sg, record_field).extend(draw(st.lists(records(), max_size=4)))
        return req

    return build()


trace_requests = _requests(ExportTraceServiceRequest, "resource_spans", "scope_spans", "spans", spans)
log_requests = _requests(ExportLogsServiceRequest, "resource_logs", "scope_logs", "log_records",
                         log_records)


# ---- JSON shape: our to_dict() in the form MessageToDict gives ----

# Fields MessageToDict prints as strings (64-bit integers).
INT64_FIELDS = {"start_time_unix_nano", "end_time_unix_nano", "time_unix_nano",
                "observed_time_unix_nano", "int_value"}


def as_message_dict(obj, name=None):
    """Native values -> MessageToDict's JSON forms (base64 bytes, 64-bit ints as strings,
    NaN and infinities as strings)."""
    if isinstance(obj, dict):
        return {k: as_message_dict(v, k) for k, v in obj.items()}
    if isinstance(obj, list):
        return [as_message_dict(v, name) for v in obj]
    if isinstance(obj, bytes):
        return base64.b64encode(obj).decode()
    if isinstance(obj, bool):
        return obj
    if isinstance(obj, int) and name in INT64_FIELDS:
        return str(obj)
    if isinstance(obj, float):
        if math.isnan(obj):
            return "NaN"
        if math.isinf(obj):
            return "Infinity" if obj > 0 else "-Infinity"
    return obj


def strip_key_strindex(obj):
    """MessageToDict prints KeyValue.key_strindex (a profiles-only field) as 0 everywhere."""
    if isinstance(obj, dict):
        return {k: strip_key_strindex(v) for k, v in obj.items() if k != "key_strindex"}
    if isinstance(obj, list):
        return [strip_key_strindex(v) for v in obj]
    return obj


# ---- hand-written protobuf ----

def varint(n: int) -> bytes:
    n &= (1 << 64) - 1
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def tag(field: int, wt: int) -> bytes:
    return varint(field << 3 | wt)


def ld(field: int, payload: bytes) -> bytes:
    return tag(field, 2) + varint(len(payload)) + payload


def vi(field: int, value: int) -> bytes:
    return tag(field, 0) + varint(value)
