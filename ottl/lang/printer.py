"""The canonical printer: any AST node back to OTTL text.

``print_node`` writes the fewest parentheses the tree's shape needs, so that parsing the output
gives the same tree (spans aside): ``parse(print(tree)) == tree`` for every tree the parser can
produce. Strings are escaped the way Go writes them, floats always carry a dot (``1e3`` is not a
float literal in OTTL, ``1.0e+03`` is), and named arguments are written ``name = value``.

A tree the parser could never produce (an empty bytes literal, a non-finite float) raises
``ValueError``; other shapes the grammar has no text for (a string operand of ``+``) print as
the closest text, which then fails to parse.
"""

from __future__ import annotations

import math
from typing import Union

from . import ast

Node = Union[ast.TopLevel, ast.Value, ast.BoolExpr, ast.Argument, ast.MapItem, ast.Field]

# Binding strength of boolean forms; a child weaker than its position needs parentheses.
_OR, _AND, _NOT, _TERM = 1, 2, 3, 4
# Binding strength of math forms.
_ADD, _MUL, _ATOM = 1, 2, 3
_MATH_PREC = {"+": _ADD, "-": _ADD, "*": _MUL, "/": _MUL}

_ESCAPES = {
    '"': '\\"',
    "\\": "\\\\",
    "\a": "\\a",
    "\b": "\\b",
    "\f": "\\f",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "\v": "\\v",
}


def print_node(node: Node) -> str:
    """The canonical OTTL text of ``node`` (any top-level, boolean or value node)."""
    if isinstance(node, ast.Statement):
        text = _call(node.editor)
        if node.where is not None:
            text += " where " + _bool(node.where, _OR)
        return text
    if isinstance(node, ast.Condition):
        return _bool(node.expr, _OR)
    if isinstance(node, ast.ValueExpression):
        return _value(node.value)
    if isinstance(node, (ast.Comparison, ast.Not, ast.And, ast.Or)):
        return _bool(node, _OR)
    if isinstance(node, ast.Argument):
        return _argument(node)
    if isinstance(node, ast.MapItem):
        return f"{quote(node.key)}: {_value(node.value)}"
    if isinstance(node, ast.Field):
        return _field(node)
    return _value(node)


# ---------------------------------------------------------------------------------------------
# Boolean expressions


def _bool(node: ast.BoolExpr, context: int) -> str:
    if isinstance(node, ast.Or):
        # Both chains fold to the left, so a right child of the same strength needs parentheses.
        text = f"{_bool(node.left, _OR)} or {_bool(node.right, _AND)}"
        return _wrap(text, _OR < context)
    if isinstance(node, ast.And):
        text = f"{_bool(node.left, _AND)} and {_bool(node.right, _NOT)}"
        return _wrap(text, _AND < context)
    if isinstance(node, ast.Not):
        # 'not' takes one term: a nested not, and or or goes in parentheses.
        return _wrap(f"not {_bool(node.operand, _TERM)}", _NOT < context)
    if isinstance(node, ast.Comparison):
        return f"{_value(node.left)} {node.op} {_value(node.right)}"
    if isinstance(node, ast.BoolLit):
        return "true" if node.value else "false"
    if isinstance(node, ast.Call):
        return _call(node)
    raise ValueError(f"not a boolean expression: {type(node).__name__}")


def _wrap(text: str, needed: bool) -> str:
    return f"({text})" if needed else text


# ---------------------------------------------------------------------------------------------
# Values


def _value(node: ast.Value) -> str:
    if isinstance(node, ast.NilLit):
        return "nil"
    if isinstance(node, ast.BoolLit):
        return "true" if node.value else "false"
    if isinstance(node, ast.IntLit):
        return str(node.value)
    if isinstance(node, ast.FloatLit):
        return format_float(node.value)
    if isinstance(node, ast.StringLit):
        return quote(node.value)
    if isinstance(node, ast.BytesLit):
        if not node.value:
            raise ValueError("an empty bytes value has no OTTL literal (0x needs hex digits)")
        return "0x" + node.value.hex()
    if isinstance(node, (ast.EnumSymbol, ast.FunctionName)):
        return node.name
    if isinstance(node, ast.ListLit):
        return "[" + ", ".join(_value(v) for v in node.items) + "]"
    if isinstance(node, ast.MapLit):
        items = ", ".join(f"{quote(i.key)}: {_value(i.value)}" for i in node.items)
        return "{" + items + "}"
    if isinstance(node, ast.Path):
        return ".".join(_field(f) for f in node.fields)
    if isinstance(node, ast.Call):
        return _call(node)
    if isinstance(node, (ast.Neg, ast.BinaryMath)):
        return _math(node, _ADD, right=False)
    raise ValueError(f"not a value: {type(node).__name__}")


def _math(node: ast.Value, context: int, right: bool) -> str:
    """``node`` as an operand in a position of strength ``context``; operators fold to the
    left, so a right operand of equal strength needs parentheses."""
    if isinstance(node, ast.BinaryMath):
        prec = _MATH_PREC[node.op]
        text = (
            f"{_math(node.left, prec, right=False)} {node.op} "
            f"{_math(node.right, prec, right=True)}"
        )
        return _wrap(text, prec < context or (right and prec == context))
    if isinstance(node, ast.Neg):
        operand = node.operand
        # A sign before a number is read as part of the literal, and signs do not stack:
        # parentheses keep -(5) and -(-x) as written.
        if isinstance(operand, (ast.BinaryMath, ast.IntLit, ast.FloatLit, ast.Neg)):
            return f"-({_value(operand)})"
        return "-" + _value(operand)
    return _value(node)


def _field(field: ast.Field) -> str:
    return field.name + "".join(_key(k) for k in field.keys)


def _key(key: ast.Value) -> str:
    text = _value(key)
    # Inside [...] an int literal must be the whole key, so arithmetic that starts with one
    # goes in parentheses: [(1 + 2)].
    if not isinstance(key, ast.IntLit) and _starts_with_int(key):
        text = f"({text})"
    return f"[{text}]"


def _starts_with_int(node: ast.Value) -> bool:
    while isinstance(node, ast.BinaryMath):
        node = node.left
    return isinstance(node, ast.IntLit) and node.value >= 0


def _call(call: ast.Call) -> str:
    args = ", ".join(_argument(a) for a in call.args)
    return f"{call.name}({args})" + "".join(_key(k) for k in call.keys)


def _lambda(node: ast.Lambda) -> str:
    body = node.body
    text = _bool(body, 0) if isinstance(body, (ast.Comparison, ast.Not, ast.And, ast.Or)) else _value(body)
    return f"({', '.join(node.params)}) => {text}"


def _argument(arg: ast.Argument) -> str:
    text = _lambda(arg.value) if isinstance(arg.value, ast.Lambda) else _value(arg.value)
    return text if arg.name is None else f"{arg.name} = {text}"


# ---------------------------------------------------------------------------------------------
# Literals


def quote(value: str) -> str:
    """``value`` as an OTTL string literal, with Go's escapes."""
    out = ['"']
    for ch in value:
        esc = _ESCAPES.get(ch)
        if esc is not None:
            out.append(esc)
            continue
        code = ord(ch)
        if code < 0x20 or code == 0x7F:
            out.append(f"\\x{code:02x}")
        elif ch.isprintable() or 0xD800 <= code <= 0xDFFF:
            # Lone surrogates have no escape (Go rejects \uD800); they stay raw and re-lex.
            out.append(ch)
        elif code <= 0xFFFF:
            out.append(f"\\u{code:04x}")
        else:
            out.append(f"\\U{code:08x}")
    out.append('"')
    return "".join(out)


def format_float(value: float) -> str:
    """The shortest text that reads back as ``value`` and lexes as a Float (it has a dot)."""
    if not math.isfinite(value):
        raise ValueError(f"{value} has no OTTL literal")
    text = repr(value)
    mantissa, sep, exponent = text.partition("e")
    if "." not in mantissa:
        mantissa += ".0"
    return mantissa + sep + exponent
