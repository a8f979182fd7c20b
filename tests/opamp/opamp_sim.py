"""A simulated fleet for the controller tests: agents that obey offers, on a fake clock."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

from opamp.configs import ConfigVersion
from opamp.controller import (
    ACCEPTS_REMOTE_CONFIG, STATUS_APPLIED, STATUS_FAILED, AgentReport, Controller,
)
from opamp.strategy import Sample

CAPS = 0x1 | ACCEPTS_REMOTE_CONFIG | 0x4


def config(text: str) -> ConfigVersion:
    return ConfigVersion.of({"ottl.yaml": ("application/yaml", text.encode())})


@dataclass
class SimAgent:
    uid: bytes
    labels: dict[str, str]
    caps: int = CAPS
    seq: int = 0
    running: bytes = b""
    status: int = 0
    rejects: set[bytes] = field(default_factory=set)  # hashes this agent fails to apply
    error_rate: float = 0.0
    records: int = 0
    errors: int = 0
    uptime: float = 0.0
    pending_status: Optional[tuple[bytes, int, str]] = None

    def report(self, with_sample: bool = True) -> AgentReport:
        sample = None
        if with_sample and self.running:
            self.records += 100
            self.errors += int(round(100 * self.error_rate))
            self.uptime += 1.0
            sample = Sample(self.running, 0.0, records_in=self.records, records_out=self.records,
                            statement_errors=self.errors, batches=self.records // 100,
                            engine_seconds=self.uptime * 0.01, uptime_seconds=self.uptime)
        rep = AgentReport(
            uid=self.uid, sequence_num=self.seq, capabilities=self.caps,
            identifying={k: v for k, v in self.labels.items() if k.startswith("service.")},
            non_identifying={k: v for k, v in self.labels.items()
                             if not k.startswith("service.")},
            remote_config_status=self.pending_status, sample=sample)
        self.pending_status = None
        self.seq += 1
        return rep

    def handle(self, offer: Optional[bytes]) -> None:
        if offer is None:
            return
        if offer in self.rejects:
            self.pending_status = (offer, STATUS_FAILED, "does not compile")
            return
        self.running, self.status = offer, STATUS_APPLIED
        self.uptime = 0.0
        self.records = self.errors = 0
        self.pending_status = (offer, STATUS_APPLIED, "")


class Fleet:
    def __init__(self, controller: Controller, n: int, prefix: str = "svc") -> None:
        self.c = controller
        self.now = 1000.0
        self.agents = [SimAgent(bytes([i // 256, i % 256]) * 8,
                                {"service.name": prefix, "service.instance.id": f"i{i}",
                                 "env": "prod" if i % 2 else "dev"}) for i in range(n)]

    offered_failed = 0

    def poll(self, agent: SimAgent) -> None:
        known = self.c.agents.get(agent.uid)
        failed = set(known.failed_hashes) if known is not None else set()
        offer = self.c.observe(agent.report(), self.now).offer
        if offer is not None and offer in failed:
            self.offered_failed += 1
        agent.handle(offer)

    def round(self, seconds: float = 1.0) -> None:
        for a in self.agents:
            self.poll(a)
        self.now += seconds
        self.c.tick(self.now)

    def on(self, h: bytes) -> list[SimAgent]:
        return [a for a in self.agents if a.running == h]
