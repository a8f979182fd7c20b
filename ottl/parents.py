"""Resource- and scope-context groups on the fast engine.

A batch has few resources and scopes (one per ResourceSpans / ScopeSpans), so a group in the
``resource`` or ``scope`` context runs through the reference implementation, once per row of
the batch's resources or scopes table: ``ParentRows`` builds the evaluator's objects for those
rows (not for the records under them), the group's statements or conditions run over them
exactly as the reference processors run them (conditions ORed, statements in order, each row
with a fresh cache, the group's error mode), and the rows a statement changed are written back
into the batch (``ottl._vm.set_parent``). Rows left as they were are not touched, so a verbatim
encode still copies their attributes byte for byte.

A filter group drops the records under the resources or scopes its conditions hold for; the
pipeline spreads the row mask over the records. An error in ``propagate`` mode raises
``NeedsReference``: the reference evaluator then fails the payload with its own error.
"""

from __future__ import annotations

import struct
from typing import Any, Optional, Sequence, Union

import numpy as np

from ottl import _vm
from ottl._batch import LogBatch, SpanBatch
from ottl.derive import NeedsReference
from ottl.eval.batch_model import parents_from_batch
from ottl.eval.model import TransformContext
from ottl.eval.processors import ErrorPolicy, ProcessingError, Stats, any_holds
from ottl.eval.values import PMap, PSlice
from ottl.lang.errors import OttlError

Batch = Union[SpanBatch, LogBatch]

PARENT_CONTEXTS = ("resource", "scope")
# Contexts whose groups the reference runs over rows of a batch (ReferenceGroup).
ROW_CONTEXTS = (*PARENT_CONTEXTS, "spanevent")


_PLAIN = (str, int, bool, bytes, type(None))


def canonical(value: Any) -> Any:
    """A value as a tuple that compares equal only for the same OTLP value (types exact,
    doubles by their bits, maps in order)."""
    kind = type(value)
    if kind in _PLAIN:
        return (kind, value)
    if kind is float:
        return (kind, struct.pack("<d", value))
    if isinstance(value, PMap):
        return (PMap, tuple([(k, canonical(v)) for k, v in value.items()]))
    if isinstance(value, PSlice):
        return (PSlice, tuple([canonical(v) for v in value]))
    return (kind, value)


class ParentRows:
    """The resources and scopes of one batch as the reference evaluator's objects, and what
    they held when built (to find the rows a statement changed)."""

    def __init__(self, batch: Batch, scopes: bool = True) -> None:
        """``scopes``: build the scopes too (for scope groups; resource groups need none)."""
        self.batch = batch
        self.resources, self.scopes = parents_from_batch(batch, scopes)
        self.scope_owner = batch.column("scopes.resource")
        self._seen = {"resource": [self.state("resource", r) for r in self.resources],
                      "scope": [self.state("scope", s) for s in self.scopes]}
        self.written = {"resource": np.zeros(len(self.resources), dtype=np.bool_),
                        "scope": np.zeros(len(self.scopes), dtype=np.bool_)}

    def contexts(self, context: str) -> list[tuple[int, TransformContext]]:
        """(row, a fresh TransformContext) for every row of the context's table."""
        if context == "resource":
            return [(i, TransformContext("resource", r)) for i, r in enumerate(self.resources)]
        return [(i, TransformContext("scope", self.resources[int(self.scope_owner[i])], s))
                for i, s in enumerate(self.scopes)]

    @staticmethod
    def state(context: str, wrapper: Any) -> tuple:
        """What a statement could change of a resource or scope wrapper, comparable."""
        if context == "resource":
            r = wrapper.resource
            return (canonical(r.attributes), r.dropped_attributes_count, wrapper.schema_url)
        s = wrapper.scope
        return (canonical(s.attributes), s.dropped_attributes_count, wrapper.schema_url,
                s.name, s.version)

    def write_back(self) -> None:
        """Writes every row that differs from what it held into the batch (a scope statement
        may have changed its resource too). Raises ``NeedsReference`` for a value OTLP cannot
        hold, as the reference's encoder would fail on it."""
        for context, rows in (("resource", self.resources), ("scope", self.scopes)):
            seen = self._seen[context]
            for i, wrapper in enumerate(rows):
                state = self.state(context, wrapper)
                if state == seen[i]:
                    continue
                self._write(context, i, wrapper)
                seen[i] = state
                self.written[context][i] = True

    def records_written(self) -> np.ndarray:
        """The records whose resource or scope was written (their own bytes are unchanged,
        but an object built for them before, such as an SDK span, is stale)."""
        out = spread(self.batch, "resource", self.written["resource"])
        if self.scopes:
            out |= spread(self.batch, "scope", self.written["scope"])
        return out

    def _write(self, context: str, row: int, wrapper: Any) -> None:
        target = wrapper.resource if context == "resource" else wrapper.scope
        fields = {"name": target.name, "version": target.version} if context == "scope" else {}
        try:
            _vm.set_parent(self.batch, context, row, target.attributes,
                           target.dropped_attributes_count, wrapper.schema_url, **fields)
        except (TypeError, OverflowError) as exc:
            raise NeedsReference(f"a {context} statement stored {exc}") from None


class ReferenceGroup:
    """One transform or filter group compiled by the reference evaluator
    (``ottl.eval.processors.compile_groups``) and run by it over rows of a batch's table: the
    resources or scopes (``ParentRows``) or the span events (``ottl.events.EventRows``). The
    rows object gives the contexts (``contexts(context)``: (row, TransformContext) pairs) and
    writes back what the statements changed (``write_back()``)."""

    def __init__(self, compiled: Any) -> None:
        self.signal: str = compiled.group.signal
        self.context: str = compiled.context
        self.error_mode: str = compiled.group.error_mode
        self.conditions = compiled.conditions
        self.statements = compiled.statements

    def _policy(self, stats: Stats) -> ErrorPolicy:
        return ErrorPolicy(self.error_mode, stats)

    def transform(self, rows: Any, stats: Stats) -> int:
        """Runs the statements over every row (where the group's conditions allow), then
        writes the changed rows into the batch; returns how many (statement, row) pairs ran."""
        policy = self._policy(stats)
        ran = 0
        try:
            for _, ctx in rows.contexts(self.context):
                if self.conditions and not any_holds(self.conditions, ctx, policy):
                    continue
                for statement in self.statements:
                    try:
                        if statement.execute(ctx):
                            ran += 1
                    except OttlError as exc:
                        policy.handle(exc, f"statement '{statement.text}'")  # may raise
        except ProcessingError as exc:
            raise NeedsReference(f"{self.context} statement failed: {exc.message}") from None
        rows.write_back()
        return ran

    def doomed(self, rows: Any, alive: np.ndarray, stats: Stats) -> np.ndarray:
        """The rows (of the context's table) any condition holds for, among the ``alive``
        ones (rows an earlier group dropped are not evaluated, as in the reference)."""
        policy = self._policy(stats)
        out = np.zeros(len(alive), dtype=np.bool_)
        try:
            for i, ctx in rows.contexts(self.context):
                if alive[i]:
                    out[i] = any_holds(self.conditions, ctx, policy)
        except ProcessingError as exc:
            raise NeedsReference(f"{self.context} condition failed: {exc.message}") from None
        return out


def needs_scopes(groups: Sequence[Any]) -> bool:
    """Whether a pipeline's groups include a scope or span-event group (ParentRows then builds
    the scopes)."""
    return any(isinstance(g, ReferenceGroup) and g.context in ("scope", "spanevent")
               for g in groups)


def spread(batch: Batch, context: str, rows: np.ndarray) -> np.ndarray:
    """A mask over the batch's records from one over its resources or scopes."""
    owner = batch.column("resource" if context == "resource" else "scope")
    return rows[owner] if len(owner) else np.zeros(0, dtype=np.bool_)


def scopes_alive(rows: ParentRows, resources_alive: np.ndarray,
                 scopes: Optional[np.ndarray] = None) -> np.ndarray:
    """The scopes whose resource is alive (and, given ``scopes``, that are alive themselves)."""
    alive = resources_alive[rows.scope_owner] if len(rows.scope_owner) else np.zeros(
        0, dtype=np.bool_)
    return alive if scopes is None else alive & scopes
