"""The canonical printer: minimal parentheses, Go escapes, exact floats, and parse(print(t)) == t."""

from __future__ import annotations

import math

import pytest

from ottl.lang import ast
from ottl.lang.parser import parse_condition, parse_statement, parse_value_expression
from ottl.lang.printer import format_float, print_node, quote


@pytest.mark.parametrize(
    "text, canonical",
    [
        ("set ( x ,1 )", "set(x, 1)"),
        ('set(x,"a")where y==1', 'set(x, "a") where y == 1'),
        ("set(x, utf8_safe=false)", "set(x, utf8_safe = false)"),
        ("set(x) where Is Match(x, \"a\")", 'set(x) where IsMatch(x, "a")'),
        ("set(x, [1 2, 3])", "set(x, [1, 2, 3])"),
        ("set(x, [, 1])", "set(x, [1])"),
        ('set(x, {"a":1 "b":2,})', 'set(x, {"a": 1, "b": 2})'),
        ("set(x, 010)", "set(x, 8)"),
        ("set(x, +1)", "set(x, 1)"),
        ("set(x, +y)", "set(x, y)"),
        ("set(x, - 1)", "set(x, -1)"),
        ("set(x, 0xABcd)", "set(x, 0xabcd)"),
        ("set(x, .5)", "set(x, 0.5)"),
        ("set(x, 1.)", "set(x, 1.0)"),
        ("set(x, 1.5e3)", "set(x, 1500.0)"),
        ("set(x, 1.0e20)", "set(x, 1.0e+20)"),
        ("set(x, 1.5e-7)", "set(x, 1.5e-07)"),
        ("set(x, ((1)))", "set(x, 1)"),
        ("set(x) where ((a == 1))", "set(x) where a == 1"),
        ("set(x) where not (a == 1)", "set(x) where not a == 1"),
        ('set(x, "\\x41\\101\\u00e9")', 'set(x, "AAé")'),
    ],
)
def test_canonical_text(text, canonical):
    assert print_node(parse_statement(text)) == canonical


@pytest.mark.parametrize(
    "text",
    [
        # Math: parentheses only where the tree needs them; operators fold to the left.
        "1 + 2 * 3",
        "(1 + 2) * 3",
        "1 - (2 - 3)",
        "1 - 2 - 3",
        "8 / (4 / 2)",
        "8 / 4 / 2",
        "8 / (4 * 2)",
        "8 / 4 * 2",
        "a * (b + c) / -d",
        "-(a + b)",
        "-(5)",
        "-(-x)",
        "-(-5)",
        "-(1.5)",
        "1 - -2",
        "x - -y",
        "-2 * x",
        "-9223372036854775808",
        "x[(1 + 2)]",
        "x[-1 + 2]",
        "x[y + 1]",
        "x[1.5 * 2]",
        "F()[(0 * 2)][\"k\"]",
        # Literals.
        '"tab\\there \\"quoted\\" back\\\\slash \\x00 \\x7f \\u0085 \\U000e0001 é"',
        "0x00ff",
        "-0.0",
        "1.0e+300",
        "5.0e-324",
        "[nil, true, false, SPAN_KIND_SERVER]",
        '{"k": [1, {"n": -1.5}]}',
    ],
)
def test_values_print_as_written(text):
    assert print_node(parse_value_expression(text)) == text


@pytest.mark.parametrize(
    "text",
    [
        "a == 1 or b == 2 or c == 3",
        "a == 1 or (b == 2 or c == 3)",
        "a == 1 and (b == 2 or c == 3)",
        "(a == 1 or b == 2) and c == 3",
        "a == 1 and b == 2 or c == 3",
        "a == 1 and (b == 2 and c == 3)",
        "not (a == 1 and b == 2)",
        "not (not true)",
        "not IsMatch(x, \"a\") and not false",
        "(a + 1) * 2 == x",
        "Foo()[\"k\"]",
        "true == false",
        "nil != [1]",
    ],
)
def test_conditions_print_as_written(text):
    assert print_node(parse_condition(text)) == text


def test_round_trip_keeps_the_tree_and_printing_is_idempotent():
    texts = [
        'set(span.attributes["http.route"], "/users/{id}") where span.name == "GET /users"',
        'replace_pattern(log.body, "password=\\\\S+", "password=$$1", SHA256, "hash:%s")',
        'set(span.attributes["first"], Split(span.attributes["peer.names"], ",")[0]) '
        'where IsString(span.attributes["peer.names"])',
        "set(x, (span.end_time_unix_nano - span.start_time_unix_nano) / 1000000)",
        'truncate_all(attributes, 100, utf8_safe = false) where not (a == 1 or b <= -2.5)',
        "set(body, attributes[attributes[\"foo\"][attributes[\"slice\"]][attributes[\"i\"] + 1 - 1]])",
        "replace_pattern(attributes[\"message\"], Sha256)",
    ]
    for text in texts:
        tree = parse_statement(text)
        printed = print_node(tree)
        assert parse_statement(printed) == tree
        assert print_node(parse_statement(printed)) == printed


def test_any_node_prints():
    tree = parse_statement('f(a = [1], b = {"k": x}) where y == 1 and Z()')
    arg = tree.editor.args[0]
    assert print_node(arg) == "a = [1]"
    assert print_node(tree.editor.args[1].value.items[0]) == '"k": x'
    assert print_node(tree.where) == "y == 1 and Z()"
    assert print_node(tree.where.left) == "y == 1"
    assert print_node(ast.Condition(tree.where)) == "y == 1 and Z()"
    assert print_node(ast.ValueExpression(ast.IntLit(3))) == "3"
    assert print_node(ast.Field("attributes", (ast.StringLit("a"), ast.IntLit(0)))) == 'attributes["a"][0]'


@pytest.mark.parametrize(
    "value, text",
    [
        (1.0, "1.0"),
        (1e20, "1.0e+20"),
        (1.5e20, "1.5e+20"),
        (1e-5, "1.0e-05"),
        (0.1, "0.1"),
        (-0.0, "-0.0"),
        (123456789.125, "123456789.125"),
        (2.0**-1074, "5.0e-324"),
        (1.7976931348623157e308, "1.7976931348623157e+308"),
    ],
)
def test_floats_always_have_a_dot_and_read_back_exactly(value, text):
    assert format_float(value) == text
    back = parse_value_expression(text).value
    assert isinstance(back, ast.FloatLit) and back == ast.FloatLit(value)


@pytest.mark.parametrize(
    "value, text",
    [
        ("", '""'),
        ('a"b\\c', '"a\\"b\\\\c"'),
        ("\a\b\f\n\r\t\v", '"\\a\\b\\f\\n\\r\\t\\v"'),
        ("\x00\x1f\x7f", '"\\x00\\x1f\\x7f"'),
        ("\u0085\u2028", '"\\u0085\\u2028"'),
        ("\U000e0001", '"\\U000e0001"'),
        ("é中😀", '"é中😀"'),
        ("\ud800", '"\ud800"'),  # a lone surrogate has no escape; it stays raw and re-lexes
    ],
)
def test_strings_are_escaped_like_go(value, text):
    assert quote(value) == text
    assert parse_value_expression(text).value == ast.StringLit(value)


def test_trees_without_a_text_form_are_refused():
    with pytest.raises(ValueError):
        print_node(ast.BytesLit(b""))
    with pytest.raises(ValueError):
        print_node(ast.FloatLit(math.inf))
    with pytest.raises(ValueError):
        format_float(math.nan)
