"""The plain benchmark scripts still run: each on a tiny input, checked for the rows it prints
(their figures are not checked: speed is measured by running them, never in tests)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# A ratio column: "1.00x", "12.34x".
RATIO = re.compile(r"\d+\.\d\dx\s*$")


def run(script: str, *args: str) -> str:
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / script), *args],
                          capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def rows(out: str, name: str) -> list[str]:
    """The lines of ``out`` that begin with ``name`` and end with a ratio."""
    return [line for line in out.splitlines() if line.startswith(name) and RATIO.search(line)]


def test_compare_prints_the_filter_and_the_end_to_end_tables_in_both_modes():
    out = run("compare.py", "--spans", "10000", "--e2e-spans", "500", "--repeat", "3")
    assert len(rows(out, "ours, avx2")) + len(rows(out, "ours, scalar kernels")) >= 2
    assert len(rows(out, "numpy (same columns)")) == 2  # F1 and F2
    # interleaved and back to back
    assert len(rows(out, "ours: projected decode, filter F1, verbatim encode")) == 2
    assert len(rows(out, "protobuf ParseFromString+SerializeToString")) == 2
    assert "back to back" in out


def test_codec_vs_protobuf_prints_decode_and_encode_against_protobuf():
    out = run("codec_vs_protobuf.py", "--spans", "300", "--repeat", "3", "--json-repeat", "1")
    assert len(rows(out, "ours decode_traces ")) == 2
    assert len(rows(out, "ours encode (from columns)")) == 2
    assert len(rows(out, "ours decode_traces_json")) == 1


@pytest.mark.parametrize("script, args, row", [
    ("sdk_vs_otlp_encoder.py", ["--spans", "200", "--logs", "200", "--repeat", "3"],
     r"ours spans_to_protobuf\(\).*\d+\.\d\dx$"),
    # ours, the reference and their ratio, then the statement
    ("derived_vs_reference.py", ["--repeat", "1", "--reference-repeat", "1"],
     r"\s*[\d.]+ ms\s+[\d.]+ ms\s+\d+x\s+set\("),
])
def test_the_other_comparisons_run(script, args, row):
    pytest.importorskip("opentelemetry.sdk", reason="opentelemetry-sdk is in the test extra")
    out = run(script, *args)
    assert [line for line in out.splitlines() if re.match(row, line)], out[-2000:]


# Runs every asv benchmark of every suite once, each suite set up at a small size (asv itself
# is not needed): `time_*` and `peakmem_*` called, `track_*` checked to give a number.
ASV_RUNNER = """
import importlib, inspect, pkgutil, sys
# `python -c` puts the working directory first on sys.path: the checkout's ottl/ (without the
# compiled extensions of an installed package) must not shadow the package the tests import
if sys.path and sys.path[0] == "":
    del sys.path[0]
sys.path.insert(0, sys.argv[1])
import benchmarks
ran = []
for info in pkgutil.iter_modules(benchmarks.__path__):
    module = importlib.import_module("benchmarks." + info.name)
    for name, cls in inspect.getmembers(module, inspect.isclass):
        if cls.__module__ != module.__name__ or not hasattr(cls, "params"):
            continue
        suite = cls()
        suite.setup(300)
        for method in sorted(m for m in dir(cls) if m.startswith(("time_", "peakmem_", "track_"))):
            result = getattr(suite, method)(300)
            if method.startswith("track_"):
                assert isinstance(result, (int, float)) and result > 0, (method, result)
            ran.append(f"{info.name}.{name}.{method}")
print("\\n".join(ran))
"""


def test_every_asv_benchmark_runs():
    pytest.importorskip("opentelemetry.sdk", reason="opentelemetry-sdk is in the test extra")
    done = subprocess.run([sys.executable, "-c", ASV_RUNNER, str(ROOT / "benchmarks")],
                          capture_output=True, text=True, timeout=900, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    ran = set(done.stdout.split())
    for expected in ("codec.Traces.time_decode", "engine.EndToEnd.track_filter_spans_per_second",
                     "engine.BatchFilter.time_filter_f1", "sdk.SdkExporter.time_filter_export",
                     "engine.Expressions.time_whole_map"):
        assert expected in ran, sorted(ran)
