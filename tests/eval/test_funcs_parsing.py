"""Parsing, encoding and XML converters, checked against the reference's README examples and the
tables of its func_*_test.go files."""

from __future__ import annotations

import pytest

from ottl.eval.errors import EvalError
from ottl.eval.funcs import IMPLEMENTATIONS, load_all
from ottl.eval.getters import Getter
from ottl.eval.values import PMap, PSlice

load_all()

C = Getter.constant

# Parameters that are plain literals (not getters) in the registry.
_LITERAL_PARAMS = {"x_path", "delimiter", "pair_delimiter", "header_delimiter", "mode", "element_name"}


def call(name: str, **kwargs):
    args = {}
    for key, value in kwargs.items():
        if key in _LITERAL_PARAMS or isinstance(value, Getter):
            args[key] = value
        else:
            args[key] = C(value)
    return IMPLEMENTATIONS[name](args)(None)


def fails(name: str, match: str = "", **kwargs) -> str:
    with pytest.raises(EvalError) as info:
        call(name, **kwargs)
    assert match in str(info.value)
    return str(info.value)


# =================================================================================================
# ParseJSON
# =================================================================================================


@pytest.mark.parametrize(
    "text, want",
    [
        ('{"test":"string value"}', {"test": "string value"}),
        ('{"test":true}', {"test": True}),
        ('{"test":1}', {"test": 1.0}),
        ('{"test":1.1}', {"test": 1.1}),
        ('{"test":null}', {"test": None}),
        ('{"test":["string","value"]}', {"test": ["string", "value"]}),
        ('{"test":{"nested":"true"}}', {"test": {"nested": "true"}}),
        ('{"existing":"pass"}', {"existing": "pass"}),
        (
            '{"test1":{"nested":"true"},"test2":"string","test3":1,"test4":1.1,"test5":[[1], [2, 3],[]],"test6":null}',
            {
                "test1": {"nested": "true"},
                "test2": "string",
                "test3": 1.0,
                "test4": 1.1,
                "test5": [[1.0], [2.0, 3.0], []],
                "test6": None,
            },
        ),
        ('{"attr":true}', {"attr": True}),
        ('{"s":"a\\"b\\n\\u00e9"}', {"s": 'a"b\né'}),
    ],
)
def test_parse_json_objects(text, want):
    got = call("ParseJSON", target=text)
    assert isinstance(got, PMap)
    assert got.as_raw() == want


def test_parse_json_numbers_are_doubles_and_nesting_is_pdata():
    got = call("ParseJSON", target='{"n":1,"a":[{"x":2}],"m":{"k":[]}}')
    assert type(got["n"]) is float
    assert isinstance(got["a"], PSlice) and isinstance(got["a"][0], PMap)
    assert type(got["a"][0]["x"]) is float
    assert isinstance(got["m"], PMap) and isinstance(got["m"]["k"], PSlice)


@pytest.mark.parametrize(
    "text, want",
    [
        ('["string","value"]', ["string", "value"]),
        ('[{"test":"value"},{"test":"value"}]', [{"test": "value"}, {"test": "value"}]),
        ('["attr1","attr2"]', ["attr1", "attr2"]),
        ("[]", []),
    ],
)
def test_parse_json_top_level_arrays(text, want):
    got = call("ParseJSON", target=text)
    assert isinstance(got, PSlice)
    assert got.as_raw() == want


def test_parse_json_duplicate_keys_last_wins():
    assert call("ParseJSON", target='{"a":1,"a":2}').as_raw() == {"a": 2.0}


@pytest.mark.parametrize(
    "text, match",
    [
        ("true", "could not convert parsed value of type bool to JSON object"),
        ("1", "could not convert parsed value of type float64 to JSON object"),
        ('"s"', "could not convert parsed value of type string to JSON object"),
        ("null", "could not convert parsed value of type <nil> to JSON object"),
        ("", "unexpected end of JSON input"),
        ("{", ""),
        ('{"a":1} x', ""),
        ("{'a':1}", ""),
        ('{"a":NaN}', ""),
        ('{"a":1e400}', "cannot unmarshal number 1e400"),
    ],
)
def test_parse_json_errors(text, match):
    fails("ParseJSON", match, target=text)


@pytest.mark.parametrize("value, match", [(1, "expected string but got int64"), (None, "expected string but got nil")])
def test_parse_json_wrong_types(value, match):
    fails("ParseJSON", match, target=value)


# =================================================================================================
# ParseKeyValue
# =================================================================================================


@pytest.mark.parametrize(
    "target, delimiter, pair_delimiter, want",
    [
        ("name=ottl func=key_value", None, None, {"name": "ottl", "func": "key_value"}),
        (
            'name=ottl age=1 job="software engineering" location="grand rapids michigan" src="10.3.3.76" '
            "dst=172.217.0.10 protocol=udp sport=57112 port=443 translated_src_ip=96.63.176.3 translated_port=57112",
            None,
            None,
            {
                "age": "1",
                "port": "443",
                "dst": "172.217.0.10",
                "job": "software engineering",
                "location": "grand rapids michigan",
                "name": "ottl",
                "protocol": "udp",
                "sport": "57112",
                "src": "10.3.3.76",
                "translated_port": "57112",
                "translated_src_ip": "96.63.176.3",
            },
        ),
        ("a=b c='this is a \"co ol\" value'", None, None, {"a": "b", "c": 'this is a "co ol" value'}),
        (
            'requestClientApplication="Mozilla/5.0 (Windows NT 6.1; WOW64; rv:40.0) Gecko/20100101 Firefox/40.0"',
            None,
            None,
            {"requestClientApplication": "Mozilla/5.0 (Windows NT 6.1; WOW64; rv:40.0) Gecko/20100101 Firefox/40.0"},
        ),
        (
            "requestClientApplication='Mozilla/5.0 (Windows NT 6.1; WOW64; rv:40.0) Gecko/20100101 Firefox/40.0'",
            None,
            None,
            {"requestClientApplication": "Mozilla/5.0 (Windows NT 6.1; WOW64; rv:40.0) Gecko/20100101 Firefox/40.0"},
        ),
        ('name="   ottl " func="  key_ value"', None, None, {"name": "ottl", "func": "key_ value"}),
        ("   name!ottl     func!key_value hello!world  ", "!", None, {"name": "ottl", "func": "key_value", "hello": "world"}),
        (
            "   \nname!!ottl     \nfunc!!key_value                      hello!!world  ",
            "!!",
            None,
            {"name": "ottl", "func": "key_value", "hello": "world"},
        ),
        (
            "name!!ottl     \nfunc!!      key_value another!!pair\nhello!!world  ",
            "!!",
            "\n",
            {"name": "ottl", "func": "key_value another!!pair", "hello": "world"},
        ),
        ('name="ottl="_func="=key_value"', None, "_", {"name": "ottl=", "func": "=key_value"}),
        ("k1@*v1_!_k2@**v2_!__k3@@*v3__", "@*", "_!_", {"k1": "v1", "k2": "*v2", "_k3@": "v3__"}),
        ("   k1=v1   k2==v2       k3=v3= ", None, None, {"k1": "v1", "k2": "=v2", "k3": "v3="}),
        ("a=b c='this is a \"co ol\"'", None, None, {"a": "b", "c": 'this is a "co ol"'}),
        ("a=b c=d'='", None, None, {"a": "b", "c": "d="}),
        ("a=b c=d", None, "aaaaaaaaaaaaaaaa", {"a": "b c=d"}),
        ("k1=v1 k2=v2 k3=v3", None, None, {"k1": "v1", "k2": "v2", "k3": "v3"}),
        ("k1!v1_k2!v2_k3!v3", "!", "_", {"k1": "v1", "k2": "v2", "k3": "v3"}),
        (r'a="x \" y" b=1', None, None, {"a": r"x \" y", "b": "1"}),
    ],
)
def test_parse_key_value(target, delimiter, pair_delimiter, want):
    got = call("ParseKeyValue", target=target, delimiter=delimiter, pair_delimiter=pair_delimiter)
    assert isinstance(got, PMap)
    assert got.as_raw() == want


def test_parse_key_value_errors():
    with pytest.raises(EvalError, match="cannot be equal"):
        call("ParseKeyValue", target="", delimiter="=", pair_delimiter="=")
    with pytest.raises(EvalError, match="cannot be equal"):
        call("ParseKeyValue", target="", delimiter=" ", pair_delimiter=None)
    with pytest.raises(EvalError, match="delimiter cannot be set to an empty string"):
        call("ParseKeyValue", target="a=b", delimiter="", pair_delimiter=None)
    with pytest.raises(EvalError, match="pair delimiter cannot be set to an empty string"):
        call("ParseKeyValue", target="a=b", delimiter=None, pair_delimiter="")
    fails("ParseKeyValue", "expected string but got int64", target=1, delimiter="=", pair_delimiter="!")
    fails("ParseKeyValue", "cannot parse from empty target", target="", delimiter="=", pair_delimiter="!")
    fails(
        "ParseKeyValue",
        'failed to split pairs into key-values: cannot split "hello_world" into 2 items, got 1 item(s)',
        target="name=ottl!hello_world",
        delimiter="=",
        pair_delimiter="!",
    )
    fails("ParseKeyValue", "never reached the end of a quoted value", target="k1=v1 k2='v2\"", delimiter=None, pair_delimiter=None)
    fails(
        "ParseKeyValue",
        'failed to split pairs into key-values: cannot split "a=b" into 2 items, got 1 item(s)',
        target="a=b c=d",
        delimiter="=============",
        pair_delimiter=None,
    )
    msg = fails("ParseKeyValue", target="a b", delimiter=None, pair_delimiter=None)
    assert msg.endswith('cannot split "a" into 2 items, got 1 item(s); cannot split "b" into 2 items, got 1 item(s)')


# =================================================================================================
# ParseCSV
# =================================================================================================


@pytest.mark.parametrize(
    "row, lazy, want",
    [
        ("field1,field2,field3", False, ["field1", "field2", "field3"]),
        ('field1,"field2,contains delimiter",field3', False, ["field1", "field2,contains delimiter", "field3"]),
        ('field1,field"2,field3', False, ["field1"]),
        ('field1,field"2,field3', True, ["field1", 'field"2', "field3"]),
        ("field1,fie\nld2,field3", False, ["field1", "fie\nld2", "field3"]),
        ("field1,\nfield2,field3", False, ["field1", "\nfield2", "field3"]),
        ("field1,field2\n,field3", False, ["field1", "field2\n", "field3"]),
        ("\nfield1,field2,field3", False, ["field1", "field2", "field3"]),
        ("field1,field2,field3\n", False, ["field1", "field2", "field3"]),
        ("fiel\nd1,field2,field3", False, ["fiel\nd1", "field2", "field3"]),
        ("\nfiel\nd1,fie\nld2,fie\nld3\n", False, ["fiel\nd1", "fie\nld2", "fie\nld3"]),
        ('a,"b""c",d', False, ["a", 'b"c', "d"]),
        ('a,"multi\r\nline",d', False, ["a", "multi\nline", "d"]),
        ("a,", False, ["a", ""]),
    ],
)
def test_read_csv_row(row, lazy, want):
    from ottl.eval.funcs.parsing import read_csv_row

    assert read_csv_row(row, ",", lazy) == want


def test_read_csv_row_errors():
    from ottl.eval.funcs.parsing import read_csv_row

    with pytest.raises(EvalError, match="no csv lines found"):
        read_csv_row("", ",", False)
    with pytest.raises(EvalError, match='read csv line: parse error on line 1, column 2: bare " in non-quoted field'):
        read_csv_row('a"b,c', ",", False)
    with pytest.raises(EvalError, match='extraneous or missing " in quoted-field'):
        read_csv_row('"abc', ",", False)
    with pytest.raises(EvalError, match='column 4: extraneous or missing " in quoted-field'):
        read_csv_row('"ab"c', ",", False)
    assert read_csv_row('"abc', ",", True) == ["abc"]


@pytest.mark.parametrize(
    "target, header, delimiter, header_delimiter, mode, want",
    [
        (
            "555-555-5556,Joe Smith,joe.smith@example.com",
            "phone,name,email",
            None,
            None,
            None,
            {"phone": "555-555-5556", "name": "Joe Smith", "email": "joe.smith@example.com"},
        ),
        (
            "999-999-9999,Joe Smith,joe.smith@example.com",
            "phone,name,email",
            None,
            None,
            None,
            {"phone": "999-999-9999", "name": "Joe Smith", "email": "joe.smith@example.com"},
        ),
        (
            "555-555-5556|Joe Smith|joe.smith@example.com",
            "phone|name|email",
            "|",
            None,
            None,
            {"phone": "555-555-5556", "name": "Joe Smith", "email": "joe.smith@example.com"},
        ),
        (
            "555-555-5556|Joe Smith|joe.smith@example.com",
            "phone,name,email",
            "|",
            ",",
            None,
            {"phone": "555-555-5556", "name": "Joe Smith", "email": "joe.smith@example.com"},
        ),
        (
            '555-555-5556,"Joe Smith",joe.smith@example.com',
            "phone,name,email",
            None,
            None,
            None,
            {"phone": "555-555-5556", "name": "Joe Smith", "email": "joe.smith@example.com"},
        ),
        (
            '555-555-5556,"Joe ""Joey"" Smith",joe.smith@example.com',
            "phone,name,email",
            None,
            None,
            None,
            {"phone": "555-555-5556", "name": 'Joe "Joey" Smith', "email": "joe.smith@example.com"},
        ),
        (
            '555-555-5556,Joe "Joey" Smith,joe.smith@example.com',
            "phone,name,email",
            None,
            None,
            "lazyQuotes",
            {"phone": "555-555-5556", "name": 'Joe "Joey" Smith', "email": "joe.smith@example.com"},
        ),
        (
            '"555-555-5556,Joe Smith",joe.smith@example.com',
            "phone,name,email",
            None,
            None,
            "ignoreQuotes",
            {"phone": '"555-555-5556', "name": 'Joe Smith"', "email": "joe.smith@example.com"},
        ),
        (
            "\n555-555-5556,Joe Smith,joe.smith@example.com\n",
            "phone,name,email",
            None,
            None,
            None,
            {"phone": "555-555-5556", "name": "Joe Smith", "email": "joe.smith@example.com"},
        ),
        ("a\tb", "x\ty", "\t", None, "strict", {"x": "a", "y": "b"}),
    ],
)
def test_parse_csv(target, header, delimiter, header_delimiter, mode, want):
    got = call(
        "ParseCSV", target=target, header=header, delimiter=delimiter, header_delimiter=header_delimiter, mode=mode
    )
    assert isinstance(got, PMap)
    assert got.as_raw() == want


def test_parse_csv_errors():
    kw = dict(delimiter=None, header_delimiter=None, mode=None)
    fails("ParseCSV", "map csv headers: wrong number of fields: expected 3, found 2", target="a,b", header="x,y,z", **kw)
    fails("ParseCSV", "wrong number of fields: expected 1, found 2", target="a,b", header="x", **kw)
    fails("ParseCSV", "headers must not be an empty string", target="a", header="", **kw)
    fails("ParseCSV", "error getting value for target in ParseCSV: expected string but got nil", target=None, header="x", **kw)
    fails("ParseCSV", "error getting value for header in ParseCSV: expected string but got int64", target="a", header=1, **kw)
    fails("ParseCSV", 'bare " in non-quoted field', target='a"b,c', header="x,y", **kw)
    # the first field parsed before a bare quote is kept, so only the field count fails
    fails("ParseCSV", "wrong number of fields: expected 3, found 1", target='a,b"c,d', header="x,y,z", **kw)
    with pytest.raises(EvalError, match="unknown mode: bogus"):
        call("ParseCSV", target="a", header="x", delimiter=None, header_delimiter=None, mode="bogus")
    with pytest.raises(EvalError, match="delimiter must be a single character"):
        call("ParseCSV", target="a", header="x", delimiter="||", header_delimiter=None, mode=None)
    with pytest.raises(EvalError, match="header_delimiter must be a single character"):
        call("ParseCSV", target="a", header="x", delimiter=None, header_delimiter="", mode=None)
    fails("ParseCSV", "csv: invalid field or comment delimiter", target="a", header="x", delimiter='"', header_delimiter=None, mode=None)


# =================================================================================================
# ParseSeverity
# =================================================================================================

_SEVERITY_MAPPING = {
    "error": [{"equals": ["err", "error", "NOK"]}, {"range": {"min": 400, "max": 499}}],
    "info": [{"equals": ["info", "inf", "ok"]}, {"range": {"min": 200, "max": 299}}],
}


@pytest.mark.parametrize(
    "value, mapping, want",
    [
        ("info", _SEVERITY_MAPPING, "info"),
        ("inf", _SEVERITY_MAPPING, "info"),
        ("NOK", _SEVERITY_MAPPING, "error"),
        (200, _SEVERITY_MAPPING, "info"),
        (499, _SEVERITY_MAPPING, "error"),
        (204, {"info": [{"range": "2xx"}]}, "info"),
        (302, {"warn": [{"range": "3xx"}]}, "warn"),
        (404, {"error": [{"range": "4xx"}]}, "error"),
        (503, {"fatal": [{"range": "5xx"}]}, "fatal"),
        ("inf", {"info": [{"equals": ["inf"]}, {"range": {"min": 200, "max": 299}}]}, "info"),
    ],
)
def test_parse_severity(value, mapping, want):
    assert call("ParseSeverity", target=value, mapping=PMap(mapping)) == want


@pytest.mark.parametrize(
    "value, mapping, match",
    [
        ("foo", _SEVERITY_MAPPING, "could not map log level: no matching log level found for value 'foo'"),
        (600, _SEVERITY_MAPPING, "no matching log level found for value '600'"),
        (True, _SEVERITY_MAPPING, "could not evaluate log level of value 'true': unsupported value type: bool"),
        (1.5, _SEVERITY_MAPPING, "unsupported value type: float64"),
        (None, _SEVERITY_MAPPING, "unsupported value type: <nil>"),
        ("x", {"info": "inf"}, "severity mapping criteria must be []any"),
        ("x", {"info": ["inf"]}, "severity mapping criteria items must be map[string]any"),
        ("x", {"info": [{"equals": "inf"}]}, "equals must be a list"),
        ("x", {"info": [{"equals": [1]}]}, "equals values must be strings"),
        ("x", {"info": [{"range": {"max": 1}}]}, "range must have a min value"),
        ("x", {"info": [{"range": {"min": 1}}]}, "range must have a max value"),
        ("x", {"info": [{"range": {"min": 1.5, "max": 2}}]}, "min must be an int64"),
        ("x", {"info": [{"range": {"min": 1, "max": "2"}}]}, "max must be an int64"),
        ("x", {"info": [{"range": "6xx"}]}, "unknown range placeholder: 6xx"),
        ("x", {"info": [{"range": 5}]}, "range must be a map or a known placeholder string"),
    ],
)
def test_parse_severity_errors(value, mapping, match):
    fails("ParseSeverity", match, target=value, mapping=PMap(mapping))


def test_parse_severity_dynamic_mapping():
    mapping = Getter(lambda ctx: PMap({"debug": [{"equals": ["d"]}]}))
    fn = IMPLEMENTATIONS["ParseSeverity"]({"target": C("d"), "mapping": mapping})
    assert fn(None) == "debug"


# =================================================================================================
# URL
# =================================================================================================


@pytest.mark.parametrize(
    "uri, want",
    [
        (
            "http://www.example.com",
            {"url.original": "http://www.example.com", "url.scheme": "http", "url.domain": "www.example.com", "url.path": ""},
        ),
        (
            "http://myusername:mypassword@www.example.com:80/foo.gif?key1=val1&key2=val2#fragment",
            {
                "url.path": "/foo.gif",
                "url.fragment": "fragment",
                "url.extension": "gif",
                "url.password": "mypassword",
                "url.original": "http://myusername:mypassword@www.example.com:80/foo.gif?key1=val1&key2=val2#fragment",
                "url.scheme": "http",
                "url.port": 80,
                "url.user_info": "myusername:mypassword",
                "url.domain": "www.example.com",
                "url.query": "key1=val1&key2=val2",
                "url.username": "myusername",
            },
        ),
        (
            "HTTPS://Example.com/a%20b/c.tar.gz",
            {
                "url.original": "https://Example.com/a%20b/c.tar.gz",
                "url.scheme": "https",
                "url.domain": "Example.com",
                "url.path": "/a b/c.tar.gz",
                "url.extension": "gz",
            },
        ),
        (
            "http://[2001:db8::1]:8080/x.",
            {
                "url.original": "http://[2001:db8::1]:8080/x.",
                "url.scheme": "http",
                "url.domain": "2001:db8::1",
                "url.path": "/x.",
                "url.port": 8080,
            },
        ),
        ("/just/a/path", {"url.original": "/just/a/path", "url.scheme": "", "url.domain": "", "url.path": "/just/a/path"}),
        ("mailto:joe@example.com", {"url.original": "mailto:joe@example.com", "url.scheme": "mailto", "url.domain": "", "url.path": ""}),
        ("?a=1&a=2&b=x+y", {"query": {"a": ["1", "2"], "b": ["x y"]}}),
        ("http://u@h/", {"url.original": "http://u@h/", "url.scheme": "http", "url.domain": "h", "url.path": "/", "url.user_info": "u", "url.username": "u"}),
    ],
)
def test_url(uri, want):
    assert call("URL", uri=uri) == want


@pytest.mark.parametrize(
    "uri, match",
    [
        ("", "url cannot be empty"),
        ("http://host:port/", 'invalid port ":port" after host'),
        ("::bad", "missing protocol scheme"),
        ("http://a b.com/", "invalid character"),
        ("http://x/%zz", "invalid URL escape"),
        ("http://x/\x01", "invalid control character"),
    ],
)
def test_url_errors(uri, match):
    fails("URL", match, uri=uri)


def test_url_wrong_type():
    fails("URL", "expected string but got nil", uri=None)


# =================================================================================================
# UserAgent
# =================================================================================================


@pytest.mark.parametrize(
    "ua, want",
    [
        (
            "curl/7.81.0",
            {"user_agent.name": "curl", "user_agent.version": "7.81.0", "user_agent.original": "curl/7.81.0", "os.name": "Other"},
        ),
        (
            "Mozilla/5.0 (X11; Linux x86_64; rv:126.0) Gecko/20100101 Firefox/126.0",
            {
                "user_agent.name": "Firefox",
                "user_agent.version": "126.0",
                "user_agent.original": "Mozilla/5.0 (X11; Linux x86_64; rv:126.0) Gecko/20100101 Firefox/126.0",
                "os.name": "Linux",
            },
        ),
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/91.0.4472.124 "
            "Safari/537.36 Edg/91.0.864.59",
            {
                "user_agent.name": "Edge",
                "user_agent.version": "91.0.864",
                "user_agent.original": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
                "Chrome/91.0.4472.124 Safari/537.36 Edg/91.0.864.59",
                "os.name": "Windows",
                "os.version": "10",
            },
        ),
        ("", {"user_agent.name": "Other", "user_agent.version": "", "user_agent.original": "", "os.name": "Other"}),
    ],
)
def test_user_agent(ua, want):
    assert call("UserAgent", user_agent=ua) == want


def test_user_agent_wrong_type():
    fails("UserAgent", "expected string but got int64", user_agent=1)


# =================================================================================================
# Decode / Base64Decode / Base64Encode
# =================================================================================================


@pytest.mark.parametrize(
    "value, encoding, want",
    [
        ("aGVsbG8gd29ybGQ=", "base64", "hello world"),
        ("aGVsbG8gd29ybGQ", "base64-raw", "hello world"),
        ("aHR0cHM6Ly9kZXYuLz9oZWxsbz13b3JsZA==", "base64-url", "https://dev./?hello=world"),
        ("aHR0cHM6Ly9kZXYuLz9oZWxsbz13b3JsZA", "base64-raw-url", "https://dev./?hello=world"),
        ("dGVzdAo=\n", "base64", "test\n"),
        ("aGVs\r\nbG8=", "base64", "hel" + "lo"),
        ("aGVsbG8", "base64-raw", "hello"),
        ("", "base64", ""),
        ("aGVsbG8gd29ybG==", "base64", "hello worl"),
        (b"aGVsbG8gd29ybGQ=", "base64", "hello world"),
        ("test string", "us-ascii", "test string"),
        ("test string", "utf-8", "test string"),
        ("test string", "UTF8", "test string"),
        ("test string", "nop", "test string"),
        (b"\xe9t\xe9", "ISO-8859-1", "été"),
        (b"\xe9t\xe9", "windows-1252", "été"),
        ("Hello", "", "Hello"),
        (b"h\x00i\x00", "utf-16", "hi"),
        (b"\xff", "utf-8", "\ufffd"),
    ],
)
def test_decode(value, encoding, want):
    assert call("Decode", target=value, encoding=encoding) == want


@pytest.mark.parametrize(
    "value, encoding, match",
    [
        ("aGVsbG8gd29ybGQ=", "invalid-encoding", "unsupported encoding 'invalid-encoding'"),
        ("aGVsbG8gd29ybGQ", "base64", "could not decode: illegal base64 data at input byte 12"),
        ("aGVsbG8gd29ybGQ==", "base64", "could not decode: illegal base64 data at input byte 16"),
        ("aGVsbG8gd29ybGQ=x", "base64", "could not decode: illegal base64 data at input byte 16"),
        ("aGVs\nbG8=x", "base64", "could not decode: illegal base64 data at input byte 9"),
        ("aGVsbG8gd29ybG=x", "base64", "could not decode: illegal base64 data at input byte 14"),
        ("aGVsbG8gd29ybG=", "base64", "could not decode: illegal base64 data at input byte 15"),
        ("aGVsbG8gd29ybGQ=", "base64-raw", "could not decode: illegal base64 data at input byte 15"),
        ("!!!!", "base64", "illegal base64 data at input byte 0"),
        (1, "base64", "unsupported type provided to Decode function: int64"),
        (None, "base64", "unsupported type provided to Decode function: <nil>"),
        (PMap({"a": 1}), "base64", "unsupported type provided to Decode function: pcommon.Map"),
    ],
)
def test_decode_errors(value, encoding, match):
    fails("Decode", match, target=value, encoding=encoding)


def test_decode_dynamic_encoding():
    enc = Getter(lambda ctx: "base64")
    assert IMPLEMENTATIONS["Decode"]({"target": C("dGVzdA=="), "encoding": enc})(None) == "test"


def test_base64_decode():
    assert call("Base64Decode", target="aGVsbG8gd29ybGQ=") == "hello world"
    assert call("Base64Decode", target="") == ""
    fails("Base64Decode", "illegal base64 data", target="aGVsbG8gd29ybGQ")
    fails("Base64Decode", "expected string but got nil", target=None)


@pytest.mark.parametrize(
    "value, variant, want",
    [
        ("test string", None, "dGVzdCBzdHJpbmc="),
        ("test string", "base64", "dGVzdCBzdHJpbmc="),
        ("test string", "base64-raw", "dGVzdCBzdHJpbmc"),
        ("https://dev./?hello=world", "base64-url", "aHR0cHM6Ly9kZXYuLz9oZWxsbz13b3JsZA=="),
        ("https://dev./?hello=world", "base64-raw-url", "aHR0cHM6Ly9kZXYuLz9oZWxsbz13b3JsZA"),
        ("", None, ""),
    ],
)
def test_base64_encode(value, variant, want):
    args = {"target": C(value), "variant": None if variant is None else C(variant)}
    assert IMPLEMENTATIONS["Base64Encode"](args)(None) == want


def test_base64_encode_errors():
    with pytest.raises(EvalError, match="unsupported base64 variant: base32"):
        IMPLEMENTATIONS["Base64Encode"]({"target": C("x"), "variant": C("base32")})(None)
    with pytest.raises(EvalError, match="expected string but got int64"):
        IMPLEMENTATIONS["Base64Encode"]({"target": C(1), "variant": None})(None)
    with pytest.raises(EvalError, match="failed to get base64 variant"):
        IMPLEMENTATIONS["Base64Encode"]({"target": C("x"), "variant": C(None)})(None)


# =================================================================================================
# ParseXML
# =================================================================================================

_USER = [
    {"tag": "ID", "content": "00001"},
    {"tag": "Name", "content": "Joe"},
    {"tag": "Email", "content": "joe.smith@example.com"},
]


@pytest.mark.parametrize(
    "document, want",
    [
        (
            "<Log><User><ID>00001</ID><Name>Joe</Name><Email>joe.smith@example.com</Email></User><Text>User did a thing</Text></Log>",
            {"tag": "Log", "children": [{"tag": "User", "children": _USER}, {"tag": "Text", "content": "User did a thing"}]},
        ),
        (
            "\n\t\t\t\t\t\t<Log>\n\t\t\t\t\t\t  <User>\n\t\t\t\t\t\t    <ID>00001</ID>\n\t\t\t\t\t\t\t<Name>Joe</Name>\n"
            "\t\t\t\t\t\t\t<Email>joe.smith@example.com</Email>\n\t\t\t\t\t\t  </User>\n\t\t\t\t\t\t  <Text>User did a thing</Text>\n"
            "\t\t\t\t\t\t</Log>",
            {"tag": "Log", "children": [{"tag": "User", "children": _USER}, {"tag": "Text", "content": "User did a thing"}]},
        ),
        (
            '<Log>This record has a collision<User id="0001"/><User id="0002"/></Log>',
            {
                "tag": "Log",
                "content": "This record has a collision",
                "children": [{"tag": "User", "attributes": {"id": "0001"}}, {"tag": "User", "attributes": {"id": "0002"}}],
            },
        ),
        (
            '<Log>\n\t\tThis record has multiple lines of\n\t\t<User id="0001"/>\n\t\ttext content\n\t\t</Log>',
            {
                "tag": "Log",
                "content": "This record has multiple lines oftext content",
                "children": [{"tag": "User", "attributes": {"id": "0001"}}],
            },
        ),
        (
            '<HostInfo hostname="example.com" zone="east-1" cloudprovider="aws" />',
            {"tag": "HostInfo", "attributes": {"hostname": "example.com", "zone": "east-1", "cloudprovider": "aws"}},
        ),
        ('<?xml version="1.0" encoding="UTF-8" ?><Log>Log content</Log>', {"tag": "Log", "content": "Log content"}),
        ("<Log>This has a comment <!-- This is comment text --></Log>", {"tag": "Log", "content": "This has a comment"}),
        ('<Log><?xml-stylesheet type="text/xsl" href="style.xsl"?>Log content</Log>', {"tag": "Log", "content": "Log content"}),
        ("<Log><!ELEMENT xi:fallback ANY>Log content</Log>", {"tag": "Log", "content": "Log content"}),
        (
            '<?xml version="1.0" encoding="UTF-8" ?>\n<Log>\n  <User>\n    <ID>00001</ID>\n    <Name type="first">Joe</Name>\n'
            "    <Email>joe.smith@example.com</Email>\n  </User>\n  <Text>User fired alert A</Text>\n</Log>",
            {
                "tag": "Log",
                "children": [
                    {
                        "tag": "User",
                        "children": [
                            {"tag": "ID", "content": "00001"},
                            {"tag": "Name", "content": "Joe", "attributes": {"type": "first"}},
                            {"tag": "Email", "content": "joe.smith@example.com"},
                        ],
                    },
                    {"tag": "Text", "content": "User fired alert A"},
                ],
            },
        ),
        ("<a>x &lt;&amp;&#65;&#x42; <![CDATA[<y>]]></a>", {"tag": "a", "content": "x <&AB<y>"}),
        ('<ns:a xmlns:ns="urn:x" ns:k="v"/>', {"tag": "a", "attributes": {"ns": "urn:x", "k": "v"}}),
    ],
)
def test_parse_xml(document, want):
    got = call("ParseXML", target=document)
    assert isinstance(got, PMap)
    assert got.as_raw() == want


@pytest.mark.parametrize(
    "document, match",
    [
        ('<Log id="1">', "unmarshal xml: decode next token: XML syntax error on line 1: unexpected EOF"),
        ("<Log><Text></Log>", "unmarshal xml: decode next token: XML syntax error on line 1: element <Text> closed by </Log>"),
        ("<Log></Log><Log></Log>", "trailing bytes after parsing xml"),
        ("<a/>\n", "trailing bytes after parsing xml"),
        ("", "unmarshal xml: EOF"),
        ("just text", "unmarshal xml: EOF"),
        ("<a>&bogus;</a>", "invalid character entity &bogus;"),
        ("<a b=c/>", "unquoted or missing attribute value in element"),
        ("<a b/>", "attribute name without = in element"),
        ("<a><!-- x -- y --></a>", 'invalid sequence "--" not allowed in comments'),
        ('<?xml version="1.0" encoding="ISO-8859-1"?><a/>', "CharsetReader is nil"),
        ("<a>\n\n</b>", "XML syntax error on line 3: element <a> closed by </b>"),
    ],
)
def test_parse_xml_errors(document, match):
    fails("ParseXML", match, target=document)


def test_parse_xml_wrong_type():
    fails("ParseXML", "expected string but got nil", target=None)


# =================================================================================================
# ParseSimplifiedXML
# =================================================================================================

_WEL = """<Event>
\t<xmlns>http://schemas.microsoft.com/win/2004/08/events/event</xmlns>
    <System>
        <Provider><Name>Microsoft-Windows-Security-Auditing</Name><Guid>{54849625-5478-4994-a5ba-3e3b0328c30d}</Guid></Provider>
        <EventID>4625</EventID>
        <Version>0</Version>
        <Level>0</Level>
        <Task>12544</Task>
        <Opcode>0</Opcode>
        <Keywords>0x8010000000000000</Keywords>
        <TimeCreated><SystemTime>2024-09-04T08:38:09.7477579Z</SystemTime></TimeCreated>
        <EventRecordID>1361885</EventRecordID>
        <Correlation><ActivityID>{b67ee0c2-a671-0001-5f6b-82e8c1eeda01}</ActivityID></Correlation>
        <Execution><ProcessID>656</ProcessID><ThreadID>2276</ThreadID></Execution>
        <Channel>Security</Channel>
        <Computer>samuel-vahala</Computer>
        <Security />
    </System>
    <EventData>
\t\t<Data><Name>SubjectUserSid</Name><value>S-1-0-0</value></Data>
\t\t<Data><Name>TargetUserSid</Name><value>S-1-0-0</value></Data>
        <Data><Name>Status</Name><value>0xc000006d</value></Data>
        <Data><Name>WorkstationName</Name><value>D-508</value></Data>
    </EventData>
</Event>"""

_WEL_WANT = {
    "Event": {
        "xmlns": "http://schemas.microsoft.com/win/2004/08/events/event",
        "System": {
            "Provider": {"Name": "Microsoft-Windows-Security-Auditing", "Guid": "{54849625-5478-4994-a5ba-3e3b0328c30d}"},
            "EventID": "4625",
            "Version": "0",
            "Level": "0",
            "Task": "12544",
            "Opcode": "0",
            "Keywords": "0x8010000000000000",
            "TimeCreated": {"SystemTime": "2024-09-04T08:38:09.7477579Z"},
            "EventRecordID": "1361885",
            "Correlation": {"ActivityID": "{b67ee0c2-a671-0001-5f6b-82e8c1eeda01}"},
            "Execution": {"ProcessID": "656", "ThreadID": "2276"},
            "Channel": "Security",
            "Computer": "samuel-vahala",
        },
        "EventData": {
            "Data": [
                {"Name": "SubjectUserSid", "value": "S-1-0-0"},
                {"Name": "TargetUserSid", "value": "S-1-0-0"},
                {"Name": "Status", "value": "0xc000006d"},
                {"Name": "WorkstationName", "value": "D-508"},
            ]
        },
    }
}


@pytest.mark.parametrize(
    "document, want",
    [
        ("<a>b</a>", {"a": "b"}),
        ("<a>b</a><a>c</a>", {"a": ["b", "c"]}),
        ("<a><b>1</b></a>", {"a": {"b": "1"}}),
        ("<a>1</a><a><![CDATA[2]]></a><a><b>3</b></a>", {"a": ["1", "2", {"b": "3"}]}),
        ("<a><![CDATA[b]]></a>", {"a": "b"}),
        ('<a foo="bar"><b hello="world">c</b></a>', {"a": {"b": "c"}}),
        ('<?xml version="1.0" encoding="UTF-8"?><a>b</a>', {"a": "b"}),
        ("<a><!-- ignore -->b</a><!-- ignore -->", {"a": "b"}),
        ("<a><b>2</b><c><!-- c is empty --></c></a>", {"a": {"b": "2"}}),
        ("<a><b>2</b><c>4</c><c><!-- this c is empty --></c></a>", {"a": {"b": "2", "c": ["4"]}}),
        ("<a>extra1<b>3</b>extra2</a>", {"a": {"b": "3"}}),
        ("<a><![CDATA[1]]><b>3</b><![CDATA[2]]></a>", {"a": {"b": "3"}}),
        ("<a><b>3</b><c/></a>", {"a": {"b": "3"}}),
        ("<a><b><c/></b><d>2</d></a>", {"a": {"d": "2"}}),
        ("<a><b>3</b><b/></a>", {"a": {"b": ["3"]}}),
        (
            "<event>\n    <id>1</id>\n    <user>jane</user>\n    <details>\n      <time>2021-10-01T12:00:00Z</time>\n"
            "      <description>Something happened</description>\n      <cause>unknown</cause>\n    </details>\n</event>",
            {
                "event": {
                    "id": "1",
                    "user": "jane",
                    "details": {"time": "2021-10-01T12:00:00Z", "description": "Something happened", "cause": "unknown"},
                }
            },
        ),
        ("<x>\n  <y>1</y>\n  <z>2</z>\n</x>", {"x": {"y": "1", "z": "2"}}),
        ("<a>\n  <b>1</b>\n  <b>2</b>\n</a>", {"a": {"b": ["1", "2"]}}),
        ("<a>\n  <b>1</b>\n  <b><![CDATA[2]]></b>\n</a>", {"a": {"b": ["1", "2"]}}),
        (_WEL, _WEL_WANT),
    ],
)
def test_parse_simplified_xml(document, want):
    got = call("ParseSimplifiedXML", target=document)
    assert isinstance(got, PMap)
    assert got.as_raw() == want


def test_parse_simplified_xml_errors():
    fails("ParseSimplifiedXML", "parse xml: XML syntax error on line 1: unexpected EOF", target="<a>>>>>>>")
    fails("ParseSimplifiedXML", "invalid XML document", target="")
    fails("ParseSimplifiedXML", "expected string but got int64", target=3)


def test_parse_simplified_xml_depth_limit():
    deep = "<a>" * 10001 + "</a>" * 10001
    fails("ParseSimplifiedXML", "exceeded max depth", target=deep)
    ok = "<a>" * 2000 + "x" + "</a>" * 2000
    got = call("ParseSimplifiedXML", target=ok)
    assert isinstance(got, PMap)


# =================================================================================================
# GetXML
# =================================================================================================


@pytest.mark.parametrize(
    "document, xpath, want",
    [
        ("<a><b/></a>", "/a/b", "<b></b>"),
        ('<a foo="bar"><b>hello</b></a>', "/a", '<a foo="bar"><b>hello</b></a>'),
        ("<a><b>hello</b><b>world</b></a>", "/a/b", "<b>hello</b><b>world</b>"),
        ("<a><b>hello</b><b><c>world</c></b><d/></a>", "/a/*", "<b>hello</b><b><c>world</c></b><d></d>"),
        ("<a><x>1</x><b><x>2</x></b><d><e><f><x>3</x></f></e></d></a>", "/a//x", "<x>1</x><x>2</x><x>3</x>"),
        (
            '<a><x env="prod">1</x><b><x env="dev">2</x></b><d><e><f><x env="prod">3</x></f></e></d></a>',
            "/a//x[@env='prod']",
            '<x env="prod">1</x><x env="prod">3</x>',
        ),
        ("", "/", ""),
        ('<?xml version="1.0" encoding="UTF-8"?><a></a>', "/*", "<a></a>"),
        ("<!-- comment --><a></a><!-- comment -->", "/*", "<a></a>"),
        ('<a foo="bar"></a>', "/a/@foo", "bar"),
        ("<a>hello</a>", "/a/text()", "hello"),
        ("<a><![CDATA[hello]]></a>", "/a/text()", "hello"),
        ("<a><b>1</b></a><a><b>2</b></a>", "//b", "<b>1</b><b>2</b>"),
        ("<a>it's &lt;x&gt;</a>", "/a", "<a>it&#39;s &lt;x&gt;</a>"),
        ("<a><b>1</b><c>2</c></a>", "/a/*[position() = 2]", "<c>2</c>"),
        ("<a><b>1</b><b>2</b></a>", "count(//b)", ""),
        ("<p:a xmlns:p='urn:p'><p:b>1</p:b></p:a>", "/p:a/p:b", "<p:b>1</p:b>"),
        ("<a xmlns='urn:d'><b>1</b></a>", "/a/b", "<b>1</b>"),
        ("<a><b>x</b></a>", "//b | /a", "<a></a><b>x</b>"),
    ],
)
def test_get_xml(document, xpath, want):
    assert call("GetXML", target=document, x_path=xpath) == want


def test_get_xml_errors():
    with pytest.raises(EvalError, match="invalid xpath"):
        call("GetXML", target="<a/>", x_path="!")
    fails("GetXML", "parse xml", target="<a>>>>>>>", x_path="/")
    fails("GetXML", "expected string but got nil", target=None, x_path="/")


# =================================================================================================
# InsertXML
# =================================================================================================


@pytest.mark.parametrize(
    "document, xpath, subdoc, want",
    [
        ("<a></a>", "/a", "<b/>", "<a><b></b></a>"),
        ("<a></a><a></a>", "/a", "<b/>", "<a><b></b></a><a><b></b></a>"),
        ("<a></a><z><a></a></z>", "//a", "<b/>", "<a><b></b></a><z><a><b></b></a></z>"),
        ("<a></a>", "/", "<b/><c/>", "<a></a><b></b><c></c>"),
        ("<a></a>", "/a", "<b/><c/>", "<a><b></b><c></c></a>"),
        ("<a></a><a></a>", "/a", "<b/><c/>", "<a><b></b><c></c></a><a><b></b><c></c></a>"),
        ("<a></a><z><a></a></z>", "//a", "<b/><c/>", "<a><b></b><c></c></a><z><a><b></b><c></c></a></z>"),
        (
            "<a></a>",
            "/a",
            '<x foo="bar"><b>text</b><c><d><e>1</e><e><![CDATA[two]]></e></d></c></x>',
            '<a><x foo="bar"><b>text</b><c><d><e>1</e><e><![CDATA[two]]></e></d></c></x></a>',
        ),
        ("", "/", "<a/>", "<a></a>"),
        ("<a></a>", "/", "<a/>", "<a></a><a></a>"),
        (
            "<a><b>has b</b></a><a></a><a><b>also has b</b></a>",
            "//a[not(b)]",
            "<b></b>",
            "<a><b>has b</b></a><a><b></b></a><a><b>also has b</b></a>",
        ),
        ("<log></log>", "/subdoc", "<x/>", "<log></log>"),
    ],
)
def test_insert_xml(document, xpath, subdoc, want):
    assert call("InsertXML", target=document, x_path=xpath, sub_document=subdoc) == want


def test_insert_xml_errors():
    fails("InsertXML", 'InsertXML XPath selected non-element: "foo"', target='<a foo="bar"></a>', x_path="/a/@foo", sub_document="<b/>")
    fails("InsertXML", 'InsertXML XPath selected non-element: "foo"', target="<a>foo</a>", x_path="/a/text()", sub_document="<b/>")
    fails("InsertXML", "parse xml", target="<a>>>>>>>", x_path="/", sub_document="<b/>")
    fails("InsertXML", "parse xml", target="<a/>", x_path="/", sub_document="<a>>>>>>>")
    with pytest.raises(EvalError, match="invalid xpath"):
        call("InsertXML", target="<a/>", x_path="!", sub_document="<b/>")


# =================================================================================================
# RemoveXML
# =================================================================================================


@pytest.mark.parametrize(
    "document, xpath, want",
    [
        ("<a><b/></a>", "/a/b", "<a></a>"),
        ("<a><b/><b/></a>", "/a/b", "<a></a>"),
        ("<a><b/><b><c/></b></a>", "/a/b", "<a></a>"),
        ("<a><b/><b/><c><b><d/></b></c></a>", "/a//b", "<a><c></c></a>"),
        ('<a foo="bar"/>', "/a/@foo", "<a></a>"),
        ('<a><b foo="bar"/><b foo="notbar"/></a>', "/a/b[@foo='bar']", '<a><b foo="notbar"></b></a>'),
        ('<a><b foo="bar"/><c foo="bar"/></a>', "//@foo", "<a><b></b><c></c></a>"),
        ('<a><b foo="bar" hello="world" keep="this"/></a>', "//@*[local-name() != 'keep']", '<a><b keep="this"></b></a>'),
        ("<a>delete this</a>", "//text()['*delete*']", "<a></a>"),
        ("<a><b><c><!-- delete this --></c><!-- this too--></b></a>", "//comment()", "<a><b><c></c></b></a>"),
        (
            "<a><b><![CDATA[text content possibly containing literal <or &characters ]]></b></a>",
            "//text()['<![CDATA[*']",
            "<a><b></b></a>",
        ),
        ('<?xml version="1.0" encoding="UTF-8"?><a>delete this</a>', "//text()['*delete*']", '<?xml version="1.0" encoding="UTF-8"?><a></a>'),
        ("", "/", ""),
        (
            '<?xml version="1.0" encoding="UTF-8" ?>\n<Log>\n  <Record>\n    <ID>00001</ID>\n    <Name type="archive"></Name>\n'
            '    <Data>Some data</Data>\n  </Record>\n  <Record>\n    <ID>00002</ID>\n    <Name type="user"></Name>\n'
            "    <Data>Some data</Data>\n  </Record>\n</Log>",
            '/Log/Record[./Name/@type="archive"]',
            '<?xml version="1.0" encoding="UTF-8"?>\n<Log>\n  \n  <Record>\n    <ID>00002</ID>\n    <Name type="user"></Name>\n'
            "    <Data>Some data</Data>\n  </Record>\n</Log>",
        ),
        ("<a><b>sensitive stuff</b><c>fine</c></a>", "//*[contains(text(), 'sensitive')]", "<a><c>fine</c></a>"),
    ],
)
def test_remove_xml(document, xpath, want):
    assert call("RemoveXML", target=document, x_path=xpath) == want


def test_remove_xml_errors():
    with pytest.raises(EvalError, match="invalid xpath"):
        call("RemoveXML", target="<a/>", x_path="!")
    fails("RemoveXML", "parse xml", target="<a>>>>>>>", x_path="/")


# =================================================================================================
# ConvertAttributesToElementsXML
# =================================================================================================


@pytest.mark.parametrize(
    "document, xpath, want",
    [
        ("<a><b/></a>", None, "<a><b></b></a>"),
        ('<?xml version="1.0" encoding="UTF-8"?><a><b/></a>', None, '<?xml version="1.0" encoding="UTF-8"?><a><b></b></a>'),
        ('<a foo="bar"/>', None, "<a><foo>bar</foo></a>"),
        ('<a foo="bar" hello="world"/>', None, "<a><foo>bar</foo><hello>world</hello></a>"),
        ('<a hello="world" foo="bar"/>', None, "<a><hello>world</hello><foo>bar</foo></a>"),
        ('<a hello="world" foo="bar"><b/><c/><b/></a>', None, "<a><b></b><c></c><b></b><hello>world</hello><foo>bar</foo></a>"),
        ('<a hello="world" foo="bar">free value</a>', None, "<a>free value<hello>world</hello><foo>bar</foo></a>"),
        (
            '<a hello="world" foo="bar">free value<b/>2<c/></a>',
            None,
            "<a>free value<b></b>2<c></c><hello>world</hello><foo>bar</foo></a>",
        ),
        (
            '<a hello="world" foo="bar"><b href="www.example.com"></b></a>',
            None,
            "<a><b><href>www.example.com</href></b><hello>world</hello><foo>bar</foo></a>",
        ),
        (
            '<a hello="world" foo="bar"><b href="www.example.com"></b></a>',
            "/a/b/@*",
            '<a hello="world" foo="bar"><b><href>www.example.com</href></b></a>',
        ),
        (
            '<a hello="world" foo="bar"><b href="www.example.com"></b></a>',
            "/a/b",
            '<a hello="world" foo="bar"><b href="www.example.com"></b></a>',
        ),
        ('<a foo="bar"><b>baz</b></a>', None, "<a><b>baz</b><foo>bar</foo></a>"),
        ('<Log><Record id="1"/></Log><Other k="v"/>', "/Log/Record", '<Log><Record id="1"></Record></Log><Other k="v"></Other>'),
    ],
)
def test_convert_attributes_to_elements_xml(document, xpath, want):
    assert call("ConvertAttributesToElementsXML", target=document, x_path=xpath) == want


def test_convert_attributes_to_elements_xml_errors():
    with pytest.raises(EvalError, match="invalid xpath"):
        call("ConvertAttributesToElementsXML", target="<a/>", x_path="!")
    fails("ConvertAttributesToElementsXML", "parse xml", target="<a>>>>>>>", x_path=None)


# =================================================================================================
# ConvertTextToElementsXML
# =================================================================================================


@pytest.mark.parametrize(
    "document, xpath, name, want",
    [
        ("<a><b/></a>", None, None, "<a><b></b></a>"),
        ('<?xml version="1.0" encoding="UTF-8"?><a><b/></a>', None, None, '<?xml version="1.0" encoding="UTF-8"?><a><b></b></a>'),
        ('<a foo="bar" hello="world"/>', None, None, '<a foo="bar" hello="world"></a>'),
        ("<a>hello world</a>", None, None, "<a>hello world</a>"),
        ("<a><b/>foo</a>", None, None, "<a><b></b><value>foo</value></a>"),
        ("<a><b/>foo</a>", None, "bar", "<a><b></b><bar>foo</bar></a>"),
        ("<a>foo<b/>bar</a>", None, None, "<a><value>foo</value><b></b><value>bar</value></a>"),
        (
            "<a>foo<b/>bar<c/>1<d>not</d>2<e><f/><f/></e></a>",
            None,
            "v",
            "<a><v>foo</v><b></b><v>bar</v><c></c><v>1</v><d>not</d><v>2</v><e><f></f><f></f></e></a>",
        ),
        (
            "<a><b><c/>foo</b><d><c/>bar</d><b><c/>baz</b></a>",
            "/a/b",
            None,
            "<a><b><c></c><value>foo</value></b><d><c></c>bar</d><b><c></c><value>baz</value></b></a>",
        ),
        (
            "<a><b><c/>foo</b><d><c/>bar</d><b><c/>baz</b></a>",
            "/a/b",
            "V",
            "<a><b><c></c><V>foo</V></b><d><c></c>bar</d><b><c></c><V>baz</V></b></a>",
        ),
    ],
)
def test_convert_text_to_elements_xml(document, xpath, name, want):
    assert call("ConvertTextToElementsXML", target=document, x_path=xpath, element_name=name) == want


def test_convert_text_to_elements_xml_errors():
    with pytest.raises(EvalError, match="invalid xpath"):
        call("ConvertTextToElementsXML", target="<a/>", x_path="!", element_name=None)
    fails("ConvertTextToElementsXML", "parse xml", target="<a>>>>>>>", x_path=None, element_name=None)


def test_xml_pipeline_simplified_wel():
    """ParseSimplifiedXML(ConvertAttributesToElementsXML(ConvertTextToElementsXML(...)))."""
    doc = '<Event xmlns="http://x/e"><System><Provider Name="P"/><EventID>4625</EventID></System><EventData><Data Name="S">v</Data></EventData></Event>'
    text = call("ConvertTextToElementsXML", target=doc, x_path=None, element_name=None)
    attrs = call("ConvertAttributesToElementsXML", target=text, x_path=None)
    assert attrs == (
        "<Event><System><Provider><Name>P</Name></Provider><EventID>4625</EventID></System>"
        "<EventData><Data>v<Name>S</Name></Data></EventData><xmlns>http://x/e</xmlns></Event>"
    )
    got = call("ParseSimplifiedXML", target=call("ConvertTextToElementsXML", target=attrs, x_path=None, element_name=None))
    assert got.as_raw() == {
        "Event": {
            "System": {"Provider": {"Name": "P"}, "EventID": "4625"},
            "EventData": {"Data": {"value": "v", "Name": "S"}},
            "xmlns": "http://x/e",
        }
    }


def test_get_xml_moves_selected_descendants():
    # The reference moves each selected node into the result, so a selected descendant leaves
    # its selected ancestor.
    assert call("GetXML", target="<a><b>1</b></a>", x_path="//*") == "<a></a><b>1</b>"


def test_xml_output_keeps_spaces_unless_xml_space_default():
    doc = '<a xml:space="default"> x <b> y </b></a><c> z </c>'
    assert call("RemoveXML", target=doc, x_path="/nothing") == '<a xml:space="default">x<b>y</b></a><c> z </c>'
    doc = '<a xml:space="default"><b xml:space="preserve"> y </b></a>'
    assert call("RemoveXML", target=doc, x_path="/nothing") == doc


def test_xml_xpath_errors_at_run_time():
    with pytest.raises(EvalError, match="Unregistered function"):
        call("GetXML", target="<a/>", x_path='ends-with("a", "a")')


def test_xml_deep_documents():
    deep = "<a>" * 5000 + "x" + "</a>" * 5000
    assert call("GetXML", target=deep, x_path="//text()") == "x"
    out = call("ConvertTextToElementsXML", target=deep, x_path=None, element_name=None)
    assert out == deep
    fails("GetXML", "exceeded max depth", target="<a>" * 10001, x_path="/")
    fails("ParseXML", "exceeded max depth", target="<a>" * 10001)


def test_xml_top_level_text_and_trailing_comment_kept():
    doc = '<?xml version="1.0"?>\n<a>1</a>\n<!-- end -->'
    assert call("RemoveXML", target=doc, x_path="/a/text()") == '<?xml version="1.0"?>\n<a></a>\n<!-- end -->'
