"""Symbolization: kernel addresses through /proc/kallsyms, user addresses through
/proc/PID/maps and the ELF files' symbol tables (pyelftools: ``.symtab``, then ``.dynsym``).

Memory is kept small on purpose (the profiler's budget is 50 MB with symbolization):

- kallsyms is read lazily, on the first kernel address, into compact arrays: one ``array('Q')``
  of addresses, one bytes blob of names and an ``array('I')`` of offsets into it (about 4 MB for
  120k symbols, against 25 MB as a list of tuples);
- ELF symbol tables are loaded once per file, cached by build-id (or by device, inode and mtime
  when a file has none), and kept as sorted arrays plus one list of names;
- a process's executable mappings are snapshotted when it is first seen (and again when an
  address falls outside the snapshot), so a process that exits later is still symbolized.
"""

from __future__ import annotations

import bisect
import os
import struct
from array import array
from typing import Dict, Iterable, List, NamedTuple, Optional, Sequence, Tuple

KIND_USER = "user"
KIND_KERNEL = "kernel"
KIND_MISSING = "missing"


class Frame(NamedTuple):
    name: str
    module: str  # file base name for user frames, "[kernel]" for kernel frames, the source file
                 # for Python frames
    kind: str    # KIND_USER, KIND_KERNEL, KIND_MISSING or "python" (ebpf.python.KIND_PYTHON)
    line: int = 0  # Python frames: the line being run


MISSING_USER = Frame("[missing user stack]", "", KIND_MISSING)
MISSING_KERNEL = Frame("[missing kernel stack]", "", KIND_MISSING)


# ----------------------------------------------------------------------------------- kernel

class KernelSymbols:
    """Text symbols of /proc/kallsyms, loaded on first use into compact arrays."""

    TEXT_TYPES = frozenset("tTwW")

    def __init__(self, path: str = "/proc/kallsyms") -> None:
        self.path = path
        self._addrs: Optional[array] = None
        self._offsets = array("I")
        self._blob = b""
        self.restricted = False  # addresses read as zero (kptr_restrict, no CAP_SYSLOG)

    def _load(self) -> None:
        addrs = array("Q")
        offsets = array("I")
        blob = bytearray()
        ordered = True
        last = 0
        with open(self.path, "rb") as fh:
            for line in fh:
                parts = line.split(None, 3)
                if len(parts) < 3 or parts[1].decode("ascii", "replace") not in self.TEXT_TYPES:
                    continue
                addr = int(parts[0], 16)
                if addr < last:
                    ordered = False
                last = addr
                addrs.append(addr)
                offsets.append(len(blob))
                blob += parts[2]
        offsets.append(len(blob))
        self.restricted = len(addrs) == 0 or not any(addrs[i] for i in range(0, len(addrs), max(1, len(addrs) // 64)))
        if not ordered:
            order = sorted(range(len(addrs)), key=addrs.__getitem__)
            new_addrs, new_offsets, new_blob = array("Q"), array("I"), bytearray()
            for i in order:
                new_addrs.append(addrs[i])
                new_offsets.append(len(new_blob))
                new_blob += blob[offsets[i]:offsets[i + 1]]
            new_offsets.append(len(new_blob))
            addrs, offsets, blob = new_addrs, new_offsets, new_blob
        self._addrs, self._offsets, self._blob = addrs, offsets, bytes(blob)

    def __len__(self) -> int:
        if self._addrs is None:
            self._load()
        return len(self._addrs)

    def name(self, addr: int) -> str:
        """The function containing ``addr``; "[kernel]" when kallsyms cannot tell."""
        if self._addrs is None:
            self._load()
        if self.restricted:
            return "[kernel]"
        i = bisect.bisect_right(self._addrs, addr) - 1
        if i < 0:
            return "[kernel]"
        return self._blob[self._offsets[i]:self._offsets[i + 1]].decode("utf-8", "replace")

    def frames(self, addrs: Iterable[int]) -> List[Frame]:
        return [Frame(self.name(a), "[kernel]", KIND_KERNEL) for a in addrs]


# ----------------------------------------------------------------------------------- /proc/PID/maps

class Mapping(NamedTuple):
    start: int
    end: int
    perms: str
    offset: int
    inode: int
    path: str


def parse_maps(text: str) -> List[Mapping]:
    """Parse /proc/PID/maps text; paths may contain spaces (and " (deleted)")."""
    out = []
    for line in text.splitlines():
        parts = line.split(None, 5)
        if len(parts) < 5:
            continue
        lo, _, hi = parts[0].partition("-")
        path = parts[5].strip() if len(parts) > 5 else ""
        out.append(Mapping(int(lo, 16), int(hi, 16), parts[1], int(parts[2], 16), int(parts[4]), path))
    return out


def read_maps(pid: int) -> Optional[List[Mapping]]:
    """Executable mappings of a live process, or None when it is gone or unreadable."""
    try:
        with open(f"/proc/{pid}/maps") as fh:
            text = fh.read()
    except OSError:
        return None
    maps = [m for m in parse_maps(text) if "x" in m.perms]
    return maps or None  # a zombie's maps are empty: as good as gone


# ----------------------------------------------------------------------------------- ELF

def _build_id(elf) -> Optional[str]:
    for sec in elf.iter_sections():
        if sec["sh_type"] != "SHT_NOTE":
            continue
        for note in sec.iter_notes():
            if note["n_type"] == "NT_GNU_BUILD_ID":
                return note["n_desc"]
    return None


_STT_FUNC, _STT_GNU_IFUNC = 2, 10


def _function_symbols(data: bytes, strtab: bytes, elfclass: int, little: bool) -> List[Tuple[int, int, str]]:
    """(value, size, name) of the defined function symbols in a raw symbol table. Parsed with
    struct rather than pyelftools' per-symbol objects: about 20x faster on a 10k-symbol table."""
    end = "<" if little else ">"
    if elfclass == 64:
        fmt = struct.Struct(end + "IBBHQQ")  # Elf64_Sym: name, info, other, shndx, value, size

        def fields(t):
            return t[0], t[1], t[3], t[4], t[5]
    else:
        fmt = struct.Struct(end + "IIIBBH")  # Elf32_Sym: name, value, size, info, other, shndx

        def fields(t):
            return t[0], t[3], t[5], t[1], t[2]
    out = []
    usable = len(data) - len(data) % fmt.size
    for raw in fmt.iter_unpack(data[:usable]):
        name_off, info, shndx, value, size = fields(raw)
        if (info & 0xF) not in (_STT_FUNC, _STT_GNU_IFUNC) or not value or shndx == 0:
            continue
        stop = strtab.find(b"\0", name_off)
        out.append((value, size, strtab[name_off:stop if stop >= 0 else len(strtab)].decode("utf-8", "replace")))
    return out


class ElfSymbols:
    """Function symbols of one ELF file (``.symtab``, else ``.dynsym``) and its PT_LOAD segments."""

    def __init__(self, path: str) -> None:
        from elftools.elf.elffile import ELFFile

        self.path = path
        starts: List[Tuple[int, int, str]] = []
        with open(path, "rb") as fh:
            elf = ELFFile(fh)
            self.build_id = _build_id(elf)
            self.segments = [(seg["p_offset"], seg["p_vaddr"], seg["p_filesz"])
                             for seg in elf.iter_segments() if seg["p_type"] == "PT_LOAD"]
            self.table = None
            for name in (".symtab", ".dynsym"):
                sec = elf.get_section_by_name(name)
                if sec is None or sec["sh_type"] not in ("SHT_SYMTAB", "SHT_DYNSYM"):
                    continue
                strtab = elf.get_section(sec["sh_link"]).data()
                starts.extend(_function_symbols(sec.data(), strtab, elf.elfclass, elf.little_endian))
                if starts:
                    self.table = name
                    break
        starts.sort()
        self._starts = array("Q", (s for s, _, _ in starts))
        self._ends = array("Q")
        for i, (s, size, _) in enumerate(starts):
            nxt = starts[i + 1][0] if i + 1 < len(starts) else s + max(size, 1)
            self._ends.append(s + size if size else max(nxt, s + 1))
        self._names = [n for _, _, n in starts]

    def __len__(self) -> int:
        return len(self._names)

    def vaddr(self, file_offset: int) -> Optional[int]:
        """The link-time virtual address of a file offset (through the PT_LOAD segments)."""
        for off, vaddr, filesz in self.segments:
            if off <= file_offset < off + filesz:
                return file_offset - off + vaddr
        return None

    def name(self, vaddr: int) -> Optional[str]:
        i = bisect.bisect_right(self._starts, vaddr) - 1
        if i >= 0 and vaddr < self._ends[i]:
            return self._names[i]
        return None


# ----------------------------------------------------------------------------------- user

class Symbolizer:
    """Resolves kernel and user addresses to frames; keeps snapshots of processes' mappings."""

    def __init__(self, kallsyms: str = "/proc/kallsyms") -> None:
        self.kernel = KernelSymbols(kallsyms)
        self._procs: Dict[int, List[Mapping]] = {}
        self._elf_by_file: Dict[Tuple, Optional[ElfSymbols]] = {}
        self._elf_by_build_id: Dict[str, ElfSymbols] = {}
        self.files_loaded = 0  # ELF files read (a hint to release the memory their parsing used)

    # processes --------------------------------------------------------------------------
    def note_process(self, pid: int, addrs: Sequence[int] = ()) -> None:
        """Snapshot ``pid``'s mappings when first seen, or again if ``addrs`` fall outside them."""
        maps = self._procs.get(pid)
        if maps is None or not all(self._find(maps, a) is not None for a in addrs):
            fresh = read_maps(pid)
            if fresh is not None:
                self._procs[pid] = maps = fresh
        hit = {id(m): m for m in (self._find(maps or [], a) for a in addrs) if m is not None}
        for m in hit.values():  # read the files hit while the process (and /proc/PID/root) exists
            if m.path.startswith("/"):
                self._elf_for(pid, m)

    def set_maps(self, pid: int, maps: List[Mapping]) -> None:
        self._procs[pid] = [m for m in maps if "x" in m.perms]

    def forget_process(self, pid: int) -> None:
        self._procs.pop(pid, None)

    @staticmethod
    def _find(maps: List[Mapping], addr: int) -> Optional[Mapping]:
        for m in maps:
            if m.start <= addr < m.end:
                return m
        return None

    def _elf_for(self, pid: int, m: Mapping) -> Optional[ElfSymbols]:
        path = m.path[:-len(" (deleted)")] if m.path.endswith(" (deleted)") else m.path
        candidates = [f"/proc/{pid}/root{path}", path]
        for cand in candidates:
            try:
                st = os.stat(cand)
            except OSError:
                continue
            key = (st.st_dev, st.st_ino, st.st_mtime_ns, st.st_size)
            if key in self._elf_by_file:
                self._elf_by_file[path] = self._elf_by_file[key]
                return self._elf_by_file[key]
            self.files_loaded += 1
            try:
                elf = ElfSymbols(cand)
            except Exception:
                elf = None
            if elf is not None and elf.build_id:
                elf = self._elf_by_build_id.setdefault(elf.build_id, elf)
            self._elf_by_file[key] = elf
            self._elf_by_file[path] = elf
            return elf
        return self._elf_by_file.get(path)

    # frames -----------------------------------------------------------------------------
    def user_frame(self, pid: int, addr: int) -> Frame:
        maps = self._procs.get(pid)
        if maps is None:
            self.note_process(pid, (addr,))
            maps = self._procs.get(pid)
        m = self._find(maps or [], addr)
        if m is None:
            return Frame("[unknown]", "", KIND_USER)
        if not m.path.startswith("/"):
            label = m.path or "[anon]"
            return Frame(label, label, KIND_USER)
        module = os.path.basename(m.path.replace(" (deleted)", ""))
        file_offset = addr - m.start + m.offset
        elf = self._elf_for(pid, m)
        if elf is not None:
            vaddr = elf.vaddr(file_offset)
            if vaddr is not None:
                name = elf.name(vaddr)
                if name:
                    return Frame(name, module, KIND_USER)
        return Frame(f"{module}+0x{file_offset:x}", module, KIND_USER)

    def user_frames(self, pid: int, addrs: Sequence[int]) -> List[Frame]:
        return [self.user_frame(pid, a) for a in addrs]

    def kernel_frames(self, addrs: Sequence[int]) -> List[Frame]:
        return self.kernel.frames(addrs)

    def cache_info(self) -> dict:
        return {"processes": len(self._procs), "elf_files": len(self._elf_by_build_id) + sum(
            1 for e in self._elf_by_file.values() if e is not None and not e.build_id)}
