"""asv suites: the native OTLP codec beside the official protobuf classes (upb), on the same
bytes."""

from __future__ import annotations

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from ottl._batch import decode_logs, decode_traces

from .otlp_data import logs_request, trace_request


class Traces:
    params = [1_000, 10_000]
    param_names = ["spans"]

    def setup(self, n):
        self.msg = trace_request(n, n_resources=max(1, n // 500))
        self.data = self.msg.SerializeToString()
        self.batch = decode_traces(self.data)
        self.mask = [i % 2 == 0 for i in range(n)]

    def time_decode(self, n):
        decode_traces(self.data)

    def time_decode_one_thread(self, n):
        decode_traces(self.data, threads=1)

    def time_encode(self, n):
        self.batch.encode()

    def time_encode_verbatim(self, n):
        self.batch.encode(verbatim=True)

    def time_encode_half_masked(self, n):
        self.batch.encode(self.mask)

    def time_protobuf_parse(self, n):
        ExportTraceServiceRequest.FromString(self.data)

    def time_protobuf_serialize(self, n):
        self.msg.SerializeToString()

    def track_bytes_per_span(self, n):
        return len(self.data) / n


class Logs:
    params = [10_000]
    param_names = ["records"]

    def setup(self, n):
        self.msg = logs_request(n)
        self.data = self.msg.SerializeToString()
        self.batch = decode_logs(self.data)

    def time_decode(self, n):
        decode_logs(self.data)

    def time_encode(self, n):
        self.batch.encode()

    def time_protobuf_parse(self, n):
        ExportLogsServiceRequest.FromString(self.data)

    def time_protobuf_serialize(self, n):
        self.msg.SerializeToString()
