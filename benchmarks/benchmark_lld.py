"""The default linker against lld (OTTL_LINKER=lld): full clean build time, link time, and the size
of each built extension (a benchmark, not a test). Prints medians and lld/default ratios.

    python benchmarks/benchmark_lld.py [--rounds 5] [--rev HEAD] [--relink 10] [--json out.json]

How it measures:

* The sources are copied to a scratch directory: the files git knows of in the work tree
  (tracked plus untracked-but-not-ignored, as they are on disk), or with --rev the tree of that
  commit (git archive). Nothing in the checkout is touched.
* Each round builds twice, once per linker, the order alternating from round to round (default
  first in even rounds, lld first in odd ones), so a drift in the machine's load falls on both
  alike. Every build starts clean: build/ (objects, and Cython's generated C under build/cython)
  and any ottl/*.c, ottl/*.so are removed first, so Cython and the C compiler redo everything.
  The build is `python setup.py build_ext` in a release configuration (OTTL_DEBUG and
  OTTL_SANITIZE unset): setuptools compiles and links one file at a time, sequentially.
* Full build time: wall clock of the whole `setup.py build_ext` process, and its CPU time (user +
  system of it and every process it waited for, from wait4).
* Link time, in the build: CC and LDSHARED are the very commands Python's sysconfig gives, with a
  small timing shim in front (this file, run as `--shim`), which spawns the real command, waits
  for it with wait4 and logs its wall and CPU time. The shim's own start-up is outside what it
  times, and it is in front of both linkers alike. Compile time is logged the same way, so a
  build splits into compile, link, and the rest (Cython, setuptools, the shims' start-up).
* Link time, isolated (--relink K): after the last build, each extension's captured link command
  is re-run K times per linker (alternating, same objects, output to a scratch file). The
  objects are the same for both, so this times the linker alone, with far less noise than a
  whole build.
* Sizes of each built extension: as built, after `strip --strip-debug`, and after `strip
  --strip-all`. Python's CFLAGS carry -g, so debug info is most of an as-built file.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

LINKERS = ("default", "lld")


# --- the timing shim -------------------------------------------------------------------------


def shim(argv: list[str]) -> int:
    """`benchmark_lld.py --shim KIND CMD...`: run CMD, append its timing to $OTTL_BENCH_LOG."""
    kind, cmd = argv[0], argv[1:]
    t0 = time.perf_counter()
    pid = os.posix_spawnp(cmd[0], cmd, os.environ)
    _, status, usage = os.wait4(pid, 0)
    wall = time.perf_counter() - t0
    rc = os.waitstatus_to_exitcode(status)
    out = cmd[cmd.index("-o") + 1] if "-o" in cmd[:-1] else None
    with open(os.environ["OTTL_BENCH_LOG"], "a") as log:
        log.write(json.dumps({"kind": kind, "wall": wall, "cpu": usage.ru_utime + usage.ru_stime,
                              "out": out, "rc": rc, "cmd": cmd}) + "\n")
    return rc


# --- helpers ---------------------------------------------------------------------------------


def run_timed(cmd: list[str], cwd: Path, env: dict[str, str], log: Path) -> tuple[float, float]:
    """Wall and CPU seconds of cmd (CPU: it and every descendant it waited for); output to log."""
    with open(log, "wb") as out:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        sys.exit(f"benchmark_lld: {' '.join(cmd)} failed ({proc.returncode}); see {log}")
    return wall, usage.ru_utime + usage.ru_stime


def copy_sources(repo: Path, dest: Path, rev: str | None) -> str:
    dest.mkdir(parents=True)
    if rev:
        archive = subprocess.run(["git", "archive", "--format=tar", rev], cwd=repo, check=True,
                                 capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)
        return subprocess.run(["git", "rev-parse", "--short", rev], cwd=repo, check=True,
                              capture_output=True, text=True).stdout.strip()
    names = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                           cwd=repo, check=True, capture_output=True).stdout.split(b"\0")
    for name in filter(None, (n.decode() for n in names)):
        src = repo / name
        if src.is_file():  # a tracked file deleted in the work tree is skipped
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / name)
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=repo, check=True,
                          capture_output=True, text=True).stdout.strip()
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=normal"], cwd=repo,
                           check=True, capture_output=True, text=True).stdout.strip()
    return f"work tree at {head}" + (" with uncommitted changes" if dirty else "")


def clean(tree: Path) -> None:
    shutil.rmtree(tree / "build", ignore_errors=True)
    for pattern in ("ottl/**/*.so", "ottl/**/*.c", "ottl/**/*.cpp"):
        for f in tree.glob(pattern):
            f.unlink()


def sizes(so: Path, scratch: Path) -> dict[str, int]:
    out = {"as built": so.stat().st_size}
    for label, flag in (("strip --strip-debug", "--strip-debug"), ("strip --strip-all", "--strip-all")):
        tmp = scratch / "stripped.so"
        subprocess.run(["strip", flag, "-o", str(tmp), str(so)], check=True)
        out[label] = tmp.stat().st_size
        tmp.unlink()
    return out


def linked_with_lld(so: Path) -> bool:
    comment = subprocess.run(["readelf", "-p", ".comment", str(so)], check=True, capture_output=True,
                             text=True).stdout
    return "LLD" in comment


def short(name: str) -> str:
    return name.split(".")[0]  # _batch.cpython-311-x86_64-linux-gnu.so -> _batch


def relink_cmd(cmd: list[str], linker: str, out: Path) -> list[str]:
    cmd = [a for a in cmd if not a.startswith("-fuse-ld=")]
    cmd[cmd.index("-o") + 1] = str(out)
    return cmd + (["-fuse-ld=lld"] if linker == "lld" else [])


# --- the benchmark ---------------------------------------------------------------------------


def build_once(tree: Path, linker: str, base_env: dict[str, str], work: Path, tag: str) -> dict:
    clean(tree)
    log = work / f"links-{tag}.jsonl"
    env = dict(base_env, OTTL_BENCH_LOG=str(log))
    if linker == "lld":
        env["OTTL_LINKER"] = "lld"
    wall, cpu = run_timed([sys.executable, "setup.py", "build_ext"], tree, env, work / f"build-{tag}.log")
    entries = [json.loads(line) for line in log.read_text().splitlines()]
    compiles = [e for e in entries if e["kind"] == "compile"]
    links = [e for e in entries if e["kind"] == "link" and (e["out"] or "").endswith(".so")]
    built = sorted((tree / "build").glob("lib*/ottl/**/*.so"))
    if not built or len(built) != len(links):
        sys.exit(f"benchmark_lld: {len(built)} extensions built but {len(links)} links logged ({tag})")
    for so in built:
        if linked_with_lld(so) != (linker == "lld"):
            sys.exit(f"benchmark_lld: {so.name} of the {linker} build was linked by the wrong linker")
    return {
        "linker": linker,
        "wall": wall,
        "cpu": cpu,
        "compile_wall": sum(e["wall"] for e in compiles),
        "compile_cpu": sum(e["cpu"] for e in compiles),
        "compile_cmds": sorted(" ".join(e["cmd"]) for e in compiles),
        "link_wall": sum(e["wall"] for e in links),
        "link_cpu": sum(e["cpu"] for e in links),
        "links": {short(Path(e["out"]).name): {"wall": e["wall"], "cpu": e["cpu"], "cmd": e["cmd"]}
                  for e in links},
        "sizes": {short(so.name): sizes(so, work) for so in built},
    }


def relink(last: dict, k: int, tree: Path, work: Path) -> dict:
    """Re-run each captured link command k times per linker, alternating, over the same objects."""
    times: dict = {ext: {lk: [] for lk in LINKERS} for ext in last["links"]}
    for i in range(k):
        order = LINKERS if i % 2 == 0 else LINKERS[::-1]
        for ext, link in last["links"].items():
            for linker in order:
                cmd = relink_cmd(link["cmd"], linker, work / "relinked.so")
                t0 = time.perf_counter()
                proc = subprocess.Popen(cmd, cwd=tree)
                _, status, usage = os.wait4(proc.pid, 0)
                proc.returncode = os.waitstatus_to_exitcode(status)
                if proc.returncode:
                    sys.exit(f"benchmark_lld: relink of {ext} with {linker} failed")
                times[ext][linker].append((time.perf_counter() - t0, usage.ru_utime + usage.ru_stime))
    return times


def fmt_s(xs: list[float]) -> str:
    return f"{statistics.median(xs):.3f} [{min(xs):.3f}–{max(xs):.3f}]"


def report(runs: list[dict], rel: dict | None, source: str, rounds: int) -> str:
    by = {lk: [r for r in runs if r["linker"] == lk] for lk in LINKERS}
    lld = subprocess.run(["ld.lld", "--version"], capture_output=True, text=True, check=False).stdout.strip()
    lines = [f"source: {source}; {rounds} rounds, alternating; {os.cpu_count()} CPUs; lld: {lld}",
             "",
             ("Build (seconds; median [min–max] over the rounds; ratio = lld/default of the medians, "
              "paired = median of the per-round lld/default ratios)"),
             "",
             "| measure | default | lld | ratio | paired |",
             "|---|---|---|---|---|"]

    def row(label: str, get) -> None:
        d = [get(r) for r in by["default"]]
        l_ = [get(r) for r in by["lld"]]
        ratio = statistics.median(l_) / statistics.median(d)
        paired = statistics.median(get(b) / get(a) for a, b in zip(by["default"], by["lld"]))
        lines.append(f"| {label} | {fmt_s(d)} | {fmt_s(l_)} | {ratio:.3f} | {paired:.3f} |")

    row("full build, wall", lambda r: r["wall"])
    row("full build, CPU", lambda r: r["cpu"])
    row("compiles (sum), wall", lambda r: r["compile_wall"])
    row("compiles (sum), CPU", lambda r: r["compile_cpu"])
    row("links (sum), wall", lambda r: r["link_wall"])
    row("links (sum), CPU", lambda r: r["link_cpu"])
    row("rest (Cython, setuptools), wall", lambda r: r["wall"] - r["compile_wall"] - r["link_wall"])
    for ext in by["default"][0]["links"]:
        row(f"link {ext}, wall", lambda r, e=ext: r["links"][e]["wall"])
    share = statistics.median(r["link_wall"] / r["wall"] for r in by["default"])
    same = all(r["compile_cmds"] == runs[0]["compile_cmds"] for r in runs)
    lines += ["", (f"links are {100 * share:.1f}% of the default build's wall time (median). The compile "
                   f"commands are {'identical' if same else 'NOT identical'} in every build of both linkers, "
                   "so the compile rows are a control: any lld/default difference there is the machine's noise."),
              "", "Per build, in the order run (seconds):", "",
              "| round | linker | build wall | build CPU | compiles wall | links wall |", "|---|---|---|---|---|---|"]
    for i, r in enumerate(runs):
        lines.append(f"| {i // 2 + 1} | {r['linker']} | {r['wall']:.1f} | {r['cpu']:.1f} | "
                     f"{r['compile_wall']:.1f} | {r['link_wall']:.3f} |")

    if rel:
        k = len(next(iter(rel.values()))["lld"])
        lines += ["", f"Isolated relink (seconds; each link command re-run {k}x per linker, alternating, same objects)",
                  "", "| extension | default wall | lld wall | ratio | default CPU | lld CPU | ratio |",
                  "|---|---|---|---|---|---|---|"]
        for ext, t in rel.items():
            dw, lw = [x[0] for x in t["default"]], [x[0] for x in t["lld"]]
            dc, lc = [x[1] for x in t["default"]], [x[1] for x in t["lld"]]
            lines.append(f"| {ext} | {fmt_s(dw)} | {fmt_s(lw)} | {statistics.median(lw) / statistics.median(dw):.3f} "
                         f"| {statistics.median(dc):.3f} | {statistics.median(lc):.3f} "
                         f"| {statistics.median(lc) / statistics.median(dc):.3f} |")

    lines += ["", "Sizes (bytes; the same in every round unless noted)", "",
              "| extension | kind | default | lld | ratio |", "|---|---|---|---|---|"]
    totals: dict = {}
    for ext in by["default"][0]["sizes"]:
        for kind in by["default"][0]["sizes"][ext]:
            d = [r["sizes"][ext][kind] for r in by["default"]]
            l_ = [r["sizes"][ext][kind] for r in by["lld"]]
            note = "" if len(set(d)) == 1 and len(set(l_)) == 1 else " (varies)"
            dm, lm = statistics.median(d), statistics.median(l_)
            totals.setdefault(kind, [0, 0])
            totals[kind][0] += dm
            totals[kind][1] += lm
            lines.append(f"| {ext} | {kind} | {dm:,.0f} | {lm:,.0f}{note} | {lm / dm:.3f} |")
    for kind, (dm, lm) in totals.items():
        lines.append(f"| all | {kind} | {dm:,.0f} | {lm:,.0f} | {lm / dm:.3f} |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=5, help="rounds, each one build per linker (default 5)")
    ap.add_argument("--rev", help="build this commit's tree (git archive) instead of the work tree")
    ap.add_argument("--relink", type=int, default=10, help="isolated relinks per linker and extension (0: none)")
    ap.add_argument("--json", type=Path, help="also write every measurement here")
    ap.add_argument("--keep", action="store_true", help="keep the scratch directory")
    args = ap.parse_args()

    repo = Path(__file__).resolve().parents[1]
    probe = subprocess.run(shlex.split(sysconfig.get_config_var("CC")) + ["-fuse-ld=lld", "-Wl,--version"],
                           capture_output=True, text=True, check=False)
    if probe.returncode != 0 or "LLD" not in probe.stdout:
        sys.exit("benchmark_lld: the compiler cannot link with lld: install the `lld` package (apt-get install lld)")
    for tool in ("strip", "readelf", "git", "tar"):
        if shutil.which(tool) is None:
            sys.exit(f"benchmark_lld: {tool} is not on PATH")

    work = Path(tempfile.mkdtemp(prefix="ottl-lld-bench-"))
    tree = work / "src"
    source = copy_sources(repo, tree, args.rev)
    me = [sys.executable, str(Path(__file__).resolve()), "--shim"]
    env = {k: v for k, v in os.environ.items()
           if k not in ("OTTL_DEBUG", "OTTL_SANITIZE", "OTTL_LINKER", "CC", "LDSHARED", "LDFLAGS", "CFLAGS")}
    env["CC"] = shlex.join(me + ["compile"]) + " " + sysconfig.get_config_var("CC")
    env["LDSHARED"] = shlex.join(me + ["link"]) + " " + sysconfig.get_config_var("LDSHARED")

    runs = []
    for rnd in range(args.rounds):
        order = LINKERS if rnd % 2 == 0 else LINKERS[::-1]
        for linker in order:
            r = build_once(tree, linker, env, work, f"{rnd}-{linker}")
            runs.append(r)
            print(f"round {rnd + 1}/{args.rounds} {linker:7s}: build {r['wall']:6.1f} s wall, "
                  f"{r['cpu']:6.1f} s CPU; links {r['link_wall']:.3f} s wall", file=sys.stderr, flush=True)
    rel = relink(runs[-1], args.relink, tree, work) if args.relink else None

    print(report(runs, rel, source, args.rounds))
    if args.json:
        args.json.write_text(json.dumps({"source": source, "runs": runs, "relink": rel}, indent=1))
    if args.keep:
        print(f"\nscratch: {work}", file=sys.stderr)
    else:
        shutil.rmtree(work)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--shim":
        sys.exit(shim(sys.argv[2:]))
    main()
