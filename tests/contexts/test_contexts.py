"""Context tables checked against lists written down from the reference
(open-telemetry/opentelemetry-collector-contrib, pkg/ottl/contexts)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ottl import contexts as C
from ottl.contexts import (
    CONTEXTS,
    INFERENCE_PRIORITY,
    ContextPathError,
    ValueType as T,
    context_for_prefix,
    infer_context,
    lookup_path,
    lower_contexts,
    reachable,
    render_markdown,
    resolve_path,
    split_prefix,
)

# Each list: the cases of the context's PathGetSetter switch (sub-paths written out), plus
# "cache" and any path the ottl* wrapper adds itself.
EXPECTED_PATHS = {
    # pkg/ottl/contexts/internal/ctxspan/span.go
    "span": [
        "attributes",
        "cache",
        "dropped_attributes_count",
        "dropped_events_count",
        "dropped_links_count",
        "end_time",
        "end_time_unix_nano",
        "events",
        "kind",
        "kind.deprecated_string",
        "kind.string",
        "links",
        "name",
        "parent_span_id",
        "parent_span_id.string",
        "span_id",
        "span_id.string",
        "start_time",
        "start_time_unix_nano",
        "status",
        "status.code",
        "status.message",
        "trace_id",
        "trace_id.string",
        "trace_state",
    ],
    # pkg/ottl/contexts/internal/ctxspanevent/span_events.go + ottlspanevent/span_events.go
    # (event_index)
    "spanevent": [
        "attributes",
        "cache",
        "dropped_attributes_count",
        "event_index",
        "name",
        "time",
        "time_unix_nano",
    ],
    # pkg/ottl/contexts/internal/ctxlog/log.go
    "log": [
        "attributes",
        "body",
        "body.string",
        "cache",
        "dropped_attributes_count",
        "event_name",
        "flags",
        "observed_time",
        "observed_time_unix_nano",
        "severity_number",
        "severity_text",
        "span_id",
        "span_id.string",
        "time",
        "time_unix_nano",
        "trace_id",
        "trace_id.string",
    ],
    # pkg/ottl/contexts/internal/ctxresource/resource.go
    "resource": ["attributes", "cache", "dropped_attributes_count", "schema_url"],
    # pkg/ottl/contexts/internal/ctxscope/scope.go
    "scope": ["attributes", "cache", "dropped_attributes_count", "name", "schema_url", "version"],
    # pkg/ottl/contexts/internal/ctxmetric/metric.go
    "metric": [
        "aggregation_temporality",
        "cache",
        "data_points",
        "description",
        "is_monotonic",
        "metadata",
        "name",
        "type",
        "unit",
    ],
    # pkg/ottl/contexts/internal/ctxdatapoint/datapoint.go
    "datapoint": [
        "attributes",
        "bucket_counts",
        "cache",
        "count",
        "exemplars",
        "explicit_bounds",
        "flags",
        "negative",
        "negative.bucket_counts",
        "negative.offset",
        "positive",
        "positive.bucket_counts",
        "positive.offset",
        "quantile_values",
        "scale",
        "start_time",
        "start_time_unix_nano",
        "sum",
        "time",
        "time_unix_nano",
        "value_double",
        "value_int",
        "zero_count",
    ],
}


def _path(ctx: str, name: str):
    for p in CONTEXTS[ctx].paths:
        if p.name == name:
            return p
    raise AssertionError(f"{ctx} has no path {name}")


def test_context_names():
    assert sorted(CONTEXTS) == sorted(EXPECTED_PATHS)
    for name, spec in CONTEXTS.items():
        assert spec.name == name


@pytest.mark.parametrize("ctx", sorted(EXPECTED_PATHS))
def test_paths_match_reference(ctx):
    names = sorted(p.name for p in CONTEXTS[ctx].paths)
    assert names == EXPECTED_PATHS[ctx]
    assert len(set(names)) == len(names)


def test_parents_signals_aliases():
    assert CONTEXTS["span"].parents == ("resource", "scope")
    assert CONTEXTS["spanevent"].parents == ("span", "resource", "scope")
    assert CONTEXTS["log"].parents == ("resource", "scope")
    assert CONTEXTS["metric"].parents == ("resource", "scope")
    assert CONTEXTS["datapoint"].parents == ("metric", "resource", "scope")
    assert CONTEXTS["scope"].parents == ("resource",)
    assert CONTEXTS["resource"].parents == ()
    assert CONTEXTS["scope"].aliases == ("instrumentation_scope",)
    assert CONTEXTS["span"].signals == ("traces",)
    assert CONTEXTS["spanevent"].signals == ("traces",)
    assert CONTEXTS["log"].signals == ("logs",)
    assert CONTEXTS["metric"].signals == ("metrics",)
    assert CONTEXTS["datapoint"].signals == ("metrics",)
    assert CONTEXTS["resource"].signals == ("traces", "metrics", "logs")
    assert CONTEXTS["scope"].signals == ("traces", "metrics", "logs")


@pytest.mark.parametrize(
    "ctx,name,type_,settable",
    [
        ("span", "trace_id", T.TRACE_ID, True),
        ("span", "trace_id.string", T.STRING, True),
        ("span", "span_id", T.SPAN_ID, True),
        ("span", "parent_span_id", T.SPAN_ID, True),
        ("span", "kind", T.INT, True),
        ("span", "kind.string", T.STRING, True),
        ("span", "kind.deprecated_string", T.STRING, True),
        ("span", "start_time", T.TIME, True),
        ("span", "start_time_unix_nano", T.INT, True),
        ("span", "attributes", T.MAP, True),
        ("span", "events", T.SLICE, True),
        ("span", "links", T.SLICE, True),
        ("span", "status", T.OBJECT, True),
        ("span", "status.code", T.INT, True),
        ("span", "status.message", T.STRING, True),
        ("span", "trace_state", T.STRING, True),
        ("spanevent", "event_index", T.INT, False),
        ("spanevent", "time", T.TIME, True),
        ("log", "body", T.ANY, True),
        ("log", "body.string", T.STRING, True),
        ("log", "severity_number", T.INT, True),
        ("log", "event_name", T.STRING, True),
        ("log", "observed_time", T.TIME, True),
        ("metric", "type", T.INT, True),
        ("metric", "is_monotonic", T.BOOL, True),
        ("metric", "data_points", T.SLICE, True),
        ("metric", "metadata", T.MAP, True),
        ("datapoint", "value_double", T.FLOAT, True),
        ("datapoint", "value_int", T.INT, True),
        ("datapoint", "sum", T.FLOAT, True),
        ("datapoint", "explicit_bounds", T.SLICE, True),
        ("datapoint", "positive", T.OBJECT, True),
        ("datapoint", "positive.offset", T.INT, True),
        ("datapoint", "negative.bucket_counts", T.SLICE, True),
        ("resource", "schema_url", T.STRING, True),
        ("scope", "version", T.STRING, True),
    ],
)
def test_types_and_settability(ctx, name, type_, settable):
    p = _path(ctx, name)
    assert p.type is type_
    assert p.settable is settable


def test_only_event_index_is_read_only():
    read_only = [(c, p.name) for c, s in CONTEXTS.items() for p in s.paths if not p.settable]
    assert read_only == [("spanevent", "event_index")]


def test_keys():
    keyed = {(c, p.name) for c, s in CONTEXTS.items() for p in s.paths if p.keys}
    assert keyed == {
        ("span", "attributes"),
        ("span", "trace_state"),
        ("span", "cache"),
        ("spanevent", "attributes"),
        ("spanevent", "cache"),
        ("log", "attributes"),
        ("log", "body"),
        ("log", "cache"),
        ("resource", "attributes"),
        ("resource", "cache"),
        ("scope", "attributes"),
        ("scope", "cache"),
        ("metric", "metadata"),
        ("metric", "cache"),
        ("datapoint", "attributes"),
        ("datapoint", "cache"),
    }
    ts = _path("span", "trace_state")
    assert ts.key_limit == 1 and ts.key_type is T.STRING
    assert _path("log", "body").key_limit is None
    assert not _path("log", "body.string").keys


def test_enum_values():
    span = CONTEXTS["span"].enums
    assert span["SPAN_KIND_UNSPECIFIED"] == 0
    assert span["SPAN_KIND_SERVER"] == 2
    assert span["SPAN_KIND_CONSUMER"] == 5
    assert span["STATUS_CODE_UNSET"] == 0
    assert span["STATUS_CODE_OK"] == 1
    assert span["STATUS_CODE_ERROR"] == 2
    assert len(span) == 9
    assert dict(CONTEXTS["spanevent"].enums) == dict(span)

    sev = CONTEXTS["log"].enums
    assert len(sev) == 25
    assert sev["SEVERITY_NUMBER_UNSPECIFIED"] == 0
    assert sev["SEVERITY_NUMBER_TRACE"] == 1
    assert sev["SEVERITY_NUMBER_TRACE4"] == 4
    assert sev["SEVERITY_NUMBER_DEBUG"] == 5
    assert sev["SEVERITY_NUMBER_INFO"] == 9
    assert sev["SEVERITY_NUMBER_WARN"] == 13
    assert sev["SEVERITY_NUMBER_ERROR"] == 17
    assert sev["SEVERITY_NUMBER_ERROR3"] == 19
    assert sev["SEVERITY_NUMBER_FATAL"] == 21
    assert sev["SEVERITY_NUMBER_FATAL4"] == 24

    met = CONTEXTS["metric"].enums
    assert met == {
        "AGGREGATION_TEMPORALITY_UNSPECIFIED": 0,
        "AGGREGATION_TEMPORALITY_DELTA": 1,
        "AGGREGATION_TEMPORALITY_CUMULATIVE": 2,
        "METRIC_DATA_TYPE_NONE": 0,
        "METRIC_DATA_TYPE_GAUGE": 1,
        "METRIC_DATA_TYPE_SUM": 2,
        "METRIC_DATA_TYPE_HISTOGRAM": 3,
        "METRIC_DATA_TYPE_EXPONENTIAL_HISTOGRAM": 4,
        "METRIC_DATA_TYPE_SUMMARY": 5,
    }
    # FLAG_* only in the datapoint table (ctxdatapoint SymbolTable = FLAG_* + ctxmetric's).
    assert "FLAG_NONE" not in met
    dp = CONTEXTS["datapoint"].enums
    assert dp == {**met, "FLAG_NONE": 0, "FLAG_NO_RECORDED_VALUE": 1}
    assert CONTEXTS["resource"].enums == {}
    assert CONTEXTS["scope"].enums == {}


def test_alias_resolution():
    assert context_for_prefix("instrumentation_scope") is CONTEXTS["scope"]
    assert context_for_prefix("scope") is CONTEXTS["scope"]
    assert context_for_prefix("span") is CONTEXTS["span"]
    assert context_for_prefix("status") is None
    assert C.canonical_name("instrumentation_scope") == "scope"


def test_reachable():
    assert reachable("resource") == ("resource",)
    assert reachable("scope") == ("scope", "resource")
    assert reachable("instrumentation_scope") == ("scope", "resource")
    assert reachable("span") == ("span", "resource", "scope")
    assert reachable("spanevent") == ("spanevent", "span", "resource", "scope")
    assert reachable("log") == ("log", "resource", "scope")
    assert reachable("metric") == ("metric", "resource", "scope")
    assert reachable("datapoint") == ("datapoint", "metric", "resource", "scope")
    with pytest.raises(KeyError):
        reachable("profile")


def test_split_prefix():
    assert split_prefix("span", "resource") == "resource"
    assert split_prefix("span", "instrumentation_scope") == "scope"
    assert split_prefix("span", "scope") == "scope"
    assert split_prefix("span", "span") == "span"
    assert split_prefix("span", "spanevent") is None  # a lower context is not reachable
    assert split_prefix("resource", "scope") is None
    assert split_prefix("datapoint", "metric") == "metric"
    assert split_prefix("log", "attributes") is None
    assert split_prefix("spanevent", "span") == "span"


def test_lookup_path_longest_match():
    span = CONTEXTS["span"]
    p, n = lookup_path(span, ("status", "code"))
    assert (p.name, n) == ("status.code", 2)
    p, n = lookup_path(span, ("status",))
    assert (p.name, n) == ("status", 1)
    p, n = lookup_path(span, ("status", "bogus"))
    assert (p.name, n) == ("status", 1)  # the resolver reports the left-over segment
    p, n = lookup_path(span, ("kind", "deprecated_string"))
    assert (p.name, n) == ("kind.deprecated_string", 2)
    p, n = lookup_path(CONTEXTS["datapoint"], ("positive", "bucket_counts"))
    assert (p.name, n) == ("positive.bucket_counts", 2)
    assert lookup_path(span, ("nope",)) is None
    assert lookup_path(span, ()) is None
    # a context's own table only: parents are not searched
    assert lookup_path(span, ("schema_url",)) is None


def test_resolve_path():
    r = resolve_path("span", ("resource", "attributes"))
    assert (r.context, r.spec.name, r.consumed, r.remaining) == ("resource", "attributes", 2, ())
    r = resolve_path("span", ("instrumentation_scope", "name"))
    assert (r.context, r.spec.name) == ("scope", "name")
    r = resolve_path("spanevent", ("span", "status", "code"))
    assert (r.context, r.spec.name, r.consumed) == ("span", "status.code", 3)
    r = resolve_path("spanevent", ("status", "code"), prefix="span")
    assert (r.context, r.spec.name, r.consumed) == ("span", "status.code", 2)
    r = resolve_path("log", ("body", "string"))
    assert (r.context, r.spec.name) == ("log", "body.string")
    r = resolve_path("span", ("status", "x"))
    assert r.spec.name == "status" and r.remaining == ("x",)
    r = resolve_path("span", ("cache",))
    assert r.context == "span"
    r = resolve_path("span", ("cache",), prefix="span")
    assert r.context == "span"
    r = resolve_path("resource", ("cache",))
    assert r.context == "resource"
    with pytest.raises(ContextPathError):
        resolve_path("span", ("resource", "cache"))  # only the statement's own cache
    with pytest.raises(ContextPathError):
        resolve_path("span", ("cache",), prefix="resource")
    with pytest.raises(ContextPathError):
        resolve_path("span", ("resource",))  # a context, not a path
    with pytest.raises(ContextPathError):
        resolve_path("span", ("name",), prefix="spanevent")
    with pytest.raises(ContextPathError):
        resolve_path("span", ("name",), prefix="bogus")
    with pytest.raises(ContextPathError):
        resolve_path("span", ("bogus",))


def test_inference_priority():
    assert INFERENCE_PRIORITY == (
        "log",
        "datapoint",
        "metric",
        "spanevent",
        "span",
        "resource",
        "scope",
        "instrumentation_scope",
    )


def test_lower_contexts():
    assert lower_contexts("span") == ("spanevent",)
    assert lower_contexts("resource") == ("log", "datapoint", "metric", "spanevent", "span", "scope")
    assert lower_contexts("metric") == ("datapoint",)
    assert lower_contexts("log") == ()
    assert lower_contexts("scope", ["span", "spanevent", "resource"]) == ("spanevent", "span")


def test_infer_context():
    # the best-priority path context wins
    assert infer_context(["resource", "span"], functions=["set"]) == "span"
    assert infer_context(["scope", "resource"]) == "resource"
    assert infer_context(["instrumentation_scope"]) == "scope"
    assert infer_context([]) is None
    # an enum the chosen context lacks: fall back to a lower context that has it
    assert infer_context(["resource"], enums=["SPAN_KIND_SERVER"]) == "spanevent"
    assert (
        infer_context(["resource"], enums=["SPAN_KIND_SERVER"], candidates=["resource", "span"])
        == "span"
    )
    assert infer_context(["span"], enums=["SEVERITY_NUMBER_WARN"]) is None
    # a function the chosen context lacks
    only_span_has = lambda ctx, fn: fn != "IsRootSpan" or ctx == "span"  # noqa: E731
    assert infer_context(["resource"], functions=["set", "IsRootSpan"], has_function=only_span_has) == "span"
    assert infer_context(["span"], functions=["IsRootSpan"], has_function=only_span_has) == "span"
    assert infer_context(["log"], functions=["IsRootSpan"], has_function=only_span_has) is None
    # not a candidate for this signal
    assert infer_context(["log"], functions=["set"], candidates=["span", "resource"]) is None


def test_docs_match_generated():
    # The checkout's docs, not the package's guess: tests may run against an installed wheel.
    docs = Path(__file__).resolve().parents[2] / "docs" / "contexts.md"
    text = docs.read_text(encoding="utf-8")
    assert text == render_markdown(), "docs/contexts.md is stale: run ottl.contexts.write_markdown()"


def test_docs_cover_every_path():
    md = render_markdown()
    for ctx, names in EXPECTED_PATHS.items():
        assert f"## `{ctx}`" in md
        for name in names:
            assert f"| `{name}` |" in md
