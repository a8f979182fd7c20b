"""The front end in one call: text to resolved tree, for single statements and config groups.

``resolve_statement(text, context)`` and ``resolve_condition(text, context)`` parse and resolve
one piece of OTTL, raising ``OttlSyntaxError`` or ``OttlCompileError``. ``check_group`` runs a
config group (``ottl.config.Group``) the way the processors do: parse everything, infer the
context when the group names none, resolve, and report every error rather than the first.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence, Union

from ottl import contexts as ctxs
from ottl import limits
from ottl.config import SIGNAL_CONTEXTS, Group
from ottl.lang import ast
from ottl.lang.errors import OttlCompileError, OttlError
from ottl.lang.parser import parse_condition, parse_statement
from ottl.resolved import RCondition, RStatement
from ottl.resolver import Options, Resolver, infer_context

# Every context, in inference priority order (aliases folded into their canonical name).
ALL_CONTEXTS: tuple[str, ...] = tuple(
    dict.fromkeys(
        spec.name
        for spec in (ctxs.context_for_prefix(n) for n in ctxs.INFERENCE_PRIORITY)
        if spec is not None
    )
)


def resolve_statement(
    text: str, context: Optional[str] = None, options: Optional[Options] = None
) -> RStatement:
    """Parse and resolve one statement; with no context, infer it from the path prefixes."""
    node = parse_statement(text)
    name = context or _infer_one(node, text, ALL_CONTEXTS, options)
    return Resolver(name, options).statement(node, text)


def resolve_condition(
    text: str, context: Optional[str] = None, options: Optional[Options] = None
) -> RCondition:
    """Parse and resolve one condition; with no context, infer it from the path prefixes."""
    node = parse_condition(text)
    name = context or _infer_one(node, text, ALL_CONTEXTS, options)
    return Resolver(name, options).condition(node, text)


def _infer_one(
    node: ast.TopLevel, text: str, candidates: Sequence[str], options: Optional[Options]
) -> str:
    gates = options.gates if options else frozenset()
    try:
        return infer_context([node], candidates, gates)
    except ValueError as exc:
        raise OttlCompileError(str(exc), text, node.span) from None


@dataclass
class Checked:
    """One statement or condition of a group, with what became of it."""

    text: str
    role: str  # "statement", "condition" or "group condition"
    tree: Optional[ast.TopLevel] = None
    resolved: Optional[Union[RStatement, RCondition]] = None
    # With ``build``: the evaluator's compiled Statement or Condition.
    compiled: Optional[object] = None
    error: Optional[OttlError] = None


@dataclass
class GroupResult:
    group: Group
    context: Optional[str]
    items: list[Checked]
    error: Optional[str] = None  # a problem of the whole group (inference, too many statements)

    @property
    def ok(self) -> bool:
        return self.error is None and all(i.error is None for i in self.items)


# The contexts the reference evaluator runs (metric and datapoint only resolve, for now).
EVALUATED_CONTEXTS = frozenset({"resource", "scope", "span", "spanevent", "log"})


def check_group(
    group: Group, options: Optional[Options] = None, build: bool = False
) -> GroupResult:
    """Parse, infer and resolve a group; with ``build``, also build every function as the
    collector does at startup (a bad XPath or an unknown locale fails here)."""
    parse = parse_statement if group.kind == "statements" else parse_condition
    role = group.kind[:-1]
    items = [Checked(t, role) for t in group.texts]
    items += [Checked(t, "group condition") for t in group.conditions]
    limit = limits.DEFAULT_MAX_STATEMENTS
    if len(items) > limit:
        return GroupResult(
            group, None, items, f"{len(items)} statements and conditions exceed max_statements ({limit})"
        )
    for index, item in enumerate(items):
        try:
            item.tree = (parse if item.role != "group condition" else parse_condition)(item.text)
        except OttlError as exc:
            item.error = _locate(exc, group, item, index)
    parsed = [i for i in items if i.tree is not None]
    context = group.context
    if context is None:
        if not parsed:
            return GroupResult(group, None, items)
        try:
            gates = options.gates if options else frozenset()
            context = infer_context(
                [i.tree for i in parsed if i.tree is not None], SIGNAL_CONTEXTS[group.signal], gates
            )
        except ValueError as exc:
            return GroupResult(group, None, items, str(exc))
    resolver = Resolver(context, options)
    for index, item in enumerate(items):
        if item.tree is None:
            continue
        try:
            if isinstance(item.tree, ast.Statement):
                item.resolved = resolver.statement(item.tree, item.text)
            else:
                assert isinstance(item.tree, ast.Condition)
                item.resolved = resolver.condition(item.tree, item.text)
            if build and context in EVALUATED_CONTEXTS:
                item.compiled = _build(item.resolved, options)
        except OttlError as exc:
            item.error = _locate(exc, group, item, index)
    return GroupResult(group, context, items)


def _locate(exc: OttlError, group: Group, item: Checked, index: int) -> OttlError:
    line = getattr(item.text, "line", 0)
    where = group.where + (f" (line {line})" if line else "")
    return exc.located(source=where, statement_index=index)


def _build(resolved: Union[RStatement, RCondition], options: Optional[Options]) -> object:
    from ottl.eval.interpreter import compile_condition, compile_statement

    gates = options.gates if options else frozenset()
    if isinstance(resolved, RStatement):
        return compile_statement(resolved, gates)
    return compile_condition(resolved, gates)
