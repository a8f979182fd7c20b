# cython: language_level=3
"""OTLP protobuf wire bytes written straight from OpenTelemetry SDK objects.

``encode_spans(spans)`` and ``encode_logs(records)`` give the bytes of an
ExportTraceServiceRequest / ExportLogsServiceRequest holding exactly the message the official
OTLP encoder (opentelemetry-exporter-otlp-proto-common's ``encode_spans`` / ``encode_logs``)
builds from the same objects: the same grouping by resource and instrumentation scope (first
seen first, equal objects merged), the same fields, the same value conversions, and the same
field order, so the bytes are those of its ``SerializeToString()``. ``ottl.sdk`` feeds them to
the C decoder; docs/batches.md ("OpenTelemetry SDK objects") lists the rules.

The writer works backwards from the end of a buffer, as upb does: a message's content goes out
before its length prefix, so nothing is measured twice and nothing is moved. Groups, records
and fields are therefore visited last to first.
"""

cimport cython
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize, PyBytes_GET_SIZE
from cpython.dict cimport PyDict_GetItemWithError, PyDict_Next, PyDict_Size
from cpython.float cimport PyFloat_AsDouble
from cpython.long cimport (PyLong_AsLongLong, PyLong_AsUnsignedLongLong,
                           PyLong_AsUnsignedLongLongMask)
from cpython.ref cimport PyObject, Py_XDECREF, Py_XINCREF
from libc.stdint cimport int64_t, uint8_t, uint32_t, uint64_t
from libc.stdlib cimport free, malloc
from libc.string cimport memcpy


cdef extern from "Python.h":
    # UTF-8 of a str, cached in the object; strict (lone surrogates raise, as protobuf does).
    const char *PyUnicode_AsUTF8AndSize(object, Py_ssize_t *) except NULL
    # An instance's __dict__ without looking the attribute up on its type first.
    dict PyObject_GenericGetDict(object, void *)

import logging
from collections import deque
from collections.abc import Mapping, Sequence
from types import MappingProxyType

from opentelemetry._logs import SeverityNumber
from opentelemetry.attributes import BoundedAttributes
from opentelemetry.sdk._logs import ReadableLogRecord
from opentelemetry.sdk.trace import Event, ReadableSpan
from opentelemetry.sdk.util import BoundedList
from opentelemetry.trace import Link, SpanContext, SpanKind, Status, StatusCode, TraceState

from ottl import limits

__all__ = ["encode_spans", "encode_logs", "encode_spans_ordered", "encode_logs_ordered",
           "MAX_VALUE_DEPTH", "PROJECTABLE_SPAN_PARTS"]

_logger = logging.getLogger("ottl.sdk")

# An AnyValue nested deeper than this (a top-level value is depth 1) is refused: the decoder
# would refuse the whole payload for it.
MAX_VALUE_DEPTH = limits.MAX_NESTING_DEPTH
cdef int _MAX_DEPTH = MAX_VALUE_DEPTH

# SDK SpanKind -> OTLP Span.SpanKind, as the official encoder maps it (a KeyError for anything
# else, as there).
_SPAN_KIND = {
    SpanKind.INTERNAL: 1,
    SpanKind.SERVER: 2,
    SpanKind.CLIENT: 3,
    SpanKind.PRODUCER: 4,
    SpanKind.CONSUMER: 5,
}

cdef object _MISSING = object()

cdef enum:
    # Wire types.
    WT_VARINT = 0
    WT_I64 = 1
    WT_LEN = 2
    WT_I32 = 5


cdef class _Out:
    """A byte buffer filled from its end: the bytes written so far are buf[pos:cap].
    ``guarded``: each attribute written under its own try, so one the official encoder would
    refuse is left out (see _safe_key_value)."""
    cdef uint8_t *buf
    cdef Py_ssize_t cap
    cdef Py_ssize_t pos
    cdef bint guarded

    def __cinit__(self, Py_ssize_t cap, bint guarded=False):
        self.guarded = guarded
        if cap < 256:
            cap = 256
        self.buf = <uint8_t *>malloc(<size_t>cap)
        if self.buf == NULL:
            raise MemoryError()
        self.cap = cap
        self.pos = cap

    def __dealloc__(self):
        free(self.buf)

    cdef int grow(self, Py_ssize_t need) except -1:
        cdef Py_ssize_t used = self.cap - self.pos
        cdef Py_ssize_t cap = self.cap * 2
        if cap < used + need + 256:
            cap = used + need + 256
        cdef uint8_t *nb = <uint8_t *>malloc(<size_t>cap)
        if nb == NULL:
            raise MemoryError()
        memcpy(nb + cap - used, self.buf + self.pos, <size_t>used)
        free(self.buf)
        self.buf = nb
        self.cap = cap
        self.pos = cap - used
        return 0

    cdef bytes result(self):
        return PyBytes_FromStringAndSize(<char *>self.buf + self.pos, self.cap - self.pos)


# ---- primitives (each writes backwards: call them in reverse of the wire order) ----

cdef inline Py_ssize_t _len(_Out w) noexcept:
    """Bytes written so far: a mark to measure a message's content against."""
    return w.cap - w.pos


cdef inline int _need(_Out w, Py_ssize_t n) except -1:
    if w.pos < n:
        w.grow(n)
    return 0


cdef inline int _varint(_Out w, uint64_t v) except -1:
    cdef int n = 1
    cdef uint64_t t = v >> 7
    while t:
        n += 1
        t >>= 7
    _need(w, n)
    w.pos -= n
    cdef uint8_t *p = w.buf + w.pos
    while v >= 0x80:
        p[0] = <uint8_t>(v | 0x80)
        v >>= 7
        p += 1
    p[0] = <uint8_t>v
    return 0


cdef inline int _tag(_Out w, uint32_t field, uint32_t wt) except -1:
    return _varint(w, (field << 3) | wt)


cdef inline int _raw(_Out w, const char *src, Py_ssize_t n) except -1:
    _need(w, n)
    w.pos -= n
    if n:
        memcpy(w.buf + w.pos, src, <size_t>n)
    return 0


cdef inline int _fixed64(_Out w, uint64_t v) except -1:
    cdef int i
    _need(w, 8)
    w.pos -= 8
    for i in range(8):
        w.buf[w.pos + i] = <uint8_t>(v >> (8 * i))
    return 0


cdef inline int _fixed32(_Out w, uint32_t v) except -1:
    cdef int i
    _need(w, 4)
    w.pos -= 4
    for i in range(4):
        w.buf[w.pos + i] = <uint8_t>(v >> (8 * i))
    return 0


cdef inline int _close(_Out w, uint32_t field, Py_ssize_t mark) except -1:
    """Frame the content written since ``mark`` as length-delimited field ``field``."""
    _varint(w, <uint64_t>(_len(w) - mark))
    return _tag(w, field, WT_LEN)


cdef inline int _string_field(_Out w, uint32_t field, object s) except -1:
    """A proto3 ``string`` field: None or "" is left out."""
    cdef Py_ssize_t n
    cdef const char *p
    if s is None:
        return 0
    if not isinstance(s, str):
        raise TypeError(f"expected str, got {type(s).__name__}")
    p = PyUnicode_AsUTF8AndSize(s, &n)
    if n == 0:
        return 0
    _raw(w, p, n)
    _varint(w, <uint64_t>n)
    return _tag(w, field, WT_LEN)


cdef inline int _fixed64_field(_Out w, uint32_t field, object v) except -1:
    """A proto3 ``fixed64`` field (times): None or 0 is left out; negative or too large
    raises OverflowError."""
    cdef uint64_t x
    if v is None:
        return 0
    x = PyLong_AsUnsignedLongLong(v)
    if x == 0:
        return 0
    _fixed64(w, x)
    return _tag(w, field, WT_I64)


cdef inline uint32_t _as_uint32(object v) except? 0xffffffff:
    cdef uint64_t x = PyLong_AsUnsignedLongLong(v)
    if x > 0xffffffffu:
        raise ValueError(f"value out of range for uint32: {v}")
    return <uint32_t>x


cdef inline int _uint32_field(_Out w, uint32_t field, object v) except -1:
    """A proto3 ``uint32`` field (dropped counts): None or 0 is left out."""
    cdef uint32_t x
    if v is None:
        return 0
    x = _as_uint32(v)
    if x == 0:
        return 0
    _varint(w, x)
    return _tag(w, field, WT_VARINT)


cdef inline int _enum_field(_Out w, uint32_t field, object v) except -1:
    """A proto3 enum (int32) field: None or 0 is left out; negatives are sign-extended."""
    cdef int64_t x
    if v is None:
        return 0
    x = PyLong_AsLongLong(v)
    if x < -2147483648 or x > 2147483647:
        raise ValueError(f"value out of range for an enum: {v}")
    if x == 0:
        return 0
    _varint(w, <uint64_t>x)
    return _tag(w, field, WT_VARINT)


cdef inline int _id_field(_Out w, uint32_t field, object v, int width) except -1:
    """An id int as ``width`` big-endian bytes (``int.to_bytes(width, "big")``): always
    written; negative or too wide raises OverflowError."""
    cdef uint64_t hi = 0, lo
    cdef int i
    if width == 16:
        hi = PyLong_AsUnsignedLongLong(v >> 64)
        lo = PyLong_AsUnsignedLongLongMask(v)
    else:
        lo = PyLong_AsUnsignedLongLong(v)
    _need(w, width)
    w.pos -= width
    cdef uint8_t *p = w.buf + w.pos
    for i in range(8):
        p[width - 1 - i] = <uint8_t>(lo >> (8 * i))
    if width == 16:
        for i in range(8):
            p[7 - i] = <uint8_t>(hi >> (8 * i))
    _varint(w, <uint64_t>width)
    return _tag(w, field, WT_LEN)


# ---- values ----

cdef int _value(_Out w, object v, int depth) except -1:
    """The content of an AnyValue for ``v``, converted as the official ``_encode_value``
    does: None -> empty AnyValue, bool, str, int (int64), float, bytes, any other Sequence ->
    array, Mapping -> kvlist with ``str(key)``; anything else raises TypeError."""
    cdef type t = type(v)
    cdef Py_ssize_t mark, n
    cdef const char *p
    cdef int64_t i64
    cdef double d
    cdef uint64_t bits
    if depth > _MAX_DEPTH:
        raise ValueError(f"value nested deeper than {_MAX_DEPTH} levels")
    if v is None:
        return 0
    if t is str:
        p = PyUnicode_AsUTF8AndSize(v, &n)
        _raw(w, p, n)
        _varint(w, <uint64_t>n)
        return _tag(w, 1, WT_LEN)
    if t is bool:
        _varint(w, 1 if v is True else 0)
        return _tag(w, 2, WT_VARINT)
    if t is int:
        i64 = PyLong_AsLongLong(v)
        _varint(w, <uint64_t>i64)
        return _tag(w, 3, WT_VARINT)
    if t is float:
        d = PyFloat_AsDouble(v)
        memcpy(&bits, &d, 8)
        _fixed64(w, bits)
        return _tag(w, 4, WT_I64)
    if t is bytes:
        n = PyBytes_GET_SIZE(v)
        _raw(w, PyBytes_AS_STRING(v), n)
        _varint(w, <uint64_t>n)
        return _tag(w, 7, WT_LEN)
    if t is tuple or t is list:
        return _array(w, v, depth)
    if t is dict:
        return _kvlist(w, list(v.items()), depth)
    # Anything else: the official order of isinstance checks.
    if isinstance(v, bool):
        _varint(w, 1 if v else 0)
        return _tag(w, 2, WT_VARINT)
    if isinstance(v, str):
        p = PyUnicode_AsUTF8AndSize(v, &n)
        _raw(w, p, n)
        _varint(w, <uint64_t>n)
        return _tag(w, 1, WT_LEN)
    if isinstance(v, int):
        i64 = PyLong_AsLongLong(v)
        _varint(w, <uint64_t>i64)
        return _tag(w, 3, WT_VARINT)
    if isinstance(v, float):
        d = PyFloat_AsDouble(v)
        memcpy(&bits, &d, 8)
        _fixed64(w, bits)
        return _tag(w, 4, WT_I64)
    if isinstance(v, bytes):
        n = PyBytes_GET_SIZE(v)
        _raw(w, PyBytes_AS_STRING(v), n)
        _varint(w, <uint64_t>n)
        return _tag(w, 7, WT_LEN)
    if isinstance(v, Sequence):
        return _array(w, list(v), depth)
    if isinstance(v, Mapping):
        return _kvlist(w, list(v.items()), depth)
    raise TypeError(f"Invalid type {t} of value {v!r}")


cdef int _array(_Out w, object seq, int depth) except -1:
    """AnyValue.array_value (field 5): an ArrayValue whose ``values`` (field 1) are ``seq``."""
    cdef Py_ssize_t outer = _len(w), mark, i
    for i in range(len(seq) - 1, -1, -1):
        mark = _len(w)
        _value(w, seq[i], depth + 1)
        _close(w, 1, mark)
    return _close(w, 5, outer)


cdef int _kvlist(_Out w, list pairs, int depth) except -1:
    """AnyValue.kvlist_value (field 6): a KeyValueList of ``(str(k), v)`` KeyValues."""
    cdef Py_ssize_t outer = _len(w), mark, vmark, i
    for i in range(len(pairs) - 1, -1, -1):
        k, v = pairs[i]
        mark = _len(w)
        vmark = mark
        _value(w, v, depth + 1)
        _close(w, 2, vmark)
        _string_field(w, 1, str(k))
        _close(w, 1, mark)
    return _close(w, 6, outer)


# ---- attributes ----

cdef inline int _key_value(_Out w, uint32_t field, object key, object value) except -1:
    """A KeyValue (``KeyValue(key=key, value=_encode_value(value))``) as field ``field``."""
    cdef Py_ssize_t mark = _len(w)
    _value(w, value, 1)
    _close(w, 2, mark)            # value: always present, even when empty
    _string_field(w, 1, key)      # key: None is left out, as protobuf does with key=None
    return _close(w, field, mark)


cdef int _safe_key_value(_Out w, uint32_t field, object key, object value) except -1:
    """One attribute; one the official encoder cannot convert is left out and logged, as it
    does (``_encode_attributes`` catches any exception per key). A try per attribute costs a
    tenth of a projected request, so a request is first written unguarded: the first error
    raised starts it again, guarded (_request)."""
    cdef Py_ssize_t mark = _len(w)
    if not w.guarded:
        return _key_value(w, field, key, value)
    try:
        _key_value(w, field, key, value)
    except Exception as error:
        w.pos = w.cap - mark
        _logger.exception("Failed to encode key %s: %s", key, error)
    return 0


cdef int _dict_attributes(_Out w, uint32_t field, dict d) except -1:
    """The items of a dict, last to first, without copying it: the keys and values are held
    (a reference each) in a C array while they are written."""
    cdef Py_ssize_t n = PyDict_Size(d), pos = 0, i = 0, j
    cdef PyObject *k
    cdef PyObject *v
    cdef PyObject *local[64]
    cdef PyObject **arr = local
    if n == 0:
        return 0
    if 2 * n > 64:
        arr = <PyObject **>malloc(<size_t>(2 * n) * sizeof(PyObject *))
        if arr == NULL:
            raise MemoryError()
    while i < n and PyDict_Next(d, &pos, &k, &v):
        Py_XINCREF(k)
        Py_XINCREF(v)
        arr[2 * i] = k
        arr[2 * i + 1] = v
        i += 1
    try:
        for j in range(i - 1, -1, -1):
            _safe_key_value(w, field, <object>arr[2 * j], <object>arr[2 * j + 1])
    finally:
        for j in range(i):
            Py_XDECREF(arr[2 * j])
            Py_XDECREF(arr[2 * j + 1])
        if arr != local:
            free(arr)
    return 0


cdef int _attributes(_Out w, uint32_t field, object attrs) except -1:
    """``_encode_attributes(attrs)``: one KeyValue per item of the mapping, in its order."""
    cdef Py_ssize_t i
    cdef type t = type(attrs)
    if t is dict:
        return _dict_attributes(w, field, <dict>attrs)
    if t is BoundedAttributes:
        # The SDK's mapping: its items are those of the dict it wraps.
        d = attrs.__dict__.get("_dict")
        if type(d) is dict:
            return _dict_attributes(w, field, <dict>d)
    if not attrs:
        return 0
    if t is MappingProxyType:
        # ReadableSpan.attributes: a plain dict copy of what it wraps.
        try:
            d = attrs.copy()
        except AttributeError:
            d = None
        if type(d) is dict:
            return _dict_attributes(w, field, <dict>d)
    items = list(attrs.items())
    for i in range(len(items) - 1, -1, -1):
        key, value = items[i]
        _safe_key_value(w, field, key, value)
    return 0


# ---- reading the SDK objects ----
#
# Each record is read once into a row (a tuple of its fields, resource and scope first) through
# its public properties, exactly as the official encoder reads them. For the SDK's own classes
# (exact types only: a subclass may override a property) the same values are taken from the
# instance attributes those properties return, without running the properties' Python code,
# which would otherwise be most of the time spent here. The oracle tests cover both ways.

cdef inline uint64_t _enum_value(object e, object cls) except? 0xffffffffffffffff:
    """``e.value`` of an Enum member (its ``_value_``) without the property call."""
    if type(e) is cls:
        return <uint64_t>PyLong_AsLongLong(e._value_)
    return <uint64_t>PyLong_AsLongLong(e.value)


cdef inline object _dropped_attrs(object attrs):
    # The exact type first: isinstance against an ABC-registered class costs a microsecond.
    if type(attrs) is BoundedAttributes or (type(attrs) is not dict
                                             and isinstance(attrs, BoundedAttributes)):
        return attrs.dropped
    return 0


cdef inline object _dropped_of(object seq):
    """``seq.dropped`` of a BoundedList (events, links), else 0."""
    if type(seq) is BoundedList or (type(seq) is not tuple and type(seq) is not list
                                     and isinstance(seq, BoundedList)):
        return seq.dropped
    return 0


cdef inline tuple _bounded_tuple(object seq):
    """``tuple(seq)`` of a BoundedList (events, links), read from its deque directly."""
    cdef object dq
    if type(seq) is BoundedList:
        dq = seq.__dict__.get("_dq")
        if type(dq) is deque:
            return tuple(dq)
    return tuple(seq)


# The span fields a projection's parts are written from (_Projection.needs).
cdef enum:
    NEED_ATTRS = 1
    NEED_NAME = 2
    NEED_KIND = 4
    NEED_TIMES = 8
    NEED_STATUS = 16
    NEED_CONTEXT = 32
    NEED_DROPPED = 64


# The parts of a span a projection keeps (_Projection.part_bits).
cdef enum:
    PART_ATTRS = 1
    PART_NAME = 2
    PART_KIND = 4
    PART_TIMES = 8
    PART_STATUS = 16
    PART_TRACE_STATE = 32
    PART_DROPPED = 64


# Parts of a span a projection may keep (ottl.exporters derives them from the programs).
PROJECTABLE_SPAN_PARTS = frozenset({"name", "kind", "times", "status", "trace_state",
                                    "dropped", "attributes"})


cdef class _Projection:
    """What a filter reads of each span: ``parts`` (of PROJECTABLE_SPAN_PARTS) and, when the
    attributes are read, the keys it reads (None: all of them); ``needs``, the span fields
    those parts are written from (NEED_* bits)."""
    cdef frozenset parts
    cdef tuple keys
    cdef bint all_keys
    cdef int needs
    cdef int part_bits  # PART_* of parts: tested per span, where a set lookup would show
    cdef readonly bint grouped  # False: one resource and scope for all spans (_request_flat)

    def __init__(self, parts, keys, grouped=True):
        self.grouped = bool(grouped)
        self.parts = frozenset(parts)
        unknown = self.parts - PROJECTABLE_SPAN_PARTS
        if unknown:
            raise ValueError(f"cannot project span parts {sorted(unknown)}")
        self.all_keys = keys is None
        self.keys = () if keys is None else tuple(keys)
        if not all(type(k) is str for k in self.keys):
            raise TypeError(f"attribute keys must be str: {self.keys!r}")
        self.needs = self.part_bits = 0
        for part, need, bit in (("attributes", NEED_ATTRS, PART_ATTRS),
                                ("name", NEED_NAME, PART_NAME), ("kind", NEED_KIND, PART_KIND),
                                ("times", NEED_TIMES, PART_TIMES),
                                ("status", NEED_STATUS, PART_STATUS),
                                ("trace_state", NEED_CONTEXT, PART_TRACE_STATE),
                                ("dropped", NEED_DROPPED, PART_DROPPED)):
            if part in self.parts:
                self.needs |= need
                self.part_bits |= bit


@cython.final
@cython.no_gc
cdef class _Row:
    """One record's fields, read once. Not tracked by the garbage collector: rows are
    short-lived and own no cycles, and tracking them would set off collections that walk the
    whole heap (the SDK objects included) several times per call."""
    cdef object res, scope
    cdef Py_ssize_t index  # the record's place in the input
    # spans
    cdef object ctx, parent, name, kind, start, end, attrs, dropped_attrs
    cdef tuple events, links
    cdef object dropped_events, dropped_links, status
    # logs
    cdef object log_record


cdef inline object _item(dict d, str key):
    """``d.get(key, _MISSING)`` without the method call."""
    cdef PyObject *v = PyDict_GetItemWithError(d, key)
    return _MISSING if v == NULL else <object>v


cdef bint _projected_row(_Row r, dict d, int needs, bint grouped=True) except -1:
    """The fields of a ReadableSpan's ``__dict__`` that a projection needs (``needs``: NEED_*
    bits), into r, and its resource and scope when ``grouped``; False when the dict lacks one
    (the caller then reads the properties)."""
    if grouped:
        r.res = _item(d, "_resource")
        r.scope = _item(d, "_instrumentation_scope")
    if needs & (NEED_ATTRS | NEED_DROPPED):
        r.attrs = _item(d, "_attributes")
    if needs & NEED_NAME:
        r.name = _item(d, "_name")
    if needs & NEED_KIND:
        r.kind = _item(d, "_kind")
    if needs & NEED_TIMES:
        r.start = _item(d, "_start_time")
        r.end = _item(d, "_end_time")
    if needs & NEED_STATUS:
        r.status = _item(d, "_status")
    if needs & NEED_CONTEXT:
        r.ctx = _item(d, "_context")
    events = _item(d, "_events") if needs & NEED_DROPPED else None
    links = _item(d, "_links") if needs & NEED_DROPPED else None
    if (r.res is _MISSING or r.scope is _MISSING or r.attrs is _MISSING or r.name is _MISSING
            or r.kind is _MISSING or r.start is _MISSING or r.end is _MISSING
            or r.status is _MISSING or r.ctx is _MISSING or events is _MISSING
            or links is _MISSING):
        return False
    if needs & NEED_DROPPED:
        r.dropped_attrs = _dropped_attrs(r.attrs)
        r.dropped_events = _dropped_of(events)
        r.dropped_links = _dropped_of(links)
    return True


cdef _Row _span_row(object span, _Projection proj=None):
    """A ReadableSpan's fields, as the official encoder reads them; under a projection only
    its resource, its scope and what the projection's parts write (a filter reading two
    attributes needs three of a span's fields)."""
    cdef dict d
    cdef _Row r = _Row.__new__(_Row)
    if type(span) is ReadableSpan:
        d = span.__dict__
        if proj is not None:
            if _projected_row(r, d, proj.needs):
                return r
        else:
            try:
                attrs = d["_attributes"]
                events = d["_events"]
                links = d["_links"]
                r.res = d["_resource"]
                r.scope = d["_instrumentation_scope"]
                r.ctx = d["_context"]
                r.parent = d["_parent"]
                r.name = d["_name"]
                r.kind = d["_kind"]
                r.start = d["_start_time"]
                r.end = d["_end_time"]
                r.status = d["_status"]
            except KeyError:
                pass  # not the layout we know: the properties, below
            else:
                r.attrs = attrs
                r.dropped_attrs = _dropped_attrs(attrs)
                r.events = _bounded_tuple(events)
                r.dropped_events = _dropped_of(events)
                r.links = _bounded_tuple(links)
                r.dropped_links = _dropped_of(links)
                return r
    r.res = span.resource
    r.scope = span.instrumentation_scope
    r.ctx = span.get_span_context()
    r.parent = span.parent
    r.name = span.name
    r.kind = span.kind
    r.start = span.start_time
    r.end = span.end_time
    r.attrs = span.attributes
    r.dropped_attrs = span.dropped_attributes
    r.events = tuple(span.events)
    r.dropped_events = span.dropped_events
    r.links = tuple(span.links)
    r.dropped_links = span.dropped_links
    r.status = span.status
    return r


cdef _Row _log_row(object rec):
    """A ReadableLogRecord's resource, scope, log record and dropped count; or a LogData's
    (SDK <= 1.38: the resource and the dropped count are on its log_record)."""
    cdef _Row r = _Row.__new__(_Row)
    lr = rec.log_record
    r.log_record = lr
    r.scope = rec.instrumentation_scope
    if type(rec) is ReadableLogRecord:
        r.res = rec.resource
        r.dropped_attrs = _dropped_attrs(lr.attributes)
        return r
    res = getattr(rec, "resource", _MISSING)
    r.res = lr.resource if res is _MISSING else res
    dropped = getattr(rec, "dropped_attributes", _MISSING)
    r.dropped_attrs = lr.dropped_attributes if dropped is _MISSING else dropped
    return r


# ---- grouping ----

cdef list _group(records, bint logs, _Projection proj=None):
    """Rows grouped as the official encoders group records: by resource, then by
    instrumentation scope (``or None``), each in order of first appearance, equal objects
    merged (dict keys). Returns [(resource, [(scope, [rows])])].

    Objects already seen are found by identity first (``id`` -> the object and its group, the
    object kept alive there so its id stays its own): the SDK's Resource hashes by serialising
    its attributes to JSON, which would otherwise be paid for every record."""
    cdef list out = []
    cdef dict by_res = {}          # resource -> (by_scope, scope_by_id, scopes)
    cdef dict res_by_id = {}       # id(resource) -> (resource, entry)
    cdef dict by_scope, scope_by_id
    cdef list scopes, rows = None
    cdef tuple entry, hit
    cdef _Row row
    last_res = _MISSING
    last_scope = _MISSING
    cdef Py_ssize_t index = 0
    for rec in records:
        row = _log_row(rec) if logs else _span_row(rec, proj)
        row.index = index
        index += 1
        res = row.res
        scope = row.scope
        if res is last_res and scope is last_scope:
            rows.append(row)
            continue
        last_res = res
        last_scope = scope
        hit = res_by_id.get(id(res))
        if hit is not None and hit[0] is res:
            entry = <tuple>hit[1]
        else:
            entry = by_res.get(res)
            if entry is None:
                scopes = []
                entry = ({}, {}, scopes)
                by_res[res] = entry
                out.append((res, scopes))
            res_by_id[id(res)] = (res, entry)
        by_scope, scope_by_id, scopes = entry
        hit = scope_by_id.get(id(scope))
        if hit is not None and hit[0] is scope:
            rows = <list>hit[1]
        else:
            key = scope or None
            rows = by_scope.get(key)
            if rows is None:
                rows = []
                by_scope[key] = rows
                scopes.append((key, rows))
            scope_by_id[id(scope)] = (scope, rows)
        rows.append(row)
    return out


cdef int _resource(_Out w, object res) except -1:
    """``Resource(attributes=...)``, always present (field 1 of ResourceSpans/ResourceLogs)."""
    cdef Py_ssize_t mark = _len(w)
    _attributes(w, 1, res.attributes)
    return _close(w, 1, mark)


cdef int _scope(_Out w, object scope) except -1:
    """``InstrumentationScope(name, version, attributes)``, always present (field 1 of
    ScopeSpans/ScopeLogs); empty for no scope."""
    cdef Py_ssize_t mark = _len(w)
    if scope is not None:
        _attributes(w, 3, scope.attributes)
        _string_field(w, 2, scope.version)
        _string_field(w, 1, scope.name)
    return _close(w, 1, mark)


# ---- spans ----

cdef inline bint _is_remote(object ctx) except -1:
    """``bool(ctx and ctx.is_remote)``."""
    if not ctx:
        return False
    if type(ctx) is SpanContext:
        return bool((<tuple>ctx)[2])
    return bool(ctx.is_remote)


cdef inline int _flags_field(_Out w, uint32_t field, object ctx) except -1:
    """Span/Link flags as the official ``_span_flags``: HAS_IS_REMOTE, and IS_REMOTE when the
    context is remote."""
    _fixed32(w, 0x300 if _is_remote(ctx) else 0x100)
    return _tag(w, field, WT_I32)


cdef int _trace_state(_Out w, uint32_t field, object ts) except -1:
    """``",".join(f"{k}={v}" for k, v in ts.items())``, left out when empty."""
    if ts is None:
        return 0
    if type(ts) is TraceState:
        if not ts.__dict__.get("_dict", True):
            return 0
    elif not ts:
        return 0
    return _string_field(w, field, ",".join([f"{k}={v}" for k, v in ts.items()]))


cdef int _ids(_Out w, object ctx) except -1:
    """span_id (field 2), then trace_id (field 1), of a SpanContext."""
    if type(ctx) is SpanContext:
        _id_field(w, 2, (<tuple>ctx)[1], 8)
        return _id_field(w, 1, (<tuple>ctx)[0], 16)
    _id_field(w, 2, ctx.span_id, 8)
    return _id_field(w, 1, ctx.trace_id, 16)


cdef int _event(_Out w, object ev) except -1:
    cdef Py_ssize_t mark = _len(w)
    cdef dict d
    if type(ev) is Event:
        d = ev.__dict__
        attrs = d.get("_attributes", _MISSING)
        if attrs is not _MISSING and "_name" in d and "_timestamp" in d:
            _uint32_field(w, 4, _dropped_attrs(attrs))
            _attributes(w, 3, attrs)
            _string_field(w, 2, d["_name"])
            _fixed64_field(w, 1, d["_timestamp"])
            return _close(w, 11, mark)
    _uint32_field(w, 4, ev.dropped_attributes)
    _attributes(w, 3, ev.attributes)
    _string_field(w, 2, ev.name)
    _fixed64_field(w, 1, ev.timestamp)
    return _close(w, 11, mark)


cdef int _link(_Out w, object link) except -1:
    cdef Py_ssize_t mark = _len(w)
    cdef dict d
    if type(link) is Link and "_context" in link.__dict__ and "_attributes" in link.__dict__:
        d = link.__dict__
        ctx = d["_context"]
        attrs = d["_attributes"]
        dropped = _dropped_attrs(attrs)
    else:
        ctx = link.context
        attrs = link.attributes
        dropped = link.dropped_attributes
    _flags_field(w, 6, ctx)
    _uint32_field(w, 5, dropped)
    _attributes(w, 4, attrs)
    # The official encoder does not write a link's trace_state (field 3).
    _ids(w, ctx)
    return _close(w, 13, mark)


cdef int _status(_Out w, object status) except -1:
    """Status(code=status.status_code.value, message=status.description) as field 15."""
    cdef Py_ssize_t mark = _len(w)
    cdef dict d
    if status is None:
        return 0
    if type(status) is Status and "_status_code" in status.__dict__:
        d = status.__dict__
        code = d["_status_code"]
        desc = d.get("_description")
    else:
        code = status.status_code
        desc = status.description
    _enum_field(w, 3, <int64_t>_enum_value(code, StatusCode))
    _string_field(w, 2, desc)
    return _close(w, 15, mark)


cdef int _span(_Out w, _Row row) except -1:
    """The content of one Span (a row of _span_row), as ``trace_encoder._encode_span``
    builds it."""
    cdef Py_ssize_t i
    cdef tuple evs = row.events, lks = row.links
    ctx = row.ctx
    parent = row.parent
    kind = row.kind
    _flags_field(w, 16, parent)
    _status(w, row.status)
    _uint32_field(w, 14, row.dropped_links)
    for i in range(len(lks) - 1, -1, -1):
        _link(w, lks[i])
    _uint32_field(w, 12, row.dropped_events)
    for i in range(len(evs) - 1, -1, -1):
        _event(w, evs[i])
    _uint32_field(w, 10, row.dropped_attrs)
    _attributes(w, 9, row.attrs)
    _fixed64_field(w, 8, row.end)
    _fixed64_field(w, 7, row.start)
    if type(kind) is SpanKind:
        _enum_field(w, 6, kind._value_ + 1)
    else:
        _enum_field(w, 6, _SPAN_KIND[kind])
    _string_field(w, 5, row.name)
    if parent:
        if type(parent) is SpanContext:
            _id_field(w, 4, (<tuple>parent)[1], 8)
        else:
            _id_field(w, 4, parent.span_id, 8)
    if type(ctx) is SpanContext:
        _trace_state(w, 3, (<tuple>ctx)[4])
    else:
        _trace_state(w, 3, ctx.trace_state)
    return _ids(w, ctx)


cdef int _projected_attributes(_Out w, uint32_t field, object attrs, tuple keys) except -1:
    """Only the items of ``keys`` (those present), in the mapping's order as far as the
    filter can tell: a filter reads attributes by key, so their order does not matter."""
    cdef type t = type(attrs)
    cdef Py_ssize_t i
    d = attrs
    cdef PyObject *v
    if t is BoundedAttributes:
        v = PyDict_GetItemWithError(PyObject_GenericGetDict(attrs, NULL), "_dict")
        if v != NULL and type(<object>v) is dict:
            d = <object>v
    if type(d) is dict:
        for i in range(len(keys) - 1, -1, -1):
            key = keys[i]
            v = PyDict_GetItemWithError(<dict>d, key)
            if v != NULL:
                _safe_key_value(w, field, key, <object>v)
        return 0
    if not isinstance(d, Mapping):
        return _attributes(w, field, attrs)
    for i in range(len(keys) - 1, -1, -1):
        key = keys[i]
        value = d.get(key, _MISSING)
        if value is not _MISSING:
            _safe_key_value(w, field, key, value)
    return 0


cdef int _span_projected(_Out w, _Row row, _Projection proj) except -1:
    """The parts of one Span a filter reads, in the wire order of _span."""
    cdef int parts = proj.part_bits
    ctx = row.ctx
    kind = row.kind
    if parts & PART_STATUS:
        _status(w, row.status)
    if parts & PART_DROPPED:
        _uint32_field(w, 14, row.dropped_links)
        _uint32_field(w, 12, row.dropped_events)
        _uint32_field(w, 10, row.dropped_attrs)
    if parts & PART_ATTRS:
        if proj.all_keys:
            _attributes(w, 9, row.attrs)
        else:
            _projected_attributes(w, 9, row.attrs, proj.keys)
    if parts & PART_TIMES:
        _fixed64_field(w, 8, row.end)
        _fixed64_field(w, 7, row.start)
    if parts & PART_KIND:
        if type(kind) is SpanKind:
            _enum_field(w, 6, kind._value_ + 1)
        else:
            _enum_field(w, 6, _SPAN_KIND[kind])
    if parts & PART_NAME:
        _string_field(w, 5, row.name)
    if parts & PART_TRACE_STATE:
        if type(ctx) is SpanContext:
            _trace_state(w, 3, (<tuple>ctx)[4])
        else:
            _trace_state(w, 3, ctx.trace_state)
    return 0


# ---- logs ----

cdef int _log(_Out w, _Row row) except -1:
    """The content of one LogRecord (a row of _log_row), as ``_log_encoder._encode_log``
    builds it."""
    cdef Py_ssize_t mark
    lr = row.log_record
    _string_field(w, 12, lr.event_name)
    _fixed64_field(w, 11, lr.observed_timestamp)
    span_id = lr.span_id
    if span_id is not None and span_id != 0:
        _id_field(w, 10, span_id, 8)
    trace_id = lr.trace_id
    if trace_id is not None and trace_id != 0:
        _id_field(w, 9, trace_id, 16)
    flags = lr.trace_flags
    if flags is not None:
        if not isinstance(flags, int):
            flags = int(flags)
        if _as_uint32(flags):
            _fixed32(w, _as_uint32(flags))
            _tag(w, 8, WT_I32)
    _uint32_field(w, 7, row.dropped_attrs)
    _attributes(w, 6, lr.attributes)
    mark = _len(w)
    _value(w, lr.body, 1)
    _close(w, 5, mark)             # body: always present (None is an empty AnyValue)
    _string_field(w, 3, lr.severity_text)
    sev = lr.severity_number
    if type(sev) is SeverityNumber:
        _enum_field(w, 2, sev._value_)
    else:
        _enum_field(w, 2, getattr(sev, "value", None))
    _fixed64_field(w, 1, lr.timestamp)
    return 0


# ---- requests ----

cdef int _scope_group(_Out w, object scope, list rows, bint logs,
                      _Projection proj=None) except -1:
    """ScopeSpans / ScopeLogs (field 2 of its resource group)."""
    cdef Py_ssize_t mark = _len(w), rmark, i
    if scope is not None:
        _string_field(w, 3, scope.schema_url)
    for i in range(len(rows) - 1, -1, -1):
        rmark = _len(w)
        if logs:
            _log(w, <_Row>rows[i])
        elif proj is not None:
            _span_projected(w, <_Row>rows[i], proj)
        else:
            _span(w, <_Row>rows[i])
        _close(w, 2, rmark)
    _scope(w, scope)
    return _close(w, 2, mark)


cdef bytes _request(object records, bint logs, list order=None, _Projection proj=None):
    cdef list groups = _group(records, logs, proj)
    cdef Py_ssize_t n = 0
    cdef list scopes
    for res, scopes in groups:
        for scope, rows in scopes:
            n += len(<list>rows)
            if order is not None:
                order.extend([(<_Row>r).index for r in <list>rows])
    try:
        return _write_request(_Out(n * 384 + 1024), groups, logs, proj)
    except Exception:
        return _write_request(_Out(n * 384 + 1024, True), groups, logs, proj)


cdef bytes _write_request(_Out w, list groups, bint logs, _Projection proj):
    """The request of ``_group``'s groups, into w."""
    cdef Py_ssize_t i, j, mark
    cdef list scopes
    for i in range(len(groups) - 1, -1, -1):
        res, scopes = groups[i]
        mark = _len(w)
        _string_field(w, 3, res.schema_url)
        for j in range(len(scopes) - 1, -1, -1):
            scope, rows = scopes[j]
            _scope_group(w, scope, rows, logs, proj)
        _resource(w, res)
        _close(w, 1, mark)
    return w.result()


def encode_spans(spans) -> bytes:
    """The ExportTraceServiceRequest bytes that ``encode_spans(spans).SerializeToString()``
    of opentelemetry-exporter-otlp-proto-common gives, written directly."""
    return _request(spans, False)


def encode_logs(records) -> bytes:
    """The ExportLogsServiceRequest bytes that ``encode_logs(records).SerializeToString()``
    of opentelemetry-exporter-otlp-proto-common gives (from ReadableLogRecord, or LogData of
    SDK <= 1.38), written directly."""
    return _request(records, True)


cdef bytes _request_flat(list spans, _Projection proj):
    """One ResourceSpans with an empty resource, holding one ScopeSpans with an empty scope,
    holding every span in the order given, each with only the parts ``proj`` keeps: the
    request of a filter that reads nothing of resources and scopes, whose spans then need no
    grouping. No spans, no ResourceSpans."""
    if not spans:
        return b""
    try:
        return _write_flat(_Out(len(spans) * 64 + 1024), spans, proj)
    except Exception:  # written again with a try per attribute, as _request does
        return _write_flat(_Out(len(spans) * 64 + 1024, True), spans, proj)


cdef bytes _write_flat(_Out w, list spans, _Projection proj):
    cdef Py_ssize_t mark = _len(w)
    _scope_group_flat(w, spans, proj)
    _close(w, 1, _len(w))  # the empty resource
    _close(w, 1, mark)
    return w.result()


cdef int _scope_group_flat(_Out w, list spans, _Projection proj) except -1:
    """The ScopeSpans of _request_flat. Spans of the SDK's own class are read through one
    reused row (no allocation per span)."""
    cdef Py_ssize_t mark = _len(w), rmark, i
    cdef _Row reused = _Row.__new__(_Row), row
    for i in range(len(spans) - 1, -1, -1):
        span = spans[i]
        rmark = _len(w)
        if type(span) is ReadableSpan and _projected_row(
                reused, PyObject_GenericGetDict(span, NULL), proj.needs, False):
            row = reused
        else:
            row = _span_row(span, proj)
        _span_projected(w, row, proj)
        _close(w, 2, rmark)
    _scope(w, None)
    return _close(w, 2, mark)


def encode_spans_ordered(spans, projection=None) -> tuple:
    """``encode_spans(spans)`` and, for each span of the request in order, its index in
    ``spans`` (the request groups spans by resource and scope). With ``projection``
    (``(parts, keys)`` or ``(parts, keys, grouped)``, see ``_Projection``) each span carries
    only what a filter reads: the request is then for filtering, not for export. With
    ``grouped`` false (a filter that reads nothing of resources and scopes) the spans are not
    grouped: one empty resource and scope hold them all in the order given, and the order
    returned is None (the identity)."""
    proj = None if projection is None else _Projection(*projection)
    if proj is not None and not proj.grouped:
        return _request_flat(spans if type(spans) is list else list(spans), proj), None
    order = []
    data = _request(spans, False, order, proj)
    return data, order


def encode_logs_ordered(records) -> tuple:
    """``encode_logs(records)`` and each record's index in ``records``, in request order."""
    order = []
    data = _request(records, True, order)
    return data, order
