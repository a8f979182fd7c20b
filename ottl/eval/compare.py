"""Comparison of two values, by the reference's rules (pkg/ottl compare.go).

Mismatched types never raise: they are unequal, and every ordering between them is false.
Numbers compare across int64 and float64 (as float64); strings, bytes and ids compare bytewise;
maps and slices compare deeply for equality only; nil equals only nil (and an empty byte slice).
"""

from __future__ import annotations

import math
from typing import Any

from ottl.eval.values import Duration, PMap, PSlice, Time, as_raw

OPS = ("==", "!=", "<", "<=", ">", ">=")


def compare(op: str, left: Any, right: Any) -> bool:
    if op == "==":
        return _equal(left, right)
    if op == "!=":
        return not _equal(left, right)
    order = _order(left, right)
    if order is None:
        return False
    if order is _NIL_PAIR:
        return op in ("<=", ">=")
    if op == "<":
        return order < 0
    if op == "<=":
        return order <= 0
    if op == ">":
        return order > 0
    if op == ">=":
        return order >= 0
    raise ValueError(f"unknown comparison operator {op!r}")


_NIL_PAIR = object()


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _equal(a: Any, b: Any) -> bool:
    if a is None or b is None:
        if a is None and b is None:
            return True
        other = b if a is None else a
        return isinstance(other, bytes) and len(other) == 0
    if _is_number(a) and _is_number(b):
        if isinstance(a, float) or isinstance(b, float):
            return float(a) == float(b)
        return a == b
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, str) or isinstance(b, str):
        return isinstance(a, str) and isinstance(b, str) and a == b
    if isinstance(a, bytes) or isinstance(b, bytes):
        return isinstance(a, bytes) and isinstance(b, bytes) and type(a) is type(b) and a == b
    if isinstance(a, Time) or isinstance(b, Time):
        return isinstance(a, Time) and isinstance(b, Time) and a.ns == b.ns
    if isinstance(a, Duration) or isinstance(b, Duration):
        return isinstance(a, Duration) and isinstance(b, Duration) and a.ns == b.ns
    if isinstance(a, (PMap, dict)) and isinstance(b, (PMap, dict)):
        return _deep_equal(as_raw(a), as_raw(b))
    if isinstance(a, (PSlice, list)) and isinstance(b, (PSlice, list)):
        return _deep_equal(as_raw(a), as_raw(b))
    return False


def _deep_equal(a: Any, b: Any) -> bool:
    """reflect.DeepEqual over raw values: types must match exactly (1 is not 1.0)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_deep_equal(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_deep_equal(x, y) for x, y in zip(a, b))
    if isinstance(a, float) and math.isnan(a):
        return False
    return a == b


def _order(a: Any, b: Any) -> Any:
    """-1, 0 or 1; ``_NIL_PAIR`` for nil against nil; None when the two do not order."""
    if a is None and b is None:
        return _NIL_PAIR
    if a is None or b is None:
        return None
    if _is_number(a) and _is_number(b):
        if isinstance(a, float) or isinstance(b, float):
            x, y = float(a), float(b)
            if math.isnan(x) or math.isnan(y):
                return None
        else:
            x, y = a, b
        return (x > y) - (x < y)
    if isinstance(a, bool) and isinstance(b, bool):
        return (a > b) - (a < b)
    if isinstance(a, str) and isinstance(b, str):
        x8, y8 = a.encode("utf-8", "surrogatepass"), b.encode("utf-8", "surrogatepass")
        return (x8 > y8) - (x8 < y8)
    if isinstance(a, bytes) and isinstance(b, bytes) and type(a) is type(b):
        return (a > b) - (a < b)
    if isinstance(a, Time) and isinstance(b, Time):
        return (a.ns > b.ns) - (a.ns < b.ns)
    if isinstance(a, Duration) and isinstance(b, Duration):
        return (a.ns > b.ns) - (a.ns < b.ns)
    return None
