"""The server's protocol handling over raw HTTP and WebSocket: status codes, gzip, limits,
malformed input, sequence gaps, duplicates, the config hash, and server push."""

from __future__ import annotations

import gzip
import http.client
import socket
import threading
from typing import Optional

import pytest
from websockets.sync.client import connect

from opamp import proto as pb
from opamp.configs import ConfigVersion, config_hash
from opamp.server import ServerThread
from opamp.wire import SERVER_CAPABILITIES
from opamp_testlib import NEW, OLD, make_server, wait_for

UID = bytes(range(16))
CAPS = (pb.AgentCapabilities_ReportsStatus | pb.AgentCapabilities_AcceptsRemoteConfig)


def message(seq: int = 0, uid: bytes = UID, caps: int = CAPS, describe: bool = True,
            status: Optional[tuple[bytes, int]] = None) -> bytes:
    m = pb.AgentToServer(instance_uid=uid, sequence_num=seq, capabilities=caps)
    if describe:
        m.agent_description.identifying_attributes.add(key="service.name").value.string_value = "x"
    if status is not None:
        m.remote_config_status.last_remote_config_hash = status[0]
        m.remote_config_status.status = status[1]
    return m.SerializeToString()


def post(t: ServerThread, body: bytes, headers: Optional[dict] = None,
         method: str = "POST", path: Optional[str] = None) -> http.client.HTTPResponse:
    conn = http.client.HTTPConnection("127.0.0.1", t.server.port, timeout=10)
    h = {"Content-Type": "application/x-protobuf"}
    h.update(headers or {})
    conn.request(method, path or t.server.path, body, h)
    resp = conn.getresponse()
    resp.body = resp.read()  # type: ignore[attr-defined]
    conn.close()
    return resp


def reply(resp: http.client.HTTPResponse) -> object:
    assert resp.status == 200, (resp.status, resp.body)  # type: ignore[attr-defined]
    data = resp.body  # type: ignore[attr-defined]
    if resp.getheader("Content-Encoding") == "gzip":
        data = gzip.decompress(data)
    return pb.ServerToAgent.FromString(data)


def test_config_hash_is_order_independent_and_length_prefixed() -> None:
    a = {"a": ("text/yaml", b"1"), "b": ("text/yaml", b"2")}
    assert config_hash(a) == config_hash(dict(reversed(list(a.items()))))
    assert config_hash({"ab": ("", b"c")}) != config_hash({"a": ("", b"bc")})
    assert config_hash({"a": ("x", b"")}) != config_hash({"a": ("", b"x")})
    assert ConfigVersion.of(a).hash == config_hash(a)


def test_first_answer_offers_config_and_asks_full_state(server: ServerThread) -> None:
    r = reply(post(server, message(0)))
    assert r.instance_uid == UID
    assert r.capabilities == SERVER_CAPABILITIES
    assert r.flags & pb.ServerToAgentFlags_ReportFullState  # unknown to the server
    assert r.remote_config.config_hash == OLD.hash
    f = r.remote_config.config.config_map["ottl.yaml"]
    assert (f.content_type, f.body) == OLD.files[0][1:]
    # Same hash reported: no offer; the next sequence number: no full state.
    r = reply(post(server, message(1, status=(OLD.hash, pb.RemoteConfigStatuses_APPLIED))))
    assert not r.HasField("remote_config") and not r.flags
    # A gap, and then a repeat: full state, never anything else.
    r = reply(post(server, message(5, describe=False)))
    assert r.flags & pb.ServerToAgentFlags_ReportFullState and not r.HasField("remote_config")
    r = reply(post(server, message(5, describe=False, caps=CAPS | 0x4)))
    assert r.flags & pb.ServerToAgentFlags_ReportFullState
    agent = server.call(lambda: server.server.controller.agents[UID])
    assert agent.connected and agent.reported_hash == OLD.hash


def test_failed_hash_is_treated_as_received(server: ServerThread) -> None:
    reply(post(server, message(0)))
    r = reply(post(server, message(1, status=(OLD.hash, pb.RemoteConfigStatuses_FAILED))))
    assert not r.HasField("remote_config")
    r = reply(post(server, message(2, status=(b"", pb.RemoteConfigStatuses_UNSET))))
    assert not r.HasField("remote_config")  # OLD failed here: never re-offered


def test_no_offer_without_accepts_remote_config(server: ServerThread) -> None:
    r = reply(post(server, message(0, caps=pb.AgentCapabilities_ReportsStatus)))
    assert not r.HasField("remote_config")


def test_duplicate_gets_the_same_answer(server: ServerThread) -> None:
    body = message(0)
    first = post(server, body)
    second = post(server, body)
    assert first.body == second.body  # type: ignore[attr-defined]
    assert server.server.stats.duplicates == 1


def test_gzip_request_and_response(server: ServerThread) -> None:
    big = ConfigVersion.of({"ottl.yaml": ("application/yaml", b"# " + b"x" * 5000 + b"\n")})
    server.call(server.server.controller.add_config, big)
    from opamp.selector import LabelSelector

    server.call(server.server.controller.assign, LabelSelector.everything(), big.hash)
    resp = post(server, gzip.compress(message(0)),
                {"Content-Encoding": "gzip", "Accept-Encoding": "gzip"})
    assert resp.getheader("Content-Encoding") == "gzip"
    assert reply(resp).remote_config.config_hash == big.hash


def test_bad_http_requests(server: ServerThread) -> None:
    assert post(server, message(0), {"Content-Type": "application/json"}).status == 415
    assert post(server, message(0), path="/elsewhere").status == 404
    assert post(server, b"", method="PUT").status == 405
    assert post(server, b"garbage", {"Content-Encoding": "gzip"}).status == 400
    assert post(server, message(0), {"Content-Encoding": "br"}).status == 415


def test_malformed_protobuf_is_bad_request(server: ServerThread) -> None:
    for body in (b"\xff\xff\xff", message(0)[:-3], b"\x0a\x03abc",
                 pb.AgentToServer(sequence_num=1).SerializeToString()):
        r = reply(post(server, body))
        assert r.error_response.type == pb.ServerErrorResponseType_BadRequest
        assert r.error_response.error_message
        assert not r.HasField("remote_config") and not r.flags
    # The server keeps serving everyone else.
    assert reply(post(server, message(0))).remote_config.config_hash == OLD.hash


def test_unknown_fields_are_ignored(server: ServerThread) -> None:
    # Field 99 (varint) and field 14 (available_components, not transcribed): both skipped.
    body = message(0) + b"\x98\x06\x01" + b"\x72\x02\x0a\x00"
    assert reply(post(server, body)).remote_config.config_hash == OLD.hash


def test_size_limit_is_413() -> None:
    t = make_server(max_message_bytes=1000)
    try:
        assert post(t, b"\x00" * 2000).status == 413
        bomb = gzip.compress(b"\x00" * 100_000)
        assert len(bomb) < 1000
        assert post(t, bomb, {"Content-Encoding": "gzip"}).status == 413
        assert reply(post(t, message(0))).remote_config.config_hash == OLD.hash
    finally:
        t.stop()


def test_rate_limit_is_429_with_retry_after() -> None:
    t = make_server(agent_burst=3, agent_rate=0.001, retry_after_seconds=7)
    try:
        statuses = [post(t, message(i)).status for i in range(5)]
        assert statuses[:3] == [200, 200, 200] and statuses[3:] == [429, 429]
        resp = post(t, message(9, uid=bytes(16)))
        assert resp.status == 200  # another agent is not affected
        resp = post(t, message(5))
        assert resp.status == 429 and resp.getheader("Retry-After") == "7"
    finally:
        t.stop()


def test_connection_flood_gets_503_and_loses_no_state() -> None:
    t = make_server(max_connections=5, retry_after_seconds=11)
    try:
        reply(post(t, message(0)))
        held = [socket.create_connection(("127.0.0.1", t.server.port)) for _ in range(5)]
        wait_for(lambda: t.server._connections >= 5, what="held connections")
        resp = post(t, message(1))
        assert resp.status == 503 and resp.getheader("Retry-After") == "11"
        for s in held:
            s.close()
        wait_for(lambda: t.server._connections == 0, what="connections closed")
        r = reply(post(t, message(1, status=(OLD.hash, pb.RemoteConfigStatuses_APPLIED))))
        assert not r.HasField("remote_config")
        assert t.call(lambda: t.server.controller.agents[UID].reported_hash) == OLD.hash
    finally:
        t.stop()


def test_garbage_on_the_socket_does_not_stop_the_server(server: ServerThread) -> None:
    for junk in (b"\x16\x03\x01garbage\r\n\r\n", b"GET\r\n\r\n", b"POST / HTTP/1.1\r\nbad\r\n\r\n"):
        s = socket.create_connection(("127.0.0.1", server.server.port))
        s.sendall(junk)
        s.recv(1000)
        s.close()
    threads = [threading.Thread(target=lambda i=i: post(server, message(0, uid=bytes([i]) * 16)))
               for i in range(20)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert len(server.call(lambda: dict(server.server.controller.agents))) == 20


def test_websocket_header_byte_answers_and_push(server: ServerThread) -> None:
    with connect(server.ws_url) as ws:
        ws.send(b"\x00" + message(0))
        frame = ws.recv(timeout=10)
        assert isinstance(frame, bytes) and frame[0] == 0
        r = pb.ServerToAgent.FromString(frame[1:])
        assert r.remote_config.config_hash == OLD.hash
        ws.send(b"\x00" + message(1, status=(OLD.hash, pb.RemoteConfigStatuses_APPLIED)))
        r = pb.ServerToAgent.FromString(ws.recv(timeout=10)[1:])
        assert not r.HasField("remote_config")
        # The server pushes a new config without being asked: a one-step rollout.
        from opamp.selector import LabelSelector
        from opamp.strategy import Step, Strategy

        server.call(server.server.start_rollout, "push", LabelSelector.everything(),
                    Strategy((Step(1.0),)), NEW)
        r = pb.ServerToAgent.FromString(ws.recv(timeout=10)[1:])
        assert r.remote_config.config_hash == NEW.hash
        # Garbage in a frame: BAD_REQUEST, and the socket stays usable.
        ws.send(b"\x00\xff\xff")
        r = pb.ServerToAgent.FromString(ws.recv(timeout=10)[1:])
        assert r.error_response.type == pb.ServerErrorResponseType_BadRequest
        ws.send(b"\x00" + message(2, status=(NEW.hash, pb.RemoteConfigStatuses_APPLIED)))
        r = pb.ServerToAgent.FromString(ws.recv(timeout=10)[1:])
        assert not r.HasField("error_response")
    wait_for(lambda: not server.call(lambda: server.server.controller.agents[UID].connected),
             what="disconnect noticed")


def test_websocket_oversize_frame_closes_1009() -> None:
    t = make_server(max_message_bytes=1000)
    try:
        with connect(t.ws_url) as ws:
            ws.send(b"\x00" + b"\x01" * 5000)
            from websockets.exceptions import ConnectionClosed

            with pytest.raises(ConnectionClosed):
                ws.recv(timeout=10)
            assert ws.close_code == 1009
    finally:
        t.stop()


def test_enum_constants_match_the_schema_table() -> None:
    for enum, values in pb._ENUMS.items():
        descriptor = pb.POOL.FindEnumTypeByName(f"{pb.PACKAGE}.{enum}")
        for name, number in values:
            assert getattr(pb, name) == number == descriptor.values_by_name[name].number


def test_our_messages_and_the_official_clients_agree_on_the_wire() -> None:
    official = pytest.importorskip("opentelemetry._opamp.proto.opamp_pb2")
    ours = pb.AgentToServer.FromString(message(3, status=(b"h", 1)))
    theirs = official.AgentToServer.FromString(ours.SerializeToString())
    assert theirs.sequence_num == 3 and theirs.remote_config_status.last_remote_config_hash == b"h"
    assert theirs.agent_description.identifying_attributes[0].value.string_value == "x"
    back = pb.AgentToServer.FromString(theirs.SerializeToString())
    assert back == ours


def test_websocket_gets_close_1001_when_the_server_stops() -> None:
    from websockets.exceptions import ConnectionClosed

    t = make_server()
    with connect(t.ws_url) as ws:
        ws.send(b"\x00" + message(0))
        ws.recv(timeout=10)
        t.stop()
        with pytest.raises(ConnectionClosed) as info:
            ws.recv(timeout=10)
        assert info.value.rcvd is not None and info.value.rcvd.code == 1001


def test_clone_is_told_its_new_uid_and_our_agent_adopts_it(server: ServerThread) -> None:
    from opamp.agent import AgentCore, EngineHost

    reply(post(server, message(0)))  # the original: service.name=x
    clone = AgentCore(EngineHost(), {"service.name": "y"}, uid=UID)
    r = reply(post(server, clone.next_message().SerializeToString()))
    new_uid = r.agent_identification.new_instance_uid
    assert len(new_uid) == 16 and new_uid != UID
    clone.handle(r)
    assert clone.uid == new_uid and clone.full_state
    r = reply(post(server, clone.next_message().SerializeToString()))
    assert r.instance_uid == new_uid and not r.HasField("agent_identification")
