"""A native filter decodes only the attribute keys its conditions read (FilterPipeline's
attribute_keys, filter_otlp, and the `ottl filter` path), with the same result as a whole
decode."""

from __future__ import annotations

import random

import pytest
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from ottl._batch import decode_logs, decode_traces
from ottl.config import Group, Located
from ottl.pipeline import FilterPipeline, TransformPipeline
from ottl.run import run

F1 = 'span.attributes["http.status_code"] >= 500 and span.attributes["http.method"] == "POST"'


def traces(n: int = 400, seed: int = 7) -> bytes:
    rng = random.Random(seed)
    req = ExportTraceServiceRequest()
    for r in range(4):
        rs = req.resource_spans.add()
        rs.resource.attributes.add(key="service.name").value.string_value = f"svc{r}"
        ss = rs.scope_spans.add()
        for i in range(n // 4):
            span = ss.spans.add(name=rng.choice(["GET /a", "POST /b"]), kind=rng.randrange(4),
                                start_time_unix_nano=rng.randrange(1, 10**18))
            a = span.attributes
            a.add(key="http.method").value.string_value = rng.choice(["GET", "POST", "PUT"])
            a.add(key="http.status_code").value.int_value = rng.choice([200, 404, 500, 503])
            a.add(key="http.url").value.string_value = f"https://x.example/{rng.randrange(10**6)}"
            a.add(key="sampled").value.bool_value = rng.random() < 0.5
            a.add(key="ratio").value.double_value = rng.random()
            if rng.random() < 0.2:  # a shape the projection leaves to the general path
                a.add(key="tags").value.array_value.values.add().string_value = "t"
    return req.SerializeToString()


def logs(n: int = 200, seed: int = 3) -> bytes:
    rng = random.Random(seed)
    req = ExportLogsServiceRequest()
    sl = req.resource_logs.add().scope_logs.add()
    for _ in range(n):
        rec = sl.log_records.add(severity_number=rng.choice([5, 9, 13, 17]))
        rec.body.string_value = "hello"
        rec.attributes.add(key="logger").value.string_value = rng.choice(["a", "b"])
        rec.attributes.add(key="thread.id").value.int_value = rng.randrange(64)
    return req.SerializeToString()


def pipeline(signal: str, *conditions: str, context: str = "span") -> FilterPipeline:
    group = Group("filter", signal, "conditions", [Located(c) for c in conditions], context,
                  "propagate", [], "test", 0)
    p = FilterPipeline([group])
    assert p.native, p.reasons
    return p


def whole_filter(p: FilterPipeline, data: bytes, decode) -> bytes:
    batch = decode(data)
    return batch.encode(p.keep(batch), verbatim=True)


@pytest.mark.parametrize("conditions, keys", [
    ([F1], {"http.status_code", "http.method"}),
    (['span.name == "GET /a"', 'resource.attributes["service.name"] == "svc1"'], set()),
    (['IsMatch(span.attributes["http.url"], "7$")'], {"http.url"}),
    (['span.attributes["ratio"] > 0.5 or span.attributes["sampled"] == true'],
     {"ratio", "sampled"}),
])
def test_filter_otlp_equals_a_whole_decode_and_reads_only_its_keys(conditions, keys):
    p = pipeline("traces", *conditions)
    assert p.attribute_keys("traces") == frozenset(keys)
    data = traces()
    out = p.filter_otlp(data)
    assert out == whole_filter(p, data, decode_traces)
    kept = len(decode_traces(out))
    assert 0 <= kept <= 400


def test_log_filters_project_too():
    p = pipeline("logs", 'log.attributes["logger"] == "a"', context="log")
    assert p.attribute_keys("logs") == frozenset({"logger"})
    data = logs()
    out = p.filter_otlp(data, "logs")
    assert out == whole_filter(p, data, decode_logs)
    assert 0 < len(decode_logs(out)) < 200


@pytest.mark.parametrize("text, native", [
    ('span.attributes["k"] == 5 or IsList(span.cache)', False),
    ("Len(span.attributes) > 5", True),  # native, reading the whole map
    ("span.attributes[span.name] == 5", True),  # a key read from the record: the whole map
])
def test_no_projection_without_a_native_pipeline_that_reads_keys(text, native):
    group = Group("filter", "traces", "conditions", [Located(text)], "span", "propagate", [],
                  "test", 0)
    p = FilterPipeline([group])
    assert p.native == native
    assert p.attribute_keys("traces") is None
    data = traces()
    whole = run(data, "conditions", texts=[text])
    assert not whole.batch.attributes_projected
    assert whole.document == run(data, "conditions", texts=[text], engine="reference").document


def test_keep_refuses_a_projection_without_the_keys_it_reads():
    batch = decode_traces(traces(), attribute_keys=["http.method"])
    with pytest.raises(ValueError, match="http.status_code"):
        pipeline("traces", F1).keep(batch)


def test_a_transform_refuses_a_filter_projection():
    group = Group("transform", "traces", "statements",
                  [Located('set(span.attributes["x"], "y")')], "span", "propagate", [], "t", 0)
    transform = TransformPipeline([group])
    with pytest.raises(ValueError, match="keep_other_attributes.*no others"):
        transform.execute(decode_traces(traces(), attribute_keys=["x"]))


def test_the_filter_command_decodes_protobuf_under_the_projection():
    data = traces()
    fast = run(data, "conditions", texts=[F1])
    assert fast.batch.attributes_projected
    assert fast.batch.attribute_keys == frozenset({"http.status_code", "http.method"})
    reference = run(data, "conditions", texts=[F1], engine="reference")
    assert fast.document == reference.document
    assert fast.stats.dropped == reference.stats.dropped > 0
    # JSON out (or in) decodes whole.
    assert not run(data, "conditions", texts=[F1], output_format="otlp-json").batch \
        .attributes_projected


def test_conditions_and_statements_check_a_projected_batch():
    from ottl import engine
    batch = decode_traces(traces(), attribute_keys=["http.method"])
    cond = engine.compile_condition('span.attributes["http.method"] == "GET"', "span")
    assert cond.attribute_keys == frozenset({"http.method"})
    whole = decode_traces(traces())
    assert (cond.filter(batch) == cond.filter(whole)).all()
    with pytest.raises(ValueError, match="http.status_code"):
        engine.compile_condition(F1, "span").filter(batch)
    with pytest.raises(ValueError, match="attribute_keys"):
        cond.reference_filter(batch)
    with pytest.raises(ValueError, match="keep_other_attributes"):
        engine.compile_statement('set(span.name, "x")', "span").execute(batch)
