"""A record statement's ``set`` of its resource's or scope's attribute, on the fast engine.

The reference runs a span (or log) group record by record, so a statement that sets
``resource.attributes["k"]`` leaves each resource the value its last record wrote (a nil value
writing nothing, as ``set`` of nil does). When nothing in the group reads that attribute
(``ottl.pipeline`` checks its other statements and its conditions; the compiler checks the
statement itself), that is all there is to it: the program says where the statement ran, the
value is a derived column (``Program.parent_write``), and ``ParentWriter`` writes each parent
once, with the value of its last record that wrote one (``ottl._vm.set_parent``).
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from ottl import _vm
from ottl._batch import TAG_NONE
from ottl.compiler.program import ParentWrite
from ottl.derive import NeedsReference, to_python
from ottl.eval.batch_model import attributes_from_otlp
from ottl.eval.paths import UNSTORABLE, store_value


class ParentWriter:
    """One statement's parent write (``Program.parent_write``)."""

    def __init__(self, write: ParentWrite) -> None:
        self.write = write

    def run(self, batch: Any, ran: np.ndarray, derived: Sequence[Any]) -> np.ndarray:
        """Writes each parent of the records where the statement ran the value of the last of
        them (in batch order, which is the reference's) whose value is not nil. Returns a mask
        over the parents' table of those written."""
        w = self.write
        tags, vals = derived[w.slot]
        owners = batch.column(w.context).astype(np.int64)
        written = np.zeros(len(batch.resources() if w.context == "resource" else batch.scopes()),
                           dtype=np.bool_)
        rows = np.flatnonzero(ran & (tags != TAG_NONE))
        if not len(rows):
            return written
        # the last row of each parent: the first of each in reversed order
        backwards = rows[::-1]
        parents, first = np.unique(owners[backwards], return_index=True)
        groups = batch.resources() if w.context == "resource" else batch.scopes()
        for parent, row in zip(parents.tolist(), backwards[first].tolist()):
            group = groups[parent]
            held = group.get(w.context) or {}
            attributes = attributes_from_otlp(held.get("attributes", []))
            value = store_value(to_python(batch, int(tags[row]), int(vals[row])))
            if value is UNSTORABLE:
                continue  # the reference's setter leaves the attribute as it is
            attributes[w.key] = value
            names = {"name": held.get("name", ""), "version": held.get("version", "")} \
                if w.context == "scope" else {}
            try:
                _vm.set_parent(batch, w.context, parent, attributes,
                               held.get("dropped_attributes_count", 0), group["schema_url"],
                               **names)
            except (TypeError, OverflowError) as exc:
                raise NeedsReference(f"a {w.context} attribute set to {exc}") from None
            written[parent] = True
        return written
