"""``ottl transform`` and ``ottl filter``: read a document, run the processor, write the result,
and summarize what changed."""

from __future__ import annotations

import argparse
import json
import sys
from importlib import resources
from typing import Any, Optional, TextIO

from ottl.config import ConfigError
from ottl.eval import otlp_json
from ottl.eval.otlp_json import OtlpFormatError, Payload
from ottl.eval.processors import GroupCompileError
from ottl.lang.errors import OttlError
from ottl.run import run

SAMPLES = ("sample_traces.json", "sample_logs.json")


def run_command(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    kind = "statements" if args.command == "transform" else "conditions"
    if args.config and args.texts:
        err.write(f"ottl {args.command}: give --config or --{kind[:-1]}, not both\n")
        return 2
    config = _read_config(args, err)
    if config is False:
        return 2
    inputs = _inputs(args, err)
    if inputs is None:
        return 2
    for name, data in inputs:
        try:
            result = run(
                data,
                kind,
                config=config if isinstance(config, str) else None,
                texts=args.texts,
                context=args.context,
                conditions=getattr(args, "conditions", ()),
                error_mode=args.error_mode,
                output_format=args.format,
                engine=args.engine,
            )
        except GroupCompileError as exc:
            err.write(f"ottl {args.command}: the OTTL does not compile:\n{exc}\n")
            return 1
        except (OttlError, OtlpFormatError, ConfigError, ValueError) as exc:
            err.write(f"ottl {args.command}: {name}: {_one_line(exc)}\n")
            return 1
        summary = _summary(args.command, name, result.input, result.payload, result.stats)
        if args.input is None:
            out.write(summary)
            if args.output:
                _write(args.output, result.document)
        else:
            err.write(summary)
            _write(args.output or "-", result.document, out)
    # Errors the error mode handled are in the summary; they do not fail the command.
    return 0


def _one_line(exc: Exception) -> str:
    text = str(exc)
    return text if isinstance(exc, OttlError) else text.splitlines()[0]


def _read_config(args: argparse.Namespace, err: TextIO) -> Any:
    if args.config:
        try:
            with open(args.config, encoding="utf-8") as fh:
                return fh.read()
        except OSError as exc:
            err.write(f"ottl {args.command}: cannot read {args.config}: {exc.strerror or exc}\n")
            return False
    if args.texts:
        return None
    # Neither: the built-in config that goes with the built-in sample.
    name = "transform.yaml" if args.command == "transform" else "filter.yaml"
    return resources.files("ottl.examples").joinpath(name).read_text("utf-8")


def _inputs(args: argparse.Namespace, err: TextIO) -> Optional[list[tuple[str, bytes]]]:
    if args.input is None:
        files = resources.files("ottl.examples")
        return [(f"<built-in {n}>", files.joinpath(n).read_bytes()) for n in SAMPLES]
    if args.input == "-":
        return [("<stdin>", sys.stdin.buffer.read())]
    try:
        with open(args.input, "rb") as fh:
            return [(args.input, fh.read())]
    except OSError as exc:
        err.write(f"ottl {args.command}: cannot read {args.input}: {exc.strerror or exc}\n")
        return None


def _write(path: str, document: Any, out: Optional[TextIO] = None) -> None:
    data = document if isinstance(document, bytes) else json.dumps(document, indent=1).encode()
    if path == "-":
        stream = out or sys.stdout
        if isinstance(document, bytes):
            stream.flush()
            sys.stdout.buffer.write(data)
            sys.stdout.buffer.flush()
        else:
            stream.write(data.decode() + "\n")
        return
    with open(path, "wb") as fh:
        fh.write(data)


# -- the summary ----------------------------------------------------------------------------------


def _records(payload: Payload) -> list[tuple[str, dict]]:
    """(label, OTLP/JSON) for each resource and each span or log record, in order."""
    doc = otlp_json.dump(payload)
    out = []
    for rx in doc.get("resourceSpans", []) + doc.get("resourceLogs", []):
        service = next((a["value"].get("stringValue", "") for a in rx.get("resource", {})
                        .get("attributes", []) if a["key"] == "service.name"), "")
        out.append((f"resource {service}", {"_id": "resource", **rx.get("resource", {})}))
        for sx in rx.get("scopeSpans", []) + rx.get("scopeLogs", []):
            for rec in sx.get("spans", []) + sx.get("logRecords", []):
                ident = rec.get("spanId") or rec.get("timeUnixNano", "")
                label = rec.get("name") or _short(rec.get("body"))
                out.append((f"{service}: {label}", {"_id": ident, **rec}))
    return out


def _short(body: Any) -> str:
    if isinstance(body, dict) and "stringValue" in body:
        text = body["stringValue"]
        return text if len(text) <= 40 else text[:37] + "..."
    return "log record"


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, dict):
        if set(value) == {"key", "value"}:
            return _flatten(value["value"], prefix + "." + value["key"] if prefix else value["key"])
        out: dict[str, Any] = {}
        for k, v in value.items():
            out.update(_flatten(v, f"{prefix}.{k}" if prefix else k))
        return out
    if isinstance(value, list):
        if value and all(isinstance(v, dict) and set(v) == {"key", "value"} for v in value):
            out = {}
            for v in value:
                out.update(_flatten(v["value"], f"{prefix}.{v['key']}" if prefix else v["key"]))
            return out
        out = {}
        for i, v in enumerate(value):
            out.update(_flatten(v, f"{prefix}[{i}]"))
        return out
    return {prefix: value}


def _clean(key: str) -> str:
    for noise in (".stringValue", ".intValue", ".doubleValue", ".boolValue", ".kvlistValue.values",
                  ".arrayValue.values", ".bytesValue"):
        key = key.replace(noise, "")
    return key


def _summary(command: str, name: str, before: Payload, after: Payload, stats: Any) -> str:
    old = _records(before)
    lines = [f"{name}: {stats.records_in} records in, {stats.records_out} out"]
    if command == "filter":
        kept = {rec["_id"] + label for label, rec in _records(after)}
        dropped = [label for label, rec in old
                   if rec["_id"] + label not in kept and rec["_id"] != "resource"]
        lines[0] += f", {len(dropped)} dropped"
        lines += [f"  dropped  {label}" for label in dropped]
    else:
        changed = 0
        # A transform keeps every record in place, so records pair up by position.
        for (label, rec), (_, after_rec) in zip(old, _records(after)):
            a, b = _flatten(rec), _flatten(after_rec)
            a.pop("_id", None)
            b.pop("_id", None)
            diffs = [k for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)]
            if diffs:
                changed += 1
                lines.append(f"  changed  {label}")
                for k in diffs[:6]:
                    lines.append(f"      {_clean(k)}: {_show(a.get(k))} -> {_show(b.get(k))}")
                if len(diffs) > 6:
                    lines.append(f"      ... and {len(diffs) - 6} more")
        lines[0] += f", {changed} changed"
    if stats.statement_errors:
        lines.append(f"  {stats.statement_errors} statement error(s), handled by the error mode; "
                     "first: " + (stats.errors[0].splitlines()[0] if stats.errors else ""))
    return "\n".join(lines) + "\n"


def _show(value: Any) -> str:
    if value is None:
        return "(none)"
    text = json.dumps(value)
    return text if len(text) <= 60 else text[:57] + '..."'
