"""Symbolization without BPF: kallsyms fixtures, /proc/PID/maps parsing, real ELF files."""

from __future__ import annotations

import ctypes
import errno
import os
import shutil
import subprocess

import pytest
from elftools.elf.elffile import ELFFile

from conftest import start_target

from ebpf.profiler import Profiler, online_cpus, _kernel_version
from ebpf.symbolize import (KIND_KERNEL, KIND_MISSING, MISSING_KERNEL, MISSING_USER, ElfSymbols, Frame,
                            KernelSymbols, Symbolizer, parse_maps)

KALLSYMS = """\
ffffffff81000000 T _stext
ffffffff81000100 t do_one_initcall
ffffffff81002000 D some_data
ffffffff81001000 T entry_SYSCALL_64
ffffffff81001800 W weak_fn
ffffffff81003000 b bss_thing
ffffffffc0000000 t mod_fn\t[somemod]
"""


@pytest.fixture
def kallsyms(tmp_path):
    p = tmp_path / "kallsyms"
    p.write_text(KALLSYMS)
    return str(p)


def test_kallsyms_text_symbols_only_and_unsorted_input(kallsyms):
    k = KernelSymbols(kallsyms)
    assert len(k) == 5  # T, t, T, W, t (module); D and b are not text
    assert k.name(0xFFFFFFFF81000000) == "_stext"
    assert k.name(0xFFFFFFFF810000FF) == "_stext"
    assert k.name(0xFFFFFFFF81000150) == "do_one_initcall"
    assert k.name(0xFFFFFFFF81001234) == "entry_SYSCALL_64"  # input order was not sorted
    assert k.name(0xFFFFFFFF81001900) == "weak_fn"
    assert k.name(0xFFFFFFFF81002100) == "weak_fn"  # data symbols do not end text symbols
    assert k.name(0xFFFFFFFFC0000010) == "mod_fn"
    assert k.name(0x1000) == "[kernel]"
    assert not k.restricted


def test_kallsyms_restricted(tmp_path):
    p = tmp_path / "kallsyms"
    p.write_text("0000000000000000 T _stext\n0000000000000000 T foo\n")
    k = KernelSymbols(str(p))
    assert k.name(0xFFFFFFFF81000000) == "[kernel]" and k.restricted


def test_kallsyms_is_lazy(tmp_path):
    k = KernelSymbols(str(tmp_path / "does-not-exist"))  # nothing read yet
    with pytest.raises(OSError):
        k.name(1)


def test_real_kallsyms_if_readable():
    k = KernelSymbols()
    frames = k.frames([0])
    assert frames == [Frame("[kernel]", "[kernel]", KIND_KERNEL)]
    assert len(k) > 1000


MAPS = """\
55cc929c8000-55cc929c9000 r--p 00000000 fe:00 26723                      /usr/bin/prog
55cc929c9000-55cc929ca000 r-xp 00001000 fe:00 26723                      /usr/bin/prog
7f0000000000-7f0000021000 rw-p 00000000 00:00 0 
7f1000000000-7f1000100000 r-xp 00028000 fe:00 339380                     /opt/my dir/lib with space.so
7f2000000000-7f2000010000 r-xp 00000000 fe:00 1234                       /tmp/gone.so (deleted)
7ffd0000000-7ffd0002000 r-xp 00000000 00:00 0                          [vdso]
"""


def test_parse_maps():
    maps = parse_maps(MAPS)
    assert len(maps) == 6
    assert maps[1].start == 0x55CC929C9000 and maps[1].end == 0x55CC929CA000
    assert maps[1].perms == "r-xp" and maps[1].offset == 0x1000 and maps[1].inode == 26723
    assert maps[2].path == ""
    assert maps[3].path == "/opt/my dir/lib with space.so"
    assert maps[4].path == "/tmp/gone.so (deleted)"
    assert maps[5].path == "[vdso]"


def test_symbolizer_special_mappings():
    sym = Symbolizer()
    sym.set_maps(999999999, parse_maps(MAPS))
    assert sym.user_frame(999999999, 0x7FFD0000010).name == "[vdso]"
    assert sym.user_frame(999999999, 0x1).name == "[unknown]"
    # a file that cannot be read: module+file offset
    f = sym.user_frame(999999999, 0x7F1000000010)
    assert f.name == "lib with space.so+0x28010" and f.module == "lib with space.so"


def _symbols_by_oracle(path):
    """All function symbols of a file through pyelftools' own objects: the oracle."""
    out = {}
    with open(path, "rb") as fh:
        elf = ELFFile(fh)
        for secname in (".symtab", ".dynsym"):
            sec = elf.get_section_by_name(secname)
            if sec is None:
                continue
            names = {}
            for s in sec.iter_symbols():
                func = s["st_info"]["type"] in ("STT_FUNC", "STT_GNU_IFUNC")
                if func and s["st_value"] and s["st_shndx"] != "SHN_UNDEF":
                    names.setdefault(s["st_value"], set()).add(s.name)
            if names:
                return secname, names
    return None, out


def test_elf_symbols_libc_dynsym_matches_pyelftools():
    libc = ctypes.CDLL(None)
    path = os.path.realpath([m.path for m in parse_maps(open("/proc/self/maps").read()) if "libc.so" in m.path][0])
    elf = ElfSymbols(path)
    table, oracle = _symbols_by_oracle(path)
    assert elf.table == table and len(oracle) > 500
    for value, names in list(oracle.items())[:: max(1, len(oracle) // 200)]:
        assert elf.name(value) in names
    assert elf.build_id and len(elf.build_id) == 40
    # and through the live process: libc's getppid, at its runtime address, resolves by name
    addr = ctypes.cast(libc.getppid, ctypes.c_void_p).value
    sym = Symbolizer()
    sym.note_process(os.getpid(), [addr])
    frame = sym.user_frame(os.getpid(), addr)
    assert frame.module.startswith("libc") and "getppid" in frame.name


@pytest.fixture(scope="module")
def small_elf(tmp_path_factory):
    cc = shutil.which("gcc") or shutil.which("cc")
    if cc is None:
        pytest.skip("no C compiler to build an ELF fixture")
    d = tmp_path_factory.mktemp("elf")
    src = d / "f.c"
    src.write_text("static int __attribute__((noinline)) local_fn(int x){return x*3+1;}\n"
                   "int __attribute__((noinline)) global_fn(int x){return local_fn(x)+2;}\n"
                   "int main(int c, char **v){return global_fn(c);}\n")
    out = {}
    for kind, flags in (("pie", ["-fPIE", "-pie"]), ("nopie", ["-fno-pie", "-no-pie"])):
        exe = d / f"f_{kind}"
        subprocess.run([cc, "-O1", *flags, "-o", str(exe), str(src)], check=True)
        out[kind] = str(exe)
    return out


@pytest.mark.parametrize("kind", ["pie", "nopie"])
def test_elf_symbols_symtab_locals(small_elf, kind):
    path = small_elf[kind]
    elf = ElfSymbols(path)
    assert elf.table == ".symtab"
    _, oracle = _symbols_by_oracle(path)
    by_name = {n: v for v, names in oracle.items() for n in names}
    for name in ("local_fn", "global_fn", "main"):
        assert elf.name(by_name[name]) == name
        assert elf.name(by_name[name] + 1) == name
    # file offset -> vaddr goes through the PT_LOAD segments
    for off, vaddr, filesz in elf.segments:
        if filesz:
            assert elf.vaddr(off) == vaddr and elf.vaddr(off + filesz - 1) == vaddr + filesz - 1


def test_user_frames_survive_process_exit(c_target_binary):
    proc = start_target([c_target_binary])
    try:
        maps = parse_maps(open(f"/proc/{proc.pid}/maps").read())
        exe = [m for m in maps if m.path == c_target_binary and "x" in m.perms][0]
        _, oracle = _symbols_by_oracle(c_target_binary)
        leaf = {n: v for v, names in oracle.items() for n in names}["leaf_fn"]
        elf = ElfSymbols(c_target_binary)
        # runtime address of leaf_fn: its file offset within the executable mapping
        seg = [s for s in elf.segments if s[1] <= leaf < s[1] + s[2]][0]
        file_off = leaf - seg[1] + seg[0]
        addr = exe.start + file_off - exe.offset
        sym = Symbolizer()
        sym.note_process(proc.pid, [addr])
    finally:
        proc.kill()
        proc.wait()
        proc.stdout.close()
    assert not os.path.exists(f"/proc/{proc.pid}/maps") or not open(f"/proc/{proc.pid}/maps").read()
    sym.note_process(proc.pid, [addr])  # gone now: the snapshot stays
    assert sym.user_frame(proc.pid, addr + 4) == Frame("leaf_fn", os.path.basename(c_target_binary), "user")


def test_negative_stack_ids_show_as_missing(kallsyms):
    prof = Profiler(pid=1, kallsyms=kallsyms)
    sym = prof.symbolizer
    sym.set_maps(4242, parse_maps(MAPS))
    agg = {
        (4242, 4243, "prog", errno.EEXIST, (0xFFFFFFFF81001010,)): 3,    # user stack lost to a collision
        (4242, 4243, "prog", (0x7FFD0000010,), errno.EFAULT): 5,         # user mode: no kernel stack
        (4242, 4243, "prog", (0x7FFD0000010,), errno.ENOENT): 2,         # kernel stack gone
    }
    samples = {s.count: s for s in prof._symbolize(agg)}
    assert samples[3].frames == (MISSING_USER, Frame("entry_SYSCALL_64", "[kernel]", KIND_KERNEL))
    assert samples[5].frames == (Frame("[vdso]", "[vdso]", "user"),)
    assert samples[2].frames == (Frame("[vdso]", "[vdso]", "user"), MISSING_KERNEL)
    assert MISSING_USER.kind == MISSING_KERNEL.kind == KIND_MISSING


def test_online_cpus_and_kernel_versions():
    assert online_cpus("0-3,5,7-8\n") == [0, 1, 2, 3, 5, 7, 8]
    assert online_cpus("0\n") == [0]
    assert online_cpus() and all(isinstance(c, int) for c in online_cpus())
    assert _kernel_version("6.18.44-fc-v782") == (6, 18)
    assert _kernel_version("5.4.0-150-generic") == (5, 4)
    assert _kernel_version("4.19") == (4, 19)
