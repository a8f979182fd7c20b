"""Statements the VM runs as derived columns, against the reference evaluator, in one run.

Each statement runs on the fast pipeline (``TransformPipeline.execute``, median of --repeat
runs, each on a freshly decoded batch) and on the reference ``TransformProcessor`` (median of
--reference-repeat runs) over the same 10,000 records, and the ratio is printed. The spans are
benchmarks/otlp_data.py's request; the logs have map bodies (a level, a message, a user among
500, a duration) and, on a third of them, a nested map attribute. A benchmark, not a test.

    python benchmarks/derived_vs_reference.py [--repeat 7] [--reference-repeat 3]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "benchmarks"))

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import (  # noqa: E402
    ExportLogsServiceRequest,
)
from otlp_data import trace_request  # noqa: E402

from ottl._batch import decode_logs, decode_traces  # noqa: E402
from ottl.config import Group, Located  # noqa: E402
from ottl.eval.batch_model import payload_from_batch  # noqa: E402
from ottl.eval.processors import TransformProcessor  # noqa: E402
from ottl.pipeline import TransformPipeline  # noqa: E402

CASES = [
    ("traces", 'set(span.attributes["ms"], (span.end_time_unix_nano - span.start_time_unix_nano)'
               ' / 1000000.0)'),
    ("traces", 'set(span.attributes["kb"], span.attributes["http.request_content_length"] / '
               '1024.0)'),
    ("traces", 'set(span.attributes["first"], Split(span.attributes["http.route"], "/")[3])'),
    ("traces", 'set(span.attributes["dur"], Milliseconds(span.end_time - span.start_time))'),
    ("traces", 'set(span.attributes["slow"], true) where span.end_time - span.start_time > '
               'Duration("100ms")'),
    ("logs", 'set(log.attributes["level"], log.body["level"])'),
    ("logs", 'set(log.attributes["s"], log.body["ms"] / 1000.0) where log.body["level"] == '
             '"error"'),
    ("logs", 'set(log.attributes["user"], ToUpperCase(log.body["user"]))'),
    ("logs", 'set(log.attributes["http"]["seen"], true)'),
    ("logs", "flatten(log.attributes)"),
    ("logs", 'set(log.attributes["day"], FormatTime(log.time, "%Y-%m-%d"))'),
    # whole maps, inner results no column holds, Now(), ids, log.body.string
    ("traces", 'set(span.attributes["n"], Len(span.attributes))'),
    ("traces", 'merge_maps(span.attributes, resource.attributes, "insert")'),
    ("traces", 'set(span.attributes["depth"], Len(Split(span.attributes["http.route"], "/")))'),
    ("traces", 'set(span.attributes["old"], true) where span.start_time < Now() - '
               'Duration("1h")'),
    ("traces", 'set(span.attributes["trace"], Hex(span.trace_id))'),
    ("logs", 'set(log.attributes["b"], log.body.string)'),
    ("logs", 'set(log.attributes["hour"], Hour(log.time))'),
    ("traces", 'set(resource.attributes["last.route"], span.attributes["http.route"])'),
    ("traces", 'set(span.attributes["events"], Len(span.events))'),
    ("traces", 'delete_key(resource.attributes, "host.name")'),
    # a new value per record
    ("traces", 'set(span.attributes["id"], UUID())'),
]


def logs_with_map_bodies(n: int = 10_000, seed: int = 1) -> bytes:
    rng = random.Random(seed)
    req = ExportLogsServiceRequest()
    scope = req.resource_logs.add().scope_logs.add()
    for i in range(n):
        rec = scope.log_records.add(time_unix_nano=1_700_000_000_000_000_000 + i * 10**9)
        body = rec.body.kvlist_value.values
        for key, value in (("level", rng.choice(["info", "warn", "error"])),
                           ("msg", f"request {i} done"), ("user", f"u{rng.randrange(500)}")):
            body.add(key=key).value.string_value = value
        body.add(key="ms").value.int_value = rng.randrange(1000)
        rec.attributes.add(key="logger").value.string_value = "app"
        if i % 3 == 0:
            http = rec.attributes.add(key="http").value.kvlist_value.values
            http.add(key="method").value.string_value = rng.choice(["GET", "POST"])
            http.add(key="status").value.int_value = rng.choice([200, 404, 500])
    return req.SerializeToString()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--reference-repeat", type=int, default=3)
    args = ap.parse_args()
    data = {"traces": trace_request(10_000).SerializeToString(), "logs": logs_with_map_bodies()}
    decode = {"traces": decode_traces, "logs": decode_logs}
    print(f"{'ours (median)':>14} {'reference':>10} {'ratio':>7}  statement (10,000 records)")
    for signal, text in CASES:
        context = "span" if signal == "traces" else "log"
        group = Group("transform", signal, "statements", [Located(text)], context, "ignore", [],
                      "bench", 0)
        pipeline = TransformPipeline([group])
        assert pipeline.native, pipeline.reasons
        ours = []
        for _ in range(args.repeat):
            batch = decode[signal](data[signal])
            t = time.perf_counter()
            pipeline.execute(batch)
            ours.append(time.perf_counter() - t)
        reference, processor = [], TransformProcessor([group])
        for _ in range(args.reference_repeat):
            payload = payload_from_batch(decode[signal](data[signal]))
            t = time.perf_counter()
            processor.process(payload)
            reference.append(time.perf_counter() - t)
        a, b = statistics.median(ours), statistics.median(reference)
        print(f"{a * 1e3:11.1f} ms {b * 1e3:7.0f} ms {b / a:6.0f}x  {text}")


if __name__ == "__main__":
    main()
