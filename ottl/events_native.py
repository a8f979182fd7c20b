"""Span-event-context groups on the VM, as log statements over the events.

A log record has every field a span event has: a time, a name (``event_name``), attributes
and their dropped count, under a resource and a scope. So a ``spanevent`` group whose paths
are the event's own (and its resource's and scope's, read only) is compiled for the log
context, with each ``spanevent.*`` path read as the log path of the same field, and runs over
``ottl._vm.events_as_logs(batch)``: a log batch with one record per event, whose changes
``ottl._vm.events_from_logs`` writes back (the spans holding a changed event are re-encoded).

The reference runs such a group event by event: for each event, the conditions, then every
statement. Events do not see each other here (their own fields and ``cache`` only; a
statement that writes the span, the resource or the scope is refused), so running each
statement over all events in turn gives the same events, and the same errors per event.

A batch on which the native run raises ``NeedsReference`` (a converter that fails on some
events, which the reference judges one by one) runs the group through the reference per event
(``ottl.events.EventGroup``) instead; the copy the VM changed is dropped, and the errors it
counted with it.

The event's span's name, kind, attributes, trace and span ids and start time, and the event's
index, are read too: the log batch carries them in fields no event has (``severity_text``,
``severity_number``, ``body``, ``trace_id``, ``span_id``, ``observed_time_unix_nano``,
``flags``; csrc/vm_events.h), which those paths are read as. A transform whose event group
reads the span's attributes decodes spans whole (a projection would leave their values
opaque).

Refused, so ``ottl.events.EventGroup`` always runs the group through the reference: any other
``span.*`` path, a write to anything but the event, a function registered for some contexts
only, and anything the log compiler itself does not run.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, is_dataclass, replace
from typing import Any, Optional, Union

from ottl import resolved
from ottl.contexts import CONTEXTS
from ottl.engine import Condition, Statement
from ottl.events import EventGroup, resolved_paths
from ottl.functions.spec import ParamKind
from ottl.resolver import Options

# The event's paths and the log paths that hold the same field; event_index (read only) is
# carried in flags, which no event has (csrc/vm_events.h).
_AS_LOG_PATH = {"name": "event_name", "time_unix_nano": "time_unix_nano", "time": "time",
                "attributes": "attributes", "dropped_attributes_count": "dropped_attributes_count",
                "cache": "cache", "event_index": "flags"}
# What a statement may read of the event's span, carried in log fields no event has (the
# attributes as the body: a map, read whole or by keys; the start time as the observed time).
_SPAN_AS_LOG_PATH = {"name": "severity_text", "kind": "severity_number", "attributes": "body",
                     "trace_id": "trace_id", "trace_id.string": "trace_id.string",
                     "span_id": "span_id", "span_id.string": "span_id.string",
                     "start_time_unix_nano": "observed_time_unix_nano",
                     "start_time": "observed_time"}
_LOG_SPECS = {spec.name: spec for spec in CONTEXTS["log"].paths}


class NotEventLocal(Exception):
    """What keeps a spanevent group from running as log statements (the message says)."""


def as_log(node: Any) -> Any:
    """The resolved tree ``node`` of the spanevent context with every event path read as the
    log path of the same field (and the statement's or condition's context as ``log``).
    Raises NotEventLocal for what has no such reading."""
    if isinstance(node, resolved.RPath):
        if node.context == "span":
            carried = _SPAN_AS_LOG_PATH.get(node.spec.name)
            if carried is None or (node.keys and carried != "body"):
                raise NotEventLocal(f"'{node.text()}' reads the event's span beyond its name, "
                                    "kind, attributes, ids and start time")
            return replace(node, context="log", spec=_LOG_SPECS[carried],
                           keys=tuple(as_log(k) for k in node.keys))
        keys = tuple(as_log(k) for k in node.keys)
        if node.context != "spanevent":
            return replace(node, keys=keys)  # a resource or scope path
        name = _AS_LOG_PATH.get(node.spec.name)
        if name is None:
            raise NotEventLocal(f"'{node.text()}' has no log field")
        return replace(node, context="log", spec=_LOG_SPECS[name], keys=keys)
    if isinstance(node, (resolved.RCall, resolved.RFunctionRef)) and node.spec.contexts:
        raise NotEventLocal(f"{node.spec.name} runs in some contexts only")
    if isinstance(node, tuple):
        return tuple(as_log(item) for item in node)
    if is_dataclass(node) and not isinstance(node, type) \
            and type(node).__module__ == resolved.__name__:
        changed = {f.name: as_log(getattr(node, f.name)) for f in fields(node)}
        if isinstance(node, (resolved.RStatement, resolved.RCondition)):
            changed["context"] = "log"
        return replace(node, **changed)
    return node


def _writes_beyond_event(statement: resolved.RStatement) -> Optional[str]:
    """The text of a path the statement's editor writes outside the event, if any."""
    for arg in statement.editor.args:
        if arg is not None and arg.param.kind == ParamKind.PATH and \
                isinstance(arg.value, resolved.RPath) and arg.value.context != "spanevent":
            return arg.value.text()
    return None


@dataclass
class NativeEventGroup:
    """A spanevent group compiled as log statements and conditions (see the module's doc),
    and the same group for the reference, event by event (``fallback``): for a batch where
    something needs the reference (a converter failing on some events in a where clause)."""

    signal: str
    context: str
    conditions: list[Condition]
    statements: list[Statement]
    error_mode: str
    fallback: EventGroup
    fallbacks: int = 0  # batches handed to ``fallback`` so far
    # whether a statement or condition reads the span's attributes (then no projection)
    reads_span_attributes: bool = False

    @property
    def uses_cache(self) -> bool:
        return any(s.uses_cache for s in self.statements)


def native_event_group(compiled: Any, options: Optional[Options] = None
                       ) -> Union[NativeEventGroup, str]:
    """The spanevent group ``compiled`` (from ``ottl.eval.processors.compile_groups``) for the
    VM, or why it cannot run there."""
    try:
        for statement in compiled.statements:
            beyond = _writes_beyond_event(statement.source)
            if beyond is not None:
                raise NotEventLocal(f"'{statement.text}' writes {beyond}")
        conditions = [Condition(as_log(c.source), options) for c in compiled.conditions]
        statements = [Statement(as_log(s.source), options) for s in compiled.statements]
    except NotEventLocal as exc:
        return str(exc)
    items: list[Union[Condition, Statement]] = [*conditions, *statements]
    for item in items:
        if not item.native:
            return f"'{item.text}': {item.reason}"
    for statement in statements:
        if statement.parent_write is not None:  # pragma: no cover - refused above
            return f"'{statement.text}' writes its resource or scope"
    sources = [s.source for s in compiled.statements] + [c.source for c in compiled.conditions]
    reads = any(p.context == "span" and p.spec.name == "attributes"
                for p in resolved_paths(tuple(sources)))
    return NativeEventGroup(compiled.group.signal, "spanevent", conditions, statements,
                            compiled.group.error_mode, EventGroup(compiled),
                            reads_span_attributes=reads)
