"""The span event context (prefix ``spanevent``): one ``ptrace.SpanEvent`` with its span, scope
and resource.

Reference: ``pkg/ottl/contexts/internal/ctxspanevent/span_events.go`` (the event's own fields) and
``ottlspanevent/span_events.go`` (adds ``cache`` and the read-only ``event_index``, routes
``span.``/``resource.``/``scope.``/``instrumentation_scope.``). Enums are the span table.
"""

from __future__ import annotations

from .span import SPAN_ENUMS
from .spec import ContextSpec, PathSpec
from .spec import ValueType as T


def _p(name: str, type_: T, settable: bool = True, **kw) -> PathSpec:
    return PathSpec(tuple(name.split(".")), type_, settable, **kw)


CONTEXT = ContextSpec(
    name="spanevent",
    parents=("span", "resource", "scope"),
    signals=("traces",),
    enums=SPAN_ENUMS,
    paths=(
        _p("time_unix_nano", T.INT, doc="nanoseconds since the epoch"),
        _p("time", T.TIME, doc="time value (UTC)"),
        _p("name", T.STRING, doc="event name"),
        _p("attributes", T.MAP, keys=True, doc="event attributes; keys index nested maps/slices"),
        _p("dropped_attributes_count", T.INT),
        _p(
            "event_index",
            T.INT,
            settable=False,
            doc="position of the event in its span; read-only, an error when the host did not set it",
        ),
        _p("cache", T.MAP, keys=True, doc="per-record scratch map, only in this context"),
    ),
)
