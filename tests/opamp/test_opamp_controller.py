"""The rollout state machine: steps, acknowledgement, gates, rollback, failed-hash memory."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from opamp.controller import (
    APPLIED, CONFIGURING, COMPLETE, FAILED, HEALTHY, INCOMPATIBLE, PAUSED, PENDING, PROMOTED,
    ROLLED_BACK, ROLLED_BACK_PHASE, RUNNING, STATUS_APPLIED, UNHEALTHY, AgentReport, Controller,
    ControllerError,
)
from opamp.selector import LabelSelector, parse_selector
from opamp.strategy import Gate, Step, Strategy
from opamp_sim import Fleet, config

OLD, NEW, NEWER = config("old"), config("new"), config("newer")


def fleet(n: int = 20) -> Fleet:
    c = Controller()
    c.add_config(OLD)
    c.assign(LabelSelector.everything(), OLD.hash)
    f = Fleet(c, n)
    f.round()
    f.round()
    assert len(f.on(OLD.hash)) == n
    return f


def strategy(**kw) -> Strategy:
    base = dict(steps=(Step(0.1, 5), Step(0.5, 5), Step(1.0, 5)), gate_interval_seconds=2,
                gates=(Gate("error_rate", max=0.05),))
    base.update(kw)
    return Strategy(**base)


def test_full_rollout_in_steps() -> None:
    f = fleet(20)
    c = f.c
    r = c.start_rollout("r1", LabelSelector.everything(), strategy(), NEW, f.now)
    seen_counts = []
    for _ in range(80):
        f.round()
        seen_counts.append(len(f.on(NEW.hash)))
        if r.phase == COMPLETE:
            break
    assert r.phase == COMPLETE
    assert len(f.on(NEW.hash)) == 20
    # The new config spread in steps: 2 agents (10%), then 10, then all.
    assert 2 in seen_counts and 10 in seen_counts
    assert seen_counts == sorted(seen_counts)
    # After completion the assignment is the new config: a newcomer gets it.
    assert c.assigned_hash(c.agents[f.agents[0].uid]) == NEW.hash


def test_bake_time_counts_from_acknowledgement() -> None:
    f = fleet(10)
    c = f.c
    r = c.start_rollout("r1", LabelSelector.everything(),
                        strategy(steps=(Step(0.2, 30), Step(1.0)), gates=()), NEW, f.now)
    members = [a for a in f.agents if a.uid in r.members]
    assert len(members) == 2
    # The cohort does not poll for 60 s: nothing is acknowledged, so the step cannot end.
    for _ in range(60):
        for a in f.agents:
            if a not in members:
                f.poll(a)
        f.now += 1
        c.tick(f.now)
    assert r.step == 0 and r.step_acked_at is None
    assert c.state_of(c.agents[members[0].uid]) == PENDING  # selected, never sent
    f.round()  # offered and applied by the cohort
    f.round()  # status reaches the server
    acked = r.step_acked_at
    assert acked is not None and acked >= f.now - 2
    while f.now < acked + 29:
        f.round()
    assert r.step == 0
    for _ in range(3):
        f.round()
    assert r.step == 1


def test_progress_deadline_rolls_back() -> None:
    f = fleet(10)
    c = f.c
    r = c.start_rollout("r1", LabelSelector.everything(),
                        strategy(progress_deadline_seconds=20, gates=()), NEW, f.now)
    silent = {a.uid for a in f.agents if a.uid in r.members}
    for _ in range(25):
        for a in f.agents:
            if a.uid not in silent:
                f.poll(a)
        f.now += 1
        c.tick(f.now)
    assert r.phase == ROLLED_BACK_PHASE and "did not acknowledge" in r.reason


def test_failing_gate_rolls_everyone_back() -> None:
    f = fleet(20)
    c = f.c
    r = c.start_rollout("r1", LabelSelector.everything(), strategy(), NEW, f.now)
    while r.step < 1:
        f.round()
    for _ in range(4):
        f.round()
    on_new = f.on(NEW.hash)
    assert len(on_new) == 10
    on_new[0].error_rate = 0.5  # its engine's metrics go bad
    for _ in range(10):
        f.round()
        if r.phase == ROLLED_BACK_PHASE:
            break
    assert r.phase == ROLLED_BACK_PHASE and "error_rate" in r.reason
    assert on_new[0].uid.hex() in r.reason
    for _ in range(3):
        f.round()
    assert f.on(NEW.hash) == []
    assert all(c.desired_hash(c.agents[a.uid]) == OLD.hash for a in f.agents)
    states = {c.state_of(c.agents[a.uid]) for a in on_new}
    assert states == {ROLLED_BACK}


def test_failure_limit_tolerates_some_failures() -> None:
    f = fleet(10)
    c = f.c
    r = c.start_rollout("r1", LabelSelector.everything(),
                        strategy(failure_limit=1, steps=(Step(0.5, 100), Step(1.0))), NEW, f.now)
    for _ in range(4):
        f.round()
    bad = f.on(NEW.hash)[0]
    bad.error_rate = 0.5
    f.round()
    f.round()
    assert r.failures == 1 and r.phase == RUNNING
    assert c.state_of(c.agents[bad.uid]) == UNHEALTHY
    assert c.state_of(c.agents[f.on(NEW.hash)[1].uid]) == HEALTHY
    f.round()
    f.round()
    assert r.phase == ROLLED_BACK_PHASE


def test_no_data_holds_then_pauses() -> None:
    f = fleet(10)
    c = f.c
    r = c.start_rollout("r1", LabelSelector.everything(),
                        strategy(steps=(Step(0.5, 0), Step(1.0)), consecutive_error_limit=2),
                        NEW, f.now)
    # Agents report status but no metrics at all: the gate can never pass.
    for _ in range(30):
        for a in f.agents:
            a.handle(c.observe(a.report(with_sample=False), f.now).offer)
        f.now += 1
        c.tick(f.now)
    assert r.step == 0
    assert r.phase == PAUSED and "no gate data" in r.reason
    c.resume(f.now)
    assert r.phase == RUNNING


def test_failed_status_aborts_and_is_never_reoffered() -> None:
    f = fleet(10)
    c = f.c
    r = c.start_rollout("r1", LabelSelector.everything(), strategy(gates=()), NEW, f.now)
    victim = next(a for a in f.agents if a.uid in r.members)
    victim.rejects.add(NEW.hash)
    for _ in range(4):
        f.round()
    assert r.phase == ROLLED_BACK_PHASE and "FAILED" in r.reason
    agent = c.agents[victim.uid]
    assert NEW.hash in agent.failed_hashes
    assert c.state_of(agent) == FAILED
    # The supervisor-style rollback: the agent reports its old config as APPLIED again.
    d = c.observe(AgentReport(victim.uid, victim.seq, victim.caps,
                              remote_config_status=(OLD.hash, STATUS_APPLIED, "")), f.now)
    victim.seq += 1
    assert d.offer is None
    # A new rollout of the same config is never offered to that agent, others get it.
    r2 = c.start_rollout("r2", LabelSelector.everything(), strategy(gates=()), NEW, f.now)
    for _ in range(60):
        f.round()
    assert victim.running == OLD.hash
    assert len(f.on(NEW.hash)) == 9
    # The agent that cannot take part does not hold the rollout up.
    assert r2.phase == COMPLETE


def test_selector_and_incompatible_agents() -> None:
    f = fleet(10)
    c = f.c
    f.agents[1].caps &= ~0x2  # no AcceptsRemoteConfig
    f.round()
    sel = parse_selector({"matchLabels": {"env": "prod"}})
    r = c.start_rollout("r1", sel, strategy(gates=(), steps=(Step(1.0),)), NEW, f.now)
    for _ in range(6):
        f.round()
    assert r.phase == COMPLETE
    assert {a.uid for a in f.on(NEW.hash)} == {
        a.uid for i, a in enumerate(f.agents) if i % 2 == 1 and i != 1}
    assert c.state_of(c.agents[f.agents[1].uid]) == INCOMPATIBLE


def test_new_version_mid_rollout_restarts_analysis() -> None:
    f = fleet(20)
    c = f.c
    r = c.start_rollout("r1", LabelSelector.everything(), strategy(), NEW, f.now)
    while r.step < 1:
        f.round()
    c.start_rollout("r1", LabelSelector.everything(), strategy(), NEWER, f.now)
    assert r.step == 0 and r.version == 2 and r.target_hash == NEWER.hash
    for _ in range(3):
        f.round()
    assert f.on(NEW.hash) == []
    assert len(f.on(NEWER.hash)) == 2
    with pytest.raises(ControllerError, match="abort it first"):
        c.start_rollout("other", LabelSelector.everything(), strategy(), NEW, f.now)


def test_rollback_window_after_promotion() -> None:
    f = fleet(10)
    c = f.c
    r = c.start_rollout("r1", LabelSelector.everything(),
                        strategy(steps=(Step(0.5, 2), Step(1.0, 2)), rollback_window_seconds=60),
                        NEW, f.now)
    for _ in range(60):
        f.round()
        if r.phase == PROMOTED:
            break
    assert r.phase == PROMOTED
    f.round()
    assert len(f.on(NEW.hash)) == 10
    f.agents[3].error_rate = 0.9
    for _ in range(5):
        f.round()
    assert r.phase == ROLLED_BACK_PHASE
    for _ in range(3):
        f.round()
    assert f.on(NEW.hash) == []


def test_operator_pause_resume_abort() -> None:
    f = fleet(10)
    c = f.c
    with pytest.raises(ControllerError, match="no active rollout"):
        c.pause(f.now)
    r = c.start_rollout("r1", LabelSelector.everything(), strategy(gates=()), NEW, f.now)
    f.round()
    c.pause(f.now)
    step = r.step
    for _ in range(20):
        f.round()
    assert r.phase == PAUSED and r.step == step
    c.resume(f.now)
    f.round()
    c.abort(f.now)
    assert r.phase == ROLLED_BACK_PHASE and r.reason == "aborted by operator"
    for _ in range(3):
        f.round()
    assert f.on(NEW.hash) == []


def test_sequence_gaps_and_unknown_agents_ask_for_full_state() -> None:
    c = Controller()
    uid = b"\x01" * 16
    d = c.observe(AgentReport(uid, 0, 0x7, identifying={"service.name": "a"}), 1.0)
    assert d.report_full_state  # unknown
    assert not c.observe(AgentReport(uid, 1, 0x7), 2.0).report_full_state
    assert c.observe(AgentReport(uid, 1, 0x7), 3.0).report_full_state  # repeat
    assert c.observe(AgentReport(uid, 5, 0x7), 4.0).report_full_state  # gap
    assert not c.observe(AgentReport(uid, 6, 0x7), 5.0).report_full_state
    # A gap is never a rollout event: the agent stays connected and described.
    assert c.agents[uid].connected and c.agents[uid].labels == {"service.name": "a"}


def test_states_pending_configuring_applied() -> None:
    c = Controller()
    c.add_config(OLD)
    c.assign(LabelSelector.everything(), OLD.hash)
    uid = b"\x02" * 16
    c.observe(AgentReport(uid, 0, 0x7, identifying={"service.name": "a"}), 1.0)
    agent = c.agents[uid]
    assert c.state_of(agent) == CONFIGURING  # the first answer carried the offer
    c.observe(AgentReport(uid, 1, 0x7, remote_config_status=(OLD.hash, STATUS_APPLIED, "")), 2.0)
    assert c.state_of(agent) == APPLIED
    assert c.observe(AgentReport(uid, 2, 0x7), 3.0).offer is None


# -- properties over random fleets and events ----------------------------------------------

events = st.lists(st.one_of(
    st.tuples(st.just("round"), st.integers(1, 8)),
    st.tuples(st.just("round"), st.integers(1, 8)),
    st.tuples(st.just("round"), st.integers(1, 8)),
    st.tuples(st.just("bad"), st.integers(0, 29)),
    st.tuples(st.just("bad"), st.integers(0, 5)),
    st.tuples(st.just("reject"), st.integers(0, 29)),
    st.tuples(st.just("reject"), st.integers(0, 5)),
    st.tuples(st.just("silent"), st.integers(0, 29)),
    st.tuples(st.just("pause"), st.just(0)),
    st.tuples(st.just("resume"), st.just(0)),
), min_size=1, max_size=40)


@settings(max_examples=100, deadline=None)
@given(st.integers(3, 30), st.integers(1, 6), st.one_of(st.none(), st.integers(1, 8)), events)
def test_invariants(n: int, lo: int, hi, script) -> None:
    if hi is not None and hi < lo:
        hi = lo
    f = fleet(n)
    c = f.c
    strat = strategy(steps=(Step(0.1, 2), Step(0.3, 2), Step(1.0, 2)), min_instances=lo,
                     max_instances=hi, progress_deadline_seconds=30)
    r = c.start_rollout("p", LabelSelector.everything(), strat, NEW, f.now)
    silent: set[int] = set()
    for kind, arg in script:
        if kind == "round":
            for _ in range(arg):
                for i, a in enumerate(f.agents):
                    if i not in silent:
                        f.poll(a)
                f.now += 1
                c.tick(f.now)
                if r.phase in (RUNNING, PAUSED):
                    # Never more than max_instances agents on (or sent) the new config.
                    on_new = {a.uid for a in f.agents if a.running == NEW.hash}
                    desired = {u for u, ag in c.agents.items() if c.desired_hash(ag) == NEW.hash}
                    if hi is not None:
                        assert len(on_new | desired) <= hi
                    assert len(r.members) <= (hi if hi is not None else n)
        elif kind == "bad" and arg < n:
            f.agents[arg].error_rate = 0.5
        elif kind == "reject" and arg < n:
            f.agents[arg].rejects.add(NEW.hash)
        elif kind == "silent" and arg < n:
            silent.add(arg)
        elif kind == "pause" and r.phase == RUNNING:
            c.pause(f.now)
        elif kind == "resume" and r.phase == PAUSED:
            c.resume(f.now)
    assert f.offered_failed == 0  # the fleet counts offers of a hash that failed on the agent
    if r.phase == ROLLED_BACK_PHASE:
        # A rollback leaves no agent on the failed config once they have all polled.
        for _ in range(2):
            for a in f.agents:
                f.poll(a)
        assert f.on(NEW.hash) == []
        assert all(c.desired_hash(ag) != NEW.hash for ag in c.agents.values())


def test_silent_http_agents_become_disconnected_without_a_rollout() -> None:
    c = Controller()
    uid = b"\x03" * 16
    c.observe(AgentReport(uid, 0, 0x7, identifying={"service.name": "a"}), 0.0)
    c.tick(80.0)
    assert c.agents[uid].connected
    c.tick(91.0)
    assert not c.agents[uid].connected
    assert c.state_of(c.agents[uid]) == "disconnected"
    c.observe(AgentReport(uid, 1, 0x7), 92.0)
    assert c.agents[uid].connected


@settings(max_examples=40, deadline=None)
@given(st.integers(2, 25), st.integers(0, 4), st.one_of(st.none(), st.integers(1, 8)),
       st.sets(st.integers(0, 24), max_size=5))
def test_healthy_fleet_always_completes(n: int, lo: int, hi, failed_before) -> None:
    """Progress: with well-behaved agents the rollout completes, whatever the bounds and even
    when some agents failed this config before (they are left out, not waited for)."""
    f = fleet(n)
    c = f.c
    excluded = {i for i in failed_before if i < n}
    for i in excluded:
        c.agents[f.agents[i].uid].failed_hashes.add(NEW.hash)
    lo = min(lo, n - len(excluded))
    if hi is not None and hi < lo:
        hi = max(lo, 1)
    r = c.start_rollout("live", LabelSelector.everything(),
                        strategy(steps=(Step(0.1, 2), Step(0.5, 2), Step(1.0, 2)),
                                 min_instances=lo, max_instances=hi), NEW, f.now)
    for _ in range(80):
        f.round()
        if r.phase == COMPLETE:
            break
    if n - len(excluded) == 0:
        assert r.phase == RUNNING  # nobody can take part: it holds, it never passes
        return
    assert r.phase == COMPLETE
    for _ in range(2):
        f.round()
    assert {a.uid for a in f.on(NEW.hash)} == {
        a.uid for i, a in enumerate(f.agents) if i not in excluded}


def test_ratio_gate_compares_with_the_selectors_old_config_agents() -> None:
    f = fleet(12)
    c = f.c
    # Agents outside the selector (env=dev) have a high error rate: not the baseline.
    for i, a in enumerate(f.agents):
        if i % 2 == 0:
            a.error_rate = 0.5
    sel = parse_selector({"matchLabels": {"env": "prod"}})
    r = c.start_rollout("ratio", sel, strategy(gates=(Gate("error_rate", max_ratio=2.0),),
                                               steps=(Step(0.5, 4), Step(1.0, 2))), NEW, f.now)
    prod = [a for i, a in enumerate(f.agents) if i % 2 == 1]
    for _ in range(3):
        f.round()
    canary = [a for a in prod if a.uid in r.members]
    assert canary
    for a in prod:
        a.error_rate = 0.01  # the old config's agents in the selector: the baseline
    canary[0].error_rate = 0.1  # 10 x the baseline, far below the dev agents' 0.5
    for _ in range(8):
        f.round()
        if r.phase == ROLLED_BACK_PHASE:
            break
    assert r.phase == ROLLED_BACK_PHASE and canary[0].uid.hex() in r.reason


def test_a_clone_with_the_same_uid_gets_a_new_one() -> None:
    c = Controller()
    uid = b"\x07" * 16
    c.observe(AgentReport(uid, 0, 0x7, identifying={"service.instance.id": "a"}), 1.0)
    d = c.observe(AgentReport(uid, 0, 0x7, identifying={"service.instance.id": "b"}), 2.0)
    assert d.new_instance_uid is not None and len(d.new_instance_uid) == 16
    assert d.new_instance_uid != uid and d.offer is None
    assert c.agents[uid].identifying == {"service.instance.id": "a"}  # the original stays
    # The clone under its new uid is a separate agent.
    c.observe(AgentReport(d.new_instance_uid, 1, 0x7,
                          identifying={"service.instance.id": "b"}), 3.0)
    assert set(c.agents) == {uid, d.new_instance_uid}
    # The same agent re-describing itself unchanged is not a clone.
    assert c.observe(AgentReport(uid, 1, 0x7, identifying={"service.instance.id": "a"}),
                     4.0).new_instance_uid is None
