"""How a function of the registry is described: its kind, parameters and where it may be used.

The vocabulary follows the reference's Go argument types (``ottl.GetSetter``, ``ottl.StringGetter``,
``ottl.Optional[...]``, plain ``string``/``int64``/``[]string`` literals, ``ottl.Enum``,
``ottl.FunctionGetter``) so a signature reads like the reference's argument struct.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Callable, Optional


class Kind(str, Enum):
    EDITOR = "editor"
    CONVERTER = "converter"


class ParamKind(str, Enum):
    """What an argument may be, checked when a statement is compiled."""

    # A path that the function writes (ottl.GetSetter / ottl.PMapGetSetter / ...): must be a path.
    PATH = "path"
    # Any value expression, type checked when it runs (ottl.Getter and the typed getters).
    GETTER = "getter"
    STRING_GETTER = "string_getter"
    STRING_LIKE_GETTER = "string_like_getter"
    INT_GETTER = "int_getter"
    INT_LIKE_GETTER = "int_like_getter"
    FLOAT_GETTER = "float_getter"
    FLOAT_LIKE_GETTER = "float_like_getter"
    BOOL_GETTER = "bool_getter"
    BOOL_LIKE_GETTER = "bool_like_getter"
    PMAP_GETTER = "pmap_getter"
    PSLICE_GETTER = "pslice_getter"
    BYTE_SLICE_LIKE_GETTER = "byte_slice_like_getter"
    DURATION_GETTER = "duration_getter"
    TIME_GETTER = "time_getter"
    # Literals of a plain Go type (string, int64, float64, bool): must be a literal of that type.
    STRING = "string"
    INT = "int"
    FLOAT = "float"
    BOOL = "bool"
    # ottl.Enum: an enum symbol of the context.
    ENUM = "enum"
    # ottl.FunctionGetter: a bare converter name (``SHA256``).
    FUNCTION = "function"
    # A lambda (gated ``ottl.functions.enableLambda`` converters).
    LAMBDA = "lambda"


GETTER_KINDS = frozenset(
    k for k in ParamKind if k.value.endswith("_getter") or k is ParamKind.GETTER
)
LITERAL_KINDS = frozenset({ParamKind.STRING, ParamKind.INT, ParamKind.FLOAT, ParamKind.BOOL})


@dataclass(frozen=True)
class Param:
    """One parameter. ``name`` is the snake_case name used for named arguments.

    ``is_list``: the argument is a list literal ``[...]`` whose items each satisfy ``kind``
    (``[]string`` is ``STRING`` + is_list; ``[]ottl.Getter`` is ``GETTER`` + is_list).
    ``check``: for literal parameters, a callable given the Python value (a ``str``, ``int``,
    list of ``str``...) that returns an error message, or None when the value is acceptable
    (a bad regex, an unknown case name, a negative limit). For a getter parameter the check
    runs only when the argument is a literal: the reference compiles literal regexes, globs,
    encodings and IDs when the statement is built and defers other values to run time.
    ``go_field``: the reference's Go struct field. A named argument ``n = ...`` selects the
    field equal to ``strcase.ToCamel(n)`` (see ``registry.resolve_named``).
    ``dynamic_slice_gate``: for a list parameter, the feature gate under which a single
    expression resolving to a list is also accepted (the reference's ``SliceGetter``).
    ``lambda_arity``: for a LAMBDA parameter, the number of lambda parameters expected.
    """

    name: str
    kind: ParamKind
    optional: bool = False
    is_list: bool = False
    check: Optional[Callable[[object], Optional[str]]] = field(default=None, compare=False)
    go_field: str = ""
    dynamic_slice_gate: Optional[str] = None
    lambda_arity: Optional[int] = None


@dataclass(frozen=True)
class FunctionSpec:
    name: str
    kind: Kind
    params: tuple[Param, ...]
    # Context names where the function exists; None means every context.
    contexts: Optional[frozenset[str]] = None
    # Feature gate that must be enabled (None: always available).
    gate: Optional[str] = None
    # One line of what it does, for `ottl functions` and the docs.
    summary: str = ""
    # Checks across arguments once each literal is known; returns an error message or None.
    # Receives a dict of parameter name -> literal Python value (only literal params present).
    check_args: Optional[Callable[[dict], Optional[str]]] = field(default=None, compare=False)
    # At least one of these (optional) parameters must be given, whatever its form (append).
    requires_one_of: tuple[str, ...] = ()

    @property
    def required(self) -> tuple[Param, ...]:
        return tuple(p for p in self.params if not p.optional)
