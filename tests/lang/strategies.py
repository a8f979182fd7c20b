"""Hypothesis strategies for valid OTTL trees: every construct the parser can produce.

The trees are those the parser builds (spans left out): literals of every kind, paths with
context prefixes and string, int and expression keys, editor and converter calls with
positional, named and function-name arguments, converter keys, math with unary minus,
every comparison operator, and not/and/or nested in any way. A name is drawn only if the lexer
reads it back as that kind of name (``Xor`` is not a converter name: it lexes as ``X`` and the
keyword ``or``).
"""

from __future__ import annotations

from hypothesis import strategies as st

from ottl.lang import ast
from ottl.lang.errors import OttlSyntaxError
from ottl.lang.lexer import TokenKind, tokenize

_KEYWORDS = {"not", "or", "and", "nil", "true", "false"}
COMPARISON_OPS = ("==", "!=", "<", "<=", ">", ">=")
MATH_OPS = ("+", "-", "*", "/")


def _name_kinds(name: str) -> list[TokenKind]:
    try:
        return [t.kind for t in tokenize(name)[:-1]]
    except OttlSyntaxError:
        return []


def _is_run(name: str, first: TokenKind) -> bool:
    """``name`` lexes as Upper/Lowercase tokens only, starting with ``first``, with no spaces."""
    kinds = _name_kinds(name)
    return (
        bool(kinds)
        and kinds[0] is first
        and all(k in (TokenKind.UPPER, TokenKind.LOWER) for k in kinds)
    )


field_names = st.one_of(
    st.sampled_from(["span", "resource", "scope", "attributes", "body", "name", "cache", "where"]),
    st.from_regex(r"[a-z][a-z0-9_]{0,7}", fullmatch=True).filter(lambda n: n not in _KEYWORDS),
)

editor_names = st.one_of(
    st.sampled_from(["set", "delete_key", "replace_pattern", "keep_keys", "merge_maps", "where"]),
    st.from_regex(r"[a-z][a-z0-9_]{0,5}(?:[A-Z][A-Z0-9_]{0,2}[a-z][a-z0-9_]{0,3}){0,2}",
                  fullmatch=True).filter(lambda n: _is_run(n, TokenKind.LOWER)),
)

converter_names = st.one_of(
    st.sampled_from(["IsMatch", "Concat", "Split", "SHA256", "ParseJSON", "Int", "UUID"]),
    st.from_regex(r"[A-Z][A-Z0-9_]{0,3}(?:[a-z][a-z0-9_]{0,4}[A-Z0-9_]{0,2}){0,3}",
                  fullmatch=True).filter(lambda n: _is_run(n, TokenKind.UPPER)),
)

enum_names = st.from_regex(r"[A-Z][A-Z0-9_]{0,12}", fullmatch=True)

# A bare mixed-case name: an Uppercase token directly followed by a Lowercase one.
function_names = st.from_regex(
    r"[A-Z][A-Z0-9_]{0,3}[a-z][a-z0-9_]{0,4}(?:[A-Z][A-Z0-9_]{0,2}[a-z0-9_]{0,3})?",
    fullmatch=True,
).filter(lambda n: _is_run(n, TokenKind.UPPER) and _name_kinds(n)[1:2] == [TokenKind.LOWER])

argument_names = editor_names

# ---------------------------------------------------------------------------------------------
# Literals

ints = st.integers(min_value=-(2**63), max_value=2**63 - 1).map(ast.IntLit)
floats = st.floats(allow_nan=False, allow_infinity=False).map(ast.FloatLit)
strings = st.text(max_size=12).map(ast.StringLit)
byte_strings = st.binary(min_size=1, max_size=8).map(ast.BytesLit)
bools = st.booleans().map(ast.BoolLit)
nils = st.just(ast.NilLit())
enums = enum_names.map(ast.EnumSymbol)

literals = st.one_of(ints, floats, strings, byte_strings, bools, nils, enums)


def _path(keys: st.SearchStrategy[ast.Value]) -> st.SearchStrategy[ast.Path]:
    field = st.builds(ast.Field, field_names, st.lists(keys, max_size=2).map(tuple))
    return st.lists(field, min_size=1, max_size=3).map(lambda fs: ast.Path(tuple(fs)))


simple_paths = _path(st.one_of(strings, ints))

# ---------------------------------------------------------------------------------------------
# Values


def _is_math_operand(node: ast.Value) -> bool:
    if isinstance(node, ast.Call):
        return not node.is_editor
    return isinstance(node, (ast.IntLit, ast.FloatLit, ast.Path, ast.Neg, ast.BinaryMath))


_lambda_params = st.lists(
    st.one_of(st.just("_"), st.from_regex(r"[a-z][a-z0-9_]{0,5}", fullmatch=True)),
    max_size=3,
).filter(lambda ps: len([p for p in ps if p != "_"]) == len({p for p in ps if p != "_"})
         and not set(ps) & (_KEYWORDS | {"where"}))


def _lambdas(values: st.SearchStrategy[ast.Value]) -> st.SearchStrategy[ast.Lambda]:
    """A lambda argument: its body a value or a comparison (boolean operators are covered by
    the condition strategies)."""
    comparison = st.builds(ast.Comparison, st.sampled_from(COMPARISON_OPS), values, values)
    body = st.one_of(values, comparison, comparison.map(ast.Not))
    return st.builds(ast.Lambda, _lambda_params.map(tuple), body)


def _arguments(values: st.SearchStrategy[ast.Value]) -> st.SearchStrategy[tuple[ast.Argument, ...]]:
    """Positional arguments first, then named ones with distinct names; a bare function name
    may be any argument's value."""
    arg_value = st.one_of(values, function_names.map(ast.FunctionName), _lambdas(values))
    positional = st.lists(arg_value.map(ast.Argument), max_size=3)
    # Names and values are drawn apart: unique_by on (name, value) pairs would filter the
    # recursive value strategy.
    named = st.tuples(
        st.lists(argument_names, max_size=2, unique=True),
        st.lists(arg_value, min_size=2, max_size=2),
    ).map(lambda nv: [ast.Argument(v, n) for n, v in zip(*nv)])
    return st.tuples(positional, named).map(lambda pn: tuple(pn[0] + pn[1]))


def _as_operand(node: ast.Value) -> ast.Value:
    # A map rather than a filter: filtering the recursive strategy rejects too much.
    return node if _is_math_operand(node) else ast.Path((ast.Field("x"),))


def _keys(values: st.SearchStrategy[ast.Value]) -> st.SearchStrategy[ast.Value]:
    """What a key may hold: a string or int literal, or an expression evaluated at run time."""
    return st.one_of(strings, ints, values.map(_as_operand))


def _extend(children: st.SearchStrategy[ast.Value]) -> st.SearchStrategy[ast.Value]:
    operands = st.one_of(ints, floats, simple_paths, children.map(_as_operand))
    keys = _keys(children)
    return st.one_of(
        st.lists(children, max_size=3).map(lambda vs: ast.ListLit(tuple(vs))),
        st.lists(st.builds(ast.MapItem, st.text(max_size=6), children), max_size=3).map(
            lambda items: ast.MapLit(tuple(items))
        ),
        st.builds(ast.Call, converter_names, _arguments(children),
                  st.lists(keys, max_size=2).map(tuple)),
        _path(keys),
        st.builds(ast.BinaryMath, st.sampled_from(MATH_OPS), operands, operands),
        operands.map(ast.Neg),
    )


values = st.recursive(st.one_of(literals, simple_paths), _extend, max_leaves=10)

converter_calls = st.builds(
    ast.Call, converter_names, _arguments(values), st.lists(_keys(values), max_size=2).map(tuple)
)

# ---------------------------------------------------------------------------------------------
# Boolean expressions and top-level forms

comparisons = st.builds(ast.Comparison, st.sampled_from(COMPARISON_OPS), values, values)


def _extend_bool(children: st.SearchStrategy[ast.BoolExpr]) -> st.SearchStrategy[ast.BoolExpr]:
    return st.one_of(
        children.map(ast.Not),
        st.builds(ast.And, children, children),
        st.builds(ast.Or, children, children),
    )


bool_exprs = st.recursive(st.one_of(bools, comparisons, converter_calls), _extend_bool,
                          max_leaves=6)

editor_calls = st.builds(ast.Call, editor_names, _arguments(values), st.just(()))

_statements = st.builds(ast.Statement, editor_calls, st.none() | bool_exprs)
_conditions = st.builds(ast.Condition, bool_exprs)
_value_expressions = st.builds(ast.ValueExpression, values)

# Deferred only to keep their repr short: hypothesis shows it when a test fails.
statements = st.deferred(lambda: _statements)
conditions = st.deferred(lambda: _conditions)
value_expressions = st.deferred(lambda: _value_expressions)
