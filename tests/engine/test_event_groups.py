"""Span-event-context groups on the fast pipelines (ottl/events.py): the same output as the
reference processors, with the error modes; spans whose events nothing changed left byte for
byte; the rows written and dropped by ``ottl._vm.set_event`` and ``keep_events``.

The differential tests add events (0-3 per span, values of every kind) to generated batches,
draw spanevent groups of statements or conditions (some reading the span, the resource or the
event's index, some failing on some events), put span groups before or after them, and compare
``TransformPipeline``/``FilterPipeline`` with ``TransformProcessor``/``FilterProcessor``.
"""

from __future__ import annotations

import random

import numpy as np
import pytest
from engine_strategies import (
    SIGNALS,
    TIMES,
    UINT32S,
    WORDS,
    SeededValues,
    build_request,
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
from ottl.eval.values import PMap, PSlice
from ottl.pipeline import FilterPipeline, TransformPipeline

SLOW = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example]
REQUEST, DECODE = SIGNALS["traces"][0], SIGNALS["traces"][5]


@st.composite
def event_condition(draw) -> str:
    word = quote(draw(st.sampled_from(WORDS)))
    k = draw(event_keys())
    return draw(st.sampled_from([
        f"spanevent.name == {word}",
        f"spanevent.attributes[{k}] == {word}",
        f"spanevent.attributes[{k}] != nil",
        "spanevent.event_index == 0",
        f"span.name == {word}",
        f"resource.attributes[{k}] == {word}",
        'IsMatch(spanevent.name, "^a")',
        f"spanevent.dropped_attributes_count > {draw(st.sampled_from([0, 3]))}",
        f'ConvertCase(spanevent.attributes[{k}], "upper") == "A"',  # fails unless a string
    ]))


@st.composite
def event_statement(draw) -> str:
    attrs = "spanevent.attributes"
    k, k2 = draw(event_keys()), draw(event_keys())
    text = draw(st.sampled_from([
        f"set({attrs}[{k}], {quote(draw(st.sampled_from(WORDS)))})",
        f"set({attrs}[{k}], {draw(st.sampled_from(['1', '2.5', 'true', 'nil', '[1, {}]']))})",
        f"set({attrs}[{k}], {attrs}[{k2}])",
        f"delete_key({attrs}, {k})",
        f"keep_keys({attrs}, [{k}])",
        'set(spanevent.name, Concat([spanevent.name, "x"], "-"))',
        f"set(spanevent.time_unix_nano, {draw(st.sampled_from(TIMES))})",
        f"set(spanevent.dropped_attributes_count, {draw(st.sampled_from(UINT32S))})",
        f'set({attrs}["from.span"], span.name)',
        f'set({attrs}["index"], spanevent.event_index)',
        'set(resource.attributes["from.event"], spanevent.name)',
        f'set({attrs}[{k}], ConvertCase({attrs}[{k2}], "upper"))',  # fails unless a string
        f'replace_all_patterns({attrs}, "value", "a", "A")',
        'set(cache["n"], spanevent.name)',
    ]))
    if draw(st.booleans()):
        text += f" where {draw(event_condition())}"
    elif draw(st.integers(0, 9)) == 0:  # writes the span, never changes it
        text = 'set(span.attributes["never"], 1) where spanevent.event_index < 0'
    return text


@pytest.mark.parametrize("size", [1, 7, 200])
def test_event_statements_equal_the_reference(size):
    @settings(max_examples=40 if size < 100 else 10, deadline=None, suppress_health_check=SLOW)
    @given(event_requests(size), event_transform_configs(event_statement(), event_condition()))
    def run(data, groups):
        transform_agrees("traces", data, groups)

    run()


@st.composite
def filter_config(draw) -> list:
    groups = []
    for _ in range(draw(st.integers(1, 3))):
        context = draw(st.sampled_from(["spanevent", "spanevent", "span", "resource"]))
        if context == "span":
            texts = [f"span.name == {quote(draw(st.sampled_from(WORDS)))}"]
        elif context == "resource":
            texts = [f"resource.attributes[{draw(event_keys())}] == nil"]
        else:
            texts = draw(st.lists(event_condition(), min_size=1, max_size=2))
        mode = draw(st.sampled_from(["propagate", "ignore", "silent"]))
        groups.append(make_group("conditions", "traces", context, texts, mode))
    return groups


@pytest.mark.parametrize("size", [1, 7, 200])
def test_event_conditions_equal_the_reference(size):
    @settings(max_examples=40 if size < 100 else 10, deadline=None, suppress_health_check=SLOW)
    @given(event_requests(size), filter_config())
    def run(data, groups):
        if any(g.context == "spanevent" for g in groups):  # event groups need whole spans
            assert FilterPipeline(groups).attribute_keys("traces") is None
        filter_agrees("traces", data, groups)

    run()


# ---- handpicked cases --------------------------------------------------------------------------


def _spans(data: bytes) -> list:
    return [s for rs in REQUEST.FromString(data).resource_spans for ss in rs.scope_spans
            for s in ss.spans]


def _plain_events(data: bytes) -> bytes:
    """The request with each event's attributes made plain: each key once, scalar values (a
    map or list value, or a repeated key, is rewritten by any statement that runs)."""
    req = REQUEST.FromString(data)
    for rs in req.resource_spans:
        for ss in rs.scope_spans:
            for span in ss.spans:
                for event in span.events:
                    nested = ("array_value", "kvlist_value")
                    plain = {kv.key: kv for kv in event.attributes
                             if kv.value.WhichOneof("value") not in nested}
                    del event.attributes[:]
                    event.attributes.extend(plain.values())
    return req.SerializeToString()


def test_spans_whose_events_did_not_change_go_out_byte_for_byte():
    data = _plain_events(with_events(60, seed=5))
    target = next(e.name for s in _spans(data) for e in s.events if e.name)
    groups = [make_group("statements", "traces", "spanevent",
                         [f'set(attributes["seen"], true) where name == {quote(target)}',
                          'set(attributes["same"], attributes["same"])'])]
    batch = DECODE(data)
    ran = TransformPipeline(groups).execute(batch)
    assert ran == 2 * sum(len(s.events) for s in _spans(data)) - (
        sum(1 for s in _spans(data) for e in s.events if e.name != target))
    changed = _vm.dirty_records(batch)
    for i, (before, after) in enumerate(zip(_spans(data), _spans(batch.encode(verbatim=True)))):
        touched = any(e.name == target for e in before.events)
        assert changed[i] == touched
        if touched:
            assert [e.name for e in after.events] == [e.name for e in before.events]
            assert all(a.attributes[-1].key == "seen" for a, b in zip(after.events, before.events)
                       if b.name == target)
        else:
            assert after.SerializeToString() == before.SerializeToString()


def test_a_statement_that_changes_the_span_hands_the_batch_to_the_reference():
    data = with_events(30, seed=2)
    groups = [make_group("statements", "traces", "spanevent",
                         ['set(span.attributes["from.event"], name)'])]
    pipeline = TransformPipeline(groups)
    assert pipeline.native
    with pytest.raises(NeedsReference, match="changed span"):
        pipeline.execute(DECODE(data))


def test_the_group_builds_whole_spans_only_when_it_reads_them():
    # groups the VM does not run (ottl/events_native.py): keys on a UUID, a span's attributes
    only_events = TransformPipeline([make_group("statements", "traces", "spanevent",
                                                ['set(attributes["n"], UUID()[0])'])])
    reads = TransformPipeline([make_group("statements", "traces", "spanevent",
                                          ['set(attributes["n"], span.start_time)'])])
    writes = TransformPipeline([make_group("statements", "traces", "spanevent",
                                           ['delete_key(span.attributes, "k")'])])
    assert [(g.reads_span, g.writes_span, g.writes_events) for g in
            (only_events.groups[0], reads.groups[0], writes.groups[0])] == [
        (False, False, True), (True, False, True), (True, True, False)]


def test_a_filter_with_an_event_group_decodes_whole_spans():
    groups = [make_group("conditions", "traces", "span", ['attributes["k"] == "a"']),
              make_group("conditions", "traces", "spanevent", ['name == "a"'])]
    pipeline = FilterPipeline(groups)
    assert pipeline.attribute_keys("traces") is None
    assert pipeline.reads() == {}
    projected = DECODE(with_events(10, seed=1), attribute_keys=["k"])
    with pytest.raises(ValueError, match="whole spans"):
        pipeline.keep(projected)


def test_events_of_dropped_spans_are_not_judged():
    data = with_events(80, seed=9)
    name = _spans(data)[0].name
    groups = [make_group("conditions", "traces", "span", [f"name == {quote(name)}"]),
              make_group("conditions", "traces", "spanevent",
                         ['Substring(name, 50, 1) == "a"'], mode="silent")]
    pipeline = FilterPipeline(groups)
    pipeline.keep(DECODE(data))
    judged = sum(len(s.events) for s in _spans(data) if s.name != name)
    assert 0 < judged < sum(len(s.events) for s in _spans(data))
    assert pipeline.last_run.statement_errors == judged


def test_an_event_group_in_propagate_mode_hands_failures_to_the_reference():
    groups = [make_group("statements", "traces", "spanevent",
                         ['set(attributes["x"], Substring(name, 50, 1))'])]
    with pytest.raises(NeedsReference, match="spanevent statement failed"):
        TransformPipeline(groups).execute(DECODE(with_events(20, seed=4)))


# ---- writing and dropping rows -----------------------------------------------------------------


def _event_rows(batch) -> list:
    return [e for s in batch.records() for e in s["events"]]


def test_set_event_stores_every_value_kind_and_marks_its_span():
    batch = DECODE(with_events(20, seed=3))
    owners = np.repeat(np.arange(len(batch)), np.diff(batch.column("event_off")))
    row = len(owners) // 2
    attrs = PMap({"s": "é", "i": -(2**63), "d": float("nan"), "b": True, "y": b"\x00\xff",
                  "nil": None, "m": PMap({"l": PSlice([1, PSlice([]), PMap()])})})
    assert _vm.set_event(batch, row, "renamed", 2**64 - 1, attrs, 9)
    event = _event_rows(batch)[row]
    assert event["name"] == "renamed" and event["time_unix_nano"] == 2**64 - 1
    assert event["dropped_attributes_count"] == 9
    got = {kv["key"]: kv.get("value") for kv in event["attributes"]}
    assert list(got) == list(attrs.keys())
    assert got["s"] == {"string_value": "é"} and got["nil"] == {}
    assert got["m"]["kvlist_value"]["values"][0]["value"]["array_value"]["values"][0] == {
        "int_value": 1}
    np.testing.assert_array_equal(np.flatnonzero(_vm.dirty_records(batch)), [owners[row]])
    again = DECODE(batch.encode(verbatim=True))
    assert repr(_event_rows(again)) == repr(_event_rows(batch))


def test_set_event_writes_nothing_when_nothing_changed():
    batch = DECODE(with_events(20, seed=3))
    events = _event_rows(batch)
    row = next(i for i, e in enumerate(events)
               if all("kvlist_value" not in kv.get("value", {}) and
                      "array_value" not in kv.get("value", {}) for kv in e["attributes"]))
    e = events[row]
    payload = payload_from_batch(batch)
    model = [ev for rx in payload.resources for sx in rx.scope_spans for s in sx.spans
             for ev in s.events][row]
    assert not _vm.set_event(batch, row, e["name"], e["time_unix_nano"], model.attributes,
                             e["dropped_attributes_count"])
    assert not _vm.dirty_records(batch).any()


@pytest.mark.parametrize("value, error", [
    (2**63, TypeError), (object(), TypeError), (PSlice([1j]), TypeError)])
def test_set_event_refuses_what_otlp_cannot_hold(value, error):
    batch = DECODE(with_events(20, seed=3))
    before = _event_rows(batch)
    with pytest.raises(error):
        _vm.set_event(batch, 0, "n", 1, {"k": value}, 0)  # a PMap would wrap ints
    with pytest.raises(OverflowError):
        _vm.set_event(batch, 0, "n", -1, {}, 0)
    assert _event_rows(batch) == before
    assert not _vm.dirty_records(batch).any()


def test_set_event_and_keep_events_check_their_arguments():
    batch = DECODE(with_events(20, seed=3))
    n = int(batch.column("event_off")[-1])
    with pytest.raises(IndexError):
        _vm.set_event(batch, n, "n", 0, {}, 0)
    with pytest.raises(IndexError):
        _vm.set_event(batch, -1, "n", 0, {}, 0)
    with pytest.raises(ValueError, match="entries"):
        _vm.keep_events(batch, np.ones(n + 1, dtype=np.bool_))
    logs = SIGNALS["logs"][5](build_request("logs", 3, SeededValues(random.Random(1)),
                                            random.Random(1)).SerializeToString())
    with pytest.raises(ValueError, match="span batches"):
        _vm.set_event(logs, 0, "n", 0, {}, 0)
    with pytest.raises(ValueError, match="span batches"):
        _vm.keep_events(logs, np.ones(0, dtype=np.bool_))


@pytest.mark.parametrize("seed", range(6))
def test_keep_events_drops_exactly_the_events_not_kept(seed):
    data = with_events(50, seed=seed)
    batch = DECODE(data)
    rng = np.random.default_rng(seed)
    n = int(batch.column("event_off")[-1])
    keep = rng.random(n) < [0.0, 0.3, 0.5, 0.9, 1.0, 0.5][seed]
    owners = np.repeat(np.arange(len(batch)), np.diff(batch.column("event_off")))
    expected = REQUEST.FromString(data)
    it = iter(keep.tolist())
    for rs in expected.resource_spans:
        for ss in rs.scope_spans:
            for span in ss.spans:
                kept = [e for e in span.events if next(it)]
                del span.events[:]
                span.events.extend(kept)
    _vm.keep_events(batch, keep)
    lost = np.zeros(len(batch), dtype=np.bool_)
    lost[owners[~keep]] = True
    np.testing.assert_array_equal(_vm.dirty_records(batch), lost)
    for verbatim in (True, False):
        assert REQUEST.FromString(batch.encode(verbatim=verbatim)) == expected
    assert int(batch.column("event_off")[-1]) == int(keep.sum())
