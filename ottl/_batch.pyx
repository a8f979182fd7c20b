# cython: language_level=3
"""Columnar span and log batches, decoded from and encoded to OTLP protobuf (and OTLP/JSON) by
the C codec in csrc/ (docs/batches.md describes the layout).

The C side does all per-record work with the GIL released; this module only hands over bytes
and wraps the batch's C arrays as read-only numpy arrays that share its memory. ``records()``
and ``to_dict()`` build Python objects per record: for debugging and tests, not hot paths.
"""

cimport numpy as cnp
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize, PyBytes_GET_SIZE
from cpython.unicode cimport PyUnicode_DecodeUTF8
from libc.stdint cimport int32_t, int64_t, uint8_t, uint64_t
from libc.stdlib cimport free
from cpython.ref cimport PyObject, Py_INCREF
from libc.string cimport memcpy, memmove


cdef extern from "Python.h":
    # Borrowed-pointer forms, so the bytes object can be resized in place before Python sees it.
    PyObject *_new_bytes "PyBytes_FromStringAndSize"(const char *, Py_ssize_t)
    char *_bytes_data "PyBytes_AS_STRING"(PyObject *)
    int _resize_bytes "_PyBytes_Resize"(PyObject **, Py_ssize_t)
    void _decref "Py_DecRef"(PyObject *)

cdef extern from "py_outbuf.h":
    int ottl_outbuf_unshared(PyObject *o)
    void ottl_outbuf_set_len(PyObject *o, Py_ssize_t n)

import numpy as np

from ottl import limits

cnp.import_array()

__all__ = [
    "OtlpDecodeError", "OtlpJsonDecodeError", "SpanBatch", "LogBatch", "decode_traces",
    "decode_logs", "decode_traces_json", "decode_logs_json",
    "TAG_EMPTY", "TAG_STRING", "TAG_BOOL", "TAG_INT", "TAG_DOUBLE", "TAG_ARRAY", "TAG_KVLIST",
    "TAG_BYTES", "TAG_STRINDEX", "TAG_NONE", "TAG_ABSENT",
]

TAG_EMPTY = OTTL_V_EMPTY
TAG_STRING = OTTL_V_STRING
TAG_BOOL = OTTL_V_BOOL
TAG_INT = OTTL_V_INT
TAG_DOUBLE = OTTL_V_DOUBLE
TAG_ARRAY = OTTL_V_ARRAY
TAG_KVLIST = OTTL_V_KVLIST
TAG_BYTES = OTTL_V_BYTES
TAG_STRINDEX = OTTL_V_STRINDEX
TAG_NONE = OTTL_V_NONE
TAG_ABSENT = OTTL_V_ABSENT  # only in ottl._vm.column(..., absent=True): never in a batch


class OtlpDecodeError(ValueError):
    """Bad OTLP protobuf input: ``offset`` is the byte where decoding failed, ``path`` the
    field it was in (``resource_spans[3].scope_spans[0].spans[17].attributes[2].value``)."""

    def __init__(self, reason: str, offset: int, path: str):
        self.reason = reason
        self.offset = offset
        self.path = path
        where = f" in {path}" if path else ""
        super().__init__(f"{reason} at byte {offset}{where}")


class OtlpJsonDecodeError(OtlpDecodeError):
    """Bad OTLP/JSON input: ``offset`` is the byte of the JSON text (of its UTF-8 encoding, for
    a ``str``) where decoding failed, ``path`` the field it was in, with the protobuf field
    names (``resource_spans[0].scope_spans[0].spans[3].attributes[2].value``). A subclass of
    OtlpDecodeError, so one ``except`` catches both codecs' errors."""


# One freed batch kept for the next decode to fill: its tables are allocated and their pages
# mapped already, which saves the reallocations and page faults of a fresh batch. Taken and
# given back only with the GIL held. Batches from payloads above _SPARE_MAX are not kept.
cdef ottl_batch *_spare = NULL
cdef size_t _SPARE_MAX = 64 * 1024 * 1024


# The bytes object encode() returned last (a reference of ours) and the size of its block: once
# its caller has let go of it, the next encode of a similar size writes into it, on warm pages
# (csrc/py_outbuf.h says why that matters).
cdef PyObject *_out_spare = NULL
cdef Py_ssize_t _out_spare_cap = 0


cdef PyObject *_out_take(Py_ssize_t need, Py_ssize_t *cap):
    """A new reference to a bytes object with room for need bytes (its room in *cap): the
    spare when nobody else holds it and it is not more than twice too large, else a new one;
    NULL when out of memory."""
    global _out_spare
    cdef PyObject *o = _out_spare
    if o != NULL and need <= _out_spare_cap <= 2 * need + 4096 and ottl_outbuf_unshared(o):
        _out_spare = NULL
        cap[0] = _out_spare_cap
        ottl_outbuf_set_len(o, _out_spare_cap)
        return o
    cap[0] = need
    return _new_bytes(NULL, need)


def _forget_spare_output() -> None:
    """Lets go of the spare output, as at import: the next encode() allocates afresh. For
    tests, whose outcome would otherwise depend on what an earlier encode left there (a larger
    spare nobody holds is kept in preference to the outputs that follow)."""
    global _out_spare, _out_spare_cap
    cdef PyObject *old = _out_spare
    _out_spare = NULL
    _out_spare_cap = 0
    if old != NULL:
        _decref(old)


cdef object _out_give(PyObject *o, Py_ssize_t cap, Py_ssize_t n):
    """o (a reference _out_take gave) finished as its first n bytes, and kept as the spare
    unless the spare is a larger block nobody holds."""
    global _out_spare, _out_spare_cap
    if cap - n > cap // 4 + 4096:
        # Mostly empty: give the room back rather than keep it behind a short output.
        if _resize_bytes(&o, n) < 0:
            raise MemoryError("out of memory while encoding")
        cap = n
    else:
        ottl_outbuf_set_len(o, n)
    out = <object>o
    cdef PyObject *old = _out_spare
    if cap <= <Py_ssize_t>_SPARE_MAX and (
            old == NULL or not (_out_spare_cap > cap and ottl_outbuf_unshared(old))):
        Py_INCREF(out)
        _out_spare = o
        _out_spare_cap = cap
        if old != NULL:
            _decref(old)
    _decref(o)
    return out


cdef ottl_batch *_take_spare():
    global _spare
    cdef ottl_batch *b = _spare
    _spare = NULL
    return b


cdef inline double _as_double(int64_t bits):
    cdef double d
    memcpy(&d, &bits, 8)
    return d


cdef object _wrap(object owner, const void *ptr, Py_ssize_t n, int typenum, Py_ssize_t width):
    """A read-only numpy view of C memory that keeps its owner (the batch) alive."""
    cdef cnp.npy_intp dims[2]
    dims[0] = n
    dims[1] = width
    cdef int nd = 2 if width else 1
    if n == 0 or ptr == NULL:
        shape = [n, width] if width else [n]
        arr = np.empty(shape, dtype=cnp.PyArray_DescrFromType(typenum))
    else:
        arr = cnp.PyArray_SimpleNewFromData(nd, dims, typenum, <void *>ptr)
        cnp.set_array_base(arr, owner)
    arr.flags.writeable = False
    return arr


# Columns whose memory a statement may reallocate (the VM interns strings and rebuilds the
# record attribute pool): column() hands these out as copies, never as views.
_MOVABLE = ("strings.", "attributes.")


def _options(max_string_length, max_attributes, threads=None):
    cdef ottl_decode_options opt
    opt.max_string_length = limits.validate_max_string_length(
        limits.DEFAULT_MAX_STRING_LENGTH if max_string_length is None else max_string_length)
    opt.max_attributes = limits.validate_max_attributes(
        limits.DEFAULT_MAX_ATTRIBUTES if max_attributes is None else max_attributes)
    opt.threads = _threads(threads)
    return opt


cdef int _threads(threads) except -1:
    """The decoder's thread count: 0 (as many as the CPUs allow) for None."""
    if threads is None:
        return 0
    if isinstance(threads, bool) or not isinstance(threads, int):
        raise TypeError(f"threads must be None or an int, not {type(threads).__name__}")
    if not 1 <= threads <= limits.MAX_DECODE_THREADS:
        raise ValueError(f"threads is {threads}; it must be between 1 and "
                         f"{limits.MAX_DECODE_THREADS} (or None: as many as the CPUs allow)")
    return threads


def _set_decode_part_min_bytes(n: int) -> None:
    """Sets the bytes each thread of a decode takes at least (0: ``limits.DECODE_PART_MIN_BYTES``
    again). For tests, which have small payloads cut with it."""
    if n < 0:
        raise ValueError("n must be >= 0")
    ottl_decode_set_part_min_bytes(<size_t>n)


def _forget_spare_parts() -> None:
    """Frees the batches parallel decodes keep for their next call (memory held between
    calls; see csrc/otlp_decode_parallel.c)."""
    ottl_decode_free_spares()


cdef _raise(ottl_decode_error *err):
    if err.code == OTTL_DECODE_NOMEM:
        raise MemoryError(err.message.decode("utf-8", "replace"))
    raise OtlpDecodeError(err.message.decode("utf-8", "replace"), err.offset,
                          err.path.decode("utf-8", "replace"))


cdef bytes _as_bytes(data):
    if type(data) is bytes:
        return <bytes>data
    # A copy: the batch keeps its input for verbatim copy-out, and must not see it change.
    return bytes(memoryview(data))


cdef _decode(data, int kind, type cls, max_string_length, max_attributes, attribute_keys=None,
             bint keep_others=False, threads=None):
    """Decode ``data`` as ``kind`` into a new ``cls`` batch, the GIL released meanwhile; with
    ``attribute_keys``, under that projection of the records' own attributes (keeping the
    others as opaque entries with ``keep_others``)."""
    cdef bytes raw = _as_bytes(data)
    cdef ottl_decode_options opt = _options(max_string_length, max_attributes, threads)
    cdef ottl_decode_error err
    cdef ottl_batch *b = NULL
    cdef const uint8_t *p = <const uint8_t *>PyBytes_AS_STRING(raw)
    cdef size_t n = <size_t>PyBytes_GET_SIZE(raw)
    cdef int rc
    cdef ottl_projection proj
    cdef const char *keys[OTTL_MAX_PROJECTED_KEYS]
    cdef size_t lens[OTTL_MAX_PROJECTED_KEYS]
    cdef list encoded
    if attribute_keys is not None:
        encoded = _projected_keys(attribute_keys)
        for i, key in enumerate(encoded):
            keys[i] = <const char *>PyBytes_AS_STRING(key)
            lens[i] = <size_t>PyBytes_GET_SIZE(key)
        proj.keys = keys
        proj.lens = lens
        proj.n = len(encoded)
        proj.keep_others = keep_others
    elif keep_others:
        raise ValueError("keep_other_attributes needs attribute_keys")
    cdef ottl_batch *reuse = _take_spare()
    with nogil:
        if attribute_keys is None:
            rc = ottl_decode_into(reuse, kind, p, n, &opt, &b, &err)
        else:
            rc = ottl_decode_projected(reuse, kind, p, n, &opt, &proj, &b, &err)
    if rc != OTTL_DECODE_OK:
        _raise(&err)
    cdef _Batch out = cls.__new__(cls)
    out.b = b
    out.data = raw
    if b.attrs_projected:
        out._projection = frozenset(k.decode("utf-8") for k in encoded)
    return out


MAX_PROJECTED_KEYS = OTTL_MAX_PROJECTED_KEYS


cdef list _projected_keys(attribute_keys):
    """The keys of a projection as UTF-8 bytes, deduplicated, checked."""
    if isinstance(attribute_keys, (str, bytes)):
        raise TypeError("attribute_keys must be a collection of str keys, not a single "
                        f"{type(attribute_keys).__name__}")
    out = []
    for key in attribute_keys:
        if not isinstance(key, str):
            raise TypeError(f"attribute_keys holds {key!r}, not a str")
        raw = key.encode("utf-8")
        if raw not in out:
            out.append(raw)
    if len(out) > OTTL_MAX_PROJECTED_KEYS:
        raise ValueError(f"attribute_keys has {len(out)} keys; a projection keeps at most "
                         f"{OTTL_MAX_PROJECTED_KEYS}")
    return out


cdef _raise_json(ottl_decode_error *err):
    if err.code == OTTL_DECODE_NOMEM:
        raise MemoryError(err.message.decode("utf-8", "replace"))
    raise OtlpJsonDecodeError(err.message.decode("utf-8", "replace"), err.offset,
                              err.path.decode("utf-8", "replace"))


cdef _decode_json(data, int kind, type cls, max_string_length, max_attributes, threads=None):
    """Transcode the JSON ``data`` to protobuf and decode that into a new ``cls`` batch, the GIL
    released for both. The batch keeps the transcoded bytes as its input."""
    cdef bytes raw
    if isinstance(data, str):
        # Lone surrogates pass through, to be refused (as invalid UTF-8) with their offset.
        raw = (<str>data).encode("utf-8", "surrogatepass")
    else:
        raw = _as_bytes(data)
    cdef ottl_decode_options opt = _options(max_string_length, max_attributes, threads)
    cdef ottl_decode_error err
    cdef const uint8_t *p = <const uint8_t *>PyBytes_AS_STRING(raw)
    cdef size_t n = <size_t>PyBytes_GET_SIZE(raw)
    cdef uint8_t *buf = NULL
    cdef size_t blen = 0, unknown = 0
    cdef int rc
    with nogil:
        rc = ottl_json_transcode(kind, p, n, &opt, &buf, &blen, &unknown, &err)
    if rc != OTTL_DECODE_OK:
        _raise_json(&err)
    # One copy into a bytes object, which the batch owns like a protobuf input (its verbatim
    # copy-out reads it); cheap beside the transcoding.
    cdef bytes proto
    try:
        proto = PyBytes_FromStringAndSize(<const char *>buf, <Py_ssize_t>blen)
    finally:
        free(buf)
    p = <const uint8_t *>PyBytes_AS_STRING(proto)
    cdef ottl_batch *b = NULL
    cdef ottl_batch *reuse = _take_spare()
    with nogil:
        rc = ottl_decode_into(reuse, kind, p, blen, &opt, &b, &err)
    if rc == OTTL_DECODE_NOMEM:
        _raise(&err)
    if rc != OTTL_DECODE_OK:
        # The transcoder refuses whatever the decoder would; this would be a bug.
        raise OtlpJsonDecodeError(
            "internal error: the transcoded protobuf was refused ("
            + err.message.decode("utf-8", "replace") + ")", 0, err.path.decode("utf-8", "replace"))
    b.unknown_fields += unknown
    cdef _Batch out = cls.__new__(cls)
    out.b = b
    out.data = proto
    return out


def decode_traces_json(data, *, max_string_length=None, max_attributes=None,
                       threads=None) -> SpanBatch:
    """Decode the OTLP/JSON form of an ExportTraceServiceRequest (bytes, bytearray, memoryview
    or str) into a SpanBatch; the GIL is released meanwhile. Raises OtlpJsonDecodeError.
    threads is decode_traces's (for the decode that follows the transcoding)."""
    return _decode_json(data, OTTL_BATCH_SPANS, SpanBatch, max_string_length, max_attributes,
                        threads)


def decode_logs_json(data, *, max_string_length=None, max_attributes=None,
                     threads=None) -> LogBatch:
    """Decode the OTLP/JSON form of an ExportLogsServiceRequest into a LogBatch (see
    decode_traces_json)."""
    return _decode_json(data, OTTL_BATCH_LOGS, LogBatch, max_string_length, max_attributes,
                        threads)


def decode_traces(data, *, max_string_length=None, max_attributes=None,
                  attribute_keys=None, keep_other_attributes=False, threads=None) -> SpanBatch:
    """Decode an ExportTraceServiceRequest into a SpanBatch (the GIL is released meanwhile).

    attribute_keys (at most 16 str keys) is a projection: each span's own attributes are
    decoded only under those keys, the others checked as a whole decode checks them
    (resources, scopes, events, links and every other field decode whole), and it refuses
    exactly the input a whole decode refuses. The others are dropped (a batch for a filter: it
    can be filtered on what it holds and encoded verbatim, nothing else), or, with
    keep_other_attributes, kept with their values left in the input (a batch for a transform:
    statements that read and write only those keys may also run on it, and a verbatim encode
    copies the other entries). See ``attributes_projected`` and ``attributes_complete``. With
    keep_other_attributes, a payload in which a span repeats an attribute key decodes whole.

    threads: how many threads the decode may use; None (the default) is as many as the CPUs
    this process may run on, up to ``limits.MAX_DECODE_THREADS``. A payload is cut between its
    resource groups, each thread taking at least ``limits.DECODE_PART_MIN_BYTES`` of it, so
    small payloads and those of one large resource group decode on the calling thread alone.
    The batch, and any error, are exactly those of a decode on one thread."""
    return _decode(data, OTTL_BATCH_SPANS, SpanBatch, max_string_length, max_attributes,
                   attribute_keys, keep_other_attributes, threads)


def decode_logs(data, *, max_string_length=None, max_attributes=None,
                attribute_keys=None, keep_other_attributes=False, threads=None) -> LogBatch:
    """Decode an ExportLogsServiceRequest into a LogBatch (the GIL is released meanwhile);
    attribute_keys, keep_other_attributes and threads are decode_traces's."""
    return _decode(data, OTTL_BATCH_LOGS, LogBatch, max_string_length, max_attributes,
                   attribute_keys, keep_other_attributes, threads)


cdef const uint8_t *_mask_data(object marr) except *:
    """The bytes of a mask from _Batch._mask (NULL for no mask); the caller keeps it alive."""
    cdef const uint8_t[::1] m
    if marr is None:
        return NULL
    m = marr
    return &m[0] if m.shape[0] else <const uint8_t *>b""


cdef class _Batch:
    """Shared by SpanBatch and LogBatch: strings, values, resources, scopes, encoding."""

    def __cinit__(self):
        self.b = NULL

    def __dealloc__(self):
        global _spare
        if self.b != NULL:
            if _spare == NULL and self.b.input_len <= _SPARE_MAX:
                _spare = self.b
            else:
                ottl_batch_free(self.b)
            self.b = NULL

    def __init__(self):
        raise TypeError("batches come from decode_traces() / decode_logs()")

    cdef size_t _count(self):
        return 0

    def __len__(self):
        return self._count()

    @property
    def attributes_projected(self) -> bool:
        """True when the records' own attributes were decoded under a projection
        (``attribute_keys``): the batch holds only those keys, so it may be filtered on them
        and encoded verbatim, and refuses everything that would show the missing ones."""
        return bool(self.b.attrs_projected)

    @property
    def attributes_complete(self) -> bool:
        """True for a projected batch that kept the records' other attributes
        (``keep_other_attributes``): every entry is there, the values under keys outside
        ``attribute_keys`` left in the input, so statements on those keys may run on it."""
        return self.b.attrs_projected == 2

    @property
    def attribute_keys(self):
        """The record attribute keys a projected batch holds (a frozenset); None when whole."""
        return self._projection if self.b.attrs_projected else None

    cdef _whole(self, what):
        if self.b.attrs_projected:
            raise ValueError(f"{what} needs a whole batch; this one was decoded with "
                             "attribute_keys (a projection for filters: encode(mask, "
                             "verbatim=True) is what it can do)")

    @property
    def unknown_field_count(self) -> int:
        """How many fields the decoder skipped as unknown to it (nested ones included)."""
        return self.b.unknown_fields

    def _decoder_state(self) -> dict:
        """What the decoder sets beside the columns (column_names): each pool's input
        positions, the string table's hashes and UTF-8 marks, irregular ids, entity references
        and flags. For tests that compare two decodes exactly (a parallel one with one on a
        single thread)."""
        cdef ottl_batch *b = self.b
        cdef ottl_strtab *t = &b.strings
        cdef ottl_irregular *g = &b.irregular
        cdef ottl_kvpool *pools[7]
        pools[:] = [&b.resource_attrs, &b.scope_attrs, &b.values, &b.span_attrs,
                    &b.event_attrs, &b.link_attrs, &b.log_attrs]
        cdef ottl_kvpool *p
        out = {}
        for k, name in enumerate(("resource", "scope", "values", "span", "event", "link", "log")):
            p = pools[k]
            out[name + ".src"] = [p.src[i] for i in range(p.n)]
            out[name + ".unique"] = p.unique
        out["strings.hash"] = [t.hash[i] for i in range(t.count)]
        out["strings.utf8"] = [t.utf8[i] for i in range(t.count)]
        out["irregular"] = [(g.owner[i], g.field[i], g.row[i], g.sid[i]) for i in range(g.n)]
        out["entity_refs"] = [b.entity_refs[i] for i in range(b.entity_n)]
        out["entity_off"] = [b.resources.entity_off[i] for i in range(b.resources.n + 1)]
        out["frames_minimal"] = b.frames_minimal
        out["unknown_fields"] = b.unknown_fields
        out["attrs_projected"] = b.attrs_projected
        return out

    # ---- strings ----

    @property
    def string_count(self) -> int:
        return self.b.strings.count

    def string(self, Py_ssize_t sid) -> str:
        """The string with this id (strings and bytes share the table; see string_bytes)."""
        if sid < 0 or sid >= <Py_ssize_t>self.b.strings.count:
            raise IndexError(sid)
        return self._str(<int32_t>sid)

    def string_bytes(self, Py_ssize_t sid) -> bytes:
        if sid < 0 or sid >= <Py_ssize_t>self.b.strings.count:
            raise IndexError(sid)
        return self._bytes(<int32_t>sid)

    def value(self, int tag, int64_t val) -> dict:
        """The AnyValue of a (tag, payload) pair of this batch's columns (``ottl._vm.column``),
        as the OTLP/JSON-shaped dict of ``to_dict``; {} for nil. Raises ValueError for a pair
        that does not belong to this batch."""
        self._check_value(<uint8_t>tag, val, 0)
        return self._value(<uint8_t>tag, val)

    cdef _check_value(self, uint8_t tag, int64_t val, int depth):
        cdef uint64_t start, count, k
        cdef ottl_kvpool *v = &self.b.values
        if depth > 64:
            raise ValueError("values nested too deep")
        if tag == OTTL_V_STRING or tag == OTTL_V_BYTES:
            if val < 0 or val >= <int64_t>self.b.strings.count:
                raise ValueError(f"string id {val} is not in this batch")
        elif tag == OTTL_V_ARRAY or tag == OTTL_V_KVLIST:
            start = (<uint64_t>val) & 0xffffffffu
            count = (<uint64_t>val) >> 32
            if start + count > v.n:
                raise ValueError(f"values [{start}, {start + count}) are not in this batch")
            for k in range(start, start + count):
                if tag == OTTL_V_KVLIST and (v.key[k] < 0 or v.key[k] >= <int32_t>self.b.strings.count):
                    raise ValueError(f"string id {v.key[k]} is not in this batch")
                self._check_value(v.tag[k], v.val[k], depth + 1)
        elif tag not in (OTTL_V_BOOL, OTTL_V_INT, OTTL_V_DOUBLE, OTTL_V_STRINDEX, OTTL_V_NONE,
                         OTTL_V_EMPTY):
            raise ValueError(f"no value has tag {tag}")

    cdef object _str(self, int32_t sid):
        cdef int64_t a = self.b.strings.off[sid]
        cdef int64_t z = self.b.strings.off[sid + 1]
        return PyUnicode_DecodeUTF8(self.b.strings.arena + a, z - a, "surrogateescape")

    cdef object _bytes(self, int32_t sid):
        cdef int64_t a = self.b.strings.off[sid]
        cdef int64_t z = self.b.strings.off[sid + 1]
        return PyBytes_FromStringAndSize(self.b.strings.arena + a, z - a)

    # ---- values and attributes (debug views) ----

    cdef object _value(self, uint8_t tag, int64_t val):
        cdef uint64_t start, count, k
        cdef ottl_kvpool *v = &self.b.values
        if tag == OTTL_V_STRING:
            return {"string_value": self._str(<int32_t>val)}
        if tag == OTTL_V_BOOL:
            return {"bool_value": bool(val)}
        if tag == OTTL_V_INT:
            return {"int_value": val}
        if tag == OTTL_V_DOUBLE:
            return {"double_value": _as_double(val)}
        if tag == OTTL_V_BYTES:
            return {"bytes_value": self._bytes(<int32_t>val)}
        if tag == OTTL_V_STRINDEX:
            return {"string_value_strindex": <int32_t>val}
        if tag == OTTL_V_ARRAY or tag == OTTL_V_KVLIST:
            start = (<uint64_t>val) & 0xffffffffu
            count = (<uint64_t>val) >> 32
            if tag == OTTL_V_ARRAY:
                return {"array_value": {"values": [self._value(v.tag[k], v.val[k])
                                                   for k in range(start, start + count)]}}
            return {"kvlist_value": {"values": self._attrs(v, <int64_t>start,
                                                            <int64_t>(start + count))}}
        return {}

    cdef list _attrs(self, ottl_kvpool *pool, int64_t start, int64_t end):
        cdef int64_t k
        out = []
        for k in range(start, end):
            kv = {"key": self._str(pool.key[k])}
            if pool.tag[k] != OTTL_V_NONE:
                kv["value"] = self._value(pool.tag[k], pool.val[k])
            out.append(kv)
        return out

    cdef object _id(self, int owner, size_t row, int field, uint8_t present, uint8_t bit,
                    uint8_t irr_bit, const uint8_t *fixed, size_t width):
        cdef size_t i
        cdef ottl_irregular *g = &self.b.irregular
        if present & bit:
            return PyBytes_FromStringAndSize(<const char *>fixed, width)
        if present & irr_bit:
            for i in range(g.n):
                if g.owner[i] == owner and g.field[i] == field and <size_t>g.row[i] == row:
                    return self._bytes(g.sid[i])
        return b""

    cdef dict _resource_group(self, size_t r):
        cdef ottl_resources *t = &self.b.resources
        cdef int64_t k
        out = {}
        if t.present[r]:
            out["resource"] = {
                "attributes": self._attrs(&self.b.resource_attrs, t.attr_off[r], t.attr_off[r + 1]),
                "dropped_attributes_count": t.dropped[r],
                "entity_refs": [self._bytes(self.b.entity_refs[k])
                                for k in range(t.entity_off[r], t.entity_off[r + 1])],
            }
        out["schema_url"] = self._str(t.schema_url[r])
        return out

    cdef dict _scope_group(self, size_t s):
        cdef ottl_scopes *t = &self.b.scopes
        out = {}
        if t.present[s]:
            out["scope"] = {
                "name": self._str(t.name[s]),
                "version": self._str(t.version[s]),
                "attributes": self._attrs(&self.b.scope_attrs, t.attr_off[s], t.attr_off[s + 1]),
                "dropped_attributes_count": t.dropped[s],
            }
        out["schema_url"] = self._str(t.schema_url[s])
        return out

    def _record(self, size_t i):
        raise NotImplementedError

    def to_dict(self) -> dict:
        """The whole request as nested dicts with the protobuf field names and native values
        (bytes for bytes, int for 64-bit integers), defaults included, unset messages left out.
        """
        self._whole("to_dict()")
        cdef size_t r, s, i
        cdef ottl_resources *R = &self.b.resources
        cdef ottl_scopes *S = &self.b.scopes
        spans = self.b.kind == OTTL_BATCH_SPANS
        groups = []
        for r in range(R.n):
            g = self._resource_group(r)
            scopes = []
            for s in range(<size_t>R.scope_off[r], <size_t>R.scope_off[r + 1]):
                sg = self._scope_group(s)
                sg["spans" if spans else "log_records"] = [
                    self._record(i) for i in range(<size_t>S.rec_off[s], <size_t>S.rec_off[s + 1])]
                scopes.append(sg)
            g["scope_spans" if spans else "scope_logs"] = scopes
            groups.append(g)
        return {"resource_spans" if spans else "resource_logs": groups}

    def records(self):
        """Each record as a dict (as in to_dict()), in order; for debugging."""
        self._whole("records()")
        cdef size_t i
        for i in range(self._count()):
            yield self._record(i)

    def _parent_attributes(self, str owner, size_t i) -> list:
        """The attributes of resource (``owner`` "resource") or scope ("scope") i, as
        records() shows them: one parent's map without building every group."""
        cdef ottl_resources *R = &self.b.resources
        cdef ottl_scopes *S = &self.b.scopes
        if owner == "resource":
            if i >= R.n:
                raise IndexError(f"resource {i} out of range")
            return self._attrs(&self.b.resource_attrs, R.attr_off[i], R.attr_off[i + 1])
        if owner == "scope":
            if i >= S.n:
                raise IndexError(f"scope {i} out of range")
            return self._attrs(&self.b.scope_attrs, S.attr_off[i], S.attr_off[i + 1])
        raise ValueError(f"no parent {owner!r}: 'resource' or 'scope'")

    @property
    def attribute_keys_unique(self) -> bool:
        """True when no record is known to hold an attribute key twice (the decoder notes each
        record's keys, and the VM's rewrites keep it so); False when one may."""
        return bool(self._record_attrs().unique)

    cdef ottl_kvpool *_record_attrs(self):
        return &self.b.span_attrs if self.b.kind == OTTL_BATCH_SPANS else &self.b.log_attrs

    def resources(self) -> list:
        """Each resource group (resource and schema_url, without its scopes)."""
        return [self._resource_group(r) for r in range(self.b.resources.n)]

    def scopes(self) -> list:
        """Each scope group (scope and schema_url, without its records)."""
        return [self._scope_group(s) for s in range(self.b.scopes.n)]

    # ---- columns ----

    cdef _add_pool(self, dict specs, str prefix, ottl_kvpool *p):
        specs[prefix + "key"] = (<size_t>p.key, p.n, cnp.NPY_INT32, 0)
        specs[prefix + "tag"] = (<size_t>p.tag, p.n, cnp.NPY_UINT8, 0)
        specs[prefix + "value"] = (<size_t>p.val, p.n, cnp.NPY_INT64, 0)

    def _column_specs(self) -> dict:
        cdef ottl_batch *b = self.b
        if self._specs is not None:
            return self._specs
        specs = {}
        specs["strings.offsets"] = (<size_t>b.strings.off, b.strings.count + 1, cnp.NPY_INT64, 0)
        specs["strings.bytes"] = (<size_t>b.strings.arena, b.strings.arena_len, cnp.NPY_UINT8, 0)
        cdef ottl_resources *R = &b.resources
        specs["resources.present"] = (<size_t>R.present, R.n, cnp.NPY_UINT8, 0)
        specs["resources.dropped_attributes_count"] = (<size_t>R.dropped, R.n, cnp.NPY_UINT32, 0)
        specs["resources.schema_url"] = (<size_t>R.schema_url, R.n, cnp.NPY_INT32, 0)
        specs["resources.attr_off"] = (<size_t>R.attr_off, R.n + 1, cnp.NPY_INT64, 0)
        specs["resources.scope_off"] = (<size_t>R.scope_off, R.n + 1, cnp.NPY_INT64, 0)
        self._add_pool(specs, "resources.attributes.", &b.resource_attrs)
        cdef ottl_scopes *S = &b.scopes
        specs["scopes.resource"] = (<size_t>S.resource, S.n, cnp.NPY_INT32, 0)
        specs["scopes.present"] = (<size_t>S.present, S.n, cnp.NPY_UINT8, 0)
        specs["scopes.name"] = (<size_t>S.name, S.n, cnp.NPY_INT32, 0)
        specs["scopes.version"] = (<size_t>S.version, S.n, cnp.NPY_INT32, 0)
        specs["scopes.schema_url"] = (<size_t>S.schema_url, S.n, cnp.NPY_INT32, 0)
        specs["scopes.dropped_attributes_count"] = (<size_t>S.dropped, S.n, cnp.NPY_UINT32, 0)
        specs["scopes.attr_off"] = (<size_t>S.attr_off, S.n + 1, cnp.NPY_INT64, 0)
        specs["scopes.rec_off"] = (<size_t>S.rec_off, S.n + 1, cnp.NPY_INT64, 0)
        self._add_pool(specs, "scopes.attributes.", &b.scope_attrs)
        self._add_pool(specs, "values.", &b.values)
        self._record_specs(specs)
        self._specs = specs
        return specs

    def _record_specs(self, dict specs):
        pass

    def column_names(self) -> list:
        return sorted(self._column_specs())

    def column(self, str name):
        """A read-only numpy array of one column. Fixed columns are views (no copy; they keep
        the batch alive and show what statements write into them); the string table and the
        record attribute pool, which a statement may reallocate, come as copies."""
        try:
            ptr, n, typenum, width = self._column_specs()[name]
        except KeyError:
            raise KeyError(f"no column {name!r}; see column_names()") from None
        arr = _wrap(self, <const void *><size_t>ptr, n, typenum, width)
        if name.startswith(_MOVABLE):
            arr = arr.copy()
            arr.flags.writeable = False
        return arr

    # ---- encoding ----

    def _mask(self, mask):
        """A selection mask as contiguous uint8 (one byte per record), or None."""
        if mask is None:
            return None
        arr = np.asarray(mask)
        if arr.shape != (self._count(),):
            raise ValueError(f"mask has shape {arr.shape}, expected ({self._count()},)")
        if arr.dtype != np.bool_:
            arr = arr != 0
        return np.ascontiguousarray(arr).view(np.uint8)

    def encode(self, mask=None, *, bint verbatim=False) -> bytes:
        """The batch as OTLP protobuf bytes; with mask (one entry per record, true keeps) only
        the kept records, dropping scopes and resources left empty. verbatim copies each
        record's input bytes instead of encoding its columns."""
        # A batch that kept its other attributes (attrs_projected 2) may re-encode changed
        # records verbatim: their opaque entries are copied from the input.
        if not verbatim or (self.b.dirty != NULL and self.b.attrs_projected != 2):
            self._whole("encode() from the columns")
        cdef int rc = -1
        cdef size_t n = 0
        cdef uint8_t *op
        marr = self._mask(mask)  # kept alive while the encoder reads it
        cdef const uint8_t *mp = _mask_data(marr)
        cdef PyObject *raw = NULL
        cdef Py_ssize_t room = 0, size = 0
        cdef ottl_verbatim_plan *plan = NULL
        if verbatim and self.b.dirty == NULL:
            # Nothing re-encoded: the exact size is known up front, and the output is written
            # front to back into it (no move of the whole output afterwards).
            with nogil:
                plan = ottl_verbatim_plan_new(self.b, mp)
            if plan != NULL:
                try:
                    size = <Py_ssize_t>ottl_verbatim_size(plan)
                    raw = _out_take(size, &room)
                    if raw == NULL:
                        raise MemoryError("out of memory while encoding")
                    op = <uint8_t *>_bytes_data(raw)
                    with nogil:
                        ottl_verbatim_write(plan, self.b, mp, op)
                finally:
                    ottl_verbatim_free(plan)
                return _out_give(raw, room, size)
        # The encoder writes backwards into a bytes object of a guessed size: the input's size,
        # which an unchanged batch never exceeds; if it does not fit, a larger one. (A larger
        # first guess for changed batches was measured: the fresh pages it touched cost more
        # than the retry it spares a transform that grew its output.)
        cdef size_t cap = <size_t>PyBytes_GET_SIZE(self.data) + 16
        while True:
            raw = _out_take(<Py_ssize_t>cap, &room)
            if raw == NULL:
                raise MemoryError("out of memory while encoding")
            op = <uint8_t *>_bytes_data(raw)
            with nogil:
                rc = ottl_encode(self.b, mp, verbatim, op, <size_t>room, &n)
            if rc == 0:
                break
            _decref(raw)
            cap = 2 * <size_t>room
        if n != <size_t>room:
            memmove(op, op + <size_t>room - n, n)
        return _out_give(raw, room, <Py_ssize_t>n)

    def encode_json(self, mask=None) -> bytes:
        """The batch as OTLP/JSON (compact UTF-8, the form protojson writes: lowerCamelCase
        names, hex ids, 64-bit integers as strings, enums as numbers, defaults left out); with
        mask, only the kept records, as encode() does. The GIL is released meanwhile."""
        self._whole("encode_json()")
        cdef int rc = -1
        cdef size_t n = 0
        cdef uint8_t *op
        marr = self._mask(mask)  # kept alive while the encoder reads it
        cdef const uint8_t *mp = _mask_data(marr)
        # A first guess at the size (OTLP/JSON runs two to three times the protobuf); when it is
        # short, the encoder reports the exact size and the second call fits.
        cdef size_t cap = 3 * <size_t>PyBytes_GET_SIZE(self.data) + 64
        cdef PyObject *raw = NULL
        while True:
            raw = _new_bytes(NULL, <Py_ssize_t>cap)
            if raw == NULL:
                raise MemoryError("out of memory while encoding")
            op = <uint8_t *>_bytes_data(raw)
            with nogil:
                rc = ottl_encode_json(self.b, mp, op, cap, &n)
            if rc == 0:
                break
            _decref(raw)
            cap = n
        if n != cap:
            if _resize_bytes(&raw, <Py_ssize_t>n) < 0:
                raise MemoryError("out of memory while encoding")
        out = <object>raw
        _decref(raw)
        return out


cdef class SpanBatch(_Batch):
    """Spans in columns (docs/batches.md): ``len()``, ``column(name)``, ``records()``,
    ``encode(mask=None)``."""

    cdef size_t _count(self):
        return self.b.spans.n

    def _record(self, size_t i):
        self._check_span(i)
        return self._span(i)

    cdef _check_span(self, size_t i):
        if i >= self.b.spans.n:
            raise IndexError(f"span {i} out of range")

    cdef dict _span(self, size_t i):
        cdef ottl_spans *t = &self.b.spans
        cdef ottl_events *E = &self.b.events
        cdef ottl_links *L = &self.b.links
        cdef uint8_t pr = t.present[i]
        cdef int64_t l
        events = self._span_events(i)
        links = []
        for l in range(t.link_off[i], t.link_off[i + 1]):
            links.append({
                "trace_id": self._id(OTTL_OWNER_LINK, l, 1, L.present[l], OTTL_P_TRACE_ID,
                                     OTTL_P_IRR_TRACE_ID, L.trace_id + 16 * l, 16),
                "span_id": self._id(OTTL_OWNER_LINK, l, 2, L.present[l], OTTL_P_SPAN_ID,
                                    OTTL_P_IRR_SPAN_ID, L.span_id + 8 * l, 8),
                "trace_state": self._str(L.trace_state[l]),
                "attributes": self._attrs(&self.b.link_attrs, L.attr_off[l], L.attr_off[l + 1]),
                "dropped_attributes_count": L.dropped[l],
                "flags": L.flags[l],
            })
        out = {
            "trace_id": self._id(OTTL_OWNER_SPAN, i, 1, pr, OTTL_P_TRACE_ID, OTTL_P_IRR_TRACE_ID,
                                 t.trace_id + 16 * i, 16),
            "span_id": self._id(OTTL_OWNER_SPAN, i, 2, pr, OTTL_P_SPAN_ID, OTTL_P_IRR_SPAN_ID,
                                t.span_id + 8 * i, 8),
            "trace_state": self._str(t.trace_state[i]),
            "parent_span_id": self._id(OTTL_OWNER_SPAN, i, 4, pr, OTTL_P_PARENT_ID,
                                       OTTL_P_IRR_PARENT_ID, t.parent_span_id + 8 * i, 8),
            "flags": t.flags[i],
            "name": self._str(t.name[i]),
            "kind": t.kind[i],
            "start_time_unix_nano": t.start_time[i],
            "end_time_unix_nano": t.end_time[i],
            "attributes": self._attrs(&self.b.span_attrs, t.attr_off[i], t.attr_off[i + 1]),
            "dropped_attributes_count": t.dropped_attrs[i],
            "events": events,
            "dropped_events_count": t.dropped_events[i],
            "links": links,
            "dropped_links_count": t.dropped_links[i],
        }
        if pr & OTTL_P_STATUS:
            out["status"] = {"message": self._str(t.status_message[i]), "code": t.status_code[i]}
        return out

    def _attributes(self, size_t i) -> list:
        """The attributes of span i, as records() shows them."""
        self._check_span(i)
        return self._attrs(&self.b.span_attrs, self.b.spans.attr_off[i],
                           self.b.spans.attr_off[i + 1])

    def _events(self, size_t i) -> list:
        """The events of span i, as records() shows them."""
        self._check_span(i)
        return self._span_events(i)

    cdef list _span_events(self, size_t i):
        cdef ottl_spans *t = &self.b.spans
        cdef ottl_events *E = &self.b.events
        cdef int64_t e
        events = []
        for e in range(t.event_off[i], t.event_off[i + 1]):
            events.append({
                "time_unix_nano": E.time[e],
                "name": self._str(E.name[e]),
                "attributes": self._attrs(&self.b.event_attrs, E.attr_off[e], E.attr_off[e + 1]),
                "dropped_attributes_count": E.dropped[e],
            })
        return events

    def _record_specs(self, dict specs):
        cdef ottl_spans *t = &self.b.spans
        cdef size_t n = t.n
        specs["scope"] = (<size_t>t.scope, n, cnp.NPY_INT32, 0)
        specs["resource"] = (<size_t>t.resource, n, cnp.NPY_INT32, 0)
        specs["trace_id"] = (<size_t>t.trace_id, n, cnp.NPY_UINT8, 16)
        specs["span_id"] = (<size_t>t.span_id, n, cnp.NPY_UINT8, 8)
        specs["parent_span_id"] = (<size_t>t.parent_span_id, n, cnp.NPY_UINT8, 8)
        specs["present"] = (<size_t>t.present, n, cnp.NPY_UINT8, 0)
        specs["trace_state"] = (<size_t>t.trace_state, n, cnp.NPY_INT32, 0)
        specs["name"] = (<size_t>t.name, n, cnp.NPY_INT32, 0)
        specs["status_message"] = (<size_t>t.status_message, n, cnp.NPY_INT32, 0)
        specs["flags"] = (<size_t>t.flags, n, cnp.NPY_UINT32, 0)
        specs["kind"] = (<size_t>t.kind, n, cnp.NPY_INT32, 0)
        specs["status_code"] = (<size_t>t.status_code, n, cnp.NPY_INT32, 0)
        specs["start_time_unix_nano"] = (<size_t>t.start_time, n, cnp.NPY_UINT64, 0)
        specs["end_time_unix_nano"] = (<size_t>t.end_time, n, cnp.NPY_UINT64, 0)
        specs["dropped_attributes_count"] = (<size_t>t.dropped_attrs, n, cnp.NPY_UINT32, 0)
        specs["dropped_events_count"] = (<size_t>t.dropped_events, n, cnp.NPY_UINT32, 0)
        specs["dropped_links_count"] = (<size_t>t.dropped_links, n, cnp.NPY_UINT32, 0)
        specs["attr_off"] = (<size_t>t.attr_off, n + 1, cnp.NPY_INT64, 0)
        specs["event_off"] = (<size_t>t.event_off, n + 1, cnp.NPY_INT64, 0)
        specs["link_off"] = (<size_t>t.link_off, n + 1, cnp.NPY_INT64, 0)
        specs["byte_start"] = (<size_t>t.byte_start, n, cnp.NPY_INT64, 0)
        specs["byte_end"] = (<size_t>t.byte_end, n, cnp.NPY_INT64, 0)
        specs["attrs_at"] = (<size_t>t.attrs_at, n, cnp.NPY_INT64, 0)
        specs["attrs_end"] = (<size_t>t.attrs_end, n, cnp.NPY_INT64, 0)
        self._add_pool(specs, "attributes.", &self.b.span_attrs)
        cdef ottl_events *E = &self.b.events
        specs["events.time_unix_nano"] = (<size_t>E.time, E.n, cnp.NPY_UINT64, 0)
        specs["events.name"] = (<size_t>E.name, E.n, cnp.NPY_INT32, 0)
        specs["events.dropped_attributes_count"] = (<size_t>E.dropped, E.n, cnp.NPY_UINT32, 0)
        specs["events.attr_off"] = (<size_t>E.attr_off, E.n + 1, cnp.NPY_INT64, 0)
        self._add_pool(specs, "events.attributes.", &self.b.event_attrs)
        cdef ottl_links *L = &self.b.links
        specs["links.trace_id"] = (<size_t>L.trace_id, L.n, cnp.NPY_UINT8, 16)
        specs["links.span_id"] = (<size_t>L.span_id, L.n, cnp.NPY_UINT8, 8)
        specs["links.present"] = (<size_t>L.present, L.n, cnp.NPY_UINT8, 0)
        specs["links.trace_state"] = (<size_t>L.trace_state, L.n, cnp.NPY_INT32, 0)
        specs["links.flags"] = (<size_t>L.flags, L.n, cnp.NPY_UINT32, 0)
        specs["links.dropped_attributes_count"] = (<size_t>L.dropped, L.n, cnp.NPY_UINT32, 0)
        specs["links.attr_off"] = (<size_t>L.attr_off, L.n + 1, cnp.NPY_INT64, 0)
        self._add_pool(specs, "links.attributes.", &self.b.link_attrs)


cdef class LogBatch(_Batch):
    """Log records in columns (docs/batches.md): ``len()``, ``column(name)``, ``records()``,
    ``encode(mask=None)``."""

    cdef size_t _count(self):
        return self.b.logs.n

    def _attributes(self, size_t i) -> list:
        """The attributes of log record i, as records() shows them."""
        if i >= self.b.logs.n:
            raise IndexError(f"log record {i} out of range")
        return self._attrs(&self.b.log_attrs, self.b.logs.attr_off[i], self.b.logs.attr_off[i + 1])

    def _record(self, size_t i):
        if i >= self.b.logs.n:
            raise IndexError(f"log record {i} out of range")
        return self._log(i)

    cdef dict _log(self, size_t i):
        cdef ottl_logs *t = &self.b.logs
        cdef uint8_t pr = t.present[i]
        out = {
            "time_unix_nano": t.time[i],
            "observed_time_unix_nano": t.observed_time[i],
            "severity_number": t.severity_number[i],
            "severity_text": self._str(t.severity_text[i]),
            "attributes": self._attrs(&self.b.log_attrs, t.attr_off[i], t.attr_off[i + 1]),
            "dropped_attributes_count": t.dropped[i],
            "flags": t.flags[i],
            "trace_id": self._id(OTTL_OWNER_LOG, i, 9, pr, OTTL_P_TRACE_ID, OTTL_P_IRR_TRACE_ID,
                                 t.trace_id + 16 * i, 16),
            "span_id": self._id(OTTL_OWNER_LOG, i, 10, pr, OTTL_P_SPAN_ID, OTTL_P_IRR_SPAN_ID,
                                t.span_id + 8 * i, 8),
            "event_name": self._str(t.event_name[i]),
        }
        if t.body_tag[i] != OTTL_V_NONE:
            out["body"] = self._value(t.body_tag[i], t.body[i])
        return out

    def _record_specs(self, dict specs):
        cdef ottl_logs *t = &self.b.logs
        cdef size_t n = t.n
        specs["scope"] = (<size_t>t.scope, n, cnp.NPY_INT32, 0)
        specs["resource"] = (<size_t>t.resource, n, cnp.NPY_INT32, 0)
        specs["time_unix_nano"] = (<size_t>t.time, n, cnp.NPY_UINT64, 0)
        specs["observed_time_unix_nano"] = (<size_t>t.observed_time, n, cnp.NPY_UINT64, 0)
        specs["severity_number"] = (<size_t>t.severity_number, n, cnp.NPY_INT32, 0)
        specs["severity_text"] = (<size_t>t.severity_text, n, cnp.NPY_INT32, 0)
        specs["event_name"] = (<size_t>t.event_name, n, cnp.NPY_INT32, 0)
        specs["body_tag"] = (<size_t>t.body_tag, n, cnp.NPY_UINT8, 0)
        specs["body"] = (<size_t>t.body, n, cnp.NPY_INT64, 0)
        specs["dropped_attributes_count"] = (<size_t>t.dropped, n, cnp.NPY_UINT32, 0)
        specs["flags"] = (<size_t>t.flags, n, cnp.NPY_UINT32, 0)
        specs["trace_id"] = (<size_t>t.trace_id, n, cnp.NPY_UINT8, 16)
        specs["span_id"] = (<size_t>t.span_id, n, cnp.NPY_UINT8, 8)
        specs["present"] = (<size_t>t.present, n, cnp.NPY_UINT8, 0)
        specs["attr_off"] = (<size_t>t.attr_off, n + 1, cnp.NPY_INT64, 0)
        specs["byte_start"] = (<size_t>t.byte_start, n, cnp.NPY_INT64, 0)
        specs["byte_end"] = (<size_t>t.byte_end, n, cnp.NPY_INT64, 0)
        specs["attrs_at"] = (<size_t>t.attrs_at, n, cnp.NPY_INT64, 0)
        specs["attrs_end"] = (<size_t>t.attrs_end, n, cnp.NPY_INT64, 0)
        self._add_pool(specs, "attributes.", &self.b.log_attrs)
