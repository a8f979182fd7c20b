"""The OTTL language front end: lexer, parser, AST, printer and errors.

``parse_statement``, ``parse_condition`` and ``parse_value_expression`` turn text into the AST of
``ottl.lang.ast``; ``print_node`` turns any node back into canonical text; ``dump`` shows a tree
as an indented outline. Every rejection of text is an ``OttlSyntaxError``.

The parser, printer and dump load on first use, so that importing ``ottl`` (which needs the
error classes) or ``ottl.lang.ast`` does not load them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import ast
from .errors import OttlCompileError, OttlError, OttlSyntaxError

if TYPE_CHECKING:
    from .dump import dump
    from .parser import parse_condition, parse_statement, parse_value_expression
    from .printer import print_node

_LAZY = {
    "parse_statement": "parser",
    "parse_condition": "parser",
    "parse_value_expression": "parser",
    "print_node": "printer",
    "dump": "dump",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'ottl.lang' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


__all__ = [
    "ast",
    "dump",
    "OttlError",
    "OttlSyntaxError",
    "OttlCompileError",
    "parse_statement",
    "parse_condition",
    "parse_value_expression",
    "print_node",
]
