"""Label selectors against a direct transcription of the Kubernetes rules."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from opamp.selector import (
    LabelSelector, Requirement, SelectorError, label_string, labels_from_attributes,
    parse_selector,
)

KEYS = ["app", "env", "tier", "zone"]
VALUES = ["a", "b", "c", "prod"]


def k8s_matches(selector_doc: dict, labels: dict) -> bool:
    """apimachinery's rule, written out plainly: matchLabels are ANDed equalities, each
    expression by its operator; absent key: In false, NotIn true, Exists false,
    DoesNotExist true."""
    for k, v in (selector_doc.get("matchLabels") or {}).items():
        if labels.get(k) != v:
            return False
    for e in selector_doc.get("matchExpressions") or []:
        has = e["key"] in labels
        value = labels.get(e["key"])
        vals = set(e.get("values") or [])
        ok = {
            "In": has and value in vals,
            "NotIn": (not has) or value not in vals,
            "Exists": has,
            "DoesNotExist": not has,
        }[e["operator"]]
        if not ok:
            return False
    return True


expressions = st.one_of(
    st.builds(lambda k, op, vs: {"key": k, "operator": op, "values": vs},
              st.sampled_from(KEYS), st.sampled_from(["In", "NotIn"]),
              st.lists(st.sampled_from(VALUES), min_size=1, max_size=3)),
    st.builds(lambda k, op: {"key": k, "operator": op},
              st.sampled_from(KEYS), st.sampled_from(["Exists", "DoesNotExist"])),
)
selector_docs = st.builds(
    lambda ml, me: {"matchLabels": ml, "matchExpressions": me},
    st.dictionaries(st.sampled_from(KEYS), st.sampled_from(VALUES), max_size=2),
    st.lists(expressions, max_size=4),
)
label_sets = st.dictionaries(st.sampled_from(KEYS), st.sampled_from(VALUES), max_size=4)


@settings(max_examples=400, deadline=None)
@given(selector_docs, label_sets)
def test_selector_agrees_with_kubernetes_rules(doc: dict, labels: dict) -> None:
    assert parse_selector(doc).matches(labels) == k8s_matches(doc, labels)


@given(label_sets)
def test_empty_selector_matches_everything(labels: dict) -> None:
    assert parse_selector({}).matches(labels)
    assert LabelSelector.everything().matches(labels)
    assert LabelSelector.everything().is_everything


def test_none_selector_is_refused() -> None:
    with pytest.raises(SelectorError, match="write {}"):
        parse_selector(None)


def test_not_in_is_true_for_absent_key() -> None:
    sel = parse_selector({"matchExpressions": [{"key": "env", "operator": "NotIn",
                                                "values": ["prod"]}]})
    assert sel.matches({})
    assert sel.matches({"env": "dev"})
    assert not sel.matches({"env": "prod"})


@pytest.mark.parametrize("expr,message", [
    ({"key": "a", "operator": "In", "values": []}, "needs at least one value"),
    ({"key": "a", "operator": "NotIn"}, "needs at least one value"),
    ({"key": "a", "operator": "Exists", "values": ["x"]}, "takes no values"),
    ({"key": "a", "operator": "DoesNotExist", "values": ["x"]}, "takes no values"),
    ({"operator": "Exists"}, "key is required"),
    ({"key": "a"}, "operator is required"),
    ({"key": "a", "operator": "Gt", "values": ["1"]}, "not one of"),
    ({"key": "a", "operator": "In", "values": ["x"], "extra": 1}, "unknown keys"),
])
def test_validation(expr: dict, message: str) -> None:
    with pytest.raises(SelectorError, match=message) as info:
        parse_selector({"matchExpressions": [expr]})
    assert "matchExpressions[0]" in str(info.value)


def test_match_labels_validation() -> None:
    with pytest.raises(SelectorError, match="must be a string"):
        parse_selector({"matchLabels": {"a": 1}})
    with pytest.raises(SelectorError, match="unknown selector keys"):
        parse_selector({"matchLabel": {"a": "b"}})


def test_requirement_direct_validation() -> None:
    with pytest.raises(SelectorError):
        Requirement("", "Exists")


def test_round_trip_through_dict() -> None:
    doc = {"matchLabels": {"app": "a"},
           "matchExpressions": [{"key": "env", "operator": "In", "values": ["b", "c"]}]}
    assert parse_selector(parse_selector(doc).to_dict()) == parse_selector(doc)


def test_label_string_forms() -> None:
    assert label_string(True) == "true"
    assert label_string(False) == "false"
    assert label_string(42) == "42"
    assert label_string(1.5) == "1.5"
    assert label_string("x") == "x"
    assert label_string(b"\x01\xff") == "01ff"
    assert label_string([1]) is None
    assert label_string(None) is None


def test_identifying_attributes_win() -> None:
    labels = labels_from_attributes([("service.name", "api")],
                                    [("service.name", "other"), ("canary", True),
                                     ("list", [1, 2])])
    assert labels == {"service.name": "api", "canary": "true"}
