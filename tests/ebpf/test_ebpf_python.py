"""Python-aware profiles: CPython frames walked in BPF, resolved in user space, merged with the
native and kernel frames. The BPF tests profile real interpreters: the one running the tests (CI:
pyenv CPython 3.11), Debian's /usr/bin/python3 (3.11), and other CPythons where installed."""

from __future__ import annotations

import dis
import gzip
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import textwrap
import time

import pytest

from conftest import open_fds, start_target
from pprof_schema import Profile as PprofMessage

import ebpf
from ebpf import python as pyframes
from ebpf.output import Profile, Sample, frame_label, parse_folded, to_folded, to_pprof, to_svg
from ebpf.symbolize import KIND_KERNEL, KIND_MISSING, KIND_USER, Frame

KNOWN_CHAIN = textwrap.dedent("""
    import sys

    def leaf(n):
        x = 0
        for i in range(n):
            x += i * i
        return x

    def middle(n):
        return leaf(n) + 1

    def outer(n):
        return middle(n) + 2

    sys.stdout.write("ready\\n"); sys.stdout.flush()
    while True:
        outer(20000)
""")

THREADS = textwrap.dedent("""
    import sys, threading

    def alpha_leaf():
        x = 0
        for i in range(5000):
            x += i * i
        return x

    def alpha_outer():
        while True:
            alpha_leaf()

    def beta_leaf():
        s = ""
        for i in range(300):
            s = s + "x"
        return s

    def beta_outer():
        while True:
            beta_leaf()

    t = threading.Thread(target=beta_outer, daemon=True)
    t.start()
    sys.stdout.write("ready\\n"); sys.stdout.flush()
    alpha_outer()
""")

PYENV = os.path.expanduser("~/.pyenv/versions")


def _pyenv(minor: str):
    if not os.path.isdir(PYENV):
        return None
    for v in sorted(os.listdir(PYENV), reverse=True):
        exe = os.path.join(PYENV, v, "bin", f"python{minor}")
        if v.startswith(minor + ".") and os.path.exists(exe):
            return exe
    return None


def _version_of(exe: str):
    out = subprocess.run([exe, "-c", "import sys; print(*sys.version_info[:2])"], capture_output=True, text=True)
    return tuple(int(x) for x in out.stdout.split()) if out.returncode == 0 else None


@pytest.fixture
def script(tmp_path):
    def write(text, name="chain_target.py"):
        path = tmp_path / name
        path.write_text(text)
        return str(path)
    return write


def _run_target(argv):
    proc = start_target(argv)
    return proc


def _stop(proc):
    proc.kill()
    proc.wait()
    proc.stdout.close()


def _profile(pid, seconds=2.0, **kw):
    fds = open_fds()
    with ebpf.Profiler(pid=pid, frequency=99, **kw) as prof:
        time.sleep(seconds)
        snap = prof.snapshot()
    assert open_fds() == fds, "file descriptors leaked"
    return snap, prof


def _assert_known_chain(snap, pid, file_name="chain_target.py"):
    samples = [s for s in snap.samples if s.pid == pid]  # the main thread (tid == pid)
    total = sum(s.count for s in samples)
    assert total >= 60, snap.overhead
    want = [f"outer ({file_name})", f"middle ({file_name})", f"leaf ({file_name})"]
    chain = ";".join(want)
    with_chain = sum(s.count for s in samples if chain in ";".join(frame_label(f) for f in s.frames))
    assert with_chain >= 0.8 * total, snap.folded()[:3000]
    assert chain in snap.folded()
    # the Python frames sit where the eval loop ran: under them only the native leaf (these
    # interpreters have no frame pointers) and kernel frames; the module's frame is the root
    for s in samples:
        if chain in ";".join(frame_label(f) for f in s.frames):
            labels = [frame_label(f) for f in s.frames]
            assert labels[0] == f"<module> ({file_name})", labels
            i = labels.index(want[-1])
            assert all(f.kind in (KIND_USER, KIND_KERNEL) for f in s.frames[i + 1:]), labels
            assert all(f.name != pyframes.EVAL_FUNCTION for f in s.frames), labels
    py = [f for s in samples for f in s.frames if f.kind == pyframes.KIND_PYTHON]
    assert all(f.module.endswith(file_name) and f.line > 0 for f in py)
    leaf_lines = {f.line for f in py if f.name == "leaf"}
    assert leaf_lines and leaf_lines <= {4, 5, 6, 7, 8}, leaf_lines  # lines of leaf()'s body
    assert snap.overhead.py_samples >= 0.8 * snap.overhead.samples and not snap.notes


# ----------------------------------------------------------------------------------- no BPF needed

def _sample_code():
    def sample(a, b):
        total = 0
        for i in range(a):
            if i % 3 == 0:
                total += b
            else:
                total -= 1
        try:
            return total / a
        except ZeroDivisionError:
            return None
    return sample.__code__


@pytest.mark.skipif(sys.version_info < (3, 11), reason="the 3.11+ location table")
def test_line_table_matches_the_interpreter():
    code = _sample_code()
    ranges = pyframes.line_ranges(code.co_linetable, code.co_firstlineno)
    checked = 0
    for start, end, line in code.co_lines():
        for off in range(start, end, 2):
            want = line if line is not None else code.co_firstlineno
            assert pyframes.addr_to_line(ranges, off, code.co_firstlineno) == want, (off, line)
            checked += 1
    assert checked > 20
    assert pyframes.addr_to_line(ranges, -2, code.co_firstlineno) == code.co_firstlineno
    lines = {i.positions.lineno for i in dis.get_instructions(code) if i.positions.lineno}
    assert len(lines) >= 6


@pytest.mark.skipif(sys.version_info < (3, 11) or sys.implementation.name != "cpython", reason="CPython 3.11+")
def test_detect_and_resolve_own_process():
    proc = pyframes.detect(os.getpid())
    assert proc is not None and proc.version[:2] == sys.version_info[:2]
    assert proc.offsets.source in ("table", "_Py_DebugOffsets")
    res = pyframes.CodeResolver()
    code = _sample_code()
    (frame, entry), = res.resolve(proc, [(id(code), 0, pyframes.PY_FRAME_ENTRY)])
    assert entry and frame.kind == pyframes.KIND_PYTHON
    assert frame.name == code.co_qualname and frame.module == code.co_filename
    assert frame.line == code.co_firstlineno
    assert res.reads == 1
    res.resolve(proc, [(id(code), 0, 0)])
    assert res.reads == 1, "the second lookup must come from the cache"
    # the cache is used only while the object's identity fields read the same: a code object
    # freed and replaced at the same address is resolved afresh
    key = (os.getpid(), id(code))
    res._cache[key] = res._cache[key]._replace(identity=(0,) * 6)
    res.resolve(proc, [(id(code), 0, 0)])
    assert res.reads == 2
    # not a code object: a marker, never a garbage name
    things = [[1, 2, 3], "text", 12345, object()]
    frames = res.resolve(proc, [(id(t), 0, 0) for t in things] + [(0, 0, 0), (8, 0, 0)])
    assert all(f is pyframes.NOT_CODE for f, _ in frames)
    res.forget(os.getpid())
    assert len(res) == 0
    # bounded: past max_entries the older half goes
    small = pyframes.CodeResolver(max_entries=4)
    codes = [compile(f"x = {i}", f"<gen{i}>", "exec") for i in range(9)]
    for c in codes:
        (f, _), = small.resolve(proc, [(id(c), 0, 0)])
        assert f.module == c.co_filename
    assert 0 < len(small) <= 4


@pytest.mark.skipif(sys.version_info[:2] not in pyframes.TABLE, reason="the running CPython has no table entry")
def test_offset_table_matches_the_headers(tmp_path):
    """Re-measure the table's offsets with offsetof() against this interpreter's internal headers."""
    include = sysconfig.get_paths()["include"]
    cc = shutil.which("gcc") or shutil.which("cc")
    if cc is None or not os.path.exists(os.path.join(include, "internal", "pycore_frame.h")):
        pytest.skip("needs a C compiler and CPython's internal headers")
    o = pyframes.TABLE[sys.version_info[:2]]
    fields = {
        "interp_head": "offsetof(_PyRuntimeState, interpreters.head)",
        "interp_next": "offsetof(PyInterpreterState, next)",
        "tstate_head": "offsetof(PyInterpreterState, threads.head)",
        "tstate_next": "offsetof(PyThreadState, next)",
        "tstate_native_tid": "offsetof(PyThreadState, native_thread_id)",
        "tstate_frame": "offsetof(PyThreadState, cframe)",
        "cframe_frame": "offsetof(_PyCFrame, current_frame)",
        "frame_code": "offsetof(_PyInterpreterFrame, f_code)",
        "frame_previous": "offsetof(_PyInterpreterFrame, previous)",
        "frame_instr": "offsetof(_PyInterpreterFrame, prev_instr)",
        "frame_owner": "offsetof(_PyInterpreterFrame, owner)",
        "code_filename": "offsetof(PyCodeObject, co_filename)",
        "code_name": "offsetof(PyCodeObject, co_name)",
        "code_qualname": "offsetof(PyCodeObject, co_qualname)",
        "code_firstlineno": "offsetof(PyCodeObject, co_firstlineno)",
        "code_linetable": "offsetof(PyCodeObject, co_linetable)",
        "code_adaptive": "offsetof(PyCodeObject, co_code_adaptive)",
        "bytes_size": "offsetof(PyVarObject, ob_size)",
        "bytes_data": "offsetof(PyBytesObject, ob_sval)",
        "unicode_state": "offsetof(PyASCIIObject, state)",
        "unicode_length": "offsetof(PyASCIIObject, length)",
        "unicode_ascii_size": "sizeof(PyASCIIObject)",
        "unicode_compact_size": "sizeof(PyCompactUnicodeObject)",
    }
    if o.frame_entry >= 0:
        fields["frame_entry"] = "offsetof(_PyInterpreterFrame, is_entry)"
    body = "\n".join(f'    printf("{k} %zu\\n", (size_t){v});' for k, v in fields.items())
    src = tmp_path / "offsets.c"
    src.write_text("#define Py_BUILD_CORE 1\n#include <Python.h>\n#include <stddef.h>\n#include <stdio.h>\n"
                   "#include <internal/pycore_runtime.h>\n#include <internal/pycore_interp.h>\n"
                   "#include <internal/pycore_frame.h>\n#include <internal/pycore_code.h>\n"
                   f"int main(void) {{\n{body}\n    return 0;\n}}\n")
    exe = tmp_path / "offsets"
    build = subprocess.run([cc, f"-I{include}", f"-I{os.path.join(include, 'internal')}",
                            f"-I{sysconfig.get_paths()['platinclude']}", "-o", str(exe), str(src)],
                           capture_output=True, text=True)
    assert build.returncode == 0, build.stderr[-2000:]
    measured = dict(line.split() for line in subprocess.run([str(exe)], capture_output=True, text=True,
                                                            check=True).stdout.splitlines())
    for k, v in measured.items():
        assert getattr(o, k) == int(v), f"{k}: table {getattr(o, k)}, headers {v}"
    assert o.frame_code % 8 == 0 and o.frame_previous % 8 == 0 and o.frame_instr % 8 == 0
    assert max(o.frame_code, o.frame_previous, o.frame_instr) + 8 <= pyframes.PY_FRAME_READ


def test_debug_offsets_parser_rejects_what_it_does_not_know():
    with pytest.raises(pyframes.Unsupported, match="3.14"):
        pyframes.offsets_from_debug(b"\0" * 1024, (3, 14))
    with pytest.raises(pyframes.Unsupported, match="cookie"):
        pyframes.offsets_from_debug(b"\0" * 1024, (3, 13))


def test_frame_layouts_fit_the_bpf_walk():
    for o in pyframes.TABLE.values():
        pyframes.check_frame_layout(o)
    bad = pyframes.TABLE[(3, 11)].__class__(**{**pyframes.TABLE[(3, 11)].__dict__, "frame_instr": 60})
    with pytest.raises(pyframes.Unsupported, match="frame_instr"):
        pyframes.check_frame_layout(bad)


def test_merge_without_and_with_frame_pointers():
    u = lambda n: Frame(n, "libpython3.11.so.1.0", KIND_USER)  # noqa: E731
    p = lambda n: Frame(n, "/app/x.py", pyframes.KIND_PYTHON, 3)  # noqa: E731
    ev = u(pyframes.EVAL_FUNCTION)
    # innermost first: leaf() called middle() called outer(), in one eval loop call; then a C
    # function (builtin) called back into Python: callback() is the first frame of a second call
    py = [(p("callback"), True), (p("leaf"), False), (p("middle"), False), (p("outer"), True)]
    # no frame pointers: the native leaf, then every Python frame; nothing else of the native walk
    native = [u("PyLong_Add"), u("garbage1"), ev, u("garbage2")]
    got = pyframes.merge(native, py, frame_pointers=False)
    assert [f.name for f in got] == ["PyLong_Add", "callback", "leaf", "middle", "outer"]
    got = pyframes.merge([ev, u("garbage")], py, frame_pointers=False)
    assert [f.name for f in got] == ["callback", "leaf", "middle", "outer"]
    # frame pointers: each native eval frame is replaced by its run of Python frames
    native = [u("PyLong_Add"), ev, u("builtin_map"), ev, u("Py_RunMain"), u("main")]
    got = pyframes.merge(native, py, frame_pointers=True)
    assert [f.name for f in got] == ["PyLong_Add", "callback", "builtin_map", "leaf", "middle", "outer",
                                     "Py_RunMain", "main"]
    # an unwind that stopped early: the unmatched (outermost) runs go at the root
    got = pyframes.merge([u("PyLong_Add"), ev], py, frame_pointers=True, flags=pyframes.PY_STACK_TRUNCATED)
    assert [f.name for f in got] == ["PyLong_Add", "callback", "leaf", "middle", "outer",
                                     pyframes.TRUNCATED.name]


def test_python_frames_in_outputs():
    pyf = Frame("Handler.get", "/srv/app/views.py", pyframes.KIND_PYTHON, 42)
    init = Frame("<module>", "/srv/app/pkg/__init__.py", pyframes.KIND_PYTHON, 1)
    prof = Profile([Sample(1, 1, "python3", (init, pyf, Frame("PyLong_Add", "libpython3.11.so", KIND_USER)), 5)],
                   notes=["process 7: CPython 3.10 is not supported"])
    assert frame_label(pyf) == "Handler.get (views.py)" and frame_label(pyf, lines=True) == "Handler.get (views.py:42)"
    assert frame_label(init) == "<module> (pkg/__init__.py)"
    assert parse_folded(to_folded(prof)) == {("python3", "<module> (pkg/__init__.py)", "Handler.get (views.py)",
                                              "PyLong_Add"): 5}
    assert "Handler.get (views.py:42)" in to_folded(prof, lines=True)
    msg = PprofMessage()
    msg.ParseFromString(gzip.decompress(to_pprof(prof)))
    st = msg.string_table
    func = next(f for f in msg.function if st[f.name] == "Handler.get")
    assert st[func.filename] == "/srv/app/views.py"
    loc = next(l for l in msg.location if l.line[0].function_id == func.id)
    assert loc.line[0].line == 42 and loc.mapping_id == 0
    assert [st[c] for c in msg.comment] == ["process 7: CPython 3.10 is not supported"]
    svg = to_svg(prof)
    assert "Handler.get (views.py)" in svg and "CPython 3.10 is not supported" in svg


# ----------------------------------------------------------------------------------- BPF

def test_known_chain_running_interpreter(bpf_ready, script):
    """The interpreter running the tests (CI: pyenv CPython 3.11.7, libpython3.11.so)."""
    if sys.implementation.name != "cpython" or sys.version_info < (3, 11):
        pytest.skip("needs CPython 3.11 or later")
    proc = _run_target([sys.executable, script(KNOWN_CHAIN)])
    try:
        snap, prof = _profile(proc.pid)
        assert proc.pid in prof.py_state.procs
    finally:
        _stop(proc)
    _assert_known_chain(snap, proc.pid)


@pytest.mark.parametrize("exe", ["/usr/bin/python3", "pyenv-3.11", "pyenv-3.12", "pyenv-3.13"])
def test_known_chain_other_interpreters(bpf_ready, script, exe):
    if exe.startswith("pyenv-"):
        exe = _pyenv(exe[len("pyenv-"):])
        if exe is None:
            pytest.skip("not installed")
    elif not os.path.exists(exe):
        pytest.skip(f"{exe} is not installed")
    version = _version_of(exe)
    if version is None or version < (3, 11):
        pytest.skip(f"{exe} is CPython {version}: see the unsupported-version tests")
    if os.path.realpath(exe) == os.path.realpath(sys.executable):
        pytest.skip("the running interpreter: tested above")
    proc = _run_target([exe, script(KNOWN_CHAIN)])
    try:
        snap, prof = _profile(proc.pid)
        got = prof.py_state.procs[proc.pid]
        assert got.version[:2] == version
        assert got.offsets.source == ("_Py_DebugOffsets" if version >= (3, 13) else "table")
    finally:
        _stop(proc)
    _assert_known_chain(snap, proc.pid)


def test_threads_get_their_own_frames(bpf_ready, script):
    """Each sample's thread state is found by its native thread id: two threads, two chains."""
    if sys.version_info < (3, 11):
        pytest.skip("needs CPython 3.11 or later")
    proc = _run_target([sys.executable, script(THREADS, "threads_target.py")])
    try:
        snap, _ = _profile(proc.pid)
    finally:
        _stop(proc)
    by_tid = {}
    for s in snap.samples:
        names = {f.name for f in s.frames if f.kind == pyframes.KIND_PYTHON}
        by_tid.setdefault(s.pid, [0, set()])
        by_tid[s.pid][0] += s.count
        by_tid[s.pid][1].update(names)
    main = by_tid.get(proc.pid)
    others = [v for tid, v in by_tid.items() if tid != proc.pid and v[1]]
    assert main and {"alpha_outer", "alpha_leaf"} <= main[1] and not main[1] & {"beta_outer", "beta_leaf"}, by_tid
    assert others and any({"beta_outer", "beta_leaf"} <= v[1] for v in others), by_tid
    assert all(not v[1] & {"alpha_outer", "alpha_leaf"} for v in others), by_tid


def _assert_native_only(snap, pid, note_text):
    samples = [s for s in snap.samples if s.tgid == pid]
    assert sum(s.count for s in samples) >= 60
    assert any(note_text in n for n in snap.notes), snap.notes
    assert any("native stacks only" in n for n in snap.notes)
    for s in samples:
        for f in s.frames:
            assert f.kind in (KIND_USER, KIND_KERNEL, KIND_MISSING), f
            # a native or kernel symbol, a module+offset, or a bracketed marker: no garbage text
            assert re.fullmatch(r"[\w.@$<>:~\[\] +-]+", f.name), f
    assert snap.overhead.py_samples == 0 and snap.overhead.python_unsupported == 1


def test_unsupported_version_table_miss_degrades_to_native(bpf_ready, script):
    """A CPython whose version has no offsets (simulated: an empty table) keeps native stacks."""
    if sys.version_info < (3, 11) or sys.version_info >= (3, 13):
        pytest.skip("simulated with the offset table of 3.11/3.12")
    proc = _run_target([sys.executable, script(KNOWN_CHAIN)])
    try:
        snap, prof = _profile(proc.pid, python_offsets={})
    finally:
        _stop(proc)
    _assert_native_only(snap, proc.pid, f"CPython {sys.version_info[0]}.{sys.version_info[1]} is not supported")
    assert not prof.py_state.procs


def test_unsupported_real_interpreter(bpf_ready, script):
    """A CPython older than 3.11 (pyenv 3.10 here, where installed): native stacks and a note."""
    exe = _pyenv("3.10") or _pyenv("3.9")
    if exe is None:
        pytest.skip("no CPython 3.10 or 3.9 installed")
    proc = _run_target([exe, script(KNOWN_CHAIN)])
    try:
        snap, _ = _profile(proc.pid)
    finally:
        _stop(proc)
    _assert_native_only(snap, proc.pid, "is not supported")


def test_system_wide_discovers_python_processes(bpf_ready, script):
    """Without a target pid, CPython processes are recognised at the first drain that sees them;
    from then on their samples carry Python frames."""
    if sys.version_info < (3, 11):
        pytest.skip("needs CPython 3.11 or later")
    proc = _run_target([sys.executable, script(KNOWN_CHAIN)])
    try:
        with ebpf.Profiler(drain_interval=0.3) as prof:
            deadline = time.monotonic() + 20
            while proc.pid not in prof.py_state.procs and time.monotonic() < deadline:
                time.sleep(0.1)
            assert proc.pid in prof.py_state.procs, "not recognised"
            time.sleep(0.4)  # samples still in the maps from before recognition are drained now
            prof.snapshot(reset=True)
            time.sleep(1.5)
            snap = prof.snapshot()
    finally:
        _stop(proc)
    mine = [s for s in snap.samples if s.tgid == proc.pid]
    total = sum(s.count for s in mine)
    chained = sum(s.count for s in mine if any(f.name == "leaf" and f.kind == pyframes.KIND_PYTHON
                                               for f in s.frames))
    assert total >= 20 and chained >= 0.8 * total, snap.folded()[:2000]


def test_cli_python_frames_and_note(bpf_ready, script, tmp_path, capsys):
    if sys.version_info < (3, 11):
        pytest.skip("needs CPython 3.11 or later")
    from ottl.cli import main

    proc = _run_target([sys.executable, script(KNOWN_CHAIN)])
    try:
        out = tmp_path / "out.folded"
        assert main(["profile", "--pid", str(proc.pid), "--duration", "1s", "-q", "--lines", "-o", str(out)]) == 0
        text = out.read_text()
        assert re.search(r"outer \(chain_target\.py:\d+\);middle \(chain_target\.py:\d+\);"
                         r"leaf \(chain_target\.py:\d+\)", text), text[:2000]
        assert "Python frames in" in capsys.readouterr().err
        exe = _pyenv("3.10")
    finally:
        _stop(proc)
    if exe is None:
        return
    proc = _run_target([exe, script(KNOWN_CHAIN)])
    try:
        assert main(["profile", "--pid", str(proc.pid), "--duration", "500ms", "-q", "-o", str(out)]) == 0
    finally:
        _stop(proc)
    err = capsys.readouterr().err
    assert "note: process" in err and "CPython 3.10 is not supported" in err and "native stacks only" in err


EXEC_FIRST = textwrap.dedent("""
    import os, sys

    def before_exec():
        x = 0
        for i in range(2000):
            x += i
        return x

    sys.stdout.write("ready\\n"); sys.stdout.flush()
    while not os.path.exists(sys.argv[2]):  # until the test says: exec now
        before_exec()
    os.execv(sys.executable, [sys.executable, sys.argv[1]])
""")


def test_exec_is_noticed(bpf_ready, script, tmp_path):
    """A process that execs (the same interpreter, a new script) is recognised afresh: the frames
    before and after the exec are both resolved, none is lost to stale addresses."""
    if sys.version_info < (3, 11):
        pytest.skip("needs CPython 3.11 or later")
    second = script(KNOWN_CHAIN.replace('sys.stdout.write("ready\\n"); sys.stdout.flush()\n', ""))
    go = tmp_path / "exec-now"
    fds = open_fds()
    proc = _run_target([sys.executable, script(EXEC_FIRST, "exec_first.py"), second, str(go)])
    try:
        with ebpf.Profiler(pid=proc.pid, drain_interval=0.4) as prof:
            time.sleep(1.0)
            go.write_text("")
            time.sleep(1.5)
            snap = prof.snapshot()
    finally:
        _stop(proc)
    assert open_fds() == fds
    names = {}
    for s in snap.samples:
        for f in s.frames:
            if f.kind == pyframes.KIND_PYTHON:
                names[f.name] = names.get(f.name, 0) + s.count
    assert names.get("before_exec", 0) > 0, names
    assert names.get("leaf", 0) > 20, names
    assert "outer" in names and "middle" in names, names
