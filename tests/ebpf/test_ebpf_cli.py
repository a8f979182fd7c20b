"""``ottl profile``: the CLI over the profiler."""

from __future__ import annotations

import argparse
import gzip

import pytest

from pprof_schema import Profile as PprofMessage

from ottl.cli import main
from ottl.cli_profile import parse_duration


def test_parse_duration():
    assert parse_duration("30s") == 30.0
    assert parse_duration("2m") == 120.0
    assert parse_duration("500ms") == 0.5
    assert parse_duration("1.5") == 1.5
    for bad in ("", "0s", "-1s", "ten", "5d"):
        with pytest.raises(argparse.ArgumentTypeError):
            parse_duration(bad)


def test_profile_writes_folded_and_pprof(bpf_ready, c_target, tmp_path, capsys):
    folded = tmp_path / "out.folded"
    assert main(["profile", "--pid", str(c_target.pid), "--duration", "1s", "--output", str(folded)]) == 0
    lines = folded.read_text().splitlines()
    assert lines and all(line.startswith("fp_target;") for line in lines)
    assert any(";leaf_fn" in line for line in lines)
    err = capsys.readouterr().err
    assert "samples" in err and "wrote folded" in err and "cpu" in err
    pb = tmp_path / "out.pb.gz"
    assert main(["profile", "--pid", str(c_target.pid), "--duration", "500ms", "-q", "-o", str(pb)]) == 0
    msg = PprofMessage()
    msg.ParseFromString(gzip.decompress(pb.read_bytes()))
    assert "leaf_fn" in msg.string_table


def test_profile_errors(bpf_ready, tmp_path, capsys):
    assert main(["profile", "--duration", "1s", "-o", str(tmp_path / "x.png")]) == 2
    assert "unknown output format" in capsys.readouterr().err
    assert main(["profile", "--pid", "999999999", "--duration", "1s", "-o", str(tmp_path / "x.svg")]) == 1
    assert "no process 999999999" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["profile", "--duration", "soon", "-o", str(tmp_path / "x.svg")])
