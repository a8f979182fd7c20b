# cython: language_level=3
"""The C interpreter's face: load (and verify) a compiled program, run it over a batch.

``ottl.compiler`` produces the arrays this module takes; ``ottl.engine`` is the public API.
The run releases the GIL; gathering the attribute columns a program reads (once per batch and
key, kept with the batch) happens just before, under it, because it writes the batch.
"""

cimport numpy as cnp
from cpython.mem cimport PyMem_Free, PyMem_Malloc
from libc.stdint cimport int32_t, int64_t, uint8_t, uint32_t, uint64_t
from libc.string cimport memcpy

from ottl._batch cimport (
    OTTL_V_ABSENT,
    OTTL_V_ARRAY,
    OTTL_V_BOOL,
    OTTL_V_BYTES,
    OTTL_V_DOUBLE,
    OTTL_V_EMPTY,
    OTTL_V_INT,
    OTTL_V_KVLIST,
    OTTL_V_NONE,
    OTTL_V_STRING,
    LogBatch,
    SpanBatch,
    _Batch,
    ottl_batch,
    ottl_kvpool,
    ottl_strtab,
)

import numpy as np

from ottl.eval.values import PMap, PSlice

cnp.import_array()


class VMError(ValueError):
    """A program the verifier refused (``pc`` is the instruction, or -1), or a failed run."""

    def __init__(self, message: str, pc: int = -1):
        self.pc = pc
        super().__init__(message if pc < 0 else f"{message} (at pc {pc})")


class VMNeedsReference(VMError):
    """The batch holds what the VM does not read but the reference evaluator judges (an id of
    irregular length where the program reads ids): run the reference over it instead."""


cdef _raise(ottl_vm_error *err):
    message = err.message.decode("utf-8", "replace")
    if err.pc == OTTL_VM_NEEDS_REFERENCE:
        raise VMNeedsReference(message)
    raise VMError(message, err.pc)


cdef class VMProgram:
    """A verified program: the arrays of ``ottl.compiler.Program`` copied into C."""

    cdef ottl_vm_program *p

    def __cinit__(self, code, const_tags, const_vals, strings, int nregs, int nmasks):
        cdef const int32_t[::1] c = np.ascontiguousarray(code, dtype=np.int32)
        cdef const uint8_t[::1] ct = np.ascontiguousarray(const_tags, dtype=np.uint8)
        cdef const int64_t[::1] cv = np.ascontiguousarray(const_vals, dtype=np.int64)
        if ct.shape[0] != cv.shape[0]:
            raise ValueError("constant tags and values differ in length")
        offsets = [0]
        for s in strings:
            offsets.append(offsets[len(offsets) - 1] + len(s))
        cdef bytes blob = b"".join(strings)
        cdef const int64_t[::1] so = np.asarray(offsets, dtype=np.int64)
        cdef const uint8_t *blob_p = <const uint8_t *><char *>blob
        cdef ottl_vm_error err
        cdef int32_t dummy_code = 0
        cdef uint8_t dummy_tag = 0
        cdef int64_t dummy_val = 0
        rc = ottl_vm_load(&c[0] if c.shape[0] else &dummy_code, c.shape[0],
                          &ct[0] if ct.shape[0] else &dummy_tag,
                          &cv[0] if cv.shape[0] else &dummy_val, ct.shape[0],
                          blob_p, &so[0], len(strings), nregs, nmasks, &self.p, &err)
        if rc:
            _raise(&err)

    def __dealloc__(self):
        ottl_vm_free(self.p)

    @property
    def signal(self) -> str:
        """"traces", "logs", or "" when the program reads no signal's own fields."""
        return {1: "traces", 2: "logs"}.get(self.p.signal, "")

    def filter(self, _Batch batch not None, derived=()):
        """A uint8 mask with one entry per record: 1 where the condition holds. ``derived``:
        the (tags, values) columns the program's LOAD_DERIVED slots read, in slot order."""
        cdef ottl_vm_error err
        cdef ottl_batch *b = batch.b
        n = len(batch)
        out = np.empty(n, dtype=np.uint8)
        cdef uint8_t[::1] o = out
        cdef uint8_t dummy = 0
        cdef uint8_t *op = &o[0] if n else &dummy
        cdef ottl_vm_derived *dp = NULL
        cdef size_t nd = 0
        if derived:  # most programs read none: no per-call allocation then
            keep, cols = _derived_columns(derived, n)
            dp = _derived_pointer(cols)
            nd = len(keep) // 2
        rc = ottl_vm_prepare(self.p, b, &err)
        # Reading ids or kind names interns them: the string table may have moved.
        batch._specs = None
        if rc:
            _raise(&err)
        with nogil:
            rc = ottl_vm_filter_derived(self.p, b, dp, nd, op, &err)
        if rc:
            _raise(&err)
        return out

    @property
    def nderived(self) -> int:
        """How many derived columns each run must bring."""
        return self.p.nderived


    @property
    def writes(self) -> bool:
        """True for a statement (it writes the batch), False for a condition."""
        return bool(self.p.writes)

    def execute(self, _Batch batch not None, gate=None, derived=()):
        """Runs a statement over the batch, changing it in place; ``gate`` (one entry per
        record, true lets the statement touch it) limits the records. Returns the uint8 mask of
        the records where the statement ran (its where clause held)."""
        cdef ottl_vm_error err
        cdef ottl_batch *b = batch.b
        n = len(batch)
        out = np.empty(n, dtype=np.uint8)
        cdef uint8_t[::1] o = out
        cdef const uint8_t[::1] g
        cdef const uint8_t *gp = NULL
        cdef uint8_t dummy = 0
        cdef uint8_t *op = &o[0] if n else &dummy
        if gate is not None:
            arr = np.ascontiguousarray(np.asarray(gate) != 0).view(np.uint8)
            if arr.shape != (n,):
                raise ValueError(f"gate has shape {arr.shape}, expected ({n},)")
            g = arr
            gp = &g[0] if n else &dummy
        cdef ottl_vm_derived *dp = NULL
        cdef size_t nd = 0
        if derived:
            keep, cols = _derived_columns(derived, n)
            dp = _derived_pointer(cols)
            nd = len(keep) // 2
        if ottl_vm_prepare(self.p, b, &err):
            _raise(&err)
        # The string table and attribute pools may move: the batch's column views are stale.
        batch._specs = None
        with nogil:
            rc = ottl_vm_execute_derived(self.p, b, gp, dp, nd, op, &err)
        if rc:
            _raise(&err)
        return out


cdef class _DerivedArray:
    """The C array of derived-column pointers for one run (freed with the object)."""
    cdef ottl_vm_derived *items
    cdef size_t n

    def __dealloc__(self):
        PyMem_Free(self.items)


def _derived_columns(derived, Py_ssize_t n):
    """Checks and pins the derived columns: a flat list of arrays kept alive for the run, and
    the _DerivedArray pointing at them."""
    keep = []
    cdef _DerivedArray arr = _DerivedArray()
    arr.n = len(derived)
    arr.items = <ottl_vm_derived *>PyMem_Malloc((arr.n or 1) * sizeof(ottl_vm_derived))
    if arr.items == NULL:
        raise MemoryError()
    cdef const uint8_t[::1] t
    cdef const int64_t[::1] v
    cdef uint8_t dummy_t = 0
    cdef int64_t dummy_v = 0
    for i, (tags, vals) in enumerate(derived):
        tags = np.ascontiguousarray(tags, dtype=np.uint8)
        vals = np.ascontiguousarray(vals, dtype=np.int64)
        if tags.shape != (n,) or vals.shape != (n,):
            raise ValueError(f"derived column {i} does not have one value per record ({n})")
        keep += [tags, vals]
        t = tags
        v = vals
        arr.items[i].tags = &t[0] if n else &dummy_t
        arr.items[i].vals = &v[0] if n else &dummy_v
    return keep, arr


cdef ottl_vm_derived *_derived_pointer(_DerivedArray arr):
    return arr.items


def column(_Batch batch not None, int field, key=None, bint absent=False):
    """(tags, values) of one field (a field id of ottl.compiler.opcodes.FIELDS) or, with
    ``key`` (str), one attribute of an attributes field, over the batch's records; strings as
    batch string ids. A copy: for computing derived columns. With ``absent``, a record
    without the key has the tag TAG_ABSENT instead of nil's."""
    n = len(batch)
    tags = np.empty(n, dtype=np.uint8)
    vals = np.empty(n, dtype=np.int64)
    cdef uint8_t[::1] t = tags
    cdef int64_t[::1] v = vals
    cdef uint8_t dt = 0
    cdef int64_t dv = 0
    cdef bytes k = key.encode("utf-8", "surrogatepass") if key is not None else None
    cdef const uint8_t *kp = <const uint8_t *><char *>k if k is not None else NULL
    cdef size_t klen = len(k) if k is not None else 0
    rc = ottl_vm_column(NULL, batch.b, field, kp, klen, OTTL_V_ABSENT if absent else OTTL_V_NONE,
                        &t[0] if n else &dt, &v[0] if n else &dv)
    batch._specs = None  # ids or kind names were interned: the string table may have moved
    if rc == OTTL_VM_NEEDS_REFERENCE:
        from ottl.compiler.opcodes import FIELDS
        f = FIELDS[field]
        raise VMNeedsReference(f"{f.context}.{f.path}: a record of this batch has an id of "
                               "irregular length")
    if rc:
        raise VMError(f"field {field} cannot be read as a column of this batch")
    return tags, vals


cdef extern from "strtab.h" nogil:
    int32_t ottl_strtab_find(const ottl_strtab *t, const uint8_t *p, size_t len)


def follow_keys(_Batch batch not None, tags, vals, keys) -> tuple:
    """Literal ``keys`` (str or int) followed into each value of a column (as ``column``
    gives it, maps and lists as runs of the value pool), as the reference's read_keys follows
    them: a missing map key reads nil (and ends the walk), as does a missing attribute
    (TAG_ABSENT). Returns (tags, vals, left): the values reached (a map or list as its run), and
    the rows the reference must decide, where following fails (a key of the wrong type, an
    index out of range, a value that cannot be indexed), holding nil here."""
    cdef const uint8_t[::1] in_t = np.ascontiguousarray(tags, dtype=np.uint8)
    cdef const int64_t[::1] in_v = np.ascontiguousarray(vals, dtype=np.int64)
    cdef Py_ssize_t n = in_t.shape[0], nk = len(keys), i, k
    if in_v.shape[0] != n:
        raise ValueError("tags and vals differ in length")
    key_val = np.empty(max(nk, 1), dtype=np.int64)
    key_str = np.zeros(max(nk, 1), dtype=np.uint8)
    cdef bytes raw
    for k, key in enumerate(keys):
        if isinstance(key, str):
            raw = key.encode("utf-8", "surrogatepass")
            key_str[k] = 1
            key_val[k] = ottl_strtab_find(&batch.b.strings, <const uint8_t *><char *>raw, len(raw))
        elif type(key) is int:
            key_val[k] = key
        else:
            raise TypeError(f"a key must be a str or an int, not {type(key).__name__}")
    out_tags = np.empty(n, dtype=np.uint8)
    out_vals = np.empty(n, dtype=np.int64)
    left = np.zeros(n, dtype=np.bool_)
    cdef uint8_t[::1] ot = out_tags
    cdef int64_t[::1] ov = out_vals
    cdef uint8_t[::1] lt = left.view(np.uint8)
    cdef const int64_t[::1] kv = key_val
    cdef const uint8_t[::1] ks = key_str
    cdef const ottl_kvpool *pool = &batch.b.values
    cdef uint8_t t
    cdef int64_t v, found, j, start, count
    cdef bint bad
    with nogil:
        for i in range(n):
            t, v, bad = in_t[i], in_v[i], False
            if t == OTTL_V_ABSENT:
                t, v = OTTL_V_NONE, 0
            else:
                for k in range(nk):
                    start = v & <int64_t>0xffffffff
                    count = <int64_t>((<uint64_t>v) >> 32)
                    if t == OTTL_V_KVLIST and ks[k]:
                        found = -1
                        if kv[k] >= 0:
                            for j in range(start, start + count):
                                if pool.key[j] == kv[k]:
                                    found = j  # the last wins, as in the reference's map
                        if found < 0:
                            t, v = OTTL_V_NONE, 0
                            break
                        t, v = pool.tag[found], pool.val[found]
                    elif t == OTTL_V_ARRAY and not ks[k] and 0 <= kv[k] < count:
                        t, v = pool.tag[start + kv[k]], pool.val[start + kv[k]]
                    else:
                        bad = True
                        break
            if t == OTTL_V_EMPTY:
                t = OTTL_V_NONE
            elif t > OTTL_V_BYTES and t != OTTL_V_NONE:  # not a value a column holds
                bad = True
            if bad:
                t, v = OTTL_V_NONE, 0
            ot[i], ov[i], lt[i] = t, v, bad
    return out_tags, out_vals, left


cdef int32_t _intern_bytes(_Batch batch, bytes raw) except -1:
    cdef int32_t sid = ottl_vm_intern(batch.b, <const uint8_t *><char *>raw, len(raw))
    if sid < 0:
        raise MemoryError("out of memory while interning a string")
    return sid


def intern(_Batch batch not None, bytes value) -> int:
    """The batch's string id of ``value``, adding it (the batch's column views go stale)."""
    cdef int32_t sid = _intern_bytes(batch, value)
    batch._specs = None
    return sid


MAPEDIT_KINDS = {"keep": OTTL_MAPEDIT_KEEP, "limit": OTTL_MAPEDIT_LIMIT,
                 "values": OTTL_MAPEDIT_VALUES, "keys": OTTL_MAPEDIT_KEYS,
                 "merge": OTTL_MAPEDIT_MERGE}
MERGE_STRATEGIES = {"insert": OTTL_MERGE_INSERT, "update": OTTL_MERGE_UPDATE,
                    "upsert": OTTL_MERGE_UPSERT}


def map_edit(_Batch batch not None, int owner, mask, str kind, table, int64_t limit=0) -> None:
    """Rewrites the attribute map (``owner``: the record attributes field id) of every record
    where ``mask`` is true (csrc/vm_mapedit.h): "keep" keeps the keys where ``table`` (uint8,
    by string id) is nonzero; "limit" keeps the keys where it is nonzero and others up to
    ``limit``; "values" replaces string values v by table[v] (int32) where >= 0; "keys"
    renames keys likewise (-2 drops); "merge" merges into each record's map the kvlist
    ``table`` = (tags uint8, values int64, one per record) holds for it, ``limit`` being the
    strategy (MERGE_STRATEGIES), records whose value is not a kvlist left alone. Changed
    records are marked dirty."""
    if kind not in MAPEDIT_KINDS:
        raise ValueError(f"unknown map edit {kind!r}")
    n = len(batch)
    m = np.ascontiguousarray(np.asarray(mask) != 0).view(np.uint8)
    if m.shape != (n,):
        raise ValueError(f"mask has shape {m.shape}, expected ({n},)")
    cdef ottl_mapedit op
    op.kind = MAPEDIT_KINDS[kind]
    op.limit = limit
    op.keep = NULL
    op.map = NULL
    op.src_tag = NULL
    op.src_val = NULL
    cdef const uint8_t[::1] keep
    cdef const int32_t[::1] mp
    cdef const uint8_t[::1] mv = m
    cdef const uint8_t[::1] st
    cdef const int64_t[::1] sv
    cdef uint8_t dummy = 0
    cdef int32_t dummy_map = 0
    cdef int64_t dummy_val = 0
    if kind == "merge":
        if limit not in MERGE_STRATEGIES.values():
            raise ValueError(f"unknown merge strategy {limit}")
        tags = np.ascontiguousarray(table[0], dtype=np.uint8)
        vals = np.ascontiguousarray(table[1], dtype=np.int64)
        if tags.shape != (n,) or vals.shape != (n,):
            raise ValueError(f"merge needs one value per record ({n})")
        st = tags
        sv = vals
        op.src_tag = &st[0] if n else &dummy
        op.src_val = &sv[0] if n else &dummy_val
        arr = tags
    elif kind in ("keep", "limit"):
        arr = np.ascontiguousarray(table, dtype=np.uint8)
        keep = arr
        op.keep = &keep[0] if arr.shape[0] else &dummy
    else:
        arr = np.ascontiguousarray(table, dtype=np.int32)
        mp = arr
        op.map = &mp[0] if arr.shape[0] else &dummy_map
    op.table_len = arr.shape[0]
    if arr.ndim != 1:
        raise ValueError("the table must be one-dimensional")
    batch._specs = None
    with nogil:
        rc = ottl_vm_map_edit(batch.b, owner, &mv[0] if n else &dummy, &op)
    if rc == -2:
        raise ValueError(f"field {owner} is not this batch's record attributes or cache, "
                         "or the edit is malformed")
    if rc:
        raise MemoryError("out of memory while editing attributes (the batch is lost)")


def reset_cache(_Batch batch not None) -> None:
    """Empties every record's ``cache`` map (statements' scratch, never encoded)."""
    ottl_vm_cache_reset(batch.b)
    batch._specs = None


def dirty_records(_Batch batch not None):
    """A bool array, one per record: True where a statement changed the record."""
    cdef const uint8_t *d = ottl_vm_dirty(batch.b)
    n = len(batch)
    out = np.zeros(n, dtype=np.bool_)
    cdef uint8_t[::1] o = out.view(np.uint8)
    cdef size_t i
    if d != NULL:
        for i in range(<size_t>n):
            o[i] = d[i] != 0
    return out


def simd() -> str:
    """The block kernels in use: "avx2" or "scalar"."""
    return ottl_vm_simd().decode()


def opcode_table() -> list:
    """The instruction set as the C side was built with it (vm_opcodes.h): one (name, operand
    kinds) pair per opcode, in opcode order. Tests compare it with ottl.compiler.opcodes."""
    return [(ottl_op_names[i].decode(), ottl_op_operands[i].decode()) for i in range(OP_COUNT)]


def field_table() -> list:
    """The fields as the C side knows them, one (batch kind: 1 spans, 2 logs, 0 either; 1 when
    every row is an int) pair per field id."""
    return [(ottl_field_signal[i], ottl_field_is_int[i]) for i in range(F_COUNT)]


def operator_counts() -> tuple:
    """(comparison operators, math operators) in the C build."""
    return (CMP_COUNT, MATH_COUNT)


def force_scalar(bint on) -> None:
    """Use the scalar kernels (True) or choose by CPU again (False); also OTTL_SIMD=scalar."""
    ottl_vm_force_scalar(on)


PARENT_OWNERS = {"resource": OTTL_PARENT_RESOURCE, "scope": OTTL_PARENT_SCOPE}
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1  # Python ints: no C arithmetic


cdef int32_t _intern_text(_Batch batch, str text) except -1:
    return _intern_bytes(batch, text.encode("utf-8", "surrogatepass"))


cdef tuple _batch_value(_Batch batch, value):
    """(tag, payload) of a reference value (ottl.eval.values) stored into the batch: strings
    and bytes interned, maps and slices as runs of the value pool (children first). The types
    and their order are the reference's OTLP/JSON writer's (ottl.eval.otlp_json)."""
    if value is None:
        return (OTTL_V_EMPTY, 0)
    if isinstance(value, bool):
        return (OTTL_V_BOOL, 1 if value else 0)
    if isinstance(value, int):
        if not _INT64_MIN <= value <= _INT64_MAX:
            raise TypeError(f"an int outside int64: {value}")
        return (OTTL_V_INT, value)
    if isinstance(value, float):
        return (OTTL_V_DOUBLE, _double_bits(value))
    if isinstance(value, str):
        return (OTTL_V_STRING, _intern_text(batch, value))
    if isinstance(value, bytes):
        return (OTTL_V_BYTES, _intern_bytes(batch, bytes(value)))
    if isinstance(value, PMap):
        keys = [_intern_text(batch, k) for k in value.keys()]
        return (OTTL_V_KVLIST, _push_run(batch, keys, list(value.values())))
    if isinstance(value, PSlice):
        return (OTTL_V_ARRAY, _push_run(batch, None, list(value)))
    raise TypeError(f"a {type(value).__name__} value, which OTLP cannot hold")


cdef int64_t _double_bits(double d):
    cdef int64_t bits
    memcpy(&bits, &d, sizeof(bits))
    return bits


cdef int64_t _push_run(_Batch batch, keys, list items) except? -1:
    pairs = [_batch_value(batch, item) for item in items]  # nested runs go in first
    # one entry more than the run holds, so that an empty run still has an address for C
    cdef size_t n = len(pairs), i
    cdef int32_t *k = <int32_t *>PyMem_Malloc((n + 1) * sizeof(int32_t))
    cdef uint8_t *t = <uint8_t *>PyMem_Malloc((n + 1) * sizeof(uint8_t))
    cdef int64_t *v = <int64_t *>PyMem_Malloc((n + 1) * sizeof(int64_t))
    cdef int64_t packed = 0
    cdef int rc
    try:
        if k == NULL or t == NULL or v == NULL:
            raise MemoryError("out of memory while storing a value")
        for i in range(n):
            k[i] = keys[i] if keys is not None else 0
            t[i], v[i] = pairs[i]
        rc = ottl_vm_push_values(batch.b, n, k if keys is not None else NULL, t, v, &packed)
    finally:
        PyMem_Free(k)
        PyMem_Free(t)
        PyMem_Free(v)
    if rc:
        raise MemoryError("out of memory while storing a value")
    return packed


def store_value(_Batch batch not None, value) -> tuple:
    """A reference value (ottl.eval.values) stored into the batch, as (tag, payload) for a
    derived column: strings and bytes interned, maps and slices as runs of the value pool.
    Raises TypeError for a value OTLP cannot hold."""
    batch._specs = None  # the string table or the value pool may move
    return _batch_value(batch, value)


cdef class _Row:
    """A row's attributes stored into the batch (keys interned, values as set_parent takes
    them), in the arrays an ottl_parent_row points into."""
    cdef int32_t *keys
    cdef uint8_t *tags
    cdef int64_t *vals
    cdef size_t n

    def __cinit__(self):
        self.keys = NULL
        self.tags = NULL
        self.vals = NULL
        self.n = 0

    def __dealloc__(self):
        PyMem_Free(self.keys)
        PyMem_Free(self.tags)
        PyMem_Free(self.vals)

    def __init__(self, _Batch batch, attributes):
        cdef size_t cap = len(attributes) + 1  # + 1: an empty row still has an address
        self.keys = <int32_t *>PyMem_Malloc(cap * sizeof(int32_t))
        self.tags = <uint8_t *>PyMem_Malloc(cap * sizeof(uint8_t))
        self.vals = <int64_t *>PyMem_Malloc(cap * sizeof(int64_t))
        if self.keys == NULL or self.tags == NULL or self.vals == NULL:
            raise MemoryError("out of memory while storing attributes")
        cdef size_t i = 0
        for key, value in attributes.items():
            if i + 1 >= cap:
                raise RuntimeError("the attributes changed while they were being stored")
            self.keys[i] = _intern_text(batch, key)
            self.tags[i], self.vals[i] = _batch_value(batch, value)
            i += 1
        self.n = i

    cdef ottl_parent_row row(self, uint32_t dropped):
        cdef ottl_parent_row w
        w.n = self.n
        w.keys = self.keys
        w.tags = self.tags
        w.vals = self.vals
        w.dropped = dropped
        w.schema_url = w.name = w.version = 0
        return w


def set_parent(_Batch batch not None, str owner, Py_ssize_t row, attributes,
               uint32_t dropped, str schema_url, str name="", str version="") -> None:
    """Replaces one resource or scope row (``owner``: "resource" or "scope") of the batch:
    its attributes (a mapping of reference values, ottl.eval.values, in order), dropped count,
    schema URL and, for a scope, name and version. Raises TypeError for a value OTLP cannot
    hold, leaving the batch unchanged (strings interned aside)."""
    if owner not in PARENT_OWNERS:
        raise ValueError(f"owner must be 'resource' or 'scope', got {owner!r}")
    if row < 0:
        raise IndexError(f"{owner} row {row} out of range")
    entries = _Row(batch, attributes)
    cdef ottl_parent_row w = entries.row(dropped)
    w.schema_url = _intern_text(batch, schema_url)
    w.name = _intern_text(batch, name)
    w.version = _intern_text(batch, version)
    batch._specs = None
    rc = ottl_vm_set_parent(batch.b, PARENT_OWNERS[owner], <size_t>row, &w)
    if rc == -2:
        raise IndexError(f"{owner} row {row} out of range")
    if rc:
        raise MemoryError(f"out of memory while writing {owner} {row}")


def set_rows(_Batch batch not None, int field, rows, maps) -> None:
    """Replaces the attribute rows ``rows`` (ascending record indexes) of the map field
    ``field`` (a record's attributes or cache, a field id of ottl.compiler.opcodes.FIELDS) with
    ``maps`` (mappings of reference values, in order), in one rebuild; a row already holding
    exactly that is left as it came, the others are marked dirty. Raises TypeError for a value
    OTLP cannot hold and IndexError for rows out of order or range, leaving the batch
    unchanged (strings interned aside)."""
    if len(rows) != len(maps):
        raise ValueError("rows and maps differ in length")
    cdef Py_ssize_t count = len(rows), k
    entries = [_Row(batch, m) for m in maps]
    at = np.ascontiguousarray(rows, dtype=np.int64)
    cdef const int64_t[::1] r = at if count else np.zeros(1, dtype=np.int64)
    cdef ottl_parent_row *w = <ottl_parent_row *>PyMem_Malloc((count + 1) * sizeof(ottl_parent_row))
    if w == NULL:
        raise MemoryError("out of memory while writing attribute rows")
    try:
        for k in range(count):
            w[k] = (<_Row>entries[k]).row(0)
        batch._specs = None
        rc = ottl_vm_set_rows(batch.b, field, <size_t>count, &r[0], w)
    finally:
        PyMem_Free(w)
    if rc == -2:
        raise IndexError(f"rows out of order or range, or field {field} is not a record's map")
    if rc:
        raise MemoryError("out of memory while writing attribute rows")


def set_ids(_Batch batch not None, int field, rows, bytes ids) -> None:
    """Sets the id ``field`` (a trace, span or parent span id field of the batch's records, or
    its ``.string`` field) of the records ``rows`` (ascending) to ``ids``: their bytes back to
    back, 16 or 8 per record. An all-zero id clears the field, as the reference's empty id
    leaves it out of OTLP. Records whose id changed are re-encoded from the columns.
    ValueError for another field, rows out of range or order, or ids of the wrong length."""
    cdef const int64_t[::1] r = np.ascontiguousarray(rows, dtype=np.int64)
    cdef size_t n = <size_t>r.shape[0]
    width = 16 if field in (F_SPAN_TRACE_ID, F_SPAN_TRACE_ID_STRING, F_LOG_TRACE_ID,
                            F_LOG_TRACE_ID_STRING) else 8
    if <size_t>len(ids) != n * width:
        raise ValueError(f"{len(ids)} bytes of ids for {n} records of {width}-byte ids")
    if n == 0:
        return
    batch._specs = None
    rc = ottl_vm_set_ids(batch.b, field, n, &r[0], <const uint8_t *>ids)
    if rc == -2:
        raise ValueError(f"field {field} is not an id of this batch's records, or rows are out "
                         "of range or order")
    if rc:
        raise MemoryError("out of memory while setting ids")


def set_event(_Batch batch not None, Py_ssize_t row, str name, uint64_t time, attributes,
              uint32_t dropped) -> bool:
    """Replaces span event ``row`` (of the batch's events table): its name, time, attributes
    (a mapping of reference values, in order) and dropped attribute count. The span holding
    it is then re-encoded from the columns. Returns False, writing nothing, when the event
    already holds exactly that (a map or list attribute value always counts as new). Raises
    TypeError for a value OTLP cannot hold (OverflowError for a time outside uint64), leaving
    the batch unchanged (strings interned aside); ValueError for a batch of logs."""
    if not isinstance(batch, SpanBatch):
        raise ValueError("span events are in span batches only")
    if row < 0:
        raise IndexError(f"event row {row} out of range")
    entries = _Row(batch, attributes)
    cdef ottl_parent_row w = entries.row(dropped)
    w.name = _intern_text(batch, name)
    batch._specs = None
    rc = ottl_vm_set_event(batch.b, <size_t>row, &w, time)
    if rc == -2:
        raise IndexError(f"event row {row} out of range")
    if rc < 0:
        raise MemoryError(f"out of memory while writing event {row}")
    return rc == 0


def keep_events(_Batch batch not None, keep) -> None:
    """Removes the span events whose entry in ``keep`` (a bool array, one per event of the
    batch) is False, with their attributes; the spans that lost events are re-encoded from
    the columns. ValueError for a batch of logs or a mask of the wrong length."""
    if not isinstance(batch, SpanBatch):
        raise ValueError("span events are in span batches only")
    mask = np.ascontiguousarray(keep, dtype=np.bool_)
    if mask.ndim != 1 or <size_t>mask.size != batch.b.events.n:
        raise ValueError(f"keep has {mask.size} entries for {batch.b.events.n} events")
    if mask.all():
        return
    cdef const uint8_t[::1] m = mask.view(np.uint8)
    batch._specs = None
    if ottl_vm_keep_events(batch.b, &m[0]):
        raise MemoryError("out of memory while dropping span events")


cdef extern from "vm_events.h" nogil:
    ottl_batch *ottl_vm_events_as_logs(const ottl_batch *b)
    int ottl_vm_events_from_logs(ottl_batch *b, ottl_batch *logs)


def events_as_logs(_Batch batch not None) -> LogBatch:
    """A new LogBatch with one record per span event of ``batch``, in event order: its time,
    event_name (the event's name), attributes and dropped count, under the resource and scope
    of the event's span. Strings, nested values, resources and scopes are copies with the
    same ids and rows, so a spanevent group compiled for the log context runs on it without
    touching ``batch``; ``events_from_logs`` then writes its changes back. ValueError for a
    batch of logs."""
    if not isinstance(batch, SpanBatch):
        raise ValueError("span events are in span batches only")
    cdef ottl_batch *l = ottl_vm_events_as_logs(batch.b)
    if l == NULL:
        raise MemoryError("out of memory while copying span events")
    cdef _Batch out = LogBatch.__new__(LogBatch)
    out.b = l
    out.data = batch.data  # the entries' input offsets point into it
    return out


def events_from_logs(_Batch batch not None, _Batch logs not None) -> None:
    """Writes the records of ``logs`` (from ``events_as_logs(batch)``, then changed by log
    statements) back as the span events of ``batch`` when any changed; the spans holding a
    changed event are re-encoded from the columns. ``logs`` is spent: it is left empty.
    ValueError when ``logs`` does not hold one record per event of ``batch``."""
    if not isinstance(batch, SpanBatch) or not isinstance(logs, LogBatch):
        raise ValueError("events_from_logs takes a span batch and the log batch of its events")
    batch._specs = None
    logs._specs = None
    rc = ottl_vm_events_from_logs(batch.b, logs.b)
    if rc == -2:
        raise ValueError(f"the log batch holds {logs.b.logs.n} records for "
                         f"{batch.b.events.n} span events")
    if rc:
        raise MemoryError("out of memory while writing span events back")
