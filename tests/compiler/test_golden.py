"""Golden disassembly: representative conditions compiled, shown, and compared with
``golden/<name>.txt``; plus the reasons given for what the VM does not run natively.

Run with ``UPDATE_GOLDEN=1`` (as tests/lang/test_golden.py) to rewrite the files, then read the
diff before committing it. Every golden program is also loaded by the C verifier, so a golden
file cannot hold bytecode the VM would refuse.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ottl import engine
from ottl.compiler.opcodes import FIELD_INDEX

GOLDEN = Path(__file__).parent / "golden"

# name -> (context, condition)
CASES: dict[str, tuple[str, str]] = {
    "span_string_field": ("span", 'span.name == "GET /users"'),
    "span_enums": ("span", "span.kind == SPAN_KIND_SERVER and span.status.code != STATUS_CODE_ERROR"),
    "span_string_fields_path_vs_path": (
        "span", 'span.trace_state != "" and span.status.message == span.name'),
    "span_time_math": ("span", "span.end_time_unix_nano - span.start_time_unix_nano > 1000000"),
    "span_dropped_counts_math": (
        "span", ("span.dropped_attributes_count + span.dropped_events_count * 2 "
                ">= span.dropped_links_count / 3")),
    "attributes_of_span_resource_scope": (
        "span", ('span.attributes["http.method"] == "POST" or resource.attributes["service.name"] '
                '== "cart" or scope.attributes["k"] != nil')),
    "parent_fields": (
        "log", ('scope.name == "lib" and scope.version != "" and scope.schema_url == '
               'resource.schema_url and resource.dropped_attributes_count < '
               'scope.dropped_attributes_count')),
    "log_fields": (
        "log", ('log.severity_number >= SEVERITY_NUMBER_INFO and log.severity_text != "DEBUG" '
               'and log.flags == 1')),
    "log_body": ("log", 'log.body == "hello" or log.body > 3 or log.body == 0x00ff'),
    "log_attributes_and_times": (
        "log", ('log.attributes["user"] == nil and log.time_unix_nano < '
               'log.observed_time_unix_nano and log.event_name == "login" and '
               'log.dropped_attributes_count == 0')),
    "constants_of_each_type": (
        "span", ('span.attributes["v"] == nil or span.attributes["v"] == true or '
                'span.attributes["v"] == -9223372036854775808 or span.attributes["v"] == 1.5 '
                'or span.attributes["v"] == "s" or span.attributes["v"] == 0xcafe')),
    "folding_arithmetic": ("span", "1 + 2 * 3 == 7 and span.kind == 10 / 5 - -1"),
    "folding_to_a_constant": ("span", '"a" < "b" or span.name == "x"'),
    "folding_false": ("span", "false and span.kind == 1 or 1 > 2"),
    "constant_right_sides": ("span", "(span.kind == 1 and true) or (span.kind == 2 or true)"),
    "constant_false_right_side": ("span", "span.kind == 1 and not true"),
    "nested_and_or_not": (
        "span", ('not (span.kind == 1 and (span.name == "a" or span.name == "b")) or '
                'span.status.code == 2')),
    "hoisted_repeated_loads": (
        "span", ('span.attributes["a"] == 1 or span.attributes["a"] == 2 or '
                'span.attributes["a"] >= span.attributes["b"]')),
    "constant_on_the_left": ("span", '3 < span.kind and "x" == span.name'),
    "string_escapes": ("span", r'span.name == "quote \" back \\ é"'),
    "id_strings": ("span", ('span.parent_span_id.string == "" and span.trace_id.string != '
                            '"0102030405060708090a0b0c0d0e0f10"')),
    "ids": ("log", ("log.span_id == SpanID(0x0000000000000000) or log.trace_id != "
                    "TraceID(0x0102030405060708090a0b0c0d0e0f10)")),
}

# name -> (context, statement): statements, with the derived columns and map edits they use.
STATEMENT_CASES: dict[str, tuple[str, str]] = {
    "statement_set_attribute_where": (
        "span", 'set(span.attributes["env"], "prod") where span.kind == SPAN_KIND_SERVER'),
    "statement_concat_of_three_parts": (
        "span", 'set(span.name, Concat([span.name, span.attributes["k"], resource.attributes["svc"]], "/"))'),
    "statement_replace_pattern_one_value": (
        "log", 'replace_pattern(log.attributes["url"], "token=[^&]*", "token=***")'),
    "statement_keep_keys_map_edit": (
        "span", 'keep_keys(span.attributes, ["http.method", "http.route"]) where span.name != ""'),
    "statement_expressions_as_derived_columns": (
        "log", ('set(log.attributes["ms"], Double(log.attributes["s"]) * 1000.0) where '
                'log.body["level"] == "error" and Len(Split(log.body["path"], "/")[1]) > 0')),
}


def render(name: str) -> str:
    if name in STATEMENT_CASES:
        context, text = STATEMENT_CASES[name]
        compiled = engine.compile_statement(text, context)
        extra = ""
        program = compiled.program
        if program is not None:
            for i, d in enumerate(program.derived):
                kind = "editor" if d.editor else "expression" if d.expression else "converter"
                extra += f"; derived {i}: {kind} `{d.name}`, parts {list(d.sources)}\n"
            if program.map_edit is not None:
                extra += (f"; map edit: {program.map_edit.call.spec.name} of field "
                          f"{program.map_edit.field}\n")
    else:
        context, text = CASES[name]
        compiled = engine.compile_condition(text, context)
        extra = ""
    assert compiled.native, f"{name}: {compiled.reason}"
    return (f"# Generated by tests/compiler/test_golden.py ({name}); UPDATE_GOLDEN=1 rewrites it.\n"
            + compiled.disassemble() + extra)


def test_every_golden_file_has_a_case():
    stale = {p.stem for p in GOLDEN.glob("*.txt")} - set(CASES) - set(STATEMENT_CASES)
    assert not stale, f"golden files without a case: {sorted(stale)}"


@pytest.mark.parametrize("name", sorted(CASES) + sorted(STATEMENT_CASES))
def test_golden(name: str):
    path = GOLDEN / f"{name}.txt"
    actual = render(name)
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.write_text(actual, encoding="utf-8")
    assert path.exists(), f"{path.name} missing: run with UPDATE_GOLDEN=1"
    assert path.read_text(encoding="utf-8") == actual


@pytest.mark.parametrize("text, context, reason", [
    # converter calls the VM cannot take as derived columns
    ('Concat([' + ", ".join(["span.name"] * 9) + '], "") == ""', "span",
     "9 parts that vary by record (at most 8 are native)"),
    ('Len(span.cache) > 1', "span", "the path span.cache (only one string key"),
    ('UUID()[0] > span.name', "span", "the converter UUID"),  # keys on a per-record call
    # keys read from the record, keys on a string, on an id
    ('span.attributes[0] == 1', "span", "only one string key is native"),
    ('span.trace_state["k"] == "v"', "span", "keys on span.trace_state"),
    ('log.cache[log.severity_text] == "v"', "log", "the path log.cache[<expr>]"),
    ('Split(span.name, ",")[span.kind] == "v"', "span", "keys that are not literals on the "
                                                      "result of Split"),
    # paths the VM has no field for
    ('IsMap(span.cache)', "span", "the path span.cache (only one string key"),
    ('span.trace_id == ProfileID(0x0102030405060708090a0b0c0d0e0f10)', "span",
     "ProfileID of constants gives a ProfileID"),
    # other contexts
    ('spanevent.name == "e"', "spanevent", "conditions in the spanevent context"),
    ('resource.attributes["a"] == 1', "resource", "conditions in the resource context"),
    ('scope.name == "s"', "scope", "conditions in the scope context"),
    # expressions whose parts the VM cannot load
    ("span.kind * 1.5 > Len(span.cache)", "span", "the path span.cache"),
    ("span.kind + Len(UUID()[0]) > 2", "span", "the converter UUID"),
    ("span.kind * " + " * ".join(["span.attributes[\"n\"]"] * 8) + " > 1", "span",
     "an expression with 9 parts that vary by record (at most 8 are native)"),
    # constants that fail: the failure must happen per record
    ("1 / 0 == span.kind", "span", "a constant expression that fails: attempted to divide by 0"),
    ("span.kind == 9223372036854775807 / 0", "span", "a constant expression that fails"),
    # values that are not scalars
    ('span.attributes["a"] == ["x"]', "span", "list values"),
    ('span.attributes["a"] == {"k": 1}', "span", "map values"),
])
def test_not_native_reasons(text: str, context: str, reason: str):
    cond = engine.compile_condition(text, context)
    assert not cond.native
    assert reason in cond.reason, cond.reason
    assert cond.program is None and cond.disassemble() == ""


@pytest.mark.parametrize("text, field", [
    ('set(span.trace_id.string, "0102030405060708090a0b0c0d0e0f10")', "SPAN_TRACE_ID_STRING"),
    ('set(log.span_id.string, log.attributes["id"])', "LOG_SPAN_ID_STRING"),
    ("set(span.parent_span_id, span.span_id)", "SPAN_PARENT_SPAN_ID"),
])
def test_a_set_of_an_id_gives_where_it_runs_and_the_write(text: str, field: str):
    # The program gives where it runs; ottl.id_writes parses (or checks) and writes each value.
    statement = engine.compile_statement(text)
    assert statement.native, statement.reason
    write = statement.program.id_write
    assert write is not None and write.field == FIELD_INDEX[field]


def test_other_editors_of_an_id_string_stay_with_the_reference():
    statement = engine.compile_statement('replace_pattern(span.span_id.string, "0", "1")')
    assert not statement.native
    assert "span.span_id.string" in statement.reason, statement.reason
