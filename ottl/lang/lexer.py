"""The OTTL lexer: text to tokens, each with its kind, text and span.

The token rules and their order are the reference's (``buildLexer`` in pkg/ottl/grammar.go):
at each position the first rule that matches wins, not the longest one. Whitespace separates
tokens and is then dropped.

Three details of the reference are kept on purpose, because they decide which texts are OTTL:

* Keywords (``not``, ``or``, ``and``, ``nil``, ``true``, ``false``) need a word boundary only
  after them. The reference matches each rule against the rest of the text, where the start
  always counts as a boundary, so ``Xor`` lexes as ``X`` then the keyword ``or``.
* Identifiers are runs of ``[A-Z][A-Z0-9_]*`` (Uppercase) and ``[a-z][a-z0-9_]*`` (Lowercase)
  tokens: ``IsMatch`` is ``I``, ``s``, ``M``, ``atch``. The parser joins a run back into one
  name (see ``parser.py``). Lowercase tokens double as path segments, editor names, named
  argument names and the ``where`` keyword.
* ``\\d`` and ``\\s`` are ASCII-only in Go, so other Unicode digits and spaces are errors here too.

Strings are decoded as the reference decodes them (participle's ``Unquote``, which applies Go's
``strconv.UnquoteChar`` to each character): the escapes ``\\a \\b \\f \\n \\r \\t \\v \\\\ \\"``,
``\\xHH``, ``\\ooo`` (octal, at most 0o377), ``\\uHHHH`` and ``\\UHHHHHHHH``; any other escape is a
syntax error. A raw line break inside a string is allowed, as in the reference.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from typing import Optional

from .ast import Span
from .errors import OttlSyntaxError, line_col


class TokenKind(enum.Enum):
    BYTES = "bytes"
    FLOAT = "float"
    INT = "int"
    STRING = "string"
    NIL = "nil"
    NOT = "not"
    OR = "or"
    AND = "and"
    CMP = "comparison operator"
    ADDSUB = "'+' or '-'"
    MULDIV = "'*' or '/'"
    BOOL = "boolean"
    ARROW = "'=>'"
    BLANK = "'_'"
    EQUAL = "'='"
    LPAREN = "'('"
    RPAREN = "')'"
    LBRACE = "'{'"
    RBRACE = "'}'"
    COLON = "':'"
    COMMA = "','"
    DOT = "'.'"
    LBRACKET = "'['"
    RBRACKET = "']'"
    UPPER = "uppercase name"
    LOWER = "lowercase name"
    EOF = "end of input"


@dataclass(frozen=True)
class Token:
    """One token. ``value`` is the decoded text of a STRING token and ``None`` otherwise."""

    kind: TokenKind
    text: str
    span: Span
    value: Optional[str] = None

    @property
    def start(self) -> int:
        return self.span.start

    @property
    def end(self) -> int:
        return self.span.end

    def describe(self) -> str:
        """How error messages name this token."""
        if self.kind is TokenKind.EOF:
            return "end of input"
        if self.kind is TokenKind.STRING:
            shown = self.text if len(self.text) <= 24 else self.text[:20] + '..."'
            return f"string {shown}"
        if self.kind in (TokenKind.INT, TokenKind.FLOAT, TokenKind.BYTES):
            return f"number {self.text}" if self.kind is not TokenKind.BYTES else self.text
        if self.kind in (TokenKind.UPPER, TokenKind.LOWER):
            return f"name '{self.text}'"
        return f"'{self.text}'"


# Go's \b is ASCII; only the boundary after a keyword matters (see the module docstring).
_END_OF_WORD = r"(?![0-9A-Za-z_])"

# In the reference's order. Python's alternation, like Go's, takes the first alternative that
# matches, which is what participle does when it tries the rules one after the other.
_RULES: tuple[tuple[str, str], ...] = (
    ("BYTES", r"0x[a-fA-F0-9]+"),
    ("FLOAT", r"(?:[0-9]+\.[0-9]*|[0-9]*\.[0-9]+)(?:[eE][-+]?[0-9]+)?"),
    ("INT", r"[0-9]+"),
    ("STRING", r'"(?:\\.|[^\\"])*"'),
    ("NIL", r"nil" + _END_OF_WORD),
    ("NOT", r"not" + _END_OF_WORD),
    ("OR", r"or" + _END_OF_WORD),
    ("AND", r"and" + _END_OF_WORD),
    # The lambda arrow; before the comparisons and '=' so that '=>' is one token.
    ("ARROW", r"=>"),
    ("CMP", r"==|!=|>=|<=|>|<"),
    ("ADDSUB", r"[-+]"),
    ("MULDIV", r"[/*]"),
    ("BOOL", r"(?:true|false)" + _END_OF_WORD),
    ("EQUAL", r"="),
    ("LPAREN", r"\("),
    ("RPAREN", r"\)"),
    ("LBRACE", r"\{"),
    ("RBRACE", r"\}"),
    ("COLON", r":"),
    ("COMMA", r","),
    ("DOT", r"\."),
    ("LBRACKET", r"\["),
    ("RBRACKET", r"\]"),
    # A lone '_' names an ignored lambda parameter.
    ("BLANK", r"_" + _END_OF_WORD),
    ("UPPER", r"[A-Z][A-Z0-9_]*"),
    ("LOWER", r"[a-z][a-z0-9_]*"),
    ("WS", r"[\t\n\f\r ]+"),
)
_MASTER = re.compile("|".join(f"(?P<{name}>{pattern})" for name, pattern in _RULES))
_KINDS = {name: TokenKind[name] for name, _ in _RULES if name != "WS"}

_SIMPLE_ESCAPES = {
    "a": "\a",
    "b": "\b",
    "f": "\f",
    "n": "\n",
    "r": "\r",
    "t": "\t",
    "v": "\v",
    "\\": "\\",
    '"': '"',
}
_HEX = re.compile(r"[0-9a-fA-F]*")
_OCTAL = re.compile(r"[0-7]{3}")
_HEX_WIDTH = {"x": 2, "u": 4, "U": 8}

_HINTS = {
    "'": "strings are written in double quotes",
    "!": "did you mean '!='?",
    "&": "use 'and'",
    "|": "use 'or'",
}


def tokenize(text: str) -> list[Token]:
    """All tokens of ``text``, ending with one EOF token; raises ``OttlSyntaxError``."""
    tokens: list[Token] = []
    pos, end = 0, len(text)
    match = _MASTER.match
    while pos < end:
        m = match(text, pos)
        if m is None:
            raise _unexpected_character(text, pos)
        name = m.lastgroup
        stop = m.end()
        if name != "WS":
            kind = _KINDS[name]  # type: ignore[index]
            raw = m.group()
            span = Span(pos, stop)
            value = _decode_string(text, pos, raw) if kind is TokenKind.STRING else None
            tokens.append(Token(kind, raw, span, value))
        pos = stop
    tokens.append(Token(TokenKind.EOF, "", Span(end, end)))
    return tokens


def _unexpected_character(text: str, pos: int) -> OttlSyntaxError:
    ch = text[pos]
    if ch == '"':
        return _string_error(text, pos)
    shown = repr(ch) if ch.isprintable() else f"U+{ord(ch):04X}"
    message = f"unexpected character {shown}"
    hint = _HINTS.get(ch)
    if hint:
        message += f"; {hint}"
    return OttlSyntaxError(message, text, Span(pos, pos + 1), expected="a token of OTTL")


def _string_error(text: str, start: int) -> OttlSyntaxError:
    """Why the string opened at ``start`` did not lex: a backslash before a line break (which
    Go's ``.`` does not match) or no closing quote."""
    i, end = start + 1, len(text)
    while i < end:
        ch = text[i]
        if ch == "\\":
            if i + 1 < end and text[i + 1] == "\n":
                return OttlSyntaxError(
                    "a backslash cannot escape a line break in a string",
                    text,
                    Span(i, i + 1),
                    expected="an escape such as \\n",
                )
            i += 2
        else:
            i += 1
    line, col = line_col(text, start)
    where = f"column {col}" if line == 1 else f"line {line}, column {col}"
    return OttlSyntaxError(
        f"unterminated string: the string opened at {where} has no closing '\"'",
        text,
        Span(start, end),
        expected="'\"'",
    )


def _decode_string(text: str, start: int, raw: str) -> str:
    """The value of the string token ``raw`` found at ``start`` in ``text``."""
    body = raw[1:-1]
    if "\\" not in body:
        return body
    out: list[str] = []
    i = 0
    while True:
        j = body.find("\\", i)
        if j < 0:
            out.append(body[i:])
            return "".join(out)
        out.append(body[i:j])
        ch, esc_at = body[j + 1], start + 1 + j  # the lexer rule guarantees a char after '\'
        simple = _SIMPLE_ESCAPES.get(ch)
        if simple is not None:
            out.append(simple)
            i = j + 2
        elif ch in _HEX_WIDTH:
            width = _HEX_WIDTH[ch]
            digits = _HEX.match(body, j + 2, j + 2 + width).group()  # type: ignore[union-attr]
            if len(digits) != width:
                raise _escape_error(
                    text, esc_at, f"'\\{ch}' needs exactly {width} hex digits"
                )
            code = int(digits, 16)
            if ch != "x" and (code > 0x10FFFF or 0xD800 <= code <= 0xDFFF):
                raise _escape_error(
                    text, esc_at, f"U+{code:04X} is not a valid Unicode code point"
                )
            out.append(chr(code))
            i = j + 2 + width
        elif ch in "01234567":
            digits = body[j + 1 : j + 4]
            if not _OCTAL.fullmatch(digits) or int(digits, 8) > 0o377:
                raise _escape_error(
                    text, esc_at, "an octal escape is three digits from \\000 to \\377"
                )
            out.append(chr(int(digits, 8)))
            i = j + 4
        else:
            shown = repr(ch)[1:-1] if ch.isprintable() else f"U+{ord(ch):04X}"
            raise _escape_error(
                text,
                esc_at,
                f"invalid escape '\\{shown}' in string; write '\\\\' for a backslash",
            )


def _escape_error(text: str, at: int, message: str) -> OttlSyntaxError:
    """An invalid escape; the caret goes under the backslash and the letter after it."""
    return OttlSyntaxError(
        message,
        text,
        Span(at, at + 2),
        expected="one of \\a \\b \\f \\n \\r \\t \\v \\\\ \\\" \\xHH \\ooo \\uHHHH \\UHHHHHHHH",
    )
