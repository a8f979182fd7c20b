"""The telemetry records the evaluator works on, shaped like OTLP (and its JSON form).

A payload is a list of ``ResourceSpans`` or ``ResourceLogs``; each holds its ``Resource``, its
schema URL and a list of ``ScopeSpans`` / ``ScopeLogs``, which hold the ``Scope`` and the records.
Attributes are ``PMap``s; a log body is a pdata value; ids are ``TraceID`` / ``SpanID``; times
are integer nanoseconds since the epoch. ``ottl.eval.otlp_json`` reads and writes the OTLP/JSON
form of these objects.

A ``TransformContext`` is what a statement sees: one record and its parents, plus the cache
(a ``PMap`` that lives for one record and one statement group).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional, Union

from ottl.eval.values import PMap, SpanID, TraceID


@dataclass
class Resource:
    attributes: PMap = field(default_factory=PMap)
    dropped_attributes_count: int = 0


@dataclass
class Scope:
    name: str = ""
    version: str = ""
    attributes: PMap = field(default_factory=PMap)
    dropped_attributes_count: int = 0


@dataclass
class Status:
    code: int = 0
    message: str = ""


@dataclass
class SpanEvent:
    time_unix_nano: int = 0
    name: str = ""
    attributes: PMap = field(default_factory=PMap)
    dropped_attributes_count: int = 0


@dataclass
class SpanLink:
    trace_id: TraceID = field(default_factory=TraceID)
    span_id: SpanID = field(default_factory=SpanID)
    trace_state: str = ""
    attributes: PMap = field(default_factory=PMap)
    dropped_attributes_count: int = 0
    flags: int = 0


@dataclass
class Span:
    trace_id: TraceID = field(default_factory=TraceID)
    span_id: SpanID = field(default_factory=SpanID)
    trace_state: str = ""
    parent_span_id: SpanID = field(default_factory=SpanID)
    flags: int = 0
    name: str = ""
    kind: int = 0
    start_time_unix_nano: int = 0
    end_time_unix_nano: int = 0
    attributes: PMap = field(default_factory=PMap)
    dropped_attributes_count: int = 0
    events: list[SpanEvent] = field(default_factory=list)
    dropped_events_count: int = 0
    links: list[SpanLink] = field(default_factory=list)
    dropped_links_count: int = 0
    status: Status = field(default_factory=Status)


@dataclass
class LogRecord:
    time_unix_nano: int = 0
    observed_time_unix_nano: int = 0
    severity_number: int = 0
    severity_text: str = ""
    body: Any = None  # a pdata value
    attributes: PMap = field(default_factory=PMap)
    dropped_attributes_count: int = 0
    flags: int = 0
    trace_id: TraceID = field(default_factory=TraceID)
    span_id: SpanID = field(default_factory=SpanID)
    event_name: str = ""


@dataclass
class ScopeSpans:
    scope: Scope = field(default_factory=Scope)
    spans: list[Span] = field(default_factory=list)
    schema_url: str = ""


@dataclass
class ResourceSpans:
    resource: Resource = field(default_factory=Resource)
    scope_spans: list[ScopeSpans] = field(default_factory=list)
    schema_url: str = ""


@dataclass
class ScopeLogs:
    scope: Scope = field(default_factory=Scope)
    log_records: list[LogRecord] = field(default_factory=list)
    schema_url: str = ""


@dataclass
class ResourceLogs:
    resource: Resource = field(default_factory=Resource)
    scope_logs: list[ScopeLogs] = field(default_factory=list)
    schema_url: str = ""


@dataclass
class TransformContext:
    """One record and its parents as a statement sees them.

    ``resource``/``scope`` hold the ResourceSpans/ResourceLogs and ScopeSpans/ScopeLogs wrappers
    (so ``resource.schema_url`` and ``scope.schema_url`` are reachable); ``span``, ``event`` and
    ``log`` are set for the contexts that have them; ``event_index`` is the event's position in
    its span. ``cache`` is this record's private map.
    """

    context: str
    resource: Union[ResourceSpans, ResourceLogs]
    scope: Optional[Union[ScopeSpans, ScopeLogs]] = None
    span: Optional[Span] = None
    event: Optional[SpanEvent] = None
    event_index: int = 0
    log: Optional[LogRecord] = None
    cache: PMap = field(default_factory=PMap)
