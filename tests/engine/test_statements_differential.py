"""Native statements against the reference evaluator: generated transform groups over generated
batches.

For every group of statements, ``TransformPipeline`` (the C VM, the editors' batch kernels and
the verbatim encoder) must give a request equal, field for field and in attribute order, to the
reference ``TransformProcessor`` run over the same batch's records and encoded from them. The
statements are drawn from the shapes the engine runs natively (each draw asserts the pipeline
really is native, so a regression to the fallback fails here too), with where clauses from the
condition generator. Batches straddle the VM's block of 1024 rows.
"""

from __future__ import annotations

import random

import pytest
from engine_strategies import (
    CONTEXT_OF,
    INT_PATHS,
    KEYS,
    MISSING_KEY,
    SIGNALS,
    SeededValues,
    build_request,
    STRING_PATHS,
    WORDS,
    batches,
    conditions,
    literals,
    normalized,
    quote,
)
from hypothesis import HealthCheck, Phase, given, note, settings
from hypothesis import strategies as st

from ottl import _vm
from ottl.eval.batch_model import batch_from_payload, payload_from_batch
from ottl.derive import NeedsReference
from ottl.eval.processors import ProcessingError, TransformProcessor
from ottl.pipeline import TransformPipeline
from ottl.run import groups_from_arguments

SLOW = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example]
SIZES = [(1, 40), (7, 40), (1025, 4), (3000, 2)]

# Patterns and globs over the batches' WORDS and KEYS: some match all, some a few, some none.
REGEXES = ["^a", "b$", "a", "é", "^$", "[ab]", "P.S", "(a) (b)", "^(.)", "x*", "absent"]
GLOBS = ["a*", "*b", "*", "?", "a?b", "[ab]*", "absent", "\\*", ""]
REPLACEMENTS = ["X", "", "$1", "<$0>", "${1}y", "é", "$$"]


def _keys_list(draw, allow_missing: bool = True) -> str:
    pool = [*KEYS, MISSING_KEY] if allow_missing else KEYS
    keys = draw(st.lists(st.sampled_from(pool), max_size=4))
    return "[" + ", ".join(quote(k) for k in keys) + "]"


@st.composite
def statements(draw, context: str):
    """One native statement of ``context``, maybe with a where clause."""
    attrs = f"{context}.attributes"
    key = draw(st.sampled_from([*KEYS, MISSING_KEY]))
    string_target = draw(st.one_of(st.sampled_from(STRING_PATHS[context][:2]),
                                   st.just(f"{attrs}[{quote(key)}]")))
    regex, glob = draw(st.sampled_from(REGEXES)), draw(st.sampled_from(GLOBS))
    repl = draw(st.sampled_from(REPLACEMENTS))
    literal = draw(literals(context))
    kind = draw(st.sampled_from([
        "set_attr", "set_field", "delete_key", "keep_keys", "limit", "delete_matching_keys",
        "keep_matching_keys", "replace_pattern", "replace_match", "replace_all_patterns",
        "replace_all_matches", "truncate_all", "concat", "append", "one_map", "row_editor",
        "map_literal", "whole_map",
    ]))
    if kind == "set_attr":
        value = draw(st.one_of(st.just(literal), st.sampled_from(STRING_PATHS[context]),
                               st.sampled_from(INT_PATHS[context][:3]),
                               st.just(f"{attrs}[{quote(draw(st.sampled_from(KEYS)))}]")))
        text = f"set({attrs}[{quote(key)}], {value})"
    elif kind == "set_field":
        target = draw(st.sampled_from(STRING_PATHS[context][:2]))
        value = draw(st.one_of(st.sampled_from([quote(w) for w in WORDS]),
                               st.sampled_from(STRING_PATHS[context])))
        text = f"set({target}, {value})"
    elif kind == "delete_key":
        text = f"delete_key({attrs}, {quote(key)})"
    elif kind == "keep_keys":
        text = f"keep_keys({attrs}, {_keys_list(draw)})"
    elif kind == "limit":
        prio = draw(st.lists(st.sampled_from([*KEYS, MISSING_KEY]), max_size=2, unique=True))
        n = draw(st.integers(len(prio), 4))
        text = f"limit({attrs}, {n}, [{', '.join(quote(k) for k in prio)}])"
    elif kind in ("delete_matching_keys", "keep_matching_keys"):
        text = f"{kind}({attrs}, {quote(regex)})"
    elif kind == "replace_pattern":
        text = f"replace_pattern({string_target}, {quote(regex)}, {quote(repl)})"
    elif kind == "replace_match":
        text = f"replace_match({string_target}, {quote(glob)}, {quote(repl)})"
    elif kind == "replace_all_patterns":
        mode = draw(st.sampled_from(["key", "value"]))
        text = f"replace_all_patterns({attrs}, {quote(mode)}, {quote(regex)}, {quote(repl)})"
    elif kind == "replace_all_matches":
        text = f"replace_all_matches({attrs}, {quote(glob)}, {quote(repl)})"
    elif kind == "truncate_all":
        n = draw(st.integers(0, 4))
        text = f"truncate_all({attrs}, {n})"
    elif kind == "append":  # a list written: stored in the value pool once per distinct value
        values = draw(st.lists(literals(context), max_size=2))
        text = (f"append({attrs}[{quote(key)}], value={literal})" if draw(st.booleans())
                else f"append({attrs}[{quote(key)}], values=[{', '.join(values)}])")
    elif kind == "one_map":  # a map editor of one (map-valued) attribute
        text = draw(st.sampled_from([
            f"flatten({attrs}[{quote(key)}])",
            f'flatten({attrs}[{quote(key)}], "p", 1)',
            f"keep_keys({attrs}[{quote(key)}], {_keys_list(draw)})",
            f"limit({attrs}[{quote(key)}], 1, [])",
            f'replace_all_patterns({attrs}[{quote(key)}], "key", {quote(regex)}, "x")',
        ]))
    elif kind == "row_editor":  # whole maps through the reference editor, record by record
        text = draw(st.sampled_from([
            f"flatten({attrs})", f'flatten({attrs}, "p", 1)',
            f"flatten({attrs}, depth=2, resolveConflicts=true)", f"stringify_all({attrs})",
        ]))
    elif kind == "map_literal":  # stored once per batch
        text = draw(st.sampled_from([f'set({attrs}[{quote(key)}], {{"m": [1, {{"n": "x"}}]}})',
                                     f'set({attrs}[{quote(key)}], ["a", 2.5, true])']))
    elif kind == "whole_map":  # a whole map as a part: built per record, or per parent
        owner = draw(st.sampled_from([attrs, "resource.attributes", "scope.attributes"]))
        parent = draw(st.sampled_from(["resource.attributes", "scope.attributes"]))
        strategy = draw(st.sampled_from(["insert", "update", "upsert"]))
        one = f"{attrs}[{quote(key)}]"
        text = draw(st.sampled_from([
            f"set({one}, Len({owner}))", f"set({one}, Keys({owner}))",
            f"set({one}, {parent})", f"set({STRING_PATHS[context][0]}, Len({owner}))",
            f'merge_maps({attrs}, {parent}, "{strategy}")',
            f'merge_maps({one}, {parent}, "{strategy}")',
            f"set({'log.body' if context == 'log' else one}, {parent})",
            # keys read from the record
            f"set({one}, {attrs}[{STRING_PATHS[context][0]}])",
            f'set({one}, {parent}[{attrs}["k"]])',
            # the body as a string: set only where the value is a string
            *([f"set(log.body.string, {one})", f"set(log.body.string, {literal})",
               f"set(log.body.string, {INT_PATHS[context][0]})",
               "set(log.body.string, log.body)"] if context == "log" else []),
        ]))
    else:
        parts = draw(st.lists(st.one_of(st.sampled_from(STRING_PATHS[context]),
                                        st.just(f"{attrs}[{quote(key)}]"),
                                        st.sampled_from([quote(w) for w in WORDS[:4]])),
                              min_size=1, max_size=3))
        sep = quote(draw(st.sampled_from(["", "-", "é"])))
        target = draw(st.one_of(st.just(f"{attrs}[{quote(key)}]"),
                                st.just(STRING_PATHS[context][0])))
        text = f"set({target}, Concat([{', '.join(parts)}], {sep}))"
    if draw(st.integers(0, 2)) == 0:
        text += f" where {draw(conditions(context))}"
    return text


def _reference(signal: str, data: bytes, texts: list[str]):
    req_cls, *_, decode = SIGNALS[signal]
    groups = groups_from_arguments("statements", texts, context=CONTEXT_OF[signal],
                                   signal=signal)
    out, _ = TransformProcessor(groups).process(payload_from_batch(decode(data)))
    return normalized(req_cls.FromString(batch_from_payload(out).encode())), groups


def _native(signal: str, data: bytes, groups):
    req_cls, *_, decode = SIGNALS[signal]
    pipeline = TransformPipeline(groups)
    assert pipeline.native, pipeline.reasons
    batch = decode(data)
    pipeline.execute(batch)
    return normalized(req_cls.FromString(batch.encode(verbatim=True)))


def _first_difference(a, b) -> str:
    which = "resource_spans" if hasattr(a, "resource_spans") else "resource_logs"
    for i, (ga, gb) in enumerate(zip(getattr(a, which), getattr(b, which))):
        if ga != gb:
            return f"{which}[{i}]:\nreference {ga}\nnative {gb}"
    return "the requests differ in their number of resources"


def _check(signal: str, data: bytes, texts: list[str]) -> None:
    """Where the reference fails (error_mode propagate), the native run must not hand out a
    result: it raises NeedsReference, so the caller runs the reference and reports its error."""
    try:
        expected, groups = _reference(signal, data, texts)
    except ProcessingError:
        groups = groups_from_arguments("statements", texts, context=CONTEXT_OF[signal],
                                       signal=signal)
        with pytest.raises(NeedsReference):
            _native(signal, data, groups)
        return
    for scalar in (False, True):
        _vm.force_scalar(scalar)
        try:
            got = _native(signal, data, groups)
        finally:
            _vm.force_scalar(False)
        if got != expected:
            raise AssertionError(f"{texts} ({'scalar' if scalar else 'simd'} kernels): "
                                 f"{_first_difference(expected, got)}")


@pytest.mark.parametrize("signal", ["traces", "logs"])
@pytest.mark.parametrize("size, examples", SIZES, ids=[str(s[0]) for s in SIZES])
def test_native_statements_equal_the_reference(signal, size, examples):
    context = CONTEXT_OF[signal]

    @settings(max_examples=examples, deadline=None, suppress_health_check=SLOW,
              phases=tuple(Phase) if size < 1024 else (Phase.explicit, Phase.reuse,
                                                       Phase.generate))
    @given(batches(signal, size), st.lists(statements(context), min_size=1, max_size=4))
    def run(drawn, texts):
        _, data = drawn
        note(repr(texts))
        _check(signal, data, texts)

    run()


HANDPICKED = {
    "span": [
        ['keep_keys(span.attributes, ["k", "a"])', 'set(span.attributes["new"], span.name)'],
        ['limit(span.attributes, 1, ["b"])', 'limit(span.attributes, 0, [])'],
        ['replace_all_patterns(span.attributes, "key", "^(.)", "$1$1")'],
        ['replace_all_patterns(span.attributes, "key", ".*", "same")'],
        ['replace_all_patterns(span.attributes, "value", "a", "$0$0") where span.kind == 2'],
        ['replace_pattern(span.name, "(a) (b)", "$2 $1")', 'replace_match(span.name, "*", "x")'],
        ['truncate_all(span.attributes, 1)', 'delete_matching_keys(span.attributes, "^h")'],
        ['set(span.name, Concat([span.name, span.attributes["k"], "-"], "/"))'],
        ['set(span.attributes["c"], Concat([resource.attributes["a"], scope.name], ""))'],
        # map and list results, stored in the value pool and read back
        ['set(span.attributes["parts"], Split(span.name, " "))',
         'set(span.attributes["n"], Len(span.attributes["parts"]))'],
        ['set(span.attributes["kv"], ParseKeyValue(Concat(["k=", span.name, " b=1"], "")))',
         'keep_keys(span.attributes, ["kv", "k"])'],
    ],
    "log": [
        ['keep_keys(log.attributes, [])', 'set(log.attributes["x"], 1)'],
        ['replace_pattern(log.attributes["k"], "a", "b")', 'limit(log.attributes, 2, ["a", "b"])'],
        ['replace_all_matches(log.attributes, "*", "all")', 'keep_matching_keys(log.attributes, "a")'],
        ['set(log.severity_text, Concat([log.severity_text, log.attributes["a"]], ":"))'],
        ['set(log.body, Split(log.severity_text, "a"))',
         'set(log.attributes["j"], ParseJSON(Concat(["{\\"n\\": [", Len(log.severity_text),'
         ' ", {}]}"], "")))'],
    ],
}


@pytest.mark.parametrize("signal", ["traces", "logs"])
def test_handpicked_statements(signal):
    context = CONTEXT_OF[signal]
    rng = random.Random(7)
    for texts in HANDPICKED[context]:
        for size, pool in ((1, 0), (9, 0), (1100, 6)):
            req = build_request(signal, size, SeededValues(rng), rng, pool)
            _check(signal, req.SerializeToString(), texts)
