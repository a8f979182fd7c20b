"""Functions the transform and filter processors add on top of the standard ones, with the
contexts they are registered in (``processor/transformprocessor/internal/{metrics,logs,traces}``
and ``processor/filterprocessor``)."""

from __future__ import annotations

from . import checks
from .editors import K, P
from .spec import FunctionSpec, Kind

METRIC = frozenset({"metric"})
DATAPOINT = frozenset({"datapoint"})
LOG = frozenset({"log"})
SPAN = frozenset({"span"})


def _E(name, params, contexts, summary, **kw) -> FunctionSpec:
    return FunctionSpec(name, Kind.EDITOR, tuple(params), contexts=contexts, summary=summary, **kw)


def _C(name, params, contexts, summary, **kw) -> FunctionSpec:
    return FunctionSpec(name, Kind.CONVERTER, tuple(params), contexts=contexts, summary=summary, **kw)


_TEMPORALITY = P("StringAggTemp", K.STRING, check=checks.aggregation_temporality)
_SUFFIX = P("Suffix", K.STRING, optional=True)

TRANSFORM_METRIC_FUNCTIONS: tuple[FunctionSpec, ...] = (
    _E("convert_sum_to_gauge", [], METRIC, "Turn a sum metric into a gauge."),
    _E(
        "convert_gauge_to_sum",
        [_TEMPORALITY, P("Monotonic", K.BOOL)],
        METRIC,
        "Turn a gauge metric into a sum with the given temporality and monotonicity.",
    ),
    _E(
        "extract_sum_metric",
        [P("Monotonic", K.BOOL), _SUFFIX],
        METRIC,
        "Add a sum metric made from the sums of a histogram or summary.",
    ),
    _E(
        "extract_count_metric",
        [P("Monotonic", K.BOOL), _SUFFIX],
        METRIC,
        "Add a sum metric made from the counts of a histogram or summary.",
    ),
    _E(
        "extract_percentile_metric",
        [P("Percentile", K.FLOAT), _SUFFIX],
        METRIC,
        "Add a gauge with a percentile estimated from a histogram.",
    ),
    _E(
        "copy_metric",
        [
            P("Name", K.STRING_GETTER, optional=True),
            P("Description", K.STRING_GETTER, optional=True),
            P("Unit", K.STRING_GETTER, optional=True),
        ],
        METRIC,
        "Copy the metric, optionally renaming it.",
    ),
    _E(
        "scale_metric",
        [P("Multiplier", K.FLOAT), P("Unit", K.STRING_GETTER, optional=True)],
        METRIC,
        "Multiply every data point value by a factor.",
    ),
    _E(
        "aggregate_on_attributes",
        [
            P("AggregationFunction", K.STRING, check=checks.aggregation_function),
            P("Attributes", K.STRING, optional=True, is_list=True),
        ],
        METRIC,
        "Aggregate data points that share the listed attributes.",
    ),
    _E(
        "aggregate_on_attribute_value",
        [
            P("AggregationFunction", K.STRING, check=checks.aggregation_function),
            P("Attribute", K.STRING),
            P("Values", K.STRING, is_list=True),
            P("NewValue", K.STRING),
        ],
        METRIC,
        "Aggregate data points whose attribute has one of the values into new_value.",
    ),
    _E(
        "convert_exponential_histogram_to_histogram",
        [
            P("DistributionFn", K.STRING, check=checks.distribution_fn),
            P("ExplicitBounds", K.FLOAT, is_list=True),
        ],
        METRIC,
        "Turn an exponential histogram into an explicit-bucket histogram.",
    ),
    _E(
        "convert_summary_quantile_val_to_gauge",
        [P("AttributeKey", K.STRING, optional=True), _SUFFIX],
        METRIC,
        "Add a gauge metric made from the quantile values of a summary.",
    ),
)

TRANSFORM_DATAPOINT_FUNCTIONS: tuple[FunctionSpec, ...] = (
    _E(
        "convert_summary_sum_val_to_sum",
        [_TEMPORALITY, P("Monotonic", K.BOOL), _SUFFIX],
        DATAPOINT,
        "Add a sum metric made from a summary's sums.",
    ),
    _E(
        "convert_summary_count_val_to_sum",
        [_TEMPORALITY, P("Monotonic", K.BOOL), _SUFFIX],
        DATAPOINT,
        "Add a sum metric made from a summary's counts.",
    ),
    _E(
        "merge_histogram_buckets",
        [P("Bound", K.FLOAT)],
        DATAPOINT,
        "Merge the histogram bucket at an explicit bound into the next one.",
    ),
)

TRANSFORM_LOG_FUNCTIONS: tuple[FunctionSpec, ...] = (
    _C("ParseCEF", [P("Target", K.STRING_GETTER)], LOG, "Parse a Common Event Format line into a map."),
    _C(
        "ParseCLF",
        [P("Target", K.STRING_GETTER), P("Format", K.STRING, optional=True, check=checks.clf_format)],
        LOG,
        "Parse a Common (or combined) Log Format line into a map.",
    ),
    _C("ParseELF", [P("Target", K.STRING_GETTER)], LOG, "Parse an Extended Log Format line into a map."),
    _C("ParseLEEF", [P("Target", K.STRING_GETTER)], LOG, "Parse a Log Event Extended Format line into a map."),
)

TRANSFORM_TRACE_FUNCTIONS: tuple[FunctionSpec, ...] = (
    _E(
        "set_semconv_span_name",
        [P("SemconvVersion", K.STRING), P("OriginalSpanNameAttribute", K.STRING, optional=True)],
        SPAN,
        "Set the span name from semantic-convention attributes.",
    ),
)

FILTER_METRIC_FUNCTIONS: tuple[FunctionSpec, ...] = (
    _C(
        "HasAttrKeyOnDatapoint",
        [P("Key", K.STRING)],
        METRIC,
        "True when any data point of the metric has the attribute key.",
    ),
    _C(
        "HasAttrOnDatapoint",
        [P("Key", K.STRING), P("ExpectedVal", K.STRING)],
        METRIC,
        "True when any data point of the metric has the attribute with that value.",
    ),
)

PROCESSOR_FUNCTIONS: tuple[FunctionSpec, ...] = (
    TRANSFORM_METRIC_FUNCTIONS
    + TRANSFORM_DATAPOINT_FUNCTIONS
    + TRANSFORM_LOG_FUNCTIONS
    + TRANSFORM_TRACE_FUNCTIONS
    + FILTER_METRIC_FUNCTIONS
)
