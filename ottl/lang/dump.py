"""A stable, indented outline of an AST, for golden files and ``ottl check``.

One node per line: its class, then what identifies it (a name, an operator, a literal in its
canonical text), then its span as ``@start..end``. Children follow, indented by two spaces and
labelled with the field they come from::

    Statement @0..30
      editor: Call set (editor) @0..30
        arg: Path span.attributes["k"] @4..24
          field: span @4..8
          field: attributes @9..24
            key: StringLit "k" @20..23
        arg: StringLit "v" @26..29

A path's head shows its canonical text; its segments follow as ``field:`` lines with their keys
below them. Every field of every node appears, so two trees that differ (spans included) give
different outlines.
"""

from __future__ import annotations

from typing import Iterator, Union

from . import ast
from .printer import format_float, print_node, quote

Node = Union[ast.TopLevel, ast.Value, ast.BoolExpr, ast.Field]


def dump(node: Node, *, spans: bool = True) -> str:
    """The outline of ``node``; ``spans=False`` leaves the ``@start..end`` suffixes out."""
    return "\n".join(_lines(node, "", 0, spans))


def _lines(node: Node, label: str, indent: int, spans: bool) -> Iterator[str]:
    head, children = _describe(node)
    pad = "  " * indent
    where = f" @{node.span.start}..{node.span.end}" if spans else ""
    yield f"{pad}{label}{head}{where}"
    for child_label, child in children:
        yield from _lines(child, child_label, indent + 1, spans)


def _describe(node: Node) -> tuple[str, list[tuple[str, Node]]]:
    """The node's head text and its labelled children."""
    if isinstance(node, ast.Statement):
        children: list[tuple[str, Node]] = [("editor: ", node.editor)]
        if node.where is not None:
            children.append(("where: ", node.where))
        return "Statement", children
    if isinstance(node, ast.Condition):
        return "Condition", [("expr: ", node.expr)]
    if isinstance(node, ast.ValueExpression):
        return "ValueExpression", [("value: ", node.value)]
    if isinstance(node, ast.Call):
        kind = "editor" if node.is_editor else "converter"
        labelled: list[tuple[str, Node]] = [
            (f"arg {a.name}: " if a.name else "arg: ", a.value) for a in node.args
        ]
        labelled += [("key: ", k) for k in node.keys]
        return f"Call {node.name} ({kind})", labelled
    if isinstance(node, ast.Path):
        return f"Path {print_node(node)}", [("field: ", f) for f in node.fields]
    if isinstance(node, ast.Field):
        return node.name, [("key: ", k) for k in node.keys]
    if isinstance(node, ast.ListLit):
        return f"ListLit ({_count(len(node.items), 'item')})", [("item: ", v) for v in node.items]
    if isinstance(node, ast.MapLit):
        items: list[tuple[str, Node]] = [(f"item {quote(i.key)}: ", i.value) for i in node.items]
        return f"MapLit ({_count(len(node.items), 'item')})", items
    if isinstance(node, ast.Lambda):
        return f"Lambda ({', '.join(node.params)})", [("body: ", node.body)]
    if isinstance(node, ast.Neg):
        return "Neg", [("operand: ", node.operand)]
    if isinstance(node, ast.Not):
        return "Not", [("operand: ", node.operand)]
    if isinstance(node, (ast.BinaryMath, ast.Comparison)):
        return f"{type(node).__name__} {node.op}", [("left: ", node.left), ("right: ", node.right)]
    if isinstance(node, (ast.And, ast.Or)):
        return type(node).__name__, [("left: ", node.left), ("right: ", node.right)]
    return _leaf(node), []


def _leaf(node: Node) -> str:
    if isinstance(node, ast.NilLit):
        return "NilLit"
    if isinstance(node, ast.BoolLit):
        return f"BoolLit {'true' if node.value else 'false'}"
    if isinstance(node, ast.IntLit):
        return f"IntLit {node.value}"
    if isinstance(node, ast.FloatLit):
        return f"FloatLit {format_float(node.value)}"
    if isinstance(node, ast.StringLit):
        return f"StringLit {quote(node.value)}"
    if isinstance(node, ast.BytesLit):
        return f"BytesLit 0x{node.value.hex()}"
    if isinstance(node, ast.EnumSymbol):
        return f"EnumSymbol {node.name}"
    if isinstance(node, ast.FunctionName):
        return f"FunctionName {node.name}"
    raise TypeError(f"not an OTTL AST node: {type(node).__name__}")


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"
