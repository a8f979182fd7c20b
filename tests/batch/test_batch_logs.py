"""LogBatch and the native OTLP logs codec against the official opentelemetry-proto classes."""

from __future__ import annotations

import numpy as np
from batch_strategies import as_message_dict, log_requests, strip_key_strindex
from google.protobuf.json_format import MessageToDict
from hypothesis import given
from hypothesis import strategies as st
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.common.v1 import common_pb2

from ottl._batch import TAG_KVLIST, TAG_NONE, TAG_STRING, LogBatch, decode_logs


def _official_dict(msg) -> dict:
    return strip_key_strindex(MessageToDict(msg, always_print_fields_with_no_presence=True,
                                            preserving_proto_field_name=True,
                                            use_integers_for_enums=True))


def _our_dict(batch: LogBatch) -> dict:
    d = batch.to_dict()
    for group in d["resource_logs"]:
        res = group.get("resource")
        if res is not None:
            res["entity_refs"] = [
                _official_dict(common_pb2.EntityRef.FromString(raw)) for raw in res["entity_refs"]]
    return as_message_dict(d)


@given(log_requests)
def test_decode_then_encode_gives_the_original_message(msg):
    batch = decode_logs(msg.SerializeToString())
    assert ExportLogsServiceRequest.FromString(batch.encode()) == msg
    assert ExportLogsServiceRequest.FromString(batch.encode(verbatim=True)) == msg


@given(log_requests)
def test_decode_matches_the_official_parse_field_for_field(msg):
    batch = decode_logs(msg.SerializeToString())
    assert _our_dict(batch) == _official_dict(msg)
    flat = [r for rl in msg.resource_logs for sl in rl.scope_logs for r in sl.log_records]
    assert [as_message_dict(r) for r in batch.records()] == [_official_dict(r) for r in flat]


@given(log_requests, st.data())
def test_encode_with_a_mask_keeps_exactly_the_selected_records(msg, data):
    batch = decode_logs(msg.SerializeToString())
    mask = data.draw(st.lists(st.booleans(), min_size=len(batch), max_size=len(batch)))
    got = ExportLogsServiceRequest.FromString(batch.encode(np.array(mask)))
    kept = iter(mask)
    expected = []
    for rl in msg.resource_logs:
        scopes = []
        for sl in rl.scope_logs:
            records = [r for r in sl.log_records if next(kept)]
            if records:
                scopes.append((sl, records))
        if scopes:
            expected.append((rl, scopes))
    assert len(got.resource_logs) == len(expected)
    for g, (rl, scopes) in zip(got.resource_logs, expected):
        assert g.resource == rl.resource and g.schema_url == rl.schema_url
        assert len(g.scope_logs) == len(scopes)
        for gs, (sl, records) in zip(g.scope_logs, scopes):
            assert gs.scope == sl.scope and gs.schema_url == sl.schema_url
            assert list(gs.log_records) == records


def test_log_columns():
    msg = ExportLogsServiceRequest()
    sl = msg.resource_logs.add().scope_logs.add()
    sl.log_records.add(severity_number=9, severity_text="INFO", time_unix_nano=5).body.string_value = "hello"
    r = sl.log_records.add(severity_number=17, severity_text="ERROR")
    r.body.kvlist_value.values.add(key="msg").value.string_value = "boom"
    sl.log_records.add(severity_text="INFO")
    batch = decode_logs(msg.SerializeToString())
    assert len(batch) == 3
    assert list(batch.column("severity_number")) == [9, 17, 0]
    text = batch.column("severity_text")
    assert text[0] == text[2] != text[1]
    assert list(batch.column("body_tag")) == [TAG_STRING, TAG_KVLIST, TAG_NONE]
    assert batch.string(int(batch.column("body")[0])) == "hello"
    start = int(batch.column("body")[1]) & 0xFFFFFFFF
    assert batch.string(int(batch.column("values.key")[start])) == "msg"
    assert list(batch.column("time_unix_nano")) == [5, 0, 0]
    assert batch.encode() == msg.SerializeToString()
