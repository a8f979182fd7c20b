"""Property tests: generated trees survive printing and parsing, and no text breaks the parser.

The only exception any text may raise is ``OttlSyntaxError``: not RecursionError, not an
IndexError from the parser's insides, and no hang.
"""

from __future__ import annotations

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

import strategies as ottl_st
from ottl.lang import ast
from ottl.lang.errors import OttlSyntaxError
from ottl.lang.parser import parse_condition, parse_statement, parse_value_expression
from ottl.lang.printer import print_node

PARSERS = (parse_statement, parse_condition, parse_value_expression)

# Characters that make up OTTL, so random text gets past the lexer and into the parser.
OTTL_ALPHABET = '()[]{},.:=<>!+-*/"\\ \n\t0123456789xeE_abcnotrudfalsiwhereANDORXYZSIM'

SEEDS = [
    'set(span.attributes["k"], Concat(["a", 1], "")) where not x == -2 and F()[0]',
    'replace_pattern(attributes["message"], "device=*", attributes["device_name"], SHA256)',
    "set(x, (a + 1) * -b / 2.5e+3) where (a == 1 or b != nil) and IsMatch(y, \"^\\\\d\")",
    'merge_maps(attributes, {"a": [0x01, true, ENUM]}, "upsert", strict = false)',
    "set(x[y[(1 + 2)]], -(5)) where -(-x) <= 010",
]


def _parse_or_syntax_error(parse, text: str) -> None:
    try:
        parse(text)
    except OttlSyntaxError as err:
        assert err.text == text
        assert 0 <= err.span.start <= len(text)
        err.context()  # the caret rendering works for every error


# ---------------------------------------------------------------------------------------------
# Round trips


@given(ottl_st.statements)
def test_statement_round_trip_and_spans(tree):
    text = print_node(tree)
    parsed = parse_statement(text)
    assert parsed == tree
    assert print_node(parsed) == text
    _assert_spans_nest(parsed, text)


@given(ottl_st.conditions)
def test_condition_round_trip(tree):
    assert parse_condition(print_node(tree)) == tree


@given(ottl_st.value_expressions)
def test_value_expression_round_trip(tree):
    assert parse_value_expression(print_node(tree)) == tree


def _assert_spans_nest(parsed, text):
    """Every span lies inside the text and inside its parent's span."""
    stack = [(parsed, 0, len(text))]
    while stack:
        node, lo, hi = stack.pop()
        span = node.span
        assert lo <= span.start <= span.end <= hi, (node, lo, hi)
        for child in _children(node):
            stack.append((child, span.start, span.end))


def _children(node):
    if isinstance(node, ast.Statement):
        return [node.editor] + ([node.where] if node.where is not None else [])
    if isinstance(node, ast.Call):
        return list(node.args) + list(node.keys)
    if isinstance(node, ast.Argument):
        return [node.value]
    if isinstance(node, ast.ListLit):
        return list(node.items)
    if isinstance(node, ast.MapLit):
        return list(node.items)
    if isinstance(node, ast.MapItem):
        return [node.value]
    if isinstance(node, ast.Path):
        return list(node.fields)
    if isinstance(node, ast.Field):
        return list(node.keys)
    if isinstance(node, (ast.Neg, ast.Not)):
        return [node.operand]
    if isinstance(node, (ast.BinaryMath, ast.Comparison, ast.And, ast.Or)):
        return [node.left, node.right]
    return []


# ---------------------------------------------------------------------------------------------
# Arbitrary and damaged text


@given(st.text(max_size=200))
@example("\x00")
@example("set(\ud800)")
@example("\ufeffset(x)")
def test_arbitrary_text_only_raises_syntax_errors(text):
    for parse in PARSERS:
        _parse_or_syntax_error(parse, text)


@given(st.text(alphabet=OTTL_ALPHABET, max_size=120))
def test_ottl_like_text_only_raises_syntax_errors(text):
    for parse in PARSERS:
        _parse_or_syntax_error(parse, text)


_EDITS = st.lists(
    st.tuples(
        st.sampled_from(["delete", "insert", "swap", "duplicate"]),
        st.integers(min_value=0),
        st.sampled_from(list(OTTL_ALPHABET) + ["\u00e9", "'", "#", "\x00"]),
    ),
    min_size=1,
    max_size=4,
)


def _mutate(text: str, edits) -> str:
    for op, pos, ch in edits:
        if not text:
            text = ch
            continue
        k = pos % len(text)
        if op == "delete":
            text = text[:k] + text[k + 1 :]
        elif op == "insert":
            text = text[:k] + ch + text[k:]
        elif op == "swap" and k + 1 < len(text):
            text = text[:k] + text[k + 1] + text[k] + text[k + 2 :]
        elif op == "duplicate":
            text = text[:k] + text[k : k + 5] + text[k:]
    return text


@given(st.sampled_from(SEEDS), _EDITS)
def test_damaged_statements_only_raise_syntax_errors(seed, edits):
    text = _mutate(seed, edits)
    for parse in PARSERS:
        _parse_or_syntax_error(parse, text)


@given(ottl_st.statements, _EDITS)
def test_damaged_generated_statements_only_raise_syntax_errors(tree, edits):
    text = _mutate(print_node(tree), edits)
    _parse_or_syntax_error(parse_statement, text)


@pytest.mark.parametrize(
    "text",
    [
        "(" * 10000,
        ")" * 10000,
        "[" * 10000 + "]" * 10000,
        "set(x) where " + "not (" * 5000,
        "set(x, " + "-" * 10000 + "1)",
        "set(x, " + "F(" * 10000,
        "set(x" + "[a" * 10000,
        "set(x, " + "1 + " * 10000 + "1)",
        "set(x) where " + "a == 1 and " * 5000 + "true",
        '"' * 10001,
        "set(x, " + "a b " * 5000 + ")",
    ],
    ids=["parens", "closers", "brackets", "nots", "minuses", "calls", "keys", "sum", "ands",
         "quotes", "names"],
)
def test_hostile_text_is_a_syntax_error(text):
    for parse in PARSERS:
        with pytest.raises(OttlSyntaxError):
            parse(text)
