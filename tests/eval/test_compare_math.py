"""The comparison table and the math rules of the reference (compare.go, math.go)."""

from __future__ import annotations

import math

import pytest

from ottl.eval.arith import arithmetic, negate
from ottl.eval.compare import compare
from ottl.eval.errors import EvalError
from ottl.eval.values import Duration, PMap, PSlice, Time

OPS = ("==", "!=", "<", "<=", ">", ">=")


def table(a, b):
    return tuple(compare(op, a, b) for op in OPS)


#            ==     !=     <      <=     >      >=
EQUAL = (True, False, False, True, False, True)
LESS = (False, True, True, True, False, False)
GREATER = (False, True, False, False, True, True)
UNRELATED = (False, True, False, False, False, False)


@pytest.mark.parametrize(
    "a, b, expected",
    [
        (None, None, EQUAL),
        (None, "x", UNRELATED),
        ("x", None, UNRELATED),
        (None, b"", (True, False, False, False, False, False)),
        (1, 1, EQUAL),
        (1, 2, LESS),
        (2, 1.5, GREATER),
        (1, 1.0, EQUAL),
        (1.5, 1.5, EQUAL),
        (math.nan, math.nan, (False, True, False, False, False, False)),
        ("a", "b", LESS),
        ("é", "z", GREATER),  # bytewise: 0xC3 > 'z'
        (False, True, LESS),
        (True, True, EQUAL),
        (b"\x01", b"\x02", LESS),
        (Time(5), Time(5), EQUAL),
        (Time(4), Time(5), LESS),
        (Duration(7), Duration(3), GREATER),
        (PMap({"a": 1}), {"a": 1}, UNRELATED[:0] + (True, False, False, False, False, False)),
        (PMap({"a": 1}), PMap({"a": 2}), UNRELATED),
        (PSlice([1, "x"]), [1, "x"], (True, False, False, False, False, False)),
        (PSlice([1, 2]), [2, 1], UNRELATED),
        ("1", 1, UNRELATED),
        (True, 1, UNRELATED),
        ("x", b"x", UNRELATED),
        (1, Duration(1), UNRELATED),
    ],
)
def test_comparison_table(a, b, expected):
    assert table(a, b) == expected


@pytest.mark.parametrize(
    "op, a, b, expected",
    [
        ("+", 2, 3, 5),
        ("-", 2, 3, -1),
        ("*", 4, 3, 12),
        ("/", 7, 2, 3),
        ("/", -7, 2, -3),  # truncation toward zero, as Go
        ("+", 2**63 - 1, 1, -(2**63)),  # int64 wraps
        ("+", 1.5, 2, 3.5),
        ("/", 1, 2.0, 0.5),
        ("-", Time(10), Time(4), Duration(6)),
        ("+", Time(10), Duration(5), Time(15)),
        ("-", Time(10), Duration(5), Time(5)),
        ("+", Duration(1), Duration(2), Duration(3)),
    ],
)
def test_math(op, a, b, expected):
    assert arithmetic(op, a, b) == expected


@pytest.mark.parametrize(
    "op, a, b, fragment",
    [
        ("/", 1, 0, "divide by 0"),
        ("/", 1.0, 0.0, "divide by 0"),
        ("+", None, 1, "nil"),
        ("+", "a", "b", "unsupported"),
        ("*", Time(1), Duration(1), "unsupported"),
        ("+", Time(1), Time(1), "unsupported"),
        ("+", True, 1, "unsupported"),
    ],
)
def test_math_errors(op, a, b, fragment):
    with pytest.raises(EvalError, match=fragment):
        arithmetic(op, a, b)


def test_negation():
    assert negate(5) == -5
    assert negate(-(2**63)) == -(2**63)
    assert negate(1.5) == -1.5
    assert negate(Duration(3)) == Duration(-3)
    with pytest.raises(EvalError):
        negate("x")
