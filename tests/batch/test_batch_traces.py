"""SpanBatch and the native OTLP trace codec against the official opentelemetry-proto classes."""

from __future__ import annotations

import numpy as np
import pytest
from batch_strategies import as_message_dict, strip_key_strindex, trace_requests
from google.protobuf.json_format import MessageToDict
from hypothesis import given
from hypothesis import strategies as st
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1 import common_pb2

from ottl._batch import TAG_DOUBLE, TAG_INT, TAG_NONE, SpanBatch, decode_traces


def _official_dict(msg) -> dict:
    d = MessageToDict(msg, always_print_fields_with_no_presence=True,
                      preserving_proto_field_name=True, use_integers_for_enums=True)
    return strip_key_strindex(d)


def _our_dict(batch: SpanBatch) -> dict:
    d = batch.to_dict()
    # We keep EntityRef messages as their raw bytes; the official dict shows them parsed.
    for group in d["resource_spans"]:
        res = group.get("resource")
        if res is not None:
            res["entity_refs"] = [
                _official_dict(common_pb2.EntityRef.FromString(raw)) for raw in res["entity_refs"]]
    return as_message_dict(d)


@given(trace_requests)
def test_decode_then_encode_gives_the_original_message(msg):
    data = msg.SerializeToString()
    batch = decode_traces(data)
    assert ExportTraceServiceRequest.FromString(batch.encode()) == msg
    assert ExportTraceServiceRequest.FromString(batch.encode(verbatim=True)) == msg


@given(trace_requests)
def test_decode_matches_the_official_parse_field_for_field(msg):
    batch = decode_traces(msg.SerializeToString())
    assert _our_dict(batch) == _official_dict(msg)
    flat = [s for rs in msg.resource_spans for ss in rs.scope_spans for s in ss.spans]
    assert len(batch) == len(flat)
    assert [as_message_dict(r) for r in batch.records()] == [
        strip_key_strindex(MessageToDict(s, always_print_fields_with_no_presence=True,
                                          preserving_proto_field_name=True,
                                          use_integers_for_enums=True)) for s in flat]


@given(trace_requests, st.data())
def test_encode_with_a_mask_keeps_exactly_the_selected_spans(msg, data):
    batch = decode_traces(msg.SerializeToString())
    mask = np.array(data.draw(st.lists(st.booleans(), min_size=len(batch), max_size=len(batch))),
                    dtype=bool)
    expected = ExportTraceServiceRequest()
    expected.CopyFrom(msg)
    i = 0
    for rs in expected.resource_spans:
        for ss in rs.scope_spans:
            keep = []
            for span in ss.spans:
                if mask[i]:
                    keep.append(span)
                i += 1
            kept = [type(s)() for s in keep]
            for k, s in zip(kept, keep):
                k.CopyFrom(s)
            del ss.spans[:]
            ss.spans.extend(kept)
    for rs in expected.resource_spans:
        kept_scopes = [ss for ss in rs.scope_spans if len(ss.spans)]
        copies = [type(ss)() for ss in kept_scopes]
        for c, ss in zip(copies, kept_scopes):
            c.CopyFrom(ss)
        del rs.scope_spans[:]
        rs.scope_spans.extend(copies)
    kept_groups = [rs for rs in expected.resource_spans if len(rs.scope_spans)]
    copies = [type(rs)() for rs in kept_groups]
    for c, rs in zip(copies, kept_groups):
        c.CopyFrom(rs)
    del expected.resource_spans[:]
    expected.resource_spans.extend(copies)
    for verbatim in (False, True):
        got = ExportTraceServiceRequest.FromString(batch.encode(mask, verbatim=verbatim))
        assert got == expected


def _sample() -> ExportTraceServiceRequest:
    msg = ExportTraceServiceRequest()
    rs = msg.resource_spans.add()
    rs.resource.attributes.add(key="service.name").value.string_value = "checkout"
    ss = rs.scope_spans.add()
    ss.scope.name = "lib"
    for i in range(3):
        s = ss.spans.add(name=["GET", "POST", "GET"][i], trace_id=bytes([i]) * 16,
                         span_id=bytes([i + 1]) * 8, kind=2, start_time_unix_nano=10 + i,
                         end_time_unix_nano=20 + i)
        s.attributes.add(key="http.status_code").value.int_value = 200 + i
        s.attributes.add(key="ratio").value.double_value = 0.5
        s.attributes.add(key="nothing")
    return msg


def test_columns_are_numpy_views_of_the_batch():
    batch = decode_traces(_sample().SerializeToString())
    assert len(batch) == 3
    names = batch.column("name")
    assert names.dtype == np.int32
    assert names[0] == names[2] != names[1]  # interned: equal strings, equal ids
    assert batch.string(int(names[1])) == "POST"
    assert batch.column("trace_id").shape == (3, 16)
    assert batch.column("trace_id")[2].tobytes() == bytes([2]) * 16
    assert list(batch.column("start_time_unix_nano")) == [10, 11, 12]
    assert batch.column("start_time_unix_nano").dtype == np.uint64
    off = batch.column("attr_off")
    assert list(off) == [0, 3, 6, 9]
    tags = batch.column("attributes.tag")
    values = batch.column("attributes.value")
    assert list(tags[:3]) == [TAG_INT, TAG_DOUBLE, TAG_NONE]
    assert values[0] == 200 and values[1:2].view(np.float64)[0] == 0.5
    assert not names.flags.writeable
    with pytest.raises(ValueError):
        names[0] = 1
    with pytest.raises(KeyError, match="column_names"):
        batch.column("nope")
    assert "events.attributes.key" in batch.column_names()


def test_columns_outlive_the_batch_variable():
    col = decode_traces(_sample().SerializeToString()).column("kind")
    assert list(col) == [2, 2, 2]


def test_byte_ranges_point_at_each_span_in_the_input():
    msg = _sample()
    data = msg.SerializeToString()
    batch = decode_traces(data)
    for i, span in enumerate(msg.resource_spans[0].scope_spans[0].spans):
        a, z = batch.column("byte_start")[i], batch.column("byte_end")[i]
        assert data[a:z] == span.SerializeToString()


def test_empty_input_is_an_empty_batch():
    batch = decode_traces(b"")
    assert len(batch) == 0
    assert batch.encode() == b""
    assert list(batch.column("attr_off")) == [0]
    assert batch.to_dict() == {"resource_spans": []}


def test_other_buffers_are_accepted():
    data = _sample().SerializeToString()
    assert len(decode_traces(bytearray(data))) == 3
    assert len(decode_traces(memoryview(data))) == 3


def test_batches_are_not_built_directly():
    with pytest.raises(TypeError):
        SpanBatch()


def test_mask_must_match_the_record_count():
    batch = decode_traces(_sample().SerializeToString())
    with pytest.raises(ValueError, match="mask"):
        batch.encode([True])
    assert batch.encode([0, 0, 0]) == b""


def test_threads_decode_and_encode_concurrently():
    # The GIL is released while C works, and freed batches are recycled: neither may mix
    # results between threads.
    import threading

    payloads = []
    for k in range(4):
        msg = _sample()
        msg.resource_spans[0].scope_spans[0].spans[0].name = f"thread-{k}" * (k + 1)
        payloads.append(msg.SerializeToString())
    errors = []

    def work(data: bytes) -> None:
        try:
            for _ in range(200):
                batch = decode_traces(data)
                assert batch.encode() == data
                del batch
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(p,)) for p in payloads]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors


def test_a_recycled_batch_holds_only_the_new_payload():
    big = decode_traces(_sample().SerializeToString())
    assert len(big) == 3
    del big  # parked for reuse
    small = ExportTraceServiceRequest()
    small.resource_spans.add().scope_spans.add().spans.add(name="only")
    batch = decode_traces(small.SerializeToString())
    assert len(batch) == 1
    assert batch.string_count == 2  # "" and "only"
    assert batch.to_dict()["resource_spans"][0]["scope_spans"][0]["spans"][0]["name"] == "only"
    assert len(batch.column("attributes.key")) == 0


def test_tables_grow_past_their_presized_capacity():
    # Empty spans and attributes take two bytes each, far below what the presizing assumes.
    msg = ExportTraceServiceRequest()
    ss = msg.resource_spans.add().scope_spans.add()
    for _ in range(3000):
        ss.spans.add()
    for _ in range(4000):
        ss.spans[0].attributes.add()
    data = msg.SerializeToString()
    batch = decode_traces(data)
    assert len(batch) == 3000
    assert len(batch.column("attributes.key")) == 4000
    assert batch.encode() == data


def _framed_spans(names: list[str], overlong: set[int], junk_after: set[int]) -> bytes:
    """One ScopeSpans whose spans are framed by hand: span i's length as an overlong varint
    (a byte more than it needs) when i is in ``overlong``, an unknown field after span i when
    i is in ``junk_after``."""
    from batch_strategies import ld, tag, varint

    body = b""
    for i, name in enumerate(names):
        span = ld(5, name.encode())
        length = varint(len(span))
        if i in overlong:  # one byte more than needed: a continuation, then a zero
            length = length[:-1] + bytes([length[-1] | 0x80, 0])
        body += tag(2, 2) + length + span
        if i in junk_after:
            body += ld(99, b"junk")
    return ld(1, ld(2, body))


@given(st.lists(st.sampled_from(["a", "bb", "x" * 200]), min_size=1, max_size=12),
       st.sets(st.integers(0, 11)), st.sets(st.integers(0, 11)), st.integers(0, 2**12 - 1))
def test_verbatim_copy_out_of_runs_of_spans_keeps_each_span_s_framing(names, overlong, junk,
                                                                       bits):
    # Kept spans lying back to back, framed as the encoder frames them, go out in one copy;
    # anything else (an overlong length, an unknown field between them, a dropped span) breaks
    # the run, and the output is what a copy per span gives.
    data = _framed_spans(names, overlong, junk)
    batch = decode_traces(data)
    keep = np.array([bool(bits >> i & 1) for i in range(len(names))])
    kept = [n for n, k in zip(names, keep) if k]
    # each kept span framed canonically (the unknown fields between spans are not kept), and
    # a scope left empty dropped
    got = batch.encode(keep, verbatim=True)
    assert got == (_framed_spans(kept, set(), set()) if kept else b"")
    whole = batch.encode(verbatim=True)
    if not overlong and not junk:  # canonical framing: the input itself
        assert whole == data
    parsed = ExportTraceServiceRequest.FromString(whole)
    assert [s.name for rs in parsed.resource_spans for ss in rs.scope_spans for s in ss.spans] \
        == names
