"""encode() writes into the bytes object it returned last once nobody else holds it (warm pages
instead of fresh ones): an output the caller still holds must never change, and a rewritten one
must be a sound bytes object (its length, its hash)."""

from __future__ import annotations

import random
import sys

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from ottl._batch import _forget_spare_output, decode_traces


def _request(n: int, seed: int) -> bytes:
    rng = random.Random(seed)
    req = ExportTraceServiceRequest()
    ss = req.resource_spans.add().scope_spans.add()
    for i in range(n):
        span = ss.spans.add(name=f"op{rng.randrange(50)}", start_time_unix_nano=i + 1)
        span.attributes.add(key="u").value.string_value = "x" * rng.randrange(40)
    return req.SerializeToString()


def _reuse_expected() -> bool:
    # The free-threaded build allocates every output afresh (csrc/py_outbuf.h).
    return getattr(sys, "_is_gil_enabled", lambda: True)()


def test_an_output_the_caller_holds_never_changes():
    held = []
    for seed in range(12):
        data = _request(200 + 37 * seed, seed)
        for verbatim in (False, True):
            out = decode_traces(data).encode(verbatim=verbatim)
            held.append((out, bytes(bytearray(out)), data))
    for out, copy, data in held:
        assert out == copy
        assert ExportTraceServiceRequest.FromString(out) == ExportTraceServiceRequest.FromString(data)


def test_a_released_output_is_rewritten_soundly():
    # A larger spare left by an earlier test would be kept in preference to these outputs.
    _forget_spare_output()
    reused = 0
    for seed in range(40):
        # Sizes within the reuse range of each other, contents different.
        data, other = _request(300 + seed % 5 * 20, seed), _request(310, seed + 1000)
        out = decode_traces(other).encode(verbatim=seed % 2 == 0)
        hash(out)  # cache a hash, which a rewrite must forget
        before = id(out)
        del out
        again = decode_traces(data).encode()
        reused += id(again) == before
        fresh = bytes(bytearray(again))
        assert len(again) == len(fresh) and again == fresh
        assert hash(again) == hash(fresh)
        assert ExportTraceServiceRequest.FromString(again) == ExportTraceServiceRequest.FromString(data)
        del again
    if _reuse_expected():
        assert reused > 0, "encode() never wrote into a released output"


def test_a_short_output_after_a_long_one_gets_its_own_block():
    big = decode_traces(_request(3000, 1)).encode()
    big_id = id(big)
    del big  # the module still holds it, so no other object can take its address
    small_data = _request(5, 2)
    small = decode_traces(small_data).encode()
    # Not a mostly empty block of a hundred kilobytes behind a short output.
    assert id(small) != big_id
    assert ExportTraceServiceRequest.FromString(small) == ExportTraceServiceRequest.FromString(small_data)
