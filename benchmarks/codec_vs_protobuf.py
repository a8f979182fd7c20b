"""The native OTLP codec beside the official protobuf package, measured in one run.

Builds a realistic 10,000-span ExportTraceServiceRequest (benchmarks/otlp_data.py: ~10
attributes per span, resource and scope attributes, some events), then times, interleaved
round-robin so every ratio is a same-run ratio:

  ours:     decode_traces(bytes) -> SpanBatch (columns, interned strings), on as many
            threads as the CPUs allow (the default), and on the calling thread alone
            SpanBatch.encode() (every span re-encoded from its columns)
            SpanBatch.encode(verbatim=True) (spans copied from the input bytes)
  official: ExportTraceServiceRequest.FromString(bytes), msg.SerializeToString()

and prints medians in spans/s and MB/s with the ratios. Two tables from the same run:
"interleaved" runs the cases round-robin, each round starting one case later (each call meets
caches and heap as another case left them, so a call may pay fresh pages for its output),
"back to back" repeats each case three times in a row and keeps the warm repeats (reused
memory, as a process encoding batch after batch sees), rounds again interleaved so that the
shared machine's slow phases fall on every case alike. A third table times OTLP/JSON, back to back:

  ours:     decode_traces_json(text) -> SpanBatch (transcoded to protobuf, then decoded)
            SpanBatch.encode_json()
  official: json_format.Parse(text, ExportTraceServiceRequest()),
            json_format.MessageToJson(msg, indent=None)

(the official text has base64 ids, ours hex: the same request otherwise). A benchmark, not a
test.

    python benchmarks/codec_vs_protobuf.py [--spans 10000] [--repeat 21] [--json-repeat 5]
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "benchmarks"))

from google.protobuf import json_format  # noqa: E402
from google.protobuf.internal import api_implementation  # noqa: E402
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (  # noqa: E402
    ExportTraceServiceRequest,
)
from otlp_data import trace_request  # noqa: E402
from timing import back_to_back, interleaved  # noqa: E402

from ottl import limits  # noqa: E402
from ottl._batch import decode_traces, decode_traces_json  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--spans", type=int, default=10_000)
    ap.add_argument("--repeat", type=int, default=21)
    ap.add_argument("--json-repeat", type=int, default=5,
                    help="runs of the (slow) official JSON codec and of ours")
    args = ap.parse_args()

    msg = trace_request(args.spans, n_resources=max(1, args.spans // 500))
    data = msg.SerializeToString()
    batch = decode_traces(data)
    assert ExportTraceServiceRequest.FromString(batch.encode()) == msg
    n = len(batch)

    cases = {
        "protobuf ParseFromString": lambda: ExportTraceServiceRequest.FromString(data),
        "ours decode_traces": lambda: decode_traces(data),
        "ours decode_traces, 1 thread": lambda: decode_traces(data, threads=1),
        "protobuf SerializeToString": msg.SerializeToString,
        "ours encode (from columns)": batch.encode,
        "ours encode (verbatim spans)": lambda: batch.encode(verbatim=True),
    }
    for fn in cases.values():  # warm up
        fn()
    gc.disable()
    try:
        inter = interleaved(cases, args.repeat)
        solo = back_to_back(cases, args.repeat)
    finally:
        gc.enable()

    print(f"protobuf {api_implementation.Type()} backend; {n} spans, {len(data)} bytes "
          f"({len(data) / n:.0f} B/span), {batch.string_count} distinct strings; "
          f"medians of {args.repeat} runs; the default decode may use "
          f"{min(len(os.sched_getaffinity(0)), limits.MAX_DECODE_THREADS)} threads")
    for title, times in (("interleaved", inter), ("back to back", solo)):
        med = {k: statistics.median(v) for k, v in times.items()}
        print(f"\n{title:32s} {'ms':>8s} {'spans/s':>12s} {'MB/s':>9s} {'vs protobuf':>12s}")
        base_dec, base_enc = med["protobuf ParseFromString"], med["protobuf SerializeToString"]
        for name, t in med.items():
            ref = base_dec if ("Parse" in name or "decode" in name) else base_enc
            print(f"{name:32s} {t * 1e3:8.2f} {n / t:12,.0f} {len(data) / t / 1e6:9.1f} "
                  f"{ref / t:11.2f}x")

    json_table(msg, batch, n, args.json_repeat)


def json_table(msg, batch, n: int, repeat: int) -> None:
    ours_text = batch.encode_json()
    official_text = json_format.MessageToJson(msg, indent=None)
    again = decode_traces_json(ours_text)
    assert ExportTraceServiceRequest.FromString(again.encode()) == msg
    cases = {
        "json_format.Parse": (lambda: json_format.Parse(official_text, ExportTraceServiceRequest()),
                              len(official_text)),
        "ours decode_traces_json": (lambda: decode_traces_json(ours_text), len(ours_text)),
        "json_format.MessageToJson": (lambda: json_format.MessageToJson(msg, indent=None),
                                      len(official_text)),
        "ours encode_json": (batch.encode_json, len(ours_text)),
    }
    times: dict[str, list[float]] = {k: [] for k in cases}
    for fn, _ in cases.values():  # warm up
        fn()
    gc.disable()
    try:
        for name, (fn, _) in cases.items():
            for _ in range(repeat):
                t = time.perf_counter()
                fn()
                times[name].append(time.perf_counter() - t)
    finally:
        gc.enable()
    med = {k: statistics.median(v) for k, v in times.items()}
    print(f"\nOTLP/JSON, back to back ({len(ours_text)} bytes ours, {len(official_text)} official; "
          f"medians of {repeat} runs)")
    print(f"{'':32s} {'ms':>8s} {'spans/s':>12s} {'MB/s':>9s} {'vs official':>12s}")
    for name, t in med.items():
        ref = med["json_format.Parse"] if ("Parse" in name or "decode" in name) \
            else med["json_format.MessageToJson"]
        size = cases[name][1]
        print(f"{name:32s} {t * 1e3:8.2f} {n / t:12,.0f} {size / t / 1e6:9.1f} {ref / t:11.2f}x")


if __name__ == "__main__":
    main()
