"""Arguments as function implementations receive them, with the reference's typed getters.

A ``Getter`` wraps a compiled expression ``fn(ctx) -> value``. Its typed methods follow the Go
getters of pkg/ottl (``StandardStringGetter``, ``StandardStringLikeGetter`` and so on): the
strict ones raise ``EvalError("expected string but got int64")``; the ``*_like`` ones convert
what they can and return ``None`` for nil.
"""

from __future__ import annotations

import math
import re
from typing import Any, Callable, Optional

from ottl.eval.errors import EvalError
from ottl.eval.values import (
    Duration,
    PMap,
    PSlice,
    SpanID,
    Time,
    TraceID,
    as_raw,
    to_pvalue,
    type_name,
)

ExprFunc = Callable[[Any], Any]


class Getter:
    """An argument evaluated per record: ``get(ctx)`` gives its value."""

    __slots__ = ("get", "literal")

    def __init__(self, fn: ExprFunc, literal: Any = ..., ) -> None:
        self.get = fn
        # The value when the argument is a literal known at compile time; Ellipsis otherwise.
        self.literal = literal

    @classmethod
    def constant(cls, value: Any) -> "Getter":
        return cls(lambda _ctx: value, value)

    @property
    def is_literal(self) -> bool:
        return self.literal is not ...

    # -- strict getters (StandardTypeGetter) --------------------------------------------------

    def string(self, ctx: Any) -> str:
        val = self.get(ctx)
        if isinstance(val, str):
            return val
        raise EvalError(_expected("string", val))

    def int(self, ctx: Any) -> int:
        val = self.get(ctx)
        if type(val) is int:
            return val
        raise EvalError(_expected("int64", val))

    def float(self, ctx: Any) -> float:
        val = self.get(ctx)
        if isinstance(val, float):
            return val
        raise EvalError(_expected("float64", val))

    def bool(self, ctx: Any) -> bool:
        val = self.get(ctx)
        if isinstance(val, bool):
            return val
        raise EvalError(_expected("bool", val))

    def pmap(self, ctx: Any) -> PMap:
        val = self.get(ctx)
        if isinstance(val, PMap):
            return val
        if isinstance(val, dict):
            return _convert(val, "pcommon.Map")
        raise EvalError(_expected("pcommon.Map", val))

    def pslice(self, ctx: Any) -> PSlice:
        val = self.get(ctx)
        if isinstance(val, PSlice):
            return val
        if isinstance(val, list):
            return _convert(val, "pcommon.Slice")
        raise EvalError(_expected("pcommon.Slice", val))

    def duration(self, ctx: Any) -> Duration:
        val = self.get(ctx)
        if isinstance(val, Duration):
            return val
        raise EvalError(_expected("time.Duration", val))

    def time(self, ctx: Any) -> Time:
        val = self.get(ctx)
        if isinstance(val, Time):
            return val
        raise EvalError(_expected("time.Time", val))

    # -- converting getters (Standard*LikeGetter): None for nil --------------------------------

    def string_like(self, ctx: Any) -> Optional[str]:
        val = self.get(ctx)
        return None if val is None else stringify(val)

    def int_like(self, ctx: Any) -> Optional[int]:
        val = self.get(ctx)
        if val is None:
            return None
        if isinstance(val, bool):
            return 1 if val else 0
        if type(val) is int:
            return val
        if isinstance(val, float):
            return go_float_to_int64(val)
        if isinstance(val, str):
            return parse_go_int(val)
        raise EvalError(f"unsupported type: {type_name(val)}")

    def float_like(self, ctx: Any) -> Optional[float]:
        val = self.get(ctx)
        if val is None:
            return None
        if isinstance(val, bool):
            return 1.0 if val else 0.0
        if isinstance(val, (int, float)):
            return float(val)
        if isinstance(val, str):
            parsed = parse_go_float(val)
            if parsed is None:
                raise EvalError(f'strconv.ParseFloat: parsing "{val}": invalid syntax')
            return parsed
        raise EvalError(f"unsupported type: {type_name(val)}")

    def bool_like(self, ctx: Any) -> Optional[bool]:
        val = self.get(ctx)
        if val is None:
            return None
        if isinstance(val, bool):
            return val
        if type(val) is int:
            return val != 0
        if isinstance(val, float):
            return val != 0.0
        if isinstance(val, str):
            parsed = parse_go_bool(val)
            if parsed is None:
                raise EvalError(f'strconv.ParseBool: parsing "{val}": invalid syntax')
            return parsed
        raise EvalError(f"unsupported type: {type_name(val)}")

    def bytes_like(self, ctx: Any) -> Optional[bytes]:
        """ByteSliceLikeGetter: bytes as they are, strings as UTF-8, numbers and bools in
        big-endian binary form (as Go's binary.Write)."""
        val = self.get(ctx)
        if val is None:
            return None
        if isinstance(val, bytes):
            return bytes(val)
        if isinstance(val, str):
            return val.encode("utf-8", "surrogateescape")
        if isinstance(val, bool):
            return b"\x01" if val else b"\x00"
        if type(val) is int:
            return (val & ((1 << 64) - 1)).to_bytes(8, "big")
        if isinstance(val, float):
            import struct

            return struct.pack(">d", val)
        raise EvalError(f"unsupported type: {type_name(val)}")


class GetSetter(Getter):
    """A path argument: readable, and writable with ``set(ctx, value)``."""

    __slots__ = ("set",)

    def __init__(self, get: ExprFunc, set: Callable[[Any, Any], None]) -> None:  # noqa: A002
        super().__init__(get)
        self.set = set


class FunctionRef:
    """A converter passed by name (``SHA256`` in ``replace_pattern``): ``call(ctx, value)``
    runs it with ``value`` as its first argument, as the reference's FunctionGetter does."""

    __slots__ = ("name", "call")

    def __init__(self, name: str, call: Callable[[Any, Any], Any]) -> None:
        self.name = name
        self.call = call


class LambdaArg:
    """A lambda argument: ``call(ctx, *values)`` binds the parameters and evaluates the body."""

    __slots__ = ("params", "call")

    def __init__(self, params: tuple[str, ...], call: Callable[..., Any]) -> None:
        self.params = params
        self.call = call


def _convert(val: Any, want: str) -> Any:
    """A Go map or slice as pdata; one holding what pdata cannot (span events) is the wrong
    type, as in the reference."""
    try:
        return to_pvalue(val)
    except TypeError:
        raise EvalError(_expected(want, val)) from None


def _expected(want: str, val: Any) -> str:
    return f"expected {want} but got {'nil' if val is None else type_name(val)}"


# -- conversions shared by the getters and the converters ------------------------------------


def go_float_to_int64(f: float) -> int:
    """Go's int64(f): truncation toward zero; NaN, infinities and values outside int64 give
    math.MinInt64, the amd64 result (the language leaves it to the platform)."""
    if math.isnan(f) or math.isinf(f) or not (-(2.0**63) <= f < 2.0**63):
        return -(1 << 63)
    return int(f)


def stringify(val: Any) -> str:
    """The reference's StringLikeGetter conversion of a non-nil value."""
    if isinstance(val, str):
        return val
    if isinstance(val, (TraceID, SpanID)):
        # Arrays, not []byte, in Go: JSON writes them as lists of numbers.
        return "[" + ",".join(str(b) for b in val) + "]"
    if isinstance(val, bytes):
        return val.hex()
    if isinstance(val, (PMap, PSlice, dict, list)):
        return go_json(as_raw(val))
    return go_json(val)


def go_json(value: Any) -> str:
    """JSON as Go's encoding/json (and jsoniter) writes it: compact, map keys sorted, floats in
    Go's shortest form, bytes as base64, HTML-sensitive characters escaped."""
    return _json_encode(value)


def _json_encode(value: Any) -> str:
    import base64

    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return go_format_float_json(value)
    if isinstance(value, str):
        return _json_string(value)
    if isinstance(value, (TraceID, SpanID)):
        return "[" + ",".join(str(b) for b in value) + "]"
    if isinstance(value, bytes):
        return _json_string(base64.b64encode(value).decode("ascii"))
    if isinstance(value, (PMap, dict)):
        items = sorted((str(k), v) for k, v in value.items())
        return "{" + ",".join(f"{_json_string(k)}:{_json_encode(v)}" for k, v in items) + "}"
    if isinstance(value, (PSlice, list, tuple)):
        return "[" + ",".join(_json_encode(v) for v in value) + "]"
    if isinstance(value, Duration):
        return str(value.ns)
    if isinstance(value, Time):
        return _json_string(str(value))
    raise EvalError(f"unsupported type: {type_name(value)}")


def _json_string(s: str) -> str:
    out = ['"']
    for ch in s:
        code = ord(ch)
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\t":
            out.append("\\t")
        elif code < 0x20 or ch in "<>&" or code in (0x2028, 0x2029):
            out.append(f"\\u{code:04x}")
        elif 0xD800 <= code <= 0xDFFF:
            out.append("\\ufffd")  # invalid UTF-8 is replaced, as Go's encoder does
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def go_format_float_json(f: float) -> str:
    """A float64 as Go's encoding/json writes it ('f' format, or 'e' for very large/small)."""
    if math.isnan(f) or math.isinf(f):
        raise EvalError(f"json: unsupported value: {f}")
    if f == 0:
        return "-0" if math.copysign(1.0, f) < 0 else "0"
    a = abs(f)
    if a < 1e-6 or a >= 1e21:
        text = repr(f)
        if "e" not in text:
            text = f"{f:e}"
        mantissa, exp = text.split("e")
        exp_i = int(exp)
        # Go writes at least two exponent digits, then encoding/json drops the leading zero
        # of a negative one: 1e+21, but 1e-7.
        if exp_i < 0:
            return f"{mantissa}e-{abs(exp_i)}"
        return f"{mantissa}e+{exp_i:02d}"
    text = repr(f)
    if "e" in text or "E" in text:
        text = format(f, "f")
        if "." in text:
            text = text.rstrip("0").rstrip(".")
    if text.endswith(".0"):
        text = text[:-2]
    return text


def parse_go_int(s: str) -> Optional[int]:
    """strconv.ParseInt(s, 10, 64): None when it fails (the IntLikeGetter's nil)."""
    body = s[1:] if s[:1] in "+-" else s
    if not body or not body.isascii() or not body.isdigit():
        return None
    value = int(s)
    if not -(1 << 63) <= value <= (1 << 63) - 1:
        return None
    return value


_GO_DECIMAL_FLOAT = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_GO_HEX_FLOAT = re.compile(r"[+-]?0[xX](?:[0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+)[pP][+-]?[0-9]+")
_GO_SPECIAL_FLOAT = re.compile(r"[+-]?(?:inf|infinity|nan)", re.IGNORECASE)


def parse_go_float(s: str) -> Optional[float]:
    """strconv.ParseFloat(s, 64), or None where Go fails (bad syntax, or out of range)."""
    if _GO_SPECIAL_FLOAT.fullmatch(s):
        return float(s)
    if _GO_DECIMAL_FLOAT.fullmatch(s):
        value = float(s)
    elif _GO_HEX_FLOAT.fullmatch(s):
        value = float.fromhex(s)
    else:
        return None
    return None if math.isinf(value) else value


def parse_go_bool(s: str) -> Optional[bool]:
    """strconv.ParseBool."""
    if s in ("1", "t", "T", "TRUE", "true", "True"):
        return True
    if s in ("0", "f", "F", "FALSE", "false", "False"):
        return False
    return None
