"""Implementations of the registry's functions, one module per family.

Each implementation is a *factory*, as in the reference: it receives the function's arguments
once, when a statement is compiled, and returns the function that runs per record::

    @implements("Concat")
    def concat(args: Args) -> ExprFunc:
        vals, delimiter = args["vals"], args["delimiter"]
        def run(ctx):
            ...
        return run

``args`` maps each parameter name of the ``FunctionSpec`` (``ottl.functions``) to its argument,
or to ``None`` when an optional one is left out. What an argument is depends on its
``ParamKind``:

- PATH: a ``GetSetter`` (``get(ctx)``, ``set(ctx, value)``);
- any getter kind: a ``Getter`` (``get(ctx)`` and the typed ``string(ctx)``, ``int_like(ctx)``...);
- a literal kind (STRING, INT, FLOAT, BOOL): the Python value; with ``is_list``, a list of them;
- a getter kind with ``is_list``: a list of ``Getter`` (or one ``Getter`` yielding a list, when
  the dynamic-slice gate is on);
- ENUM: an ``int``; FUNCTION: a ``FunctionRef``; LAMBDA: a ``LambdaArg``.

``args["_gates"]`` holds the feature gates switched on (a frozenset), for the few functions whose
behaviour depends on one (``set`` with ``ottl.set.allowNil``).

The returned function takes the record's context and returns the converter's value (editors
return ``None``). It raises ``EvalError`` for a runtime failure, with the reference's meaning.
"""

from __future__ import annotations

import importlib
from typing import Any, Callable

from ottl.eval.getters import ExprFunc

Args = dict[str, Any]
Factory = Callable[[Args], ExprFunc]

IMPLEMENTATIONS: dict[str, Factory] = {}

# The family modules; importing one registers its functions.
FAMILIES = (
    "strings",
    "convert",
    "parsing",
    "hashing",
    "time",
    "editors",
    "lambdas",
    "processor",
)


def implements(*names: str) -> Callable[[Factory], Factory]:
    """Register ``factory`` as the implementation of each of ``names``."""

    def register(factory: Factory) -> Factory:
        for name in names:
            if name in IMPLEMENTATIONS:
                raise RuntimeError(f"function {name} is implemented twice")
            IMPLEMENTATIONS[name] = factory
        return factory

    return register


def load_all() -> dict[str, Factory]:
    """Import every family module that exists (so each registers its functions)."""
    for family in FAMILIES:
        try:
            importlib.import_module(f"{__name__}.{family}")
        except ModuleNotFoundError as exc:
            if exc.name != f"{__name__}.{family}":
                raise
    return IMPLEMENTATIONS
