"""The type conversion and inspection converters, against the reference's tests
(pkg/ottl/ottlfuncs/func_*_test.go), the README examples and Go's behaviour at the edges.
"""

from __future__ import annotations

import math

import pytest

from ottl.eval.errors import EvalError
from ottl.eval.funcs import IMPLEMENTATIONS, load_all
from ottl.eval.getters import Getter
from ottl.eval.values import INT64_MIN, Duration, PMap, PSlice, SpanID, Time, TraceID

load_all()

_ZERO_TIME_NS = -62135596800 * 1_000_000_000


def call(name, *values, **named):
    """Run a converter whose parameters are all getters, given Python values."""
    from ottl.functions import lookup

    spec = lookup(name)
    args = {p.name: None for p in spec.params}
    for p, v in zip(spec.params, values):
        args[p.name] = v if isinstance(v, Getter) else Getter.constant(v)
    for k, v in named.items():
        args[k] = v if isinstance(v, Getter) else Getter.constant(v)
    return IMPLEMENTATIONS[name](args)(None)


def raises(name, *values, match=None):
    with pytest.raises(EvalError, match=match):
        call(name, *values)


# --- Bool, Double, Int, String ------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, expected",
    [
        ("true", True),
        ("false", False),
        ("TRUE", True),
        ("FALSE", False),
        ("True", True),
        ("False", False),
        ("t", True),
        ("f", False),
        ("T", True),
        ("F", False),
        ("1", True),
        ("0", False),
        (5, True),
        (0, False),
        (-1, True),
        (2.7, True),
        (0.0, False),
        (True, True),
        (False, False),
        (None, None),
    ],
)
def test_bool(value, expected):
    assert call("Bool", value) is expected


@pytest.mark.parametrize("value", ["TrUe", "FaLsE", "6", "", "test", [], PMap(), b"\x01"])
def test_bool_errors(value):
    raises("Bool", value)


@pytest.mark.parametrize(
    "value, expected",
    [
        ("50", 50.0),
        ("2.0", 2.0),
        ("-1e3", -1000.0),
        (".5", 0.5),
        ("0x1p-2", 0.25),
        (333, 333.0),
        (2.7, 2.7),
        (55.0, 55.0),
        (True, 1.0),
        (False, 0.0),
        (None, None),
    ],
)
def test_double(value, expected):
    result = call("Double", value)
    assert result == expected and type(result) is type(expected)


def test_double_special_strings():
    assert math.isinf(call("Double", "inf"))
    assert math.isnan(call("Double", "NaN"))


@pytest.mark.parametrize("value", ["", "test", "1_000", "1e400", PMap(), [1]])
def test_double_errors(value):
    raises("Double", value)


@pytest.mark.parametrize(
    "value, expected",
    [
        ("50", 50),
        ("-7", -7),
        ("+7", 7),
        ("", None),
        ("test", None),
        ("2.0", None),  # README: Int("2.0") is nil
        (" 1", None),
        ("9223372036854775808", None),
        ("0x10", None),
        (333, 333),
        (2.7, 2),
        (-2.7, -2),
        (55.0, 55),
        (True, 1),
        (False, 0),
        (None, None),
        (1e20, INT64_MIN),  # out of range: what amd64 gives
        (math.nan, INT64_MIN),
        (-math.inf, INT64_MIN),
    ],
)
def test_int(value, expected):
    result = call("Int", value)
    assert result == expected and type(result) is type(expected)


@pytest.mark.parametrize("value", [PMap(), [1], b"\x01"])
def test_int_errors(value):
    raises("Int", value, match="unsupported type")


@pytest.mark.parametrize(
    "value, expected",
    [
        ("test", "test"),
        ("", ""),
        ("333", "333"),
        (333, "333"),
        (2.7, "2.7"),
        (55.0, "55"),
        (True, "true"),
        (False, "false"),
        (None, None),
        (b"\x7b", "7b"),
        ({"1": True, "2": False}, '{"1":true,"2":false}'),
        ([1, 2, 3], "[1,2,3]"),
        (PMap({"b": 1, "a": "<&>"}), '{"a":"\\u003c\\u0026\\u003e","b":1}'),
        (PSlice(["x", None, 1.5]), '["x",null,1.5]'),
        ("héllo", "héllo"),
    ],
)
def test_string(value, expected):
    assert call("String", value) == expected


# --- ParseInt -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "target, base, expected",
    [
        ("123456789", 10, 123456789),
        ("01010101", 2, 85),
        ("AF", 16, 175),
        ("0XAF", 0, 175),
        ("-0b11", 0, -3),
        ("0o777", 0, 511),
        ("0777", 0, 511),
        ("1_000_000", 0, 1_000_000),
        ("z", 36, 35),
        ("-9223372036854775808", 10, -(1 << 63)),
    ],
)
def test_parse_int(target, base, expected):
    assert call("ParseInt", target, base) == expected


@pytest.mark.parametrize(
    "target, base, message",
    [
        ("18446744073709551615", 10, 'strconv.ParseInt: parsing "18446744073709551615": value out of range'),
        ("test", 10, 'strconv.ParseInt: parsing "test": invalid syntax'),
        ("", 10, "invalid target value for ParseInt function, target cannot be empty"),
        ("12345", -10, "invalid base value: -10 for ParseInt function, base cannot be negative"),
        ("12", 1, "invalid base 1"),
        ("12", 37, "invalid base 37"),
        ("1_0", 10, "invalid syntax"),
        ("19", 8, "invalid syntax"),
        (None, 10, "expected string but got nil"),
        (12, 10, "expected string but got int64"),
        ("12", None, "expected int64 but got nil"),
        ("12", "10", "expected int64 but got string"),
    ],
)
def test_parse_int_errors(target, base, message):
    raises("ParseInt", target, base, match=message)


def test_parse_int_empty_target_is_checked_before_base():
    raises("ParseInt", "", None, match="target cannot be empty")


# --- type tests ---------------------------------------------------------------------------------

_SAMPLES = {
    "bool": True,
    "false": False,
    "int": 42,
    "zero": 0,
    "float": 4.2,
    "str": "a",
    "empty_str": "",
    "bytes": b"\x01",
    "pmap": PMap({"k": "v"}),
    "dict": {"k": "v"},
    "pslice": PSlice([1]),
    "list": [1],
    "nil": None,
    "time": Time(0),
    "duration": Duration(1),
    "trace_id": TraceID(bytes(16)),
}

_TRUE_FOR = {
    "IsBool": {"bool", "false"},
    "IsInt": {"int", "zero"},
    "IsDouble": {"float"},
    "IsString": {"str", "empty_str"},
    "IsMap": {"pmap", "dict"},
    "IsList": {"pslice", "list"},
}


@pytest.mark.parametrize("name", sorted(_TRUE_FOR))
@pytest.mark.parametrize("sample", sorted(_SAMPLES))
def test_type_tests(name, sample):
    assert call(name, _SAMPLES[sample]) is (sample in _TRUE_FOR[name])


def test_type_tests_pass_getter_errors():
    def boom(_ctx):
        raise EvalError("error getting value")

    for name in _TRUE_FOR:
        with pytest.raises(EvalError, match="error getting value"):
            call(name, Getter(boom))


# --- IsEmpty ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, expected",
    [
        (None, True),
        ("", True),
        ("hello", False),
        (0, True),
        (1, False),
        (0.0, True),
        (1.5, False),
        (-0.0, False),  # reflect's IsZero looks at the bits
        (math.nan, False),
        (False, True),
        (True, False),
        (PMap(), True),
        (PMap({"k": "v"}), False),
        (PSlice(), True),
        (PSlice(["v"]), False),
        ([], True),
        (["v"], False),
        ({}, True),
        ({"k": "v"}, False),
        (b"", True),
        (b"v", False),
        (TraceID(), True),
        (TraceID(bytes(range(1, 17))), False),
        (SpanID(), True),
        (SpanID(bytes(range(1, 9))), False),
        (Duration(0), True),
        (Duration(1), False),
        (Time(0), False),
        (Time(_ZERO_TIME_NS), True),
    ],
)
def test_is_empty(value, expected):
    assert call("IsEmpty", value) is expected


# --- Len ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, expected",
    [
        ("hello", 5),
        ("", 0),
        ("héllo", 6),  # bytes, as Go counts
        ("一二三", 9),
        ("a\udcff", 2),
        (PSlice([1, 2, 3]), 3),
        ([1, 2], 2),
        ([], 0),
        (PMap({"a": 1, "b": 2}), 2),
        ({"a": 1}, 1),
        (b"\x00\x01\x02", 3),
    ],
)
def test_len(value, expected):
    assert call("Len", value) == expected


@pytest.mark.parametrize("value", [None, 1, 1.5, True, TraceID(), SpanID(), Time(0), Duration(5)])
def test_len_errors(value):
    raises("Len", value, match="target arg must be of type string")


# --- Hex ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, expected",
    [
        (12, "000000000000000c"),
        (-1, "ffffffffffffffff"),
        (1.1, "3ff199999999999a"),
        (2.0, "4000000000000000"),
        ("1", "31"),
        ("", ""),
        (True, "01"),
        (False, "00"),
        (b"\x02", "02"),
        (None, None),
    ],
)
def test_hex(value, expected):
    assert call("Hex", value) == expected


def test_hex_errors():
    raises("Hex", PMap({"hi": "hi"}), match="unsupported type: pcommon.Map")
    raises("Hex", [1], match="unsupported type")


# --- Keys and Values ----------------------------------------------------------------------------


def test_keys_and_values():
    target = PMap({"a": 1, "b": PSlice([1]), "c": PMap({"x": "y"}), "d": None})
    keys = call("Keys", target)
    assert isinstance(keys, PSlice) and keys == ["a", "b", "c", "d"]
    values = call("Values", target)
    assert isinstance(values, PSlice)
    assert values == [1, PSlice([1]), PMap({"x": "y"}), None]
    # the values are copies
    values[1].append(2)
    assert target["b"] == [1]
    assert call("Keys", PMap()) == PSlice()
    assert call("Values", {"k": "v"}) == ["v"]


@pytest.mark.parametrize("name", ["Keys", "Values"])
def test_keys_values_errors(name):
    raises(name, None, match="expected pcommon.Map but got nil")
    raises(name, "x", match="expected pcommon.Map but got string")
    raises(name, [1], match="expected pcommon.Map but got")


# --- Log ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, expected",
    [
        ("50", math.log(50)),
        (333, math.log(333)),
        (2.7, math.log(2.7)),
        (55.0, math.log(55)),
        (True, 0.0),
        (math.e, 1.0),
    ],
)
def test_log(value, expected):
    assert call("Log", value) == expected


def test_log_infinity_and_nan():
    assert call("Log", math.inf) == math.inf
    assert math.isnan(call("Log", math.nan))


@pytest.mark.parametrize(
    "value, message",
    [
        ("test", "invalid"),
        (False, "invalid input: expected number greater than zero but got 0"),
        (0.0, "greater than zero"),
        (-30.3, "invalid input: expected number greater than zero but got -30.3"),
        (-1e21, "got -1e\\+21"),
        (None, "invalid input: <nil>"),
        (PMap(), "unsupported"),
    ],
)
def test_log_errors(value, message):
    raises("Log", value, match=message)
