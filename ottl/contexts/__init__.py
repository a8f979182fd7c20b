"""The OTTL contexts: their path tables, how prefixes reach parent contexts, and inference order.

Each record context (``span``, ``spanevent``, ``log``, ``metric``, ``datapoint``) and the two
shared ones (``resource``, ``scope``) is a :class:`ContextSpec` in its own module. This package
ties them together the way the reference (opentelemetry-collector-contrib ``pkg/ottl``) does:

* A path may start with a context name: ``span.name``, ``resource.attributes["k"]``. The name must
  be the statement's context or one it reaches (``reachable``). ``instrumentation_scope`` is the
  legacy spelling of ``scope``.
* Without a prefix (legacy form) the path belongs to the statement's context, except that a first
  segment naming a reachable context routes there (``resource.attributes`` in a span statement);
  this mirrors ``ctxcommon.PathExpressionParser`` in the reference.
* ``cache`` is only reachable on the statement's own context: ``resource.cache`` from a span
  statement is an error in the reference, even though the resource context has its own ``cache``.
* ``INFERENCE_PRIORITY`` and ``infer_context`` follow ``pkg/ottl/context_inferrer.go``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path as _FsPath
from typing import Callable, Iterable, Mapping, Optional

from . import datapoint, log, metric, resource, scope, span, spanevent
from .spec import ContextSpec, PathSpec, ValueType

__all__ = [
    "CONTEXTS",
    "INFERENCE_PRIORITY",
    "ContextPathError",
    "ContextSpec",
    "PathSpec",
    "ResolvedPath",
    "ValueType",
    "canonical_name",
    "context_for_prefix",
    "infer_context",
    "lookup_path",
    "lower_contexts",
    "reachable",
    "render_markdown",
    "resolve_path",
    "split_prefix",
    "write_markdown",
]

# Canonical name -> spec. The order is the one the generated docs use.
CONTEXTS: dict[str, ContextSpec] = {
    c.name: c
    for c in (
        resource.CONTEXT,
        scope.CONTEXT,
        span.CONTEXT,
        spanevent.CONTEXT,
        log.CONTEXT,
        metric.CONTEXT,
        datapoint.CONTEXT,
    )
}

_BY_PREFIX: dict[str, str] = {}
for _c in CONTEXTS.values():
    _BY_PREFIX[_c.name] = _c.name
    for _a in _c.aliases:
        _BY_PREFIX[_a] = _c.name

# pkg/ottl/context_inferrer.go defaultContextInferPriority: the first entry wins. Both spellings of
# the scope context are listed, as in the reference; a name not listed ranks after all of these.
INFERENCE_PRIORITY: tuple[str, ...] = (
    "log",
    "datapoint",
    "metric",
    "spanevent",
    "span",
    "resource",
    "scope",
    "instrumentation_scope",
)


class ContextPathError(LookupError):
    """A path that its statement's context cannot resolve (the message says why)."""


@dataclass(frozen=True)
class ResolvedPath:
    """Where a path landed: the context whose table matched (canonical name), the matching
    PathSpec, how many of the given segments were used (a prefix included), and the segments left
    over (non-empty means the path has sections the context does not know: a compile error)."""

    context: str
    spec: PathSpec
    consumed: int
    remaining: tuple[str, ...] = ()


def canonical_name(prefix: str) -> Optional[str]:
    """The canonical context name for a name or alias (``instrumentation_scope`` -> ``scope``)."""
    return _BY_PREFIX.get(prefix)


def context_for_prefix(prefix: str) -> Optional[ContextSpec]:
    """The context a prefix names (aliases included), or None."""
    name = _BY_PREFIX.get(prefix)
    return CONTEXTS[name] if name is not None else None


def _spec(ctx_name: str) -> ContextSpec:
    spec = context_for_prefix(ctx_name)
    if spec is None:
        raise KeyError(f"unknown OTTL context {ctx_name!r}")
    return spec


def reachable(ctx_name: str) -> tuple[str, ...]:
    """The context itself, then every context reachable through ``parents``, transitively (each
    once, canonical names, breadth first)."""
    start = _spec(ctx_name).name
    seen = [start]
    queue = [start]
    while queue:
        for parent in CONTEXTS[queue.pop(0)].parents:
            if parent not in seen:
                seen.append(parent)
                queue.append(parent)
    return tuple(seen)


def split_prefix(ctx_name: str, first_segment: str) -> Optional[str]:
    """If ``first_segment`` names a context (or alias) reachable from ``ctx_name``, including
    ``ctx_name`` itself, that context's canonical name; otherwise None."""
    target = _BY_PREFIX.get(first_segment)
    if target is None:
        return None
    return target if target in reachable(ctx_name) else None


def lookup_path(ctx: ContextSpec, segments: tuple[str, ...]) -> Optional[tuple[PathSpec, int]]:
    """The longest PathSpec of ``ctx`` (its own table only) that is a prefix of ``segments``, and
    how many segments it used; None when not even the first segment is a path of ``ctx``."""
    segments = tuple(segments)
    best: Optional[PathSpec] = None
    for p in ctx.paths:
        n = len(p.segments)
        if n <= len(segments) and segments[:n] == p.segments:
            if best is None or n > len(best.segments):
                best = p
    if best is None:
        return None
    return best, len(best.segments)


def resolve_path(
    ctx_name: str, segments: Iterable[str], *, prefix: Optional[str] = None
) -> ResolvedPath:
    """Resolve a path for a statement parsed in ``ctx_name``.

    ``prefix`` is the context prefix when the parser has already split it off (prefixed form);
    otherwise the segments are taken as written (legacy form) and a first segment naming a
    reachable context routes to it. Raises ContextPathError for an unreachable or unknown context,
    a bare context name with no field, ``cache`` of another context, or an unknown field.
    """
    own = _spec(ctx_name).name
    segs = tuple(segments)
    used = 0
    if prefix is not None:
        target = _BY_PREFIX.get(prefix)
        if target is None:
            raise ContextPathError(f'unknown context "{prefix}" in a {own} statement')
        if target not in reachable(own):
            raise ContextPathError(
                f'context "{prefix}" is not reachable from the {own} context '
                f"(valid: {', '.join(_prefixes_of(own))})"
            )
    else:
        target = split_prefix(own, segs[0]) if segs else None
        if target is not None:
            prefix = segs[0]
            segs = segs[1:]
            used = 1
        else:
            target = own
    if not segs:
        raise ContextPathError(f'"{prefix or own}" names a context, not a path: add a field')
    if segs[0] == "cache" and target != own:
        raise ContextPathError(
            f'"{prefix}.cache" is not accessible in a {own} statement: '
            f'only the statement\'s own cache ("{own}.cache" or "cache") can be used'
        )
    found = lookup_path(CONTEXTS[target], segs)
    if found is None:
        raise ContextPathError(f'"{segs[0]}" is not a valid path of the {target} context')
    spec, n = found
    return ResolvedPath(target, spec, used + n, segs[n:])


def _prefixes_of(ctx_name: str) -> list[str]:
    names = set(reachable(ctx_name))
    return [p for p, c in _BY_PREFIX.items() if c in names]


def lower_contexts(ctx_name: str, candidates: Optional[Iterable[str]] = None) -> tuple[str, ...]:
    """The contexts (among ``candidates``, default all) that reach ``ctx_name`` through their
    prefixes, excluding ``ctx_name`` itself, best inference priority first. The reference's
    fallback when the preferred context lacks a function or enum."""
    target = _spec(ctx_name).name
    pool = [_spec(c).name for c in (candidates if candidates is not None else CONTEXTS)]
    lower = [c for c in dict.fromkeys(pool) if c != target and target in reachable(c)]
    return tuple(sorted(lower, key=_priority))


def _priority(name: str) -> float:
    try:
        return INFERENCE_PRIORITY.index(name)
    except ValueError:
        return math.inf


def infer_context(
    path_contexts: Iterable[str],
    *,
    functions: Iterable[str] = (),
    enums: Iterable[str] = (),
    has_function: Optional[Callable[[str, str], bool]] = None,
    candidates: Optional[Iterable[str]] = None,
) -> Optional[str]:
    """Pick a context for a group of statements or conditions the way the reference does.

    ``path_contexts``: the context prefix of every path in the group, in order of appearance.
    The one with the best ``INFERENCE_PRIORITY`` wins (ties: the first seen; unlisted names rank
    last). With no functions and no enums to check it is returned as is (canonical name for a
    known context, the raw string otherwise, as the reference does). Otherwise it must be one of
    ``candidates`` (default: all contexts), know every function (``has_function(ctx, name)``; None
    means every context knows every function) and every enum symbol; if not, the first of its
    ``lower_contexts`` that does is taken. None when nothing qualifies or there is no path.
    """
    best: Optional[str] = None
    best_rank = math.inf
    for c in path_contexts:
        rank = _priority(c)
        if best is None or rank < best_rank:
            best, best_rank = c, rank
    if best is None:
        return None
    funcs = tuple(dict.fromkeys(functions))
    syms = tuple(dict.fromkeys(enums))
    chosen = canonical_name(best) or best
    if not funcs and not syms:
        return chosen
    pool = {canonical_name(c) or c for c in (candidates if candidates is not None else CONTEXTS)}

    def ok(name: str) -> bool:
        if name not in pool or name not in CONTEXTS:
            return False
        if has_function is not None and not all(has_function(name, f) for f in funcs):
            return False
        return all(s in CONTEXTS[name].enums for s in syms)

    if ok(chosen):
        return chosen
    if chosen not in CONTEXTS:
        return None
    for lower in lower_contexts(chosen, [c for c in pool if c in CONTEXTS]):
        if ok(lower):
            return lower
    return None


# --- documentation -------------------------------------------------------------------------

DOCS_PATH = _FsPath(__file__).resolve().parents[2] / "docs" / "contexts.md"


def _keys_cell(p: PathSpec) -> str:
    if not p.keys:
        return "no"
    if p.key_limit is None:
        return "yes"
    return f"exactly {p.key_limit} ({p.key_type.value})"


def _enum_rows(enums: Mapping[str, int]) -> list[str]:
    return [f"| `{k}` | {v} |" for k, v in enums.items()]


def render_markdown() -> str:
    """The text of ``docs/contexts.md``: one section per context, from the specs."""
    out = [
        "# OTTL contexts",
        "",
        "Generated by `ottl.contexts.render_markdown()`; a test checks this file matches it.",
        "Reference: opentelemetry-collector-contrib `pkg/ottl/contexts` (the `internal/ctx*`",
        "path tables and the `ottl*` wrappers).",
        "",
        "A path may start with a context prefix (`span.name`). Without one it belongs to the",
        "statement's context, except that a first segment naming a reachable context routes",
        "there (`resource.attributes[\"k\"]` in a span statement). `cache` is only reachable on the",
        "statement's own context. With keys, a path yields any value unless the keys column says",
        "otherwise.",
        "",
        "Context inference priority (first wins): "
        + ", ".join(f"`{c}`" for c in INFERENCE_PRIORITY)
        + ". If the chosen context lacks a function or enum used in the group, the first",
        "context that reaches it (by the same priority) and has them all is used instead.",
        "",
    ]
    for ctx in CONTEXTS.values():
        out.append(f"## `{ctx.name}`")
        out.append("")
        facts = [f"- Prefix: `{ctx.name}`"]
        if ctx.aliases:
            facts[0] += " (also " + ", ".join(f"`{a}`" for a in ctx.aliases) + ")"
        parents = ", ".join(f"`{p}`" for p in ctx.parents) or "none"
        facts.append(f"- Reaches: {parents}")
        facts.append(f"- Signals: {', '.join(ctx.signals)}")
        out.extend(facts)
        out.append("")
        out.append("| Path | Type | Settable | Keys | Note |")
        out.append("|---|---|---|---|---|")
        for p in ctx.paths:
            note = p.doc.replace("|", "\\|")
            out.append(
                f"| `{p.name}` | {p.type.value} | {'yes' if p.settable else 'no'} "
                f"| {_keys_cell(p)} | {note} |"
            )
        out.append("")
        if ctx.enums:
            out.append("| Enum | Value |")
            out.append("|---|---|")
            out.extend(_enum_rows(ctx.enums))
        else:
            out.append("No enums.")
        out.append("")
    return "\n".join(out)


def write_markdown(path: Optional[str] = None) -> str:
    """Regenerate ``docs/contexts.md`` (or ``path``); returns the path written."""
    target = _FsPath(path) if path is not None else DOCS_PATH
    target.write_text(render_markdown(), encoding="utf-8")
    return str(target)
