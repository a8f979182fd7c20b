"""The parser against the reference's grammar: parser_test.go, LANGUAGE.md and e2e statements.

Trees are compared without spans (spans take no part in AST equality); spans have their own
tests at the end.
"""

from __future__ import annotations

import sys

import pytest

from ottl.lang import ast
from ottl.lang.ast import Span
from ottl.lang.errors import OttlSyntaxError
from ottl.lang.parser import parse_condition, parse_statement, parse_value_expression
from ottl.limits import MAX_EXPRESSION_DEPTH, MAX_NESTING_DEPTH, MAX_STATEMENT_LENGTH

# ---------------------------------------------------------------------------------------------
# Tree builders (spans left at their default)


def f(name, *keys):
    return ast.Field(name, tuple(keys))


def p(*segments):
    """A path; each segment is a name or a Field."""
    return ast.Path(tuple(s if isinstance(s, ast.Field) else f(s) for s in segments))


def c(name, *args, keys=()):
    """A call; an argument is a value or a (name, value) pair."""
    return ast.Call(
        name,
        tuple(ast.Argument(a[1], a[0]) if isinstance(a, tuple) else ast.Argument(a) for a in args),
        tuple(keys),
    )


def s(v):
    return ast.StringLit(v)


def i(v):
    return ast.IntLit(v)


def fl(v):
    return ast.FloatLit(v)


def m(op, left, right):
    return ast.BinaryMath(op, left, right)


def cmp(op, left, right):
    return ast.Comparison(op, left, right)


def st(editor, where=None):
    return ast.Statement(editor, where)


T, F = ast.BoolLit(True), ast.BoolLit(False)
NIL = ast.NilLit()
NAME = p("name")


def set_name_test(where):
    return st(c("set", NAME, s("test")), where)


# ---------------------------------------------------------------------------------------------
# Statements with their trees (Test_parse, Test_parseWhere of the reference)

STATEMENTS = [
    ('set("foo")', st(c("set", s("foo")))),
    ("met(1.2)", st(c("met", fl(1.2)))),
    ("fff(12)", st(c("fff", i(12)))),
    (
        'fff({"stringAttr": "value", "intAttr": 3, "floatAttr": 2.5, "boolAttr": true})',
        st(c("fff", ast.MapLit((
            ast.MapItem("stringAttr", s("value")),
            ast.MapItem("intAttr", i(3)),
            ast.MapItem("floatAttr", fl(2.5)),
            ast.MapItem("boolAttr", T),
        )))),
    ),
    ("fff({})", st(c("fff", ast.MapLit(())))),
    ('fff(GetSomething({"foo":"bar"}))',
     st(c("fff", c("GetSomething", ast.MapLit((ast.MapItem("foo", s("bar")),)))))),
    (
        'fff({"mapAttr": {"foo": "bar", "get": bear.honey, "arrayAttr":["foo", "bar"]}})',
        st(c("fff", ast.MapLit((ast.MapItem("mapAttr", ast.MapLit((
            ast.MapItem("foo", s("bar")),
            ast.MapItem("get", p("bear", "honey")),
            ast.MapItem("arrayAttr", ast.ListLit((s("foo"), s("bar")))),
        ))),)))),
    ),
    ('set("foo", GetSomething(bear.honey))', st(c("set", s("foo"), c("GetSomething", p("bear", "honey"))))),
    ('set(foo.attributes["bar"].cat, "dog")',
     st(c("set", p("foo", f("attributes", s("bar")), "cat"), s("dog")))),
    ('set(attributes["bar"], "dog")', st(c("set", p(f("attributes", s("bar"))), s("dog")))),
    (
        'replace_pattern(attributes["message"], "device=*", attributes["device_name"], SHA256)',
        st(c("replace_pattern", p(f("attributes", s("message"))), s("device=*"),
             p(f("attributes", s("device_name"))), ast.EnumSymbol("SHA256"))),
    ),
    ('replace_pattern(attributes["message"], Sha256)',
     st(c("replace_pattern", p(f("attributes", s("message"))), ast.FunctionName("Sha256")))),
    ('replace_pattern(attributes["message"], S)',
     st(c("replace_pattern", p(f("attributes", s("message"))), ast.EnumSymbol("S")))),
    ('set(foo.bar["x"]["y"].z, Test()[0]["pass"])',
     st(c("set", p("foo", f("bar", s("x"), s("y")), "z"), c("Test", keys=(i(0), s("pass")))))),
    ('set(foo.attributes["bar"].cat, "dog") where name == "fido"',
     st(c("set", p("foo", f("attributes", s("bar")), "cat"), s("dog")), cmp("==", NAME, s("fido")))),
    ('set(foo.attributes["bar"].cat, "dog") where name != "fido"',
     st(c("set", p("foo", f("attributes", s("bar")), "cat"), s("dog")), cmp("!=", NAME, s("fido")))),
    ('set  ( foo.attributes[ "bar"].cat,   "dog")   where name=="fido"',
     st(c("set", p("foo", f("attributes", s("bar")), "cat"), s("dog")), cmp("==", NAME, s("fido")))),
    ('set("fo\\"o")', st(c("set", s('fo"o')))),
    ('convert_gauge_to_sum("cumulative", false)', st(c("convert_gauge_to_sum", s("cumulative"), F))),
    ('convert_gauge_to_sum("cumulative", true)', st(c("convert_gauge_to_sum", s("cumulative"), T))),
    ('set(attributes["bytes"], 0x0102030405060708)',
     st(c("set", p(f("attributes", s("bytes"))), ast.BytesLit(bytes(range(1, 9)))))),
    ('set(attributes["test"], nil)', st(c("set", p(f("attributes", s("test"))), NIL))),
    ('set(attributes["test"], "nil")', st(c("set", p(f("attributes", s("test"))), s("nil")))),
    ('set(attributes["test"], TEST_ENUM)',
     st(c("set", p(f("attributes", s("test"))), ast.EnumSymbol("TEST_ENUM")))),
    ('set(attributes["test"], [])', st(c("set", p(f("attributes", s("test"))), ast.ListLit(())))),
    ('set(attributes["test"], ["value0"])',
     st(c("set", p(f("attributes", s("test"))), ast.ListLit((s("value0"),))))),
    (
        'set(attributes["test"], [Concat(["a", "b"], "+"), ["1", 2, 3.0], nil, attributes["test"]])',
        st(c("set", p(f("attributes", s("test"))), ast.ListLit((
            c("Concat", ast.ListLit((s("a"), s("b"))), s("+")),
            ast.ListLit((s("1"), i(2), fl(3.0))),
            NIL,
            p(f("attributes", s("test"))),
        )))),
    ),
    (
        'set(attributes["test"], 1000 - 600) where 1 + 1 * 2 == three / One()',
        st(c("set", p(f("attributes", s("test"))), m("-", i(1000), i(600))),
           cmp("==", m("+", i(1), m("*", i(1), i(2))), m("/", p("three"), c("One")))),
    ),
    ('set(name="foo")', st(c("set", ("name", s("foo"))))),
    # Named arguments may be written without spaces or with, and name a run of tokens.
    ('truncate_all(attributes, 100, utf8_safe = false)',
     st(c("truncate_all", p("attributes"), i(100), ("utf8_safe", F)))),
    ('set(set = foo.attributes["animal"], val = "dog") where animal == "cat"',
     st(c("set", ("set", p("foo", f("attributes", s("animal")))), ("val", s("dog"))),
        cmp("==", p("animal"), s("cat")))),
    # Where clauses (Test_parseWhere).
    ('set(name, "test") where true', set_name_test(T)),
    ('set(name, "test") where true and false', set_name_test(ast.And(T, F))),
    ('set(name, "test") where true and true and false', set_name_test(ast.And(ast.And(T, T), F))),
    ('set(name, "test") where true or false', set_name_test(ast.Or(T, F))),
    ('set(name, "test") where false and true or false', set_name_test(ast.Or(ast.And(F, T), F))),
    ('set(name, "test") where (false and true) or false', set_name_test(ast.Or(ast.And(F, T), F))),
    ('set(name, "test") where false and (true or false)', set_name_test(ast.And(F, ast.Or(T, F)))),
    ('set(name, "test") where name != "foo" and name != "bar"',
     set_name_test(ast.And(cmp("!=", NAME, s("foo")), cmp("!=", NAME, s("bar"))))),
    ('set(name, "test") where name == "foo" or name == "bar"',
     set_name_test(ast.Or(cmp("==", NAME, s("foo")), cmp("==", NAME, s("bar"))))),
    ('set(name, "test") where true and not false', set_name_test(ast.And(T, ast.Not(F)))),
    ('set(name, "test") where not name == "bar"', set_name_test(ast.Not(cmp("==", NAME, s("bar"))))),
    ('set(name, "test") where not (true or false)', set_name_test(ast.Not(ast.Or(T, F)))),
    ('set(name, "test") where True()', set_name_test(c("True"))),
    ('set(name, "test") where True() and False()', set_name_test(ast.And(c("True"), c("False")))),
    ('set(name, "test") where nil == nil', set_name_test(cmp("==", NIL, NIL))),
    ('set(name, "test") where nil == "nil"', set_name_test(cmp("==", NIL, s("nil")))),
    # Other statements of parser_test.go's Test_parseStatement that must parse.
    ('test() where service == "pinger" or foo.attributes["endpoint"] == "/x/alive"',
     st(c("test"), ast.Or(cmp("==", p("service"), s("pinger")),
                          cmp("==", p("foo", f("attributes", s("endpoint"))), s("/x/alive"))))),
    (
        'test() where service == "pinger" or foo.attributes["verb"] == "GET" and '
        'foo.attributes["endpoint"] == "/x/alive"',
        st(c("test"), ast.Or(
            cmp("==", p("service"), s("pinger")),
            ast.And(cmp("==", p("foo", f("attributes", s("verb"))), s("GET")),
                    cmp("==", p("foo", f("attributes", s("endpoint"))), s("/x/alive"))),
        )),
    ),
    *[(f'test() where animal {op} "cat"', st(c("test"), cmp(op, p("animal"), s("cat"))))
      for op in (">", ">=", "<=", "<")],
    ('test() where attributes["path"] == "/healthcheck"',
     st(c("test"), cmp("==", p(f("attributes", s("path"))), s("/healthcheck")))),
]


@pytest.mark.parametrize("text, expected", STATEMENTS, ids=[t for t, _ in STATEMENTS])
def test_statement_trees(text, expected):
    assert parse_statement(text) == expected


# ---------------------------------------------------------------------------------------------
# Conditions and value expressions with their trees

CONDITIONS = [
    ('name == "fido"', cmp("==", NAME, s("fido"))),
    ('name != "fido"', cmp("!=", NAME, s("fido"))),
    ("1 + 1 * 2 == three / One()",
     cmp("==", m("+", i(1), m("*", i(1), i(2))), m("/", p("three"), c("One")))),
    ("Int() == 1", cmp("==", c("Int"), i(1))),
    ("1 == Int()", cmp("==", i(1), c("Int"))),
    ("true and 1 == Int() ", ast.And(T, cmp("==", i(1), c("Int")))),
    ("false or 1 == Int() ", ast.Or(F, cmp("==", i(1), c("Int")))),
    ("One() == 1", cmp("==", c("One"), i(1))),
    ("Test()", c("Test")),
    ('not (IsMatch(name, "http_.*") and kind > 0)',
     ast.Not(ast.And(c("IsMatch", NAME, s("http_.*")), cmp(">", p("kind"), i(0))))),
    ('Split(span.name, ",")[0] == "GET"',
     cmp("==", c("Split", p("span", "name"), s(","), keys=(i(0),)), s("GET"))),
    ('ParseJSON(body)["a"]', c("ParseJSON", p("body"), keys=(s("a"),))),
    # '(' opens math when a comparison follows, a boolean group otherwise.
    ("(a + 1) * 2 == x", cmp("==", m("*", m("+", p("a"), i(1)), i(2)), p("x"))),
    ("(a) == (b)", cmp("==", p("a"), p("b"))),
    ("((a == b))", cmp("==", p("a"), p("b"))),
    ("(Foo()) and x == 1", ast.And(c("Foo"), cmp("==", p("x"), i(1)))),
    ("((a + 1) * 2 == 3 or b == 1) and c == 1",
     ast.And(ast.Or(cmp("==", m("*", m("+", p("a"), i(1)), i(2)), i(3)), cmp("==", p("b"), i(1))),
             cmp("==", p("c"), i(1)))),
    ("not (not true)", ast.Not(ast.Not(T))),
    ("true == false", cmp("==", T, F)),
    ("a == b or c == d and e == f or g == h",
     ast.Or(ast.Or(cmp("==", p("a"), p("b")),
                   ast.And(cmp("==", p("c"), p("d")), cmp("==", p("e"), p("f")))),
            cmp("==", p("g"), p("h")))),
    ('span.kind == SPAN_KIND_SERVER', cmp("==", p("span", "kind"), ast.EnumSymbol("SPAN_KIND_SERVER"))),
    ('[1, 2] == {"a": 0x01}',
     cmp("==", ast.ListLit((i(1), i(2))), ast.MapLit((ast.MapItem("a", ast.BytesLit(b"\x01")),)))),
    ("x == -1", cmp("==", p("x"), i(-1))),
    ("-x < -Int(y)", cmp("<", ast.Neg(p("x")), ast.Neg(c("Int", p("y"))))),
    ("where == 1", cmp("==", p("where"), i(1))),  # 'where' is an ordinary name in a condition
]


@pytest.mark.parametrize("text, expected", CONDITIONS, ids=[t for t, _ in CONDITIONS])
def test_condition_trees(text, expected):
    assert parse_condition(text).expr == expected


VALUES = [
    ("time_end - time_end", m("-", p("time_end"), p("time_end"))),
    ('time_end - time_end - attributes["foo"]',
     m("-", m("-", p("time_end"), p("time_end")), p(f("attributes", s("foo"))))),
    ('Test("foo")', c("Test", s("foo"))),
    ('Test(Test("foo")) - attributes["bar"]',
     m("-", c("Test", c("Test", s("foo"))), p(f("attributes", s("bar"))))),
    ('"fido"', s("fido")),
    ("attributes", p("attributes")),
    ("nil", NIL),
    ("[0x0000000000000000, 0x0000000000000000]",
     ast.ListLit((ast.BytesLit(bytes(8)), ast.BytesLit(bytes(8))))),
    ("true", T),
    ('{"map": 1}', ast.MapLit((ast.MapItem("map", i(1)),))),
    ('["list", "of", "strings"]', ast.ListLit((s("list"), s("of"), s("strings")))),
    ("Sum([1, 2, 3, 4]) + (10 / 1) - 1",
     m("-", m("+", c("Sum", ast.ListLit((i(1), i(2), i(3), i(4)))), m("/", i(10), i(1))), i(1))),
    ("1 - 2 - 3", m("-", m("-", i(1), i(2)), i(3))),
    ("1 - (2 - 3)", m("-", i(1), m("-", i(2), i(3)))),
    ("8 / 4 / 2", m("/", m("/", i(8), i(4)), i(2))),
    ("1 + 2 * 3 - 4 / 5", m("-", m("+", i(1), m("*", i(2), i(3))), m("/", i(4), i(5)))),
    ("(1 + 2) * 3", m("*", m("+", i(1), i(2)), i(3))),
    # Unary signs: folded into a number, otherwise '-' negates and '+' is dropped.
    ("-1", i(-1)),
    ("+1", i(1)),
    ("- 1", i(-1)),
    ("-.5", fl(-0.5)),
    ("-0.0", fl(-0.0)),
    ("-x", ast.Neg(p("x"))),
    ("+x", p("x")),
    ("-(5)", ast.Neg(i(5))),
    ("-(-x)", ast.Neg(ast.Neg(p("x")))),
    ("-(1 + 2)", ast.Neg(m("+", i(1), i(2)))),
    ('-attributes["x"]', ast.Neg(p(f("attributes", s("x"))))),
    ('-Int("5")', ast.Neg(c("Int", s("5")))),
    ("1 - -2", m("-", i(1), i(-2))),
    ("1 -2", m("-", i(1), i(2))),
    ("2 * -x", m("*", i(2), ast.Neg(p("x")))),
    ("-2 * x", m("*", i(-2), p("x"))),
    ("-9223372036854775808", i(-(2**63))),
    ("9223372036854775807", i(2**63 - 1)),
    # Go's ParseInt with base 0, as the reference reads int literals: a leading 0 is octal.
    ("010", i(8)),
    ("00", i(0)),
    ("-0777", i(-511)),
    ("1.", fl(1.0)),
    ("1.5e3", fl(1500.0)),
    # Keys: string, int, or a math expression evaluated at run time.
    ('attributes["things"][Len(attributes["things"]) - 1]["name"]',
     p(f("attributes", s("things"), m("-", c("Len", p(f("attributes", s("things")))), i(1)), s("name")))),
    ('attributes[attributes["int_value"] + 1]',
     p(f("attributes", m("+", p(f("attributes", s("int_value"))), i(1))))),
    ('attributes["array"][0.0]', p(f("attributes", s("array"), fl(0.0)))),
    ("x[-1]", p(f("x", i(-1)))),
    ("x[(1 + 2)]", p(f("x", m("+", i(1), i(2))))),
    ("x[1.5 * 2]", p(f("x", m("*", fl(1.5), i(2))))),
    ('resource.attributes[attributes["flags"]]',
     p("resource", f("attributes", p(f("attributes", s("flags")))))),
    ('attributes[ConvertCase(attributes["A|B|C"], "upper")]',
     p(f("attributes", c("ConvertCase", p(f("attributes", s("A|B|C"))), s("upper"))))),
    ('Split(body, ",")[1]', c("Split", p("body"), s(","), keys=(i(1),))),
    ('ExtractPatterns(x, "(?P<n>..)")["n"]', c("ExtractPatterns", p("x"), s("(?P<n>..)"), keys=(s("n"),))),
    ("a.b.c.d", p("a", "b", "c", "d")),
    ("where", p("where")),
]


@pytest.mark.parametrize("text, expected", VALUES, ids=[t for t, _ in VALUES])
def test_value_expression_trees(text, expected):
    assert parse_value_expression(text).value == expected


# ---------------------------------------------------------------------------------------------
# What the reference's grammar accepts, and so do we


@pytest.mark.parametrize(
    "text, expected",
    [
        # A name is a run of tokens and the reference elides whitespace between them.
        ('set(x) where Is Match(x, "a")', st(c("set", p("x")), c("IsMatch", p("x"), s("a")))),
        ("set (x)", st(c("set", p("x")))),
        ("merge Maps(x)", st(c("mergeMaps", p("x")))),
        ("set(x, Foo Bar)", st(c("set", p("x"), ast.FunctionName("FooBar")))),
        ("set(a b = 1)", st(c("set", ("ab", i(1))))),
        ("set(fooBar = 1)", st(c("set", ("fooBar", i(1))))),
        # 'where' may follow without a space, and may even be a path.
        ("set(x)where(true)", st(c("set", p("x")), T)),
        ("set(x) whereFoo()", st(c("set", p("x")), c("Foo"))),
        ("set(where) where where == 1", st(c("set", p("where")), cmp("==", p("where"), i(1)))),
        # Lists: '[' value* (',' value)* ']' in the reference.
        ("set(x, [1 2, 3])", st(c("set", p("x"), ast.ListLit((i(1), i(2), i(3)))))),
        ("set(x, [, 1])", st(c("set", p("x"), ast.ListLit((i(1),))))),
        ("set(x, [a b])", st(c("set", p("x"), ast.ListLit((p("a"), p("b")))))),
        ("set(x, [x.5])", st(c("set", p("x"), ast.ListLit((p("x"), fl(0.5)))))),
        # A key that does not parse ends the keys: here the '[' starts the next list item.
        ("set(x, [x [1 + 2]])",
         st(c("set", p("x"), ast.ListLit((p("x"), ast.ListLit((m("+", i(1), i(2)),))))))),
        ("set(x, [x [1]])", st(c("set", p("x"), ast.ListLit((p(f("x", i(1))),))))),
        # Maps: '{' (item ','?)* '}'.
        ('set(x, {"a": 1 "b": 2,})',
         st(c("set", p("x"), ast.MapLit((ast.MapItem("a", i(1)), ast.MapItem("b", i(2))))))),
        ('set(x, {"a": 1, "a": 2})',
         st(c("set", p("x"), ast.MapLit((ast.MapItem("a", i(1)), ast.MapItem("a", i(2))))))),
        # Converter names need not survive the keyword rule to be names of other things.
        ("set(android, order, nota)", st(c("set", p("android"), p("order"), p("nota")))),
        # Line breaks are whitespace; raw line breaks are allowed inside strings.
        ('set(\n  x,\n  "a\nb"\n)\nwhere\n  y == 1',
         st(c("set", p("x"), s("a\nb")), cmp("==", p("y"), i(1)))),
    ],
)
def test_reference_grammar_quirks(text, expected):
    assert parse_statement(text) == expected


# ---------------------------------------------------------------------------------------------
# Errors: the reference's failures, with where and why


def error(parse, text):
    with pytest.raises(OttlSyntaxError) as info:
        parse(text)
    err = info.value
    assert err.text == text
    assert 0 <= err.span.start <= len(text)
    return err


# Statements the reference rejects (Test_parseStatement and others), with a fragment of our
# message and the 1-based column of the caret (None: not pinned down).
BAD_STATEMENTS = [
    ("set(", "expected ')' to close the argument list opened at column 4", 5),
    ('set("foo)', "unterminated string", 5),
    ("set(name.)", "field name after '.'", 10),
    ('("foo")', "expected an editor call", 1),
    ('set("foo") where name =||= "fido"', "unexpected character '|'", 24),
    ("set(span_id, SpanIDWrapper{not a hex string})", "argument list opened at column 4", 27),
    ("set(span_id, SpanIDWrapper{01})", "argument list", 27),
    ('set("foo") where name = "fido"', "use '==' to compare", 23),
    ('set("foo") where name or "fido"', "a bare path is not a condition", 23),
    ('set("foo") where name and "fido"', "comparison operator", 23),
    ('set("foo") where name and', "comparison operator", 23),
    ('set("foo") where name or', "comparison operator", 23),
    ('set("foo") where (', "expected a condition", 19),
    ('set("foo") where )', "expected a condition", 18),
    ('set("foo") where (name == "fido"))', "or the end of the statement", 34),
    ('set("foo") where ((name == "fido")', "to close the parenthesis opened at column 18", 35),
    ("Set()", "editor names must start with a lowercase letter but got 'Set'", 1),
    ("Test()", "editor names must start with a lowercase letter but got 'Test'", 1),
    ("set(int())", "converter names must start with an uppercase letter but got 'int'", 5),
    ("set(1 + int())", "converter names must start with an uppercase letter", 9),
    ("set(int() + 1)", "converter names must start with an uppercase letter", 5),
    ("set(1 * int())", "converter names must start with an uppercase letter", 9),
    ("set(1 * 1 + (2 * int()))", "converter names must start with an uppercase letter", 18),
    ("set() where int() == 1", "converter names must start with an uppercase letter", 13),
    ("set() where 1 == int()", "converter names must start with an uppercase letter", 18),
    ("set() where true and 1 == int() ", "converter names must start with an uppercase", 27),
    ("set() where false or 1 == int() ", "converter names must start with an uppercase", 27),
    ("test(fail())", "converter names must start with an uppercase letter but got 'fail'", 6),
    ("test() where one() == 1", "converter names must start with an uppercase", 14),
    ('set(foo.attributes["bar"].cat)["key"]',
     'only paths and converters may be indexed, not editors, but got set["key"]', 32),
    ('set() where test(foo)["key"] == "bar"',
     "converter names must start with an uppercase letter but got 'test'; only paths and "
     'converters may be indexed, not editors, but got test["key"]', 13),
    ('test() where animal =< "dog"', "use '==' to compare", 21),
    ('test() where animal => "dog"', "use '>=' to compare", 21),
    ('test() where animal <> "dog"', "expected a value after '<'", 22),
    ('test() where animal = "dog"', "use '==' to compare", 21),
    ("test() where animal", "a bare path is not a condition", 20),
    ("test() where animal ==", "expected a value after '=='", 23),
    ("test() where ==", "expected a condition", 14),
    ("test() where == animal", "expected a condition", 14),
    # Beyond parser_test.go: the research notes' list of parse errors.
    ("", "expected an editor call", 1),
    ("set(x) where", "expected a condition", 13),
    ("set(x) where a == 1 where b == 2", "at most one 'where' clause", 21),
    ("set(x) extra", "expected 'where' or the end of the statement", 8),
    ('Concat(["a"], "")', "editor names must start with a lowercase letter but got 'Concat'", 1),
    ("set(x, 1)[0]", "only paths and converters may be indexed, not editors, but got set[0]", 11),
    ("set(x,)", "a trailing comma is not allowed in an argument list", 7),
    ("set(,x)", "expected a value", 5),
    ("set(x, 'foo')", "strings are written in double quotes", 8),
    ("set(x) where a == 1 AND b == 2", "'and', 'or' or the end of the statement", 21),
    ("set(x) where not not true", "'not' applies once", 18),
    ("set(x, a = 1, 2)", "positional argument after the named argument 'a'", 15),
    ("set(x, a = 1, a = 2)", "named argument 'a' is given twice", 15),
    ("set(x, 0x123)", "odd number of hex digits", 8),
    ("set(x, 0x)", "argument list", 9),
    ("set(x, 9223372036854775808)", "out of range for a 64-bit integer", 8),
    ("set(x, -9223372036854775809)", "out of range for a 64-bit integer", 9),
    ("set(x, 08)", "8 and 9 are not octal digits", 8),
    ("set(x, 1.0e400)", "float literal 1.0e400 is out of range", 8),
    ("set(x, 1e3)", "a float literal needs a dot, as in 1.0e3", 9),
    ('set(x, "\\d")', "invalid escape '\\d'", 9),
    ("set(x, - - 1)", "write -(-x) to negate twice", 10),
    ("set(x, -\"a\")", "after '-'", 9),
    ('set(x, 1 + "a")', "arithmetic takes numbers, paths, converter calls and parentheses", 12),
    ("set(x, 1 + ENUM)", "an enum symbol cannot be used in arithmetic", 12),
    ("set(x, ENUM + 1)", "argument list", 13),
    ("set(x, [1,])", "a trailing comma is not allowed in a list", 11),
    ("set(x, [1, 2 3])", "to close the list opened at column 8", 14),
    ("set(x, [1, 2", "expected ']' to close the list opened at column 8", 13),
    ("set(x, {1: 2})", "map keys must be string literals", 9),
    ('set(x, {"a" 1})', "expected ':' after the map key", 13),
    ('set(x, {"a": 1,,})', "a string key or '}' to close the map opened at column 8", 16),
    ("set(x, {,})", "a string key or '}'", 9),
    ('set(x, {"a": 1', "a string key or '}' to close the map", 15),
    ("set(x[1 + 2], 1)", "to compute a key, put the expression in parentheses", 9),
    ('set(x["a" + "b"], 1)', "expected ']' to close the key opened at column 6", 11),
    ("set(x[], 1)", "expected a number, path, function call or '('", 7),
    ("set(x[true], 1)", "expected a number, path, function call or '('", 7),
    ("set(x.1)", "argument list", 6),
    ("set(x.Y)", "field name after '.'", 7),
    ("set(x, ToLowerCase + 1)", "argument list", 20),
    ("set(Foo = 1)", "argument list", 9),
    ("set(x) where Foo", "a bare function name is only accepted as a function argument", 14),
    ("set(x) where ENUM", "a bare value is not a condition", 18),
    ("set(x) where set()", "'set' starts with a lowercase letter, so it is an editor", 19),
    ("set(x) where Foo() + 1", "arithmetic is not a condition by itself", 23),
    ("set(x) where 1", "a bare value is not a condition", 15),
    ('set(x) where "a"', "a bare value is not a condition", 17),
    ("set(x) where x == 1 == 2", "'and', 'or' or the end of the statement", 21),
    ("set(x) where (x == 1", "expected ')' to close the parenthesis opened at column 14", 21),
    ("set(x, (1 + 2)", "expected ')' to close the argument list opened at column 4", 15),
    ("set(x, (1 + 2", "expected ')' to close the parenthesis opened at column 8", 14),
    ("set(x) where x == Foo(", "to close the argument list opened at column 22", 23),
    ("set(x) where Xor(1)", "'Xor' reads as the name 'X' followed by the keyword 'or'", 15),
    # The reference's untyped punctuation also matches string tokens; we do not copy that.
    ('set(x "," 1)', "argument list", 7),
]


@pytest.mark.parametrize("text, fragment, column", BAD_STATEMENTS, ids=[t for t, *_ in BAD_STATEMENTS])
def test_statement_errors(text, fragment, column):
    err = error(parse_statement, text)
    assert fragment in err.message
    if column is not None:
        assert err.column == column, str(err)
    assert "^" in err.context()


BAD_CONDITIONS = [
    ("set(", "expected ')' to close the argument list opened at column 4", 5),
    ('set("foo)', "unterminated string", 5),
    ("set(name.)", "field name after '.'", 10),
    ('("foo")', "a bare value is not a condition", 7),
    ('name =||= "fido"', "unexpected character '|'", 7),
    ('name = "fido"', "use '==' to compare", 6),
    ('name or "fido"', "a bare path is not a condition", 6),
    ('name and "fido"', "a bare path is not a condition", 6),
    ("name and", "a bare path is not a condition", 6),
    ("name or", "a bare path is not a condition", 6),
    ("(", "expected a condition", 2),
    (")", "expected a condition", 1),
    ('(name == "fido"))', "or the end of the condition", 17),
    ('((name == "fido")', "to close the parenthesis opened at column 1", 18),
    ("set()", "'set' starts with a lowercase letter", 6),
    ('animal =< "dog"', "use '==' to compare", 8),
    ('animal => "dog"', "use '>=' to compare", 8),
    ('animal <> "dog"', "expected a value after '<'", 9),
    ('animal = "dog"', "use '==' to compare", 8),
    ("animal", "a bare path is not a condition", 7),
    ("animal ==", "expected a value after '=='", 10),
    ("==", "expected a condition", 1),
    ("== animal", "expected a condition", 1),
    ("test(fail())", "'test' starts with a lowercase letter", 13),
    ('"test" == Foo', "a bare function name is only accepted as a function argument", 11),
    ('test(animal) == "dog"', "converter names must start with an uppercase letter but got 'test'", 1),
    ('test(animal)["kind"] == "birds"', "converter names must start with an uppercase letter", 1),
    ('test(animal)["kind"] == "birds"', "only paths and converters may be indexed", 1),
    ("True(", "expected ')' to close the argument list opened at column 5", 6),
    ('"foo == "foo"', "unterminated string", 13),
    ('a == 1 where b == 2', "a condition has no 'where' clause", 8),
    ("a == 1 and", "expected a condition after 'and'", 11),
    ("", "expected a condition", 1),
]


@pytest.mark.parametrize("text, fragment, column", BAD_CONDITIONS, ids=[t for t, *_ in BAD_CONDITIONS])
def test_condition_errors(text, fragment, column):
    err = error(parse_condition, text)
    assert fragment in err.message
    assert err.column == column, str(err)


BAD_VALUES = [
    ('Test(Test("foo")) - attributes["bar"]"', "unterminated string", 38),
    ('test("foo")', "converter names must start with an uppercase letter", 1),
    ('test(animal)["kind"]', "only paths and converters may be indexed", 1),
    # The second '"' closes the string, so a new string follows it.
    ('Test("a"")foo"', "but found string \")foo\"", 9),
    ('Test("a"") == 1"', "to close the argument list opened at column 5", 9),
    ("Foo", "a bare function name is only accepted as a function argument", 1),
    ("1 +", "expected a number, path, function call or '('", 4),
    ("a == b", "an operator or the end of the expression", 3),
    ("", "expected a value", 1),
]


@pytest.mark.parametrize("text, fragment, column", BAD_VALUES, ids=[t for t, *_ in BAD_VALUES])
def test_value_expression_errors(text, fragment, column):
    err = error(parse_value_expression, text)
    assert fragment in err.message
    assert err.column == column, str(err)


def test_errors_name_what_was_expected():
    err = error(parse_statement, "set(x, 1")
    assert err.expected == "',' or ')'"
    assert "expected ')' to close the argument list opened at column 4" in err.message
    err = error(parse_condition, "a")
    assert err.expected and "==" in err.expected


def test_errors_in_multiline_text_give_line_and_column():
    text = 'set(\n  attributes["a"],\n  Concat(["x"] "")\n)'
    err = error(parse_statement, text)
    assert (err.line, err.column) == (3, 16)
    assert "argument list opened at line 3, column 9" in err.message
    err = error(parse_statement, "set(x)\nwhere a = 1")
    assert (err.line, err.column) == (2, 9)
    assert err.context() == "where a = 1\n        ^"


# ---------------------------------------------------------------------------------------------
# Limits


def test_text_longer_than_the_limit_is_rejected_naming_the_limit():
    text = "set(x, " + " " * MAX_STATEMENT_LENGTH + "1)"
    err = error(parse_statement, text)
    assert "MAX_STATEMENT_LENGTH" in err.message and str(MAX_STATEMENT_LENGTH) in err.message
    # Exactly at the limit is fine.
    text = "set(x, 1)"
    assert parse_statement(text + " " * (MAX_STATEMENT_LENGTH - len(text)))


@pytest.mark.parametrize(
    "build",
    [
        lambda n: "set(x, " + "F(" * (n - 1) + "1" + ")" * (n - 1) + ")",
        lambda n: "set(x, " + "[" * (n - 1) + "]" * (n - 1) + ")",
        lambda n: "set(x, " + '{"a": ' * (n - 1) + "1" + "}" * (n - 1) + ")",
        lambda n: "set(x" + "[y" * (n - 1) + "]" * (n - 1) + ", 1)",
        lambda n: "set(x, " + "(" * (n - 1) + "1" + ")" * (n - 1) + ")",
        lambda n: "set(x) where " + "(" * n + "a == 1" + ")" * n,
    ],
    ids=["calls", "lists", "maps", "keys", "math parens", "bool parens"],
)
def test_nesting_up_to_the_limit_parses_and_one_more_is_an_error(build):
    parse_statement(build(MAX_NESTING_DEPTH))
    err = error(parse_statement, build(MAX_NESTING_DEPTH + 1))
    assert "MAX_NESTING_DEPTH" in err.message


def test_nesting_limit_holds_with_little_stack_left():
    """The deepest text allowed parses with only 400 frames of Python stack to spare."""
    text = "set(x, " + "F(" * (MAX_NESTING_DEPTH - 1) + "1" + ")" * (MAX_NESTING_DEPTH - 1) + ")"

    def nested(n):
        return nested(n - 1) if n else parse_statement(text)

    assert nested(sys.getrecursionlimit() - len(_frames()) - 400)


def _frames():
    frame, out = sys._getframe(), []
    while frame is not None:
        out.append(frame)
        frame = frame.f_back
    return out


@pytest.mark.parametrize("text", ["(" * 10000, "[" * 10000, "{" * 10000, "F(" * 5000, "-(" * 5000,
                                  "not (" * 3000])
def test_hostile_nesting_is_a_syntax_error(text):
    for parse in (parse_statement, parse_condition, parse_value_expression):
        err = error(parse, text)
        assert "MAX_NESTING_DEPTH" in err.message


def test_long_operator_chains_count_toward_the_expression_depth():
    # Longer than the bracket nesting limit: real conditions OR together many terms.
    ok = "set(x) where " + " or ".join(["a == 1"] * (MAX_EXPRESSION_DEPTH - 1))
    assert isinstance(parse_statement(ok).where, ast.Or)
    err = error(parse_statement, "set(x) where " + " or ".join(["a == 1"] * (MAX_EXPRESSION_DEPTH + 2)))
    assert "MAX_EXPRESSION_DEPTH" in err.message
    err = error(parse_value_expression, " + ".join(["1"] * 500))
    assert "one level per operator" in err.message


def test_deepest_allowed_chain_survives_every_later_stage():
    """Printing, comparing and resolving a chain at the depth limit stay inside the recursion
    limit, with 300 frames of the caller's stack already used."""
    from ottl.frontend import resolve_condition
    from ottl.lang.printer import print_node

    text = " or ".join(f'span.name == "{i}"' for i in range(MAX_EXPRESSION_DEPTH - 1))

    def nested(n):
        if n:
            return nested(n - 1)
        tree = parse_condition(text)
        assert parse_condition(print_node(tree)) == tree
        return resolve_condition(text, "span")

    assert nested(300 - len(_frames())).context == "span"


def test_wide_is_fine():
    text = "set(x, [" + ", ".join(["1"] * 5000) + "])"
    assert len(parse_statement(text).editor.args[1].value.items) == 5000


# ---------------------------------------------------------------------------------------------
# Spans


def test_every_node_carries_its_span():
    text = 'set(span.attributes["k"], Concat(["a", 1], "")) where not x == -2 and F()[0]'
    tree = parse_statement(text)

    def show(node):
        return text[node.span.start : node.span.end]

    assert show(tree) == text
    editor = tree.editor
    assert show(editor) == 'set(span.attributes["k"], Concat(["a", 1], ""))'
    target = editor.args[0].value
    assert show(target) == 'span.attributes["k"]'
    assert [show(fld) for fld in target.fields] == ["span", 'attributes["k"]']
    assert show(target.fields[1].keys[0]) == '"k"'
    concat = editor.args[1].value
    assert show(editor.args[1]) == show(concat) == 'Concat(["a", 1], "")'
    assert show(concat.args[0].value) == '["a", 1]'
    assert [show(v) for v in concat.args[0].value.items] == ['"a"', "1"]
    where = tree.where
    assert show(where) == "not x == -2 and F()[0]"
    assert show(where.left) == "not x == -2"
    assert show(where.left.operand) == "x == -2"
    assert show(where.left.operand.right) == "-2"
    assert show(where.right) == "F()[0]"


def test_spans_of_parentheses_named_arguments_and_maps():
    text = 'f(n = (1 + 2) * -(x), m = {"k": [1]}) where (a == 1 or b == 2)'
    tree = parse_statement(text)

    def show(node):
        return text[node.span.start : node.span.end]

    arg = tree.editor.args[0]
    assert show(arg) == "n = (1 + 2) * -(x)"
    assert show(arg.value.left) == "(1 + 2)"
    assert show(arg.value.right) == "-(x)"
    item = tree.editor.args[1].value.items[0]
    assert show(item) == '"k": [1]'
    assert show(tree.where) == "(a == 1 or b == 2)"


def test_condition_and_value_expression_spans_cover_the_text():
    assert parse_condition("  a == 1  ").span == Span(2, 8)
    assert parse_value_expression(" 1 + 2").span == Span(1, 6)


def test_non_text_input_is_a_type_error():
    with pytest.raises(TypeError):
        parse_statement(b"set(x)")  # type: ignore[arg-type]
