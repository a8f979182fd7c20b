"""Outputs from synthetic data: folded stacks, pprof (parsed with a profile.proto schema), SVG."""

from __future__ import annotations

import gzip
import os
import shutil
import subprocess
import xml.etree.ElementTree as ET

import pytest

from pprof_schema import Profile as PprofMessage

from ebpf.output import Profile, Sample, parse_folded, to_folded, to_pprof, to_pprof_bytes, to_svg, write
from ebpf.symbolize import MISSING_USER, Frame

MAIN = Frame("main", "prog", "user")
WORK = Frame("work", "prog", "user")
READ = Frame("read", "libc.so.6", "user")
SYSCALL = Frame("entry_SYSCALL_64", "[kernel]", "kernel")
KREAD = Frame("ksys_read", "[kernel]", "kernel")


@pytest.fixture
def profile():
    return Profile(
        samples=[
            Sample(10, 10, "prog", (MAIN, WORK), 7),
            Sample(10, 11, "prog", (MAIN, WORK), 3),       # another thread, same stack: merged in folded
            Sample(10, 10, "prog", (MAIN, READ, SYSCALL, KREAD), 5),
            Sample(20, 20, "other one", (MISSING_USER, SYSCALL), 2),
        ],
        frequency=99, duration_ns=2_000_000_000, time_ns=1_700_000_000_000_000_000,
    )


def test_folded(profile):
    assert to_folded(profile) == (
        "other_one;[missing user stack];entry_SYSCALL_64_[k] 2\n"
        "prog;main;read;entry_SYSCALL_64_[k];ksys_read_[k] 5\n"
        "prog;main;work 10\n"
    )
    per_pid = parse_folded(to_folded(profile, per_process=True))
    assert per_pid[("prog-10", "main", "work")] == 10
    assert sum(per_pid.values()) == profile.total == 17


def test_folded_escapes_separators():
    p = Profile([Sample(1, 1, "a;b", (Frame("x;y", "m", "user"),), 1)])
    assert to_folded(p) == "a:b;x:y 1\n"


def test_pprof_parses_with_profile_proto(profile):
    data = to_pprof(profile)
    assert data[:2] == b"\x1f\x8b"  # gzip
    msg = PprofMessage()
    msg.ParseFromString(gzip.decompress(data))
    st = list(msg.string_table)
    assert st[0] == ""
    assert [(st[t.type], st[t.unit]) for t in msg.sample_type] == [("samples", "count"), ("cpu", "nanoseconds")]
    assert (st[msg.period_type.type], st[msg.period_type.unit]) == ("cpu", "nanoseconds")
    assert msg.period == 10_101_010 and st[msg.default_sample_type] == "cpu"
    assert msg.duration_nanos == 2_000_000_000 and msg.time_nanos == profile.time_ns
    funcs = {f.id: f for f in msg.function}
    locs = {loc.id: loc for loc in msg.location}
    maps = {m.id: st[m.filename] for m in msg.mapping}
    assert len(msg.sample) == 4
    for sample, expected in zip(msg.sample, profile.samples, strict=True):
        names = [st[funcs[locs[i].line[0].function_id].name] for i in sample.location_id]
        assert names == [f.name for f in reversed(expected.frames)]  # leaf first
        assert list(sample.value) == [expected.count, expected.count * 10_101_010]
        labels = {st[lb.key]: (lb.num if lb.num else st[lb.str]) for lb in sample.label}
        assert labels == {"pid": expected.tgid, "thread_id": expected.pid, "comm": expected.comm}
        modules = [maps.get(locs[i].mapping_id, "") for i in sample.location_id]
        assert modules == [f.module for f in reversed(expected.frames)]
    # one location per distinct frame, one function per (name, module)
    assert len(locs) == 6 and len(funcs) == 6


def test_pprof_empty_profile():
    msg = PprofMessage()
    msg.ParseFromString(to_pprof_bytes(Profile([])))
    assert len(msg.sample) == 0 and msg.string_table[0] == ""


def test_svg(profile):
    svg = to_svg(profile, title="t<1>")
    root = ET.fromstring(svg)
    ns = "{http://www.w3.org/2000/svg}"
    titles = [g.find(ns + "title").text for g in root.iter(ns + "g")]
    assert "all (17 samples, 100.00%)" in titles
    assert "work (10 samples, 58.82%)" in titles
    assert "ksys_read (5 samples, 29.41%)" in titles
    assert "[missing user stack] (2 samples, 11.76%)" in titles
    rects = {g.find(ns + "title").text.split(" (")[0]: g.find(ns + "rect") for g in root.iter(ns + "g")}
    full = float(rects["all"].get("width"))
    assert float(rects["work"].get("width")) == pytest.approx(full * 10 / 17, rel=1e-3)
    # children sit above their parents (root at the bottom)
    assert float(rects["main"].get("y")) < float(rects["prog"].get("y")) < float(rects["all"].get("y"))
    assert "t&lt;1&gt;" in svg


def test_svg_empty():
    ET.fromstring(to_svg(Profile([])))


def test_write_by_extension(profile, tmp_path):
    assert write(profile, str(tmp_path / "a.svg")) == "svg"
    assert write(profile, str(tmp_path / "a.folded")) == "folded"
    assert write(profile, str(tmp_path / "a.pb.gz")) == "pprof"
    assert (tmp_path / "a.folded").read_text() == to_folded(profile)
    msg = PprofMessage()
    msg.ParseFromString(gzip.decompress((tmp_path / "a.pb.gz").read_bytes()))
    assert sum(s.value[0] for s in msg.sample) == 17
    with pytest.raises(ValueError, match="unknown output format"):
        write(profile, str(tmp_path / "a.png"))


def test_pprof_reads_with_go_tool_pprof(profile, tmp_path):
    """The standard pprof tool reads the file (where Go is installed)."""
    go = shutil.which("go")
    if go is None:
        pytest.skip("Go is not installed: `go tool pprof` is the standard pprof reader")
    path = tmp_path / "p.pb.gz"
    write(profile, str(path))
    proc = subprocess.run([go, "tool", "pprof", "-raw", str(path)], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "GOTOOLCHAIN": "local"})
    assert proc.returncode == 0, proc.stderr
    assert "samples/count cpu/nanoseconds[dflt]" in proc.stdout
    assert "comm:[prog]" in proc.stdout and "pid:[10]" in proc.stdout
    top = subprocess.run([go, "tool", "pprof", "-top", "-sample_index=samples", str(path)], capture_output=True,
                         text=True, timeout=120, env={**os.environ, "GOTOOLCHAIN": "local"})
    assert top.returncode == 0, top.stderr
    flat = {line.split()[-1]: int(line.split()[0]) for line in top.stdout.splitlines()
            if line.strip() and line.split()[0].isdigit()}
    assert flat["work"] == 10 and flat["ksys_read"] == 5 and flat["entry_SYSCALL_64"] == 2
