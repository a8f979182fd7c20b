"""Functions the transform processor adds for spans and logs: IsRootSpan,
set_semconv_span_name, and the log converters ParseCEF, ParseCLF, ParseELF and ParseLEEF
(``processor/transformprocessor/internal/{traces,logparsingfuncs}``).

The metric-only processor functions are not implemented here.
"""

from __future__ import annotations

import re

import re2

from ottl.eval.errors import EvalError
from ottl.eval.funcs import Args, implements
from ottl.eval.funcs.editors import _gobytes, _gostr, as_string
from ottl.eval.gotext import go_quote
from ottl.eval.values import PMap, PSlice

# --- Go string helpers ---------------------------------------------------------------------------

# unicode.IsSpace: the Latin-1 spaces plus the White_Space characters above it.
_GO_SPACE = frozenset(
    "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009"
    "\u200a\u2028\u2029\u202f\u205f\u3000"
)


def _trim_space(s: str) -> str:
    """strings.TrimSpace."""
    i, j = 0, len(s)
    while i < j and s[i] in _GO_SPACE:
        i += 1
    while j > i and s[j - 1] in _GO_SPACE:
        j -= 1
    return s[i:j]


def _fields(s: str) -> list[str]:
    """strings.Fields."""
    out, cur = [], []
    for ch in s:
        if ch in _GO_SPACE:
            if cur:
                out.append("".join(cur))
                cur = []
        else:
            cur.append(ch)
    if cur:
        out.append("".join(cur))
    return out


def _parse_int(s: str) -> tuple[int | None, str]:
    """strconv.ParseInt(s, 10, 64): (value, "") or (None, Go's error text)."""
    body = s[1:] if s[:1] in ("+", "-") else s
    if not body or not all("0" <= c <= "9" for c in body):
        return None, f"strconv.ParseInt: parsing {go_quote(s)}: invalid syntax"
    v = int(s)
    if not -(1 << 63) <= v < (1 << 63):
        return None, f"strconv.ParseInt: parsing {go_quote(s)}: value out of range"
    return v, ""


def _target_string(args: Args, what: str):
    target = args["target"]

    def get(ctx) -> str:
        source = target.string(ctx)
        if source == "":
            raise EvalError(f"cannot parse empty {what} message")
        return source

    return get


# --- IsRootSpan ------------------------------------------------------------------------------------


@implements("IsRootSpan")
def is_root_span(args: Args):
    def run(ctx):
        span = getattr(ctx, "span", None)
        if span is None:
            raise EvalError("IsRootSpan needs a span")
        return span.parent_span_id.is_empty()

    return run


# --- set_semconv_span_name -------------------------------------------------------------------------

_SEMVER = re.compile(
    r"v?([0-9]+)(?:\.([0-9]+))?(?:\.([0-9]+))?"
    r"(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?(?:\+([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?"
)
_MIN_SEMCONV = (1, 37, 0)
_MAX_SEMCONV = (1, 40, 0)

SPAN_KIND_SERVER, SPAN_KIND_CLIENT, SPAN_KIND_PRODUCER, SPAN_KIND_CONSUMER = 2, 3, 4, 5


def _parse_semver(text: str) -> tuple[tuple[int, int, int], bool]:
    """Masterminds semver (lenient: ``1.38``, ``v1.38.0``): the core and whether it has a
    prerelease."""
    m = _SEMVER.fullmatch(text)
    if m is None:
        raise EvalError(f"failed to parse semconv version {go_quote(text)}: Invalid Semantic Version")
    core = (int(m.group(1)), int(m.group(2) or 0), int(m.group(3) or 0))
    return core, m.group(4) is not None


@implements("set_semconv_span_name")
def set_semconv_span_name(args: Args):
    version = args["semconv_version"]
    attr = args.get("original_span_name_attribute")
    core, pre = _parse_semver(version)
    below = core < _MIN_SEMCONV or (core == _MIN_SEMCONV and pre)
    above = core > _MAX_SEMCONV
    if below or above:
        raise EvalError(
            f"unsupported semconv version {go_quote(version)}: must be between 1.37.0 and 1.40.0"
        )
    if attr is not None and attr == "":
        raise EvalError("originalSpanNameAttribute cannot be an empty string")

    def run(ctx):
        span = getattr(ctx, "span", None)
        if span is None:
            raise EvalError("set_semconv_span_name needs a span")
        original = span.name
        name = derive_semconv_span_name(span)
        span.name = name
        if original != name and attr is not None:
            span.attributes[attr] = original
        return None

    return run


def _attr(attrs: PMap, name: str, alias: str = ""):
    """(value, found) of an attribute, falling back to its older alias."""
    if name in attrs:
        return attrs[name], True
    if alias and alias in attrs:
        return attrs[alias], True
    return None, False


def derive_semconv_span_name(span) -> str:
    attrs = span.attributes
    kind = span.kind
    if kind == SPAN_KIND_SERVER:
        order = (lambda: _http_name(attrs, "http.route"), lambda: _rpc_name(attrs),
                 lambda: _messaging_name(attrs))
    elif kind == SPAN_KIND_CONSUMER or kind == SPAN_KIND_PRODUCER:
        order = (lambda: _messaging_name(attrs),)
    elif kind == SPAN_KIND_CLIENT:
        order = (lambda: _http_name(attrs, "url.template"), lambda: _rpc_name(attrs),
                 lambda: _db_name(attrs), lambda: _messaging_name(attrs))
    else:
        order = ()
    for candidate in order:
        name = candidate()
        if name:
            return name
    return span.name


def _http_name(attrs: PMap, subject: str) -> str:
    method, ok = _attr(attrs, "http.request.method", "http.method")
    if not ok:
        return ""
    if subject in attrs:
        return as_string(method) + " " + as_string(attrs[subject])
    return as_string(method)


def _rpc_name(attrs: PMap) -> str:
    system, ok = _attr(attrs, "rpc.system.name", "rpc.system")
    if not ok:
        return ""
    method, ok_method = _attr(attrs, "rpc.method", "rpc.grpc.method")
    service, ok_service = _attr(attrs, "rpc.service", "rpc.grpc.service")
    if ok_method and ok_service:
        return as_string(service) + "/" + as_string(method)
    if ok_method:
        return as_string(method)
    if ok_service:
        return as_string(service) + "/*"
    return as_string(system)


def _db_name(attrs: PMap) -> str:
    system, ok = _attr(attrs, "db.system.name", "db.system")
    if not ok:
        return ""
    if "db.query.summary" in attrs:
        return as_string(attrs["db.query.summary"])
    operation, ok_op = _attr(attrs, "db.operation.name", "db.operation")
    op = as_string(operation) if ok_op else ""
    target = _db_target(attrs)
    if op and target:
        return op + " " + target
    if op:
        return op
    if target:
        return target
    return as_string(system)


def _server_address(attrs: PMap) -> str:
    if "server.address" in attrs:
        address = as_string(attrs["server.address"])
        if "server.port" in attrs:
            return address + ":" + as_string(attrs["server.port"])
        return address
    return ""


def _db_target(attrs: PMap) -> str:
    namespace, ok = _attr(attrs, "db.namespace", "db.name")
    ns = as_string(namespace) if ok else ""
    for key in ("db.collection.name", "db.stored_procedure.name"):
        if key in attrs:
            return (ns + "." if ns else "") + as_string(attrs[key])
    if ns:
        return ns
    return _server_address(attrs)


def _messaging_name(attrs: PMap) -> str:
    if "messaging.system" not in attrs:
        return ""
    system = attrs["messaging.system"]
    operation, ok_op = _attr(attrs, "messaging.operation.name", "messaging.operation")
    destination = _messaging_destination(attrs)
    if ok_op and destination:
        return as_string(operation) + " " + destination
    if destination:
        return destination
    if ok_op:
        return as_string(operation)
    return as_string(system)


def _messaging_destination(attrs: PMap) -> str:
    # Value.Bool() is false for a value that is not a bool.
    if attrs.get("messaging.destination.temporary") is True:
        return "(temporary)"
    if attrs.get("messaging.destination.anonymous") is True:
        return "(anonymous)"
    if "messaging.destination.template" in attrs:
        return as_string(attrs["messaging.destination.template"])
    name, ok = _attr(attrs, "messaging.destination.name", "messaging.destination")
    if ok:
        return as_string(name)
    return _server_address(attrs)


# --- ParseCEF --------------------------------------------------------------------------------------

_CEF_HEADER_FIELDS = 7


def _split_cef_header(message: str) -> list[str]:
    fields: list[str] = []
    cur: list[str] = []
    i, n = 0, len(message)
    while i < n:
        c = message[i]
        if c == "\\" and i + 1 < n and message[i + 1] in "|\\":
            cur.append(c)
            cur.append(message[i + 1])
            i += 2
            continue
        if c == "|":
            fields.append("".join(cur))
            cur = []
            if len(fields) == _CEF_HEADER_FIELDS:
                fields.append(message[i + 1:])
                return fields
            i += 1
            continue
        cur.append(c)
        i += 1
    fields.append("".join(cur))
    if len(fields) < _CEF_HEADER_FIELDS:
        raise EvalError(
            "invalid CEF header: expected at least 7 pipe-delimited fields (CEF:Version, Device "
            "Vendor, Device Product, Device Version, Device Event Class ID, Name, Severity), "
            f"got {len(fields)}"
        )
    return fields


def _unescape(s: str, table: dict[str, str]) -> str:
    if "\\" not in s:
        return s
    out: list[str] = []
    i, n = 0, len(s)
    while i < n:
        c = s[i]
        if c == "\\" and i + 1 < n and s[i + 1] in table:
            out.append(table[s[i + 1]])
            i += 2
            continue
        out.append(c)
        i += 1
    return "".join(out)


_CEF_HEADER_ESCAPES = {"|": "|", "\\": "\\"}
_CEF_VALUE_ESCAPES = {"\\": "\\", "=": "=", "n": "\n", "r": "\r"}


def _is_cef_key_char(c: str) -> bool:
    return "A" <= c <= "Z" or "a" <= c <= "z" or "0" <= c <= "9" or c == "_"


def _cef_key_len(ext: str, i: int) -> int:
    j = i
    while j < len(ext) and _is_cef_key_char(ext[j]):
        j += 1
    if j > i and j < len(ext) and ext[j] == "=":
        return j - i
    return 0


def _parse_cef_extensions(ext: str, dest: PMap) -> None:
    """``key=value`` pairs; a key starts the extension or follows a space, and a value runs to
    the next key (trailing spaces dropped)."""
    key: str | None = None
    start = 0
    i = 0
    while i < len(ext):
        if i == 0 or ext[i - 1] == " ":
            klen = _cef_key_len(ext, i)
            if klen:
                if key is not None:
                    dest[key] = _unescape(ext[start:i].rstrip(" "), _CEF_VALUE_ESCAPES)
                key = ext[i:i + klen]
                start = i + klen + 1
                i = start
                continue
        i += 1
    if key is not None:
        dest[key] = _unescape(ext[start:].rstrip(" "), _CEF_VALUE_ESCAPES)


def parse_cef_message(message: str) -> PMap:
    at = message.find("CEF:")
    if at < 0:
        raise EvalError("invalid CEF message: 'CEF:' not found")
    fields = _split_cef_header(message[at:])
    version = fields[0][len("CEF:"):]
    if version == "":
        raise EvalError("invalid CEF message: missing version")
    result = PMap()
    names = ("device_vendor", "device_product", "device_version", "device_event_class_id",
             "name", "severity")
    result["cef.version"] = version
    for i, name in enumerate(names, start=1):
        result[f"cef.{name}"] = _unescape(fields[i], _CEF_HEADER_ESCAPES)
    extensions = PMap()
    result["cef.extensions"] = extensions
    if len(fields) == 8 and fields[7] != "":
        _parse_cef_extensions(fields[7], extensions)
    return result


@implements("ParseCEF")
def parse_cef(args: Args):
    source = _target_string(args, "CEF")
    return lambda ctx: parse_cef_message(source(ctx))


# --- ParseCLF --------------------------------------------------------------------------------------

_CLF_QUOTED = rb'"((?:[^"\\]|\\.)*)"'
_CLF_RE = re2.compile(rb"^(\S+) (\S+) (\S+) \[([^\]]+)\] " + _CLF_QUOTED + rb" (\S+) (\S+)$")
_COMBINED_RE = re2.compile(
    rb"^(\S+) (\S+) (\S+) \[([^\]]+)\] " + _CLF_QUOTED + rb" (\S+) (\S+) " + _CLF_QUOTED + rb" "
    + _CLF_QUOTED + rb"$"
)
_CLF_ESCAPES = {
    ord("\\"): b"\\", ord('"'): b'"', ord("n"): b"\n", ord("t"): b"\t", ord("r"): b"\r",
    ord("b"): b"\b", ord("f"): b"\f", ord("v"): b"\v",
}
_HEX = b"0123456789abcdefABCDEF"


def _unescape_clf(b: bytes) -> str:
    """Apache mod_log_config escapes (``\\"``, ``\\\\``, ``\\n``... and ``\\xhh``); anything
    else keeps its backslash."""
    if b"\\" not in b:
        return _gostr(b)
    out = bytearray()
    i, n = 0, len(b)
    while i < n:
        c = b[i]
        if c != 0x5C or i + 1 == n:
            out.append(c)
            i += 1
            continue
        i += 1
        nxt = b[i]
        if nxt in _CLF_ESCAPES:
            out += _CLF_ESCAPES[nxt]
        elif nxt == ord("x"):
            if i + 2 < n and b[i + 1] in _HEX and b[i + 2] in _HEX:
                out.append(int(b[i + 1:i + 3], 16))
                i += 3
                continue
            out += b"\\x"
        else:
            out.append(0x5C)
            out.append(nxt)
        i += 1
    return _gostr(bytes(out))


def parse_clf_message(message: str, fmt: str) -> PMap:
    regex = _COMBINED_RE if fmt == "combined" else _CLF_RE
    m = regex.search(_gobytes(_trim_space(message)))
    if m is None:
        raise EvalError(f"invalid CLF message: does not match expected {go_quote(fmt)} format")
    g = [m.group(i) for i in range(regex.groups + 1)]
    result = PMap()
    result["clf.remote_host"] = _gostr(g[1])
    result["clf.rfc931"] = _gostr(g[2])
    result["clf.authuser"] = _gostr(g[3])
    result["clf.timestamp"] = _gostr(g[4])
    request = _unescape_clf(g[5])
    result["clf.request"] = request
    parts = request.split(" ", 2)
    if len(parts) == 3:
        result["clf.method"], result["clf.request_uri"], result["clf.protocol"] = parts
    status = _gostr(g[6])
    code, err = _parse_int(status)
    if code is None:
        raise EvalError(f"invalid status code {go_quote(status)}: {err}")
    result["clf.status"] = code
    size = _gostr(g[7])
    if size != "-":
        n, err = _parse_int(size)
        if n is None:
            raise EvalError(f"invalid bytes value {go_quote(size)}: {err}")
        result["clf.bytes"] = n
    if fmt == "combined":
        result["clf.referer"] = _unescape_clf(g[8])
        result["clf.user_agent"] = _unescape_clf(g[9])
    return result


@implements("ParseCLF")
def parse_clf(args: Args):
    fmt = args.get("format") or "clf"
    if fmt not in ("clf", "combined"):
        raise EvalError(f'invalid format {go_quote(fmt)}: must be "clf" or "combined"')
    source = _target_string(args, "CLF")
    return lambda ctx: parse_clf_message(source(ctx), fmt)


# --- ParseELF --------------------------------------------------------------------------------------


def _elf_lines(s: str):
    """Non-empty trimmed lines, split at ``\\r\\n``, ``\\r`` or ``\\n``."""
    i, n = 0, len(s)
    while i < n:
        end = i
        while end < n and s[end] not in "\r\n":
            end += 1
        raw = _trim_space(s[i:end])
        if end < n and s[end] == "\r":
            end += 1
        if end < n and s[end] == "\n":
            end += 1
        i = end
        if raw:
            yield raw


def _elf_data_values(line: str) -> list[str]:
    """Space- or tab-separated tokens; a ``"``-quoted token may hold spaces and ``""`` for a
    quote."""
    values: list[str] = []
    i, n = 0, len(line)
    while i < n:
        while i < n and line[i] in " \t":
            i += 1
        if i >= n:
            break
        if line[i] != '"':
            start = i
            while i < n and line[i] not in " \t":
                i += 1
            values.append(line[start:i])
            continue
        i += 1
        buf: list[str] = []
        closed = False
        while i < n:
            if line[i] != '"':
                buf.append(line[i])
                i += 1
                continue
            if i + 1 < n and line[i + 1] == '"':
                buf.append('"')
                i += 2
                continue
            i += 1
            closed = True
            break
        if not closed:
            raise EvalError(f"invalid ELF: unterminated quoted value in data line: {go_quote(line)}")
        values.append("".join(buf))
    return values


_ELF_DIRECTIVES = {
    "version": "elf.version",
    "software": "elf.software",
    "date": "elf.date",
    "start-date": "elf.start_date",
    "end-date": "elf.end_date",
    "remark": "elf.remark",
}


def parse_elf_message(text: str) -> PMap:
    result = PMap()
    entries = PSlice()
    result["elf.entries"] = entries
    has_version = False
    fields: list[str] = []
    last_fields: list[str] = []
    for line in _elf_lines(text):
        if line.startswith("#"):
            body = line[1:]
            if ":" not in body:
                trimmed = _trim_space(body)
                if trimmed[:6].casefold() == "fields":
                    raise EvalError(
                        f"invalid ELF: malformed #Fields directive {go_quote(line)}: directive "
                        f"{go_quote(line)} has no colon separator"
                    )
                continue
            key, value = body.split(":", 1)
            key, value = _trim_space(key).casefold(), _trim_space(value)
            if key == "fields":
                fields = _fields(value)
                last_fields = fields
            elif key in _ELF_DIRECTIVES:
                has_version = has_version or key == "version"
                result[_ELF_DIRECTIVES[key]] = value
            continue
        if not fields:
            raise EvalError("invalid ELF: data entry found before #Fields directive")
        values = _elf_data_values(line)
        entry = PMap()
        for i, name in enumerate(fields):
            # A missing value is '-', as the reference substitutes (and logs).
            entry[name] = values[i] if i < len(values) else "-"
        entries.append(entry)
    if not has_version:
        raise EvalError("invalid ELF: missing #Version directive")
    result["elf.fields"] = PSlice(last_fields)
    return result


@implements("ParseELF")
def parse_elf(args: Args):
    source = _target_string(args, "ELF")
    return lambda ctx: parse_elf_message(source(ctx))


# --- ParseLEEF -------------------------------------------------------------------------------------


def _leef_delimiter(spec: str) -> str:
    if spec == "":
        return "\t"
    if spec.startswith(("0x", "0X")):
        digits = spec[2:]
        if digits == "":
            raise EvalError("invalid LEEF 2.0 delimiter: empty hex value")
        for ch in digits:
            if ch not in "0123456789abcdefABCDEF":
                raise EvalError(
                    f"invalid LEEF 2.0 delimiter: invalid hex delimiter {go_quote(spec)}: "
                    f"encoding/hex: invalid byte: U+{ord(ch):04X} {_go_rune_quote(ch)}"
                )
        if len(digits) % 2:
            raise EvalError(
                f"invalid LEEF 2.0 delimiter: invalid hex delimiter {go_quote(spec)}: "
                "encoding/hex: odd length hex string"
            )
        raw = bytes.fromhex(digits)
        if len(raw) != 1:
            raise EvalError(
                "invalid LEEF 2.0 delimiter: hex delimiter must decode to a single byte, got "
                f"{len(raw)} bytes"
            )
        return _gostr(raw)
    if len(_gobytes(spec)) != 1:
        raise EvalError(
            "invalid LEEF 2.0 delimiter: delimiter must be a single character or 0x-prefixed hex "
            f"value, got {go_quote(spec)}"
        )
    return spec


def _go_rune_quote(ch: str) -> str:
    if ch == "'":
        return "'\\''"
    return "'" + go_quote(ch)[1:-1].replace('\\"', '"') + "'"


def parse_leef_message(message: str) -> PMap:
    at = message.find("LEEF:")
    if at < 0:
        raise EvalError("invalid LEEF message: 'LEEF:' not found")
    leef = message[at:]
    if "|" not in leef:
        raise EvalError("invalid LEEF message: missing pipe delimiter in header")
    version_field, remainder = leef.split("|", 1)
    version = version_field[len("LEEF:"):]
    if version not in ("1.0", "2.0"):
        raise EvalError(f"unsupported LEEF version: {version} (supported: 1.0, 2.0)")
    if version == "1.0":
        parts = remainder.split("|", 4)
        if len(parts) < 4:
            raise EvalError(
                "invalid LEEF 1.0 header: expected at least 4 fields (vendor, product, version, "
                f"eventID), got {len(parts)}"
            )
        delimiter = "\t"
        attributes = parts[4] if len(parts) == 5 else ""
    else:
        parts = remainder.split("|", 5)
        if len(parts) < 4:
            raise EvalError(
                "invalid LEEF 2.0 header: expected at least 4 fields (vendor, product, version, "
                f"eventID), got {len(parts)}"
            )
        if len(parts) == 4:
            delimiter, attributes = "\t", ""
        elif "=" in parts[4]:
            # No delimiter field: the fifth field is already the first attribute.
            delimiter = "\t"
            again = remainder.split("|", 4)
            attributes = again[4] if len(again) == 5 else ""
        else:
            delimiter = _leef_delimiter(parts[4])
            attributes = parts[5] if len(parts) == 6 else ""
    result = PMap()
    result["leef.version"] = version
    result["leef.vendor"] = parts[0]
    result["leef.product.name"] = parts[1]
    result["leef.product.version"] = parts[2]
    result["leef.event.id"] = parts[3]
    attrs = PMap()
    result["leef.attributes"] = attrs
    if attributes:
        for pair in attributes.split(delimiter):
            if pair == "" or "=" not in pair:
                continue
            key, value = pair.split("=", 1)
            if key:
                attrs[key] = value  # the last of a repeated key wins
    return result


@implements("ParseLEEF")
def parse_leef(args: Args):
    source = _target_string(args, "LEEF")
    return lambda ctx: parse_leef_message(source(ctx))

