"""Transform and filter telemetry documents in memory, as the collector's processors would.

    import ottl
    out = ottl.transform(doc, statements=['set(span.attributes["env"], "prod")'])
    out = ottl.filter(doc, conditions=['span.name == "healthcheck"'])
    out = ottl.transform(doc, config=open("collector.yaml").read())

``doc`` is OTLP/JSON (a ``dict``, or JSON text as ``str``) or OTLP protobuf (``bytes``); the
result has the same form. With ``config`` the transform/filter processor YAML is used as the
collector would; otherwise ``statements`` (or ``conditions``) form one group, in ``context``
or, without one, the context inferred from their path prefixes. Errors: ``OttlError`` for
OTTL that does not compile or fails under ``error_mode="propagate"`` (the input is never
modified), ``OtlpFormatError`` for a document that is not OTLP, ``ConfigError`` for bad YAML.
"""

from __future__ import annotations

import json
import re
from typing import Any, Callable, Optional, Sequence, Union

from ottl._batch import (
    OtlpDecodeError,
    SpanBatch,
    decode_logs,
    decode_logs_json,
    decode_traces,
    decode_traces_json,
)
from ottl.config import ERROR_MODES, SIGNAL_CONTEXTS, Group, Located, load_config
from ottl.lang.errors import OttlError
from ottl.eval.batch_model import Batch, batch_from_payload, filter_mask, payload_from_batch
from ottl.eval.otlp_json import OtlpFormatError, Payload
from ottl.eval.processors import FilterProcessor, Stats, TransformProcessor
from ottl.derive import NeedsReference
from ottl.pipeline import FilterPipeline, TransformPipeline
from ottl.resolver import Options

Document = Union[dict, str, bytes]
Pipeline = Union[FilterPipeline, TransformPipeline]

ENGINES = ("fast", "reference")

CONTEXT_SIGNALS = {"span": "traces", "spanevent": "traces", "log": "logs"}

# Which signal an OTLP/JSON document holds: the first of these keys in it (either spelling).
_JSON_SIGNAL = re.compile(rb'"resource_?([sS]pans|[lL]ogs)"\s*:')


class Result:
    """What a run produced: the output document, what happened, and the records before and
    after as the evaluator's payloads (built on first use: the fast path needs none)."""

    def __init__(self, document: Document, stats: Stats, batch: Batch,
                 after: Callable[[], Payload], before: Callable[[], Payload]) -> None:
        self.document = document
        self.stats = stats
        self.batch = batch
        self._after = after
        self._before = before
        self._input: Optional[Payload] = None
        self._payload: Optional[Payload] = None

    @property
    def input(self) -> Payload:
        if self._input is None:
            self._input = self._before()
        return self._input

    @property
    def payload(self) -> Payload:
        if self._payload is None:
            self._payload = self._after()
        return self._payload


def decode(doc: Document) -> tuple[Payload, str]:
    """A document as a payload, and its format: "otlp-json" or "otlp-proto"."""
    batch, fmt = decode_batch(doc)
    return payload_from_batch(batch), fmt


def decode_batch(doc: Document,
                 projection: Optional[dict[str, frozenset[str]]] = None,
                 keep_others: bool = False) -> tuple[Batch, str]:
    """A document as a columnar batch (through the native codec), and its format. With
    ``projection`` (signal -> record attribute keys), protobuf input of a listed signal decodes
    only those keys' values, dropping the other attributes (a batch for a filter) or, with
    ``keep_others``, keeping them opaque (a batch for a transform); JSON input always decodes
    whole."""
    if isinstance(doc, dict):
        return _json_batch(json.dumps(doc).encode("utf-8")), "otlp-json"
    if isinstance(doc, str):
        return _json_batch(doc.encode("utf-8")), "otlp-json"
    if isinstance(doc, (bytes, bytearray, memoryview)):
        data = bytes(doc)
        if data.lstrip()[:1] in (b"{", b"["):
            return _json_batch(data), "otlp-json"
        return _proto_batch(data, projection or {}, keep_others), "otlp-proto"
    raise TypeError(f"expected an OTLP document (dict, str or bytes), got {type(doc).__name__}")


def _proto_batch(data: bytes, projection: dict[str, frozenset[str]],
                 keep_others: bool = False) -> Batch:
    """Traces or logs, whichever the bytes are: the decode that fails on no known field and
    skips no unknown one (the two messages share field numbers down to the records)."""
    errors = []
    for name, decoder in (("traces", decode_traces), ("logs", decode_logs)):
        try:
            keys = projection.get(name)
            batch = decoder(data, attribute_keys=keys,
                            keep_other_attributes=keep_others and keys is not None)
        except OtlpDecodeError as exc:
            errors.append(f"as {name}: {exc}")
            continue
        if batch.unknown_field_count == 0:
            return batch
        errors.append(f"as {name}: {batch.unknown_field_count} fields of another message type")
    raise OtlpFormatError("not an OTLP ExportTraceServiceRequest or ExportLogsServiceRequest "
                          f"({'; '.join(errors)})")


def _json_batch(data: bytes) -> Batch:
    try:
        first = _JSON_SIGNAL.search(data)
        if first is None:
            decode_traces_json(data)  # a malformed document: its own error says where
            if b'"resourceMetrics"' in data or b'"resource_metrics"' in data:
                raise OtlpFormatError("resourceMetrics: metrics are not supported yet")
            raise OtlpFormatError("neither resourceSpans nor resourceLogs is present")
        if first.group(1).lower() == b"logs":
            return decode_logs_json(data)
        return decode_traces_json(data)
    except OtlpDecodeError as exc:
        raise OtlpFormatError(str(exc)) from None


def encode(payload: Payload, fmt: str, like: Optional[Document] = None) -> Document:
    """A payload in ``fmt``; for JSON, a dict unless ``like`` is text or bytes."""
    return encode_batch(batch_from_payload(payload), fmt, like)


def encode_batch(batch: Batch, fmt: str, like: Optional[Document] = None,
                 mask: Any = None, verbatim: bool = False) -> Document:
    """A batch (or the records ``mask`` keeps) in ``fmt``, through the native codec."""
    if fmt == "otlp-proto":
        return batch.encode(mask, verbatim=verbatim)
    data = batch.encode_json(mask)
    if isinstance(like, str):
        return data.decode("utf-8")
    if isinstance(like, (bytes, bytearray)):
        return data
    return json.loads(data)


def groups_from_arguments(
    kind: str,
    texts: Sequence[str],
    *,
    context: Optional[str],
    conditions: Sequence[str] = (),
    error_mode: str = "propagate",
    signal: str,
) -> list[Group]:
    """One group made of command-line style statements or conditions."""
    if error_mode not in ERROR_MODES:
        raise ValueError(f"error_mode must be one of {', '.join(ERROR_MODES)}, got {error_mode!r}")
    if context is not None and context not in SIGNAL_CONTEXTS[signal]:
        raise ValueError(f"context {context!r} does not apply to {signal} "
                         f"(one of {', '.join(SIGNAL_CONTEXTS[signal])})")
    processor = "transform" if kind == "statements" else "filter"
    return [Group(processor, signal, kind, [Located(t) for t in texts], context, error_mode,
                  [Located(c) for c in conditions], f"{processor} {kind}", 0)]


def run(
    doc: Document,
    kind: str,
    *,
    config: Optional[str] = None,
    texts: Sequence[str] = (),
    context: Optional[str] = None,
    conditions: Sequence[str] = (),
    error_mode: str = "propagate",
    output_format: Optional[str] = None,
    options: Optional[Options] = None,
    engine: str = "fast",
) -> Result:
    """The engine of ``transform`` and ``filter``: ``kind`` is "statements" or "conditions".
    ``engine="fast"`` runs what the VM can run natively (a filter whose conditions all compile)
    and the reference evaluator for the rest; ``engine="reference"`` runs only the latter."""
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {', '.join(ENGINES)}, got {engine!r}")
    # A native pipeline with protobuf out decodes only the attribute values it reads (and,
    # for a transform, writes): its pipeline comes first.
    pipelines: dict[str, tuple[list[Group], Pipeline]] = {}
    if engine == "fast" and output_format in (None, "otlp-proto"):
        pipelines = _pipelines(kind, config, texts, context, conditions, error_mode, options)
    projection: dict[str, frozenset[str]] = {}
    for name, (_, p) in pipelines.items():
        keys = p.attribute_keys(name)
        if keys is not None:
            projection[name] = keys
    batch, fmt = decode_batch(doc, projection, keep_others=kind == "statements")
    signal = "traces" if isinstance(batch, SpanBatch) else "logs"
    pipeline = None
    if signal in pipelines:
        groups, pipeline = pipelines[signal]
    elif config is not None:
        groups = [g for g in load_config(config) if g.kind == kind]
    else:
        groups = groups_from_arguments(kind, texts, context=context, conditions=conditions,
                                       error_mode=error_mode, signal=signal)
    fmt = output_format or fmt
    fast = None
    while engine == "fast":
        try:
            fast = _run_fast(doc, kind, groups, batch, fmt, options, pipeline)
            break
        except NeedsReference:
            projected = batch.attributes_projected
            batch, _ = decode_batch(doc)  # whole (a transform may have half changed the first)
            if not projected:
                break
            # what the projected batch could not do (a condition failing on some records,
            # which the reference then decides one by one) a whole one may: once more
    if fast is not None:
        return fast
    payload = payload_from_batch(batch)
    processor_cls = TransformProcessor if kind == "statements" else FilterProcessor
    processor = processor_cls(groups, options)
    out, stats = processor.process(payload)
    mask = filter_mask(batch, out) if kind == "conditions" else None
    if mask is not None:
        # Only records were dropped: the kept ones go out as they came in, byte for byte.
        document = encode_batch(batch, fmt, doc, mask, verbatim=True)
    else:
        document = encode(out, fmt, doc)
    return Result(document, stats, batch, lambda: out, before=lambda: payload)


def _pipelines(kind: str, config: Optional[str], texts: Sequence[str], context: Optional[str],
               conditions: Sequence[str], error_mode: str,
               options: Optional[Options]) -> dict[str, tuple[list[Group], Pipeline]]:
    """Per signal, the groups of ``kind`` and their compiled pipeline (a filter's or a
    transform's), built before the decode so that the decode can take the pipeline's
    projection; signals whose groups do not build are left out (the run itself then reports
    the error)."""
    out: dict[str, tuple[list[Group], Pipeline]] = {}
    make = FilterPipeline if kind == "conditions" else TransformPipeline
    try:
        configured = ([g for g in load_config(config) if g.kind == kind]
                      if config is not None else None)
    except (OttlError, ValueError, LookupError):
        return out
    for signal in ("traces", "logs"):
        try:
            groups = configured if configured is not None else groups_from_arguments(
                kind, texts, context=context, conditions=conditions,
                error_mode=error_mode, signal=signal)
            out[signal] = (groups, make(groups, options))
        except (OttlError, ValueError, LookupError):
            continue
    return out


def _run_fast(doc: Document, kind: str, groups: list[Group], batch: Batch, fmt: str,
              options: Optional[Options],
              pipeline: Optional[Pipeline] = None) -> Optional[Result]:
    """The run on the VM, or None when the groups do not run natively (``pipeline``: the
    filter's or transform's, when already built from these groups)."""
    if kind == "conditions":
        assert pipeline is None or isinstance(pipeline, FilterPipeline)
        pipeline = pipeline or FilterPipeline(groups, options)
        if pipeline.native:
            keep = pipeline.keep(batch)
            stats = Stats(records_in=len(batch), records_out=int(keep.sum()),
                          statement_errors=pipeline.last_run.statement_errors,
                          errors=pipeline.last_run.errors)
            stats.dropped = stats.records_in - stats.records_out
            # The kept records go out as they came in, byte for byte.
            document = encode_batch(batch, fmt, doc, keep, verbatim=True)
            return Result(document, stats, batch, lambda: _kept_payload(batch, keep),
                          before=lambda: payload_from_batch(decode_batch(doc)[0]))
    if kind == "statements":
        assert pipeline is None or isinstance(pipeline, TransformPipeline)
        transform = pipeline or TransformPipeline(groups, options)
        if transform.native:
            ran = transform.execute(batch)  # changes the batch in place
            stats = Stats(records_in=len(batch), records_out=len(batch), statements_run=ran,
                          statement_errors=transform.last_run.statement_errors,
                          errors=transform.last_run.errors)
            # Records no statement changed go out byte for byte; the rest from the columns.
            document = encode_batch(batch, fmt, doc, None, verbatim=True)
            # (a projected batch holds opaque values: the output shows what it became)
            return Result(document, stats, batch,
                          lambda: payload_from_batch(batch if not batch.attributes_projected
                                                     else decode_batch(document)[0]),
                          before=lambda: payload_from_batch(decode_batch(doc)[0]))
    return None


def _kept_payload(batch: Batch, keep: Any) -> Payload:
    """The evaluator's records of what a native filter kept (for summaries)."""
    kept = decode_traces if isinstance(batch, SpanBatch) else decode_logs
    return payload_from_batch(kept(batch.encode(keep, verbatim=True)))


def transform(
    doc: Document,
    statements: Sequence[str] = (),
    *,
    config: Optional[str] = None,
    context: Optional[str] = None,
    conditions: Sequence[str] = (),
    error_mode: str = "propagate",
    engine: str = "fast",
) -> Document:
    """Apply transform statements (or a transform processor config) to an OTLP document."""
    return run(doc, "statements", config=config, texts=statements, context=context,
               conditions=conditions, error_mode=error_mode, engine=engine).document


def filter(  # noqa: A001 - the processor's name
    doc: Document,
    conditions: Sequence[str] = (),
    *,
    config: Optional[str] = None,
    context: Optional[str] = None,
    error_mode: str = "propagate",
    engine: str = "fast",
) -> Document:
    """Drop the records any condition matches (or apply a filter processor config)."""
    return run(doc, "conditions", config=config, texts=conditions, context=context,
               error_mode=error_mode, engine=engine).document
