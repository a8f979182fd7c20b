"""SQLite persistence of the controller, so a server restart resumes where it was.

One database file (the standard library's ``sqlite3``, WAL journal) with four tables: configs
(hash -> files), assignments (ordered selector -> hash), rollouts (the current one and the
history: spec, phase, step, timestamps, gate counters, cohort) and agents (attributes, reported
and offered hashes, failed-hash memory, the last metrics sample). ``save`` writes what the
controller marked dirty in one transaction: either all of it lands or none of it does.

What is written when: an agent's row when something worth keeping changed (description,
capabilities, connection, reported or offered hash, health, failed hashes; not a bare heartbeat
or a new metrics sample, which would make every poll a write); the rollout whenever it changes.
What is not stored: each agent's last sequence number. A restarted server does not know what it
missed, so every agent's first message afterwards is answered with ReportFullState.
"""

from __future__ import annotations

import base64
import json
import sqlite3
from typing import Any, Optional

from opamp.configs import ConfigVersion
from opamp.controller import Agent, Controller, Rollout
from opamp.selector import parse_selector
from opamp.strategy import Sample, parse_strategy

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS configs (hash TEXT PRIMARY KEY, doc TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS assignments (pos INTEGER PRIMARY KEY, selector TEXT NOT NULL,
                                        hash TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS rollouts (id TEXT PRIMARY KEY, pos INTEGER NOT NULL,
                                     current INTEGER NOT NULL, doc TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS agents (uid TEXT PRIMARY KEY, doc TEXT NOT NULL);
"""
SCHEMA_VERSION = "1"


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _unb64(text: str) -> bytes:
    return base64.b64decode(text)


def _hex(h: Optional[bytes]) -> Optional[str]:
    return h.hex() if h is not None else None


def _unhex(h: Optional[str]) -> Optional[bytes]:
    return bytes.fromhex(h) if h is not None else None


def _sample(s: Optional[Sample]) -> Optional[dict[str, Any]]:
    if s is None:
        return None
    return {"config_hash": s.config_hash.hex(), "at": s.at, "records_in": s.records_in,
            "records_out": s.records_out, "dropped": s.dropped,
            "statement_errors": s.statement_errors, "batches": s.batches,
            "engine_seconds": s.engine_seconds, "uptime_seconds": s.uptime_seconds}


def _unsample(d: Optional[dict[str, Any]]) -> Optional[Sample]:
    if d is None:
        return None
    d = dict(d)
    d["config_hash"] = bytes.fromhex(d["config_hash"])
    return Sample(**d)


def rollout_doc(r: Rollout) -> dict[str, Any]:
    return {
        "id": r.id, "selector": r.selector.to_dict(), "strategy": r.strategy.to_dict(),
        "target_hash": r.target_hash.hex(), "previous_hash": _hex(r.previous_hash),
        "started_at": r.started_at, "phase": r.phase, "version": r.version, "step": r.step,
        "step_started_at": r.step_started_at, "step_acked_at": r.step_acked_at,
        "promoted_at": r.promoted_at, "finished_at": r.finished_at,
        "members": sorted(u.hex() for u in r.members),
        "rolled_back_members": sorted(u.hex() for u in r.rolled_back_members),
        "failures": r.failures, "consecutive_inconclusive": r.consecutive_inconclusive,
        "last_gate_at": r.last_gate_at, "last_outcome": r.last_outcome,
        "last_pass_at": r.last_pass_at, "reason": r.reason,
        "paused_by_operator": r.paused_by_operator,
    }


def rollout_from(d: dict[str, Any]) -> Rollout:
    r = Rollout(d["id"], parse_selector(d["selector"]), parse_strategy(d["strategy"]),
                bytes.fromhex(d["target_hash"]), _unhex(d["previous_hash"]), d["started_at"])
    for key in ("phase", "version", "step", "step_started_at", "step_acked_at", "promoted_at",
                "finished_at", "failures", "consecutive_inconclusive", "last_gate_at",
                "last_outcome", "last_pass_at", "reason", "paused_by_operator"):
        setattr(r, key, d[key])
    r.members = {bytes.fromhex(u) for u in d["members"]}
    r.rolled_back_members = {bytes.fromhex(u) for u in d["rolled_back_members"]}
    return r


def agent_doc(a: Agent) -> dict[str, Any]:
    return {
        "capabilities": a.capabilities, "identifying": a.identifying, "labels": a.labels,
        "described": a.described, "connected": a.connected, "last_seen": a.last_seen,
        "transport": a.transport, "reported_hash": a.reported_hash.hex(),
        "reported_status": a.reported_status, "reported_error": a.reported_error,
        "effective_hash": a.effective_hash.hex(), "applied_at": a.applied_at,
        "offered_hash": a.offered_hash.hex(), "healthy": a.healthy, "last_error": a.last_error,
        "failed_hashes": sorted(h.hex() for h in a.failed_hashes),
        "last_sample": _sample(a.last_sample), "gate_mark": _sample(a.gate_mark),
        "verdict": a.verdict,
    }


def agent_from(uid: bytes, d: dict[str, Any]) -> Agent:
    a = Agent(uid)
    for key in ("capabilities", "identifying", "labels", "described", "connected", "last_seen",
                "transport", "reported_status", "reported_error", "applied_at", "healthy",
                "last_error", "verdict"):
        setattr(a, key, d[key])
    a.reported_hash = bytes.fromhex(d["reported_hash"])
    a.effective_hash = bytes.fromhex(d["effective_hash"])
    a.offered_hash = bytes.fromhex(d["offered_hash"])
    a.failed_hashes = {bytes.fromhex(h) for h in d["failed_hashes"]}
    a.last_sample = _unsample(d["last_sample"])
    a.gate_mark = _unsample(d["gate_mark"])
    a.sequence_num = None
    return a


class Store:
    def __init__(self, path: str) -> None:
        self.path = path
        # The server calls us from its event loop thread only; autocommit off, explicit BEGIN.
        self.db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(SCHEMA)
        self.db.execute("INSERT OR IGNORE INTO meta VALUES ('schema', ?)", (SCHEMA_VERSION,))
        (version,) = self.db.execute("SELECT value FROM meta WHERE key='schema'").fetchone()
        if version != SCHEMA_VERSION:
            raise ValueError(f"{path}: schema version {version}, expected {SCHEMA_VERSION}")

    def close(self) -> None:
        self.db.close()

    def load(self, now: Optional[float] = None) -> Controller:
        """The stored controller. With ``now``, agents that were connected count as heard from
        at ``now`` (a restart grace: their heartbeats were not written, see above)."""
        c = Controller()
        for h, doc in self.db.execute("SELECT hash, doc FROM configs"):
            files = json.loads(doc)
            c.configs[bytes.fromhex(h)] = ConfigVersion(
                tuple((f["name"], f["content_type"], _unb64(f["body"])) for f in files))
        for sel, h in self.db.execute("SELECT selector, hash FROM assignments ORDER BY pos"):
            c.assignments.append((parse_selector(json.loads(sel)), bytes.fromhex(h)))
        for current, doc in self.db.execute("SELECT current, doc FROM rollouts ORDER BY pos"):
            r = rollout_from(json.loads(doc))
            if current:
                c.rollout = r
            else:
                c.history.append(r)
        for uid, doc in self.db.execute("SELECT uid, doc FROM agents"):
            agent = agent_from(bytes.fromhex(uid), json.loads(doc))
            if now is not None and agent.connected:
                agent.last_seen = max(agent.last_seen, now)
            c.agents[agent.uid] = agent
        c.dirty_agents.clear()
        c.dirty_rollout = c.dirty_configs = False
        return c

    def save(self, c: Controller) -> None:
        """Write what changed, atomically."""
        if not (c.dirty_agents or c.dirty_rollout or c.dirty_configs or c.forgotten):
            return
        cur = self.db.cursor()
        cur.execute("BEGIN IMMEDIATE")
        try:
            if c.dirty_configs:
                cur.executemany(
                    "INSERT OR IGNORE INTO configs VALUES (?, ?)",
                    [(h.hex(), json.dumps([{"name": n, "content_type": ct, "body": _b64(b)}
                                           for n, ct, b in cfg.files]))
                     for h, cfg in c.configs.items()])
                cur.execute("DELETE FROM assignments")
                cur.executemany("INSERT INTO assignments VALUES (?, ?, ?)",
                                [(i, json.dumps(sel.to_dict()), h.hex())
                                 for i, (sel, h) in enumerate(c.assignments)])
            if c.dirty_rollout:
                rows = [(r.id, i, 0, json.dumps(rollout_doc(r)))
                        for i, r in enumerate(c.history)]
                if c.rollout is not None:
                    rows.append((c.rollout.id, len(c.history), 1,
                                 json.dumps(rollout_doc(c.rollout))))
                cur.executemany("INSERT OR REPLACE INTO rollouts VALUES (?, ?, ?, ?)", rows)
            if c.dirty_agents:
                cur.executemany("INSERT OR REPLACE INTO agents VALUES (?, ?)",
                                [(u.hex(), json.dumps(agent_doc(c.agents[u])))
                                 for u in c.dirty_agents if u in c.agents])
            if c.forgotten:
                cur.executemany("DELETE FROM agents WHERE uid = ?",
                                [(u.hex(),) for u in c.forgotten])
            cur.execute("COMMIT")
        except BaseException:
            cur.execute("ROLLBACK")
            raise
        c.dirty_agents.clear()
        c.forgotten.clear()
        c.dirty_rollout = c.dirty_configs = False
