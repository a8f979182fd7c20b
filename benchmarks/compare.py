"""The fast engine beside its peers, measured in one run on the same data (a benchmark, not a
test). Prints medians in spans/s and ratios:

1. the batch filter on decoded columns, two conditions of research/perf.md (F1: two attribute
   predicates; F2: a name or a duration), ours (AVX2 kernels and the scalar ones) against numpy
   on the same columns (strings as ids, attributes gathered into dense columns beforehand, as
   ours are: once per batch) and polars on the same columns;
2. OTLP bytes in, filter, OTLP bytes out (``FilterPipeline.filter_otlp``: a decode of only
   the attribute keys F1 reads, kept spans copied verbatim; and the same over a whole decode),
   and a three-statement transform bytes to bytes (``TransformPipeline.transform_otlp``: a
   decode of only the attribute values the statements touch, the others kept opaque; changed
   spans re-encoded around their unchanged attributes, the others copied; and the same over a
   whole decode, after a resource group, and before a spanevent group), against protobuf's
   ParseFromString +
   SerializeToString on the same payload (which does nothing: the floor of any upb-based
   path). Timed twice: interleaved (each call meets the caches as another case left them) and
   back to back (each case several times in a row, as a process doing only that sees it).

    python benchmarks/compare.py [--spans 1000000] [--e2e-spans 10000] [--repeat 9]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent / "benchmarks"))

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (  # noqa: E402
    ExportTraceServiceRequest,
)
from otlp_data import sdk_spans, trace_request  # noqa: E402
from timing import back_to_back  # noqa: E402

from ottl import _vm  # noqa: E402
from ottl._batch import TAG_INT, TAG_STRING, decode_traces  # noqa: E402
from ottl.config import Group, Located  # noqa: E402
from ottl.compiler.compile import compile_condition as bytecode_condition  # noqa: E402
from ottl.compiler.compile import compile_statement as bytecode_statement  # noqa: E402
from ottl.engine import compile_condition, compile_statement  # noqa: E402
from ottl.frontend import resolve_condition, resolve_statement  # noqa: E402
from ottl.pipeline import FilterPipeline, TransformPipeline  # noqa: E402

F1 = 'span.attributes["http.status_code"] >= 500 and span.attributes["http.method"] == "POST"'
TRANSFORM = [
    'set(span.attributes["deployment.environment"], "prod")',
    'delete_key(span.attributes, "http.user_agent")',
    'set(span.status.code, STATUS_CODE_ERROR) where span.attributes["http.status_code"] >= 500',
]
# A resource-context group (runs once per resource of the batch: 20 per 10,000 spans here).
RESOURCE_TRANSFORM = [
    'set(attributes["k8s.cluster.name"], "prod-eu")',
    'delete_key(attributes, "host.name")',
]
# A spanevent-context group (on the VM as a log statement over the events, ottl/events_native.py:
# 1,478 events on 983 of the 10,000 spans here).
EVENT_TRANSFORM = ['set(attributes["exception.message"], "redacted") where name == "exception"']
F2 = ('span.name == "GET /api/v1/sessions/{id}" or '
      '(span.end_time_unix_nano - span.start_time_unix_nano) > 10000000')


def timed(fn, repeat: int) -> float:
    """Median seconds of ``repeat`` calls (after one warm-up call)."""
    fn()
    samples = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t)
    return statistics.median(samples)


def timed_together(fns: dict, repeat: int) -> dict:
    """Median seconds of each function over ``repeat`` rounds that call every one of them in
    turn (after one warm-up round): each meets the caches as the others left them, so a
    ratio is not skewed by one side running with everything warm."""
    for fn in fns.values():
        fn()
    samples: dict = {name: [] for name in fns}
    for _ in range(repeat):
        for name, fn in fns.items():
            t = time.perf_counter()
            fn()
            samples[name].append(time.perf_counter() - t)
    return {name: statistics.median(v) for name, v in samples.items()}


def attribute_column(batch, key: str):
    """Dense (tag, value) columns of one span attribute, gathered with numpy (setup only)."""
    ids = batch.column("strings.offsets")
    blob = batch.column("strings.bytes").tobytes()
    sid = next(i for i in range(len(ids) - 1) if blob[ids[i]:ids[i + 1]] == key.encode())
    keys, tags, vals = (batch.column(f"attributes.{c}") for c in ("key", "tag", "value"))
    off = batch.column("attr_off")
    pos = np.flatnonzero(keys == sid)
    rows = np.searchsorted(off, pos, side="right") - 1
    tag = np.full(len(batch), 15, dtype=np.uint8)
    val = np.zeros(len(batch), dtype=np.int64)
    tag[rows] = tags[pos]
    val[rows] = vals[pos]
    return tag, val


def string_id(batch, text: str) -> int:
    ids = batch.column("strings.offsets")
    blob = batch.column("strings.bytes").tobytes()
    return next((i for i in range(len(ids) - 1) if blob[ids[i]:ids[i + 1]] == text.encode()), -1)


def table(title: str, rows: list[tuple[str, float]], n: int, base: str) -> None:
    print(f"\n{title}")
    print(f"{'':44}{'ms':>10}{'spans/s':>16}{'vs ' + base:>14}")
    ref = dict(rows)[base]
    for name, sec in rows:
        print(f"{name:44}{sec * 1e3:10.3f}{n / sec:16,.0f}{ref / sec:13.2f}x")


def sdk_rows(args) -> None:
    """An SDK service's own spans: our exporter wrapper (filter F1) against a plain Python loop
    over the same ReadableSpan objects."""
    try:
        from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

        from ottl.exporters import OttlSpanExporter
    except ImportError:
        print("\n(opentelemetry-sdk is not installed: pip install 'ottl[sdk]' for the SDK rows)")
        return
    spans = sdk_spans(args.e2e_spans)

    class Sink(SpanExporter):
        def export(self, batch):
            self.last = batch
            return SpanExportResult.SUCCESS

    sink = Sink()
    wrapper = OttlSpanExporter(sink, conditions=[F1])

    def python_loop():
        return [s for s in spans
                if not (s.attributes.get("http.status_code", 0) >= 500
                        and s.attributes.get("http.method") == "POST")]

    wrapper.export(spans)
    assert len(sink.last) == len(python_loop())
    rows = list(timed_together({
        "plain Python loop over the spans": python_loop,
        "ours: OttlSpanExporter (objects -> batch -> VM)": lambda: wrapper.export(spans),
    }, args.repeat).items())
    table(f"SDK ReadableSpan objects, filter F1 ({len(spans):,} spans)", rows, len(spans),
          "plain Python loop over the spans")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--spans", type=int, default=1_000_000, help="spans in the filter batch")
    ap.add_argument("--e2e-spans", type=int, default=10_000, help="spans in the OTLP payload")
    ap.add_argument("--repeat", type=int, default=9)
    args = ap.parse_args()

    unit = trace_request(10_000, n_resources=20)
    unit_bytes = unit.SerializeToString()
    # Concatenated messages merge their repeated fields: k copies = one k-times larger request.
    batch = decode_traces(unit_bytes * max(1, args.spans // 10_000))
    n = len(batch)
    print(f"kernels: {_vm.simd()} (and scalar); filter batch {n:,} spans; "
          f"medians of {args.repeat} runs")

    # numpy / polars inputs: the same columns the VM reads.
    sc_tag, sc_val = attribute_column(batch, "http.status_code")
    m_tag, m_val = attribute_column(batch, "http.method")
    post = string_id(batch, "POST")
    name = batch.column("name").astype(np.int32)
    gets = string_id(batch, "GET /api/v1/sessions/{id}")
    start = batch.column("start_time_unix_nano").view(np.int64)
    end = batch.column("end_time_unix_nano").view(np.int64)
    sc_valid = sc_tag == TAG_INT
    m_ids = np.where(m_tag == TAG_STRING, m_val, -1).astype(np.int32)

    def numpy_f1():
        return sc_valid & (sc_val >= 500) & (m_ids == post)

    def numpy_f2():
        return (name == gets) | ((end - start) > 10_000_000)

    f1, f2 = compile_condition(F1, "span"), compile_condition(F2, "span")
    assert f1.native and f2.native
    assert (f1.filter(batch) == numpy_f1()).all() and (f2.filter(batch) == numpy_f2()).all()

    cases1 = {"numpy (same columns)": numpy_f1}
    cases2 = {"numpy (same columns)": numpy_f2}
    try:
        import polars as pl

        df = pl.DataFrame({"sc": pl.Series(np.where(sc_valid, sc_val, 0)), "sc_ok": sc_valid,
                           "m": m_ids, "name": name, "start": start, "end": end})
        e1 = (pl.col("sc_ok") & (pl.col("sc") >= 500) & (pl.col("m") == post)).alias("k")
        e2 = ((pl.col("name") == gets) | ((pl.col("end") - pl.col("start")) > 10_000_000)).alias("k")
        cases1["polars (same columns, select mask)"] = lambda: df.select(e1)
        cases2["polars (same columns, select mask)"] = lambda: df.select(e2)
    except ImportError:
        print("(polars is not installed: pip install polars to compare with it)")
    cases1["ours, " + _vm.simd()] = lambda: f1.filter(batch)
    cases2["ours, " + _vm.simd()] = lambda: f2.filter(batch)
    # numpy, polars and ours round-robin (timed_together), then the scalar kernels on their own
    rows1 = list(timed_together(cases1, args.repeat).items())
    rows2 = list(timed_together(cases2, args.repeat).items())
    _vm.force_scalar(True)
    rows1.append(("ours, scalar kernels", timed(lambda: f1.filter(batch), args.repeat)))
    rows2.append(("ours, scalar kernels", timed(lambda: f2.filter(batch), args.repeat)))
    _vm.force_scalar(False)
    table(f"F1: {F1}", rows1, n, "numpy (same columns)")
    table(f"F2: {F2}", rows2, n, "numpy (same columns)")

    # End to end: bytes in, filter, bytes out.
    data = trace_request(args.e2e_spans, n_resources=max(1, args.e2e_spans // 500)).SerializeToString()
    m = len(decode_traces(data))
    group = Group("filter", "traces", "conditions", [Located(F1)], "span", "propagate", [], "bench", 0)
    pipeline = FilterPipeline([group])
    assert pipeline.native

    def ours_e2e():
        return pipeline.filter_otlp(data)  # decodes only the attribute keys F1 reads

    def ours_e2e_whole():
        b = decode_traces(data)
        return b.encode(pipeline.keep(b), verbatim=True)

    def upb_e2e():
        return ExportTraceServiceRequest.FromString(data).SerializeToString()

    statements = [Located(t) for t in TRANSFORM]
    tgroup = Group("transform", "traces", "statements", statements, "span", "propagate", [],
                   "bench", 0)
    transform = TransformPipeline([tgroup])
    assert transform.native, transform.reasons

    def ours_transform():
        return transform.transform_otlp(data)  # decodes only the values the statements touch

    def ours_transform_whole():
        b = decode_traces(data)
        transform.execute(b)
        return b.encode(verbatim=True)

    rgroup = Group("transform", "traces", "statements", [Located(t) for t in RESOURCE_TRANSFORM],
                   "resource", "propagate", [], "bench", 0)
    with_resource = TransformPipeline([rgroup, tgroup])
    assert with_resource.native, with_resource.reasons

    def ours_resource_transform():
        return with_resource.transform_otlp(data)

    egroup = Group("transform", "traces", "statements", [Located(t) for t in EVENT_TRANSFORM],
                   "spanevent", "propagate", [], "bench", 0)
    with_events = TransformPipeline([tgroup, egroup])
    assert with_events.native, with_events.reasons

    def ours_event_transform():
        return with_events.transform_otlp(data)  # events decode whole under the projection

    # Round-robin: the shared machine's slow phases (they last seconds) fall on every row.
    e2e_cases = {
        "protobuf ParseFromString+SerializeToString": upb_e2e,
        "ours: projected decode, filter F1, verbatim encode": ours_e2e,
        "ours: the same with a whole decode": ours_e2e_whole,
        "ours: projected decode, 3-statement transform, verbatim encode": ours_transform,
        "ours: the transform with a whole decode": ours_transform_whole,
        "ours: the same after a resource group": ours_resource_transform,
        "ours: the same, then a spanevent group": ours_event_transform,
    }
    e2e = timed_together(e2e_cases, args.repeat)
    table(f"OTLP bytes -> filter or transform -> OTLP bytes ({m:,} spans, {len(data):,} bytes), "
          "interleaved", list(e2e.items()), m, "protobuf ParseFromString+SerializeToString")
    solo = {name: statistics.median(v)
            for name, v in back_to_back(e2e_cases, args.repeat, run=4).items()}
    table("the same, back to back (each case several times in a row, the warm calls kept)",
          list(solo.items()), m, "protobuf ParseFromString+SerializeToString")
    print("\ntransform: " + "; ".join(TRANSFORM))
    print("resource group (resource context, once per resource, before it): "
          + "; ".join(RESOURCE_TRANSFORM))
    print("spanevent group (spanevent context, on the VM over the events, after it): "
          + "; ".join(EVENT_TRANSFORM))

    sdk_rows(args)

    # Compile time: the whole way (text -> parse -> resolve -> bytecode -> verified VM program,
    # plus the reference evaluator's closures kept for fallback), and the bytecode step alone.
    print(f"\ncompile time, median of {args.repeat * 20} runs: whole (text to verified program) "
          "and bytecode only (resolved tree to Program)")
    for text in (F1, F2, *TRANSFORM):
        is_statement = text.startswith(("set(", "delete_key("))
        make = compile_statement if is_statement else compile_condition
        whole = timed(lambda: make(text, "span"), args.repeat * 20)
        if is_statement:
            r = resolve_statement(text, "span")
            only = timed(lambda: bytecode_statement(r), args.repeat * 20)
        else:
            rc = resolve_condition(text, "span")
            only = timed(lambda: bytecode_condition(rc.expr, "span", text), args.repeat * 20)
        print(f"  {whole * 1e6:8.1f} us  {only * 1e6:7.1f} us  {text}")


if __name__ == "__main__":
    main()
