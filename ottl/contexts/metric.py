"""The metric context (prefix ``metric``): one ``pmetric.Metric`` with its scope and resource.

Reference: ``pkg/ottl/contexts/internal/ctxmetric/metric.go`` (the path switch) and
the ``ctxmetric`` SymbolTable (AGGREGATION_TEMPORALITY_* and METRIC_DATA_TYPE_*; no FLAG_* here, those
are only added by the datapoint table); the wrapper ``ottlmetric/metrics.go`` adds ``cache``.
"""

from __future__ import annotations

from .spec import ContextSpec, PathSpec
from .spec import ValueType as T


def _p(name: str, type_: T, settable: bool = True, **kw) -> PathSpec:
    return PathSpec(tuple(name.split(".")), type_, settable, **kw)


# pmetric.AggregationTemporality* and pmetric.MetricType* values.
METRIC_ENUMS: dict[str, int] = {
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

CONTEXT = ContextSpec(
    name="metric",
    parents=("resource", "scope"),
    signals=("metrics",),
    enums=METRIC_ENUMS,
    paths=(
        _p("name", T.STRING),
        _p("description", T.STRING),
        _p("unit", T.STRING),
        _p(
            "type",
            T.INT,
            doc="METRIC_DATA_TYPE_* number; set is accepted but does nothing in the reference",
        ),
        _p(
            "aggregation_temporality",
            T.INT,
            doc="AGGREGATION_TEMPORALITY_*; nil (and set ignored) for gauge and summary",
        ),
        _p("is_monotonic", T.BOOL, doc="sum metrics only; nil (and set ignored) otherwise"),
        _p(
            "data_points",
            T.SLICE,
            doc="the data point slice of the metric's type; set copies a slice of that type",
        ),
        _p("metadata", T.MAP, keys=True, doc="metric metadata map; keys index nested values"),
        _p("cache", T.MAP, keys=True, doc="per-record scratch map, only in this context"),
    ),
)
