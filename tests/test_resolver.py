"""Resolution of parsed OTTL against a context and the function registry."""

from __future__ import annotations

import pytest

from ottl.frontend import resolve_condition, resolve_statement
from ottl.lang.errors import OttlCompileError, OttlError, OttlSyntaxError
from ottl.lang.parser import parse_statement
from ottl.resolved import (
    RCall,
    RCompare,
    REnum,
    RFunctionRef,
    RList,
    RLiteral,
    RPath,
    describe,
)
from ottl.resolver import infer_context


def test_statement_binds_paths_functions_and_enums():
    r = resolve_statement(
        'set(span.attributes["k"], "v") where span.kind == SPAN_KIND_SERVER', "span"
    )
    assert r.context == "span"
    assert r.editor.spec.name == "set"
    target = r.editor.args[0].value
    assert isinstance(target, RPath)
    assert (target.context, target.spec.name) == ("span", "attributes")
    assert [k.value for k in target.keys] == ["k"]
    assert isinstance(r.where, RCompare)
    assert isinstance(r.where.right, REnum) and r.where.right.value == 2


def test_parent_context_paths_resolve_with_the_parent_table():
    r = resolve_statement('set(span.name, resource.attributes["service.name"])', "span")
    source = r.editor.args[1].value
    assert isinstance(source, RPath) and source.context == "resource"
    r = resolve_statement('set(name, instrumentation_scope.name)', "span")
    assert r.editor.args[1].value.context == "scope"


def test_unprefixed_legacy_paths_belong_to_the_given_context():
    r = resolve_statement('set(attributes["a"], status.code) where kind == 2', "span")
    assert r.editor.args[0].value.spec.name == "attributes"
    assert r.editor.args[1].value.spec.name == "status.code"


def test_optional_arguments_are_omitted_slots_and_named_arguments_bind_by_name():
    r = resolve_statement('truncate_all(span.attributes, 10)', "span")
    assert r.editor.args[2] is None
    r2 = resolve_statement(
        'replace_pattern(span.name, "a(b)", "$1", SHA256, replacement_format="x%s")', "span"
    )
    assert isinstance(r2.editor.args[3].value, RFunctionRef)
    names = [p.name for p in r2.editor.spec.params]
    fmt = r2.editor.args[names.index("replacement_format")]
    assert fmt is not None and fmt.value.value == "x%s"


def test_literal_list_parameter():
    r = resolve_statement('keep_keys(span.attributes, ["a", "b"])', "span")
    keys = r.editor.args[1].value
    assert isinstance(keys, RList) and [i.value for i in keys.items] == ["a", "b"]


def test_converter_keys_and_conditions():
    c = resolve_condition('Split(span.name, ",")[0] == "GET"', "span")
    assert isinstance(c.expr, RCompare)
    call = c.expr.left
    assert isinstance(call, RCall) and call.spec.name == "Split"
    assert isinstance(call.keys[0], RLiteral) and call.keys[0].value == 0
    assert "converter Split" in describe(c)


@pytest.mark.parametrize(
    "context, text, fragment",
    [
        ("span", 'set(span.nope, 1)', "not a valid path"),
        ("span", 'set(span.status.nope, 1)', "segment 'nope'"),
        ("span", 'set(log.body, 1)', "not reachable from the span context"),
        ("span", 'set(span.name["x"], 1)', "does not take keys"),
        ("span", 'set(span.trace_state["a"]["b"], "x")', "at most 1 key"),
        ("span", 'frobnicate(span.name)', "undefined function 'frobnicate'"),
        ("span", 'set(span.name, Frobnicate())', "undefined function 'Frobnicate'"),
        ("span", 'set(span.name)', "missing 'value'"),
        ("span", 'set(span.name, "a", "b")', "at most 2"),
        ("span", 'set(span.name, "a", nope="b")', "no parameter named 'nope'"),
        ("span", 'truncate_all(span.attributes, 10, nope=true)', "no parameter named 'nope'"),
        ("span", 'set("name", 1)', "must be a path"),
        ("span", 'set(Concat(["a"], ""), 1)', "must be a path"),
        ("span", 'truncate_all(span.attributes, "10")', "must be an int literal"),
        ("span", 'keep_keys(span.attributes, "a")', "must be a list literal"),
        ("span", 'set(span.kind, SPAN_KIND_NOPE)', "enum symbol 'SPAN_KIND_NOPE'"),
        ("log", 'set(log.severity_number, SPAN_KIND_SERVER)', "not defined in the log context"),
        ("spanevent", 'set(spanevent.event_index, 1)', "read-only"),
        ("span", 'set(span.name, "x") where IsRootSpan() and IsMatch(span.name, "(")', "IsMatch"),
        ("log", 'set(log.body, "x") where IsRootSpan()', "not available in the log context"),
        ("span", 'replace_pattern(span.name, "a", "b", Nope)', "undefined converter 'Nope'"),
        ("span", 'set(span.name, ToLowerCase)', "function name"),
        ("span", 'set(span.attributes["x"], resource.cache["a"])', "cache"),
        ("span", 'set(span.name, ConvertCase(span.name, "title"))', "ConvertCase"),
    ],
)
def test_compile_errors_name_the_problem_and_the_spot(context, text, fragment):
    with pytest.raises(OttlCompileError) as info:
        resolve_statement(text, context)
    err = info.value
    assert fragment in str(err)
    assert err.text == text
    # The caret points inside the statement, under the offending piece.
    assert 0 <= err.span.start < len(text)
    assert "^" in err.context()


def test_a_named_argument_given_twice_is_rejected():
    text = 'truncate_all(span.attributes, 10, utf8_safe=true, utf8_safe=false)'
    with pytest.raises(OttlError, match="given twice") as info:
        resolve_statement(text, "span")
    assert info.value.column == text.rindex("utf8_safe") + 1


def test_error_columns_point_at_the_offending_path():
    text = 'set(span.attributes["a"], span.nope)'
    with pytest.raises(OttlCompileError) as info:
        resolve_statement(text, "span")
    assert info.value.line == 1
    assert info.value.column == text.index("nope") + 1
    assert info.value.context().splitlines()[1].index("^") == text.index("nope")


def test_syntax_errors_stay_syntax_errors():
    with pytest.raises(OttlSyntaxError):
        resolve_statement("set(span.name, ", "span")


def test_unknown_context_is_a_value_error():
    with pytest.raises(ValueError, match="unknown context 'nope'"):
        resolve_statement("set(name, 1)", "nope")


@pytest.mark.parametrize(
    "texts, candidates, expected",
    [
        (['set(span.name, "x")'], ("resource", "scope", "span", "spanevent"), "span"),
        (['set(resource.attributes["a"], 1)'], ("resource", "scope", "span", "spanevent"), "resource"),
        (['set(span.name, "x")', 'set(spanevent.name, "y")'], ("resource", "scope", "span", "spanevent"), "spanevent"),
        (['set(resource.attributes["a"], 1) where span.name == "x"'], ("resource", "scope", "span", "spanevent"), "span"),
        (['set(log.body, "x")', 'set(resource.attributes["a"], 1)'], ("resource", "scope", "log"), "log"),
        (['set(instrumentation_scope.name, "x")'], ("resource", "scope", "span", "spanevent"), "scope"),
        # resource has no IsRootSpan: the contexts below it are tried in priority order.
        (['set(resource.attributes["a"], 1) where IsRootSpan()'], ("resource", "scope", "span", "spanevent"), "span"),
        (['convert_sum_to_gauge() where metric.name == "a"'], ("resource", "scope", "metric", "datapoint"), "metric"),
    ],
)
def test_context_inference(texts, candidates, expected):
    nodes = [parse_statement(t) for t in texts]
    assert infer_context(nodes, candidates) == expected


def test_context_inference_failures_say_why():
    with pytest.raises(ValueError, match="no path starts with a context name"):
        infer_context([parse_statement('set(attributes["a"], 1)')], ("span",))
    with pytest.raises(ValueError, match="not one of the contexts of this list"):
        infer_context([parse_statement('set(log.body, 1)')], ("resource", "scope", "span"))
    with pytest.raises(ValueError, match="IsRootSpan"):
        infer_context(
            [parse_statement('set(log.body, 1) where IsRootSpan()')], ("resource", "scope", "log")
        )


def test_inference_from_one_statement_without_context():
    assert resolve_statement('set(log.body, "x")').context == "log"
    assert resolve_condition("datapoint.count > 1").context == "datapoint"
    with pytest.raises(OttlCompileError, match="unable to infer a context"):
        resolve_statement('set(attributes["a"], 1)')


def test_condition_with_editor_is_rejected():
    with pytest.raises((OttlCompileError, OttlSyntaxError), match="uppercase"):
        resolve_condition('set(span.name, "x")', "span")
