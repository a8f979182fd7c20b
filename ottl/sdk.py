"""OpenTelemetry SDK objects in and out of columnar batches.

In: the spans a span exporter or processor receives (``ReadableSpan``) and the log records a
log exporter receives (``ReadableLogRecord``; a ``LogData`` of SDK <= 1.38 is read too) become
a ``SpanBatch`` / ``LogBatch``. A Cython writer (``ottl._sdk_wire``) turns the objects into the
OTLP protobuf bytes the official OTLP exporter would send (same grouping by resource and
instrumentation scope, same value conversions, byte for byte), and the C decoder reads them.

Out: a batch becomes the objects an SDK exporter's ``export()`` takes: ``ReadableSpan`` and
``ReadableLogRecord``. What the SDK cannot carry is listed in docs/batches.md ("OpenTelemetry
SDK objects"); in short: resource and scope dropped-attribute counts, resource entity refs,
span flags beyond the parent's remoteness, the presence of an absent status or body, duplicate
and empty attribute keys, and values the SDK has no form for.

Needs opentelemetry-sdk (``pip install 'ottl[sdk]'``); tested with 1.45.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

try:
    from opentelemetry._logs import LogRecord, SeverityNumber
    from opentelemetry.attributes import BoundedAttributes
    from opentelemetry.sdk._logs import ReadableLogRecord
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import Event, ReadableSpan
    from opentelemetry.sdk.util import BoundedList
    from opentelemetry.sdk.util.instrumentation import InstrumentationScope
    from opentelemetry.trace import (
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
except ImportError as _error:  # pragma: no cover - exercised by a subprocess test
    raise ImportError(
        "ottl.sdk converts OpenTelemetry SDK objects and needs opentelemetry-sdk>=1.45, which "
        f"is not installed or too old ({_error}); install it with: pip install 'ottl[sdk]'"
    ) from _error

from ottl import _sdk_wire
from ottl._batch import LogBatch, SpanBatch, decode_logs, decode_traces

__all__ = [
    "spans_to_protobuf",
    "logs_to_protobuf",
    "spans_to_batch",
    "logs_to_batch",
    "batch_to_spans",
    "batch_to_logs",
]


# ---- in ----


def spans_to_protobuf(spans: Iterable[ReadableSpan]) -> bytes:
    """The ExportTraceServiceRequest bytes of ``spans``: the same bytes as
    ``encode_spans(spans).SerializeToString()`` of opentelemetry-exporter-otlp-proto-common,
    written directly (spans grouped by resource, then scope, in order of first appearance).

    An attribute the official encoder cannot convert (an unsupported type, an int outside
    int64, a string with lone surrogates, a non-str key, a value nested deeper than
    ``ottl.limits.MAX_NESTING_DEPTH``) is left out and logged, as the official encoder does;
    anything else it would fail on raises here too."""
    return _sdk_wire.encode_spans(spans)


def logs_to_protobuf(records: Iterable[Any]) -> bytes:
    """The ExportLogsServiceRequest bytes of ``records`` (``ReadableLogRecord``, or ``LogData``
    of SDK <= 1.38): the same bytes as ``encode_logs(records).SerializeToString()`` of
    opentelemetry-exporter-otlp-proto-common. A body that cannot be converted raises
    ``TypeError`` / ``OverflowError`` / ``ValueError``, as the official encoder raises."""
    return _sdk_wire.encode_logs(records)


def spans_to_batch(
    spans: Iterable[ReadableSpan],
    *,
    max_string_length: int | None = None,
    max_attributes: int | None = None,
) -> SpanBatch:
    """A SpanBatch of ``spans`` (what a SpanExporter's ``export()`` or a SpanProcessor's
    ``on_end()`` receives). The limits are those of ``ottl._batch.decode_traces``."""
    return decode_traces(_sdk_wire.encode_spans(spans), max_string_length=max_string_length,
                         max_attributes=max_attributes)


def logs_to_batch(
    records: Iterable[Any],
    *,
    max_string_length: int | None = None,
    max_attributes: int | None = None,
) -> LogBatch:
    """A LogBatch of ``records`` (what a LogRecordExporter's ``export()`` receives:
    ``ReadableLogRecord``; ``LogData`` objects of SDK <= 1.38 are read by the same names).
    The limits are those of ``ottl._batch.decode_logs``."""
    return decode_logs(_sdk_wire.encode_logs(records), max_string_length=max_string_length,
                       max_attributes=max_attributes)


# ---- out ----

_KINDS = {1: SpanKind.INTERNAL, 2: SpanKind.SERVER, 3: SpanKind.CLIENT, 4: SpanKind.PRODUCER,
          5: SpanKind.CONSUMER}
_STATUS = {0: StatusCode.UNSET, 1: StatusCode.OK, 2: StatusCode.ERROR}
_SEVERITY = {s.value: s for s in SeverityNumber}
_HAS_IS_REMOTE = 0x100
_IS_REMOTE = 0x200


def _value(v: dict | None) -> Any:
    """An AnyValue (as ``records()`` shows it) as the Python value the SDK holds: arrays as
    tuples, kvlists as dicts (a repeated key: the last value wins), empty or absent as None."""
    if not v:
        return None
    ((kind, x),) = v.items()
    if kind == "array_value":
        return tuple(_value(e) for e in x["values"])
    if kind == "kvlist_value":
        return {kv["key"]: _value(kv.get("value")) for kv in x["values"]}
    return x  # str, bool, int, float, bytes; a profiles strindex stays its int


def _plain(attrs: list) -> dict:
    return {kv["key"]: _value(kv.get("value")) for kv in attrs}


def _bounded(attrs: list, dropped: int) -> BoundedAttributes:
    """The SDK's attribute mapping, carrying the dropped count. The SDK's own cleaning applies:
    an empty key is dropped (and counted as dropped), sequences become tuples."""
    out = BoundedAttributes(maxlen=None, attributes=_plain(attrs), immutable=True)
    out.dropped += dropped
    return out


def _int_id(raw: bytes, width: int, what: str) -> int:
    if len(raw) > width:
        raise ValueError(f"{what} of {len(raw)} bytes cannot be held by the SDK ({width} bytes)")
    return int.from_bytes(raw, "big")


def _trace_state(header: str) -> TraceState:
    # The SDK's TraceState takes only valid W3C list members; it discards an invalid header
    # whole (and logs it), as the SDK does when propagating.
    return TraceState.from_header([header]) if header else TraceState()


def _resources(batch: SpanBatch | LogBatch) -> list[Resource]:
    out = []
    for group in batch.resources():
        res = group.get("resource") or {}
        out.append(Resource(_plain(res.get("attributes", [])), group["schema_url"]))
    return out


def _scopes(batch: SpanBatch | LogBatch) -> list[InstrumentationScope | None]:
    out: list[InstrumentationScope | None] = []
    for group in batch.scopes():
        scope = group.get("scope")
        if scope is None:
            out.append(None)
            continue
        # An unset version is "" on the wire; the SDK's get_tracer/get_logger also give "".
        out.append(InstrumentationScope(scope["name"], scope["version"], group["schema_url"],
                                        _plain(scope["attributes"])))
    return out


def batch_to_spans(batch: SpanBatch) -> list[ReadableSpan]:
    """The spans of ``batch`` as ``ReadableSpan`` objects, in batch order, ready for any SDK
    SpanExporter's ``export()``.

    Carried: ids, trace state, parent (with its remoteness from the span flags), name, kind,
    times, attributes, events, links (with trace state and remoteness), status, dropped
    counts of attributes, events and links (the SDK's ``BoundedAttributes.dropped`` /
    ``BoundedList.dropped``), resource (attributes, schema URL) and instrumentation scope
    (name, version, attributes, schema URL). docs/batches.md lists what the SDK cannot hold.
    """
    if not isinstance(batch, SpanBatch):
        raise TypeError(f"batch_to_spans takes a SpanBatch, not {type(batch).__name__}")
    resources = _resources(batch)
    scopes = _scopes(batch)
    scope_col = batch.column("scope")
    res_col = batch.column("resource")
    out = []
    for i, rec in enumerate(batch.records()):
        trace_id = _int_id(rec["trace_id"], 16, "trace_id")
        flags = rec["flags"]
        context = SpanContext(trace_id, _int_id(rec["span_id"], 8, "span_id"), False,
                              TraceFlags(flags & 0xFF), _trace_state(rec["trace_state"]))
        parent = None
        if rec["parent_span_id"]:
            # The parent's flags and trace state are not in OTLP; it gets the span's own.
            parent = SpanContext(trace_id, _int_id(rec["parent_span_id"], 8, "parent_span_id"),
                                 bool(flags & _IS_REMOTE), context.trace_flags,
                                 context.trace_state)
        status = rec.get("status")
        if status is None:
            sdk_status = Status(StatusCode.UNSET)
        else:
            code = _STATUS.get(status["code"], StatusCode.UNSET)
            # The SDK keeps a description only with ERROR.
            sdk_status = Status(code, (status["message"] or None)
                                if code is StatusCode.ERROR else None)
        events = BoundedList.from_seq(None, [
            Event(e["name"], _bounded(e["attributes"], e["dropped_attributes_count"]),
                  e["time_unix_nano"])
            for e in rec["events"]])
        events.dropped = rec["dropped_events_count"]
        links = BoundedList.from_seq(None, [
            Link(SpanContext(_int_id(lk["trace_id"], 16, "link trace_id"),
                             _int_id(lk["span_id"], 8, "link span_id"),
                             bool(lk["flags"] & _IS_REMOTE), TraceFlags(lk["flags"] & 0xFF),
                             _trace_state(lk["trace_state"])),
                 _bounded(lk["attributes"], lk["dropped_attributes_count"]))
            for lk in rec["links"]])
        links.dropped = rec["dropped_links_count"]
        out.append(ReadableSpan(
            name=rec["name"],
            context=context,
            parent=parent,
            resource=resources[int(res_col[i])],
            attributes=_bounded(rec["attributes"], rec["dropped_attributes_count"]),
            events=events,
            links=links,
            kind=_KINDS.get(rec["kind"], SpanKind.INTERNAL),
            status=sdk_status,
            start_time=rec["start_time_unix_nano"] or None,
            end_time=rec["end_time_unix_nano"] or None,
            instrumentation_scope=scopes[int(scope_col[i])],
        ))
    return out


def batch_to_logs(batch: LogBatch) -> list[ReadableLogRecord]:
    """The log records of ``batch`` as ``ReadableLogRecord`` objects (what a
    LogRecordExporter's ``export()`` takes in SDK >= 1.39), in batch order.

    Carried: times (a time of 0 as None, an observed time of 0 as 0), trace and span id and flags (through the record's context, a
    non-recording span), severity number and text, body of any kind, attributes with their
    dropped count, event name, resource and instrumentation scope. docs/batches.md lists what
    the SDK cannot hold."""
    if not isinstance(batch, LogBatch):
        raise TypeError(f"batch_to_logs takes a LogBatch, not {type(batch).__name__}")
    resources = _resources(batch)
    scopes = _scopes(batch)
    scope_col = batch.column("scope")
    res_col = batch.column("resource")
    out = []
    for i, rec in enumerate(batch.records()):
        span_context = SpanContext(_int_id(rec["trace_id"], 16, "trace_id"),
                                   _int_id(rec["span_id"], 8, "span_id"), False,
                                   TraceFlags(rec["flags"]))
        # An explicit context, so that the ids never come from a span current at call time.
        log = LogRecord(
            timestamp=rec["time_unix_nano"] or None,
            context=set_span_in_context(NonRecordingSpan(span_context)),
            severity_text=rec["severity_text"] or None,
            severity_number=_SEVERITY.get(rec["severity_number"]) if rec["severity_number"]
            else None,
            body=_value(rec.get("body")),
            attributes=_bounded(rec["attributes"], rec["dropped_attributes_count"]),
            event_name=rec["event_name"] or None,
        )
        # The constructor fills a missing observed time with the current time: 0 is kept.
        log.observed_timestamp = rec["observed_time_unix_nano"]
        out.append(ReadableLogRecord(log_record=log, resource=resources[int(res_col[i])],
                                     instrumentation_scope=scopes[int(scope_col[i])]))
    return out
