"""Type conversion and inspection converters (reference: pkg/ottl/ottlfuncs).

Bool, Double, Int, String, ParseInt, IsBool, IsDouble, IsInt, IsString, IsMap, IsList, IsEmpty,
Len, Hex, Keys, Values and Log.

The converting ones rest on the typed getters (``bool_like``, ``float_like``, ``int_like``,
``string_like``, ``bytes_like``): nil stays nil, what cannot be converted is nil or an error as
the reference's getter decides.
"""

from __future__ import annotations

import math
from typing import Any

from ottl.eval.errors import EvalError
from ottl.eval.funcs import Args, implements
from ottl.eval.funcs.strings import go_bytes, go_parse_int, go_sprintf
from ottl.eval.getters import ExprFunc
from ottl.eval.values import (
    Duration,
    PMap,
    PSlice,
    SpanID,
    Time,
    TraceID,
    deep_copy,
)

# --- conversions ---------------------------------------------------------------------------------


@implements("Bool")
def bool_(args: Args) -> ExprFunc:
    target = args["target"]

    def run(ctx: Any) -> Any:
        return target.bool_like(ctx)

    return run


@implements("Double")
def double(args: Args) -> ExprFunc:
    target = args["target"]

    def run(ctx: Any) -> Any:
        return target.float_like(ctx)

    return run


@implements("Int")
def int_(args: Args) -> ExprFunc:
    target = args["target"]

    def run(ctx: Any) -> Any:
        # int_like truncates floats as Go's int64() does, out-of-range ones included.
        return target.int_like(ctx)

    return run


@implements("String")
def string(args: Args) -> ExprFunc:
    target = args["target"]

    def run(ctx: Any) -> Any:
        return target.string_like(ctx)

    return run


@implements("ParseInt")
def parse_int(args: Args) -> ExprFunc:
    target, base = args["target"], args["base"]

    def run(ctx: Any) -> int:
        text = target.string(ctx)
        if text == "":
            raise EvalError("invalid target value for ParseInt function, target cannot be empty")
        base_val = base.int(ctx)
        if base_val < 0:
            raise EvalError(f"invalid base value: {base_val} for ParseInt function, base cannot be negative")
        result = go_parse_int(text, base_val)
        if isinstance(result, str):
            raise EvalError(result)
        return result

    return run


# --- type tests ----------------------------------------------------------------------------------


def _type_test(test):
    def factory(args: Args) -> ExprFunc:
        target = args["target"]

        def run(ctx: Any) -> bool:
            return test(target.get(ctx))

        return run

    return factory


implements("IsBool")(_type_test(lambda v: isinstance(v, bool)))
implements("IsDouble")(_type_test(lambda v: isinstance(v, float)))
implements("IsInt")(_type_test(lambda v: type(v) is int))
implements("IsString")(_type_test(lambda v: isinstance(v, str)))
implements("IsMap")(_type_test(lambda v: isinstance(v, (PMap, dict))))
implements("IsList")(_type_test(lambda v: isinstance(v, (PSlice, list))))


# The zero time.Time (January 1, year 1, 00:00:00 UTC) in nanoseconds since the Unix epoch.
_ZERO_TIME_NS = -62135596800 * 1_000_000_000


def is_empty_value(val: Any) -> bool:
    """The reference's IsEmpty: nil, an empty map/slice/bytes, or a Go zero value."""
    if val is None:
        return True
    if isinstance(val, (PMap, PSlice, dict, list, str, bytes)):
        # TraceID / SpanID are arrays: empty when all bytes are zero.
        if isinstance(val, (TraceID, SpanID)):
            return not any(val)
        return len(val) == 0
    if isinstance(val, bool):
        return not val
    if isinstance(val, int):
        return val == 0
    if isinstance(val, float):
        # reflect.Value.IsZero compares the bits: -0.0 and NaN are not zero.
        return val == 0 and math.copysign(1.0, val) > 0
    if isinstance(val, Duration):
        return val.ns == 0
    if isinstance(val, Time):
        return val.ns == _ZERO_TIME_NS and val.tz is None
    return False


@implements("IsEmpty")
def is_empty(args: Args) -> ExprFunc:
    target = args["target"]

    def run(ctx: Any) -> bool:
        return is_empty_value(target.get(ctx))

    return run


# --- Len, Hex, Keys, Values ----------------------------------------------------------------------

_LEN_TYPE_ERROR = (
    "target arg must be of type string, []any, map[string]any, pcommon.Map, pcommon.Slice, "
    "pcommon.Value (of type String, Map, Slice) or a supported slice type from the plog, "
    "pmetric or ptrace packages"
)


@implements("Len")
def len_(args: Args) -> ExprFunc:
    target = args["target"]

    def run(ctx: Any) -> int:
        val = target.get(ctx)
        if isinstance(val, str):
            # Go counts bytes.
            return len(val) if val.isascii() else len(go_bytes(val))
        if isinstance(val, (PMap, PSlice, dict, list)):
            return len(val)
        if isinstance(val, bytes) and not isinstance(val, (TraceID, SpanID)):
            # A []byte is a slice; the id types are arrays, which Len does not take.
            return len(val)
        raise EvalError(_LEN_TYPE_ERROR)

    return run


@implements("Hex")
def hex_(args: Args) -> ExprFunc:
    target = args["target"]

    def run(ctx: Any) -> Any:
        data = target.bytes_like(ctx)
        if data is None:
            return None
        return data.hex()

    return run


@implements("Keys")
def keys(args: Args) -> ExprFunc:
    target = args["target"]

    def run(ctx: Any) -> PSlice:
        return PSlice(target.pmap(ctx).keys())

    return run


@implements("Values")
def values(args: Args) -> ExprFunc:
    target = args["target"]

    def run(ctx: Any) -> PSlice:
        return PSlice(deep_copy(v) for v in target.pmap(ctx).values())

    return run


# --- Log -----------------------------------------------------------------------------------------


@implements("Log")
def log(args: Args) -> ExprFunc:
    target = args["target"]

    def run(ctx: Any) -> float:
        value = target.float_like(ctx)
        if value is None:
            raise EvalError("invalid input: <nil>")
        if value <= 0:
            raise EvalError(
                "invalid input: expected number greater than zero but got " + go_sprintf("%v", [value])
            )
        if math.isinf(value) or math.isnan(value):
            return value
        return math.log(value)

    return run
