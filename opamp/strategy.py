"""The graduation strategy (steps, bounds, gates) and deterministic cohorts.

A strategy is an ordered list of steps, each a weight (the share of eligible agents on the new
configuration, 0.0 to 1.0) and a bake time (seconds the step's cohort must run the new
configuration, counted from the acknowledgement, before the next step); ``min_instances`` and
``max_instances`` bound the cohort; health gates judge the engine's metrics; a progress deadline
aborts a step whose cohort never acknowledges; a rollback window keeps the gates watching after
full promotion.

Cohorts: an agent's place is ``sha256(rollout id, 0x00, cohort key)`` read as a fraction in
[0, 1). The cohort of a weight is the ``target_count`` agents with the smallest places, so a larger
weight only ever adds agents. The cohort key is the agent's stable identity: its
``service.namespace``, ``service.name`` and ``service.instance.id`` identifying attributes where it
has any, else its instance uid (hashed like everything else: raw UUIDv7 bytes are time-ordered).
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Optional, Sequence

# The engine's metrics a gate may name (the agent's custom message carries them; docs/opamp.md).
METRICS: dict[str, str] = {
    "error_rate": "statement errors per record in",
    "drop_rate": "records dropped per record in",
    "latency_ms": "mean batch latency, milliseconds",
    "cpu_share": "the engine's share of one CPU (engine seconds per wall second)",
    "records_in": "records in per second",
    "records_out": "records out per second",
}

STABLE_KEYS = ("service.namespace", "service.name", "service.instance.id")


class StrategyError(ValueError):
    """A strategy that cannot run as written; the message says which part."""


@dataclass(frozen=True)
class Step:
    weight: float
    bake_seconds: float = 0.0


@dataclass(frozen=True)
class Gate:
    """One health check over a metric of the canary agents (those on the new configuration).

    It fails when a canary agent's value is above ``max`` (absolute) or above
    ``max_ratio`` times the baseline (the agents still on the old configuration, pooled). With no
    canary data, or a ratio but no baseline data, the measurement is inconclusive: the rollout
    holds, it never passes on no data."""

    metric: str
    max: Optional[float] = None
    max_ratio: Optional[float] = None
    min_records: int = 1  # an agent's window counts only with this many records in

    def __post_init__(self) -> None:
        if self.metric not in METRICS:
            raise StrategyError(f"gate on unknown metric {self.metric!r}: known metrics are "
                                f"{', '.join(sorted(METRICS))}")
        if self.max is None and self.max_ratio is None:
            raise StrategyError(f"gate on {self.metric}: give max, max_ratio or both")
        if self.max_ratio is not None and self.max_ratio <= 0:
            raise StrategyError(f"gate on {self.metric}: max_ratio must be positive")


@dataclass(frozen=True)
class Strategy:
    steps: tuple[Step, ...]
    min_instances: int = 1
    max_instances: Optional[int] = None
    gates: tuple[Gate, ...] = ()
    gate_interval_seconds: float = 10.0
    failure_limit: int = 0  # failed measurements tolerated; one more aborts
    consecutive_error_limit: int = 4  # inconclusive measurements in a row before pausing
    progress_deadline_seconds: float = 600.0
    rollback_window_seconds: float = 0.0
    liveness_seconds: float = 90.0  # no message for this long: disconnected

    def __post_init__(self) -> None:
        if not self.steps:
            raise StrategyError("a strategy needs at least one step")
        last = -1.0
        for i, s in enumerate(self.steps):
            if not (0.0 <= s.weight <= 1.0) or math.isnan(s.weight):
                raise StrategyError(f"steps[{i}]: weight {s.weight} is outside [0, 1]")
            if s.weight <= last:
                raise StrategyError(f"steps[{i}]: weight {s.weight} does not rise above the "
                                    f"previous step's {last} (steps must be increasing)")
            if s.bake_seconds < 0:
                raise StrategyError(f"steps[{i}]: bake time must not be negative")
            last = s.weight
        if self.steps[-1].weight != 1.0:
            raise StrategyError(f"the last step's weight is {self.steps[-1].weight}: it must be "
                                "1.0, or the rollout never promotes")
        if self.min_instances < 0:
            raise StrategyError("min_instances must not be negative")
        if self.max_instances is not None:
            if self.max_instances < 1:
                raise StrategyError("max_instances must be at least 1")
            if self.max_instances < self.min_instances:
                raise StrategyError("max_instances is below min_instances")
        for name in ("failure_limit", "consecutive_error_limit"):
            if getattr(self, name) < 0:
                raise StrategyError(f"{name} must not be negative")
        for name in ("gate_interval_seconds", "progress_deadline_seconds", "liveness_seconds"):
            if getattr(self, name) <= 0:
                raise StrategyError(f"{name} must be positive")
        if self.rollback_window_seconds < 0:
            raise StrategyError("rollback_window_seconds must not be negative")

    def to_dict(self) -> dict[str, Any]:
        return {
            "steps": [{"weight": s.weight, "bake_seconds": s.bake_seconds} for s in self.steps],
            "min_instances": self.min_instances,
            "max_instances": self.max_instances,
            "gates": [{k: v for k, v in (("metric", g.metric), ("max", g.max),
                                         ("max_ratio", g.max_ratio),
                                         ("min_records", g.min_records)) if v is not None}
                      for g in self.gates],
            "gate_interval_seconds": self.gate_interval_seconds,
            "failure_limit": self.failure_limit,
            "consecutive_error_limit": self.consecutive_error_limit,
            "progress_deadline_seconds": self.progress_deadline_seconds,
            "rollback_window_seconds": self.rollback_window_seconds,
            "liveness_seconds": self.liveness_seconds,
        }


_STRATEGY_KEYS = {"steps", "min_instances", "max_instances", "gates", "gate_interval_seconds",
                  "failure_limit", "consecutive_error_limit", "progress_deadline_seconds",
                  "rollback_window_seconds", "liveness_seconds"}


def parse_strategy(doc: Mapping[str, Any]) -> Strategy:
    if not isinstance(doc, Mapping):
        raise StrategyError("a strategy must be a mapping")
    unknown = set(doc) - _STRATEGY_KEYS
    if unknown:
        raise StrategyError(f"unknown strategy keys: {', '.join(sorted(map(str, unknown)))}")
    steps = []
    for i, s in enumerate(doc.get("steps") or []):
        if not isinstance(s, Mapping) or "weight" not in s:
            raise StrategyError(f"steps[{i}]: expected {{weight, bake_seconds}}")
        extra = set(s) - {"weight", "bake_seconds"}
        if extra:
            raise StrategyError(f"steps[{i}]: unknown keys {', '.join(sorted(map(str, extra)))}")
        steps.append(Step(float(s["weight"]), float(s.get("bake_seconds", 0.0))))
    gates = []
    for i, g in enumerate(doc.get("gates") or []):
        if not isinstance(g, Mapping):
            raise StrategyError(f"gates[{i}]: expected a mapping")
        extra = set(g) - {"metric", "max", "max_ratio", "min_records"}
        if extra:
            raise StrategyError(f"gates[{i}]: unknown keys {', '.join(sorted(map(str, extra)))}")
        try:
            gates.append(Gate(str(g.get("metric", "")),
                              None if g.get("max") is None else float(g["max"]),
                              None if g.get("max_ratio") is None else float(g["max_ratio"]),
                              int(g.get("min_records", 1))))
        except StrategyError as exc:
            raise StrategyError(f"gates[{i}]: {exc}") from None
    kwargs: dict[str, Any] = {}
    for key in _STRATEGY_KEYS - {"steps", "gates"}:
        if key in doc and doc[key] is not None:
            kwargs[key] = (int(doc[key]) if key in ("min_instances", "max_instances",
                                                    "failure_limit", "consecutive_error_limit")
                           else float(doc[key]))
    return Strategy(tuple(steps), gates=tuple(gates), **kwargs)


def cohort_key(identifying: Mapping[str, str], instance_uid: bytes) -> str:
    """The stable identity a cohort place is computed from (see the module doc)."""
    parts = [f"{k}={identifying[k]}" for k in STABLE_KEYS if k in identifying]
    if parts:
        return "attrs:" + "\x1f".join(parts)
    return "uid:" + instance_uid.hex()


def place(rollout_id: str, key: str) -> float:
    """The agent's place in [0, 1) for this rollout: the first 8 bytes of a sha256."""
    digest = hashlib.sha256(rollout_id.encode() + b"\x00" + key.encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2.0**64


def target_count(weight: float, eligible: int, min_instances: int,
                 max_instances: Optional[int]) -> int:
    """ceil(weight x eligible) clamped to [min, max] and to the eligible count; 0 at weight 0."""
    if weight <= 0 or eligible <= 0:
        return 0
    # Any weight above 0 gives at least one agent (the epsilon keeps 0.3 x 10 at 3).
    n = max(math.ceil(weight * eligible - 1e-9), 1, min_instances)
    if max_instances is not None:
        n = min(n, max_instances)
    return min(n, eligible)


def select_cohort(rollout_id: str, keys: Iterable[tuple[str, str]], weight: float,
                  min_instances: int = 0, max_instances: Optional[int] = None) -> list[str]:
    """The agents (ids) in the cohort for ``weight``: (agent id, cohort key) pairs in, the
    ``target_count`` ones with the smallest places out, smallest first. Ties (equal keys) fall
    back to the agent id so the choice stays deterministic."""
    ranked = sorted((place(rollout_id, key), agent_id) for agent_id, key in keys)
    n = target_count(weight, len(ranked), min_instances, max_instances)
    return [agent_id for _, agent_id in ranked[:n]]


@dataclass
class Sample:
    """One agent's engine counters as reported (cumulative since its config was applied)."""

    config_hash: bytes
    at: float  # server time of receipt
    records_in: int = 0
    records_out: int = 0
    dropped: int = 0
    statement_errors: int = 0
    batches: int = 0
    engine_seconds: float = 0.0
    uptime_seconds: float = 0.0


@dataclass
class Window:
    """The difference of two samples of one configuration: what happened in between."""

    records_in: int
    records_out: int
    dropped: int
    statement_errors: int
    batches: int
    engine_seconds: float
    wall_seconds: float

    @classmethod
    def between(cls, old: Optional[Sample], new: Sample) -> "Window":
        if old is None or old.config_hash != new.config_hash or new.records_in < old.records_in:
            return cls(new.records_in, new.records_out, new.dropped, new.statement_errors,
                       new.batches, new.engine_seconds, max(new.uptime_seconds, 0.0))
        return cls(new.records_in - old.records_in, new.records_out - old.records_out,
                   new.dropped - old.dropped, new.statement_errors - old.statement_errors,
                   new.batches - old.batches, new.engine_seconds - old.engine_seconds,
                   max(new.uptime_seconds - old.uptime_seconds, 0.0))

    @classmethod
    def pooled(cls, windows: Sequence["Window"]) -> "Window":
        return cls(sum(w.records_in for w in windows), sum(w.records_out for w in windows),
                   sum(w.dropped for w in windows), sum(w.statement_errors for w in windows),
                   sum(w.batches for w in windows), sum(w.engine_seconds for w in windows),
                   sum(w.wall_seconds for w in windows))

    def value(self, metric: str) -> Optional[float]:
        """The metric's value over this window (None: the window cannot say)."""
        if metric == "error_rate":
            return self.statement_errors / self.records_in if self.records_in else None
        if metric == "drop_rate":
            return self.dropped / self.records_in if self.records_in else None
        if metric == "latency_ms":
            return 1000.0 * self.engine_seconds / self.batches if self.batches else None
        if metric == "cpu_share":
            return self.engine_seconds / self.wall_seconds if self.wall_seconds > 0 else None
        if metric == "records_in":
            return self.records_in / self.wall_seconds if self.wall_seconds > 0 else None
        if metric == "records_out":
            return self.records_out / self.wall_seconds if self.wall_seconds > 0 else None
        raise KeyError(metric)


PASS, FAIL, INCONCLUSIVE = "pass", "fail", "inconclusive"


@dataclass
class GateResult:
    gate: Gate
    outcome: str
    detail: str = ""
    offenders: list[str] = field(default_factory=list)


def judge(gate: Gate, canary: Mapping[str, Window], baseline: Sequence[Window]) -> GateResult:
    """One measurement of ``gate``: canary windows by agent id against the pooled baseline."""
    usable = {a: w for a, w in canary.items()
              if w.records_in >= gate.min_records and w.value(gate.metric) is not None}
    if not usable:
        return GateResult(gate, INCONCLUSIVE, "no canary data")
    base_value: Optional[float] = None
    if gate.max_ratio is not None:
        base = Window.pooled([w for w in baseline if w.records_in >= gate.min_records])
        base_value = base.value(gate.metric) if base.records_in else None
        if base_value is None and gate.max is None:
            return GateResult(gate, INCONCLUSIVE, "no baseline data")
    offenders = []
    details = []
    for agent_id, w in sorted(usable.items()):
        v = w.value(gate.metric)
        assert v is not None
        if gate.max is not None and v > gate.max:
            offenders.append(agent_id)
            details.append(f"{agent_id}: {gate.metric}={v:.6g} > max {gate.max:g}")
        elif gate.max_ratio is not None and base_value is not None:
            # A zero baseline: any positive value is an increase beyond every ratio.
            limit = base_value * gate.max_ratio
            if v > limit and not (base_value == 0 and v == 0):
                offenders.append(agent_id)
                details.append(f"{agent_id}: {gate.metric}={v:.6g} > {gate.max_ratio:g} x "
                               f"baseline {base_value:.6g}")
    if offenders:
        return GateResult(gate, FAIL, "; ".join(details), offenders)
    return GateResult(gate, PASS, f"{len(usable)} canary agent(s) within bounds")
