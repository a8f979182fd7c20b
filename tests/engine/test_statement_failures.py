"""A converter (or one-value editor) whose result a statement sets, failing on some records, on
the fast pipeline: records its where clause skips do not matter (the reference never computes
the value there); records it runs on are judged by the group's error mode as the reference
judges them (``ignore``/``silent``: counted, the record left alone; ``propagate``: the batch
goes to the reference, which fails it).
"""

from __future__ import annotations

import random

import numpy as np
import pytest
from engine_strategies import (
    CONTEXT_OF,
    SeededValues,
    batches,
    build_request,
    filter_agrees,
    make_group,
    transform_agrees,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue

from ottl._batch import decode_logs
from ottl.derive import NeedsReference
from ottl.engine import compile_statement
from ottl.pipeline import FilterPipeline

SLOW = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example]

# Statements whose value fails on some records of the generated batches (short or absent
# strings, text that is not JSON), with and without where clauses that skip some of those (the
# clauses themselves cannot fail: a failing condition still sends the batch to the reference).
FAILING = [
    # rune-wise (utf8_safe): a byte-wise cut of "é" gives invalid UTF-8, which the
    # reference's output cannot hold
    'set({r}.attributes["s"], Substring({r}.attributes["k"], 1, 1, true))',
    'set({r}.attributes["s"], Substring({r}.attributes["k"], 1, 1, true)) '
    'where {r}.attributes["k"] != "a"',
    'set({r}.attributes["j"], ParseJSON({r}.attributes["a"])) where {r}.attributes["a"] != nil',
    'set({r}.attributes["j"], ParseJSON(Concat(["[", {r}.attributes["b"], "]"], "")))',
    'replace_pattern({r}.attributes["k"], "a", "b") where {r}.attributes["k"] != nil',
    'set({r}.attributes["n"], Len({r}.attributes["k"]))',
    # merge_maps: a source that is not a map fails; a converter's map, or an attribute's
    'merge_maps({r}.attributes, ParseKeyValue(Concat(["k=", {r}.attributes["a"], " z=1"], "")),'
    ' "{strategy}")',
    'merge_maps({r}.attributes, {r}.attributes["k"], "{strategy}")',
    'merge_maps({r}.attributes, {r}.attributes["b"], "{strategy}") where {r}.attributes["b"] != nil',
    # a constant source: a map (stored once per batch), or one that fails on every record
    'merge_maps({r}.attributes, {{"a": 1, "new": ["x", {{"m": true}}]}}, "{strategy}")',
    'merge_maps({r}.attributes, ParseJSON("[1]"), "{strategy}") where {r}.attributes["k"] != nil',
    # expressions the VM computes as derived columns: arithmetic on what may not be a number,
    # keys into what may not be a map or list (or an index out of range); a map or list read
    # is stored as the setter stores it
    'set({r}.attributes["m"], {r}.attributes["k"] * 1.5)',
    'set({r}.attributes["m"], -{r}.attributes["k"] + 1) where {r}.attributes["k"] != nil',
    'set({r}.attributes["m"], {r}.attributes["a"]["k"])',
    'set({r}.attributes["m"], {r}.attributes["b"][1])',
    'set({r}.attributes["m"], Concat([{r}.attributes["a"] / 2, "x"], ""))',
    'set({r}.attributes["m"], Split({r}.attributes["k"], "a")[1])',
    # writes through keys, and editors of one attribute's (or a nested) value: what they
    # write into it is computed per distinct value and argument; they fail where the value
    # cannot be indexed or merged into
    'set({r}.attributes["a"]["k"], {r}.attributes["k"])',
    'set({r}.attributes["b"][1], "x") where {r}.attributes["b"] != nil',
    'set({r}.attributes["new"]["x"][2], {r}.attributes["a"])',
    'merge_maps({r}.attributes["a"], {r}.attributes["b"], "{strategy}")',
    'delete_key({r}.attributes["a"], "k")',
    'replace_pattern({r}.attributes["a"]["k"], "a", "z")',
]
# Where clauses that fail on some records: the statement fails there (judged by the error
# mode), and runs where the clause holds (the clause decided record by record where it fails)
FAILING_WHERE = [
    'set({r}.attributes["w"], 1) where ConvertCase({r}.attributes["k"], "upper") == "A"',
    'set({r}.attributes["w"], {r}.attributes["k"]) where {r}.attributes["k"] * 2 > 1',
    'set({r}.attributes["w"], "x") where {r}.attributes["k"] == nil or '
    'ConvertCase({r}.attributes["k"], "upper") == "A"',
    'set({r}.attributes["w"], Substring({r}.attributes["b"], 0, 1, true)) where '
    '{r}.attributes["a"]["k"] != nil',
]
# The same over a log body
LOG_FAILING = [
    'set(log.body["k"], log.attributes["a"])',
    'merge_maps(log.body, log.attributes["a"], "{strategy}")',
    'set(log.attributes["m"], log.body["k"])',
    'set(log.attributes["m"], log.body[0]["a"]) where log.body != nil',
    'set(log.attributes["m"], log.body * 2)',
]


@pytest.mark.parametrize("signal", ["traces", "logs"])
@pytest.mark.parametrize("size", [1, 7, 500])
def test_failing_values_are_judged_as_the_reference_judges_them(signal, size):
    record = CONTEXT_OF[signal]

    @settings(max_examples=30 if size < 100 else 6, deadline=None, suppress_health_check=SLOW)
    @given(batches(signal, size),
           st.lists(st.sampled_from(FAILING + FAILING_WHERE + LOG_FAILING * (signal == "logs")),
                    min_size=1, max_size=3),
           st.sampled_from(["propagate", "ignore", "silent"]),
           st.sampled_from(["insert", "update", "upsert"]))
    def run(drawn, texts, mode, strategy):
        _, data = drawn
        texts = [t.format(r=record, strategy=strategy) for t in texts]
        transform_agrees(signal, data, [make_group("statements", signal, record, texts, mode)])

    run()


def test_ignore_mode_counts_each_failing_record_and_leaves_it_alone():
    rng = random.Random(24)  # a batch where some records fail and most do not
    data = build_request("logs", 300, SeededValues(rng), rng, 5).SerializeToString()
    texts = ['set(log.attributes["s"], Substring(log.attributes["k"], 1, 1, true))']
    stats = transform_agrees("logs", data, [make_group("statements", "logs", "log", texts, "ignore")])
    assert stats is not None and 0 < stats.statement_errors < 300  # some fail, some do not


def test_a_failure_the_where_clause_skips_stays_native():
    req = ExportLogsServiceRequest()
    scope = req.resource_logs.add().scope_logs.add()
    for text in ['{"a": 1}', "not json", '{"b": [2]}']:
        scope.log_records.add().attributes.append(
            KeyValue(key="k", value=AnyValue(string_value=text)))
    batch = decode_logs(req.SerializeToString())
    stmt = compile_statement(
        'set(log.attributes["j"], ParseJSON(log.attributes["k"])) '
        'where IsMatch(log.attributes["k"], "^\\\\{")')
    assert stmt.native, stmt.reason
    ran = stmt.execute(batch)
    np.testing.assert_array_equal(ran, [True, False, True])
    js = [next((kv["value"] for kv in r["attributes"] if kv["key"] == "j"), None)
          for r in batch.records()]
    assert js[1] is None and js[0]["kvlist_value"]["values"][0]["key"] == "a"
    # without the clause, the failure is on a record it runs on: the reference must judge
    batch = decode_logs(req.SerializeToString())
    with pytest.raises(NeedsReference, match="1 record"):
        compile_statement('set(log.attributes["j"], ParseJSON(log.attributes["k"]))').execute(
            batch)
    errors: list = []
    batch = decode_logs(req.SerializeToString())
    ran = compile_statement('set(log.attributes["j"], ParseJSON(log.attributes["k"]))').execute(
        batch, errors=errors)
    np.testing.assert_array_equal(ran, [True, False, True])
    assert [count for count, _ in errors] == [1]


# ---- conditions whose converter fails on some records ------------------------------------------

# Conditions over the generated batches whose converter fails where the attribute is absent or
# not a string; some where the failing call is reached only on some records (after `or`/`and`).
FAILING_CONDITIONS = [
    'ConvertCase({r}.attributes["k"], "upper") == "A"',
    '{r}.attributes["k"] == nil or ConvertCase({r}.attributes["k"], "upper") == "A"',
    'ConvertCase({r}.attributes["a"], "lower") == "a" and {r}.attributes["b"] != nil',
    '{r}.attributes["b"] != nil and IsMatch(ConvertCase({r}.attributes["b"], "upper"), "^A")',
    '{r}.attributes["k"] == "a"',
    # expressions (derived columns over whole columns, the failing rows by the reference)
    '{r}.attributes["a"]["k"] == 1 or {r}.attributes["b"][0] == "a"',
    '{r}.attributes["k"] * 2 > 1 and {r}.attributes["a"] != nil',
]


@pytest.mark.parametrize("signal", ["traces", "logs"])
@pytest.mark.parametrize("size", [1, 7, 500])
def test_failing_conditions_are_judged_record_by_record_as_the_reference_judges_them(signal,
                                                                                  size):
    record = CONTEXT_OF[signal]

    @settings(max_examples=30 if size < 100 else 6, deadline=None, suppress_health_check=SLOW)
    @given(batches(signal, size),
           st.lists(st.lists(st.sampled_from(FAILING_CONDITIONS), min_size=1, max_size=2),
                    min_size=1, max_size=2),
           st.sampled_from(["propagate", "ignore", "silent"]), st.booleans())
    def run(drawn, groups_texts, mode, as_filter):
        _, data = drawn
        texts = [[t.format(r=record) for t in ts] for ts in groups_texts]
        if as_filter:
            groups = [make_group("conditions", signal, record, ts, mode) for ts in texts]
            filter_agrees(signal, data, groups)
        else:  # the conditions as each group's gate
            groups = [make_group("statements", signal, record,
                                 [f'set({record}.attributes["gated"], {i})'], mode, tuple(ts))
                      for i, ts in enumerate(texts)]
            transform_agrees(signal, data, groups)

    run()


def test_a_failing_condition_in_ignore_mode_keeps_the_filter_native():
    rng = random.Random(24)
    data = build_request("logs", 300, SeededValues(rng), rng, 5).SerializeToString()
    groups = [make_group("conditions", "logs", "log",
                         ['ConvertCase(log.attributes["k"], "upper") == "A"'], "ignore")]
    pipeline = FilterPipeline(groups)
    keep = pipeline.keep(decode_logs(data))  # no NeedsReference
    errors = pipeline.last_run.statement_errors
    assert 0 < errors < 300 and len(keep) == 300
    stats = filter_agrees("logs", data, groups)
    assert stats is not None and stats.statement_errors == errors


def test_the_filter_command_stays_native_when_a_condition_fails_on_some_records(monkeypatch):
    import ottl.run as run_module

    rng = random.Random(24)
    data = build_request("logs", 300, SeededValues(rng), rng, 5).SerializeToString()
    texts = ['ConvertCase(log.attributes["k"], "upper") == "A"']
    reference = run_module.run(data, "conditions", texts=texts, context="log",
                               error_mode="ignore", engine="reference")

    def no_reference(*_):
        raise AssertionError("the run went to the reference evaluator")

    monkeypatch.setattr(run_module, "payload_from_batch", no_reference)
    fast = run_module.run(data, "conditions", texts=texts, context="log", error_mode="ignore")
    assert fast.document == reference.document
    assert fast.stats.statement_errors == reference.stats.statement_errors > 0
    assert not fast.batch.attributes_projected  # decoded again whole to decide those records
