"""Decoding under a projection (``attribute_keys``): a batch for filters that keeps only some of
each record's own attributes, refuses exactly what a whole decode refuses, and copies records
out byte for byte."""

from __future__ import annotations

import pytest
from batch_strategies import log_requests, trace_requests
from hypothesis import given
from hypothesis import strategies as st
from test_batch_errors import mutated

from ottl._batch import MAX_PROJECTED_KEYS, OtlpDecodeError, decode_logs, decode_traces

KEYS = ["http.method", "k", "absent"]


STRING_COLUMNS = {"name", "trace_state", "status_message", "events.name", "links.trace_state",
                  "resources.schema_url", "scopes.name", "scopes.version", "scopes.schema_url",
                  "severity_text", "event_name"}


def own_attributes(batch) -> list[list[tuple[str, str]]]:
    """Each record's own attributes as (key, repr of the value) pairs, in order."""
    off = batch.column("attr_off")
    keys, tags, vals = (batch.column(f"attributes.{c}") for c in ("key", "tag", "value"))
    return [[(batch.string(int(keys[k])), repr(batch.value(int(tags[k]), int(vals[k]))))
             for k in range(int(off[i]), int(off[i + 1]))] for i in range(len(batch))]


def comparable(batch, name: str) -> list:
    """A column with string ids and value payloads resolved (ids differ between batches)."""
    col = batch.column(name)
    if name in STRING_COLUMNS or name.endswith(".key"):
        return [batch.string(int(s)) for s in col]
    if name == "body" or name.endswith(".value"):
        tags = batch.column("body_tag" if name == "body" else name[:-len("value")] + "tag")
        return [repr(batch.value(int(t), int(v))) for t, v in zip(tags, col)]
    return col.tolist()


def outcome(decode, data: bytes, **kw):
    try:
        return decode(data, **kw)
    except OtlpDecodeError as exc:
        return (exc.reason, exc.offset, exc.path)


def check_projection(decode, data: bytes, keys=KEYS) -> None:
    whole = outcome(decode, data)
    projected = outcome(decode, data, attribute_keys=keys)
    if isinstance(whole, tuple):
        # The same refusal: reason, offset and path.
        assert projected == whole
        return
    assert not isinstance(projected, tuple), projected
    assert projected.attributes_projected and projected.attribute_keys == frozenset(keys)
    assert not whole.attributes_projected and whole.attribute_keys is None
    assert len(projected) == len(whole)
    for mine, theirs in zip(own_attributes(projected), own_attributes(whole)):
        # Every kept key exactly as a whole decode has it, in order ...
        assert [kv for kv in mine if kv[0] in keys] == [kv for kv in theirs if kv[0] in keys]
        # ... and nothing the record does not have (other keys may stay when their shape takes
        # the general path).
        it = iter(theirs)
        assert all(kv in it for kv in mine)
    # Everything but the records' own attributes decodes whole.
    for name in whole.column_names():
        if name.startswith(("attributes.", "strings.", "values.")) or name == "attr_off":
            continue  # the own attributes are above; nested values through their owners
        assert comparable(projected, name) == comparable(whole, name), name
    assert projected.encode(verbatim=True) == whole.encode(verbatim=True)
    mask = [i % 3 != 1 for i in range(len(whole))]
    assert projected.encode(mask, verbatim=True) == whole.encode(mask, verbatim=True)


OPAQUE = 14  # OTTL_V_OPAQUE: a kept attribute whose value stayed in the input


def check_kept(decode, data: bytes, keys=KEYS) -> None:
    """keep_other_attributes: the same refusals; every entry in order, the listed keys' values
    as a whole decode has them, the others opaque or whole; the same verbatim encodes, also
    of records marked changed. A record that repeats a key makes the decode whole."""
    whole = outcome(decode, data)
    kept = outcome(decode, data, attribute_keys=keys, keep_other_attributes=True)
    if isinstance(whole, tuple):
        assert kept == whole
        return
    assert not isinstance(kept, tuple), kept
    if not kept.attributes_projected:
        assert own_attributes(kept) == own_attributes(whole)
        return
    assert kept.attributes_complete and kept.attribute_keys == frozenset(keys)
    tags = kept.column("attributes.tag").tolist()
    off = kept.column("attr_off")
    theirs = own_attributes(whole)
    keys_of = kept.column("attributes.key")
    for i in range(len(kept)):
        for k, (key, value) in zip(range(int(off[i]), int(off[i + 1])), theirs[i], strict=True):
            assert kept.string(int(keys_of[k])) == key
            if tags[k] == OPAQUE:
                assert key not in keys
            else:
                assert repr(kept.value(tags[k], int(kept.column("attributes.value")[k]))) == value
    assert kept.encode(verbatim=True) == whole.encode(verbatim=True)


@given(trace_requests)
def test_projected_spans_keep_their_keys_and_the_rest_whole(msg):
    check_projection(decode_traces, msg.SerializeToString())
    check_kept(decode_traces, msg.SerializeToString())


@given(log_requests)
def test_projected_logs_keep_their_keys_and_the_rest_whole(msg):
    check_projection(decode_logs, msg.SerializeToString())
    check_kept(decode_logs, msg.SerializeToString())


@given(mutated(trace_requests))
def test_projected_traces_refuse_what_whole_decodes_refuse(data):
    check_projection(decode_traces, data)
    check_kept(decode_traces, data)


@given(mutated(log_requests))
def test_projected_logs_refuse_what_whole_decodes_refuse(data):
    check_projection(decode_logs, data)
    check_kept(decode_logs, data)


@given(st.binary(max_size=64))
def test_projected_arbitrary_bytes_as_whole_decodes(data):
    for decode in (decode_traces, decode_logs):
        check_projection(decode, data)
        check_kept(decode, data)


def _one_span(*attributes: tuple[str, bytes]) -> bytes:
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
        ExportTraceServiceRequest,
    )
    req = ExportTraceServiceRequest()
    span = req.resource_spans.add().scope_spans.add().spans.add(name="s")
    for key, value in attributes:
        span.attributes.add(key=key).value.string_value = value.decode("utf-8")
    return req.SerializeToString()


def test_invalid_utf8_in_a_dropped_value_is_refused_as_a_whole_decode_refuses_it():
    data = _one_span(("http.method", b"GET"), ("user_agent", b"curl/8"))
    bad = data.replace(b"curl/8", b"curl\xff8")
    with pytest.raises(OtlpDecodeError) as whole:
        decode_traces(bad)
    with pytest.raises(OtlpDecodeError) as projected:
        decode_traces(bad, attribute_keys=["http.method"])
    assert (projected.value.reason, projected.value.offset, projected.value.path) == \
        (whole.value.reason, whole.value.offset, whole.value.path)
    assert "UTF-8" in projected.value.reason


def test_a_long_dropped_value_meets_the_string_limit_as_a_whole_decode_does():
    data = _one_span(("http.method", b"GET"), ("url", b"x" * 1100))
    with pytest.raises(OtlpDecodeError) as whole:
        decode_traces(data, max_string_length=1024)
    with pytest.raises(OtlpDecodeError) as projected:
        decode_traces(data, max_string_length=1024, attribute_keys=["http.method"])
    assert str(projected.value) == str(whole.value)


def test_a_projected_batch_does_only_what_a_filter_needs():
    batch = decode_traces(_one_span(("http.method", b"GET"), ("url", b"/x")),
                          attribute_keys=["http.method"])
    assert own_attributes(batch) == [[("http.method", repr({"string_value": "GET"}))]]
    for call in (batch.encode, batch.encode_json, batch.to_dict, lambda: list(batch.records())):
        with pytest.raises(ValueError, match="attribute_keys"):
            call()
    batch.encode(verbatim=True)  # allowed


def test_attribute_keys_are_checked():
    data = _one_span()
    with pytest.raises(TypeError, match="collection of str"):
        decode_traces(data, attribute_keys="http.method")
    with pytest.raises(TypeError, match="not a str"):
        decode_traces(data, attribute_keys=[b"http.method"])
    with pytest.raises(ValueError, match=f"at most {MAX_PROJECTED_KEYS}"):
        decode_traces(data, attribute_keys=[f"k{i}" for i in range(MAX_PROJECTED_KEYS + 1)])
    batch = decode_traces(data, attribute_keys=["a", "a", "b"])
    assert batch.attribute_keys == frozenset({"a", "b"})
    assert not decode_traces(data, attribute_keys=None).attributes_projected
