"""OTLP/JSON to the evaluator's records and back, as the OTLP specification encodes it.

lowerCamelCase field names, trace and span ids as hex, 64-bit integers as decimal strings (read
from numbers too), enums as numbers (read from their names too), bytes as base64. Fields at
their default value are left out when writing, as protobuf's JSON mapping does. Bad documents
raise ``OtlpFormatError`` naming the JSON path of the problem.
"""

from __future__ import annotations

import base64
import binascii
import math
from dataclasses import dataclass
from typing import Any, Union

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
from ottl.eval.values import INT64_MAX, INT64_MIN, PMap, PSlice, SpanID, TraceID

SPAN_KINDS = {
    "SPAN_KIND_UNSPECIFIED": 0,
    "SPAN_KIND_INTERNAL": 1,
    "SPAN_KIND_SERVER": 2,
    "SPAN_KIND_CLIENT": 3,
    "SPAN_KIND_PRODUCER": 4,
    "SPAN_KIND_CONSUMER": 5,
}
STATUS_CODES = {"STATUS_CODE_UNSET": 0, "STATUS_CODE_OK": 1, "STATUS_CODE_ERROR": 2}
SEVERITIES = {"SEVERITY_NUMBER_UNSPECIFIED": 0}
for _i, _name in enumerate(("TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL")):
    SEVERITIES[f"SEVERITY_NUMBER_{_name}"] = _i * 4 + 1
    for _n in (2, 3, 4):
        SEVERITIES[f"SEVERITY_NUMBER_{_name}{_n}"] = _i * 4 + _n


class OtlpFormatError(ValueError):
    """A document that is not valid OTLP/JSON; the message names the JSON path."""


@dataclass
class Payload:
    """A decoded request: ``signal`` is "traces" or "logs"."""

    signal: str
    resources: list[Union[ResourceSpans, ResourceLogs]]


# -- reading --------------------------------------------------------------------------------------


def load(doc: Any) -> Payload:
    if not isinstance(doc, dict):
        raise OtlpFormatError("$: expected a JSON object (an OTLP ExportTraceServiceRequest or "
                              "ExportLogsServiceRequest)")
    if "resourceSpans" in doc or "resource_spans" in doc:
        items = _list(doc, "resourceSpans", "$")
        return Payload("traces", [_resource_spans(r, f"$.resourceSpans[{i}]") for i, r in enumerate(items)])
    if "resourceLogs" in doc or "resource_logs" in doc:
        items = _list(doc, "resourceLogs", "$")
        return Payload("logs", [_resource_logs(r, f"$.resourceLogs[{i}]") for i, r in enumerate(items)])
    if "resourceMetrics" in doc:
        raise OtlpFormatError("$.resourceMetrics: metrics are not supported by the evaluator yet")
    raise OtlpFormatError("$: neither resourceSpans nor resourceLogs is present")


def _get(obj: dict, key: str) -> Any:
    if key in obj:
        return obj[key]
    snake = "".join("_" + c.lower() if c.isupper() else c for c in key)
    return obj.get(snake)


def _obj(value: Any, where: str) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise OtlpFormatError(f"{where}: expected an object, got {_json_type(value)}")
    return value


def _list(obj: dict, key: str, where: str) -> list:
    value = _get(obj, key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise OtlpFormatError(f"{where}.{key}: expected an array, got {_json_type(value)}")
    return value


def _str(obj: dict, key: str, where: str) -> str:
    value = _get(obj, key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise OtlpFormatError(f"{where}.{key}: expected a string, got {_json_type(value)}")
    return value


def _int(obj: dict, key: str, where: str, lo: int = INT64_MIN, hi: int = INT64_MAX,
         enum: dict[str, int] | None = None) -> int:
    value = _get(obj, key)
    if value is None:
        return 0
    if enum is not None and isinstance(value, str) and value in enum:
        return enum[value]
    return _parse_int(value, f"{where}.{key}", lo, hi)


def _parse_int(value: Any, where: str, lo: int, hi: int) -> int:
    if isinstance(value, bool):
        raise OtlpFormatError(f"{where}: expected an integer, got a boolean")
    if isinstance(value, int):
        n = value
    elif isinstance(value, float) and value.is_integer():
        n = int(value)
    elif isinstance(value, str):
        try:
            n = int(value, 10)
        except ValueError:
            raise OtlpFormatError(f"{where}: {value!r} is not an integer") from None
    else:
        raise OtlpFormatError(f"{where}: expected an integer, got {_json_type(value)}")
    if not lo <= n <= hi:
        raise OtlpFormatError(f"{where}: {n} is out of range [{lo}, {hi}]")
    return n


def _id(obj: dict, key: str, where: str, size: int) -> bytes:
    value = _get(obj, key)
    if value in (None, ""):
        return b"\x00" * size
    if not isinstance(value, str):
        raise OtlpFormatError(f"{where}.{key}: expected a hex string, got {_json_type(value)}")
    try:
        raw = bytes.fromhex(value)
    except ValueError:
        raise OtlpFormatError(f"{where}.{key}: {value!r} is not hex") from None
    if len(raw) != size:
        raise OtlpFormatError(f"{where}.{key}: expected {size} bytes ({size * 2} hex digits), "
                              f"got {len(raw)}")
    return raw


def _attributes(obj: dict, where: str, key: str = "attributes") -> PMap:
    m = PMap()
    for i, kv in enumerate(_list(obj, key, where)):
        here = f"{where}.{key}[{i}]"
        kv = _obj(kv, here)
        k = _get(kv, "key")
        if not isinstance(k, str):
            raise OtlpFormatError(f"{here}.key: expected a string, got {_json_type(k)}")
        m[k] = any_value(_get(kv, "value"), f"{here}.value")
    return m


def any_value(value: Any, where: str) -> Any:
    """An OTLP/JSON AnyValue as a pdata value; ``{}`` or null is the empty value."""
    if value is None:
        return None
    v = _obj(value, where)
    if not v:
        return None
    if len(v) != 1:
        raise OtlpFormatError(f"{where}: an AnyValue has exactly one field, got {sorted(v)}")
    (key, inner), = v.items()
    if key in ("stringValue", "string_value"):
        if not isinstance(inner, str):
            raise OtlpFormatError(f"{where}.{key}: expected a string")
        return inner
    if key in ("boolValue", "bool_value"):
        if not isinstance(inner, bool):
            raise OtlpFormatError(f"{where}.{key}: expected a boolean")
        return inner
    if key in ("intValue", "int_value"):
        return _parse_int(inner, f"{where}.{key}", INT64_MIN, INT64_MAX)
    if key in ("doubleValue", "double_value"):
        if isinstance(inner, bool) or not isinstance(inner, (int, float, str)):
            raise OtlpFormatError(f"{where}.{key}: expected a number")
        try:
            return float(inner)
        except ValueError:
            raise OtlpFormatError(f"{where}.{key}: {inner!r} is not a number") from None
    if key in ("bytesValue", "bytes_value"):
        if not isinstance(inner, str):
            raise OtlpFormatError(f"{where}.{key}: expected a base64 string")
        try:
            return base64.b64decode(inner, validate=True)
        except (binascii.Error, ValueError):
            raise OtlpFormatError(f"{where}.{key}: not valid base64") from None
    if key in ("arrayValue", "array_value"):
        arr = _obj(inner, f"{where}.{key}")
        return PSlice(any_value(x, f"{where}.{key}.values[{i}]")
                      for i, x in enumerate(_list(arr, "values", f"{where}.{key}")))
    if key in ("kvlistValue", "kvlist_value"):
        return _attributes(_obj(inner, f"{where}.{key}"), f"{where}.{key}", "values")
    raise OtlpFormatError(f"{where}: unknown AnyValue field {key!r}")


def _resource(obj: Any, where: str) -> Resource:
    r = _obj(obj, where)
    return Resource(_attributes(r, where),
                    _int(r, "droppedAttributesCount", where, 0, 2**32 - 1))


def _scope(obj: Any, where: str) -> Scope:
    s = _obj(obj, where)
    return Scope(_str(s, "name", where), _str(s, "version", where), _attributes(s, where),
                 _int(s, "droppedAttributesCount", where, 0, 2**32 - 1))


def _resource_spans(obj: Any, where: str) -> ResourceSpans:
    r = _obj(obj, where)
    scopes = [_scope_spans(s, f"{where}.scopeSpans[{i}]")
              for i, s in enumerate(_list(r, "scopeSpans", where))]
    return ResourceSpans(_resource(_get(r, "resource"), f"{where}.resource"), scopes,
                         _str(r, "schemaUrl", where))


def _scope_spans(obj: Any, where: str) -> ScopeSpans:
    s = _obj(obj, where)
    spans = [_span(x, f"{where}.spans[{i}]") for i, x in enumerate(_list(s, "spans", where))]
    return ScopeSpans(_scope(_get(s, "scope"), f"{where}.scope"), spans,
                      _str(s, "schemaUrl", where))


def _span(obj: Any, where: str) -> Span:
    s = _obj(obj, where)
    u32 = (0, 2**32 - 1)
    status = _obj(_get(s, "status"), f"{where}.status")
    return Span(
        trace_id=TraceID(_id(s, "traceId", where, 16)),
        span_id=SpanID(_id(s, "spanId", where, 8)),
        trace_state=_str(s, "traceState", where),
        parent_span_id=SpanID(_id(s, "parentSpanId", where, 8)),
        flags=_int(s, "flags", where, *u32),
        name=_str(s, "name", where),
        kind=_int(s, "kind", where, INT64_MIN, INT64_MAX, SPAN_KINDS),
        start_time_unix_nano=_int(s, "startTimeUnixNano", where, 0, 2**64 - 1),
        end_time_unix_nano=_int(s, "endTimeUnixNano", where, 0, 2**64 - 1),
        attributes=_attributes(s, where),
        dropped_attributes_count=_int(s, "droppedAttributesCount", where, *u32),
        events=[_event(e, f"{where}.events[{i}]") for i, e in enumerate(_list(s, "events", where))],
        dropped_events_count=_int(s, "droppedEventsCount", where, *u32),
        links=[_link(x, f"{where}.links[{i}]") for i, x in enumerate(_list(s, "links", where))],
        dropped_links_count=_int(s, "droppedLinksCount", where, *u32),
        status=Status(_int(status, "code", f"{where}.status", INT64_MIN, INT64_MAX, STATUS_CODES),
                      _str(status, "message", f"{where}.status")),
    )


def _event(obj: Any, where: str) -> SpanEvent:
    e = _obj(obj, where)
    return SpanEvent(_int(e, "timeUnixNano", where, 0, 2**64 - 1), _str(e, "name", where),
                     _attributes(e, where), _int(e, "droppedAttributesCount", where, 0, 2**32 - 1))


def _link(obj: Any, where: str) -> SpanLink:
    x = _obj(obj, where)
    return SpanLink(TraceID(_id(x, "traceId", where, 16)), SpanID(_id(x, "spanId", where, 8)),
                    _str(x, "traceState", where), _attributes(x, where),
                    _int(x, "droppedAttributesCount", where, 0, 2**32 - 1),
                    _int(x, "flags", where, 0, 2**32 - 1))


def _resource_logs(obj: Any, where: str) -> ResourceLogs:
    r = _obj(obj, where)
    scopes = [_scope_logs(s, f"{where}.scopeLogs[{i}]")
              for i, s in enumerate(_list(r, "scopeLogs", where))]
    return ResourceLogs(_resource(_get(r, "resource"), f"{where}.resource"), scopes,
                        _str(r, "schemaUrl", where))


def _scope_logs(obj: Any, where: str) -> ScopeLogs:
    s = _obj(obj, where)
    logs = [_log(x, f"{where}.logRecords[{i}]") for i, x in enumerate(_list(s, "logRecords", where))]
    return ScopeLogs(_scope(_get(s, "scope"), f"{where}.scope"), logs, _str(s, "schemaUrl", where))


def _log(obj: Any, where: str) -> LogRecord:
    x = _obj(obj, where)
    return LogRecord(
        time_unix_nano=_int(x, "timeUnixNano", where, 0, 2**64 - 1),
        observed_time_unix_nano=_int(x, "observedTimeUnixNano", where, 0, 2**64 - 1),
        severity_number=_int(x, "severityNumber", where, INT64_MIN, INT64_MAX, SEVERITIES),
        severity_text=_str(x, "severityText", where),
        body=any_value(_get(x, "body"), f"{where}.body"),
        attributes=_attributes(x, where),
        dropped_attributes_count=_int(x, "droppedAttributesCount", where, 0, 2**32 - 1),
        flags=_int(x, "flags", where, 0, 2**32 - 1),
        trace_id=TraceID(_id(x, "traceId", where, 16)),
        span_id=SpanID(_id(x, "spanId", where, 8)),
        event_name=_str(x, "eventName", where),
    )


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


# -- writing --------------------------------------------------------------------------------------


def dump(payload: Payload) -> dict:
    if payload.signal == "traces":
        return {"resourceSpans": [_dump_resource_spans(r) for r in payload.resources]}
    return {"resourceLogs": [_dump_resource_logs(r) for r in payload.resources]}


def _put(out: dict, key: str, value: Any) -> None:
    """Leave out defaults, as protobuf's JSON mapping does."""
    if value in (None, "", 0, [], {}) and value is not False:
        return
    out[key] = value


def _u64(n: int) -> str:
    return str(n) if n else ""


def _hex(raw: bytes) -> str:
    return bytes(raw).hex() if any(raw) else ""


def dump_any_value(value: Any) -> dict:
    if value is None:
        return {}
    if isinstance(value, bool):
        return {"boolValue": value}
    if isinstance(value, int):
        return {"intValue": str(value)}
    if isinstance(value, float):
        if math.isnan(value):
            return {"doubleValue": "NaN"}
        if math.isinf(value):
            return {"doubleValue": "Infinity" if value > 0 else "-Infinity"}
        return {"doubleValue": value}
    if isinstance(value, str):
        return {"stringValue": value}
    if isinstance(value, bytes):
        return {"bytesValue": base64.b64encode(value).decode("ascii")}
    if isinstance(value, PMap):
        return {"kvlistValue": {"values": _dump_attributes(value)}}
    if isinstance(value, PSlice):
        return {"arrayValue": {"values": [dump_any_value(v) for v in value]}}
    raise TypeError(f"not a pdata value: {value!r}")


def _dump_attributes(m: PMap) -> list:
    return [{"key": k, "value": dump_any_value(v)} for k, v in m.items()]


def _dump_resource(r: Resource) -> dict:
    out: dict = {}
    _put(out, "attributes", _dump_attributes(r.attributes))
    _put(out, "droppedAttributesCount", r.dropped_attributes_count)
    return out


def _dump_scope(s: Scope) -> dict:
    out: dict = {}
    _put(out, "name", s.name)
    _put(out, "version", s.version)
    _put(out, "attributes", _dump_attributes(s.attributes))
    _put(out, "droppedAttributesCount", s.dropped_attributes_count)
    return out


def _dump_resource_spans(r: ResourceSpans) -> dict:
    out: dict = {"resource": _dump_resource(r.resource)}
    out["scopeSpans"] = [
        _scoped({"scope": _dump_scope(s.scope), "spans": [_dump_span(x) for x in s.spans]},
                s.schema_url)
        for s in r.scope_spans
    ]
    _put(out, "schemaUrl", r.schema_url)
    return out


def _scoped(out: dict, schema_url: str) -> dict:
    _put(out, "schemaUrl", schema_url)
    return out


def _dump_span(s: Span) -> dict:
    out: dict = {}
    _put(out, "traceId", _hex(s.trace_id))
    _put(out, "spanId", _hex(s.span_id))
    _put(out, "traceState", s.trace_state)
    _put(out, "parentSpanId", _hex(s.parent_span_id))
    _put(out, "flags", s.flags)
    _put(out, "name", s.name)
    _put(out, "kind", s.kind)
    _put(out, "startTimeUnixNano", _u64(s.start_time_unix_nano))
    _put(out, "endTimeUnixNano", _u64(s.end_time_unix_nano))
    _put(out, "attributes", _dump_attributes(s.attributes))
    _put(out, "droppedAttributesCount", s.dropped_attributes_count)
    _put(out, "events", [_dump_event(e) for e in s.events])
    _put(out, "droppedEventsCount", s.dropped_events_count)
    _put(out, "links", [_dump_link(x) for x in s.links])
    _put(out, "droppedLinksCount", s.dropped_links_count)
    status: dict = {}
    _put(status, "message", s.status.message)
    _put(status, "code", s.status.code)
    _put(out, "status", status)
    return out


def _dump_event(e: SpanEvent) -> dict:
    out: dict = {}
    _put(out, "timeUnixNano", _u64(e.time_unix_nano))
    _put(out, "name", e.name)
    _put(out, "attributes", _dump_attributes(e.attributes))
    _put(out, "droppedAttributesCount", e.dropped_attributes_count)
    return out


def _dump_link(x: SpanLink) -> dict:
    out: dict = {}
    _put(out, "traceId", _hex(x.trace_id))
    _put(out, "spanId", _hex(x.span_id))
    _put(out, "traceState", x.trace_state)
    _put(out, "attributes", _dump_attributes(x.attributes))
    _put(out, "droppedAttributesCount", x.dropped_attributes_count)
    _put(out, "flags", x.flags)
    return out


def _dump_resource_logs(r: ResourceLogs) -> dict:
    out: dict = {"resource": _dump_resource(r.resource)}
    out["scopeLogs"] = [
        _scoped({"scope": _dump_scope(s.scope), "logRecords": [_dump_log(x) for x in s.log_records]},
                s.schema_url)
        for s in r.scope_logs
    ]
    _put(out, "schemaUrl", r.schema_url)
    return out


def _dump_log(x: LogRecord) -> dict:
    out: dict = {}
    _put(out, "timeUnixNano", _u64(x.time_unix_nano))
    _put(out, "observedTimeUnixNano", _u64(x.observed_time_unix_nano))
    _put(out, "severityNumber", x.severity_number)
    _put(out, "severityText", x.severity_text)
    if x.body is not None:
        out["body"] = dump_any_value(x.body)
    _put(out, "attributes", _dump_attributes(x.attributes))
    _put(out, "droppedAttributesCount", x.dropped_attributes_count)
    _put(out, "flags", x.flags)
    _put(out, "traceId", _hex(x.trace_id))
    _put(out, "spanId", _hex(x.span_id))
    _put(out, "eventName", x.event_name)
    return out
