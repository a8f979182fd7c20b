"""The resource context (prefix ``resource``): a ``pcommon.Resource`` and the ResourceSpans /
ResourceMetrics / ResourceLogs that holds it (for ``schema_url``).

Reference: ``pkg/ottl/contexts/internal/ctxresource/resource.go``; the wrapper
``ottlresource/resource.go`` adds ``cache`` and registers no enums.
"""

from __future__ import annotations

from .spec import ContextSpec, PathSpec
from .spec import ValueType as T


def _p(name: str, type_: T, settable: bool = True, **kw) -> PathSpec:
    return PathSpec(tuple(name.split(".")), type_, settable, **kw)


CONTEXT = ContextSpec(
    name="resource",
    parents=(),
    signals=("traces", "metrics", "logs"),
    enums={},
    paths=(
        _p("attributes", T.MAP, keys=True, doc="resource attributes; keys index nested maps/slices"),
        _p("dropped_attributes_count", T.INT),
        _p("schema_url", T.STRING, doc="schema URL of the Resource* wrapper"),
        _p("cache", T.MAP, keys=True, doc="per-record scratch map, only in this context"),
    ),
)
