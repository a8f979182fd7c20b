"""End to end: a fleet of our agents (half over HTTP, half over WebSocket) runs the engine on
live traffic while the server rolls a new configuration out in steps.

* One agent's traffic makes the new configuration fail a statement on every batch: its
  error_rate goes bad, the gate fails, and every agent returns to the old configuration.
* The server is stopped mid-rollout and a new process (the same SQLite file, the same port)
  resumes the rollout where it was and finishes it.
"""

from __future__ import annotations

import copy
import json
import threading
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from opamp.agent import AgentCore, EngineHost, HttpAgent, WebSocketAgent
from opamp.controller import COMPLETE, ROLLED_BACK_PHASE, RUNNING
from opamp.selector import LabelSelector
from opamp.server import ServerThread
from opamp.store import Store, rollout_doc
from opamp.strategy import Gate, Step, Strategy
from opamp_testlib import NEW, OLD, make_server, wait_for

N = 24
SAMPLE = json.loads(resources.files("ottl.examples").joinpath("sample_traces.json").read_text())
POISON = copy.deepcopy(SAMPLE)
POISON["resourceSpans"][0]["scopeSpans"][0]["spans"][0].setdefault("attributes", []).append(
    {"key": "payload", "value": {"stringValue": "{not json"}})


class Fleet:
    def __init__(self, t: ServerThread, n: int = N) -> None:
        self.agents: list[Any] = []
        for i in range(n):
            core = AgentCore(EngineHost(), {"service.name": "checkout",
                                            "service.instance.id": f"pod-{i}"},
                             {"transport": "ws" if i % 2 else "http"})
            if i % 2:
                self.agents.append(WebSocketAgent(core, t.ws_url, interval=0.25))
            else:
                self.agents.append(HttpAgent(core, t.url, interval=0.25, timeout=5))
        self.poisoned: set[int] = set()
        self._stop = threading.Event()
        self._traffic = threading.Thread(target=self._drive, daemon=True)

    def _drive(self) -> None:
        while not self._stop.is_set():
            for i, a in enumerate(self.agents):
                a.core.host.process(POISON if i in self.poisoned else SAMPLE)
            self._stop.wait(0.05)

    def start(self) -> None:
        for a in self.agents:
            a.start()
        self._traffic.start()

    def stop(self) -> None:
        self._stop.set()
        self._traffic.join(10)
        for a in self.agents:
            a.stop()

    def on(self, config: Any) -> int:
        return sum(1 for a in self.agents if a.core.host.config == config)


@pytest.fixture
def store_path(tmp_path: Path) -> str:
    return str(tmp_path / "opamp.db")


def test_bad_metrics_fail_the_gate_and_everyone_returns(store_path: str) -> None:
    t = make_server(Store(store_path), tick_seconds=0.05)
    fleet = Fleet(t)
    fleet.start()
    try:
        c = t.server.controller
        wait_for(lambda: fleet.on(OLD) == N, what="every agent on the old config")
        bad = 5
        fleet.poisoned.add(bad)
        t.call(t.server.start_rollout, "gate", LabelSelector.everything(),
               Strategy((Step(0.25, 0.5), Step(0.5, 0.5), Step(1.0, 0.5)), min_instances=2,
                        gate_interval_seconds=0.3, gates=(Gate("error_rate", max=0.01),)),
               NEW)
        wait_for(lambda: t.call(lambda: c.rollout.phase) == ROLLED_BACK_PHASE, timeout=60,
                 what="the rollback")
        reason = t.call(lambda: c.rollout.reason)
        assert "error_rate" in reason and fleet.agents[bad].core.uid.hex() in reason
        wait_for(lambda: fleet.on(OLD) == N, what="every agent back on the old config")
        assert fleet.on(NEW) == 0
        # Some agents ran the new configuration before the gate failed, and all acknowledged
        # the way back.
        assert sum(a.core.applied for a in fleet.agents) > N
        # The server hears every acknowledgement of the way back.
        wait_for(lambda: set(t.call(lambda: [c.state_of(a) for a in c.agents.values()]))
                 <= {"rolled_back", "applied"}, what="every agent acknowledged")
        states = t.call(lambda: [c.state_of(a) for a in c.agents.values()])
        assert states.count("rolled_back") >= 2  # min_instances: the cohort came back
        # Both transports took part.
        assert t.server.stats.http_requests > 0 and t.server.stats.ws_messages > 0
    finally:
        fleet.stop()
        t.stop()


def test_server_restart_mid_rollout_resumes(store_path: str) -> None:
    t = make_server(Store(store_path), tick_seconds=0.05)
    port = t.server.port
    fleet = Fleet(t)
    fleet.start()
    t2 = None
    try:
        c = t.server.controller
        wait_for(lambda: fleet.on(OLD) == N, what="every agent on the old config")
        t.call(t.server.start_rollout, "restart", LabelSelector.everything(),
               Strategy((Step(0.25, 0.3), Step(0.5, 1.0), Step(1.0, 0.3)),
                        gate_interval_seconds=0.2, gates=(Gate("error_rate", max=0.01),)),
               NEW)
        wait_for(lambda: t.call(lambda: c.rollout.step) == 1, timeout=60, what="step 1")
        t.stop()  # the server process goes away (its state was saved on the way)
        saved = Store(store_path)
        persisted = saved.load().rollout
        saved.close()
        assert persisted is not None and persisted.phase == RUNNING and persisted.step >= 1
        assert fleet.on(NEW) >= N // 4
        t2 = make_server(Store(store_path), port=port, tick_seconds=0.05)
        c2 = t2.server.controller
        resumed = t2.call(lambda: rollout_doc(c2.rollout))
        assert resumed["id"] == "restart" and resumed["step"] == persisted.step
        assert set(resumed["members"]) >= {u.hex() for u in persisted.members}
        wait_for(lambda: t2.call(lambda: c2.rollout.phase) == COMPLETE, timeout=60,
                 what="the rollout completes after the restart")
        wait_for(lambda: fleet.on(NEW) == N, what="every agent on the new config")
        # Every agent was asked for its full state by the new process.
        assert t2.call(lambda: all(a.sequence_num is not None and a.described
                                   for a in c2.agents.values()))
        assert len(t2.call(lambda: list(c2.agents))) == N
    finally:
        fleet.stop()
        if t2 is not None:
            t2.stop()
        else:
            t.stop()
