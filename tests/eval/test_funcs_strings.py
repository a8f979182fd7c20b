"""The string converters, against the reference's tests (pkg/ottl/ottlfuncs/func_*_test.go), the
README examples, and Go's behaviour at the edges (nil, wrong types, bytes vs runes, invalid UTF-8).
"""

from __future__ import annotations

import math

import pytest

from ottl.eval.errors import EvalError
from ottl.eval.funcs import IMPLEMENTATIONS, load_all
from ottl.eval.funcs.strings import (
    float64_as_string,
    go_format_float,
    go_parse_int,
    go_quote,
    go_sprintf,
    go_to_lower,
    go_to_upper,
    pvalue_as_string,
)
from ottl.eval.getters import Getter
from ottl.eval.values import Duration, PMap, PSlice, SpanID, Time, TraceID
from ottl.functions import lookup
from ottl.functions.spec import GETTER_KINDS

load_all()


def dyn(value):
    """A getter that is not a literal (a path, say): its value is known only when it runs."""
    return Getter(lambda _ctx: value)


def build(name, *pos, **named):
    """The compiled function: positional and named arguments as Python values or getters."""
    spec = lookup(name)
    values = dict(zip([p.name for p in spec.params], pos))
    values.update(named)
    args = {}
    for p in spec.params:
        if p.name not in values:
            args[p.name] = None
            continue
        v = values[p.name]
        if p.kind in GETTER_KINDS:
            if p.is_list and not isinstance(v, Getter):
                v = [x if isinstance(x, Getter) else Getter.constant(x) for x in v]
            elif not isinstance(v, Getter):
                v = Getter.constant(v)
        args[p.name] = v
    return IMPLEMENTATIONS[name](args)


def call(name, *pos, **named):
    return build(name, *pos, **named)(None)


def raises(name, *pos, match=None, **named):
    with pytest.raises(EvalError, match=match):
        call(name, *pos, **named)


def pslice(*items):
    return PSlice(items)


def pmap(**items):
    return PMap(items)


# --- Concat -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "vals, delimiter, expected",
    [
        (["hello", "world"], " ", "hello world"),
        (["hello", None, "world"], "", "hello<nil>world"),
        (["hello", 1], "", "hello1"),
        (["hello", 3.14159], "", "hello3.14159"),
        (["hello", True], " ", "hello true"),
        ([bytes.fromhex("00000000000000000ed2e63cbe71f5a8")], "", "00000000000000000ed2e63cbe71f5a8"),
        ([pslice(1, 2), pslice(3, 4)], ",", "[1,2],[3,4]"),
        ([pmap(a="b"), pmap(c="d")], ",", '{"a":"b"},{"c":"d"}'),
        (["", "", ""], "__", "____"),
        (["hello"], "-", "hello"),
        ([], "-", ""),
        ([], "", ""),
        (["span", 1], " ", "span 1"),  # README: Concat([name, 1], " ")
        (["HTTP method is: ", "GET"], "", "HTTP method is: GET"),
        ([2.0, -0.5, 1e21], "|", "2|-0.5|1e+21"),
        (["é", "\udcff"], "", "é\udcff"),
    ],
)
def test_concat(vals, delimiter, expected):
    assert call("Concat", vals, delimiter) == expected


def test_concat_dynamic_slice_and_errors():
    assert call("Concat", dyn(["a", 1, None]), "-") == "a-1-<nil>"
    assert call("Concat", dyn(pslice("x", 2.5)), "") == "x2.5"
    raises("Concat", dyn("not a list"), "-", match="expected a list")
    raises("Concat", ["a"], None, match="expected string but got nil")
    raises("Concat", ["a"], 1, match="expected string but got int64")


# --- case conversion ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "target, case, expected",
    [
        ("simpleString", "snake", "simple_string"),
        ("simple_string", "snake", "simple_string"),
        ("CPUUtilizationMetric", "snake", "cpu_utilization_metric"),
        ("simple-string", "snake", "simple_string"),
        ("", "snake", ""),
        ("myMetric", "snake", "my_metric"),
        ("MY_METRIC", "lower", "my_metric"),
        ("my_metric", "upper", "MY_METRIC"),
        ("my_metric", "camel", "MyMetric"),
        ("", "camel", ""),
    ],
)
def test_convert_case(target, case, expected):
    assert call("ConvertCase", target, case) == expected


def test_convert_case_errors():
    raises("ConvertCase", None, "snake", match="expected string but got nil")
    raises("ConvertCase", 1, "lower", match="expected string but got int64")
    with pytest.raises(EvalError, match="invalid case: title"):
        build("ConvertCase", "x", "title")


@pytest.mark.parametrize(
    "name, target, expected",
    [
        ("ToLowerCase", "MyMetricName", "mymetricname"),
        ("ToUpperCase", "MyMetricName", "MYMETRICNAME"),
        ("ToSnakeCase", "MyMetricName", "my_metric_name"),
        ("ToCamelCase", "my_metric_name", "MyMetricName"),
        # reference tests
        ("ToCamelCase", "simple_string", "SimpleString"),
        ("ToCamelCase", "SimpleString", "SimpleString"),
        ("ToCamelCase", "simple-string", "SimpleString"),
        ("ToCamelCase", "", ""),
        ("ToSnakeCase", "simpleString", "simple_string"),
        ("ToSnakeCase", "", ""),
        ("ToLowerCase", "", ""),
        # strcase v0.3.0 behaviour
        ("ToSnakeCase", " Test Case ", "test_case"),
        ("ToSnakeCase", "AnyKind of_string", "any_kind_of_string"),
        ("ToSnakeCase", "numbers2and55with000", "numbers_2_and_55_with_000"),
        ("ToSnakeCase", "JSONData", "json_data"),
        ("ToSnakeCase", "userID", "user_id"),
        ("ToSnakeCase", "AAAbbb", "aa_abbb"),
        ("ToSnakeCase", "a.b", "a_b"),
        ("ToSnakeCase", "héllo Wörld", "héllo_wörld"),  # non-ASCII bytes are kept as they are
        ("ToCamelCase", "test.case", "TestCase"),
        ("ToCamelCase", " test  case ", "TestCase"),
        ("ToCamelCase", "numbers2And55with000", "Numbers2And55With000"),
        ("ToCamelCase", "ID", "Id"),
        ("ToCamelCase", "CONSTANT_CASE", "ConstantCase"),
        ("ToCamelCase", "héllo wörld", "HlloWrld"),  # non-ASCII bytes are dropped
        # Go's strings.ToLower / ToUpper: simple one-rune mappings
        ("ToLowerCase", "ÀÉÎ Ω", "àéî ω"),
        ("ToLowerCase", "İ", "i"),
        ("ToUpperCase", "straße", "STRAßE"),
        ("ToUpperCase", "ǆ", "Ǆ"),
        ("ToUpperCase", "ᾳ", "ᾼ"),
        ("ToUpperCase", "ﬁ", "ﬁ"),
        ("ToLowerCase", "ΑΣ", "ασ"),
        ("ToLowerCase", "A\udcffB", "a\ufffdb"),
        ("ToUpperCase", "abc", "ABC"),
    ],
)
def test_case_converters(name, target, expected):
    assert call(name, target) == expected


@pytest.mark.parametrize("name", ["ToLowerCase", "ToUpperCase", "ToSnakeCase", "ToCamelCase"])
def test_case_converters_errors(name):
    raises(name, None, match="expected string but got nil")
    raises(name, 10, match="expected string but got int64")


def test_go_case_helpers():
    assert go_to_lower("HELLO") == "hello"
    assert go_to_upper("ſ") == "S"  # long s maps to S, one rune to one rune


# --- Split --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "target, delimiter, expected",
    [
        ("A|B|C", "|", ["A", "B", "C"]),
        ("", "|", [""]),
        ("A|B|C", "", ["A", "|", "B", "|", "C"]),
        ("", "", []),
        ("a,,b,", ",", ["a", "", "b", ""]),
        ("héé", "", ["h", "é", "é"]),
        ("a\udcffb", "", ["a", "\udcff", "b"]),
        ("a::b::c", "::", ["a", "b", "c"]),
    ],
)
def test_split(target, delimiter, expected):
    result = call("Split", target, delimiter)
    assert result == expected and type(result) is list


def test_split_errors():
    raises("Split", 1, ",", match="expected string but got int64")
    raises("Split", "str", 7, match="expected string but got int64")
    raises("Split", None, ",", match="expected string but got nil")


# --- Substring ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "target, start, length, expected",
    [
        ("123456789", 3, 3, "456"),
        ("123456789", 0, 9, "123456789"),
        ("123456789", 0, 3, "123"),  # README
        ("一二三", 0, 1, "\udce4"),  # byte mode splits a rune: the lone byte 0xE4
        ("一二三", 0, 3, "一"),
        ("héllo", 1, 2, "é"),
    ],
)
def test_substring(target, start, length, expected):
    assert call("Substring", target, start, length) == expected


@pytest.mark.parametrize(
    "target, start, length, message",
    [
        ("123456789", 0, 0, "invalid length for substring function, 0 cannot be negative or zero"),
        ("123456789", -1, 6, "invalid start for substring function, -1 cannot be negative"),
        ("", 3, 6, r"start\(3\)\+length\(6\) cannot be greater than the length of target string\(0\)"),
        ("123456789", 3, 20, "cannot be greater than the length"),
        ("123456789", (1 << 63) - 3, 10, "cannot be greater than the length"),
        ("123456789", 5, (1 << 63) - 1, "cannot be greater than the length"),
        (123456789, 3, 6, "expected string but got int64"),
        (None, 3, 6, "expected string but got nil"),
        ("abc", 1.0, 1, "expected int64 but got float64"),
    ],
)
def test_substring_errors(target, start, length, message):
    raises("Substring", target, start, length, match=message)


@pytest.mark.parametrize(
    "target, start, length, expected",
    [
        ("一二三", 0, 1, "一"),
        ("一二三", 0, 3, "一二三"),
        ("一二三", 1, 1, "二"),
        ("🎉🎊🎈", 1, 2, "🎊🎈"),
        ("12345", 1, 3, "234"),
        ("ab一c", 1, 2, "b一"),
    ],
)
def test_substring_utf8_safe(target, start, length, expected):
    assert call("Substring", target, start, length, True) == expected


@pytest.mark.parametrize("start, length", [(4, 1), (0, 4), (2, 2)])
def test_substring_utf8_safe_errors(start, length):
    raises("Substring", "一二三", start, length, True, match="invalid range for substring function")


def test_substring_utf8_safe_messages():
    raises("Substring", "ab", 1, 5, True, match=r"exceeds byte length\(2\) of target string")
    raises("Substring", "一二三", 2, 2, True, match=r"rune length of target string\(3\)")


# --- Trim, prefixes and suffixes ----------------------------------------------------------------


@pytest.mark.parametrize(
    "target, replacement, expected",
    [
        (" this is a test ", " ", "this is a test"),
        ("", " ", ""),
        (" this is a test ", None, "this is a test"),
        (" this is a test ", "", " this is a test "),
        ("!!this is a test!!", "!!", "this is a test"),
        ("xyhelloyx", "xy", "hello"),
        ("\tpad\t", None, "\tpad\t"),
        ("ééaéé", "é", "a"),
    ],
)
def test_trim(target, replacement, expected):
    assert call("Trim", target, replacement) == expected


def test_trim_errors():
    raises("Trim", None, match="expected string but got nil")
    raises("Trim", 3, " ", match="expected string but got int64")


@pytest.mark.parametrize(
    "name, target, affix, expected",
    [
        ("TrimPrefix", "prefix-value", "prefix-", "value"),
        ("TrimPrefix", "value", "prefix-", "value"),
        ("TrimPrefix", "prefix-prefix-v", "prefix-", "prefix-v"),
        ("TrimPrefix", "abc", "", "abc"),
        ("TrimSuffix", "value-suffix", "-suffix", "value"),
        ("TrimSuffix", "value", "-suffix", "value"),
        ("TrimSuffix", "", "", ""),
        ("HasPrefix", "helloworld", "hello", True),
        ("HasPrefix", "helloworld", "world", False),
        ("HasPrefix", "x", "", True),
        ("HasSuffix", "helloworld", "world", True),
        ("HasSuffix", "helloworld", "hello", False),
        ("HasSuffix", "", "", True),
    ],
)
def test_affixes(name, target, affix, expected):
    assert call(name, target, affix) == expected


@pytest.mark.parametrize("name", ["TrimPrefix", "TrimSuffix", "HasPrefix", "HasSuffix"])
def test_affix_errors(name):
    raises(name, None, "x", match="expected string but got nil")
    raises(name, 1, "x", match="expected string but got int64")
    raises(name, "x", None, match="expected string but got nil")


# --- Index and ContainsValue --------------------------------------------------------------------


@pytest.mark.parametrize(
    "source, value, expected",
    [
        ("hello world", "world", 6),
        ("hello world", "hello", 0),
        ("hello world", "universe", -1),
        ("hello world", "", 0),
        ("Hello World", "world", -1),
        ("héllo", "l", 3),  # byte offset, as Go
        (pslice("hello", "world", "opentelemetry"), "world", 1),
        (pslice(1, 2, 3), 2, 1),
        (pslice("hello", 42, True), True, 2),
        (pslice(1, 2, 3), 5, -1),
        (pslice(), "anything", -1),
        (["hello", "world", "opentelemetry"], "world", 1),
        ([1, 2, 3, 4], 3, 2),
        (["hello", 42, True, 3.14], True, 2),
        (["apple", "banana", "cherry"], 123, -1),
        ([1.1, 2.2, 3.3], 2.2, 1),
        ([False, True, False], False, 0),
        ([False, True, False], "true", -1),
        ([], 1, -1),
        ([1, 2], 2.0, 1),  # OTTL comparison: numbers compare across types
        ([None, "a"], None, 0),
        ([pmap(a=1)], {"a": 1}, 0),
    ],
)
def test_index(source, value, expected):
    assert call("Index", source, value) == expected


def test_index_errors():
    raises("Index", 123, "test", match="expected pcommon.Slice but got int64")
    raises("Index", "hello world", 123, match="invalid value type for Index function, value must be a string")
    raises("Index", None, "x", match="expected pcommon.Slice but got nil")


@pytest.mark.parametrize(
    "target, item, expected",
    [
        (["hello", "world"], "hello", True),
        (["hello", "world"], "unknown", False),
        ([0, 1], 1, True),
        ([0, 3.14159], 3.14159, True),
        ([True, False], True, True),
        (pslice(1, 2), 1, True),
        (pslice(1, 2), 4, False),
        (pslice(1, 4), 4, True),
        (["test1", "test2"], "test1", True),
        ([1.0, 2.5], 1, True),  # an int item matches an equal double
        ([1, 2], 2.0, True),
        ([True], 1, False),
        ([1], True, False),
        (["1"], 1, False),
        ([None], None, True),
        ([b"ab"], b"ab", True),
        ([pmap(a="b")], pmap(a="b"), True),
        ([pslice(1)], pslice(1), True),
        ([math.nan], math.nan, False),
        ([], "x", False),
    ],
)
def test_contains_value(target, item, expected):
    assert call("ContainsValue", target, item) is expected


def test_contains_value_errors():
    raises("ContainsValue", "not a slice", "x", match="expected pcommon.Slice but got string")
    raises("ContainsValue", None, "x", match="expected pcommon.Slice but got nil")


# --- Coalesce -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "values, expected",
    [
        (["first", "second"], "first"),
        ([None, "second"], "second"),
        ([None, None, "third"], "third"),
        ([None, None], None),
        (["only"], "only"),
        ([None], None),
        ([None, 42], 42),
        ([None, True], True),
        ([None, 3.14], 3.14),
        ([None, False], False),
        (["", "x"], ""),
    ],
)
def test_coalesce(values, expected):
    result = call("Coalesce", values)
    assert result == expected and type(result) is type(expected)


def test_coalesce_stops_at_first_value_and_passes_errors():
    def boom(_ctx):
        raise EvalError("should not be reached")

    assert call("Coalesce", [Getter.constant("found"), Getter(boom)]) == "found"
    with pytest.raises(EvalError, match="should not be reached"):
        call("Coalesce", [Getter(boom), Getter.constant("value")])


# --- IsMatch ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "target, pattern, expected",
    [
        ("hello world", "hello.*", True),
        ("goodbye world", "hello.*", False),
        ("-12.001", r"[-+]?\d*\.\d+([eE][-+]?\d+)?", True),
        (True, "true", True),
        (1, r"\d", True),
        (1.1, r"\d\.\d", True),
        (None, "impossible to match", False),
        ("string", ".*ring", True),  # README
        ("foo/bar", "foo", True),  # partial match
        ("abc", "^b", False),
        (pmap(a=1), '"a":1', True),
        (b"\x01\x02", "^0102$", True),  # bytes are hex, as the string-like getter gives them
        ("ÄBC", "^.BC$", True),  # '.' is one rune
        ("a\udcffb", "^a.b$", True),  # an invalid byte is one rune
        ("line1\nline2", "^line2$", False),
        ("line1\nline2", "(?m)^line2$", True),
        ("ABC", "(?i)abc", True),
    ],
)
def test_is_match(target, pattern, expected):
    assert call("IsMatch", target, pattern) is expected


def test_is_match_dynamic_pattern():
    fn = build("IsMatch", dyn("abc"), dyn("b+"))
    assert fn(None) is True
    with pytest.raises(EvalError, match="the regex pattern supplied to IsMatch"):
        call("IsMatch", "x", dyn("(("))
    with pytest.raises(EvalError, match="the regex pattern supplied to IsMatch"):
        call("IsMatch", "x", r"\K")
    with pytest.raises(EvalError, match="expected string but got nil"):
        call("IsMatch", "x", dyn(None))


def test_is_match_pattern_is_read_before_the_target():
    # as the reference: the pattern is compiled first, then a nil target is false
    assert call("IsMatch", None, dyn("x")) is False
    with pytest.raises(EvalError, match="expected string but got nil"):
        call("IsMatch", None, dyn(None))


# --- ExtractPatterns ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "target, pattern, expected",
    [
        ("a=b c=d", r"^a=(?P<a>\w+)\s+c=(?P<c>\w+)$", {"a": "b", "c": "d"}),
        ("a=b c=d", r"^a=(?P<a>\w+)$", {}),
        ("GIT_SHA=abc123", r"GIT_SHA=(?P<git_sha>\w+)", {"git_sha": "abc123"}),
        (
            "Jun 11 12:34:56 host-1 sshd[123]: Accepted publickey",
            (r"^(?P<timestamp>\w+ \w+ [0-9]+:[0-9]+:[0-9]+) (?P<hostname>([A-Za-z0-9-_]+)) "
            r"(?P<process>\w+)(\[(?P<pid>\d+)\])?: (?P<message>.*)$"),
            {
                "timestamp": "Jun 11 12:34:56",
                "hostname": "host-1",
                "process": "sshd",
                "pid": "123",
                "message": "Accepted publickey",
            },
        ),
        ("x", r"(?P<a>x)(?P<b>y)?", {"a": "x", "b": ""}),  # a group outside the match reads ""
        ("y", r"(?P<a>x)|(?P<a>y)", {"a": "y"}),  # repeated names: the last group wins
        ("x", r"(?P<a>x)|(?P<a>y)", {"a": ""}),
        ("ÀB", r"(?P<first>.)(?P<rest>.*)", {"first": "À", "rest": "B"}),
        ("\udcffz", r"(?P<first>.)(?P<rest>.*)", {"first": "\udcff", "rest": "z"}),
        ("k=v", r"(?<key>\w)=(?<val>\w)", {"key": "k", "val": "v"}),
        ("<ab]", r"[(?P<x>]\w+(?P<y>\])", {"y": "]"}),  # '(?P<' inside a class is literal
    ],
)
def test_extract_patterns(target, pattern, expected):
    result = call("ExtractPatterns", target, pattern)
    assert isinstance(result, PMap)
    assert dict(result) == expected


def test_extract_patterns_errors():
    raises("ExtractPatterns", "foobar", dyn("("), match="not a valid pattern")
    raises("ExtractPatterns", "foobar", dyn("(.*)"), match="at least 1 named capture group")
    raises("ExtractPatterns", 123, "(?P<line>.*)", match="expected string but got int64")
    raises("ExtractPatterns", None, "(?P<line>.*)", match="expected string but got nil")
    raises("ExtractPatterns", "x", dyn(None), match="expected string but got nil")


# --- ExtractGrokPatterns ------------------------------------------------------------------------

_URL = "http://user:password@example.com:80/path?query=string"


@pytest.mark.parametrize(
    "target, pattern, named_only, definitions, expected",
    [
        ("a=b c=d", r"^a=(?P<a>\w+)\s+c=(?P<c>\w+)$", False, None, {"a": "b", "c": "d"}),
        ("a=b c=d", r"^a=(?P<a>\w+)$", False, None, {}),
        (
            _URL,
            "%{URI}",
            False,
            None,
            {
                "URI": _URL,
                "URIPROTO": "http",
                "USER": "user",
                "USERNAME": "user",
                "URIHOST": "example.com:80",
                "IPORHOST": "example.com",
                "HOSTNAME": "example.com",
                "POSINT": "80",
                "URIPATH": "/path",
                "URIQUERY": "query=string",
            },
        ),
        (
            _URL,
            "%{ELB_URI}",
            True,
            None,
            {
                "url.scheme": "http",
                "url.username": "user",
                "url.domain": "example.com",
                "url.port": 80,
                "url.path": "/path",
                "url.query": "query=string",
            },
        ),
        (
            "2024-06-18 12:34:56 UTC johndoe 12345 67890",
            ("%{DATESTAMP:timestamp} %{TZ:event.timezone} %{DATA:user.name} "
            "%{GREEDYDATA:postgresql.log.connection_id} %{POSINT:process.pid:int}"),
            True,
            None,
            {
                "timestamp": "24-06-18 12:34:56",
                "event.timezone": "UTC",
                "user.name": "johndoe",
                "postgresql.log.connection_id": "12345",
                "process.pid": 67890,
            },
        ),
        (
            "2024-06-18 12:34:56 otel",
            "%{MYPATTERN}",
            True,
            ["MYPATTERN=%{MYDATEPATTERN:timestamp} otel", "MYDATEPATTERN=%{DATE}[- ]%{TIME}"],
            {"timestamp": "24-06-18 12:34:56"},
        ),
        (
            "smith:pass123:1001:1000:J Smith,1234,(234)567-8910,(234)567-1098,email:/home/smith:/bin/sh",
            "%{USERNAME:user.name}:%{PASSWORD:user.password}:%{USERINFO}",
            True,
            ["PASSWORD=%{WORD}", "USERINFO=%{GREEDYDATA}"],
            {"user.name": "smith", "user.password": "pass123"},
        ),
        ("foobar", "(.*)", False, None, {}),
        ("n=2.5 ok=true c=7", r"n=%{NUMBER:n:float} ok=%{WORD:ok:boolean} c=%{INT:c:long}", True, None, {"n": 2.5, "ok": True, "c": 7}),
        ("n=", r"n=%{NUMBER:n:int}?", True, None, {}),  # empty captures are left out
        ("2024-06-18 12:34:56 UTC johndoe 12345 67890", "%{POSTGRESQL}", True, None, {
            "timestamp": "24-06-18 12:34:56", "event.timezone": "UTC", "user.name": "johndoe",
            "postgresql.log.connection_id": "12345", "process.pid": 67890}),
        ("1.2.3-SNAPSHOT", "%{MAVEN_VERSION}", False, None, {"MAVEN_VERSION": "1.2.3-SNAPSHOT"}),
        ("., [2024-06-26T12:34:56Z #12345] INFO", "%{MCOLLECTIVE}", True, None, {
            "timestamp": "2024-06-26T12:34:56Z", "process.pid": 12345, "log.level": "INFO"}),
    ],
)
def test_extract_grok_patterns(target, pattern, named_only, definitions, expected):
    result = call("ExtractGrokPatterns", target, pattern, named_only, definitions)
    assert isinstance(result, PMap)
    assert dict(result) == expected


def test_extract_grok_patterns_common_log():
    line = '127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326'
    result = call("ExtractGrokPatterns", line, "%{HTTPD_COMMONLOG}", True)
    assert result["source.address"] == "127.0.0.1"
    assert result["user.name"] == "frank"
    assert result["timestamp"] == "10/Oct/2000:13:55:36 -0700"
    assert result["http.request.method"] == "GET"
    assert result["url.original"] == "/apache_pb.gif"
    assert result["http.version"] == "1.0"
    assert result["http.response.status_code"] == 200
    assert result["http.response.body.bytes"] == 2326


def test_extract_grok_patterns_errors():
    raises("ExtractGrokPatterns", "foobar", dyn("("), False, match="not a valid pattern")
    raises("ExtractGrokPatterns", "foobar", dyn("%{NOPE}"), False, match='pattern definition "NOPE" unknown')
    raises("ExtractGrokPatterns", "foobar", dyn("(.*)"), True, match="at least 1 named capture group")
    raises("ExtractGrokPatterns", 123, "(?P<line>.*)", False, match="expected string but got int64")
    raises("ExtractGrokPatterns", None, "%{URI}", False, match="expected string but got nil")
    raises("ExtractGrokPatterns", "x=abc", r"x=%{WORD:x:int}", True, match=r'strconv.Atoi: parsing "abc": invalid syntax')
    raises("ExtractGrokPatterns", "x=abc", r"x=%{WORD:x.y:weird}", True, match="invalid type for x___y: type not specified")
    with pytest.raises(EvalError, match="pattern ID \"PAT:TERN\" should not contain ':'"):
        build("ExtractGrokPatterns", "x", "%{URI}", False, ["PAT:TERN=invalid"])
    with pytest.raises(EvalError, match="at index 0 has incorrect format"):
        build("ExtractGrokPatterns", "x", "%{URI}", False, ["NOEQUALSSIGNHEREATALL"])


# --- ToKeyValueString ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "target, delimiter, pair_delimiter, expected",
    [
        ({"key1": "value1", "key2": "value2"}, None, None, "key1=value1 key2=value2"),
        ({"key1": "value1", "key2": "value2"}, ":", None, "key1:value1 key2:value2"),
        ({"key1": "value1", "key2": "value2"}, None, ",", "key1=value1,key2=value2"),
        ({"key 1": "value 1", "key2=": "value2="}, None, None, '"key 1"="value 1" "key2="="value2="'),
        ({"key1": "value1", "key2,,,": "value2,,,,,,"}, ",,,", None, 'key1,,,value1 "key2,,,",,,"value2,,,,,,"'),
        (
            {"key 1": "value 1", 'key2"=': 'value2"=', 'key"3': 'value"3'},
            None,
            None,
            r'"key 1"="value 1" key\"3=value\"3 "key2\"="="value2\"="',
        ),
        (
            {
                "key1": "value1",
                "key2": {"key3": "value3", "key4": {"key5": "value5", "key6": ["value6a", "value6b"]}},
                "key7": ["value7", ["value8a", {"key8b": "value8b"}]],
            },
            None,
            None,
            (r'key1=value1 key2={\"key3\":\"value3\",\"key4\":{\"key5\":\"value5\",\"key6\":[\"value6a\",\"value6b\"]}} '
            r'key7=[\"value7\",[\"value8a\",{\"key8b\":\"value8b\"}]]'),
        ),
        (
            {
                "key1": "value1",
                "key2": {"key3": "value3", "key4": {"key5": "value=5", "key6": ["value6a", "value6b"]}},
                "key7": ["value7", ["value8a", {"key 8b": "value8b"}]],
            },
            None,
            None,
            (r'key1=value1 key2="{\"key3\":\"value3\",\"key4\":{\"key5\":\"value=5\",\"key6\":[\"value6a\",\"value6b\"]}}" '
            r'key7="[\"value7\",[\"value8a\",{\"key 8b\":\"value8b\"}]]"'),
        ),
        (
            {
                "key1": 'value1"',
                "key2": {"key3": "value3", "key4": {"key5": 'value=5"', "key6": ["value6a", "value6b"]}},
                "key7": ["value7", ["value8a", {'key 8b"': "value8b"}]],
            },
            None,
            None,
            (r'key1=value1\" key2="{\"key3\":\"value3\",\"key4\":{\"key5\":\"value=5\\\"\",\"key6\":[\"value6a\",\"value6b\"]}}" '
            r'key7="[\"value7\",[\"value8a\",{\"key 8b\\\"\":\"value8b\"}]]"'),
        ),
        ({"i": 1, "f": 2.5, "b": True, "n": None, "x": b"\x01\x02", "e": 1e-7}, None, None, 'b=true e=1e-7 f=2.5 i=1 n= x="AQI="'),
        ({}, None, None, ""),
    ],
)
def test_to_key_value_string(target, delimiter, pair_delimiter, expected):
    assert call("ToKeyValueString", target, delimiter, pair_delimiter, True) == expected


def test_to_key_value_string_keeps_map_order_unsorted():
    target = PMap({"z": "1", "a": "2"})
    assert call("ToKeyValueString", target) == "z=1 a=2"
    assert call("ToKeyValueString", target, ":", ",", True) == "a:2,z:1"


def test_to_key_value_string_errors():
    with pytest.raises(EvalError, match="cannot be equal to delimiter"):
        build("ToKeyValueString", {}, "=", "=")
    with pytest.raises(EvalError, match=r'pair delimiter " " cannot be equal to delimiter " "'):
        build("ToKeyValueString", {}, " ")
    with pytest.raises(EvalError, match="^delimiter cannot be set to an empty string"):
        build("ToKeyValueString", {}, "")
    with pytest.raises(EvalError, match="pair delimiter cannot be set to an empty string"):
        build("ToKeyValueString", {}, None, "")
    raises("ToKeyValueString", 1, "=", "!", match="expected pcommon.Map but got int64")
    raises("ToKeyValueString", "", "=", "!", match="expected pcommon.Map but got string")


# --- SliceToMap ---------------------------------------------------------------------------------


def _things():
    return PSlice([PMap({"name": "foo", "value": 2}), PMap({"name": "bar", "value": 5})])


def _nested():
    return PSlice(
        [
            PMap({"name": "foo", "value": {"test": "x"}}),
            PMap({"name": "bar", "value": {"test": "y"}}),
        ]
    )


@pytest.mark.parametrize(
    "value, key_path, value_path, expected",
    [
        (_things(), ["name"], None, {"foo": {"name": "foo", "value": 2}, "bar": {"name": "bar", "value": 5}}),
        (_things(), ["name"], ["value"], {"foo": 2, "bar": 5}),
        (
            _nested(),
            ["value", "test"],
            None,
            {"x": {"name": "foo", "value": {"test": "x"}}, "y": {"name": "bar", "value": {"test": "y"}}},
        ),
        (_nested(), ["value", "test"], ["name"], {"x": "foo", "y": "bar"}),
        (
            PSlice([PMap({"name": "foo", "value": {"test": "value"}}), PMap({"name": "bar", "value": 5})]),
            ["name"],
            ["value"],
            {"foo": {"test": "value"}, "bar": 5},
        ),
        (_things(), None, None, {"0": {"name": "foo", "value": 2}, "1": {"name": "bar", "value": 5}}),
        (_things(), None, ["value"], {"0": 2, "1": 5}),
        (_nested(), None, ["value"], {"0": {"test": "x"}, "1": {"test": "y"}}),
        (PSlice(["a", "b"]), None, None, {"0": "a", "1": "b"}),
        (PSlice(["x", 42]), None, None, {"0": "x", "1": 42}),
        (PSlice(["a", 123, True, "val"]), None, None, {"0": "a", "1": 123, "2": True, "3": "val"}),
        ([{"name": "foo"}, {"name": "foo", "v": 1}], ["name"], None, {"foo": {"name": "foo", "v": 1}}),
        (PSlice(), ["name"], None, {}),
    ],
)
def test_slice_to_map(value, key_path, value_path, expected):
    result = call("SliceToMap", value, key_path, value_path)
    assert isinstance(result, PMap)
    assert result.as_raw() == expected


def test_slice_to_map_copies_values():
    source = _things()
    result = call("SliceToMap", source, ["name"])
    result["foo"]["value"] = 99
    assert source[0]["value"] == 2


@pytest.mark.parametrize(
    "value, key_path, value_path, message",
    [
        (_things(), ["notfound"], None, r"could not extract key from element 0: provided object does not contain the path \[notfound\]"),
        (_things(), ["value"], None, 'element 0: extracted key attribute is not of type string, got "Int"'),
        (_nested(), ["value", "test"], ["notfound"], r"could not extract value from element 0: provided object does not contain the path \[notfound\]"),
        (_nested(), ["value", "test"], ["name", "nothing"], r"provided object does not contain the path \[name nothing\]"),
        (_nested(), ["value", "missing"], None, r"does not contain the path \[missing\]"),
        (PMap(), ["name"], None, "expected pcommon.Slice but got pcommon.Map"),
        (PSlice(["unsupported"]), ["name"], None, "could not cast element of type `Str` to a map"),
        (PSlice([PMap({"name": "foo", "value": 2}), "nothingToSeeHere"]), ["name"], ["value"], "could not cast element of type `Str` to a map"),
        (PSlice([1]), None, ["v"], "could not cast element of type `Int` to a map"),
        (_things(), [], None, "must provide at least one path item"),
    ],
)
def test_slice_to_map_errors(value, key_path, value_path, message):
    raises("SliceToMap", value, key_path, value_path, match=message)


# --- Sort ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "target, order, expected",
    [
        (pslice(9, 6, 3), "asc", [3, 6, 9]),
        (pslice(3, 6, 9), "desc", [9, 6, 3]),
        (pslice("i", "am", "awesome", "slice"), "asc", ["am", "awesome", "i", "slice"]),
        (pslice(1.5, 10.2, 2.3, 0.5), "asc", [0.5, 1.5, 2.3, 10.2]),
        (pslice(True, False, True, False), "asc", [False, False, True, True]),
        (pslice(1, "two", 3.33, False), "asc", [1, 3.33, False, "two"]),
        (pslice(1.5, "10.2", 2.3, 0.5), "asc", [0.5, 1.5, "10.2", 2.3]),
        (pslice(0, 2, 3.33, 0), "asc", [0, 0, 2, 3.33]),
        (pslice(3.14, 2, 3.33, 0), "desc", [3.33, 3.14, 2, 0]),
        ([1, "two", 3.33, False], "asc", [1, 3.33, False, "two"]),
        (["A", "a", "aa"], "asc", ["A", "a", "aa"]),
        ([True, False], "asc", [False, True]),
        ([6, 3, 9], "asc", [3, 6, 9]),
        ([1.5, 10.2, 2.3, 0.5], "asc", [0.5, 1.5, 2.3, 10.2]),
        (pslice("a", "slice", "a"), "asc", ["a", "a", "slice"]),
        (pslice(None, "b", "a"), "asc", [None, "a", "b"]),  # nil sorts as ""
        (pslice(2.0, math.nan, 1), "asc", None),  # NaN first (checked below)
        (pslice("b", "é", "z"), "desc", ["é", "z", "b"]),  # bytewise
        (pslice(10, 9, 100), None, [9, 10, 100]),
    ],
)
def test_sort(target, order, expected):
    result = call("Sort", target, order)
    if expected is None:
        assert math.isnan(result[0]) and result[1:] == [1, 2.0]
        return
    assert result == expected
    assert [type(v) for v in result] == [type(v) for v in expected]


def test_sort_returns_unsupported_slices_unchanged():
    empty = PSlice()
    assert call("Sort", empty) is empty
    with_map = PSlice([PMap({"k": "v"}), 1])
    assert call("Sort", with_map) is with_map
    with_bytes = PSlice([b"x"])
    assert call("Sort", with_bytes) is with_bytes
    assert call("Sort", []) == PSlice()


@pytest.mark.parametrize(
    "target, message",
    [
        (None, "sort with unsupported type: '<nil>'. Target is not a list"),
        (PMap({"k": "v"}), "sort with unsupported type: 'pcommon.Map'. Target is not a list"),
        (b"still fine", r"sort with unsupported type: '\[\]uint8'"),
        ("no change", "sort with unsupported type: 'string'"),
        ([Time(0)], r"Target is not a list of primitive types; <Invalid value type time.Time>"),
    ],
)
def test_sort_errors(target, message):
    raises("Sort", target, match=message)


def test_sort_bad_order():
    with pytest.raises(EvalError, match='Order should be either "asc" or "desc"'):
        build("Sort", [1], "up")


# --- Format and Go's fmt ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "fmt, vals, expected",
    [
        ("test", [], "test"),
        ("test-%04d", [2], "test-0002"),
        ("test-%04d-%4s", [2, "te"], "test-0002-  te"),
        ("%02d", [7], "07"),
        ("%04d-%02d-%02d", [2024, 3, 9], "2024-03-09"),
        ("%s/%s/%04d-%02d-%02d.log", ["host", "prog", 2024, 3, 9], "host/prog/2024-03-09.log"),
        ("%5.2f|%-5d|%05d|%x|%X|%o|%#x|%+d|% d", [3.14159, 42, -42, 255, 255, 8, 255, 5, 5], " 3.14|42   |-0042|ff|FF|10|0xff|+5| 5"),
        ("%q", ["hi\n"], '"hi\\n"'),
        ("%v", [[1, "a", None]], "[1 a <nil>]"),
        ("%v", [{"b": 2, "a": 1}], "map[a:1 b:2]"),
        ("%v", [PMap({"k": [1, 2]})], "map[k:[1 2]]"),
        ("%x", ["hello"], "68656c6c6f"),
        ("% x", ["abc"], "61 62 63"),
        ("%#x", ["abc"], "0x616263"),
        ("%X", [b"\xff\x01"], "FF01"),
        ("%t", [True], "true"),
        ("%e", [1234.5678], "1.234568e+03"),
        ("%g", [1e21], "1e+21"),
        ("%g", [0.0001], "0.0001"),
        ("%g", [0.00001], "1e-05"),
        ("%.3g", [1234567.0], "1.23e+06"),
        ("%#g", [1.0], "1.00000"),
        ("%v", [1e6], "1e+06"),
        ("%v", [123456.0], "123456"),
        ("%v", [123456789.0], "1.23456789e+08"),
        ("%v", [3.0], "3"),
        ("%v", [-0.0], "-0"),
        ("%.2v", [3.14159], "3.1"),
        ("%6.3v|", [3.14159], "  3.14|"),
        ("%6.2f%%", [99.5], " 99.50%"),
        ("%.0f", [2.5], "2"),
        ("%08.3f", [-3.14159], "-003.142"),
        ("%+.1e", [0.0], "+0.0e+00"),
        ("%x", [1.0], "0x1p+00"),
        ("%x", [3.0], "0x1.8p+01"),
        ("%b", [1.0], "4503599627370496p-52"),
        ("%v %v %v", [math.nan, math.inf, -math.inf], "NaN +Inf -Inf"),
        ("%05.1f", [math.inf], " +Inf"),
        ("%+v", [math.nan], "NaN"),  # '+' goes to %+v's own meaning
        ("%+f", [math.nan], "+NaN"),
        ("% f", [math.nan], " NaN"),
        ("%*d", [5, 42], "   42"),
        ("%-*d|", [5, 42], "42   |"),
        ("%*d", [-5, 42], "42   "),
        ("%.*f", [2, 3.14159], "3.14"),
        ("%[2]d %[1]d", [1, 2], "2 1"),
        ("%.3s", ["abcdef"], "abc"),
        ("%5.1s|", ["xyz"], "    x|"),
        ("%c", [65], "A"),
        ("%c", [0x1F600], "😀"),
        ("%q", [65], "'A'"),
        ("%U", [0x1F600], "U+1F600"),
        ("%#U", [0x1F600], "U+1F600 '😀'"),
        ("%x", [-255], "-ff"),
        ("%#o", [8], "010"),
        ("%O", [8], "0o10"),
        ("%b", [5], "101"),
        ("%.0d|", [0], "|"),
        ("%6.3d|", [7], "   007|"),
        ("%10v|", ["x"], "         x|"),
        ("%-10v|", ["x"], "x         |"),
        ("%05s", ["ab"], "000ab"),
        ("%-05d|", [3], "3    |"),
        ("%T %T %T %T", [1, 1.5, "s", None], "int64 float64 string <nil>"),
        ("%T %T", [PMap(), [1]], "pcommon.Map []interface {}"),
        ("%v", [b"ab"], "[97 98]"),
        ("%s", [b"ab"], "ab"),
        ("%q", [b"ab"], '"ab"'),
        ("%v", [TraceID(bytes(range(16)))], "000102030405060708090a0b0c0d0e0f"),
        ("%v", [TraceID()], ""),
        ("%d", [SpanID(bytes([1, 2, 3, 4, 5, 6, 7, 8]))], "[1 2 3 4 5 6 7 8]"),
        ("%v", [Duration(3723_500_000_000)], "1h2m3.5s"),
        ("%v", [Duration(1500)], "1.5µs"),
        ("%v", [Duration(-2_000_000)], "-2ms"),
        ("%v", [Duration(0)], "0s"),
        ("%v", [Duration(60_000_000_000)], "1m0s"),
        ("%d", [Duration(1500)], "1500"),
        ("%v", [Time(1_700_000_000_123_000_000)], "2023-11-14 22:13:20.123 +0000 UTC"),
        ("%s", [[1, "a"]], "[%!s(int64=1) a]"),
        ("%d", [[1, None]], "[1 <nil>]"),
        ("%d", [{"a": 1}], "map[%!d(string=a):1]"),
        ("%#v", ["a"], '"a"'),
        ("%q", ["\x00é\u200b\udcff"], '"\\x00é\\u200b\\xff"'),
        ("%+q", ["é"], '"\\u00e9"'),
        ("%#q", ["a`b"], '"a`b"'),
        ("%#q", ["ab"], "`ab`"),
    ],
)
def test_format(fmt, vals, expected):
    assert call("Format", fmt, vals) == expected


@pytest.mark.parametrize(
    "fmt, vals, expected",
    [
        ("%d", ["x"], "%!d(string=x)"),
        ("%d", [], "%!d(MISSING)"),
        ("%d %s", [1], "1 %!s(MISSING)"),
        ("a", [1], "a%!(EXTRA int64=1)"),
        ("a", [1, "b", None], "a%!(EXTRA int64=1, string=b, <nil>)"),
        ("%!", [], "%!!(MISSING)"),
        ("%", [], "%!(NOVERB)"),
        ("%s", [None], "%!s(<nil>)"),
        ("%d", [None], "%!d(<nil>)"),
        ("%v", [None], "<nil>"),
        ("%d", [True], "%!d(bool=true)"),
        ("%t", [1], "%!t(int64=1)"),
        ("%s", [1.5], "%!s(float64=1.5)"),
        ("%5d", ["ab"], "%!d(string=   ab)"),
        ("%[3]d", [1], "%!d(BADINDEX)"),
        ("%[0]d", [1], "%!d(BADINDEX)"),
        ("%*d", ["x", 1], "%!(BADWIDTH)1"),
        ("%.*d", ["x", 1], "%!(BADPREC)1"),
        ("%z", [1], "%!z(int64=1)"),
        ("%[2]d", [1, 2], "2"),  # out-of-order use reports no extra arguments
    ],
)
def test_format_errors_are_text(fmt, vals, expected):
    assert call("Format", fmt, vals) == expected


def test_format_getter_error_propagates():
    def boom(_ctx):
        raise EvalError("failed to get")

    with pytest.raises(EvalError, match="failed to get"):
        call("Format", "test-%d", [Getter(boom)])


@pytest.mark.parametrize(
    "value, fmt, prec, expected",
    [
        (1.0, "g", -1, "1"),
        (0.1, "e", -1, "1e-01"),
        (1e21, "f", -1, "1000000000000000000000"),
        (5e-324, "g", -1, "5e-324"),
        (1.5, "e", 3, "1.500e+00"),
        (123.456, "f", 1, "123.5"),
        (100.0, "g", 3, "100"),
        (-2.5, "G", -1, "-2.5"),
        (1e-7, "G", -1, "1E-07"),
        (math.nan, "f", 2, "NaN"),
    ],
)
def test_go_format_float(value, fmt, prec, expected):
    assert go_format_float(value, fmt, prec) == expected


@pytest.mark.parametrize(
    "value, expected",
    [
        (1.0, "1"),
        (2.7, "2.7"),
        (1e-7, "1e-7"),
        (1.5e-7, "1.5e-7"),
        (1e21, "1e+21"),
        (1e20, "100000000000000000000"),
        (0.000001, "0.000001"),
        (-0.0, "-0"),
        (math.nan, "json: unsupported value: NaN"),
        (math.inf, "json: unsupported value: +Inf"),
    ],
)
def test_float64_as_string(value, expected):
    assert float64_as_string(value) == expected


@pytest.mark.parametrize(
    "value, expected",
    [(None, ""), ("s", "s"), (True, "true"), (7, "7"), (2.5, "2.5"), (b"\x00\xff", "AP8="), (PMap({"b": 1, "a": "<"}), '{"a":"\\u003c","b":1}'), (PSlice([1, None]), "[1,null]")],
)
def test_pvalue_as_string(value, expected):
    assert pvalue_as_string(value) == expected


@pytest.mark.parametrize(
    "text, expected",
    [("abc", '"abc"'), ('a"b\\', '"a\\"b\\\\"'), ("\a\b\f\n\r\t\v", '"\\a\\b\\f\\n\\r\\t\\v"'), ("\x7f", '"\\x7f"'), ("\U0001f600", '"\U0001f600"'), ("\U000e0001", '"\\U000e0001"')],
)
def test_go_quote(text, expected):
    assert go_quote(text) == expected


@pytest.mark.parametrize(
    "text, base, expected",
    [
        ("123", 10, 123),
        ("-0x1F", 0, -31),
        ("0b101", 0, 5),
        ("0o17", 0, 15),
        ("017", 0, 15),
        ("0", 0, 0),
        ("1_000", 0, 1000),
        ("1_000", 10, 'strconv.ParseInt: parsing "1_000": invalid syntax'),
        ("_1", 0, 'strconv.ParseInt: parsing "_1": invalid syntax'),
        ("0x", 0, 'strconv.ParseInt: parsing "0x": invalid syntax'),
        ("zz", 36, 1295),
        ("9223372036854775807", 10, (1 << 63) - 1),
        ("-9223372036854775808", 10, -(1 << 63)),
        ("9223372036854775808", 10, 'strconv.ParseInt: parsing "9223372036854775808": value out of range'),
        ("12", 37, 'strconv.ParseInt: parsing "12": invalid base 37'),
        ("12", 1, 'strconv.ParseInt: parsing "12": invalid base 1'),
        ("+", 10, 'strconv.ParseInt: parsing "+": invalid syntax'),
    ],
)
def test_go_parse_int(text, base, expected):
    assert go_parse_int(text, base) == expected


def test_direct_sprintf_helper():
    assert go_sprintf("%s=%d", ["a", 1]) == "a=1"
