"""Hypothesis strategies for the engine's differential tests: OTLP batches whose values collide
on purpose (a few keys, a few strings, the numbers where comparisons change behaviour), and OTTL
condition text over the paths, literals and operators the compiler runs natively.

Batches are built with the official protobuf classes and decoded by the native codec, as in
production. Large batches repeat a small pool of drawn records in drawn layouts (long runs of
one record, so whole blocks decide alike, or a shuffle), so a 10000-record batch costs little
to draw while its blocks still differ.
"""

from __future__ import annotations

import math
import random

from hypothesis import strategies as st
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import (
    ExportLogsServiceRequest,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
)
from opentelemetry.proto.common.v1 import common_pb2
from opentelemetry.proto.logs.v1 import logs_pb2
from opentelemetry.proto.resource.v1 import resource_pb2
from opentelemetry.proto.trace.v1 import trace_pb2

from ottl._batch import decode_logs, decode_traces
from ottl.config import Group, Located

AV = common_pb2.AnyValue

# ---- values ----------------------------------------------------------------------------------

# Strings the batches hold, and literals drawn from the same list so that they match.
WORDS = ["", "a", "b", "POST", "GET", "é", "a b", 'q"uote', "back\\slash", "zz"]
# Strings no batch holds (a literal of one is a constant the batch's string table lacks).
ABSENT_WORDS = ["absent", "A", "é!"]
KEYS = ["k", "a", "b", "http.method", ""]
MISSING_KEY = "missing"

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
INTS = [0, 1, -1, 2, 3, 7, 2**31 - 1, 2**31, -(2**31), -(2**31) - 1, 2**32 - 1, 2**32,
        2**53 + 1, 2**62, INT64_MAX, INT64_MIN]
DOUBLES = [0.0, -0.0, 0.5, 1.5, 2.0, 3.0, -1.0, math.nan, math.inf, -math.inf, 1e300, -1e300,
           9.223372036854776e18, 2.0**53]
BYTES = [b"", b"a", b"\x00\xff", b"\xca\xfe"]
# uint64 times: stay below 2**63 (the reference reads them unwrapped; the VM as int64).
TIMES = [0, 1, 1000, 1_700_000_000_000_000_000, 2**62 - 1, 2**62, 2**62 + 1, INT64_MAX - 1,
         INT64_MAX]
UINT32S = [0, 1, 2, 3, 2**31 - 1, 2**31, 2**32 - 1]
INT32S = [0, 1, 2, 3, 5, -1, 2**31 - 1, -(2**31)]

words = st.sampled_from(WORDS)
ints = st.one_of(st.sampled_from(INTS), st.integers(-3, 10))
doubles = st.sampled_from(DOUBLES)


def _scalar():
    return st.one_of(
        words.map(lambda s: AV(string_value=s)),
        ints.map(lambda i: AV(int_value=i)),
        doubles.map(lambda d: AV(double_value=d)),
        st.booleans().map(lambda b: AV(bool_value=b)),
        st.sampled_from(BYTES).map(lambda b: AV(bytes_value=b)),
        st.just(AV()),  # an AnyValue with nothing set: nil
    )


def _array(values):
    out = AV()
    out.array_value.SetInParent()
    out.array_value.values.extend(values)
    return out


def _kvlist(pairs):
    out = AV()
    out.kvlist_value.SetInParent()
    for key, value in pairs:
        kv = out.kvlist_value.values.add(key=key)
        if value is not None:
            kv.value.CopyFrom(value)
    return out


# Small containers from the same few keys and values, so that equal ones turn up.
any_values = st.recursive(
    _scalar(),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3).map(_array),
        st.lists(st.tuples(st.sampled_from(KEYS[:3]), st.one_of(st.none(), inner)),
                 max_size=3).map(_kvlist),
    ),
    max_leaves=4,
)


_maybe_value = st.one_of(st.none(), any_values)  # None: no value / no body


@st.composite
def key_values(draw):
    kv = common_pb2.KeyValue(key=draw(st.sampled_from(KEYS)))
    value = draw(_maybe_value)  # None: a KeyValue without a value
    if value is not None:
        kv.value.CopyFrom(value)
    return kv


attributes = st.lists(key_values(), max_size=4)  # duplicate keys happen: the last one wins


def _pick(rng: random.Random, interesting: list, lo: int, hi: int) -> int:
    """Mostly a value where comparisons change behaviour, sometimes any in [lo, hi]."""
    return rng.choice(interesting) if rng.random() < 0.8 else rng.randint(lo, hi)


# Scalar fields come from one seeded generator per batch rather than one draw each: drawing
# every field through Hypothesis made a batch of 7 records cost a fifth of a second. Attributes
# and bodies are drawn. A failure prints the records it involves.
seeds = st.integers(0, 2**32 - 1)


# The record makers take `values`: values.attributes() and values.body() give drawn
# attributes and bodies (DrawnValues) or seeded ones (SeededValues, for tests without
# Hypothesis).


class DrawnValues:
    def __init__(self, draw) -> None:
        self.draw = draw

    def attributes(self) -> list:
        return self.draw(attributes)

    def body(self):
        return self.draw(_maybe_value)


class SeededValues:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def value(self, depth: int = 0):
        rng = self.rng
        kind = rng.randrange(8 if depth < 3 else 6)
        if kind == 0:
            return AV(string_value=rng.choice(WORDS))
        if kind == 1:
            return AV(int_value=rng.choice(INTS))
        if kind == 2:
            return AV(double_value=rng.choice(DOUBLES))
        if kind == 3:
            return AV(bool_value=rng.random() < 0.5)
        if kind == 4:
            return AV(bytes_value=rng.choice(BYTES))
        if kind == 5:
            return AV()
        if kind == 6:
            return _array([self.value(depth + 1) for _ in range(rng.randrange(4))])
        return _kvlist([(rng.choice(KEYS[:3]), self.maybe(depth + 1))
                        for _ in range(rng.randrange(4))])

    def maybe(self, depth: int = 0):
        return None if self.rng.random() < 0.15 else self.value(depth)

    def attributes(self) -> list:
        out = []
        for _ in range(self.rng.randrange(5)):
            kv = common_pb2.KeyValue(key=self.rng.choice(KEYS))
            value = self.maybe()
            if value is not None:
                kv.value.CopyFrom(value)
            out.append(kv)
        return out

    def body(self):
        return self.maybe()


def resource(values, rng: random.Random):
    r = resource_pb2.Resource(dropped_attributes_count=_pick(rng, UINT32S, 0, 2**32 - 1))
    r.attributes.extend(values.attributes())
    return r


def scope(values, rng: random.Random):
    s = common_pb2.InstrumentationScope(name=rng.choice(WORDS), version=rng.choice(WORDS),
                                        dropped_attributes_count=_pick(rng, UINT32S, 0, 2**32 - 1))
    s.attributes.extend(values.attributes())
    return s


def _id(rng: random.Random, width: int) -> bytes:
    # absent, all zero (present on the wire; its `.string` is "" as an absent one's), or random
    roll = rng.random()
    return b"" if roll < 0.45 else bytes(width) if roll < 0.55 else rng.randbytes(width)


def span(values, rng: random.Random):
    s = trace_pb2.Span(
        trace_id=_id(rng, 16), span_id=_id(rng, 8), parent_span_id=_id(rng, 8),
        trace_state=rng.choice(WORDS), name=rng.choice(WORDS),
        kind=_pick(rng, INT32S, -(2**31), 2**31 - 1),
        start_time_unix_nano=_pick(rng, TIMES, 0, INT64_MAX),
        end_time_unix_nano=_pick(rng, TIMES, 0, INT64_MAX),
        dropped_attributes_count=_pick(rng, UINT32S, 0, 2**32 - 1),
        dropped_events_count=_pick(rng, UINT32S, 0, 2**32 - 1),
        dropped_links_count=_pick(rng, UINT32S, 0, 2**32 - 1),
        flags=_pick(rng, UINT32S, 0, 2**32 - 1),
    )
    s.attributes.extend(values.attributes())
    if rng.random() < 0.5:
        s.status.SetInParent()
        s.status.message = rng.choice(WORDS)
        s.status.code = _pick(rng, [0, 1, 2, 0, 1, 2, *INT32S], -(2**31), 2**31 - 1)
    return s


def log_record(values, rng: random.Random):
    r = logs_pb2.LogRecord(
        time_unix_nano=_pick(rng, TIMES, 0, INT64_MAX),
        observed_time_unix_nano=_pick(rng, TIMES, 0, INT64_MAX),
        severity_number=_pick(rng, [0, 1, 9, 12, 17, 24, *INT32S], -(2**31), 2**31 - 1),
        severity_text=rng.choice(WORDS), dropped_attributes_count=_pick(rng, UINT32S, 0, 2**32 - 1),
        flags=_pick(rng, UINT32S, 0, 2**32 - 1), trace_id=_id(rng, 16), span_id=_id(rng, 8),
        event_name=rng.choice(WORDS),
    )
    body = values.body()  # None: no body at all
    if body is not None:
        r.body.CopyFrom(body)
    r.attributes.extend(values.attributes())
    return r


# ---- batches ---------------------------------------------------------------------------------

SIGNALS = {
    # signal: (request class, group field, scope field, record field, record maker, decode)
    "traces": (ExportTraceServiceRequest, "resource_spans", "scope_spans", "spans", span,
               decode_traces),
    "logs": (ExportLogsServiceRequest, "resource_logs", "scope_logs", "log_records",
             log_record, decode_logs),
}


def _layout(rng: random.Random, kind: str, n: int, pool: int) -> list[int]:
    """Which pool record each of n rows repeats."""
    if kind == "shuffle":
        return [rng.randrange(pool) for _ in range(n)]
    if kind == "mostly-one":
        rows = [0] * n
        for _ in range(rng.randrange(0, 4)):
            rows[rng.randrange(n)] = rng.randrange(pool)
        return rows
    rows: list[int] = []  # runs: whole blocks of one record
    while len(rows) < n:
        rows += [rng.randrange(pool)] * rng.choice([1, 5, 300, 1024, 2000])
    return rows[:n]


def _splits(rng: random.Random, n: int, parts: int) -> list[int]:
    """n rows cut into `parts` consecutive groups (some may be empty)."""
    cuts = sorted(rng.randrange(n + 1) for _ in range(parts - 1))
    bounds = [0, *cuts, n]
    return [bounds[i + 1] - bounds[i] for i in range(parts)]


def build_request(signal: str, size: int, values, rng: random.Random, pool_size: int = 0,
                  layout: str = "runs"):
    """A request of exactly `size` records of `signal` in 1-3 resources of 1-3 scopes each (a
    few of them with no records). With pool_size, the records repeat a pool of that many in
    the given layout."""
    req_cls, group_field, scope_field, record_field, record, _ = SIGNALS[signal]
    if not pool_size:
        recs = [record(values, rng) for _ in range(size)]
    else:
        pool = [record(values, rng) for _ in range(pool_size)]
        recs = [pool[i] for i in _layout(rng, layout, size, len(pool))]
    req = req_cls()
    at = 0
    for rcount in _splits(rng, len(recs), rng.randint(1, 3)):
        group = getattr(req, group_field).add(schema_url=rng.choice(WORDS))
        if rng.random() < 0.8:  # else no resource message at all
            group.resource.CopyFrom(resource(values, rng))
        for scount in _splits(rng, rcount, rng.randint(1, 3)):
            sg = getattr(group, scope_field).add(schema_url=rng.choice(WORDS))
            if rng.random() < 0.8:
                sg.scope.CopyFrom(scope(values, rng))
            getattr(sg, record_field).extend(recs[at:at + scount])
            at += scount
    return req


@st.composite
def batches(draw, signal: str, size: int):
    """(batch, request bytes) of exactly `size` records of `signal` (see build_request). Small
    batches draw their attributes and bodies (so a failure shrinks); large ones repeat a pool
    of 3-8 records whose values come from the drawn seed, varied even in Hypothesis's first,
    simplest example (they run with few examples and no shrinking)."""
    rng = random.Random(draw(seeds))
    if size <= 16:
        req = build_request(signal, size, DrawnValues(draw), rng)
    else:
        pool_size = draw(st.integers(3, 8))
        layout = draw(st.sampled_from(["runs", "runs", "shuffle", "mostly-one"]))
        req = build_request(signal, size, SeededValues(rng), rng, pool_size, layout)
    data = req.SerializeToString()
    batch = SIGNALS[signal][5](data)
    assert len(batch) == size
    return batch, data


def with_events(size: int, seed: int) -> bytes:
    """A span request of ``size`` generated spans with 0-3 events on each (names, times,
    dropped counts and attributes of every kind)."""
    rng = random.Random(seed)
    values = SeededValues(rng)
    req = build_request("traces", size, values, rng)
    for rs in req.resource_spans:
        for ss in rs.scope_spans:
            for span in ss.spans:
                for _ in range(rng.choice([0, 0, 1, 1, 2, 3])):
                    ev = span.events.add(name=rng.choice(WORDS),
                                         time_unix_nano=rng.choice(TIMES),
                                         dropped_attributes_count=rng.choice(UINT32S))
                    ev.attributes.extend(values.attributes())
    return req.SerializeToString()


@st.composite
def event_requests(draw, size: int) -> bytes:
    """``with_events`` of a drawn seed."""
    return with_events(size, draw(seeds))


def event_keys():
    """An attribute key of the generated events (or one none has), quoted."""
    return st.sampled_from(KEYS + ["new"]).map(quote)


@st.composite
def event_transform_configs(draw, statements, conditions) -> list:
    """1-3 transform groups: spanevent groups of 1-3 drawn ``statements`` (with a drawn gate of
    ``conditions`` at times) and some span groups deleting an attribute between them."""
    groups = []
    for _ in range(draw(st.integers(1, 3))):
        if draw(st.integers(0, 3)) == 0:
            k = draw(event_keys())
            groups.append(make_group("statements", "traces", "span",
                                     [f"delete_key(span.attributes, {k})"]))
            continue
        texts = draw(st.lists(statements, min_size=1, max_size=3))
        gate = tuple(draw(st.lists(conditions, max_size=1)))
        mode = draw(st.sampled_from(["propagate", "ignore", "silent"]))
        groups.append(make_group("statements", "traces", "spanevent", texts, mode, gate))
    return groups


def make_group(kind: str, signal: str, context: str, texts: list[str], mode: str = "propagate",
               conditions: tuple[str, ...] = ()) -> Group:
    """A transform ("statements") or filter ("conditions") group, as a configuration holds it."""
    processor = "transform" if kind == "statements" else "filter"
    return Group(processor, signal, kind, [Located(t) for t in texts], context, mode,
                 [Located(c) for c in conditions], f"{processor} {context}", 0)


# ---- comparing requests ----------------------------------------------------------------------

def normalized(req):
    """The request with representational differences settled. The reference path re-encodes
    every record from the evaluator's model; the native path copies untouched records' input
    bytes and re-encodes changed ones from the columns. OTLP reads these alike: an empty
    resource, scope or status message and none; a KeyValue without a value and one with an
    empty value; a map with a repeated key and the map holding it once, at its first position
    with its last value (the model reads every map that way; the verbatim path leaves a map no
    statement touched as it came); an all-zero trace or span id and none (pdata's empty id,
    which the reference does not write). And NaN doubles are made one NaN: the reference path
    carries its records through OTLP/JSON, whose "NaN" keeps neither a NaN's sign nor its
    payload (negating a NaN flips its sign bit, which Go's protobuf output would keep)."""
    _settle(req)
    return req


_ANYVALUE = "opentelemetry.proto.common.v1.AnyValue"


_KEYVALUE = "opentelemetry.proto.common.v1.KeyValue"
_IDS = ("trace_id", "span_id", "parent_span_id")


def _settle(msg) -> None:
    if msg.DESCRIPTOR.full_name == _KEYVALUE and not msg.HasField("value"):
        msg.value.SetInParent()
    if msg.DESCRIPTOR.full_name == _ANYVALUE and msg.WhichOneof("value") == "double_value" \
            and math.isnan(msg.double_value):
        msg.double_value = math.nan
    for name in _IDS:
        if name in msg.DESCRIPTOR.fields_by_name and not any(getattr(msg, name)):
            msg.ClearField(name)
    for fd, value in msg.ListFields():
        if fd.type != fd.TYPE_MESSAGE:
            continue
        if not fd.is_repeated:
            if value.ByteSize() == 0 and msg.DESCRIPTOR.full_name != _KEYVALUE:
                msg.ClearField(fd.name)
            else:
                _settle(value)
            continue
        for item in value:
            _settle(item)
        if fd.message_type.full_name == _KEYVALUE:
            last = {kv.key: kv.value for kv in value}
            pairs = [(k, type(v)()) for k, v in last.items()]
            for k, v in pairs:
                v.CopyFrom(last[k])
            del value[:]
            for k, v in pairs:
                value.add(key=k).value.CopyFrom(v)


def _reference_run(signal: str, data: bytes, groups: list[Group], processor_cls, native_run):
    """The reference processor's request over ``data`` (normalized) and its stats; None where
    the reference fails, after checking that ``native_run(batch)`` hands the batch to it."""
    import pytest

    from ottl.derive import NeedsReference
    from ottl.eval.batch_model import batch_from_payload, payload_from_batch
    from ottl.eval.processors import ProcessingError

    req_cls, *_, decode = SIGNALS[signal]
    try:
        out, stats = processor_cls(groups).process(payload_from_batch(decode(data)))
    except ProcessingError:
        with pytest.raises(NeedsReference):
            native_run(decode(data))
        return None
    return normalized(req_cls.FromString(batch_from_payload(out).encode())), stats


def transform_agrees(signal: str, data: bytes, groups: list[Group]):
    """Runs ``groups`` on ``TransformPipeline`` (which must be native) and on the reference
    ``TransformProcessor`` over ``data``; checks the requests (copied verbatim and encoded
    whole), the (statement, record) pairs that ran and the errors the error modes handled
    are the same, or, where the reference fails, that the pipeline hands the batch to it.
    Returns the reference's stats (None where it failed)."""
    from ottl.eval.processors import TransformProcessor
    from ottl.pipeline import TransformPipeline

    req_cls, *_, decode = SIGNALS[signal]
    pipeline = TransformPipeline(groups)
    assert pipeline.native, pipeline.reasons
    reference = _reference_run(signal, data, groups, TransformProcessor, pipeline.execute)
    if reference is None:
        return None
    expected, stats = reference
    batch = decode(data)
    ran = pipeline.execute(batch)
    for verbatim in (True, False):
        got = normalized(req_cls.FromString(batch.encode(verbatim=verbatim)))
        assert got == expected, f"verbatim={verbatim}"
    keys = pipeline.attribute_keys(signal)
    if keys is not None:  # the same over only the attribute values the statements touch
        kept = normalized(req_cls.FromString(pipeline.transform_otlp(data, signal)))
        assert kept == expected, f"decoded with attribute_keys={sorted(keys)}"
    assert ran == stats.statements_run
    assert pipeline.last_run.statement_errors == stats.statement_errors
    # the messages as the reference words them (both keep the first 100: in record order
    # there, statement by distinct value here)
    if stats.statement_errors <= 100:
        assert sorted(pipeline.last_run.errors) == sorted(stats.errors)
    else:
        assert len(pipeline.last_run.errors) == len(stats.errors) == 100
    return stats


def filter_agrees(signal: str, data: bytes, groups: list[Group]):
    """Runs ``groups`` on ``FilterPipeline`` (which must be native; through ``filter_otlp``,
    under its projection, and over a whole batch) and on the reference ``FilterProcessor``
    over ``data``; checks the kept requests, the records kept and the errors the error modes
    handled are the same, or, where the reference fails, that the pipeline hands the batch to
    it. Returns the reference's stats (None where it failed)."""
    from ottl.eval.processors import FilterProcessor
    from ottl.pipeline import FilterPipeline

    req_cls, *_, decode = SIGNALS[signal]
    pipeline = FilterPipeline(groups)
    assert pipeline.native, pipeline.reasons
    reference = _reference_run(signal, data, groups, FilterProcessor, pipeline.keep)
    if reference is None:
        return None
    expected, stats = reference
    got = normalized(req_cls.FromString(pipeline.filter_otlp(data, signal)))
    assert got == expected, f"filter_otlp (attribute_keys={pipeline.attribute_keys(signal)})"
    assert pipeline.last_run.statement_errors == stats.statement_errors
    batch = decode(data)
    keep = pipeline.keep(batch)
    assert pipeline.last_run.statement_errors == stats.statement_errors
    assert int(keep.sum()) == stats.records_out
    for verbatim in (True, False):
        got = normalized(req_cls.FromString(batch.encode(keep, verbatim=verbatim)))
        assert got == expected, f"verbatim={verbatim}"
    return stats


# ---- conditions ------------------------------------------------------------------------------

CONTEXT_OF = {"traces": "span", "logs": "log"}
PARENT_INT_PATHS = ["resource.dropped_attributes_count", "scope.dropped_attributes_count"]
PARENT_STRING_PATHS = ["resource.schema_url", "scope.name", "scope.version", "scope.schema_url"]
INT_PATHS = {
    "span": ["span.kind", "span.status.code", "span.start_time_unix_nano",
             "span.end_time_unix_nano", "span.dropped_attributes_count",
             "span.dropped_events_count", "span.dropped_links_count", *PARENT_INT_PATHS],
    "log": ["log.time_unix_nano", "log.observed_time_unix_nano", "log.severity_number",
            "log.flags", "log.dropped_attributes_count", *PARENT_INT_PATHS],
}
# The first two of each are settable (statement tests write them); ids' hex strings are read-only.
STRING_PATHS = {
    "span": ["span.name", "span.trace_state", "span.status.message", *PARENT_STRING_PATHS,
             "span.trace_id.string", "span.span_id.string", "span.parent_span_id.string",
             "span.kind.string", "span.kind.deprecated_string"],
    "log": ["log.severity_text", "log.event_name", *PARENT_STRING_PATHS, "log.trace_id.string",
            "log.span_id.string", "log.body.string"],
}
ENUMS = {
    "span": ["SPAN_KIND_SERVER", "SPAN_KIND_UNSPECIFIED", "SPAN_KIND_CONSUMER",
             "STATUS_CODE_ERROR", "STATUS_CODE_OK", "STATUS_CODE_UNSET"],
    "log": ["SEVERITY_NUMBER_INFO", "SEVERITY_NUMBER_UNSPECIFIED", "SEVERITY_NUMBER_ERROR4",
            "SEVERITY_NUMBER_FATAL4"],
}
COMPARE_OPS = ["==", "!=", "<", "<=", ">", ">="]


def quote(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _float_text(d: float) -> str:
    text = repr(d)
    if "e" in text and "." not in text.split("e")[0]:  # OTTL needs a dot: 1e+300 -> 1.0e+300
        mantissa, exp = text.split("e")
        text = f"{mantissa}.0e{exp}"
    return text


def attr_paths(context: str):
    owners = [context, "resource", "scope"]
    return st.builds(lambda o, k: f"{o}.attributes[{quote(k)}]", st.sampled_from(owners),
                     st.sampled_from([*KEYS, MISSING_KEY]))


def literals(context: str):
    finite = [d for d in DOUBLES if math.isfinite(d)]
    return st.one_of(
        st.sampled_from(["nil", "true", "false"]),
        ints.map(str),
        st.sampled_from(finite).map(_float_text),
        st.sampled_from(WORDS + ABSENT_WORDS).map(quote),
        st.sampled_from(["0x61", "0x00ff", "0xcafe", "0xCAFE", "0x00"]),
        st.sampled_from(ENUMS[context]),
    )


def int_math(context: str):
    """Native arithmetic: ints that are never nil, division by a nonzero int literal."""
    leaf = st.one_of(st.sampled_from(INT_PATHS[context]), ints.map(str))  # no enums: the
    # grammar has no enum operands in arithmetic

    def extend(inner):
        return st.one_of(
            st.builds(lambda a, op, b, paren: f"({a} {op} {b})" if paren else f"{a} {op} {b}",
                      inner, st.sampled_from(["+", "-", "*"]), inner, st.booleans()),
            st.builds(lambda a, d: f"({a} / {d})", inner,
                      st.sampled_from(["1", "-1", "2", "3", "7", "1000000000"])),
        )

    return st.recursive(leaf, extend, max_leaves=4)


def paths(context: str):
    return st.one_of(
        st.sampled_from(INT_PATHS[context]),
        st.sampled_from(STRING_PATHS[context]),
        attr_paths(context),
        *([st.just("log.body")] * 2 * (context == "log")),
    )


def values(context: str):
    return st.one_of(paths(context), literals(context), int_math(context))


def not_native_values(context: str):
    """Values beyond paths, literals and int arithmetic: converters and expressions the VM
    computes as derived columns (nested keys, float math, division by a path, converters of
    lists). Some fail at run time on some records."""
    p = st.sampled_from(INT_PATHS[context])
    one_arg = st.one_of(attr_paths(context), st.sampled_from(STRING_PATHS[context]),
                        *([st.just("log.body")] * (context == "log")))
    converter = st.sampled_from(["Len", "ToLowerCase", "ToUpperCase", "Int", "Double", "String",
                                 "IsString", "IsInt", "IsMap", "IsList", "SHA256", "Trim"])
    return st.one_of(
        st.builds(lambda a: f"{a} + 1", attr_paths(context)),
        st.builds(lambda a: f"{a} * 1.5", p),
        st.builds(lambda a, b: f"{a} / {b}", p, p),
        st.builds(lambda a: f"{a} / 0", p),
        st.builds(lambda f, a: f"{f}({a})", converter, one_arg),
        st.builds(lambda a: f"Len(ToLowerCase({a}))", one_arg),
        st.builds(lambda a, w: f"IsMatch({a}, {quote(w)})", one_arg,
                  st.sampled_from(["^a", "b$", "é", "", "[ab]", "P.S"])),
        st.builds(lambda k: f'{context}.attributes[{quote(k)}]["k"]', st.sampled_from(KEYS)),
        st.just(f"Concat([{context}.attributes[\"k\"], \"x\"], \"\")"),
    )


def weighted(*choices):
    """One of the strategies, by weight: st.one_of picks its branches evenly, and repeating a
    branch to weigh it does not work (identical branches collapse into one)."""
    total = sum(w for w, _ in choices)

    @st.composite
    def pick(draw):
        at = draw(st.integers(0, total - 1))
        for w, strategy in choices:
            if at < w:
                return draw(strategy)
            at -= w
        raise AssertionError("unreachable")

    return pick()


def comparisons(context: str, native_only: bool = True):
    """Mostly a path against a literal of its own type or against a path like it (comparisons
    that split a batch); sometimes arithmetic, a literal on the left, or any two values
    (literals on both sides are folded by the compiler)."""
    int_path, str_path = st.sampled_from(INT_PATHS[context]), st.sampled_from(STRING_PATHS[context])
    any_path, literal, value = paths(context), literals(context), values(context)
    word = st.sampled_from(WORDS + ABSENT_WORDS).map(quote)
    int_literal = st.one_of(ints.map(str), st.sampled_from(ENUMS[context]))
    if not native_only:
        value = st.one_of(value, not_native_values(context))
    shapes = [
        (20, st.tuples(int_path, int_literal)),
        (15, st.tuples(str_path, word)),
        (15, st.tuples(st.one_of(attr_paths(context), st.just(f"{context}.body")
                                 if context == "log" else attr_paths(context)), literal)),
        (10, st.tuples(int_path, int_path)),
        (5, st.tuples(str_path, str_path)),
        (10, st.tuples(any_path, any_path)),
        (10, st.tuples(int_math(context), st.one_of(int_literal, int_path))),
        (5, st.tuples(literal, any_path)),
        (10, st.tuples(value, value)),
    ]
    if not native_only:
        shapes.append((30, st.tuples(not_native_values(context), value)))
    return st.builds(lambda ab, op: f"{ab[0]} {op} {ab[1]}", weighted(*shapes),
                     st.sampled_from(COMPARE_OPS))


def conditions(context: str, native_only: bool = True):
    """Condition text over the native grammar (and, unless native_only, some that is not)."""
    # one leaf in ten a boolean literal (for folding); the rest comparisons
    leaf = weighted((9, comparisons(context, native_only)), (1, st.sampled_from(["true", "false"])))
    if not native_only:
        boolean = st.builds(lambda f, a: f"{f}({a})",
                            st.sampled_from(["IsString", "IsInt", "IsDouble", "IsBool", "IsMap",
                                             "IsList"]),
                            st.one_of(attr_paths(context), st.sampled_from(STRING_PATHS[context])))
        leaf = st.one_of(leaf, boolean, st.builds(lambda a: f'IsMatch({a}, "^a")',
                                                  st.sampled_from(STRING_PATHS[context])))

    def extend(inner):
        return st.one_of(
            st.builds(lambda a: f"not ({a})", inner),
            st.builds(lambda a, op, b: f"({a} {op} {b})", inner, st.sampled_from(["and", "or"]),
                      inner),
            st.builds(lambda a, op1, b, op2, c: f"{a} {op1} {b} {op2} {c}", inner,
                      st.sampled_from(["and", "or"]), inner, st.sampled_from(["and", "or"]),
                      inner),
        )

    return st.recursive(leaf, extend, max_leaves=4)


# Shapes worth naming: folding, the reference's odd corners, short-circuits over whole blocks.
HANDPICKED = {
    "span": [
        "1 + 2 == 3 and span.kind >= 0",
        "nil == nil", "nil <= nil", "nil < nil", "nil >= nil", "nil != nil",
        '"a" < "b" or span.name == "a"', '0x61 == "a"', "1 == 1.0", "true > false",
        "9223372036854775807 + 1 == -9223372036854775808",
        "-9223372036854775808 / -1 == -9223372036854775808", "-7 / 2 == -3",
        "span.kind / -1 <= 0", "span.kind * -1 == 0 - span.kind",
        "span.start_time_unix_nano * 2 < 0", "span.end_time_unix_nano + span.end_time_unix_nano < 0",
        "span.end_time_unix_nano - span.start_time_unix_nano > 0",
        "span.start_time_unix_nano > 9223372036854775806",
        "span.start_time_unix_nano == 4611686018427387904",
        'span.attributes["a"] == span.attributes["b"]',
        'span.attributes["a"] == resource.attributes["a"]',
        'span.attributes["a"] < span.attributes["b"]',
        'span.attributes["a"] >= span.attributes["missing"]',
        'span.attributes["k"] == nil', 'span.attributes["k"] != nil',
        'span.attributes["k"] == 2', 'span.attributes["k"] == 2.0', 'span.attributes["k"] > 1.5',
        'span.attributes["k"] == 0x61', 'span.attributes["k"] == "a"',
        'span.attributes["k"] < "b"', 'span.attributes["k"] == true',
        'span.attributes["k"] >= false', 'span.attributes["k"] == 9223372036854775807',
        'span.attributes["k"] < -9223372036854775808', 'span.attributes["k"] == 1.0e300',
        'span.attributes["k"] == -0.0', 'span.attributes["k"] == 9223372036854775807.0',
        'span.kind == 2147483648', 'span.kind < -2147483649', 'span.kind >= -2147483648',
        'span.dropped_attributes_count > -1', 'span.dropped_links_count < 4294967296',
        'span.dropped_events_count == 4294967295', 'span.dropped_attributes_count <= 2147483648',
        'span.kind == "a"', 'span.name == 1', 'span.name == ""', 'span.name != "absent"',
        'span.name < "absent"', 'span.name == span.trace_state', 'span.name > span.trace_state',
        'scope.name == scope.version', 'resource.schema_url < scope.schema_url',
        'resource.dropped_attributes_count + scope.dropped_attributes_count > 4294967295',
        ('scope.name == "a" and span.kind == SPAN_KIND_SERVER or not (span.status.code == '
        'STATUS_CODE_ERROR)'),
        "span.kind == 1 and true", "span.kind == 1 or true", "span.kind == 1 and false",
        "span.kind == 1 or false", "not (span.kind == 1 or span.kind != 1)",
        ('span.attributes["missing"] == nil and (span.kind == 0 or span.kind == 1) and '
        '(span.name == "a" or span.name == "b" or span.name == "")'),
        'span.parent_span_id.string == ""', 'span.trace_id.string != span.span_id.string',
        'span.span_id.string < "8" and span.trace_id.string != nil',
        'span.parent_span_id == SpanID(0x0000000000000000)', 'span.span_id >= span.parent_span_id',
        'span.trace_id != TraceID(0x00000000000000000000000000000001) and span.trace_id != 0x00',
        'span.span_id == span.trace_id or span.span_id == nil',
        'span.kind.string == "Server" or span.kind.deprecated_string == "SPAN_KIND_CLIENT"',
    ],
    "log": [
        'log.body == nil', 'log.body != nil', 'log.body == ""', 'log.body == "a"',
        'log.body == 0x61', 'log.body == 2', 'log.body == 2.0', 'log.body > 1',
        'log.body < "b"', 'log.body == true', 'log.body == log.attributes["k"]',
        'log.body == resource.attributes["a"]', 'log.body == scope.attributes["b"]',
        'log.body >= log.attributes["missing"]',
        'log.severity_number >= SEVERITY_NUMBER_INFO and log.severity_text != ""',
        'log.time_unix_nano < log.observed_time_unix_nano',
        'log.observed_time_unix_nano - log.time_unix_nano >= 1000',
        'log.flags * 3 / 2 > log.dropped_attributes_count',
        'log.event_name == scope.name or log.severity_text == resource.schema_url',
        'not (log.attributes["a"] == 1 or log.attributes["a"] == "a") and log.flags != 0',
        'log.trace_id.string == "" or log.span_id.string > log.severity_text',
        'log.trace_id > TraceID(0x80000000000000000000000000000000) or log.span_id == log.span_id',
    ],
}
