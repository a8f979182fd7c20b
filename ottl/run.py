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
from dataclasses import dataclass
from typing import Any, Optional, Sequence, Union

from ottl.config import ERROR_MODES, SIGNAL_CONTEXTS, Group, Located, load_config
from ottl.eval import otlp_json, otlp_proto
from ottl.eval.otlp_json import OtlpFormatError, Payload
from ottl.eval.processors import FilterProcessor, Stats, TransformProcessor
from ottl.resolver import Options

Document = Union[dict, str, bytes]

CONTEXT_SIGNALS = {"span": "traces", "spanevent": "traces", "log": "logs"}


@dataclass
class Result:
    """What a run produced: the output document, the payload, and what happened."""

    document: Document
    payload: Payload
    stats: Stats


def decode(doc: Document) -> tuple[Payload, str]:
    """A document as a payload, and its format: "otlp-json" or "otlp-proto"."""
    if isinstance(doc, dict):
        return otlp_json.load(doc), "otlp-json"
    if isinstance(doc, str):
        return otlp_json.load(_parse_json(doc)), "otlp-json"
    if isinstance(doc, (bytes, bytearray, memoryview)):
        data = bytes(doc)
        if data.lstrip()[:1] in (b"{", b"["):
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise OtlpFormatError(f"JSON input is not UTF-8 (byte {exc.start})") from None
            return otlp_json.load(_parse_json(text)), "otlp-json"
        return otlp_proto.load(data), "otlp-proto"
    raise TypeError(f"expected an OTLP document (dict, str or bytes), got {type(doc).__name__}")


def _parse_json(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise OtlpFormatError(f"malformed JSON at line {exc.lineno}, column {exc.colno}: "
                              f"{exc.msg}") from None


def encode(payload: Payload, fmt: str, like: Optional[Document] = None) -> Document:
    """A payload in ``fmt``; for JSON, a dict unless ``like`` is text or bytes."""
    if fmt == "otlp-proto":
        return otlp_proto.dump(payload)
    doc = otlp_json.dump(payload)
    if isinstance(like, str):
        return json.dumps(doc)
    if isinstance(like, (bytes, bytearray)):
        return json.dumps(doc).encode("utf-8")
    return doc


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
) -> Result:
    """The engine of ``transform`` and ``filter``: ``kind`` is "statements" or "conditions"."""
    payload, fmt = decode(doc)
    if config is not None:
        groups = [g for g in load_config(config) if g.kind == kind]
    else:
        groups = groups_from_arguments(kind, texts, context=context, conditions=conditions,
                                       error_mode=error_mode, signal=payload.signal)
    processor_cls = TransformProcessor if kind == "statements" else FilterProcessor
    processor = processor_cls(groups, options)
    out, stats = processor.process(payload)
    return Result(encode(out, output_format or fmt, doc), out, stats)


def transform(
    doc: Document,
    statements: Sequence[str] = (),
    *,
    config: Optional[str] = None,
    context: Optional[str] = None,
    conditions: Sequence[str] = (),
    error_mode: str = "propagate",
) -> Document:
    """Apply transform statements (or a transform processor config) to an OTLP document."""
    return run(doc, "statements", config=config, texts=statements, context=context,
               conditions=conditions, error_mode=error_mode).document


def filter(  # noqa: A001 - the processor's name
    doc: Document,
    conditions: Sequence[str] = (),
    *,
    config: Optional[str] = None,
    context: Optional[str] = None,
    error_mode: str = "propagate",
) -> Document:
    """Drop the records any condition matches (or apply a filter processor config)."""
    return run(doc, "conditions", config=config, texts=conditions, context=context,
               error_mode=error_mode).document
