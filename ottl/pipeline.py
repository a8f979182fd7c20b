"""The filter processor on the fast engine: groups of conditions run by the VM over a batch.

``FilterPipeline(groups)`` compiles the conditions of the collector's filter configuration
(``ottl.config`` groups); ``keep(batch)`` returns the selection mask of the records that
survive (a record is dropped when any condition of a group of its signal holds) and counts what
happened. ``TransformPipeline(groups)`` runs the transform processor's groups over a batch in
place. Span and log groups run on the VM; resource and scope groups run once per resource or
scope row of the batch through the reference implementation (``ottl.parents``). Span-event
groups run on the VM as log statements over the events (``ottl.events_native``) when their
paths are the event's own, otherwise once per event through the reference (``ottl.events``).
A pipeline is native when
every span or log condition and statement runs on the VM (``reasons`` lists what does not);
the caller then uses the reference processor instead, which gives the same result for
everything.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable, Optional, Sequence, Union

import numpy as np

from ottl import _vm
from ottl._batch import MAX_PROJECTED_KEYS, LogBatch, SpanBatch, decode_logs, decode_traces
from ottl.config import Group
from ottl.compiler.program import program_reads, program_writes
from ottl.engine import Condition, Statement
from ottl.derive import NeedsReference
from ottl.eval.processors import ErrorPolicy, Stats, compile_groups
from ottl.events import EventGroup
from ottl.events_native import NativeEventGroup, native_event_group
from ottl.lang.errors import OttlError
from ottl.parents import (
    ROW_CONTEXTS,
    ParentRows,
    ReferenceGroup,
    needs_scopes,
    scopes_alive,
    spread,
)
from ottl.resolver import Options

Batch = Union[SpanBatch, LogBatch]


@dataclass
class PipelineStats:
    """What one pipeline has done so far (a plain snapshot; the OpAMP gates read these)."""

    batches: int = 0
    records_in: int = 0
    records_out: int = 0
    dropped: int = 0
    statement_errors: int = 0
    seconds: float = 0.0
    errors_by_statement: dict[str, int] = field(default_factory=dict)

    def count_errors(self, run: Stats) -> None:
        """Adds the errors a run handled by its error mode (resource and scope groups)."""
        self.statement_errors += run.statement_errors
        for text, count in errors_by_statement(run).items():
            self.errors_by_statement[text] = self.errors_by_statement.get(text, 0) + count


def _count_failures(policy: ErrorPolicy, statement: Statement,
                    failed: list[tuple[int, Exception]]) -> None:
    """Records on which a statement's value failed, judged by an ``ignore`` or ``silent``
    group as the reference judges each: counted, and logged in ``ignore`` mode. (In
    ``propagate`` mode the statement raises ``NeedsReference`` itself.)"""
    for count, error in failed:
        assert isinstance(error, OttlError)
        for _ in range(count):
            policy.handle(error, f"statement '{statement.text}'")


def errors_by_statement(*runs: Stats) -> dict[str, int]:
    """The errors processor runs handled by their error modes, counted by the first line of
    their text (which names the statement or condition)."""
    out: dict[str, int] = {}
    for run in runs:
        for text in run.errors:
            first = text.splitlines()[0]
            out[first] = out.get(first, 0) + 1
    return out


def _holds(conditions: Sequence[Condition], batch: Batch, policy: ErrorPolicy,
           alive: Optional[np.ndarray] = None) -> np.ndarray:
    """Where any of the conditions holds, as the reference's ``any_holds`` decides it record
    by record: in order, each judging the records ``alive`` (default: all) that no earlier
    one held. A record on which a condition fails counts an error by the group's policy (it
    holds false there); in propagate mode it raises ``NeedsReference``, and the reference
    fails the payload with its own error."""
    held = np.zeros(len(batch), dtype=np.bool_)
    for condition in conditions:
        errors: list[tuple[int, OttlError]] = []
        judged = ~held if alive is None else alive & ~held
        held |= condition.native_filter(batch, errors, judged)
        for _, exc in errors:
            if policy.mode == "propagate":
                raise NeedsReference(f"condition '{condition.text}' failed: {exc.message}")
            policy.handle(exc, f"condition '{condition.text}'")
    return held


def _projection(groups: Sequence[Any], signal: str, keep_others: bool
                ) -> Optional[frozenset[str]]:
    """The record attribute keys the groups of ``signal`` read (or write), when keys are all
    they touch of that map; None when one touches the whole map, a spanevent group builds
    whole spans (or, without ``keep_others``, rewrites the events of spans whose other
    attributes a projection drops), or there are more than MAX_PROJECTED_KEYS keys."""
    keys: set[str] = set()
    for group in groups:
        if group.signal != signal:
            continue
        if isinstance(group, EventGroup):
            return None
        if isinstance(group, NativeEventGroup):
            if not keep_others or group.reads_span_attributes:
                return None
            continue  # events decode whole under any projection
        if isinstance(group, ReferenceGroup):
            continue  # a resource or scope group reads no record attributes
        for item in [*group.conditions, *getattr(group, "statements", [])]:
            needed = item.attribute_keys
            if needed is None:
                return None
            keys |= needed
    return frozenset(keys) if len(keys) <= MAX_PROJECTED_KEYS else None


class _Projecting:
    """What both pipelines share: whether they run natively, the projection of the records'
    own attributes their groups allow per signal, and a run over a batch decoded under it."""

    groups: list[Any]
    reasons: list[str]
    _projections: dict[str, Optional[frozenset[str]]]
    _keep_others = False  # a transform keeps the other attributes opaque; a filter drops them

    @property
    def native(self) -> bool:
        return not self.reasons

    def attribute_keys(self, signal: str) -> Optional[frozenset[str]]:
        """The keys of the records' own attributes that the groups of ``signal`` ("traces" or
        "logs") read (and, for a transform, write), when keys are all they touch of that map:
        the projection to decode with (``decode_traces(data, attribute_keys=...)``, and
        ``keep_other_attributes=True`` for a transform). None when one touches the whole map,
        a spanevent group builds whole spans, there are more than MAX_PROJECTED_KEYS keys, or
        the pipeline is not native."""
        if signal not in self._projections:
            self._projections[signal] = (_projection(self.groups, signal, self._keep_others)
                                         if self.native else None)
        return self._projections[signal]

    def _projected(self, data: bytes, signal: str, run: Callable[[Batch], Any]
                   ) -> tuple[Batch, Any]:
        """``run`` over the request decoded under the projection, and the batch it ran on.
        Where the projected batch needs the reference (a condition failing on some records,
        which the reference decides one by one, needs them whole), decoded whole and run once
        more."""
        if signal not in ("traces", "logs"):
            raise ValueError(f"signal must be 'traces' or 'logs', got {signal!r}")
        decode = decode_traces if signal == "traces" else decode_logs
        keys = self.attribute_keys(signal)
        batch = decode(data, attribute_keys=keys,
                       keep_other_attributes=self._keep_others and keys is not None)
        try:
            return batch, run(batch)
        except NeedsReference:
            if not batch.attributes_projected:
                raise
            batch = decode(data)
            return batch, run(batch)


@dataclass
class _NativeGroup:
    signal: str
    conditions: list[Condition]
    error_mode: str


class FilterPipeline(_Projecting):
    """The filter processor's groups, compiled for the VM."""

    def __init__(self, groups: Sequence[Group], options: Optional[Options] = None) -> None:
        compiled = compile_groups([g for g in groups if g.kind == "conditions"], options)
        self.groups: list[Union[_NativeGroup, NativeEventGroup, ReferenceGroup]] = []
        self.reasons: list[str] = []
        self.last_run = Stats()
        for cg in compiled:
            if cg.context in ROW_CONTEXTS:
                self.groups.append(_row_group(cg, options))
                continue
            conditions = [Condition(c.source, options) for c in cg.conditions]
            if cg.context not in ("span", "log"):
                self.reasons.append(f"{cg.group.where}: the {cg.context} context")
            for c in conditions:
                if not c.native:
                    self.reasons.append(f"{cg.group.where}: '{c.text}': {c.reason}")
            self.groups.append(_NativeGroup(cg.group.signal, conditions, cg.group.error_mode))
        self._scope_groups = needs_scopes(_with_fallbacks(self.groups))
        self._event_groups = any(isinstance(g, (EventGroup, NativeEventGroup))
                                 for g in self.groups)
        self.stats = PipelineStats()
        self._projections: dict[str, Optional[frozenset[str]]] = {}

    def reads(self) -> dict[int, Optional[set[str]]]:
        """What the conditions read: field id -> the attribute keys read (None for a scalar
        field, or for a whole map). Empty when not native."""
        out: dict[int, Optional[set[str]]] = {}
        if self._event_groups:
            return {}  # the reference reads the spans of their events whole
        for group in self.groups:
            if isinstance(group, ReferenceGroup):
                continue  # the reference reads parents whole
            for condition in group.conditions:
                if condition.program is None:
                    return {}
                for field, key in program_reads(condition.program):
                    if key is None:
                        out[field] = None  # a scalar field, or a whole map
                    elif out.get(field, set()) is not None:
                        out.setdefault(field, set()).add(key)  # type: ignore[union-attr]
        return out

    def filter_otlp(self, data: bytes, signal: str = "traces") -> bytes:
        """OTLP protobuf bytes in, the records no condition drops out, each copied byte for
        byte (resources and scopes left empty are dropped). Decodes only the attribute keys
        the conditions read (see attribute_keys); the input is checked as a whole decode
        checks it. Raises ``ottl.derive.NeedsReference`` when the batch needs the reference
        evaluator."""
        batch, keep = self._projected(data, signal, self.keep)
        return batch.encode(keep, verbatim=True)

    def keep(self, batch: Batch) -> np.ndarray:
        """The records of ``batch`` that no condition drops (a bool mask); the span events
        a spanevent group drops are removed from the batch itself. Raises
        ``ottl.derive.NeedsReference`` when this batch needs the reference evaluator, and
        ValueError when ``batch`` was decoded under a projection that lacks a key a condition
        reads."""
        if not self.native:
            raise ValueError("this pipeline does not run natively: " + "; ".join(self.reasons))
        started = time.perf_counter()
        signal = "traces" if isinstance(batch, SpanBatch) else "logs"
        drop = np.zeros(len(batch), dtype=np.bool_)
        run = Stats()
        parents: Optional[ParentRows] = None
        for group in self.groups:
            if group.signal != signal:
                continue
            if isinstance(group, NativeEventGroup):
                assert isinstance(batch, SpanBatch)
                if batch.attributes_projected and not batch.attributes_complete:
                    # a span that loses an event is written from its columns
                    raise ValueError("a spanevent group needs whole spans; this batch was "
                                     "decoded with attribute_keys")
                per_span = np.diff(batch.column("event_off"))
                if not per_span.any():
                    continue  # no event to judge: nothing to copy
                as_logs = _vm.events_as_logs(batch)
                # only the events of spans no earlier group dropped are judged
                alive = np.repeat(~drop, per_span)
                deferred = _DeferredPolicy(group.error_mode, run)
                try:
                    doomed = _holds(group.conditions, as_logs, deferred, alive)
                    deferred.commit()
                except NeedsReference:  # the reference judges these events one by one
                    if parents is None:
                        parents = ParentRows(batch, self._scope_groups)
                        resources_alive = np.ones(len(parents.resources), dtype=np.bool_)
                        scopes_dropped = np.zeros(len(parents.scopes), dtype=np.bool_)
                    group.fallbacks += 1
                    fallback = group.fallback
                    rows = fallback.rows(batch, parents, spans=~drop)
                    doomed = fallback.doomed(rows, np.ones(rows.count, dtype=np.bool_), run)
                _vm.keep_events(batch, ~doomed)
                continue
            if isinstance(group, ReferenceGroup):
                if parents is None:
                    parents = ParentRows(batch, self._scope_groups)
                    resources_alive = np.ones(len(parents.resources), dtype=np.bool_)
                    scopes_dropped = np.zeros(len(parents.scopes), dtype=np.bool_)
                if isinstance(group, EventGroup):
                    assert isinstance(batch, SpanBatch)
                    events = group.rows(batch, parents, spans=~drop)
                    doomed = group.doomed(events, np.ones(events.count, dtype=np.bool_), run)
                    _vm.keep_events(batch, ~doomed)
                    continue
                if group.context == "resource":
                    doomed = group.doomed(parents, resources_alive, run)
                    resources_alive &= ~doomed
                else:
                    alive = scopes_alive(parents, resources_alive, ~scopes_dropped)
                    doomed = group.doomed(parents, alive, run)
                    scopes_dropped |= doomed
                drop |= spread(batch, group.context, doomed)
                continue
            # records an earlier group dropped are not judged, as in the reference
            drop |= _holds(group.conditions, batch, ErrorPolicy(group.error_mode, run), ~drop)
        self.last_run = run
        keep = ~drop
        kept = int(keep.sum())
        s = self.stats
        s.batches += 1
        s.records_in += len(batch)
        s.records_out += kept
        s.dropped += len(batch) - kept
        s.count_errors(run)
        s.seconds += time.perf_counter() - started
        return keep


def _run_statements(group: Union[_NativeTransformGroup, NativeEventGroup], batch: Batch,
                    policy: ErrorPolicy) -> int:
    """Runs a native group's statements over ``batch`` (where its conditions hold); returns
    how many (statement, record) pairs ran."""
    if group.uses_cache:
        _vm.reset_cache(batch)  # each record's cache starts empty in each group
    gate = None
    if group.conditions:
        # A group's conditions are ORed and decide once, before its statements run.
        gate = _holds(group.conditions, batch, policy)
    ran = 0
    for statement in group.statements:
        # propagate: no list, so a failure raises NeedsReference (the reference fails)
        failed: Optional[list[tuple[int, Exception]]] = (
            None if group.error_mode == "propagate" else [])
        ran += int(statement.execute(batch, gate, failed, fresh_cache=False).sum())
        _count_failures(policy, statement, failed or [])
    return ran


class _DeferredPolicy(ErrorPolicy):
    """An error policy that holds the errors it is handed until ``commit()`` hands them to
    the real one (counted in ``stats``, logged in ignore mode): for a run whose result may be
    dropped, so that the run taking its place is the only one to count and log them."""

    def __init__(self, mode: str, stats: Stats) -> None:
        super().__init__(mode, Stats())
        self._target = stats
        self._held: list[tuple[OttlError, str]] = []

    def handle(self, exc: OttlError, what: str) -> None:
        if self.mode == "propagate":
            super().handle(exc, what)  # raises
        self._held.append((exc, what))

    def commit(self) -> None:
        policy = ErrorPolicy(self.mode, self._target)
        for exc, what in self._held:
            policy.handle(exc, what)
        self._held.clear()


def _with_fallbacks(groups: Sequence[Any]) -> list[Any]:
    """The groups, and the reference group each native spanevent group may fall back on."""
    return [*groups, *(g.fallback for g in groups if isinstance(g, NativeEventGroup))]


def _row_group(compiled: Any, options: Optional[Options]
               ) -> Union[NativeEventGroup, ReferenceGroup]:
    """A resource, scope or span-event group: on the VM when it is a span-event group whose
    paths are the event's own, otherwise run per row through the reference."""
    if compiled.context == "spanevent":
        native = native_event_group(compiled, options)
        return native if isinstance(native, NativeEventGroup) else EventGroup(compiled, native)
    return ReferenceGroup(compiled)


def _touches_parent_write(statement: Statement,
                          items: Sequence[Union[Condition, Statement]]) -> Optional[str]:
    """The text of another condition or statement of the group that reads (or also sets) the
    parent attribute ``statement`` sets; None when there is none (or it sets none)."""
    write = statement.parent_write
    if write is None:
        return None
    for item in items:
        if item is statement or item.program is None:
            continue
        touched = program_reads(item.program)
        if isinstance(item, Statement):
            touched = touched + program_writes(item.program)
        if any(f == write.field and (write.key is None or k in (write.key, None))
               for f, k in touched):
            return item.text
    return None


@dataclass
class _NativeTransformGroup:
    signal: str
    context: str
    conditions: list[Condition]
    statements: list[Statement]
    error_mode: str

    @property
    def uses_cache(self) -> bool:
        return any(s.uses_cache for s in self.statements)


class TransformPipeline(_Projecting):
    """The transform processor's groups, compiled for the VM; ``execute(batch)`` changes the
    batch in place (records no statement touched stay byte-identical on a verbatim encode)."""

    _keep_others = True

    def __init__(self, groups: Sequence[Group], options: Optional[Options] = None) -> None:
        compiled = compile_groups([g for g in groups if g.kind == "statements"], options)
        self.groups: list[Union[_NativeTransformGroup, NativeEventGroup, ReferenceGroup]] = []
        self.reasons: list[str] = []
        self.last_run = Stats()
        # per record of the last batch: its resource or scope was rewritten (None: none was)
        self.last_parent_writes: Optional[np.ndarray] = None
        for cg in compiled:
            if cg.context in ROW_CONTEXTS:
                self.groups.append(_row_group(cg, options))
                continue
            conditions = [Condition(c.source, options) for c in cg.conditions]
            statements = [Statement(s.source, options) for s in cg.statements]
            if cg.context not in ("span", "log"):
                self.reasons.append(f"{cg.group.where}: the {cg.context} context")
            items: list[Union[Condition, Statement]] = [*conditions, *statements]
            for item in items:
                if not item.native:
                    self.reasons.append(f"{cg.group.where}: '{item.text}': {item.reason}")
            for statement in statements:
                other = _touches_parent_write(statement, items)
                if other is not None:
                    self.reasons.append(
                        f"{cg.group.where}: '{statement.text}' writes a "
                        f"{statement.parent_write.context} attribute that '{other}' reads or "
                        "writes too (the reference runs them record by record)")
            self.groups.append(_NativeTransformGroup(cg.group.signal, cg.context, conditions,
                                                     statements, cg.group.error_mode))
        self._scope_groups = needs_scopes(_with_fallbacks(self.groups))
        self.stats = PipelineStats()
        self._projections: dict[str, Optional[frozenset[str]]] = {}

    def transform_otlp(self, data: bytes, signal: str = "traces") -> bytes:
        """OTLP protobuf bytes in, the transformed request out: records no statement changed
        copied byte for byte, the others re-encoded around their unchanged attributes. Decodes
        only the attribute values the statements touch (see attribute_keys); the input is
        checked as a whole decode checks it. Raises ``ottl.derive.NeedsReference`` when the
        batch needs the reference evaluator."""
        batch, _ = self._projected(data, signal, self.execute)
        return batch.encode(verbatim=True)

    def execute(self, batch: Batch) -> int:
        """Runs every group of the batch's signal over it, in order; returns how many
        (statement, record) pairs ran. Raises ``ottl.derive.NeedsReference`` when this batch
        needs the reference evaluator (the batch may then be half changed: start again from
        the input)."""
        if not self.native:
            raise ValueError("this pipeline does not run natively: " + "; ".join(self.reasons))
        started = time.perf_counter()
        signal = "traces" if isinstance(batch, SpanBatch) else "logs"
        ran = 0
        run = Stats()
        parents: Optional[ParentRows] = None
        written: Optional[np.ndarray] = None  # records whose resource or scope was written
        for group in self.groups:
            if group.signal != signal:
                continue
            if isinstance(group, ReferenceGroup):
                parents = parents or ParentRows(batch, self._scope_groups)
                if isinstance(group, EventGroup):
                    assert isinstance(batch, SpanBatch)
                    ran += group.transform(group.rows(batch, parents), run)
                else:
                    ran += group.transform(parents, run)
                continue
            if isinstance(group, NativeEventGroup):
                assert isinstance(batch, SpanBatch)
                if group.reads_span_attributes and batch.attributes_projected:
                    raise ValueError("a spanevent group that reads the span's attributes needs "
                                     "whole spans; this batch was decoded with attribute_keys")
                offsets = batch.column("event_off")
                if not len(offsets) or not offsets[-1]:
                    continue  # no event to run on: nothing to copy
                events = _vm.events_as_logs(batch)  # the events as log records, a copy
                deferred = _DeferredPolicy(group.error_mode, run)
                try:
                    count = _run_statements(group, events, deferred)
                except NeedsReference:  # the reference judges these events one by one
                    if batch.attributes_projected:  # which needs whole spans
                        raise
                    parents = parents or ParentRows(batch, self._scope_groups)
                    group.fallbacks += 1
                    fallback = group.fallback
                    ran += fallback.transform(fallback.rows(batch, parents), run)
                    continue
                deferred.commit()
                _vm.events_from_logs(batch, events)
                ran += count
                continue
            ran += _run_statements(group, batch, ErrorPolicy(group.error_mode, run))
            for statement in group.statements:
                if statement.last_parents_written is not None and \
                        statement.last_parents_written.any():
                    assert statement.parent_write is not None
                    by_records = spread(batch, statement.parent_write.context,
                                        statement.last_parents_written)
                    if parents is not None:  # its objects are stale now: built again if needed
                        by_records |= parents.records_written()
                        parents = None
                    written = by_records if written is None else written | by_records
        s = self.stats
        s.batches += 1
        s.records_in += len(batch)
        s.records_out += len(batch)
        s.count_errors(run)
        s.seconds += time.perf_counter() - started
        self.last_run = run
        if parents is not None:
            by_records = parents.records_written()
            written = by_records if written is None else written | by_records
        self.last_parent_writes = written
        return ran
