"""How many agents one OpAMP server process holds.

Starts ``ottl opamp serve`` in a subprocess (its own process and GIL; state in a temporary
SQLite file), then simulates agents from this process with asyncio: each agent sends one
AgentToServer per second (the first a full description, then a status report for the config it
was offered, then heartbeats carrying the engine-metrics custom message), over plain HTTP
(keep-alive POSTs) or over a WebSocket. For each fleet size it runs a fixed time and prints the
response time (send to answer) p50/p99, the messages answered per second against the offered
rate, and errors. A fleet is "held" when at least 99% of the offered messages are answered and
p99 stays under one polling interval (1 s).

    PYTHONPATH=. python benchmarks/opamp_capacity.py [--sizes 250,500,1000] [--seconds 15]

The load generator runs on the same machine, so it competes with the server for CPU: the
figures are a lower bound for the server alone.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from typing import Optional

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from opamp import proto as pb  # noqa: E402
from opamp.wire import metrics_message  # noqa: E402

CONFIG = b"""transform:
  trace_statements:
    - set(span.attributes["bench"], true)
"""
CAPS = (pb.AgentCapabilities_ReportsStatus | pb.AgentCapabilities_AcceptsRemoteConfig
        | pb.AgentCapabilities_ReportsEffectiveConfig | pb.AgentCapabilities_ReportsHeartbeat)


@dataclass
class Results:
    latencies: list[float] = field(default_factory=list)
    sent: int = 0
    errors: int = 0


class SimAgent:
    def __init__(self, i: int) -> None:
        self.uid = os.urandom(16)
        self.i = i
        self.seq = 0
        self.hash = b""
        self.status_pending = False

    def message(self) -> bytes:
        m = pb.AgentToServer(instance_uid=self.uid, sequence_num=self.seq, capabilities=CAPS)
        if self.seq == 0:
            d = m.agent_description
            d.identifying_attributes.add(key="service.name").value.string_value = "bench"
            d.identifying_attributes.add(key="service.instance.id").value.string_value = \
                f"pod-{self.i}"
            d.non_identifying_attributes.add(key="host.name").value.string_value = f"h{self.i}"
        if self.status_pending:
            m.remote_config_status.last_remote_config_hash = self.hash
            m.remote_config_status.status = pb.RemoteConfigStatuses_APPLIED
            self.status_pending = False
        m.custom_message.CopyFrom(metrics_message({
            "config_hash": self.hash.hex(), "records_in": 1000 * self.seq,
            "records_out": 1000 * self.seq, "dropped": 0, "statement_errors": 0,
            "batches": self.seq, "engine_seconds": 0.001 * self.seq,
            "uptime_seconds": float(self.seq)}))
        self.seq += 1
        return m.SerializeToString()

    def answer(self, data: bytes) -> None:
        r = pb.ServerToAgent.FromString(data)
        if r.HasField("error_response"):
            raise RuntimeError(f"error_response {r.error_response.type}")
        if r.HasField("remote_config"):
            self.hash = bytes(r.remote_config.config_hash)
            self.status_pending = True


async def http_agent(agent: SimAgent, host: str, port: int, path: str, res: Results,
                     until: float, warm: float) -> None:
    await asyncio.sleep(random.random())
    reader, writer = await asyncio.open_connection(host, port)
    next_at = time.monotonic()
    try:
        while time.monotonic() < until:
            body = agent.message()
            head = (f"POST {path} HTTP/1.1\r\nHost: {host}\r\n"
                    "Content-Type: application/x-protobuf\r\n"
                    f"Content-Length: {len(body)}\r\n\r\n").encode()
            started = time.monotonic()
            if started >= warm:
                res.sent += 1
            try:
                writer.write(head + body)
                await writer.drain()
                status_line = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in status_line.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":", 1)[1])
                data = await reader.readexactly(length)
                if not status_line.startswith(b"HTTP/1.1 200"):
                    raise RuntimeError(status_line.split(b"\r\n")[0].decode())
                agent.answer(data)
                if started >= warm:
                    res.latencies.append(time.monotonic() - started)
            except (OSError, asyncio.IncompleteReadError, RuntimeError):
                if started >= warm:
                    res.errors += 1
                writer.close()
                reader, writer = await asyncio.open_connection(host, port)
            next_at += 1.0
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))
    finally:
        writer.close()


def _ws_frame(payload: bytes) -> bytes:
    """A masked binary client frame (RFC 6455); the mask is fixed: this is a load generator."""
    n = len(payload)
    if n < 126:
        head = bytes([0x82, 0x80 | n])
    elif n < 1 << 16:
        head = bytes([0x82, 0x80 | 126]) + n.to_bytes(2, "big")
    else:
        head = bytes([0x82, 0x80 | 127]) + n.to_bytes(8, "big")
    mask = b"\x00\x00\x00\x00"  # XOR with zeros: the payload goes as it is
    return head + mask + payload


async def _ws_read(reader: asyncio.StreamReader) -> bytes:
    b0, b1 = await reader.readexactly(2)
    n = b1 & 0x7F
    if n == 126:
        n = int.from_bytes(await reader.readexactly(2), "big")
    elif n == 127:
        n = int.from_bytes(await reader.readexactly(8), "big")
    data = await reader.readexactly(n)
    if b0 & 0x0F == 0x8:
        raise RuntimeError("closed by the server")
    return data


async def ws_agent(agent: SimAgent, url: str, res: Results, until: float, warm: float) -> None:
    """A minimal WebSocket client (the websockets library's asyncio client costs the load
    generator more CPU than the server spends, which would measure the generator)."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    await asyncio.sleep(random.random())
    reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
    writer.write((f"GET {parts.path} HTTP/1.1\r\nHost: {parts.hostname}\r\n"
                  "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                  "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                  "Sec-WebSocket-Version: 13\r\n\r\n").encode())
    head = await reader.readuntil(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1.1 101"):
        raise RuntimeError(head.split(b"\r\n")[0].decode())
    next_at = time.monotonic()
    try:
        while time.monotonic() < until:
            started = time.monotonic()
            if started >= warm:
                res.sent += 1
            try:
                writer.write(_ws_frame(b"\x00" + agent.message()))
                while True:  # answers come in order; pushes may come in between
                    frame = await _ws_read(reader)
                    r = pb.ServerToAgent.FromString(frame[1:])
                    if r.instance_uid == agent.uid:
                        agent.answer(frame[1:])
                        break
                if started >= warm:
                    res.latencies.append(time.monotonic() - started)
            except (OSError, RuntimeError, asyncio.IncompleteReadError):
                if started >= warm:
                    res.errors += 1
                raise
            next_at += 1.0
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))
    finally:
        writer.close()


def start_server(db: str, config: str) -> tuple[subprocess.Popen, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")]
        + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
    proc = subprocess.Popen(
        [sys.executable, "-c", "import sys; from ottl.cli import main; sys.exit(main())",
         "opamp", "serve", "--port", "0", "--db", db, "--config", config,
         "--max-connections", "100000"],
        stdout=subprocess.PIPE, text=True, env=env)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if " on " not in line:
        raise SystemExit(f"the server did not start: {line!r}")
    return proc, line.split(" on ")[1].split(" ")[0]


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p * len(ordered)))]


async def run_level(kind: str, n: int, url: str, seconds: float) -> Results:
    res = Results()
    now = time.monotonic()
    warm, until = now + 3.0, now + 3.0 + seconds
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    agents = [SimAgent(i) for i in range(n)]
    if kind == "http":
        tasks = [http_agent(a, parts.hostname or "127.0.0.1", parts.port or 80, parts.path, res,
                            until, warm) for a in agents]
    else:
        ws_url = url.replace("http://", "ws://")
        tasks = [ws_agent(a, ws_url, res, until, warm) for a in agents]
    outcomes = await asyncio.gather(*tasks, return_exceptions=True)
    res.errors += sum(1 for o in outcomes if isinstance(o, BaseException))
    return res


def in_process(n: int, rounds: int) -> None:
    """The server's own cost per message, without sockets: ``n`` agents' messages through
    ``OpAMPServer.process`` (decode, controller, answer) with a tick (and SQLite save) per round.
    The ceiling the network figures approach when the load generator is elsewhere."""
    from opamp.configs import ConfigVersion
    from opamp.selector import LabelSelector
    from opamp.server import OpAMPServer
    from opamp.store import Store

    with tempfile.TemporaryDirectory() as tmp:
        store = Store(os.path.join(tmp, "bench.db"))
        c = store.load()
        cfg = ConfigVersion.of({"ottl.yaml": ("application/yaml", CONFIG)})
        c.add_config(cfg)
        c.assign(LabelSelector.everything(), cfg.hash)
        server = OpAMPServer(c, store)
        agents = [SimAgent(i) for i in range(n)]
        times: list[float] = []
        started = time.perf_counter()
        for _ in range(rounds):
            for a in agents:
                body = a.message()
                t0 = time.perf_counter()
                out, _ = server.process(body, "http")
                times.append(time.perf_counter() - t0)
                a.answer(out)
            server.tick()
        wall = time.perf_counter() - started
        store.close()
    print(f"in-process: {n} agents x {rounds} rounds: {len(times) / sum(times):.0f} messages/s "
          f"of server work (p50 {pct(times, 0.5) * 1e6:.0f} us, p99 {pct(times, 0.99) * 1e6:.0f} "
          f"us per message); {len(times) / wall:.0f}/s with the agents' side and ticks")


def main(argv: Optional[list[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="250,500,1000,1500")
    ap.add_argument("--seconds", type=float, default=15.0)
    ap.add_argument("--transports", default="http,ws")
    ap.add_argument("--in-process", action="store_true",
                    help="measure the server's own work per message, without sockets")
    args = ap.parse_args(argv)
    if args.in_process:
        in_process(2000, 10)
        return 0
    sizes = [int(s) for s in args.sizes.split(",")]
    print(f"{'transport':9} {'agents':>6} {'offered/s':>9} {'answered/s':>10} {'p50 ms':>8} "
          f"{'p99 ms':>8} {'errors':>6}  held")
    for kind in args.transports.split(","):
        for n in sizes:
            with tempfile.TemporaryDirectory() as tmp:
                cfg = os.path.join(tmp, "ottl.yaml")
                with open(cfg, "wb") as fh:
                    fh.write(CONFIG)
                proc, url = start_server(os.path.join(tmp, "bench.db"), cfg)
                try:
                    res = asyncio.run(run_level(kind, n, url, args.seconds))
                finally:
                    proc.terminate()
                    proc.wait(30)
            answered = len(res.latencies) / args.seconds
            offered = res.sent / args.seconds
            p50, p99 = pct(res.latencies, 0.5) * 1e3, pct(res.latencies, 0.99) * 1e3
            held = (len(res.latencies) >= 0.99 * max(res.sent, 1) and p99 < 1000
                    and offered >= 0.95 * n)
            print(f"{kind:9} {n:6d} {offered:9.0f} {answered:10.0f} {p50:8.1f} {p99:8.1f} "
                  f"{res.errors:6d}  {'yes' if held else 'no'}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
