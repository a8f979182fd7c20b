"""The collector's transform and filter processor configuration (YAML), read unchanged.

``load_config(text)`` accepts a whole collector config (``processors: {transform/x: ...}``) or the
body of one processor, and returns the ``Group`` list it defines: each group is the statements
(transform) or conditions (filter) that run together, with their context (explicit, or ``None``
to infer it), error mode and where they came from in the file. Unknown keys and wrong shapes
raise ``ConfigError`` naming the key and line.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from typing import Any, Optional

import yaml

ERROR_MODES = ("ignore", "silent", "propagate")
# Both processors' factories default to propagate (see docs/config.md for the README's
# disagreement).
DEFAULT_ERROR_MODE = "propagate"

# The contexts each signal's lists may use, in the reference's order.
SIGNAL_CONTEXTS: dict[str, tuple[str, ...]] = {
    "traces": ("resource", "scope", "span", "spanevent"),
    "metrics": ("resource", "scope", "metric", "datapoint"),
    "logs": ("resource", "scope", "log"),
}

TRANSFORM_KEYS = {
    "trace_statements": "traces",
    "metric_statements": "metrics",
    "log_statements": "logs",
    "profile_statements": "profiles",
}
FILTER_FLAT_KEYS = {
    "trace_conditions": "traces",
    "metric_conditions": "metrics",
    "log_conditions": "logs",
    "profile_conditions": "profiles",
}
# The older filter style: signal -> {context key -> context}.
FILTER_NESTED = {
    "traces": {"span": "span", "spanevent": "spanevent"},
    "metrics": {"metric": "metric", "datapoint": "datapoint"},
    "logs": {"log_record": "log"},
}


class ConfigError(ValueError):
    """A configuration that is not a valid transform or filter processor config."""

    def __init__(self, message: str, line: Optional[int] = None, source: str = "") -> None:
        self.line = line
        where = f"{source or '<config>'}" + (f":{line}" if line else "")
        super().__init__(f"{where}: {message}")


class Located(str):
    """A YAML string scalar that remembers its 1-based line and column."""

    line: int = 0
    column: int = 0


@dataclass
class Group:
    processor: str  # "transform" or "filter", with the config's instance name: "transform/x"
    signal: str
    kind: str  # "statements" or "conditions"
    texts: list[Located]
    context: Optional[str] = None  # None: infer from the path prefixes
    error_mode: str = DEFAULT_ERROR_MODE
    # Transform groups may carry conditions that gate all their statements (ORed).
    conditions: list[Located] = field(default_factory=list)
    where: str = ""  # the config key path, e.g. "transform/x.trace_statements[1]"
    line: int = 0


class _Loader(yaml.SafeLoader):
    pass


_ENV_REF = re.compile(r"\$\$|\$\{(?:env:)?([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


def expand(value: str) -> str:
    """The collector's expansion of config strings: ``$$`` is a literal ``$``, and
    ``${env:NAME}`` / ``${NAME}`` (with an optional ``:-default``) read the environment."""

    def sub(m: re.Match) -> str:
        if m.group(0) == "$$":
            return "$"
        return os.environ.get(m.group(1), m.group(2) or "")

    return _ENV_REF.sub(sub, value)


def _construct_located(loader: _Loader, node: yaml.ScalarNode) -> Any:
    value = expand(loader.construct_scalar(node))
    out = Located(value)
    out.line = node.start_mark.line + 1
    out.column = node.start_mark.column + 1
    return out


_Loader.add_constructor("tag:yaml.org,2002:str", _construct_located)


def load_config(text: str, source: str = "") -> list[Group]:
    try:
        doc = yaml.load(text, Loader=_Loader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise ConfigError(f"not valid YAML: {exc}", mark.line + 1 if mark else None, source)
    if not isinstance(doc, dict):
        raise ConfigError("expected a mapping at the top level", 1, source)
    groups: list[Group] = []
    if "processors" in doc:
        procs = doc["processors"]
        if not isinstance(procs, dict):
            raise ConfigError("'processors' must be a mapping", _line(procs), source)
        found = False
        for name, body in procs.items():
            kind = str(name).split("/", 1)[0]
            if kind in ("transform", "filter"):
                found = True
                groups += _processor(kind, str(name), body or {}, source)
        if not found:
            raise ConfigError("no transform or filter processor under 'processors'", 1, source)
        return groups
    if any(k in doc for k in TRANSFORM_KEYS):
        return _processor("transform", "transform", doc, source)
    if any(k in doc for k in FILTER_FLAT_KEYS) or any(k in doc for k in FILTER_NESTED):
        return _processor("filter", "filter", doc, source)
    if "transform" in doc or "filter" in doc:
        for key in ("transform", "filter"):
            if key in doc:
                groups += _processor(key, key, doc[key] or {}, source)
        return groups
    raise ConfigError(
        "found neither a transform config (trace_statements, metric_statements, "
        "log_statements) nor a filter config (trace_conditions, ..., or traces/metrics/logs)",
        1,
        source,
    )


def _processor(kind: str, name: str, body: Any, source: str) -> list[Group]:
    if not isinstance(body, dict):
        raise ConfigError(f"'{name}' must be a mapping", _line(body), source)
    mode = _error_mode(body.get("error_mode", DEFAULT_ERROR_MODE), f"{name}.error_mode", source)
    groups: list[Group] = []
    if kind == "transform":
        allowed = set(TRANSFORM_KEYS) | {"error_mode", "flatten_data"}
        _no_unknown(body, allowed, name, source)
        for key, signal in TRANSFORM_KEYS.items():
            if key in body:
                groups += _lists(name, key, signal, "statements", body[key], mode, source)
    else:
        allowed = set(FILTER_FLAT_KEYS) | set(FILTER_NESTED) | {"error_mode"}
        _no_unknown(body, allowed, name, source)
        for key, signal in FILTER_FLAT_KEYS.items():
            if key in body:
                groups += _lists(name, key, signal, "conditions", body[key], mode, source)
        for signal, contexts in FILTER_NESTED.items():
            if signal in body:
                groups += _nested_filter(name, signal, contexts, body[signal], mode, source)
    return groups


def _lists(
    proc: str, key: str, signal: str, kind: str, items: Any, mode: str, source: str
) -> list[Group]:
    where = f"{proc}.{key}"
    if signal == "profiles":
        raise ConfigError(f"{where}: profiles are not supported by this engine", _line(items), source)
    if not isinstance(items, list):
        raise ConfigError(f"{where} must be a list", _line(items), source)
    groups: list[Group] = []
    basic = [i for i in items if isinstance(i, str)]
    if basic:
        # The basic style: all plain strings of the list form one group, context inferred.
        groups.append(
            Group(proc, signal, kind, basic, None, mode, [], where, basic[0].line if basic else 0)
        )
    for index, item in enumerate(items):
        if isinstance(item, str):
            continue
        if not isinstance(item, dict):
            raise ConfigError(
                f"{where}[{index}] must be a {kind[:-1]} string or a mapping", _line(item), source
            )
        groups.append(_advanced(proc, signal, kind, item, mode, f"{where}[{index}]", source))
    return groups


def _advanced(
    proc: str, signal: str, kind: str, item: dict, mode: str, where: str, source: str
) -> Group:
    allowed = {"context", "error_mode", kind} | ({"conditions"} if kind == "statements" else set())
    _no_unknown(item, allowed, where, source)
    context = item.get("context")
    if context is not None:
        context = str(context)
        if context not in SIGNAL_CONTEXTS[signal] and context != "log_record":
            raise ConfigError(
                f"{where}.context '{context}' is not a {signal} context "
                f"(one of {', '.join(SIGNAL_CONTEXTS[signal])})",
                _line(item.get("context")),
                source,
            )
        if context == "log_record":
            context = "log"
    texts = _strings(item.get(kind), f"{where}.{kind}", source)
    if not texts:
        raise ConfigError(f"{where} has no {kind}", _line(item), source)
    conditions = _strings(item.get("conditions"), f"{where}.conditions", source)
    group_mode = mode
    if "error_mode" in item:
        group_mode = _error_mode(item["error_mode"], f"{where}.error_mode", source)
    return Group(proc, signal, kind, texts, context, group_mode, conditions, where, texts[0].line)


def _nested_filter(
    proc: str, signal: str, contexts: dict[str, str], body: Any, mode: str, source: str
) -> list[Group]:
    where = f"{proc}.{signal}"
    if not isinstance(body, dict):
        raise ConfigError(f"{where} must be a mapping", _line(body), source)
    _no_unknown(body, set(contexts), where, source)
    groups = []
    for key, context in contexts.items():
        if key in body:
            texts = _strings(body[key], f"{where}.{key}", source)
            if texts:
                groups.append(
                    Group(proc, signal, "conditions", texts, context, mode, [], f"{where}.{key}",
                          texts[0].line)
                )
    return groups


def _strings(value: Any, where: str, source: str) -> list[Located]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where} must be a list of strings", _line(value), source)
    return list(value)


def _error_mode(value: Any, where: str, source: str) -> str:
    if value not in ERROR_MODES:
        raise ConfigError(
            f"{where} must be one of {', '.join(ERROR_MODES)}, got {value!r}", _line(value), source
        )
    return str(value)


def _no_unknown(body: dict, allowed: set, where: str, source: str) -> None:
    for key in body:
        if key not in allowed:
            raise ConfigError(
                f"unknown key '{key}' in {where} (allowed: {', '.join(sorted(allowed))})",
                _line(key),
                source,
            )


def _line(value: Any) -> Optional[int]:
    return getattr(value, "line", None) or None
