"""The VM under AddressSanitizer, UndefinedBehaviorSanitizer and LeakSanitizer.

Builds tests/engine/vm_driver.c with csrc/vm*.c and the codec (as tests/batch/
test_batch_sanitizers.py builds the codec's driver), writes compiled programs (conditions and
statements), hand-made malformed ones and decodable payloads, and runs the driver: every valid
program over every batch many times on both kernel sets, every prefix of it and many randomly
damaged copies of it (each refused, or run cleanly). The masks the sanitized build computes
must also be the extension's.
"""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from engine_strategies import HANDPICKED, SeededValues, build_request

from ottl import engine
from ottl._batch import decode_logs, decode_traces
from ottl.compiler.opcodes import FIELD_INDEX, OPCODE_INDEX, OPCODES
from ottl.compiler.program import TAG_BOOL, TAG_INT, TAG_STRING

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
# The codec as setup.py builds it: every csrc/otlp_*.c with the string table and UTF-8 check.
CODEC = ["strtab.c", "utf8.c"] + sorted(p.name for p in (ROOT / "csrc").glob("otlp_*.c"))

STATEMENTS = {
    "span": ['set(span.attributes["k"], "v") where span.kind == 1',
             'delete_key(span.attributes, "a") where span.name == "a"',
             'set(span.name, "renamed") where span.attributes["k"] != nil',
             "set(span.kind, 3)", "set(span.status.code, 2) where span.kind > 2",
             'set(span.attributes["c"], resource.attributes["a"])',
             "set(span.start_time_unix_nano, span.end_time_unix_nano - 5)",
             'set(span.attributes["parent"], span.parent_span_id.string)',
             'set(span.cache["c"], span.name)', 'delete_key(span.cache, "c")',
             'set(span.attributes["c"], span.cache["c"]) where span.cache["c"] != nil'],
    "log": ['set(log.body, "x") where log.severity_number > 9',
            'set(log.attributes["n"], log.severity_number + 1)',
            'set(log.severity_text, log.attributes["a"])', 'delete_key(log.attributes, "k")',
            'set(log.cache["n"], log.severity_number)', 'set(log.body, log.cache["n"])'],
}


@pytest.fixture(scope="module")
def driver(tmp_path_factory) -> Path:
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        pytest.skip("no C compiler on PATH: cannot build the sanitizer driver")
    exe = tmp_path_factory.mktemp("vm_driver") / "vm_driver"
    vm = sorted(str(p) for p in (ROOT / "csrc").glob("vm*.c"))
    cmd = [cc, "-std=c11", "-O1", "-g", "-Wall", "-Wextra", "-Werror", "-Wno-unused-function",
           "-Wno-unused-parameter", "-fsanitize=address,undefined",
           "-fno-sanitize-recover=undefined", "-fno-omit-frame-pointer", "-I", str(ROOT / "csrc"),
           str(HERE / "vm_driver.c"), *vm, *[str(ROOT / "csrc" / s) for s in CODEC],
           "-o", str(exe), "-lm", "-pthread"]
    subprocess.run(cmd, check=True)
    return exe


def _payloads() -> list[bytes]:
    sys.path.insert(0, str(ROOT / "benchmarks" / "benchmarks"))
    from otlp_data import logs_request, trace_request

    rng = random.Random(11)
    out = []
    for signal in ("traces", "logs"):
        values = SeededValues(rng)
        out.append(build_request(signal, 2500, values, rng).SerializeToString())  # 3 blocks
        out.append(build_request(signal, 1025, values, rng, pool_size=4).SerializeToString())
        out.append(build_request(signal, 7, values, rng).SerializeToString())
    out.append(trace_request(300, n_resources=3).SerializeToString())
    out.append(logs_request(200, n_resources=2).SerializeToString())
    out.append(b"")  # no records at all
    return out


def _program_line(expect: str, code, consts, strings, nregs: int, nmasks: int) -> str:
    words = [expect, str(nregs), str(nmasks), str(len(code)), *map(str, code), str(len(consts))]
    for tag, val in consts:
        words += [str(tag), str(val)]
    words.append(str(len(strings)))
    words += [s.hex() or "-" for s in strings]
    return " ".join(words)


def _compiled(prog) -> str:
    tags, vals = prog.const_arrays()
    consts = list(zip(tags.tolist(), vals.tolist()))
    return _program_line("v", prog.code, consts, prog.strings, prog.nregs, prog.nmasks)


CONVERTERS = [("span", 'IsMatch(span.name, "^a") or Len(span.attributes["k"]) > 1'),
              ("span", 'IsMatch(span.trace_id.string, "^0") or span.span_id.string == ""'),
              ("span", 'ToLowerCase(span.name) == resource.attributes["a"]'),
              ("log", 'IsString(log.body) and not IsMatch(log.severity_text, "b")')]

OP, F = OPCODE_INDEX, FIELD_INDEX
TRUE = (TAG_BOOL, 1)
END = [OP["RESULT"], 0, OP["HALT"]]
MALFORMED = [  # (code, consts, strings, nregs, nmasks): each must be refused
    ([99] + END, [TRUE], [], 1, 1),
    ([OP["MASK_CONST"], 0, 0, OP["JUMP_IF_NONE"], 0, 0] + END, [TRUE], [], 1, 1),
    ([OP["MASK_CONST"], 0, 0, OP["JUMP_IF_NONE"], 0, 7] + END, [TRUE], [], 1, 1),
    ([OP["MASK_CONST"], 0, 0, OP["JUMP_IF_NONE"], 0, 9, OP["MASK_CONST"], 1, 0, OP["RESULT"], 1,
      OP["HALT"]], [TRUE], [], 1, 2),
    ([OP["LOAD_ATTR"], 0, F["SPAN_NAME"], 0, OP["MASK_CONST"], 0, 0] + END, [TRUE], [b"k"], 1, 1),
    ([OP["LOAD_ATTR"], 0, F["SPAN_ATTRS"], 0, OP["MATH"], 0, 0, 0, 0,
      OP["MASK_CONST"], 0, 0] + END, [TRUE], [b"k"], 1, 1),
    ([OP["MASK_CONST"], 0, 0] + END, [(TAG_INT, 1)], [], 1, 1),
    ([OP["LOAD_FIELD"], 0, F["SPAN_NAME"], OP["LOAD_FIELD"], 1, F["LOG_BODY"],
      OP["MASK_CONST"], 0, 0] + END, [TRUE], [], 2, 1),
    ([OP["MASK_CONST"], 0, 0, OP["RESULT"], 0], [TRUE], [], 1, 1),
    ([OP["MASK_CONST"], 0, 0] + END, [TRUE], [], 1, 300),
    ([OP["LOAD_FIELD"], 0, F["SPAN_NAME"], OP["CMP_CONST"], 0, 0, 0, 0, OP["MASK_CONST"], 0, 0]
     + END, [TRUE, (TAG_STRING, 3)], [b"x"], 1, 1),
]


def _programs() -> tuple[list[str], list]:
    """The program file's lines, and the compiled conditions marked "v" (in file order)."""
    lines, conditions = [], []
    texts = [(ctx, t) for ctx, ts in HANDPICKED.items() for t in ts]
    for context, text in texts:
        cond = engine.compile_condition(text, context)
        assert cond.native, (text, cond.reason)
        conditions.append((len(lines), cond))
        lines.append(_compiled(cond.program))
    for context, text in CONVERTERS:  # derived columns: the driver makes its own
        cond = engine.compile_condition(text, context)
        assert cond.native and cond._vm.nderived, (text, cond.reason)
        lines.append(_compiled(cond.program))
    for context, statements in STATEMENTS.items():
        for text in statements:
            stmt = engine.compile_statement(text, context)
            assert stmt.native, (text, stmt.reason)
            lines.append(_compiled(stmt.program))
    for code, consts, strings, nregs, nmasks in MALFORMED:
        lines.append(_program_line("x", code, consts, strings, nregs, nmasks))
    return lines, conditions


def _fnv1a(data: bytes) -> str:
    h = 1469598103934665603
    for b in data:
        h = ((h ^ b) * 1099511628211) & 0xFFFFFFFFFFFFFFFF
    return f"{h:016x}"


def _run(driver: Path, args: list[str]) -> str:
    env = dict(os.environ, ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:halt_on_error=1",
               UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1")
    proc = subprocess.run([str(driver), *args], capture_output=True, text=True, env=env,
                          timeout=600)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-6000:]
    assert proc.stdout.splitlines()[-1].startswith("ok "), proc.stdout[-2000:]
    return proc.stdout


def test_vm_programs_run_cleanly_under_sanitizers(driver, tmp_path):
    lines, conditions = _programs()
    programs = tmp_path / "programs.txt"
    programs.write_text("\n".join(lines) + "\n")
    payloads = _payloads()
    files = []
    for i, data in enumerate(payloads):
        path = tmp_path / f"payload{i}.bin"
        path.write_bytes(data)
        files.append(str(path))
    out = _run(driver, ["4", "30", "12345", str(programs), *files])
    *mask_lines, summary = out.splitlines()
    loaded, refused, runs = map(int, summary.split()[1:])
    assert loaded > len(lines) - len(MALFORMED) and refused > 1000 and runs > 1000, summary

    # The sanitized build's masks are the extension's.
    got = {}
    for line in mask_lines:
        _, p, b, n, h = line.split()
        got[(int(p), int(b))] = (int(n), h)
    expected = {}
    for j, data in enumerate(payloads):
        for k, decode in enumerate((decode_traces, decode_logs)):
            try:
                batch = decode(data)
            except ValueError:
                continue
            for index, cond in conditions:
                if cond._vm.signal not in ("", ("traces", "logs")[k]):
                    continue  # the driver's prepare refuses it too
                mask = cond._vm.filter(batch)
                expected[(index, 2 * j + k)] = (len(mask), _fnv1a(mask.tobytes()))
    assert got == expected


def _opcodes(prog) -> set:
    names, pc = set(), 0
    while pc < len(prog.code):
        op = OPCODES[prog.code[pc]]
        names.add(op.name)
        pc += 1 + len(op.operands)
    return names


def test_damaged_programs_from_more_seeds_are_refused_or_run_cleanly(driver, tmp_path):
    """Many more damaged copies, from other seeds, of a few programs that between them use
    every opcode."""
    progs = [
        engine.compile_condition('span.attributes["a"] == resource.attributes["a"] or (span.kind '
                                 '+ 2 * span.status.code > 3 and not (scope.name == "a"))'),
        engine.compile_condition('(log.body == log.attributes["k"] and not true) or '
                                 'IsMatch(log.severity_text, "^a") or log.severity_number / 2 >= 1'),
        engine.compile_statement('set(span.attributes["k"], span.name) where span.kind == 1'),
        engine.compile_statement('delete_key(log.attributes, "a") where log.flags > 0'),
        engine.compile_statement('set(span.name, "x") where span.kind == 2'),
    ]
    assert all(p.native for p in progs)
    assert set().union(*(_opcodes(p.program) for p in progs)) == {op.name for op in OPCODES}
    programs = tmp_path / "programs.txt"
    programs.write_text("\n".join(_compiled(p.program) for p in progs) + "\n")
    rng = random.Random(5)
    files = []
    for i, signal in enumerate(("traces", "logs")):
        path = tmp_path / f"payload{i}.bin"
        path.write_bytes(build_request(signal, 1500, SeededValues(rng), rng).SerializeToString())
        files.append(str(path))
    for seed in ("1", "2", "3"):
        out = _run(driver, ["2", "300", seed, str(programs), *files])
        loaded, refused, runs = map(int, out.splitlines()[-1].split()[1:])
        assert loaded > 20 and refused > 500 and runs > 50, out.splitlines()[-1]


def test_the_extension_filter_gives_one_byte_per_record():
    # What the driver hashes: one 0/1 byte per record.
    rng = random.Random(3)
    batch = decode_traces(build_request("traces", 9, SeededValues(rng), rng).SerializeToString())
    mask = engine.compile_condition('span.name == "a"', "span")._vm.filter(batch)
    assert mask.dtype == np.uint8 and mask.shape == (9,) and set(mask.tolist()) <= {0, 1}
