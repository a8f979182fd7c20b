"""Transform processor functions: IsRootSpan, set_semconv_span_name and the log parsers."""

from __future__ import annotations

import pytest

from ottl.eval.errors import EvalError
from ottl.eval.funcs import IMPLEMENTATIONS, load_all
from ottl.eval.funcs.processor import (
    _unescape_clf,
    derive_semconv_span_name,
    parse_cef_message,
    parse_clf_message,
    parse_elf_message,
    parse_leef_message,
)
from ottl.eval.getters import Getter
from ottl.eval.model import LogRecord, ResourceSpans, Span, TransformContext
from ottl.eval.values import PMap, PSlice, SpanID

load_all()
C = Getter.constant

SERVER, CLIENT, PRODUCER, CONSUMER, INTERNAL = 2, 3, 4, 5, 1


def span_ctx(span):
    return TransformContext(context="span", resource=ResourceSpans(), span=span)


def call(name, ctx=None, **args):
    return IMPLEMENTATIONS[name](args)(ctx)


# --- IsRootSpan ----------------------------------------------------------------------------------


def test_is_root_span():
    assert call("IsRootSpan", span_ctx(Span())) is True
    assert call("IsRootSpan", span_ctx(Span(parent_span_id=SpanID(b"\x00" * 7 + b"\x01")))) is False


def test_is_root_span_needs_a_span():
    ctx = TransformContext(context="log", resource=ResourceSpans(), log=LogRecord())
    with pytest.raises(EvalError):
        call("IsRootSpan", ctx)


# --- set_semconv_span_name -----------------------------------------------------------------------

SEMCONV_CASES = [
    ("GET /users/123", SERVER, {"http.request.method": "GET", "http.route": "/users/:id"},
     "GET /users/:id"),
    ("GET /users/123", SERVER, {"http.method": "GET", "http.route": "/users/:id"},
     "GET /users/:id"),
    ("GET /users/123", SERVER, {"http.request.method": "GET"}, "GET"),
    ("GET /app/workspaces/7?_rsc=hn5g2", SERVER,
     {"http.method": "GET", "next.span_name": "GET /app/workspaces/7?_rsc=hn5g2",
      "http.target": "/app/workspaces/7?_rsc=hn5g2", "http.status": "200"}, "GET"),
    ("GET /users/123", CLIENT, {"http.request.method": "GET", "url.template": "/users/:id"},
     "GET /users/:id"),
    ("GET /users/123", CLIENT, {"http.method": "GET"}, "GET"),
    ("GET /users/123", CLIENT, {"http.request.method": "GET", "http.route": "/users/:id"}, "GET"),
    ("INSERT webshop.orders", CLIENT,
     {"db.system.name": "postgresql", "db.namespace": "webshop", "db.operation.name": "INSERT",
      "db.collection.name": "orders", "db.query.text": "insert into orders values (?)"},
     "INSERT webshop.orders"),
    ("HGET", CLIENT, {"db.redis.database_index": 0, "db.statement": "HGET 7175",
                      "db.system": "redis", "server.address": "valkey-cart"}, "valkey-cart"),
    ("otel", CLIENT, {"db.system": "postgresql", "db.connection_id": 54, "db.name": "otel",
                      "net.peer.name": "postgresql"}, "otel"),
    ("q", CLIENT, {"db.system.name": "mysql", "db.query.summary": "SELECT users"},
     "SELECT users"),
    ("q", CLIENT, {"db.system.name": "mysql", "db.stored_procedure.name": "p",
                   "db.namespace": "n"}, "n.p"),
    ("q", CLIENT, {"db.system.name": "mysql", "server.address": "db", "server.port": 3306},
     "db:3306"),
    ("q", CLIENT, {"db.system.name": "mysql"}, "mysql"),
    ("oteldemo.CartService/GetCart", CLIENT,
     {"rpc.grpc.status_code": 0, "rpc.grpc.method": "GetCart",
      "rpc.grpc.service": "oteldemo.CartService", "rpc.system": "grpc",
      "server.address": "127.18.0.18"}, "oteldemo.CartService/GetCart"),
    ("oteldemo.AdService/GetAds", SERVER,
     {"rpc.method": "GetAds", "rpc.service": "oteldemo.AdService", "rpc.system.name": "grpc"},
     "oteldemo.AdService/GetAds"),
    ("x", SERVER, {"rpc.system.name": "grpc", "rpc.service": "svc"}, "svc/*"),
    ("x", SERVER, {"rpc.system.name": "grpc", "rpc.method": "M"}, "M"),
    ("x", SERVER, {"rpc.system.name": "grpc"}, "grpc"),
    ("orders receive", CONSUMER,
     {"messaging.destination.name": "orders", "messaging.operation": "receive",
      "messaging.system": "kafka"}, "receive orders"),
    ("orders publish", PRODUCER,
     {"messaging.destination.name": "orders", "messaging.kafka.producer.success": True,
      "messaging.operation": "publish", "messaging.system": "kafka"}, "publish orders"),
    ("send /customers/123456", PRODUCER,
     {"messaging.system": "x", "messaging.operation.name": "send",
      "messaging.destination.template": "/customers/{customerId}",
      "messaging.destination.name": "/customers/123456"}, "send /customers/{customerId}"),
    ("send q", PRODUCER,
     {"messaging.system": "x", "messaging.operation.name": "send",
      "messaging.destination.temporary": True, "messaging.destination.name": "q"},
     "send (temporary)"),
    ("send q", PRODUCER,
     {"messaging.system": "x", "messaging.operation.name": "send",
      "messaging.destination.anonymous": True}, "send (anonymous)"),
    ("send q", PRODUCER,
     {"messaging.system": "x", "messaging.destination.temporary": "true"}, "x"),
    ("keep me", INTERNAL, {"http.request.method": "GET"}, "keep me"),
    ("keep me", CONSUMER, {"http.request.method": "GET"}, "keep me"),
]


@pytest.mark.parametrize("name,kind,attrs,want", SEMCONV_CASES)
def test_set_semconv_span_name(name, kind, attrs, want):
    span = Span(name=name, kind=kind, attributes=PMap(attrs))
    assert derive_semconv_span_name(span) == want
    call("set_semconv_span_name", span_ctx(span), semconv_version="1.37.0",
         original_span_name_attribute="original_span_name")
    assert span.name == want
    if want == name:
        assert "original_span_name" not in span.attributes
    else:
        assert span.attributes["original_span_name"] == name


def test_set_semconv_span_name_without_attribute_and_non_string_values():
    span = Span(name="old", kind=SERVER,
                attributes=PMap({"http.request.method": "GET", "http.route": 12}))
    call("set_semconv_span_name", span_ctx(span), semconv_version="1.38.0",
         original_span_name_attribute=None)
    assert span.name == "GET 12"
    assert "original_span_name" not in span.attributes


@pytest.mark.parametrize("version", ["1.37.0", "1.38", "v1.39.0", "1.40.0", "1.40.0+meta"])
def test_semconv_version_accepted(version):
    IMPLEMENTATIONS["set_semconv_span_name"](
        {"semconv_version": version, "original_span_name_attribute": None})


@pytest.mark.parametrize(
    "version,msg",
    [("1.36.0", "unsupported semconv version"), ("1.41.0", "unsupported semconv version"),
     ("1.37.0-rc.1", "unsupported semconv version"), ("2", "unsupported semconv version"),
     ("latest", "failed to parse semconv version"), ("", "failed to parse semconv version")],
)
def test_semconv_version_rejected(version, msg):
    with pytest.raises(EvalError, match=msg):
        IMPLEMENTATIONS["set_semconv_span_name"](
            {"semconv_version": version, "original_span_name_attribute": None})


def test_semconv_empty_attribute_name_rejected():
    with pytest.raises(EvalError, match="originalSpanNameAttribute cannot be an empty string"):
        IMPLEMENTATIONS["set_semconv_span_name"](
            {"semconv_version": "1.37.0", "original_span_name_attribute": ""})


# --- ParseCEF ------------------------------------------------------------------------------------


def test_parse_cef_full():
    msg = ("CEF:0|Security|threatmanager|1.0|100|worm successfully stopped|10|"
           "src=10.0.0.1 dst=2.1.2.2 spt=1232 msg=Detected a threat. No action needed.")
    got = parse_cef_message(msg)
    assert got == PMap({
        "cef.version": "0", "cef.device_vendor": "Security",
        "cef.device_product": "threatmanager", "cef.device_version": "1.0",
        "cef.device_event_class_id": "100", "cef.name": "worm successfully stopped",
        "cef.severity": "10",
        "cef.extensions": {"src": "10.0.0.1", "dst": "2.1.2.2", "spt": "1232",
                           "msg": "Detected a threat. No action needed."},
    })


def test_parse_cef_syslog_prefix_escapes_and_no_extension():
    got = parse_cef_message(r"Sep 19 08:26:10 host CEF:1|V\|x|P\\y|1|2|n|3")
    assert got["cef.version"] == "1"
    assert got["cef.device_vendor"] == "V|x"
    assert got["cef.device_product"] == "P\\y"
    assert got["cef.extensions"] == PMap()


def test_parse_cef_extension_values():
    got = parse_cef_message(
        r"CEF:0|a|b|c|d|e|f|k1=a\=b k2=line\nnext  k3=back\\slash k4=x=y 9n=1 k1=last"
    )
    assert got["cef.extensions"] == PMap({"k1": "last", "k2": "line\nnext", "k3": "back\\slash",
                                          "k4": "x=y", "9n": "1"})
    assert list(got["cef.extensions"]) == ["k1", "k2", "k3", "k4", "9n"]


@pytest.mark.parametrize(
    "msg,err",
    [("no header here", "'CEF:' not found"), ("CEF:0|a|b|c", "expected at least 7"),
     ("CEF:|a|b|c|d|e|f|", "missing version")],
)
def test_parse_cef_errors(msg, err):
    with pytest.raises(EvalError, match=err):
        parse_cef_message(msg)


def test_parse_cef_factory_checks_target():
    with pytest.raises(EvalError, match="cannot parse empty CEF message"):
        call("ParseCEF", target=C(""))
    with pytest.raises(EvalError, match="expected string but got int64"):
        call("ParseCEF", target=C(1))
    assert call("ParseCEF", target=C("CEF:0|a|b|c|d|e|f"))["cef.name"] == "e"


# --- ParseCLF ------------------------------------------------------------------------------------

CLF_BASE = {"remote_host": "127.0.0.1", "rfc931": "-", "authuser": "-",
            "timestamp": "10/Oct/2000:13:55:36 -0700"}


def clf(**fields):
    return {"clf." + k: v for k, v in fields.items()}


@pytest.mark.parametrize(
    "line,fmt,want",
    [
        ('127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326',
         "clf", clf(**{**CLF_BASE, "authuser": "frank"}, request="GET /apache_pb.gif HTTP/1.0",
                    method="GET", request_uri="/apache_pb.gif", protocol="HTTP/1.0", status=200,
                    bytes=2326)),
        ('192.168.1.1 - - [10/Oct/2000:13:55:36 -0700] "GET /redirect HTTP/1.1" 304 -', "clf",
         clf(**{**CLF_BASE, "remote_host": "192.168.1.1"}, request="GET /redirect HTTP/1.1",
             method="GET", request_uri="/redirect", protocol="HTTP/1.1", status=304)),
        ('   127.0.0.1 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.1" 200 42   ', "clf",
         clf(**CLF_BASE, request="GET / HTTP/1.1", method="GET", request_uri="/",
             protocol="HTTP/1.1", status=200, bytes=42)),
        ('127.0.0.1 - - [10/Oct/2000:13:55:36 -0700] "MALFORMED" 400 0', "clf",
         clf(**CLF_BASE, request="MALFORMED", status=400, bytes=0)),
        ('127.0.0.1 - - [10/Oct/2000:13:55:36 -0700] "" 408 0', "clf",
         clf(**CLF_BASE, request="", status=408, bytes=0)),
        ('127.0.0.1 - - [10/Oct/2000:13:55:36 -0700] "GET /search?q=\\"foo\\" HTTP/1.1" 200 42',
         "clf", clf(**CLF_BASE, request='GET /search?q="foo" HTTP/1.1', method="GET",
                    request_uri='/search?q="foo"', protocol="HTTP/1.1", status=200, bytes=42)),
        ('127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326 '
         '"http://www.example.com/start.html" "Mozilla/4.08 [en] (Win98; I ;Nav)"', "combined",
         clf(**{**CLF_BASE, "authuser": "frank"}, request="GET /apache_pb.gif HTTP/1.0",
             method="GET", request_uri="/apache_pb.gif", protocol="HTTP/1.0", status=200,
             bytes=2326, referer="http://www.example.com/start.html",
             user_agent="Mozilla/4.08 [en] (Win98; I ;Nav)")),
        ('203.0.113.7 - - [12/Jun/2026:09:15:02 +0000] "GET /products?id=1\\" OR \\"1\\"=\\"1 '
         'HTTP/1.1" 500 412 "-" "sqlmap/1.7"', "combined",
         clf(remote_host="203.0.113.7", rfc931="-", authuser="-",
             timestamp="12/Jun/2026:09:15:02 +0000", request='GET /products?id=1" OR "1"="1 HTTP/1.1',
             method="GET", request_uri='/products?id=1"', protocol='OR "1"="1 HTTP/1.1',
             status=500, bytes=412, referer="-", user_agent="sqlmap/1.7")),
    ],
)
def test_parse_clf(line, fmt, want):
    got = parse_clf_message(line, fmt)
    assert got == PMap(want)


@pytest.mark.parametrize(
    "line,fmt,err",
    [("this is not a CLF message", "clf", 'does not match expected "clf" format'),
     ('127.0.0.1 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.1" OK 42', "clf",
      'invalid status code "OK": strconv.ParseInt: parsing "OK": invalid syntax'),
     ('127.0.0.1 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.1" 200 lots', "clf",
      "invalid bytes value"),
     ('127.0.0.1 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.1" 200 99999999999999999999',
      "clf", "value out of range"),
     ('127.0.0.1 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.1" 200 42 "-" "curl/8.0"', "clf",
      'does not match expected "clf" format'),
     ('127.0.0.1 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.1" 200 42', "combined",
      'does not match expected "combined" format')],
)
def test_parse_clf_errors(line, fmt, err):
    with pytest.raises(EvalError, match=err.replace("(", r"\(").replace('"', '"')):
        parse_clf_message(line, fmt)


@pytest.mark.parametrize(
    "raw,want",
    [("GET / HTTP/1.1", "GET / HTTP/1.1"), (r"a\"b", 'a"b'), (r"a\\b", "a\\b"),
     (r"a\x22b", 'a"b'), (r"a\tb\nc\rd\be\ff\vg", "a\tb\nc\rd\be\ff\vg"), (r"a\qb", r"a\qb"),
     (r"a\xZZb", r"a\xZZb"), (r"a\x2", r"a\x2"), ("a\\", "a\\"), (r'\\\"\x41', '\\"A')],
)
def test_unescape_clf(raw, want):
    assert _unescape_clf(raw.encode()) == want


def test_unescape_clf_hex_byte_can_be_invalid_utf8():
    assert _unescape_clf(rb"\xff").encode("utf-8", "surrogateescape") == b"\xff"


def test_parse_clf_factory():
    with pytest.raises(EvalError, match='invalid format "json"'):
        IMPLEMENTATIONS["ParseCLF"]({"target": C("x"), "format": "json"})
    with pytest.raises(EvalError, match="cannot parse empty CLF message"):
        call("ParseCLF", target=C(""), format=None)
    got = call("ParseCLF", target=C('h - - [d] "GET / HTTP/1.1" 200 1'), format=None)
    assert got["clf.status"] == 200


# --- ParseELF ------------------------------------------------------------------------------------

ELF = """#Version: 1.0
#Software: Microsoft Internet Information Services 10.0
#Date: 2024-01-01 00:00:00
#Fields: date time c-ip cs-method cs-uri-stem sc-status cs(User-Agent)
2024-01-01 00:00:01 10.0.0.1 GET /index.html 200 "Mozilla/5.0 (X11)"
2024-01-01 00:00:02 10.0.0.2 POST /api 500 -
"""


def test_parse_elf():
    got = parse_elf_message(ELF)
    assert list(got) == ["elf.entries", "elf.version", "elf.software", "elf.date", "elf.fields"]
    assert got["elf.version"] == "1.0"
    assert got["elf.fields"] == PSlice(["date", "time", "c-ip", "cs-method", "cs-uri-stem",
                                        "sc-status", "cs(User-Agent)"])
    assert got["elf.entries"].as_raw() == [
        {"date": "2024-01-01", "time": "00:00:01", "c-ip": "10.0.0.1", "cs-method": "GET",
         "cs-uri-stem": "/index.html", "sc-status": "200", "cs(User-Agent)": "Mozilla/5.0 (X11)"},
        {"date": "2024-01-01", "time": "00:00:02", "c-ip": "10.0.0.2", "cs-method": "POST",
         "cs-uri-stem": "/api", "sc-status": "500", "cs(User-Agent)": "-"},
    ]


def test_parse_elf_line_endings_quotes_and_field_changes():
    text = ('#version: 1.0\r\n#Start-Date: s\r#End-Date: e\n#Remark: r\n#Fields: a b\n'
            '"x ""y"" z"\t"q"\n\n#Fields: c\n1 2 3\n#Unknown directive\n')
    got = parse_elf_message(text)
    assert got["elf.start_date"] == "s" and got["elf.end_date"] == "e"
    assert got["elf.remark"] == "r"
    assert got["elf.entries"].as_raw() == [{"a": 'x "y" z', "b": "q"}, {"c": "1"}]
    assert got["elf.fields"] == PSlice(["c"])


def test_parse_elf_missing_values_become_dash():
    got = parse_elf_message("#Version: 1.0\n#Fields: a b c\n1\n")
    assert got["elf.entries"].as_raw() == [{"a": "1", "b": "-", "c": "-"}]


@pytest.mark.parametrize(
    "text,err",
    [("#Fields: a\n1\n", "missing #Version directive"),
     ("#Version: 1.0\n1 2\n", "data entry found before #Fields directive"),
     ("#Version: 1.0\n#Fields a b\n", "malformed #Fields directive"),
     ('#Version: 1.0\n#Fields: a\n"open\n', "unterminated quoted value in data line")],
)
def test_parse_elf_errors(text, err):
    with pytest.raises(EvalError, match=err):
        parse_elf_message(text)


def test_parse_elf_factory_empty():
    with pytest.raises(EvalError, match="cannot parse empty ELF message"):
        call("ParseELF", target=C(""))


# --- ParseLEEF -----------------------------------------------------------------------------------


def test_parse_leef_1():
    got = parse_leef_message("LEEF:1.0|Microsoft|MSExchange|4.0 SP1|15345|src=10.50.1.1\t"
                             "dst=2.10.20.20\tspt=1200")
    assert got == PMap({"leef.version": "1.0", "leef.vendor": "Microsoft",
                        "leef.product.name": "MSExchange", "leef.product.version": "4.0 SP1",
                        "leef.event.id": "15345",
                        "leef.attributes": {"src": "10.50.1.1", "dst": "2.10.20.20",
                                            "spt": "1200"}})


@pytest.mark.parametrize(
    "msg,attrs",
    [("LEEF:2.0|V|P|1|E|^|a=1^b=2", {"a": "1", "b": "2"}),
     ("LEEF:2.0|V|P|1|E|0x5e|a=1^b=2", {"a": "1", "b": "2"}),
     ("LEEF:2.0|V|P|1|E||a=1\tb=2", {"a": "1", "b": "2"}),
     ("LEEF:2.0|V|P|1|E", {}),
     ("LEEF:2.0|V|P|1|E|a=1\tb=x|y", {"a": "1", "b": "x|y"}),
     ("<13>Jan 1 host LEEF:1.0|V|P|1|E|a= spaced \tnoeq\t=v\ta=2", {"a": "2"}),
     ("LEEF:1.0|V|P|1|E|", {})],
)
def test_parse_leef_variants(msg, attrs):
    got = parse_leef_message(msg)
    assert got["leef.attributes"] == PMap(attrs)
    assert got["leef.event.id"] == "E"


def test_parse_leef_whitespace_is_preserved():
    got = parse_leef_message("LEEF:1.0|V|P|1|E|a= spaced \tb=2")
    assert got["leef.attributes"] == PMap({"a": " spaced ", "b": "2"})


@pytest.mark.parametrize(
    "msg,err",
    [("nothing", "'LEEF:' not found"), ("LEEF:1.0", "missing pipe delimiter"),
     ("LEEF:3.0|a|b|c|d", r"unsupported LEEF version: 3.0 \(supported: 1.0, 2.0\)"),
     ("LEEF:1.0|a|b", "expected at least 4 fields"),
     ("LEEF:2.0|V|P|1|E|0x|a=1", "empty hex value"),
     ("LEEF:2.0|V|P|1|E|0x5|a=1", "odd length hex string"),
     ("LEEF:2.0|V|P|1|E|0xzz|a=1", "invalid byte: U\\+007A 'z'"),
     ("LEEF:2.0|V|P|1|E|0x5e5e|a=1", "must decode to a single byte, got 2 bytes"),
     ("LEEF:2.0|V|P|1|E|ab|a=1", "delimiter must be a single character"),
     ("LEEF:2.0|V|P|1|E|§|a=1", "delimiter must be a single character")],
)
def test_parse_leef_errors(msg, err):
    with pytest.raises(EvalError, match=err):
        parse_leef_message(msg)


def test_parse_leef_factory():
    with pytest.raises(EvalError, match="cannot parse empty LEEF message"):
        call("ParseLEEF", target=C(""))
    assert call("ParseLEEF", target=C("LEEF:1.0|a|b|c|d"))["leef.vendor"] == "a"
