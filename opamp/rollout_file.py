"""The rollout file: what ``ottl opamp serve --rollout`` and ``ottl opamp rollout start`` read.

YAML or JSON::

    id: checkout-redaction-v2          # a new id per rollout
    selector:                           # required; {} selects every agent
      matchLabels: {service.name: checkout}
      matchExpressions:
        - {key: deployment.environment.name, operator: In, values: [prod]}
    config:                             # the new configuration: named files
      ottl.yaml:
        content_type: application/yaml
        path: transform.yaml            # relative to this file; or `body: "..."` inline
    previous:                           # optional: what cohort agents go back to when they
      ottl.yaml: {path: old.yaml}       # have no assigned configuration
    strategy:
      steps:
        - {weight: 0.1, bake_seconds: 300}
        - {weight: 0.5, bake_seconds: 600}
        - {weight: 1.0, bake_seconds: 600}
      min_instances: 2
      max_instances: 50
      gates:
        - {metric: error_rate, max: 0.01}
        - {metric: latency_ms, max_ratio: 1.5}
      rollback_window_seconds: 3600
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Mapping, Optional

import yaml

from opamp.configs import ConfigVersion
from opamp.selector import LabelSelector, parse_selector
from opamp.strategy import Strategy, parse_strategy


class RolloutFileError(ValueError):
    pass


@dataclass
class RolloutSpec:
    id: str
    selector: LabelSelector
    strategy: Strategy
    config: ConfigVersion
    previous: Optional[ConfigVersion] = None


def _files(doc: Any, where: str, base: Optional[str]) -> ConfigVersion:
    if not isinstance(doc, Mapping) or not doc:
        raise RolloutFileError(f"{where}: expected a mapping of file name to "
                               "{content_type, path | body}")
    files: dict[str, tuple[str, bytes]] = {}
    for name, f in doc.items():
        if not isinstance(f, Mapping):
            raise RolloutFileError(f"{where}.{name}: expected {{content_type, path | body}}")
        ctype = str(f.get("content_type", "application/yaml"))
        if "body" in f:
            body = str(f["body"]).encode()
        elif "path" in f:
            if base is None:
                raise RolloutFileError(f"{where}.{name}: give the body inline here (path is "
                                       "for rollout files read from disk)")
            path = os.path.join(base, str(f["path"]))
            try:
                with open(path, "rb") as fh:
                    body = fh.read()
            except OSError as exc:
                raise RolloutFileError(f"{where}.{name}: {exc}") from None
        else:
            raise RolloutFileError(f"{where}.{name}: give path or body")
        files[str(name)] = (ctype, body)
    return ConfigVersion.of(files)


def parse_rollout(doc: Any, base: Optional[str] = ".") -> RolloutSpec:
    """A rollout from its document; file paths are relative to ``base`` (None: refuse paths)."""
    if not isinstance(doc, Mapping):
        raise RolloutFileError("a rollout file is a mapping")
    unknown = set(doc) - {"id", "selector", "config", "previous", "strategy"}
    if unknown:
        raise RolloutFileError(f"unknown keys: {', '.join(sorted(map(str, unknown)))}")
    rid = doc.get("id")
    if not isinstance(rid, str) or not rid:
        raise RolloutFileError("id is required")
    if "selector" not in doc:
        raise RolloutFileError("selector is required ({} selects every agent)")
    try:
        selector = parse_selector(doc["selector"])
        strategy = parse_strategy(doc.get("strategy") or {})
    except ValueError as exc:
        raise RolloutFileError(str(exc)) from None
    previous = _files(doc["previous"], "previous", base) if doc.get("previous") else None
    return RolloutSpec(rid, selector, strategy, _files(doc.get("config"), "config", base),
                       previous)


def load_rollout(path: str) -> RolloutSpec:
    try:
        with open(path, encoding="utf-8") as fh:
            doc = yaml.safe_load(fh)
    except (OSError, yaml.YAMLError) as exc:
        raise RolloutFileError(f"{path}: {exc}") from None
    return parse_rollout(doc, os.path.dirname(os.path.abspath(path)))


def inline(spec_doc: Any, base: str) -> dict[str, Any]:
    """The rollout document with every file's body inline (what the CLI sends the server)."""
    spec = parse_rollout(spec_doc, base)
    out = dict(spec_doc)
    out["config"] = {n: {"content_type": ct, "body": b.decode()} for n, ct, b in spec.config.files}
    if spec.previous is not None:
        out["previous"] = {n: {"content_type": ct, "body": b.decode()}
                           for n, ct, b in spec.previous.files}
    return out
