"""The OTTL abstract syntax tree.

Every node carries the ``Span`` of source text it came from. Spans do not take part in
equality, so ``parse(print(tree)) == tree`` compares structure only.

The tree is what the parser hands to the resolver; nothing here knows about contexts or
functions. A ``Path`` keeps all of its dotted segments as written: whether the first one names a
context (``resource.attributes``) or a field (``status.code``) is the resolver's decision, as it
is in the reference.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional, Union


@dataclass(frozen=True)
class Span:
    """Half-open range ``[start, end)`` of character offsets into the source text."""

    start: int
    end: int

    def cover(self, other: "Span") -> "Span":
        return Span(min(self.start, other.start), max(self.end, other.end))


NO_SPAN = Span(0, 0)


def _span() -> Span:
    return field(default=NO_SPAN, compare=False, repr=False)  # type: ignore[return-value]


# ---------------------------------------------------------------------------------------------
# Values


@dataclass(frozen=True)
class NilLit:
    span: Span = _span()


@dataclass(frozen=True)
class BoolLit:
    value: bool
    span: Span = _span()


@dataclass(frozen=True)
class IntLit:
    """A signed 64-bit integer. A leading unary minus on a literal is folded into the value."""

    value: int
    span: Span = _span()


@dataclass(frozen=True)
class FloatLit:
    value: float
    span: Span = _span()

    def __eq__(self, other: object) -> bool:
        # NaN never appears in source, but keep -0.0 and 0.0 apart so printing is faithful.
        return (
            isinstance(other, FloatLit)
            and self.value == other.value
            and str(self.value) == str(other.value)
        )

    def __hash__(self) -> int:
        return hash(("FloatLit", self.value))


@dataclass(frozen=True)
class StringLit:
    """A string literal, escapes already decoded."""

    value: str
    span: Span = _span()


@dataclass(frozen=True)
class BytesLit:
    value: bytes
    span: Span = _span()


@dataclass(frozen=True)
class EnumSymbol:
    """An all-uppercase word such as ``SPAN_KIND_SERVER`` (or ``SHA256`` naming a function)."""

    name: str
    span: Span = _span()


@dataclass(frozen=True)
class FunctionName:
    """A bare mixed-case converter name passed as an argument (``replace_pattern(..., SHA256)``
    parses as ``EnumSymbol`` because it is all uppercase; ``ToLowerCase`` parses as this)."""

    name: str
    span: Span = _span()


@dataclass(frozen=True)
class ListLit:
    items: tuple["Value", ...]
    span: Span = _span()


@dataclass(frozen=True)
class MapItem:
    key: str
    value: "Value"
    span: Span = _span()


@dataclass(frozen=True)
class MapLit:
    """``{"k": v, ...}``; keys are string literals, order as written, duplicates kept as written."""

    items: tuple[MapItem, ...]
    span: Span = _span()


@dataclass(frozen=True)
class Field:
    """One dotted segment of a path with the keys that follow it: ``attributes["a"][0]``."""

    name: str
    keys: tuple["Value", ...] = ()
    span: Span = _span()


@dataclass(frozen=True)
class Path:
    """``a.b["k"].c``: the segments as written (a context prefix, if any, is segment 0)."""

    fields: tuple[Field, ...]
    span: Span = _span()


@dataclass(frozen=True)
class Argument:
    """A call argument; ``name`` is set for ``name = value`` arguments."""

    value: "Value"
    name: Optional[str] = None
    span: Span = _span()


@dataclass(frozen=True)
class Call:
    """An editor (lowercase name) or converter (uppercase name) call, with optional keys
    indexing the result (only converters may have keys)."""

    name: str
    args: tuple[Argument, ...] = ()
    keys: tuple["Value", ...] = ()
    span: Span = _span()

    @property
    def is_editor(self) -> bool:
        return self.name[:1].islower()


@dataclass(frozen=True)
class Neg:
    """Unary minus on a non-literal term (``-attributes["x"]``, ``-Int("5")``)."""

    operand: "Value"
    span: Span = _span()


@dataclass(frozen=True)
class BinaryMath:
    """``left op right`` with op in ``+ - * /``; the tree encodes precedence and grouping."""

    op: str
    left: "Value"
    right: "Value"
    span: Span = _span()


@dataclass(frozen=True)
class Lambda:
    """``(a, b) => body``, accepted only as a function argument (the gated lambda converters).

    ``params`` are lowercase names or ``_`` (a blank that is never bound); the body is a value
    or a boolean expression in which the parameters read like one-segment paths (``v``,
    ``v["k"]``).
    """

    params: tuple[str, ...]
    body: Union["Value", "BoolExpr"]
    span: Span = _span()


Value = Union[
    NilLit,
    BoolLit,
    IntLit,
    FloatLit,
    StringLit,
    BytesLit,
    EnumSymbol,
    FunctionName,
    ListLit,
    MapLit,
    Path,
    Call,
    Neg,
    BinaryMath,
    Lambda,
]

# ---------------------------------------------------------------------------------------------
# Boolean expressions


@dataclass(frozen=True)
class Comparison:
    """``left op right`` with op in ``== != < <= > >=``."""

    op: str
    left: Value
    right: Value
    span: Span = _span()


@dataclass(frozen=True)
class Not:
    operand: "BoolExpr"
    span: Span = _span()


@dataclass(frozen=True)
class And:
    left: "BoolExpr"
    right: "BoolExpr"
    span: Span = _span()


@dataclass(frozen=True)
class Or:
    left: "BoolExpr"
    right: "BoolExpr"
    span: Span = _span()


# A boolean term may also be a BoolLit or a converter Call.
BoolExpr = Union[Comparison, Not, And, Or, BoolLit, Call]

# ---------------------------------------------------------------------------------------------
# Top-level forms


@dataclass(frozen=True)
class Statement:
    """``editor(args...) [where condition]``."""

    editor: Call
    where: Optional[BoolExpr] = None
    span: Span = _span()


@dataclass(frozen=True)
class Condition:
    """A bare boolean expression, as the filter processor and ``conditions:`` lists take."""

    expr: BoolExpr
    span: Span = _span()


@dataclass(frozen=True)
class ValueExpression:
    """A single value expression (the reference's ``ParseValueExpression``)."""

    value: Value
    span: Span = _span()


TopLevel = Union[Statement, Condition, ValueExpression]

VALUE_NODES = (
    NilLit,
    BoolLit,
    IntLit,
    FloatLit,
    StringLit,
    BytesLit,
    EnumSymbol,
    FunctionName,
    ListLit,
    MapLit,
    Path,
    Call,
    Neg,
    BinaryMath,
    Lambda,
)
BOOL_NODES = (Comparison, Not, And, Or, BoolLit, Call)
