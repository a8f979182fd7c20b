"""The agent side: compile, swap only if it compiles, report status, effective config, health
and the engine's metrics."""

from __future__ import annotations

import json
from importlib import resources

from opamp import proto as pb
from opamp.agent import AgentCore, EngineHost, compile_config, ConfigRejected
from opamp.configs import ConfigVersion
from opamp.wire import METRICS_CAPABILITY, fill_remote_config, parse_metrics, to_report
from opamp_testlib import NEW, OLD

import pytest

SAMPLE = json.loads(resources.files("ottl.examples").joinpath("sample_traces.json").read_text())
BROKEN = ConfigVersion.of({"ottl.yaml": ("application/yaml", b"""transform:
  trace_statements:
    - set(span.attributes["x"], NoSuchFunction(1))
""")})


def offer(config: ConfigVersion) -> object:
    m = pb.ServerToAgent(instance_uid=bytes(16))
    fill_remote_config(m.remote_config, config)
    return m


def span_attr(doc: dict, key: str) -> list:
    out = []
    for rs in doc["resourceSpans"]:
        for ss in rs["scopeSpans"]:
            for span in ss["spans"]:
                for kv in span.get("attributes", []):
                    if kv["key"] == key:
                        out.append(kv["value"])
    return out


def test_apply_and_process() -> None:
    host = EngineHost()
    core = AgentCore(host, {"service.name": "svc"})
    core.handle(offer(OLD))
    assert host.config == OLD
    out = host.process(SAMPLE)
    values = span_attr(out, "config")
    assert values and all(v == {"stringValue": "old"} for v in values)
    m = host.metrics()
    assert m["records_in"] == m["records_out"] > 0 and m["batches"] == 1
    assert m["config_hash"] == OLD.hash.hex()


def test_compile_error_keeps_the_running_config_and_reports_failed() -> None:
    host = EngineHost()
    core = AgentCore(host, {"service.name": "svc"})
    core.handle(offer(OLD))
    core.next_message()
    core.handle(offer(BROKEN))
    assert host.config == OLD  # not swapped
    msg = core.next_message()
    s = msg.remote_config_status
    assert s.status == pb.RemoteConfigStatuses_FAILED
    assert s.last_remote_config_hash == BROKEN.hash
    assert "NoSuchFunction" in s.error_message
    # The effective config is still the old one.
    eff = msg.effective_config.config_map.config_map["ottl.yaml"]
    assert eff.body == OLD.files[0][2]
    values = span_attr(host.process(SAMPLE), "config")
    assert values and values[0] == {"stringValue": "old"}


def test_json_configs_and_unsupported_types() -> None:
    doc = {"transform": {"trace_statements": ['set(span.attributes["j"], "json")']}}
    cfg = ConfigVersion.of({"c.json": ("application/json", json.dumps(doc).encode())})
    compile_config(cfg)
    carried = ConfigVersion.of({"c.json": ("application/json",
                                           json.dumps(NEW.files[0][2].decode()).encode())})
    compile_config(carried)
    with pytest.raises(ConfigRejected, match="unsupported content type"):
        compile_config(ConfigVersion.of({"c": ("application/toml", b"x")}))
    with pytest.raises(ConfigRejected, match="not valid JSON"):
        compile_config(ConfigVersion.of({"c": ("application/json", b"{")}))


def test_messages_status_compression_and_full_state() -> None:
    host = EngineHost()
    core = AgentCore(host, {"service.name": "svc", "service.instance.id": "1"},
                     {"host.name": "h", "canary": True})
    first = core.next_message()
    rep = to_report(first, "http")
    assert rep.identifying == {"service.name": "svc", "service.instance.id": "1"}
    assert rep.non_identifying == {"host.name": "h", "canary": "true"}
    assert first.health.healthy and METRICS_CAPABILITY in first.custom_capabilities.capabilities
    second = core.next_message()
    assert second.sequence_num == first.sequence_num + 1
    assert not second.HasField("agent_description") and not second.HasField("health")
    assert second.custom_message.capability == METRICS_CAPABILITY  # metrics every time
    core.handle(pb.ServerToAgent(flags=pb.ServerToAgentFlags_ReportFullState))
    assert core.next_message().HasField("agent_description")
    core.set_healthy(False)
    h = core.next_message().health
    assert not h.healthy and not h.component_health_map["ottl"].healthy


def test_metrics_message_round_trip() -> None:
    host = EngineHost()
    core = AgentCore(host, {"service.name": "svc"})
    core.handle(offer(NEW))
    host.process(SAMPLE)
    sample = parse_metrics(core.next_message().custom_message.data)
    assert sample is not None and sample.config_hash == NEW.hash
    assert sample.records_in > 0 and sample.batches == 1
    assert parse_metrics(b"not json") is None


def test_statement_errors_are_counted() -> None:
    host = EngineHost()
    host.apply(NEW)
    doc = json.loads(json.dumps(SAMPLE))
    span = doc["resourceSpans"][0]["scopeSpans"][0]["spans"][0]
    span.setdefault("attributes", []).append({"key": "payload",
                                              "value": {"stringValue": "{not json"}})
    host.process(doc)
    assert host.metrics()["statement_errors"] == 1


def test_same_config_again_is_acknowledged_again() -> None:
    host = EngineHost()
    core = AgentCore(host, {"service.name": "svc"})
    core.handle(offer(OLD))
    core.next_message()
    core.handle(offer(OLD))
    msg = core.next_message()
    assert msg.remote_config_status.status == pb.RemoteConfigStatuses_APPLIED
    assert core.applied == 1
