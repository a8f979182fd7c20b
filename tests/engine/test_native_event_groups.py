"""Span-event groups on the VM (ottl/events_native.py): the events copied into a log batch
(``ottl._vm.events_as_logs``), spanevent paths read as the log paths of the same fields, and
the changes written back (``ottl._vm.events_from_logs``).

The differential tests draw only groups whose paths are the event's own (plus reads of the
resource and scope), check that the pipelines run them on the VM, and compare them with the
reference processors over generated batches with 0-3 events per span, values of every kind.
Some conditions fail on some events: the group then runs through the reference event by
event, and the errors count once.
"""

from __future__ import annotations

import logging

import numpy as np
import pytest
from engine_strategies import (
    SIGNALS,
    TIMES,
    UINT32S,
    WORDS,
    event_keys,
    event_requests,
    event_transform_configs,
    filter_agrees,
    make_group,
    quote,
    transform_agrees,
    with_events,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ottl import _vm
from ottl.derive import NeedsReference
from ottl.eval.batch_model import payload_from_batch
from ottl.eval.otlp_json import OtlpFormatError
from ottl.eval.processors import TransformProcessor
from ottl.events import EventGroup
from ottl.events_native import NativeEventGroup
from ottl.pipeline import FilterPipeline, TransformPipeline

SLOW = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example]
REQUEST, DECODE = SIGNALS["traces"][0], SIGNALS["traces"][5]


@st.composite
def event_condition(draw) -> str:
    word = quote(draw(st.sampled_from(WORDS)))
    k = draw(event_keys())
    return draw(st.sampled_from([
        f"spanevent.name == {word}",
        f"name != {word}",
        f"spanevent.attributes[{k}] == {word}",
        f"attributes[{k}] != nil",
        f"resource.attributes[{k}] == {word}",
        f"scope.name == {word}",
        'IsMatch(spanevent.name, "^a")',
        f"spanevent.dropped_attributes_count > {draw(st.sampled_from([0, 3]))}",
        f"spanevent.time_unix_nano >= {draw(st.sampled_from(TIMES))}",
        f"span.name == {word}",
        f"span.kind == {draw(st.sampled_from([0, 1, 2, 3]))}",
        f"span.attributes[{k}] == {word}",
        "Len(span.attributes) > 1",
        "spanevent.event_index == 0",
        f"span.start_time_unix_nano <= {draw(st.sampled_from(TIMES))}",
        'span.trace_id.string != ""',
        "span.span_id == SpanID(0x0102030405060708)",
        "Hour(span.start_time) < 12",
        f'ConvertCase(spanevent.attributes[{k}], "upper") == "A"',  # fails unless a string
    ]))


@st.composite
def event_statement(draw) -> str:
    attrs = "spanevent.attributes"
    k, k2 = draw(event_keys()), draw(event_keys())
    text = draw(st.sampled_from([
        f"set({attrs}[{k}], {quote(draw(st.sampled_from(WORDS)))})",
        f"set({attrs}[{k}], {draw(st.sampled_from(['1', '2.5', 'true', 'nil']))})",
        f"set({attrs}[{k}], {attrs}[{k2}])",
        f"delete_key({attrs}, {k})",
        f"keep_keys({attrs}, [{k}])",
        'set(spanevent.name, Concat([spanevent.name, "x"], "-"))',
        f"set(name, {quote(draw(st.sampled_from(WORDS)))})",
        f"set(spanevent.time_unix_nano, {draw(st.sampled_from(TIMES))})",
        f"set(spanevent.dropped_attributes_count, {draw(st.sampled_from(UINT32S))})",
        f"set({attrs}[{k}], resource.attributes[{k2}])",
        f'replace_all_patterns({attrs}, "value", "a", "A")',
        f'set(cache["n"], {attrs}[{k}])',
        f'set({attrs}["from.cache"], cache["n"])',
        f'set({attrs}["from.span"], Concat([span.name, String(span.kind)], "/"))',
        f'set({attrs}[{k}], span.attributes[{k2}])',
        f'set({attrs}["index"], spanevent.event_index)',
        f'set({attrs}["trace"], span.trace_id.string)',
        f'set({attrs}["span"], span.span_id.string)',
        f'set({attrs}["since"], spanevent.time_unix_nano - span.start_time_unix_nano)',
        f'set({attrs}["minute"], Minute(span.start_time))',
    ]))
    if draw(st.booleans()):
        text += f" where {draw(event_condition())}"
    return text


def _native_event_groups(pipeline) -> list:
    return [g for g in pipeline.groups if isinstance(g, (NativeEventGroup, EventGroup))]


@pytest.mark.parametrize("size", [1, 7, 200])
def test_native_event_statements_equal_the_reference(size):
    @settings(max_examples=40 if size < 100 else 10, deadline=None, suppress_health_check=SLOW)
    @given(event_requests(size), event_transform_configs(event_statement(), event_condition()))
    def run(data, groups):
        events = _native_event_groups(TransformPipeline(groups))
        assert all(isinstance(g, NativeEventGroup) for g in events), [
            g.why_not_vm for g in events if isinstance(g, EventGroup)]
        transform_agrees("traces", data, groups)

    run()


@st.composite
def filter_config(draw) -> list:
    groups = []
    for _ in range(draw(st.integers(1, 3))):
        context = draw(st.sampled_from(["spanevent", "spanevent", "span"]))
        if context == "span":
            texts = [f"span.name == {quote(draw(st.sampled_from(WORDS)))}"]
        else:
            texts = draw(st.lists(event_condition(), min_size=1, max_size=2))
        mode = draw(st.sampled_from(["propagate", "ignore", "silent"]))
        groups.append(make_group("conditions", "traces", context, texts, mode))
    return groups


@pytest.mark.parametrize("size", [1, 7, 200])
def test_native_event_conditions_equal_the_reference(size):
    @settings(max_examples=40 if size < 100 else 10, deadline=None, suppress_health_check=SLOW)
    @given(event_requests(size), filter_config())
    def run(data, groups):
        pipeline = FilterPipeline(groups)
        assert all(isinstance(g, NativeEventGroup) for g in _native_event_groups(pipeline))
        filter_agrees("traces", data, groups)

    run()


# ---- which groups run on the VM --------------------------------------------------------------


@pytest.mark.parametrize("text, reason", [
    ('set(attributes["n"], span.end_time_unix_nano)', "reads the event's span beyond"),
    ('set(attributes["n"], span.parent_span_id.string)', "reads the event's span beyond"),
    ('set(resource.attributes["n"], name)', "writes resource.attributes"),
    ('delete_key(scope.attributes, "n")', "writes scope.attributes"),
    ('set(span.name, name)', "writes span.name"),
    ('set(attributes["n"], 1) where span.status.code == 2', "reads the event's span beyond"),
])
def test_a_group_beyond_the_event_runs_through_the_reference(text, reason):
    pipeline = TransformPipeline([make_group("statements", "traces", "spanevent", [text])])
    (group,) = pipeline.groups
    assert isinstance(group, EventGroup)
    assert reason in group.why_not_vm


def test_what_is_read_of_the_span_and_the_event_index_are_carried_in_log_fields():
    data = with_events(40, seed=6)
    batch = DECODE(data)
    logs = _vm.events_as_logs(batch)
    per_span = np.diff(batch.column("event_off"))
    names = [batch.string(i) for i in batch.column("name")]
    expected = [(name, kind, i) for name, kind, n in
                zip(names, batch.column("kind").tolist(), per_span.tolist()) for i in range(n)]
    assert [(r["severity_text"], r["severity_number"], r["flags"])
            for r in logs.records()] == expected
    owner = np.repeat(np.arange(len(batch)), per_span)
    for column, span_column in [("trace_id", "trace_id"), ("span_id", "span_id"),
                                ("observed_time_unix_nano", "start_time_unix_nano")]:
        assert np.array_equal(logs.column(column), batch.column(span_column)[owner])
    spans = list(batch.records())
    owners = np.repeat(np.arange(len(batch)), per_span)
    assert repr([r["body"] for r in logs.records()]) == repr(  # repr: NaN values
        [{"kvlist_value": {"values": spans[i]["attributes"]}} for i in owners.tolist()])
    groups = [make_group("statements", "traces", "spanevent",
                         ['set(attributes["where"], Concat([span.name, String(event_index)], '
                          '"#")) where span.kind != 9'])]
    assert isinstance(TransformPipeline(groups).groups[0], NativeEventGroup)
    transform_agrees("traces", data, groups)


def test_event_paths_are_read_as_the_log_fields():
    pipeline = TransformPipeline([make_group(
        "statements", "traces", "spanevent",
        ['set(attributes["t"], time_unix_nano) where name == "a" and dropped_attributes_count'
         ' >= 0 and resource.attributes["k"] != "zz"'])])
    (group,) = pipeline.groups
    assert isinstance(group, NativeEventGroup)
    (statement,) = group.statements
    assert statement.context == "log" and statement.native
    assert statement.text.startswith('set(attributes["t"], time_unix_nano)')  # as written


def test_a_transform_projects_span_attributes_beside_a_native_event_group():
    groups = [make_group("statements", "traces", "span", ['delete_key(attributes, "k")']),
              make_group("statements", "traces", "spanevent", ['set(attributes["e"], name)'])]
    assert TransformPipeline(groups).attribute_keys("traces") == frozenset({"k"})
    # unless the event group reads the span's attributes (a projection leaves them opaque)
    reads = make_group("statements", "traces", "spanevent",
                       ['set(attributes["e"], span.attributes["k"])'])
    pipeline = TransformPipeline([groups[0], reads])
    assert isinstance(pipeline.groups[1], NativeEventGroup)
    assert pipeline.attribute_keys("traces") is None
    req = REQUEST()
    span = req.resource_spans.add().scope_spans.add().spans.add(name="s")
    span.attributes.add(key="k").value.string_value = "v"
    span.attributes.add(key="other").value.int_value = 1
    span.events.add(name="e")
    projected = DECODE(req.SerializeToString(), attribute_keys=["k"], keep_other_attributes=True)
    assert projected.attributes_projected
    with pytest.raises(ValueError, match="whole spans"):
        pipeline.execute(projected)
    # a filter drops the other keys when it projects: a span losing an event is written from
    # its columns, so it decodes whole
    fgroups = [make_group("conditions", "traces", "span", ['attributes["k"] == "a"']),
               make_group("conditions", "traces", "spanevent", ['name == "a"'])]
    pipeline = FilterPipeline(fgroups)
    assert pipeline.attribute_keys("traces") is None
    with pytest.raises(ValueError, match="whole spans"):
        pipeline.keep(DECODE(with_events(10, seed=1), attribute_keys=["k"]))


@pytest.mark.parametrize("read", ["span.trace_id.string", "span.span_id"])
def test_an_event_of_a_span_with_an_irregular_id_goes_to_the_reference(read):
    # A span whose id has another length than 16 or 8 bytes (legal protobuf, kept aside by the
    # decoder): its events' records carry the mark, the VM hands the batch to the reference,
    # and the reference refuses such a span, as the collector's model cannot hold it.
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
        ExportTraceServiceRequest,
    )

    req = ExportTraceServiceRequest.FromString(with_events(12, seed=3))
    spans = [sp for rs in req.resource_spans for ss in rs.scope_spans for sp in ss.spans]
    odd = next(sp for sp in spans if len(sp.events))
    odd.trace_id, odd.span_id = b"\x01\x02\x03", b"\x04"
    groups = [make_group("statements", "traces", "spanevent",
                         [f'set(attributes["id"], {read}) where name != "zz"'], mode="ignore")]
    pipeline = TransformPipeline(groups)
    assert isinstance(pipeline.groups[0], NativeEventGroup)
    with pytest.raises(NeedsReference, match="an id of 3 bytes where 16 are required"):
        pipeline.execute(DECODE(req.SerializeToString()))
    assert pipeline.groups[0].fallbacks == 1
    with pytest.raises(OtlpFormatError, match="an id of 3 bytes"):  # nor can the reference
        payload_from_batch(DECODE(req.SerializeToString()))
    # without the odd span, the same group runs on the VM
    odd.trace_id, odd.span_id = b"", b""
    pipeline.execute(DECODE(req.SerializeToString()))
    assert pipeline.groups[0].fallbacks == 1
    transform_agrees("traces", req.SerializeToString(), groups)


def test_failing_conditions_fall_back_to_the_reference_and_count_errors_once(caplog):
    data = with_events(60, seed=11)
    # the group's condition fails on some events (counted by the native run), then the
    # statement's where clause (which reads the cache, so it is not split off) sends the
    # batch to the reference event by event
    groups = [make_group("statements", "traces", "spanevent",
                         ['set(cache["n"], name) where '
                          'ConvertCase(attributes["k"], "upper") == "A"',
                          'set(attributes["n"], cache["n"])'], mode="ignore",
                         conditions=('Substring(attributes["a"], 0, 1) != "z"',))]
    pipeline = TransformPipeline(groups)
    assert isinstance(pipeline.groups[0], NativeEventGroup)
    with caplog.at_level(logging.WARNING):
        batch = DECODE(data)
        pipeline.execute(batch)
    assert pipeline.groups[0].fallbacks == 1
    native_logs = len(caplog.records)
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        _, stats = TransformProcessor(groups).process(payload_from_batch(DECODE(data)))
    assert stats.statement_errors > 0  # the fallback ran: some values are not strings
    assert pipeline.last_run.statement_errors == stats.statement_errors
    assert native_logs == len(caplog.records) == stats.statement_errors
    transform_agrees("traces", data, groups)


# ---- the copy and the write-back -------------------------------------------------------------


@pytest.mark.parametrize("seed", range(4))
def test_events_as_logs_holds_every_event_under_its_spans_parents(seed):
    data = with_events(40, seed=seed)
    batch = DECODE(data)
    logs = _vm.events_as_logs(batch)
    per_span = np.diff(batch.column("event_off"))
    assert len(logs) == int(per_span.sum())
    for column in ("resource", "scope"):
        np.testing.assert_array_equal(logs.column(column),
                                      np.repeat(batch.column(column), per_span))
    events = [e for s in batch.records() for e in s["events"]]
    records = list(logs.records())
    assert repr([(r["event_name"], r["time_unix_nano"], r["dropped_attributes_count"],
                  r["attributes"]) for r in records]) == repr([  # repr: NaN values
        (e["name"], e["time_unix_nano"], e["dropped_attributes_count"], e["attributes"])
        for e in events])
    # the parents are the span batch's, row for row
    request = logs.to_dict()["resource_logs"]
    assert repr([(g.get("resource"), g["schema_url"]) for g in request]) == repr([
        (g.get("resource"), g["schema_url"]) for g in batch.to_dict()["resource_spans"]])


def test_events_from_logs_without_changes_leaves_the_batch_as_it_was():
    data = with_events(40, seed=2)
    batch = DECODE(data)
    logs = _vm.events_as_logs(batch)
    _vm.events_from_logs(batch, logs)
    assert len(logs) == 0
    assert not _vm.dirty_records(batch).any()
    assert batch.encode(verbatim=True) == data


def test_events_from_logs_writes_changed_events_and_marks_their_spans():
    data = with_events(40, seed=4)
    batch = DECODE(data)
    per_span = np.diff(batch.column("event_off"))
    logs = _vm.events_as_logs(batch)
    target = next(r["event_name"] for r in logs.records() if r["event_name"])
    groups = [make_group("statements", "logs", "log",
                         [f'set(log.attributes["new.key"], "new value") where '
                          f'log.event_name == {quote(target)}'])]
    TransformPipeline(groups).execute(logs)
    names = np.array([r["event_name"] for r in logs.records()], dtype=object)
    _vm.events_from_logs(batch, logs)
    assert len(logs) == 0 and list(logs.records()) == []  # spent: emptied, safe to read
    owners = np.repeat(np.arange(len(batch)), per_span)
    expected = np.zeros(len(batch), dtype=np.bool_)
    expected[owners[names == target]] = True
    np.testing.assert_array_equal(_vm.dirty_records(batch), expected)
    out = REQUEST.FromString(batch.encode(verbatim=True))
    for span in (s for rs in out.resource_spans for ss in rs.scope_spans for s in ss.spans):
        for event in span.events:
            kv = {a.key: a.value.string_value for a in event.attributes}
            assert (kv.get("new.key") == "new value") == (event.name == target)


def test_events_from_logs_checks_its_arguments():
    batch = DECODE(with_events(40, seed=2))
    other = _vm.events_as_logs(DECODE(with_events(3, seed=7)))
    with pytest.raises(ValueError, match="records for"):
        _vm.events_from_logs(batch, other)
    with pytest.raises(ValueError, match="span batch"):
        _vm.events_from_logs(other, other)
    with pytest.raises(ValueError, match="span batches"):
        _vm.events_as_logs(other)


def test_a_batch_without_events_runs_no_event_group(monkeypatch):
    data = with_events(1, seed=0)
    req = REQUEST.FromString(data)
    for span in (s for rs in req.resource_spans for ss in rs.scope_spans for s in ss.spans):
        del span.events[:]
    bare = req.SerializeToString()
    copies = []
    real = _vm.events_as_logs
    monkeypatch.setattr(_vm, "events_as_logs", lambda b: copies.append(1) or real(b))
    transform = TransformPipeline([make_group("statements", "traces", "spanevent",
                                              ['set(attributes["x"], 1)'])])
    assert transform.execute(DECODE(bare)) == 0
    assert FilterPipeline([make_group("conditions", "traces", "spanevent",
                                      ['name == "a"'])]).keep(DECODE(bare)).all()
    assert copies == []  # nothing was copied for them
    transform.execute(DECODE(with_events(20, seed=3)))
    assert copies == [1]


def test_a_batch_without_events_gives_an_empty_log_batch():
    data = with_events(1, seed=0)
    req = REQUEST.FromString(data)
    for rs in req.resource_spans:
        for ss in rs.scope_spans:
            for span in ss.spans:
                del span.events[:]
    batch = DECODE(req.SerializeToString())
    logs = _vm.events_as_logs(batch)
    assert len(logs) == 0
    _vm.events_from_logs(batch, logs)
    empty = DECODE(REQUEST().SerializeToString())
    assert len(_vm.events_as_logs(empty)) == 0
