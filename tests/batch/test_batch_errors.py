"""Bad input to the native decoder: only OtlpDecodeError, with the byte offset and field path."""

from __future__ import annotations

import pytest
from batch_strategies import ld, log_requests, tag, trace_requests, varint, vi
from google.protobuf.message import DecodeError
from hypothesis import given
from hypothesis import strategies as st
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from ottl import limits
from ottl._batch import OtlpDecodeError, decode_logs, decode_traces


@st.composite
def mutated(draw, requests):
    data = bytearray(draw(requests).SerializeToString())
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["truncate", "flip", "byte", "insert", "delete", "length"]))
        if not data and kind != "insert":
            kind = "insert"
        if kind == "insert":
            at = draw(st.integers(0, len(data)))
            data[at:at] = draw(st.binary(min_size=1, max_size=4))
            continue
        at = draw(st.integers(0, len(data) - 1))
        if kind == "truncate":
            del data[at:]
        elif kind == "flip":
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif kind == "byte":
            data[at] = draw(st.integers(0, 255))
        elif kind == "delete":
            del data[at]
        else:
            # A length or tag byte made larger or smaller, or a long varint spliced in.
            data[at:at + 1] = draw(st.sampled_from([b"\xff" * 11, b"\x80\x80\x80\x80\x01",
                                                    varint(2**31), b"\x7f", b"\x00"]))
    return bytes(data)


@given(mutated(trace_requests))
def test_mutated_trace_payloads_raise_only_the_codec_error(data):
    try:
        batch = decode_traces(data)
    except OtlpDecodeError as exc:
        assert 0 <= exc.offset <= len(data)
        return
    # Whatever we accept, the official parser accepts too, and re-encoding keeps it.
    msg = ExportTraceServiceRequest.FromString(data)
    _ = ExportTraceServiceRequest.FromString(batch.encode())
    _ = ExportTraceServiceRequest.FromString(batch.encode(verbatim=True))
    assert len(batch) == sum(len(ss.spans) for rs in msg.resource_spans for ss in rs.scope_spans)


@given(mutated(log_requests))
def test_mutated_log_payloads_raise_only_the_codec_error(data):
    try:
        batch = decode_logs(data)
    except OtlpDecodeError as exc:
        assert 0 <= exc.offset <= len(data)
        return
    msg = ExportLogsServiceRequest.FromString(data)
    _ = ExportLogsServiceRequest.FromString(batch.encode())
    assert len(batch) == sum(len(sl.log_records) for rl in msg.resource_logs for sl in rl.scope_logs)


@given(st.binary(max_size=64))
def test_arbitrary_bytes_raise_only_the_codec_error(data):
    for decode in (decode_traces, decode_logs):
        try:
            decode(data)
        except OtlpDecodeError:
            pass


# ---- exact offsets and paths ----

def span_request(*span_fields: bytes, spans_before: int = 0) -> bytes:
    span = b"".join(span_fields)
    spans = b"".join(ld(2, b"") for _ in range(spans_before)) + ld(2, span)
    return ld(1, ld(2, spans))


def where(data: bytes, decode=decode_traces):
    with pytest.raises(OtlpDecodeError) as info:
        decode(data)
    return info.value.offset, info.value.path, info.value.reason


def test_invalid_utf8_in_an_attribute_key():
    bad_key = b"ab\xff"
    attr = ld(1, bad_key) + ld(2, vi(3, 1))
    data = span_request(ld(5, b"name"), ld(9, ld(1, b"ok")), ld(9, attr), spans_before=2)
    offset, path, reason = where(data)
    assert path == "resource_spans[0].scope_spans[0].spans[2].attributes[1].key"
    assert data[offset:offset + 1] == b"\xff"
    assert "UTF-8" in reason
    # The official parser rejects it as well.
    with pytest.raises(DecodeError):
        ExportTraceServiceRequest.FromString(data)


def test_invalid_utf8_in_a_nested_string_value():
    inner = ld(1, b"\xed\xa0\x80")  # an encoded surrogate
    value = ld(5, ld(1, vi(3, 7)) + ld(1, ld(6, ld(1, ld(1, b"k") + ld(2, inner)))))
    data = span_request(ld(9, ld(1, b"a") + ld(2, value)))
    offset, path, _ = where(data)
    assert path == ("resource_spans[0].scope_spans[0].spans[0].attributes[0].value.array_value"
                    ".values[1].kvlist_value.values[0].value.string_value")
    assert data[offset:offset + 3] == b"\xed\xa0\x80"


def test_wrong_wire_type_for_a_known_field():
    data = span_request(ld(5, b"x"), vi(5, 3))
    offset, path, reason = where(data)
    assert path == "resource_spans[0].scope_spans[0].spans[0].name"
    assert data[offset:offset + 1] == tag(5, 0)
    assert "wire type 0, expected 2" in reason


def test_varint_over_ten_bytes():
    data = span_request(tag(6, 0) + b"\xff" * 10 + b"\x01")
    offset, path, reason = where(data)
    assert path == "resource_spans[0].scope_spans[0].spans[0].kind"
    assert data[offset:offset + 10] == b"\xff" * 10
    assert "10 bytes" in reason


def test_length_past_the_end():
    data = ld(1, ld(2, tag(2, 2) + varint(50) + b"abc"))
    offset, path, reason = where(data)
    assert path == "resource_spans[0].scope_spans[0].spans"
    assert offset == 5  # the length itself, after the tag at 4
    assert "past the end" in reason


def test_truncated_fixed64():
    data = span_request(tag(7, 1) + b"\x01\x02\x03")
    offset, path, reason = where(data)
    assert path == "resource_spans[0].scope_spans[0].spans[0].start_time_unix_nano"
    assert offset == len(data) - 3
    assert "truncated" in reason


def test_truncated_top_level_message():
    data = _valid()
    offset, path, _ = where(data[:-1])
    assert path == "resource_spans"
    assert offset == 1


def test_invalid_tags():
    assert where(b"\x00")[2].startswith("invalid tag")
    assert where(b"\x0f")[2].startswith("invalid wire type")
    assert "end-group" in where(tag(9, 4))[2]
    assert "group" in where(tag(9, 3) + tag(8, 4))[2]
    # A well-formed unknown group is skipped.
    assert len(decode_traces(tag(9, 3) + vi(1, 5) + tag(9, 4))) == 0


def test_unknown_fields_are_skipped():
    data = span_request(ld(5, b"x"), vi(99, 1), tag(98, 1) + b"\0" * 8, tag(97, 5) + b"\0" * 4,
                        ld(96, b"junk"))
    batch = decode_traces(data)
    assert batch.string(int(batch.column("name")[0])) == "x"
    # The verbatim copy-out keeps them, as the official classes' unknown fields.
    assert (ExportTraceServiceRequest.FromString(batch.encode(verbatim=True))
            == ExportTraceServiceRequest.FromString(data))


def nested_arrays(depth: int) -> bytes:
    value = vi(3, 1)
    for _ in range(depth - 1):
        value = ld(5, ld(1, value))
    return value


def test_nesting_up_to_the_limit_is_kept_and_beyond_is_refused():
    limit = limits.MAX_NESTING_DEPTH
    ok = span_request(ld(9, ld(1, b"a") + ld(2, nested_arrays(limit))))
    batch = decode_traces(ok)
    # upb stops at 100 message levels (about 47 AnyValue levels here), so the official parser
    # cannot be the judge at this depth: the re-encoded bytes must equal the input instead.
    assert batch.encode() == ok
    value = batch.to_dict()["resource_spans"][0]["scope_spans"][0]["spans"][0]["attributes"][0]
    depth = 0
    value = value["value"]
    while "array_value" in value:
        value = value["array_value"]["values"][0]
        depth += 1
    assert depth == limit - 1 and value == {"int_value": 1}
    bad = span_request(ld(9, ld(1, b"a") + ld(2, nested_arrays(limit + 1))))
    _, path, reason = where(bad)
    assert f"deeper than {limit}" in reason
    assert path.endswith(".values")
    assert path.count("array_value") == limit


def test_attribute_count_limit():
    attrs = [ld(9, ld(1, b"k%d" % i)) for i in range(17)]
    data = span_request(*attrs)
    assert len(decode_traces(data)) == 1
    with pytest.raises(OtlpDecodeError, match="more than 16 attributes") as info:
        decode_traces(data, max_attributes=16)
    assert info.value.path == "resource_spans[0].scope_spans[0].spans[0].attributes[16]"
    with pytest.raises(ValueError, match="max_attributes"):
        decode_traces(data, max_attributes=1)


def test_string_length_limit():
    data = span_request(ld(5, b"x" * 1025))
    assert len(decode_traces(data, max_string_length=1025)) == 1
    with pytest.raises(OtlpDecodeError, match="over the limit of 1024 bytes") as info:
        decode_traces(data, max_string_length=1024)
    assert info.value.path == "resource_spans[0].scope_spans[0].spans[0].name"


def test_log_body_path():
    record = ld(5, ld(1, b"\xc0\xaf"))  # an overlong encoding
    data = ld(1, ld(2, ld(2, b"") + ld(2, record)))
    offset, path, _ = where(data, decode_logs)
    assert path == "resource_logs[0].scope_logs[0].log_records[1].body.string_value"
    assert data[offset:offset + 2] == b"\xc0\xaf"


def _valid() -> bytes:
    msg = ExportTraceServiceRequest()
    span = msg.resource_spans.add().scope_spans.add().spans.add(name="n")
    span.attributes.add(key="k").value.string_value = "v"
    return msg.SerializeToString()


def test_error_message_names_offset_and_path():
    with pytest.raises(ValueError, match=r"at byte 1 in resource_spans$"):
        decode_traces(_valid()[:-1])
