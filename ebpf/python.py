"""CPython support: recognise a CPython process, tell the BPF program how to walk its interpreter
frames, and turn the code objects it records into function names, files and lines.

Three parts:

- ``detect(pid)``: find the ELF file of the process that defines ``_PyRuntime`` (the executable,
  or a ``libpython3.X.so`` it maps), read the interpreter's version from that file (the
  ``Py_Version`` constant, else the file name), and the structure offsets for that version:
  CPython's own ``_Py_DebugOffsets`` (read from the start of ``_PyRuntime`` in the process, 3.13)
  or the table below (3.11 and 3.12, measured with ``offsetof`` against each version's internal
  headers; ``tests/ebpf/test_ebpf_python.py`` re-measures them where the headers are installed).
  Any other version is reported as unsupported: its samples keep native stacks only.
- ``struct py_proc``: what the BPF program needs (``PyProc.to_c``), written into its ``py_procs``
  map keyed by the process id.
- ``CodeResolver``: reads code objects from the process's memory (``/proc/PID/mem``), checks that
  each is a code object (its type is the process's ``PyCode_Type``; its strings are ``str`` and
  ``bytes`` objects), and caches name, file and line table per code object address. A cached entry
  is used again only when the object's identity fields (type, name, qualname, file, line table
  pointers and first line) still read the same, so a code object freed and replaced at the same
  address is resolved afresh; everything of a process is dropped when it exits or execs.

Merging with native frames (``merge``): the Python frames are split at entry frames, one run per
``_PyEval_EvalFrameDefault`` call. When the interpreter was built with frame pointers, each native
``_PyEval_EvalFrameDefault`` frame is replaced by its run. Stock builds (pyenv, Debian) have none:
their native unwinding is right only for the leaf, so the stack is the Python frames with the
native leaf on top (unless the leaf is the eval loop itself).
"""

from __future__ import annotations

import os
import re
import struct
from dataclasses import dataclass, field
from typing import Dict, List, NamedTuple, Optional, Sequence, Tuple

from .symbolize import KIND_MISSING, Frame, parse_maps

KIND_PYTHON = "python"
EVAL_FUNCTION = "_PyEval_EvalFrameDefault"
SUPPORTED = "3.11, 3.12, 3.13"

PY_PROC_CFRAME, PY_PROC_IS_ENTRY, PY_PROC_OWNER_CSTACK = 1, 2, 4
PY_FRAME_ENTRY = 1            # in (code, offset, flags) triples: the first frame of an eval loop call
PY_OWNED_BY_CSTACK = 3
PY_STACK_TRUNCATED, PY_STACK_READ_ERROR = 1, 2
PY_FRAME_READ = 80

TRUNCATED = Frame("[python stack truncated]", "", KIND_MISSING)
UNREADABLE = Frame("[python frame unreadable]", "", KIND_MISSING)
NOT_CODE = Frame("[python frame: not a code object]", "", KIND_MISSING)
MISSING_PYTHON = Frame("[missing python stack]", "", KIND_MISSING)


@dataclass(frozen=True)
class Offsets:
    """Byte offsets into one CPython version's structures (what BPF and the resolver read)."""

    interp_head: int          # _PyRuntimeState.interpreters.head
    interp_next: int          # PyInterpreterState.next
    tstate_head: int          # PyInterpreterState.threads.head
    tstate_next: int          # PyThreadState.next
    tstate_native_tid: int    # PyThreadState.native_thread_id
    tstate_frame: int         # PyThreadState.cframe (3.11, 3.12) or .current_frame (3.13)
    cframe_frame: int         # _PyCFrame.current_frame (3.11, 3.12); -1: no cframe
    frame_code: int           # _PyInterpreterFrame.f_code / f_executable
    frame_previous: int
    frame_instr: int          # prev_instr (3.11, 3.12) / instr_ptr (3.13)
    frame_owner: int
    frame_entry: int          # is_entry (3.11); -1: entry shims with owner FRAME_OWNED_BY_CSTACK
    code_filename: int
    code_name: int
    code_qualname: int
    code_firstlineno: int
    code_linetable: int
    code_adaptive: int        # co_code_adaptive: the bytecode, inline in the code object
    bytes_size: int = 16      # PyVarObject.ob_size
    bytes_data: int = 32      # PyBytesObject.ob_sval
    unicode_state: int = 32   # PyASCIIObject.state
    unicode_length: int = 16
    unicode_ascii_size: int = 40    # sizeof(PyASCIIObject): where compact ASCII data starts
    unicode_compact_size: int = 56  # sizeof(PyCompactUnicodeObject): compact non-ASCII data
    source: str = "table"


# Measured with offsetof() against the internal headers of pyenv CPython 3.11.7 and 3.12.1 (and
# Debian's 3.11.2, identical to 3.11.7), x86-64 and other LP64 targets.
TABLE: Dict[Tuple[int, int], Offsets] = {
    (3, 11): Offsets(interp_head=40, interp_next=0, tstate_head=16, tstate_next=8, tstate_native_tid=160,
                     tstate_frame=56, cframe_frame=8, frame_code=32, frame_previous=48, frame_instr=56,
                     frame_owner=69, frame_entry=68, code_filename=112, code_name=120, code_qualname=128,
                     code_firstlineno=72, code_linetable=136, code_adaptive=184,
                     unicode_ascii_size=48, unicode_compact_size=72),
    (3, 12): Offsets(interp_head=40, interp_next=0, tstate_head=72, tstate_next=8, tstate_native_tid=144,
                     tstate_frame=56, cframe_frame=0, frame_code=0, frame_previous=8, frame_instr=56,
                     frame_owner=70, frame_entry=-1, code_filename=112, code_name=120, code_qualname=128,
                     code_firstlineno=68, code_linetable=136, code_adaptive=192),
}

DEBUG_COOKIE = b"xdebugpy"
# _Py_DebugOffsets of CPython 3.13 (Include/internal/pycore_runtime.h): every field a uint64_t, in
# this order; groups start with their struct's size. Later versions change the layout (3.14 adds
# fields), so only the versions listed here are read this way.
_DEBUG_FIELDS_313 = (
    "cookie", "version", "free_threaded",
    "rt.size", "rt.finalizing", "rt.interpreters_head",
    "is.size", "is.id", "is.next", "is.threads_head", "is.gc", "is.imports_modules", "is.sysdict",
    "is.builtins", "is.ceval_gil", "is.gil_runtime_state", "is.gil_enabled", "is.gil_locked", "is.gil_holder",
    "ts.size", "ts.prev", "ts.next", "ts.interp", "ts.current_frame", "ts.thread_id", "ts.native_thread_id",
    "ts.datastack_chunk", "ts.status",
    "fr.size", "fr.previous", "fr.executable", "fr.instr_ptr", "fr.localsplus", "fr.owner",
    "co.size", "co.filename", "co.name", "co.qualname", "co.linetable", "co.firstlineno", "co.argcount",
    "co.localsplusnames", "co.localspluskinds", "co.co_code_adaptive",
    "ob.size", "ob.ob_type",
    "ty.size", "ty.tp_name", "ty.tp_repr", "ty.tp_flags",
    "tu.size", "tu.ob_item", "tu.ob_size",
    "li.size", "li.ob_item", "li.ob_size",
    "di.size", "di.ma_keys", "di.ma_values",
    "fl.size", "fl.ob_fval",
    "lo.size", "lo.lv_tag", "lo.ob_digit",
    "by.size", "by.ob_size", "by.ob_sval",
    "un.size", "un.state", "un.length", "un.asciiobject_size",
)
DEBUG_LAYOUTS = {(3, 13): _DEBUG_FIELDS_313}


def offsets_from_debug(raw: bytes, version: Tuple[int, int]) -> Offsets:
    """Offsets from the bytes of a ``_Py_DebugOffsets`` (the start of ``_PyRuntime``)."""
    names = DEBUG_LAYOUTS.get(version)
    if names is None:
        raise Unsupported(f"the layout of _Py_DebugOffsets of CPython {version[0]}.{version[1]} is not known")
    if len(raw) < 8 * len(names) or raw[:8] != DEBUG_COOKIE:
        raise Unsupported("no _Py_DebugOffsets at _PyRuntime (cookie missing)")
    vals = dict(zip(names[1:], struct.unpack_from(f"<{len(names) - 1}Q", raw, 8)))
    if (vals["version"] >> 24, vals["version"] >> 16 & 0xFF) != version:
        raise Unsupported(f"_Py_DebugOffsets says version {vals['version']:#x}, the binary {version}")
    if vals["free_threaded"]:
        raise Unsupported("free-threaded CPython builds are not supported")
    return Offsets(
        interp_head=vals["rt.interpreters_head"], interp_next=vals["is.next"],
        tstate_head=vals["is.threads_head"], tstate_next=vals["ts.next"],
        tstate_native_tid=vals["ts.native_thread_id"], tstate_frame=vals["ts.current_frame"], cframe_frame=-1,
        frame_code=vals["fr.executable"], frame_previous=vals["fr.previous"], frame_instr=vals["fr.instr_ptr"],
        frame_owner=vals["fr.owner"], frame_entry=-1,
        code_filename=vals["co.filename"], code_name=vals["co.name"], code_qualname=vals["co.qualname"],
        code_firstlineno=vals["co.firstlineno"], code_linetable=vals["co.linetable"],
        code_adaptive=vals["co.co_code_adaptive"],
        bytes_size=vals["by.ob_size"], bytes_data=vals["by.ob_sval"], unicode_state=vals["un.state"],
        unicode_length=vals["un.length"], unicode_ascii_size=vals["un.asciiobject_size"],
        unicode_compact_size=vals["un.asciiobject_size"] + 16, source="_Py_DebugOffsets")


class Unsupported(Exception):
    """A CPython process whose frames cannot be walked; the message says why."""


def check_frame_layout(o: Offsets) -> None:
    """The BPF walk reads PY_FRAME_READ bytes of a frame and takes pointer fields at offsets masked
    with 0x78 and byte fields masked with 0x7f: refuse a layout that would not survive that."""
    for name in ("frame_code", "frame_previous", "frame_instr"):
        off = getattr(o, name)
        if off % 8 or not 0 <= off <= PY_FRAME_READ - 8:
            raise Unsupported(f"the interpreter frame layout does not fit the BPF walk ({name} at {off})")
    for name in ("frame_owner", "frame_entry"):
        off = getattr(o, name)
        if off >= PY_FRAME_READ:
            raise Unsupported(f"the interpreter frame layout does not fit the BPF walk ({name} at {off})")


# ----------------------------------------------------------------------------------- ELF facts

_SYMBOLS = ("_PyRuntime", "Py_Version", "PyCode_Type", "PyUnicode_Type", "PyBytes_Type", EVAL_FUNCTION)


class PythonBinary(NamedTuple):
    path: str
    version: Optional[Tuple[int, int, int]]  # from Py_Version, else (major, minor, -1) from the name
    symbols: Dict[str, int]                  # link-time addresses of _SYMBOLS found
    first_vaddr: int                         # the lowest PT_LOAD p_vaddr (page aligned)
    frame_pointers: bool                     # _PyEval_EvalFrameDefault sets up a frame pointer


_binaries: Dict[Tuple, Optional[PythonBinary]] = {}
_NAME_VERSION = re.compile(r"python(\d)\.(\d+)")


def read_binary(path: str) -> Optional[PythonBinary]:
    """The CPython facts of an ELF file, or None when it does not define ``_PyRuntime``. Cached per
    file (device, inode, mtime, size)."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    key = (st.st_dev, st.st_ino, st.st_mtime_ns, st.st_size)
    if key in _binaries:
        return _binaries[key]
    try:
        info = _read_binary(path)
    except Exception:
        info = None
    _binaries[key] = info
    return info


def _read_binary(path: str) -> Optional[PythonBinary]:
    from elftools.elf.elffile import ELFFile

    with open(path, "rb") as fh:
        elf = ELFFile(fh)
        if elf.elfclass != 64 or not elf.little_endian:
            return None
        found: Dict[str, int] = {}
        wanted = {n.encode() for n in _SYMBOLS}
        sym = struct.Struct("<IBBHQQ")
        for name in (".dynsym", ".symtab"):
            sec = elf.get_section_by_name(name)
            if sec is None or sec["sh_type"] not in ("SHT_SYMTAB", "SHT_DYNSYM"):
                continue
            strtab = elf.get_section(sec["sh_link"]).data()
            data = sec.data()
            for name_off, _info, _other, shndx, value, _size in sym.iter_unpack(data[:len(data) - len(data) % 24]):
                if not value or shndx == 0:
                    continue
                end = strtab.find(b"\0", name_off)
                nm = strtab[name_off:end]
                if nm in wanted:
                    found.setdefault(nm.decode(), value)
            if "_PyRuntime" in found and EVAL_FUNCTION in found:
                break
        if "_PyRuntime" not in found:
            return None
        loads = [s for s in elf.iter_segments() if s["p_type"] == "PT_LOAD"]
        first_vaddr = min(s["p_vaddr"] for s in loads) & ~0xFFF

        def file_bytes(vaddr: int, n: int) -> Optional[bytes]:
            for seg in loads:
                if seg["p_vaddr"] <= vaddr and vaddr + n <= seg["p_vaddr"] + seg["p_filesz"]:
                    fh.seek(seg["p_offset"] + vaddr - seg["p_vaddr"])
                    return fh.read(n)
            return None

        version = None
        if "Py_Version" in found:
            raw = file_bytes(found["Py_Version"], 8)
            if raw:
                hexv = struct.unpack("<Q", raw)[0]
                version = (hexv >> 24 & 0xFF, hexv >> 16 & 0xFF, hexv >> 8 & 0xFF)
        if version is None:
            m = _NAME_VERSION.search(os.path.basename(path))
            if m:
                version = (int(m.group(1)), int(m.group(2)), -1)
        fp = False
        if EVAL_FUNCTION in found:
            head = file_bytes(found[EVAL_FUNCTION], 32) or b""
            fp = b"\x55\x48\x89\xe5" in head  # push %rbp; mov %rsp,%rbp
    return PythonBinary(path, version, found, first_vaddr, fp)


# ----------------------------------------------------------------------------------- processes

@dataclass
class PyProc:
    """A recognised CPython process."""

    pid: int
    binary: PythonBinary
    version: Tuple[int, int, int]
    offsets: Offsets
    runtime: int                 # address of _PyRuntime in the process
    code_type: int               # address of PyCode_Type
    unicode_type: int
    bytes_type: int
    identity: Tuple              # process_identity(): changes on exec or pid reuse

    @property
    def version_text(self) -> str:
        return ".".join(str(v) for v in self.version if v >= 0)

    def to_c(self, ffi, lib):
        """The ``struct py_proc`` for the BPF program's py_procs map."""
        o = self.offsets
        pp = ffi.new("struct py_proc *")
        pp.runtime = self.runtime
        pp.version = self.version[0] << 24 | self.version[1] << 16 | max(self.version[2], 0) << 8
        flags = 0
        if o.cframe_frame >= 0:
            flags |= lib.PY_PROC_CFRAME
        if o.frame_entry >= 0:
            flags |= lib.PY_PROC_IS_ENTRY
        else:
            flags |= lib.PY_PROC_OWNER_CSTACK
        pp.flags = flags
        pp.interp_head, pp.interp_next = o.interp_head, o.interp_next
        pp.tstate_head, pp.tstate_next, pp.tstate_native_tid = o.tstate_head, o.tstate_next, o.tstate_native_tid
        pp.tstate_frame, pp.cframe_frame = o.tstate_frame, max(o.cframe_frame, 0)
        pp.frame_code, pp.frame_previous, pp.frame_instr = o.frame_code, o.frame_previous, o.frame_instr
        pp.frame_owner, pp.frame_entry = o.frame_owner, max(o.frame_entry, 0)
        pp.code_adaptive = o.code_adaptive
        return pp


def process_identity(pid: int) -> Optional[Tuple]:
    """(start time, exe device, exe inode, auxiliary vector) of a live process; None when it is
    gone. The start time tells a reused pid; the auxiliary vector (entry point, program header and
    loader addresses, the AT_RANDOM pointer) changes on every exec, even of the same binary."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            stat = fh.read()
        start = int(stat[stat.rindex(b")") + 2:].split()[19])
        try:
            st = os.stat(f"/proc/{pid}/exe")
            exe = (st.st_dev, st.st_ino)
        except OSError:
            exe = (0, 0)
        try:
            with open(f"/proc/{pid}/auxv", "rb") as fh:
                auxv = fh.read()
        except OSError:
            auxv = b""
        return (start, *exe, auxv)
    except (OSError, ValueError, IndexError):
        return None


def read_memory(pid: int, addr: int, size: int) -> Optional[bytes]:
    """``size`` bytes of the process's memory at ``addr`` (None when unreadable)."""
    try:
        fd = os.open(f"/proc/{pid}/mem", os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        data = os.pread(fd, size, addr)
        return data if len(data) == size else None
    except OSError:
        return None
    finally:
        os.close(fd)


def detect(pid: int, table: Optional[Dict[Tuple[int, int], Offsets]] = None) -> Optional[PyProc]:
    """Recognise a CPython process. Returns None when it is not one; raises ``Unsupported`` (with
    the reason) for a CPython whose frames cannot be walked (another version, unreadable)."""
    table = TABLE if table is None else table
    identity = process_identity(pid)
    if identity is None:
        return None
    try:
        with open(f"/proc/{pid}/maps") as fh:
            maps = parse_maps(fh.read())
    except OSError:
        return None
    paths: List[str] = []
    for m in maps:  # the interpreter is the executable or a libpython it maps
        if m.path.startswith("/") and "python" in os.path.basename(m.path) and m.path not in paths:
            paths.append(m.path)
    paths.sort(key=lambda p: "libpython" not in os.path.basename(p))
    for path in paths:
        clean = path[:-len(" (deleted)")] if path.endswith(" (deleted)") else path
        binary = read_binary(f"/proc/{pid}/root{clean}") or read_binary(clean)
        if binary is None:
            continue
        return _prepare(pid, binary, clean, maps, identity, table)
    return None


def _prepare(pid, binary: PythonBinary, target: str, maps, identity, table) -> PyProc:
    """``target``: the binary's path as the process maps it (the cached ``binary`` may have been
    read through another process's /proc/PID/root)."""
    if binary.version is None:
        raise Unsupported(f"CPython of unknown version ({binary.path})")
    version = binary.version
    label = f"CPython {version[0]}.{version[1]}"
    base = None
    for m in maps:
        if m.offset == 0 and m.path.replace(" (deleted)", "") == target:
            base = m.start - binary.first_vaddr
            break
    if base is None:
        raise Unsupported(f"{label}: the mapping of {target} was not found")
    runtime = base + binary.symbols["_PyRuntime"]
    missing = [s for s in ("PyCode_Type", "PyUnicode_Type", "PyBytes_Type") if s not in binary.symbols]
    if missing:
        raise Unsupported(f"{label}: {target} lacks the symbols {', '.join(missing)}")
    major_minor = (version[0], version[1])
    if major_minor in DEBUG_LAYOUTS and major_minor not in table:
        raw = read_memory(pid, runtime, 8 * len(DEBUG_LAYOUTS[major_minor]))
        if raw is None:
            raise Unsupported(f"{label}: cannot read _PyRuntime of process {pid}")
        offsets = offsets_from_debug(raw, major_minor)
    elif major_minor in table:
        offsets = table[major_minor]
    else:
        raise Unsupported(f"{label} is not supported (Python frames need {SUPPORTED})")
    check_frame_layout(offsets)
    return PyProc(pid, binary, version, offsets, runtime, base + binary.symbols["PyCode_Type"],
                  base + binary.symbols["PyUnicode_Type"], base + binary.symbols["PyBytes_Type"], identity)


# ----------------------------------------------------------------------------------- code objects

def _varint(data: bytes, i: int) -> Tuple[int, int]:
    b = data[i]
    i += 1
    val, shift = b & 63, 6
    while b & 64:
        b = data[i]
        i += 1
        val |= (b & 63) << shift
        shift += 6
    return val, i


def _svarint(data: bytes, i: int) -> Tuple[int, int]:
    val, i = _varint(data, i)
    return (-(val >> 1) if val & 1 else val >> 1), i


def line_ranges(linetable: bytes, firstlineno: int) -> List[Tuple[int, int]]:
    """(end byte offset, line) per entry of a 3.11+ location table (``co_linetable``); line -1
    where an instruction has no location."""
    out: List[Tuple[int, int]] = []
    line, addr, i, n = firstlineno, 0, 0, len(linetable)
    try:
        while i < n:
            first = linetable[i]
            i += 1
            code = (first >> 3) & 15
            addr += ((first & 7) + 1) * 2
            if code == 15:            # no location
                out.append((addr, -1))
                continue
            if code == 14:            # long form: line delta, end line, start and end column
                delta, i = _svarint(linetable, i)
                _, i = _varint(linetable, i)
                _, i = _varint(linetable, i)
                _, i = _varint(linetable, i)
            elif code == 13:          # no column
                delta, i = _svarint(linetable, i)
            elif code >= 10:          # one-line forms: the line delta is in the code
                delta = code - 10
                i += 2
            else:                     # short form: same line, one byte of columns
                delta = 0
                i += 1
            line += delta
            out.append((addr, line))
    except IndexError:
        pass
    return out


def addr_to_line(ranges: Sequence[Tuple[int, int]], offset: int, firstlineno: int) -> int:
    """The line of the instruction at byte ``offset`` (``PyCode_Addr2Line``)."""
    if offset < 0:
        return firstlineno
    for end, line in ranges:
        if offset < end:
            return line if line >= 0 else firstlineno
    return firstlineno


class CodeInfo(NamedTuple):
    identity: Tuple
    qualname: str
    filename: str
    firstlineno: int
    ranges: Tuple[Tuple[int, int], ...]


class CodeResolver:
    """Code object address -> (qualified name, file, line), per process, cached and re-checked."""

    def __init__(self, max_entries: int = 50000) -> None:
        self._cache: Dict[Tuple[int, int], CodeInfo] = {}
        self.max_entries = max_entries  # a bound on memory (a few hundred bytes per entry)
        self.reads = 0        # code objects read (cache misses)
        self.rejected = 0     # addresses that did not hold a code object

    def forget(self, pid: int) -> None:
        for key in [k for k in self._cache if k[0] == pid]:
            del self._cache[key]

    def __len__(self) -> int:
        return len(self._cache)

    def resolve(self, proc: PyProc, frames: Sequence[Tuple[int, int, int]], mem_fd: Optional[int] = None,
                checked: Optional[Dict[int, Optional[CodeInfo]]] = None) -> List[Tuple[Frame, bool]]:
        """(code address, byte offset, flags) innermost first -> [(Frame, is_entry)]. ``checked``
        holds the code objects already validated in this round (one memory read per object per
        round)."""
        own_fd = mem_fd is None
        if own_fd:
            try:
                mem_fd = os.open(f"/proc/{proc.pid}/mem", os.O_RDONLY | os.O_CLOEXEC)
            except OSError:
                return [(UNREADABLE, bool(fl & PY_FRAME_ENTRY)) for _, _, fl in frames]
        checked = {} if checked is None else checked
        out = []
        try:
            for code, offset, flags in frames:
                if code not in checked:
                    checked[code] = self._code(proc, code, mem_fd)
                info = checked[code]
                entry = bool(flags & PY_FRAME_ENTRY)
                if info is None:
                    out.append((NOT_CODE, entry))
                    continue
                line = addr_to_line(info.ranges, offset, info.firstlineno)
                out.append((Frame(info.qualname, info.filename, KIND_PYTHON, line), entry))
        finally:
            if own_fd:
                os.close(mem_fd)
        return out

    def _code(self, proc: PyProc, addr: int, fd: int) -> Optional[CodeInfo]:
        o = proc.offsets
        if not addr:
            return None
        head = _pread(fd, addr, o.code_linetable + 8)
        if head is None:
            return None
        ptr = lambda off: struct.unpack_from("<Q", head, off)[0]  # noqa: E731
        ob_type = ptr(8)
        if ob_type != proc.code_type:
            self.rejected += 1
            return None
        identity = (ob_type, ptr(o.code_name), ptr(o.code_qualname), ptr(o.code_filename),
                    ptr(o.code_linetable), struct.unpack_from("<i", head, o.code_firstlineno)[0])
        key = (proc.pid, addr)
        cached = self._cache.get(key)
        if cached is not None and cached.identity == identity:
            return cached
        self.reads += 1
        qualname = self._str(proc, fd, identity[2]) or self._str(proc, fd, identity[1])
        filename = self._str(proc, fd, identity[3])
        linetable = self._bytes(proc, fd, identity[4])
        if qualname is None or filename is None:
            self.rejected += 1
            return None
        firstlineno = identity[5]
        info = CodeInfo(identity, qualname, filename, firstlineno,
                        tuple(line_ranges(linetable or b"", firstlineno)))
        if len(self._cache) >= self.max_entries:  # drop the older half (insertion order)
            for old in list(self._cache)[:len(self._cache) // 2 + 1]:
                del self._cache[old]
        self._cache[key] = info
        return info

    @staticmethod
    def _str(proc: PyProc, fd: int, addr: int, limit: int = 4096) -> Optional[str]:
        o = proc.offsets
        head = _pread(fd, addr, o.unicode_compact_size) if addr else None
        if head is None or struct.unpack_from("<Q", head, 8)[0] != proc.unicode_type:
            return None
        length = struct.unpack_from("<q", head, o.unicode_length)[0]
        state = struct.unpack_from("<I", head, o.unicode_state)[0]
        kind, compact, ascii_ = state >> 2 & 7, state >> 5 & 1, state >> 6 & 1
        if not compact or kind not in (1, 2, 4) or not 0 <= length <= limit:
            return None
        start = addr + (o.unicode_ascii_size if ascii_ else o.unicode_compact_size)
        data = _pread(fd, start, length * kind) if length else b""
        if data is None:
            return None
        codec = {1: "latin-1", 2: "utf-16-le", 4: "utf-32-le"}[kind]
        try:
            return data.decode(codec)
        except UnicodeDecodeError:
            return None

    @staticmethod
    def _bytes(proc: PyProc, fd: int, addr: int, limit: int = 1 << 20) -> Optional[bytes]:
        o = proc.offsets
        head = _pread(fd, addr, o.bytes_data) if addr else None
        if head is None or struct.unpack_from("<Q", head, 8)[0] != proc.bytes_type:
            return None
        size = struct.unpack_from("<q", head, o.bytes_size)[0]
        if not 0 <= size <= limit:
            return None
        return _pread(fd, addr + o.bytes_data, size) if size else b""


def _pread(fd: int, addr: int, size: int) -> Optional[bytes]:
    try:
        data = os.pread(fd, size, addr)
    except OSError:
        return None
    return data if len(data) == size else None


# ----------------------------------------------------------------------------------- merging

def record_frames(proc: "PyProc", record, max_depth: int) -> List[Tuple[int, int, int]]:
    """A BPF ``struct py_stack`` as (code address, byte offset, PY_FRAME_ENTRY or 0), innermost
    first: the entry shims of 3.12+ (owner FRAME_OWNED_BY_CSTACK) are dropped, and the frame above
    each is marked as the first of its eval loop call (what is_entry says in 3.11)."""
    shims = proc.offsets.frame_entry < 0
    out: List[Tuple[int, int, int]] = []
    for j in range(min(int(record.depth), max_depth)):
        f = record.frames[j]
        if shims and f.owner == PY_OWNED_BY_CSTACK:
            if out:
                out[-1] = (out[-1][0], out[-1][1], PY_FRAME_ENTRY)
            continue
        out.append((int(f.code), int(f.offset), PY_FRAME_ENTRY if f.is_entry else 0))
    return out


def merge(native: Sequence[Frame], python: Sequence[Tuple[Frame, bool]], frame_pointers: bool,
          flags: int = 0) -> List[Frame]:
    """One user stack, innermost first, from the native frames (innermost first) and the Python
    frames (innermost first, each with its entry flag)."""
    segments: List[List[Frame]] = [[]]
    for frame, entry in python:
        segments[-1].append(frame)
        if entry:
            segments.append([])
    if not segments[-1]:
        segments.pop()
    tail = []
    if flags & PY_STACK_READ_ERROR:
        tail.append(UNREADABLE)
    elif flags & PY_STACK_TRUNCATED:
        tail.append(TRUNCATED)
    out: List[Frame] = []
    if frame_pointers:
        i = 0
        for f in native:
            if f.name == EVAL_FUNCTION and i < len(segments):
                out.extend(segments[i])
                i += 1
            else:
                out.append(f)
        for seg in segments[i:]:  # the native unwind stopped early: the rest is the outermost part
            out.extend(seg)
    else:
        # without frame pointers only the native leaf is right: keep it unless it is the eval loop
        if native and native[0].name != EVAL_FUNCTION and native[0].kind != KIND_MISSING:
            out.append(native[0])
        for seg in segments:
            out.extend(seg)
    return out + tail


@dataclass
class PythonState:
    """What the profiler knows about CPython processes: recognised ones, unsupported ones (with the
    note to show), and those that are not CPython at all."""

    procs: Dict[int, PyProc] = field(default_factory=dict)
    unsupported: Dict[int, Tuple[Tuple, str]] = field(default_factory=dict)
    other: Dict[int, Tuple] = field(default_factory=dict)
    notes: Dict[Tuple[int, str], str] = field(default_factory=dict)
