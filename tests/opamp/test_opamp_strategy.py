"""Strategy validation, target counts and cohort monotonicity."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from opamp.strategy import (
    FAIL, INCONCLUSIVE, PASS, Gate, Step, Strategy, StrategyError, Window, cohort_key, judge,
    parse_strategy, place, select_cohort, target_count,
)


def test_steps_must_rise_and_end_at_one() -> None:
    with pytest.raises(StrategyError, match="does not rise"):
        Strategy((Step(0.5), Step(0.5), Step(1.0)))
    with pytest.raises(StrategyError, match="does not rise"):
        Strategy((Step(0.5), Step(0.2), Step(1.0)))
    with pytest.raises(StrategyError, match="must be 1.0"):
        Strategy((Step(0.1), Step(0.5)))
    with pytest.raises(StrategyError, match="outside"):
        Strategy((Step(-0.1), Step(1.0)))
    with pytest.raises(StrategyError, match="outside"):
        Strategy((Step(1.5),))
    with pytest.raises(StrategyError, match="at least one step"):
        Strategy(())
    with pytest.raises(StrategyError, match="below min_instances"):
        Strategy((Step(1.0),), min_instances=5, max_instances=2)


def test_gates_on_unknown_metrics_are_rejected() -> None:
    with pytest.raises(StrategyError, match="unknown metric 'errors'"):
        parse_strategy({"steps": [{"weight": 1.0}], "gates": [{"metric": "errors", "max": 1}]})
    with pytest.raises(StrategyError, match="give max"):
        Gate("error_rate")


def test_parse_strategy_round_trip() -> None:
    doc = {"steps": [{"weight": 0.1, "bake_seconds": 30}, {"weight": 1.0}],
           "min_instances": 2, "max_instances": 10,
           "gates": [{"metric": "error_rate", "max": 0.01, "max_ratio": 2.0}],
           "rollback_window_seconds": 60}
    s = parse_strategy(doc)
    assert s.steps == (Step(0.1, 30.0), Step(1.0, 0.0))
    assert s.gates[0].max_ratio == 2.0
    assert parse_strategy(s.to_dict()) == s
    with pytest.raises(StrategyError, match="unknown strategy keys"):
        parse_strategy({**doc, "stepz": []})


@given(st.floats(0, 1), st.integers(0, 500), st.integers(0, 20),
       st.one_of(st.none(), st.integers(1, 50)))
def test_target_count_bounds(weight: float, eligible: int, lo: int, hi) -> None:
    if hi is not None and hi < lo:
        hi = lo if lo >= 1 else 1
    n = target_count(weight, eligible, lo, hi)
    assert 0 <= n <= eligible
    if hi is not None:
        assert n <= hi
    if weight > 0 and eligible > 0:
        assert n >= min(lo, eligible, hi if hi is not None else eligible)
        assert n >= 1
        if hi is None or math.ceil(weight * eligible) <= hi:
            assert n >= min(math.ceil(weight * eligible - 1e-9), eligible)
    else:
        assert n == 0


def test_target_count_examples() -> None:
    assert target_count(0.15, 10, 0, None) == 2  # Argo: 15% of 10 rounds up to 2
    assert target_count(0.01, 10, 0, None) == 1
    assert target_count(0.5, 10, 0, 3) == 3
    assert target_count(0.1, 10, 4, None) == 4
    assert target_count(0.1, 3, 4, None) == 3
    assert target_count(0.0, 10, 4, None) == 0


@settings(max_examples=200, deadline=None)
@given(st.text(min_size=1, max_size=8), st.integers(1, 60), st.floats(0, 1), st.floats(0, 1),
       st.integers(0, 5), st.one_of(st.none(), st.integers(5, 40)))
def test_cohorts_are_monotonic(rid: str, n: int, a: float, b: float, lo: int, hi) -> None:
    a, b = sorted((a, b))
    keys = [(f"agent{i}", f"attrs:service.instance.id=i{i}") for i in range(n)]
    small = select_cohort(rid, keys, a, lo, hi)
    large = select_cohort(rid, keys, b, lo, hi)
    assert set(small) <= set(large)
    assert len(large) == target_count(b, n, lo, hi)
    # Deterministic: the same inputs in another order give the same cohort.
    assert select_cohort(rid, list(reversed(keys)), b, lo, hi) == large


def test_cohort_key_prefers_stable_attributes() -> None:
    uid = bytes(range(16))
    assert cohort_key({"service.name": "a", "service.instance.id": "1"}, uid) == \
        cohort_key({"service.name": "a", "service.instance.id": "1"}, bytes(16))
    assert cohort_key({}, uid) == "uid:" + uid.hex()
    assert cohort_key({"host.name": "x"}, uid).startswith("uid:")


def test_places_spread_time_ordered_uids() -> None:
    # UUIDv7-like uids that differ only in their trailing bytes still spread over [0, 1).
    places = [place("r1", cohort_key({}, (0x0190_0000_0000_7000_8000_0000_0000_0000 + i)
                                     .to_bytes(16, "big"))) for i in range(400)]
    assert min(places) < 0.1 and max(places) > 0.9
    assert sum(p < 0.5 for p in places) in range(150, 251)


def w(records: int, errors: int) -> Window:
    return Window(records, records, 0, errors, max(records // 100, 1), 0.01, 1.0)


def test_judge_absolute_ratio_and_no_data() -> None:
    gate = Gate("error_rate", max=0.05)
    assert judge(gate, {"a": w(100, 1)}, []).outcome == PASS
    res = judge(gate, {"a": w(100, 1), "b": w(100, 10)}, [])
    assert res.outcome == FAIL and res.offenders == ["b"]
    assert judge(gate, {}, []).outcome == INCONCLUSIVE
    assert judge(gate, {"a": w(0, 0)}, []).outcome == INCONCLUSIVE
    ratio = Gate("error_rate", max_ratio=2.0)
    assert judge(ratio, {"a": w(100, 3)}, []).outcome == INCONCLUSIVE  # no baseline
    assert judge(ratio, {"a": w(100, 3)}, [w(100, 2)]).outcome == PASS
    assert judge(ratio, {"a": w(100, 5)}, [w(100, 2)]).outcome == FAIL
    assert judge(ratio, {"a": w(100, 1)}, [w(100, 0)]).outcome == FAIL
    assert judge(ratio, {"a": w(100, 0)}, [w(100, 0)]).outcome == PASS
