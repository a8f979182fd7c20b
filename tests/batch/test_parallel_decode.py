"""A decode on several threads (csrc/otlp_decode_parallel.c) builds exactly the batch, and
raises exactly the error, of a decode on one thread.

The payload is cut between resource groups into parts of at least DECODE_PART_MIN_BYTES; the
tests lower that bound (``_set_decode_part_min_bytes``) so that small generated requests are
cut too, into as many parts as they have groups.
"""

from __future__ import annotations

import sys
import threading
from pathlib import Path

import numpy as np
import pytest
from batch_strategies import ld, log_requests, trace_requests, vi
from hypothesis import given
from hypothesis import strategies as st
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from test_batch_errors import mutated

from ottl import limits
from ottl._batch import (
    OtlpDecodeError,
    _forget_spare_parts,
    _set_decode_part_min_bytes,
    decode_logs,
    decode_traces,
)

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks" / "benchmarks"))
from otlp_data import logs_request, trace_request  # noqa: E402


@pytest.fixture(autouse=True)
def small_parts():
    """Every resource group may start a part of its own."""
    _set_decode_part_min_bytes(1)
    yield
    _set_decode_part_min_bytes(0)


def _joined(requests, cls, field):
    """One request holding the resource groups of all of them, in order."""
    out = cls()
    for r in requests:
        getattr(out, field).extend(getattr(r, field))
    return out


many_trace_groups = st.lists(trace_requests, min_size=1, max_size=4).map(
    lambda rs: _joined(rs, ExportTraceServiceRequest, "resource_spans"))
many_log_groups = st.lists(log_requests, min_size=1, max_size=4).map(
    lambda rs: _joined(rs, ExportLogsServiceRequest, "resource_logs"))


def assert_same_batch(one, many):
    """Every column, everything else the decoder sets, and both encodings."""
    assert one.column_names() == many.column_names()
    for name in one.column_names():
        a, b = one.column(name), many.column(name)
        assert a.dtype == b.dtype and np.array_equal(a, b), name
    assert one._decoder_state() == many._decoder_state()
    assert one.encode(verbatim=True) == many.encode(verbatim=True)
    if not one.attributes_projected:
        assert repr(one.to_dict()) == repr(many.to_dict())  # NaN values too
        assert one.encode() == many.encode()


@given(many_trace_groups, st.integers(2, limits.MAX_DECODE_THREADS))
def test_spans_as_on_one_thread(req, threads):
    data = req.SerializeToString()
    assert_same_batch(decode_traces(data, threads=1), decode_traces(data, threads=threads))


@given(many_log_groups, st.integers(2, limits.MAX_DECODE_THREADS))
def test_logs_as_on_one_thread(req, threads):
    data = req.SerializeToString()
    assert_same_batch(decode_logs(data, threads=1), decode_logs(data, threads=threads))


@given(many_trace_groups, st.lists(st.sampled_from(["a", "k", "http.method", "s"]), max_size=3),
       st.booleans())
def test_projections_as_on_one_thread(req, keys, keep_others):
    data = req.SerializeToString()
    one = decode_traces(data, attribute_keys=keys, keep_other_attributes=keep_others, threads=1)
    many = decode_traces(data, attribute_keys=keys, keep_other_attributes=keep_others, threads=4)
    assert_same_batch(one, many)


def _outcome(decode, data, threads):
    try:
        batch = decode(data, threads=threads)
    except OtlpDecodeError as e:
        return ("error", str(e), e.offset, e.path)
    return ("batch", batch.encode(verbatim=True), batch._decoder_state())


@given(mutated(many_trace_groups), st.integers(2, limits.MAX_DECODE_THREADS))
def test_damaged_spans_fail_as_on_one_thread(data, threads):
    assert _outcome(decode_traces, data, 1) == _outcome(decode_traces, data, threads)


@given(mutated(many_log_groups))
def test_damaged_logs_fail_as_on_one_thread(data):
    assert _outcome(decode_logs, data, 1) == _outcome(decode_logs, data, 4)


def test_an_error_in_a_later_part_names_its_place_in_the_whole_request():
    req = trace_request(40, n_resources=4)
    req.resource_spans[3].scope_spans[0].spans[2].name = "\N{SNOWMAN}"
    data = bytearray(req.SerializeToString())
    bad = data.index("\N{SNOWMAN}".encode())
    data[bad] = 0xFF  # no longer UTF-8
    errors = []
    for threads in (1, 4):
        with pytest.raises(OtlpDecodeError) as e:
            decode_traces(bytes(data), threads=threads)
        errors.append((str(e.value), e.value.offset, e.value.path))
    assert errors[0] == errors[1]
    assert errors[0][1] == bad
    assert errors[0][2] == "resource_spans[3].scope_spans[0].spans[2].name"


def test_the_first_error_wins_when_several_parts_fail():
    req = trace_request(40, n_resources=4)
    req.resource_spans[1].scope_spans[0].spans[0].name = "\N{SNOWMAN}"
    req.resource_spans[3].scope_spans[0].spans[0].name = "\N{COMET}"
    data = bytearray(req.SerializeToString())
    data[data.index("\N{SNOWMAN}".encode())] = 0xFF
    data[data.index("\N{COMET}".encode())] = 0xFF
    with pytest.raises(OtlpDecodeError) as e:
        decode_traces(bytes(data), threads=4)
    assert e.value.path.startswith("resource_spans[1].")


def test_realistic_payloads_at_the_default_part_size():
    _set_decode_part_min_bytes(0)
    spans = trace_request(3000, n_resources=12).SerializeToString()
    logs = logs_request(8000, n_resources=12).SerializeToString()
    assert len(spans) > 2 * limits.DECODE_PART_MIN_BYTES
    assert len(logs) > 2 * limits.DECODE_PART_MIN_BYTES
    assert_same_batch(decode_traces(spans, threads=1), decode_traces(spans))
    assert_same_batch(decode_logs(logs, threads=1), decode_logs(logs, threads=2))


def test_a_top_level_it_cannot_cut_is_decoded_whole():
    req = trace_request(40, n_resources=4)
    # An unknown field between the groups: the request is decoded in one part.
    groups = [ld(1, g.SerializeToString()) for g in req.resource_spans]
    payload = groups[0] + vi(2, 5) + b"".join(groups[1:])
    one, many = decode_traces(payload, threads=1), decode_traces(payload, threads=4)
    assert_same_batch(one, many)
    assert many.unknown_field_count == 1


def test_unknown_fields_in_every_part_are_counted():
    req = trace_request(40, n_resources=4)
    # Field 9 of a ResourceSpans is unknown to the decoder: one in each group.
    payload = b"".join(ld(1, g.SerializeToString() + vi(9, 1)) for g in req.resource_spans)
    one, many = decode_traces(payload, threads=1), decode_traces(payload, threads=4)
    assert_same_batch(one, many)
    assert many.unknown_field_count == 4


def test_concurrent_decodes_share_the_kept_parts_safely():
    payloads = [trace_request(60 + 7 * i, n_resources=3 + i % 4, seed=i).SerializeToString()
                for i in range(6)]
    expected = [decode_traces(p, threads=1).encode() for p in payloads]
    failures = []

    def work(k):
        for round_ in range(20):
            i = (k + round_) % len(payloads)
            if decode_traces(payloads[i], threads=3).encode() != expected[i]:
                failures.append((k, i))

    workers = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert failures == []
    _forget_spare_parts()
    assert decode_traces(payloads[0], threads=3).encode() == expected[0]


@pytest.mark.parametrize("threads, error", [
    (0, ValueError), (limits.MAX_DECODE_THREADS + 1, ValueError), (-1, ValueError),
    (True, TypeError), (2.0, TypeError), ("2", TypeError),
])
def test_bad_thread_counts_are_refused(threads, error):
    with pytest.raises(error, match="threads"):
        decode_traces(b"", threads=threads)
