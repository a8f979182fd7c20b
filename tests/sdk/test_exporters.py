"""ottl.exporters: an SDK service's spans and logs through OTTL before export."""

from __future__ import annotations

import pytest

pytest.importorskip("opentelemetry.sdk", reason="the sdk extra is not installed")

from opentelemetry._logs import SeverityNumber  # noqa: E402
from opentelemetry.sdk._logs import LoggerProvider  # noqa: E402
from opentelemetry.sdk._logs.export import (  # noqa: E402
    InMemoryLogRecordExporter,
    SimpleLogRecordProcessor,
)
from opentelemetry.sdk.metrics import MeterProvider  # noqa: E402
from opentelemetry.sdk.metrics.export import InMemoryMetricReader  # noqa: E402
from opentelemetry.sdk.trace import TracerProvider  # noqa: E402
from opentelemetry.sdk.trace.export import SimpleSpanProcessor  # noqa: E402
from opentelemetry.sdk.trace.export.in_memory_span_exporter import (  # noqa: E402
    InMemorySpanExporter,
)

from ottl.exporters import OttlLogExporter, OttlSpanExporter  # noqa: E402

CONFIG = """
processors:
  transform:
    trace_statements:
      - context: span
        statements:
          - set(span.attributes["env"], "prod") where span.name == "b"
          - delete_key(span.attributes, "secret")
  filter:
    traces:
      span:
        - span.name == "drop"
"""


def spans_through(exporter_factory, names):
    mem = InMemorySpanExporter()
    exp = exporter_factory(mem)
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exp))
    tracer = provider.get_tracer("test")
    for name in names:
        with tracer.start_as_current_span(name) as span:
            span.set_attribute("secret", "s")
            span.set_attribute("n", 1)
    return exp, mem.get_finished_spans()


def test_transform_then_filter_from_a_collector_config():
    exp, spans = spans_through(lambda m: OttlSpanExporter(m, config=CONFIG),
                               ["a", "b", "drop", "c"])
    assert exp.native
    assert [s.name for s in spans] == ["a", "b", "c"]
    assert [dict(s.attributes) for s in spans] == [{"n": 1}, {"n": 1, "env": "prod"}, {"n": 1}]
    stats = exp.stats()
    assert (stats.records_in, stats.records_out, stats.dropped) == (4, 3, 1)


def test_unchanged_spans_are_the_original_objects():
    mem = InMemorySpanExporter()
    exp = OttlSpanExporter(mem, statements=['set(span.attributes["x"], 1) where span.name == "b"'])
    provider = TracerProvider()
    tracer = provider.get_tracer("t")
    made = []
    for name in ("a", "b"):
        with tracer.start_as_current_span(name) as span:
            made.append(span)
    exp.export(made)
    out = mem.get_finished_spans()
    assert out[0] is made[0]
    assert out[1] is not made[1] and dict(out[1].attributes) == {"x": 1}
    assert out[1].context.span_id == made[1].context.span_id


def test_a_configuration_the_vm_cannot_run_goes_through_the_reference_evaluator():
    statements = ['append(span.attributes["shout"], Concat([span.name, "!"], ""))']
    exp, spans = spans_through(lambda m: OttlSpanExporter(m, statements=statements), ["a", "b"])
    assert not exp.native
    assert [tuple(s.attributes["shout"]) for s in spans] == [("a!",), ("b!",)]


def test_a_resource_group_runs_natively_and_its_spans_carry_the_new_resource():
    config = """
processors:
  transform:
    trace_statements:
      - context: resource
        statements:
          - set(attributes["deployment.environment"], "prod")
"""
    # no statement changes the spans themselves: their objects are rebuilt for the resource
    exp, spans = spans_through(lambda m: OttlSpanExporter(m, config=config), ["a", "b"])
    assert exp.native
    assert [s.resource.attributes["deployment.environment"] for s in spans] == ["prod", "prod"]
    assert [dict(s.attributes) for s in spans] == [{"secret": "s", "n": 1}] * 2


def test_span_event_groups_run_natively_and_only_spans_with_changed_events_are_rebuilt():
    config = """
processors:
  transform:
    trace_statements:
      - context: spanevent
        statements:
          - set(attributes["exception.message"], "redacted") where name == "exception"
  filter:
    traces:
      spanevent:
        - name == "debug"
"""
    mem = InMemorySpanExporter()
    exp = OttlSpanExporter(mem, config=config)
    tracer = TracerProvider().get_tracer("t")
    made = []
    for name, events in (("plain", []), ("failed", ["exception", "debug"]), ("noisy", ["debug"]),
                         ("kept", ["retry"])):
        with tracer.start_as_current_span(name) as span:
            for event in events:
                span.add_event(event, {"exception.message": "secret"})
            made.append(span)
    exp.export(made)
    assert exp.native
    out = {s.name: s for s in mem.get_finished_spans()}
    assert out["plain"] is made[0] and out["kept"] is made[3]  # nothing of theirs changed
    assert [(e.name, dict(e.attributes)) for e in out["failed"].events] == [
        ("exception", {"exception.message": "redacted"})]
    assert list(out["noisy"].events) == []
    assert out["failed"].context.span_id == made[1].context.span_id


def test_failing_values_in_ignore_mode_are_counted_natively():
    statements = ['set(span.attributes["short"], Substring(span.name, 1, 2))']
    exp, spans = spans_through(
        lambda m: OttlSpanExporter(m, statements=statements, error_mode="ignore"),
        ["a", "long name"])
    assert exp.native
    assert [s.attributes.get("short") for s in spans] == [None, "on"]
    assert exp.stats().statement_errors == 1


def test_metrics_reach_the_meter_provider():
    reader = InMemoryMetricReader()
    provider = MeterProvider(metric_readers=[reader])
    spans_through(lambda m: OttlSpanExporter(m, conditions=['span.name == "x"'],
                                             meter_provider=provider), ["x", "y", "x"])
    got = {}
    for rm in reader.get_metrics_data().resource_metrics:
        for sm in rm.scope_metrics:
            for metric in sm.metrics:
                points = list(metric.data.data_points)
                got[metric.name] = sum(getattr(p, "value", getattr(p, "count", 0)) for p in points)
    assert got["ottl.records.in"] == 3
    assert got["ottl.records.out"] == 1
    assert got["ottl.records.dropped"] == 2
    assert got["ottl.batch.duration"] == 3  # one histogram point per export


def test_propagate_errors_fail_the_export_and_ignore_goes_on():
    bad = ['set(span.attributes["n"], span.attributes["missing"] * 2)']
    exp, spans = spans_through(lambda m: OttlSpanExporter(m, statements=bad), ["a"])
    assert spans == ()
    exp, spans = spans_through(lambda m: OttlSpanExporter(m, statements=bad, error_mode="ignore"),
                               ["a"])
    assert [s.name for s in spans] == ["a"]
    assert exp.stats().statement_errors == 1


def test_logs():
    mem = InMemoryLogRecordExporter()
    exp = OttlLogExporter(mem, statements=['set(log.attributes["seen"], true)'],
                          conditions=["log.severity_number < SEVERITY_NUMBER_WARN"])
    provider = LoggerProvider()
    provider.add_log_record_processor(SimpleLogRecordProcessor(exp))
    logger = provider.get_logger("t")
    logger.emit(body="quiet", severity_number=SeverityNumber.DEBUG)
    logger.emit(body="loud", severity_number=SeverityNumber.ERROR)
    out = mem.get_finished_logs()
    assert [r.log_record.body for r in out] == ["loud"]
    assert out[0].log_record.attributes["seen"] is True
    assert exp.native


PROJECTED = [
    ('span.attributes["k"] == "a" or span.attributes["n"] > 2', ("attributes",)),
    ('span.name == "b" and span.kind == SPAN_KIND_SERVER', ("kind", "name")),
    ("span.status.code == STATUS_CODE_ERROR or span.end_time_unix_nano - "
     "span.start_time_unix_nano > 50", ("status", "times")),
    ('IsMatch(span.name, "^[ab]") and resource.attributes["svc"] == "x"', ("name",)),
    ('span.dropped_attributes_count == 0 and span.name == "a"', ("dropped", "name")),
    # Len fails on the int values: the batch goes to the reference evaluator, which needs
    # the whole spans (error_mode ignore: the failing spans are kept)
    ('Len(span.attributes["k"]) == 1', ("attributes",)),
]


class _Sink(InMemorySpanExporter):
    pass


@pytest.mark.parametrize("condition, parts", PROJECTED)
def test_a_filter_encodes_only_what_it_reads_and_keeps_the_same_spans(condition, parts):
    """A filter-only configuration encodes each span's parts it reads (the projection); the
    spans it keeps are exactly those the whole encoding keeps, as the same objects."""
    import random

    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import ReadableSpan
    from opentelemetry.trace import SpanContext, SpanKind, Status, StatusCode, TraceFlags

    rng = random.Random(5)
    resources = [Resource({"svc": "x"}), Resource({"svc": "y"})]
    spans = []
    for i in range(300):
        ctx = SpanContext(rng.getrandbits(128) or 1, rng.getrandbits(64) or 1, False,
                          TraceFlags(1))
        attrs = {k: rng.choice(["a", "b", "ab", 1, 3, 2.5, True])
                 for k in rng.sample(["k", "n", "other"], rng.randrange(4))}
        start = rng.randrange(1000)
        spans.append(ReadableSpan(
            name=rng.choice(["a", "b", "c"]), context=ctx, attributes=attrs,
            kind=rng.choice([SpanKind.SERVER, SpanKind.CLIENT]), resource=rng.choice(resources),
            start_time=start, end_time=start + rng.randrange(100),
            status=Status(rng.choice([StatusCode.UNSET, StatusCode.ERROR]))))
    projected, whole = _Sink(), _Sink()
    exp = OttlSpanExporter(projected, conditions=[condition], error_mode="ignore")
    assert exp.native
    assert exp._engine.projection is not None and set(exp._engine.projection[0]) == set(parts)
    reference = OttlSpanExporter(whole, conditions=[condition], error_mode="ignore")
    reference._engine.projection = None
    exp.export(spans)
    reference.export(spans)
    kept, expected = projected.get_finished_spans(), whole.get_finished_spans()
    assert 0 < len(expected) < len(spans)
    assert [s.context.span_id for s in kept] == [s.context.span_id for s in expected]
    if not condition.startswith("Len"):  # the VM's run hands out the original objects
        assert all(a is b for a, b in zip(kept, expected))


@pytest.mark.parametrize("condition, grouped, statements", [
    ('span.attributes["n"] == 2', False, []),  # spans only: the request is not grouped
    ('span.attributes["n"] == 2 and resource.attributes["service.name"] != "c"', True, []),
    ('span.attributes["n"] == 2', None, ['set(span.attributes["seen"], true) where '
                                         'span.attributes["n"] == 0']),  # no projection
])
def test_a_filter_hands_on_the_kept_spans_in_the_order_given(condition, grouped, statements):
    # Spans of two resources, interleaved: the request groups them by resource, yet the kept
    # ones go on in the order they came, as the very objects given unless a statement
    # changed them.
    from opentelemetry.sdk.resources import Resource

    mem = InMemorySpanExporter()
    exp = OttlSpanExporter(mem, conditions=[condition], statements=statements)
    assert exp.native
    projection = exp._engine.projection
    assert (projection is None) if grouped is None else projection[2] is grouped
    tracers = [TracerProvider(resource=Resource({"service.name": s})).get_tracer("t")
               for s in ("a", "b")]
    made = []
    for i in range(12):
        with tracers[i % 2].start_as_current_span(f"s{i}") as span:
            span.set_attribute("n", i % 3)
        made.append(span)
    exp.export(made)
    out = mem.get_finished_spans()
    kept = [s for s in made if s.attributes["n"] != 2]
    assert [s.name for s in out] == [s.name for s in kept] and len(out) == 8
    changed = [s.attributes.get("seen") is True for s in out]
    assert changed == [bool(statements) and s.attributes["n"] == 0 for s in kept]
    assert all((a is b) != c for a, b, c in zip(out, kept, changed))
    single = InMemorySpanExporter()
    OttlSpanExporter(single, conditions=['span.name == "s3"']).export(made[:4])
    assert [s.name for s in single.get_finished_spans()] == ["s0", "s1", "s2"]
