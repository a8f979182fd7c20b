"""Seeded, realistic OTLP requests for the codec benchmarks (append-only: change a data set and
its history in asv stops being comparable)."""

from __future__ import annotations

import random

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

_METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "GET"]
_ROUTES = [f"/api/v1/{r}/{{id}}" for r in ("users", "orders", "carts", "items", "payments",
                                             "sessions", "search", "recommendations")]


def _resource_attrs(res, i: int, rng: random.Random) -> None:
    for key, value in [
        ("service.name", f"service-{i % 20}"),
        ("service.namespace", "shop"),
        ("service.version", f"1.{i % 7}.{rng.randrange(30)}"),
        ("deployment.environment", "production"),
        ("host.name", f"ip-10-0-{i}-{rng.randrange(255)}.ec2.internal"),
        ("telemetry.sdk.language", "python"),
        ("telemetry.sdk.name", "opentelemetry"),
        ("telemetry.sdk.version", "1.27.0"),
    ]:
        res.attributes.add(key=key).value.string_value = value


def trace_request(n_spans: int = 10_000, n_resources: int = 20, seed: int = 1) -> ExportTraceServiceRequest:
    """About 10 attributes per span, resource and scope attributes, events on some spans,
    parent ids on 80%, status on 15%: a typical HTTP service's export."""
    rng = random.Random(seed)
    req = ExportTraceServiceRequest()
    per = n_spans // n_resources
    t0 = 1_700_000_000_000_000_000
    for r in range(n_resources):
        rs = req.resource_spans.add(schema_url="https://opentelemetry.io/schemas/1.24.0")
        _resource_attrs(rs.resource, r, rng)
        ss = rs.scope_spans.add()
        ss.scope.name = "opentelemetry.instrumentation.flask"
        ss.scope.version = "0.48b0"
        ss.scope.attributes.add(key="library.kind").value.string_value = "http"
        for s in range(per):
            route = rng.choice(_ROUTES)
            method = rng.choice(_METHODS)
            start = t0 + rng.randrange(10**12)
            span = ss.spans.add(
                trace_id=rng.randbytes(16), span_id=rng.randbytes(8),
                name=f"{method} {route}", kind=rng.choice([1, 2, 2, 3]),
                start_time_unix_nano=start,
                end_time_unix_nano=start + int(rng.lognormvariate(15, 1.5)),
            )
            if rng.random() < 0.8:
                span.parent_span_id = rng.randbytes(8)
            status = rng.choice([200] * 12 + [201, 204, 301, 400, 404, 500, 503])
            attrs = span.attributes
            attrs.add(key="http.method").value.string_value = method
            attrs.add(key="http.route").value.string_value = route
            attrs.add(key="http.url").value.string_value = (
                f"https://shop.example.com{route.replace('{id}', str(rng.randrange(10**6)))}")
            attrs.add(key="http.status_code").value.int_value = status
            attrs.add(key="http.scheme").value.string_value = "https"
            attrs.add(key="net.peer.name").value.string_value = f"10.1.{rng.randrange(4)}.{rng.randrange(255)}"
            attrs.add(key="net.peer.port").value.int_value = rng.randrange(30000, 60000)
            attrs.add(key="http.user_agent").value.string_value = rng.choice(
                ["Mozilla/5.0 (X11; Linux x86_64)", "curl/8.4.0", "python-requests/2.31.0"])
            attrs.add(key="http.request_content_length").value.int_value = rng.randrange(5000)
            attrs.add(key="sampled").value.bool_value = True
            if rng.random() < 0.15:
                span.status.code = 2 if status >= 500 else 1
                if status >= 500:
                    span.status.message = "upstream error"
            if rng.random() < 0.1:
                for _ in range(rng.randrange(1, 3)):
                    ev = span.events.add(name="exception", time_unix_nano=start + 1000)
                    ev.attributes.add(key="exception.type").value.string_value = "ValueError"
                    ev.attributes.add(key="exception.message").value.string_value = (
                        f"bad value {rng.randrange(1000)}")
    return req


def logs_request(n_records: int = 10_000, n_resources: int = 20, seed: int = 1) -> ExportLogsServiceRequest:
    rng = random.Random(seed)
    req = ExportLogsServiceRequest()
    per = n_records // n_resources
    t0 = 1_700_000_000_000_000_000
    for r in range(n_resources):
        rl = req.resource_logs.add()
        _resource_attrs(rl.resource, r, rng)
        sl = rl.scope_logs.add()
        sl.scope.name = "app.logger"
        for _ in range(per):
            sev = rng.choice([9, 9, 9, 13, 17, 5])
            rec = sl.log_records.add(
                time_unix_nano=t0 + rng.randrange(10**12), severity_number=sev,
                severity_text={5: "DEBUG", 9: "INFO", 13: "WARN", 17: "ERROR"}[sev],
                trace_id=rng.randbytes(16), span_id=rng.randbytes(8))
            rec.observed_time_unix_nano = rec.time_unix_nano + 1000
            rec.body.string_value = f"request {rng.randrange(10**6)} handled in {rng.randrange(500)} ms"
            rec.attributes.add(key="logger").value.string_value = "app.http"
            rec.attributes.add(key="thread.id").value.int_value = rng.randrange(64)
            rec.attributes.add(key="code.function").value.string_value = rng.choice(
                ["handle", "dispatch", "render", "commit"])
    return req


def sdk_spans(n_spans: int = 10_000, seed: int = 3) -> list:
    """``n_spans`` OpenTelemetry SDK ``ReadableSpan`` objects of one service (one resource, one
    instrumentation scope), five attributes each: what an in-process exporter is handed.
    Needs opentelemetry-sdk."""
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import ReadableSpan
    from opentelemetry.sdk.util.instrumentation import InstrumentationScope
    from opentelemetry.trace import SpanContext, SpanKind, TraceFlags

    rng = random.Random(seed)
    resource = Resource({"service.name": "checkout", "host.name": "ip-10-0-0-1"})
    scope = InstrumentationScope("opentelemetry.instrumentation.flask", "0.48b0")
    methods = ["GET", "POST", "PUT", "DELETE", "PATCH"]
    spans = []
    for i in range(n_spans):
        ctx = SpanContext(rng.getrandbits(128) or 1, rng.getrandbits(64) or 1, False,
                          TraceFlags(1))
        attrs = {"http.method": rng.choice(methods), "http.route": f"/api/v1/r{i % 20}",
                 "http.status_code": rng.choice([200, 200, 200, 201, 404, 500, 503]),
                 "net.peer.port": rng.randrange(1024, 65535), "sampled": True}
        spans.append(ReadableSpan(name=f"GET /api/v1/r{i % 20}", context=ctx,
                                  kind=SpanKind.SERVER, attributes=attrs, resource=resource,
                                  instrumentation_scope=scope, start_time=i, end_time=i + 1000))
    return spans
