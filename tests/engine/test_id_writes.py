"""Setting a record's ids on the fast pipelines (ottl/id_writes.py, ottl._vm.set_ids): an id
path takes an id of its own type, a ``.string`` path parses hex of the id's width (failing
otherwise, for the error mode), nil and other types write nothing, an all-zero id clears the
field. Compared with the reference processors over generated batches whose attributes hold
ids in hex (both cases, every width), text that is not an id, and values of every kind.
"""

from __future__ import annotations

import random

import numpy as np
import pytest
from engine_strategies import SIGNALS, SeededValues, build_request, make_group, transform_agrees
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from ottl import _vm
from ottl.compiler.opcodes import FIELD_INDEX
from ottl.derive import NeedsReference
from ottl.pipeline import TransformPipeline

SLOW = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example]
HEX = ["0102030405060708090a0b0c0d0e0f10", "A1B2C3D4E5F60718A1B2C3D4E5F60718",
       "a1b2c3d4e5f60718", "0000000000000000", "00000000000000000000000000000000",
       "0102", "zz02030405060708", "", "not an id"]


def _request(signal: str, size: int, seed: int) -> bytes:
    """Generated records, each with an attribute "id" holding hex (of a trace or span id, or
    not an id at all) or another kind of value, or none."""
    rng = random.Random(seed)
    req = build_request(signal, size, SeededValues(rng), rng)
    groups = req.resource_spans if signal == "traces" else req.resource_logs
    for group in groups:
        for scope in (group.scope_spans if signal == "traces" else group.scope_logs):
            for record in (scope.spans if signal == "traces" else scope.log_records):
                pick = rng.random()
                if pick < 0.7:
                    record.attributes.add(key="id").value.string_value = rng.choice(HEX)
                elif pick < 0.85:
                    record.attributes.add(key="id").value.int_value = 7
    return req.SerializeToString()


def _statements(context: str) -> list[str]:
    ids = ["trace_id", "span_id"] + (["parent_span_id"] if context == "span" else [])
    out = []
    for name in ids:
        out += [f'set({context}.{name}.string, {context}.attributes["id"])',
                f"set({context}.{name}.string, {context}.{name}.string)"]
    out += [f"set({context}.trace_id, TraceID(0x0102030405060708090a0b0c0d0e0f10))",
            f"set({context}.span_id, SpanID(0x0000000000000000))",
            f"set({context}.trace_id, SpanID(0x0102030405060708))",  # the wrong type: no write
            f"set({context}.span_id.string, nil)",
            f'set({context}.trace_id, TraceID({context}.attributes["id"]))']
    if context == "span":
        out += ["set(span.span_id, span.parent_span_id)", "set(span.parent_span_id, span.span_id)"]
    return out


@pytest.mark.parametrize("signal", ["traces", "logs"])
@pytest.mark.parametrize("size", [1, 7, 300])
def test_id_writes_equal_the_reference(signal, size):
    context = "span" if signal == "traces" else "log"

    @settings(max_examples=30 if size < 100 else 8, deadline=None, suppress_health_check=SLOW)
    @given(seed=st.integers(0, 2**32 - 1),
           texts=st.lists(st.sampled_from(_statements(context)), min_size=1, max_size=3),
           where=st.sampled_from(["", f' where {context}.attributes["id"] != nil',
                                  f" where {context}.dropped_attributes_count > 1"]),
           mode=st.sampled_from(["propagate", "ignore", "silent"]))
    def run(seed, texts, where, mode):
        texts = [t + where for t in texts] + [
            f'set({context}.attributes["after"], {context}.trace_id.string)']
        group = make_group("statements", signal, context, texts, mode)
        assert TransformPipeline([group]).native
        transform_agrees(signal, _request(signal, size, seed), [group])

    run()


def test_only_records_whose_id_changed_are_re_encoded():
    data = _request("traces", 60, seed=4)
    batch = SIGNALS["traces"][5](data)
    before = batch.column("trace_id").copy()
    group = make_group("statements", "traces", "span",
                       ['set(span.trace_id.string, span.attributes["id"])'], "silent")
    TransformPipeline([group]).execute(batch)
    changed = (batch.column("trace_id") != before).any(axis=1) if before.ndim > 1 else None
    dirty = _vm.dirty_records(batch)
    assert dirty.any() and not dirty.all()
    if changed is not None:
        np.testing.assert_array_equal(dirty, changed)
    out = ExportTraceServiceRequest.FromString(batch.encode(verbatim=True))
    spans = [s for rs in out.resource_spans for ss in rs.scope_spans for s in ss.spans]
    given_ = [s for rs in ExportTraceServiceRequest.FromString(data).resource_spans
              for ss in rs.scope_spans for s in ss.spans]
    for was, now, marked in zip(given_, spans, dirty.tolist()):
        if not marked:
            assert now.SerializeToString() == was.SerializeToString()


def test_an_unusual_id_length_hands_the_batch_to_the_reference():
    req = ExportTraceServiceRequest()
    ss = req.resource_spans.add().scope_spans.add()
    ss.spans.add(name="a", trace_id=bytes(range(16)))
    ss.spans.add(name="b", trace_id=b"\x01\x02\x03")
    group = make_group("statements", "traces", "span",
                       ['set(span.span_id, SpanID(0x0102030405060708))'])
    with pytest.raises(NeedsReference, match="unusual length"):
        TransformPipeline([group]).execute(SIGNALS["traces"][5](req.SerializeToString()))


def test_set_ids_checks_its_arguments():
    batch = SIGNALS["traces"][5](_request("traces", 5, seed=1))
    field = FIELD_INDEX["SPAN_TRACE_ID"]
    with pytest.raises(ValueError, match="bytes of ids"):
        _vm.set_ids(batch, field, [0], bytes(8))
    with pytest.raises(ValueError, match="not an id"):
        _vm.set_ids(batch, FIELD_INDEX["LOG_TRACE_ID"], [0], bytes(16))
    with pytest.raises(ValueError, match="not an id"):
        _vm.set_ids(batch, FIELD_INDEX["SPAN_NAME"], [0], bytes(8))
    with pytest.raises(ValueError, match="out of range"):
        _vm.set_ids(batch, field, [1, 0], bytes(32))
    with pytest.raises(ValueError, match="out of range"):
        _vm.set_ids(batch, field, [5], bytes(16))
    _vm.set_ids(batch, field, [1], bytes(range(16)))
    assert bytes(batch.column("trace_id")[1]) == bytes(range(16))
    _vm.set_ids(batch, field, [1], bytes(16))  # all zeros: cleared, left out of OTLP
    out = ExportTraceServiceRequest.FromString(batch.encode())
    spans = [s for rs in out.resource_spans for ss in rs.scope_spans for s in ss.spans]
    assert spans[1].trace_id == b""
