"""Label selectors, exactly as Kubernetes defines them (``metav1.LabelSelector``).

A selector is ``matchLabels`` (key -> value) plus ``matchExpressions`` (key, operator, values);
every requirement of both parts must hold (AND). Operators:

* ``In``: the key is present and its value is one of ``values``;
* ``NotIn``: the key is absent, or its value is none of ``values``;
* ``Exists``: the key is present; ``DoesNotExist``: the key is absent.

``In`` and ``NotIn`` need a non-empty ``values``; ``Exists`` and ``DoesNotExist`` need none; key
and operator are required. A selector with no requirement matches every agent: the API makes
that explicit (``LabelSelector.everything()``; ``parse_selector`` accepts ``{}`` but refuses
``None``, a missing selector, which Kubernetes reads as "nothing").

Labels come from an agent's OpAMP attributes (``AnyValue``), identifying and non-identifying
alike (identifying wins on a clash), in this string form: strings as they are, booleans
``true``/``false``, integers in decimal, doubles as Python's ``repr`` (``1.5``, ``2.0``), bytes as
lowercase hex; arrays, key-value lists and empty values have no string form and give no label.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Optional

OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist")


class SelectorError(ValueError):
    """A selector that Kubernetes would reject; the message says where and why."""


@dataclass(frozen=True)
class Requirement:
    key: str
    operator: str
    values: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.key:
            raise SelectorError("a requirement needs a key")
        if self.operator not in OPERATORS:
            raise SelectorError(f"requirement on {self.key!r}: operator {self.operator!r} is not "
                                f"one of {', '.join(OPERATORS)}")
        if self.operator in ("In", "NotIn") and not self.values:
            raise SelectorError(f"requirement on {self.key!r}: operator {self.operator} needs "
                                "at least one value")
        if self.operator in ("Exists", "DoesNotExist") and self.values:
            raise SelectorError(f"requirement on {self.key!r}: operator {self.operator} takes "
                                "no values")

    def matches(self, labels: Mapping[str, str]) -> bool:
        present = self.key in labels
        if self.operator == "In":
            return present and labels[self.key] in self.values
        if self.operator == "NotIn":
            return not present or labels[self.key] not in self.values
        if self.operator == "Exists":
            return present
        return not present

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"key": self.key, "operator": self.operator}
        if self.values:
            out["values"] = list(self.values)
        return out


@dataclass(frozen=True)
class LabelSelector:
    match_labels: tuple[tuple[str, str], ...] = ()
    match_expressions: tuple[Requirement, ...] = field(default=())

    @classmethod
    def everything(cls) -> "LabelSelector":
        """The selector with no requirement: it matches every agent."""
        return cls()

    @property
    def is_everything(self) -> bool:
        return not self.match_labels and not self.match_expressions

    def requirements(self) -> list[Requirement]:
        """matchLabels as ``In`` requirements, then matchExpressions (the ANDed whole)."""
        return [Requirement(k, "In", (v,)) for k, v in self.match_labels] + list(
            self.match_expressions)

    def matches(self, labels: Mapping[str, str]) -> bool:
        return all(r.matches(labels) for r in self.requirements())

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.match_labels:
            out["matchLabels"] = dict(self.match_labels)
        if self.match_expressions:
            out["matchExpressions"] = [r.to_dict() for r in self.match_expressions]
        return out


def parse_selector(doc: Optional[Mapping[str, Any]]) -> LabelSelector:
    """A selector from its Kubernetes JSON/YAML shape. ``{}`` selects every agent; ``None``
    (no selector at all) is refused rather than read as "everything" or "nothing"."""
    if doc is None:
        raise SelectorError("no selector given: write {} to select every agent")
    if not isinstance(doc, Mapping):
        raise SelectorError("a selector must be a mapping with matchLabels / matchExpressions")
    unknown = set(doc) - {"matchLabels", "matchExpressions"}
    if unknown:
        raise SelectorError(f"unknown selector keys: {', '.join(sorted(map(str, unknown)))}")
    labels = doc.get("matchLabels") or {}
    if not isinstance(labels, Mapping):
        raise SelectorError("matchLabels must be a mapping of key to value")
    pairs: list[tuple[str, str]] = []
    for k, v in labels.items():
        if not isinstance(k, str) or not k:
            raise SelectorError(f"matchLabels: key {k!r} must be a non-empty string")
        if not isinstance(v, str):
            raise SelectorError(f"matchLabels[{k!r}]: value must be a string, got {v!r}")
        pairs.append((k, v))
    exprs = doc.get("matchExpressions") or []
    if not isinstance(exprs, list):
        raise SelectorError("matchExpressions must be a list")
    reqs: list[Requirement] = []
    for i, e in enumerate(exprs):
        if not isinstance(e, Mapping):
            raise SelectorError(f"matchExpressions[{i}] must be a mapping")
        extra = set(e) - {"key", "operator", "values"}
        if extra:
            raise SelectorError(f"matchExpressions[{i}]: unknown keys "
                                f"{', '.join(sorted(map(str, extra)))}")
        key, op, values = e.get("key"), e.get("operator"), e.get("values") or []
        if not isinstance(key, str) or not key:
            raise SelectorError(f"matchExpressions[{i}]: key is required")
        if not isinstance(op, str) or not op:
            raise SelectorError(f"matchExpressions[{i}]: operator is required")
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise SelectorError(f"matchExpressions[{i}]: values must be a list of strings")
        try:
            reqs.append(Requirement(key, op, tuple(values)))
        except SelectorError as exc:
            raise SelectorError(f"matchExpressions[{i}]: {exc}") from None
    return LabelSelector(tuple(pairs), tuple(reqs))


def label_string(value: Any) -> Optional[str]:
    """The documented string form of one attribute value (None: no label)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, str):
        return value
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).hex()
    return None


def labels_from_attributes(identifying: Iterable[tuple[str, Any]],
                           non_identifying: Iterable[tuple[str, Any]] = ()) -> dict[str, str]:
    """Labels from (key, value) attribute pairs; identifying attributes win on a clash."""
    out: dict[str, str] = {}
    for key, value in non_identifying:
        s = label_string(value)
        if s is not None:
            out[key] = s
    for key, value in identifying:
        s = label_string(value)
        if s is not None:
            out[key] = s
    return out
