"""The lambda converters: the reference's test tables and edge cases."""

from __future__ import annotations

import pytest

from ottl.eval.errors import EvalError
from ottl.eval.funcs import IMPLEMENTATIONS, load_all
from ottl.eval.getters import Getter, LambdaArg
from ottl.eval.values import PMap, PSlice

load_all()
C = Getter.constant


def lam(params, fn):
    """A lambda whose body is a Python function of its bound parameters."""

    def call(ctx, *values):
        assert len(values) == len(params)
        return fn(*values)

    return LambdaArg(tuple(params), call)


def failing(msg="eval failed"):
    def boom(*_):
        raise EvalError(msg)

    return boom


def run(name, **args):
    return IMPLEMENTATIONS[name](args)(None)


# --- All / Any -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "source,pred,want",
    [
        (PSlice([1, 2, 3]), lambda i, v: v > 0, True),
        (PSlice([1, -2, 3]), lambda i, v: v > 0, False),
        (PSlice(), lambda i, v: False, True),
        (PMap({"a": 1, "b": 2}), lambda k, v: k in ("a", "b"), True),
        (PMap({"a": 1, "b": 2}), lambda k, v: v == 1, False),
        ([1, 2], lambda i, v: isinstance(i, int), True),
        ({"x": "y"}, lambda k, v: v == "y", True),
    ],
)
def test_all(source, pred, want):
    assert run("All", source=C(source), predicate=lam(("k", "v"), pred)) is want


@pytest.mark.parametrize(
    "source,pred,want",
    [
        (PSlice([1, 2, 3]), lambda i, v: v == 2, True),
        (PSlice([1, 2, 3]), lambda i, v: v == 5, False),
        (PSlice(), lambda i, v: True, False),
        (PMap({"a": 1}), lambda k, v: k == "a", True),
        (PMap(), lambda k, v: True, False),
    ],
)
def test_any(source, pred, want):
    assert run("Any", source=C(source), predicate=lam(("k", "v"), pred)) is want


def test_all_stops_at_first_false_and_any_at_first_true():
    seen = []

    def pred(i, v):
        seen.append(i)
        return v != 2

    run("All", source=C(PSlice([1, 2, 3])), predicate=lam(("i", "v"), pred))
    assert seen == [0, 1]
    seen.clear()
    run("Any", source=C(PSlice([1, 2, 3])), predicate=lam(("i", "v"), lambda i, v: pred(i, v)))
    assert seen == [0]


@pytest.mark.parametrize("name", ["All", "Any", "Filter", "Find", "MapEach"])
def test_unsupported_sources(name):
    args = {"source": C(123), "predicate": lam(("k", "v"), lambda k, v: True),
            "mapper": lam(("k", "v"), lambda k, v: v)}
    with pytest.raises(EvalError, match="unsupported type provided: int64"):
        run(name, **args)
    args["source"] = C(None)
    with pytest.raises(EvalError, match="unsupported type provided: <nil>"):
        run(name, **args)


@pytest.mark.parametrize("name", ["All", "Any", "Filter", "Find"])
def test_predicate_must_return_bool(name):
    args = {"source": C(PMap({"a": 1})), "predicate": lam(("k", "v"), lambda k, v: 123),
            "mapper": None}
    with pytest.raises(EvalError) as err:
        run(name, **args)
    assert "error while evaluating lambda function on map item (a," in str(err.value)
    assert "lambda expression must return a value of type bool, got int64" in str(err.value)
    args["source"] = C(PSlice([1]))
    with pytest.raises(EvalError, match=r"on slice item \(0, 1\)"):
        run(name, **args)


@pytest.mark.parametrize("name", ["All", "Any", "Filter", "Find", "MapEach"])
def test_lambda_errors_are_wrapped(name):
    args = {"source": C(PMap({"key": "value"})), "predicate": lam(("k", "v"), failing()),
            "mapper": lam(("k", "v"), failing())}
    with pytest.raises(EvalError) as err:
        run(name, **args)
    assert "error while evaluating lambda function on map item (key, value): eval failed" == str(
        err.value
    )


# --- Filter --------------------------------------------------------------------------------------


def test_filter_slice_and_map():
    got = run("Filter", source=C(PSlice([1, 2, 3, 4])),
              predicate=lam(("i", "v"), lambda i, v: v % 2 == 0))
    assert got == PSlice([2, 4]) and isinstance(got, PSlice)
    got = run("Filter", source=C(PMap({"a": 1, "b": 2, "c": 3})),
              predicate=lam(("k", "v"), lambda k, v: k != "b"))
    assert got == PMap({"a": 1, "c": 3}) and list(got) == ["a", "c"]


def test_filter_copies_and_empty():
    inner = PMap({"x": 1})
    src = PSlice([inner])
    got = run("Filter", source=C(src), predicate=lam(("i", "v"), lambda i, v: True))
    got[0]["x"] = 2
    assert inner["x"] == 1
    assert run("Filter", source=C(PMap()), predicate=lam(("k", "v"), lambda k, v: True)) == PMap()


# --- Find ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "source,pred,mapper,want",
    [
        (PMap({"target": "found", "other": "miss"}), lambda k, v: k == "target", None, "found"),
        (PMap({"a": "b"}), lambda k, v: False, None, None),
        (PSlice(["a", "b", "c"]), lambda i, v: i == 1, None, "b"),
        (PSlice(["a"]), lambda i, v: False, None, None),
        (PMap(), lambda k, v: True, None, None),
        (PSlice(), lambda k, v: True, None, None),
        (PSlice(["match1", "match2", "match3"]), lambda i, v: v in ("match1", "match2"), None,
         "match1"),
        (PMap({"target": "found", "other": "miss"}), lambda k, v: k == "target",
         lambda k, v: f"{k}:{v}", "target:found"),
        (PSlice(["a", "b", "c"]), lambda i, v: i == 1, lambda i, v: f"{i}:{v}", "1:b"),
    ],
)
def test_find(source, pred, mapper, want):
    got = run("Find", source=C(source), predicate=lam(("k", "v"), pred),
              mapper=None if mapper is None else lam(("k", "v"), mapper))
    assert got == want


def test_find_returns_the_map_value_itself():
    inner = PMap({"x": 1})
    got = run("Find", source=C(PSlice([inner])), predicate=lam(("i", "v"), lambda i, v: True),
              mapper=None)
    assert got is inner


def test_find_mapper_errors():
    with pytest.raises(EvalError) as err:
        run("Find", source=C(PMap({"target": "found"})),
            predicate=lam(("k", "_"), lambda k, _: k == "target"),
            mapper=lam(("k", "v"), failing("mapper failed")))
    assert "error while evaluating mapper lambda function on item (target," in str(err.value)
    assert "mapper failed" in str(err.value)
    with pytest.raises(EvalError, match="must return a value of type <nil>, got <nil>"):
        run("Find", source=C(PSlice([1])), predicate=lam(("i", "v"), lambda i, v: True),
            mapper=lam(("i", "v"), lambda i, v: None))


# --- MapEach -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "source,mapper,want",
    [
        (PMap({"a": 1, "b": 2}), lambda k, v: v * 2, {"a": 2, "b": 4}),
        (PMap({"a": "1"}), lambda k, v: k + v, {"a": "a1"}),
        (PMap(), lambda k, v: "unused", {}),
        (PSlice([1, 2, 3]), lambda i, v: i + v, [1, 3, 5]),
        (PSlice(), lambda i, v: "unused", []),
        (PSlice(["a", "b"]), lambda i, v: PMap({"index": i, "value": v}),
         [{"index": 0, "value": "a"}, {"index": 1, "value": "b"}]),
        (PSlice([1, 2]), lambda i, v: PSlice([i, v]), [[0, 1], [1, 2]]),
        (PMap({"a": "1"}), lambda k, v: {"key": k, "value": v}, {"a": {"key": "a", "value": "1"}}),
        (PMap({"count": 2}), lambda k, v: [k, v], {"count": ["count", 2]}),
    ],
)
def test_map_each(source, mapper, want):
    got = run("MapEach", source=C(source), mapper=lam(("k", "v"), mapper))
    assert isinstance(got, PMap if isinstance(source, PMap) else PSlice)
    assert got.as_raw() == want


def test_map_each_result_errors():
    with pytest.raises(EvalError, match="must return a value of type <nil>, got <nil>"):
        run("MapEach", source=C(PSlice([1])), mapper=lam(("i", "v"), lambda i, v: None))
    with pytest.raises(EvalError, match=r"error while converting lambda function result on map "
                                        r"item \(key, "):
        run("MapEach", source=C(PMap({"key": "value"})),
            mapper=lam(("k", "v"), lambda k, v: object()))


def test_map_each_copies_returned_maps():
    shared = PMap({"x": 1})
    got = run("MapEach", source=C(PSlice([1, 2])), mapper=lam(("i", "v"), lambda i, v: shared))
    got[0]["x"] = 5
    assert shared["x"] == 1 and got[1]["x"] == 1


# --- MapKeys -------------------------------------------------------------------------------------


def test_map_keys():
    got = run("MapKeys", source=C(PMap({"a": 1, "b": 2})),
              key_mapper=lam(("k", "v"), lambda k, v: k.upper()))
    assert got == PMap({"A": 1, "B": 2})


def test_map_keys_collisions_keep_first_position_last_value():
    got = run("MapKeys", source=C(PMap({"a1": 1, "b": 2, "a2": 3})),
              key_mapper=lam(("k", "_"), lambda k, _: k[0]))
    assert list(got.items()) == [("a", 3), ("b", 2)]


def test_map_keys_errors():
    with pytest.raises(EvalError, match="must return a value of type string, got int64"):
        run("MapKeys", source=C(PMap({"a": 1})), key_mapper=lam(("k", "v"), lambda k, v: 1))
    with pytest.raises(EvalError, match="expected pcommon.Map but got pcommon.Slice"):
        run("MapKeys", source=C(PSlice([1])), key_mapper=lam(("k", "v"), lambda k, v: k))
    with pytest.raises(EvalError, match=r"on map item \(a, 1\): eval failed"):
        run("MapKeys", source=C(PMap({"a": 1})), key_mapper=lam(("k", "v"), failing()))


# --- Reduce --------------------------------------------------------------------------------------


def test_reduce_sum_and_concat():
    got = run("Reduce", source=C(PSlice([1, 2, 3])), seed=C(0),
              accumulator=lam(("acc", "i", "v"), lambda acc, i, v: acc + v))
    assert got == 6
    got = run("Reduce", source=C(PMap({"a": "x", "b": "y"})), seed=C(""),
              accumulator=lam(("acc", "k", "v"), lambda acc, k, v: acc + k + v))
    assert got == "axby"


def test_reduce_empty_returns_seed_and_results_are_unchecked():
    seed = PMap({"s": 1})
    assert run("Reduce", source=C(PSlice()), seed=C(seed),
               accumulator=lam(("a", "i", "v"), failing())) is seed
    assert run("Reduce", source=C(PSlice([1])), seed=C(0),
               accumulator=lam(("a", "i", "v"), lambda a, i, v: None)) is None


def test_reduce_errors_pass_through():
    with pytest.raises(EvalError, match="^eval failed$"):
        run("Reduce", source=C(PSlice([1])), seed=C(0), accumulator=lam(("a", "i", "v"), failing()))
    with pytest.raises(EvalError, match="unsupported type provided: string"):
        run("Reduce", source=C("x"), seed=C(0), accumulator=lam(("a", "i", "v"), failing()))


# --- When ----------------------------------------------------------------------------------------


def test_when():
    assert run("When", condition=lam((), lambda: True), true_value=C("yes"),
               false_value=C("no")) == "yes"
    assert run("When", condition=lam((), lambda: False), true_value=C("yes"),
               false_value=C("no")) == "no"


def test_when_evaluates_only_the_chosen_branch():
    def boom(_ctx):
        raise EvalError("not me")

    assert run("When", condition=lam((), lambda: True), true_value=C(1),
               false_value=Getter(boom)) == 1


def test_when_errors():
    with pytest.raises(EvalError, match="error while evaluating lambda function: lambda expression "
                                        "must return a value of type bool, got string"):
        run("When", condition=lam((), lambda: "true"), true_value=C(1), false_value=C(2))
    with pytest.raises(EvalError, match="error while evaluating lambda function: eval failed"):
        run("When", condition=lam((), failing()), true_value=C(1), false_value=C(2))
