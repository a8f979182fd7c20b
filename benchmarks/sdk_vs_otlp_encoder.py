"""OpenTelemetry SDK objects into a batch, beside the official OTLP encoder, measured in one run.

Makes realistic spans and log records with the real SDK (TracerProvider / LoggerProvider with
in-memory exporters, seeded ids): HTTP server spans with client and database children (~10
attributes each, events on some, links on a few, errors on some), three instrumentation
scopes, one resource; log records with ~6 attributes, string and map bodies, trace context.
Then times, interleaved round-robin so every ratio is a same-run ratio:

  official: encode_spans(spans).SerializeToString()   (opentelemetry-exporter-otlp-proto-common)
  ours:     ottl.sdk.spans_to_protobuf(spans)          (the same bytes, written by _sdk_wire)
            ottl.sdk.spans_to_batch(spans)             (those bytes decoded into a SpanBatch)

and the same for logs, and prints medians with the ratios. The garbage collector is off while
timing unless --gc is given (with it on, collections set off by whatever allocates walk the
SDK objects too, which adds noise to both sides). A benchmark, not a test.

    python benchmarks/sdk_vs_otlp_encoder.py [--spans 10000] [--logs 10000] [--repeat 15] [--gc]
"""

from __future__ import annotations

import argparse
import gc
import random
import statistics
import time
from typing import Any

from opentelemetry._logs import SeverityNumber
from opentelemetry.exporter.otlp.proto.common._log_encoder import encode_logs
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Link, SpanKind, Status, StatusCode, set_span_in_context

from ottl.sdk import logs_to_batch, logs_to_protobuf, spans_to_batch, spans_to_protobuf

_ROUTES = [f"/api/v1/{r}/{{id}}" for r in ("users", "orders", "carts", "items", "payments")]
_METHODS = ["GET", "GET", "POST", "PUT", "DELETE"]
_RESOURCE = Resource.create({
    "service.name": "checkout",
    "service.namespace": "shop",
    "service.version": "1.4.2",
    "deployment.environment": "production",
    "host.name": "ip-10-0-3-17.ec2.internal",
})


def make_spans(n: int, seed: int = 1) -> list:
    random.seed(seed)  # the SDK's id generator draws from `random`
    rng = random.Random(seed)
    exporter = InMemorySpanExporter()
    provider = TracerProvider(resource=_RESOURCE)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    http = provider.get_tracer("opentelemetry.instrumentation.flask", "0.48b0")
    client = provider.get_tracer("opentelemetry.instrumentation.requests", "0.48b0")
    db = provider.get_tracer("opentelemetry.instrumentation.psycopg", "0.48b0",
                             schema_url="https://opentelemetry.io/schemas/1.24.0")
    t = 1_700_000_000_000_000_000
    made = 0
    prev = None
    while made < n:
        method, route = rng.choice(_METHODS), rng.choice(_ROUTES)
        t += rng.randrange(10**6, 10**8)
        links: list[Link] = [Link(prev, {"link.kind": "follows"})] if prev is not None and rng.random() < 0.1 else []
        root = http.start_span(f"{method} {route}", kind=SpanKind.SERVER, start_time=t, links=links,
                               attributes={
                                   "http.request.method": method,
                                   "http.route": route,
                                   "url.path": route.replace("{id}", str(rng.randrange(10**6))),
                                   "url.scheme": "https",
                                   "server.address": "shop.example.com",
                                   "server.port": 443,
                                   "client.address": f"10.0.{rng.randrange(255)}.{rng.randrange(255)}",
                                   "user_agent.original": "Mozilla/5.0 (X11; Linux x86_64) Firefox/124.0",
                                   "network.protocol.version": "1.1",
                                   "http.response.status_code": rng.choice([200, 200, 200, 201, 404, 500]),
                               })
        prev = root.get_span_context()
        ctx = set_span_in_context(root)
        made += 1
        for _ in range(min(2, n - made)):
            kind = rng.random()
            t += rng.randrange(10**5, 10**7)
            if kind < 0.5:
                child = client.start_span("GET", context=ctx, kind=SpanKind.CLIENT, start_time=t,
                                          attributes={
                                              "http.request.method": "GET",
                                              "url.full": f"http://inventory:8080/items/{rng.randrange(10**5)}",
                                              "server.address": "inventory",
                                              "server.port": 8080,
                                              "http.response.status_code": 200,
                                              "http.request.resend_count": 0,
                                              "network.peer.address": "10.0.8.3",
                                              "retry.delays": [0.1, 0.2],
                                          })
            else:
                child = db.start_span("SELECT shop.orders", context=ctx, kind=SpanKind.CLIENT,
                                      start_time=t, attributes={
                                          "db.system.name": "postgresql",
                                          "db.namespace": "shop",
                                          "db.collection.name": "orders",
                                          "db.operation.name": "SELECT",
                                          "db.query.text": "SELECT * FROM orders WHERE id = $1",
                                          "server.address": "db-primary",
                                          "server.port": 5432,
                                          "db.response.returned_rows": rng.randrange(100),
                                      })
            if rng.random() < 0.2:
                child.add_event("retry", {"attempt": 1, "backoff.ms": 12.5}, timestamp=t + 10)
            t += rng.randrange(10**5, 10**7)
            child.end(end_time=t)
            made += 1
        if rng.random() < 0.05:
            root.set_status(Status(StatusCode.ERROR, "upstream failed"))
            root.add_event("exception", {"exception.type": "TimeoutError",
                                         "exception.message": "read timed out",
                                         "exception.escaped": False}, timestamp=t)
        t += rng.randrange(10**5, 10**6)
        root.end(end_time=t)
    return list(exporter.get_finished_spans())


def make_logs(n: int, seed: int = 2) -> list:
    rng = random.Random(seed)
    exporter = InMemoryLogRecordExporter()
    provider = LoggerProvider(resource=_RESOURCE)
    provider.add_log_record_processor(SimpleLogRecordProcessor(exporter))
    loggers = [provider.get_logger("checkout.api", "1.4.2"), provider.get_logger("checkout.db")]
    tracer = TracerProvider(resource=_RESOURCE).get_tracer("t")
    t = 1_700_000_000_000_000_000
    for i in range(n):
        t += rng.randrange(10**5, 10**8)
        span = tracer.start_span("s")
        body: Any = (f"order {rng.randrange(10**6)} placed by user {rng.randrange(10**4)}"
                if rng.random() < 0.8 else {"event": "payment", "amount": rng.random() * 100,
                                            "items": [rng.randrange(100) for _ in range(3)]})
        rng.choice(loggers).emit(
            timestamp=t, observed_timestamp=t + 1000, context=set_span_in_context(span),
            severity_number=SeverityNumber.INFO if i % 10 else SeverityNumber.ERROR,
            severity_text="INFO" if i % 10 else "ERROR", body=body,
            attributes={"code.function.name": "place_order", "code.file.path": "checkout/api.py",
                        "code.line.number": 120 + i % 40, "thread.name": "MainThread",
                        "user.id": rng.randrange(10**4), "retry": False})
    return list(exporter.get_finished_logs())


def run(cases: dict, repeat: int, keep_gc: bool) -> dict:
    times: dict[str, list[float]] = {k: [] for k in cases}
    for fn in cases.values():  # warm up
        fn()
    gc.collect()
    if not keep_gc:
        gc.disable()
    try:
        for _ in range(repeat):
            for name, fn in cases.items():
                t = time.perf_counter()
                fn()
                times[name].append(time.perf_counter() - t)
    finally:
        gc.enable()
    return {k: statistics.median(v) for k, v in times.items()}


def report(title: str, n: int, med: dict, base: str) -> None:
    print(f"\n{title:44s} {'ms':>8s} {'records/s':>12s} {'vs official':>12s}")
    for name, t in med.items():
        print(f"{name:44s} {t * 1e3:8.2f} {n / t:12,.0f} {med[base] / t:11.2f}x")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--spans", type=int, default=10_000)
    ap.add_argument("--logs", type=int, default=10_000)
    ap.add_argument("--repeat", type=int, default=15)
    ap.add_argument("--gc", action="store_true",
                    help="leave the garbage collector on while timing (off by default)")
    args = ap.parse_args()

    spans = make_spans(args.spans)
    official = encode_spans(spans).SerializeToString()
    assert spans_to_protobuf(spans) == official, "not the official encoder's bytes"
    print(f"{len(spans)} SDK spans, {len(official)} bytes ({len(official) / len(spans):.0f} B/span); "
          f"medians of {args.repeat} interleaved runs, garbage collector {'on' if args.gc else 'off'}")
    span_med = run({
        "official encode_spans().SerializeToString()": lambda: encode_spans(spans).SerializeToString(),
        "ours spans_to_protobuf() (same bytes)": lambda: spans_to_protobuf(spans),
        "ours spans_to_batch() (bytes + decode)": lambda: spans_to_batch(spans),
    }, args.repeat, args.gc)
    report("spans", len(spans), span_med, "official encode_spans().SerializeToString()")

    if args.logs:
        logs = make_logs(args.logs)
        official = encode_logs(logs).SerializeToString()
        assert logs_to_protobuf(logs) == official, "not the official encoder's bytes"
        print(f"\n{len(logs)} SDK log records, {len(official)} bytes "
              f"({len(official) / len(logs):.0f} B/record)")
        log_med = run({
            "official encode_logs().SerializeToString()": lambda: encode_logs(logs).SerializeToString(),
            "ours logs_to_protobuf() (same bytes)": lambda: logs_to_protobuf(logs),
            "ours logs_to_batch() (bytes + decode)": lambda: logs_to_batch(logs),
        }, args.repeat, args.gc)
        report("logs", len(logs), log_med, "official encode_logs().SerializeToString()")


if __name__ == "__main__":
    main()
