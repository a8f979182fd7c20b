"""The C codec under AddressSanitizer, UndefinedBehaviorSanitizer and LeakSanitizer.

Builds tests/batch/otlp_driver.c with the codec sources (as tests/test_limits.py builds its C
check), writes valid payloads and deterministic corruptions of them, protobuf and OTLP/JSON, and
runs the driver over them many times: every run of the suite checks the C for out-of-bounds
access, undefined behaviour and leaks.
"""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
# The codec as setup.py builds it: every csrc/otlp_*.c with the string table and UTF-8 check.
SOURCES = ["strtab.c", "utf8.c"] + sorted(p.name for p in (ROOT / "csrc").glob("otlp_*.c"))

sys.path.insert(0, str(HERE))
from batch_strategies import ld, tag, vi  # noqa: E402


@pytest.fixture(scope="module")
def driver(tmp_path_factory) -> Path:
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        pytest.skip("no C compiler on PATH: cannot build the sanitizer driver")
    exe = tmp_path_factory.mktemp("otlp_driver") / "otlp_driver"
    cmd = [cc, "-std=c11", "-O1", "-g", "-Wall", "-Wextra", "-Werror",
           "-fsanitize=address,undefined", "-fno-sanitize-recover=undefined",
           "-fno-omit-frame-pointer", "-I", str(ROOT / "csrc"), str(HERE / "otlp_driver.c"),
           *[str(ROOT / "csrc" / s) for s in SOURCES], "-o", str(exe), "-lm", "-pthread"]
    subprocess.run(cmd, check=True)
    return exe


def _payloads() -> list[bytes]:
    sys.path.insert(0, str(ROOT / "benchmarks" / "benchmarks"))
    from otlp_data import logs_request, trace_request

    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
        ExportTraceServiceRequest,
    )

    msg = ExportTraceServiceRequest()
    rs = msg.resource_spans.add(schema_url="s")
    rs.resource.entity_refs.add(type="host", id_keys=["host.id"])
    span = rs.scope_spans.add().spans.add(name="n", trace_id=b"odd", span_id=b"\1" * 8)
    value = span.attributes.add(key="deep").value
    for _ in range(10):
        value = value.array_value.values.add()
    value.kvlist_value.values.add(key="k").value.bytes_value = b"\0\xff"
    span.attributes.add(key="empty").value.SetInParent()
    span.attributes.add(key="none")
    span.status.SetInParent()
    span.links.add(trace_id=b"\2" * 16).attributes.add(key="l").value.double_value = float("nan")
    span.events.add(name="e").attributes.add(key="i").value.int_value = -1
    handmade = [
        b"",
        tag(9, 3) + vi(1, 5) + tag(9, 4),             # an unknown group
        ld(1, ld(2, ld(2, ld(5, b"\xed\xa0\x80")))),  # a surrogate in a span name
        ld(1, ld(2, ld(2, tag(6, 0) + b"\xff" * 11))),  # a varint over 10 bytes
    ]
    return [msg.SerializeToString(), trace_request(200, n_resources=2).SerializeToString(),
            logs_request(100, n_resources=2).SerializeToString(), *handmade]


def _json_payloads() -> list[bytes]:
    """OTLP/JSON documents: the official JSON mapping (hex ids) of the protobuf payloads, and
    hand-made ones reaching the transcoder's less common paths."""
    import base64
    import json

    from google.protobuf.json_format import MessageToDict
    from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
        ExportTraceServiceRequest,
    )

    def hex_ids(obj):
        if isinstance(obj, dict):
            return {k: base64.b64decode(v).hex() if k in ("traceId", "spanId", "parentSpanId")
                    else hex_ids(v) for k, v in obj.items()}
        if isinstance(obj, list):
            return [hex_ids(v) for v in obj]
        return obj

    out = []
    for data in _payloads()[:3]:
        for cls in (ExportTraceServiceRequest, ExportLogsServiceRequest):
            try:
                msg = cls.FromString(data)
            except Exception:
                continue
            doc = hex_ids(MessageToDict(msg, use_integers_for_enums=True))
            out.append(json.dumps(doc).encode())
    deep = {"intValue": "1"}
    for _ in range(30):
        deep = {"arrayValue": {"values": [deep, {"kvlistValue": {"values": [{"key": "k"}]}}]}}
    span = {"traceId": "0AF7651916CD43DD8448EB211C80319C", "spanId": "", "kind": "SPAN_KIND_SERVER",
            "name": "a\"\\\u00e9\U0001F600\u0000\n", "startTimeUnixNano": 1e3,
            "endTimeUnixNano": "18446744073709551615", "status": {"code": "STATUS_CODE_ERROR"},
            "unknown": [{"x": [None, True, False, -1.5e-3, "s"]}], "flags": "7",
            "attributes": [{"key": "b", "value": {"bytesValue": "AP-_"}},
                           {"key": "d", "value": {"doubleValue": "NaN"}},
                           {"key": "e", "value": {"doubleValue": 0.30000000000000004}},
                           {"key": "n", "value": None}, {"key": "deep", "value": deep}]}
    doc = {"resource_spans": [{"scope_spans": [{"spans": [span]}],
                               "resource": {"entityRefs": [{"type": "t", "idKeys": ["a", ""]}]}}]}
    out.append(json.dumps(doc).encode())  # non-ASCII as \u escapes
    out.append(json.dumps(doc, ensure_ascii=False).encode())
    out.append(json.dumps({"resourceLogs": [{"scopeLogs": [{"logRecords": [
        {"severityNumber": "SEVERITY_NUMBER_WARN", "body": {"stringValue": "x" * 300},
         "traceId": "00" * 16}]}]}]}).encode())
    out.append(b'{"resourceSpans":[{"scopeSpans":[{"spans":[{"name":"\xed\xa0\x80"}]}]}]}')
    out.append(b"{}")
    return out


def _json_corruptions(data: bytes, rng: random.Random, count: int) -> list[bytes]:
    splices = [b'"', b"{", b"}", b"[", b"]", b",", b":", b"\\", b"\\u", b"\\ud800", b"null",
               b"-", b"1e999", b"0.5", b"\xff", b"\xc3", b"\x00", b'{"a":', b"18446744073709551616"]
    out = []
    for _ in range(count):
        b = bytearray(data)
        kind = rng.randrange(4)
        at = rng.randrange(len(b)) if b else 0
        if kind == 0:
            del b[at:]
        elif kind == 1 and b:
            b[at] ^= 1 << rng.randrange(8)
        elif kind == 2 and b:
            del b[at]
        else:
            b[at:at] = rng.choice(splices)
        out.append(bytes(b))
    return out


def _corruptions(data: bytes, rng: random.Random, count: int) -> list[bytes]:
    out = []
    for _ in range(count):
        b = bytearray(data)
        kind = rng.randrange(4)
        at = rng.randrange(len(b)) if b else 0
        if not b:
            b = bytearray(rng.randbytes(4))
        elif kind == 0:
            del b[at:]
        elif kind == 1:
            b[at] ^= 1 << rng.randrange(8)
        elif kind == 2:
            b[at] = rng.randrange(256)
        else:
            b[at:at] = rng.choice([b"\xff" * 11, b"\x80\x80\x80\x80\x0f", b"\x7f", b"\x1b"])
        out.append(bytes(b))
    return out


def _run(driver: Path, files: list[Path], iterations: int) -> str:
    env = dict(os.environ, ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:halt_on_error=1",
               UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1")
    proc = subprocess.run([str(driver), str(iterations), *map(str, files)], capture_output=True,
                          text=True, env=env, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.startswith("ok "), proc.stdout
    return proc.stdout


def test_valid_payloads_round_trip_cleanly_many_times(driver, tmp_path):
    files = []
    for i, data in enumerate(_payloads()):
        path = tmp_path / f"valid{i}.bin"
        path.write_bytes(data)
        files.append(path)
    out = _run(driver, files, iterations=50)
    decoded = int(out.split()[1])
    assert decoded >= 50 * 3  # the generated requests decode (each as its own signal at least)


def test_valid_json_round_trips_cleanly_many_times(driver, tmp_path):
    files = []
    for i, data in enumerate(_json_payloads()):
        path = tmp_path / f"valid{i}.json"
        path.write_bytes(data)
        files.append(path)
    out = _run(driver, files, iterations=10)
    assert int(out.split()[1]) >= 10 * (len(files) - 1)


def test_corrupted_json_is_refused_cleanly(driver, tmp_path):
    rng = random.Random(5)
    files = []
    for i, data in enumerate(_json_payloads()):
        for j, bad in enumerate(_json_corruptions(data, rng, 60)):
            path = tmp_path / f"bad{i}_{j}.json"
            path.write_bytes(bad)
            files.append(path)
    small = _json_payloads()[-4]
    for k in range(0, len(small), 3):
        path = tmp_path / f"prefix{k}.json"
        path.write_bytes(small[:k])
        files.append(path)
    out = _run(driver, files, iterations=2)
    assert int(out.split()[2]) > 0


def test_corrupted_payloads_are_refused_cleanly(driver, tmp_path):
    rng = random.Random(4)
    files = []
    for i, data in enumerate(_payloads()):
        for j, bad in enumerate(_corruptions(data, rng, 60)):
            path = tmp_path / f"bad{i}_{j}.bin"
            path.write_bytes(bad)
            files.append(path)
    # Every prefix of a small payload: truncation at each byte.
    small = _payloads()[0]
    for k in range(len(small)):
        path = tmp_path / f"prefix{k}.bin"
        path.write_bytes(small[:k])
        files.append(path)
    out = _run(driver, files, iterations=2)
    assert int(out.split()[2]) > 0


def test_parallel_decodes_are_free_of_data_races(tmp_path):
    """The driver under ThreadSanitizer: every payload of several resource groups is decoded
    on several threads (the driver lets each group start a part), valid and damaged."""
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        pytest.skip("no C compiler on PATH: cannot build the ThreadSanitizer driver")
    exe = tmp_path / "otlp_driver_tsan"
    subprocess.run([cc, "-std=c11", "-O1", "-g", "-Wall", "-Wextra", "-Werror",
                    "-fsanitize=thread", "-pthread", "-I", str(ROOT / "csrc"),
                    str(HERE / "otlp_driver.c"), *[str(ROOT / "csrc" / s) for s in SOURCES],
                    "-o", str(exe), "-lm"], check=True)
    rng = random.Random(6)
    files = []
    for i, data in enumerate(_payloads()[:3]):
        for j, bad in enumerate([data, *_corruptions(data, rng, 8)]):
            path = tmp_path / f"p{i}_{j}.bin"
            path.write_bytes(bad)
            files.append(path)
    proc = subprocess.run([str(exe), "3", *map(str, files)], capture_output=True, text=True,
                          env=dict(os.environ, TSAN_OPTIONS="halt_on_error=1"), timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.startswith("ok "), proc.stdout
