"""The fast engine's Python face: conditions compiled to bytecode and run by the C VM.

    from ottl import engine
    from ottl._batch import decode_traces

    cond = engine.compile_condition('span.attributes["http.method"] == "POST" and span.kind == 2')
    mask = cond.filter(decode_traces(data))       # numpy bool, one per span

A condition the VM cannot run natively yet (a converter call, a nested key, the spanevent
context, ...) runs through the reference evaluator over the batch's records instead, with the
same result; ``Condition.native`` says which, and ``Condition.reason`` why not.
"""

from __future__ import annotations

from functools import cached_property
from typing import Optional, Union

import numpy as np

from ottl import _vm
from ottl._batch import LogBatch, SpanBatch
from ottl._vm import VMError, VMNeedsReference, VMProgram
from ottl.compiler.compile import NotNative
from ottl.compiler.compile import compile_condition as _compile_condition
from ottl.compiler.compile import compile_statement as _compile_statement
from ottl.compiler.disasm import disassemble
from ottl.compiler.opcodes import FIELD_INDEX
from ottl.compiler.program import (
    ParentWrite,
    Program,
    program_reads,
    program_writes,
    uses_cache,
)
from ottl.derive import DerivedColumns, Failure, NeedsReference
from ottl.eval.batch_model import parents_from_batch, payload_from_batch, record_context
from ottl.eval.interpreter import compile_condition as _reference_condition
from ottl.eval.processors import contexts_of
from ottl.eval.otlp_json import OtlpFormatError
from ottl.frontend import resolve_condition, resolve_statement
from ottl.lang.errors import OttlError
from ottl.mapedit import MapEditor
from ottl.id_writes import IdWriter
from ottl.parent_writes import ParentWriter
from ottl.resolved import RCondition, RStatement
from ottl.resolver import Options

Batch = Union[SpanBatch, LogBatch]

__all__ = ["Condition", "Statement", "compile_condition", "compile_statement", "VMError",
           "NeedsReference"]


def _own_keys(program: Program, context: str) -> Optional[frozenset[str]]:
    """The keys of the records' own attributes a program reads or writes; None when it
    touches that map whole, or runs in another context."""
    if context not in ("span", "log"):
        return None
    own = FIELD_INDEX["SPAN_ATTRS" if context == "span" else "LOG_ATTRS"]
    keys = set()
    for field_id, key in program_reads(program) + program_writes(program):
        if field_id == own:
            if key is None:
                return None
            keys.add(key)
    return frozenset(keys)


def _load(program: Program, gates: frozenset[str]) -> tuple[VMProgram, DerivedColumns]:
    """A compiled program in the VM (verified there) and its derived columns' functions."""
    tags, vals = program.const_arrays()
    vm = VMProgram(program.code, tags, vals, program.strings, program.nregs, program.nmasks)
    return vm, DerivedColumns(program, gates)


class Condition:
    """One compiled condition: ``filter(batch)`` is the mask of records where it holds."""

    def __init__(self, resolved: RCondition, options: Optional[Options] = None) -> None:
        self.resolved = resolved
        self.text = resolved.text
        self.context = resolved.context
        self.program: Optional[Program] = None
        self.reason = ""
        self._vm: Optional[VMProgram] = None
        try:
            self.program = _compile_condition(resolved.expr, resolved.context, resolved.text)
        except NotNative as exc:
            self.reason = str(exc)
        gates = options.gates if options else frozenset()
        self._uses_cache = self.program is not None and uses_cache(self.program)
        if self.program is not None:
            self._vm, self._derived = _load(self.program, gates)
        self._reference = _reference_condition(resolved, gates)

    @property
    def native(self) -> bool:
        """True when the C VM runs this condition."""
        return self._vm is not None

    @cached_property
    def attribute_keys(self) -> Optional[frozenset[str]]:
        """The keys of the records' own attributes this condition reads, when keys are all it
        reads of that map (what a projected batch must hold); None when it needs the whole
        map or does not run natively. Found once, from the bytecode."""
        if self.program is None:
            return None
        return _own_keys(self.program, self.context)

    def _check_projection(self, batch: Batch) -> None:
        if batch.attributes_projected:
            needed, held = self.attribute_keys, batch.attribute_keys or frozenset()
            if needed is None or not needed <= held:
                missing = "the whole map" if needed is None else ", ".join(sorted(needed - held))
                raise ValueError(f"'{self.text}' reads {missing}, but the batch was decoded "
                                 f"with attribute_keys={sorted(held)}")

    def filter(self, batch: Batch) -> np.ndarray:
        """A bool array with one entry per record of ``batch``: True where the condition holds.
        Raises ``OttlRuntimeError`` when the reference evaluator fails on a record."""
        expected = "traces" if self.context in ("span", "spanevent") else "logs"
        signal = "traces" if isinstance(batch, SpanBatch) else "logs"
        if self.context in ("span", "log") and signal != expected:
            raise ValueError(f"a {self.context} condition cannot run over a "
                             f"{type(batch).__name__}")
        if self._vm is not None:
            try:
                return self.native_filter(batch)
            except NeedsReference:
                pass
        return self.reference_filter(batch)

    def native_filter(self, batch: Batch,
                      errors: Optional[list[tuple[int, OttlError]]] = None,
                      judged: Optional[np.ndarray] = None) -> np.ndarray:
        """``filter`` on the VM only: raises ``NeedsReference`` where this batch needs the
        reference evaluator (a converter that fails or returns what the VM cannot hold).

        With ``errors`` (a list), a converter that fails on some records does not: those
        records are decided one by one by the reference evaluator, which gives the exact
        outcome (the failing call may sit where evaluation never reaches it), and where the
        condition itself fails there, it holds false and (record, the reference's error) is
        appended; only records in ``judged`` (default: all) are decided so and reported, the
        others hold false (their outcome does not matter to the caller)."""
        if self._vm is None:
            raise NeedsReference(self.reason)
        self._check_projection(batch)
        if self._uses_cache:
            _vm.reset_cache(batch)  # a condition alone sees each record's cache fresh
        failures: Optional[list[Failure]] = [] if errors is not None else None
        try:
            derived = (self._derived.compute(batch, failures, every=True)
                       if len(self._derived) else ())
            held = self._vm.filter(batch, derived).view(np.bool_)
        except VMNeedsReference as exc:
            raise NeedsReference(str(exc)) from None
        if not failures:
            return held
        assert errors is not None
        undecided = np.zeros(len(batch), dtype=np.bool_)
        for f in failures:
            undecided |= f.rows
        held = held & ~undecided
        if judged is not None:
            undecided &= judged
        if undecided.any():
            if batch.attributes_projected:
                raise NeedsReference(f"'{self.text}' fails on some records of a projected "
                                     "batch")
            parents = parents_from_batch(batch)
            for row in np.flatnonzero(undecided).tolist():
                try:
                    ctx = record_context(batch, row, parents)
                except OtlpFormatError as exc:  # an id the evaluator's model cannot hold
                    raise NeedsReference(str(exc)) from None
                try:
                    held[row] = bool(self._reference.eval(ctx))
                except OttlError as exc:
                    errors.append((row, exc))
        return held

    def reference_filter(self, batch: Batch) -> np.ndarray:
        """The same mask, computed by the reference evaluator (the oracle of the VM)."""
        if self.context not in ("span", "log"):
            raise ValueError(f"filter() masks records; a {self.context} condition does not "
                             "select spans or log records")
        payload = payload_from_batch(batch)
        return np.fromiter((self._reference.eval(ctx) for ctx in contexts_of(payload, self.context)),
                           dtype=np.bool_, count=len(batch))

    def disassemble(self) -> str:
        """The bytecode as text (empty when the condition does not run natively)."""
        return disassemble(self.program) if self.program is not None else ""


def compile_condition(text: str, context: Optional[str] = None,
                      options: Optional[Options] = None) -> Condition:
    """Parse, resolve and compile one condition (context inferred from its paths if omitted)."""
    return Condition(resolve_condition(text, context, options), options)


class Statement:
    """One compiled statement: ``execute(batch)`` applies it to the batch in place.

    Only native statements run on a batch (a batch cannot take the reference evaluator's
    records back record by record); ``ottl.pipeline.TransformPipeline`` and ``ottl.run`` send a
    group with any non-native statement through the reference evaluator instead.
    """

    def __init__(self, resolved: RStatement, options: Optional[Options] = None) -> None:
        self.resolved = resolved
        self.text = resolved.text
        self.context = resolved.context
        self.program: Optional[Program] = None
        self.reason = ""
        self._vm: Optional[VMProgram] = None
        self._options = options
        gates = options.gates if options else frozenset()
        try:
            self.program = _compile_statement(resolved, gates)
        except NotNative as exc:
            self.reason = str(exc)
        self._map_editor: Optional[MapEditor] = None
        self._parent_writer: Optional[ParentWriter] = None
        self._id_writer: Optional[IdWriter] = None
        # per row of the resources or scopes table: written by the last execute (None: none)
        self.last_parents_written: Optional[np.ndarray] = None
        self.uses_cache = self.program is not None and uses_cache(self.program)
        if self.program is not None:
            self._vm, self._derived = _load(self.program, gates)
            if self.program.parent_write is not None:
                self._parent_writer = ParentWriter(self.program.parent_write, gates)
            if self.program.id_write is not None:
                self._id_writer = IdWriter(self.program.id_write, self.text)
            edit = self.program.map_edit
            if edit is not None:
                self._map_editor = MapEditor(edit.call, edit.field, self.program.source, gates,
                                             edit.source)

    @property
    def native(self) -> bool:
        return self._vm is not None

    def execute(self, batch: Batch, gate: Optional[np.ndarray] = None,
                errors: Optional[list[tuple[int, Exception]]] = None,
                fresh_cache: bool = True) -> np.ndarray:
        """Applies the statement to the records ``gate`` allows (all by default); returns the
        bool mask of the records where it ran (its where clause held, and it did not fail).
        Raises ``NeedsReference`` where this batch needs the reference evaluator: before
        changing anything, except when the converter (or one-value editor) whose result the
        statement sets fails on a record it runs on; with ``errors`` (a list), such failures
        are appended instead, as (records, the reference's exception), and those records are
        left as they were, as the reference leaves a record its statement failed on.
        ``fresh_cache``: each record's ``cache`` starts empty, as for a statement alone (a
        transform group keeps it between its statements)."""
        if self._vm is None:
            raise ValueError(f"'{self.text}' does not run natively: {self.reason}")
        expected = SpanBatch if self.context == "span" else LogBatch
        if not isinstance(batch, expected):
            raise ValueError(f"a {self.context} statement cannot run over a "
                             f"{type(batch).__name__}")
        if batch.attributes_projected:
            needed, held = self.attribute_keys, batch.attribute_keys or frozenset()
            if not batch.attributes_complete or needed is None or not needed <= held:
                raise ValueError("a statement needs a whole batch, or one decoded with "
                                 "keep_other_attributes and attribute_keys holding every key "
                                 f"it reads and writes; this one holds {sorted(held)}"
                                 + ("" if batch.attributes_complete else " and no others"))
        if self.uses_cache and fresh_cache:
            _vm.reset_cache(batch)
        self.last_parents_written = None
        failures: list[Failure] = []
        try:
            derived = self._derived.compute(batch, failures) if len(self._derived) else ()
        except VMNeedsReference as exc:  # an id of irregular length: nothing was changed
            raise NeedsReference(str(exc)) from None
        except NeedsReference:  # nothing was changed
            split = self._split
            if split is None:
                raise
            return self._execute_split(split, batch, gate, errors, fresh_cache)
        try:
            ran = self._vm.execute(batch, gate, derived).view(np.bool_)
        except VMNeedsReference as exc:  # refused by the prepare: nothing was changed
            raise NeedsReference(str(exc)) from None
        if failures:
            ran = self._fail(ran, failures, errors)
        if self._map_editor is not None:  # over the records whose values did not fail
            more = self._map_editor.run(batch, ran, derived)
            if more:
                ran = self._fail(ran, more, errors)
        if self._id_writer is not None:
            ran = self._id_writer.run(batch, ran, derived, errors)
        if self._parent_writer is not None:
            ran, self.last_parents_written = self._parent_writer.run(batch, ran, derived,
                                                                     errors)
        return ran

    @property
    def parent_write(self) -> Optional[ParentWrite]:
        """The resource's or scope's attribute this record statement sets, if it sets one."""
        return self.program.parent_write if self.program is not None else None

    @cached_property
    def _split(self) -> Optional[tuple[Condition, "Statement"]]:
        """The where clause as a condition and the statement without it, both native: for a
        batch where the clause's converters fail on some records, which the condition then
        decides one by one with the reference evaluator (None without a where clause, or
        when the clause reads the cache, which a condition alone would see fresh)."""
        r = self.resolved
        if r.where is None or self.uses_cache:
            return None
        where = Condition(RCondition(r.context, r.where, r.text), self._options)
        body = Statement(RStatement(r.context, r.editor, None, r.text), self._options)
        return (where, body) if where.native and body.native else None

    def _execute_split(self, split: tuple[Condition, "Statement"], batch: Batch,
                       gate: Optional[np.ndarray], errors: Optional[list[tuple[int, Exception]]],
                       fresh_cache: bool) -> np.ndarray:
        """The statement with its where clause decided first: where the clause fails on a
        record the statement fails there (the reference's error, for the error mode; without
        ``errors``, ``NeedsReference`` before anything changes), and the rest runs where the
        clause holds."""
        where, body = split
        failed: list[tuple[int, OttlError]] = []
        held = where.native_filter(batch, failed, judged=gate)
        if failed and errors is None:
            raise NeedsReference(f"'{self.text}' fails on {len(failed)} record(s) of this "
                                 f"batch: {failed[0][1]}")
        if errors is not None:
            errors.extend((1, exc) for _, exc in failed)
        ran = body.execute(batch, held if gate is None else gate & held, errors, fresh_cache)
        self.last_parents_written = body.last_parents_written
        return ran

    @cached_property
    def attribute_keys(self) -> Optional[frozenset[str]]:
        """The keys of the records' own attributes this statement reads or writes, when keys
        are all it touches of that map (what a batch decoded with keep_other_attributes must
        hold); None when it needs the whole map (reads it whole, or edits it as a map) or
        does not run natively. Found once, from the bytecode."""
        if self.program is None or self._map_editor is not None:
            return None
        return _own_keys(self.program, self.context)

    def _fail(self, ran: np.ndarray, failures: list[Failure],
              errors: Optional[list[tuple[int, Exception]]]) -> np.ndarray:
        """``ran`` without the records the set's value failed on (the VM set nil there, which
        writes nothing); the failures on records the statement ran on go to ``errors``."""
        hits = []
        for f in failures:
            hit = int((ran & f.rows).sum())
            if hit:
                hits.append((hit, f.error))
            ran = ran & ~f.rows
        if hits and errors is None:
            raise NeedsReference(f"'{self.text}' fails on {sum(h for h, _ in hits)} record(s) "
                                 f"of this batch: {hits[0][1]}")
        if errors is not None:
            errors.extend(hits)
        return ran

    def disassemble(self) -> str:
        return disassemble(self.program) if self.program is not None else ""


def compile_statement(text: str, context: Optional[str] = None,
                      options: Optional[Options] = None) -> Statement:
    """Parse, resolve and compile one statement (context inferred from its paths if omitted)."""
    return Statement(resolve_statement(text, context, options), options)
