"""Errors raised while statements run.

Function implementations and accessors raise ``EvalError`` with a message alone; the interpreter
turns it into an ``OttlRuntimeError`` that carries the statement text and the span of the piece
that failed, so it renders with a caret like every other ``OttlError``.
"""

from __future__ import annotations

from ottl.lang.errors import OttlError


class EvalError(Exception):
    """A failure inside an expression or function, before the statement is known."""


class OttlRuntimeError(OttlError):
    """A statement or condition failed on a record (the reference's Execute/Eval error)."""

    kind = "runtime error"
