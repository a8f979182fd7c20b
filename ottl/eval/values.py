"""The values OTTL computes with, mirroring the Go types of the reference.

| Go (reference)            | Python here                          |
|---------------------------|--------------------------------------|
| nil, an Empty pcommon value | ``None``                           |
| string                    | ``str``                              |
| int64                     | ``int`` (never ``bool``; wrapped to 64 bits by ``to_int64``) |
| float64                   | ``float``                            |
| bool                      | ``bool``                             |
| []byte, a Bytes value     | ``bytes``                            |
| pcommon.Map               | ``PMap`` (ordered, mutable, shared by reference) |
| pcommon.Slice             | ``PSlice`` (mutable, shared by reference) |
| map[string]any            | ``dict``                             |
| []any, []string, []int64... | ``list``                           |
| pcommon.TraceID / SpanID  | ``TraceID`` / ``SpanID`` (fixed-size ``bytes`` subclasses) |
| pprofile.ProfileID        | ``ProfileID`` (a ``TraceID`` subclass)  |
| time.Time                 | ``Time`` (nanoseconds since the epoch and a zone) |
| time.Duration             | ``Duration`` (nanoseconds)           |

A ``PMap`` or ``PSlice`` holds only *pdata values*: ``None``, ``str``, ``int``, ``float``,
``bool``, ``bytes``, ``PMap``, ``PSlice``. ``to_pvalue`` turns any value into one (as pcommon's
``FromRaw`` does); ``type_name`` names a value as Go's ``%T`` would, for error messages.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from typing import Any, ItemsView, Iterator, KeysView, MutableMapping, Optional, ValuesView

from ottl.eval.errors import EvalError

INT64_MIN = -(1 << 63)
INT64_MAX = (1 << 63) - 1


def to_int64(value: int) -> int:
    """Wrap to a signed 64-bit integer, as Go's int64 arithmetic does on overflow."""
    value &= (1 << 64) - 1
    return value - (1 << 64) if value > INT64_MAX else value


def is_int(value: object) -> bool:
    return type(value) is int


class PMap(MutableMapping[str, Any]):
    """pcommon.Map: string keys in insertion order, pdata values."""

    __slots__ = ("_d",)

    def __init__(self, items: Optional[dict] = None) -> None:
        self._d: dict[str, Any] = {}
        if items:
            for k, v in items.items():
                self._d[k] = to_pvalue(v)

    def __getitem__(self, key: str) -> Any:
        return self._d[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self._d[key] = value

    def __delitem__(self, key: str) -> None:
        del self._d[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._d)

    def __len__(self) -> int:
        return len(self._d)

    # The dict's own views: the mixins' would call __getitem__ once per entry.
    def keys(self) -> KeysView[str]:
        return self._d.keys()

    def values(self) -> ValuesView[Any]:
        return self._d.values()

    def items(self) -> ItemsView[str, Any]:
        return self._d.items()

    def __repr__(self) -> str:
        return f"PMap({self._d!r})"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, PMap):
            return self._d == other._d
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def put(self, key: str, value: Any) -> None:
        """Set ``key`` to ``value`` converted to a pdata value (pcommon's Put*)."""
        self._d[key] = to_pvalue(value)

    def copy(self) -> "PMap":
        return PMap({k: deep_copy(v) for k, v in self._d.items()})

    def as_raw(self) -> dict:
        """map[string]any, as pcommon.Map.AsRaw()."""
        return {k: as_raw(v) for k, v in self._d.items()}


class PSlice(list):
    """pcommon.Slice: a list of pdata values."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"PSlice({list.__repr__(self)})"

    def copy(self) -> "PSlice":  # type: ignore[override]
        return PSlice(deep_copy(v) for v in self)

    def as_raw(self) -> list:
        return [as_raw(v) for v in self]


class TraceID(bytes):
    """pcommon.TraceID: exactly 16 bytes; all zero means empty."""

    def __new__(cls, value: bytes = b"\x00" * 16) -> "TraceID":
        if len(value) != 16:
            raise ValueError(f"a trace id has 16 bytes, got {len(value)}")
        return super().__new__(cls, value)

    def is_empty(self) -> bool:
        return not any(self)


class ProfileID(TraceID):
    """pprofile.ProfileID: 16 bytes like a trace id (and, like it, a Go byte array), but a type
    of its own: it compares unequal to a TraceID and is not a trace id to the trace_id path."""


class SpanID(bytes):
    """pcommon.SpanID: exactly 8 bytes; all zero means empty."""

    def __new__(cls, value: bytes = b"\x00" * 8) -> "SpanID":
        if len(value) != 8:
            raise ValueError(f"a span id has 8 bytes, got {len(value)}")
        return super().__new__(cls, value)

    def is_empty(self) -> bool:
        return not any(self)


@dataclass(frozen=True)
class Duration:
    """time.Duration: signed nanoseconds."""

    ns: int

    def __post_init__(self) -> None:
        object.__setattr__(self, "ns", to_int64(self.ns))


@dataclass(frozen=True)
class Time:
    """time.Time with nanosecond precision: ``ns`` since the Unix epoch (UTC) and the zone the
    value is shown in (``None`` means UTC)."""

    ns: int
    tz: Optional[_dt.tzinfo] = None

    def __eq__(self, other: object) -> bool:
        # Go's Time.Equal: the same instant, whatever the zone.
        return isinstance(other, Time) and self.ns == other.ns

    def __hash__(self) -> int:
        return hash(self.ns)

    def __str__(self) -> str:
        """Go's Time.String(): ``2006-01-02 15:04:05.999999999 -0700 MST``."""
        from ottl.eval.funcs.time import go_time_string

        return go_time_string(self)

    def to_datetime(self) -> _dt.datetime:
        """The instant as an aware datetime in its zone (microseconds; ``ns`` keeps the rest)."""
        seconds, rest = divmod(self.ns, 1_000_000_000)
        base = _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc) + _dt.timedelta(
            seconds=seconds, microseconds=rest // 1000
        )
        return base.astimezone(self.tz or _dt.timezone.utc)

    @property
    def nanosecond(self) -> int:
        """Nanoseconds within the second (Go's Time.Nanosecond)."""
        return self.ns % 1_000_000_000


class UnstorableValue(EvalError, TypeError):
    """A value pdata cannot hold (a span event, a Python object): a runtime error where a
    statement meets it, and a TypeError to code that converts values itself."""


def to_pvalue(value: Any) -> Any:
    """Any value as a pdata value (pcommon ``FromRaw``); maps and slices are converted deeply."""
    if value is None or isinstance(value, (str, bool, float, PMap, PSlice)):
        return value
    if isinstance(value, int):
        return to_int64(value)
    if isinstance(value, (TraceID, SpanID)):
        return bytes(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    if isinstance(value, dict):
        m = PMap()
        for k, v in value.items():
            m[str(k)] = to_pvalue(v)
        return m
    if isinstance(value, (list, tuple)):
        return PSlice(to_pvalue(v) for v in value)
    if isinstance(value, (Time, Duration)):
        # pcommon's FromRaw has no such type: it stores this placeholder text.
        return f"<Invalid value type {type_name(value)}>"
    raise UnstorableValue(f"cannot store a {type_name(value)} in a pdata value")


def deep_copy(value: Any) -> Any:
    if isinstance(value, (PMap, PSlice)):
        return value.copy()
    if isinstance(value, dict):
        return {k: deep_copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [deep_copy(v) for v in value]
    return value


def as_raw(value: Any) -> Any:
    """A pdata value as Go's raw form (AsRaw): maps to dict, slices to list."""
    if isinstance(value, (PMap, PSlice)):
        return value.as_raw()
    return value


def type_name(value: Any) -> str:
    """The Go ``%T`` name of a value, for messages that follow the reference's wording."""
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int64"
    if isinstance(value, float):
        return "float64"
    if isinstance(value, str):
        return "string"
    if isinstance(value, ProfileID):
        return "pprofile.ProfileID"
    if isinstance(value, TraceID):
        return "pcommon.TraceID"
    if isinstance(value, SpanID):
        return "pcommon.SpanID"
    if isinstance(value, bytes):
        return "[]uint8"
    if isinstance(value, PMap):
        return "pcommon.Map"
    if isinstance(value, PSlice):
        return "pcommon.Slice"
    if isinstance(value, dict):
        return "map[string]interface {}"
    if isinstance(value, list):
        return "[]interface {}"
    if isinstance(value, Time):
        return "time.Time"
    if isinstance(value, Duration):
        return "time.Duration"
    return type(value).__name__
