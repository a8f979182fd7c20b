"""The committed BPF object is what its source builds to, and it has the expected shape."""

from __future__ import annotations

import shutil
from importlib import resources

import pytest
from elftools.elf.elffile import ELFFile

from ebpf import build


def _sections(path):
    with open(path, "rb") as fh:
        elf = ELFFile(fh)
        return {s.name: s.data() for s in elf.iter_sections() if s.name}


def test_object_shape():
    secs = _sections(build.OBJECT)
    assert "perf_event" in secs and secs["perf_event"], "the perf_event program is missing"
    assert ".BTF" in secs and ".BTF.ext" in secs, "CO-RE needs .BTF and .BTF.ext"
    assert not any(name.startswith(".debug") for name in secs), "the object must be stripped (-g)"
    assert b"do_sample" in secs[".strtab"]
    for map_name in (b"stacks", b"counts", b"counters", b"py_procs", b"py_threads", b"py_stacks", b"py_scratch"):
        assert map_name in secs[".strtab"]
    assert secs["license"].rstrip(b"\0") == b"Dual BSD/GPL"


def lib_const(name):
    from ebpf import _libbpf

    return getattr(_libbpf.ffi.dlopen(None), name)


def test_header_is_the_cdef():
    from ebpf import _libbpf

    text = resources.files("ebpf").joinpath("bpf/profile.h").read_text()
    cdef = _libbpf.shared_cdef(text)
    assert "struct profile_key" in cdef and "#ifndef" not in cdef
    ffi = _libbpf.ffi
    # the key layout the BPF side hashes on: 6 x 4 bytes and the 16-byte comm
    assert ffi.sizeof("struct profile_key") == 40
    assert ffi.offsetof("struct profile_key", "comm") == 24
    assert ffi.sizeof("struct profile_config") == 16
    # the Python frame record: 16 bytes per frame, and the walk's masked field reads stay in bounds
    assert ffi.sizeof("struct py_frame") == 16
    assert ffi.sizeof("struct py_stack") == 16 + 16 * lib_const("PY_MAX_DEPTH")
    assert lib_const("PY_MAX_DEPTH") & (lib_const("PY_MAX_DEPTH") - 1) == 0, "a power of two (index mask)"
    assert lib_const("PY_FRAME_READ") <= 128


def test_rebuild_gives_identical_object(tmp_path):
    missing = build.missing_tools()
    if missing:
        pytest.skip(f"the BPF toolchain is not installed: {', '.join(missing)} (apt-get install clang llvm bpftool)")
    if not shutil.os.path.exists(build.VMLINUX_BTF):
        pytest.skip("kernel has no BTF to generate vmlinux.h from")
    out = build.build(tmp_path / "profile.bpf.o")
    fresh, shipped = out.read_bytes(), build.OBJECT.read_bytes()
    if fresh != shipped:
        # Not byte-identical (another clang or kernel): programs, maps and BTF must still agree.
        a, b = _sections(out), _sections(build.OBJECT)
        for name in ("perf_event", ".maps", ".rodata", "license", ".BTF", ".BTF.ext"):
            assert a.get(name) == b.get(name), f"section {name} differs: rebuild with python -m ebpf.build"
