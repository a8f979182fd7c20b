"""The records' ``cache`` map on the fast engine: statements of a transform group write and
read it (set, delete_key, merge_maps with a source that varies by record), each record's
starts empty in every group, and nothing of it is ever written out; the same results as the
reference processor's, over generated batches."""

from __future__ import annotations

import random

import pytest
from engine_strategies import (
    CONTEXT_OF,
    KEYS,
    SIGNALS,
    SeededValues,
    batches,
    build_request,
    make_group,
    quote,
    transform_agrees,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ottl.engine import compile_condition, compile_statement
from ottl.pipeline import TransformPipeline

SLOW = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example]

CACHE_STATEMENTS = [
    'set({r}.cache[{k}], {r}.attributes[{k2}])',
    'set({r}.cache[{k}], Concat([{r}.cache[{k2}], "x"], "-"))',
    'delete_key({r}.cache, {k})',
    'merge_maps({r}.cache, {r}.attributes[{k}], "{strategy}")',
    'merge_maps({r}.cache, ParseKeyValue(Concat(["a=", {r}.attributes[{k}], " z=1"], "")),'
    ' "{strategy}")',
    'set({r}.attributes[{k}], {r}.cache[{k2}])',
    'set({r}.attributes["from.cache"], {r}.cache["a"]) where {r}.cache[{k}] != nil',
]


@st.composite
def cache_group(draw, signal: str):
    record = CONTEXT_OF[signal]
    texts = []
    for _ in range(draw(st.integers(1, 5))):
        texts.append(draw(st.sampled_from(CACHE_STATEMENTS)).format(
            r=record, k=quote(draw(st.sampled_from(KEYS))), k2=quote(draw(st.sampled_from(KEYS))),
            strategy=draw(st.sampled_from(["insert", "update", "upsert"]))))
    mode = draw(st.sampled_from(["propagate", "ignore", "silent"]))
    return make_group("statements", signal, record, texts, mode)


@pytest.mark.parametrize("signal", ["traces", "logs"])
@pytest.mark.parametrize("size", [1, 7, 400])
def test_cache_statements_equal_the_reference(signal, size):
    @settings(max_examples=30 if size < 100 else 6, deadline=None, suppress_health_check=SLOW)
    @given(batches(signal, size), st.lists(cache_group(signal), min_size=1, max_size=3))
    def run(drawn, groups):
        _, data = drawn
        transform_agrees(signal, data, groups)

    run()


def _logs():
    rng = random.Random(5)
    return build_request("logs", 50, SeededValues(rng), rng, 4).SerializeToString()


def test_each_group_starts_with_an_empty_cache_and_none_of_it_is_written_out():
    data = _logs()
    write = make_group("statements", "logs", "log", ['set(log.cache["c"], "kept?")'])
    read = make_group("statements", "logs", "log", ['set(log.attributes["c"], log.cache["c"])'])
    stats = transform_agrees("logs", data, [write, read])
    assert stats is not None and stats.statements_run == 100
    batch = SIGNALS["logs"][5](data)
    TransformPipeline([write, read]).execute(batch)
    assert batch.encode(verbatim=True) == data  # nothing changed the records
    assert not any(kv["key"] == "c" for r in batch.records() for kv in r["attributes"])


def test_a_statement_or_condition_alone_sees_an_empty_cache():
    batch = SIGNALS["logs"][5](_logs())
    compile_statement('set(log.cache["c"], 1)').execute(batch)
    cond = compile_condition('log.cache["c"] == nil')
    assert cond.native, cond.reason
    assert cond.filter(batch).all()
    stmt = compile_statement('set(log.attributes["c"], 2) where log.cache["c"] == nil')
    assert stmt.native and stmt.execute(batch).all()


def test_map_editors_by_key_of_the_cache_stay_with_the_reference():
    stmt = compile_statement('keep_keys(log.cache, ["a"])')
    assert not stmt.native and "of the cache" in stmt.reason
    merged = compile_statement('merge_maps(log.cache, log.attributes["m"], "upsert")')
    assert merged.native, merged.reason
    assert merged.uses_cache
    assert not compile_statement('set(log.body, "x")').uses_cache
