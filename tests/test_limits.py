"""The const API: ottl.limits equals csrc/ottl_limits.h, is read-only, and validates."""

from __future__ import annotations

import ast as pyast
import math
import re
import shutil
import subprocess
from pathlib import Path

import pytest

import ottl.limits as limits

ROOT = Path(__file__).resolve().parents[1]
HEADER = ROOT / "csrc" / "ottl_limits.h"


def _header_macro_names() -> set[str]:
    """The name of every value macro the header defines (the C check prints their values)."""
    return set(re.findall(r"#define OTTL_([A-Z_]+) ", HEADER.read_text()))


@pytest.fixture(scope="module")
def c_output(tmp_path_factory) -> str:
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        pytest.skip("no C compiler on PATH: cannot build the header check")
    exe = tmp_path_factory.mktemp("limits") / "print_limits"
    # Sanitizers on: the C side of the const API is checked under ASan and UBSan as well.
    cmd = [cc, "-std=c11", "-Wall", "-Werror", "-fsanitize=address,undefined",
           "-fno-sanitize-recover=undefined", "-I", str(ROOT / "csrc"),
           str(ROOT / "tests" / "c" / "print_limits.c"), str(ROOT / "csrc" / "limits.c"),
           "-o", str(exe)]
    subprocess.run(cmd, check=True)
    proc = subprocess.run([str(exe)], check=True, capture_output=True, text=True)
    return proc.stdout


def test_every_header_macro_is_printed_by_the_c_check(c_output):
    printed = {line.split()[1] for line in c_output.splitlines() if line.startswith("macro ")}
    assert printed == _header_macro_names()


def test_python_values_equal_the_header(c_output):
    macros = {}
    for line in c_output.splitlines():
        kind, name, *rest = line.split()
        if kind == "macro":
            macros[name] = int(rest[0])
    for name, value in macros.items():
        assert getattr(limits, name) == value, name
    assert limits.VALUES == macros


def test_python_table_equals_the_c_table(c_output):
    rows = [line.split()[1:] for line in c_output.splitlines() if line.startswith("row ")]
    assert [(r.name, r.value, r.min, r.max, int(r.configurable)) for r in limits.TABLE] == [
        (n, int(v), int(lo), int(hi), int(c)) for n, v, lo, hi, c in rows
    ]


def test_issue_figures():
    assert limits.DEFAULT_BATCH_SIZE == 1000
    assert limits.MIN_BATCH_SIZE == 10
    assert limits.MAX_BATCH_SIZE == 10000
    assert limits.DEFAULT_TIMEOUT == 5.0


def test_module_is_read_only():
    with pytest.raises(AttributeError, match="read-only"):
        limits.DEFAULT_BATCH_SIZE = 5  # type: ignore[misc]
    with pytest.raises(AttributeError, match="read-only"):
        del limits.MAX_NESTING_DEPTH
    with pytest.raises(TypeError):
        limits.VALUES["DEFAULT_BATCH_SIZE"] = 5  # type: ignore[index]
    assert limits.DEFAULT_BATCH_SIZE == 1000


def test_stub_declares_exactly_the_public_names():
    stub = pyast.parse((ROOT / "ottl" / "limits.pyi").read_text())
    declared = {
        node.target.id
        for node in stub.body
        if isinstance(node, pyast.AnnAssign) and isinstance(node.target, pyast.Name)
    }
    constants = set(limits.VALUES) | {"DEFAULT_TIMEOUT", "MIN_TIMEOUT", "MAX_TIMEOUT"}
    assert declared - {"TABLE", "VALUES"} == constants
    functions = {n.name for n in stub.body if isinstance(n, pyast.FunctionDef)}
    assert functions == {n for n in dir(limits) if n.startswith("validate_")}


@pytest.mark.parametrize(
    "validator, base",
    [
        (limits.validate_batch_size, "BATCH_SIZE"),
        (limits.validate_max_statements, "MAX_STATEMENTS"),
        (limits.validate_max_string_length, "MAX_STRING_LENGTH"),
        (limits.validate_max_attributes, "MAX_ATTRIBUTES"),
    ],
)
def test_integer_validators(validator, base):
    lo, hi = getattr(limits, "MIN_" + base), getattr(limits, "MAX_" + base)
    assert validator(lo) == lo
    assert validator(hi) == hi
    assert validator(getattr(limits, "DEFAULT_" + base)) == getattr(limits, "DEFAULT_" + base)
    name = base.lower()
    for bad in (lo - 1, hi + 1):
        with pytest.raises(ValueError) as info:
            validator(bad)
        assert name in str(info.value)
        assert f"[{lo}, {hi}]" in str(info.value)
    for wrong in ("100", 10.0, True, None):
        with pytest.raises(ValueError, match=name):
            validator(wrong)


def test_timeout_validator():
    assert limits.validate_timeout(5) == 5.0
    assert limits.validate_timeout(0.5) == 0.5
    assert limits.validate_timeout(limits.MAX_TIMEOUT) == limits.MAX_TIMEOUT
    for bad in (0, -1, limits.MAX_TIMEOUT + 1, math.nan, math.inf):
        with pytest.raises(ValueError, match=r"timeout .* outside the allowed range \[0.001, 3600.0\]"):
            limits.validate_timeout(bad)
    for wrong in ("5", None, False):
        with pytest.raises(ValueError, match="timeout must be a number"):
            limits.validate_timeout(wrong)
