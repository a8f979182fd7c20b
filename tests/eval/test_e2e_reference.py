"""The reference's end-to-end tables (pkg/ottl/e2e/e2e_test.go), ported: one log record with
attributes of every shape, each statement run in the log context, and the whole output document
compared with the input document changed by the case's expected mutations.

As the reference does, every statement runs twice: as written (unprefixed paths, which the log
context accepts) and with the log context's name put in front of its unprefixed paths
(``attributes`` -> ``log.attributes``), the form the parser collection produces.
"""

from __future__ import annotations

import copy
import dataclasses
import re
from typing import Any, Callable, Optional

import pytest

import ottl
from ottl import contexts as ctxs
from ottl.eval import otlp_json
from ottl.eval.interpreter import _Compiler
from ottl.eval.model import TransformContext
from ottl.eval.values import PMap, PSlice, SpanID, TraceID
from ottl.lang import ast
from ottl.lang.errors import OttlError
from ottl.lang.parser import parse_statement, parse_value_expression
from ottl.lang.printer import print_node
from ottl.resolver import Resolver

# 2020-02-11 20:26:12.000000321 UTC and 20:26:13.000000789 UTC
LOG_TIME = 1581452772000000321
OBSERVED_TIME = 1581452773000000789
TRACE_ID = "0102030405060708090a0b0c0d0e0f10"
SPAN_ID = "0102030405060708"


# -- documents ------------------------------------------------------------------------------------


def any_value(v: Any) -> dict:
    """A raw Python value as an OTLP/JSON AnyValue."""
    if v is None:
        return {}
    if isinstance(v, bool):
        return {"boolValue": v}
    if isinstance(v, int):
        return {"intValue": str(v)}
    if isinstance(v, float):
        return {"doubleValue": v}
    if isinstance(v, str):
        return {"stringValue": v}
    if isinstance(v, dict):
        return {"kvlistValue": {"values": kvs(v)}}
    if isinstance(v, list):
        return {"arrayValue": {"values": [any_value(i) for i in v]}}
    raise TypeError(v)


def kvs(m: dict) -> list:
    return [{"key": k, "value": any_value(v)} for k, v in m.items()]


def log_document(resource_attrs: dict, attrs: dict) -> dict:
    return {"resourceLogs": [{
        "resource": {"attributes": kvs(resource_attrs)},
        "scopeLogs": [{
            "scope": {"name": "scope"},
            "logRecords": [{
                "timeUnixNano": str(LOG_TIME),
                "observedTimeUnixNano": str(OBSERVED_TIME),
                "severityNumber": 1,
                "body": {"stringValue": "operationA"},
                "attributes": kvs(attrs),
                "droppedAttributesCount": 1,
                "flags": 1,  # the default flags with "is sampled" set
                "traceId": TRACE_ID,
                "spanId": SPAN_ID,
            }],
        }],
    }]}


def foo_map() -> dict:
    return {"bar": "pass", "flags": "pass", "slice": ["val"], "nested": {"test": "pass"}}


def things() -> list:
    return [{"name": "foo", "value": 2}, {"name": "bar", "value": 5}]


def converters_document() -> dict:
    """constructLogTransformContext."""
    attrs = {
        "encoding": "base64",
        "http.method": "get",
        "split_delimiter": "|",
        "dynamicprefix": "operation",
        "dynamicsuffix": "tionA",
        "http.path": "/health",
        "http.url": "http://localhost/health",
        "flags": "A|B|C",
        "total.string": "123456789",
        "A|B|C": "something",
        "foo": foo_map(),  # first put as the string "foo", then replaced by this map
        "slice": "slice",
        "val": "val2",
        "int_value": 0,
        "nil_string": "nil",
        "array": ["looong"],
        "things": things(),
        "slices": ["slice1", "slice2", {"name": "foo"}],
        "primitiveValuesSlice": ["value1", 42, True],
    }
    return log_document({"host.name": "localhost", "A|B|C": "newValue"}, attrs)


def editors_document() -> dict:
    """constructLogTransformContextEditors."""
    attrs = {
        "http.method": "get",
        "http.path": "/health",
        "http.url": "http://localhost/health",
        "flags": "A|B|C",
        "total.string": "123456789",
        "conflict": {"conflict1": {"conflict2": "pass"}},
        "conflict.conflict1": {"conflict2": "nopass"},
        "foo": foo_map(),
        "things": things(),
    }
    return log_document({"host.name": "localhost"}, attrs)


def value_expressions_document() -> dict:
    """constructLogTransformContextValueExpressions."""
    attrs = {
        "http.method": "get",
        "http.path": "/health",
        "http.url": "http://localhost/health",
        "flags": "A|B|C",
        "total.string": "123456789",
        "A|B|C": "something",
        "foo": {"bar": "pass"},
        "slice": "slice",
        "val": "val2",
        "int_value": 0,
        "array": ["looong"],
        "foo2": {"slice": ["val"]},
        "foo3": {"nested": {"test": "pass"}},
        "things": [{"name": "foo"}, {"name": "bar"}],
    }
    return log_document({"host.name": "localhost", "A|B|C": "newValue"}, attrs)


def span_document(with_event: bool = False) -> dict:
    span: dict = {"traceId": TRACE_ID, "spanId": SPAN_ID, "name": "operationB"}
    if with_event:
        span["events"] = [{"name": "event-1"}]
    return {"resourceSpans": [{"resource": {},
                               "scopeSpans": [{"scope": {"name": "scope"}, "spans": [span]}]}]}


# -- expectations: the input document with the case's mutations ----------------------------------

Want = Callable[[Any, Any], None]  # (log record, resource) of the evaluator's model


def expected(doc: dict, want: Want) -> dict:
    payload = otlp_json.load(copy.deepcopy(doc))
    rl = payload.resources[0]
    want(rl.scope_logs[0].log_records[0], rl.resource)
    return otlp_json.dump(payload)


def nothing(log, res) -> None:
    pass


def put(key: str, value: Any) -> Want:
    """Set a log attribute (raw dicts and lists become maps and slices)."""
    return lambda log, res: log.attributes.put(key, value)


def remove(*keys: str) -> Want:
    def w(log, res):
        for k in keys:
            del log.attributes[k]
    return w


def replace_attributes(value: dict) -> Want:
    def w(log, res):
        log.attributes = PMap(value)
    return w


def set_body(value: Any) -> Want:
    def w(log, res):
        log.body = PMap(value) if isinstance(value, dict) else \
            PSlice(value) if isinstance(value, list) else value
    return w


def put_resource(key: str, value: Any) -> Want:
    return lambda log, res: res.attributes.put(key, value)


def in_foo(fn: Callable[[PMap], None]) -> Want:
    return lambda log, res: fn(log.attributes["foo"])


def steps(*wants: Want) -> Want:
    def w(log, res):
        for fn in wants:
            fn(log, res)
    return w


# -- running --------------------------------------------------------------------------------------


def _with_log_prefix(node: Any) -> Any:
    """The tree with ``log`` put in front of every path that names no context."""
    if isinstance(node, ast.Path):
        fields = tuple(_with_log_prefix(f) for f in node.fields)
        if ctxs.context_for_prefix(fields[0].name) is None:
            fields = (ast.Field("log"),) + fields
        return dataclasses.replace(node, fields=fields)
    if dataclasses.is_dataclass(node) and not isinstance(node, type):
        changes = {f.name: _with_log_prefix(getattr(node, f.name))
                   for f in dataclasses.fields(node) if f.name != "span"}
        return dataclasses.replace(node, **changes)
    if isinstance(node, tuple):
        return tuple(_with_log_prefix(i) for i in node)
    return node


def with_path_context(statement: str) -> str:
    return print_node(_with_log_prefix(parse_statement(statement)))


def variants(statements: list[str]) -> list[list[str]]:
    return [statements, [with_path_context(s) for s in statements]]


def normalize(x: Any) -> Any:
    """OTLP/JSON with every key/value list as a dict: attribute order does not matter (the
    reference compares maps as maps), value types still do."""
    if isinstance(x, dict):
        return {k: normalize(v) for k, v in x.items()}
    if isinstance(x, list):
        if x and all(isinstance(i, dict) and set(i) == {"key", "value"} for i in x):
            keys = [i["key"] for i in x]
            assert len(keys) == len(set(keys)), f"duplicate keys in {keys}"
            return {i["key"]: normalize(i["value"]) for i in x}
        return [normalize(i) for i in x]
    return x


def check(doc: dict, statements: list[str], want: Want, err: Optional[str] = None,
          context: str = "log") -> None:
    for stmts in variants(statements):
        if err is None:
            out = ottl.transform(copy.deepcopy(doc), stmts, context=context)
        else:
            with pytest.raises(OttlError) as info:
                ottl.transform(copy.deepcopy(doc), stmts, context=context)
            assert err in str(info.value)
            out = ottl.transform(copy.deepcopy(doc), stmts, context=context, error_mode="ignore")
        assert normalize(out) == normalize(expected(doc, want)), stmts


def case(statement: str, want: Want, err: Optional[str] = None, **kw: Any) -> Any:
    return pytest.param(statement, want, err, id=re.sub(r"\s+", " ", statement), **kw)


# -- Test_e2e_editors -----------------------------------------------------------------------------

EDITORS = [
    case('delete_key(attributes, "http.method")', remove("http.method")),
    case('delete_matching_keys(attributes, "^http")',
         remove("http.method", "http.path", "http.url")),
    case('keep_matching_keys(attributes, "^http")',
         remove("flags", "total.string", "foo", "things", "conflict.conflict1", "conflict")),
    case('keep_matching_keys(attributes, Concat(["^", "http"], ""))',
         remove("flags", "total.string", "foo", "things", "conflict.conflict1", "conflict")),
    case('flatten(attributes)', steps(
        remove("foo", "conflict.conflict1", "conflict", "things"),
        put("foo.bar", "pass"), put("foo.flags", "pass"), put("foo.slice.0", "val"),
        put("foo.nested.test", "pass"), put("conflict.conflict1.conflict2", "nopass"),
        put("things.0.name", "foo"), put("things.0.value", 2),
        put("things.1.name", "bar"), put("things.1.value", 5))),
    case('flatten(attributes, "test")', replace_attributes({
        "test.http.method": "get",
        "test.http.path": "/health",
        "test.http.url": "http://localhost/health",
        "test.flags": "A|B|C",
        "test.total.string": "123456789",
        "test.foo.bar": "pass",
        "test.foo.flags": "pass",
        "test.foo.slice.0": "val",
        "test.foo.nested.test": "pass",
        "test.conflict.conflict1.conflict2": "nopass",
        "test.things.0.name": "foo",
        "test.things.0.value": 2,
        "test.things.1.name": "bar",
        "test.things.1.value": 5,
    })),
    case('flatten(attributes, "test", resolveConflicts=true)', replace_attributes({
        "test.http.method": "get",
        "test.http.path": "/health",
        "test.http.url": "http://localhost/health",
        "test.flags": "A|B|C",
        "test.total.string": "123456789",
        "test.foo.bar": "pass",
        "test.foo.flags": "pass",
        "test.foo.slice": "val",
        "test.foo.nested.test": "pass",
        "test.conflict.conflict1.conflict2": "pass",
        "test.conflict.conflict1.conflict2.0": "nopass",
        "test.things.0.name": "foo",
        "test.things.0.value": 2,
        "test.things.1.name": "bar",
        "test.things.1.value": 5,
    })),
    case('flatten(attributes, depth=1)', replace_attributes({
        "http.method": "get",
        "http.path": "/health",
        "http.url": "http://localhost/health",
        "flags": "A|B|C",
        "total.string": "123456789",
        "foo.bar": "pass",
        "foo.flags": "pass",
        "foo.slice": ["val"],
        "conflict.conflict1.conflict2": "nopass",
        "conflict.conflict1": {"conflict2": "pass"},
        "things.0": {"name": "foo", "value": 2},
        "things.1": {"name": "bar", "value": 5},
        "foo.nested": {"test": "pass"},
    })),
    case('keep_keys(attributes, ["flags", "total.string"])',
         remove("http.method", "http.path", "http.url", "foo", "things", "conflict.conflict1",
                "conflict")),
    case('limit(attributes, 100, [])', nothing),
    case('limit(attributes, 1, ["total.string"])',
         remove("http.method", "http.path", "http.url", "flags", "foo", "things",
                "conflict.conflict1", "conflict")),
    case('merge_maps(attributes, attributes["foo"], "insert")', steps(
        put("bar", "pass"), put("slice", ["val"]), put("nested", {"test": "pass"}))),
    case('merge_maps(attributes, attributes["foo"], "update")', put("flags", "pass")),
    case('merge_maps(attributes, attributes["foo"], "upsert")', steps(
        put("bar", "pass"), put("flags", "pass"), put("slice", ["val"]),
        put("nested", {"test": "pass"}))),
    case('merge_maps(attributes, {"map_literal": {"list": [{"foo":"bar"}, "test"]}}, "upsert")',
         put("map_literal", {"list": [{"foo": "bar"}, "test"]})),
    case('replace_all_matches(attributes, "*/*", "test")',
         steps(put("http.path", "test"), put("http.url", "test"))),
    case('replace_all_matches(attributes, Concat(["*","/","*"],""), "test")',
         steps(put("http.path", "test"), put("http.url", "test"))),
    case('replace_all_patterns(attributes, "key", "^http", "test")', steps(
        remove("http.method", "http.path", "http.url"),
        put("test.method", "get"), put("test.path", "/health"),
        put("test.url", "http://localhost/health"))),
    case('replace_all_patterns(attributes, "value", "/", "@")',
         steps(put("http.path", "@health"), put("http.url", "http:@@localhost@health"))),
    case('replace_match(attributes["http.path"], Concat(["*","/","*"],""), "test")',
         put("http.path", "test")),
    case('replace_all_patterns(attributes, "value", Concat(["/","health"],""), "@")',
         steps(put("http.path", "@"), put("http.url", "http://localhost@"))),
    case('replace_match(attributes["http.path"], "*/*", "test")', put("http.path", "test")),
    case('replace_pattern(attributes["http.path"], "/", "@")', put("http.path", "@health")),
    case('replace_pattern(attributes["http.path"], Concat(["/","health"],""), "@")',
         put("http.path", "@")),
    case('replace_pattern(attributes["http.path"], "/", "@", SHA256)',
         put("http.path",
             "c3641f8544d7c02f3580b07c0f9887f0c6a27ff5ab1d4a3e29caf197cfc299aehealth")),
    case('set(attributes["test"], "pass")', put("test", "pass")),
    case('set(attributes["test"], nil)', nothing),
    case('set(attributes["test"], "nil")', put("test", "nil")),
    case('set(attributes["test"], attributes["unknown"])', nothing),
    case('set(attributes["foo"]["test"], "pass")', in_foo(lambda m: m.put("test", "pass"))),
    case('truncate_all(attributes, 100)', nothing),
    case('truncate_all(attributes, 1)', steps(
        put("http.method", "g"), put("http.path", "/"), put("http.url", "h"),
        put("flags", "A"), put("total.string", "1"))),
    case('append(attributes["foo"]["slice"], "sample_value")',
         in_foo(lambda m: m["slice"].append("sample_value"))),
    case('append(attributes["foo"]["flags"], "sample_value")',
         in_foo(lambda m: m.put("flags", ["pass", "sample_value"]))),
    case('append(attributes["foo"]["slice"], values=[5,6])',
         in_foo(lambda m: m["slice"].extend([5, 6]))),
    case('append(attributes["foo"]["new_slice"], values=[5,6])',
         in_foo(lambda m: m.put("new_slice", [5, 6]))),
]


@pytest.mark.parametrize("statement, want, err", EDITORS)
def test_e2e_editors(statement: str, want: Want, err: Optional[str]) -> None:
    check(editors_document(), [statement], want, err)


# -- Test_e2e_converters --------------------------------------------------------------------------

PARSE_SEVERITY = '''set(
	attributes["test"], 
	ParseSeverity(severity_number, 
		{
			"error":[
				{"equals": ["err"]},
                {"range": { "min": 3, "max": 4 }}
			],
			"info":[
                {"range": { "min": 1, "max": 2 }}
			],
		}
	))'''

XML_LOG = '"<Log id=\\"1\\"><Message>This is a log message!</Message></Log>"'

CONVERTERS = [
    case('set(attributes["newOne"], attributes[1])', nothing,
         "unable to resolve a string index in map: invalid key type"),
    case('set(attributes["array"][0.0], "bar")', nothing,
         "unable to resolve an integer index in slice: could not resolve key for map/slice, "
         "expecting 'int64' but got 'float64'"),
    case('set(attributes["array"][ConvertCase(attributes["A|B|C"], "upper")], "bar")', nothing,
         "unable to resolve an integer index in slice: could not resolve key for map/slice, "
         "expecting 'int64'"),
    case('set(attributes[ConvertCase(attributes["A|B|C"], "upper")], "myvalue")',
         put("SOMETHING", "myvalue")),
    case('set(attributes[ConvertCase(attributes[attributes["flags"]], "upper")], "myvalue")',
         put("SOMETHING", "myvalue")),
    case('set(attributes[attributes["flags"]], "something33")', put("A|B|C", "something33")),
    case('set(attributes[attributes[attributes["flags"]]], "something2")',
         put("something", "something2")),
    case('set(body, attributes["things"][Len(attributes["things"]) - 1]["name"])',
         set_body("bar")),
    case('set(body, attributes["things"][attributes["int_value"] + 1]["name"])', set_body("bar")),
    case('set(body, attributes[attributes["foo"][attributes["slice"]]'
         '[attributes["int_value"] + 1 - 1]])', set_body("val2")),
    case('set(body, attributes[attributes["foo"][attributes["slice"]][attributes["int_value"]]])',
         set_body("val2")),
    case('set(resource.attributes[attributes["flags"]], "something33")',
         put_resource("A|B|C", "something33")),
    case('set(resource.attributes[resource.attributes[attributes["flags"]]], "something33")',
         put_resource("newValue", "something33")),
    case('set(attributes[resource.attributes[attributes["flags"]]], "something33")',
         put("newValue", "something33")),
    case('set(body, attributes["array"])', set_body(["looong"])),
    case('set(attributes["array"][attributes["int_value"]], 3)', put("array", [3])),
    case('set(attributes["test"], Base64Decode("cGFzcw=="))', put("test", "pass")),
    case('set(attributes["test"], Decode("cGFzcw==", "base64"))', put("test", "pass")),
    case('set(attributes["decoded_base64"], Decode("cGFzcw==", attributes["encoding"]))',
         put("decoded_base64", "pass")),
    case('set(attributes["test"], Concat(["A","B"], ":"))', put("test", "A:B")),
    case('set(attributes["test"], Concat(["A","B"], attributes["val"]))', put("test", "Aval2B")),
    case('set(attributes["test"], ConvertCase(attributes["http.method"], "upper"))',
         put("test", "GET")),
    case('set(attributes["test"], ConvertCase("PASS", "lower"))', put("test", "pass")),
    case('set(attributes["test"], ConvertCase("fooBar", "snake"))', put("test", "foo_bar")),
    case('set(attributes["test"], ConvertCase("foo_bar", "camel"))', put("test", "FooBar")),
    case('set(attributes["test"], ToCamelCase("foo_bar"))', put("test", "FooBar")),
    case('set(attributes["test"], ToSnakeCase("fooBar"))', put("test", "foo_bar")),
    case('set(attributes["test"], ToUpperCase(attributes["http.method"]))', put("test", "GET")),
    case('set(attributes["test"], ToLowerCase("PASS"))', put("test", "pass")),
    case(f'set(attributes["test"], ConvertAttributesToElementsXML({XML_LOG}))',
         put("test", "<Log><Message>This is a log message!</Message><id>1</id></Log>")),
    case('set(body, ConvertTextToElementsXML("<a><b/>foo</a>"))',
         set_body("<a><b></b><value>foo</value></a>")),
    case('set(body, ConvertTextToElementsXML("<a><b/>foo</a><c><b/>bar</c>", "/a", "custom"))',
         set_body("<a><b></b><custom>foo</custom></a><c><b></b>bar</c>")),
    case('set(attributes["test"], ParseInt("0xAF", 0))', put("test", 175)),
    case('set(attributes["test"], ParseInt("12345", 10))', put("test", 12345)),
    case('set(attributes["test"], ParseInt("AF", 16))', put("test", 175)),
    case('set(attributes["test"], Double(1.0))', put("test", 1.0)),
    case('set(attributes["test"], Double("1"))', put("test", 1.0)),
    case('set(attributes["test"], Double(true))', put("test", 1.0)),
    case('set(attributes["test"], Double(1))', put("test", 1.0)),
    # Time without a zone parses in the local zone; the difference of two such times does not
    # depend on which zone that is.
    case('set(attributes["test"], "pass") where '
         'Time("10", "%M") - Time("01", "%M") < Duration("10m")', put("test", "pass")),
    case('set(attributes["test"], ExtractPatterns("aa123bb", "(?P<numbers>\\\\d+)"))',
         put("test", {"numbers": "123"})),
    case('set(attributes["test"], ExtractPatterns("aa123bb", '
         'Concat(["(?P", "<numbers>", "\\\\d+)"], "")))', put("test", {"numbers": "123"})),
    case('set(attributes["test"], ExtractGrokPatterns('
         '"http://user:password@example.com:80/path?query=string", "%{ELB_URI}", true))',
         put("test", {"url.scheme": "http", "url.username": "user", "url.domain": "example.com",
                      "url.port": 80, "url.path": "/path", "url.query": "query=string"})),
    case('set(attributes["test"], ExtractGrokPatterns('
         '"http://user:password@example.com:80/path?query=string", '
         'Concat(["%{", "ELB_URI", "}"], ""), true))',
         put("test", {"url.scheme": "http", "url.username": "user", "url.domain": "example.com",
                      "url.port": 80, "url.path": "/path", "url.query": "query=string"})),
    case('set(attributes["test"], FNV("pass"))', put("test", 266877920130663416)),
    case('set(attributes["test"], Format("%03d-%s", [7, "test"]))', put("test", "007-test")),
    case('set(attributes["test"], Hour(Time("12", "%H")))', put("test", 12)),
    case('set(attributes["test"], Hours(Duration("90m")))', put("test", 1.5)),
    case('set(attributes["test"], InsertXML("<a></a>", "/a", "<b></b>"))',
         put("test", "<a><b></b></a>")),
    case('set(attributes["test"], Int(1.0))', put("test", 1)),
    case('set(attributes["test"], Int("1"))', put("test", 1)),
    case('set(attributes["test"], Int(true))', put("test", 1)),
    case('set(attributes["test"], Int(1))', put("test", 1)),
    case('set(attributes["test"], GetXML("<a><b>1</b><c><b>2</b></c></a>", "/a//b"))',
         put("test", "<b>1</b><b>2</b>")),
    case('set(attributes["test"], Hex(1.0))', put("test", "3ff0000000000000")),
    case('set(attributes["test"], Hex(true))', put("test", "01")),
    case('set(attributes["test"], Hex(12))', put("test", "000000000000000c")),
    case('set(attributes["test"], Hex("12"))', put("test", "3132")),
    case('set(attributes["test"], "pass") where IsBool(false)', put("test", "pass")),
    case('set(attributes["test"], "pass") where IsDouble(1.0)', put("test", "pass")),
    case('set(attributes["test"], "pass") where IsMap(attributes["foo"])', put("test", "pass")),
    case('set(attributes["test"], "pass") where IsList(attributes["foo"]["slice"])',
         put("test", "pass")),
    case('set(attributes["test"], "pass") where IsMatch("aa123bb", "\\\\d{3}")',
         put("test", "pass")),
    case('set(attributes["test"], "pass") where IsString("")', put("test", "pass")),
    case('set(attributes["test"], Len(attributes["foo"]))', put("test", 4)),
    case('set(attributes["test"], Log(1))', put("test", 0.0)),
    case('set(attributes["test"], IsValidLuhn("17893729974"))', put("test", True)),
    case('set(attributes["test"], IsValidLuhn(17893729975))', put("test", False)),
    case('set(attributes["test"], MD5("pass"))', put("test", "1a1dc91c907325c69271ddf0c944bc72")),
    case('set(attributes["test"], Microseconds(Duration("1ms")))', put("test", 1000)),
    case('set(attributes["test"], Milliseconds(Duration("1s")))', put("test", 1000)),
    case('set(attributes["test"], Minutes(Duration("1h")))', put("test", 60.0)),
    case('set(attributes["test"], Murmur3Hash128("Hello World"))',
         put("test", "dbc2a0c1ab26631a27b4c09fcf1fe683")),
    case('set(attributes["test"], Murmur3Hash("Hello World"))', put("test", "ce837619")),
    case('set(attributes["test"], Nanoseconds(Duration("1ms")))', put("test", 1000000)),
    # Depends on the clock only through a difference that is always well under an hour.
    case('set(attributes["test"], "pass") where Now() - Now() < Duration("1h")',
         put("test", "pass")),
    case('set(attributes["test"], '
         'ParseCSV("val1;val2;val3","header1|header2|header3",";","|","strict"))',
         put("test", {"header1": "val1", "header2": "val2", "header3": "val3"})),
    case('set(attributes["test"], ParseCSV("val1,val2,val3","header1|header2|header3",'
         'headerDelimiter="|",mode="strict"))',
         put("test", {"header1": "val1", "header2": "val2", "header3": "val3"})),
    case('set(attributes["test"], ParseJSON("{\\"id\\":1}"))', put("test", {"id": 1.0})),
    case('set(attributes["test"], ParseJSON("[\\"value1\\",\\"value2\\"]"))',
         put("test", ["value1", "value2"])),
    case('set(attributes["test"], ParseKeyValue("k1=v1 k2=v2"))',
         put("test", {"k1": "v1", "k2": "v2"})),
    case('set(attributes["test"], ParseKeyValue("k1!v1_k2!v2", "!", "_"))',
         put("test", {"k1": "v1", "k2": "v2"})),
    case('set(attributes["test"], ParseKeyValue("k1!v1_k2!\\"v2__!__v2\\"", "!", "_"))',
         put("test", {"k1": "v1", "k2": "v2__!__v2"})),
    case('set(attributes["test"], ToKeyValueString(ParseKeyValue("k1=v1 k2=v2"), "=", " ", true))',
         put("test", "k1=v1 k2=v2")),
    case('set(attributes["test"], '
         'ToKeyValueString(ParseKeyValue("k1:v1,k2:v2", ":" , ","), ":", ",", true))',
         put("test", "k1:v1,k2:v2")),
    case('set(attributes["test"], ToKeyValueString(ParseKeyValue("k1=v1 k2=v2"), "!", "+", true))',
         put("test", "k1!v1+k2!v2")),
    case('set(attributes["test"], '
         'ToKeyValueString(ParseKeyValue("k1=v1 k2=v2=v3"), "=", " ", true))',
         put("test", 'k1=v1 k2="v2=v3"')),
    case('set(attributes["test"], Sort(Values({"key1": true, "key2": "value", "key3": 1})))',
         put("test", [1, True, "value"])),
    case('set(attributes["test"], ParseSimplifiedXML('
         '"<Log><id>1</id><Message>This is a log message!</Message></Log>"))',
         put("test", {"Log": {"id": "1", "Message": "This is a log message!"}})),
    case(f'set(attributes["test"], ParseXML({XML_LOG}))',
         put("test", {"tag": "Log", "attributes": {"id": "1"},
                      "children": [{"tag": "Message", "content": "This is a log message!"}]})),
    case(f'set(attributes["test"], RemoveXML({XML_LOG}, "/Log/Message"))',
         put("test", '<Log id="1"></Log>')),
    case('set(attributes["test"], Seconds(Duration("1m")))', put("test", 60.0)),
    case('set(attributes["test"], SHA1("pass"))',
         put("test", "9d4e1e23bd5b727046a9e3b4b7db57bd8d6ee684")),
    case('set(attributes["test"], SHA256("pass"))',
         put("test", "d74ff0ee8da3b9806b18c877dbf29bbde50b5bd8e4dad7a3a725000feb82e8f1")),
    case('set(attributes["test"], SHA512("pass"))',
         put("test", "5b722b307fce6c944905d132691d5e4a2214b7fe92b738920eb3fce3a90420a19511c3010a0"
                     "e7712b054daef5b57bad59ecbd93b3280f210578f547f4aed4d25")),
    case('set(attributes["test"], Sort(Split(attributes["flags"], "|"), "desc"))',
         put("test", ["C", "B", "A"])),
    case('set(attributes["test"], '
         'Sort(Split(attributes["flags"], attributes["split_delimiter"]), "desc"))',
         put("test", ["C", "B", "A"])),
    case('set(attributes["test"], Sort([true, false, false]))', put("test", [False, False, True])),
    case('set(attributes["test"], Sort([3, 6, 9], "desc"))', put("test", [9, 6, 3])),
    case('set(attributes["test"], Sort([Double(1.5), Double(10.2), Double(2.3), Double(0.5)]))',
         put("test", [0.5, 1.5, 2.3, 10.2])),
    case('set(attributes["test"], Sort([Int(11), Double(2.2), Double(-1)]))',
         put("test", [-1.0, 2.2, 11])),
    case('set(attributes["test"], Sort([false, Int(11), Double(2.2), "three"]))',
         put("test", [11, 2.2, False, "three"])),
    case('set(span_id, SpanID(0x0000000000000000))',
         lambda log, res: setattr(log, "span_id", SpanID())),
    case('set(span_id, SpanID("0102030405060708"))', nothing),
    case('set(attributes["test"], "pass") where '
         'String(ProfileID(0x00000000000000000000000000000001)) == '
         '"[0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,1]"', put("test", "pass")),
    case('set(attributes["test"], Split(attributes["flags"], "|"))',
         put("test", ["A", "B", "C"])),
    case('set(attributes["test"], String("test"))', put("test", "test")),
    case('set(attributes["test"], String(attributes["http.method"]))', put("test", "get")),
    case('set(attributes["test"], String(span_id))', put("test", "[1,2,3,4,5,6,7,8]")),
    case('set(attributes["test"], String([1,2,3]))', put("test", "[1,2,3]")),
    case('set(attributes["test"], String(true))', put("test", "true")),
    case('set(attributes["test"], Substring("pass", 0, 2))', put("test", "pa")),
    case('set(trace_id, TraceID(0x00000000000000000000000000000000))',
         lambda log, res: setattr(log, "trace_id", TraceID())),
    case('set(trace_id, TraceID("0102030405060708090a0b0c0d0e0f10"))', nothing),
    case('set(time, TruncateTime(time, Duration("1s")))',
         lambda log, res: setattr(log, "time_unix_nano", LOG_TIME - LOG_TIME % 1_000_000_000)),
    case('set(attributes["time"], FormatTime(time, "%Y-%m-%d"))', put("time", "2020-02-11")),
    case('set(attributes["test"], "pass") where UnixMicro(time) > 0', put("test", "pass")),
    case('set(attributes["test"], "pass") where UnixMilli(time) > 0', put("test", "pass")),
    case('set(attributes["test"], "pass") where UnixNano(time) > 0', put("test", "pass")),
    case('set(attributes["test"], "pass") where UnixSeconds(time) > 0', put("test", "pass")),
    # Random values: only their type is checked, as the reference does.
    case('set(attributes["test"], "pass") where IsString(UUID())', put("test", "pass")),
    case('set(attributes["test"], "pass") where IsString(UUIDv7())', put("test", "pass")),
    case('set(attributes["test"], "\\\\")', put("test", "\\")),
    case('set(attributes["test"], "\\\\\\\\")', put("test", "\\\\")),
    case('set(attributes["test"], "\\\\\\\\\\\\")', put("test", "\\\\\\")),
    case('set(attributes["test"], "\\\\\\\\\\\\\\\\")', put("test", "\\\\\\\\")),
    case('set(attributes["test"], "\\"")', put("test", '"')),
    case('keep_keys(attributes["foo"], [Concat(["ba", "r"], "")])', put("foo", {"bar": "pass"})),
    case('keep_keys(attributes["foo"], ["\\\\", "bar"])', put("foo", {"bar": "pass"})),
    case('set(attributes["test"], UserAgent("curl/7.81.0"))',
         put("test", {"user_agent.original": "curl/7.81.0", "user_agent.name": "curl",
                      "user_agent.version": "7.81.0", "os.name": "Other"})),
    case('set(attributes["test"], SliceToMap(attributes["things"], ["name"]))',
         put("test", {"foo": {"name": "foo", "value": 2}, "bar": {"name": "bar", "value": 5}})),
    case('set(attributes["test"], SliceToMap(attributes["things"]))',
         put("test", {"0": {"name": "foo", "value": 2}, "1": {"name": "bar", "value": 5}})),
    case('set(attributes["test"], SliceToMap(attributes["things"], ["name"], ["value"]))',
         put("test", {"foo": 2, "bar": 5})),
    case('set(attributes["test"], SliceToMap(attributes["primitiveValuesSlice"]))',
         put("test", {"0": "value1", "1": 42, "2": True})),
    case('set(attributes["test"], SliceToMap(attributes["things"], ["nonexistent_key"], '
         '["value"]))', nothing, "could not extract key from element"),
    case('set(attributes["test"], SliceToMap(attributes["things"], ["name"], '
         '["nonexistent_value"]))', nothing, "provided object does not contain the path"),
    case('set(attributes["test"], {"list":[{"foo":"bar"}]})',
         put("test", {"list": [{"foo": "bar"}]})),
    case('set(attributes, {"list":[{"foo":"bar"}]})',
         replace_attributes({"list": [{"foo": "bar"}]})),
    case('set(attributes["arr"], [{"list":[{"foo":"bar"}]}, {"bar":"baz"}])',
         put("arr", [{"list": [{"foo": "bar"}]}, {"bar": "baz"}])),
    case('set(attributes["test"], IsList([{"list":[{"foo":"bar"}]}, {"bar":"baz"}]))',
         put("test", True)),
    case('set(attributes["test"], IsMap({"list":[{"foo":"bar"}]}))', put("test", True)),
    case('set(attributes["test"], Len([{"list":[{"foo":"bar"}]}, {"bar":"baz"}]))',
         put("test", 2)),
    case(PARSE_SEVERITY, put("test", "info")),
    case('set(attributes["list"], Sort(Keys({"foo": "bar", "baz": "foo"})))',
         put("list", ["baz", "foo"])),
    case('set(attributes["indexof"], Index("opentelemetry", "telemetry"))', put("indexof", 4)),
    case('set(attributes["indexof"], Index(attributes["slices"], "name"))', put("indexof", -1)),
    case('set(attributes["indexof"], Index(attributes["slices"], "slice2"))', put("indexof", 1)),
    case('set(attributes["indexof"], Index(attributes["slices"], attributes["slices"][2]))',
         put("indexof", 2)),
    case('set(attributes["test"], XXH3("hello world"))', put("test", "d447b1ea40e6988b")),
    case('set(attributes["test"], XXH128("hello world"))',
         put("test", "df8d09e93f874900a99b8775cc15b6c7")),
    case('set(attributes["test"], Bool(1))', put("test", True)),
    case('set(attributes["test"], Bool("1"))', put("test", True)),
    case('set(attributes["test"], Bool(true))', put("test", True)),
    case('set(attributes["test"], Bool("true"))', put("test", True)),
]


@pytest.mark.parametrize("statement, want, err", CONVERTERS)
def test_e2e_converters(statement: str, want: Want, err: Optional[str]) -> None:
    check(converters_document(), [statement], want, err)


# -- Test_e2e_ottl_features -----------------------------------------------------------------------

COMMUNITY_IDS = [
    ("TCP", 0, "1:9qr9Z1LViXcNwtLVOHZ3CL8MlyM="),
    ("UDP", 1, "1:1viZaClxhTkWejXjxmQXaZzI8F4="),
    ("ICMP", 9, "1:7tb0A6iknoFJCZmtLXkvScm21Ss="),
    ("ICMP6", 10, "1:D7dVM6HJooFwvHhLnrMrNMw/UR4="),
    ("RSVP", 11, "1:cEVbY6jymDAKgyIU4UqMu0WQHTI="),
    ("SCTP", 12, "1:4KOPjy2bsV43uY/mf4HtwyZkwqM="),
]

FEATURES = [
    # where clause
    case('set(attributes["test"], "pass") where body == "operationB"', nothing),
    # reach upwards
    case('set(attributes["test"], "pass") where resource.attributes["host.name"] == "localhost"',
         put("test", "pass")),
    # where clause with dynamic indexing
    case('set(attributes["foo"], "bar") where attributes[attributes["flags"]] != nil',
         put("foo", "bar")),
    # using enums
    case('set(severity_number, SEVERITY_NUMBER_TRACE2) where '
         'severity_number == SEVERITY_NUMBER_TRACE',
         lambda log, res: setattr(log, "severity_number", 2)),
    case('set(attributes["test"], "pass") where HasPrefix(body, "operation")',
         put("test", "pass")),
    case('set(attributes["test"], "pass") where HasPrefix(body, attributes["dynamicprefix"])',
         put("test", "pass")),
    case('set(attributes["test"], "pass") where HasSuffix(body, "tionA")', put("test", "pass")),
    case('set(attributes["test"], "pass") where HasSuffix(body, attributes["dynamicsuffix"])',
         put("test", "pass")),
    # using hex
    case('set(attributes["test"], "pass") where '
         'trace_id == TraceID(0x0102030405060708090a0b0c0d0e0f10)', put("test", "pass")),
    # where clause without comparator
    case('set(attributes["test"], "pass") where IsMatch(body, "operation[AC]")',
         put("test", "pass")),
    case('set(attributes["test"], "pass") where IsMatch(body, Concat(["operation", "[AC]"], ""))',
         put("test", "pass")),
    # where clause with Converter return value
    case('set(attributes["test"], "pass") where body == Concat(["operation", "A"], "")',
         put("test", "pass")),
    # composing functions
    case('merge_maps(attributes, ParseJSON("{\\"json_test\\":\\"pass\\"}"), "insert") where '
         'body == "operationA"', put("json_test", "pass")),
    case('set(attributes["test"], "pass") where ContainsValue(["hello", "world"], "hello")',
         put("test", "pass")),
    case('set(attributes["test"], "pass") where ContainsValue([1, 2, 3, 4], 4)',
         put("test", "pass")),
    case('set(attributes["test"], "pass") where ContainsValue([1.1, 2.2, 3.3, 4.4], 4.4)',
         put("test", "pass")),
    case('set(attributes["staging"], "true") where ContainsValue(attributes["foo"]["slice"], "val")',
         put("staging", "true")),
    # complex indexing found / not found
    case('set(attributes["test"], attributes["foo"]["bar"])', put("test", "pass")),
    case('set(attributes["test"], attributes["metadata"]["uid"])', nothing),
    # map value
    case('set(body, {"_raw": body, "test": {"result": attributes["foo"]["bar"], '
         '"time": UnixNano(time)}})',
         set_body({"_raw": "operationA", "test": {"result": "pass", "time": LOG_TIME}})),
    case('set(attributes["isMap"], IsMap({"foo": {"bar": "baz", "test": "pass"}}))',
         put("isMap", True)),
    # a value out of a converter's []string result
    case('set(attributes["my.environment.2"], Split(resource.attributes["host.name"],"h")[1])',
         put("my.environment.2", "ost")),
    case('set(body, {"value": nil})', set_body({"value": None})),
    case('set(body, {"value": "nil"})', set_body({"value": "nil"})),
    case('set(attributes["test"], [nil, "nil", nil])', put("test", [None, "nil", None])),
    case('set(attributes["test"], "pass") where attributes["non_exiting_attrs"] == nil',
         put("test", "pass")),
    case('set(attributes["test"], "pass") where attributes["nil_string"] == "nil"',
         put("test", "pass")),
] + [
    case(f'set(attributes["test"], CommunityID("123.124.125.126", 12345, "55.56.57.58", 80, '
         f'"{proto}", {seed}))', put("test", want))
    for proto, seed, want in COMMUNITY_IDS
]


@pytest.mark.parametrize("statement, want, err", FEATURES)
def test_e2e_ottl_features(statement: str, want: Want, err: Optional[str]) -> None:
    check(converters_document(), [statement], want, err)


# -- Test_e2e_ottl_statement_sequence -------------------------------------------------------------

MAP_LITERAL = 'set(attributes["test"], {"foo":"bar", "list":[{"test":"hello"}]})'
LIST_ONLY = {"list": [{"test": "hello"}]}

SEQUENCES = [
    pytest.param([MAP_LITERAL, 'delete_key(attributes["test"], "foo")'],
                 put("test", LIST_ONLY), id="delete key of map literal"),
    pytest.param([MAP_LITERAL, 'set(attributes["dynamic_key"], "foo")',
                  'delete_key(attributes["test"], attributes["dynamic_key"])'],
                 steps(put("test", LIST_ONLY), put("dynamic_key", "foo")),
                 id="delete key of map literal dynamic"),
    pytest.param([MAP_LITERAL, 'delete_matching_keys(attributes["test"], ".*oo")'],
                 put("test", LIST_ONLY), id="delete matching keys of map literal"),
    pytest.param([MAP_LITERAL,
                  'delete_matching_keys(attributes["test"], Concat([".*", "oo"], ""))'],
                 put("test", LIST_ONLY), id="delete matching keys of map literal dynamic"),
    pytest.param([MAP_LITERAL, 'keep_matching_keys(attributes["test"], ".*ist")'],
                 put("test", LIST_ONLY), id="keep matching keys of map literal"),
    pytest.param([MAP_LITERAL, 'flatten(attributes["test"])'],
                 put("test", {"foo": "bar", "list.0.test": "hello"}), id="flatten map literal"),
]


@pytest.mark.parametrize("statements, want", SEQUENCES)
def test_e2e_ottl_statement_sequence(statements: list[str], want: Want) -> None:
    check(converters_document(), statements, want)


# -- Test_e2e_ottl_value_expressions --------------------------------------------------------------

VALUE_EXPRESSIONS = [
    pytest.param('"foo"', "foo", id="string literal"),
    pytest.param('resource.attributes["host.name"]', "localhost", id="attribute value"),
    pytest.param("SEVERITY_NUMBER_TRACE", 1, id="accessing enum"),
    pytest.param("TraceID(0x0102030405060708090a0b0c0d0e0f10)", TraceID(bytes(range(1, 17))),
                 id="Using converter"),
    pytest.param("Len(attributes) + Len(attributes)", 28,
                 id="Adding results of two converter operations"),
    pytest.param("Hex(Len(attributes) + Len(attributes))", "000000000000001c",
                 id="Nested converter operations"),
    pytest.param('attributes["foo"]', PMap({"bar": "pass"}), id="return map type 1"),
    pytest.param('attributes["foo2"]', PMap({"slice": ["val"]}), id="return map type 2"),
    pytest.param('attributes["foo3"]', PMap({"nested": {"test": "pass"}}),
                 id="return map type 3"),
    pytest.param('attributes["things"]', PSlice([PMap({"name": "foo"}), PMap({"name": "bar"})]),
                 id="return list"),
]


def _same(a: Any, b: Any) -> bool:
    """Equal values of the same types, all the way down (Python has 1 == 1.0 == True)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, PMap):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return a == b


@pytest.mark.parametrize("text, want", VALUE_EXPRESSIONS)
def test_e2e_ottl_value_expressions(text: str, want: Any) -> None:
    resolved = Resolver("log").value(parse_value_expression(text), text)
    evaluate = _Compiler(text).value(resolved)
    payload = otlp_json.load(value_expressions_document())
    rl = payload.resources[0]
    ctx = TransformContext("log", rl, rl.scope_logs[0], log=rl.scope_logs[0].log_records[0])
    got = evaluate(ctx)
    assert _same(got, want), got


# -- Test_ProcessTraces_TraceContext and Test_ProcessSpanEvents -----------------------------------


def test_e2e_span_is_root_span() -> None:
    doc = span_document()
    out = ottl.transform(copy.deepcopy(doc),
                         ['set(attributes["entrypoint-root"], name) where IsRootSpan()'],
                         context="span")
    want = copy.deepcopy(doc)
    want["resourceSpans"][0]["scopeSpans"][0]["spans"][0]["attributes"] = \
        kvs({"entrypoint-root": "operationB"})
    assert normalize(out) == normalize(otlp_json.dump(otlp_json.load(want)))


def test_e2e_span_event_index() -> None:
    doc = span_document(with_event=True)
    out = ottl.transform(copy.deepcopy(doc), ['set(attributes["index"], event_index)'],
                         context="spanevent")
    want = copy.deepcopy(doc)
    want["resourceSpans"][0]["scopeSpans"][0]["spans"][0]["events"][0]["attributes"] = \
        kvs({"index": 0})
    assert normalize(out) == normalize(otlp_json.dump(otlp_json.load(want)))
