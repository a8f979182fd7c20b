"""The agent side for the OTTL engine: receive a configuration over OpAMP, compile it, swap it
in only if it compiles, report APPLIED or FAILED, the effective config, health and metrics.

* ``EngineHost`` holds the running configuration: the collector's transform and filter processor
  YAML (content types ``application/yaml``, ``text/yaml``, ``application/x-yaml``), or JSON with
  the same structure (``application/json``, ``text/json``), in one or more files merged in name
  order. ``apply`` compiles everything first (the fast pipelines where the VM runs the OTTL, the
  reference evaluator's processors for the rest, as ``ottl.exporters`` does) and swaps the whole
  compiled set in one assignment; a compile error leaves the running configuration untouched and
  comes back as the FAILED message. ``process(document)`` runs the transform then the filter over
  one OTLP document and counts into ``PipelineStats`` (the same metric names as the engine's).
* ``AgentCore`` is the protocol, without I/O: ``next_message()`` builds the AgentToServer (status
  compression: description, effective config and health only when they changed or the server
  asked for the full state; the engine metrics custom message every time), ``handle(reply)``
  reacts to a ServerToAgent.
* ``HttpAgent`` and ``WebSocketAgent`` run a core against a server in a thread.
"""

from __future__ import annotations

import http.client
import json
import os
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Mapping, Optional
from urllib.parse import urlsplit

from opamp import proto as pb
from opamp.configs import ConfigVersion
from opamp.wire import METRICS_CAPABILITY, metrics_message, set_any_value

YAML_TYPES = {"application/yaml", "text/yaml", "application/x-yaml", ""}
JSON_TYPES = {"application/json", "text/json"}
DEFAULT_CAPABILITIES = (pb.AgentCapabilities_ReportsStatus | pb.AgentCapabilities_AcceptsRemoteConfig
                        | pb.AgentCapabilities_ReportsEffectiveConfig
                        | pb.AgentCapabilities_ReportsHealth
                        | pb.AgentCapabilities_ReportsRemoteConfig
                        | pb.AgentCapabilities_ReportsHeartbeat)


class ConfigRejected(ValueError):
    """A configuration that does not decode or compile; the message is what FAILED carries."""


@dataclass
class _Compiled:
    config: ConfigVersion
    tgroups: list[Any]
    fgroups: list[Any]
    transform: Any
    filter: Any
    reference: tuple[Any, Any]


def _groups_from_files(config: ConfigVersion) -> list[Any]:
    import yaml

    from ottl.config import ConfigError, load_config

    groups: list[Any] = []
    for name, content_type, body in config.files:
        ctype = content_type.split(";", 1)[0].strip().lower()
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ConfigRejected(f"{name}: not UTF-8: {exc}") from None
        if ctype in JSON_TYPES:
            try:
                doc = json.loads(text)
            except ValueError as exc:
                raise ConfigRejected(f"{name}: not valid JSON: {exc}") from None
            if isinstance(doc, str):  # JSON carrying the YAML text
                text = doc
            else:
                text = yaml.safe_dump(doc)
        elif ctype not in YAML_TYPES:
            raise ConfigRejected(f"{name}: unsupported content type {content_type!r}")
        try:
            groups += load_config(text, source=name)
        except ConfigError as exc:
            raise ConfigRejected(str(exc)) from None
    return groups


def compile_config(config: ConfigVersion) -> _Compiled:
    """Decode and compile every file; raises ConfigRejected with the compile errors."""
    from ottl.eval.processors import FilterProcessor, GroupCompileError, TransformProcessor
    from ottl.lang.errors import OttlError
    from ottl.pipeline import FilterPipeline, TransformPipeline

    groups = _groups_from_files(config)
    tgroups = [g for g in groups if g.kind == "statements"]
    fgroups = [g for g in groups if g.kind == "conditions"]
    try:
        reference = (TransformProcessor(tgroups), FilterProcessor(fgroups))
        transform, filt = TransformPipeline(tgroups), FilterPipeline(fgroups)
    except (GroupCompileError, OttlError) as exc:
        raise ConfigRejected(str(exc)) from None
    return _Compiled(config, tgroups, fgroups, transform, filt, reference)


class EngineHost:
    """The engine the agent manages: one compiled configuration at a time."""

    def __init__(self) -> None:
        from ottl.pipeline import PipelineStats

        self._stats_cls = PipelineStats
        self._compiled: Optional[_Compiled] = None
        self.stats = PipelineStats()
        self.swapped_at = time.monotonic()
        self.last_error = ""
        self._lock = threading.Lock()

    @property
    def config(self) -> Optional[ConfigVersion]:
        c = self._compiled
        return c.config if c is not None else None

    def apply(self, config: ConfigVersion) -> None:
        """Compile ``config`` and swap it in; on ConfigRejected the old one keeps running."""
        compiled = compile_config(config)
        with self._lock:
            self._compiled = compiled
            self.stats = self._stats_cls()
            self.swapped_at = time.monotonic()

    def process(self, document: Any) -> Any:
        """Run the configuration over one OTLP document (JSON dict/text or protobuf bytes);
        returns the output document in the same form."""
        from ottl.derive import NeedsReference
        from ottl.eval.batch_model import payload_from_batch
        from ottl.run import decode_batch, encode, encode_batch

        with self._lock:
            compiled, stats = self._compiled, self.stats
        if compiled is None:
            return document
        started = time.perf_counter()
        batch, fmt = decode_batch(document)
        n = len(batch)
        errors = 0
        out_doc: Any = None
        kept = n
        native = compiled.transform.native and compiled.filter.native
        if native:
            try:
                if compiled.tgroups:
                    compiled.transform.execute(batch)
                keep = compiled.filter.keep(batch) if compiled.fgroups else None
                kept = int(keep.sum()) if keep is not None else n
                # errors the resource and scope groups handled by their error modes
                errors = sum(p.last_run.statement_errors for p, used in (
                    (compiled.transform, compiled.tgroups), (compiled.filter, compiled.fgroups))
                    if used)
                out_doc = encode_batch(batch, fmt, document, keep, verbatim=True)
            except NeedsReference:
                native = False
                batch, fmt = decode_batch(document)
        if not native:
            payload = payload_from_batch(batch)
            payload, tstats = compiled.reference[0].process(payload)
            payload, fstats = compiled.reference[1].process(payload)
            errors = tstats.statement_errors + fstats.statement_errors
            kept = fstats.records_out
            out_doc = encode(payload, fmt, document)
        seconds = time.perf_counter() - started
        with self._lock:
            if stats is self.stats:  # not swapped meanwhile
                stats.batches += 1
                stats.records_in += n
                stats.records_out += kept
                stats.dropped += n - kept
                stats.statement_errors += errors
                stats.seconds += seconds
        return out_doc

    def metrics(self) -> dict[str, Any]:
        with self._lock:
            s, compiled = self.stats, self._compiled
            return {
                "config_hash": compiled.config.hash.hex() if compiled else "",
                "records_in": s.records_in, "records_out": s.records_out,
                "dropped": s.dropped, "statement_errors": s.statement_errors,
                "batches": s.batches, "engine_seconds": s.seconds,
                "uptime_seconds": time.monotonic() - self.swapped_at,
            }


def new_uid() -> bytes:
    """A UUIDv7 (time-ordered, random tail), as the spec recommends."""
    ms = int(time.time() * 1000)
    rand = int.from_bytes(os.urandom(10), "big")
    value = (ms << 80) | (0x7 << 76) | ((rand >> 62) & 0xFFF) << 64 | (0b10 << 62) | (
        rand & ((1 << 62) - 1))
    return uuid.UUID(int=value).bytes


@dataclass
class AgentCore:
    host: EngineHost
    identifying: Mapping[str, Any]
    non_identifying: Mapping[str, Any] = field(default_factory=dict)
    uid: bytes = field(default_factory=new_uid)
    capabilities: int = DEFAULT_CAPABILITIES
    healthy: bool = True  # tests and embedders can flip it
    sequence_num: int = 0
    full_state: bool = True
    remote_hash: bytes = b""
    remote_status: int = pb.RemoteConfigStatuses_UNSET
    remote_error: str = ""
    status_changed: bool = False
    health_changed: bool = True
    server_capabilities: int = 0
    last_error_response: Optional[Any] = None
    applied: int = 0
    failed: int = 0
    disconnecting: bool = False

    def next_message(self) -> Any:
        msg = pb.AgentToServer(instance_uid=self.uid, sequence_num=self.sequence_num,
                               capabilities=self.capabilities)
        full = self.full_state
        if full:
            for key, value in self.identifying.items():
                set_any_value(msg.agent_description.identifying_attributes.add(key=key).value,
                              value)
            for key, value in self.non_identifying.items():
                set_any_value(
                    msg.agent_description.non_identifying_attributes.add(key=key).value, value)
            msg.custom_capabilities.capabilities.append(METRICS_CAPABILITY)
        if full or self.status_changed:
            if self.remote_hash or self.remote_status:
                s = msg.remote_config_status
                s.last_remote_config_hash = self.remote_hash
                s.status = self.remote_status
                s.error_message = self.remote_error
            config = self.host.config
            if config is not None:
                for name, content_type, body in config.files:
                    f = msg.effective_config.config_map.config_map[name]
                    f.body, f.content_type = body, content_type
            else:
                msg.effective_config.config_map.SetInParent()
        if full or self.health_changed:
            h = msg.health
            h.healthy = self.healthy
            h.status = "running" if self.healthy else "unhealthy"
            h.last_error = self.host.last_error
            h.start_time_unix_nano = int((time.time() - (time.monotonic()
                                                         - self.host.swapped_at)) * 1e9)
            h.status_time_unix_nano = time.time_ns()
            comp = h.component_health_map["ottl"]
            comp.healthy = self.healthy
            comp.status = "native" if self._native() else "reference"
        msg.custom_message.CopyFrom(metrics_message(self.host.metrics()))
        if self.disconnecting:
            msg.agent_disconnect.SetInParent()
        self.full_state = self.status_changed = self.health_changed = False
        self.sequence_num += 1
        return msg

    def _native(self) -> bool:
        c = self.host._compiled
        return c is not None and c.transform.native and c.filter.native

    def set_healthy(self, healthy: bool) -> None:
        if healthy != self.healthy:
            self.healthy = healthy
            self.health_changed = True

    @property
    def has_news(self) -> bool:
        """Something to tell the server now rather than at the next heartbeat."""
        return self.full_state or self.status_changed or self.health_changed

    def handle(self, reply: Any) -> None:
        if reply.HasField("error_response"):
            self.last_error_response = reply.error_response
            return
        if reply.capabilities:
            self.server_capabilities = reply.capabilities
        if reply.flags & pb.ServerToAgentFlags_ReportFullState:
            self.full_state = True
        if reply.HasField("agent_identification") and \
                len(reply.agent_identification.new_instance_uid) == 16:
            self.uid = bytes(reply.agent_identification.new_instance_uid)
            self.full_state = True
        if reply.HasField("remote_config") and \
                self.capabilities & pb.AgentCapabilities_AcceptsRemoteConfig:
            self._remote_config(reply.remote_config)

    def _remote_config(self, rc: Any) -> None:
        h = bytes(rc.config_hash)
        if h == self.remote_hash and self.remote_status in (pb.RemoteConfigStatuses_APPLIED,
                                                            pb.RemoteConfigStatuses_FAILED):
            # Already answered; say it again so a server that missed it hears it.
            self.status_changed = True
            return
        files = {n: (f.content_type, bytes(f.body)) for n, f in rc.config.config_map.items()}
        config = ConfigVersion.of(files)
        try:
            self.host.apply(config)
        except ConfigRejected as exc:
            self.remote_status, self.remote_error = pb.RemoteConfigStatuses_FAILED, str(exc)
            self.host.last_error = str(exc)
            self.failed += 1
        else:
            self.remote_status, self.remote_error = pb.RemoteConfigStatuses_APPLIED, ""
            self.applied += 1
        self.remote_hash = h
        self.status_changed = True


class _Runner:
    def __init__(self, core: AgentCore, interval: float) -> None:
        self.core = core
        self.interval = interval
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None
        self.errors: list[str] = []
        self.exchanges = 0

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, daemon=True,
                                        name=f"opamp-agent-{self.core.uid.hex()[:8]}")
        self._thread.start()

    def stop(self, disconnect: bool = True) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)
        if disconnect:
            try:
                self.core.disconnecting = True
                self._send_final()
            except Exception as exc:  # the server may be gone: nothing to tell it then
                self.errors.append(f"disconnect: {exc}")

    def _run(self) -> None:
        raise NotImplementedError

    def _send_final(self) -> None:
        raise NotImplementedError


class HttpAgent(_Runner):
    """Polls the server every ``interval`` seconds (and at once when it has news)."""

    def __init__(self, core: AgentCore, url: str, interval: float = 30.0,
                 timeout: float = 5.0) -> None:
        super().__init__(core, interval)
        parts = urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.path = parts.path or "/v1/opamp"
        self.timeout = timeout
        self._conn: Optional[http.client.HTTPConnection] = None

    def exchange(self) -> Optional[Any]:
        """One request and its answer (None if the server refused it)."""
        msg = self.core.next_message()
        body = msg.SerializeToString()
        for attempt in range(2):
            if self._conn is None:
                self._conn = http.client.HTTPConnection(self.host, self.port,
                                                        timeout=self.timeout)
            try:
                self._conn.request("POST", self.path, body, {
                    "Content-Type": "application/x-protobuf",
                    "OpAMP-Instance-UID": str(uuid.UUID(bytes=self.core.uid))})
                resp = self._conn.getresponse()
                data = resp.read()
            except (OSError, http.client.HTTPException):
                self._conn.close()
                self._conn = None
                if attempt:
                    self.core.full_state = True  # the server may have missed what we said
                    raise
                continue
            break
        self.exchanges += 1
        if resp.status in (429, 503):
            self.core.full_state = self.core.full_state or msg.HasField("remote_config_status")
            retry = resp.getheader("Retry-After", "")
            self._backoff = float(retry) if retry.isdigit() else self.interval
            return None
        if resp.status != 200:
            self.errors.append(f"HTTP {resp.status}: {data[:200]!r}")
            return None
        reply = pb.ServerToAgent.FromString(data)
        self.core.handle(reply)
        return reply

    _backoff = 0.0

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.exchange()
            except Exception as exc:
                self.errors.append(str(exc))
            wait = self._backoff or (0.0 if self.core.has_news else self.interval)
            self._backoff = 0.0
            if wait:
                self._stop.wait(wait)

    def _send_final(self) -> None:
        self.exchange()
        if self._conn is not None:
            self._conn.close()


class WebSocketAgent(_Runner):
    """Holds a WebSocket open: heartbeats every ``interval``, answers pushes at once."""

    def __init__(self, core: AgentCore, url: str, interval: float = 30.0) -> None:
        super().__init__(core, interval)
        self.url = url
        self._ws: Any = None
        self._send_lock = threading.Lock()

    def _send(self) -> None:
        with self._send_lock:
            self._ws.send(b"\x00" + self.core.next_message().SerializeToString())

    def _run(self) -> None:
        from websockets.exceptions import ConnectionClosed
        from websockets.sync.client import connect

        while not self._stop.is_set():
            try:
                with connect(self.url, open_timeout=5, max_size=64 << 20) as ws:
                    self._ws = ws
                    self.core.full_state = True
                    self._send()
                    last = time.monotonic()
                    while True:
                        if self._stop.is_set():
                            if self.core.disconnecting:
                                self._send()
                            return
                        try:
                            frame = ws.recv(timeout=min(self.interval, 0.2))
                        except TimeoutError:
                            frame = None
                        if frame is not None and isinstance(frame, bytes) and frame:
                            self.exchanges += 1
                            self.core.handle(pb.ServerToAgent.FromString(frame[1:]
                                             if frame[0] == 0 else frame))
                        if self.core.has_news or time.monotonic() - last >= self.interval:
                            self._send()
                            last = time.monotonic()
            except (OSError, ConnectionClosed, TimeoutError) as exc:
                self.errors.append(str(exc))
                self._stop.wait(min(self.interval, 1.0))

    def stop(self, disconnect: bool = True) -> None:
        # The loop itself says goodbye (agent_disconnect) before it closes the socket.
        self.core.disconnecting = disconnect
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)

    def _send_final(self) -> None:
        pass
