"""Every pair of interesting values, compared every way, by the VM and by the reference.

A deterministic complement to test_differential.py: one batch holds each value of VALUES
against each other (a resource per value, a record per value under it, so record and parent
attributes meet in every combination; the log body takes the record's value too), and every
comparison operator runs between the paths and against every kind of literal. Random
generation reaches a pair like "nil against an empty byte string" only now and then; here each
one is there every run. 2116 records: two full blocks and a partial one.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from engine_strategies import (
    ABSENT_WORDS,
    DOUBLES,
    ENUMS,
    INTS,
    WORDS,
    _float_text,
    quote,
)
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import (
    ExportLogsServiceRequest,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
)
from opentelemetry.proto.common.v1 import common_pb2

from ottl import engine
from ottl._batch import decode_logs, decode_traces
from ottl.eval.batch_model import payload_from_batch
from ottl.eval.processors import contexts_of

AV = common_pb2.AnyValue
MISSING = object()    # no such key
NO_VALUE = object()   # a KeyValue with no value


def _arr(*items):
    out = AV()
    out.array_value.SetInParent()
    out.array_value.values.extend(items)
    return out


def _kv(*pairs):
    out = AV()
    out.kvlist_value.SetInParent()
    for key, value in pairs:
        kv = out.kvlist_value.values.add(key=key)
        if value is not None:
            kv.value.CopyFrom(value)
    return out


VALUES = [
    MISSING, NO_VALUE, AV(),
    AV(string_value=""), AV(string_value="a"), AV(string_value="b"), AV(string_value="é"),
    AV(int_value=0), AV(int_value=1), AV(int_value=-1), AV(int_value=2), AV(int_value=2**31),
    AV(int_value=2**53 + 1), AV(int_value=2**63 - 1), AV(int_value=-(2**63)),
    AV(double_value=0.0), AV(double_value=-0.0), AV(double_value=1.5), AV(double_value=2.0),
    AV(double_value=math.nan), AV(double_value=math.inf), AV(double_value=-math.inf),
    AV(double_value=9.223372036854776e18), AV(double_value=2.0**53),
    AV(bool_value=True), AV(bool_value=False),
    AV(bytes_value=b""), AV(bytes_value=b"a"), AV(bytes_value=b"\x00\xff"),
    _arr(), _arr(AV(int_value=1)), _arr(AV(double_value=1.0)), _arr(AV(string_value="a")),
    _arr(AV(int_value=1), AV(string_value="a")), _arr(AV(double_value=math.nan)),
    _arr(_arr()), _arr(AV()),
    _kv(), _kv(("k", AV(int_value=1))), _kv(("k", AV(double_value=1.0))),
    _kv(("k", AV(int_value=2)), ("k", AV(int_value=1))),  # duplicate key: the last one counts
    _kv(("k", AV(int_value=1)), ("a", None)), _kv(("a", None), ("k", AV(int_value=1))),
    _kv(("a", AV())), _kv(("a", _arr(AV(bytes_value=b""))), ("k", AV(int_value=1))),
    _kv(("k", _kv(("k", AV(bool_value=True))))),
]


def _set(kvs, key: str, value) -> None:
    if value is MISSING:
        return
    kv = kvs.add(key=key)
    if value is not NO_VALUE:
        kv.value.CopyFrom(value)


def _request(signal: str) -> bytes:
    """A resource per value (attribute "a"), under it one record per value: attribute "a"
    (and the log body) the record's value, attribute "b" the value after it."""
    req = ExportTraceServiceRequest() if signal == "traces" else ExportLogsServiceRequest()
    n = len(VALUES)
    for i, rv in enumerate(VALUES):
        group = (req.resource_spans if signal == "traces" else req.resource_logs).add()
        _set(group.resource.attributes, "a", rv)
        sg = (group.scope_spans if signal == "traces" else group.scope_logs).add()
        _set(sg.scope.attributes, "a", VALUES[(i * 7) % n])
        for j, v in enumerate(VALUES):
            rec = sg.spans.add() if signal == "traces" else sg.log_records.add()
            _set(rec.attributes, "a", v)
            _set(rec.attributes, "b", VALUES[(j + i + 1) % n])
            if signal == "logs" and v is not MISSING and v is not NO_VALUE:
                rec.body.CopyFrom(v)
            if signal == "logs" and v is NO_VALUE:
                rec.body.SetInParent()  # a body message with nothing set
    return req.SerializeToString()


def _literals(context: str) -> list[str]:
    return (["nil", "true", "false"] + [str(i) for i in INTS]
            + [_float_text(d) for d in DOUBLES if math.isfinite(d)]
            + [quote(w) for w in WORDS[:6] + ABSENT_WORDS] + ["0x61", "0x00ff", "0x00"]
            + ENUMS[context][:2])


OPS = ["==", "!=", "<", "<=", ">", ">="]


def _conditions(context: str) -> list[str]:
    own = f'{context}.attributes["a"]'
    subjects = [own] + (["log.body"] if context == "log" else [])
    out = []
    for op in OPS:
        for left in subjects:
            out += [f"{left} {op} {lit}" for lit in _literals(context)]
            out += [f"{left} {op} {right}" for right in
                    (f'{context}.attributes["b"]', 'resource.attributes["a"]',
                     'scope.attributes["a"]', f'{context}.attributes["missing"]')]
        out.append(f'{own} {op} {context}.attributes["a"]')
    if context == "log":
        out += [f'log.body {op} log.attributes["a"]' for op in OPS]
    return out


@pytest.fixture(scope="module", params=["traces", "logs"])
def matrix(request):
    signal = request.param
    batch = (decode_traces if signal == "traces" else decode_logs)(_request(signal))
    assert len(batch) == len(VALUES) ** 2
    return signal, batch, payload_from_batch(batch)


def test_every_pair_of_values_compares_as_in_the_reference(matrix, both_kernels):
    signal, batch, payload = matrix
    context = "span" if signal == "traces" else "log"
    n = len(VALUES)
    failures = []
    for text in _conditions(context):
        cond = engine.compile_condition(text, context)
        assert cond.native, (text, cond.reason)
        expected = np.fromiter((cond._reference.eval(ctx) for ctx in contexts_of(payload, context)),
                               dtype=np.bool_, count=len(batch))
        for kernels, got in both_kernels(cond, batch).items():
            if not np.array_equal(got, expected):
                rows = np.flatnonzero(got != expected)
                r = rows[0]
                failures.append(f"{kernels}: {text}: {len(rows)} rows differ, e.g. row {r}: "
                                f"resource value {VALUES[r // n]!r}, record value "
                                f"{VALUES[r % n]!r}; reference says {expected[r]}")
    assert not failures, "\n".join(failures[:20])


def test_the_public_reference_agrees_with_the_shortcut(matrix):
    signal, batch, payload = matrix
    context = "span" if signal == "traces" else "log"
    cond = engine.compile_condition(f'{context}.attributes["a"] == nil', context)
    shortcut = np.fromiter((cond._reference.eval(ctx) for ctx in contexts_of(payload, context)),
                           dtype=np.bool_, count=len(batch))
    assert np.array_equal(cond.reference_filter(batch), shortcut)
    assert 0 < shortcut.sum() < len(batch)
