"""The transform and filter processors over decoded payloads, with the collector's error modes.

``TransformProcessor(groups)`` compiles config groups (``ottl.config.Group``) and ``process``
runs them over a ``Payload``: each group walks the records of its context (a resource group once
per resource, a span group once per span, ...), gated by the group's ``conditions`` (ORed), and
runs its statements in order, each record with a fresh cache.

``FilterProcessor(groups)`` drops every record for which any condition is true, then removes
scopes and resources left empty (a span event group removes events only; the span stays).

Error modes, as the processors define them:
- ``propagate``: the first error fails the whole payload, which is left unchanged;
- ``ignore``: the error is logged and the statement (or condition, which counts as false) is
  skipped; processing goes on;
- ``silent``: as ``ignore`` without the log line.
"""

from __future__ import annotations

import copy
import logging
from dataclasses import dataclass, field
from typing import Iterator, Optional, Sequence

from ottl.config import Group
from ottl.eval.interpreter import (
    Condition,
    Statement,
)
from ottl.eval.model import TransformContext
from ottl.eval.otlp_json import Payload
from ottl.frontend import EVALUATED_CONTEXTS, check_group
from ottl.lang.errors import OttlError
from ottl.resolver import Options

log = logging.getLogger("ottl")


class ProcessingError(OttlError):
    """A statement or condition failed in ``propagate`` mode; the payload was not changed."""

    kind = "processing error"


class GroupCompileError(ValueError):
    """A group did not compile; ``errors`` lists each problem (with carets)."""

    def __init__(self, errors: list[str]) -> None:
        self.errors = errors
        super().__init__("\n\n".join(errors))


@dataclass
class Stats:
    """What one ``process`` call did, for summaries and health gates."""

    records_in: int = 0
    records_out: int = 0
    dropped: int = 0
    statements_run: int = 0
    statement_errors: int = 0
    errors: list[str] = field(default_factory=list)


@dataclass
class _CompiledGroup:
    group: Group
    context: str
    statements: list[Statement]
    conditions: list[Condition]


def compile_groups(groups: Sequence[Group], options: Optional[Options] = None) -> list[_CompiledGroup]:
    """Check and build every group; all problems are reported together."""
    out: list[_CompiledGroup] = []
    problems: list[str] = []
    for group in groups:
        result = check_group(group, options, build=True)
        if result.error:
            problems.append(f"{group.where}: {result.error}")
            continue
        problems.extend(str(i.error) for i in result.items if i.error is not None)
        if not result.ok:
            continue
        assert result.context is not None
        if result.context not in EVALUATED_CONTEXTS:
            problems.append(f"{group.where}: the {result.context} context is not evaluated yet")
            continue
        statements = [i.compiled for i in result.items if isinstance(i.compiled, Statement)]
        conditions = [i.compiled for i in result.items if isinstance(i.compiled, Condition)]
        out.append(_CompiledGroup(group, result.context, statements, conditions))
    if problems:
        raise GroupCompileError(problems)
    return out


def contexts_of(payload: Payload, context: str) -> Iterator[TransformContext]:
    """Every record of ``context`` in the payload, as a fresh TransformContext."""
    for rx in payload.resources:
        if context == "resource":
            yield TransformContext("resource", rx)
            continue
        scopes = rx.scope_spans if payload.signal == "traces" else rx.scope_logs  # type: ignore[union-attr]
        for sx in scopes:
            if context == "scope":
                yield TransformContext("scope", rx, sx)
            elif context == "span":
                for span in sx.spans:
                    yield TransformContext("span", rx, sx, span=span)
            elif context == "spanevent":
                for span in sx.spans:
                    for i, event in enumerate(span.events):
                        yield TransformContext("spanevent", rx, sx, span=span, event=event,
                                               event_index=i)
            elif context == "log":
                for record in sx.log_records:
                    yield TransformContext("log", rx, sx, log=record)


def _record_count(payload: Payload) -> int:
    if payload.signal == "traces":
        return sum(len(s.spans) for r in payload.resources for s in r.scope_spans)  # type: ignore[union-attr]
    return sum(len(s.log_records) for r in payload.resources for s in r.scope_logs)  # type: ignore[union-attr]


class ErrorPolicy:
    def __init__(self, mode: str, stats: Stats) -> None:
        self.mode = mode
        self.stats = stats

    def handle(self, exc: OttlError, what: str) -> None:
        """Raise in propagate mode; otherwise count (and log, in ignore mode) and go on."""
        self.stats.statement_errors += 1
        if self.mode == "propagate":
            raise ProcessingError(exc.message, exc.text, exc.span) from exc
        if len(self.stats.errors) < 100:
            self.stats.errors.append(str(exc))
        if self.mode == "ignore":
            log.warning("failed to execute %s: %s", what, exc.message,
                        extra={"ottl_text": exc.text})


def any_holds(conditions: list[Condition], ctx: TransformContext, policy: ErrorPolicy) -> bool:
    """Whether any condition holds (ORed); a failing one counts as false unless it propagates."""
    for condition in conditions:
        try:
            if condition.eval(ctx):
                return True
        except OttlError as exc:
            policy.handle(exc, f"condition '{condition.text}'")
    return False


class _Processor:
    """Compiles groups once; ``process`` runs them over a copy of a payload."""

    def __init__(self, groups: Sequence[Group], options: Optional[Options] = None) -> None:
        self.groups = compile_groups(groups, options)

    def process(self, payload: Payload) -> tuple[Payload, Stats]:
        """Run every group of the payload's signal over a copy; return it and what happened."""
        work = copy.deepcopy(payload)
        stats = Stats(records_in=_record_count(work))
        for cg in self.groups:
            if cg.group.signal == work.signal:
                self._run_group(cg, work, ErrorPolicy(cg.group.error_mode, stats))
        self._finish(work)
        stats.records_out = _record_count(work)
        stats.dropped = stats.records_in - stats.records_out
        return work, stats

    def _run_group(self, cg: _CompiledGroup, work: Payload, policy: ErrorPolicy) -> None:
        raise NotImplementedError

    def _finish(self, work: Payload) -> None:
        pass


class TransformProcessor(_Processor):
    def _run_group(self, cg: _CompiledGroup, work: Payload, policy: ErrorPolicy) -> None:
        for ctx in contexts_of(work, cg.context):
            if cg.conditions and not any_holds(cg.conditions, ctx, policy):
                continue
            for statement in cg.statements:
                try:
                    if statement.execute(ctx):
                        policy.stats.statements_run += 1
                except OttlError as exc:
                    policy.handle(exc, f"statement '{statement.text}'")


class FilterProcessor(_Processor):
    def _run_group(self, cg: _CompiledGroup, work: Payload, policy: ErrorPolicy) -> None:
        doomed = [ctx for ctx in contexts_of(work, cg.context) if any_holds(cg.conditions, ctx, policy)]
        _drop(work, cg.context, doomed)

    def _finish(self, work: Payload) -> None:
        _prune(work)


def _drop(payload: Payload, context: str, doomed: list[TransformContext]) -> None:
    if not doomed:
        return
    ids = {id(_target(ctx)) for ctx in doomed}
    if context == "resource":
        payload.resources[:] = [r for r in payload.resources if id(r) not in ids]
        return
    for rx in payload.resources:
        scopes = rx.scope_spans if payload.signal == "traces" else rx.scope_logs  # type: ignore[union-attr]
        if context == "scope":
            scopes[:] = [s for s in scopes if id(s) not in ids]
            continue
        for sx in scopes:
            if context == "span":
                sx.spans[:] = [s for s in sx.spans if id(s) not in ids]
            elif context == "spanevent":
                for span in sx.spans:
                    span.events[:] = [e for e in span.events if id(e) not in ids]
            elif context == "log":
                sx.log_records[:] = [x for x in sx.log_records if id(x) not in ids]


def _target(ctx: TransformContext) -> object:
    return {
        "resource": ctx.resource,
        "scope": ctx.scope,
        "span": ctx.span,
        "spanevent": ctx.event,
        "log": ctx.log,
    }[ctx.context]


def _prune(payload: Payload) -> None:
    """Remove scopes without records and resources without scopes, as the filter does."""
    for rx in payload.resources:
        if payload.signal == "traces":
            rx.scope_spans[:] = [s for s in rx.scope_spans if s.spans]  # type: ignore[union-attr]
        else:
            rx.scope_logs[:] = [s for s in rx.scope_logs if s.log_records]  # type: ignore[union-attr]
    payload.resources[:] = [
        r for r in payload.resources
        if (r.scope_spans if payload.signal == "traces" else r.scope_logs)  # type: ignore[union-attr]
    ]
