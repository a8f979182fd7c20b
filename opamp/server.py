"""The OpAMP server: plain HTTP and WebSocket on one port, in front of the controller.

* ``POST <path>`` with ``Content-Type: application/x-protobuf``: one AgentToServer in, one
  ServerToAgent out (HTTP/1.1, keep-alive). ``Content-Encoding: gzip`` bodies are accepted; the
  size limit applies after decompression and is answered with 413; responses are gzipped when the
  client accepts it and they are not tiny. Another content type gets 415, another method 405,
  another path 404, a request without Content-Length 411.
* ``GET <path>`` with ``Upgrade: websocket``: the connection becomes a WebSocket (the handshake
  and framing are the ``websockets`` library's sans-I/O protocol). Each binary frame is a varint
  header (0) and an AgentToServer; answers and pushes are ``0x00`` + ServerToAgent. The server
  pushes a remote config as soon as the controller wants one for the agent (a step advances, a
  rollback). Frames over the size limit close the connection with 1009.
* Overload: more than ``max_connections`` open connections get 503 with ``Retry-After``; an agent
  sending faster than its rate allowance gets 429 with ``Retry-After`` (over WebSocket: an
  ``error_response`` UNAVAILABLE with ``retry_info``). The official Python client ignores both and
  retries at its own pace, so both answers are cheap and change no state.
* A message that does not decode, or whose instance_uid is not 16 bytes, gets a ServerToAgent with
  only ``error_response`` BAD_REQUEST (HTTP status 200, so clients do not retry it).
* A repeated message (the same bytes as the agent's previous one: a retry) gets the same answer
  again without being processed twice.

All state lives in the event loop's thread: the controller is only ever touched from it.
``ServerThread`` runs a server in a background thread for tools and tests.
"""

from __future__ import annotations

import asyncio
import gzip
import ipaddress
import json
import logging
import threading
import time
import zlib
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable, Optional, TypeVar

from websockets.frames import CloseCode, Frame, Opcode
from websockets.http11 import Request
from websockets.server import ServerProtocol

from opamp import proto as pb
from opamp.configs import ConfigVersion
from opamp.controller import Controller
from opamp.rollout_file import parse_rollout
from opamp.selector import LabelSelector
from opamp.store import Store
from opamp.strategy import Strategy
from opamp.wire import MalformedMessage, decode_agent_message, error_message, server_message
from opamp.wire import to_report

log = logging.getLogger("opamp.server")

PROTOBUF = "application/x-protobuf"
ADMIN_PREFIX = "/v1/admin/"
DEFAULT_MAX_MESSAGE = 64 << 20
MAX_HEADER = 32 << 10
T = TypeVar("T")


@dataclass
class ServerStats:
    http_requests: int = 0
    ws_messages: int = 0
    bad_requests: int = 0
    duplicates: int = 0
    too_large: int = 0
    overloaded: int = 0
    rate_limited: int = 0
    pushes: int = 0


@dataclass
class _WsSession:
    protocol: ServerProtocol
    writer: asyncio.StreamWriter
    uids: set[bytes] = field(default_factory=set)
    pushed: dict[bytes, bytes] = field(default_factory=dict)


class _Bucket:
    def __init__(self, burst: float, rate: float, now: float) -> None:
        self.tokens, self.burst, self.rate, self.at = burst, burst, rate, now

    def take(self, now: float) -> bool:
        self.tokens = min(self.burst, self.tokens + (now - self.at) * self.rate)
        self.at = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False


class OpAMPServer:
    def __init__(self, controller: Controller, store: Optional[Store] = None, *,
                 host: str = "127.0.0.1", port: int = 4320, path: str = "/v1/opamp",
                 max_message_bytes: int = DEFAULT_MAX_MESSAGE, max_connections: int = 4096,
                 agent_burst: float = 50.0, agent_rate: float = 20.0,
                 retry_after_seconds: int = 30, tick_seconds: float = 0.5,
                 admin_token: Optional[str] = None,
                 clock: Callable[[], float] = time.time) -> None:
        self.controller = controller
        self.store = store
        self.host, self.port, self.path = host, port, path
        self.max_message_bytes = max_message_bytes
        self.max_connections = max_connections
        self.agent_burst, self.agent_rate = agent_burst, agent_rate
        self.retry_after_seconds = retry_after_seconds
        self.tick_seconds = tick_seconds
        self.admin_token = admin_token
        self.clock = clock
        self.stats = ServerStats()
        self._server: Optional[asyncio.base_events.Server] = None
        self._ticker: Optional[asyncio.Task[None]] = None
        self._connections = 0
        self._tasks: set[asyncio.Task[Any]] = set()
        self._sessions: dict[bytes, _WsSession] = {}
        self._buckets: dict[bytes, _Bucket] = {}
        self._last: dict[bytes, tuple[bytes, bytes]] = {}  # uid -> (request, response)

    # -- lifecycle ------------------------------------------------------------------------

    async def start(self) -> int:
        self._server = await asyncio.start_server(self._connection, self.host, self.port,
                                                  limit=MAX_HEADER)
        self.port = self._server.sockets[0].getsockname()[1]
        self._ticker = asyncio.create_task(self._tick_loop())
        return self.port

    async def close(self) -> None:
        if self._ticker is not None:
            self._ticker.cancel()
        if self._server is not None:
            self._server.close()
            # WebSocket agents get a Close frame (1001, going away) before the sockets go.
            for session in {id(v): v for v in self._sessions.values()}.values():
                if session.protocol.state.name == "OPEN":
                    session.protocol.send_close(CloseCode.GOING_AWAY, "server shutting down")
                    session.writer.write(b"".join(session.protocol.data_to_send()))
            tasks = list(self._tasks)
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await self._server.wait_closed()
        self.save()

    def save(self) -> None:
        if self.store is not None:
            self.store.save(self.controller)

    async def _tick_loop(self) -> None:
        while True:
            await asyncio.sleep(self.tick_seconds)
            try:
                self.tick()
            except Exception:  # a bug here must not stop the server serving agents
                log.exception("tick failed")

    def tick(self) -> None:
        self.controller.tick(self.clock())
        self._push_offers()
        self.save()
        # Forget per-connection bookkeeping of agents that are gone (uids churn: the official
        # Python client makes a new one at every start).
        agents = self.controller.agents
        for table in (self._last, self._buckets):
            if len(table) > 2 * max(len(self._sessions), 1024):
                for uid in [u for u in table if u not in agents or not agents[u].connected]:
                    del table[uid]

    # -- operator requests (call from the loop; ServerThread.call does that) ----------------

    def start_rollout(self, rollout_id: str, selector: LabelSelector, strategy: Strategy,
                      target: ConfigVersion, previous: Optional[ConfigVersion] = None) -> None:
        self.controller.start_rollout(rollout_id, selector, strategy, target, self.clock(),
                                      previous)
        self._after_command()

    def pause(self) -> None:
        self.controller.pause(self.clock())
        self._after_command()

    def resume(self) -> None:
        self.controller.resume(self.clock())
        self._after_command()

    def abort(self) -> None:
        self.controller.abort(self.clock())
        self._after_command()

    def _after_command(self) -> None:
        self._push_offers()
        self.save()

    # -- messages -------------------------------------------------------------------------

    def process(self, data: bytes, transport: str,
                decoded: Optional[Any] = None) -> tuple[bytes, Optional[bytes]]:
        """One AgentToServer's bytes (and, if the caller has it, the decoded message) -> the
        ServerToAgent's bytes and the agent's uid."""
        try:
            msg = decoded if decoded is not None else decode_agent_message(data)
        except MalformedMessage as exc:
            self.stats.bad_requests += 1
            return error_message(pb.ServerErrorResponseType_BadRequest,
                                 str(exc)).SerializeToString(), None
        uid = bytes(msg.instance_uid)
        last = self._last.get(uid)
        if last is not None and last[0] == data:
            self.stats.duplicates += 1
            return last[1], uid
        decision = self.controller.observe(to_report(msg, transport), self.clock())
        offer = self.controller.configs.get(decision.offer) if decision.offer else None
        reply = server_message(uid, offer=offer, report_full_state=decision.report_full_state)
        if decision.new_instance_uid is not None:
            reply.agent_identification.new_instance_uid = decision.new_instance_uid
        out = reply.SerializeToString()
        if len(out) > self.max_message_bytes:
            out = error_message(pb.ServerErrorResponseType_Unknown,
                                "the response would exceed the size limit",
                                uid).SerializeToString()
        self._last[uid] = (data, out)
        if self.controller.dirty_rollout or self.controller.dirty_configs:
            self.save()  # rollout events land on disk before the answer leaves
        return out, uid

    def _rate_ok(self, uid: bytes) -> bool:
        now = time.monotonic()
        bucket = self._buckets.get(uid)
        if bucket is None:
            bucket = self._buckets[uid] = _Bucket(self.agent_burst, self.agent_rate, now)
        ok = bucket.take(now)
        if not ok:
            self.stats.rate_limited += 1
        return ok

    def _push_offers(self) -> None:
        for uid, session in list(self._sessions.items()):
            agent = self.controller.agents.get(uid)
            if agent is None or not agent.connected:
                continue
            offer = self.controller.offer_for(agent)
            if offer is None or session.pushed.get(uid) == offer:
                continue
            msg = server_message(uid, offer=self.controller.configs[offer])
            agent.offered_hash = offer
            session.pushed[uid] = offer
            self.stats.pushes += 1
            self._ws_send(session, msg.SerializeToString())

    # -- connections ----------------------------------------------------------------------

    async def _connection(self, reader: asyncio.StreamReader,
                          writer: asyncio.StreamWriter) -> None:
        self._connections += 1
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        try:
            if self._connections > self.max_connections:
                self.stats.overloaded += 1
                await self._drain_request(reader)  # answering mid-upload would reset it
                await self._respond(writer, 503, b"overloaded\n", "text/plain",
                                    {"Retry-After": str(self.retry_after_seconds)}, close=True)
                return
            await self._http(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError,
                ValueError):
            pass
        except asyncio.CancelledError:
            pass  # the server is closing
        except Exception:
            log.exception("connection failed")
        finally:
            self._connections -= 1
            if task is not None:
                self._tasks.discard(task)
            writer.close()

    async def _drain_request(self, reader: asyncio.StreamReader) -> None:
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 2.0)
            _, _, headers = _parse_head(head)
            length = int(headers.get("content-length", "0") or 0)
            if 0 < length <= 1 << 20:
                await asyncio.wait_for(reader.readexactly(length), 2.0)
        except (asyncio.TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError,
                ValueError):
            pass

    async def _http(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            try:
                head = await reader.readuntil(b"\r\n\r\n")
            except asyncio.IncompleteReadError:
                return
            except asyncio.LimitOverrunError:
                await self._respond(writer, 431, b"headers too large\n", close=True)
                return
            try:
                method, target, headers = _parse_head(head)
            except ValueError:
                await self._respond(writer, 400, b"malformed request\n", close=True)
                return
            path = target.split("?", 1)[0]
            if path.startswith(ADMIN_PREFIX):
                if not await self._admin(method, path, headers, reader, writer):
                    return
                continue
            if path != self.path:
                await self._respond(writer, 404, b"not found\n", close=True)
                return
            if method == "GET" and "websocket" in headers.get("upgrade", "").lower():
                await self._websocket(head, reader, writer)
                return
            if method != "POST":
                await self._respond(writer, 405, b"POST or a WebSocket upgrade\n",
                                    headers={"Allow": "POST, GET"}, close=True)
                return
            keep = headers.get("connection", "").lower() != "close"
            length_text = headers.get("content-length")
            if length_text is None or not length_text.isdigit():
                await self._respond(writer, 411, b"Content-Length required\n", close=True)
                return
            length = int(length_text)
            if length > self.max_message_bytes:
                self.stats.too_large += 1
                await self._respond(writer, 413, b"message too large\n", close=True)
                return
            body = await reader.readexactly(length)
            ctype = headers.get("content-type", "").split(";", 1)[0].strip().lower()
            if ctype != PROTOBUF:
                await self._respond(writer, 415, b"Content-Type must be " + PROTOBUF.encode() +
                                    b"\n", close=not keep)
                if not keep:
                    return
                continue
            encoding = headers.get("content-encoding", "identity").strip().lower()
            if encoding == "gzip":
                try:
                    body = _gunzip(body, self.max_message_bytes)
                except _TooLarge:
                    self.stats.too_large += 1
                    await self._respond(writer, 413, b"message too large\n", close=True)
                    return
                except (OSError, EOFError, zlib.error):
                    await self._respond(writer, 400, b"bad gzip body\n", close=True)
                    return
            elif encoding not in ("identity", ""):
                await self._respond(writer, 415, b"unsupported Content-Encoding\n", close=True)
                return
            self.stats.http_requests += 1
            decoded: Optional[Any] = None
            try:
                decoded = decode_agent_message(body)
                msg_uid = bytes(decoded.instance_uid)
            except MalformedMessage:
                msg_uid = b""
            if msg_uid and not self._rate_ok(msg_uid):
                await self._respond(writer, 429, b"slow down\n", "text/plain",
                                    {"Retry-After": str(self.retry_after_seconds)},
                                    close=not keep)
                if not keep:
                    return
                continue
            out, _ = self.process(body, "http", decoded)
            extra = {}
            if len(out) > 1024 and "gzip" in headers.get("accept-encoding", ""):
                out = gzip.compress(out, compresslevel=5)
                extra["Content-Encoding"] = "gzip"
            await self._respond(writer, 200, out, PROTOBUF, extra, close=not keep)
            if not keep:
                return

    async def _admin(self, method: str, path: str, headers: dict[str, str],
                     reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        """The operator's JSON API (``ottl opamp rollout ...``): only from a loopback peer, or
        with ``Authorization: Bearer <admin_token>`` when the server has a token. Returns
        whether the connection stays open."""
        length = int(headers.get("content-length", "0") or 0)
        if length > 16 << 20:
            await self._respond(writer, 413, b"too large\n", close=True)
            return False
        body = await reader.readexactly(length) if length else b""
        peer = writer.get_extra_info("peername")
        if self.admin_token is not None:
            allowed = headers.get("authorization", "") == f"Bearer {self.admin_token}"
            status_denied = 401
        else:
            allowed = bool(peer) and ipaddress.ip_address(peer[0]).is_loopback
            status_denied = 403
        if not allowed:
            await self._respond(writer, status_denied, b"not allowed\n")
            return True
        action = path[len(ADMIN_PREFIX):].strip("/")
        c = self.controller
        try:
            if method == "GET" and action == "rollout":
                result: Any = {"rollout": c.describe_rollout(),
                               "history": [c.describe_rollout(r) for r in c.history],
                               "events": [{"at": e.at, "what": e.what} for e in c.events[-50:]]}
            elif method == "GET" and action == "agents":
                result = c.describe_agents()
            elif method == "POST" and action == "rollout":
                # Bodies inline only: the admin API never reads files on the server.
                spec = parse_rollout(json.loads(body or b"{}"), base=None)
                self.start_rollout(spec.id, spec.selector, spec.strategy, spec.config,
                                   spec.previous)
                result = c.describe_rollout()
            elif method == "POST" and action in ("rollout/pause", "rollout/resume",
                                                 "rollout/abort"):
                getattr(self, action.split("/")[1])()
                result = c.describe_rollout()
            else:
                await self._respond(writer, 404, b"no such admin action\n")
                return True
        except (ValueError, KeyError) as exc:  # ControllerError, RolloutFileError, bad JSON
            await self._respond(writer, 400, json.dumps({"error": str(exc)}).encode(),
                                "application/json")
            return True
        await self._respond(writer, 200, json.dumps(result, indent=1).encode(),
                            "application/json")
        return True

    async def _respond(self, writer: asyncio.StreamWriter, status: int, body: bytes,
                       content_type: str = "text/plain",
                       headers: Optional[dict[str, str]] = None, close: bool = False) -> None:
        lines = [f"HTTP/1.1 {status} {_REASONS.get(status, 'Error')}",
                 f"Content-Type: {content_type}", f"Content-Length: {len(body)}"]
        for k, v in (headers or {}).items():
            lines.append(f"{k}: {v}")
        if close:
            lines.append("Connection: close")
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        await writer.drain()

    async def _websocket(self, head: bytes, reader: asyncio.StreamReader,
                         writer: asyncio.StreamWriter) -> None:
        protocol = ServerProtocol(max_size=self.max_message_bytes + 16)
        protocol.receive_data(head)
        events = protocol.events_received()
        if not events or not isinstance(events[0], Request):
            await self._respond(writer, 400, b"bad WebSocket handshake\n", close=True)
            return
        response = protocol.accept(events[0])
        protocol.send_response(response)
        writer.write(b"".join(protocol.data_to_send()))
        await writer.drain()
        if response.status_code != 101:
            return
        session = _WsSession(protocol, writer)
        try:
            while True:
                data = await reader.read(65536)
                if not data:
                    protocol.receive_eof()
                else:
                    protocol.receive_data(data)
                for event in protocol.events_received():
                    if isinstance(event, Frame) and event.opcode == Opcode.BINARY:
                        self._ws_message(session, bytes(event.data))
                pending = protocol.data_to_send()
                if pending:
                    writer.write(b"".join(pending))
                    await writer.drain()
                if not data or protocol.close_expected() or protocol.state.name == "CLOSED":
                    break
        finally:
            now = self.clock()
            for uid in session.uids:
                if self._sessions.get(uid) is session:
                    del self._sessions[uid]
                    self.controller.disconnected(uid, now)

    def _ws_message(self, session: _WsSession, frame: bytes) -> None:
        self.stats.ws_messages += 1
        payload = _strip_ws_header(frame)
        decoded: Optional[Any] = None
        try:
            decoded = decode_agent_message(payload)
            uid = bytes(decoded.instance_uid)
        except MalformedMessage:
            uid = b""
        if uid and not self._rate_ok(uid):
            self._ws_send(session, error_message(
                pb.ServerErrorResponseType_Unavailable, "slow down", uid,
                self.retry_after_seconds).SerializeToString())
            return
        out, uid_or_none = self.process(payload, "ws", decoded)
        if uid_or_none is not None:
            session.uids.add(uid_or_none)
            self._sessions[uid_or_none] = session
            agent = self.controller.agents.get(uid_or_none)
            if agent is not None and agent.offered_hash:
                session.pushed[uid_or_none] = agent.offered_hash
        self._ws_send(session, out)

    def _ws_send(self, session: _WsSession, data: bytes) -> None:
        if session.protocol.state.name != "OPEN":
            return
        session.protocol.send_binary(b"\x00" + data)
        session.writer.write(b"".join(session.protocol.data_to_send()))


class _TooLarge(Exception):
    pass


def _gunzip(data: bytes, limit: int) -> bytes:
    d = zlib.decompressobj(16 + zlib.MAX_WBITS)
    out = d.decompress(data, limit + 1)
    if len(out) > limit or d.unconsumed_tail:
        raise _TooLarge()
    if not d.eof:
        raise EOFError("truncated gzip body")
    return out


def _strip_ws_header(frame: bytes) -> bytes:
    """The varint header of an OpAMP WebSocket frame (0 today) comes off; a frame whose first
    byte is not a varint 0 is taken as a bare protobuf (the pre-header format)."""
    if frame[:1] == b"\x00":
        return frame[1:]
    return frame


def _parse_head(head: bytes) -> tuple[str, str, dict[str, str]]:
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
        raise ValueError("bad request line")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if not line:
            continue
        name, sep, value = line.partition(":")
        if not sep:
            raise ValueError("bad header line")
        headers[name.strip().lower()] = value.strip()
    return parts[0], parts[1], headers


_REASONS = {200: "OK", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed",
            411: "Length Required", 413: "Content Too Large", 415: "Unsupported Media Type",
            429: "Too Many Requests", 431: "Request Header Fields Too Large",
            503: "Service Unavailable"}


class ServerThread:
    """An OpAMPServer on its own event loop in a daemon thread."""

    def __init__(self, server: OpAMPServer) -> None:
        self.server = server
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True,
                                        name="opamp-server")

    def start(self) -> int:
        self._thread.start()
        return asyncio.run_coroutine_threadsafe(self.server.start(), self.loop).result(10)

    @property
    def url(self) -> str:
        return f"http://{self.server.host}:{self.server.port}{self.server.path}"

    @property
    def ws_url(self) -> str:
        return f"ws://{self.server.host}:{self.server.port}{self.server.path}"

    def call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run ``fn`` in the server's loop and return its result."""

        async def run() -> T:
            return fn(*args, **kwargs)

        return asyncio.run_coroutine_threadsafe(run(), self.loop).result(10)

    def run(self, coro: Awaitable[T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(30)  # type: ignore

    def stop(self) -> None:
        if self.loop.is_closed():
            return
        try:
            asyncio.run_coroutine_threadsafe(self.server.close(), self.loop).result(10)
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(10)
            self.loop.close()
