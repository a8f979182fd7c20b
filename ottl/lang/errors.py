"""The exception hierarchy of the OTTL front end, and caret rendering.

``OttlError`` is the one root. ``OttlSyntaxError`` means the text is not OTTL at all;
``OttlCompileError`` means it is OTTL but does not fit its context (unknown path or function,
wrong arguments, a read-only target). Both carry the statement text and the span at fault, and
their ``str()`` shows the line with a caret under the spot.
"""

from __future__ import annotations

from typing import Optional

from .ast import Span


def line_col(text: str, offset: int) -> tuple[int, int]:
    """1-based line and column of ``offset`` in ``text`` (columns count characters)."""
    offset = max(0, min(offset, len(text)))
    line = text.count("\n", 0, offset) + 1
    start = text.rfind("\n", 0, offset) + 1
    return line, offset - start + 1


def render_caret(text: str, span: Span) -> str:
    """The source line holding ``span.start`` and a line of carets under the span."""
    start = max(0, min(span.start, len(text)))
    line_start = text.rfind("\n", 0, start) + 1
    line_end = text.find("\n", start)
    if line_end < 0:
        line_end = len(text)
    line = text[line_start:line_end]
    end = max(start + 1, min(span.end, line_end))
    # Tabs keep their width in the caret line so the caret stays under the right character.
    pad = "".join("\t" if ch == "\t" else " " for ch in line[: start - line_start])
    return f"{line}\n{pad}{'^' * (end - start)}"


class OttlError(Exception):
    """Root of every error the OTTL front end raises for bad input."""

    kind = "error"

    def __init__(
        self,
        message: str,
        text: str = "",
        span: Optional[Span] = None,
        *,
        expected: Optional[str] = None,
        source: Optional[str] = None,
        statement_index: Optional[int] = None,
    ) -> None:
        self.message = message
        self.text = text
        self.span = span if span is not None else Span(0, 0)
        self.expected = expected
        self.source = source
        self.statement_index = statement_index
        super().__init__(self._format())

    @property
    def line(self) -> int:
        return line_col(self.text, self.span.start)[0]

    @property
    def column(self) -> int:
        return line_col(self.text, self.span.start)[1]

    def where(self) -> str:
        """``source:statement N:line:col`` style location prefix."""
        parts = []
        if self.source:
            parts.append(self.source)
        if self.statement_index is not None:
            parts.append(f"statement {self.statement_index + 1}")
        parts.append(f"line {self.line}, column {self.column}")
        return ", ".join(parts)

    def context(self) -> str:
        """The offending line with a caret under the spot (lark's ``get_context``)."""
        return render_caret(self.text, self.span)

    def _format(self) -> str:
        msg = f"{self.kind}: {self.message}"
        if self.expected and self.expected not in self.message:
            msg += f" (expected {self.expected})"
        return f"{msg}\n  at {self.where()}\n{_indent(self.context())}"

    def located(self, *, source: Optional[str] = None, statement_index: Optional[int] = None):
        """The same error, told where the statement came from (a file, a config key)."""
        if source is not None:
            self.source = source
        if statement_index is not None:
            self.statement_index = statement_index
        self.args = (self._format(),)
        return self


class OttlSyntaxError(OttlError):
    """The text does not follow the OTTL grammar."""

    kind = "syntax error"


class OttlCompileError(OttlError):
    """Grammatical OTTL that the chosen context or the function registry rejects."""

    kind = "compile error"


def _indent(block: str) -> str:
    return "\n".join("    " + ln for ln in block.split("\n"))
