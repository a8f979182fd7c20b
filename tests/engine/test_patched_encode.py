"""A record whose attributes alone a statement changed is written, in a verbatim encode, as its
input with only the attributes re-encoded, and of those only the entries that changed: the rest
are the input's bytes. So what the engine did not touch leaves exactly as it came, unknown
fields included, while what it changed reads back as the reference evaluator would have it."""

from __future__ import annotations

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import KeyValue
from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord
from opentelemetry.proto.trace.v1.trace_pb2 import Span

from ottl._batch import decode_logs, decode_traces
from ottl.engine import compile_statement

# Field 100 as a varint (tag 0xa0 0x06), value 7, and field 101: no OTLP message has them.
UNKNOWN = b"\xa0\x06\x07"
RECORD_UNKNOWN = b"\xa8\x06\x07"
# The same unknown field inside a KeyValue: the entry's bytes are copied, so it stays.
ODD_KV = KeyValue()
ODD_KV.MergeFromString(KeyValue(key="odd").SerializeToString() + b"\x12\x02\x18\x05" + UNKNOWN)


def _span(name: str, *, extra: bytes = b"", attrs: int = 3) -> Span:
    span = Span(name=name, trace_id=bytes(range(16)), span_id=bytes(range(8)), kind=2,
                start_time_unix_nano=5, end_time_unix_nano=9)
    for i in range(attrs):
        span.attributes.add(key=f"k{i}").value.string_value = f"v{i}"
    span.attributes.append(ODD_KV)
    span.attributes.add(key="n").value.int_value = 42
    out = Span()
    out.MergeFromString(span.SerializeToString() + extra)
    return out


def _request(*spans: Span) -> bytes:
    req = ExportTraceServiceRequest()
    ss = req.resource_spans.add().scope_spans.add()
    for s in spans:
        ss.spans.append(s)
    return req.SerializeToString()


def _run(data: bytes, *texts: str, context: str = "span"):
    decode = decode_traces if context == "span" else decode_logs
    batch = decode(data)
    for text in texts:
        compile_statement(text, context).execute(batch)
    return batch.encode(verbatim=True)


def _field(number: int, payload: bytes) -> bytes:
    """A length-delimited field."""
    head, n = bytearray([number << 3 | 2]), len(payload)
    while n >= 0x80:
        head.append(n & 0x7F | 0x80)
        n >>= 7
    head.append(n)
    return bytes(head) + payload


def _spans(out: bytes) -> list[Span]:
    return list(ExportTraceServiceRequest.FromString(out).resource_spans[0].scope_spans[0].spans)


def _attrs(record) -> dict:
    return {kv.key: kv.value for kv in record.attributes}


def _keys(record) -> list[str]:
    return [kv.key for kv in record.attributes]


def test_an_unknown_field_of_a_record_whose_attributes_changed_survives():
    data = _request(_span("a", extra=RECORD_UNKNOWN), _span("b"))
    out = _run(data, 'set(span.attributes["new"], "x") where span.name == "a"')
    a, b = _spans(out)
    assert RECORD_UNKNOWN in a.SerializeToString()
    assert _attrs(a)["new"].string_value == "x"
    assert _keys(a) == ["k0", "k1", "k2", "odd", "n", "new"]
    assert (a.name, a.kind, a.start_time_unix_nano, a.end_time_unix_nano) == ("a", 2, 5, 9)
    assert b == _span("b")


def test_unchanged_entries_keep_their_bytes_and_changed_ones_are_written_anew():
    data = _request(_span("a"))
    out = _run(data, 'set(span.attributes["k1"], "changed")',
               'delete_key(span.attributes, "k0")')
    (a,) = _spans(out)
    assert _keys(a) == ["k1", "k2", "odd", "n"]
    assert _attrs(a)["k1"].string_value == "changed"
    # The untouched odd entry still carries its unknown field: it was copied.
    assert _attrs(a)["odd"].int_value == 5
    assert UNKNOWN in a.SerializeToString()
    # Rewriting the odd entry itself writes it from the columns, unknown field gone.
    (a,) = _spans(_run(data, 'set(span.attributes["odd"], 6)'))
    assert _attrs(a)["odd"].int_value == 6
    assert UNKNOWN not in a.SerializeToString()


def test_attributes_split_by_another_field_are_written_whole():
    span = _span("a", attrs=2)
    raw = bytearray(span.SerializeToString())
    # Move the name field (tag 0x2a) after the first attribute: the attributes are no longer
    # back to back, so the record is encoded from its columns.
    name = b"\x2a\x01a"
    i = raw.index(name)
    del raw[i:i + len(name)]
    j = raw.index(b"\x4a")  # the first attributes entry
    first_len = raw[j + 1] + 2
    raw[j + first_len:j + first_len] = name
    # Framed by hand: the official classes would write the fields back in order.
    data = _field(1, _field(2, _field(2, bytes(raw))))
    assert decode_traces(data).column("attrs_at")[0] == -1
    (a,) = _spans(_run(data, 'set(span.attributes["k0"], "z")'))
    assert a.name == "a"
    assert _attrs(a)["k0"].string_value == "z"
    assert _keys(a) == ["k0", "k1", "odd", "n"]


def test_a_changed_field_besides_the_attributes_writes_the_whole_record():
    data = _request(_span("a", extra=RECORD_UNKNOWN))
    out = _run(data, 'set(span.attributes["new"], 1)', 'set(span.name, "renamed")')
    (a,) = _spans(out)
    assert a.name == "renamed" and _attrs(a)["new"].int_value == 1
    # Encoded from the columns, which keep no unknown fields of a record; its unchanged
    # attribute entries are still copied.
    assert RECORD_UNKNOWN not in a.SerializeToString()
    assert UNKNOWN in a.SerializeToString()


def test_logs_are_patched_the_same_way():
    rec = LogRecord(time_unix_nano=3, severity_number=9)
    rec.body.string_value = "hello"
    rec.attributes.add(key="a").value.string_value = "1"
    rec.attributes.append(ODD_KV)
    odd = LogRecord()
    odd.MergeFromString(rec.SerializeToString() + RECORD_UNKNOWN)
    req = ExportLogsServiceRequest()
    req.resource_logs.add().scope_logs.add().log_records.append(odd)
    out = _run(req.SerializeToString(), 'set(log.attributes["b"], "2")', context="log")
    (got,) = ExportLogsServiceRequest.FromString(out).resource_logs[0].scope_logs[0].log_records
    assert RECORD_UNKNOWN in got.SerializeToString()
    assert _keys(got) == ["a", "odd", "b"]
    assert got.body.string_value == "hello" and got.time_unix_nano == 3


def test_a_record_that_repeats_a_key_leaves_with_it_once():
    # Rows with no repeated key are copied by the rebuilds, rows with one deduplicated (first
    # position, last value), whichever rows come first in the batch.
    plain = _span("plain", attrs=2)
    twice = _span("twice", attrs=2)
    twice.attributes.add(key="k0").value.string_value = "last"
    for order in ((plain, twice), (twice, plain)):
        out = _run(_request(*order), 'set(span.attributes["new"], true)',
                   'delete_key(span.attributes, "n")')
        by_name = {s.name: s for s in _spans(out)}
        assert _keys(by_name["plain"]) == ["k0", "k1", "odd", "new"]
        assert _keys(by_name["twice"]) == ["k0", "k1", "odd", "new"]
        assert _attrs(by_name["twice"])["k0"].string_value == "last"
        assert _attrs(by_name["plain"])["k0"].string_value == "v0"


def test_an_edit_that_changes_nothing_leaves_the_record_clean():
    """A delete of a key a record lacks, or a set to the value it has, changes nothing: the
    record is not marked changed, so the whole batch still leaves as its input bytes."""
    from ottl._vm import dirty_records

    data = _request(_span("a", extra=RECORD_UNKNOWN), _span("b"))
    batch = decode_traces(data)
    for text in ('delete_key(span.attributes, "absent")', 'set(span.attributes["k0"], "v0")',
                 'set(span.attributes["n"], 42)'):
        compile_statement(text, "span").execute(batch)
    assert not dirty_records(batch).any()
    assert batch.encode(verbatim=True) == data
    compile_statement('set(span.attributes["n"], 43) where span.name == "b"', "span").execute(batch)
    assert dirty_records(batch).tolist() == [False, True]
