"""``ottl profile``: sample stacks with the eBPF profiler and write a flame graph, folded stacks
or a pprof profile.

    ottl profile --pid PID --duration 30s --output out.svg|out.folded|out.pb.gz

While it records, a status line shows the elapsed time, the samples and the profiler's own cost
(CPU share, RSS, BPF map memory, BPF run time per sample). CPython 3.11-3.13 processes get their
Python function names (``--no-python`` turns that off); other versions keep native stacks, and a
note says so. The profiler is the ``ebpf`` package
(docs/ebpf.md); it needs Linux with BTF, libbpf.so.1, and root or CAP_BPF+CAP_PERFMON.
"""

from __future__ import annotations

import argparse
import re
import time
from typing import TextIO

_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "": 1.0}


def parse_duration(text: str) -> float:
    """``30s``, ``2m``, ``500ms``, ``1.5`` (seconds) -> seconds."""
    m = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]*)?)\s*(ms|s|m|h|)\s*", text)
    if not m or float(m.group(1)) <= 0:
        raise argparse.ArgumentTypeError(f"not a duration: {text!r} (use e.g. 30s, 2m, 500ms)")
    return float(m.group(1)) * _UNITS[m.group(2)]


def add_parser(sub) -> None:
    p = sub.add_parser("profile", help="sample CPU stacks with the eBPF profiler",
                       description="Sample CPU stacks (kernel and user) of one process or the whole "
                       "system with the eBPF profiler, and write an SVG flame graph, folded stacks or a "
                       "gzipped pprof profile, chosen by the output's extension.")
    p.add_argument("--pid", type=int, default=0, help="process to sample (default: every process)")
    p.add_argument("--duration", type=parse_duration, default=parse_duration("30s"),
                   help="how long to record: 30s, 2m, 500ms (default: 30s)")
    p.add_argument("--output", "-o", required=True, help="out.svg, out.folded or out.pb.gz")
    p.add_argument("--frequency", "-F", type=int, default=99, help="samples per second per CPU (default: 99)")
    p.add_argument("--event", choices=("cpu-clock", "cycles", "auto"), default="cpu-clock",
                   help="perf event: cpu-clock (software, works in VMs), cycles (hardware PMU), "
                        "auto (cycles when available)")
    p.add_argument("--per-process", action="store_true", help="folded output: one root per process (comm-pid)")
    p.add_argument("--lines", action="store_true",
                   help="folded output: Python frames with their line, function (file.py:42)")
    p.add_argument("--no-python", dest="python", action="store_false",
                   help="do not walk CPython interpreter frames (native stacks only)")
    p.add_argument("--quiet", "-q", action="store_true", help="no status line")


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    try:
        import ebpf
        from ebpf import output
    except ImportError as e:
        err.write(f"ottl profile: the profiler needs the ebpf extra ({e.name} is missing): "
                  "pip install 'ottl[ebpf]'\n")
        return 2
    if not args.output.lower().endswith((".svg", ".folded", ".txt", ".collapsed", ".pb.gz", ".pprof", ".pb")):
        err.write(f"ottl profile: unknown output format for {args.output!r}: use .svg, .folded or .pb.gz\n")
        return 2
    live = err.isatty() if hasattr(err, "isatty") else False
    try:
        prof = ebpf.Profiler(pid=args.pid or None, frequency=args.frequency, event=args.event,
                             python=getattr(args, "python", True))
        prof.start()
    except ebpf.ProfilerError as e:
        err.write(f"ottl profile: {e}\n")
        return 1
    except ValueError as e:
        err.write(f"ottl profile: {e}\n")
        return 2
    interrupted = False
    try:
        deadline = time.monotonic() + args.duration
        last_plain = 0.0
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            time.sleep(min(0.5, left))
            if args.quiet:
                continue
            line = f"{prof.overhead().status_line()}  / {args.duration:.0f}s"
            if live:
                err.write("\r" + line + "\033[K")
                err.flush()
            elif time.monotonic() - last_plain >= 5:
                err.write(line + "\n")
                last_plain = time.monotonic()
    except KeyboardInterrupt:
        interrupted = True
    finally:
        if live and not args.quiet:
            err.write("\n")
    try:
        snap = prof.snapshot()
    finally:
        prof.close()
    lines = getattr(args, "lines", False)
    if args.output.lower().endswith((".folded", ".txt", ".collapsed")) and (args.per_process or lines):
        with open(args.output, "w") as fh:
            fh.write(output.to_folded(snap.profile, per_process=args.per_process, lines=lines))
        fmt = "folded"
    else:
        fmt = snap.write(args.output)
    ov = snap.overhead
    err.write(f"ottl profile: {snap.profile.total} samples ({ov.lost} lost, "
              f"{ov.user_stack_missing} without user stack) in {ov.elapsed_s:.1f}s at {args.frequency} Hz "
              f"on {ov.cpus} CPUs ({ov.event}){' (interrupted)' if interrupted else ''}; wrote {fmt} to "
              f"{args.output}\nottl profile: overhead: {ov.status_line().strip()}\n")
    if ov.py_samples or ov.python_processes:
        err.write(f"ottl profile: Python frames in {ov.py_samples} samples of {ov.python_processes} "
                  "CPython process(es)\n")
    for note in snap.notes:
        err.write(f"ottl profile: note: {note}\n")
    return 0
