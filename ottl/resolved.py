"""The resolved tree: the AST bound to one context and to the function registry.

The resolver (``ottl.resolver``) produces it; the reference evaluator and the compiler consume it.
Each path names the context whose table holds it and its ``PathSpec``; each call names its
``FunctionSpec`` with one argument slot per parameter (``None`` for an omitted optional); enum
symbols carry their numbers. Spans point back into the statement text.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Union

from ottl.contexts.spec import PathSpec, ValueType
from ottl.functions.spec import FunctionSpec, Param
from ottl.lang.ast import Span


@dataclass(frozen=True)
class RLiteral:
    """A constant: None, bool, int, float, str or bytes."""

    value: object
    span: Span


@dataclass(frozen=True)
class REnum:
    name: str
    value: int
    span: Span


@dataclass(frozen=True)
class RList:
    items: tuple["RValue", ...]
    span: Span


@dataclass(frozen=True)
class RMap:
    items: tuple[tuple[str, "RValue"], ...]
    span: Span


@dataclass(frozen=True)
class RPath:
    """A path of ``context`` (the statement's own context or a parent it reaches)."""

    context: str
    spec: PathSpec
    keys: tuple["RValue", ...]
    span: Span

    @property
    def type(self) -> ValueType:
        return self.spec.key_type if self.keys else self.spec.type

    def text(self) -> str:
        return f"{self.context}.{self.spec.name}" + "".join(_key_text(k) for k in self.keys)


@dataclass(frozen=True)
class RFunctionRef:
    """A converter passed by name (``SHA256`` in ``replace_pattern``)."""

    spec: FunctionSpec
    span: Span


@dataclass(frozen=True)
class RArg:
    param: Param
    value: "RValue"
    span: Span


@dataclass(frozen=True)
class RCall:
    spec: FunctionSpec
    args: tuple[Optional[RArg], ...]  # aligned with spec.params
    keys: tuple["RValue", ...]
    span: Span


@dataclass(frozen=True)
class RLambdaParam:
    """A reference to a parameter of an enclosing lambda, with keys into its value."""

    name: str
    keys: tuple["RValue", ...]
    span: Span


@dataclass(frozen=True)
class RLambda:
    """A lambda argument: its parameter names (``_`` unbound) and its resolved body."""

    params: tuple[str, ...]
    body: Union["RValue", "RBool"]
    span: Span


@dataclass(frozen=True)
class RNeg:
    operand: "RValue"
    span: Span


@dataclass(frozen=True)
class RMath:
    op: str
    left: "RValue"
    right: "RValue"
    span: Span


RValue = Union[
    RLiteral, REnum, RList, RMap, RPath, RFunctionRef, RCall, RNeg, RMath, RLambda, RLambdaParam
]


@dataclass(frozen=True)
class RCompare:
    op: str
    left: RValue
    right: RValue
    span: Span


@dataclass(frozen=True)
class RNot:
    operand: "RBool"
    span: Span


@dataclass(frozen=True)
class RAnd:
    left: "RBool"
    right: "RBool"
    span: Span


@dataclass(frozen=True)
class ROr:
    left: "RBool"
    right: "RBool"
    span: Span


@dataclass(frozen=True)
class RBoolConst:
    value: bool
    span: Span


# A converter call used as a boolean term is an RCall.
RBool = Union[RCompare, RNot, RAnd, ROr, RBoolConst, RCall]


@dataclass(frozen=True)
class RStatement:
    context: str
    editor: RCall
    where: Optional[RBool]
    text: str


@dataclass(frozen=True)
class RCondition:
    context: str
    expr: RBool
    text: str


def _key_text(key: RValue) -> str:
    if isinstance(key, RLiteral) and isinstance(key.value, str):
        return "[" + _quote(key.value) + "]"
    if isinstance(key, RLiteral):
        return f"[{key.value}]"
    return "[<expr>]"


def _quote(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def describe(node: object, indent: int = 0) -> str:
    """A readable outline of a resolved node, one line per node (for ``ottl check``)."""
    pad = "  " * indent
    lines: list[str] = []

    def add(text: str, *children: object) -> None:
        lines.append(pad + text)
        for child in children:
            if child is not None:
                lines.append(describe(child, indent + 1))

    if isinstance(node, RStatement):
        add(f"statement in context {node.context}", node.editor)
        if node.where is not None:
            lines.append(pad + "  where")
            lines.append(describe(node.where, indent + 2))
    elif isinstance(node, RCondition):
        add(f"condition in context {node.context}", node.expr)
    elif isinstance(node, RCall):
        sig = f"{node.spec.kind.value} {node.spec.name}"
        lines.append(pad + sig + (f" with {len(node.keys)} key(s)" if node.keys else ""))
        for param, arg in zip(node.spec.params, node.args):
            if arg is None:
                lines.append(f"{pad}  {param.name}: (omitted)")
            else:
                lines.append(f"{pad}  {param.name} [{param.kind.value}]:")
                lines.append(describe(arg.value, indent + 2))
        for key in node.keys:
            lines.append(f"{pad}  key:")
            lines.append(describe(key, indent + 2))
    elif isinstance(node, RPath):
        access = "settable" if node.spec.settable else "read-only"
        add(f"path {node.text()} : {node.type.value} ({access})")
        for key in node.keys:
            if not isinstance(key, RLiteral):
                lines.append(f"{pad}  key expression:")
                lines.append(describe(key, indent + 2))
    elif isinstance(node, RLiteral):
        add(f"literal {type(node.value).__name__ if node.value is not None else 'nil'} {node.value!r}")
    elif isinstance(node, REnum):
        add(f"enum {node.name} = {node.value}")
    elif isinstance(node, RList):
        add(f"list of {len(node.items)}", *node.items)
    elif isinstance(node, RMap):
        lines.append(pad + f"map of {len(node.items)}")
        for key, value in node.items:
            lines.append(f"{pad}  {_quote(key)}:")
            lines.append(describe(value, indent + 2))
    elif isinstance(node, RFunctionRef):
        add(f"function {node.spec.name}")
    elif isinstance(node, RLambda):
        add(f"lambda ({', '.join(node.params)})", node.body)
    elif isinstance(node, RLambdaParam):
        add(f"lambda parameter {node.name}" + (f" with {len(node.keys)} key(s)" if node.keys else ""))
    elif isinstance(node, RNeg):
        add("negate", node.operand)
    elif isinstance(node, RMath):
        add(f"math {node.op}", node.left, node.right)
    elif isinstance(node, RCompare):
        add(f"compare {node.op}", node.left, node.right)
    elif isinstance(node, RNot):
        add("not", node.operand)
    elif isinstance(node, RAnd):
        add("and", node.left, node.right)
    elif isinstance(node, ROr):
        add("or", node.left, node.right)
    elif isinstance(node, RBoolConst):
        add(f"bool {str(node.value).lower()}")
    else:  # pragma: no cover - every node type is listed above
        raise TypeError(f"not a resolved node: {node!r}")
    return "\n".join(lines)
