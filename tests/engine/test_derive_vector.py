"""Expression columns computed over whole columns (ottl.derive_vector) against the reference,
row by row: every row the plan computes must equal the reference's value (same type, same
bits), and every row the reference fails on must be one the plan leaves to it. Arithmetic here;
keys into nested values in test_nested_keys.py."""

from __future__ import annotations

import math
import struct

import numpy as np
import pytest
from engine_strategies import DOUBLES, INTS
from hypothesis import given, settings
from hypothesis import strategies as st

from ottl import _vm
from ottl._batch import TAG_BOOL, TAG_DOUBLE, TAG_INT, TAG_NONE, TAG_STRING
from ottl.derive_vector import (
    _TIME_UNITS,
    TAG_LOCAL_TIME,
    TAG_TIME,
    floor_times,
    time_units,
    vector_plan,
)
from ottl.eval.arith import arithmetic, negate
from ottl.eval.errors import EvalError
from ottl.eval.funcs.time import format_unit, parse_go_duration
from ottl.eval.interpreter import compile_expression_of, row_param
from ottl.eval.values import Time
from ottl.lang.ast import Span
from ottl.resolved import RArg, RCall, RCompare, RList, RLiteral, RMath, RNeg
from ottl.frontend import resolve_condition

SPAN = Span(0, 0)
NPARTS = 3


def _bits(d: float) -> int:
    return struct.unpack("<q", struct.pack("<d", d))[0]


# a part's value per row: a number, or something arithmetic refuses (nil, a bool, a string)
values = st.one_of(st.sampled_from(INTS), st.integers(-5, 5), st.sampled_from(DOUBLES),
                   st.sampled_from([None, True, "s"]))


def _trees():
    leaf = st.one_of(st.integers(0, NPARTS - 1).map(lambda i: row_param(i, (), SPAN)),
                     st.sampled_from([0, 1, -1, 2, 3, 2**62, 0.0, -0.0, 0.5, 1e300])
                     .map(lambda v: RLiteral(v, SPAN)))
    return st.recursive(leaf, lambda inner: st.one_of(
        st.builds(lambda op, a, b: RMath(op, a, b, SPAN), st.sampled_from("+-*/"), inner, inner),
        inner.map(lambda a: RNeg(a, SPAN))), max_leaves=5).filter(
            lambda tree: isinstance(tree, (RMath, RNeg)))  # an expression is never a bare leaf


def _reference(node, row):
    if isinstance(node, RLiteral):
        return node.value
    if isinstance(node, RNeg):
        return negate(_reference(node.operand, row))
    if isinstance(node, RMath):
        return arithmetic(node.op, _reference(node.left, row), _reference(node.right, row))
    return row[int(node.name[-1])]


def _column(vals: list) -> tuple[np.ndarray, np.ndarray]:
    tags, payload = [], []
    for v in vals:
        if v is None:
            tags.append(TAG_NONE), payload.append(0)
        elif isinstance(v, bool):
            tags.append(TAG_BOOL), payload.append(int(v))
        elif isinstance(v, str):
            tags.append(TAG_STRING), payload.append(7)
        elif isinstance(v, float):
            tags.append(TAG_DOUBLE), payload.append(_bits(v))
        else:
            tags.append(TAG_INT), payload.append(v)
    return np.array(tags, np.uint8), np.array(payload, np.int64)


@settings(max_examples=300, deadline=None)
@given(tree=_trees(), rows=st.lists(st.tuples(*[values] * NPARTS), min_size=1, max_size=20))
def test_numpy_arithmetic_equals_the_reference(tree, rows):
    plan = vector_plan(tree)
    assert plan is not None
    parts = [_column([r[i] for r in rows]) for i in range(NPARTS)]
    tags, vals, left = plan(None, parts)
    for k, row in enumerate(rows):
        try:
            expected = _reference(tree, row)
        except EvalError:
            assert left[k], (row, "the reference fails here")
            continue
        if left[k]:
            continue  # the reference computes it (the most negative int divided)
        if type(expected) is float:
            assert tags[k] == TAG_DOUBLE and vals[k] == _bits(expected), (row, expected)
        else:
            assert tags[k] == TAG_INT and int(vals[k]) == expected, (row, expected)


def test_only_the_most_negative_int_divided_is_left_without_failing():
    """The plan leaves to the reference what fails, what is not a number, and the one
    division it does not reproduce; it computes everything else."""
    tree = RMath("/", row_param(0, (), SPAN), row_param(1, (), SPAN), SPAN)
    rows = [(7, 2), (-7, 2), (7, -2), (-(2**63), -1), (-(2**63), 2), (1, 0), (1.0, 0),
            (1.0, -0.0), (math.inf, 2), (None, 1), ("s", 1), (3, 0.5)]
    parts = [_column([r[i] for r in rows]) for i in range(2)]
    tags, vals, left = vector_plan(tree)(None, parts)
    assert left.tolist() == [False, False, False, True, True, True, True, True, False, True, True,
                             False]
    assert [int(v) for v in vals[:3]] == [3, -3, -3]  # truncated toward zero, as Go does
    assert vals[11] == _bits(6.0) and tags[11] == TAG_DOUBLE


@pytest.mark.parametrize("tree", [
    row_param(0, (), SPAN),
    RMath("+", row_param(0, (), SPAN), RLiteral("s", SPAN), SPAN),
    RMath("+", row_param(0, (), SPAN), RLiteral(None, SPAN), SPAN),
])
def test_what_is_not_plain_arithmetic_has_no_plan(tree):
    assert vector_plan(tree) is None


DURATION_UNITS = ["Nanoseconds", "Microseconds", "Milliseconds", "Seconds", "Minutes", "Hours"]
# times below 2**63 ns, and two past it (left to the reference)
nanos = st.one_of(st.integers(0, 2**63 - 1), st.sampled_from([0, 1, 999, 10**9, 2**62]),
                  st.sampled_from([2**63, 2**64 - 1]))


@settings(max_examples=200, deadline=None)
@given(pairs=st.lists(st.tuples(nanos, nanos), min_size=1, max_size=12),
       unit=st.sampled_from(DURATION_UNITS),
       op=st.sampled_from(["==", "!=", "<", "<=", ">", ">="]),
       limit=st.sampled_from(["0s", "1ns", "-1us", "1.5h", "2m", "-3000ms"]))
def test_durations_between_times_equal_the_reference(pairs, unit, op, limit):
    """A converter of, or a comparison with a constant duration of, the difference of two
    times: the reference's values (by its own functions), rows past 2**63 ns left to it."""
    convert = resolve_condition(f"{unit}(span.end_time - span.start_time) != nil", "span")
    compare = resolve_condition(f"span.end_time - span.start_time {op} Duration(\"{limit}\")",
                                "span")
    diff = RMath("-", row_param(0, (), SPAN), row_param(1, (), SPAN), SPAN)
    call = convert.expr.left
    converter = RCall(call.spec, (RArg(call.args[0].param, diff, SPAN),), (), SPAN)
    comparison = RCompare(op, diff, compare.expr.right, SPAN)
    parts = [(np.full(len(pairs), TAG_TIME, np.uint8),
              np.array([p[i] for p in pairs], np.uint64).view(np.int64)) for i in range(2)]
    for node in (converter, comparison):
        tags, vals, left = vector_plan(node)(None, parts)
        evaluate = compile_expression_of(node, 2, "x")
        for k, (end, start) in enumerate(pairs):
            if end >= 2**63 or start >= 2**63:
                assert left[k]
                continue
            assert not left[k]
            expected = evaluate(Time(end), Time(start))
            got = {TAG_INT: int(vals[k]), TAG_BOOL: bool(vals[k]),
                   TAG_DOUBLE: float(vals[k:k + 1].view(np.float64)[0])}[int(tags[k])]
            assert type(got) is type(expected) and got == expected, (node, end, start)


DURATIONS = ["0s", "1ns", "-1us", "1.5h", "2m", "-3000ms", "2562047h"]


@settings(max_examples=200, deadline=None)
@given(pairs=st.lists(st.tuples(nanos, nanos), min_size=1, max_size=12),
       op=st.sampled_from(["==", "!=", "<", "<=", ">", ">="]),
       shifts=st.tuples(*[st.lists(st.tuples(st.sampled_from("+-"), st.sampled_from(DURATIONS)),
                                   max_size=2)] * 2))
def test_times_shifted_by_constant_durations_compare_as_the_reference(pairs, op, shifts):
    """``a ± Duration(...) op b ± Duration(...)`` of two time parts (a record's time, Now()):
    the reference's comparison of the shifted times, rows past 2**63 ns left to it."""
    def shifted(index, steps):
        node = row_param(index, (), SPAN)
        for sign, text in steps:
            duration = resolve_condition(f'Duration("{text}") != nil', "span").expr.left
            node = RMath(sign, node, duration, SPAN)
        return node

    comparison = RCompare(op, shifted(0, shifts[0]), shifted(1, shifts[1]), SPAN)
    plan = vector_plan(comparison)
    offsets = [sum(parse_go_duration(t) * (1 if sign == "+" else -1) for sign, t in steps)
               for steps in shifts]
    if not -(2**63) <= offsets[1] - offsets[0] < 2**63:
        assert plan is None  # past int64: left to the reference
        return
    assert plan is not None
    parts = [(np.array([TAG_TIME, TAG_LOCAL_TIME][i:i + 1] * len(pairs), np.uint8),
              np.array([p[i] for p in pairs], np.uint64).view(np.int64)) for i in range(2)]
    tags, vals, left = plan(None, parts)
    evaluate = compile_expression_of(comparison, 2, "x")
    for k, (a, b) in enumerate(pairs):
        if a >= 2**63 or b >= 2**63:
            assert left[k]
            continue
        assert not left[k] and tags[k] == TAG_BOOL
        assert bool(vals[k]) == evaluate(Time(a), Time(b)), (comparison, a, b)


FORMATS = ["%Y-%m-%d", "%H:%M", "%Y %p", "PM %d", "%S", "%L", "%Y-%m-%dT%H:%M:%S.%f", "%Z %z",
           "%c", "pm", "%j", "%b %e %a", "%r", "%T", "%Y%m%d%H", "%s.%Y"]


@settings(max_examples=200, deadline=None)
@given(times=st.lists(nanos.filter(lambda t: t < 2**63), min_size=1, max_size=8),
       fmt=st.sampled_from(FORMATS),
       unit_fn=st.sampled_from(sorted(_TIME_UNITS)))
def test_flooring_a_time_to_its_unit_keeps_the_value(times, fmt, unit_fn):
    """What time_units floors a part to changes nothing the reference computes from it."""
    text = f'Concat([FormatTime(span.start_time, "{fmt}"), String({unit_fn}(span.end_time))], "")'
    call = resolve_condition(f"{text} != nil", "span").expr.left

    def parametrized(n):
        if getattr(n, "spec", None) is not None and n.spec.name in ("start_time", "end_time"):
            return row_param(0 if n.spec.name == "start_time" else 1, (), SPAN)
        if isinstance(n, RCall):
            return RCall(n.spec, tuple(None if a is None else RArg(a.param, parametrized(a.value),
                                                                   a.span) for a in n.args),
                         n.keys, n.span)
        if isinstance(n, RList):
            return RList(tuple(parametrized(i) for i in n.items), n.span)
        return n

    node = parametrized(call)
    units = time_units(node, 2)
    assert units == [format_unit(fmt), _TIME_UNITS[unit_fn]]
    evaluate = compile_expression_of(node, 2, text)
    for t in times:
        parts = [(np.array([TAG_TIME], np.uint8), np.array([t], np.int64))] * 2
        floored = [int(floor_times(p, u)[1][0]) for p, u in zip(parts, units)]
        assert evaluate(Time(floored[0]), Time(floored[1])) == evaluate(Time(t), Time(t)), (
            fmt, unit_fn, t, units)


def test_a_time_read_whole_is_not_floored():
    call = resolve_condition('FormatTime(span.start_time, "%Y") == "x"', "span").expr
    node = RCompare("==", RCall(call.left.spec, (RArg(call.left.args[0].param,
                                                       row_param(0, (), SPAN), SPAN),
                                                  call.left.args[1]), (), SPAN),
                    row_param(0, (), SPAN), SPAN)  # and the time itself, compared
    assert time_units(node, 1) == [1]
    late = (np.array([TAG_TIME, TAG_TIME], np.uint8), np.array([-5, 10**12 + 7], np.int64))
    assert floor_times(late, 10**9)[1].tolist() == [-5, 10**12]  # past 2**63: left whole


def test_an_id_compared_with_a_constant_id():
    """``part == SpanID(...)``: string ids compared; a row holding no span id is left to the
    reference (an id never equals another type there)."""
    from ottl._batch import decode_traces
    from ottl.compiler.program import TAG_SPAN_ID
    from ottl.eval.values import SpanID
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
        ExportTraceServiceRequest,
    )

    batch = decode_traces(ExportTraceServiceRequest().SerializeToString())
    zero, other = (_vm.intern(batch, bytes(8)), _vm.intern(batch, b"\x01" * 8))
    parts = [(np.array([TAG_SPAN_ID, TAG_SPAN_ID, TAG_STRING], np.uint8),
              np.array([zero, other, zero], np.int64))]
    for op, expected in (("==", [1, 0]), ("!=", [0, 1])):
        node = RCompare(op, row_param(0, (), SPAN), RLiteral(SpanID(bytes(8)), SPAN), SPAN)
        tags, vals, left = vector_plan(node)(batch, parts)
        assert left.tolist() == [False, False, True]
        assert tags[:2].tolist() == [TAG_BOOL] * 2 and vals[:2].tolist() == expected
