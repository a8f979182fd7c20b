"""SQLite persistence: a restarted controller resumes the rollout where it was."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from opamp.controller import COMPLETE, ROLLED_BACK_PHASE, RUNNING, AgentReport, Controller
from opamp.selector import LabelSelector, parse_selector
from opamp.store import Store, agent_doc, rollout_doc
from opamp.strategy import Gate, Step, Strategy
from opamp_sim import Fleet, config

OLD, NEW = config("old"), config("new")
STRAT = Strategy((Step(0.2, 3), Step(0.6, 3), Step(1.0, 3)), gate_interval_seconds=1,
                 gates=(Gate("error_rate", max=0.05),))


def test_restart_mid_rollout_resumes(tmp_path: Path) -> None:
    path = str(tmp_path / "state.db")
    store = Store(path)
    c = Controller()
    c.add_config(OLD)
    c.assign(LabelSelector.everything(), OLD.hash)
    f = Fleet(c, 15)
    r = c.start_rollout("r1", parse_selector({"matchExpressions": [
        {"key": "env", "operator": "Exists"}]}), STRAT, NEW, f.now)
    while r.step < 1:
        f.round()
        store.save(c)
    f.round()
    store.save(c)
    before_rollout = rollout_doc(c.rollout)
    # Heartbeat-only fields are not written on every message (opamp/store.py).
    volatile = {"last_seen", "last_sample", "gate_mark"}

    def doc(a) -> dict:
        return {k: v for k, v in agent_doc(a).items() if k not in volatile}

    before_agents = {u.hex(): doc(a) for u, a in c.agents.items()}
    store.close()

    # The server process dies; a new one loads the database.
    store = Store(path)
    c2 = store.load(now=f.now)
    assert all(a.last_seen == f.now for a in c2.agents.values())
    assert rollout_doc(c2.rollout) == before_rollout
    for u, a in c2.agents.items():
        assert doc(a) == before_agents[u.hex()]
        assert a.sequence_num is None  # unknown to this process: full state asked
    f.c = c2
    d = c2.observe(f.agents[0].report(), f.now)
    f.agents[0].handle(d.offer)
    assert d.report_full_state
    r2 = c2.rollout
    assert r2.phase == RUNNING and r2.step == 1
    for _ in range(60):
        f.round()
        store.save(c2)
        if r2.phase == COMPLETE:
            break
    assert r2.phase == COMPLETE and len(f.on(NEW.hash)) == 15
    store.close()
    c3 = Store(path).load()
    assert c3.rollout.phase == COMPLETE
    assert c3.assignments[-1][1] == NEW.hash


def test_failed_hash_memory_survives_restart(tmp_path: Path) -> None:
    path = str(tmp_path / "state.db")
    store = Store(path)
    c = Controller()
    c.add_config(OLD)
    c.assign(LabelSelector.everything(), OLD.hash)
    f = Fleet(c, 5)
    f.round()
    r = c.start_rollout("r1", LabelSelector.everything(),
                        Strategy((Step(1.0),)), NEW, f.now)
    for a in f.agents:
        a.rejects.add(NEW.hash)
    for _ in range(3):
        f.round()
    store.save(c)
    assert r.phase == ROLLED_BACK_PHASE
    store.close()
    c2 = Store(path).load()
    failed = [a for a in c2.agents.values() if NEW.hash in a.failed_hashes]
    assert failed
    assert c2.rollout.phase == ROLLED_BACK_PHASE and c2.rollout.reason == r.reason


def test_save_is_atomic(tmp_path: Path) -> None:
    path = str(tmp_path / "state.db")
    store = Store(path)
    c = Controller()
    c.observe(AgentReport(b"\x01" * 16, 0, 7, identifying={"service.name": "a"}), 1.0)
    store.save(c)
    c.observe(AgentReport(b"\x02" * 16, 0, 7, identifying={"service.name": "b"}), 1.0)
    c.observe(AgentReport(b"\x01" * 16, 1, 7, identifying={"service.name": "changed"}), 1.0)
    # Sabotage the second write half way: the agents table accepts, then the commit fails.
    store.db.execute("CREATE TRIGGER boom BEFORE INSERT ON agents WHEN NEW.uid LIKE '02%' "
                     "BEGIN SELECT RAISE(ABORT, 'boom'); END")
    with pytest.raises(sqlite3.IntegrityError):
        store.save(c)
    c2 = Store(path).load()
    assert set(c2.agents) == {b"\x01" * 16}
    assert c2.agents[b"\x01" * 16].identifying == {"service.name": "a"}


def test_heartbeats_alone_write_nothing(tmp_path: Path) -> None:
    store = Store(str(tmp_path / "state.db"))
    c = Controller()
    uid = b"\x04" * 16
    c.observe(AgentReport(uid, 0, 7, identifying={"service.name": "a"}), 1.0)
    assert c.dirty_agents == {uid}
    store.save(c)
    c.observe(AgentReport(uid, 1, 7), 2.0)
    assert not c.dirty_agents
    c.observe(AgentReport(uid, 2, 7, healthy=False, last_error="x"), 3.0)
    assert c.dirty_agents == {uid}


def test_long_gone_agents_are_forgotten(tmp_path: Path) -> None:
    store = Store(str(tmp_path / "state.db"))
    c = Controller()
    c.forget_seconds = 100.0
    gone, alive = b"\x05" * 16, b"\x06" * 16
    c.observe(AgentReport(gone, 0, 7, identifying={"service.name": "a"}), 0.0)
    c.observe(AgentReport(alive, 0, 7, identifying={"service.name": "b"}), 0.0)
    store.save(c)
    c.observe(AgentReport(gone, 1, 7, disconnect=True), 1.0)
    c.observe(AgentReport(alive, 1, 7), 150.0)
    c.tick(150.0)
    assert set(c.agents) == {alive}
    store.save(c)
    assert set(Store(str(tmp_path / "state.db")).load().agents) == {alive}
