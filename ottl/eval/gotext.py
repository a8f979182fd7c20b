"""Go's text forms, shared by the evaluator: strings as Go's bytes, ``strconv.Quote``,
``strconv.FormatFloat``, and ``pcommon.Value.AsString``.

Go strings are bytes; here a string is a ``str`` whose undecodable bytes are surrogate escapes
(``\\udc80``..``\\udcff``, one per byte). ``go_bytes`` and ``go_str`` convert between the two.
"""

from __future__ import annotations

import base64
import math
import struct
from decimal import Decimal
from typing import Any

from ottl.eval.errors import EvalError
from ottl.eval.getters import go_json, stringify
from ottl.eval.values import PMap, PSlice, as_raw

# --- bytes and runes -----------------------------------------------------------------------------


def go_bytes(s: str) -> bytes:
    """The Go bytes of a string (UTF-8; surrogate escapes back to the raw bytes; any other lone
    surrogate, which no Go string holds, as U+FFFD)."""
    try:
        return s.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return "".join(
            ch if not ("\ud800" <= ch <= "\udfff") or _is_escaped_byte(ch) else "\ufffd" for ch in s
        ).encode("utf-8", "surrogateescape")


def go_str(b: bytes) -> str:
    """A Go string from bytes: invalid UTF-8 kept as surrogate escapes."""
    return b.decode("utf-8", "surrogateescape")


def _is_escaped_byte(ch: str) -> bool:
    return "\udc80" <= ch <= "\udcff"


def _has_surrogates(s: str) -> bool:
    return any("\ud800" <= ch <= "\udfff" for ch in s)


def _replace_invalid(s: str) -> str:
    """Each invalid byte as U+FFFD, as Go's rune-wise string functions produce."""
    if not _has_surrogates(s):
        return s
    return "".join("\ufffd" if "\ud800" <= ch <= "\udfff" else ch for ch in s)


# Go's unicode.IsSpace (Python's str.isspace also counts U+001C..U+001F).
_GO_SPACE = frozenset(
    "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009"
    "\u200a\u2028\u2029\u202f\u205f\u3000"
)


def go_trim_space(s: str) -> str:
    """strings.TrimSpace."""
    start, end = 0, len(s)
    while start < end and s[start] in _GO_SPACE:
        start += 1
    while end > start and s[end - 1] in _GO_SPACE:
        end -= 1
    return s[start:end]



_LOWER_HEX = "0123456789abcdefx"
_UPPER_HEX = "0123456789ABCDEFX"
_U64 = (1 << 64) - 1


def go_is_print(ch: str) -> bool:
    """unicode.IsPrint / strconv.IsPrint: letters, marks, numbers, punctuation, symbols, and
    the ASCII space."""
    return ch == " " or (ch.isprintable() and not ("\ud800" <= ch <= "\udfff"))


def _quote_with(s: str, quote: str, ascii_only: bool) -> str:
    out = [quote]
    for ch in s:
        code = ord(ch)
        if "\ud800" <= ch <= "\udfff":
            byte = code - 0xDC00 if _is_escaped_byte(ch) else 0xFD
            out.append(f"\\x{byte:02x}")
            continue
        if ch == quote or ch == "\\":
            out.append("\\" + ch)
            continue
        if ascii_only:
            if code < 0x80 and go_is_print(ch):
                out.append(ch)
                continue
        elif go_is_print(ch):
            out.append(ch)
            continue
        esc = {"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\v": "\\v"}.get(ch)
        if esc is not None:
            out.append(esc)
        elif code < 0x20 or code == 0x7F:
            out.append(f"\\x{code:02x}")
        elif code < 0x10000:
            out.append(f"\\u{code:04x}")
        else:
            out.append(f"\\U{code:08x}")
    out.append(quote)
    return "".join(out)


def go_quote(s: str) -> str:
    """strconv.Quote."""
    return _quote_with(s, '"', False)


def go_quote_ascii(s: str) -> str:
    """strconv.QuoteToASCII."""
    return _quote_with(s, '"', True)


def _rune_of(code: int) -> str:
    if code < 0 or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        return "\ufffd"
    return chr(code)


def go_quote_rune(code: int, ascii_only: bool = False) -> str:
    """strconv.QuoteRune / QuoteRuneToASCII."""
    return _quote_with(_rune_of(code), "'", ascii_only)


def _can_backquote(s: str) -> bool:
    for ch in s:
        if "\ud800" <= ch <= "\udfff" or ch == "\ufeff":
            return False
        if (ch < " " and ch != "\t") or ch == "`" or ch == "\x7f":
            return False
    return True


# --- strconv.FormatFloat -------------------------------------------------------------------------


def _shortest_digits(f: float) -> tuple[str, int]:
    """The shortest decimal digits that read back as ``abs(f)`` and the decimal point position:
    abs(f) == 0.DIGITS * 10**dp. Zero has no digits."""
    if f == 0:
        return "", 0
    _, digit_tuple, exp = Decimal(repr(abs(f))).as_tuple()
    text = "".join(map(str, digit_tuple)).lstrip("0")
    dp = len(text) + int(exp)  # finite: the exponent is an int
    return text.rstrip("0"), dp


def _fmt_e(neg: bool, digits: str, dp: int, prec: int, ch: str) -> str:
    first = digits[0] if digits else "0"
    out = ["-" if neg else "", first]
    if prec > 0:
        frac = digits[1 : 1 + prec]
        out.append("." + frac + "0" * (prec - len(frac)))
    exp = 0 if not digits else dp - 1
    sign = "-" if exp < 0 else "+"
    exp = abs(exp)
    out.append(f"{ch}{sign}{exp:02d}")
    return "".join(out)


def _fmt_f(neg: bool, digits: str, dp: int, prec: int) -> str:
    out = ["-" if neg else ""]
    if dp > 0:
        whole = digits[:dp]
        out.append(whole + "0" * (dp - len(whole)))
    else:
        out.append("0")
    if prec > 0:
        frac = []
        for i in range(prec):
            j = dp + i
            frac.append(digits[j] if 0 <= j < len(digits) else "0")
        out.append("." + "".join(frac))
    return "".join(out)


def _float_bits(f: float) -> tuple[bool, int, int]:
    bits = struct.unpack(">Q", struct.pack(">d", f))[0]
    neg = bool(bits >> 63)
    exp = (bits >> 52) & 0x7FF
    mant = bits & ((1 << 52) - 1)
    if exp == 0:
        exp += 1
    else:
        mant |= 1 << 52
    exp += -1023
    return neg, mant, exp


def _fmt_b(f: float) -> str:
    neg, mant, exp = _float_bits(f)
    exp -= 52
    return ("-" if neg else "") + f"{mant}p" + ("+" if exp >= 0 else "") + str(exp)


def _fmt_x(f: float, prec: int, fmt: str) -> str:
    neg, mant, exp = _float_bits(f)
    if mant == 0:
        exp = 0
    mant <<= 60 - 52
    while mant != 0 and mant & (1 << 60) == 0:
        mant = (mant << 1) & _U64
        exp -= 1
    if 0 <= prec < 15:
        shift = prec * 4
        extra = (mant << shift) & ((1 << 60) - 1)
        mant >>= 60 - shift
        if extra | (mant & 1) > 1 << 59:
            mant += 1
        mant = (mant << (60 - shift)) & _U64
        if mant & (1 << 61):
            mant >>= 1
            exp += 1
    digits = _LOWER_HEX if fmt == "x" else _UPPER_HEX
    out = ["-" if neg else "", "0", fmt, "01"[(mant >> 60) & 1]]
    mant = (mant << 4) & _U64
    if prec < 0 and mant != 0:
        out.append(".")
        while mant != 0:
            out.append(digits[(mant >> 60) & 15])
            mant = (mant << 4) & _U64
    elif prec > 0:
        out.append(".")
        for _ in range(prec):
            out.append(digits[(mant >> 60) & 15])
            mant = (mant << 4) & _U64
    out.append("p" if fmt == "x" else "P")
    out.append("-" if exp < 0 else "+")
    exp = abs(exp)
    out.append(f"{exp:02d}")
    return "".join(out)


def go_format_float(f: float, fmt: str, prec: int = -1) -> str:
    """strconv.FormatFloat(f, fmt, prec, 64) for fmt in e E f F g G b x X."""
    if math.isnan(f):
        return "NaN"
    if math.isinf(f):
        return "+Inf" if f > 0 else "-Inf"
    if fmt == "b":
        return _fmt_b(f)
    if fmt in "xX":
        return _fmt_x(f, prec, fmt)
    neg = math.copysign(1.0, f) < 0
    if fmt == "F":
        fmt = "f"
    if prec < 0:
        digits, dp = _shortest_digits(f)
        nd = len(digits)
        if fmt in "eE":
            return _fmt_e(neg, digits, dp, max(nd - 1, 0), fmt)
        if fmt == "f":
            return _fmt_f(neg, digits, dp, max(nd - dp, 0))
        if fmt in "gG":
            exp = dp - 1
            if exp < -4 or exp >= 6:
                return _fmt_e(neg, digits, dp, nd - 1 if nd else 0, "e" if fmt == "g" else "E")
            return _fmt_f(neg, digits, dp, max(nd - dp, 0))
        return "%" + fmt
    sign = "-" if neg else ""
    if fmt in "eEf":
        return sign + format(abs(f), f".{prec}{fmt}")
    if fmt in "gG":
        text = format(abs(f), f".{prec}{fmt}")
        return sign + text
    return "%" + fmt


def float64_as_string(f: float) -> str:
    """A float64 as encoding/json and pcommon's AsString write it: 'f' form, or 'e' below 1e-6
    and from 1e21, exponents without a leading zero ("1e-7")."""
    if math.isnan(f) or math.isinf(f):
        return f"json: unsupported value: {go_format_float(f, 'g')}"
    a = abs(f)
    fmt = "e" if a != 0 and (a < 1e-6 or a >= 1e21) else "f"
    text = go_format_float(f, fmt)
    if fmt == "e" and len(text) >= 4 and text[-4] == "e" and text[-3] == "-" and text[-2] == "0":
        text = text[:-2] + text[-1]
    return text


def pvalue_as_string(v: Any) -> str:
    """pcommon.Value.AsString of a pdata value."""
    if v is None:
        return ""
    if isinstance(v, str):
        return v
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return float64_as_string(v)
    if isinstance(v, (PMap, PSlice, dict, list)):
        try:
            return go_json(as_raw(v))
        except EvalError:
            return ""
    if isinstance(v, bytes):
        return base64.b64encode(v).decode("ascii")
    return stringify(v)
