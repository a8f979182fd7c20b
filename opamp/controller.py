"""The graduation controller: a pure state machine, no I/O and no clock of its own.

Everything that happens comes in as a call with the time it happened (``observe`` for an agent's
message, ``tick`` for the passing of time, ``start_rollout`` / ``pause`` / ``resume`` / ``abort``
for an operator), and everything it decides is read back (``desired_hash``, ``offer_for``,
``state_of``). The server turns OpAMP messages into ``AgentReport``s and decisions into
``ServerToAgent`` messages; the store persists what changed (``dirty_*``).

Rollout phases: ``running`` (steps in progress), ``paused`` (an operator, or too many
inconclusive gate measurements in a row), ``promoted`` (every eligible agent is on the new
configuration; the gates keep watching for the rollback window), ``complete`` (the new
configuration is now the assignment for the selector's agents) and ``rolled_back`` (a gate
failed, an agent reported FAILED, the progress deadline passed, or an operator aborted: every
cohort agent is sent back to its previous configuration, without analysis).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any, Optional

from opamp.configs import ConfigVersion
from opamp.selector import LabelSelector
from opamp.strategy import (
    FAIL, INCONCLUSIVE, PASS, Sample, Strategy, Window, cohort_key, judge, place, target_count,
)

# OpAMP enum values used here (the protobuf module has the same numbers).
ACCEPTS_REMOTE_CONFIG = 0x2
STATUS_UNSET, STATUS_APPLIED, STATUS_APPLYING, STATUS_FAILED = 0, 1, 2, 3

# Agent states.
PENDING = "pending"
CONFIGURING = "configuring"
APPLIED = "applied"
HEALTHY = "healthy"
UNHEALTHY = "unhealthy"
FAILED = "failed"
DISCONNECTED = "disconnected"
INCOMPATIBLE = "incompatible"
ROLLED_BACK = "rolled_back"
AGENT_STATES = (PENDING, CONFIGURING, APPLIED, HEALTHY, UNHEALTHY, FAILED, DISCONNECTED,
                INCOMPATIBLE, ROLLED_BACK)

RUNNING, PAUSED, PROMOTED, COMPLETE, ROLLED_BACK_PHASE = (
    "running", "paused", "promoted", "complete", "rolled_back")
ACTIVE_PHASES = (RUNNING, PAUSED, PROMOTED)


def clone_uid(uid: bytes, identifying: dict[str, str]) -> bytes:
    """The uid a clone is told to take: derived from what it sent (the controller has no
    randomness), shaped as a UUIDv8 so it cannot collide with UUIDv7 uids."""
    digest = bytearray(hashlib.sha256(uid + repr(sorted(identifying.items())).encode())
                       .digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x80
    digest[8] = (digest[8] & 0x3F) | 0x80
    return bytes(digest)


class ControllerError(ValueError):
    """An operator request that cannot be carried out (the message says why)."""


@dataclass
class AgentReport:
    """What one AgentToServer said, stripped of protobuf. ``None`` fields were left out."""

    uid: bytes
    sequence_num: int
    capabilities: int
    identifying: Optional[dict[str, str]] = None
    non_identifying: Optional[dict[str, str]] = None
    remote_config_status: Optional[tuple[bytes, int, str]] = None  # hash, status, error
    healthy: Optional[bool] = None
    last_error: str = ""
    sample: Optional[Sample] = None
    effective_hash: Optional[bytes] = None
    disconnect: bool = False
    transport: str = "http"


@dataclass
class Decision:
    """The controller's answer to one message: the config to offer (None: none) and whether to
    ask for the full state."""

    offer: Optional[bytes]
    report_full_state: bool
    new_instance_uid: Optional[bytes] = None  # a clone of a live agent: it must take this uid


@dataclass
class Agent:
    uid: bytes
    capabilities: int = 0
    identifying: dict[str, str] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)
    described: bool = False
    connected: bool = True
    last_seen: float = 0.0
    transport: str = "http"
    sequence_num: Optional[int] = None  # None: not seen by this server process
    reported_hash: bytes = b""
    reported_status: int = STATUS_UNSET
    reported_error: str = ""
    effective_hash: bytes = b""
    applied_at: Optional[float] = None
    offered_hash: bytes = b""
    healthy: Optional[bool] = None
    last_error: str = ""
    failed_hashes: set[bytes] = field(default_factory=set)
    last_sample: Optional[Sample] = None
    gate_mark: Optional[Sample] = None  # the sample at the previous gate measurement
    verdict: Optional[bool] = None  # the last gate measurement: True healthy, False not

    @property
    def accepts_remote_config(self) -> bool:
        return bool(self.capabilities & ACCEPTS_REMOTE_CONFIG)

    @property
    def key(self) -> str:
        return cohort_key(self.identifying, self.uid)

    def runs(self, config: bytes) -> bool:
        return self.reported_hash == config and self.reported_status == STATUS_APPLIED


@dataclass
class Rollout:
    id: str
    selector: LabelSelector
    strategy: Strategy
    target_hash: bytes
    previous_hash: Optional[bytes]
    started_at: float
    phase: str = RUNNING
    version: int = 1  # raised when a new configuration replaces the target mid-rollout
    step: int = 0
    step_started_at: float = 0.0
    step_acked_at: Optional[float] = None
    promoted_at: Optional[float] = None
    finished_at: Optional[float] = None
    members: set[bytes] = field(default_factory=set)
    rolled_back_members: set[bytes] = field(default_factory=set)
    failures: int = 0
    consecutive_inconclusive: int = 0
    last_gate_at: Optional[float] = None
    last_outcome: Optional[str] = None
    last_pass_at: Optional[float] = None
    reason: str = ""
    paused_by_operator: bool = False

    @property
    def active(self) -> bool:
        return self.phase in ACTIVE_PHASES

    @property
    def weight(self) -> float:
        if self.phase in (PROMOTED, COMPLETE):
            return 1.0
        return self.strategy.steps[min(self.step, len(self.strategy.steps) - 1)].weight

    def cohort_id(self) -> str:
        return self.id


@dataclass
class Event:
    at: float
    what: str


class Controller:
    def __init__(self) -> None:
        self.agents: dict[bytes, Agent] = {}
        self.configs: dict[bytes, ConfigVersion] = {}
        # (selector, hash) assignments, later ones win: what agents run outside a rollout.
        self.assignments: list[tuple[LabelSelector, bytes]] = []
        self.rollout: Optional[Rollout] = None
        self.history: list[Rollout] = []
        self.events: list[Event] = []
        self.dirty_agents: set[bytes] = set()
        self.dirty_rollout = False
        self.dirty_configs = False
        # HTTP agents silent this long are disconnected (a rollout's strategy overrides it).
        self.liveness_seconds = 90.0
        # Disconnected agents are forgotten after this long (uids churn: the official Python
        # client makes a new one at every start), unless an active rollout counts them.
        self.forget_seconds = 7 * 24 * 3600.0
        self.forgotten: set[bytes] = set()  # for the store to delete

    # -- configurations and assignments ---------------------------------------------------

    def add_config(self, config: ConfigVersion) -> bytes:
        h = config.hash
        if h not in self.configs:
            self.configs[h] = config
            self.dirty_configs = True
        return h

    def assign(self, selector: LabelSelector, config_hash: bytes) -> None:
        """Make ``config_hash`` what the selector's agents run outside a rollout."""
        if config_hash not in self.configs:
            raise ControllerError("unknown configuration hash " + config_hash.hex())
        self.assignments.append((selector, config_hash))
        self.dirty_configs = True
        self._mark_all()

    def assigned_hash(self, agent: Agent) -> Optional[bytes]:
        for selector, h in reversed(self.assignments):
            if agent.described and selector.matches(agent.labels):
                return h
        return None

    # -- what each agent should run -------------------------------------------------------

    def base_hash(self, agent: Agent) -> Optional[bytes]:
        """The configuration the agent runs when it is not in a rollout's cohort."""
        h = self.assigned_hash(agent)
        if h is None and self.rollout is not None and self.rollout.active \
                and self._matches(agent, self.rollout):
            h = self.rollout.previous_hash
        return h

    def desired_hash(self, agent: Agent) -> Optional[bytes]:
        r = self.rollout
        if r is not None and r.active and r.target_hash not in agent.failed_hashes and (
                agent.uid in r.members or (r.phase == PROMOTED and self._matches(agent, r))):
            # Promotion moves every agent of the selector (max_instances bounds the steps).
            return r.target_hash
        h = self.base_hash(agent)
        if h is not None and h in agent.failed_hashes:
            return None  # never offer a configuration that failed on this agent
        return h

    def offer_for(self, agent: Agent) -> Optional[bytes]:
        """The hash to offer now, or None: only to agents that accept remote config, only when
        what they last reported differs (FAILED counts as received), never a failed hash."""
        if not agent.accepts_remote_config:
            return None
        h = self.desired_hash(agent)
        if h is None or h == agent.reported_hash or h in agent.failed_hashes:
            return None
        return h

    def _matches(self, agent: Agent, r: Rollout) -> bool:
        return agent.described and r.selector.matches(agent.labels)

    def eligible(self, agent: Agent, r: Rollout) -> bool:
        return agent.connected and agent.accepts_remote_config and self._matches(agent, r)

    def state_of(self, agent: Agent) -> str:
        if not agent.accepts_remote_config:
            return INCOMPATIBLE
        if not agent.connected:
            return DISCONNECTED
        r = self.rollout
        if r is not None and r.target_hash in agent.failed_hashes and (
                agent.uid in r.members or agent.uid in r.rolled_back_members):
            return FAILED
        desired = self.desired_hash(agent)
        on_desired = desired is not None and agent.runs(desired)
        if r is not None and r.phase == ROLLED_BACK_PHASE and agent.uid in r.rolled_back_members:
            if on_desired:
                return ROLLED_BACK
            return CONFIGURING if agent.offered_hash == desired else PENDING
        if desired is None:
            return APPLIED if agent.reported_status == STATUS_APPLIED else PENDING
        if not on_desired:
            return CONFIGURING if agent.offered_hash == desired else PENDING
        if r is not None and r.active and desired == r.target_hash:
            if agent.verdict is None:
                return APPLIED
            return HEALTHY if agent.verdict else UNHEALTHY
        if r is not None and r.phase in (RUNNING, PAUSED) and self.eligible(agent, r):
            return PENDING  # queued in the rollout, still on the old configuration
        return APPLIED

    # -- agent messages -------------------------------------------------------------------

    def observe(self, report: AgentReport, now: float) -> Decision:
        agent = self.agents.get(report.uid)
        if agent is not None and agent.described and agent.connected \
                and report.identifying is not None and report.identifying != agent.identifying \
                and now - agent.last_seen < self.liveness_seconds:
            # Another live agent already has this uid with other identifying attributes (a
            # cloned VM or container image): it gets a new uid and nothing else changes.
            return Decision(None, True, clone_uid(report.uid, report.identifying))
        full_state = False
        if agent is None:
            agent = Agent(report.uid)
            self.agents[report.uid] = agent
            full_state = True
        elif agent.sequence_num is None or report.sequence_num != agent.sequence_num + 1:
            # Unknown to this process, a gap or a repeat: ask for everything, change nothing else.
            full_state = True
        # What is worth persisting: everything but the sequence number, last_seen and the
        # metrics sample (a heartbeat alone writes nothing; see opamp/store.py).
        before = (agent.capabilities, agent.transport, agent.connected, agent.labels,
                  agent.reported_hash, agent.reported_status, agent.effective_hash,
                  agent.healthy, agent.offered_hash, len(agent.failed_hashes))
        agent.sequence_num = report.sequence_num
        agent.capabilities = report.capabilities
        agent.last_seen = now
        agent.transport = report.transport
        agent.connected = not report.disconnect
        if report.identifying is not None or report.non_identifying is not None:
            if report.identifying is not None:
                agent.identifying = dict(report.identifying)
            labels = dict(report.non_identifying or {})
            labels.update(agent.identifying)
            agent.labels = labels
            agent.described = True
        elif not agent.described:
            full_state = True
        if report.remote_config_status is not None:
            self._status(agent, *report.remote_config_status, now)
        if report.effective_hash is not None:
            agent.effective_hash = report.effective_hash
        if report.healthy is not None:
            agent.healthy = report.healthy
            agent.last_error = report.last_error
        if report.sample is not None:
            report.sample.at = now
            agent.last_sample = report.sample
        offer = None if report.disconnect else self.offer_for(agent)
        if offer is not None:
            agent.offered_hash = offer
        after = (agent.capabilities, agent.transport, agent.connected, agent.labels,
                 agent.reported_hash, agent.reported_status, agent.effective_hash,
                 agent.healthy, agent.offered_hash, len(agent.failed_hashes))
        if before != after or full_state:
            self.dirty_agents.add(agent.uid)
        return Decision(offer, full_state)

    def _status(self, agent: Agent, h: bytes, status: int, error: str, now: float) -> None:
        changed = (h, status) != (agent.reported_hash, agent.reported_status)
        agent.reported_hash, agent.reported_status, agent.reported_error = h, status, error
        if status == STATUS_APPLIED and changed:
            agent.applied_at = now
        if status == STATUS_FAILED and h:
            agent.failed_hashes.add(h)
            r = self.rollout
            if r is not None and r.active and h == r.target_hash and agent.uid in r.members:
                self._rollback(r, now, f"agent {agent.uid.hex()} reported FAILED: {error}")

    def disconnected(self, uid: bytes, now: float) -> None:
        """The agent's WebSocket closed."""
        agent = self.agents.get(uid)
        if agent is not None and agent.connected:
            agent.connected = False
            self.dirty_agents.add(uid)

    # -- operator requests ----------------------------------------------------------------

    def start_rollout(self, rollout_id: str, selector: LabelSelector, strategy: Strategy,
                      target: ConfigVersion, now: float,
                      previous: Optional[ConfigVersion] = None) -> Rollout:
        """Start a rollout; the same id while it is active replaces its configuration and
        restarts the analysis from the first step."""
        target_hash = self.add_config(target)
        previous_hash = self.add_config(previous) if previous is not None else None
        r = self.rollout
        if r is not None and r.active:
            if r.id != rollout_id:
                raise ControllerError(f"rollout {r.id!r} is {r.phase}: abort it first, or start "
                                      f"{r.id!r} again to replace its configuration")
            if target_hash == r.target_hash:
                return r
            self._log(now, f"rollout {r.id}: new configuration {target_hash.hex()[:12]}, "
                           "analysis restarts")
            old_members = r.members
            r.target_hash = target_hash
            r.strategy, r.selector = strategy, selector
            if previous_hash is not None:
                r.previous_hash = previous_hash
            r.version += 1
            r.phase = RUNNING
            self._reset_step(r, 0, now)
            r.members = set()
            r.failures = 0
            r.promoted_at = None
            r.paused_by_operator = False
            self._mark(old_members)
            self.dirty_rollout = True
            self.tick(now)
            return r
        if any(h.id == rollout_id for h in self.history) or (r is not None
                                                              and r.id == rollout_id):
            raise ControllerError(f"rollout id {rollout_id!r} was used before; pick a new one")
        if r is not None:
            self.history.append(r)
        r = Rollout(rollout_id, selector, strategy, target_hash, previous_hash, now,
                    step_started_at=now)
        self.rollout = r
        self.dirty_rollout = True
        self._log(now, f"rollout {rollout_id}: started, target {target_hash.hex()[:12]}")
        self._mark_all()
        self.tick(now)
        return r

    def pause(self, now: float, reason: str = "paused by operator") -> None:
        r = self._active()
        if r.phase == RUNNING:
            r.phase, r.reason, r.paused_by_operator = PAUSED, reason, True
            self.dirty_rollout = True
            self._log(now, f"rollout {r.id}: {reason}")

    def resume(self, now: float) -> None:
        r = self._active()
        if r.phase == PAUSED:
            r.phase, r.reason, r.paused_by_operator = RUNNING, "", False
            r.consecutive_inconclusive = 0
            # A pause does not eat the progress deadline.
            r.step_started_at = now
            self.dirty_rollout = True
            self._log(now, f"rollout {r.id}: resumed")
            self.tick(now)

    def abort(self, now: float, reason: str = "aborted by operator") -> None:
        self._rollback(self._active(), now, reason)

    def _active(self) -> Rollout:
        r = self.rollout
        if r is None or not r.active:
            raise ControllerError("no active rollout")
        return r

    # -- time -------------------------------------------------------------------------------

    def tick(self, now: float) -> None:
        """Let time pass: liveness, cohort growth, acknowledgement, deadlines, gates, steps."""
        liveness = (self.rollout.strategy.liveness_seconds if self.rollout is not None
                    else self.liveness_seconds)
        for agent in self.agents.values():
            if agent.connected and agent.transport == "http" \
                    and now - agent.last_seen > liveness:
                agent.connected = False
                self.dirty_agents.add(agent.uid)
        r = self.rollout
        for uid in [u for u, a in self.agents.items()
                    if not a.connected and now - a.last_seen > self.forget_seconds
                    and not (r is not None and r.active and u in r.members)]:
            del self.agents[uid]
            self.dirty_agents.discard(uid)
            self.forgotten.add(uid)
        if r is None or not r.active:
            return
        st = r.strategy
        if r.phase == PROMOTED:
            for a in self.agents.values():
                if self.eligible(a, r) and a.uid not in r.members \
                        and r.target_hash not in a.failed_hashes:
                    r.members.add(a.uid)
                    self.dirty_agents.add(a.uid)
            self._measure(r, now, promoted=True)
            if r.phase == PROMOTED and now - (r.promoted_at or now) >= st.rollback_window_seconds:
                self._complete(r, now)
            return
        if r.phase == PAUSED:
            return
        # Agents that already failed this config cannot take part: they do not count.
        eligible = [a for a in self.agents.values()
                    if self.eligible(a, r) and r.target_hash not in a.failed_hashes]
        n = target_count(r.weight, len(eligible), st.min_instances, st.max_instances)
        if len(r.members) < n:
            candidates = sorted((place(r.cohort_id(), a.key), a.uid) for a in eligible
                                if a.uid not in r.members)
            added = candidates[: n - len(r.members)]
            for _, uid in added:
                r.members.add(uid)
                self.dirty_agents.add(uid)
            if added:  # a grown cohort must acknowledge again before its bake time runs
                r.step_acked_at = None
                self.dirty_rollout = True
        connected = [self.agents[u] for u in r.members if self.agents[u].connected]
        acked = (len(eligible) >= st.min_instances and len(connected) > 0
                 and all(a.runs(r.target_hash) for a in connected))
        if acked and r.step_acked_at is None:
            r.step_acked_at = max([a.applied_at or now for a in connected] + [r.step_started_at])
            r.last_gate_at = None
            self.dirty_rollout = True
            self._log(now, f"rollout {r.id}: step {r.step} acknowledged by "
                           f"{len(connected)} agent(s)")
        if not acked:
            if now - r.step_started_at > st.progress_deadline_seconds:
                self._rollback(r, now, f"step {r.step}: the cohort did not acknowledge within "
                                       f"{st.progress_deadline_seconds:g} s")
            return
        self._measure(r, now, promoted=False)
        if r.phase != RUNNING:
            return
        assert r.step_acked_at is not None
        baked = now - r.step_acked_at >= st.steps[r.step].bake_seconds
        passed = not st.gates or (r.last_outcome == PASS and r.last_pass_at is not None
                                  and r.last_pass_at >= r.step_acked_at)
        if baked and passed:
            if r.step + 1 < len(st.steps):
                self._reset_step(r, r.step + 1, now)
                self._log(now, f"rollout {r.id}: step {r.step} (weight {r.weight:g})")
                self.tick(now)
            else:
                r.phase, r.promoted_at = PROMOTED, now
                self._mark_all()
                self._log(now, f"rollout {r.id}: promoted; watching for "
                               f"{st.rollback_window_seconds:g} s")
                if st.rollback_window_seconds <= 0:
                    self._complete(r, now)
            self.dirty_rollout = True

    def _reset_step(self, r: Rollout, step: int, now: float) -> None:
        r.step, r.step_started_at, r.step_acked_at = step, now, None
        r.consecutive_inconclusive, r.last_outcome, r.last_pass_at = 0, None, None
        r.last_gate_at = None

    def _measure(self, r: Rollout, now: float, promoted: bool) -> None:
        st = r.strategy
        if r.last_gate_at is not None and now - r.last_gate_at < st.gate_interval_seconds:
            return
        if r.last_gate_at is None:
            # The first measurement of a step starts its window: mark every agent now.
            r.last_gate_at = now
            for a in self.agents.values():
                a.gate_mark = a.last_sample
            if st.gates:
                return
        r.last_gate_at = now
        canary: dict[str, Window] = {}
        by_id: dict[str, Agent] = {}
        baseline: list[Window] = []
        for a in self.agents.values():
            if not a.connected:
                continue
            s = a.last_sample
            if s is None:
                continue
            w = Window.between(a.gate_mark, s) if (a.gate_mark is not s) else None
            a.gate_mark = s
            if a.uid in r.members and s.config_hash == r.target_hash:
                if w is not None:
                    canary[a.uid.hex()] = w
                by_id[a.uid.hex()] = a
            elif w is not None and a.uid not in r.members and self._matches(a, r) \
                    and s.config_hash != r.target_hash:
                # The baseline: the selector's agents still on the old configuration.
                baseline.append(w)
        results = [judge(g, canary, baseline) for g in st.gates]
        unhealthy = [a for a in by_id.values() if a.healthy is False]
        outcome = PASS
        details = []
        if unhealthy:
            outcome = FAIL
            details.append("unhealthy: " + ", ".join(f"{a.uid.hex()} ({a.last_error})"
                                                     for a in unhealthy))
        for res in results:
            if res.outcome == FAIL:
                outcome = FAIL
                details.append(res.detail)
            elif res.outcome == INCONCLUSIVE and outcome == PASS:
                outcome = INCONCLUSIVE
                details.append(f"{res.gate.metric}: {res.detail}")
        offenders = {o for res in results for o in res.offenders} | {
            a.uid.hex() for a in unhealthy}
        for aid, a in by_id.items():
            if aid in canary or a.healthy is False:
                a.verdict = aid not in offenders
                self.dirty_agents.add(a.uid)
        r.last_outcome = outcome
        self.dirty_rollout = True
        if outcome == FAIL:
            r.failures += 1
            self._log(now, f"rollout {r.id}: gate failed ({r.failures}/"
                           f"{st.failure_limit + 1}): " + "; ".join(details))
            if r.failures > st.failure_limit:
                self._rollback(r, now, "health gate failed: " + "; ".join(details))
        elif outcome == INCONCLUSIVE:
            if promoted:
                return
            r.consecutive_inconclusive += 1
            if r.consecutive_inconclusive > st.consecutive_error_limit:
                r.phase, r.reason = PAUSED, "no gate data: " + "; ".join(details)
                self._log(now, f"rollout {r.id}: paused, {r.reason}")
        else:
            r.consecutive_inconclusive = 0
            r.last_pass_at = now

    def _rollback(self, r: Rollout, now: float, reason: str) -> None:
        r.phase, r.reason, r.finished_at = ROLLED_BACK_PHASE, reason, now
        r.rolled_back_members = set(r.members)
        r.members = set()
        self.dirty_rollout = True
        self._mark(r.rolled_back_members)
        self._log(now, f"rollout {r.id}: rolled back: {reason}")

    def _complete(self, r: Rollout, now: float) -> None:
        r.phase, r.finished_at = COMPLETE, now
        self.assignments.append((r.selector, r.target_hash))
        self.dirty_configs = True
        r.members = set()
        self.dirty_rollout = True
        self._mark_all()
        self._log(now, f"rollout {r.id}: complete")

    def _mark(self, uids: set[bytes]) -> None:
        self.dirty_agents |= uids

    def _mark_all(self) -> None:
        self.dirty_agents |= set(self.agents)

    def _log(self, now: float, what: str) -> None:
        self.events.append(Event(now, what))
        del self.events[:-1000]

    # -- inspection -------------------------------------------------------------------------

    def describe_rollout(self, r: Optional[Rollout] = None) -> dict[str, Any]:
        r = r or self.rollout
        if r is None:
            return {}
        counts: dict[str, int] = {}
        for a in self.agents.values():
            if r.active and not self._matches(a, r):
                continue
            s = self.state_of(a)
            counts[s] = counts.get(s, 0) + 1
        return {
            "id": r.id, "phase": r.phase, "version": r.version, "step": r.step,
            "weight": r.weight, "target_hash": r.target_hash.hex(),
            "previous_hash": r.previous_hash.hex() if r.previous_hash else None,
            "members": len(r.members), "failures": r.failures,
            "consecutive_inconclusive": r.consecutive_inconclusive, "reason": r.reason,
            "selector": r.selector.to_dict(), "strategy": r.strategy.to_dict(),
            "started_at": r.started_at, "step_started_at": r.step_started_at,
            "step_acked_at": r.step_acked_at, "promoted_at": r.promoted_at,
            "finished_at": r.finished_at, "agent_states": counts,
        }

    def describe_agents(self) -> list[dict[str, Any]]:
        out = []
        for a in sorted(self.agents.values(), key=lambda a: a.uid):
            desired = self.desired_hash(a)
            out.append({
                "uid": a.uid.hex(), "state": self.state_of(a), "transport": a.transport,
                "labels": a.labels, "connected": a.connected,
                "reported_hash": a.reported_hash.hex(), "reported_status": a.reported_status,
                "error": a.reported_error, "desired_hash": desired.hex() if desired else None,
                "failed_hashes": sorted(h.hex() for h in a.failed_hashes),
                "last_seen": a.last_seen,
            })
        return out
