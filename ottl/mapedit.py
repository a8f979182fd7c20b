"""Editors of a record's whole attribute map on the fast engine.

``keep_keys``, ``keep_matching_keys``, ``delete_matching_keys``, ``limit``,
``replace_all_patterns``, ``replace_all_matches`` and ``truncate_all`` decide per key or per
string value. ``MapEditor`` asks the reference implementation of the editor itself, once per
distinct key (or string value) of the batch, what it does to a map holding only that entry,
and hands the answers to the C kernel (``ottl._vm.map_edit``, csrc/vm_mapedit.c) as a table by
string id; the kernel rewrites every selected record's map in one pass. ``limit``, which
depends on how many entries a map has, passes its priority keys and the limit instead;
``merge_maps`` passes each record's source map (an attribute, a converter's result stored in
the batch's value pool, or a constant map stored there once) and its strategy, and the
reference editor itself words the error of a source that is not a map.

An editor of whole maps with no kernel (``flatten``, ``stringify_all``) runs the reference
editor over each selected record's map, and the maps it changed are written back in one
rebuild of the pool (``ottl._vm.set_rows``); a record it fails on is left alone and reported.
"""

from __future__ import annotations

from typing import Any, Optional, Sequence

import numpy as np

from ottl import _vm
from ottl._batch import (
    TAG_ARRAY,
    TAG_BOOL,
    TAG_BYTES,
    TAG_DOUBLE,
    TAG_EMPTY,
    TAG_INT,
    TAG_KVLIST,
    TAG_NONE,
    TAG_STRING,
)
from ottl.compiler.compile import MAP_EDITORS as KERNEL_EDITORS
from ottl.compiler.opcodes import FIELDS
from ottl.derive import (
    TAG_PARENT_MAP,
    Failure,
    NeedsReference,
    from_python,
    map_column,
    to_python,
)
from ottl.eval.batch_model import attributes_from_otlp
from ottl.eval.errors import OttlRuntimeError
from ottl.eval.interpreter import compile_constant_of, compile_edit_of
from ottl.eval.values import PMap
from ottl.lang.errors import OttlError

_BY_KEY = ("keep_keys", "keep_matching_keys", "delete_matching_keys")
# merge_maps reads each source map as the reference's map holds it in a quadratic pass (maps
# are small); a larger one goes to the reference.
MAX_MERGED_ENTRIES = 256


_NOT_STRINGS = (TAG_EMPTY, TAG_BOOL, TAG_INT, TAG_DOUBLE, TAG_ARRAY, TAG_KVLIST, TAG_BYTES,
                TAG_NONE)


def _argument(call: Any, i: int) -> Any:
    """The constant value of argument ``i`` of a call (None when omitted)."""
    a = call.args[i] if len(call.args) > i else None
    return None if a is None else a.value.value


def _may_change(batch: Any, changing: tuple[int, ...]) -> np.ndarray:
    """Per record: whether its attributes hold a value with one of the ``changing`` tags."""
    off, tags = batch.column("attr_off"), batch.column("attributes.tag")
    n = len(batch)
    row = np.repeat(np.arange(n, dtype=np.int64), np.diff(off))
    return np.bincount(row[np.isin(tags, changing)], minlength=n) > 0


def _parent_maps(batch: Any, field: int) -> tuple[np.ndarray, np.ndarray]:
    """Per record, its resource's or scope's whole attributes map (``field``) as merge_maps'
    source: each parent's map stored once in the value pool, as a set would store it."""
    _, owners = map_column(batch, field)
    distinct, inverse = np.unique(owners, return_inverse=True)
    pairs = [from_python(batch, "merge_maps' source", to_python(batch, TAG_PARENT_MAP, owner),
                         stored=True) for owner in distinct.tolist()]
    tags = np.array([t for t, _ in pairs], dtype=np.uint8)
    vals = np.array([v for _, v in pairs], dtype=np.int64)
    inverse = inverse.reshape(-1)
    return tags[inverse], vals[inverse]


class MapEditor:
    """One statement's map editor (``Program.map_edit``), bound to its reference function."""

    def __init__(self, call: Any, field: int, source: str,
                 gates: frozenset[str] = frozenset(), merged: Optional[tuple] = None) -> None:
        """``merged``: merge_maps' source (a Derived source tuple: ("derived", slot) or
        ("field", field id, key); or ("const", node) for a constant)."""
        self.name = call.spec.name
        self.field = field
        self._merged = merged
        if self.name == "merge_maps":
            self._strategy = _vm.MERGE_STRATEGIES[call.args[2].value.value]
            if merged is not None and merged[0] == "const":
                self._constant = compile_constant_of(merged[1], source, gates)
            # the reference editor with its source standing in: the error a value gives
            self._apply = compile_edit_of(call, source, gates, leaves=((1, None),))
            return
        self._apply = compile_edit_of(call, source, gates)
        self._by_row = self.name not in KERNEL_EDITORS
        # The maps a row editor gives back unchanged, by their value tags: flatten without a
        # prefix leaves a map with no nested values, stringify_all one of strings only (but
        # for a key held twice, which comes back once: OTLP reads both alike, and a map no
        # statement changes keeps it too).
        self._identity: Optional[tuple[int, ...]] = None
        if self.name == "flatten" and not _argument(call, 1):
            self._identity = (TAG_ARRAY, TAG_KVLIST)
        elif self.name == "stringify_all":
            self._identity = _NOT_STRINGS
        if self.name == "replace_all_patterns":
            self._mode = call.args[1].value.value
        if self.name == "limit":
            self._limit = call.args[1].value.value
            prio = call.args[2] if len(call.args) > 2 else None
            self._priority = [] if prio is None else [i.value for i in prio.value.items]

    def run(self, batch: Any, mask: np.ndarray, derived: Sequence[Any] = ()) -> list[Failure]:
        """Applies the editor to the maps of the records where ``mask`` is true. merge_maps
        reads its source from ``derived`` (the program's derived columns) or the batch, and
        returns where it fails (a source that is not a map), leaving those records alone."""
        if not mask.any():
            return []
        if self.name == "merge_maps":
            return self._merge(batch, mask, derived)
        if self._by_row:
            return self._rows(batch, mask)
        if self.name == "limit":
            table = self._key_flags(batch, self._priority)
            _vm.map_edit(batch, self.field, mask, "limit", table, self._limit)
        elif self.name in _BY_KEY:
            _vm.map_edit(batch, self.field, mask, "keep", self._per_key(batch, keep=True))
        elif self.name == "replace_all_patterns" and self._mode == "key":
            _vm.map_edit(batch, self.field, mask, "keys", self._per_key(batch, keep=False))
        else:
            _vm.map_edit(batch, self.field, mask, "values", self._per_value(batch))
        return []

    def _rows(self, batch: Any, mask: np.ndarray) -> list[Failure]:
        rows, maps = [], []
        if self._identity is not None:  # skip the maps the editor leaves as they are
            mask = mask & _may_change(batch, self._identity)
        failed: dict[str, tuple[np.ndarray, Exception]] = {}  # by message: one Failure each
        for row in np.flatnonzero(mask).tolist():
            try:
                written = self._apply(attributes_from_otlp(batch._attributes(row)))
            except (OttlRuntimeError, OttlError) as exc:
                rows_failed, _ = failed.setdefault(str(exc), (np.zeros(len(mask), np.bool_), exc))
                rows_failed[row] = True
                continue
            if written is not None:
                rows.append(row)
                maps.append(written)
        try:
            _vm.set_rows(batch, self.field, rows, maps)
        except TypeError as exc:
            raise NeedsReference(f"{self.name} wrote {exc}") from None
        return [Failure(where, exc) for where, exc in failed.values()]

    def _merge(self, batch: Any, mask: np.ndarray, derived: Sequence[Any]) -> list[Failure]:
        assert self._merged is not None
        if self._merged[0] == "derived":
            tags, vals = derived[self._merged[1]]
        elif self._merged[0] == "const":
            try:
                value = self._constant()
            except (OttlRuntimeError, OttlError) as exc:  # as on every record it runs on
                return [Failure(mask.copy(), exc)]
            tag, val = from_python(batch, "merge_maps' source", value, stored=True)
            tags = np.full(len(mask), tag, dtype=np.uint8)
            vals = np.full(len(mask), val, dtype=np.int64)
        elif self._merged[2] is None and FIELDS[self._merged[1]].tag == "MAP":
            tags, vals = _parent_maps(batch, self._merged[1])
        else:
            tags, vals = _vm.column(batch, self._merged[1], self._merged[2])
        is_map = tags == TAG_KVLIST
        merged = mask & is_map
        if merged.any():
            widest = int((vals[merged].astype(np.uint64) >> np.uint64(32)).max())
            if widest > MAX_MERGED_ENTRIES:
                raise NeedsReference(f"merge_maps of a map of {widest} entries (at most "
                                     f"{MAX_MERGED_ENTRIES} are native)")
            _vm.map_edit(batch, self.field, merged, "merge", (tags, vals), self._strategy)
        bad = mask & ~is_map
        if not bad.any():
            return []
        if self._merged[0] == "derived":
            # the converter gave something else than a map: the reference's message names
            # the type of its raw result, which the column no longer holds
            raise NeedsReference("merge_maps of a converter result that is not a map")
        failures = []
        for tag, val in sorted(set(zip(tags[bad].tolist(), vals[bad].tolist()))):
            try:
                self._apply(PMap(), to_python(batch, tag, val))
            except (OttlRuntimeError, OttlError) as exc:
                failures.append(Failure(bad & (tags == tag) & (vals == val), exc))
                continue
            raise NeedsReference(f"merge_maps took a source of value tag {tag}")
        return failures

    # -- tables by string id --

    def _key_flags(self, batch: Any, keys: list[str]) -> np.ndarray:
        ids = [_vm.intern(batch, k.encode("utf-8", "surrogatepass")) for k in keys]
        table = np.zeros(batch.string_count, dtype=np.uint8)
        table[ids] = 1
        return table

    def _one(self, entry: PMap) -> Any:
        try:
            return self._apply(entry)
        except (OttlRuntimeError, OttlError) as exc:
            raise NeedsReference(f"{self.name} fails on a value of this batch: {exc}") from None

    def _per_key(self, batch: Any, keep: bool) -> np.ndarray:
        """keep: 1 where the editor keeps a map's only key; else the key's new id (-1 for
        unchanged, -2 for dropped)."""
        keys = np.unique(batch.column("attributes.key"))
        answers = []
        for sid in keys.tolist():
            key = batch.string(sid)
            out = self._one(PMap({key: ""}))
            after = list(out.keys()) if out is not None else [key]
            answers.append((sid, after))
        if keep:
            table = np.zeros(batch.string_count, dtype=np.uint8)
            for sid, after in answers:
                table[sid] = 1 if after else 0
            return table
        renamed = [(sid, [_vm.intern(batch, k.encode("utf-8", "surrogatepass")) for k in after])
                   for sid, after in answers]
        table = np.full(batch.string_count, -1, dtype=np.int32)
        for sid, after in renamed:
            table[sid] = -2 if not after else (-1 if after[0] == sid else after[0])
        return table

    def _per_value(self, batch: Any) -> np.ndarray:
        """The new id of each distinct string value (-1: unchanged)."""
        tags = batch.column("attributes.tag")
        vals = batch.column("attributes.value")
        distinct = np.unique(vals[tags == TAG_STRING]).tolist()
        answers = []
        for sid in distinct:
            value = batch.string(sid)
            out = self._one(PMap({"": value}))
            new = out[""] if out is not None else value
            if type(new) is not str:
                raise NeedsReference(f"{self.name} gave a {type(new).__name__}")
            answers.append((sid, None if new == value else new))
        changes = [(sid, _vm.intern(batch, new.encode("utf-8", "surrogatepass")))
                   for sid, new in answers if new is not None]
        table = np.full(batch.string_count, -1, dtype=np.int32)
        for sid, nid in changes:
            table[sid] = nid
        return table
