"""asv suite: a Python service's own spans through the SDK exporter wrapper
(``ottl.exporters.OttlSpanExporter``), beside a plain Python loop that applies the same filter
to the same ``ReadableSpan`` objects, and the SDK objects written as the official OTLP
exporter's bytes. Skipped where opentelemetry-sdk is not installed."""

from __future__ import annotations

from .engine import F1
from .otlp_data import sdk_spans


class SdkExporter:
    params = [10_000]
    param_names = ["spans"]

    def setup(self, n):
        try:
            from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult
        except ImportError:
            raise NotImplementedError("opentelemetry-sdk is not installed") from None
        from ottl import _sdk_wire
        from ottl.exporters import OttlSpanExporter

        class Sink(SpanExporter):
            def export(self, batch):
                return SpanExportResult.SUCCESS

        self.spans = sdk_spans(n)
        self.exporter = OttlSpanExporter(Sink(), conditions=[F1])
        self.encode = _sdk_wire.encode_spans

    def time_filter_export(self, n):
        self.exporter.export(self.spans)

    def time_plain_python_loop(self, n):
        [s for s in self.spans if not (s.attributes.get("http.status_code", 0) >= 500
                                       and s.attributes.get("http.method") == "POST")]

    def time_encode_spans(self, n):
        self.encode(self.spans)
