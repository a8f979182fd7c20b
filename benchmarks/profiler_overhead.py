"""Overhead of the eBPF profiler on a fixed CPU-bound workload, and the profiler's own memory.

    python benchmarks/profiler_overhead.py [--pairs 7] [--iterations 6000] [--json out.json]

Method: a small C program (built here with gcc, frame pointers on) burns a fixed amount of CPU,
pinned to the last CPU, and reports its thread CPU time (CLOCK_THREAD_CPUTIME_ID: interrupt and
sampling cost is charged to the interrupted task, and it is robust to vCPU steal) and wall time.
Runs alternate without and with the profiler (system-wide, every online CPU, draining every
second as an agent would), the order swapped each pair; the figure is the median of the per-pair
ratios with/without, at 99 Hz and at 999 Hz. Memory is the profiler process's RSS plus the BPF
maps' memlock, read after each profiled run's snapshot (so symbolization is included).
Needs root (or CAP_BPF+CAP_PERFMON) and gcc. Target (issue 7): < 1% slower at 99 Hz, < 50 MB.

Python target (issue 8): the same alternation with a CPython workload (outer() -> middle() ->
leaf() in a loop, about 1 s of CPU, run by ``--python``, default: this interpreter), profiled by
pid so that every sample walks its interpreter frames in BPF and resolves code objects in user
space; reported with the share of samples that got Python frames.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import ebpf  # noqa: E402

WORKLOAD = r"""
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
volatile unsigned long sink;
__attribute__((noinline)) unsigned long leaf(unsigned long n) {
    volatile unsigned long x = 0;
    for (unsigned long i = 0; i < n; i++) x += i * i ^ (x >> 3);
    return x;
}
__attribute__((noinline)) unsigned long outer(unsigned long n) { return leaf(n) + 1; }
static double now(clockid_t c) { struct timespec t; clock_gettime(c, &t); return t.tv_sec + t.tv_nsec * 1e-9; }
int main(int argc, char **argv) {
    long iters = argc > 1 ? atol(argv[1]) : 6000;
    double w0 = now(CLOCK_MONOTONIC), c0 = now(CLOCK_THREAD_CPUTIME_ID);
    for (long i = 0; i < iters; i++) sink += outer(100000);
    printf("%.6f %.6f\n", now(CLOCK_THREAD_CPUTIME_ID) - c0, now(CLOCK_MONOTONIC) - w0);
    return 0;
}
"""


def build_workload(tmp: str) -> str:
    cc = shutil.which("gcc") or shutil.which("cc")
    if cc is None:
        sys.exit("profiler_overhead: needs gcc to build the workload")
    src = os.path.join(tmp, "busy.c")
    with open(src, "w") as fh:
        fh.write(WORKLOAD)
    exe = os.path.join(tmp, "busy")
    subprocess.run([cc, "-O2", "-fno-omit-frame-pointer", "-o", exe, src], check=True)
    return exe


def run_workload(exe: str, iterations: int, cpu: int):
    out = subprocess.run(["taskset", "-c", str(cpu), exe, str(iterations)], capture_output=True,
                         text=True, check=True).stdout.split()
    return float(out[0]), float(out[1])


PY_WORKLOAD = r"""
import sys, time
def leaf(n):
    x = 0
    for i in range(n):
        x += i * i
    return x
def middle(n):
    return leaf(n) + 1
def outer(n):
    return middle(n) + 2
iters = int(sys.argv[1])
sys.stdout.write("ready\n"); sys.stdout.flush()
sys.stdin.readline()
w0, c0 = time.monotonic(), time.thread_time()
for _ in range(iters):
    outer(1000)
print(f"{time.thread_time() - c0:.6f} {time.monotonic() - w0:.6f}", flush=True)
"""


def run_python_workload(python: str, script: str, iterations: int, cpu: int, frequency: int = 0):
    """One run of the Python workload; with ``frequency``, profiled by pid. -> (cpu s, wall s, Overhead)"""
    proc = subprocess.Popen(["taskset", "-c", str(cpu), python, script, str(iterations)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "ready"
    ov = None
    try:
        if frequency:
            with ebpf.Profiler(pid=proc.pid, frequency=frequency, drain_interval=1.0) as prof:
                proc.stdin.write("go\n")
                proc.stdin.flush()
                out = proc.stdout.readline().split()
                snap = prof.snapshot()
            ov = snap.overhead
        else:
            proc.stdin.write("go\n")
            proc.stdin.flush()
            out = proc.stdout.readline().split()
    finally:
        proc.stdin.close()
        proc.wait()
        proc.stdout.close()
    return float(out[0]), float(out[1]), ov


def _median(xs: list, empty=None):
    return statistics.median(xs) if xs else empty


def summarize(frequency: int, pairs: int, ratios: list, overheads: list,
              target: dict | None = None, **extra) -> dict:
    """One measurement's figures: ``ratios`` holds (cpu, wall) time ratios with/without the
    profiler per pair, ``overheads`` the profiled runs' ``Overhead``; ``target`` (e.g.
    {"target": "python"}) follows the frequency, ``extra`` figures follow the BPF cost."""
    mem = [ov.rss_bytes + ov.map_memory_bytes for ov in overheads]
    return {
        "frequency": frequency,
        **(target or {}),
        "pairs": pairs,
        "cpu_time_ratio_median": statistics.median(r[0] for r in ratios),
        "wall_time_ratio_median": statistics.median(r[1] for r in ratios),
        "cpu_time_ratios": [r[0] for r in ratios],
        "profiler_memory_max_mb": max(mem, default=0) / 2**20,
        "profiler_rss_max_mb": max((ov.rss_bytes for ov in overheads), default=0) / 2**20,
        "bpf_map_memory_mb": max((ov.map_memory_bytes for ov in overheads), default=0) / 2**20,
        "bpf_ns_per_sample_median": _median([ov.bpf_ns_per_run for ov in overheads
                                             if ov.bpf_ns_per_run]),
        **extra,
        "samples_per_s_median": _median([ov.samples_per_s for ov in overheads], 0.0),
        "profiler_cpu_share_median": _median([ov.cpu_share for ov in overheads], 0.0),
    }


def measure_python(python: str, script: str, iterations: int, pairs: int, frequency: int, cpu: int) -> dict:
    ratios, overheads = [], []
    for i in range(pairs):
        order = ("without", "with") if i % 2 == 0 else ("with", "without")
        res = {}
        for which in order:
            freq = frequency if which == "with" else 0
            cpu_s, wall_s, ov = run_python_workload(python, script, iterations, cpu, freq)
            res[which] = (cpu_s, wall_s)
            if ov is not None:
                overheads.append(ov)
        ratios.append((res["with"][0] / res["without"][0], res["with"][1] / res["without"][1]))
    return summarize(
        frequency, pairs, ratios, overheads, target={"target": "python"},
        python_sample_share_median=_median(
            [ov.py_samples / ov.samples if ov.samples else 0.0 for ov in overheads], 0.0),
        # all BPF run time charged to the recorded samples: an upper bound of one Python sample's cost
        bpf_ns_per_recorded_sample_median=_median(
            [ov.bpf_run_time_ns / ov.samples for ov in overheads
             if ov.samples and ov.bpf_run_time_ns]))


def profiled_run(exe: str, iterations: int, cpu: int, frequency: int):
    with ebpf.Profiler(frequency=frequency, drain_interval=1.0) as prof:
        cpu_s, wall_s = run_workload(exe, iterations, cpu)
        snap = prof.snapshot()
    ov = snap.overhead
    return cpu_s, wall_s, ov


def measure(exe: str, iterations: int, pairs: int, frequency: int, cpu: int) -> dict:
    ratios, overheads = [], []
    for i in range(pairs):
        order = ("without", "with") if i % 2 == 0 else ("with", "without")
        res = {}
        for which in order:
            if which == "without" or frequency == 0:  # 0 Hz: the null condition, both runs bare
                res[which] = run_workload(exe, iterations, cpu)
            else:
                cpu_s, wall_s, ov = profiled_run(exe, iterations, cpu, frequency)
                res[which] = (cpu_s, wall_s)
                overheads.append(ov)
        ratios.append((res["with"][0] / res["without"][0], res["with"][1] / res["without"][1]))
    return summarize(frequency, pairs, ratios, overheads)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pairs", type=int, default=9)
    ap.add_argument("--iterations", type=int, default=6000, help="workload size (about 1 s of CPU here)")
    ap.add_argument("--frequencies", default="0,99,999",
                    help="0 is the null condition: both runs of a pair without the profiler, which "
                         "shows the noise of the machine")
    ap.add_argument("--python", default=sys.executable,
                    help="CPython for the Python-target rows (default: this interpreter); '' to skip them")
    ap.add_argument("--python-iterations", type=int, default=0,
                    help="Python workload size (default: calibrated to about 1 s of CPU)")
    ap.add_argument("--python-frequencies", default="0,99",
                    help="frequencies of the Python-target rows (0: the null condition)")
    ap.add_argument("--json", help="also write the figures here")
    args = ap.parse_args(argv)
    try:
        ebpf.preflight()
    except ebpf.ProfilerError as e:
        print(f"profiler_overhead: {e}", file=sys.stderr)
        return 1
    cpus = sorted(os.sched_getaffinity(0))
    work_cpu = cpus[-1]
    if len(cpus) > 1:
        os.sched_setaffinity(0, {cpus[0]})  # the profiler (this process) stays off the workload's CPU
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        exe = build_workload(tmp)
        run_workload(exe, args.iterations // 4, work_cpu)  # warm up
        for freq in (int(f) for f in args.frequencies.split(",") if f):
            t0 = time.monotonic()
            results.append(measure(exe, args.iterations, args.pairs, freq, work_cpu))
            results[-1]["seconds"] = time.monotonic() - t0
        if args.python:
            script = os.path.join(tmp, "py_workload.py")
            with open(script, "w") as fh:
                fh.write(PY_WORKLOAD)
            iters = args.python_iterations
            if not iters:  # calibrate: about 1 s of the workload's CPU time
                cpu_s, _, _ = run_python_workload(args.python, script, 200, work_cpu)
                iters = max(1, int(200 / max(cpu_s, 1e-3)))
            for freq in (int(f) for f in args.python_frequencies.split(",") if f):
                t0 = time.monotonic()
                results.append(measure_python(args.python, script, iters, args.pairs, freq, work_cpu))
                results[-1]["seconds"] = time.monotonic() - t0
    print(f"eBPF profiler overhead: median of {args.pairs} alternating pairs, workload pinned to CPU {work_cpu}, "
          f"profiler system-wide on {len(ebpf.profiler.online_cpus())} CPUs")
    print(f"{'Hz':>5} {'cpu-time ratio':>15} {'wall ratio':>11} {'samples/s':>10} {'BPF ns/sample':>14} "
          f"{'own CPU':>8} {'RSS MB':>7} {'maps MB':>8} {'total MB':>9}")
    for r in results:
        bpf = f"{r['bpf_ns_per_sample_median']:.0f}" if r["bpf_ns_per_sample_median"] else "n/a"
        hz = f"{r['frequency']}py" if r.get("target") == "python" else str(r["frequency"])
        print(f"{hz:>5} {r['cpu_time_ratio_median']:>15.4f} {r['wall_time_ratio_median']:>11.4f} "
              f"{r['samples_per_s_median']:>10.0f} {bpf:>14} {100 * r['profiler_cpu_share_median']:>7.2f}% "
              f"{r['profiler_rss_max_mb']:>7.1f} {r['bpf_map_memory_mb']:>8.1f} {r['profiler_memory_max_mb']:>9.1f}")
    for r in results:
        if r.get("target") == "python" and r["frequency"]:
            print(f"{r['frequency']}py: the Python workload ({args.python}) profiled by pid; "
                  f"{100 * r['python_sample_share_median']:.0f}% of its samples had Python frames; "
                  "its BPF ns/sample is the mean over every program run (the target's samples, which walk "
                  "the frames, and the cheap runs that skip other processes); all BPF time over the "
                  f"recorded samples (an upper bound per Python sample): "
                  f"{(r['bpf_ns_per_recorded_sample_median'] or 0) / 1000:.1f} us")
    print("targets at 99 Hz: cpu-time ratio < 1.01, total memory < 50 MB; the 0 Hz rows (null condition) "
          "show the noise: ratios within their spread are not distinguishable from no effect")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(results, fh, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
