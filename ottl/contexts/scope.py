"""The instrumentation scope context (prefix ``scope``, legacy ``instrumentation_scope``).

Reference: ``pkg/ottl/contexts/internal/ctxscope/scope.go`` and ``ctxscope/context.go`` (Name
"scope", LegacyName "instrumentation_scope"); the wrapper ``ottlscope/scope.go`` adds ``cache``,
reaches ``resource.`` and registers no enums.
"""

from __future__ import annotations

from .spec import ContextSpec, PathSpec
from .spec import ValueType as T


def _p(name: str, type_: T, settable: bool = True, **kw) -> PathSpec:
    return PathSpec(tuple(name.split(".")), type_, settable, **kw)


CONTEXT = ContextSpec(
    name="scope",
    aliases=("instrumentation_scope",),
    parents=("resource",),
    signals=("traces", "metrics", "logs"),
    enums={},
    paths=(
        _p("name", T.STRING, doc="scope name"),
        _p("version", T.STRING, doc="scope version"),
        _p("attributes", T.MAP, keys=True, doc="scope attributes; keys index nested maps/slices"),
        _p("dropped_attributes_count", T.INT),
        _p("schema_url", T.STRING, doc="schema URL of the Scope* wrapper"),
        _p("cache", T.MAP, keys=True, doc="per-record scratch map, only in this context"),
    ),
)
