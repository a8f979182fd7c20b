"""Outputs of a profile: folded stacks, pprof (profile.proto, gzipped) and an SVG flame graph.

A profile here is a list of ``Sample``s: a process, a thread, a command name, its frames from the
root to the leaf (user frames, then kernel frames), and a count. The pprof encoder writes the
protobuf wire format by hand (the message is small and fixed: google/pprof proto/profile.proto).
"""

from __future__ import annotations

import gzip
import html
import zlib
from dataclasses import dataclass, field
from typing import Dict, List, NamedTuple, Sequence, Tuple

from .symbolize import KIND_KERNEL, KIND_MISSING, Frame

KIND_PYTHON = "python"  # ebpf.python.KIND_PYTHON (kept here so that this module imports alone)


def frame_label(frame: Frame, lines: bool = False) -> str:
    """A frame's name as folded stacks and flame graphs show it: Python frames as
    ``qualname (file.py)``, or ``qualname (file.py:42)`` with ``lines``."""
    if frame.kind != KIND_PYTHON:
        return frame.name
    path = frame.module
    base = path.rsplit("/", 1)[-1] or path
    if base == "__init__.py":
        base = "/".join(path.split("/")[-2:])
    return f"{frame.name} ({base}:{frame.line})" if lines else f"{frame.name} ({base})"


class Sample(NamedTuple):
    tgid: int
    pid: int
    comm: str
    frames: Tuple[Frame, ...]  # root first, leaf last
    count: int


@dataclass
class Profile:
    samples: List[Sample]
    frequency: int = 99
    duration_ns: int = 0
    time_ns: int = 0
    extra: Dict[str, int] = field(default_factory=dict)
    notes: List[str] = field(default_factory=list)  # what the profile cannot show, and why

    @property
    def total(self) -> int:
        return sum(s.count for s in self.samples)


# ----------------------------------------------------------------------------------- folded

def _folded_name(frame: Frame, lines: bool = False) -> str:
    name = frame_label(frame, lines).replace(";", ":").replace("\n", " ")
    if frame.kind == KIND_KERNEL:
        return name + "_[k]"
    return name


def folded_lines(profile: Profile, per_process: bool = False, lines: bool = False) -> List[str]:
    """``comm;root;...;leaf count`` lines, merged and sorted (flamegraph.pl, speedscope).
    Kernel frames carry the ``_[k]`` suffix, as BCC's profile -f writes them; Python frames read
    ``function (file.py)``, or ``function (file.py:line)`` with ``lines``."""
    merged: Dict[str, int] = {}
    for s in profile.samples:
        head = f"{s.comm}-{s.tgid}" if per_process else s.comm
        key = ";".join([head.replace(";", ":").replace(" ", "_") or "[unknown]"] + [_folded_name(f, lines) for f in s.frames])
        merged[key] = merged.get(key, 0) + s.count
    return [f"{k} {v}" for k, v in sorted(merged.items())]


def to_folded(profile: Profile, per_process: bool = False, lines: bool = False) -> str:
    out = folded_lines(profile, per_process, lines)
    return "\n".join(out) + ("\n" if out else "")


def parse_folded(text: str) -> Dict[Tuple[str, ...], int]:
    out: Dict[Tuple[str, ...], int] = {}
    for line in text.splitlines():
        if not line.strip():
            continue
        stack, _, count = line.rpartition(" ")
        key = tuple(stack.split(";"))
        out[key] = out.get(key, 0) + int(count)
    return out


# ----------------------------------------------------------------------------------- pprof

def _varint(n: int) -> bytes:
    if n < 0:
        n &= (1 << 64) - 1
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _key(field_no: int, wire: int) -> bytes:
    return _varint(field_no << 3 | wire)


def _f_varint(field_no: int, n: int) -> bytes:
    return _key(field_no, 0) + _varint(n) if n else b""


def _f_bytes(field_no: int, data: bytes) -> bytes:
    return _key(field_no, 2) + _varint(len(data)) + data


def _f_packed(field_no: int, values: Sequence[int]) -> bytes:
    if not values:
        return b""
    return _f_bytes(field_no, b"".join(_varint(v) for v in values))


class _Strings:
    def __init__(self) -> None:
        self.table: List[str] = [""]
        self.index: Dict[str, int] = {"": 0}

    def __call__(self, s: str) -> int:
        i = self.index.get(s)
        if i is None:
            i = self.index[s] = len(self.table)
            self.table.append(s)
        return i


def to_pprof_bytes(profile: Profile) -> bytes:
    """The profile as an uncompressed ``perftools.profiles.Profile`` message."""
    st = _Strings()
    period_ns = int(1e9 / profile.frequency) if profile.frequency else 0
    out = bytearray()
    # sample_type: samples/count, cpu/nanoseconds
    out += _f_bytes(1, _f_varint(1, st("samples")) + _f_varint(2, st("count")))
    out += _f_bytes(1, _f_varint(1, st("cpu")) + _f_varint(2, st("nanoseconds")))
    functions: Dict[Tuple[str, str], int] = {}
    locations: Dict[Frame, int] = {}
    mappings: Dict[str, int] = {}
    func_msgs = bytearray()
    loc_msgs = bytearray()
    map_msgs = bytearray()
    pid_key, tid_key, comm_key = st("pid"), st("thread_id"), st("comm")
    for s in profile.samples:
        loc_ids = []
        for frame in reversed(s.frames):  # pprof: leaf first
            lid = locations.get(frame)
            if lid is None:
                module = frame.module or ("[kernel]" if frame.kind == KIND_KERNEL else "")
                mid = 0
                if module and frame.kind != KIND_PYTHON:  # a Python frame's module is its source file
                    mid = mappings.get(module)
                    if mid is None:
                        mid = mappings[module] = len(mappings) + 1
                        map_msgs += _f_bytes(3, _f_varint(1, mid) + _f_varint(5, st(module))
                                             + _f_varint(7, 1))
                fkey = (frame.name, module)
                fid = functions.get(fkey)
                if fid is None:
                    fid = functions[fkey] = len(functions) + 1
                    name_idx = st(frame.name)
                    func_msgs += _f_bytes(5, _f_varint(1, fid) + _f_varint(2, name_idx)
                                          + _f_varint(3, name_idx) + _f_varint(4, st(module)))
                lid = locations[frame] = len(locations) + 1
                line = _f_varint(1, fid) + _f_varint(2, frame.line if frame.line > 0 else 0)
                loc_msgs += _f_bytes(4, _f_varint(1, lid) + _f_varint(2, mid) + _f_bytes(4, line))
            loc_ids.append(lid)
        labels = (_f_bytes(3, _f_varint(1, pid_key) + _f_varint(3, s.tgid))
                  + _f_bytes(3, _f_varint(1, tid_key) + _f_varint(3, s.pid))
                  + _f_bytes(3, _f_varint(1, comm_key) + _f_varint(2, st(s.comm))))
        out += _f_bytes(2, _f_packed(1, loc_ids) + _f_packed(2, [s.count, s.count * period_ns]) + labels)
    out += map_msgs + loc_msgs + func_msgs
    period_type = _f_varint(1, st("cpu")) + _f_varint(2, st("nanoseconds"))
    cpu = st("cpu")
    comments = [st(note) for note in profile.notes]
    for s in st.table:  # complete: every index above is already in it
        out += _f_bytes(6, s.encode("utf-8"))
    out += _f_varint(9, profile.time_ns) + _f_varint(10, profile.duration_ns)
    out += _f_bytes(11, period_type) + _f_varint(12, period_ns)
    out += _f_packed(13, comments)  # comment: string-table indices
    out += _f_varint(14, cpu)  # default_sample_type: a string-table index
    return bytes(out)


def to_pprof(profile: Profile) -> bytes:
    """The pprof file: the Profile message, gzipped (what ``go tool pprof`` reads)."""
    return gzip.compress(to_pprof_bytes(profile), mtime=0)


# ----------------------------------------------------------------------------------- SVG

class _Node:
    __slots__ = ("name", "kind", "count", "children")

    def __init__(self, name: str, kind: str) -> None:
        self.name, self.kind, self.count, self.children = name, kind, 0, {}


def _tree(profile: Profile) -> _Node:
    root = _Node("all", "root")
    for s in profile.samples:
        root.count += s.count
        node = root
        for name, kind in [(s.comm or "[unknown]", "comm")] + [(frame_label(f), f.kind) for f in s.frames]:
            child = node.children.get((name, kind))
            if child is None:
                child = node.children[(name, kind)] = _Node(name, kind)
            child.count += s.count
            node = child
    return root


def _color(name: str, kind: str) -> str:
    h = zlib.crc32(name.encode("utf-8", "replace"))
    v1, v2 = (h & 0xFF) / 255, ((h >> 8) & 0xFF) / 255
    if kind == KIND_KERNEL:
        return f"rgb({200 + int(55 * v1)},{100 + int(80 * v2)},{50})"
    if kind == KIND_MISSING:
        return "rgb(170,170,170)"
    if kind == KIND_PYTHON:
        return f"rgb({50 + int(40 * v1)},{130 + int(70 * v2)},{190 + int(50 * v1)})"
    if kind in ("comm", "root"):
        return f"rgb({100 + int(60 * v1)},{150 + int(60 * v2)},{210})"
    return f"rgb({225 + int(30 * v1)},{int(80 + 120 * v2)},{int(30 * v1)})"


def to_svg(profile: Profile, title: str = "CPU flame graph", width: int = 1200) -> str:
    """A self-contained SVG flame graph (root at the bottom), with a tooltip per frame."""
    root = _tree(profile)
    frame_h, pad_top, pad_bottom, pad_side = 16, 40, 24 + 14 * min(3, len(profile.notes)), 10
    rects: List[Tuple[int, float, float, _Node]] = []

    def depth_of(node: _Node) -> int:
        return 1 + max((depth_of(c) for c in node.children.values()), default=0)

    max_depth = depth_of(root) if root.count else 1
    height = pad_top + max_depth * frame_h + pad_bottom
    scale = (width - 2 * pad_side) / root.count if root.count else 0.0

    def walk(node: _Node, depth: int, x: float) -> None:
        w = node.count * scale
        if w < 0.1:
            return
        rects.append((depth, x, w, node))
        cx = x
        for child in sorted(node.children.values(), key=lambda n: (n.name, n.kind)):
            walk(child, depth + 1, cx)
            cx += child.count * scale

    if root.count:
        walk(root, 0, float(pad_side))
    parts = [
        '<?xml version="1.0" standalone="no"?>',
        f'<svg version="1.1" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        'xmlns="http://www.w3.org/2000/svg">',
        "<style>text { font-family: Verdana, sans-serif; font-size: 12px; fill: #000; }"
        " rect:hover { stroke: #000; stroke-width: 0.5; }</style>",
        f'<rect x="0" y="0" width="{width}" height="{height}" fill="#f8f8f8"/>',
        f'<text x="{width / 2:.0f}" y="24" text-anchor="middle" style="font-size:17px">'
        f"{html.escape(title)}</text>",
    ]
    for i, note in enumerate(profile.notes[:3]):  # e.g. CPython processes without Python frames
        parts.append(f'<text x="{width / 2:.0f}" y="{height - 6 - 14 * i}" text-anchor="middle" '
                     f'style="font-size:11px">{html.escape(note)}</text>')
    total = root.count or 1
    for depth, x, w, node in rects:
        y = height - pad_bottom - (depth + 1) * frame_h
        label = "all" if node.kind == "root" else node.name
        tip = f"{label} ({node.count} samples, {100.0 * node.count / total:.2f}%)"
        parts.append(f'<g><title>{html.escape(tip)}</title>'
                     f'<rect x="{x:.2f}" y="{y}" width="{w:.2f}" height="{frame_h - 1}" '
                     f'fill="{_color(node.name, node.kind)}" rx="2" ry="2"/>')
        chars = int((w - 6) / 7)
        if chars >= 3:
            text = label if len(label) <= chars else label[:chars - 2] + ".."
            parts.append(f'<text x="{x + 3:.2f}" y="{y + 12}">{html.escape(text)}</text>')
        parts.append("</g>")
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def write(profile: Profile, path: str) -> str:
    """Write by extension: .svg, .folded (or .txt), .pb.gz / .pprof; returns the format used."""
    lower = path.lower()
    if lower.endswith(".svg"):
        data, fmt = to_svg(profile).encode("utf-8"), "svg"
    elif lower.endswith((".pb.gz", ".pprof", ".pb")):
        data, fmt = to_pprof(profile), "pprof"
    elif lower.endswith((".folded", ".txt", ".collapsed")):
        data, fmt = to_folded(profile).encode("utf-8"), "folded"
    else:
        raise ValueError(f"unknown output format for {path!r}: use .svg, .folded or .pb.gz")
    with open(path, "wb") as fh:
        fh.write(data)
    return fmt
