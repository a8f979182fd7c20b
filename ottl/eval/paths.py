"""Reading and writing the paths of each context, with the reference's rules.

``accessor(owner, spec)`` gives ``(get, set)`` for one path of a context (``owner`` is the context
whose table holds the path: a span statement reads ``resource.attributes`` through the resource
accessor). Setters follow the reference's: a value of the wrong type is ignored where the
reference ignores it, and is an error where the reference returns one (a bad hex id string).
``keyed(get, set, keys)`` adds ``[...]`` navigation into maps and slices.
"""

from __future__ import annotations

import copy
import re
from typing import Any, Callable, Optional

from ottl.eval.errors import EvalError
from ottl.eval.gotext import pvalue_as_string as as_string
from ottl.eval.model import SpanEvent, SpanLink, Status, TransformContext
from ottl.eval.values import (
    Duration,
    PMap,
    PSlice,
    SpanID,
    Time,
    TraceID,
    deep_copy,
    to_pvalue,
    type_name,
)

Get = Callable[[TransformContext], Any]
Set = Callable[[TransformContext, Any], None]

SPAN_KIND_WORDS = ("Unspecified", "Internal", "Server", "Client", "Producer", "Consumer")
SPAN_KIND_SYMBOLS = tuple(
    f"SPAN_KIND_{w.upper()}" for w in SPAN_KIND_WORDS
)


# -- the object that holds a context's fields ---------------------------------------------------


def _holder(owner: str) -> Callable[[TransformContext], Any]:
    if owner == "span":
        return lambda ctx: ctx.span
    if owner == "spanevent":
        return lambda ctx: ctx.event
    if owner == "log":
        return lambda ctx: ctx.log
    if owner == "resource":
        return lambda ctx: ctx.resource.resource
    if owner == "scope":
        return lambda ctx: ctx.scope.scope  # type: ignore[union-attr]
    raise EvalError(f"the {owner} context cannot be evaluated by this engine")


def _wrapper(owner: str) -> Callable[[TransformContext], Any]:
    """Where a resource's or scope's schema URL lives: the ResourceX / ScopeX wrapper."""
    if owner == "resource":
        return lambda ctx: ctx.resource
    return lambda ctx: ctx.scope


def accessor(owner: str, name: str) -> tuple[Get, Optional[Set]]:
    """``(get, set)`` for the path ``name`` of context ``owner``; set is None if read-only."""
    if name == "cache":
        return (lambda ctx: ctx.cache), _set_cache
    if name == "schema_url":
        w = _wrapper(owner)
        return (lambda ctx: w(ctx).schema_url), _typed_setter(w, "schema_url", str)
    hold = _holder(owner)
    special = _SPECIAL.get((owner, name)) or _SPECIAL.get(("*", name))
    if special is not None:
        return special(hold)
    if name in _MAP_FIELDS:
        return _map_field(hold, name)
    field_type = _FIELD_TYPES.get(name)
    if field_type is None:
        raise EvalError(f"path {owner}.{name} cannot be evaluated by this engine")
    if name in _TIMESTAMPS:
        # pdata timestamps are uint64; the reference reads them as int64 (AsTime().UnixNano()),
        # so one past 2^63 - 1 reads negative.
        return (lambda ctx: _as_int64(getattr(hold(ctx), name))), _typed_setter(hold, name, int)
    return (lambda ctx: getattr(hold(ctx), name)), _typed_setter(hold, name, field_type)


_TIMESTAMPS = frozenset({"start_time_unix_nano", "end_time_unix_nano", "time_unix_nano",
                         "observed_time_unix_nano"})


def _as_int64(n: int) -> int:
    return n - (1 << 64) if n >= 1 << 63 else n


def _typed_setter(hold: Callable, attr: str, kind: type) -> Set:
    width = _FIELD_WIDTHS.get(attr)

    def set_(ctx: TransformContext, val: Any) -> None:
        # As in the reference, a value of another type is ignored.
        if kind is int and type(val) is int:
            setattr(hold(ctx), attr, width(val) if width else val)
        elif kind is str and isinstance(val, str):
            setattr(hold(ctx), attr, val)

    return set_


def _int32(n: int) -> int:
    n &= 0xFFFFFFFF
    return n - (1 << 32) if n >= 1 << 31 else n


def _uint32(n: int) -> int:
    return n & 0xFFFFFFFF


def _uint64(n: int) -> int:
    return n & 0xFFFFFFFFFFFFFFFF


# The protobuf width of each integer field: Go converts an int64 into it when setting.
_FIELD_WIDTHS: dict[str, Callable[[int], int]] = {
    "kind": _int32,
    "severity_number": _int32,
    "flags": _uint32,
    "dropped_attributes_count": _uint32,
    "dropped_events_count": _uint32,
    "dropped_links_count": _uint32,
    "start_time_unix_nano": _uint64,
    "end_time_unix_nano": _uint64,
    "time_unix_nano": _uint64,
    "observed_time_unix_nano": _uint64,
}


def _set_cache(ctx: TransformContext, val: Any) -> None:
    if isinstance(val, (PMap, dict)):
        ctx.cache = to_pvalue(deep_copy(val))


def _map_field(hold: Callable, attr: str) -> tuple[Get, Set]:
    def set_(ctx: TransformContext, val: Any) -> None:
        if isinstance(val, (PMap, dict)):
            setattr(hold(ctx), attr, to_pvalue(deep_copy(val)))

    return (lambda ctx: getattr(hold(ctx), attr)), set_


_MAP_FIELDS = {"attributes"}
_FIELD_TYPES: dict[str, type] = {
    "name": str,
    "version": str,
    "dropped_attributes_count": int,
    "dropped_events_count": int,
    "dropped_links_count": int,
    "kind": int,
    "start_time_unix_nano": int,
    "end_time_unix_nano": int,
    "time_unix_nano": int,
    "observed_time_unix_nano": int,
    "severity_number": int,
    "severity_text": str,
    "flags": int,
    "event_name": str,
    "trace_state": str,
}


# -- special paths ----------------------------------------------------------------------------


def _id_paths(attr: str, cls: type) -> Callable:
    def make(hold: Callable) -> tuple[Get, Set]:
        def set_(ctx: TransformContext, val: Any) -> None:
            if type(val) is cls:  # a ProfileID is not a TraceID, as in Go
                setattr(hold(ctx), attr, val)

        return (lambda ctx: getattr(hold(ctx), attr)), set_

    return make


def _id_string_paths(attr: str, cls: type, size: int) -> Callable:
    def make(hold: Callable) -> tuple[Get, Set]:
        def get(ctx: TransformContext) -> str:
            value = getattr(hold(ctx), attr)
            return "" if not any(value) else bytes(value).hex()

        def set_(ctx: TransformContext, val: Any) -> None:
            if not isinstance(val, str):
                return
            setattr(hold(ctx), attr, cls(parse_hex_id(val, size)))

        return get, set_

    return make


def parse_hex_id(text: str, size: int) -> bytes:
    """A trace id (16 bytes) or span id (8 bytes) from hex, as the reference's ParseXID."""
    if len(text) != size * 2:
        raise EvalError(f"{'trace' if size == 16 else 'span'} ids must be {size * 2} hex characters")
    try:
        return bytes.fromhex(text)
    except ValueError:
        raise EvalError(f"invalid hex id {text!r}") from None


def _time_paths(attr: str) -> Callable:
    def make(hold: Callable) -> tuple[Get, Set]:
        def set_(ctx: TransformContext, val: Any) -> None:
            if isinstance(val, Time):
                setattr(hold(ctx), attr, _uint64(val.ns))

        return (lambda ctx: Time(getattr(hold(ctx), attr))), set_

    return make


def _kind_string(hold: Callable) -> tuple[Get, Set]:
    def get(ctx: TransformContext) -> str:
        kind = hold(ctx).kind
        return SPAN_KIND_WORDS[kind] if 0 <= kind < len(SPAN_KIND_WORDS) else ""

    def set_(ctx: TransformContext, val: Any) -> None:
        if isinstance(val, str):
            if val not in SPAN_KIND_WORDS:
                raise EvalError(f"unknown span kind string, {val}")
            hold(ctx).kind = SPAN_KIND_WORDS.index(val)

    return get, set_


def _kind_deprecated_string(hold: Callable) -> tuple[Get, Set]:
    def get(ctx: TransformContext) -> str:
        kind = hold(ctx).kind
        return SPAN_KIND_SYMBOLS[kind] if 0 <= kind < len(SPAN_KIND_SYMBOLS) else ""

    def set_(ctx: TransformContext, val: Any) -> None:
        if isinstance(val, str):
            if val not in SPAN_KIND_SYMBOLS:
                raise EvalError(f"unknown span kind deprecated string, {val}")
            hold(ctx).kind = SPAN_KIND_SYMBOLS.index(val)

    return get, set_


def _status(hold: Callable) -> tuple[Get, Set]:
    def set_(ctx: TransformContext, val: Any) -> None:
        if isinstance(val, Status):
            hold(ctx).status = Status(val.code, val.message)

    return (lambda ctx: hold(ctx).status), set_


def _status_code(hold: Callable) -> tuple[Get, Set]:
    def set_(ctx: TransformContext, val: Any) -> None:
        if type(val) is int:
            hold(ctx).status.code = _int32(val)

    return (lambda ctx: hold(ctx).status.code), set_


def _status_message(hold: Callable) -> tuple[Get, Set]:
    def set_(ctx: TransformContext, val: Any) -> None:
        if isinstance(val, str):
            hold(ctx).status.message = val

    return (lambda ctx: hold(ctx).status.message), set_


def _record_list(attr: str, cls: type) -> Callable:
    def make(hold: Callable) -> tuple[Get, Set]:
        def set_(ctx: TransformContext, val: Any) -> None:
            if isinstance(val, list) and all(isinstance(v, cls) for v in val):
                setattr(hold(ctx), attr, copy.deepcopy(val))

        return (lambda ctx: getattr(hold(ctx), attr)), set_

    return make


def _event_index(hold: Callable) -> tuple[Get, Optional[Set]]:
    return (lambda ctx: ctx.event_index), None


def _body(hold: Callable) -> tuple[Get, Set]:
    def set_(ctx: TransformContext, val: Any) -> None:
        stored = store_value(val)
        if stored is not _UNSTORABLE:
            hold(ctx).body = stored

    return (lambda ctx: hold(ctx).body), set_


def _body_string(hold: Callable) -> tuple[Get, Set]:
    def set_(ctx: TransformContext, val: Any) -> None:
        if isinstance(val, str):
            hold(ctx).body = val

    return (lambda ctx: as_string(hold(ctx).body)), set_


_SPECIAL: dict[tuple[str, str], Callable] = {
    ("*", "trace_id"): _id_paths("trace_id", TraceID),
    ("*", "span_id"): _id_paths("span_id", SpanID),
    ("*", "parent_span_id"): _id_paths("parent_span_id", SpanID),
    ("*", "trace_id.string"): _id_string_paths("trace_id", TraceID, 16),
    ("*", "span_id.string"): _id_string_paths("span_id", SpanID, 8),
    ("*", "parent_span_id.string"): _id_string_paths("parent_span_id", SpanID, 8),
    ("*", "start_time"): _time_paths("start_time_unix_nano"),
    ("*", "end_time"): _time_paths("end_time_unix_nano"),
    ("*", "time"): _time_paths("time_unix_nano"),
    ("*", "observed_time"): _time_paths("observed_time_unix_nano"),
    ("span", "kind.string"): _kind_string,
    ("span", "kind.deprecated_string"): _kind_deprecated_string,
    ("span", "status"): _status,
    ("span", "status.code"): _status_code,
    ("span", "status.message"): _status_message,
    ("span", "events"): _record_list("events", SpanEvent),
    ("span", "links"): _record_list("links", SpanLink),
    ("spanevent", "event_index"): _event_index,
    ("log", "body"): _body,
    ("log", "body.string"): _body_string,
}


# -- storing values into pdata, and pcommon's AsString -------------------------------------------


_UNSTORABLE = object()
UNSTORABLE = _UNSTORABLE  # what store_value gives for a value pdata cannot hold


def store_value(val: Any) -> Any:
    """A value as pcommon's SetValue stores it: a deep copy in pdata form. Types SetValue does
    not know (times, durations) leave the destination as it is (``_UNSTORABLE``)."""
    if isinstance(val, (TraceID, SpanID)):
        return bytes(val)
    if isinstance(val, (Time, Duration)):
        return _UNSTORABLE
    try:
        return to_pvalue(deep_copy(val))
    except TypeError:
        return _UNSTORABLE


# -- keys ---------------------------------------------------------------------------------------

KeyFn = Callable[[TransformContext], Any]


class LiteralKey:
    """A key written as a string or int literal (``["a"]``, ``[0]``). The reference takes
    literal keys as they are and only evaluates expression keys, so a literal of the wrong kind
    fails differently from an expression of the wrong type."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def __call__(self, ctx: TransformContext) -> Any:
        return self.value


def _const(value: Any) -> KeyFn:
    return LiteralKey(value)


def pdata_or_empty(val: Any) -> Any:
    """``store_value``, with what pdata cannot hold stored as the empty value."""
    stored = store_value(val)
    return None if stored is _UNSTORABLE else stored


def _key_value(ctx: TransformContext, key: KeyFn) -> Any:
    k = key(ctx)
    if isinstance(k, str) or type(k) is int:
        return k
    raise EvalError(f"invalid key type: {type_name(k)}; a key must be a string or an int64")


def pdata_type(value: Any) -> str:
    """pcommon.ValueType's name for a pdata value (as the reference's messages print it)."""
    if value is None:
        return "Empty"
    if isinstance(value, bool):
        return "Bool"
    if isinstance(value, int):
        return "Int"
    if isinstance(value, float):
        return "Double"
    if isinstance(value, str):
        return "Str"
    if isinstance(value, bytes):
        return "Bytes"
    if isinstance(value, (PMap, dict)):
        return "Map"
    if isinstance(value, (PSlice, list)):
        return "Slice"
    return type_name(value)


def _key_error(key: KeyFn, k: Any, expected: str) -> EvalError:
    """ctxutil's error for a key of the wrong kind: a literal has no expression to evaluate
    ("invalid key type"); an expression's result must have the expected Go type."""
    what = "a string index in map" if expected == "string" else "an integer index in slice"
    if isinstance(key, LiteralKey):
        reason = "invalid key type"
    else:
        reason = (f"could not resolve key for map/slice, expecting '{expected}' "
                  f"but got '{type_name(k)}'")
    return EvalError(f"unable to resolve {what}: {reason}")


def _map_key(ctx: TransformContext, key: KeyFn) -> str:
    k = key(ctx)
    if not isinstance(k, str):
        raise _key_error(key, k, "string")
    return k


def _slice_index(ctx: TransformContext, key: KeyFn, length: int) -> int:
    k = key(ctx)
    if type(k) is not int:
        raise _key_error(key, k, "int64")
    if not 0 <= k < length:
        raise EvalError(f"index {k} out of bounds")
    return k


def read_keys(value: Any, keys: list[KeyFn], ctx: TransformContext) -> Any:
    """Follow keys into a value (ctxutil getIndexableValue): a missing map key reads as nil."""
    for key in keys:
        if isinstance(value, (PMap, dict)):
            name = _map_key(ctx, key)
            if name not in value:
                return None
            value = value[name]
        elif isinstance(value, (PSlice, list)):
            value = value[_slice_index(ctx, key, len(value))]
        else:
            raise EvalError(f"type {pdata_type(value)} does not support string indexing")
    return value


def write_keys(root: Any, keys: list[KeyFn], val: Any, ctx: TransformContext) -> None:
    """Write through keys (ctxutil SetMapValue / SetIndexableValue): a missing map key is
    created empty; an empty value becomes a map for a string key, or for an int key a slice
    padded with empty values up to the index."""
    container, slot = root, None
    for key in keys:
        current = container if slot is None else container[slot]
        if isinstance(current, PMap):
            name = _map_key(ctx, key)
            if name not in current:
                current[name] = None
            container, slot = current, name
        elif isinstance(current, PSlice):
            container, slot = current, _slice_index(ctx, key, len(current))
        elif current is None and slot is not None:
            k = key(ctx)
            if not isinstance(k, str) and type(k) is not int:
                raise EvalError("neither a string nor an int index was given, this is an error "
                                "in the OTTL")
            if isinstance(k, str):
                fresh = PMap()
                fresh[k] = None
            else:
                fresh = PSlice([None] * (k + 1)) if k >= 0 else PSlice([None])
                k = len(fresh) - 1
            container[slot] = fresh
            container, slot = fresh, k
        else:
            raise EvalError(f"type {pdata_type(current)} does not support string indexing")
    assert slot is not None
    stored = store_value(val)
    existing = container[slot]
    if isinstance(stored, PMap) and isinstance(existing, PMap) or (
        isinstance(stored, PSlice) and isinstance(existing, PSlice)
    ):
        # pcommon copies into the existing map or slice (its identity is kept).
        existing.clear()
        existing.update(stored) if isinstance(existing, PMap) else existing.extend(stored)
    elif stored is not _UNSTORABLE:
        container[slot] = stored


def keyed(get: Get, set_: Optional[Set], keys: list[KeyFn], owner: str, name: str
          ) -> tuple[Get, Optional[Set]]:
    """A path followed by keys: read into its value, or write into it."""
    if (owner, name) == ("span", "trace_state"):
        return _trace_state_member(get, set_, keys)

    def kget(ctx: TransformContext) -> Any:
        return read_keys(get(ctx), keys, ctx)

    def kset(ctx: TransformContext, val: Any) -> None:
        base = get(ctx)
        if name == "body":
            # The body is a value, not a container: write through a one-entry holder so that
            # an empty body becomes a map or a padded slice exactly as an empty attribute does.
            holder = PMap()
            holder["body"] = base
            write_keys(holder, [_const("body"), *keys], val, ctx)
            assert set_ is not None
            if holder["body"] is not base:
                set_(ctx, holder["body"])
            return
        write_keys(base, keys, val, ctx)

    return kget, (kset if set_ is not None else None)


# W3C trace state: list-members `key=value`, comma separated.
_TS_KEY = re.compile(r"^(?:[a-z][_0-9a-z\-*/]{0,255}|[a-z0-9][_0-9a-z\-*/]{0,240}@[a-z][_0-9a-z\-*/]{0,13})$")
_TS_VALUE = re.compile(r"^[\x20-\x2b\x2d-\x3c\x3e-\x7e]{0,255}[\x21-\x2b\x2d-\x3c\x3e-\x7e]$")


def _parse_trace_state(text: str) -> list[tuple[str, str]]:
    members = []
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        key, sep, value = part.partition("=")
        if not sep:
            raise EvalError(f"invalid trace state member {part!r}")
        members.append((key, value))
    return members


def _trace_state_member(get: Get, set_: Optional[Set], keys: list[KeyFn]
                        ) -> tuple[Get, Optional[Set]]:
    def kget(ctx: TransformContext) -> Any:
        k = _key_value(ctx, keys[0])
        if not isinstance(k, str):
            raise EvalError("trace_state keys must be strings")
        try:
            members = _parse_trace_state(get(ctx))
        except EvalError:
            return None
        for mk, mv in members:
            if mk == k:
                return mv
        return None

    def kset(ctx: TransformContext, val: Any) -> None:
        k = _key_value(ctx, keys[0])
        if not isinstance(val, str) or not isinstance(k, str):
            return
        if not _TS_KEY.match(k) or not _TS_VALUE.match(val):
            raise EvalError(f"invalid trace state member {k}={val}")
        members = [(mk, mv) for mk, mv in _parse_trace_state(get(ctx)) if mk != k]
        text = ",".join(f"{mk}={mv}" for mk, mv in [(k, val)] + members)
        assert set_ is not None
        set_(ctx, text)

    return kget, (kset if set_ is not None else None)
