"""Transforms over a batch decoded with ``keep_other_attributes``: only the values of the
attribute keys the statements read or write are decoded, the other entries stay opaque and are
copied from the input when a changed record is encoded (``TransformPipeline.transform_otlp``).

The differential test draws groups of statements that touch attributes by key only (sets,
deletes, pattern replacements, concatenations, with where clauses) over generated batches whose
records hold each key once (a record that repeats a key makes the decode whole), and compares
the result with the reference ``TransformProcessor``; then come handpicked cases and the API's
refusals.
"""

from __future__ import annotations

import random

import pytest
from engine_strategies import (
    CONTEXT_OF,
    KEYS,
    MISSING_KEY,
    SIGNALS,
    STRING_PATHS,
    WORDS,
    SeededValues,
    build_request,
    conditions,
    literals,
    make_group,
    normalized,
    quote,
    seeds,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ottl.derive import NeedsReference
from ottl.eval.batch_model import batch_from_payload, payload_from_batch
from ottl.eval.processors import ProcessingError, TransformProcessor
from ottl.pipeline import TransformPipeline
from ottl.run import run

SLOW = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example]


def _unique_keys(signal: str, data: bytes) -> bytes:
    """The request with each record's attributes holding each key once (the first)."""
    req_cls, group_field, scope_field, record_field, *_ = SIGNALS[signal]
    req = req_cls.FromString(data)
    for group in getattr(req, group_field):
        for scope in getattr(group, scope_field):
            for record in getattr(scope, record_field):
                first = {}
                for kv in record.attributes:
                    first.setdefault(kv.key, kv)
                del record.attributes[:]
                record.attributes.extend(first.values())
    return req.SerializeToString()


@st.composite
def requests(draw, signal: str, size: int) -> bytes:
    rng = random.Random(draw(seeds))
    data = build_request(signal, size, SeededValues(rng), rng).SerializeToString()
    return _unique_keys(signal, data)


@st.composite
def keyed_statement(draw, context: str) -> str:
    """A native statement that touches the record's attributes by key only."""
    attrs = f"{context}.attributes"
    key, other = (quote(draw(st.sampled_from([*KEYS, MISSING_KEY, "new"]))) for _ in range(2))
    text = draw(st.sampled_from([
        f"set({attrs}[{key}], {draw(literals(context))})",
        f"set({attrs}[{key}], {attrs}[{other}])",
        f"set({attrs}[{key}], {draw(st.sampled_from(STRING_PATHS[context]))})",
        f"delete_key({attrs}, {key})",
        f'replace_pattern({attrs}[{key}], "a", "X")',
        f'replace_match({attrs}[{key}], "*b", "Y")',
        f'set({attrs}[{key}], Concat([{attrs}[{other}], "-"], ""))',
        f"set({STRING_PATHS[context][0]}, {quote(draw(st.sampled_from(WORDS)))})",
    ]))
    if draw(st.booleans()):
        text += f" where {draw(conditions(context))}"
    return text


def _check(signal: str, data: bytes, texts: list[str]) -> None:
    req_cls, *_, decode = SIGNALS[signal]
    groups = [make_group("statements", signal, CONTEXT_OF[signal], texts)]
    pipeline = TransformPipeline(groups)
    assert pipeline.native, pipeline.reasons
    keys = pipeline.attribute_keys(signal)
    if keys is None:  # a condition read a whole map: nothing to test here
        return
    assert decode(data, attribute_keys=keys, keep_other_attributes=True).attributes_complete
    try:
        out, _ = TransformProcessor(groups).process(payload_from_batch(decode(data)))
    except ProcessingError:
        with pytest.raises(NeedsReference):
            pipeline.transform_otlp(data, signal)
        return
    expected = normalized(req_cls.FromString(batch_from_payload(out).encode()))
    assert normalized(req_cls.FromString(pipeline.transform_otlp(data, signal))) == expected


@pytest.mark.parametrize("signal", ["traces", "logs"])
@pytest.mark.parametrize("size", [1, 7, 1025])
def test_keyed_statements_over_kept_attributes_equal_the_reference(signal, size):
    @settings(max_examples=40 if size < 100 else 6, deadline=None, suppress_health_check=SLOW)
    @given(requests(signal, size), st.lists(keyed_statement(CONTEXT_OF[signal]), min_size=1,
                                            max_size=3))
    def go(data, texts):
        _check(signal, data, texts)

    go()


# ---- handpicked cases --------------------------------------------------------------------------

def _traces(size: int = 50, seed: int = 3) -> bytes:
    rng = random.Random(seed)
    data = build_request("traces", size, SeededValues(rng), rng).SerializeToString()
    return _unique_keys("traces", data)


DECODE = SIGNALS["traces"][5]
REQUEST = SIGNALS["traces"][0]


def test_a_kept_batch_holds_every_entry_and_shows_only_the_listed_values():
    data = _traces()
    batch = DECODE(data, attribute_keys=["k"], keep_other_attributes=True)
    whole = DECODE(data)
    assert batch.attributes_projected and batch.attributes_complete
    assert batch.attribute_keys == frozenset({"k"})
    keys = [batch.string(k) for k in batch.column("attributes.key")]
    assert keys == [whole.string(k) for k in whole.column("attributes.key")]
    tags, whole_tags = batch.column("attributes.tag"), whole.column("attributes.tag")
    listed = [k == "k" for k in keys]
    assert all(t == w for t, w, kept in zip(tags, whole_tags, listed) if kept)
    assert any(t == 14 for t, kept in zip(tags, listed) if not kept)  # OTTL_V_OPAQUE
    assert batch.encode(verbatim=True) == whole.encode(verbatim=True)
    for refused in (lambda: list(batch.records()), batch.to_dict, batch.encode,
                    batch.encode_json):
        with pytest.raises(ValueError, match="whole batch"):
            refused()


def test_a_record_that_repeats_a_key_makes_the_decode_whole():
    req = REQUEST.FromString(_traces(5))
    span = req.resource_spans[0].scope_spans[-1].spans[0]
    span.attributes.add(key="dup").value.int_value = 1
    span.attributes.add(key="dup").value.int_value = 2
    batch = DECODE(req.SerializeToString(), attribute_keys=["k"], keep_other_attributes=True)
    assert not batch.attributes_projected and batch.attribute_keys is None


def test_keep_other_attributes_needs_attribute_keys():
    with pytest.raises(ValueError, match="needs attribute_keys"):
        DECODE(_traces(), keep_other_attributes=True)


def test_a_statement_refuses_a_kept_batch_without_its_keys():
    batch = DECODE(_traces(), attribute_keys=["k"], keep_other_attributes=True)
    pipeline = TransformPipeline([make_group("statements", "traces", "span",
                                             ['delete_key(span.attributes, "a")'])])
    with pytest.raises(ValueError, match=r"holds \['k'\]"):
        pipeline.execute(batch)


@pytest.mark.parametrize("texts, keys", [
    (['set(span.attributes["x"], span.attributes["y"]) where span.attributes["z"] == 1'],
     {"x", "y", "z"}),
    (['delete_key(span.attributes, "x")', 'set(span.name, "n")'], {"x"}),
    (['set(span.name, "n")'], set()),
    (['keep_keys(span.attributes, ["x"])'], None),
    (['limit(span.attributes, 1, [])'], None),
    (['replace_all_patterns(span.attributes, "value", "a", "b")'], None),
    (['merge_maps(span.attributes, ParseKeyValue(span.name), "upsert")'], None),
])
def test_the_projection_of_a_transform(texts, keys):
    pipeline = TransformPipeline([make_group("statements", "traces", "span", texts)])
    assert pipeline.native, pipeline.reasons
    got = pipeline.attribute_keys("traces")
    assert got == (frozenset(keys) if keys is not None else None)
    assert pipeline.attribute_keys("logs") == frozenset()  # no log group


def test_a_spanevent_group_through_the_reference_makes_the_transform_decode_whole():
    span = make_group("statements", "traces", "span", ['delete_key(span.attributes, "x")'])
    on_vm = make_group("statements", "traces", "spanevent", ['set(attributes["e"], 1)'])
    reads_span = make_group("statements", "traces", "spanevent",
                            ['set(attributes["e"], span.end_time_unix_nano)'])
    # events decode whole under a projection; the reference builds whole spans
    assert TransformPipeline([span, on_vm]).attribute_keys("traces") == frozenset({"x"})
    assert TransformPipeline([span, reads_span]).attribute_keys("traces") is None


def test_the_transform_command_decodes_protobuf_under_the_projection():
    data = _traces(300, seed=8)
    texts = ['set(span.attributes["k"], "changed") where span.attributes["a"] != nil',
             'delete_key(span.attributes, "b")']
    fast = run(data, "statements", texts=texts, context="span")
    assert fast.batch.attributes_complete
    assert fast.batch.attribute_keys == frozenset({"k", "a", "b"})
    reference = run(data, "statements", texts=texts, context="span", engine="reference")
    assert normalized(REQUEST.FromString(fast.document)) == normalized(
        REQUEST.FromString(reference.document))
    assert repr(fast.payload) == repr(reference.payload)  # repr: NaN values
