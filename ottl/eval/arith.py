"""Math expressions, by the reference's rules (pkg/ottl math.go)."""

from __future__ import annotations

from typing import Any

from ottl.eval.errors import EvalError
from ottl.eval.values import Duration, Time, to_int64, type_name


def arithmetic(op: str, left: Any, right: Any) -> Any:
    if left is None or right is None:
        raise EvalError("cannot perform math with nil operands")
    if isinstance(left, bool) or isinstance(right, bool):
        raise EvalError(f"unsupported type for math: {type_name(left if isinstance(left, bool) else right)}")
    if type(left) is int and type(right) is int:
        return _ints(op, left, right)
    if isinstance(left, (int, float)) and isinstance(right, (int, float)):
        # Mixed int64 and float64: the int is promoted (newer math.go).
        return _floats(op, float(left), float(right))
    if isinstance(left, Time):
        return _time(op, left, right)
    if isinstance(left, Duration):
        return _duration(op, left, right)
    raise EvalError(f"unsupported type for math: {type_name(left)} {op} {type_name(right)}")


def negate(value: Any) -> Any:
    if type(value) is int:
        return to_int64(-value)
    if isinstance(value, float):
        return -value
    if isinstance(value, Duration):
        return Duration(-value.ns)
    raise EvalError(f"unsupported type for negation: {type_name(value)}")


def _ints(op: str, a: int, b: int) -> int:
    if op == "+":
        return to_int64(a + b)
    if op == "-":
        return to_int64(a - b)
    if op == "*":
        return to_int64(a * b)
    if b == 0:
        raise EvalError("attempted to divide by 0")
    # Go truncates toward zero; Python's // floors.
    q = abs(a) // abs(b)
    return to_int64(q if (a >= 0) == (b >= 0) else -q)


def _floats(op: str, a: float, b: float) -> float:
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    if op == "*":
        return a * b
    if b == 0:
        raise EvalError("attempted to divide by 0")
    return a / b


def _time(op: str, a: Time, b: Any) -> Any:
    if isinstance(b, Time) and op == "-":
        return Duration(a.ns - b.ns)
    if isinstance(b, Duration) and op in ("+", "-"):
        return Time(a.ns + b.ns if op == "+" else a.ns - b.ns, a.tz)
    raise EvalError(f"unsupported operation for time: time.Time {op} {type_name(b)}")


def _duration(op: str, a: Duration, b: Any) -> Any:
    if isinstance(b, Duration) and op in ("+", "-"):
        return Duration(a.ns + b.ns if op == "+" else a.ns - b.ns)
    raise EvalError(f"unsupported operation for duration: time.Duration {op} {type_name(b)}")
