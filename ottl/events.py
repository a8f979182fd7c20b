"""Span-event-context groups on the fast engine.

Events sit on few spans, so a ``spanevent`` group runs through the reference implementation
(``ottl.parents.ReferenceGroup``), once per event of the spans that have any: ``EventRows``
builds the evaluator's objects for those spans only (each with its events, under the
resource and scope objects of ``ParentRows``), the group runs over their events exactly as the
reference processors run it, and what changed goes back into the batch:

- an event that differs from its row afterwards is rewritten in place (``ottl._vm.set_event``
  compares) and its span re-encoded from the columns; spans without a changed event keep
  their input bytes;
- a resource or scope a statement changed is written back by ``ParentRows``;
- a change to the span itself (``span.*`` paths of the spanevent context) is rare and has no
  native writer: it raises ``NeedsReference``, and the reference evaluator runs the batch.

A filter group removes the events its conditions hold for (``ottl._vm.keep_events``), judging
only the events of spans no earlier group dropped, as the reference does.
"""

from __future__ import annotations

from dataclasses import fields, is_dataclass
from typing import Any, Iterator, Optional

import numpy as np

from ottl import _vm, resolved
from ottl._batch import SpanBatch
from ottl.derive import NeedsReference
from ottl.eval.batch_model import span_from_batch
from ottl.eval.model import Span, TransformContext
from ottl.eval.otlp_json import OtlpFormatError
from ottl.functions.spec import ParamKind
from ottl.parents import ParentRows, ReferenceGroup, canonical


def _span_state(span: Span) -> tuple:
    """What a spanevent statement could change on the span itself (its events aside)."""
    return (bytes(span.trace_id), bytes(span.span_id), bytes(span.parent_span_id),
            span.trace_state, span.flags, span.name, span.kind, span.start_time_unix_nano,
            span.end_time_unix_nano, canonical(span.attributes), span.dropped_attributes_count,
            span.dropped_events_count, span.dropped_links_count, span.status.code,
            span.status.message, len(span.events))


def resolved_paths(node: Any) -> Iterator[resolved.RPath]:
    """Every path in a resolved tree (statement, condition or value)."""
    if isinstance(node, resolved.RPath):
        yield node
    if isinstance(node, tuple):
        for item in node:
            yield from resolved_paths(item)
    elif is_dataclass(node) and type(node).__module__ == resolved.__name__:
        for f in fields(node):
            yield from resolved_paths(getattr(node, f.name))


def _written(statement: resolved.RStatement) -> set[str]:
    """The contexts of the paths a statement's editor writes (its path parameters)."""
    return {a.value.context for a in statement.editor.args
            if a is not None and a.param.kind == ParamKind.PATH
            and isinstance(a.value, resolved.RPath)}


class EventGroup(ReferenceGroup):
    """A spanevent-context group, and what its statements and conditions touch of an event's
    span and of the event: spans are built whole only for a group that reads them, and
    compared after it only when it writes them."""

    def __init__(self, compiled: Any, why_not_vm: str = "") -> None:
        super().__init__(compiled)
        # why the group does not run on the VM (ottl.events_native)
        self.why_not_vm = why_not_vm
        sources = [s.source for s in self.statements] + [c.source for c in self.conditions]
        self.reads_span = any(p.context == "span" for p in resolved_paths(tuple(sources)))
        written = set().union(*(_written(s.source) for s in self.statements))
        self.writes_span = "span" in written
        self.writes_events = "spanevent" in written

    def rows(self, batch: SpanBatch, parents: ParentRows,
             spans: Optional[np.ndarray] = None) -> "EventRows":
        """The events of ``batch`` (of the spans in the ``spans`` mask) for this group."""
        return EventRows(batch, parents, spans, whole=self.reads_span,
                         spans_written=self.writes_span, events_written=self.writes_events)


class EventRows:
    """The span events of one batch as the reference evaluator's objects (with their spans),
    and what they held when built (to find the events a statement changed)."""

    def __init__(self, batch: SpanBatch, parents: ParentRows,
                 spans: Optional[np.ndarray] = None, whole: bool = True,
                 spans_written: bool = True, events_written: bool = True) -> None:
        """``parents``: the batch's resources and scopes (built with scopes); ``spans``: a
        mask of the spans whose events to take (default: all); ``whole``: build whole spans
        (else only their events); ``spans_written``/``events_written``: whether statements
        may change the spans or the events (else write_back does not look)."""
        if not isinstance(batch, SpanBatch):
            raise ValueError("spanevent groups run on span batches")
        if batch.attributes_projected:
            raise ValueError("a spanevent group needs whole spans; this batch was decoded with "
                             "attribute_keys")
        self.batch = batch
        self.parents = parents
        off = batch.column("event_off")
        self.count = int(off[-1]) if len(off) else 0
        has = off[1:] > off[:-1]
        if spans is not None:
            has &= spans
        self.spans_written, self.events_written = spans_written, events_written
        rows = np.flatnonzero(has)
        starts = off[rows].tolist()
        self._owners = list(zip(batch.column("resource")[rows].tolist(),
                                batch.column("scope")[rows].tolist()))
        # per span with events: (its row, its first event's row, its object, its state)
        self.spans: list[tuple[int, int, Span, Optional[tuple]]] = []
        for row, first in zip(rows.tolist(), starts):
            try:
                span = span_from_batch(batch, row, whole)
            except OtlpFormatError as exc:  # an id the evaluator's model cannot hold
                raise NeedsReference(str(exc)) from None
            self.spans.append((row, first, span, _span_state(span) if spans_written else None))


    def contexts(self, context: str) -> Iterator[tuple[int, TransformContext]]:
        """(event row, a fresh TransformContext) for every event of the spans taken."""
        assert context == "spanevent"
        resources, scopes = self.parents.resources, self.parents.scopes
        for (_, first, span, _), (r, s) in zip(self.spans, self._owners):
            rx, sx = resources[r], scopes[s]
            for i, event in enumerate(span.events):
                yield first + i, TransformContext("spanevent", rx, sx, span=span, event=event,
                                                  event_index=i)

    def write_back(self) -> None:
        """Writes every event that differs from what it held into the batch, then the
        resources and scopes. Raises ``NeedsReference`` when a statement changed a span
        itself, or stored a value OTLP cannot hold."""
        for row, _, span, state in self.spans:
            if state is not None and _span_state(span) != state:
                raise NeedsReference(f"a spanevent statement changed span {row}")
        if self.events_written:
            # set_event writes (and marks the span) only where the event now differs
            for _, first, span, _ in self.spans:
                for i, event in enumerate(span.events):
                    try:
                        _vm.set_event(self.batch, first + i, event.name, event.time_unix_nano,
                                      event.attributes, event.dropped_attributes_count)
                    except (TypeError, OverflowError) as exc:
                        raise NeedsReference(f"a spanevent statement stored {exc}") from None
        self.parents.write_back()
