"""cffi (ABI mode) binding to the system's ``libbpf.so.1``, plus ``perf_event_open``.

Only API that libbpf 1.1 exports is declared (Debian 12 ships 1.1.2), so the binding works with
any libbpf from 1.1 on; no compiler or libbpf headers are needed at install time. The structs
shared with the BPF program come from ``bpf/profile.h`` (the text between its cdef markers), so
their layout is written down once.

Errors: in libbpf 1.x, calls return NULL or a negative errno and also set ``errno``; ``check``
turns that into an ``OSError`` carrying the errno and the last libbpf warnings.
"""

from __future__ import annotations

import collections
import errno as _errno
import os
from importlib import resources

from cffi import FFI

LIBBPF_NAME = "libbpf.so.1"

_CDEF = r"""
typedef uint8_t __u8;
typedef uint16_t __u16;
typedef uint32_t __u32;
typedef int32_t __s32;
typedef uint64_t __u64;

struct bpf_object;
struct bpf_program;
struct bpf_map;
struct bpf_link;

struct bpf_object *bpf_object__open_file(const char *path, const void *opts);
int bpf_object__load(struct bpf_object *obj);
void bpf_object__close(struct bpf_object *obj);
struct bpf_program *bpf_object__find_program_by_name(const struct bpf_object *obj, const char *name);
struct bpf_map *bpf_object__next_map(const struct bpf_object *obj, const struct bpf_map *map);
const char *bpf_map__name(const struct bpf_map *map);
int bpf_map__set_max_entries(struct bpf_map *map, __u32 max_entries);
__u32 bpf_map__max_entries(const struct bpf_map *map);
void *bpf_map__initial_value(struct bpf_map *map, size_t *psize);
int bpf_map__fd(const struct bpf_map *map);
int bpf_program__fd(const struct bpf_program *prog);
struct bpf_link *bpf_program__attach_perf_event(const struct bpf_program *prog, int pfd);
int bpf_link__destroy(struct bpf_link *link);

int bpf_map_lookup_elem(int fd, const void *key, void *value);
int bpf_map_lookup_and_delete_elem(int fd, const void *key, void *value);
int bpf_map_delete_elem(int fd, const void *key);
int bpf_map_update_elem(int fd, const void *key, const void *value, __u64 flags);
int bpf_map_get_next_key(int fd, const void *key, void *next_key);
int bpf_prog_get_fd_by_id(__u32 id);
int bpf_map_get_fd_by_id(__u32 id);
int bpf_enable_stats(int type);
int libbpf_num_possible_cpus(void);

typedef int (*libbpf_print_fn_t)(int level, const char *fmt, void *ap);
libbpf_print_fn_t libbpf_set_print(libbpf_print_fn_t fn);

struct ebpf_perf_event_attr {
    __u32 type;
    __u32 size;
    __u64 config;
    __u64 sample_freq;       /* union with sample_period */
    __u64 sample_type;
    __u64 read_format;
    __u64 flags;             /* the bitfield: bit 0 disabled, bit 10 freq */
    __u32 wakeup_events;
    __u32 bp_type;
    __u64 config1;
    __u64 config2;
    __u64 branch_sample_type;
    __u64 sample_regs_user;
    __u32 sample_stack_user;
    __s32 clockid;
    __u64 sample_regs_intr;
    __u32 aux_watermark;
    __u16 sample_max_stack;
    __u16 reserved_2;
};

long syscall(long number, ...);
int vsnprintf(char *str, size_t size, const char *format, void *ap);
int close(int fd);
int malloc_trim(size_t pad);
"""

PERF_TYPE_HARDWARE = 0
PERF_TYPE_SOFTWARE = 1
PERF_COUNT_HW_CPU_CYCLES = 0
PERF_COUNT_SW_CPU_CLOCK = 0
PERF_ATTR_FLAG_DISABLED = 1 << 0
PERF_ATTR_FLAG_FREQ = 1 << 10
PERF_FLAG_FD_CLOEXEC = 1 << 3
BPF_STATS_RUN_TIME = 0
_NR_PERF_EVENT_OPEN = {"x86_64": 298, "aarch64": 241, "ppc64le": 319, "s390x": 331, "riscv64": 241}


def header_text() -> str:
    return resources.files("ebpf").joinpath("bpf/profile.h").read_text()


def shared_cdef(text: str) -> str:
    """The declarations between ``/* cdef-begin */`` and ``/* cdef-end */`` of profile.h."""
    start = text.index("/* cdef-begin */") + len("/* cdef-begin */")
    return text[start:text.index("/* cdef-end */")]


ffi = FFI()
ffi.cdef(_CDEF)
ffi.cdef(shared_cdef(header_text()))

_lib = None
_libc = None
_log: collections.deque = collections.deque(maxlen=40)
_print_cb = None


@ffi.callback("int(int, const char *, void *)")
def _on_print(level, fmt, ap):  # pragma: no cover - exercised through libbpf
    try:
        buf = ffi.new("char[512]")
        _libc.vsnprintf(buf, 512, fmt, ap)
        _log.append((level, ffi.string(buf).decode("utf-8", "replace").rstrip()))
    except Exception:
        pass
    return 0


def load(name: str = LIBBPF_NAME):
    """dlopen libbpf (once) and route its log into a small buffer; raises OSError if absent."""
    global _lib, _libc, _print_cb
    if name != LIBBPF_NAME:
        return ffi.dlopen(name)  # only to probe another name (tests, diagnostics)
    if _lib is None:
        lib = ffi.dlopen(name)
        _libc = ffi.dlopen(None)
        lib.libbpf_set_print(_on_print)
        _print_cb = _on_print
        _lib = lib
    return _lib


def libc():
    global _libc
    if _libc is None:
        _libc = ffi.dlopen(None)
    return _libc


def clear_log() -> None:
    _log.clear()


def log_tail(n: int = 6, max_level: int = 1) -> str:
    """The last libbpf warnings (level 0) and info lines (1), newest last."""
    lines = [msg for level, msg in _log if level <= max_level and msg]
    return "\n".join(lines[-n:])


def check(ret, what: str):
    """Raise OSError(errno) when a libbpf call returned NULL or a negative value."""
    failed = (ret == ffi.NULL) if isinstance(ret, ffi.CData) else ret < 0
    if failed:
        err = ffi.errno or (-ret if not isinstance(ret, ffi.CData) and ret < 0 else _errno.EINVAL)
        raise OSError(err, f"{what}: {os.strerror(err)}")
    return ret


def perf_event_open(cpu: int, frequency: int, hardware: bool, pid: int = -1) -> int:
    """Open a sampling event on ``cpu`` (all tasks): cpu-clock, or cycles with ``hardware``."""
    attr = ffi.new("struct ebpf_perf_event_attr *")
    attr.size = ffi.sizeof("struct ebpf_perf_event_attr")
    if hardware:
        attr.type, attr.config = PERF_TYPE_HARDWARE, PERF_COUNT_HW_CPU_CYCLES
    else:
        attr.type, attr.config = PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CPU_CLOCK
    attr.sample_freq = frequency
    attr.flags = PERF_ATTR_FLAG_FREQ | PERF_ATTR_FLAG_DISABLED
    nr = _NR_PERF_EVENT_OPEN.get(os.uname().machine)
    if nr is None:
        raise OSError(_errno.ENOSYS, f"perf_event_open: unknown syscall number on {os.uname().machine}")
    c = libc()
    ffi.errno = 0
    fd = c.syscall(ffi.cast("long", nr), ffi.cast("void *", attr), ffi.cast("int", pid),
                   ffi.cast("int", cpu), ffi.cast("int", -1), ffi.cast("unsigned long", PERF_FLAG_FD_CLOEXEC))
    if fd < 0:
        err = ffi.errno or _errno.EINVAL
        raise OSError(err, f"perf_event_open(cpu {cpu}): {os.strerror(err)}")
    return int(fd)


def close_fd(fd: int) -> None:
    try:
        os.close(fd)
    except OSError:
        pass


def release_free_memory() -> None:
    """Hand freed heap memory back to the system (glibc's malloc_trim; a no-op elsewhere).
    Symbolization allocates and frees large buffers (symbol tables, kallsyms), which glibc
    otherwise keeps in the process: about 10 MB of RSS measured here."""
    try:
        libc().malloc_trim(0)
    except (AttributeError, OSError):
        pass
