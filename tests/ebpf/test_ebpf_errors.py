"""Where BPF cannot work, the profiler fails at start with one message naming what is missing."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from conftest import open_fds

import ebpf
from ebpf.profiler import CAP_BPF, CAP_PERFMON, CAP_SYS_ADMIN, preflight


def test_old_kernel():
    with pytest.raises(ebpf.ProfilerError) as info:
        preflight(release="4.19.0-26-amd64")
    assert info.value.reason == "kernel" and "4.19.0-26-amd64" in str(info.value) and "5.8" in str(info.value)


def test_no_btf(tmp_path):
    with pytest.raises(ebpf.ProfilerError) as info:
        preflight(btf_path=str(tmp_path / "vmlinux"))
    assert info.value.reason == "btf" and "CONFIG_DEBUG_INFO_BTF" in str(info.value)


def test_no_libbpf():
    with pytest.raises(ebpf.ProfilerError) as info:
        preflight(libbpf_name="libbpf-not-installed.so.1")
    assert info.value.reason == "libbpf" and "apt-get install libbpf1" in str(info.value)


@pytest.mark.parametrize("caps,ok", [
    (0, False),
    (1 << CAP_BPF, False),
    (1 << CAP_PERFMON, False),
    ((1 << CAP_BPF) | (1 << CAP_PERFMON), True),
    (1 << CAP_SYS_ADMIN, True),
])
def test_permission_from_capabilities(caps, ok):
    if ok:
        preflight(caps=caps)
    else:
        with pytest.raises(ebpf.ProfilerError) as info:
            preflight(caps=caps)
        assert info.value.reason == "permission" and "CAP_BPF" in str(info.value)


def test_bad_arguments():
    with pytest.raises(ValueError):
        ebpf.Profiler(frequency=0)
    with pytest.raises(ValueError):
        ebpf.Profiler(event="instructions")


_NO_CAPS_SCRIPT = """
import os, sys, ebpf
before = sorted(os.listdir("/proc/self/fd"))
if sys.argv[1] == "bypass":
    ebpf.profiler.preflight = lambda: None   # let the kernel itself refuse
try:
    ebpf.Profiler().start()
except ebpf.ProfilerError as e:
    print(e.reason)
    print(str(e).splitlines()[0])
assert sorted(os.listdir("/proc/self/fd")) == before, "fd leak"
"""


@pytest.mark.parametrize("mode", ["preflight", "bypass"])
def test_without_capabilities_in_a_child(mode):
    """A child with an empty capability set: the preflight check, and the kernel's refusal when
    the check is bypassed, both give one clear message and leak no fd."""
    setpriv = shutil.which("setpriv")
    if setpriv is None or os.geteuid() != 0:
        pytest.skip("needs setpriv (util-linux) and root to drop capabilities in a child")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    proc = subprocess.run([setpriv, "--inh-caps=-all", "--bounding-set=-all", sys.executable, "-c",
                           _NO_CAPS_SCRIPT, mode], capture_output=True, text=True, env=env, timeout=60)
    assert proc.returncode == 0, proc.stderr
    reason, message = proc.stdout.splitlines()[:2]
    assert reason == "permission", proc.stdout
    assert "root" in message and "CAP_BPF" in message


def test_failed_start_leaks_nothing(bpf_ready, tmp_path):
    """Failures after the object was loaded and some CPUs attached release everything."""
    before = open_fds()
    cases = [(dict(object_file=str(tmp_path / "x.o")), "object"),
             (dict(cpus=[0, 10_000]), "event"),        # CPU 0 attached, then a CPU that does not exist
             (dict(frequency=10_000_000), "event")]    # above perf_event_max_sample_rate
    for kwargs, reason in cases:
        with pytest.raises(ebpf.ProfilerError) as info:
            ebpf.Profiler(**kwargs).start()
        assert info.value.reason == reason, str(info.value)
        assert open_fds() == before
