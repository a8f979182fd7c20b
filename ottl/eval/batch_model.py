"""Columnar batches (``ottl._batch``) to the reference evaluator's records and back.

The evaluator works on the object model of ``ottl.eval.model``; every input reaches it through
the native codec (protobuf or OTLP/JSON bytes to a batch, then ``payload_from_batch``), and every
output leaves through it (``batch_from_payload``, then the batch's own encoders), so the reference
path and the fast engine read and write exactly the same bytes.

Each span and log record built here remembers its batch row (``ROW_ATTRIBUTE``), which survives
the processors' deep copy: a filter that only drops records can then be written out as a
selection mask over the original batch, with the kept records copied byte for byte.
"""

from __future__ import annotations

import json
from typing import Any, Iterable, Optional, Union

import numpy as np

from ottl._batch import LogBatch, SpanBatch
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
    TransformContext,
)
from ottl.eval.otlp_json import OtlpFormatError, Payload, dump
from ottl.eval.values import PMap, PSlice, SpanID, TraceID

Batch = Union[SpanBatch, LogBatch]

ROW_ATTRIBUTE = "_batch_row"


def payload_from_batch(batch: Batch) -> Payload:
    """The evaluator's records for a decoded batch (ids must be 16 and 8 bytes or absent)."""
    doc = batch.to_dict()
    row = iter(range(len(batch)))
    if isinstance(batch, SpanBatch):
        return Payload("traces", [
            ResourceSpans(_resource(rs.get("resource")), [
                ScopeSpans(_scope(ss.get("scope")), [_span(s, next(row)) for s in ss["spans"]],
                           ss["schema_url"])
                for ss in rs["scope_spans"]
            ], rs["schema_url"])
            for rs in doc["resource_spans"]
        ])
    return Payload("logs", [
        ResourceLogs(_resource(rl.get("resource")), [
            ScopeLogs(_scope(sl.get("scope")), [_log(x, next(row)) for x in sl["log_records"]],
                      sl["schema_url"])
            for sl in rl["scope_logs"]
        ], rl["schema_url"])
        for rl in doc["resource_logs"]
    ])


def parents_from_batch(batch: Batch, scopes: bool = True) -> tuple[list[Any], list[Any]]:
    """The evaluator's resources and scopes of a batch, without their records: one
    ResourceSpans/ResourceLogs per row of the resources table, and (unless ``scopes`` is
    false) one ScopeSpans/ScopeLogs per row of the scopes table, each also listed under its
    resource, so that a scope's ``resource`` is the object its siblings share; in row order.
    For resource- and scope-context statements, which see nothing below their own level."""
    spans = isinstance(batch, SpanBatch)
    resource_cls, scope_cls = (ResourceSpans, ScopeSpans) if spans else (ResourceLogs, ScopeLogs)
    resources = [resource_cls(_resource(r.get("resource")), [], r["schema_url"])
                 for r in batch.resources()]
    if not scopes:
        return resources, []
    owners = batch.column("scopes.resource").tolist()
    out = []
    for s, owner in zip(batch.scopes(), owners):
        sx = scope_cls(_scope(s.get("scope")), [], s["schema_url"])
        (resources[owner].scope_spans if spans else resources[owner].scope_logs).append(sx)
        out.append(sx)
    return resources, out


def span_from_batch(batch: SpanBatch, row: int, whole: bool = True) -> Span:
    """The evaluator's span of one batch row, with its events and links (OtlpFormatError for
    an id of another length than 16 or 8 bytes, as payload_from_batch). Unless ``whole``, a
    span holding only the row's events, every other field left at its default: for
    statements that read nothing else of it."""
    if whole:
        return _span(batch._record(row), row)
    return Span(events=_events(batch._events(row)))


def record_context(batch: Batch, row: int,
                   parents: tuple[list[Any], list[Any]]) -> TransformContext:
    """A fresh TransformContext of one span or log record of the batch (``parents``: the
    batch's ``parents_from_batch``), for evaluating a condition on that record alone."""
    resources, scopes = parents
    resource = resources[int(batch.column("resource")[row])]
    scope = scopes[int(batch.column("scope")[row])]
    if isinstance(batch, SpanBatch):
        return TransformContext("span", resource, scope, span=span_from_batch(batch, row))
    return TransformContext("log", resource, scope, log=_log(batch._record(row), row))


def batch_from_payload(payload: Payload) -> Batch:
    """A batch holding the evaluator's records, through the native OTLP/JSON decoder."""
    from ottl._batch import decode_logs_json, decode_traces_json

    data = json.dumps(dump(payload), separators=(",", ":"), allow_nan=False).encode("utf-8")
    if payload.signal == "traces":
        return decode_traces_json(data)
    return decode_logs_json(data)


def filter_mask(batch: Batch, payload: Payload) -> Optional[np.ndarray]:
    """The selection mask that turns ``batch`` into ``payload`` when ``payload`` is ``batch``
    with some records dropped and nothing else changed; None otherwise (then the payload must
    be encoded from its records)."""
    mask = np.zeros(len(batch), dtype=np.uint8)
    records: Iterable[Any]
    if payload.signal == "traces":
        records = (s for rx in payload.resources for sx in rx.scope_spans for s in sx.spans)  # type: ignore[union-attr]
        events = np.diff(batch.column("event_off")) if isinstance(batch, SpanBatch) else None
    else:
        records = (x for rx in payload.resources for sx in rx.scope_logs for x in sx.log_records)  # type: ignore[union-attr]
        events = None
    last = -1
    for rec in records:
        i = getattr(rec, ROW_ATTRIBUTE, None)
        if i is None or i <= last:
            return None
        if events is not None and len(rec.events) != events[i]:
            return None  # a spanevent filter changed the span
        mask[i] = 1
        last = i
    return mask


# -- records --------------------------------------------------------------------------------------


def value_from_otlp(v: Optional[dict]) -> Any:
    """An OTLP/JSON-shaped AnyValue dict (snake_case) as the evaluator's value."""
    return _value(v)


def _value(v: Optional[dict]) -> Any:
    if not v:
        return None
    ((kind, x),) = v.items()
    if kind == "array_value":
        return PSlice(_value(e) for e in x["values"])
    if kind == "kvlist_value":
        return _attributes(x["values"])
    if kind == "string_value_strindex":
        raise OtlpFormatError("an AnyValue with string_value_strindex (a profiles-only field) "
                              "outside a profile")
    return x


def attributes_from_otlp(items: list) -> PMap:
    """OTLP/JSON-shaped KeyValues (snake_case) as the evaluator's map: each key once, at its
    first position, with its last value."""
    return _attributes(items)


def _attributes(items: list) -> PMap:
    m = PMap()
    for kv in items:
        m[kv["key"]] = _value(kv.get("value"))
    return m


def _id(raw: Optional[bytes], size: int, what: str) -> bytes:
    if not raw:
        return b"\x00" * size
    if len(raw) != size:
        raise OtlpFormatError(f"{what}: an id of {len(raw)} bytes where {size} are required")
    return raw


def _resource(r: Optional[dict]) -> Resource:
    if r is None:  # no resource message on the wire: the same as an empty one
        return Resource()
    return Resource(_attributes(r["attributes"]), r["dropped_attributes_count"])


def _scope(s: Optional[dict]) -> Scope:
    if s is None:
        return Scope()
    return Scope(s["name"], s["version"], _attributes(s["attributes"]),
                 s["dropped_attributes_count"])


def _span(s: dict, row: int) -> Span:
    where = f"span {row}"
    status = s.get("status") or {}
    span = Span(
        trace_id=TraceID(_id(s.get("trace_id"), 16, where + " trace_id")),
        span_id=SpanID(_id(s.get("span_id"), 8, where + " span_id")),
        trace_state=s["trace_state"],
        parent_span_id=SpanID(_id(s.get("parent_span_id"), 8, where + " parent_span_id")),
        flags=s["flags"],
        name=s["name"],
        kind=s["kind"],
        start_time_unix_nano=s["start_time_unix_nano"],
        end_time_unix_nano=s["end_time_unix_nano"],
        attributes=_attributes(s["attributes"]),
        dropped_attributes_count=s["dropped_attributes_count"],
        events=_events(s["events"]),
        dropped_events_count=s["dropped_events_count"],
        links=[SpanLink(TraceID(_id(x.get("trace_id"), 16, where + " link trace_id")),
                        SpanID(_id(x.get("span_id"), 8, where + " link span_id")),
                        x["trace_state"], _attributes(x["attributes"]),
                        x["dropped_attributes_count"], x["flags"]) for x in s["links"]],
        dropped_links_count=s["dropped_links_count"],
        status=Status(status.get("code", 0), status.get("message", "")),
    )
    setattr(span, ROW_ATTRIBUTE, row)
    return span


def _events(events: list[dict]) -> list[SpanEvent]:
    return [SpanEvent(e["time_unix_nano"], e["name"], _attributes(e["attributes"]),
                      e["dropped_attributes_count"]) for e in events]


def _log(x: dict, row: int) -> LogRecord:
    where = f"log record {row}"
    rec = LogRecord(
        time_unix_nano=x["time_unix_nano"],
        observed_time_unix_nano=x["observed_time_unix_nano"],
        severity_number=x["severity_number"],
        severity_text=x["severity_text"],
        body=_value(x["body"]) if "body" in x else None,
        attributes=_attributes(x["attributes"]),
        dropped_attributes_count=x["dropped_attributes_count"],
        flags=x["flags"],
        trace_id=TraceID(_id(x.get("trace_id"), 16, where + " trace_id")),
        span_id=SpanID(_id(x.get("span_id"), 8, where + " span_id")),
        event_name=x["event_name"],
    )
    setattr(rec, ROW_ATTRIBUTE, row)
    return rec
