"""Resource- and scope-context groups on the fast pipelines (ottl/parents.py): the same output
as the reference processors, with the error modes, and resources and scopes a group did not
change left byte for byte.

The differential tests draw groups of statements (or conditions) in the resource and scope
contexts, followed by a span or log group that reads what they wrote, over generated batches
(resources without a resource message, scopes without records, values of every kind), and
compare ``TransformPipeline``/``FilterPipeline`` with ``TransformProcessor``/``FilterProcessor``.
"""

from __future__ import annotations

import random

import numpy as np
import pytest
from engine_strategies import (
    CONTEXT_OF,
    KEYS,
    SIGNALS,
    WORDS,
    SeededValues,
    batches,
    build_request,
    filter_agrees,
    make_group,
    quote,
    transform_agrees,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ottl import _vm
from ottl.config import Group
from ottl.derive import NeedsReference
from ottl.eval.batch_model import payload_from_batch
from ottl.eval.processors import FilterProcessor
from ottl.eval.values import PMap, PSlice
from ottl.pipeline import FilterPipeline, TransformPipeline

SLOW = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example]

VALUES = ['"x"', '""', "1", "-7", "2.5", "true", "nil", '{"m": [1, "y", {"n": false}]}',
          "[]", '["a", 2]', 'Concat(["p", "q"], "-")']


def _key():
    return st.sampled_from(KEYS + ["new"]).map(quote)


@st.composite
def parent_statement(draw, context: str) -> str:
    """A statement of the resource or scope context (a scope one may write its resource)."""
    owner = draw(st.sampled_from(["resource", "scope"] if context == "scope" else ["resource"]))
    attrs = f"{owner}.attributes"
    k, k2 = draw(_key()), draw(_key())
    value = draw(st.sampled_from(VALUES + [f"{attrs}[{k2}]"]))
    choices = [
        f"set({attrs}[{k}], {value})",
        f"delete_key({attrs}, {k})",
        f"keep_keys({attrs}, [{k}, {k2}])",
        f"set({owner}.dropped_attributes_count, {draw(st.sampled_from([0, 3, 4294967295]))})",
        f"set({owner}.schema_url, {quote(draw(st.sampled_from(WORDS)))})",
        f"limit({attrs}, 1, [])",
        f'replace_all_patterns({attrs}, "value", "a", "A")',
        f"merge_maps({attrs}, {{\"a\": 1, \"new\": \"v\"}}, \"upsert\")",
        # fails on short or absent values (rune-wise, so it never splits a character: the
        # reference's output could not hold the invalid UTF-8 a byte-wise cut of "é" gives)
        f"set({attrs}[{k}], Substring({attrs}[{k2}], 1, 1, true))",
    ]
    if context == "scope":
        choices += ['set(scope.name, Concat([scope.name, scope.version], "/"))',
                    f"set(scope.version, {quote(draw(st.sampled_from(WORDS)))})"]
    text = draw(st.sampled_from(choices))
    if draw(st.booleans()):
        text += f" where {draw(parent_condition(context))}"
    return text


@st.composite
def parent_condition(draw, context: str) -> str:
    path = draw(st.sampled_from(
        [f"resource.attributes[{draw(_key())}]", "resource.schema_url",
         "resource.dropped_attributes_count"]
        + ([f"scope.attributes[{draw(_key())}]", "scope.name", "scope.version"]
           if context == "scope" else [])))
    op = draw(st.sampled_from(["==", "!=", "<", ">="]))
    literal = draw(st.sampled_from([quote(w) for w in WORDS[:5]] + ["nil", "1", "3"]))
    text = f"{path} {op} {literal}"
    if draw(st.integers(0, 3)) == 0:
        text = f"IsMatch({path}, \"^a\")"
    return text


@st.composite
def transform_config(draw, signal: str) -> list[Group]:
    """Resource and scope groups (each with a drawn error mode and maybe a gate), then a
    record group that reads a resource and a scope attribute."""
    groups = []
    for _ in range(draw(st.integers(1, 3))):
        context = draw(st.sampled_from(["resource", "scope"]))
        texts = draw(st.lists(parent_statement(context), min_size=1, max_size=3))
        gate = tuple(draw(st.lists(parent_condition(context), max_size=1)))
        mode = draw(st.sampled_from(["propagate", "ignore", "silent"]))
        groups.append(make_group("statements", signal, context, texts, mode, gate))
    record = CONTEXT_OF[signal]
    k = draw(_key())
    groups.append(make_group("statements", signal, record, [
        f'set({record}.attributes["from.resource"], resource.attributes[{k}])',
        f'set({record}.attributes["from.scope"], Concat([scope.name, scope.version], "@"))',
    ]))
    return groups


@pytest.mark.parametrize("signal", ["traces", "logs"])
@pytest.mark.parametrize("size", [1, 7, 300])
def test_parent_statements_equal_the_reference(signal, size):
    @settings(max_examples=40 if size < 100 else 8, deadline=None, suppress_health_check=SLOW)
    @given(batches(signal, size), transform_config(signal))
    def run(drawn, groups):
        _, data = drawn
        transform_agrees(signal, data, groups)

    run()


@st.composite
def filter_config(draw, signal: str) -> list[Group]:
    """Resource, scope and record groups of conditions, in a drawn order."""
    groups = []
    for _ in range(draw(st.integers(1, 3))):
        context = draw(st.sampled_from(["resource", "scope", CONTEXT_OF[signal]]))
        if context == CONTEXT_OF[signal]:
            word = quote(draw(st.sampled_from(WORDS)))
            texts = [f"{context}.attributes[{draw(_key())}] == {word}"]
        else:
            texts = draw(st.lists(parent_condition(context), min_size=1, max_size=2))
            if draw(st.integers(0, 4)) == 0:  # fails where the attribute is short or absent
                texts.append(f'Substring(resource.attributes[{draw(_key())}], 1, 1) == "a"')
        mode = draw(st.sampled_from(["propagate", "ignore", "silent"]))
        groups.append(make_group("conditions", signal, context, texts, mode))
    return groups


@pytest.mark.parametrize("signal", ["traces", "logs"])
@pytest.mark.parametrize("size", [1, 7, 300])
def test_parent_conditions_equal_the_reference(signal, size):
    @settings(max_examples=40 if size < 100 else 8, deadline=None, suppress_health_check=SLOW)
    @given(batches(signal, size), filter_config(signal))
    def run(drawn, groups):
        _, data = drawn
        filter_agrees(signal, data, groups)

    run()


# ---- handpicked cases --------------------------------------------------------------------------


def _request(signal: str, size: int = 40, seed: int = 3):
    rng = random.Random(seed)
    return build_request(signal, size, SeededValues(rng), rng, 4).SerializeToString()


def test_a_resource_group_keeps_the_pipeline_native_and_runs_once_per_resource():
    data = _request("traces")
    batch = SIGNALS["traces"][5](data)
    groups = [make_group("statements", "traces", "resource",
                     ['set(attributes["n"], 1)',
                      'set(attributes["seen"], "yes") where attributes["n"] == 1'])]
    pipeline = TransformPipeline(groups)
    assert pipeline.native
    ran = pipeline.execute(batch)
    assert ran == 2 * len(batch.resources())  # not once per span
    for r in batch.resources():
        attrs = {kv["key"]: kv["value"] for kv in r["resource"]["attributes"]}
        assert attrs["n"] == {"int_value": 1} and attrs["seen"] == {"string_value": "yes"}


def test_rows_no_statement_changed_go_out_byte_for_byte():
    data = _request("traces", seed=11)
    batch = SIGNALS["traces"][5](data)
    names = [s["scope"]["name"] if s.get("scope") else "" for s in batch.scopes()]
    target = names[0]
    groups = [make_group("statements", "traces", "scope",
                     [f'set(attributes["touched"], true) where name == {quote(target)}'])]
    TransformPipeline(groups).execute(batch)
    before = SIGNALS["traces"][0].FromString(data)
    after = SIGNALS["traces"][0].FromString(batch.encode(verbatim=True))
    for rb, ra in zip(before.resource_spans, after.resource_spans):
        assert rb.resource.SerializeToString() == ra.resource.SerializeToString()
        for sb, sa in zip(rb.scope_spans, ra.scope_spans):
            assert sb.spans == sa.spans
            if sb.scope.name != target:
                assert sb.scope.SerializeToString() == sa.scope.SerializeToString()
            else:
                assert sa.scope.attributes[-1].key == "touched"


def test_ignore_mode_counts_each_failing_row():
    data = _request("logs")
    batch = SIGNALS["logs"][5](data)
    groups = [make_group("statements", "logs", "resource",
                     ['set(attributes["x"], Substring("ab", 5, 1))'], mode="ignore")]
    pipeline = TransformPipeline(groups)
    pipeline.execute(batch)
    rows = len(batch.resources())
    assert pipeline.last_run.statement_errors == rows
    assert pipeline.stats.statement_errors == rows
    assert sum(pipeline.stats.errors_by_statement.values()) == rows


def test_propagate_mode_hands_the_batch_to_the_reference():
    batch = SIGNALS["traces"][5](_request("traces"))
    groups = [make_group("conditions", "traces", "scope", ['Substring(name, 50, 1) == "a"'])]
    with pytest.raises(NeedsReference, match="scope condition failed"):
        FilterPipeline(groups).keep(batch)


def test_a_resource_filter_drops_every_record_under_the_resource():
    data = _request("traces", size=60, seed=0)  # resources of two schema URLs
    batch = SIGNALS["traces"][5](data)
    first = batch.resources()[0]["schema_url"]
    groups = [make_group("conditions", "traces", "resource", [f"schema_url == {quote(first)}"])]
    keep = FilterPipeline(groups).keep(batch)
    urls = np.array([r["schema_url"] for r in batch.resources()])
    np.testing.assert_array_equal(keep, urls[batch.column("resource")] != first)
    assert keep.any() and not keep.all()


# ---- writing a row -----------------------------------------------------------------------------


def test_set_parent_stores_every_value_kind():
    batch = SIGNALS["traces"][5](_request("traces"))
    attrs = PMap({"s": "é", "i": -(2**63), "d": float("nan"), "b": True, "y": b"\x00\xff",
                  "nil": None, "m": PMap({"l": PSlice([1, PSlice([]), PMap()])})})
    _vm.set_parent(batch, "scope", 0, attrs, 7, "url", name="n", version="v")
    scope = batch.scopes()[0]
    assert scope["schema_url"] == "url"
    assert scope["scope"]["name"] == "n" and scope["scope"]["version"] == "v"
    assert scope["scope"]["dropped_attributes_count"] == 7
    got = {kv["key"]: kv.get("value") for kv in scope["scope"]["attributes"]}
    assert list(got) == list(attrs.keys())
    assert got["s"] == {"string_value": "é"} and got["i"] == {"int_value": -(2**63)}
    assert got["y"] == {"bytes_value": b"\x00\xff"} and got["b"] == {"bool_value": True}
    assert got["nil"] == {}
    inner = got["m"]["kvlist_value"]["values"][0]["value"]["array_value"]["values"]
    assert inner[0] == {"int_value": 1}
    assert inner[1] == {"array_value": {"values": []}}
    assert inner[2] == {"kvlist_value": {"values": []}}
    # the batch encodes to what it now holds (repr: the NaN compares unequal to itself)
    again = SIGNALS["traces"][5](batch.encode())
    assert repr(again.scopes()) == repr(batch.scopes())
    assert repr(again.resources()) == repr(batch.resources())


@pytest.mark.parametrize("value, error", [
    (2**63, TypeError), (object(), TypeError), (PSlice([1j]), TypeError)])
def test_set_parent_refuses_what_otlp_cannot_hold(value, error):
    batch = SIGNALS["traces"][5](_request("traces"))
    before = batch.resources()
    with pytest.raises(error):
        _vm.set_parent(batch, "resource", 0, {"k": value}, 0, "")  # a PMap would wrap ints
    assert batch.resources() == before


def test_set_parent_checks_owner_and_row():
    batch = SIGNALS["logs"][5](_request("logs"))
    with pytest.raises(ValueError, match="owner"):
        _vm.set_parent(batch, "span", 0, PMap(), 0, "")
    with pytest.raises(IndexError):
        _vm.set_parent(batch, "resource", len(batch.resources()), PMap(), 0, "")
    with pytest.raises(IndexError):
        _vm.set_parent(batch, "scope", -1, PMap(), 0, "")


def test_scopes_of_a_dropped_resource_are_not_judged():
    data = _request("traces", size=60, seed=0)  # resources of two schema URLs
    batch = SIGNALS["traces"][5](data)
    first = batch.resources()[0]["schema_url"]
    groups = [make_group("conditions", "traces", "resource", [f"schema_url == {quote(first)}"]),
              make_group("conditions", "traces", "scope", ['Substring(name, 50, 1) == "a"'],
                     mode="silent")]
    pipeline = FilterPipeline(groups)
    pipeline.keep(batch)
    owners = batch.column("scopes.resource")
    urls = np.array([r["schema_url"] for r in batch.resources()])
    judged = int((urls[owners] != first).sum())
    assert 0 < judged < len(owners)
    assert pipeline.last_run.statement_errors == judged
    _, stats = FilterProcessor(groups).process(payload_from_batch(SIGNALS["traces"][5](data)))
    assert stats.statement_errors == judged
