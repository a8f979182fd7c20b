"""A record statement's write to its resource or scope on the fast pipeline
(``ottl.parent_writes``): a ``set`` of an attribute leaves each parent the value its last record
wrote, another editor of constant arguments edits each parent once per record it ran on, as the
reference's record-by-record run leaves them, when nothing else in the group reads what is
written. Generated batches (several resources and scopes, records in runs) and statements, in
every error mode, against the reference processor."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from engine_strategies import (
    CONTEXT_OF,
    KEYS,
    STRING_PATHS,
    batches,
    conditions,
    make_group,
    quote,
    transform_agrees,
)
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from ottl._batch import decode_traces
from ottl.pipeline import TransformPipeline

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks" / "benchmarks"))
from otlp_data import trace_request  # noqa: E402

SLOW = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example]


@st.composite
def parent_writes(draw, context: str):
    """A statement setting a resource or scope attribute from the record, maybe with a where
    clause (which reads nothing of the parents' attribute "w")."""
    parent = draw(st.sampled_from(["resource", "scope"]))
    attrs = f"{context}.attributes"
    value = draw(st.sampled_from([
        *STRING_PATHS[context][:3], f"{attrs}[{quote(draw(st.sampled_from(KEYS)))}]",
        f"{context}.attributes", '"fixed"', f'Concat([{STRING_PATHS[context][0]}, "!"], "")',
        f'Split({STRING_PATHS[context][0]}, " ")', f'Int({attrs}["k"])',
    ]))
    key = quote(draw(st.sampled_from(KEYS)))
    text = draw(st.sampled_from([
        f'set({parent}.attributes["w"], {value})',
        f"delete_key({parent}.attributes, {key})",
        f"keep_keys({parent}.attributes, [{key}])",
        f'replace_pattern({parent}.attributes[{key}], "a", "b")',
        f'replace_pattern({parent}.attributes[{key}], "^", "x")',  # grows once per record
        f'merge_maps({parent}.attributes[{key}], {{"m": 1}}, "upsert")',  # fails on non-maps
        f'delete_matching_keys({parent}.attributes, "^k")',
        'replace_pattern(scope.name, "$", "!")',
    ]))
    if draw(st.booleans()):
        text += f" where {draw(conditions(context))}"
    return text


@pytest.mark.parametrize("signal", ["traces", "logs"])
@pytest.mark.parametrize("size, examples", [(7, 40), (300, 8)], ids=["7", "300"])
def test_parent_writes_equal_the_reference(signal, size, examples):
    context = CONTEXT_OF[signal]

    @settings(max_examples=examples, deadline=None, suppress_health_check=SLOW)
    @given(batches(signal, size), st.lists(parent_writes(context), min_size=1, max_size=1),
           st.sampled_from(["propagate", "ignore", "silent"]))
    def run(drawn, texts, mode):
        _, data = drawn
        # another statement of the group touching other keys leaves the write native
        texts = texts + [f'set({context}.attributes["after"], "x")']
        note(repr(texts))
        group = make_group("statements", signal, context, texts, mode)
        pipeline = TransformPipeline([group])
        stats["total"] += 1
        if not pipeline.native:  # its where clause reads what it writes (scope.name)
            assert "from a statement that reads it" in pipeline.reasons[0], pipeline.reasons
            return
        stats["native"] += 1
        transform_agrees(signal, data, [group])

    stats: dict[str, int] = {"total": 0, "native": 0}
    run()
    assert stats["native"] >= 0.8 * stats["total"], stats


def test_each_parent_gets_its_last_records_value():
    data = trace_request(300, n_resources=3).SerializeToString()
    group = make_group("statements", "traces", "span",
                       ['set(resource.attributes["last"], span.name) where span.kind == 2'])
    pipeline = TransformPipeline([group])
    assert pipeline.native, pipeline.reasons
    batch = decode_traces(data)
    kinds, owners = batch.column("kind"), batch.column("resource")
    names = [r["name"] for r in batch.records()]
    pipeline.execute(batch)
    for r, resource in enumerate(batch.resources()):
        rows = np.flatnonzero((owners == r) & (kinds == 2))
        got = {kv["key"]: kv["value"] for kv in resource["resource"]["attributes"]}.get("last")
        assert got == ({"string_value": names[rows[-1]]} if len(rows) else None)
    written = pipeline.last_parent_writes
    assert written is not None
    assert written.tolist() == [bool(((owners == o) & (kinds == 2)).any()) for o in owners]
    transform_agrees("traces", data, [group])


@pytest.mark.parametrize("texts, native", [
    (['set(resource.attributes["k"], span.name)', 'set(span.attributes["k"], 1)'], True),
    (['set(resource.attributes["k"], span.name)', 'set(resource.attributes["j"], 1)'], True),
    (['set(resource.attributes["k"], span.name) where resource.attributes["k"] == nil'], False),
    (['set(resource.attributes["k"], Len(resource.attributes))'], False),
    (['set(resource.attributes["k"], span.name)',
      'set(span.attributes["r"], resource.attributes["k"])'], False),
    (['set(span.attributes["r"], resource.attributes["k"])',
      'set(resource.attributes["k"], span.name)'], False),
    (['set(resource.attributes["k"], span.name)', 'set(resource.attributes["k"], "x")'], False),
    (['set(scope.attributes["k"], span.name)', 'set(span.name, scope.attributes["k"])'], False),
    (['set(scope.attributes["k"], span.name)', 'set(span.name, resource.attributes["k"])'], True),
    (['set(resource.attributes["k"]["deep"], span.name)'], False),
])
def test_what_depends_on_the_records_before_stays_with_the_reference(texts, native):
    data = trace_request(60, n_resources=2).SerializeToString()
    group = make_group("statements", "traces", "span", texts)
    pipeline = TransformPipeline([group])
    assert pipeline.native == native, pipeline.reasons
    if native:
        transform_agrees("traces", data, [group])


def test_a_group_condition_reading_the_attribute_keeps_the_group_with_the_reference():
    group = make_group("statements", "traces", "span", ['set(resource.attributes["k"], "v")'],
                       conditions=('resource.attributes["k"] == nil',))
    pipeline = TransformPipeline([group])
    assert not pipeline.native and "reads or writes too" in pipeline.reasons[0]
