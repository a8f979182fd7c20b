"""The columns of a table start at staggered offsets into their blocks (csrc/otlp_batch.c,
ottl_grow_cols): rows are written and read across every column in lockstep, and blocks from mmap
all begin at the same place in a page, so unstaggered same-width columns share L1 cache sets
and evict each other on every row. The offset is kept in the eight bytes before each column
(where ottl_col_free finds it); these tests read it there."""

from __future__ import annotations

import ctypes

import numpy as np
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
)

from ottl._batch import decode_traces

# The span table's own columns.
_SPAN_COLUMNS = [
    "scope", "resource", "trace_id", "span_id", "parent_span_id", "present", "trace_state",
    "name", "status_message", "flags", "kind", "status_code", "start_time_unix_nano",
    "end_time_unix_nano", "dropped_attributes_count", "dropped_events_count",
    "dropped_links_count", "attr_off", "event_off", "link_off", "byte_start", "byte_end",
    "attrs_at", "attrs_end",
]
# An attribute pool's (the record pool comes out of column() as a copy, this one as a view).
_POOL_COLUMNS = ["resources.attributes.key", "resources.attributes.tag",
                 "resources.attributes.value"]


def _request(n: int) -> bytes:
    req = ExportTraceServiceRequest()
    rs = req.resource_spans.add()
    rs.resource.attributes.add(key="service.name").value.string_value = "svc"
    ss = rs.scope_spans.add()
    for i in range(n):
        span = ss.spans.add(name=f"op{i % 7}", trace_id=bytes(16), span_id=bytes(8),
                            start_time_unix_nano=i + 1)
        span.attributes.add(key="k").value.int_value = i
    return req.SerializeToString()


def _offset_into_block(batch, name: str) -> int:
    address = np.asarray(batch.column(name)).ctypes.data
    return ctypes.c_size_t.from_address(address - ctypes.sizeof(ctypes.c_size_t)).value


def test_columns_of_one_table_start_on_distinct_cache_lines():
    for n in (1, 300, 20_000):  # small blocks from the heap, large ones from mmap
        batch = decode_traces(_request(n))
        offsets = [_offset_into_block(batch, name) for name in _SPAN_COLUMNS]
        assert all(off % 64 == 16 for off in offsets), offsets
        assert len(set(offsets)) == len(offsets), offsets
        pool = [_offset_into_block(batch, name) for name in _POOL_COLUMNS]
        assert len(set(pool)) == len(pool), pool


def test_columns_survive_growth_with_their_offsets():
    # Decoding grows the tables by doubling from a small presize when records are tiny; the
    # values and the offsets must both come through the reallocations.
    data = _request(5_000)
    batch = decode_traces(data)
    assert len(batch) == 5_000
    assert np.array_equal(np.asarray(batch.column("start_time_unix_nano")),
                          np.arange(1, 5_001, dtype=np.uint64))
    assert ExportTraceServiceRequest.FromString(batch.encode()) == \
        ExportTraceServiceRequest.FromString(data)
    offsets = [_offset_into_block(batch, name) for name in _SPAN_COLUMNS]
    assert len(set(offsets)) == len(offsets)
