"""The lexer: the reference's token rules, in the reference's order, with spans."""

from __future__ import annotations

import pytest

from ottl.lang.ast import Span
from ottl.lang.errors import OttlSyntaxError
from ottl.lang.lexer import TokenKind as K
from ottl.lang.lexer import tokenize


def kinds(text: str) -> list[tuple[str, str]]:
    return [(t.kind.name, t.text) for t in tokenize(text)[:-1]]


@pytest.mark.parametrize(
    "text, expected",
    [
        # From the reference's lexer_test.go, with the signs now separate tokens.
        ("set(", [("LOWER", "set"), ("LPAREN", "(")]),
        ('"hello"', [("STRING", '"hello"')]),
        ('"hello" "world"', [("STRING", '"hello"'), ("STRING", '"world"')]),
        ("1.0", [("FLOAT", "1.0")]),
        ("-1.0", [("ADDSUB", "-"), ("FLOAT", "1.0")]),
        ("+.5", [("ADDSUB", "+"), ("FLOAT", ".5")]),
        ("1.", [("FLOAT", "1.")]),
        ("1.5e10 2.5E-3 .5e+1", [("FLOAT", "1.5e10"), ("FLOAT", "2.5E-3"), ("FLOAT", ".5e+1")]),
        ("1e3", [("INT", "1"), ("LOWER", "e3")]),
        ("1..2", [("FLOAT", "1."), ("FLOAT", ".2")]),
        ("12 -34", [("INT", "12"), ("ADDSUB", "-"), ("INT", "34")]),
        ("0x0102ff 0XFF", [("BYTES", "0x0102ff"), ("INT", "0"), ("UPPER", "XFF")]),
        ("0x", [("INT", "0"), ("LOWER", "x")]),
        ("true false truex", [("BOOL", "true"), ("BOOL", "false"), ("LOWER", "truex")]),
        ("nil nil_x", [("NIL", "nil"), ("LOWER", "nil_x")]),
        ("not notx and android or order",
         [("NOT", "not"), ("LOWER", "notx"), ("AND", "and"), ("LOWER", "android"),
          ("OR", "or"), ("LOWER", "order")]),
        ("== != >= <= > < =", [("CMP", "=="), ("CMP", "!="), ("CMP", ">="), ("CMP", "<="),
                               ("CMP", ">"), ("CMP", "<"), ("EQUAL", "=")]),
        ("=< => <> ===", [("EQUAL", "="), ("CMP", "<"), ("ARROW", "=>"),
                          ("CMP", "<"), ("CMP", ">"), ("CMP", "=="), ("EQUAL", "=")]),
        # The lambda arrow and the blank parameter.
        ("(_, v) => v", [("LPAREN", "("), ("BLANK", "_"), ("COMMA", ","), ("LOWER", "v"),
                         ("RPAREN", ")"), ("ARROW", "=>"), ("LOWER", "v")]),
        ("+ - * /", [("ADDSUB", "+"), ("ADDSUB", "-"), ("MULDIV", "*"), ("MULDIV", "/")]),
        ("(){}:,.[]", [("LPAREN", "("), ("RPAREN", ")"), ("LBRACE", "{"), ("RBRACE", "}"),
                       ("COLON", ":"), ("COMMA", ","), ("DOT", "."), ("LBRACKET", "["),
                       ("RBRACKET", "]")]),
        # Converter names are runs of Uppercase and Lowercase tokens.
        ("IsMatch", [("UPPER", "I"), ("LOWER", "s"), ("UPPER", "M"), ("LOWER", "atch")]),
        ("SHA256 Sha256", [("UPPER", "SHA256"), ("UPPER", "S"), ("LOWER", "ha256")]),
        ("SPAN_KIND_SERVER", [("UPPER", "SPAN_KIND_SERVER")]),
        ("trace_id.string", [("LOWER", "trace_id"), ("DOT", "."), ("LOWER", "string")]),
        ("a1b2 x9", [("LOWER", "a1b2"), ("LOWER", "x9")]),
        # Keywords need a boundary only after them: the reference matches each rule against the
        # rest of the text, where the start always counts as a boundary.
        ("Xor(", [("UPPER", "X"), ("OR", "or"), ("LPAREN", "(")]),
        ("Band Strue", [("UPPER", "B"), ("AND", "and"), ("UPPER", "S"), ("BOOL", "true")]),
        ("1not", [("INT", "1"), ("NOT", "not")]),
        ("where", [("LOWER", "where")]),
        ("\t\n\r\f ", []),
        ("", []),
    ],
)
def test_token_kinds(text, expected):
    assert kinds(text) == expected


def test_spans_are_character_offsets_and_eof_closes_the_list():
    toks = tokenize('set(attributes["ü"], 1)')
    assert [t.span for t in toks] == [
        Span(0, 3), Span(3, 4), Span(4, 14), Span(14, 15), Span(15, 18), Span(18, 19),
        Span(19, 20), Span(21, 22), Span(22, 23), Span(23, 23),
    ]
    assert toks[-1].kind is K.EOF


@pytest.mark.parametrize(
    "literal, value",
    [
        (r'"plain"', "plain"),
        (r'"fo\"o"', 'fo"o'),
        (r'"\\d+"', "\\d+"),
        (r'"\a\b\f\n\r\t\v"', "\a\b\f\n\r\t\v"),
        (r'"\x41\x7e\xff"', "A~\u00ff"),
        (r'"\101\000\377"', "A\x00\u00ff"),
        (r'"\u00e9\U0001F600"', "é\U0001F600"),
        ('"raw\nline"', "raw\nline"),  # the reference accepts a raw line break
        ('"ünï©ødé"', "ünï©ødé"),
        ('""', ""),
    ],
)
def test_strings_decode_like_go(literal, value):
    (tok,) = tokenize(literal)[:-1]
    assert tok.kind is K.STRING and tok.value == value


@pytest.mark.parametrize(
    "literal, fragment, column",
    [
        (r'"\d"', "invalid escape '\\d'", 2),
        (r'"a\'b"', "invalid escape '\\''", 3),
        (r'"\x4"', "exactly 2 hex digits", 2),
        (r'"\u12"', "exactly 4 hex digits", 2),
        (r'"\uD800"', "not a valid Unicode code point", 2),
        (r'"\U00110000"', "not a valid Unicode code point", 2),
        (r'"\400"', "octal escape", 2),
        (r'"\0"', "octal escape", 2),
        ('"abc', "unterminated string", 1),
        ('x "abc\\', "unterminated string", 3),
        ('"a\\\nb"', "cannot escape a line break", 3),
    ],
)
def test_bad_strings(literal, fragment, column):
    with pytest.raises(OttlSyntaxError) as info:
        tokenize(literal)
    assert fragment in info.value.message
    assert info.value.column == column


@pytest.mark.parametrize(
    "text, fragment, column",
    [
        ("set('a')", "double quotes", 5),
        ("a ! b", "did you mean '!='", 3),
        ("a && b", "use 'and'", 3),
        ("a || b", "use 'or'", 3),
        ("_x", "unexpected character '_'", 1),
        ("x\vy", "U+000B", 2),  # Go's \s has no vertical tab
        ("x\u00a0y", "U+00A0", 2),  # nor Unicode spaces
        ("١", "unexpected character", 1),  # nor Unicode digits
        ("é", "unexpected character 'é'", 1),
        ("a;b", "unexpected character ';'", 2),
    ],
)
def test_unexpected_characters(text, fragment, column):
    with pytest.raises(OttlSyntaxError) as info:
        tokenize(text)
    assert fragment in info.value.message
    assert info.value.column == column


def test_errors_point_at_line_and_column_in_multiline_text():
    with pytest.raises(OttlSyntaxError) as info:
        tokenize("set(x,\n  'y')")
    assert (info.value.line, info.value.column) == (2, 3)
    assert info.value.context() == "  'y')\n  ^"


def test_describe_names_tokens_for_messages():
    toks = tokenize('set "a" 12 0x01 X ( ')
    assert [t.describe() for t in toks] == [
        "name 'set'", 'string "a"', "number 12", "0x01", "name 'X'", "'('", "end of input",
    ]
