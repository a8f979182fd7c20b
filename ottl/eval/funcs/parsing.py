"""Parsing and encoding converters (reference: pkg/ottl/ottlfuncs).

ParseJSON, ParseKeyValue, ParseCSV, ParseSeverity, URL, UserAgent, Decode, Base64Decode,
Base64Encode and the XML family (ParseXML, ParseSimplifiedXML, GetXML, InsertXML, RemoveXML,
ConvertAttributesToElementsXML, ConvertTextToElementsXML).

The XML functions follow the reference's two layers:

- a tokenizer with the rules of Go's ``encoding/xml`` decoder in strict mode (what counts as an
  error, how text, CDATA, comments, directives and namespaces come out);
- for the XPath functions, a node tree built the way ``antchfx/xmlquery`` builds it (an implicit
  declaration node, top-level siblings, text and CDATA kept apart) and written back the way its
  ``OutputXML`` writes it. XPath expressions are evaluated by lxml (libxml2) on a mirror of that
  tree whose results are mapped back to the tree's nodes.
"""

from __future__ import annotations

import base64
import codecs
import json
import math
import re
import sys
from typing import Any, Optional

from ottl.eval.errors import EvalError
from ottl.eval.funcs import Args, implements
from ottl.eval.getters import ExprFunc, Getter
from ottl.eval.gotext import go_quote
from ottl.eval.values import PMap, PSlice, as_raw, type_name

# =================================================================================================
# helpers
# =================================================================================================

# Go's unicode.IsSpace, for bytes.TrimSpace / strings.TrimSpace.
_GO_SPACE = "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"


def go_trim_space(s: str) -> str:
    return s.strip(_GO_SPACE)


def go_sprint(value: Any) -> str:
    """fmt's %v for the values messages show."""
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        r = repr(value)
        return r[:-2] if r.endswith(".0") else r
    if isinstance(value, bytes):
        return "[" + " ".join(str(b) for b in value) + "]"
    return str(value)


def _b2s(raw: bytes) -> str:
    """Go's string(bytes): the bytes kept as they are (undecodable ones as surrogate escapes)."""
    return raw.decode("utf-8", "surrogateescape")


def _s2b(s: str) -> bytes:
    return s.encode("utf-8", "surrogateescape")


# =================================================================================================
# ParseJSON
# =================================================================================================


def _json_object(pairs):
    m = PMap()
    for k, v in pairs:
        m[k] = v
    return m


def _json_constant(name: str):
    raise ValueError(f"invalid character '{name[0]}' looking for beginning of value")


def _json_float(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise ValueError(f"json: cannot unmarshal number {text} into Go value of type float64")
    return value


_JSON_DECODER = json.JSONDecoder(
    object_pairs_hook=_json_object,
    parse_float=_json_float,
    parse_int=_json_float,
    parse_constant=_json_constant,
)


def _json_arrays_to_pslice(value: Any) -> Any:
    if isinstance(value, list):
        return PSlice(_json_arrays_to_pslice(v) for v in value)
    if isinstance(value, PMap):
        for k in list(value):
            value[k] = _json_arrays_to_pslice(value[k])
    return value


_GO_JSON_TYPE = {bool: "bool", float: "float64", str: "string", type(None): "<nil>"}


@implements("ParseJSON")
def parse_json(args: Args) -> ExprFunc:
    target: Getter = args["target"]

    def run(ctx: Any) -> Any:
        text = target.string(ctx)
        if text.strip(" \t\r\n") == "":
            raise EvalError("unexpected end of JSON input")
        try:
            value = _JSON_DECODER.decode(text)
        except json.JSONDecodeError as exc:
            raise EvalError(f"invalid JSON: {exc.msg} at offset {exc.pos}") from None
        except (ValueError, RecursionError) as exc:
            raise EvalError(str(exc)) from None
        if isinstance(value, (list, PMap)):
            return _json_arrays_to_pslice(value)
        raise EvalError(
            f"could not convert parsed value of type {_GO_JSON_TYPE.get(type(value), type_name(value))} "
            "to JSON object"
        )

    return run


# =================================================================================================
# ParseKeyValue
# =================================================================================================


def split_respecting_quotes(text: str, delimiter: str) -> list[str]:
    """parseutils.SplitString: split on the delimiter outside single or double quotes; the outer
    quotes are dropped, a backslash keeps the next quote from closing, empty pieces are skipped."""
    result: list[str] = []
    current: list[str] = []
    quote = ""
    escaped = False
    dlen = len(delimiter)
    i = 0
    n = len(text)
    while i < n:
        if not quote and text.startswith(delimiter, i):
            if current:
                result.append("".join(current))
                current = []
            i += dlen
            continue
        ch = text[i]
        if not escaped:
            if not quote and ch in "\"'":
                quote = ch
                i += 1
                continue
            if ch == quote:
                quote = ""
                i += 1
                continue
            escaped = ch == "\\"
        else:
            escaped = False
        current.append(ch)
        i += 1
    if quote:
        raise EvalError("never reached the end of a quoted value")
    if current:
        result.append("".join(current))
    return result


@implements("ParseKeyValue")
def parse_key_value(args: Args) -> ExprFunc:
    target: Getter = args["target"]
    delimiter = args.get("delimiter")
    pair_delimiter = args.get("pair_delimiter")
    if delimiter == "":
        raise EvalError("delimiter cannot be set to an empty string")
    if pair_delimiter == "":
        raise EvalError("pair delimiter cannot be set to an empty string")
    delimiter = "=" if delimiter is None else delimiter
    pair_delimiter = " " if pair_delimiter is None else pair_delimiter
    if delimiter == pair_delimiter:
        raise EvalError(
            f"pair delimiter {go_quote(pair_delimiter)} cannot be equal to delimiter {go_quote(delimiter)}"
        )

    def run(ctx: Any) -> PMap:
        source = target.string(ctx)
        if source == "":
            raise EvalError("cannot parse from empty target")
        try:
            pairs = split_respecting_quotes(source, pair_delimiter)
        except EvalError as exc:
            raise EvalError(f"splitting source {go_quote(source)} into pairs failed: {exc}") from None
        result = PMap()
        errors = []
        for pair in pairs:
            key, sep, value = pair.partition(delimiter)
            if not sep:
                errors.append(f"cannot split {go_quote(pair)} into 2 items, got 1 item(s)")
                continue
            result[go_trim_space(key)] = go_trim_space(value)
        if errors:
            raise EvalError("failed to split pairs into key-values: " + "; ".join(errors))
        return result

    return run


# =================================================================================================
# ParseCSV (Go's encoding/csv reader, one record, newlines joined into the last field)
# =================================================================================================

_ERR_BARE_QUOTE = 'bare " in non-quoted field'
_ERR_QUOTE = 'extraneous or missing " in quoted-field'


class _GoCSVReader:
    """The record reader of Go's encoding/csv with FieldsPerRecord = -1."""

    def __init__(self, text: str, comma: str, lazy_quotes: bool) -> None:
        self.data = _s2b(text)
        self.pos = 0
        self.comma = comma.encode("utf-8", "surrogatepass") if comma else b""
        self.lazy = lazy_quotes
        self.num_line = 0

    def _read_line(self) -> tuple[bytes, bool]:
        """One line including its newline; the flag tells whether the input is exhausted."""
        if self.pos >= len(self.data):
            return b"", True
        nl = self.data.find(b"\n", self.pos)
        if nl < 0:
            line = self.data[self.pos:]
            self.pos = len(self.data)
            if line.endswith(b"\r"):
                line = line[:-1]
        else:
            line = self.data[self.pos:nl + 1]
            self.pos = nl + 1
        self.num_line += 1
        if line.endswith(b"\r\n"):
            line = line[:-2] + b"\n"
        return line, False

    @staticmethod
    def _len_nl(b: bytes) -> int:
        return 1 if b.endswith(b"\n") else 0

    def read(self) -> tuple[Optional[list[str]], Optional[str]]:
        """(record, error message); (None, None) at the end of the input."""
        comma = self.comma
        if comma in (b"", b"\r", b"\n", b'"') or comma.decode("utf-8", "replace") == "\ufffd":
            return None, "csv: invalid field or comment delimiter"
        while True:
            line, eof = self._read_line()
            if eof:
                return None, None
            if len(line) == self._len_nl(line):
                continue  # an empty line
            break
        rec_line = self.num_line
        pos_line, pos_col = self.num_line, 1
        buf = bytearray()
        ends: list[int] = []
        err = None
        quote_len = 1
        comma_len = len(comma)
        while True:
            if not line.startswith(b'"'):
                i = line.find(comma)
                field = line if i < 0 else line[:i]
                if i < 0:
                    field = field[: len(field) - self._len_nl(field)]
                if not self.lazy:
                    j = field.find(b'"')
                    if j >= 0:
                        err = self._error(rec_line, self.num_line, pos_col + j, _ERR_BARE_QUOTE)
                        break
                buf += field
                ends.append(len(buf))
                if i >= 0:
                    line = line[i + comma_len:]
                    pos_col += i + comma_len
                    continue
                break
            # a quoted field
            line = line[quote_len:]
            pos_col += quote_len
            done = False
            while True:
                i = line.find(b'"')
                if i >= 0:
                    buf += line[:i]
                    line = line[i + quote_len:]
                    pos_col += i + quote_len
                    if line.startswith(b'"'):
                        buf += b'"'
                        line = line[quote_len:]
                        pos_col += quote_len
                    elif comma and line.startswith(comma):
                        line = line[comma_len:]
                        pos_col += comma_len
                        ends.append(len(buf))
                        break
                    elif len(line) == self._len_nl(line):
                        ends.append(len(buf))
                        done = True
                        break
                    elif self.lazy:
                        buf += b'"'
                    else:
                        err = self._error(rec_line, self.num_line, pos_col - quote_len, _ERR_QUOTE)
                        done = True
                        break
                elif line:
                    buf += line
                    pos_col += len(line)
                    line, eof = self._read_line()
                    if line:
                        pos_line += 1
                        pos_col = 1
                else:
                    if not self.lazy:
                        err = self._error(rec_line, pos_line, pos_col, _ERR_QUOTE)
                        done = True
                        break
                    ends.append(len(buf))
                    done = True
                    break
            if done:
                break
        text = bytes(buf)
        record = []
        prev = 0
        for end in ends:
            record.append(_b2s(text[prev:end]))
            prev = end
        return record, err

    @staticmethod
    def _error(start_line: int, line: int, col: int, msg: str) -> str:
        if start_line != line:
            return f"record on line {start_line}; parse error on line {line}, column {col}: {msg}"
        return f"parse error on line {line}, column {col}: {msg}"


def read_csv_row(row: str, delimiter: str, lazy_quotes: bool) -> list[str]:
    """parseutils.ReadCSVRow: every record of the text, each further one continuing the last
    field of the one before (a newline inside an unquoted field)."""
    reader = _GoCSVReader(row, delimiter, lazy_quotes)
    lines: list[list[str]] = []
    while True:
        record, err = reader.read()
        if record is None and err is None:
            break
        if err is not None and not record:
            raise EvalError(f"read csv line: {err}")
        lines.append(record)
        if err is not None and record is None:
            break
    if not lines:
        raise EvalError("no csv lines found")
    joined = list(lines[0])
    for nxt in lines[1:]:
        joined[-1] += "\n" + nxt[0]
        joined.extend(nxt[1:])
    return joined


@implements("ParseCSV")
def parse_csv(args: Args) -> ExprFunc:
    target: Getter = args["target"]
    header: Getter = args["header"]
    delimiter = args.get("delimiter")
    header_delimiter = args.get("header_delimiter")
    mode = args.get("mode") or "strict"
    if delimiter is not None and len(delimiter) != 1:
        raise EvalError("invalid arguments: delimiter must be a single character")
    if header_delimiter is not None and len(header_delimiter) != 1:
        raise EvalError("invalid arguments: header_delimiter must be a single character")
    delim = "," if delimiter is None else delimiter
    header_delim = delim if header_delimiter is None else header_delimiter
    if mode not in ("strict", "lazyQuotes", "ignoreQuotes"):
        raise EvalError(f"unknown mode: {mode}")

    def run(ctx: Any) -> PMap:
        try:
            text = target.string(ctx)
        except EvalError as exc:
            raise EvalError(f"error getting value for target in ParseCSV: {exc}") from None
        try:
            header_text = header.string(ctx)
        except EvalError as exc:
            raise EvalError(f"error getting value for header in ParseCSV: {exc}") from None
        if header_text == "":
            raise EvalError("headers must not be an empty string")
        headers = header_text.split(header_delim)
        if mode == "ignoreQuotes":
            fields = text.split(delim)
        else:
            fields = read_csv_row(text, delim, mode == "lazyQuotes")
        if len(fields) != len(headers):
            raise EvalError(
                f"map csv headers: wrong number of fields: expected {len(headers)}, found {len(fields)}"
            )
        result = PMap()
        for name, value in zip(headers, fields):
            result[name] = value
        return result

    return run


# =================================================================================================
# ParseSeverity
# =================================================================================================

_HTTP_RANGES = {"2xx": (200, 299), "3xx": (300, 399), "4xx": (400, 499), "5xx": (500, 599)}


def _severity_criteria(raw: Any) -> list[tuple[str, list[tuple[list[str], Optional[tuple[int, int]]]]]]:
    """Validate a severity mapping (as the reference does once, for a literal mapping)."""
    if not isinstance(raw, dict):
        raise EvalError("severity mapping must be a literal PMap")
    levels = []
    for level, crit_list in raw.items():
        if not isinstance(crit_list, list):
            raise EvalError("severity mapping criteria must be []any")
        crits = []
        for crit in crit_list:
            if not isinstance(crit, dict):
                raise EvalError("severity mapping criteria items must be map[string]any")
            equals: list[str] = []
            rng = None
            if "equals" in crit:
                eq = crit["equals"]
                if not isinstance(eq, list):
                    raise EvalError("invalid severity mapping criteria: equals must be a list")
                for item in eq:
                    if not isinstance(item, str):
                        raise EvalError("invalid severity mapping criteria: equals values must be strings")
                    equals.append(item)
            if "range" in crit:
                r = crit["range"]
                if isinstance(r, dict):
                    if "min" not in r:
                        raise EvalError("invalid severity mapping criteria: range must have a min value")
                    if "max" not in r:
                        raise EvalError("invalid severity mapping criteria: range must have a max value")
                    lo, hi = r["min"], r["max"]
                    if type(lo) is not int:
                        raise EvalError("invalid severity mapping criteria: min must be an int64")
                    if type(hi) is not int:
                        raise EvalError("invalid severity mapping criteria: max must be an int64")
                    rng = (lo, hi)
                elif isinstance(r, str):
                    if r not in _HTTP_RANGES:
                        raise EvalError(f"invalid severity mapping criteria: unknown range placeholder: {r}")
                    rng = _HTTP_RANGES[r]
                else:
                    raise EvalError(
                        "invalid severity mapping criteria: range must be a map or a known placeholder string"
                    )
            crits.append((equals, rng))
        levels.append((level, crits))
    return levels


def _evaluate_severity(value: Any, levels) -> str:
    for level, crits in levels:
        for equals, rng in crits:
            if isinstance(value, str):
                if value in equals:
                    return level
            elif type(value) is int:
                if rng is not None and rng[0] <= value <= rng[1]:
                    return level
            else:
                raise EvalError(
                    f"could not map log level: could not evaluate log level of value '{go_sprint(value)}': "
                    f"unsupported value type: {type_name(value)}"
                )
    raise EvalError(f"could not map log level: no matching log level found for value '{go_sprint(value)}'")


@implements("ParseSeverity")
def parse_severity(args: Args) -> ExprFunc:
    target: Getter = args["target"]
    mapping: Getter = args["mapping"]
    # The reference requires a literal mapping and validates it once. A mapping that is not known
    # when the statement is built is validated each time here, the same way.
    fixed = None
    fixed_error = None
    if mapping.is_literal:
        try:
            fixed = _severity_criteria(as_raw(mapping.literal))
        except EvalError as exc:
            fixed_error = str(exc)

    def run(ctx: Any) -> str:
        if fixed_error is not None:
            raise EvalError(fixed_error)
        levels = fixed if fixed is not None else _severity_criteria(as_raw(mapping.pmap(ctx)))
        value = target.get(ctx)
        return _evaluate_severity(value, levels)

    return run


# =================================================================================================
# Base64 and Decode
# =================================================================================================

_B64_STD = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
_B64_URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def go_base64_decode(src: bytes, url: bool, padded: bool) -> bytes:
    """encoding/base64 DecodeString (not strict), quantum by quantum as Go decodes: '\\r' and
    '\\n' are skipped, and a bad input names the byte offset Go names."""
    alphabet = _B64_URL if url else _B64_STD
    dmap = {ord(c): i for i, c in enumerate(alphabet)}
    out = bytearray()
    si = 0
    n = len(src)

    def corrupt(at: int) -> EvalError:
        return EvalError(f"illegal base64 data at input byte {at}")

    while si < n:
        dbuf = [0, 0, 0, 0]
        dlen = 4
        j = 0
        while j < 4:
            if si == n:
                if j == 0:
                    return bytes(out)
                if j == 1 or padded:
                    raise corrupt(si - j)
                dlen = j
                break
            ch = src[si]
            si += 1
            value = dmap.get(ch)
            if value is not None:
                dbuf[j] = value
                j += 1
                continue
            if ch in (0x0A, 0x0D):
                continue
            if not padded or ch != 0x3D:
                raise corrupt(si - 1)
            # padding: only after two or three characters of a quantum
            if j in (0, 1):
                raise corrupt(si - 1)
            if j == 2:
                while si < n and src[si] in (0x0A, 0x0D):
                    si += 1
                if si == n:
                    raise corrupt(n)
                if src[si] != 0x3D:
                    raise corrupt(si - 1)
                si += 1
            while si < n and src[si] in (0x0A, 0x0D):
                si += 1
            if si < n:
                raise corrupt(si)
            dlen = j
            break
        value = (dbuf[0] << 18) | (dbuf[1] << 12) | (dbuf[2] << 6) | dbuf[3]
        out += value.to_bytes(3, "big")[: max(dlen - 1, 0)]
        if dlen < 4:
            break
    return bytes(out)


_BASE64_VARIANTS = {
    "base64": (False, True),
    "base64-raw": (False, False),
    "base64-url": (True, True),
    "base64-raw-url": (True, False),
}

# textutils.LookupEncoding's overrides, then the IANA index (approximated by Python's codecs).
_ENCODING_OVERRIDES = {
    "utf-16": "utf-16-le",
    "utf16": "utf-16-le",
    "utf-8": "utf-8",
    "utf8": "utf-8",
    "ascii": "utf-8",
    "us-ascii": "utf-8",
    "nop": None,
    "": "utf-8",
}


def _lookup_codec(name: str):
    lowered = name.lower()
    if lowered in _ENCODING_OVERRIDES:
        return _ENCODING_OVERRIDES[lowered]
    try:
        info = codecs.lookup(name)
    except LookupError:
        raise EvalError(f"unsupported encoding '{name}'") from None
    if not getattr(info, "_is_text_encoding", True):
        raise EvalError(f"unsupported encoding '{name}'")
    return info.name


def _decoder(encoding: str):
    """A function bytes -> str for an encoding name."""
    if encoding in _BASE64_VARIANTS:
        url, padded = _BASE64_VARIANTS[encoding]

        def dec(raw: bytes) -> str:
            try:
                return _b2s(go_base64_decode(raw, url, padded))
            except EvalError as exc:
                raise EvalError(f"could not decode: {exc}") from None

        return dec
    codec = _lookup_codec(encoding)
    if codec is None:  # nop
        return _b2s

    def text_dec(raw: bytes) -> str:
        # golang.org/x/text decoders replace what they cannot decode with U+FFFD.
        return raw.decode(codec, "replace")

    return text_dec


@implements("Decode")
def decode(args: Args) -> ExprFunc:
    target: Getter = args["target"]
    encoding: Getter = args["encoding"]
    fixed = None
    if encoding.is_literal and isinstance(encoding.literal, str):
        fixed = _decoder(encoding.literal)

    def run(ctx: Any) -> str:
        value = target.get(ctx)
        dec = fixed if fixed is not None else _decoder(encoding.string(ctx))
        if isinstance(value, bytes):
            return dec(bytes(value))
        if isinstance(value, str):
            return dec(_s2b(value))
        raise EvalError(f"unsupported type provided to Decode function: {type_name(value)}")

    return run


@implements("Base64Decode")
def base64_decode(args: Args) -> ExprFunc:
    target: Getter = args["target"]

    def run(ctx: Any) -> str:
        return _b2s(go_base64_decode(_s2b(target.string(ctx)), False, True))

    return run


@implements("Base64Encode")
def base64_encode(args: Args) -> ExprFunc:
    target: Getter = args["target"]
    variant: Optional[Getter] = args.get("variant")

    def run(ctx: Any) -> str:
        data = _s2b(target.string(ctx))
        name = "base64"
        if variant is not None:
            try:
                name = variant.string(ctx)
            except EvalError as exc:
                raise EvalError(f"failed to get base64 variant: {exc}") from None
        if name not in _BASE64_VARIANTS:
            raise EvalError(f"unsupported base64 variant: {name}")
        url, padded = _BASE64_VARIANTS[name]
        out = base64.urlsafe_b64encode(data) if url else base64.b64encode(data)
        if not padded:
            out = out.rstrip(b"=")
        return out.decode("ascii")

    return run


# =================================================================================================
# URL (Go's net/url.Parse, mapped to the url.* semantic conventions)
# =================================================================================================

_HEX = "0123456789ABCDEF"


def _is_hex(c: str) -> bool:
    return c in "0123456789abcdefABCDEF"


def _should_escape(c: str, mode: str) -> bool:
    """net/url shouldEscape for one ASCII character (non-ASCII is always escaped)."""
    if ("a" <= c <= "z") or ("A" <= c <= "Z") or ("0" <= c <= "9"):
        return False
    if mode in ("host", "zone"):
        if c in "!$&'()*+,;=:[]<>\"":
            return False
    if c in "-_.~":
        return False
    if c in "$&+,/:;=?@":
        if mode == "path":
            return c == "?"
        if mode == "pathsegment":
            return c in "/;,?"
        if mode == "userpassword":
            return c in "@/?:"
        if mode == "query":
            return True
        if mode == "fragment":
            return False
    if mode == "fragment" and c in "!()*":
        return False
    return True


def _go_escape(s: str, mode: str) -> str:
    out = []
    for b in _s2b(s):
        c = chr(b)
        if b < 0x80 and not _should_escape(c, mode):
            out.append(c)
        elif c == " " and mode == "query":
            out.append("+")
        else:
            out.append("%" + _HEX[b >> 4] + _HEX[b & 15])
    return "".join(out)


class _URLError(Exception):
    pass


def _go_unescape(s: str, mode: str) -> str:
    """net/url unescape: %XX sequences decoded; a bad escape is an error."""
    raw = _s2b(s)
    out = bytearray()
    i = 0
    n = len(raw)
    while i < n:
        b = raw[i]
        if b == 0x25:  # '%'
            seq = raw[i:i + 3].decode("latin-1")
            if len(seq) < 3 or not _is_hex(seq[1]) or not _is_hex(seq[2]):
                bad = seq if len(seq) >= 3 else raw[i:].decode("latin-1")
                raise _URLError(f"invalid URL escape {go_quote(bad)}")
            val = int(seq[1:], 16)
            if mode == "host" and val < 0x80 and seq != "%25":
                raise _URLError(f"invalid URL escape {go_quote(seq)}")
            out.append(val)
            i += 3
            continue
        if mode == "host" and b < 0x80 and _should_escape(chr(b), "host"):
            raise _URLError(f"invalid character {go_quote(chr(b))} in host name")
        out.append(b)
        i += 1
    return _b2s(bytes(out))


def _valid_encoded(s: str, mode: str) -> bool:
    for c in s:
        if c in "!$&'()*+,;=:@[]":
            continue
        if c == "%":
            continue
        if ord(c) >= 0x80 or _should_escape(c, mode):
            return False
    return True


class _GoURL:
    __slots__ = ("scheme", "opaque", "user", "password", "has_user", "has_password", "host",
                 "path", "raw_path", "raw_query", "fragment", "raw_fragment", "force_query")

    def __init__(self) -> None:
        self.scheme = self.opaque = self.user = self.password = self.host = ""
        self.path = self.raw_path = self.raw_query = self.fragment = self.raw_fragment = ""
        self.has_user = self.has_password = self.force_query = False

    def hostname(self) -> str:
        host, _ = _split_host_port(self.host)
        return host

    def port(self) -> str:
        _, port = _split_host_port(self.host)
        return port

    def escaped_path(self) -> str:
        if self.raw_path and _valid_encoded(self.raw_path, "path"):
            try:
                if _go_unescape(self.raw_path, "path") == self.path:
                    return self.raw_path
            except _URLError:
                pass
        if self.path == "*":
            return "*"
        return _go_escape(self.path, "path")

    def escaped_fragment(self) -> str:
        if self.raw_fragment and _valid_encoded(self.raw_fragment, "fragment"):
            try:
                if _go_unescape(self.raw_fragment, "fragment") == self.fragment:
                    return self.raw_fragment
            except _URLError:
                pass
        return _go_escape(self.fragment, "fragment")

    def userinfo(self) -> str:
        s = _go_escape(self.user, "userpassword")
        if self.has_password:
            s += ":" + _go_escape(self.password, "userpassword")
        return s

    def string(self) -> str:
        out = []
        if self.scheme:
            out.append(self.scheme + ":")
        if self.opaque:
            out.append(self.opaque)
        else:
            if self.scheme or self.host or self.has_user:
                if self.host or self.path or self.has_user:
                    out.append("//")
                if self.has_user:
                    out.append(self.userinfo() + "@")
                if self.host:
                    out.append(_go_escape(self.host, "host"))
            path = self.escaped_path()
            if path and path[0] != "/" and self.host:
                out.append("/")
            if not out:
                seg = path.split("/", 1)[0]
                if ":" in seg:
                    out.append("./")
            out.append(path)
        if self.force_query or self.raw_query:
            out.append("?" + self.raw_query)
        if self.fragment:
            out.append("#" + self.escaped_fragment())
        return "".join(out)


def _split_host_port(hostport: str) -> tuple[str, str]:
    host, port = hostport, ""
    colon = host.rfind(":")
    if colon != -1 and _valid_optional_port(host[colon:]):
        host, port = host[:colon], host[colon + 1:]
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    return host, port


def _valid_optional_port(port: str) -> bool:
    if port == "":
        return True
    if port[0] != ":":
        return False
    return all("0" <= c <= "9" for c in port[1:])


def go_url_parse(raw: str) -> _GoURL:
    u = _GoURL()
    rest, sep, frag = raw.partition("#")
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in rest):
        raise _URLError("net/url: invalid control character in URL")
    if sep:
        u.fragment = _go_unescape(frag, "fragment")
        if _go_escape(u.fragment, "fragment") != frag:
            u.raw_fragment = frag
    # scheme
    for i, c in enumerate(rest):
        if ("a" <= c <= "z") or ("A" <= c <= "Z"):
            continue
        if ("0" <= c <= "9") or c in "+-.":
            if i == 0:
                break
            continue
        if c == ":":
            if i == 0:
                raise _URLError("missing protocol scheme")
            u.scheme, rest = rest[:i].lower(), rest[i + 1:]
        break
    if rest.endswith("?") and rest.count("?") == 1:
        u.force_query = True
        rest = rest[:-1]
    else:
        rest, _, u.raw_query = rest.partition("?")
    if not rest.startswith("/"):
        if u.scheme:
            u.opaque = rest
            return u
        seg = rest.split("/", 1)[0]
        if ":" in seg:
            raise _URLError("first path segment in URL cannot contain colon")
    if rest.startswith("//") and (u.scheme or not rest.startswith("///")):
        authority, slash, tail = rest[2:].partition("/")
        rest = slash + tail
        at = authority.rfind("@")
        host = authority if at < 0 else authority[at + 1:]
        u.host = _parse_host(host)
        if at >= 0:
            userinfo = authority[:at]
            for c in userinfo:
                if not (c.isascii() and (c.isalnum() or c in "-._:~!$&'()*+,;=%@")):
                    raise _URLError("net/url: invalid userinfo")
            u.has_user = True
            name, colon, pwd = userinfo.partition(":")
            u.user = _go_unescape(name, "userpassword")
            if colon:
                u.has_password = True
                u.password = _go_unescape(pwd, "userpassword")
    u.path = _go_unescape(rest, "path")
    if _go_escape(u.path, "path") != rest:
        u.raw_path = rest
    return u


def _parse_host(host: str) -> str:
    if host.startswith("["):
        i = host.rfind("]")
        if i < 0:
            raise _URLError("missing ']' in host")
        colon_port = host[i + 1:]
        if not _valid_optional_port(colon_port):
            raise _URLError(f"invalid port {go_quote(colon_port)} after host")
        return _go_unescape(host, "host")
    i = host.rfind(":")
    if i != -1:
        colon_port = host[i:]
        if not _valid_optional_port(colon_port):
            raise _URLError(f"invalid port {go_quote(colon_port)} after host")
    return _go_unescape(host, "host")


def _parse_query(query: str) -> dict:
    """url.ParseQuery into map[string][]any; a bad pair is an error."""
    result: dict = {}
    err = None
    for part in query.split("&"):
        if not part:
            continue
        if ";" in part:
            err = err or "invalid semicolon separator in query"
            continue
        key, _, value = part.partition("=")
        try:
            key = _go_unescape(key.replace("+", " "), "query")
            value = _go_unescape(value.replace("+", " "), "query")
        except _URLError as exc:
            err = err or str(exc)
            continue
        result.setdefault(key, []).append(value)
    if err:
        raise _URLError(err)
    return result


@implements("URL")
def url(args: Args) -> ExprFunc:
    uri: Getter = args["uri"]

    def run(ctx: Any) -> dict:
        text = uri.string(ctx)
        if text == "":
            raise EvalError("url cannot be empty")
        try:
            if text.startswith("?"):
                params = _parse_query(text[1:])
                return {"query": params} if params else {}
            u = go_url_parse(text)
        except _URLError as exc:
            raise EvalError(f"parse {go_quote(text)}: {exc}") from None
        result: dict = {
            "url.original": u.string(),
            "url.domain": u.hostname(),
            "url.scheme": u.scheme,
            "url.path": u.path,
        }
        port = u.port()
        if port:
            value = int(port)
            if value > (1 << 63) - 1:
                raise EvalError(f'strconv.Atoi: parsing "{port}": value out of range')
            result["url.port"] = value
        if u.fragment:
            result["url.fragment"] = u.fragment
        if u.has_user:
            result["url.user_info"] = u.userinfo()
            if u.user:
                result["url.username"] = u.user
            if u.has_password:
                result["url.password"] = u.password
        if u.raw_query:
            result["url.query"] = u.raw_query
        dot = u.path.rfind(".")
        if dot != -1 and dot < len(u.path) - 1:
            result["url.extension"] = u.path[dot + 1:]
        return result

    return run


# =================================================================================================
# UserAgent (uap-core regexes, as uap-go)
# =================================================================================================

_UA_PARSER = None


def _ua_parser():
    global _UA_PARSER
    if _UA_PARSER is None:
        import ua_parser

        _UA_PARSER = ua_parser
    return _UA_PARSER


def _version(*parts: Optional[str]) -> str:
    out = ""
    for i, part in enumerate(parts):
        if part:
            out += part if i == 0 else "." + part
    return out


@implements("UserAgent")
def user_agent(args: Args) -> ExprFunc:
    source: Getter = args["user_agent"]

    def run(ctx: Any) -> dict:
        text = source.string(ctx)
        parser = _ua_parser()
        ua = parser.parse_user_agent(text)
        os_ = parser.parse_os(text)
        if ua is None:
            family, major, minor, patch = "Other", None, None, None
        else:
            family, major, minor, patch = ua.family, ua.major, ua.minor, ua.patch
        result = {
            "user_agent.name": family,
            "user_agent.original": text,
            "user_agent.version": _version(major, minor, patch),
        }
        if os_ is None:
            os_name, os_version = "Other", ""
        else:
            os_name = os_.family
            os_version = _version(os_.major, os_.minor, os_.patch, os_.patch_minor)
        if os_name:
            result["os.name"] = os_name
        if os_version:
            result["os.version"] = os_version
        return result

    return run


# =================================================================================================
# XML: a tokenizer with the rules of Go's encoding/xml (strict)
# =================================================================================================


class XMLSyntaxError(Exception):
    def __init__(self, line: int, msg: str) -> None:
        super().__init__(f"XML syntax error on line {line}: {msg}")


class _EOF(Exception):
    pass


MAX_XML_DEPTH = 10000

_NAME_BYTES = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_:.-")
_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "apos": "'", "quot": '"'}


def _in_char_range(o: int) -> bool:
    return (
        o in (0x09, 0x0A, 0x0D)
        or 0x20 <= o <= 0xD7FF
        or 0xE000 <= o <= 0xFFFD
        or 0x10000 <= o <= 0x10FFFF
    )


def _is_name(name: str) -> bool:
    if not name:
        return False
    first = name[0]
    if not (first.isalpha() or first in "_:" or ord(first) > 0x7F and first.isidentifier()):
        return False
    for c in name[1:]:
        if not (c.isalnum() or c in "_:.-\xb7" or ord(c) > 0x7F):
            return False
    return True


class GoXMLTokenizer:
    """Tokens as Go's ``Decoder.Token`` yields them (strict mode, standard entities only).

    Tokens are tuples:
    ``("start", prefix, local, space, attrs)`` where attrs is a list of
    ``(prefix, local, space, value)``; ``("end", prefix, local, space)``;
    ``("text", data, is_cdata)``; ``("comment", data)``; ``("procinst", target, inst)``;
    ``("directive", data)``. ``space`` is the namespace after translation (Go's Name.Space).
    """

    def __init__(self, text: str, charset_reader: bool = False) -> None:
        self.s = text
        self.pos = 0
        self.line = 1
        self.charset_reader = charset_reader
        self.stack: list[tuple[str, str]] = []  # raw (prefix, local) of open elements
        self.ns_stack: list[dict] = [{}]
        self.pending_end = None
        self.need_close = False

    # -- low level ----------------------------------------------------------------------------

    def _err(self, msg: str) -> XMLSyntaxError:
        return XMLSyntaxError(self.line, msg)

    def _getc(self) -> str:
        if self.pos >= len(self.s):
            raise _EOF()
        c = self.s[self.pos]
        self.pos += 1
        if c == "\n":
            self.line += 1
        return c

    def _mustgetc(self) -> str:
        try:
            return self._getc()
        except _EOF:
            raise self._err("unexpected EOF") from None

    def _ungetc(self, c: str) -> None:
        self.pos -= 1
        if c == "\n":
            self.line -= 1

    def _space(self) -> None:
        while self.pos < len(self.s) and self.s[self.pos] in " \r\n\t":
            self._getc()

    def _name(self) -> Optional[str]:
        start = self.pos
        s = self.s
        n = len(s)
        if start >= n:
            raise self._err("unexpected EOF")
        i = start
        while i < n and (s[i] in _NAME_BYTES or ord(s[i]) > 0x7F):
            i += 1
        if i == start:
            return None
        self.pos = i
        name = s[start:i]
        if not _is_name(name):
            raise self._err("invalid XML name: " + name)
        return name

    @staticmethod
    def _split(name: str) -> tuple[str, str]:
        i = name.find(":")
        if i < 1 or i > len(name) - 2:
            return "", name
        return name[:i], name[i + 1:]

    def _text(self, quote: str, cdata: bool) -> str:
        """Character data up to '<' (or the quote, or ']]>' for CDATA), entities replaced,
        newlines normalised."""
        out = []
        s = self.s
        while True:
            try:
                c = self._getc()
            except _EOF:
                if cdata:
                    raise self._err("unexpected EOF in CDATA section") from None
                if quote:
                    raise self._err("unexpected EOF") from None
                break
            if cdata:
                if c == ">" and len(out) >= 2 and out[-1] == "]" and out[-2] == "]":
                    out.pop()
                    out.pop()
                    break
            elif quote:
                if c == quote:
                    break
                if c == "<":
                    raise self._err("unescaped < inside quoted string")
            else:
                if c == "<":
                    self._ungetc(c)
                    break
                if c == ">" and len(out) >= 2 and out[-1] == "]" and out[-2] == "]":
                    raise self._err("unescaped ]]> not in CDATA section")
            if c == "&" and not cdata:
                out.append(self._entity())
                continue
            if c == "\r":
                if self.pos < len(s) and s[self.pos] == "\n":
                    continue
                c = "\n"
            if not _in_char_range(ord(c)) and not (0xDC80 <= ord(c) <= 0xDCFF):
                raise self._err(f"illegal character code U+{ord(c):04X}")
            out.append(c)
        return "".join(out)

    def _entity(self) -> str:
        s = self.s
        start = self.pos
        if start < len(s) and s[start] == "#":
            j = start + 1
            base = 10
            if j < len(s) and s[j] == "x":
                base = 16
                j += 1
            k = j
            digits = "0123456789abcdefABCDEF" if base == 16 else "0123456789"
            while k < len(s) and s[k] in digits:
                k += 1
            if k < len(s) and s[k] == ";" and k > j:
                try:
                    code = int(s[j:k], base)
                except ValueError:
                    code = -1
                if 0 <= code <= 0x10FFFF and _in_char_range(code):
                    self.pos = k + 1
                    return chr(code)
                raise self._err("invalid character entity &" + s[start:k + 1])
            raise self._err("invalid character entity &" + s[start:k] + " (no semicolon)")
        k = start
        while k < len(s) and (s[k] in _NAME_BYTES or ord(s[k]) > 0x7F):
            k += 1
        name = s[start:k]
        if k < len(s) and s[k] == ";" and name in _ENTITIES:
            self.pos = k + 1
            return _ENTITIES[name]
        if k < len(s) and s[k] == ";" and name:
            raise self._err("invalid character entity &" + name + ";")
        raise self._err("invalid character entity &" + name + " (no semicolon)")

    # -- raw tokens ---------------------------------------------------------------------------

    def _raw_token(self):
        if self.need_close:
            self.need_close = False
            return self.pending_end
        try:
            c = self._getc()
        except _EOF:
            return None
        if c != "<":
            self._ungetc(c)
            return ("text", self._text("", False), False)
        c = self._mustgetc()
        if c == "/":
            name = self._name()
            if name is None:
                raise self._err("expected element name after </")
            self._space()
            c = self._mustgetc()
            if c != ">":
                raise self._err("invalid characters between </" + name + " and >")
            prefix, local = self._split(name)
            return ("end", prefix, local)
        if c == "?":
            target = self._name()
            if target is None:
                raise self._err("expected target name after <?")
            self._space()
            start = self.pos
            b0 = ""
            while True:
                c = self._mustgetc()
                if b0 == "?" and c == ">":
                    break
                b0 = c
            inst = self.s[start:self.pos - 2]
            if target == "xml":
                content = inst
                ver = _proc_inst_param("version", content)
                if ver and ver != "1.0":
                    raise _XMLError(f"xml: unsupported version {go_quote(ver)}; only version 1.0 is supported")
                enc = _proc_inst_param("encoding", content)
                if enc and enc.lower() not in ("utf-8", "utf8") and not self.charset_reader:
                    raise _XMLError(
                        f"xml: encoding {go_quote(enc)} declared but Decoder.CharsetReader is nil"
                    )
            return ("procinst", target, inst)
        if c == "!":
            c = self._mustgetc()
            if c == "-":
                c = self._mustgetc()
                if c != "-":
                    raise self._err("invalid sequence <!- not part of <!--")
                start = self.pos
                b0 = b1 = ""
                while True:
                    c = self._mustgetc()
                    if b0 == "-" and b1 == "-":
                        if c != ">":
                            raise self._err('invalid sequence "--" not allowed in comments')
                        break
                    b0, b1 = b1, c
                return ("comment", self.s[start:self.pos - 3])
            if c == "[":
                for expect in "CDATA[":
                    c = self._mustgetc()
                    if c != expect:
                        raise self._err("invalid <![ sequence")
                return ("text", self._text("", True), True)
            # a directive: up to the matching '>', minding quotes, nesting and comments
            out = [c]
            depth = 0
            in_quote = ""
            while True:
                c = self._mustgetc()
                if in_quote:
                    if c == in_quote:
                        in_quote = ""
                    out.append(c)
                    continue
                if c in "'\"":
                    in_quote = c
                    out.append(c)
                    continue
                if c == ">":
                    if depth == 0:
                        break
                    depth -= 1
                    out.append(c)
                    continue
                if c == "<":
                    if self.s.startswith("!--", self.pos):
                        # a comment inside a directive is dropped
                        self.pos += 3
                        b0 = b1 = ""
                        while True:
                            c2 = self._mustgetc()
                            if b0 == "-" and b1 == "-":
                                if c2 != ">":
                                    raise self._err('invalid sequence "--" not allowed in comments')
                                break
                            b0, b1 = b1, c2
                        out.append(" ")
                        continue
                    depth += 1
                out.append(c)
            return ("directive", "".join(out))
        # a start element
        self._ungetc(c)
        name = self._name()
        if name is None:
            raise self._err("expected element name after <")
        prefix, local = self._split(name)
        attrs = []
        empty = False
        while True:
            self._space()
            c = self._mustgetc()
            if c == "/":
                c = self._mustgetc()
                if c != ">":
                    raise self._err("expected /> in element")
                empty = True
                break
            if c == ">":
                break
            self._ungetc(c)
            aname = self._name()
            if aname is None:
                raise self._err("expected attribute name in element")
            self._space()
            c = self._mustgetc()
            if c != "=":
                raise self._err("attribute name without = in element")
            self._space()
            q = self._mustgetc()
            if q not in "'\"":
                raise self._err("unquoted or missing attribute value in element")
            value = self._text(q, False)
            ap, al = self._split(aname)
            attrs.append((ap, al, value))
        if empty:
            self.need_close = True
            self.pending_end = ("end", prefix, local)
        return ("start", prefix, local, attrs)

    # -- tokens with namespaces and nesting checks --------------------------------------------

    def _translate(self, prefix: str, local: str, is_element: bool, ns: dict) -> str:
        if prefix == "xmlns":
            return "xmlns"
        if prefix == "" and not is_element:
            return ""
        if prefix == "xml":
            return "http://www.w3.org/XML/1998/namespace"
        if prefix == "" and local == "xmlns":
            return ""
        if prefix in ns:
            return ns[prefix]
        return prefix

    def token(self):
        tok = self._raw_token()
        if tok is None:
            if self.stack:
                raise self._err("unexpected EOF")
            return None
        kind = tok[0]
        if kind == "start":
            _, prefix, local, attrs = tok
            ns = dict(self.ns_stack[-1])
            for ap, al, value in attrs:
                if ap == "xmlns":
                    ns[al] = value
                elif ap == "" and al == "xmlns":
                    ns[""] = value
            self.ns_stack.append(ns)
            self.stack.append((prefix, local))
            if len(self.stack) > MAX_XML_DEPTH:
                raise _XMLError("exceeded max depth")
            space = self._translate(prefix, local, True, ns)
            out_attrs = [(ap, al, self._translate(ap, al, False, ns), v) for ap, al, v in attrs]
            return ("start", prefix, local, space, out_attrs)
        if kind == "end":
            _, prefix, local = tok
            if not self.stack:
                raise self._err("unexpected end element </" + local + ">")
            sp, sl = self.stack[-1]
            if sl != local:
                raise self._err("element <" + sl + "> closed by </" + local + ">")
            if sp != prefix:
                raise self._err(
                    "element <" + sl + "> in space " + sp + " closed by </" + local + "> in space " + prefix
                )
            ns = self.ns_stack[-1]
            space = self._translate(prefix, local, True, ns)
            self.stack.pop()
            self.ns_stack.pop()
            return ("end", prefix, local, space)
        return tok


class _XMLError(Exception):
    """An error of the decoder that is not a syntax error (version, encoding, depth)."""


def _proc_inst_param(param: str, s: str) -> str:
    """procInst: the value of ``param="..."`` in a processing instruction's content."""
    m = re.search(r"(?:^|\s)" + re.escape(param) + r"\s*=\s*(['\"])(.*?)\1", s)
    return m.group(2) if m else ""


# =================================================================================================
# ParseXML
# =================================================================================================


@implements("ParseXML")
def parse_xml(args: Args) -> ExprFunc:
    target: Getter = args["target"]

    def run(ctx: Any) -> PMap:
        text = target.string(ctx)
        tok = GoXMLTokenizer(text)
        try:
            root = None
            while root is None:
                t = tok.token()
                if t is None:
                    raise EvalError("unmarshal xml: EOF")
                if t[0] == "start":
                    root = t
            result = _xml_element_map(root)
            stack = [(result, [])]  # (map, text parts)
            while stack:
                try:
                    t = tok.token()
                except (XMLSyntaxError, _XMLError) as exc:
                    raise EvalError(f"unmarshal xml: decode next token: {exc}") from None
                if t is None:
                    raise EvalError("unmarshal xml: decode next token: " + str(tok._err("unexpected EOF")))
                kind = t[0]
                if kind == "start":
                    child = _xml_element_map(t)
                    stack.append((child, []))
                elif kind == "end":
                    element, parts = stack.pop()
                    content = "".join(parts)
                    if content:
                        _insert_after_tag(element, "content", content)
                    if stack:
                        parent = stack[-1][0]
                        children = parent.get("children")
                        if children is None:
                            children = PSlice()
                            parent["children"] = children
                        children.append(element)
                elif kind == "text":
                    stack[-1][1].append(go_trim_space(t[1]))
        except (XMLSyntaxError, _XMLError) as exc:
            raise EvalError(f"unmarshal xml: {exc}") from None
        if tok.pos != len(text):
            raise EvalError("trailing bytes after parsing xml")
        return result

    return run


def _xml_element_map(start) -> PMap:
    m = PMap()
    m["tag"] = start[2]
    attrs = start[4]
    if attrs:
        a = PMap()
        for _prefix, local, _space, value in attrs:
            a[local] = value
        m["attributes"] = a
    return m


def _insert_after_tag(m: PMap, key: str, value: Any) -> None:
    """Put ``key`` right after ``tag`` (the reference's field order: tag, content, attributes,
    children)."""
    items = list(m.items())
    m.clear()
    m[items[0][0]] = items[0][1]
    m[key] = value
    for k, v in items[1:]:
        m[k] = v


# =================================================================================================
# xmlquery-like document tree
# =================================================================================================

DOCUMENT, DECLARATION, ELEMENT, TEXT, CDATA, COMMENT, ATTRIBUTE, NOTATION = range(8)


class XNode:
    __slots__ = ("type", "data", "prefix", "namespace", "attrs", "children", "parent", "level")

    def __init__(self, type_: int, data: str = "", level: int = 0) -> None:
        self.type = type_
        self.data = data
        self.prefix = ""
        self.namespace = ""
        # attributes: [space(prefix) , local, value]
        self.attrs: list[list[str]] = []
        self.children: list[XNode] = []
        self.parent: Optional[XNode] = None
        self.level = level

    # tree edits ------------------------------------------------------------------------------

    def add_child(self, node: "XNode") -> None:
        if node.parent is not None:
            node.remove()
        node.parent = self
        self.children.append(node)

    def remove(self) -> None:
        if self.parent is not None:
            siblings = self.parent.children
            for i, c in enumerate(siblings):
                if c is self:
                    del siblings[i]
                    break
            self.parent = None

    def inner_text(self) -> str:
        if self.type in (TEXT, CDATA):
            return self.data
        if self.type == COMMENT:
            return ""
        if self.type == ATTRIBUTE:
            return self.data
        return "".join(c.inner_text() for c in self.children)

    def attr_value(self, key: str) -> Optional[str]:
        space, _, local = key.rpartition(":")
        for a in self.attrs:
            if a[1] == local and a[0] == space:
                return a[2]
        return None

    def remove_attr(self, space: str, local: str) -> None:
        for i, a in enumerate(self.attrs):
            if a[0] == space and a[1] == local:
                del self.attrs[i]
                return


class XAttr:
    """An attribute selected by an XPath (xmlquery's AttributeNode)."""

    __slots__ = ("parent", "space", "local", "value")

    type = ATTRIBUTE

    def __init__(self, parent: XNode, space: str, local: str, value: str) -> None:
        self.parent = parent
        self.space = space
        self.local = local
        self.value = value

    @property
    def data(self) -> str:
        return self.local

    def inner_text(self) -> str:
        return self.value


def _attach(p_prev: XNode, p_level: int, node: XNode) -> None:
    """xmlquery's placement of a new node relative to the previous one, by nesting level."""
    if p_level == p_prev.level:
        _add_sibling(p_prev, node)
    elif p_level > p_prev.level:
        p_prev.add_child(node)
    else:
        prev = p_prev
        for _ in range(p_prev.level - p_level, 1, -1):
            prev = prev.parent
        _add_sibling(prev.parent, node)


def _add_sibling(sibling: Optional[XNode], node: XNode) -> None:
    if sibling is None:
        return
    if sibling.parent is None:
        # A sibling of the document itself is outside of the tree: xmlquery keeps it in a chain
        # that nothing reads, so it is dropped here.
        return
    sibling.parent.add_child(node)


def parse_xmlquery(text: str) -> XNode:
    """Parse a document as xmlquery.Parse does (over Go's decoder, strict)."""
    tok = GoXMLTokenizer(text, charset_reader=True)
    doc = XNode(DOCUMENT)
    prev = doc
    level = 0
    space2prefix: dict[str, tuple[str, int]] = {"http://www.w3.org/XML/1998/namespace": ("xml", 0)}
    while True:
        try:
            t = tok.token()
        except (XMLSyntaxError, _XMLError) as exc:
            raise EvalError(f"parse xml: {exc}") from None
        if t is None:
            break
        kind = t[0]
        if kind == "start":
            _, raw_prefix, local, space, attrs = t
            if level == 0:
                decl = XNode(DECLARATION, "xml", 1)
                decl.attrs.append(["", "version", "1.0"])
                prev.add_child(decl)
                level = 1
                prev = decl
            for ap, al, aspace, value in attrs:
                if ap == "" and al == "xmlns":
                    old = space2prefix.get(value)
                    if old is None or old[1] >= level:
                        space2prefix[value] = ("", level)
                elif aspace == "xmlns":
                    space2prefix[value] = (al, level)
            if space and space not in space2prefix:
                raise EvalError(f"parse xml: xmlquery: invalid XML document, namespace {space} is missing")
            node = XNode(ELEMENT, local, level)
            node.namespace = space
            for ap, al, aspace, value in attrs:
                name_space = aspace
                if aspace in space2prefix:
                    name_space = space2prefix[aspace][0]
                node.attrs.append([name_space, al, value])
            _attach(prev, level, node)
            if space and space in space2prefix and space2prefix[space][0] == raw_prefix and raw_prefix:
                node.prefix = raw_prefix
            prev = node
            level += 1
        elif kind == "end":
            level -= 1
        elif kind == "text":
            node = XNode(CDATA if t[2] else TEXT, t[1], level)
            _attach(prev, level, node)
        elif kind == "comment":
            node = XNode(COMMENT, t[1], level)
            _attach(prev, level, node)
        elif kind == "procinst":
            if prev.type != DECLARATION:
                level += 1
            node = XNode(DECLARATION, t[1], level)
            for pair in t[2].split(" "):
                pair = go_trim_space(pair)
                i = pair.find("=")
                if i > 0:
                    key = pair[:i]
                    space, _, loc = key.partition(":") if ":" in key[1:] else ("", "", key)
                    node.attrs.append([space, loc, pair[i + 1:].strip("\"'")])
            _attach(prev, level, node)
            prev = node
        elif kind == "directive":
            node = XNode(NOTATION, t[1], level)
            _attach(prev, level, node)
    if not any(c.type == ELEMENT for c in doc.children):
        raise EvalError("parse xml: xmlquery: invalid XML document")
    return doc


def parse_nodes_xml(text: str) -> XNode:
    """The reference's parseNodesXML: the declaration is kept only when the text starts with one
    (xmlquery adds a version 1.0 declaration otherwise, which is dropped)."""
    doc = parse_xmlquery(text)
    if not text.startswith("<?xml") and doc.children:
        doc.children[0].parent = None
        del doc.children[0]
    return doc


def _html_escape(s: str) -> str:
    return (
        s.replace("&", "&amp;")
        .replace("'", "&#39;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&#34;")
    )


def _space_mode(node: XNode, preserve: bool) -> bool:
    """xml:space on an element switches whitespace keeping on ("preserve") or off ("default")."""
    for space, local, value in node.attrs:
        if space == "xml" and local == "space":
            if value == "preserve":
                return True
            if value == "default":
                return False
    return preserve


def output_xml(node: XNode, self_too: bool = False) -> str:
    """xmlquery's OutputXML: text kept as it is (trimmed only under xml:space="default"), no
    self-closing tags, attributes in double quotes, text and attributes HTML-escaped."""
    out: list[str] = []
    preserve = _space_mode(node, True)
    nodes = [node] if self_too and node.type != DOCUMENT else list(node.children)
    # Iterative walk: ("open", node, preserve) / ("close", node, preserve).
    work = [("open", n, preserve) for n in reversed(nodes)]
    while work:
        action, n, keep = work.pop()
        if action == "close":
            out.append(f"</{n.prefix}:{n.data}>" if n.prefix else f"</{n.data}>")
            continue
        keep = _space_mode(n, keep)
        t = n.type
        if t == TEXT:
            out.append(_html_escape(n.data if keep else go_trim_space(n.data)))
            continue
        if t == CDATA:
            out.append("<![CDATA[" + n.data + "]]>")
            continue
        if t == COMMENT:
            out.append("<!--" + n.data + "-->")
            continue
        if t == NOTATION:
            out.append("<!" + n.data + ">")
            continue
        if t == DECLARATION:
            out.append("<?" + n.data)
        else:
            out.append(f"<{n.prefix}:{n.data}" if n.prefix else "<" + n.data)
        for space, local, value in n.attrs:
            name = f"{space}:{local}" if space else local
            out.append(f' {name}="{_html_escape(value)}"')
        if t == DECLARATION:
            out.append("?>")
            work.extend(("open", c, keep) for c in reversed(n.children))
            continue
        out.append(">")
        work.append(("close", n, keep))
        work.extend(("open", c, keep) for c in reversed(n.children))
    return "".join(out)


# =================================================================================================
# XPath over the tree, through an lxml mirror
# =================================================================================================

_DOC_TAG = "ottl-xml-document-root"
_PREFIX_NS = "urn:ottl:xml-prefix:"
_XMLNS_NS = "urn:ottl:xml-xmlns"
_XML_NS = "http://www.w3.org/XML/1998/namespace"


def _lx_name(space: str, local: str) -> str:
    if not space:
        return local
    if space == "xml":
        return "{" + _XML_NS + "}" + local
    if space == "xmlns":
        return "{" + _XMLNS_NS + "}" + local
    return "{" + _PREFIX_NS + space + "}" + local


def compile_xpath(expr: str):
    """Compile an XPath (the reference checks it when the statement is built)."""
    from lxml import etree

    rewritten, prefixes = _rewrite_xpath(expr)
    namespaces = {p: _PREFIX_NS + p for p in prefixes if p not in ("xml", "xmlns")}
    try:
        return etree.XPath(rewritten, namespaces=namespaces), expr
    except etree.XPathSyntaxError as exc:
        raise EvalError(f"invalid xpath: {expr}: {exc}") from None


_XPATH_TOKEN = re.compile(
    r"""\s*(?:
        (?P<lit>"[^"]*"|'[^']*')
      | (?P<num>\d+(?:\.\d*)?|\.\d+)
      | (?P<op>//|/|::|\.\.|\.|@|,|\(|\)|\[|\]|\||\+|-|=|!=|<=|>=|<|>|\*|\$)
      | (?P<name>[^\s/\[\]()@,|+=!<>*$"':]+(?::(?![:])[^\s/\[\]()@,|+=!<>*$"':]*|:\*)?)
      | (?P<other>\S)
    )""",
    re.VERBOSE,
)

_OPERATOR_NAMES = {"and", "or", "div", "mod"}


def _rewrite_xpath(expr: str) -> tuple[str, set[str]]:
    """Make absolute location paths start at the mirror's document element, and list the
    namespace prefixes used. A '/' or '//' begins an absolute path where an operand is expected
    (at the start, after an operator, '(', '[' or ',')."""
    tokens = []
    pos = 0
    while pos < len(expr):
        m = _XPATH_TOKEN.match(expr, pos)
        if not m or m.end() == pos:
            break
        pos = m.end()
        kind = m.lastgroup
        tokens.append((kind, m.group(kind), m.group(0)))
    out: list[str] = []
    prefixes: set[str] = set()
    operand = False  # whether the tokens so far end with an operand
    for idx, (kind, tok, raw) in enumerate(tokens):
        lead = raw[: len(raw) - len(tok)]
        nxt = tokens[idx + 1] if idx + 1 < len(tokens) else None
        if kind == "op" and tok in ("/", "//") and not operand:
            step = nxt is not None and (
                nxt[0] == "name" or (nxt[0] == "op" and nxt[1] in ("*", "@", ".", ".."))
            )
            if tok == "/":
                out.append(lead + "/" + _DOC_TAG + ("/" if step else ""))
                operand = not step
            else:
                out.append(lead + "/" + _DOC_TAG + "//")
                operand = False
            continue
        out.append(raw)
        if kind == "name":
            if ":" in tok:
                prefix = tok.split(":", 1)[0]
                if prefix:
                    prefixes.add(prefix)
            if operand and tok in _OPERATOR_NAMES:
                operand = False
            elif nxt is not None and nxt[0] == "op" and nxt[1] in ("(", "::"):
                operand = False
            else:
                operand = True
        elif kind in ("lit", "num"):
            operand = True
        elif kind == "op":
            if tok == "*":
                operand = not operand
            else:
                operand = tok in (")", "]", ".", "..")
        else:
            operand = False
    out.append(expr[pos:])
    return "".join(out), prefixes


class _Mirror:
    """An lxml tree mirroring an XNode document, with the way back from lxml nodes."""

    def __init__(self, doc: XNode) -> None:
        from lxml import etree

        self.etree = etree
        self.by_el: dict[Any, XNode] = {}
        root = etree.Element(_DOC_TAG)
        self.root = root
        self.by_el[root] = doc
        self.doc = doc
        # Runs of text nodes: (lxml element, is_text) -> [XNode...]
        self.text_runs: dict[tuple[Any, bool], list[XNode]] = {}
        self._fill(root, doc)
        self.tree = etree.ElementTree(root)

    def _fill(self, el, node: XNode) -> None:
        etree = self.etree
        stack = [(el, node)]
        while stack:
            el, node = stack.pop()
            last = None  # last lxml child created
            run: list[XNode] = []

            def flush(el, last_el, run_nodes):
                if not run_nodes:
                    return
                text = "".join(n.data for n in run_nodes)
                if last_el is None:
                    el.text = (el.text or "") + text
                    self.text_runs.setdefault((el, True), []).extend(run_nodes)
                else:
                    last_el.tail = (last_el.tail or "") + text
                    self.text_runs.setdefault((last_el, False), []).extend(run_nodes)

            for child in node.children:
                if child.type in (TEXT, CDATA):
                    run.append(child)
                    continue
                if child.type == ELEMENT:
                    flush(el, last, run)
                    run = []
                    try:
                        sub = etree.SubElement(el, _lx_name(child.prefix, child.data))
                    except ValueError:
                        sub = etree.SubElement(el, "ottl-unnamed-element")
                    for space, local, value in child.attrs:
                        try:
                            sub.set(_lx_name(space, local), value)
                        except (ValueError, TypeError):
                            pass
                    self.by_el[sub] = child
                    last = sub
                    stack.append((sub, child))
                elif child.type == COMMENT:
                    flush(el, last, run)
                    run = []
                    safe = child.data.replace("--", "- -")
                    if safe.endswith("-"):
                        safe += " "
                    c = etree.Comment(safe)
                    el.append(c)
                    self.by_el[c] = child
                    last = c
            flush(el, last, run)

    def _attr(self, parent_el, attrname: str) -> Optional[XAttr]:
        node = self.by_el.get(parent_el)
        if node is None:
            return None
        space, local = "", attrname
        if attrname.startswith("{"):
            uri, local = attrname[1:].split("}", 1)
            if uri == _XML_NS:
                space = "xml"
            elif uri == _XMLNS_NS:
                space = "xmlns"
            elif uri.startswith(_PREFIX_NS):
                space = uri[len(_PREFIX_NS):]
        for a in node.attrs:
            if a[0] == space and a[1] == local:
                return XAttr(node, space, local, a[2])
        return None

    def select(self, compiled) -> list:
        """The nodes an XPath selects, in document order, as XNode / XAttr."""
        etree = self.etree
        try:
            result = compiled(self.tree)
        except etree.XPathError as exc:
            raise EvalError(f"xpath: {exc}") from None
        if not isinstance(result, list):
            return []
        nodes: list = []
        seen: set[int] = set()
        for item in result:
            if isinstance(item, str):
                getparent = getattr(item, "getparent", None)
                parent = getparent() if getparent else None
                if parent is None:
                    continue
                if getattr(item, "is_attribute", False):
                    attr = self._attr(parent, item.attrname)
                    if attr is not None:
                        nodes.append(attr)
                    continue
                key = (parent, bool(getattr(item, "is_text", False)))
                for n in self.text_runs.get(key, []):
                    if id(n) not in seen:
                        seen.add(id(n))
                        nodes.append(n)
                continue
            node = self.by_el.get(item)
            if node is not None and id(node) not in seen:
                seen.add(id(node))
                nodes.append(node)
        return nodes


def xpath_select(doc: XNode, compiled) -> list:
    return _Mirror(doc).select(compiled)


def _xpath_arg(args: Args, default: Optional[str] = None):
    expr = args.get("x_path")
    if expr is None or expr == "":
        expr = default
    return compile_xpath(expr)


# =================================================================================================
# ParseSimplifiedXML
# =================================================================================================


def _depth(node: XNode) -> int:
    best = 0
    stack = [(node, 0)]
    while stack:
        n, d = stack.pop()
        best = max(best, d)
        stack.extend((c, d + 1) for c in n.children)
    return best


class _recursion:
    """Room for recursion proportional to a document's depth."""

    def __init__(self, depth: int) -> None:
        self.need = depth * 3 + 200

    def __enter__(self):
        self.old = sys.getrecursionlimit()
        if self.need > self.old:
            sys.setrecursionlimit(self.need)

    def __exit__(self, *exc):
        sys.setrecursionlimit(self.old)


def _leaf_value(node: XNode) -> str:
    if any(c.type == ELEMENT for c in node.children):
        return ""
    for c in node.children:
        if c.type in (TEXT, CDATA):
            return c.data
    return ""


def _simplify(parent: XNode, out: PMap) -> None:
    counts: dict[str, int] = {}
    for c in parent.children:
        if c.type == ELEMENT:
            counts[c.data] = counts.get(c.data, 0) + 1
    if not counts:
        return
    for c in parent.children:
        if c.type != ELEMENT or not c.children:
            continue
        leaf = _leaf_value(c)
        if counts[c.data] > 1:
            items = out.get(c.data)
            if not isinstance(items, PSlice):
                items = PSlice()
                out[c.data] = items
            if leaf != "":
                items.append(leaf)
                continue
            child_map = PMap()
            _simplify(c, child_map)
            if len(child_map):
                items.append(child_map)
            continue
        if leaf != "":
            out[c.data] = leaf
            continue
        child_map = PMap()
        _simplify(c, child_map)
        if len(child_map):
            out[c.data] = child_map


@implements("ParseSimplifiedXML")
def parse_simplified_xml(args: Args) -> ExprFunc:
    target: Getter = args["target"]

    def run(ctx: Any) -> PMap:
        doc = parse_nodes_xml(target.string(ctx))
        result = PMap()
        depth = _depth(doc)
        if depth > MAX_XML_DEPTH:
            raise EvalError("exceeded max depth")
        with _recursion(depth):
            _simplify(doc, result)
        return result

    return run


# =================================================================================================
# GetXML / InsertXML / RemoveXML / ConvertAttributesToElementsXML / ConvertTextToElementsXML
# =================================================================================================


@implements("GetXML")
def get_xml(args: Args) -> ExprFunc:
    target: Getter = args["target"]
    compiled, _ = _xpath_arg(args)

    def run(ctx: Any) -> str:
        text = target.string(ctx)
        if text == "":
            return ""
        doc = parse_nodes_xml(text)
        result = XNode(DOCUMENT)
        for n in xpath_select(doc, compiled):
            if n.type in (ELEMENT, TEXT):
                # AddChild moves the node out of the document (a selected descendant of a
                # selected element is taken out of it).
                result.add_child(n)
            elif n.type in (ATTRIBUTE, CDATA):
                result.children.append(XNode(TEXT, n.inner_text()))
        return output_xml(result)

    return run


@implements("InsertXML")
def insert_xml(args: Args) -> ExprFunc:
    target: Getter = args["target"]
    sub_getter: Getter = args["sub_document"]
    compiled, _ = _xpath_arg(args)

    def run(ctx: Any) -> str:
        text = target.string(ctx)
        doc = XNode(DOCUMENT) if text == "" else parse_nodes_xml(text)
        sub = parse_nodes_xml(sub_getter.string(ctx))
        errors = []
        for n in xpath_select(doc, compiled):
            if n.type in (ELEMENT, DOCUMENT):
                for c in sub.children:
                    n.children.append(_copy_node(c, n))
            else:
                errors.append(f"InsertXML XPath selected non-element: {go_quote(n.data)}")
        if errors:
            raise EvalError("\n".join(errors))
        return output_xml(doc)

    return run


def _copy_node(node: XNode, parent: Optional[XNode]) -> XNode:
    def shallow(n: XNode, p: Optional[XNode]) -> XNode:
        c = XNode(n.type, n.data, n.level)
        c.prefix = n.prefix
        c.namespace = n.namespace
        c.attrs = [list(a) for a in n.attrs]
        c.parent = p
        return c

    top = shallow(node, parent)
    stack = [(node, top)]
    while stack:
        src, dst = stack.pop()
        for child in src.children:
            copy = shallow(child, dst)
            dst.children.append(copy)
            stack.append((child, copy))
    return top


@implements("RemoveXML")
def remove_xml(args: Args) -> ExprFunc:
    target: Getter = args["target"]
    compiled, _ = _xpath_arg(args)

    def run(ctx: Any) -> str:
        text = target.string(ctx)
        if text == "":
            return ""
        doc = parse_nodes_xml(text)
        for n in xpath_select(doc, compiled):
            if n.type == ATTRIBUTE:
                n.parent.remove_attr(n.space, n.local)
            elif n.type == TEXT:
                n.data = ""
            elif n.type in (ELEMENT, COMMENT, CDATA):
                n.remove()
        return output_xml(doc)

    return run


@implements("ConvertAttributesToElementsXML")
def convert_attributes_to_elements_xml(args: Args) -> ExprFunc:
    target: Getter = args["target"]
    compiled, _ = _xpath_arg(args, "//@*")

    def run(ctx: Any) -> str:
        doc = parse_nodes_xml(target.string(ctx))
        for n in xpath_select(doc, compiled):
            if n.type != ATTRIBUTE:
                continue
            element = XNode(ELEMENT, n.local)
            element.children.append(XNode(TEXT, n.value))
            n.parent.add_child(element)
            # xmlquery's RemoveAttr looks the attribute up by its local name only.
            for i, a in enumerate(n.parent.attrs):
                if a[1] == n.local and a[0] == "":
                    del n.parent.attrs[i]
                    break
        return output_xml(doc)

    return run


@implements("ConvertTextToElementsXML")
def convert_text_to_elements_xml(args: Args) -> ExprFunc:
    target: Getter = args["target"]
    compiled, _ = _xpath_arg(args, "/")
    name = args.get("element_name") or "value"

    def run(ctx: Any) -> str:
        doc = parse_nodes_xml(target.string(ctx))
        if _depth(doc) > MAX_XML_DEPTH:
            raise EvalError("exceeded max depth")
        for n in xpath_select(doc, compiled):
            _wrap_text(n, name)
        return output_xml(doc)

    return run


def _wrap_text(top: XNode, name: str) -> None:
    # Post-order over elements (children converted before their parent is looked at).
    order = []
    stack = [top]
    while stack:
        n = stack.pop()
        if n.type not in (ELEMENT, DOCUMENT):
            continue
        order.append(n)
        stack.extend(c for c in n.children if c.type == ELEMENT)
    for parent in reversed(order):
        if not parent.children:
            continue
        values = sum(1 for c in parent.children if c.type == TEXT)
        elements = sum(1 for c in parent.children if c.type == ELEMENT)
        if values == 0 or values + elements <= 1:
            continue
        for c in parent.children:
            if c.type != TEXT:
                continue
            inner = XNode(TEXT, c.data)
            c.type = ELEMENT
            c.data = name
            c.children = [inner]
            inner.parent = c
