"""Expression columns computed over whole columns at once (``Derived.expression``).

An expression column (``ottl.derive``) is computed by the reference once per distinct
combination of its parts, which for arithmetic over high-cardinality numbers (a duration in
milliseconds, a size in kilobytes) or keys into per-record maps (a structured log body) means
once per record. Two shapes are computed here over the parts' columns instead:

- a nested path alone (``log.body["level"]``, ``span.attributes["a"][0]``): the keys are
  followed into the value pool (``ottl._vm.follow_keys``), a map or list reached being its run;
- ``+``, ``-``, ``*``, ``/`` and negation over parts (nested paths among them) and numeric
  literals, computed with numpy by the reference's rules (pkg/ottl math.go, as
  ``ottl.eval.arith`` implements them): int64 with int64 wraps, and divides truncating toward
  zero; a double on either side makes both doubles.

- the difference of two of a record's times, compared with a constant duration
  (``span.end_time - span.start_time > Duration("1s")``) or converted by ``Nanoseconds``,
  ``Microseconds``, ``Milliseconds``, ``Seconds``, ``Minutes`` or ``Hours``, as
  ``ottl.eval.funcs.time`` computes them (truncating integer division; whole and remainder
  as doubles);
- two times (a record's, ``Now()``), each shifted by constant durations, compared
  (``log.time < Now() - Duration("24h")``): their difference against the shifts';
- an id compared with a constant id (``IsRootSpan()`` as a value): string ids compared.

- ``Len`` of the record's own whole attributes map: its entries, counted from the attributes'
  offsets where no record holds a key twice (the reference's map holds each key once, so a
  batch whose records may repeat a key is left to the reference); ``Len`` of a span's events
  or links, from their offsets.

Rows where the rules fail (a key or index that does not apply, division by zero) or where a part
is not a number are marked, and ``ottl.derive`` computes those (and reports their errors) the
reference's way. The most negative int divided by an int is marked too (rather than reproduce
its wrap here), as are times at or past 2**63 nanoseconds.
"""

from __future__ import annotations

from typing import Any, Callable, NamedTuple, Optional

import numpy as np

from ottl import _vm
from ottl._batch import TAG_BOOL, TAG_DOUBLE, TAG_INT
from ottl.compiler.opcodes import FIELDS, FLIPPED_OPS
from ottl.eval.errors import EvalError
from ottl.eval.funcs.time import format_unit, parse_go_duration
from ottl.eval.interpreter import row_index
from ottl.compiler.program import TAG_SPAN_ID, TAG_TRACE_ID
from ottl.eval.values import SpanID, TraceID
from ottl.resolved import RCall, RCompare, RList, RLiteral, RMath, RNeg

_INT64_MIN = np.iinfo(np.int64).min
# The tag of a part that is a record's time (its nanoseconds as the payload): no batch value
# has it; the reference gets a time.Time.
TAG_TIME = 12
# The same in the machine's zone (``Now()``, one value for the batch): Go's time.Local, which
# the reference's Now() gives and formatting shows.
TAG_LOCAL_TIME = 19
_TIME_TAGS = np.array([TAG_TIME, TAG_LOCAL_TIME], np.uint8)
# Converters of a duration: (whole units, as an int) or (as a double), by their unit in ns.
_DURATION_INTS = {"Nanoseconds": 1, "Microseconds": 1_000, "Milliseconds": 1_000_000}
_DURATION_FLOATS = {"Seconds": 10**9, "Minutes": 60 * 10**9, "Hours": 3600 * 10**9}
_NUMPY_COMPARE = {"==": np.equal, "!=": np.not_equal, "<": np.less, "<=": np.less_equal,
                  ">": np.greater, ">=": np.greater_equal}

Column = tuple[np.ndarray, np.ndarray]  # (tags, vals) as ottl._vm.column gives them
# (batch, parts) -> (tags, vals, left): the column, and the rows left to the reference
Plan = Callable[[Any, list[Column]], tuple[np.ndarray, np.ndarray, np.ndarray]]


class _Numbers(NamedTuple):
    is_float: np.ndarray  # bool per row
    ints: np.ndarray      # int64, meaningful where not is_float
    floats: np.ndarray    # float64, meaningful where is_float
    bad: np.ndarray       # bool per row: left to the reference

    def as_floats(self) -> np.ndarray:
        return np.where(self.is_float, self.floats, self.ints.astype(np.float64))


def vector_plan(node: Any) -> Optional[Plan]:
    """How to compute an expression over whole columns, or None when it is neither a nested
    path alone nor arithmetic over parts and numeric literals."""
    if row_index(node) is not None:
        return (lambda batch, parts: _follow(batch, node, parts)) \
            if node.keys and _literal_keys(node) else None
    if isinstance(node, RCompare) and _id_comparison(node) is not None:
        return _id_plan(node)
    if isinstance(node, (RCall, RCompare)):
        return _duration_plan(node)
    if not isinstance(node, (RMath, RNeg)) or not _arithmetic(node):
        return None

    def run(batch: Any, parts: list[Column]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        n = len(parts[0][0])
        with np.errstate(all="ignore"):
            out = _eval(node, batch, parts, n)
        tags = np.where(out.is_float, TAG_DOUBLE, TAG_INT).astype(np.uint8)
        vals = np.where(out.is_float, out.floats.view(np.int64), out.ints)
        return tags, vals, out.bad

    return run


def count_plan(spec: Any) -> Optional[Plan]:
    """A plan for a derived column (``ottl.compiler.program.Derived``) that is ``Len`` of the
    record's own whole attributes map, or of a span's events or links; None for any other."""
    call = spec.call
    if spec.editor or spec.expression or call.spec.name != "Len" or call.keys \
            or spec.leaves != ((0, None),) or len(spec.sources) != 1:
        return None
    source = spec.sources[0]
    if source[0] == "list":  # a span's events or links: counted from their offsets
        offsets = "event_off" if source[1] == "events" else "link_off"

        def count_list(batch: Any, parts: list[Column]
                       ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
            counts = np.diff(batch.column(offsets)).astype(np.int64)
            n = len(counts)
            return np.full(n, TAG_INT, np.uint8), counts, np.zeros(n, np.bool_)

        return count_list
    if source[0] != "field" or source[2:] != (None,) or FIELDS[source[1]].tag != "MAP" \
            or FIELDS[source[1]].signal == "*":
        return None

    def count(batch: Any, parts: list[Column]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        n = len(parts[0][0])
        if not batch.attribute_keys_unique:
            return np.zeros(n, np.uint8), np.zeros(n, np.int64), np.ones(n, np.bool_)
        counts = np.diff(batch.column("attr_off")).astype(np.int64)
        return np.full(n, TAG_INT, np.uint8), counts, np.zeros(n, np.bool_)

    return count


# Converters of a time whose value depends on it only down to a unit (ns), in UTC.
_TIME_UNITS = {"Year": 86400 * 10**9, "Month": 86400 * 10**9, "Day": 86400 * 10**9,
               "Weekday": 86400 * 10**9, "Hour": 3600 * 10**9, "Minute": 60 * 10**9,
               "Second": 10**9, "UnixSeconds": 10**9, "UnixMilli": 10**6, "UnixMicro": 10**3}


def time_units(node: Any, nparts: int) -> list[int]:
    """Per part of an expression, the unit (ns) its time may be floored to without changing
    the expression's value: every use of the part is the time of a converter that reads it
    only down to that unit (``Day``, ``Hour``, ``FormatTime`` with a constant format that shows
    nothing finer, ...); 1 where some use reads it whole. Flooring UTC times so makes a date's
    rendering one reference call per distinct day, not per distinct nanosecond."""
    units = [0] * nparts  # 0: unused so far

    def use(index: int, unit: int) -> None:
        units[index] = unit if not units[index] else min(units[index], unit)

    def walk(n: Any) -> None:
        index = row_index(n)
        if index is not None:
            use(index, 1)
            return
        if isinstance(n, RCall):
            args = [a.value for a in n.args if a is not None]
            first = row_index(args[0]) if args and not n.keys else None
            unit = _TIME_UNITS.get(n.spec.name)
            if n.spec.name == "FormatTime" and len(args) == 2 and isinstance(args[1], RLiteral) \
                    and isinstance(args[1].value, str):
                unit = format_unit(args[1].value)
            if first is not None and not args[0].keys and unit is not None:
                use(first, unit)
                args = args[1:]
            for a in args:
                walk(a)
        elif isinstance(n, (RMath, RCompare)):
            walk(n.left)
            walk(n.right)
        elif isinstance(n, RNeg):
            walk(n.operand)
        elif isinstance(n, RList):
            for item in n.items:
                walk(item)

    walk(node)
    return [unit or 1 for unit in units]


def floor_times(column: Column, unit: int) -> Column:
    """A time part's column with its UTC times below 2**63 ns floored to ``unit``."""
    tags, vals = column
    floored = (tags == TAG_TIME) & (vals >= 0)
    return tags, np.where(floored, vals // unit * unit, vals)


def _duration_plan(node: Any) -> Optional[Plan]:
    """A plan for a converter of, or a comparison of a constant duration with, the difference
    of two times (parts); None for anything else."""
    if isinstance(node, RCall):
        name = node.spec.name
        if name not in _DURATION_INTS and name not in _DURATION_FLOATS or node.keys \
                or len(node.args) != 1 or node.args[0] is None:
            return None
        diff = _time_difference(node.args[0].value)
        if diff is None:
            return None
        unit = _DURATION_INTS.get(name) or _DURATION_FLOATS[name]

        def convert(batch: Any, parts: list[Column]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
            d, left = _differences(parts, *diff)
            whole = _truncated(d, unit)
            if name in _DURATION_INTS:
                return np.full(len(d), TAG_INT, np.uint8), whole, left
            rest = d - whole * unit
            value = whole.astype(np.float64) + rest.astype(np.float64) / float(unit)
            return np.full(len(d), TAG_DOUBLE, np.uint8), value.view(np.int64), left

        return convert
    op, a, b = node.op, node.left, node.right
    ta, tb = _time_offset(a), _time_offset(b)
    if ta is not None and tb is not None:  # (a + da) op (b + db): (a - b) op (db - da)
        diff, limit = (ta[0], tb[0]), tb[1] - ta[1]
    else:
        if _time_difference(a) is None:
            op, a, b = FLIPPED_OPS[op], b, a
        diff, limit = _time_difference(a), _constant_duration(b)
    if diff is None or limit is None or not -(2**63) <= limit < 2**63:
        return None

    def compare(batch: Any, parts: list[Column]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        d, left = _differences(parts, *diff)
        held = _NUMPY_COMPARE[op](d, limit)
        return np.full(len(d), TAG_BOOL, np.uint8), held.astype(np.int64), left

    return compare


def _time_difference(node: Any) -> Optional[tuple[int, int]]:
    """The parts of ``a - b`` where both are parameters (the times, checked per row)."""
    if isinstance(node, RMath) and node.op == "-":
        a, b = row_index(node.left), row_index(node.right)
        if a is not None and b is not None and not node.left.keys and not node.right.keys:
            return a, b
    return None


def _id_comparison(node: RCompare) -> Optional[tuple[int, Any]]:
    """(the part, the id) of ``part == id`` or ``part != id`` with a constant TraceID or SpanID
    (``IsRootSpan()`` as a value); None for anything else."""
    if node.op not in ("==", "!="):
        return None
    for a, b in ((node.left, node.right), (node.right, node.left)):
        index = row_index(a)
        if index is not None and not a.keys and isinstance(b, RLiteral) \
                and type(b.value) in (TraceID, SpanID):
            return index, b.value
    return None


def _id_plan(node: RCompare) -> Plan:
    """An id part compared with a constant id: equal ids are equal string ids of the batch.
    Rows holding anything but an id of that type are left to the reference."""
    found = _id_comparison(node)
    assert found is not None
    index, value = found
    tag = TAG_TRACE_ID if type(value) is TraceID else TAG_SPAN_ID

    def compare(batch: Any, parts: list[Column]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        tags, vals = parts[index]
        held = vals == _vm.intern(batch, bytes(value))
        if node.op == "!=":
            held = ~held
        return np.full(len(tags), TAG_BOOL, np.uint8), held.astype(np.int64), tags != tag

    return compare


def _time_offset(node: Any) -> Optional[tuple[int, int]]:
    """(the part, the nanoseconds added) of a time parameter alone, or plus or minus a constant
    duration (``span.start_time``, ``Now() - Duration("1h")``); None for anything else."""
    index = row_index(node)
    if index is not None:
        return None if node.keys else (index, 0)
    if not isinstance(node, RMath) or node.op not in ("+", "-"):
        return None
    # (a duration plus a time fails in the reference: only the time on the left is taken)
    inner, d = _time_offset(node.left), _constant_duration(node.right)
    if inner is None or d is None:
        return None
    return inner[0], inner[1] + (d if node.op == "+" else -d)


def _constant_duration(node: Any) -> Optional[int]:
    """The nanoseconds of ``Duration("...")`` of a literal (None for anything else)."""
    if not (isinstance(node, RCall) and node.spec.name == "Duration" and not node.keys
            and len(node.args) == 1 and node.args[0] is not None
            and isinstance(node.args[0].value, RLiteral)
            and isinstance(node.args[0].value.value, str)):
        return None
    try:
        return parse_go_duration(node.args[0].value.value)
    except EvalError:
        return None


def _differences(parts: list[Column], a: int, b: int) -> tuple[np.ndarray, np.ndarray]:
    """Per row the nanoseconds between two time parts, and the rows left to the reference: a
    part that is not a time, or a time at or past 2**63 ns (an int64's bits turned negative)."""
    (ta, va), (tb, vb) = parts[a], parts[b]
    left = ~np.isin(ta, _TIME_TAGS) | ~np.isin(tb, _TIME_TAGS) | (va < 0) | (vb < 0)
    return np.where(left, 0, va - vb), left


def _truncated(d: np.ndarray, unit: int) -> np.ndarray:
    """d / unit truncated toward zero, as Go divides."""
    q = np.floor_divide(d, unit)
    return q + ((q * unit != d) & (d < 0))


def _arithmetic(node: Any) -> bool:
    if isinstance(node, RMath):
        return _arithmetic(node.left) and _arithmetic(node.right)
    if isinstance(node, RNeg):
        return _arithmetic(node.operand)
    if isinstance(node, RLiteral):
        return type(node.value) in (int, float)
    return row_index(node) is not None and _literal_keys(node)


def _literal_keys(param: Any) -> bool:
    """Whether a part's keys are all literals (a key read from the record is another part,
    which only the reference follows)."""
    return all(isinstance(k, RLiteral) for k in param.keys)


def _follow(batch: Any, param: Any, parts: list[Column]) -> tuple[np.ndarray, np.ndarray,
                                                                  np.ndarray]:
    tags, vals = parts[row_index(param)]  # type: ignore[index]
    return _vm.follow_keys(batch, tags, vals, [k.value for k in param.keys])


def _eval(node: Any, batch: Any, parts: list[Column], n: int) -> _Numbers:
    if isinstance(node, RLiteral):
        is_float = type(node.value) is float
        return _Numbers(np.full(n, is_float), np.full(n, 0 if is_float else node.value, np.int64),
                        np.full(n, node.value if is_float else 0.0, np.float64),
                        np.zeros(n, np.bool_))
    if isinstance(node, RNeg):
        inner = _eval(node.operand, batch, parts, n)
        return inner._replace(ints=np.negative(inner.ints), floats=np.negative(inner.floats))
    if isinstance(node, RMath):
        left, right = _eval(node.left, batch, parts, n), _eval(node.right, batch, parts, n)
        return _math(node.op, left, right)
    if node.keys:
        tags, vals, left = _follow(batch, node, parts)
    else:
        (tags, vals), left = parts[row_index(node)], False  # type: ignore[index]
    is_float = tags == TAG_DOUBLE
    return _Numbers(is_float, vals, vals.view(np.float64), ~(is_float | (tags == TAG_INT)) | left)


def _math(op: str, a: _Numbers, b: _Numbers) -> _Numbers:
    is_float = a.is_float | b.is_float
    bad = a.bad | b.bad
    x, y = a.as_floats(), b.as_floats()
    i, j = a.ints, b.ints
    if op == "+":
        return _Numbers(is_float, i + j, x + y, bad)
    if op == "-":
        return _Numbers(is_float, i - j, x - y, bad)
    if op == "*":
        return _Numbers(is_float, i * j, x * y, bad)
    # "/": by zero fails (ints and doubles alike); the most negative int is left out
    bad = bad | np.where(is_float, y == 0, (j == 0) | (i == _INT64_MIN))
    divisor = np.where(~is_float & (j != 0), j, 1)
    q = np.floor_divide(i, divisor)
    q = q + ((q * divisor != i) & ((i < 0) != (divisor < 0)))  # floor -> toward zero
    return _Numbers(is_float, q, x / np.where(y == 0, 1.0, y), bad)
