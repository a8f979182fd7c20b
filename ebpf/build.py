"""Build rule for the BPF object: ``python -m ebpf.build [--out PATH]``.

Steps, each with the system's tools (Debian: ``apt-get install clang llvm bpftool libbpf-dev``):

1. ``bpftool btf dump file /sys/kernel/btf/vmlinux format c`` writes ``vmlinux.h`` from the
   running kernel's BTF into a temporary directory. It is never committed: CO-RE relocations make
   the object independent of the kernel it was built against.
2. ``clang -O2 -g -target bpf -D__TARGET_ARCH_x86`` compiles ``bpf/profile.bpf.c``.
3. ``llvm-strip -g`` drops the DWARF; ``.BTF`` and ``.BTF.ext`` (what CO-RE needs) stay.

The result replaces ``bpf/profile.bpf.o``, the precompiled object shipped as package data, unless
``--out`` says otherwise. The build runs in a temporary directory with relative paths, so the
object does not depend on where the checkout lives.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

BPF_DIR = Path(__file__).resolve().parent / "bpf"
SOURCES = ("profile.bpf.c", "profile.h")
OBJECT = BPF_DIR / "profile.bpf.o"
VMLINUX_BTF = "/sys/kernel/btf/vmlinux"
TOOLS = {"clang": "clang", "llvm-strip": "llvm", "bpftool": "bpftool"}


class BuildError(RuntimeError):
    pass


def missing_tools() -> list:
    return [tool for tool in TOOLS if shutil.which(tool) is None]


def _run(cmd: list, cwd: str, stdout=None) -> None:
    proc = subprocess.run(cmd, cwd=cwd, stdout=stdout if stdout is not None else subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True)
    if proc.returncode:
        raise BuildError(f"{' '.join(cmd)} failed ({proc.returncode}): {proc.stderr.strip()}")


def build(out: Path = OBJECT, btf: str = VMLINUX_BTF) -> Path:
    """Compile bpf/profile.bpf.c into ``out``; returns ``out``."""
    lacking = missing_tools()
    if lacking:
        pkgs = " ".join(sorted({TOOLS[t] for t in lacking}))
        raise BuildError(f"building the BPF object needs {', '.join(lacking)}: apt-get install {pkgs} libbpf-dev")
    if not os.path.exists(btf):
        raise BuildError(f"{btf} is missing: the kernel has no BTF (CONFIG_DEBUG_INFO_BTF)")
    arch = {"x86_64": "x86", "aarch64": "arm64"}.get(os.uname().machine, os.uname().machine)
    with tempfile.TemporaryDirectory(prefix="ebpf-build-") as tmp:
        for name in SOURCES:
            shutil.copyfile(BPF_DIR / name, os.path.join(tmp, name))
        with open(os.path.join(tmp, "vmlinux.h"), "w") as fh:
            _run(["bpftool", "btf", "dump", "file", btf, "format", "c"], tmp, stdout=fh)
        _run(["clang", "-O2", "-g", "-target", "bpf", f"-D__TARGET_ARCH_{arch}", "-I.",
              f"-fdebug-prefix-map={tmp}=.", "-c", "profile.bpf.c", "-o", "profile.full.o"], tmp)
        _run(["llvm-strip", "-g", "profile.full.o", "-o", "profile.bpf.o"], tmp)
        out = Path(out)
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(os.path.join(tmp, "profile.bpf.o"), out)
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ebpf.build", description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=OBJECT, help=f"output object (default: {OBJECT})")
    args = parser.parse_args(argv)
    try:
        path = build(args.out)
    except BuildError as e:
        print(f"ebpf.build: {e}", file=sys.stderr)
        return 1
    print(f"wrote {path} ({path.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
