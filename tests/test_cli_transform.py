"""`ottl transform` and `ottl filter` on the built-in sample and on files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import ottl
from ottl.eval import otlp_json, otlp_proto

PACKAGE_PARENT = str(Path(ottl.__file__).resolve().parents[1])


def run(args, stdin=None):
    proc = subprocess.run(
        [sys.executable, "-m", "ottl.cli", *args],
        input=stdin,
        capture_output=True,
        timeout=120,
        env=dict(os.environ, PYTHONPATH=PACKAGE_PARENT),
        cwd=tempfile.gettempdir(),
    )
    return proc.returncode, proc.stdout.decode(), proc.stderr.decode(), proc.stdout


DOC = {"resourceSpans": [{"resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "a"}}]},
                          "scopeSpans": [{"spans": [{"name": "x", "kind": 2}, {"name": "health", "kind": 2}]}]}]}


def test_transform_on_the_built_in_sample_prints_what_changed():
    code, out, err, _ = run(["transform"])
    assert code == 0, err
    assert "<built-in sample_traces.json>" in out and "<built-in sample_logs.json>" in out
    assert "changed" in out
    assert "REDACTED" in out  # the url token redaction of the built-in config
    assert "password=***" in out


def test_filter_on_the_built_in_sample_lists_dropped_records():
    code, out, err, _ = run(["filter"])
    assert code == 0, err
    assert "dropped  frontend: GET /healthz" in out
    assert "dropped" in out.split("sample_logs")[1]


def test_transform_file_to_stdout_with_statements(tmp_path):
    src = tmp_path / "in.json"
    src.write_text(json.dumps(DOC))
    code, out, err, _ = run(["transform", "--input", str(src), "--statement", 'set(span.name, "y") where span.name == "x"'])
    assert code == 0, err
    spans = json.loads(out)["resourceSpans"][0]["scopeSpans"][0]["spans"]
    assert [s["name"] for s in spans] == ["y", "health"]
    assert json.loads(src.read_text()) == DOC  # the input file is never modified
    assert "1 changed" in err


def test_filter_protobuf_in_and_out(tmp_path):
    src = tmp_path / "in.pb"
    src.write_bytes(otlp_proto.dump(otlp_json.load(DOC)))
    dst = tmp_path / "out.pb"
    code, out, err, _ = run(["filter", "--input", str(src), "--output", str(dst), "--condition", 'span.name == "health"'])
    assert code == 0, err
    payload = otlp_proto.load(dst.read_bytes())
    assert [s.name for s in payload.resources[0].scope_spans[0].spans] == ["x"]


def test_format_conversion_from_json_to_protobuf(tmp_path):
    src = tmp_path / "in.json"
    src.write_text(json.dumps(DOC))
    code, _, err, raw = run(["transform", "--input", str(src), "--format", "otlp-proto", "--statement", 'set(span.name, "z")'])
    assert code == 0, err
    assert [s.name for s in otlp_proto.load(raw).resources[0].scope_spans[0].spans] == ["z", "z"]


def test_bad_input_and_bad_statements_are_one_line_errors(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    code, _, err, _ = run(["transform", "--input", str(bad), "--statement", 'set(span.name, "z")'])
    assert code == 1 and "member name in double quotes at byte 1" in err and "Traceback" not in err
    good = tmp_path / "in.json"
    good.write_text(json.dumps(DOC))
    code, _, err, _ = run(["transform", "--input", str(good), "--statement", "set(span.nope, 1)"])
    assert code == 1 and "does not compile" in err and "^" in err
    code, _, err, _ = run(["transform", "--input", str(tmp_path / "missing.json"), "--statement", "set(span.name, 1)"])
    assert code == 2 and "cannot read" in err


def test_propagate_errors_exit_non_zero_and_ignore_does_not(tmp_path):
    src = tmp_path / "in.json"
    src.write_text(json.dumps(DOC))
    stmt = 'set(span.attributes["q"], 1 / 0)'
    code, _, err, _ = run(["transform", "--input", str(src), "--statement", stmt])
    assert code == 1 and "divide by 0" in err
    code, out, err, _ = run(["transform", "--input", str(src), "--statement", stmt, "--error-mode", "silent"])
    assert code == 0 and "statement error" in err
