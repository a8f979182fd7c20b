"""Interoperability with the official Python OpAMP client (``opentelemetry-opamp-client``):
real clients poll our server on 127.0.0.1 over HTTP, receive configurations, acknowledge them
from their callback, and are rolled forward and back.

What that client does not do, and what the server copes with here: it speaks HTTP only; it
acknowledges only when the application's callback sends a status; its status and full-state
messages share a sequence number (a repeat) and its counter moves on failures (gaps); it
ignores Retry-After; it sends no health or metrics of its own (so these rollouts run without
metric gates and are judged on FAILED statuses and operator decisions).
"""

from __future__ import annotations

import json
from typing import Any, Iterator

import pytest

opamp_client = pytest.importorskip("opentelemetry._opamp")

from opentelemetry._opamp import OpAMPAgent as OfficialAgent  # noqa: E402
from opentelemetry._opamp import OpAMPCallbacks, OpAMPClient  # noqa: E402
from opentelemetry._opamp.proto import opamp_pb2 as official_pb2  # noqa: E402

from opamp.agent import ConfigRejected, EngineHost  # noqa: E402
from opamp.configs import ConfigVersion  # noqa: E402
from opamp.controller import COMPLETE, PROMOTED, ROLLED_BACK_PHASE  # noqa: E402
from opamp.selector import LabelSelector  # noqa: E402
from opamp.server import ServerThread  # noqa: E402
from opamp.strategy import Step, Strategy  # noqa: E402
from opamp_testlib import make_server, wait_for  # noqa: E402


def json_config(value: str, extra: str = "") -> ConfigVersion:
    statements = [f'set(span.attributes["config"], "{value}")']
    if extra:
        statements.append(extra)
    doc = {"transform": {"trace_statements": statements}}
    return ConfigVersion.of({"ottl.json": ("application/json", json.dumps(doc).encode())})


V1, V2, V3 = json_config("v1"), json_config("v2"), json_config("v3")
BROKEN = json_config("v4", 'set(span.attributes["x"], NotAFunction())')


class EngineCallbacks(OpAMPCallbacks):
    """The application's side: decode with the client's helper, apply to our engine, and send
    the status (and the full state with the effective config) through the client."""

    def __init__(self) -> None:
        self.host = EngineHost()
        self.statuses: list[int] = []

    def on_message(self, agent: Any, client: Any, message: Any) -> None:
        rc = message.remote_config
        if rc is None:
            return
        decoded = dict(client.decode_remote_config(rc))  # the client's own JSON decoding
        files = {n: (f.content_type, bytes(f.body)) for n, f in rc.config.config_map.items()}
        try:
            self.host.apply(ConfigVersion.of(files))
            status, error = official_pb2.RemoteConfigStatuses_APPLIED, ""
        except ConfigRejected as exc:
            status, error = official_pb2.RemoteConfigStatuses_FAILED, str(exc)
        changed = client.update_remote_config_status(rc.config_hash, status, error)
        if changed is None:
            return
        self.statuses.append(status)
        if status == official_pb2.RemoteConfigStatuses_APPLIED:
            client.update_effective_config(decoded, "application/json")
        agent.send(client.build_remote_config_status_response_message(changed))
        agent.send(client.build_full_state_message())


@pytest.fixture
def fleet() -> Iterator[tuple[ServerThread, list[tuple[Any, EngineCallbacks]]]]:
    t = make_server()
    c = t.server.controller
    t.call(c.add_config, V1)
    t.call(c.assign, LabelSelector.everything(), V1.hash)
    agents = []
    for i in range(4):
        cb = EngineCallbacks()
        client = OpAMPClient(endpoint=t.url, timeout_millis=5000,
                             agent_identifying_attributes={"service.name": "interop",
                                                           "service.instance.id": f"py{i}"},
                             agent_non_identifying_attributes={"canary": i == 0})
        agent = OfficialAgent(interval=0.2, callbacks=cb, client=client, initial_backoff=0.1)
        agent.start()
        agents.append((agent, cb))
    try:
        yield t, agents
    finally:
        for agent, _ in agents:
            agent.stop(timeout=5)
        t.stop()


def running(agents: list[tuple[Any, EngineCallbacks]], config: ConfigVersion) -> int:
    return sum(1 for _, cb in agents if cb.host.config == config)


def test_official_clients_roll_forward_and_back(fleet) -> None:
    t, agents = fleet
    c = t.server.controller
    wait_for(lambda: running(agents, V1) == 4, what="every client on v1")
    wait_for(lambda: t.call(lambda: all(a.runs(V1.hash) for a in c.agents.values())),
             what="v1 acknowledged")

    # Forward: v2 in two steps to completion.
    t.call(t.server.start_rollout, "fwd", LabelSelector.everything(),
           Strategy((Step(0.5), Step(1.0)), gate_interval_seconds=0.1), V2)
    wait_for(lambda: t.call(lambda: c.rollout.phase) == COMPLETE, what="v2 complete")
    wait_for(lambda: running(agents, V2) == 4, what="every client on v2")

    # Forward and back: v3 promoted, then aborted inside its rollback window.
    t.call(t.server.start_rollout, "back", LabelSelector.everything(),
           Strategy((Step(0.25), Step(1.0)), gate_interval_seconds=0.1,
                    rollback_window_seconds=3600), V3)
    wait_for(lambda: t.call(lambda: c.rollout.phase) == PROMOTED, what="v3 promoted")
    wait_for(lambda: running(agents, V3) == 4, what="every client on v3")
    t.call(t.server.abort)
    wait_for(lambda: running(agents, V2) == 4, what="every client back on v2")
    wait_for(lambda: t.call(lambda: all(a.runs(V2.hash) for a in c.agents.values())),
             what="v2 acknowledged again")
    # The clients' repeated and skipped sequence numbers were answered with full-state
    # requests, never with a rollout event: no agent was ever marked disconnected or failed.
    assert t.call(lambda: [a.failed_hashes for a in c.agents.values()]) == [set()] * 4


def test_failed_status_from_official_client_rolls_back(fleet) -> None:
    t, agents = fleet
    c = t.server.controller
    wait_for(lambda: running(agents, V1) == 4, what="every client on v1")
    t.call(t.server.start_rollout, "bad", LabelSelector.everything(),
           Strategy((Step(0.25), Step(1.0)), gate_interval_seconds=0.1), BROKEN)
    wait_for(lambda: t.call(lambda: c.rollout.phase) == ROLLED_BACK_PHASE, what="rollback")
    assert "FAILED" in t.call(lambda: c.rollout.reason)
    failed = t.call(lambda: [a for a in c.agents.values() if BROKEN.hash in a.failed_hashes])
    assert len(failed) == 1
    assert running(agents, V1) == 4  # the broken config never replaced a running one
    # The failing client's status stays FAILED for BROKEN; it is not offered BROKEN again.
    failed_cb = [cb for _, cb in agents if official_pb2.RemoteConfigStatuses_FAILED
                 in cb.statuses]
    assert len(failed_cb) == 1
    # After the rollback the server re-offers v1 (the client's last report was BROKEN); once
    # that is acknowledged, nothing more is offered.
    wait_for(lambda: t.call(lambda: failed[0].runs(V1.hash)), what="v1 acknowledged")
    before = len(failed_cb[0].statuses)
    requests = t.server.stats.http_requests
    offered = t.call(lambda: c.offer_for(failed[0]))
    assert offered is None
    wait_for(lambda: t.server.stats.http_requests > requests + 20, what="more polls")
    assert len(failed_cb[0].statuses) == before
