"""Fixtures of the eBPF profiler tests.

The BPF tests run for real wherever BPF works (CI runs as root on a machine where it does). They
skip, each with its reason, only where a facility is missing: not Linux, no capabilities, no
kernel BTF, no libbpf.so.1, or a kernel that refuses with an errno describing the environment.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap

import pytest

C_TARGET = r"""
#include <stdio.h>

volatile unsigned long sink;

/* gcc 12 sets up no frame for a leaf that uses no stack, even with -mno-omit-leaf-frame-pointer,
   and its caller then drops out of frame-pointer stacks; the volatile local gives it a frame. */
__attribute__((noinline)) unsigned long leaf_fn(unsigned long n) {
    volatile unsigned long x = 0;
    for (unsigned long i = 0; i < n; i++) x += i * i ^ (x >> 3);
    return x;
}
__attribute__((noinline)) unsigned long middle_fn(unsigned long n) {
    unsigned long r = leaf_fn(n);
    sink += r;
    return r + 1;
}
__attribute__((noinline)) unsigned long outer_fn(unsigned long n) {
    unsigned long r = middle_fn(n);
    sink += r;
    return r + 2;
}
int main(void) {
    printf("ready\n");
    fflush(stdout);
    for (;;)  /* until killed */
        sink += outer_fn(200000);
    return 0;
}
"""

PY_TARGET = textwrap.dedent("""
    import os, sys
    sys.stdout.write("ready\\n"); sys.stdout.flush()
    n = 0
    while True:
        os.getppid()
        n += sum(range(64))
""")


def _cap_eff() -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("CapEff:"):
                return int(line.split()[1], 16)
    return 0


def bpf_skip_reason():
    if not sys.platform.startswith("linux"):
        return "eBPF profiling needs Linux"
    caps = _cap_eff()
    if not (caps >> 21 & 1 or (caps >> 38 & 1 and caps >> 39 & 1)):
        return "needs root or CAP_BPF+CAP_PERFMON (CapEff lacks them)"
    if not os.path.exists("/sys/kernel/btf/vmlinux"):
        return "kernel has no BTF (/sys/kernel/btf/vmlinux missing)"
    try:
        from ebpf import _libbpf

        _libbpf.load()
    except OSError as e:
        return f"libbpf.so.1 cannot be loaded: {e}"
    return None


@pytest.fixture(scope="session")
def bpf_ready():
    reason = bpf_skip_reason()
    if reason:
        pytest.skip(reason)
    return True


@pytest.fixture(scope="session")
def c_target_binary(tmp_path_factory):
    cc = shutil.which("gcc") or shutil.which("cc")
    if cc is None:
        pytest.skip("no C compiler (gcc) to build the frame-pointer target")
    d = tmp_path_factory.mktemp("ctarget")
    src = d / "fp_target.c"
    src.write_text(C_TARGET)
    exe = d / "fp_target"
    subprocess.run([cc, "-O2", "-g0", "-fno-omit-frame-pointer", "-mno-omit-leaf-frame-pointer",
                    "-fno-optimize-sibling-calls", "-fno-inline", "-o", str(exe), str(src)], check=True)
    return str(exe)


def start_target(argv):
    """Start a target and wait until it has printed "ready" (it is then running its loop)."""
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    line = proc.stdout.readline()
    assert line.strip() == "ready", f"target did not start: {line!r}"
    return proc


@pytest.fixture
def python_target():
    proc = start_target([sys.executable, "-c", PY_TARGET])
    yield proc
    proc.kill()
    proc.wait()
    proc.stdout.close()


@pytest.fixture
def c_target(c_target_binary):
    proc = start_target([c_target_binary])
    yield proc
    proc.kill()
    proc.wait()
    proc.stdout.close()


def open_fds():
    return sorted(os.listdir("/proc/self/fd"))
