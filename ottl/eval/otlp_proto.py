"""OTLP protobuf (ExportTraceServiceRequest / ExportLogsServiceRequest) to the evaluator's records
and back, through the official generated classes (opentelemetry-proto).

This is the reference evaluator's codec: exact and simple. The native C codec of the batches
issue replaces it on the fast path.
"""

from __future__ import annotations

from typing import Any

from google.protobuf.message import DecodeError
from google.protobuf.unknown_fields import UnknownFieldSet
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import (
    ExportLogsServiceRequest,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
)
from opentelemetry.proto.common.v1 import common_pb2

from ottl.eval.model import (
    LogRecord,
    Resource,
    ResourceLogs,
    ResourceSpans,
    Scope,
    ScopeLogs,
    ScopeSpans,
    Span,
    SpanEvent,
    SpanLink,
    Status,
)
from ottl.eval.otlp_json import OtlpFormatError, Payload
from ottl.eval.values import PMap, PSlice, SpanID, TraceID


def load(data: bytes, signal: str = "auto") -> Payload:
    """Decode protobuf bytes; ``signal`` "traces", "logs" or "auto" (the message whose fields
    all parse as known fields)."""
    candidates = ("traces", "logs") if signal == "auto" else (signal,)
    errors = []
    for sig in candidates:
        msg = ExportTraceServiceRequest() if sig == "traces" else ExportLogsServiceRequest()
        try:
            msg.ParseFromString(data)
        except DecodeError as exc:
            errors.append(f"as {sig}: {exc}")
            continue
        if signal == "auto" and _has_unknown_fields(msg):
            errors.append(f"as {sig}: fields of another message type")
            continue
        return _from_traces(msg) if sig == "traces" else _from_logs(msg)
    raise OtlpFormatError("not an OTLP ExportTraceServiceRequest or ExportLogsServiceRequest "
                          f"({'; '.join(errors)})")


def _has_unknown_fields(msg: Any) -> bool:
    if len(UnknownFieldSet(msg)):
        return True
    for field, value in msg.ListFields():
        if field.message_type is None:
            continue
        if _is_repeated(field):
            if any(_has_unknown_fields(v) for v in value if hasattr(v, "ListFields")):
                return True
        elif hasattr(value, "ListFields") and _has_unknown_fields(value):
            return True
    return False


def _is_repeated(field: Any) -> bool:
    repeated = getattr(field, "is_repeated", None)
    if repeated is not None:
        return bool(repeated)
    return field.label == field.LABEL_REPEATED


def _value(v: common_pb2.AnyValue) -> Any:
    kind = v.WhichOneof("value")
    if kind is None:
        return None
    if kind == "array_value":
        return PSlice(_value(x) for x in v.array_value.values)
    if kind == "kvlist_value":
        return _kv(v.kvlist_value.values)
    return getattr(v, kind)


def _kv(items: Any) -> PMap:
    m = PMap()
    for kv in items:
        m[kv.key] = _value(kv.value)
    return m


def _resource(r: Any) -> Resource:
    return Resource(_kv(r.attributes), r.dropped_attributes_count)


def _scope(s: Any) -> Scope:
    return Scope(s.name, s.version, _kv(s.attributes), s.dropped_attributes_count)


def _id(raw: bytes, size: int) -> bytes:
    if not raw:
        return b"\x00" * size
    if len(raw) != size:
        raise OtlpFormatError(f"an id of {len(raw)} bytes where {size} are required")
    return raw


def _from_traces(msg: ExportTraceServiceRequest) -> Payload:
    out = []
    for rs in msg.resource_spans:
        scopes = []
        for ss in rs.scope_spans:
            spans = [
                Span(
                    trace_id=TraceID(_id(s.trace_id, 16)),
                    span_id=SpanID(_id(s.span_id, 8)),
                    trace_state=s.trace_state,
                    parent_span_id=SpanID(_id(s.parent_span_id, 8)),
                    flags=s.flags,
                    name=s.name,
                    kind=s.kind,
                    start_time_unix_nano=s.start_time_unix_nano,
                    end_time_unix_nano=s.end_time_unix_nano,
                    attributes=_kv(s.attributes),
                    dropped_attributes_count=s.dropped_attributes_count,
                    events=[SpanEvent(e.time_unix_nano, e.name, _kv(e.attributes),
                                      e.dropped_attributes_count) for e in s.events],
                    dropped_events_count=s.dropped_events_count,
                    links=[SpanLink(TraceID(_id(x.trace_id, 16)), SpanID(_id(x.span_id, 8)),
                                    x.trace_state, _kv(x.attributes), x.dropped_attributes_count,
                                    x.flags) for x in s.links],
                    dropped_links_count=s.dropped_links_count,
                    status=Status(s.status.code, s.status.message),
                )
                for s in ss.spans
            ]
            scopes.append(ScopeSpans(_scope(ss.scope), spans, ss.schema_url))
        out.append(ResourceSpans(_resource(rs.resource), scopes, rs.schema_url))
    return Payload("traces", out)


def _from_logs(msg: ExportLogsServiceRequest) -> Payload:
    out = []
    for rl in msg.resource_logs:
        scopes = []
        for sl in rl.scope_logs:
            logs = [
                LogRecord(
                    time_unix_nano=x.time_unix_nano,
                    observed_time_unix_nano=x.observed_time_unix_nano,
                    severity_number=x.severity_number,
                    severity_text=x.severity_text,
                    body=_value(x.body) if x.HasField("body") else None,
                    attributes=_kv(x.attributes),
                    dropped_attributes_count=x.dropped_attributes_count,
                    flags=x.flags,
                    trace_id=TraceID(_id(x.trace_id, 16)),
                    span_id=SpanID(_id(x.span_id, 8)),
                    event_name=getattr(x, "event_name", ""),
                )
                for x in sl.log_records
            ]
            scopes.append(ScopeLogs(_scope(sl.scope), logs, sl.schema_url))
        out.append(ResourceLogs(_resource(rl.resource), scopes, rl.schema_url))
    return Payload("logs", out)


# -- writing --------------------------------------------------------------------------------------


def _set_value(target: common_pb2.AnyValue, value: Any) -> None:
    if value is None:
        return
    if isinstance(value, bool):
        target.bool_value = value
    elif isinstance(value, int):
        target.int_value = value
    elif isinstance(value, float):
        target.double_value = value
    elif isinstance(value, str):
        target.string_value = value
    elif isinstance(value, bytes):
        target.bytes_value = value
    elif isinstance(value, PMap):
        target.kvlist_value.SetInParent()
        _fill_kv(target.kvlist_value.values, value)
    elif isinstance(value, PSlice):
        target.array_value.SetInParent()
        for item in value:
            _set_value(target.array_value.values.add(), item)
    else:
        raise TypeError(f"not a pdata value: {value!r}")


def _fill_kv(repeated: Any, m: PMap) -> None:
    for k, v in m.items():
        kv = repeated.add()
        kv.key = k
        _set_value(kv.value, v)


def _ids(raw: bytes) -> bytes:
    return bytes(raw) if any(raw) else b""


def dump(payload: Payload) -> bytes:
    if payload.signal == "traces":
        msg = ExportTraceServiceRequest()
        for r in payload.resources:
            rs = msg.resource_spans.add()
            _fill_resource(rs.resource, r.resource)
            rs.schema_url = r.schema_url
            for s in r.scope_spans:  # type: ignore[union-attr]
                ss = rs.scope_spans.add()
                _fill_scope(ss.scope, s.scope)
                ss.schema_url = s.schema_url
                for span in s.spans:
                    _fill_span(ss.spans.add(), span)
        return msg.SerializeToString()
    lmsg = ExportLogsServiceRequest()
    for r in payload.resources:
        rl = lmsg.resource_logs.add()
        _fill_resource(rl.resource, r.resource)
        rl.schema_url = r.schema_url
        for s in r.scope_logs:  # type: ignore[union-attr]
            sl = rl.scope_logs.add()
            _fill_scope(sl.scope, s.scope)
            sl.schema_url = s.schema_url
            for record in s.log_records:
                _fill_log(sl.log_records.add(), record)
    return lmsg.SerializeToString()


def _fill_resource(target: Any, r: Resource) -> None:
    _fill_kv(target.attributes, r.attributes)
    target.dropped_attributes_count = r.dropped_attributes_count


def _fill_scope(target: Any, s: Scope) -> None:
    target.name = s.name
    target.version = s.version
    _fill_kv(target.attributes, s.attributes)
    target.dropped_attributes_count = s.dropped_attributes_count


def _fill_span(t: Any, s: Span) -> None:
    t.trace_id = _ids(s.trace_id)
    t.span_id = _ids(s.span_id)
    t.trace_state = s.trace_state
    t.parent_span_id = _ids(s.parent_span_id)
    t.flags = s.flags
    t.name = s.name
    t.kind = s.kind
    t.start_time_unix_nano = s.start_time_unix_nano
    t.end_time_unix_nano = s.end_time_unix_nano
    _fill_kv(t.attributes, s.attributes)
    t.dropped_attributes_count = s.dropped_attributes_count
    for e in s.events:
        te = t.events.add()
        te.time_unix_nano = e.time_unix_nano
        te.name = e.name
        _fill_kv(te.attributes, e.attributes)
        te.dropped_attributes_count = e.dropped_attributes_count
    t.dropped_events_count = s.dropped_events_count
    for x in s.links:
        tl = t.links.add()
        tl.trace_id = _ids(x.trace_id)
        tl.span_id = _ids(x.span_id)
        tl.trace_state = x.trace_state
        _fill_kv(tl.attributes, x.attributes)
        tl.dropped_attributes_count = x.dropped_attributes_count
        tl.flags = x.flags
    t.dropped_links_count = s.dropped_links_count
    t.status.code = s.status.code
    t.status.message = s.status.message


def _fill_log(t: Any, x: LogRecord) -> None:
    t.time_unix_nano = x.time_unix_nano
    t.observed_time_unix_nano = x.observed_time_unix_nano
    t.severity_number = x.severity_number
    t.severity_text = x.severity_text
    if x.body is not None:
        _set_value(t.body, x.body)
    _fill_kv(t.attributes, x.attributes)
    t.dropped_attributes_count = x.dropped_attributes_count
    t.flags = x.flags
    t.trace_id = _ids(x.trace_id)
    t.span_id = _ids(x.span_id)
    if x.event_name and hasattr(t, "event_name"):
        t.event_name = x.event_name
