"""The log context (prefix ``log``): one ``plog.LogRecord`` with its scope and resource.

Reference: ``pkg/ottl/contexts/internal/ctxlog/log.go`` (the path switch) and the wrapper
``ottllog/log.go`` (``cache``, parents, and the SEVERITY_NUMBER_* table).
"""

from __future__ import annotations

from .spec import ContextSpec, PathSpec
from .spec import ValueType as T


def _p(name: str, type_: T, settable: bool = True, **kw) -> PathSpec:
    return PathSpec(tuple(name.split(".")), type_, settable, **kw)


def _severity_enums() -> dict[str, int]:
    table = {"SEVERITY_NUMBER_UNSPECIFIED": 0}
    for band, level in enumerate(("TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL")):
        base = 1 + 4 * band
        table[f"SEVERITY_NUMBER_{level}"] = base
        for step in (2, 3, 4):
            table[f"SEVERITY_NUMBER_{level}{step}"] = base + step - 1
    return table


# plog.SeverityNumber values: UNSPECIFIED 0, TRACE 1..TRACE4 4, ..., FATAL 21..FATAL4 24.
SEVERITY_ENUMS: dict[str, int] = _severity_enums()

CONTEXT = ContextSpec(
    name="log",
    parents=("resource", "scope"),
    signals=("logs",),
    enums=SEVERITY_ENUMS,
    paths=(
        _p("time_unix_nano", T.INT, doc="nanoseconds since the epoch"),
        _p("observed_time_unix_nano", T.INT, doc="nanoseconds since the epoch"),
        _p("time", T.TIME, doc="time value (UTC)"),
        _p("observed_time", T.TIME, doc="time value (UTC)"),
        _p("severity_number", T.INT, doc="0-24, SEVERITY_NUMBER_* enums"),
        _p("severity_text", T.STRING),
        _p(
            "body",
            T.ANY,
            keys=True,
            doc="any value; keys only when the body is a map or slice (else a runtime error)",
        ),
        _p("body.string", T.STRING, doc="body rendered as a string; set writes a string body"),
        _p("attributes", T.MAP, keys=True, doc="log attributes; keys index nested maps/slices"),
        _p("dropped_attributes_count", T.INT),
        _p("flags", T.INT, doc="log record flags"),
        _p("trace_id", T.TRACE_ID, doc="16-byte trace id"),
        _p("trace_id.string", T.STRING, doc="32 lowercase hex digits"),
        _p("span_id", T.SPAN_ID, doc="8-byte span id"),
        _p("span_id.string", T.STRING, doc="16 lowercase hex digits"),
        _p("event_name", T.STRING, doc="event name of the record"),
        _p("cache", T.MAP, keys=True, doc="per-record scratch map, only in this context"),
    ),
)
