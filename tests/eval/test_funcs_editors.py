"""The standard editors: README examples, the reference's test tables, and edge cases."""

from __future__ import annotations

import pytest

from ottl.eval.errors import EvalError
from ottl.eval.funcs import IMPLEMENTATIONS, load_all
from ottl.eval.funcs.editors import Glob, GoRegexp, as_string
from ottl.eval.getters import FunctionRef, Getter, GetSetter
from ottl.eval.values import Duration, PMap, PSlice, SpanID, TraceID

load_all()
C = Getter.constant


def dyn(value):
    """A getter that is not a literal (so patterns are compiled per record)."""
    return Getter(lambda _ctx: value)


class Holder:
    """A path target over one stored value, recording the writes."""

    def __init__(self, value):
        self.value = value
        self.sets = 0
        self.target = GetSetter(lambda _c: self.value, self._set)

    def _set(self, _ctx, v):
        self.sets += 1
        self.value = v


def run(name, **args):
    return IMPLEMENTATIONS[name](args)(None)


def build(name, **args):
    return IMPLEMENTATIONS[name](args)


HASH = FunctionRef("Test", lambda _ctx, v: f"hash({v})")


def sample_map():
    return PMap({"test": "hello world", "test2": "hello", "test3": "goodbye", "test4": 123})


# --- set ---------------------------------------------------------------------------------------


def test_set_writes_value():
    h = Holder("old")
    assert run("set", target=h.target, value=C("new")) is None
    assert h.value == "new"


def test_set_nil_does_nothing():
    h = Holder("old")
    run("set", target=h.target, value=C(None))
    assert h.value == "old" and h.sets == 0


@pytest.mark.parametrize(
    "current,zero",
    [("x", ""), (5, 0), (1.5, 0.0), (True, False), (b"ab", b""), (PMap({"a": 1}), PMap()),
     (PSlice([1]), PSlice()), (TraceID(b"\x01" * 16), TraceID()), (Duration(5), Duration(0))],
)
def test_set_nil_with_allow_nil_gate_writes_zero(current, zero):
    h = Holder(current)
    run("set", target=h.target, value=C(None), _gates={"ottl.set.allowNil"})
    assert h.value == zero and type(h.value) is type(zero)


def test_set_nil_with_gate_and_nil_target_sets_nil():
    h = Holder(None)
    run("set", target=h.target, value=C(None), _gates={"ottl.set.allowNil"})
    assert h.value is None and h.sets == 1


def test_set_propagates_value_error():
    def boom(_c):
        raise EvalError("bad")

    h = Holder("old")
    with pytest.raises(EvalError, match="bad"):
        run("set", target=h.target, value=Getter(boom))


# --- delete_key --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "key,want",
    [("test", {"test2": 3, "test3": True}), ("test2", {"test": "hello world", "test3": True}),
     ("missing", {"test": "hello world", "test2": 3, "test3": True})],
)
def test_delete_key(key, want):
    m = PMap({"test": "hello world", "test2": 3, "test3": True})
    h = Holder(m)
    run("delete_key", target=h.target, key=C(key))
    assert h.value == PMap(want)
    assert m == PMap(want)  # changed in place too


def test_delete_key_dict_target_is_converted_and_set():
    h = Holder({"a": 1, "b": 2})
    run("delete_key", target=h.target, key=dyn("a"))
    assert h.value == PMap({"b": 2})


@pytest.mark.parametrize("bad,msg", [(None, "expected pcommon.Map but got nil"),
                                     ("str", "expected pcommon.Map but got string")])
def test_delete_key_bad_target(bad, msg):
    with pytest.raises(EvalError, match=msg):
        run("delete_key", target=Holder(bad).target, key=C("a"))


def test_delete_key_key_must_be_string():
    with pytest.raises(EvalError, match="expected string but got int64"):
        run("delete_key", target=Holder(PMap({"a": 1})).target, key=C(1))


# --- delete_matching_keys / keep_matching_keys -----------------------------------------------


def test_delete_matching_keys_readme():
    m = PMap({"test": "hello world", "test2": 3, "test3": True, "other": 1})
    h = Holder(m)
    run("delete_matching_keys", target=h.target, pattern=C("^test.*"))
    assert h.value == PMap({"other": 1})


def test_delete_matching_keys_partial_match_and_dynamic_pattern():
    h = Holder(PMap({"abc": 1, "xbz": 2, "q": 3}))
    run("delete_matching_keys", target=h.target, pattern=dyn("b"))
    assert h.value == PMap({"q": 3})


def test_keep_matching_keys():
    h = Holder(PMap({"http.method": "GET", "http.path": "/", "other": 1}))
    run("keep_matching_keys", target=h.target, pattern=C("^http"))
    assert h.value == PMap({"http.method": "GET", "http.path": "/"})


def test_keep_matching_keys_none_match_leaves_empty():
    h = Holder(PMap({"a": 1}))
    run("keep_matching_keys", target=h.target, pattern=C("zzz"))
    assert h.value == PMap()


def test_matching_keys_invalid_literal_pattern_fails_at_build():
    with pytest.raises(EvalError, match=r"the regex pattern supplied to delete_matching_keys"
                                        r" '\"\(\"' is not a valid pattern"):
        build("delete_matching_keys", target=Holder(PMap()).target, pattern=C("("))


def test_matching_keys_invalid_dynamic_pattern_fails_at_run():
    f = build("keep_matching_keys", target=Holder(PMap({"a": 1})).target, pattern=dyn("*"))
    with pytest.raises(EvalError, match="error parsing regexp"):
        f(None)


def test_matching_keys_uses_re2_not_python_re():
    # RE2 has no backreferences: a pattern with one is invalid.
    with pytest.raises(EvalError):
        build("delete_matching_keys", target=Holder(PMap()).target, pattern=C(r"(a)\1"))


# --- keep_keys -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "keys,want",
    [(["hello"], {"hello": "world"}), (["hello", "test"], {"hello": "world", "test": 3}),
     (["no"], {}), ([], {})],
)
def test_keep_keys(keys, want):
    h = Holder(PMap({"hello": "world", "test": 3, "foo": True}))
    run("keep_keys", target=h.target, keys=[C(k) for k in keys])
    assert h.value == PMap(want)


def test_keep_keys_dynamic_keys_and_dynamic_slice():
    h = Holder(PMap({"a": 1, "b": 2, "c": 3}))
    run("keep_keys", target=h.target, keys=[dyn("a"), C("c")])
    assert h.value == PMap({"a": 1, "c": 3})
    h = Holder(PMap({"a": 1, "b": 2, "c": 3}))
    run("keep_keys", target=h.target, keys=dyn(PSlice(["b"])))
    assert h.value == PMap({"b": 2})


def test_keep_keys_dynamic_slice_errors():
    with pytest.raises(EvalError, match="keys cannot be nil"):
        run("keep_keys", target=Holder(PMap({"a": 1})).target, keys=dyn(None))
    with pytest.raises(EvalError, match="expected string but got int64"):
        run("keep_keys", target=Holder(PMap({"a": 1})).target, keys=dyn([1]))


# --- limit ---------------------------------------------------------------------------------------


def test_limit_keeps_first_entries_and_priority_keys():
    h = Holder(PMap({"a": 1, "b": 2, "c": 3, "d": 4}))
    run("limit", target=h.target, limit=2, priority_keys=["d"])
    assert h.value == PMap({"a": 1, "d": 4})


@pytest.mark.parametrize(
    "lim,keys,want",
    [(0, [], {}), (1, [], {"test": "hello world"}), (3, [], None), (100, [], None),
     (1, ["test2"], {"test2": 3}), (2, ["test2", "test"], {"test": "hello world", "test2": 3}),
     (2, ["missing"], {"test": "hello world", "test2": 3})],
)
def test_limit_table(lim, keys, want):
    base = {"test": "hello world", "test2": 3, "test3": True}
    h = Holder(PMap(base))
    run("limit", target=h.target, limit=lim, priority_keys=keys)
    assert h.value == PMap(want if want is not None else base)


def test_limit_under_limit_does_not_set():
    h = Holder(PMap({"a": 1}))
    run("limit", target=h.target, limit=5, priority_keys=[])
    assert h.sets == 0


def test_limit_argument_checks():
    with pytest.raises(EvalError, match="-1 cannot be negative"):
        build("limit", target=Holder(PMap()).target, limit=-1, priority_keys=[])
    with pytest.raises(EvalError, match="cannot be less than number of priority attributes 2"):
        build("limit", target=Holder(PMap()).target, limit=1, priority_keys=["a", "b"])


# --- merge_maps ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "strategy,want",
    [("upsert", {"attr1": "new", "attr2": "b", "attr3": "c"}),
     ("insert", {"attr1": "old", "attr2": "b", "attr3": "c"}),
     ("update", {"attr1": "new", "attr2": "b"})],
)
def test_merge_maps(strategy, want):
    h = Holder(PMap({"attr1": "old", "attr2": "b"}))
    run("merge_maps", target=h.target, source=C(PMap({"attr1": "new", "attr3": "c"})),
        strategy=strategy)
    assert h.value == PMap(want)
    assert list(h.value) == list(want)  # an update keeps the key's place


def test_merge_maps_copies_nested_values():
    src = PMap({"n": {"x": 1}})
    h = Holder(PMap())
    run("merge_maps", target=h.target, source=C(src), strategy="upsert")
    h.value["n"]["x"] = 2
    assert src["n"]["x"] == 1


def test_merge_maps_source_dict_and_errors():
    h = Holder(PMap())
    run("merge_maps", target=h.target, source=dyn({"a": [1, 2]}), strategy="upsert")
    assert h.value == PMap({"a": PSlice([1, 2])})
    with pytest.raises(EvalError, match="expected pcommon.Map but got string"):
        run("merge_maps", target=Holder(PMap()).target, source=C("x"), strategy="upsert")
    with pytest.raises(EvalError, match="invalid value for strategy, merge"):
        build("merge_maps", target=h.target, source=C(PMap()), strategy="merge")


# --- flatten -------------------------------------------------------------------------------------


def flat(target, **kw):
    h = Holder(PMap(target))
    run("flatten", target=h.target, prefix=kw.get("prefix"), depth=kw.get("depth"),
        resolve_conflicts=kw.get("resolve"))
    return h.value


def test_flatten_readme():
    got = flat({"name": "test", "address": {"street": "first", "house": 1234},
                "occupants": ["user 1", "user 2"]})
    assert got == PMap({"name": "test", "address.street": "first", "address.house": 1234,
                        "occupants.0": "user 1", "occupants.1": "user 2"})


def test_flatten_prefix_and_depth():
    got = flat({"name": "test", "address": {"street": "first"}}, prefix="app")
    assert got == PMap({"app.name": "test", "app.address.street": "first"})
    got = flat({"0": {"1": {"2": {"3": "value"}}}}, depth=2)
    assert got == PMap({"0.1.2": PMap({"3": "value"})})
    got = flat({"1": {"2": {"3": {"4": "5"}}}})
    assert got == PMap({"1.2.3.4": "5"})


def test_flatten_slice_of_maps_and_depth_one():
    got = flat({"things": [{"name": "foo", "value": 2}, {"name": "bar", "value": 5}]})
    assert got == PMap({"things.0.name": "foo", "things.0.value": 2, "things.1.name": "bar",
                        "things.1.value": 5})
    got = flat({"a": {"b": 1}, "s": [1, [2]]}, depth=1)
    assert got == PMap({"a.b": 1, "s.0": 1, "s.1": PSlice([2])})


def test_flatten_conflicts_overwrite_without_resolve():
    got = flat({"address": {"street": "first"}, "address.street": "second"})
    assert got == PMap({"address.street": "second"})


def test_flatten_resolve_conflicts():
    got = flat({"address": {"street": "first", "house": 1234}, "address.street": "second"},
               resolve=True)
    assert got == PMap({"address.street": "first", "address.house": 1234,
                        "address.street.0": "second"})
    # As the reference's e2e: slice items under resolve keep the bare key, then numbered ones.
    got = flat({"foo": {"slice": ["val"]}, "conflict": {"c1": "pass"}, "conflict.c1": "nopass"},
               prefix="test", resolve=True)
    assert got == PMap({"test.foo.slice": "val", "test.conflict.c1": "pass",
                        "test.conflict.c1.0": "nopass"})


def test_flatten_errors():
    with pytest.raises(EvalError, match="expected pcommon.Map but got int64"):
        run("flatten", target=Holder(1).target, prefix=None, depth=None, resolve_conflicts=None)
    with pytest.raises(EvalError, match="invalid depth '0' for flatten function"):
        build("flatten", target=Holder(PMap()).target, prefix=None, depth=0,
              resolve_conflicts=None)


def test_flatten_empty_map():
    assert flat({}) == PMap()


# --- append --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "start,value,values,want",
    [(PSlice(["a"]), "b", None, ["a", "b"]),
     ("a", "b", None, ["a", "b"]),
     (None, "b", None, ["b"]),
     (PSlice([1]), None, [2, "x", True], [1, 2, "x", True]),
     (3, 4, [5], [3, 4, 5]),
     (PSlice(), PMap({"k": 1}), None, [{"k": 1}]),
     (["raw", 1], None, [None], ["raw", 1, None]),
     (PMap({"m": 1}), "v", None, [{"m": 1}, "v"])],
)
def test_append(start, value, values, want):
    h = Holder(start)
    run("append", target=h.target, value=None if value is None else C(value),
        values=None if values is None else [C(v) for v in values])
    assert isinstance(h.value, PSlice)
    assert h.value.as_raw() == want


def test_append_dynamic_values_list_and_requires_one():
    h = Holder(PSlice(["a"]))
    run("append", target=h.target, value=None, values=dyn(["b", "c"]))
    assert h.value == PSlice(["a", "b", "c"])
    with pytest.raises(EvalError, match="at least one of the optional arguments"):
        build("append", target=h.target, value=None, values=None)


def test_append_does_not_alias_appended_map():
    inner = PMap({"a": 1})
    h = Holder(PSlice())
    run("append", target=h.target, value=C(inner), values=None)
    h.value[0]["a"] = 2
    assert inner["a"] == 1


# --- delete_index --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "start,end,want",
    [(0, None, [2, 3, 4]), (1, 3, [1, 4]), (0, 4, []), (3, None, [1, 2, 3]), (2, 2, [1, 2, 3, 4])],
)
def test_delete_index(start, end, want):
    h = Holder(PSlice([1, 2, 3, 4]))
    run("delete_index", target=h.target, start_index=C(start),
        end_index=None if end is None else C(end))
    assert h.value == PSlice(want)


@pytest.mark.parametrize(
    "items,start,end,msg",
    [([1, 2], 2, None, "startIndex 2 out of bounds for slice of length 2"),
     ([1, 2], -1, None, "startIndex -1 out of bounds"),
     ([1, 2], 1, 0, "endIndex 0 cannot be less than startIndex 1"),
     ([1, 2], 1, 5, r"deletion range \[1:5\] out of bounds for slice of length 2"),
     ([], 0, None, "startIndex 0 out of bounds for slice of length 0")],
)
def test_delete_index_errors(items, start, end, msg):
    with pytest.raises(EvalError, match=msg):
        run("delete_index", target=Holder(PSlice(items)).target, start_index=C(start),
            end_index=None if end is None else C(end))


def test_delete_index_empty_slice_whole_range_and_bad_target():
    h = Holder(PSlice())
    run("delete_index", target=h.target, start_index=C(0), end_index=C(0))
    assert h.value == PSlice()
    with pytest.raises(EvalError, match="expected pcommon.Slice but got nil"):
        run("delete_index", target=Holder(None).target, start_index=C(0), end_index=None)
    with pytest.raises(EvalError, match="expected int64 but got string"):
        run("delete_index", target=Holder(PSlice([1])).target, start_index=C("0"),
            end_index=None)


# --- replace_match / replace_all_matches --------------------------------------------------------


def test_replace_match_readme():
    h = Holder("/health")
    run("replace_match", target=h.target, pattern=C("/health"), replacement=C("/heal"),
        function=None, replacement_format=None)
    assert h.value == "/heal"


@pytest.mark.parametrize(
    "pattern,want",
    [("hello*", "hello {universe}"), ("goodbye*", "hello world"), ("*", "hello {universe}"),
     ("hello ?orld", "hello {universe}"), ("{hello,bye} world", "hello {universe}"),
     ("[gh]ello*", "hello {universe}"), ("[!h]ello*", "hello world"), ("", "hello world")],
)
def test_replace_match_globs(pattern, want):
    h = Holder("hello world")
    run("replace_match", target=h.target, pattern=C(pattern), replacement=C("hello {universe}"),
        function=None, replacement_format=None)
    assert h.value == want


def test_replace_match_star_crosses_slashes():
    h = Holder("/api/v1/users/123")
    run("replace_match", target=h.target, pattern=C("/api/*"), replacement=C("/api/{route}"),
        function=None, replacement_format=None)
    assert h.value == "/api/{route}"


def test_replace_match_with_function_and_format():
    h = Holder("hello world")
    run("replace_match", target=h.target, pattern=C("hello*"), replacement=C("hello {universe}"),
        function=HASH, replacement_format=C("prefix=%s"))
    assert h.value == "prefix=hash(hello {universe})"


def test_replace_match_non_string_and_nil_targets():
    for value in (1, None, PMap()):
        h = Holder(value)
        run("replace_match", target=h.target, pattern=C("*"), replacement=C("x"),
            function=None, replacement_format=None)
        assert h.value == value and h.sets == 0


def test_replace_match_errors():
    with pytest.raises(EvalError, match="expected string but got nil"):
        run("replace_match", target=Holder("a").target, pattern=C("*"), replacement=C(None),
            function=None, replacement_format=None)
    bad = FunctionRef("IsString", lambda _c, v: True)
    with pytest.raises(EvalError, match="replacement value is not a string"):
        run("replace_match", target=Holder("a").target, pattern=C("*"), replacement=C("x"),
            function=bad, replacement_format=None)
    with pytest.raises(EvalError, match="is not a valid pattern"):
        build("replace_match", target=Holder("a").target, pattern=C("[a"), replacement=C("x"),
              function=None, replacement_format=None)
    f = build("replace_match", target=Holder("a").target, pattern=dyn("[]"), replacement=C("x"),
              function=None, replacement_format=None)
    with pytest.raises(EvalError, match="could not parse range"):
        f(None)


def test_replace_all_matches_table():
    h = Holder(sample_map())
    run("replace_all_matches", target=h.target, pattern=C("hello*"),
        replacement=C("hello {universe}"), function=None, replacement_format=None)
    assert h.value == PMap({"test": "hello {universe}", "test2": "hello {universe}",
                            "test3": "goodbye", "test4": 123})
    h = Holder(sample_map())
    run("replace_all_matches", target=h.target, pattern=C("hello*"),
        replacement=C("hello {universe}"), function=HASH, replacement_format=C("prefix=%s"))
    assert h.value["test"] == "prefix=hash(hello {universe})"
    assert h.value["test3"] == "goodbye"


def test_replace_all_matches_empty_pattern_only_touches_empty_strings():
    h = Holder(PMap({"a": "", "b": "x", "c": 123}))
    run("replace_all_matches", target=h.target, pattern=dyn(""),
        replacement=C("empty"), function=None, replacement_format=None)
    assert h.value == PMap({"a": "empty", "b": "x", "c": 123})


def test_replace_all_matches_bad_target():
    with pytest.raises(EvalError, match="expected pcommon.Map"):
        run("replace_all_matches", target=Holder("x").target, pattern=C("*"),
            replacement=C("y"), function=None, replacement_format=None)


# --- replace_pattern -----------------------------------------------------------------------------

INPUT = "application passwd=sensitivedtata otherarg=notsensitive key1 key2"


@pytest.mark.parametrize(
    "text,pattern,replacement,function,fmt,want",
    [
        (INPUT, r"passwd\=([^\s]*)\s?", "$1", HASH, "passwd=%s",
         "application passwd=hash(sensitivedtata)otherarg=notsensitive key1 key2"),
        (INPUT, r"passwd\=([^\s]*)", "passwd", HASH, None,
         "application hash(passwd) otherarg=notsensitive key1 key2"),
        (INPUT, r"passwd\=[^\s]*\s?", "$1", HASH, None,
         "application hash()otherarg=notsensitive key1 key2"),
        (INPUT, r"passwd\=[^\s]*\s?", "$1", None, None,
         "application otherarg=notsensitive key1 key2"),
        (INPUT, r"passwd\=[^\s]*", "passwd=***", HASH, "%s (passwd)",
         "application hash(passwd=***) (passwd) otherarg=notsensitive key1 key2"),
        (INPUT, r"passwd\=[^\s]*(\s?)", "passwd=*** ", None, None,
         "application passwd=*** otherarg=notsensitive key1 key2"),
        (INPUT, r"nomatch\=[^\s]*(\s?)", "shouldnotbeinoutput", None, None, INPUT),
        (INPUT, r"key[^\s]*(\s?)", "**** ", None, None,
         "application passwd=sensitivedtata otherarg=notsensitive **** **** "),
        (INPUT, r"(\w+)=(\w+)", "$1:$2", None, None,
         "application passwd:sensitivedtata otherarg:notsensitive key1 key2"),
        (INPUT, r"passwd\=[^\s]*(\s?)", "passwd=$$$$$$ ", None, None,
         "application passwd=$$$ otherarg=notsensitive key1 key2"),
        ("user_id=42 parent_user_id=423", r"\d+", "$0", HASH, None,
         "user_id=hash(42) parent_user_id=hash(423)"),
        ("abc", "b", "$0", HASH, None, "ahash(b)c"),
        ("aaaa", "a", "$0", HASH, None, "hash(a)hash(a)hash(a)hash(a)"),
    ],
)
def test_replace_pattern_reference_table(text, pattern, replacement, function, fmt, want):
    h = Holder(text)
    run("replace_pattern", target=h.target, regex_pattern=dyn(pattern),
        replacement=C(replacement), function=function,
        replacement_format=None if fmt is None else C(fmt))
    assert h.value == want


@pytest.mark.parametrize(
    "text,pattern,replacement,want",
    [
        # Go's expansion: ${name}, $name (greedy name), unknown groups expand to nothing.
        ("john smith", r"(?P<first>\w+) (?P<last>\w+)", "${last}, ${first}", "smith, john"),
        ("john smith", r"(?P<first>\w+) (?P<last>\w+)", "$last_x", ""),
        ("ab", r"(a)(b)", "$2$1", "ba"),
        ("ab", r"(a)(b)", "$1x", ""),
        ("ab", r"(a)(b)", "${1}x", "ax"),
        ("ab", r"(a)(b)", "$9", ""),
        ("ab", r"(a)(b)", "$", "$"),
        ("ab", r"(a)(b)", "${1", "${1"),
        ("ab", r"(a)(b)", "$01", ""),
        ("ab", r"(a)(b)", "\\1", "\\1"),
        # Empty matches next to a match are skipped, as Go does.
        ("baaac", "a*", "X", "XbXcX"),
        ("héllo", "", "-", "-h-é-l-l-o-"),
        ("abc", "^", ">", ">abc"),
        ("a.b.c", r"\.", "/", "a/b/c"),
        ("日本語", "本", "[$0]", "日[本]語"),
    ],
)
def test_replace_pattern_go_expansion(text, pattern, replacement, want):
    h = Holder(text)
    run("replace_pattern", target=h.target, regex_pattern=C(pattern), replacement=C(replacement),
        function=None, replacement_format=None)
    assert h.value == want


def test_replace_pattern_no_op_cases():
    h = Holder(1)
    run("replace_pattern", target=h.target, regex_pattern=C("1"), replacement=C("x"),
        function=None, replacement_format=None)
    assert h.value == 1 and h.sets == 0
    h = Holder(None)
    run("replace_pattern", target=h.target, regex_pattern=C("x"), replacement=C(None),
        function=None, replacement_format=None)
    assert h.sets == 0


def test_replace_pattern_errors():
    with pytest.raises(EvalError, match="expected string but got nil"):
        run("replace_pattern", target=Holder(1).target, regex_pattern=C("x"),
            replacement=C(None), function=None, replacement_format=None)
    f = build("replace_pattern", target=Holder("string").target, regex_pattern=dyn("*"),
              replacement=C("x"), function=None, replacement_format=None)
    with pytest.raises(EvalError, match="error parsing regexp:"):
        f(None)
    with pytest.raises(EvalError, match="replacementFormat must be format string containing a "
                                        "single %s"):
        run("replace_pattern", target=Holder(INPUT).target, regex_pattern=C(r"passwd\=[^\s]*"),
            replacement=C("passwd=*** "), function=HASH, replacement_format=C("passwd="))
    bad = FunctionRef("IsString", lambda _c, v: True)
    with pytest.raises(EvalError, match="the replacement value must be a string"):
        run("replace_pattern", target=Holder("abc").target, regex_pattern=C("b"),
            replacement=C("x"), function=bad, replacement_format=None)


@pytest.mark.parametrize(
    "fmt,ok", [("%s", True), ("a%sb", True), ("%s%s", True), ("%s%", True), ("", False),
               ("x", False), ("%d %s", False), ("%s %%", False), ("a\n%s", False)],
)
def test_replacement_format_validation(fmt, ok):
    h = Holder("abc")
    args = dict(target=h.target, regex_pattern=C("b"), replacement=C("x"), function=HASH,
                replacement_format=C(fmt))
    if ok:
        run("replace_pattern", **args)
    else:
        with pytest.raises(EvalError, match="replacementFormat"):
            run("replace_pattern", **args)


def test_replacement_format_extra_verbs_follow_go_sprintf():
    h = Holder("abc")
    run("replace_pattern", target=h.target, regex_pattern=C("b"), replacement=C("x"),
        function=HASH, replacement_format=C("<%s|%s>%"))
    assert h.value == "a<hash(x)|%!s(MISSING)>%!(NOVERB)c"


def test_replace_pattern_format_ignored_without_function():
    h = Holder("abc")
    run("replace_pattern", target=h.target, regex_pattern=C("b"), replacement=C("x"),
        function=None, replacement_format=C("not valid"))
    assert h.value == "axc"


def test_replace_pattern_invalid_utf8_is_kept():
    bad = b"caf\xe9 ok".decode("utf-8", "surrogateescape")
    h = Holder(bad)
    run("replace_pattern", target=h.target, regex_pattern=C("ok"), replacement=C("OK"),
        function=None, replacement_format=None)
    assert h.value.encode("utf-8", "surrogateescape") == b"caf\xe9 OK"


# --- replace_all_patterns -----------------------------------------------------------------------


def patterns_map():
    return PMap({"test": "hello world", "test2": "hello", "test3": "goodbye", "test4": True,
                 "test5": 1})


@pytest.mark.parametrize(
    "mode,pattern,replacement,function,fmt,want",
    [
        ("value", "hello", "hello {universe}", None, None,
         {"test": "hello {universe} world", "test2": "hello {universe}", "test3": "goodbye",
          "test4": True, "test5": 1}),
        ("value", "hello", "hello {universe}", HASH, "prefix=%s",
         {"test": "prefix=hash(hello {universe}) world", "test2": "prefix=hash(hello {universe})",
          "test3": "goodbye", "test4": True, "test5": 1}),
        ("value", "nothing", "nothing {matches}", None, None, None),
        ("value", "^hello", "", None, None,
         {"test": " world", "test2": "", "test3": "goodbye", "test4": True, "test5": 1}),
        ("value", "^(\\w+) (\\w+)$", "$2 $1", None, None,
         {"test": "world hello", "test2": "hello", "test3": "goodbye", "test4": True,
          "test5": 1}),
        ("key", "^test2$", "foo", None, None,
         {"test": "hello world", "foo": "hello", "test3": "goodbye", "test4": True, "test5": 1}),
        ("key", "^test(\\d)$", "$1", HASH, None,
         {"test": "hello world", "hash(2)": "hello", "hash(3)": "goodbye", "hash(4)": True,
          "hash(5)": 1}),
        ("key", "xyz", "abc", None, None, None),
    ],
)
def test_replace_all_patterns_table(mode, pattern, replacement, function, fmt, want):
    h = Holder(patterns_map())
    run("replace_all_patterns", target=h.target, mode=mode, regex_pattern=C(pattern),
        replacement=C(replacement), function=function,
        replacement_format=None if fmt is None else C(fmt))
    expected = patterns_map() if want is None else PMap(want)
    assert h.value == expected
    assert list(h.value) == list(expected)


def test_replace_all_patterns_key_collisions_keep_first_place_last_value():
    h = Holder(PMap({"a1": 1, "b": 2, "a2": 3}))
    run("replace_all_patterns", target=h.target, mode="key", regex_pattern=C(r"a\d"),
        replacement=C("a"), function=None, replacement_format=None)
    assert list(h.value.items()) == [("a", 3), ("b", 2)]


def test_replace_all_patterns_function_failure_skips_value_and_drops_key():
    bad = FunctionRef("Bad", lambda _c, v: 1)
    h = Holder(PMap({"k": "hello"}))
    run("replace_all_patterns", target=h.target, mode="value", regex_pattern=C("hello"),
        replacement=C("x"), function=bad, replacement_format=None)
    assert h.value == PMap({"k": "hello"})
    h = Holder(PMap({"hello": 1, "other": 2}))
    run("replace_all_patterns", target=h.target, mode="key", regex_pattern=C("hello"),
        replacement=C("x"), function=bad, replacement_format=None)
    assert h.value == PMap({"other": 2})


def test_replace_all_patterns_errors():
    with pytest.raises(EvalError, match="invalid mode invalid, must be either 'key' or 'value'"):
        build("replace_all_patterns", target=Holder(PMap()).target, mode="invalid",
              regex_pattern=C("x"), replacement=C("y"), function=None, replacement_format=None)
    with pytest.raises(EvalError, match="expected pcommon.Map but got nil"):
        run("replace_all_patterns", target=Holder(None).target, mode="value",
            regex_pattern=C("x"), replacement=C("y"), function=None, replacement_format=None)
    with pytest.raises(EvalError, match="is not a valid pattern"):
        build("replace_all_patterns", target=Holder(PMap()).target, mode="value",
              regex_pattern=C("("), replacement=C("y"), function=None, replacement_format=None)


# --- stringify_all -------------------------------------------------------------------------------


def test_stringify_all():
    h = Holder(PMap({"s": "x", "i": 12, "f": 1.5, "big": 1e21, "tiny": 1e-7, "whole": 2.0,
                     "b": True, "bytes": b"\x01\x02", "m": {"b": 1, "a": "<x>"}, "l": [1, "a"],
                     "n": None}))
    run("stringify_all", target=h.target)
    assert h.value == PMap({"s": "x", "i": "12", "f": "1.5", "big": "1e+21", "tiny": "1e-7",
                            "whole": "2", "b": "true", "bytes": "AQI=",
                            "m": '{"a":"\\u003cx\\u003e","b":1}', "l": '[1,"a"]', "n": ""})


def test_stringify_all_bad_target():
    with pytest.raises(EvalError, match="expected pcommon.Map"):
        run("stringify_all", target=Holder([1]).target)


@pytest.mark.parametrize(
    "value,want",
    [(0.1, "0.1"), (-0.0, "-0"), (123456789.0, "123456789"), (1e20, "100000000000000000000"),
     (1.5e-300, "1.5e-300"), (2.5e-7, "2.5e-7"), (float("nan"), "json: unsupported value: NaN")],
)
def test_as_string_floats(value, want):
    assert as_string(value) == want


# --- truncate_all --------------------------------------------------------------------------------


def trunc(m, lim, utf8_safe=None, marker=None):
    h = Holder(PMap(m))
    run("truncate_all", target=h.target, limit=lim, utf8_safe=utf8_safe, truncation_marker=marker)
    return h.value


@pytest.mark.parametrize(
    "lim,want", [(1, "h"), (0, ""), (100, "hello world"), (11, "hello world")],
)
def test_truncate_all_reference_table(lim, want):
    got = trunc({"test": "hello world", "test2": 3, "test3": True}, lim)
    assert got == PMap({"test": want, "test2": 3, "test3": True})


def test_truncate_all_utf8_safe_default_backs_up_to_rune_start():
    # "ü" is 2 bytes, "日" 3 bytes.
    assert trunc({"a": "aüb"}, 2)["a"] == "a"
    assert trunc({"a": "日本"}, 4)["a"] == "日"
    assert trunc({"a": "日本"}, 2)["a"] == ""
    assert trunc({"a": "😀x"}, 3)["a"] == ""


def test_truncate_all_not_utf8_safe_cuts_bytes():
    got = trunc({"a": "aüb"}, 2, utf8_safe=False)["a"]
    assert got.encode("utf-8", "surrogateescape") == b"a\xc3"


def test_truncate_all_invalid_utf8_input():
    bad = b"ab\xff\xfecd".decode("utf-8", "surrogateescape")
    got = trunc({"a": bad}, 4)["a"]
    assert got.encode("utf-8", "surrogateescape") == b"ab\xff\xfe"


def test_truncate_all_marker_counts_against_limit():
    assert trunc({"a": "hello world"}, 8, marker="...")["a"] == "hello..."
    assert trunc({"a": "hello"}, 5, marker="...")["a"] == "hello"
    assert trunc({"a": "hello!"}, 5, marker="…")["a"] == "he…"
    assert trunc({"a": "日本語"}, 7, marker="..")["a"] == "日.."
    assert trunc({"a": "abcdef"}, 3, marker="...")["a"] == "..."


def test_truncate_all_errors():
    with pytest.raises(EvalError, match="-1 cannot be negative"):
        build("truncate_all", target=Holder(PMap()).target, limit=-1, utf8_safe=None,
              truncation_marker=None)
    with pytest.raises(EvalError, match="truncation_marker"):
        build("truncate_all", target=Holder(PMap()).target, limit=2, utf8_safe=None,
              truncation_marker="...")
    with pytest.raises(EvalError, match="expected pcommon.Map but got string"):
        run("truncate_all", target=Holder("not a map").target, limit=1, utf8_safe=None,
            truncation_marker=None)


# --- the Go helpers ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "pattern,text,want",
    [("*", "", True), ("*", "a/b/c", True), ("**", "x", True), ("a*b", "ab", True),
     ("a*b", "axxb/b", True), ("a*b", "abc", False), ("?", "é", True), ("?", "", False),
     ("??", "é", False), ("[a-c]", "b", True), ("[a-c]", "d", False), ("[!a-c]", "d", True),
     ("[abc]", "c", True), ("[!abc]", "c", False), ("{a,bc}d", "bcd", True),
     ("{a,bc}d", "abcd", False), ("{a,b{c,d}}", "bd", True), ("{a,}x", "x", True),
     ("\\*", "*", True), ("\\*", "a", False), ("a,b", "a,b", True), ("}", "}", True),
     ("]", "]", True), ("[\\]]", "]", True), ("{a,b", "b", True), ("abc\\", "abc", True),
     ("a*c*e", "abcde", True), ("*.log", "app.log", True), ("*.log", "app.txt", False)],
)
def test_glob_matching(pattern, text, want):
    assert Glob(pattern).match(text) is want


@pytest.mark.parametrize("pattern", ["[", "[]", "[!]", "[a-", "[z-a]", "[ab"])
def test_glob_invalid(pattern):
    from ottl.eval.funcs.editors import GlobError

    with pytest.raises(GlobError):
        Glob(pattern)


def test_go_regexp_find_all_skips_empty_match_after_match():
    r = GoRegexp("a*")
    spans = [s[0] for s in r.find_all_submatch_index(b"baaac")]
    assert spans == [(0, 0), (1, 4), (5, 5)]


def test_span_and_trace_ids_are_bytes_in_zero_value():
    h = Holder(SpanID(b"\x01" * 8))
    run("set", target=h.target, value=C(None), _gates=("ottl.set.allowNil",))
    assert h.value == SpanID()
