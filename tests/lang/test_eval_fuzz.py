"""Random statements over random records: the evaluator raises nothing but OttlError, and in
``ignore`` mode nothing at all."""

from __future__ import annotations

import logging

from hypothesis import given
from hypothesis import strategies as st
from test_resolve_fuzz import real_statements

from ottl.config import Group, Located
from ottl.eval.otlp_json import Payload, load
from ottl.eval.processors import GroupCompileError, TransformProcessor
from ottl.lang.errors import OttlError
from ottl.lang.printer import print_node

SIGNAL = {"span": "traces", "spanevent": "traces", "log": "logs", "resource": "traces", "scope": "traces"}

any_values = st.recursive(
    st.one_of(
        st.text(max_size=5).map(lambda s: {"stringValue": s}),
        st.integers(-(2**63), 2**63 - 1).map(lambda i: {"intValue": str(i)}),
        st.floats(allow_nan=False).map(lambda f: {"doubleValue": f}),
        st.booleans().map(lambda b: {"boolValue": b}),
        st.just({}),
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3).map(lambda vs: {"arrayValue": {"values": vs}}),
        st.dictionaries(st.text(max_size=3), inner, max_size=3).map(
            lambda d: {"kvlistValue": {"values": [{"key": k, "value": v} for k, v in d.items()]}}),
    ),
    max_leaves=6,
)
attributes = st.dictionaries(st.text(max_size=3), any_values, max_size=4).map(
    lambda d: [{"key": k, "value": v} for k, v in d.items()])


@st.composite
def documents(draw, signal: str) -> dict:
    if signal == "traces":
        spans = draw(st.lists(st.fixed_dictionaries({
            "name": st.text(max_size=6), "kind": st.integers(0, 5), "attributes": attributes,
            "startTimeUnixNano": st.integers(0, 2**63).map(str),
            "events": st.lists(st.fixed_dictionaries({"name": st.text(max_size=3),
                                                       "attributes": attributes}), max_size=2),
        }), min_size=1, max_size=3))
        return {"resourceSpans": [{"resource": {"attributes": draw(attributes)},
                                   "scopeSpans": [{"spans": spans}]}]}
    logs = draw(st.lists(st.fixed_dictionaries({
        "body": any_values, "attributes": attributes, "severityNumber": st.integers(0, 24),
    }), min_size=1, max_size=3))
    return {"resourceLogs": [{"resource": {"attributes": draw(attributes)},
                              "scopeLogs": [{"logRecords": logs}]}]}


@given(real_statements(), st.data())
def test_statements_over_records_raise_only_ottl_errors(case, data):
    context, tree = case
    signal = SIGNAL.get(context)
    if signal is None:
        return  # metric contexts are not evaluated yet
    payload: Payload = load(data.draw(documents(signal)))
    text = print_node(tree)
    for mode in ("propagate", "ignore"):
        group = Group("transform", signal, "statements", [Located(text)], context, mode)
        try:
            processor = TransformProcessor([group])
        except GroupCompileError:
            return
        logging.disable(logging.WARNING)
        try:
            processor.process(payload)
        except OttlError:
            assert mode == "propagate", "ignore mode must not raise"
        finally:
            logging.disable(logging.NOTSET)
