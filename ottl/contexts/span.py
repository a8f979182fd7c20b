"""The span context (prefix ``span``): one ``ptrace.Span`` with its scope and resource.

Reference: opentelemetry-collector-contrib ``pkg/ottl/contexts/internal/ctxspan/span.go`` (the
path switch) and the ``ctxspan`` SymbolTable (the enums); the wrapper ``ottlspan/span.go`` adds
``cache`` and routes ``resource.``/``scope.``/``instrumentation_scope.`` to the parents.
"""

from __future__ import annotations

from .spec import ContextSpec, PathSpec
from .spec import ValueType as T


def _p(name: str, type_: T, settable: bool = True, **kw) -> PathSpec:
    return PathSpec(tuple(name.split(".")), type_, settable, **kw)


# SpanKind and StatusCode values as pdata numbers them (ptrace.SpanKind*, ptrace.StatusCode*).
SPAN_ENUMS: dict[str, int] = {
    "SPAN_KIND_UNSPECIFIED": 0,
    "SPAN_KIND_INTERNAL": 1,
    "SPAN_KIND_SERVER": 2,
    "SPAN_KIND_CLIENT": 3,
    "SPAN_KIND_PRODUCER": 4,
    "SPAN_KIND_CONSUMER": 5,
    "STATUS_CODE_UNSET": 0,
    "STATUS_CODE_OK": 1,
    "STATUS_CODE_ERROR": 2,
}

# Words accepted and produced by ``kind.string`` and ``kind.deprecated_string``, by kind number.
KIND_STRINGS: tuple[str, ...] = ("Unspecified", "Internal", "Server", "Client", "Producer", "Consumer")
KIND_DEPRECATED_STRINGS: tuple[str, ...] = tuple(
    "SPAN_KIND_" + s.upper() for s in KIND_STRINGS
)

CONTEXT = ContextSpec(
    name="span",
    parents=("resource", "scope"),
    signals=("traces",),
    enums=SPAN_ENUMS,
    paths=(
        _p("trace_id", T.TRACE_ID, doc="16-byte trace id; set takes a TraceID value"),
        _p("trace_id.string", T.STRING, doc="32 lowercase hex digits; set parses hex (bad hex is an error)"),
        _p("span_id", T.SPAN_ID, doc="8-byte span id; set takes a SpanID value"),
        _p("span_id.string", T.STRING, doc="16 lowercase hex digits; set parses hex"),
        _p("parent_span_id", T.SPAN_ID, doc="all zeros when the span is a root"),
        _p("parent_span_id.string", T.STRING, doc="hex form of parent_span_id"),
        _p(
            "trace_state",
            T.STRING,
            keys=True,
            key_limit=1,
            key_type=T.STRING,
            doc="W3C tracestate header; one key reads/inserts a member (nil if absent)",
        ),
        _p("name", T.STRING, doc="span name"),
        _p("kind", T.INT, doc="0-5, SPAN_KIND_* enums"),
        _p("kind.string", T.STRING, doc="Unspecified, Internal, Server, Client, Producer, Consumer"),
        _p("kind.deprecated_string", T.STRING, doc="SPAN_KIND_UNSPECIFIED ... SPAN_KIND_CONSUMER"),
        _p("start_time_unix_nano", T.INT, doc="nanoseconds since the epoch"),
        _p("end_time_unix_nano", T.INT, doc="nanoseconds since the epoch"),
        _p("start_time", T.TIME, doc="time value (UTC); set takes a time"),
        _p("end_time", T.TIME, doc="time value (UTC); set takes a time"),
        _p("attributes", T.MAP, keys=True, doc="span attributes; keys index nested maps/slices"),
        _p("dropped_attributes_count", T.INT),
        _p("events", T.SLICE, doc="ptrace.SpanEventSlice; read or replace whole, no keys"),
        _p("dropped_events_count", T.INT),
        _p("links", T.SLICE, doc="ptrace.SpanLinkSlice; read or replace whole, no keys"),
        _p("dropped_links_count", T.INT),
        _p("status", T.OBJECT, doc="ptrace.Status; set takes a whole Status"),
        _p("status.code", T.INT, doc="0 UNSET, 1 OK, 2 ERROR (STATUS_CODE_* enums)"),
        _p("status.message", T.STRING),
        _p("cache", T.MAP, keys=True, doc="per-record scratch map, only in this context"),
    ),
)
