"""OpAMP messages <-> the controller: decoding AgentToServer, building ServerToAgent, and the
engine-metrics custom message.

The engine's metrics travel in ``AgentToServer.custom_message`` with capability
``io.ottl.engine.metrics/v1``, type ``metrics`` and a UTF-8 JSON object as data::

    {"config_hash": "<hex of the config these counters belong to>",
     "records_in": 0, "records_out": 0, "dropped": 0, "statement_errors": 0,
     "batches": 0, "engine_seconds": 0.0, "uptime_seconds": 0.0}

Counters are cumulative since that configuration was swapped in (a new configuration starts
from zero); ``engine_seconds`` is the time spent inside the pipelines and ``uptime_seconds`` the
wall time since the swap, so the server derives rates, latency and the CPU share per window.
Agents announce the capability in ``custom_capabilities``.
"""

from __future__ import annotations

import json
from typing import Any, Mapping, Optional

from opamp import proto as pb
from opamp.configs import ConfigVersion
from opamp.controller import AgentReport
from opamp.selector import label_string
from opamp.strategy import Sample

METRICS_CAPABILITY = "io.ottl.engine.metrics/v1"
METRICS_TYPE = "metrics"
SERVER_CAPABILITIES = (pb.ServerCapabilities_AcceptsStatus | pb.ServerCapabilities_OffersRemoteConfig
                       | pb.ServerCapabilities_AcceptsEffectiveConfig)
_SAMPLE_FIELDS = ("records_in", "records_out", "dropped", "statement_errors", "batches")


class MalformedMessage(ValueError):
    """An AgentToServer that cannot be used; answered with BAD_REQUEST."""


def any_value(v: Any) -> Any:
    """A Python value from an AnyValue (arrays and kv-lists as lists and dicts)."""
    kind = v.WhichOneof("value")
    if kind is None:
        return None
    if kind == "array_value":
        return [any_value(x) for x in v.array_value.values]
    if kind == "kvlist_value":
        return {kv.key: any_value(kv.value) for kv in v.kvlist_value.values}
    return getattr(v, kind)


def set_any_value(target: Any, value: Any) -> None:
    if isinstance(value, bool):
        target.bool_value = value
    elif isinstance(value, int):
        target.int_value = value
    elif isinstance(value, float):
        target.double_value = value
    elif isinstance(value, str):
        target.string_value = value
    elif isinstance(value, (bytes, bytearray)):
        target.bytes_value = bytes(value)
    elif isinstance(value, (list, tuple)):
        for item in value:
            set_any_value(target.array_value.values.add(), item)
    elif isinstance(value, Mapping):
        for k, item in value.items():
            kv = target.kvlist_value.values.add(key=str(k))
            set_any_value(kv.value, item)
    elif value is not None:
        raise TypeError(f"no AnyValue for {type(value).__name__}")


def _labels(kvs: Any) -> dict[str, str]:
    out = {}
    for kv in kvs:
        s = label_string(any_value(kv.value))
        if s is not None:
            out[kv.key] = s
    return out


def decode_agent_message(data: bytes) -> Any:
    try:
        msg = pb.AgentToServer.FromString(data)
    except Exception as exc:  # the runtime raises DecodeError (and, for some input, others)
        raise MalformedMessage(f"not an AgentToServer: {exc}") from None
    if len(msg.instance_uid) != 16:
        raise MalformedMessage(f"instance_uid must be 16 bytes, got {len(msg.instance_uid)}")
    return msg


def parse_metrics(data: bytes) -> Optional[Sample]:
    try:
        doc = json.loads(data)
        sample = Sample(bytes.fromhex(doc["config_hash"]), 0.0,
                        **{k: int(doc.get(k, 0)) for k in _SAMPLE_FIELDS},
                        engine_seconds=float(doc.get("engine_seconds", 0.0)),
                        uptime_seconds=float(doc.get("uptime_seconds", 0.0)))
    except (ValueError, KeyError, TypeError):
        return None
    return sample


def metrics_message(sample: Mapping[str, Any]) -> Any:
    return pb.CustomMessage(capability=METRICS_CAPABILITY, type=METRICS_TYPE,
                            data=json.dumps(dict(sample), sort_keys=True).encode())


def to_report(msg: Any, transport: str) -> AgentReport:
    rep = AgentReport(uid=bytes(msg.instance_uid), sequence_num=msg.sequence_num,
                      capabilities=msg.capabilities, transport=transport)
    if msg.HasField("agent_description"):
        rep.identifying = _labels(msg.agent_description.identifying_attributes)
        rep.non_identifying = _labels(msg.agent_description.non_identifying_attributes)
    if msg.HasField("remote_config_status"):
        s = msg.remote_config_status
        rep.remote_config_status = (bytes(s.last_remote_config_hash), int(s.status),
                                    s.error_message)
    if msg.HasField("health"):
        rep.healthy = msg.health.healthy
        rep.last_error = msg.health.last_error
    if msg.HasField("effective_config"):
        files = {n: (f.content_type, bytes(f.body))
                 for n, f in msg.effective_config.config_map.config_map.items()}
        rep.effective_hash = ConfigVersion.of(files).hash
    if msg.HasField("custom_message") and msg.custom_message.capability == METRICS_CAPABILITY \
            and msg.custom_message.type == METRICS_TYPE:
        rep.sample = parse_metrics(msg.custom_message.data)
    rep.disconnect = msg.HasField("agent_disconnect")
    return rep


def server_message(uid: bytes, *, offer: Optional[ConfigVersion] = None,
                   report_full_state: bool = False, first: bool = False) -> Any:
    out = pb.ServerToAgent(instance_uid=uid)
    # Capabilities on every message: cheap, and HTTP has no "first" message per agent.
    out.capabilities = SERVER_CAPABILITIES
    if report_full_state:
        out.flags |= pb.ServerToAgentFlags_ReportFullState
    if offer is not None:
        fill_remote_config(out.remote_config, offer)
    return out


def fill_remote_config(rc: Any, config: ConfigVersion) -> None:
    for name, content_type, body in config.files:
        f = rc.config.config_map[name]
        f.body = body
        f.content_type = content_type
    rc.config_hash = config.hash


def error_message(kind: int, text: str, uid: bytes = b"",
                  retry_after_seconds: Optional[float] = None) -> Any:
    out = pb.ServerToAgent(instance_uid=uid)
    out.error_response.type = kind
    out.error_response.error_message = text
    if retry_after_seconds is not None:
        out.error_response.retry_info.retry_after_nanoseconds = int(retry_after_seconds * 1e9)
    return out
