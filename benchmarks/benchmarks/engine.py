"""asv suites: the fast engine (compiled conditions and statements on the VM) end to end and on
decoded columns. ``track_*`` report spans per second, so the dashboard shows them against the
original plan's 300k spans/s."""

from __future__ import annotations

import time

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from ottl._batch import decode_traces
from ottl.config import Group, Located
from ottl.engine import compile_condition
from ottl.pipeline import FilterPipeline, TransformPipeline

from .otlp_data import trace_request

F1 = 'span.attributes["http.status_code"] >= 500 and span.attributes["http.method"] == "POST"'
F2 = ('span.name == "GET /api/v1/sessions/{id}" or '
      '(span.end_time_unix_nano - span.start_time_unix_nano) > 10000000')
TRANSFORM = [
    'set(span.attributes["deployment.environment"], "prod")',
    'delete_key(span.attributes, "http.user_agent")',
    'set(span.status.code, STATUS_CODE_ERROR) where span.attributes["http.status_code"] >= 500',
]
# A spanevent group: on the VM as a log statement over the events (ottl/events_native.py).
EVENT_TRANSFORM = ['set(attributes["exception.message"], "redacted") where name == "exception"']


def _group(kind: str, texts: list[str], context: str = "span") -> Group:
    processor = "filter" if kind == "conditions" else "transform"
    return Group(processor, "traces", kind, [Located(t) for t in texts], context, "propagate",
                 [], "asv", 0)


def _rate(fn, n: int, repeat: int = 5) -> float:
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return n / best


class BatchFilter:
    """Conditions on decoded columns (attribute columns gathered once per batch)."""

    params = [10_000, 100_000]
    param_names = ["spans"]

    def setup(self, n):
        unit = trace_request(10_000, n_resources=20).SerializeToString()
        self.batch = decode_traces(unit * max(1, n // 10_000))
        self.f1 = compile_condition(F1, "span")
        self.f2 = compile_condition(F2, "span")
        self.f1.filter(self.batch)
        self.f2.filter(self.batch)

    def time_filter_f1(self, n):
        self.f1.filter(self.batch)

    def time_filter_f2(self, n):
        self.f2.filter(self.batch)

    def track_filter_f1_spans_per_second(self, n):
        return _rate(lambda: self.f1.filter(self.batch), len(self.batch))

    track_filter_f1_spans_per_second.unit = "spans/s"


class EndToEnd:
    """OTLP bytes in, filter or transform, OTLP bytes out."""

    params = [10_000]
    param_names = ["spans"]

    def setup(self, n):
        self.data = trace_request(n, n_resources=max(1, n // 500)).SerializeToString()
        self.filter = FilterPipeline([_group("conditions", [F1])])
        self.transform = TransformPipeline([_group("statements", TRANSFORM)])
        self.with_events = TransformPipeline([_group("statements", TRANSFORM),
                                              _group("statements", EVENT_TRANSFORM, "spanevent")])

    def _filter(self):
        # Decodes only the attribute keys F1 reads (FilterPipeline.attribute_keys).
        return self.filter.filter_otlp(self.data)

    def _filter_whole_decode(self):
        b = decode_traces(self.data)
        return b.encode(self.filter.keep(b), verbatim=True)

    def _transform(self):
        # Decodes only the attribute values the statements touch (attribute_keys).
        return self.transform.transform_otlp(self.data)

    def _transform_whole_decode(self):
        b = decode_traces(self.data)
        self.transform.execute(b)
        return b.encode(verbatim=True)

    def time_filter_bytes_to_bytes(self, n):
        self._filter()

    def time_filter_bytes_to_bytes_whole_decode(self, n):
        self._filter_whole_decode()

    def time_transform_bytes_to_bytes(self, n):
        self._transform()

    def time_transform_bytes_to_bytes_whole_decode(self, n):
        self._transform_whole_decode()

    def time_transform_then_spanevent_group_bytes_to_bytes(self, n):
        self.with_events.transform_otlp(self.data)

    def time_protobuf_parse_serialize(self, n):
        ExportTraceServiceRequest.FromString(self.data).SerializeToString()

    def peakmem_transform_bytes_to_bytes(self, n):
        self._transform()

    def track_filter_spans_per_second(self, n):
        return _rate(self._filter, n)

    track_filter_spans_per_second.unit = "spans/s"

    def track_transform_spans_per_second(self, n):
        return _rate(self._transform, n)

    track_transform_spans_per_second.unit = "spans/s"


class Expressions:
    """Statements whose values the VM has no instruction for, computed as derived columns over
    whole columns (numpy arithmetic, keys followed through the value pool) or once per distinct
    value by the reference implementation (times, converters), on 10,000 decoded spans. The
    same statements on the reference evaluator take about a second each."""

    params = [10_000]
    param_names = ["spans"]
    STATEMENTS = {
        "double_arithmetic": 'set(span.attributes["ms"], (span.end_time_unix_nano - '
                             'span.start_time_unix_nano) / 1000000.0)',
        "converter_result_keys": 'set(span.attributes["first"], '
                                 'Split(span.attributes["http.route"], "/")[3])',
        "write_through_keys": 'set(span.attributes["http"]["route"], '
                              'span.attributes["http.route"])',
        "time_converter": 'set(span.attributes["dur"], '
                          'Milliseconds(span.end_time - span.start_time))',
        "whole_map": 'set(span.attributes["n"], Len(span.attributes))',
        "floored_time": 'set(span.attributes["day"], FormatTime(span.start_time, "%Y-%m-%d"))',
        "parent_write": 'set(resource.attributes["last.route"], span.attributes["http.route"])',
    }

    def setup(self, n):
        request = trace_request(n, n_resources=max(1, n // 500))
        self.batch = decode_traces(request.SerializeToString())
        self.pipelines = {name: TransformPipeline([_group("statements", [text])])
                          for name, text in self.STATEMENTS.items()}
        for p in self.pipelines.values():
            assert p.native, p.reasons

    def time_double_arithmetic(self, n):
        self.pipelines["double_arithmetic"].execute(self.batch)

    def time_converter_result_keys(self, n):
        self.pipelines["converter_result_keys"].execute(self.batch)

    def time_write_through_keys(self, n):
        self.pipelines["write_through_keys"].execute(self.batch)

    def time_time_converter(self, n):
        self.pipelines["time_converter"].execute(self.batch)

    def time_whole_map(self, n):
        self.pipelines["whole_map"].execute(self.batch)

    def time_floored_time(self, n):
        self.pipelines["floored_time"].execute(self.batch)

    def time_parent_write(self, n):
        self.pipelines["parent_write"].execute(self.batch)
