"""The OTTL_LINKER=lld build switch of setup.py: it really links with lld, and fails clearly without it.

The real setup.py runs over a scratch copy of the sources, with the build narrowed to the small
ottl._limits extension, so its flags (and its linker check) are the ones under test, in seconds.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
from narrowed_setup import driver_source

ROOT = Path(__file__).resolve().parents[1]


def _compiler() -> str | None:
    """The C compiler Python's build would use (first word of its CC), if on PATH."""
    cc = (os.environ.get("CC") or sysconfig.get_config_var("CC") or "cc").split()[0]
    return shutil.which(cc)


def _lld_works(cc: str) -> bool:
    probe = subprocess.run([cc, "-fuse-ld=lld", "-Wl,--version"], capture_output=True, text=True, check=False)
    return probe.returncode == 0 and "LLD" in probe.stdout


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """setup.py, csrc/ and ottl/_limits.pyx, nothing else (no pyproject.toml: no package data)."""
    shutil.copy2(ROOT / "setup.py", tmp_path / "setup.py")
    shutil.copytree(ROOT / "csrc", tmp_path / "csrc")
    (tmp_path / "ottl").mkdir()
    shutil.copy2(ROOT / "ottl" / "_limits.pyx", tmp_path / "ottl" / "_limits.pyx")
    (tmp_path / "driver.py").write_text(driver_source("ottl._limits"))
    return tmp_path


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("OTTL_LINKER", "LDSHARED", "CC", "LDFLAGS")}
    env.update(extra)
    return env


def _build(tree: Path, env: dict[str, str]) -> Path:
    proc = subprocess.run([sys.executable, "driver.py"], cwd=tree, env=env, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    (so,) = (tree / "lib" / "ottl").glob("_limits*.so")
    return so


def _comment(so: Path) -> str:
    readelf = shutil.which("readelf")
    if readelf is None:
        pytest.skip("readelf (binutils) not on PATH: cannot read the .comment section")
    return subprocess.run([readelf, "-p", ".comment", str(so)], check=True, capture_output=True, text=True).stdout


def _rows_of(so: Path) -> int:
    """Import the built module in a fresh interpreter: the lld-linked .so loads and works."""
    # Loaded by file, not by package: wherever this runs, `ottl` may name the checkout (no
    # compiled extensions in CI) or the installed package, and neither is the .so under test.
    code = ("import importlib.util, sys; "
            "spec = importlib.util.spec_from_file_location('ottl._limits', sys.argv[1]); "
            "m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m); "
            "print(len(m.rows()))")
    out = subprocess.run([sys.executable, "-c", code, str(so)], check=True, capture_output=True,
                         text=True, cwd=so.parent)
    return int(out.stdout)


@pytest.mark.parametrize("linker", ["default", "lld"])
def test_ottl_linker_switch_picks_the_linker(tree: Path, linker: str) -> None:
    cc = _compiler()
    if cc is None:
        pytest.skip("no C compiler on PATH")
    if linker == "lld" and not _lld_works(cc):
        pytest.skip(f"lld is not installed ({cc} -fuse-ld=lld fails): apt-get install lld; .ci/run installs it")
    env = _env(OTTL_LINKER="lld") if linker == "lld" else _env()
    so = _build(tree, env)
    comment = _comment(so)
    if linker == "lld":
        # lld stamps the output with "Linker: <vendor> LLD <version>"; GNU ld writes no such line.
        assert "Linker:" in comment and "LLD" in comment, comment
    else:
        assert "LLD" not in comment, comment
    assert _rows_of(so) > 0


def test_missing_lld_is_a_clear_error(tree: Path, tmp_path: Path) -> None:
    """With the compiler on a PATH that holds no ld.lld, setup.py stops before building, and says why."""
    cc = _compiler()
    if cc is None:
        pytest.skip("no C compiler on PATH")
    bare = tmp_path / "bare-bin"
    bare.mkdir()
    (bare / "cc").symlink_to(cc)
    # The compiler driver looks for ld.lld in its own directories, then on PATH: here it finds none.
    env = _env(OTTL_LINKER="lld", CC=str(bare / "cc"), PATH=str(bare))
    probe = subprocess.run([str(bare / "cc"), "-fuse-ld=lld", "-Wl,--version"], env=env, capture_output=True,
                           check=False)
    if probe.returncode == 0:
        pytest.skip(f"{cc} finds lld outside PATH (in its own install directory): cannot hide it")
    proc = subprocess.run([sys.executable, "driver.py"], cwd=tree, env=env, capture_output=True, text=True, check=False)
    assert proc.returncode != 0
    assert "OTTL_LINKER=lld" in proc.stderr and "install the `lld` package" in proc.stderr, proc.stderr
    assert not (tree / "lib").exists(), "nothing should have been built"
