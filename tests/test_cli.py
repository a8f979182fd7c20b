"""The `ottl check` command."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

import ottl
from ottl import cli

# Run the command against the package these tests imported (installed or in-place), from a
# neutral folder, so a source checkout in the working directory cannot shadow it.
PACKAGE_PARENT = str(Path(ottl.__file__).resolve().parents[1])


def run(args, stdin=None):
    env = dict(os.environ, PYTHONPATH=PACKAGE_PARENT)
    proc = subprocess.run(
        [sys.executable, "-m", "ottl.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        cwd=tempfile.gettempdir(),
    )
    return proc.returncode, proc.stdout, proc.stderr


def test_built_in_examples_pass_and_print_parse_and_resolution():
    code, out, err = run(["check"])
    assert code == 0, err
    assert "parse:" in out and "resolution:" in out
    assert "statement in context span" in out
    assert "statement in context log" in out
    assert "condition in context span" in out
    assert " with errors" in out and ", 0 with errors" in out


def test_errors_print_a_caret_and_exit_non_zero(tmp_path):
    path = tmp_path / "bad.ottl"
    path.write_text('# comment\nset(span.name, "ok")\nset(span.nope, 1)\nset(span.name,\n')
    code, out, err = run(["check", str(path)])
    assert code == 1
    assert f"{path}:3" in err and f"{path}:4" in err
    assert "set(span.nope, 1)\n" in err and "^^^^" in err
    assert "1 of 3 checked OK, 2 with errors" in err


def test_stdin_and_explicit_context():
    code, out, err = run(["check", "--context", "log", "-"], stdin='set(body, "x")\n')
    assert code == 0, err
    assert "statement in context log" in out


def test_quiet_prints_nothing_but_the_summary_when_all_pass():
    code, out, err = run(["check", "-q", "-"], stdin="span.name == \"x\"\n")
    assert code == 0
    assert out.strip() == "1 of 1 checked OK, 0 with errors"


def test_config_file(tmp_path):
    path = tmp_path / "collector.yaml"
    path.write_text(
        "processors:\n"
        "  transform:\n"
        "    trace_statements:\n"
        "      - set(span.name, \"x\")\n"
        "      - set(span.nope, 1)\n"
    )
    code, out, err = run(["check", str(path)])
    assert code == 1
    assert "transform.trace_statements (line 5)" in err
    assert "context span (inferred)" in out


def test_unreadable_file_is_a_clear_error(tmp_path):
    code, out, err = run(["check", str(tmp_path / "missing.ottl")])
    assert code == 2 and "cannot read" in err


@pytest.mark.parametrize("blob", [b"\xff\xfe\x00garbage", b"set(\x00)"])
def test_binary_input_never_crashes(tmp_path, blob):
    path = tmp_path / "blob.ottl"
    path.write_bytes(blob)
    code, out, err = run(["check", str(path)])
    assert code in (1, 2)
    assert "Traceback" not in err


def test_main_is_callable_in_process(monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.StringIO('set(span.name, "x")\n'))
    assert cli.main(["check", "-q", "-"]) == 0
