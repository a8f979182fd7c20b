"""A Python service's own spans and logs through a transform/filter configuration before export.

One line of setup, around whatever exporter the service already uses:

    from ottl.exporters import OttlSpanExporter
    provider.add_span_processor(BatchSpanProcessor(
        OttlSpanExporter(OTLPSpanExporter(), config=open("collector.yaml").read())))

The configuration is the collector's YAML (its ``transform`` and ``filter`` processors; only the
``trace_statements`` / ``traces`` parts for spans, the log parts for logs), or ``statements`` /
``conditions`` given directly. The transform runs first, then the filter, as a collector
pipeline that lists them in that order. Each ``export()`` turns the objects into one batch (the
same bytes the official OTLP exporter would send), runs the fast engine over it, and hands the
wrapped exporter the original objects of the records that were kept and not changed, and new
objects only for the records a statement changed, in the order the records came. A
configuration the VM cannot run natively runs through the reference evaluator instead, with the
same records (new objects, in the request's order).

``stats()`` is a plain snapshot of what went through; with ``meter_provider`` the same numbers
are OpenTelemetry metrics (``ottl.records.in``, ``ottl.records.out``, ``ottl.records.dropped``,
``ottl.statement.errors``, ``ottl.batch.duration``), which the OpAMP health gates read.
"""

from __future__ import annotations

import itertools
import logging
import operator
import time
from typing import Any, Optional, Sequence

import numpy as np

from ottl import _sdk_wire
from ottl._batch import decode_logs, decode_traces
from ottl._vm import dirty_records
from ottl.compiler.opcodes import FIELDS
from ottl.config import Group, load_config
from ottl.derive import NeedsReference
from ottl.eval.batch_model import batch_from_payload, payload_from_batch
from ottl.eval.processors import FilterProcessor, TransformProcessor
from ottl.lang.errors import OttlError
from ottl.pipeline import FilterPipeline, PipelineStats, TransformPipeline, errors_by_statement
from ottl.resolver import Options
from ottl.run import groups_from_arguments
from ottl.sdk import batch_to_logs, batch_to_spans

try:
    from opentelemetry.sdk._logs.export import LogRecordExporter as LogExporter
    from opentelemetry.sdk._logs.export import LogRecordExportResult as LogExportResult
    from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult
except ImportError as exc:  # pragma: no cover - the sdk extra is missing
    raise ImportError("ottl.exporters needs opentelemetry-sdk: pip install 'ottl[sdk]'") from exc

log = logging.getLogger("ottl.exporters")

__all__ = ["OttlSpanExporter", "OttlLogExporter"]



def _pick(objects: Sequence[Any], indexes: list[int]) -> list[Any]:
    """``[objects[i] for i in indexes]``, the loop in C (itemgetter): for a batch of spans the
    comprehension cost a tenth of the exporter's time."""
    if len(indexes) < 2:
        return [objects[i] for i in indexes]
    return list(operator.itemgetter(*indexes)(objects))

class _Engine:
    """The transform and filter groups of one signal, on the VM or the reference evaluator."""

    def __init__(self, signal: str, config: Optional[str], statements: Sequence[str],
                 conditions: Sequence[str], context: Optional[str], error_mode: str,
                 options: Optional[Options], meter_provider: Any) -> None:
        self.signal = signal
        if config is not None:
            groups = [g for g in load_config(config) if g.signal == signal]
        else:
            groups = []
            if statements:
                groups += groups_from_arguments("statements", statements, context=context,
                                                error_mode=error_mode, signal=signal)
            if conditions:
                groups += groups_from_arguments("conditions", conditions, context=context,
                                                error_mode=error_mode, signal=signal)
        self.tgroups: list[Group] = [g for g in groups if g.kind == "statements"]
        self.fgroups: list[Group] = [g for g in groups if g.kind == "conditions"]
        self.transform = TransformPipeline(self.tgroups, options)
        self.filter = FilterPipeline(self.fgroups, options)
        self.native = self.transform.native and self.filter.native
        # A filter-only configuration reads a few parts of each span: encode only those.
        self.projection = (_span_projection(self.filter.reads())
                           if signal == "traces" and self.native and not self.tgroups
                           and self.fgroups else None)
        self._options = options
        self._reference: Optional[tuple[TransformProcessor, FilterProcessor]] = None
        self.stats = PipelineStats()
        self._instruments = _instruments(meter_provider) if meter_provider is not None else None

    def run(self, objects: Sequence[Any], encode: Any, decode: Any, back: Any) -> list[Any]:
        started = time.perf_counter()
        if self.projection is not None:
            data, order = encode(objects, self.projection)
        else:
            data, order = encode(objects)
        batch = decode(data)
        n = len(batch)
        errors: dict[str, int] = {}
        native = self.native
        if native:
            try:
                out = self._native(objects, batch, order, decode, back)
                # errors the resource and scope groups handled by their error modes
                errors = errors_by_statement(*(p.last_run for p, used in (
                    (self.transform, self.tgroups), (self.filter, self.fgroups)) if used))
            except NeedsReference:
                native = False
                if self.projection is not None:
                    data, order = encode(objects)  # the reference needs whole records
                batch = decode(data)  # the transform may have half changed the first one
        if not native:
            payload = payload_from_batch(batch)
            payload, tstats = self.reference[0].process(payload)
            payload, fstats = self.reference[1].process(payload)
            errors = errors_by_statement(tstats, fstats)
            out = back(batch_from_payload(payload)) if len(payload.resources) else []
        seconds = time.perf_counter() - started
        s = self.stats
        s.batches += 1
        s.records_in += n
        s.records_out += len(out)
        s.dropped += n - len(out)
        s.seconds += seconds
        s.statement_errors += sum(errors.values())
        for k, v in errors.items():
            s.errors_by_statement[k] = s.errors_by_statement.get(k, 0) + v
        if self._instruments is not None:
            attrs = {"signal": self.signal}
            i = self._instruments
            i["in"].add(n, attrs)
            i["out"].add(len(out), attrs)
            i["dropped"].add(n - len(out), attrs)
            for text, count in errors.items():
                i["errors"].add(count, {**attrs, "statement": text})
            i["duration"].record(seconds, attrs)
        return out

    def _native(self, objects: Sequence[Any], batch: Any, order: Optional[Sequence[int]],
                decode: Any, back: Any) -> list[Any]:
        if self.tgroups:
            self.transform.execute(batch)
        keep = self.filter.keep(batch) if self.fgroups else np.ones(len(batch), dtype=np.bool_)
        changed = dirty_records(batch)
        if self.tgroups and self.transform.last_parent_writes is not None:
            changed |= self.transform.last_parent_writes  # their objects hold the old parents
        rebuilt = keep & changed
        if not rebuilt.any():  # the usual case: each kept record's own object, as it came
            if order is None:  # the batch holds the records in the order given
                return list(itertools.compress(objects, keep.tolist()))
            # In the order given (sorted already when the input came grouped).
            return _pick(objects, sorted(itertools.compress(order, keep.tolist())))
        if order is None:
            order = range(len(objects))
        kept = np.flatnonzero(keep).tolist()
        fresh = iter(back(decode(batch.encode(rebuilt))))
        flags = changed.tolist()  # plain lists: numpy scalars are slow to index one by one
        placed = [(order[i], next(fresh) if flags[i] else objects[order[i]]) for i in kept]
        placed.sort(key=operator.itemgetter(0))
        return [obj for _, obj in placed]

    @property
    def reference(self) -> tuple[TransformProcessor, FilterProcessor]:
        if self._reference is None:
            self._reference = (TransformProcessor(self.tgroups, self._options),
                               FilterProcessor(self.fgroups, self._options))
        return self._reference


# Span fields of the VM -> the part of a span (_sdk_wire.PROJECTABLE_SPAN_PARTS) holding them.
_SPAN_PARTS = {"SPAN_NAME": "name", "SPAN_KIND": "kind", "SPAN_TRACE_STATE": "trace_state",
               "SPAN_START": "times", "SPAN_END": "times", "SPAN_STATUS_CODE": "status",
               "SPAN_STATUS_MESSAGE": "status", "SPAN_DROPPED_ATTRS": "dropped",
               "SPAN_DROPPED_EVENTS": "dropped", "SPAN_DROPPED_LINKS": "dropped",
               "SPAN_ATTRS": "attributes"}


def _span_projection(reads: dict[int, Optional[set[str]]]) -> Optional[tuple]:
    """(parts, attribute keys or None, grouped) of the spans a filter reads; None when it reads
    something a projection cannot narrow (resource and scope parts are always whole, and
    ``grouped`` says the filter reads some: otherwise the spans need no grouping)."""
    if not reads:
        return None
    parts: set[str] = set()
    keys: Optional[set[str]] = set()
    grouped = False
    for field, read in reads.items():
        name = FIELDS[field].name
        if name.startswith(("RESOURCE_", "SCOPE_")):
            grouped = True
            continue
        part = _SPAN_PARTS.get(name)
        if part is None:
            return None
        parts.add(part)
        if part == "attributes":
            keys = None if read is None else keys
            if keys is not None and read is not None:
                keys |= read
    return (frozenset(parts), None if keys is None else tuple(sorted(keys)), grouped)


def _instruments(meter_provider: Any) -> dict[str, Any]:
    meter = meter_provider.get_meter("ottl")
    return {
        "in": meter.create_counter("ottl.records.in", unit="{record}",
                                   description="records handed to the OTTL pipeline"),
        "out": meter.create_counter("ottl.records.out", unit="{record}",
                                    description="records the pipeline passed on"),
        "dropped": meter.create_counter("ottl.records.dropped", unit="{record}",
                                        description="records the filter dropped"),
        "errors": meter.create_counter("ottl.statement.errors", unit="{error}",
                                       description="statement and condition errors the "
                                                   "error mode handled, by statement"),
        "duration": meter.create_histogram("ottl.batch.duration", unit="s",
                                           description="time to run the pipeline over one "
                                                       "export batch"),
    }


class _Wrapping:
    """What both wrappers share: the engine of their signal, stats, and passing on."""

    _signal = ""

    def __init__(self, exporter: Any, config: Optional[str] = None, *,
                 statements: Sequence[str] = (), conditions: Sequence[str] = (),
                 context: Optional[str] = None, error_mode: str = "propagate",
                 options: Optional[Options] = None, meter_provider: Any = None) -> None:
        self.exporter = exporter
        self._engine = _Engine(self._signal, config, statements, conditions, context,
                               error_mode, options, meter_provider)

    @property
    def native(self) -> bool:
        """True when the VM runs the whole configuration."""
        return self._engine.native

    def stats(self) -> PipelineStats:
        return self._engine.stats

    def _through(self, objects: Sequence[Any], encode: Any, decode: Any, back: Any,
                 success: Any, failure: Any) -> Any:
        try:
            out = self._engine.run(list(objects), encode, decode, back)
        except OttlError as exc:  # error_mode propagate: the batch fails, as in the collector
            log.error("OTTL failed on an export batch: %s", exc)
            return failure
        if not out:
            return success
        return self.exporter.export(out)

    def shutdown(self) -> None:
        self.exporter.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return self.exporter.force_flush(timeout_millis)


class OttlSpanExporter(_Wrapping, SpanExporter):
    """Wraps a SpanExporter: spans go through the configuration before it exports them."""

    _signal = "traces"

    def export(self, spans: Sequence[Any]) -> SpanExportResult:
        return self._through(spans, _sdk_wire.encode_spans_ordered, decode_traces,
                             batch_to_spans, SpanExportResult.SUCCESS, SpanExportResult.FAILURE)


class OttlLogExporter(_Wrapping, LogExporter):
    """Wraps a LogExporter: log records go through the configuration before it exports them."""

    _signal = "logs"

    def export(self, batch: Sequence[Any]) -> Any:
        return self._through(batch, _sdk_wire.encode_logs_ordered, decode_logs, batch_to_logs,
                             LogExportResult.SUCCESS, LogExportResult.FAILURE)

