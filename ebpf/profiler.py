"""The profiler: load the BPF object, attach it to one perf event per online CPU, drain the
in-kernel aggregation periodically, and hand out symbolized snapshots with the profiler's own cost.

Lifecycle (one cleanup path, in reverse order of acquisition): preflight checks, open the object,
size the maps and write the read-only configuration, load, open and attach the perf events,
enable BPF run-time statistics (an fd; closing it turns them off again), start the drain thread.
A failure at any step releases everything acquired so far and raises one ``ProfilerError``.
"""

from __future__ import annotations

import errno
import os
import platform
import threading
import time
from dataclasses import asdict, dataclass, field
from importlib import resources
from typing import Dict, List, Optional, Tuple

from . import python as pyframes
from .output import Profile, Sample
from .symbolize import MISSING_KERNEL, MISSING_USER, Symbolizer

MIN_KERNEL = (5, 8)
VMLINUX_BTF = "/sys/kernel/btf/vmlinux"
CAP_SYS_ADMIN, CAP_PERFMON, CAP_BPF = 21, 38, 39
EFAULT = errno.EFAULT


class ProfilerError(RuntimeError):
    """The profiler cannot start (or run); the message says what is missing and what to do."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason  # "platform", "kernel", "btf", "libbpf", "permission", "object", ...


def object_path() -> str:
    return str(resources.files("ebpf").joinpath("bpf/profile.bpf.o"))


def online_cpus(text: Optional[str] = None) -> List[int]:
    """CPUs listed in /sys/devices/system/cpu/online ("0-3,5,7-8")."""
    if text is None:
        with open("/sys/devices/system/cpu/online") as fh:
            text = fh.read()
    cpus: List[int] = []
    for part in text.strip().split(","):
        if not part:
            continue
        lo, _, hi = part.partition("-")
        cpus.extend(range(int(lo), int(hi or lo) + 1))
    return cpus


def _kernel_version(release: str) -> Tuple[int, int]:
    nums = []
    for piece in release.split("-")[0].split(".")[:2]:
        digits = "".join(ch for ch in piece if ch.isdigit())
        nums.append(int(digits or 0))
    while len(nums) < 2:
        nums.append(0)
    return nums[0], nums[1]


def _effective_caps() -> int:
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("CapEff:"):
                    return int(line.split()[1], 16)
    except OSError:
        pass
    return 0


def preflight(btf_path: str = VMLINUX_BTF, libbpf_name: Optional[str] = None,
              release: Optional[str] = None, caps: Optional[int] = None) -> None:
    """Check what BPF profiling needs, in order; raise ProfilerError naming the first gap."""
    if platform.system() != "Linux":
        raise ProfilerError("platform", f"eBPF profiling needs Linux (this is {platform.system()})")
    release = release if release is not None else os.uname().release
    if _kernel_version(release) < MIN_KERNEL:
        raise ProfilerError("kernel", f"kernel {release} is too old for the eBPF profiler: it needs "
                            f"Linux {MIN_KERNEL[0]}.{MIN_KERNEL[1]} or newer (BTF, CO-RE, global data)")
    if not os.path.exists(btf_path):
        raise ProfilerError("btf", f"{btf_path} is missing: the kernel has no BTF type information; "
                            "use a kernel built with CONFIG_DEBUG_INFO_BTF=y")
    try:
        from . import _libbpf
    except ImportError as e:
        raise ProfilerError("libbpf", f"the Python package {e.name or 'cffi'} is missing: "
                            "pip install 'ottl[ebpf]' (cffi, pyelftools)") from None
    try:
        _libbpf.load(libbpf_name or _libbpf.LIBBPF_NAME)
    except OSError as e:
        raise ProfilerError("libbpf", f"cannot load {libbpf_name or _libbpf.LIBBPF_NAME} ({e}): install "
                            "libbpf 1.1 or newer (Debian/Ubuntu: apt-get install libbpf1)") from None
    caps = _effective_caps() if caps is None else caps
    has = lambda bit: bool(caps >> bit & 1)  # noqa: E731
    if not (has(CAP_SYS_ADMIN) or (has(CAP_BPF) and has(CAP_PERFMON))):
        raise ProfilerError("permission", "no permission to load BPF programs and open perf events: run as "
                            "root, or grant CAP_BPF and CAP_PERFMON (and CAP_SYSLOG for kernel symbols), "
                            "e.g. setcap cap_bpf,cap_perfmon,cap_syslog+ep")
    if not os.path.exists(object_path()):
        raise ProfilerError("object", f"the BPF object {object_path()} is missing: reinstall the package "
                            "or rebuild it with python -m ebpf.build")


@dataclass
class Overhead:
    """The profiler's own cost, measured while it runs."""

    elapsed_s: float = 0.0
    cpus: int = 0
    frequency: int = 0
    event: str = ""
    runs: int = 0                 # BPF program runs (samples delivered by the perf events)
    samples: int = 0              # recorded in the counts map
    samples_per_s: float = 0.0
    lost: int = 0                 # dropped: counts map full
    idle: int = 0
    filtered: int = 0
    user_stack_missing: int = 0
    kern_stack_missing: int = 0
    py_samples: int = 0           # samples with Python frames
    py_errors: int = 0            # samples of a CPython process whose state could not be read
    py_collisions: int = 0        # Python records dropped (hash collision or py_stacks map full)
    python_processes: int = 0     # CPython processes whose frames are walked
    python_unsupported: int = 0   # CPython processes seen whose version is not supported
    cpu_s: float = 0.0            # the profiler process's CPU time since start
    cpu_share: float = 0.0        # cpu_s / elapsed_s (1.0 = one CPU)
    drain_cpu_s: float = 0.0      # CPU time of the drain thread (draining and map snapshots)
    drains: int = 0
    rss_bytes: int = 0
    map_memory_bytes: int = 0     # sum of the maps' memlock, from /proc/self/fdinfo
    bpf_run_time_ns: int = 0      # from the kernel's BPF statistics, when enabled
    bpf_run_cnt: int = 0
    bpf_ns_per_run: Optional[float] = None
    maps: Dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return asdict(self)

    def metrics(self, prefix: str = "ebpf.profiler.") -> Dict[str, float]:
        """Flat numeric metrics (for health gates): name -> value."""
        out = {}
        for k, v in asdict(self).items():
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                out[prefix + k] = float(v)
        out[prefix + "memory_bytes"] = float(self.rss_bytes + self.map_memory_bytes)
        return out

    def status_line(self) -> str:
        per = f" bpf {self.bpf_ns_per_run / 1000:.1f}us/run" if self.bpf_ns_per_run else ""
        return (f"{self.elapsed_s:6.1f}s  samples {self.samples} ({self.samples_per_s:.0f}/s)  lost {self.lost}"
                f"  cpu {100 * self.cpu_share:.2f}%  rss {self.rss_bytes / 2**20:.1f}MB"
                f"  maps {self.map_memory_bytes / 2**20:.1f}MB{per}")


def _fdinfo(fd: int) -> Dict[str, str]:
    out = {}
    try:
        with open(f"/proc/self/fdinfo/{fd}") as fh:
            for line in fh:
                k, _, v = line.partition(":")
                out[k.strip()] = v.strip()
    except OSError:
        pass
    return out


def _rss_bytes() -> int:
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


class Profiler:
    """A system-wide (or one-process) stack sampler.

    ``with Profiler(pid=1234, frequency=99) as p: ...; snap = p.snapshot()``. ``snapshot()`` drains
    the kernel maps and returns the symbolized ``Profile`` so far plus ``Overhead``.
    """

    def __init__(self, pid: Optional[int] = None, frequency: int = 99, event: str = "cpu-clock",
                 stack_entries: int = 4096, count_entries: int = 10240, drain_interval: float = 2.0,
                 skip_idle: bool = True, bpf_stats: bool = True, cpus: Optional[List[int]] = None,
                 kallsyms: str = "/proc/kallsyms", object_file: Optional[str] = None,
                 python: bool = True, py_stack_entries: int = 1024,
                 python_offsets: Optional[Dict[Tuple[int, int], "pyframes.Offsets"]] = None) -> None:
        if frequency <= 0:
            raise ValueError("frequency must be positive")
        if event not in ("cpu-clock", "cycles", "auto"):
            raise ValueError("event must be 'cpu-clock', 'cycles' or 'auto'")
        self.pid = pid or 0
        self.frequency = int(frequency)
        self.event = event
        self.stack_entries = int(stack_entries)
        self.count_entries = int(count_entries)
        self.drain_interval = float(drain_interval)
        self.skip_idle = skip_idle
        self.bpf_stats = bpf_stats
        self.cpus = cpus
        self.object_file = object_file
        self.symbolizer = Symbolizer(kallsyms)
        # Python frames (docs/ebpf.md): CPython processes are recognised when first seen (the
        # target at start), and their interpreter frames walked by the BPF program.
        self.python = python
        self.py_stack_entries = int(py_stack_entries)
        self.python_offsets = python_offsets  # None: ebpf.python.TABLE (tests replace it)
        self.py_state = pyframes.PythonState()
        self.code_resolver = pyframes.CodeResolver()
        self.event_used = ""
        self._obj = None
        self._prog = None
        self._maps: Dict[str, object] = {}
        self._links: List[object] = []
        self._perf_fds: List[int] = []
        self._stats_fd = -1
        self._stats_fd_was_enabled = False
        self._thread: Optional[threading.Thread] = None
        self._stop = threading.Event()
        self._lock = threading.Lock()
        # (tgid, pid, comm, user addrs | -errno, kernel addrs | -errno, python frames | None) -> count
        self._agg: Dict[Tuple, int] = {}
        self._prev_stack_ids: set = set()
        self._prev_py_ids: set = set()
        self._started_at = 0.0
        self._start_ns = 0
        self._cpu_at_start = 0.0
        self._drain_cpu = 0.0
        self._drains = 0
        self._drain_error: Optional[BaseException] = None
        self.prog_id = 0
        self._ncpus = 0
        self.map_ids: Dict[str, int] = {}

    # ------------------------------------------------------------------------------ start/stop
    def __enter__(self) -> "Profiler":
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def running(self) -> bool:
        return self._obj is not None

    def start(self) -> "Profiler":
        if self._obj is not None:
            raise ProfilerError("state", "the profiler is already running")
        preflight()
        if self.pid and not os.path.exists(f"/proc/{self.pid}"):
            raise ProfilerError("pid", f"no process {self.pid}")
        try:
            self._open_and_load()
            self.py_state = pyframes.PythonState()
            self.code_resolver = pyframes.CodeResolver()
            if self.python and self.pid:
                self._note_python(self.pid)  # before attaching: every sample gets Python frames
            if self.bpf_stats:  # before attaching, so that every run is timed
                self._enable_stats()
            self._attach()
        except BaseException:  # ProfilerError, or anything else: never half-started
            self._release()
            raise
        self._agg = {}
        self._prev_stack_ids: set = set()
        self._prev_py_ids: set = set()
        self._drains, self._drain_cpu = 0, 0.0
        self._started_at = time.monotonic()
        self._start_ns = time.time_ns()
        self._cpu_at_start = time.process_time()
        self._stop.clear()
        self._thread = threading.Thread(target=self._drain_loop, name="ebpf-profiler-drain", daemon=True)
        self._thread.start()
        return self

    def _open_and_load(self) -> None:
        from . import _libbpf
        from ._libbpf import ffi

        lib = _libbpf.load()
        path = self.object_file or object_path()
        _libbpf.clear_log()
        ffi.errno = 0
        obj = lib.bpf_object__open_file(path.encode(), ffi.NULL)
        if obj == ffi.NULL:
            err = ffi.errno or errno.EINVAL
            raise ProfilerError("object", f"cannot open the BPF object {path}: {os.strerror(err)}"
                                + self._log_suffix())
        self._obj = obj
        m = lib.bpf_object__next_map(obj, ffi.NULL)
        while m != ffi.NULL:
            self._maps[ffi.string(lib.bpf_map__name(m)).decode()] = m
            m = lib.bpf_object__next_map(obj, m)
        rodata = next((m for name, m in self._maps.items() if name.endswith(".rodata")), None)
        for need in ("stacks", "counts", "counters", "py_procs", "py_stacks"):
            if need not in self._maps:
                raise ProfilerError("object", f"the BPF object {path} has no map {need!r}: rebuild it")
        if rodata is None:
            raise ProfilerError("object", f"the BPF object {path} has no .rodata configuration: rebuild it")
        lib.bpf_map__set_max_entries(self._maps["stacks"], self.stack_entries)
        lib.bpf_map__set_max_entries(self._maps["counts"], self.count_entries)
        lib.bpf_map__set_max_entries(self._maps["py_stacks"], max(1, self.py_stack_entries) if self.python else 1)
        size = ffi.new("size_t *")
        data = lib.bpf_map__initial_value(rodata, size)
        if data == ffi.NULL or size[0] < ffi.sizeof("struct profile_config"):
            raise ProfilerError("object", "the BPF object's configuration does not match profile.h: rebuild it")
        cfg = ffi.cast("struct profile_config *", data)
        if cfg.abi_version != lib.PROFILE_ABI_VERSION:
            raise ProfilerError("object", f"the BPF object has ABI version {cfg.abi_version}, this loader "
                                f"{lib.PROFILE_ABI_VERSION}: rebuild it (python -m ebpf.build)")
        cfg.target_tgid = self.pid
        cfg.skip_idle = 1 if self.skip_idle else 0
        prog = lib.bpf_object__find_program_by_name(obj, b"do_sample")
        if prog == ffi.NULL:
            raise ProfilerError("object", f"the BPF object {path} has no program do_sample: rebuild it")
        self._prog = prog
        ffi.errno = 0
        ret = lib.bpf_object__load(obj)
        if ret < 0:
            err = ffi.errno or -ret
            if err in (errno.EPERM, errno.EACCES):
                raise ProfilerError("permission", "the kernel refused to load the BPF program "
                                    f"({os.strerror(err)}): run as root, or grant CAP_BPF and CAP_PERFMON"
                                    + self._log_suffix())
            raise ProfilerError("load", f"loading the BPF program failed: {os.strerror(err)}" + self._log_suffix())
        info = _fdinfo(lib.bpf_program__fd(prog))
        self.prog_id = int(info.get("prog_id", "0") or 0)
        self.map_ids = {name: int(_fdinfo(lib.bpf_map__fd(m)).get("map_id", "0") or 0)
                        for name, m in self._maps.items()}

    @staticmethod
    def _log_suffix() -> str:
        from . import _libbpf

        tail = _libbpf.log_tail()
        return f"\nlibbpf said:\n{tail}" if tail else ""

    def _attach(self) -> None:
        from . import _libbpf
        from ._libbpf import ffi

        lib = _libbpf.load()
        cpus = self.cpus if self.cpus is not None else online_cpus()
        hardware = self.event in ("cycles", "auto")
        for cpu in cpus:
            try:
                fd = _libbpf.perf_event_open(cpu, self.frequency, hardware)
            except OSError as e:
                if hardware and self.event == "auto" and e.errno in (errno.ENOENT, errno.EOPNOTSUPP, errno.ENODEV):
                    hardware = False  # no PMU (a VM): the hrtimer-driven cpu-clock works everywhere
                    fd = self._open_soft(cpu)
                elif e.errno in (errno.EACCES, errno.EPERM):
                    raise ProfilerError("permission", f"perf_event_open was refused ({e.strerror}): run as "
                                        "root or grant CAP_PERFMON (perf_event_paranoid "
                                        f"is {self._paranoid()})") from None
                elif hardware and e.errno in (errno.ENOENT, errno.EOPNOTSUPP, errno.ENODEV):
                    raise ProfilerError("event", "hardware cycles are not available here (no PMU, as in most "
                                        "VMs): use event='cpu-clock' or 'auto'") from None
                elif e.errno == errno.EINVAL:
                    raise ProfilerError("event", f"perf_event_open on CPU {cpu} was rejected (EINVAL): no such "
                                        f"CPU, or {self.frequency} Hz is above kernel.perf_event_max_sample_rate "
                                        f"({self._max_rate()})") from None
                else:
                    raise ProfilerError("event", f"perf_event_open on CPU {cpu} failed: {e.strerror}") from None
            self._perf_fds.append(fd)
            ffi.errno = 0
            link = lib.bpf_program__attach_perf_event(self._prog, fd)
            if link == ffi.NULL:
                err = ffi.errno or errno.EINVAL
                raise ProfilerError("attach", f"attaching to the perf event on CPU {cpu} failed: "
                                    f"{os.strerror(err)}" + self._log_suffix())
            self._links.append(link)
            self._perf_fds.remove(fd)  # the link owns (and closes) it now
        self.event_used = "cycles" if hardware else "cpu-clock"
        self._ncpus = len(self._links)

    def _open_soft(self, cpu: int) -> int:
        from . import _libbpf

        return _libbpf.perf_event_open(cpu, self.frequency, False)

    @staticmethod
    def _paranoid() -> str:
        try:
            with open("/proc/sys/kernel/perf_event_paranoid") as fh:
                return fh.read().strip()
        except OSError:
            return "unknown"

    @staticmethod
    def _max_rate() -> str:
        try:
            with open("/proc/sys/kernel/perf_event_max_sample_rate") as fh:
                return fh.read().strip()
        except OSError:
            return "unknown"

    def _enable_stats(self) -> None:
        from . import _libbpf
        from ._libbpf import ffi

        ffi.errno = 0
        fd = _libbpf.load().bpf_enable_stats(_libbpf.BPF_STATS_RUN_TIME)
        self._stats_fd = fd if fd >= 0 else -1  # optional: without it, no BPF run time is reported
        self._stats_fd_was_enabled = self._stats_fd >= 0

    def close(self) -> None:
        """Stop sampling, drain what is left, and release every kernel object. Idempotent."""
        if self._thread is not None:
            self._stop.set()
            self._thread.join()
            self._thread = None
        if self._obj is not None:
            self._detach()  # no new samples from here on
            try:
                self._final = self._overhead_now()
                self._drain()
            except Exception as e:  # keep closing; the next snapshot() reports it
                self._drain_error = e
        self._release()

    def _detach(self) -> None:
        from . import _libbpf

        for link in reversed(self._links):
            _libbpf._lib.bpf_link__destroy(link)
        self._links = []

    def _release(self) -> None:
        from . import _libbpf

        lib = _libbpf._lib
        self._detach()
        for fd in self._perf_fds:
            _libbpf.close_fd(fd)
        self._perf_fds = []
        if self._stats_fd >= 0:
            _libbpf.close_fd(self._stats_fd)
            self._stats_fd = -1
        if self._obj is not None:
            lib.bpf_object__close(self._obj)
            self._obj = None
        self._prog = None
        self._maps = {}

    # ------------------------------------------------------------------------------ draining
    def _drain_loop(self) -> None:
        while not self._stop.wait(self.drain_interval):
            t0 = time.thread_time()
            try:
                self._drain()
            except Exception as e:  # keep sampling; report on the next snapshot
                self._drain_error = e
            self._drain_cpu += time.thread_time() - t0

    def _drain(self) -> None:
        """Move the counts map into the Python aggregate (lookup-and-delete per key), read the
        stacks those keys use, then delete those stacks from the stack map."""
        from . import _libbpf
        from ._libbpf import ffi

        with self._lock:
            if self._obj is None:
                return
            lib = _libbpf._lib
            counts_fd = lib.bpf_map__fd(self._maps["counts"])
            stacks_fd = lib.bpf_map__fd(self._maps["stacks"])
            nmax = self.count_entries
            keys = ffi.new("struct profile_key[]", nmax)
            n = 0
            prev = ffi.NULL
            while n < nmax and lib.bpf_map_get_next_key(counts_fd, prev, keys + n) == 0:
                prev = keys + n
                n += 1
            value = ffi.new("__u64 *")
            depth = lib.PROFILE_MAX_DEPTH
            frames = ffi.new("__u64[]", depth)
            stack_cache: Dict[int, Tuple] = {}

            def stack(sid: int):
                if sid < 0:
                    return -sid
                got = stack_cache.get(sid)
                if got is None:
                    sid_c = ffi.new("__u32 *", sid)
                    if lib.bpf_map_lookup_elem(stacks_fd, sid_c, frames) != 0:
                        got = errno.ENOENT  # deleted meanwhile: shown as missing
                    else:
                        addrs = []
                        for i in range(depth):
                            if not frames[i]:
                                break
                            addrs.append(int(frames[i]))
                        got = tuple(addrs)
                    stack_cache[sid] = got
                return got

            py_cache: Dict[int, object] = {}
            py_ctx: Dict[int, Tuple[int, dict]] = {}  # tgid -> (/proc/PID/mem fd, code objects checked)
            py_record = ffi.new("struct py_stack *")
            py_fd = lib.bpf_map__fd(self._maps["py_stacks"])

            def python_stack(tgid: int, ext_id: int):
                """The resolved Python frames of record ext_id: (frame pointers, flags, frames)."""
                got = py_cache.get(ext_id)
                if got is None:
                    proc = self.py_state.procs.get(tgid)
                    ext_c = ffi.new("__u32 *", ext_id)
                    if proc is None or lib.bpf_map_lookup_elem(py_fd, ext_c, py_record) != 0:
                        got = py_cache[ext_id] = ()
                        return None
                    if tgid not in py_ctx:
                        try:
                            fd = os.open(f"/proc/{tgid}/mem", os.O_RDONLY | os.O_CLOEXEC)
                        except OSError:
                            fd = -1
                        py_ctx[tgid] = (fd, {})
                    fd, checked = py_ctx[tgid]
                    raw = pyframes.record_frames(proc, py_record, lib.PY_MAX_DEPTH)
                    if fd < 0:
                        frames = tuple((pyframes.UNREADABLE, bool(fl & pyframes.PY_FRAME_ENTRY)) for _, _, fl in raw)
                    else:
                        frames = tuple(self.code_resolver.resolve(proc, raw, fd, checked))
                    got = py_cache[ext_id] = (proc.binary.frame_pointers, int(py_record.flags), frames)
                return got or None

            seen_pids: Dict[int, set] = {}
            seen_tgids: set = set()
            for i in range(n):
                key = keys + i
                if lib.bpf_map_lookup_and_delete_elem(counts_fd, key, value) != 0:
                    if lib.bpf_map_lookup_elem(counts_fd, key, value) != 0:
                        continue
                    lib.bpf_map_delete_elem(counts_fd, key)
                k = key[0]
                ustack = stack(k.user_stack_id)
                kstack = stack(k.kern_stack_id)
                if k.flags & lib.PROFILE_KEY_KTHREAD:
                    ustack = ()
                comm = ffi.string(k.comm).decode("utf-8", "replace")
                py = None
                if k.flags & lib.PROFILE_KEY_PYTHON:
                    py = python_stack(k.tgid, k.ext_id)
                    if py is None:
                        py = (False, 0, ((pyframes.MISSING_PYTHON, False),))
                seen_tgids.add(k.tgid)
                agg_key = (k.tgid, k.pid, comm, ustack, kstack, py)
                self._agg[agg_key] = self._agg.get(agg_key, 0) + int(value[0])
                if isinstance(ustack, tuple) and ustack:
                    seen_pids.setdefault(k.tgid, set()).update(ustack)
            if self.python:  # first: new CPython processes get Python frames from the next sample on
                self._python_housekeeping(seen_tgids)
            files_before = self.symbolizer.files_loaded
            for tgid, addrs in seen_pids.items():
                self.symbolizer.note_process(tgid, sorted(addrs))
            if self.symbolizer.files_loaded != files_before:
                _libbpf.release_free_memory()
            # Delete the stacks and Python records used by the previous drain but not by this one.
            # Those used now stay one more round: a key inserted on another CPU while this drain
            # ran may use them and is read next time (a record deleted under it would be lost,
            # unless the same stack happened to be sampled again).
            sid_c = ffi.new("__u32 *")
            for sid in self._prev_stack_ids - stack_cache.keys():
                sid_c[0] = sid
                lib.bpf_map_delete_elem(stacks_fd, sid_c)
            for ext_id in self._prev_py_ids - py_cache.keys():
                sid_c[0] = ext_id
                lib.bpf_map_delete_elem(py_fd, sid_c)
            self._prev_stack_ids = {sid for sid in stack_cache if sid >= 0}
            self._prev_py_ids = set(py_cache)
            for fd, _ in py_ctx.values():
                if fd >= 0:
                    os.close(fd)
            self._drains += 1

    # ------------------------------------------------------------------------------ CPython
    def _note_python(self, tgid: int) -> None:
        """Recognise ``tgid`` as a CPython process (or not) and tell the BPF program how to walk it."""
        st = self.py_state
        identity = pyframes.process_identity(tgid)
        if identity is None:
            return
        try:
            proc = pyframes.detect(tgid, self.python_offsets)
        except pyframes.Unsupported as e:
            st.unsupported[tgid] = (identity, str(e))
            st.notes[(tgid, str(e))] = (f"process {tgid}: {e}; its samples have native stacks only, "
                                        f"without Python function names")
            return
        if proc is None:
            st.other[tgid] = identity
            return
        from . import _libbpf
        from ._libbpf import ffi

        lib = _libbpf._lib
        key = ffi.new("__u32 *", tgid)
        if lib.bpf_map_update_elem(lib.bpf_map__fd(self._maps["py_procs"]), key, proc.to_c(ffi, lib), 0) != 0:
            msg = f"process {tgid}: too many CPython processes (py_procs is full)"
            st.unsupported[tgid] = (identity, msg)
            st.notes[(tgid, msg)] = msg + "; its samples have native stacks only"
            return
        st.procs[tgid] = proc

    def _forget_python(self, tgid: int) -> None:
        from . import _libbpf
        from ._libbpf import ffi

        st = self.py_state
        if st.procs.pop(tgid, None) is not None and self._obj is not None:
            lib = _libbpf._lib
            lib.bpf_map_delete_elem(lib.bpf_map__fd(self._maps["py_procs"]), ffi.new("__u32 *", tgid))
        st.unsupported.pop(tgid, None)
        st.other.pop(tgid, None)
        self.code_resolver.forget(tgid)

    def _python_housekeeping(self, seen: set) -> None:
        """Recognise processes seen for the first time; forget those that exited or exec'd (their
        code object cache and their py_procs entry go; a live one is recognised afresh)."""
        st = self.py_state
        known = {t: p.identity for t, p in st.procs.items()}
        known.update({t: v[0] for t, v in st.unsupported.items()})
        known.update(st.other)
        for tgid, identity in known.items():
            if pyframes.process_identity(tgid) != identity:
                self._forget_python(tgid)
        for tgid in seen:
            if tgid and tgid not in st.procs and tgid not in st.unsupported and tgid not in st.other:
                self._note_python(tgid)

    # ------------------------------------------------------------------------------ results
    def counters(self) -> Dict[str, int]:
        """The BPF counters, summed over CPUs."""
        from . import _libbpf
        from ._libbpf import ffi

        if self._obj is None:
            return {}
        lib = _libbpf._lib
        ncpu = lib.libbpf_num_possible_cpus()
        buf = ffi.new("struct profile_counters[]", ncpu)
        zero = ffi.new("__u32 *", 0)
        if lib.bpf_map_lookup_elem(lib.bpf_map__fd(self._maps["counters"]), zero, buf) != 0:
            return {}
        names = ("runs", "samples", "idle", "filtered", "lost", "user_stack_missing", "kern_stack_missing",
                 "py_samples", "py_errors", "py_collisions")
        return {name: sum(int(getattr(buf[i], name)) for i in range(ncpu)) for name in names}

    def _overhead_now(self) -> Overhead:
        from . import _libbpf

        elapsed = time.monotonic() - self._started_at if self._started_at else 0.0
        ov = Overhead(elapsed_s=elapsed, frequency=self.frequency, event=self.event_used,
                      cpus=self._ncpus, drains=self._drains, drain_cpu_s=self._drain_cpu)
        for k, v in self.counters().items():
            setattr(ov, k, v)
        ov.samples_per_s = ov.samples / elapsed if elapsed > 0 else 0.0
        ov.cpu_s = time.process_time() - self._cpu_at_start
        ov.cpu_share = ov.cpu_s / elapsed if elapsed > 0 else 0.0
        ov.rss_bytes = _rss_bytes()
        ov.python_processes = len(self.py_state.procs)
        ov.python_unsupported = len(self.py_state.unsupported)
        lib = _libbpf._lib
        if self._obj is not None:
            for name, m in self._maps.items():
                mem = int(_fdinfo(lib.bpf_map__fd(m)).get("memlock", "0") or 0)
                ov.maps[name] = mem
                ov.map_memory_bytes += mem
            info = _fdinfo(lib.bpf_program__fd(self._prog))
            ov.bpf_run_time_ns = int(info.get("run_time_ns", "0") or 0)
            ov.bpf_run_cnt = int(info.get("run_cnt", "0") or 0)
            if ov.bpf_run_cnt:
                ov.bpf_ns_per_run = ov.bpf_run_time_ns / ov.bpf_run_cnt
        return ov

    def overhead(self) -> Overhead:
        """The profiler's cost so far (the last figures after close())."""
        if self._obj is None:
            return getattr(self, "_final", Overhead())
        return self._overhead_now()

    def snapshot(self, reset: bool = False) -> "Snapshot":
        """Drain the kernel maps now and return the symbolized profile so far, with the overhead.
        With ``reset``, the next snapshot starts from zero."""
        if self._obj is not None:
            self._drain()
        ov = self.overhead()
        with self._lock:  # the drain thread adds to the aggregate and uses the symbolizer
            agg = self._agg
            if reset:
                self._agg = {}
            samples = self._symbolize(agg)
        from . import _libbpf

        _libbpf.release_free_memory()
        profile = Profile(samples, frequency=self.frequency,
                          duration_ns=int(ov.elapsed_s * 1e9), time_ns=self._start_ns,
                          notes=sorted(set(self.py_state.notes.values())))
        if self._drain_error is not None:
            err, self._drain_error = self._drain_error, None
            raise ProfilerError("drain", f"draining the BPF maps failed: {err}")
        return Snapshot(profile, ov)

    def _symbolize(self, agg: Dict[Tuple, int]) -> List[Sample]:
        out = []
        sym = self.symbolizer
        for agg_key, count in agg.items():
            tgid, pid, comm, ustack, kstack = agg_key[:5]
            py = agg_key[5] if len(agg_key) > 5 else None
            if isinstance(ustack, int):
                user = [MISSING_USER]
            else:
                user = sym.user_frames(tgid, ustack)
            if py is not None:
                frame_pointers, flags, frames = py
                user = pyframes.merge([] if user == [MISSING_USER] else user, frames, frame_pointers, flags)
            user = user[::-1]
            if isinstance(kstack, int):
                kern = [] if kstack == EFAULT else [MISSING_KERNEL]
            else:
                kern = sym.kernel_frames(kstack)[::-1]
            out.append(Sample(tgid, pid, comm, tuple(user + kern), count))
        return out


@dataclass
class Snapshot:
    profile: Profile
    overhead: Overhead

    @property
    def samples(self) -> List[Sample]:
        return self.profile.samples

    @property
    def notes(self) -> List[str]:
        """What the profile cannot show, e.g. CPython processes of an unsupported version."""
        return self.profile.notes

    def folded(self, per_process: bool = False) -> str:
        from .output import to_folded

        return to_folded(self.profile, per_process)

    def pprof(self) -> bytes:
        from .output import to_pprof

        return to_pprof(self.profile)

    def svg(self, title: str = "CPU flame graph") -> str:
        from .output import to_svg

        return to_svg(self.profile, title)

    def write(self, path: str) -> str:
        from .output import write

        return write(self.profile, path)
