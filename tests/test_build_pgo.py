"""The profile-guided build of the codec (setup.py's ProfiledBuildExt, switch OTTL_PGO): with GCC
it trains on csrc/pgo_train.c and compiles ottl._batch with the profile; OTTL_PGO=0, or another
compiler, builds without one and says why.

The real setup.py runs over a scratch copy of the sources, the build narrowed to ottl._batch
(as tests/test_build_lld.py narrows it to ottl._limits).
"""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from narrowed_setup import driver_source

ROOT = Path(__file__).resolve().parents[1]


def _is_gcc(cc: str) -> bool:
    out = subprocess.run([cc, "--version"], capture_output=True, text=True, check=False).stdout
    return "clang" not in out.lower() and ("gcc" in out.lower() or "Free Software" in out)


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    shutil.copy2(ROOT / "setup.py", tmp_path / "setup.py")
    shutil.copytree(ROOT / "csrc", tmp_path / "csrc")
    (tmp_path / "ottl").mkdir()
    for f in ("_batch.pyx", "_batch.pxd"):
        shutil.copy2(ROOT / "ottl" / f, tmp_path / "ottl" / f)
    (tmp_path / "driver.py").write_text(driver_source("ottl._batch"))
    return tmp_path


def _build(tree: Path, **env: str) -> str:
    clean = {k: v for k, v in os.environ.items()
             if k not in ("OTTL_PGO", "OTTL_DEBUG", "OTTL_SANITIZE", "CC", "CFLAGS", "LDSHARED")}
    proc = subprocess.run([sys.executable, "driver.py"], cwd=tree, env={**clean, **env},
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert list((tree / "lib" / "ottl").glob("_batch*.so"))
    return proc.stderr


def _symbols(tree: Path) -> str:
    (so,) = (tree / "lib" / "ottl").glob("_batch*.so")
    nm = shutil.which("nm")
    if nm is None:
        pytest.skip("no nm on PATH: cannot read the extension's symbols")
    return subprocess.run([nm, "-D", str(so)], capture_output=True, text=True, check=True).stdout


def test_the_codec_is_built_with_the_profile_of_its_training_run(tree: Path):
    cc = shutil.which("gcc")
    if cc is None or not _is_gcc(cc):
        pytest.skip("no GCC on PATH: the profile-guided build is GCC's")
    log = _build(tree, CC="gcc")
    assert "without a profile" not in log, log
    profiles = {p.stem for p in (tree / "tmp" / "csrc").glob("*.gcda")}
    assert {"otlp_decode", "otlp_decode_traces", "otlp_encode", "strtab"} <= profiles, profiles
    # The extension itself is not instrumented: the profile was only read.
    assert "__gcov" not in _symbols(tree)
    # And GCC on x86 left memcpy to the C library: no inline `rep movs` (setup.py COPY_FLAGS).
    objdump = shutil.which("objdump")
    if platform.machine().lower() in ("x86_64", "amd64") and objdump is not None:
        (so,) = (tree / "lib" / "ottl").glob("_batch*.so")
        code = subprocess.run([objdump, "-d", str(so)], capture_output=True, text=True,
                              check=True).stdout
        assert "rep movs" not in code


def test_opting_out_builds_without_training(tree: Path):
    log = _build(tree, OTTL_PGO="0")
    assert not list((tree / "tmp").rglob("*.gcda"))
    assert not (tree / "tmp" / "pgo_train").exists()
    assert "__gcov" not in _symbols(tree)
    assert "without a profile" not in log  # nothing was tried, so nothing to explain


def test_another_compiler_builds_without_a_profile_and_says_why(tree: Path):
    clang = shutil.which("clang")
    if clang is None:
        pytest.skip("no clang on PATH: no second compiler to try")
    log = _build(tree, CC="clang")
    assert "building ottl._batch without a profile" in log and "is not GCC" in log, log
    assert not list((tree / "tmp").rglob("*.gcda"))
