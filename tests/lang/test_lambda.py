"""Lambda arguments ``(params) => body`` (the reference's gated lambda converters): parsing,
printing, and resolution with parameter scopes and arity checks."""

from __future__ import annotations

import pytest

from ottl.frontend import resolve_statement
from ottl.lang import ast
from ottl.lang.errors import OttlCompileError, OttlSyntaxError
from ottl.lang.parser import parse_statement
from ottl.lang.printer import print_node
from ottl.resolved import RCompare, RLambda, RLambdaParam, RPath
from ottl.resolver import Options

LAMBDA_GATE = "ottl.functions.enableLambda"
GATED = Options(gates=frozenset({LAMBDA_GATE}))

# Statements from the reference's lambda end-to-end tests (pkg/ottl e2e, log context).
REFERENCE_STATEMENTS = [
    'set(attributes["filtered_slice"], Filter(attributes["primitiveValuesSlice"], (_, v) => v == "value1"))',
    'set(attributes["filtered_map"], Filter(attributes["foo"], (k, _) => k == "bar"))',
    'set(attributes["mapped_slice"], MapEach(attributes["primitiveValuesSlice"], (i, v) => Concat([String(i), ":", String(v)], "")))',
    'set(attributes["pdata"], MapEach(["things"], (_, v) => {"result":v}))',
    'set(attributes["pdata"], MapEach({"key":"val"}, (_, _) => attributes))',
    'set(attributes["all_map"], All(attributes["foo"], (k, _) => k != "missing"))',
    'set(attributes["any_slice"], Any(attributes["primitiveValuesSlice"], (_, v) => v == "value1"))',
    'set(attributes["found_map_mapped"], Find(attributes["foo"], (k, _) => k == "bar", (k, v) => Concat([k, ":", String(v)], "")))',
    'set(attributes["slice_sum"], Reduce([1, 2, 3], 0, (acc, _, v) => acc + Int(v)))',
    'set(attributes["labels_str"], Reduce({"env": "prod"}, "", (acc, k, v) => Concat([acc, k, "=", String(v), ";"], "")))',
    'set(attributes["prefixed_foo"], MapKeys(attributes["foo"], (k, _) => Concat(["http.", k], "")))',
    'set(attributes["test"], When(() => attributes["int_value"] > 0, "positive", "negative"))',
    'set(attributes["test"], When(() => IsMap(attributes["foo"]), When(() => attributes["foo"]["bar"] == "pass", "pass", "fail"), "fail"))',
]


@pytest.mark.parametrize("text", REFERENCE_STATEMENTS)
def test_reference_lambda_statements_parse_print_and_resolve(text):
    tree = parse_statement(text)
    assert parse_statement(print_node(tree)) == tree
    resolved = resolve_statement(text, "log", GATED)
    assert resolved.context == "log"


def test_body_is_a_value_unless_a_condition_follows():
    value = parse_statement("set(a, F((x) => Len(x)))").editor.args[1].value.args[0].value
    assert isinstance(value, ast.Lambda) and isinstance(value.body, ast.Call)
    cond = parse_statement("set(a, F((x) => Len(x) > 1 and x != nil))").editor.args[1].value
    assert isinstance(cond.args[0].value.body, ast.And)
    negated = parse_statement("set(a, F(() => not IsMap(b)))").editor.args[1].value
    assert isinstance(negated.args[0].value.body, ast.Not)


def test_parenthesized_math_is_not_a_lambda():
    arg = parse_statement("set(a, F((b), (1 + 2)))").editor.args[1].value.args
    assert isinstance(arg[0].value, ast.Path) and isinstance(arg[1].value, ast.BinaryMath)


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("set(a, F((x, x) => 1))", "declared twice"),
        ("set(a, F((x) =>))", "lambda body"),
        ("set(a, F((x) => ))", "lambda body"),
        ("set(a, F(_))", "expected a value"),
        ("set(a, F((_x) => 1))", "_"),
        ("set(a, [(x) => 1])", "'=>'"),
        ("set(a) where (x) => true", "a bare path is not a condition"),
        ("set(a) where b => 1", "use '>=' to compare"),
    ],
)
def test_lambda_syntax_errors(text, fragment):
    with pytest.raises(OttlSyntaxError) as info:
        parse_statement(text)
    assert fragment in str(info.value)


def test_parameters_shadow_paths_and_blanks_bind_nothing():
    r = resolve_statement(
        'set(log.attributes["x"], Filter(log.attributes["m"], (k, _) => k == "a" and log.body != nil))',
        "log",
        GATED,
    )
    lam = r.editor.args[1].value.args[1].value
    assert isinstance(lam, RLambda) and lam.params == ("k", "_")
    left = lam.body.left
    assert isinstance(left, RCompare) and isinstance(left.left, RLambdaParam)
    assert isinstance(lam.body.right.left, RPath)
    # `_` binds nothing, so it cannot be read.
    with pytest.raises(OttlSyntaxError):
        resolve_statement('set(log.body, Filter(log.attributes, (_, _) => _))', "log", GATED)


def test_parameter_keys_and_nested_scopes():
    r = resolve_statement(
        'set(log.body, MapEach(log.attributes, (k, v) => Any(v, (i, w) => w["n"] == k)))',
        "log",
        GATED,
    )
    inner = r.editor.args[1].value.args[1].value.body.args[1].value
    cmp = inner.body
    assert isinstance(cmp.left, RLambdaParam) and cmp.left.name == "w" and len(cmp.left.keys) == 1
    assert isinstance(cmp.right, RLambdaParam) and cmp.right.name == "k"
    # Outside the lambda the same name is a path again.
    r2 = resolve_statement('set(log.attributes["k"], Filter(log.attributes, (k, v) => true))', "log", GATED)
    assert isinstance(r2.editor.args[0].value, RPath)


@pytest.mark.parametrize(
    "text, fragment",
    [
        ('set(log.body, Filter(log.attributes, (v) => v == 1))', "2 parameter(s), got 1"),
        ('set(log.body, When((x) => true, 1, 2))', "0 parameter(s), got 1"),
        ('set(log.body, Filter(log.attributes, log.body))', "must be a lambda expression"),
        ('set(log.body, Concat([String((x) => 1)], ""))', "only accepted as the argument"),
        ('set(log.body, MapEach(log.attributes, (k, v) => v.x))', "has no fields"),
        ('set((k) => 1, 1)', "must be a path"),
    ],
)
def test_lambda_compile_errors(text, fragment):
    with pytest.raises(OttlCompileError) as info:
        resolve_statement(text, "log", GATED)
    assert fragment in str(info.value)


def test_lambda_functions_need_their_feature_gate():
    with pytest.raises(OttlCompileError, match=LAMBDA_GATE):
        resolve_statement('set(log.body, When(() => true, 1, 2))', "log")
    with pytest.raises(OttlCompileError, match=LAMBDA_GATE):
        resolve_statement('set(log.body, When(() => true, 1, 2))')
