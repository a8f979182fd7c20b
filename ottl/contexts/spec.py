"""How a context is described: its paths (with types and whether they can be set), the contexts it
can reach through a prefix, and the enum symbols it knows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Mapping, Optional


class ValueType(str, Enum):
    """The type a path reads as, following the reference's Go getter types."""

    STRING = "string"
    INT = "int"
    FLOAT = "float"
    BOOL = "bool"
    BYTES = "bytes"
    MAP = "map"  # pcommon.Map
    SLICE = "slice"  # pcommon.Slice or a typed slice (events, links, data points, bucket counts)
    ANY = "any"  # an attribute value, a log body, a cache entry: any AnyValue
    TIME = "time"  # time.Time
    DURATION = "duration"
    TRACE_ID = "trace_id"  # pcommon.TraceID, [16]byte
    SPAN_ID = "span_id"  # pcommon.SpanID, [8]byte
    PROFILE_ID = "profile_id"
    OBJECT = "object"  # a structured pdata value with no scalar form (span status, resource)


@dataclass(frozen=True)
class PathSpec:
    """One path of a context, named by its segments without keys: ``("status", "code")``.

    ``keys``: whether ``[...]`` may follow the last segment (maps, slices, the cache, body,
    trace_state); ``key_limit``: the most keys allowed (trace_state takes exactly one), None for
    any depth. ``type`` is what the path yields without keys; with keys the value is ``ANY``
    (``key_type`` overrides that, e.g. ``trace_state["k"]`` is a string).
    """

    segments: tuple[str, ...]
    type: ValueType
    settable: bool
    keys: bool = False
    key_limit: Optional[int] = None
    key_type: ValueType = ValueType.ANY
    doc: str = ""

    @property
    def name(self) -> str:
        return ".".join(self.segments)


@dataclass(frozen=True)
class ContextSpec:
    """A context: its own paths, and which other contexts' paths it reaches by prefix.

    ``name`` is the canonical prefix (``span``); ``aliases`` other accepted prefixes
    (``instrumentation_scope`` for ``scope``). ``parents`` names the contexts whose paths are
    reachable with their prefix (a span reaches ``resource`` and ``scope``); a path of a parent
    context is resolved with the parent's own table. ``enums`` are the symbols valid here.
    """

    name: str
    paths: tuple[PathSpec, ...]
    parents: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    enums: Mapping[str, int] = field(default_factory=dict)
    # The telemetry signal(s) this context belongs to, for the processors' per-signal lists.
    signals: tuple[str, ...] = ()
