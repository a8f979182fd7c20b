"""The public API's types (.pyi stubs, py.typed) check with mypy."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent / "typing"

pytest.importorskip("mypy", reason="mypy is in the test extra; install '.[test]'")


def mypy(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--no-incremental", "--follow-imports=silent",
         "--ignore-missing-imports", str(path)],
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_typed_example_passes():
    proc = mypy(HERE / "good.py")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_misuse_is_caught():
    proc = mypy(HERE / "bad.py")
    assert proc.returncode == 1
    assert "Cannot assign to final name" in proc.stdout
    assert "Incompatible types in assignment" in proc.stdout
