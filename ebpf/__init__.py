"""eBPF stack-sampling profiler: a precompiled CO-RE BPF program (``bpf/profile.bpf.c``) loaded
through a cffi binding to the system's libbpf, sampling every CPU at 99 Hz by default, aggregating
in the kernel, symbolizing with /proc/kallsyms and the ELF files' symbol tables, and writing folded
stacks, pprof and SVG flame graphs. See docs/ebpf.md.

    import ebpf
    with ebpf.Profiler(pid=1234, frequency=99) as prof:
        time.sleep(30)
        snap = prof.snapshot()
    snap.write("out.svg"); print(snap.overhead.status_line())
"""

from .output import Profile, Sample, to_folded, to_pprof, to_svg
from .profiler import Overhead, Profiler, ProfilerError, Snapshot, preflight
from .symbolize import Frame, Symbolizer

__all__ = ["Frame", "Overhead", "Profile", "Profiler", "ProfilerError", "Sample", "Snapshot", "Symbolizer",
           "preflight", "to_folded", "to_pprof", "to_svg"]
