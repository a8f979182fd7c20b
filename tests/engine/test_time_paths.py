"""A record's times (``span.start_time``, ``span.end_time``, ``log.time``,
``log.observed_time``: time.Time values) on the fast pipelines: read by converters and
comparisons (derived columns whose parts are the times' nanoseconds, read by the reference as
times), and set from another time or from a converter's time. Each statement and condition is
run on the pipelines and on the reference processors over generated batches, in every error
mode (some fail on some records: ``Time`` of text that is not a date)."""

from __future__ import annotations

import pytest
from engine_strategies import CONTEXT_OF, batches, filter_agrees, make_group, transform_agrees
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ottl._batch import decode_logs
from ottl.engine import compile_condition, compile_statement

SLOW = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example]

STATEMENTS = {
    "traces": [
        'set(span.attributes["day"], Day(span.start_time))',
        'set(span.attributes["f"], FormatTime(span.end_time, "%Y-%m-%dT%H:%M:%S"))',
        'set(span.attributes["ms"], Milliseconds(span.end_time - span.start_time))',
        'set(span.end_time, span.start_time) where span.kind == 2',
        'set(span.start_time, TruncateTime(span.start_time, Duration("1h")))',
        'set(span.attributes["slow"], true) where span.end_time - span.start_time > '
        'Duration("1ms")',
        'set(span.start_time, Time(span.attributes["k"], "%Y"))',
        'set(span.attributes["s"], Seconds(span.start_time - span.end_time))',
        'set(span.attributes["h"], Hours(span.end_time - span.start_time)) where '
        'span.start_time - span.end_time <= Duration("-1h30m")',
    ],
    "logs": [
        'set(log.time, log.observed_time) where log.time_unix_nano == 0',
        'set(log.attributes["h"], Hour(log.time))',
        'set(log.time, Time(log.attributes["k"], "%Y"))',
        'set(log.observed_time, TruncateTime(log.time, Duration("24h")))',
        'set(log.attributes["u"], UnixNano(log.observed_time) - log.time_unix_nano)',
    ],
}
CONDITIONS = {
    "traces": ['span.end_time - span.start_time > Duration("1s")',
               'Duration("1us") != span.start_time - span.end_time',
               'Microseconds(span.end_time - span.start_time) < 5 or '
               'Minutes(span.end_time - span.start_time) >= 2.5',
               'Year(span.start_time) > 2000 or span.kind == 1',
               'span.start_time == span.end_time'],
    "logs": ['log.observed_time >= log.time', 'Month(log.time) == 1',
             'log.time < Now() - Duration("24h")', 'Now() - log.observed_time > Duration("1h")',
             'Time(log.attributes["k"], "%Y") < log.time'],
}
# What stays with the reference evaluator (the reason it gives).
NOT_NATIVE = [
    ('set(log.attributes["d"], log.observed_time - log.time)', "log",
     "- of times, which gives a time or a duration"),
    ('set(span.attributes["t"], span.start_time)', "span", "the path span.start_time"),
    ('set(span.end_time, 5)', "span", "to something other than a time or a converter's result"),
    ('set(span.end_time, span.attributes["k"])', "span", "to something other than a time"),
    ('delete_key(span.start_time, "k")', "span", "delete_key of span.start_time"),
    ('set(span.attributes["now"], Now())', "span", "the converter Now"),
]


@pytest.mark.parametrize("signal", ["traces", "logs"])
def test_time_shapes_are_native(signal):
    context = CONTEXT_OF[signal]
    for text in STATEMENTS[signal]:
        assert compile_statement(text, context).native, text
    for text in CONDITIONS[signal]:
        assert compile_condition(text, context).native, text


@pytest.mark.parametrize("text, context, reason", NOT_NATIVE)
def test_what_stays_with_the_reference(text, context, reason):
    statement = compile_statement(text, context)
    assert not statement.native and reason in statement.reason, statement.reason


@pytest.mark.parametrize("signal", ["traces", "logs"])
@pytest.mark.parametrize("size", [1, 7, 300])
def test_times_agree_with_the_reference(signal, size):
    context = CONTEXT_OF[signal]

    @settings(max_examples=25 if size < 100 else 5, deadline=None, suppress_health_check=SLOW)
    @given(batches(signal, size), st.lists(st.sampled_from(STATEMENTS[signal]), min_size=1,
                                           max_size=3),
           st.sampled_from(CONDITIONS[signal]), st.sampled_from(["propagate", "ignore", "silent"]))
    def run(drawn, texts, condition, mode):
        _, data = drawn
        transform_agrees(signal, data, [make_group("statements", signal, context, texts, mode)])
        filter_agrees(signal, data, [make_group("conditions", signal, context, [condition],
                                                mode)])

    run()


def test_now_is_one_instant_per_batch():
    """Now() is read once per batch (the reference reads the clock per record: the same
    instant for all is one of the outcomes it allows)."""
    import time

    from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest

    req = ExportLogsServiceRequest()
    records = req.resource_logs.add().scope_logs.add().log_records
    for observed in (0, 5, 0, 0):
        records.add(observed_time_unix_nano=observed)
    statement = compile_statement(
        "set(log.observed_time, Now()) where log.observed_time_unix_nano == 0", "log")
    assert statement.native, statement.reason
    batch = decode_logs(req.SerializeToString())
    before = time.time_ns()
    statement.execute(batch)
    after = time.time_ns()
    got = batch.column("observed_time_unix_nano").tolist()
    assert got[1] == 5
    assert got[0] == got[2] == got[3] and before <= got[0] <= after
