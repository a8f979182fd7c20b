"""The OTTL parser: a hand-written recursive descent over the tokens of ``lexer.py``.

Public entry points: ``parse_statement``, ``parse_condition`` and ``parse_value_expression``.
Every failure is an ``OttlSyntaxError`` that says what was expected and points at the spot.

The language accepted is the reference's (pkg/ottl/grammar.go, a participle grammar), which is a
PEG: alternatives are tried in order and the first that matches wins. This parser is written to
accept exactly the same texts without the reference's backtracking, which is exponential on
nested parentheses. Where the reference's choices are visible in what it accepts, this file
follows them on purpose; each such place says so. The notable ones:

* Names are runs of Uppercase/Lowercase tokens with any whitespace between them elided, so
  ``Is Match(x)`` calls ``IsMatch`` and ``set (x)`` calls ``set``. A run followed by ``(`` is a
  call; otherwise a lowercase token starts a path (one token per segment) and an uppercase one is
  an enum symbol (a single all-uppercase token) or, as an argument only, a function name.
* Integer literals are read as Go's ``strconv.ParseInt(s, 0, 64)`` reads them: a leading ``0``
  makes them octal (``010`` is 8, ``08`` is an error). Unlike the reference, a unary minus is
  folded into the literal first, so ``-9223372036854775808`` is valid.
* A key ``[...]`` holds a string literal, an int literal, or a math expression; an int literal
  must be followed by ``]`` (``x[1 + 2]`` is an error, ``x[(1 + 2)]`` is fine), and a key that
  does not parse ends the keys rather than the expression (the reference's ``key*``).
* List items may follow each other without commas until the first comma (``[1 2, 3]``), and
  a list may start with a comma (``[, 1]``): the reference's ``'[' value* (',' value)* ']'``.
  Map items may be separated by commas or not, with one optional trailing comma.
* A boolean term is ``true``/``false``, a comparison, a converter call or a parenthesized
  boolean expression. A term starting with ``(`` is a comparison when the parenthesis opens a
  math expression that a comparison operator follows (``(a + 1) * 2 == x``), otherwise a
  parenthesized boolean expression; this is the one place the parser looks ahead far, and the
  math parse it tries is memoized so nesting stays linear.

Deliberate differences: the reference's untyped literals (punctuation and ``where``) also match
string tokens with the same text after unquoting (``set(x "," 1)`` and ``set(x) "where" true``
parse there); that is a bug and not reproduced. Positional-after-named and duplicate named
arguments, which the reference rejects when it builds the function call, are syntax errors here.

Checks made after a successful parse, as the reference makes them on its grammar tree: a
converter used as the statement, an editor used as a value, an editor with keys, the argument
order rules, and the depth of the tree (see ``_Checker``).
"""

from __future__ import annotations

import dataclasses
import math
from typing import Callable, NoReturn, Optional, TypeVar, Union

from ottl.limits import MAX_EXPRESSION_DEPTH, MAX_NESTING_DEPTH, MAX_STATEMENT_LENGTH

from . import ast
from .ast import Span
from .errors import OttlSyntaxError, line_col
from .lexer import Token, TokenKind, tokenize

K = TokenKind
_INT64_MAX = 2**63 - 1
_NAME_KINDS = (K.UPPER, K.LOWER)
_MATH_START = (K.INT, K.FLOAT, K.ADDSUB, K.LPAREN, K.LOWER, K.UPPER)
_VALUE_START = frozenset(
    (K.NIL, K.STRING, K.BYTES, K.BOOL, K.LBRACE, K.LBRACKET) + _MATH_START
)
_OPENERS = {K.LPAREN, K.LBRACKET, K.LBRACE}
_CLOSERS = {K.RPAREN, K.RBRACKET, K.RBRACE}
_COMPARISON_OPS = "a comparison operator (==, !=, <, <=, >, >=)"

T = TypeVar("T", ast.Statement, ast.Condition, ast.ValueExpression)


# ---------------------------------------------------------------------------------------------
# Public entry points


def parse_statement(text: str) -> ast.Statement:
    """Parse ``editor(args...) [where condition]``."""
    return _parse(text, lambda p: p.statement())


def parse_condition(text: str) -> ast.Condition:
    """Parse a bare boolean expression, as the filter processor and ``conditions:`` take."""
    return _parse(text, lambda p: p.condition())


def parse_value_expression(text: str) -> ast.ValueExpression:
    """Parse one value: a literal, path, converter call, math expression, list or map."""
    return _parse(text, lambda p: p.value_expression())


def _parse(text: str, rule: Callable[["_Parser"], T]) -> T:
    if not isinstance(text, str):
        raise TypeError(f"OTTL text must be a str, got {type(text).__name__}")
    if len(text) > MAX_STATEMENT_LENGTH:
        raise OttlSyntaxError(
            f"the text is {len(text)} characters long, more than MAX_STATEMENT_LENGTH "
            f"({MAX_STATEMENT_LENGTH})",
            text,
            Span(MAX_STATEMENT_LENGTH, MAX_STATEMENT_LENGTH + 1),
            expected=f"at most {MAX_STATEMENT_LENGTH} characters",
        )
    tokens = tokenize(text)
    _check_bracket_depth(text, tokens)
    parser = _Parser(text, tokens)
    try:
        tree = rule(parser)
    except _Failure as failure:
        best = parser.best_failure(failure)
        raise OttlSyntaxError(best.message, text, best.span, expected=best.expected) from None
    except RecursionError:
        # Bracket depth is bounded above, so this needs a caller that is itself deeply nested;
        # report it as the input's problem rather than crash.
        raise OttlSyntaxError(
            "the text nests too deeply to parse here", text, Span(0, len(text))
        ) from None
    _Checker(text).check(tree)
    return tree


def _check_bracket_depth(text: str, tokens: list[Token]) -> None:
    """Reject nesting beyond MAX_NESTING_DEPTH before parsing, which bounds the recursion."""
    depth = 0
    for tok in tokens:
        if tok.kind in _OPENERS:
            depth += 1
            if depth > MAX_NESTING_DEPTH:
                raise OttlSyntaxError(
                    f"nesting is too deep: more than MAX_NESTING_DEPTH ({MAX_NESTING_DEPTH}) "
                    "levels of parentheses, brackets and braces",
                    text,
                    tok.span,
                    expected=f"at most {MAX_NESTING_DEPTH} levels of nesting",
                )
        elif tok.kind in _CLOSERS and depth > 0:
            depth -= 1


# ---------------------------------------------------------------------------------------------
# The parser


class _Failure(Exception):
    """A parse failure inside the parser. Alternatives that are tried and abandoned catch it;
    the one that reaches the entry point becomes an ``OttlSyntaxError``."""

    def __init__(self, message: str, span: Span, expected: Optional[str], index: int) -> None:
        super().__init__(message)
        self.message = message
        self.span = span
        self.expected = expected
        self.index = index


class _Parser:
    def __init__(self, text: str, tokens: list[Token]) -> None:
        self.text = text
        self.toks = tokens
        self.i = 0
        self.prev_end = 0
        # run_end[k]: index of the first token after the Upper/Lowercase run that starts at k,
        # computed once so that reading names stays linear in long runs.
        self.run_end = _run_ends(tokens)
        # Math expressions by start index: the result (node, end index) or the failure. The
        # boolean look-ahead and key back-off reparse the same spot; this keeps them linear.
        self.memo: dict[int, Union[tuple[ast.Value, int, int], _Failure]] = {}
        self.furthest: Optional[_Failure] = None

    # -- tokens -------------------------------------------------------------------------------

    def peek(self, offset: int = 0) -> Token:
        return self.toks[min(self.i + offset, len(self.toks) - 1)]

    def advance(self) -> Token:
        tok = self.toks[self.i]
        if tok.kind is not K.EOF:
            self.i += 1
            self.prev_end = tok.end
        return tok

    def at(self, kind: TokenKind) -> bool:
        return self.toks[self.i].kind is kind

    def at_where(self) -> bool:
        tok = self.toks[self.i]
        return tok.kind is K.LOWER and tok.text == "where"

    def fail(self, message: str, span: Span, expected: Optional[str] = None) -> NoReturn:
        failure = _Failure(message, span, expected, self.i)
        if self.furthest is None or failure.index > self.furthest.index:
            self.furthest = failure
        raise failure

    def fail_here(self, wanted: str, expected: Optional[str] = None, hint: str = "") -> NoReturn:
        tok = self.peek()
        message = f"expected {wanted}, but found {tok.describe()}"
        hint = self.keyword_hint(tok) or hint or self.exponent_hint(tok)
        if hint:
            message += f"; {hint}"
        self.fail(message, tok.span, expected)

    def exponent_hint(self, tok: Token) -> str:
        """``1e3`` lexes as the int 1 and the name ``e3``: say how to write the float."""
        prev = self.toks[self.i - 1] if self.i > 0 else None
        if (
            prev is not None
            and prev.kind is K.INT
            and prev.end == tok.start
            and tok.kind in _NAME_KINDS
            and tok.text[:1] in "eE"
            and tok.text[1:].isdigit()
        ):
            return f"a float literal needs a dot, as in {prev.text}.0{tok.text}"
        return ""

    def keyword_hint(self, tok: Token) -> str:
        """``Xor(`` lexes as ``X`` and the keyword ``or``, as in the reference: say so."""
        prev = self.toks[self.i - 1] if self.i > 0 else None
        if (
            prev is not None
            and prev.kind in _NAME_KINDS
            and prev.end == tok.start
            and tok.kind in (K.NOT, K.OR, K.AND, K.NIL, K.BOOL)
        ):
            return (f"'{prev.text}{tok.text}' reads as the name '{prev.text}' followed by the "
                    f"keyword '{tok.text}'")
        return ""

    def expect_close(self, kind: TokenKind, opener: Token, what: str, also: str = "") -> Token:
        """The closing token of ``what`` opened by ``opener``. At the end of the input only the
        closing token is named: that is what is missing."""
        if self.at(kind):
            return self.advance()
        wanted = f"{also} or {kind.value}" if also and not self.at(K.EOF) else kind.value
        self.fail_here(
            f"{wanted} to close the {what} opened at {self.position(opener.start)}",
            expected=f"{also} or {kind.value}" if also else kind.value,
        )

    def position(self, offset: int) -> str:
        """'column C', or 'line L, column C' when the text has several lines."""
        line, col = line_col(self.text, offset)
        if "\n" not in self.text:
            return f"column {col}"
        return f"line {line}, column {col}"

    def best_failure(self, final: _Failure) -> _Failure:
        """The failure to report: the one that got furthest. A later token usually means the
        real mistake (an abandoned key or look-ahead may have seen it first)."""
        if self.furthest is not None and self.furthest.index > final.index:
            return self.furthest
        return final

    def source_of(self, node: ast.Value) -> str:
        """The text of ``node`` as written, quoted and cut short for a message."""
        return _excerpt(self.text[node.span.start : node.span.end])

    def name_run(self) -> tuple[str, Span]:
        """Consume the Upper/Lowercase run at the cursor; return the joined name and its span."""
        start, stop = self.i, self.run_end[self.i]
        first, last = self.toks[start], self.toks[stop - 1]
        name = "".join(t.text for t in self.toks[start:stop])
        self.i = stop
        self.prev_end = last.end
        return name, Span(first.start, last.end)

    def run_is_call(self) -> bool:
        return self.toks[self.run_end[self.i]].kind is K.LPAREN

    # -- top level ----------------------------------------------------------------------------

    def statement(self) -> ast.Statement:
        start = self.peek()
        if start.kind not in _NAME_KINDS:
            self.fail_here("an editor call such as set(...)", expected="an editor name")
        editor = self.call()
        where = None
        if self.at_where():
            self.advance()
            where = self.bool_expr()
            self.expect_end(
                "'and', 'or' or the end of the statement",
                "a statement has at most one 'where' clause" if self.at_where() else "",
            )
        else:
            self.expect_end("'where' or the end of the statement")
        return ast.Statement(editor, where, Span(start.start, self.prev_end))

    def condition(self) -> ast.Condition:
        start = self.peek()
        expr = self.bool_expr()
        hint = "a condition has no 'where' clause" if self.at_where() else ""
        self.expect_end("'and', 'or' or the end of the condition", hint)
        return ast.Condition(expr, Span(start.start, self.prev_end))

    def value_expression(self) -> ast.ValueExpression:
        start = self.peek()
        value = self.value(allow_function_name=False)
        self.expect_end("an operator or the end of the expression")
        return ast.ValueExpression(value, Span(start.start, self.prev_end))

    def expect_end(self, wanted: str, hint: str = "") -> None:
        if not self.at(K.EOF):
            self.fail_here(wanted, expected="end of input", hint=hint)

    # -- calls and arguments ------------------------------------------------------------------
    # Nesting recurses through call -> argument -> value -> math_expression -> math_operand;
    # these functions are kept few (not split further) so that MAX_NESTING_DEPTH levels stay
    # far inside Python's recursion limit.

    def call(self) -> ast.Call:
        """``name(args...)`` followed by keys; the cursor is at the name's first token."""
        name, name_span = self.name_run()
        if not self.at(K.LPAREN):
            self.fail_here(f"'(' after the function name '{name}'", expected="'('")
        opener = self.advance()
        args: list[ast.Argument] = []
        if self.at(K.EOF):
            self.expect_close(K.RPAREN, opener, "argument list")
        if not self.at(K.RPAREN):
            args.append(self.argument())
            while self.at(K.COMMA):
                self.advance()
                if self.at(K.RPAREN):
                    self.fail_here("an argument after ','", "a value",
                                   "a trailing comma is not allowed in an argument list")
                args.append(self.argument())
        self.expect_close(K.RPAREN, opener, "argument list", also="','")
        keys = self.keys()
        return ast.Call(name, tuple(args), keys, Span(name_span.start, self.prev_end))

    def argument(self) -> ast.Argument:
        start = self.peek()
        name = None
        # ``name = value``: a lowercase-led run followed by '=' (the reference's optional group).
        if start.kind is K.LOWER and self.toks[self.run_end[self.i]].kind is K.EQUAL:
            name, _ = self.name_run()
            self.advance()
        value = self.lambda_() if self.lambda_ahead() else self.value(allow_function_name=True)
        return ast.Argument(value, name, Span(start.start, self.prev_end))

    def lambda_ahead(self) -> bool:
        """``(`` [param {, param}] ``)`` ``=>``: a lambda, not a parenthesized expression."""
        if not self.at(K.LPAREN):
            return False
        k = self.i + 1
        if self.toks[k].kind is not K.RPAREN:
            while self.is_lambda_param(k):
                k += 1
                if self.toks[k].kind is not K.COMMA:
                    break
                k += 1
            if self.toks[k].kind is not K.RPAREN:
                return False
        return self.toks[k + 1].kind is K.ARROW

    def is_lambda_param(self, k: int) -> bool:
        """A lambda parameter: ``_`` or one lowercase word (not a run such as ``aB``)."""
        tok = self.toks[k]
        return tok.kind is K.BLANK or (tok.kind is K.LOWER and self.run_end[k] == k + 1)

    def lambda_(self) -> ast.Lambda:
        """``(params) => body``; the body is a value when one ends the argument there, else a
        boolean expression (``(_, v) => v == "x"``)."""
        opener = self.advance()
        params: list[str] = []
        while not self.at(K.RPAREN):
            tok = self.advance()
            if tok.kind is K.LOWER and tok.text in params:
                self.fail(f"lambda parameter '{tok.text}' is declared twice", tok.span,
                          "distinct parameter names")
            params.append(tok.text)
            if self.at(K.COMMA):
                self.advance()
        self.advance()  # ')'
        self.advance()  # '=>'
        if self.peek().kind not in _VALUE_START and not self.at(K.NOT):
            self.fail_here("a lambda body after '=>'", "a value or a condition")
        start, prev_end = self.i, self.prev_end
        body: Union[ast.Value, ast.BoolExpr]
        try:
            body = self.value(allow_function_name=False)
            if not (self.at(K.COMMA) or self.at(K.RPAREN)):
                raise _Failure("not a value body", body.span, None, self.i)
        except _Failure:
            self.i, self.prev_end = start, prev_end
            body = self.bool_expr()
        return ast.Lambda(tuple(params), body, Span(opener.start, self.prev_end))

    # -- values -------------------------------------------------------------------------------

    def value(self, allow_function_name: bool) -> ast.Value:
        tok = self.peek()
        kind = tok.kind
        if kind is K.NIL:
            self.advance()
            return ast.NilLit(tok.span)
        if kind is K.STRING:
            self.advance()
            return ast.StringLit(tok.value or "", tok.span)
        if kind is K.BYTES:
            self.advance()
            return ast.BytesLit(self.bytes_value(tok), tok.span)
        if kind is K.BOOL:
            self.advance()
            return ast.BoolLit(tok.text == "true", tok.span)
        if kind is K.LBRACE:
            return self.map_literal()
        if kind is K.LBRACKET:
            return self.list_literal()
        if kind is K.UPPER and not self.run_is_call():
            return self.bare_uppercase(allow_function_name)
        if kind in _MATH_START:
            return self.math_expression()
        hint = ""
        if kind is K.EQUAL:
            hint = "use '==' to compare"
        self.fail_here("a value", expected="a value", hint=hint)

    def bare_uppercase(self, allow_function_name: bool) -> ast.Value:
        """An uppercase name that is not called: an enum symbol or a function name."""
        tok = self.peek()
        if self.peek(1).kind is not K.LOWER:
            self.advance()
            return ast.EnumSymbol(tok.text, tok.span)
        start = self.i
        name, span = self.name_run()
        if allow_function_name:
            return ast.FunctionName(name, span)
        self.i = start
        self.fail(
            f"expected a value, but found the name '{name}'; a bare function name is only "
            f"accepted as a function argument (call it as {name}(...) to use its result), and "
            "an enum symbol is all uppercase",
            span,
            "a value",
        )

    def list_literal(self) -> ast.ListLit:
        opener = self.advance()
        items: list[ast.Value] = []
        # The reference's list is '[' value* (',' value)* ']': items before the first comma
        # need no separator, and the list may start with a comma.
        while self.peek().kind in _VALUE_START:
            items.append(self.value(allow_function_name=False))
        while self.at(K.COMMA):
            self.advance()
            if self.at(K.RBRACKET):
                self.fail_here("a value after ','", "a value",
                               "a trailing comma is not allowed in a list")
            items.append(self.value(allow_function_name=False))
        close = self.expect_close(K.RBRACKET, opener, "list", also="','")
        return ast.ListLit(tuple(items), Span(opener.start, close.end))

    def map_literal(self) -> ast.MapLit:
        opener = self.advance()
        items: list[ast.MapItem] = []
        # The reference's map is '{' (item ','?)* '}': commas are optional, one may trail.
        while not self.at(K.RBRACE):
            key = self.peek()
            if key.kind in _VALUE_START and key.kind is not K.STRING:
                self.fail(f"map keys must be string literals, but found {key.describe()}",
                          key.span, "a string key")
            if key.kind is not K.STRING:
                where = self.position(opener.start)
                self.fail_here(f"a string key or '}}' to close the map opened at {where}",
                               expected="a string key or '}'")
            self.advance()
            if not self.at(K.COLON):
                self.fail_here("':' after the map key", expected="':'")
            self.advance()
            value = self.value(allow_function_name=False)
            items.append(ast.MapItem(key.value or "", value, Span(key.start, self.prev_end)))
            if self.at(K.COMMA):
                self.advance()
        close = self.advance()
        return ast.MapLit(tuple(items), Span(opener.start, close.end))

    # -- math ---------------------------------------------------------------------------------

    def math_expression(self) -> ast.Value:
        """``term (('+'|'-') term)*`` with ``term = operand (('*'|'/') operand)*``.

        One loop reads the whole operator chain and precedence is applied while folding, which
        keeps the recursion per nesting level small. Results are memoized by start index.
        """
        start = self.i
        hit = self.memo.get(start)
        if hit is not None:
            if isinstance(hit, _Failure):
                raise hit
            node, self.i, self.prev_end = hit
            return node
        try:
            operands = [self.math_operand()]
            ops: list[Token] = []
            while self.peek().kind in (K.ADDSUB, K.MULDIV):
                ops.append(self.advance())
                operands.append(self.math_operand())
        except _Failure as failure:
            self.memo[start] = failure
            raise
        node = _fold_math(operands, ops)
        self.memo[start] = (node, self.i, self.prev_end)
        return node

    def math_operand(self) -> ast.Value:
        """``[sign] (number | path | call | '(' math ')')``. A sign directly before a number is
        part of the literal; before anything else, '-' negates and '+' changes nothing."""
        sign = None
        if self.at(K.ADDSUB):
            sign = self.advance()
            if self.peek().kind in (K.INT, K.FLOAT):
                return self.number(self.advance(), sign)
            if self.at(K.ADDSUB):
                self.fail_here(f"a number, path, function call or '(' after '{sign.text}'",
                               "an operand", "write -(-x) to negate twice")
        tok = self.peek()
        kind = tok.kind
        node: ast.Value
        if kind in (K.INT, K.FLOAT):
            return self.number(self.advance(), None)
        if kind is K.LPAREN:
            self.advance()
            inner = self.math_expression()
            close = self.expect_close(K.RPAREN, tok, "parenthesis")
            node = dataclasses.replace(inner, span=Span(tok.start, close.end))
        elif kind in _NAME_KINDS and self.run_is_call():
            node = self.call()
        elif kind is K.LOWER:
            node = self.path()
        else:
            hint = ""
            if kind is K.UPPER:
                hint = "an enum symbol cannot be used in arithmetic"
            elif kind in (K.STRING, K.BOOL, K.NIL, K.BYTES, K.LBRACKET, K.LBRACE):
                hint = "arithmetic takes numbers, paths, converter calls and parentheses"
            wanted = "a number, path, function call or '('"
            self.fail_here(wanted + (f" after '{sign.text}'" if sign else ""), "an operand", hint)
        if sign is None or sign.text == "+":
            return node
        return ast.Neg(node, Span(sign.start, self.prev_end))

    def number(self, tok: Token, sign: Optional[Token]) -> ast.Value:
        negative = sign is not None and sign.text == "-"
        span = tok.span if sign is None else Span(sign.start, tok.end)
        if tok.kind is K.INT:
            return ast.IntLit(self.int_value(tok, negative), span)
        value = self.float_value(tok)
        return ast.FloatLit(-value if negative else value, span)

    def path(self) -> ast.Path:
        """``field ('.' field)*`` with ``field = lowercase key*``; a segment is one token."""
        fields: list[ast.Field] = []
        while True:
            tok = self.advance()
            keys = self.keys()
            fields.append(ast.Field(tok.text, keys, Span(tok.start, self.prev_end)))
            if not self.at(K.DOT):
                break
            self.advance()
            if not self.at(K.LOWER):
                self.fail_here("a lowercase field name after '.'", "a field name")
        return ast.Path(tuple(fields), Span(fields[0].span.start, self.prev_end))

    def keys(self) -> tuple[ast.Value, ...]:
        """``key*``: as in the reference, a key that does not parse ends the keys (the text
        after it must then make sense without it, e.g. as the next item of a list)."""
        keys: list[ast.Value] = []
        while self.at(K.LBRACKET):
            start, prev_end = self.i, self.prev_end
            try:
                keys.append(self.key())
            except _Failure:
                self.i, self.prev_end = start, prev_end
                break
        return tuple(keys)

    def key(self) -> ast.Value:
        opener = self.advance()
        tok = self.peek()
        node: ast.Value
        if tok.kind is K.STRING:
            self.advance()
            node = ast.StringLit(tok.value or "", tok.span)
        elif tok.kind is K.INT:
            node = self.number(self.advance(), None)
            if not self.at(K.RBRACKET):
                self.fail_here(
                    f"']' after the int key {tok.text}",
                    "']'",
                    f"to compute a key, put the expression in parentheses: [({tok.text} ...)]",
                )
        else:
            node = self.math_expression()
        self.expect_close(K.RBRACKET, opener, "key")
        return node

    # -- literal values -----------------------------------------------------------------------

    def int_value(self, tok: Token, negative: bool) -> int:
        """The value of an Int token as Go's ``strconv.ParseInt(s, 0, 64)`` gives it."""
        text = tok.text
        if len(text) > 1 and text[0] == "0":
            if not text.isdigit() or any(c in "89" for c in text):
                self._fatal(
                    f"invalid integer literal {text}: a leading 0 makes it octal (as in the "
                    "reference), and 8 and 9 are not octal digits",
                    tok.span,
                    "an integer without leading zeros",
                )
            value = int(text, 8)
        else:
            value = int(text, 10)
        if negative:
            value = -value
        if not -(2**63) <= value <= _INT64_MAX:
            self._fatal(
                f"integer literal {'-' if negative else ''}{text} is out of range for a 64-bit "
                "integer",
                tok.span,
                f"an integer from {-(2**63)} to {_INT64_MAX}",
            )
        return value

    def float_value(self, tok: Token) -> float:
        value = float(tok.text)
        if math.isinf(value):
            self._fatal(f"float literal {tok.text} is out of range", tok.span,
                        "a finite float")
        return value

    def bytes_value(self, tok: Token) -> bytes:
        digits = tok.text[2:]
        if len(digits) % 2:
            self._fatal(
                f"bytes literal {tok.text} has an odd number of hex digits ({len(digits)})",
                tok.span,
                "two hex digits per byte",
            )
        return bytes.fromhex(digits)

    def _fatal(self, message: str, span: Span, expected: str) -> NoReturn:
        # Literal tokens are consumed as literals by every parse there is, so a bad one fails
        # the text whatever alternative is being tried.
        raise OttlSyntaxError(message, self.text, span, expected=expected)

    # -- boolean expressions ------------------------------------------------------------------

    def bool_expr(self) -> ast.BoolExpr:
        """``term (('and'|'or') term)*``; 'and' binds tighter, both fold to the left."""
        terms = [self.bool_term()]
        ops: list[Token] = []
        while self.peek().kind in (K.AND, K.OR):
            op = self.advance()
            if self.at(K.EOF):
                self.fail_here(f"a condition after '{op.text}'", "a condition")
            ops.append(op)
            terms.append(self.bool_term())
        return _fold_bool(terms, ops)

    def bool_term(self) -> ast.BoolExpr:
        tok = self.peek()
        if tok.kind is not K.NOT:
            return self.bool_primary()
        self.advance()
        if self.at(K.NOT):
            self.fail_here("a condition after 'not'", "a condition",
                           "'not' applies once; write not (not ...) to negate twice")
        operand = self.bool_primary()
        return ast.Not(operand, Span(tok.start, self.prev_end))

    def bool_primary(self) -> ast.BoolExpr:
        tok = self.peek()
        if tok.kind is K.LPAREN:
            return self.parenthesized_bool()
        if tok.kind is K.BOOL and self.peek(1).kind is not K.CMP:
            self.advance()
            return ast.BoolLit(tok.text == "true", tok.span)
        if tok.kind not in _VALUE_START:
            self.fail_here("a condition", "a condition")
        left = self.value(allow_function_name=False)
        if self.at(K.CMP):
            return self.comparison(left)
        if isinstance(left, ast.Call) and not left.is_editor:
            return left
        self.fail_here(_COMPARISON_OPS + f" after {self.source_of(left)}",
                       _COMPARISON_OPS, _no_comparison_hint(left, self.peek()))

    def parenthesized_bool(self) -> ast.BoolExpr:
        """``(`` opens either math on the left of a comparison or a boolean sub-expression.
        The reference tries the comparison first; so does this, through the memoized math."""
        start, prev_end = self.i, self.prev_end
        try:
            left: Optional[ast.Value] = self.math_expression()
        except _Failure:
            left = None
        if left is not None and self.at(K.CMP):
            return self.comparison(left)
        self.i, self.prev_end = start, prev_end
        opener = self.advance()
        inner = self.bool_expr()
        close = self.expect_close(K.RPAREN, opener, "parenthesis", also="'and', 'or'")
        return dataclasses.replace(inner, span=Span(opener.start, close.end))

    def comparison(self, left: ast.Value) -> ast.Comparison:
        op = self.advance()
        if self.peek().kind not in _VALUE_START:
            self.fail_here(f"a value after '{op.text}'", "a value")
        right = self.value(allow_function_name=False)
        return ast.Comparison(op.text, left, right, Span(left.span.start, self.prev_end))


# ---------------------------------------------------------------------------------------------
# Helpers


def _run_ends(tokens: list[Token]) -> list[int]:
    ends = [0] * len(tokens)
    nxt = len(tokens) - 1
    for k in range(len(tokens) - 1, -1, -1):
        if tokens[k].kind in _NAME_KINDS:
            ends[k] = nxt
        else:
            ends[k] = k
            nxt = k
    return ends


def _fold_math(operands: list[ast.Value], ops: list[Token]) -> ast.Value:
    """Left-fold ``*``/``/`` into terms, then ``+``/``-`` over the terms."""
    terms = [operands[0]]
    add_ops: list[Token] = []
    for op, rhs in zip(ops, operands[1:]):
        if op.kind is K.MULDIV:
            lhs = terms[-1]
            terms[-1] = ast.BinaryMath(op.text, lhs, rhs, lhs.span.cover(rhs.span))
        else:
            add_ops.append(op)
            terms.append(rhs)
    node = terms[0]
    for op, rhs in zip(add_ops, terms[1:]):
        node = ast.BinaryMath(op.text, node, rhs, node.span.cover(rhs.span))
    return node


def _fold_bool(terms: list[ast.BoolExpr], ops: list[Token]) -> ast.BoolExpr:
    """Left-fold ``and`` into conjunctions, then ``or`` over them."""
    conj = [terms[0]]
    for op, rhs in zip(ops, terms[1:]):
        if op.kind is K.AND:
            lhs = conj[-1]
            conj[-1] = ast.And(lhs, rhs, lhs.span.cover(rhs.span))
        else:
            conj.append(rhs)
    node = conj[0]
    for rhs in conj[1:]:
        node = ast.Or(node, rhs, node.span.cover(rhs.span))
    return node




def _excerpt(text: str, quoted: bool = True) -> str:
    text = " ".join(text.split())
    if len(text) > 40:
        text = text[:37] + "..."
    return f"'{text}'" if quoted else text


def _no_comparison_hint(left: ast.Value, found: Token) -> str:
    if found.kind is K.EQUAL:
        return "use '==' to compare"
    if found.kind is K.ARROW:
        return "use '>=' to compare; '=>' only follows the parameters of a lambda argument"
    if isinstance(left, ast.Call) and left.is_editor:
        return (f"'{left.name}' starts with a lowercase letter, so it is an editor; only "
                "converters (uppercase) can be used as conditions")
    if isinstance(left, ast.Path):
        return "a bare path is not a condition"
    if isinstance(left, (ast.BinaryMath, ast.Neg)):
        return "arithmetic is not a condition by itself"
    return "a bare value is not a condition"


# ---------------------------------------------------------------------------------------------
# Checks on the finished tree


class _Checker:
    """The reference's checks on a grammatical tree, plus the argument-order rules and the
    tree depth bound. All problems found are reported together, the caret under the first."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.problems: list[tuple[str, Span]] = []

    def check(self, tree: ast.TopLevel) -> None:
        if isinstance(tree, ast.Statement):
            self.statement_editor(tree.editor)
        self.walk(tree)
        if self.problems:
            message = "; ".join(m for m, _ in self.problems)
            raise OttlSyntaxError(message, self.text, self.problems[0][1])

    def statement_editor(self, call: ast.Call) -> None:
        if not call.is_editor:
            self.problems.append((
                f"editor names must start with a lowercase letter but got '{call.name}'",
                call.span,
            ))

    def walk(self, tree: ast.TopLevel) -> None:
        """Depth-first, iteratively, so that even long operator chains cannot overflow."""
        root_call = tree.editor if isinstance(tree, ast.Statement) else None
        stack: list[tuple[object, int]] = [(tree, 0)]
        too_deep: Optional[Span] = None
        while stack:
            node, depth = stack.pop()
            if _counts_as_level(node):
                depth += 1
                if depth > MAX_EXPRESSION_DEPTH and too_deep is None:
                    too_deep = node.span  # type: ignore[attr-defined]
            if isinstance(node, ast.Call):
                self.call(node, is_statement_editor=node is root_call)
            stack.extend((child, depth) for child in reversed(_children(node)))
        if too_deep is not None:
            self.problems.append((
                f"the expression nests more than MAX_EXPRESSION_DEPTH ({MAX_EXPRESSION_DEPTH}) levels "
                "deep; each call, list, map, key and operator adds a level (a long chain of "
                "'and', 'or' or arithmetic counts one level per operator)",
                too_deep,
            ))

    def call(self, call: ast.Call, is_statement_editor: bool) -> None:
        if call.is_editor and not is_statement_editor:
            self.problems.append((
                f"converter names must start with an uppercase letter but got '{call.name}'",
                call.span,
            ))
        if call.is_editor and call.keys:
            # As written rather than printed: printing recurses, and keys can be long.
            keys = "".join(f"[{self.text[k.span.start : k.span.end]}]" for k in call.keys)
            self.problems.append((
                "only paths and converters may be indexed, not editors, but got "
                f"{call.name}{_excerpt(keys, quoted=False)}",
                call.keys[0].span,
            ))
        seen: dict[str, ast.Argument] = {}
        named: Optional[ast.Argument] = None
        for arg in call.args:
            if arg.name is None:
                if named is not None:
                    self.problems.append((
                        f"positional argument after the named argument '{named.name}' in "
                        f"'{call.name}'; positional arguments come first",
                        arg.span,
                    ))
                continue
            named = arg
            if arg.name in seen:
                self.problems.append((
                    f"named argument '{arg.name}' is given twice in '{call.name}'", arg.span
                ))
            seen[arg.name] = arg


_LEVEL_NODES = (
    ast.Lambda,
    ast.Call,
    ast.ListLit,
    ast.MapLit,
    ast.Neg,
    ast.BinaryMath,
    ast.Comparison,
    ast.Not,
    ast.And,
    ast.Or,
)


def _counts_as_level(node: object) -> bool:
    if isinstance(node, _LEVEL_NODES):
        return True
    return isinstance(node, ast.Path) and any(f.keys for f in node.fields)


def _children(node: object) -> tuple[object, ...]:
    """The child nodes of any AST node, in source order."""
    if isinstance(node, ast.Statement):
        return (node.editor,) if node.where is None else (node.editor, node.where)
    if isinstance(node, ast.Condition):
        return (node.expr,)
    if isinstance(node, ast.ValueExpression):
        return (node.value,)
    if isinstance(node, ast.Call):
        return tuple(a.value for a in node.args) + node.keys
    if isinstance(node, ast.ListLit):
        return node.items
    if isinstance(node, ast.MapLit):
        return tuple(i.value for i in node.items)
    if isinstance(node, ast.Path):
        return tuple(k for f in node.fields for k in f.keys)
    if isinstance(node, ast.Lambda):
        return (node.body,)
    if isinstance(node, ast.Neg):
        return (node.operand,)
    if isinstance(node, ast.Not):
        return (node.operand,)
    if isinstance(node, (ast.BinaryMath, ast.Comparison, ast.And, ast.Or)):
        return (node.left, node.right)
    return ()
