"""The datapoint context (prefix ``datapoint``): one number, histogram, exponential histogram or
summary data point, with its metric, scope and resource.

Reference: ``pkg/ottl/contexts/internal/ctxdatapoint/datapoint.go`` (the path switch) and
``ctxdatapoint/symbols.go`` (FLAG_* plus the metric table); the wrapper
``ottldatapoint/datapoint.go`` adds ``cache`` and reaches ``metric.``, ``resource.``, ``scope.``.
A path that does not apply to the point's kind reads as nil and ignores sets.
"""

from __future__ import annotations

from .metric import METRIC_ENUMS
from .spec import ContextSpec, PathSpec
from .spec import ValueType as T


def _p(name: str, type_: T, settable: bool = True, **kw) -> PathSpec:
    return PathSpec(tuple(name.split(".")), type_, settable, **kw)


DATAPOINT_ENUMS: dict[str, int] = {
    "FLAG_NONE": 0,
    "FLAG_NO_RECORDED_VALUE": 1,
    **METRIC_ENUMS,
}

CONTEXT = ContextSpec(
    name="datapoint",
    parents=("metric", "resource", "scope"),
    signals=("metrics",),
    enums=DATAPOINT_ENUMS,
    paths=(
        _p("attributes", T.MAP, keys=True, doc="point attributes; keys index nested maps/slices"),
        _p("start_time_unix_nano", T.INT, doc="nanoseconds since the epoch"),
        _p("time_unix_nano", T.INT, doc="nanoseconds since the epoch"),
        _p("start_time", T.TIME, doc="time value (UTC)"),
        _p("time", T.TIME, doc="time value (UTC)"),
        _p("value_double", T.FLOAT, doc="number points only"),
        _p("value_int", T.INT, doc="number points only"),
        _p("exemplars", T.SLICE, doc="pmetric.ExemplarSlice; not on summary points"),
        _p("flags", T.INT, doc="FLAG_NONE / FLAG_NO_RECORDED_VALUE"),
        _p("count", T.INT, doc="histogram, exponential histogram and summary points"),
        _p("sum", T.FLOAT, doc="histogram, exponential histogram and summary points"),
        _p("bucket_counts", T.SLICE, doc="[]uint64; histogram points only"),
        _p("explicit_bounds", T.SLICE, doc="[]float64; histogram points only"),
        _p("scale", T.INT, doc="exponential histogram points only"),
        _p("zero_count", T.INT, doc="exponential histogram points only"),
        _p("positive", T.OBJECT, doc="exponential histogram bucket set (offset, bucket_counts)"),
        _p("positive.offset", T.INT),
        _p("positive.bucket_counts", T.SLICE, doc="[]uint64"),
        _p("negative", T.OBJECT, doc="exponential histogram bucket set (offset, bucket_counts)"),
        _p("negative.offset", T.INT),
        _p("negative.bucket_counts", T.SLICE, doc="[]uint64"),
        _p("quantile_values", T.SLICE, doc="summary points only; value-at-quantile slice"),
        _p("cache", T.MAP, keys=True, doc="per-record scratch map, only in this context"),
    ),
)
