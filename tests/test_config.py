"""The collector's transform and filter processor YAML."""

from __future__ import annotations

import textwrap

import pytest

from ottl.config import ConfigError, load_config
from ottl.frontend import check_group

TRANSFORM = textwrap.dedent(
    """
    processors:
      transform/example:
        error_mode: ignore
        trace_statements:
          - set(span.attributes["a"], "b")
          - set(resource.attributes["c"], "d")
          - context: span
            error_mode: silent
            conditions:
              - kind == SPAN_KIND_SERVER
            statements:
              - set(attributes["srv"], true)
        log_statements:
          - context: log
            statements:
              - set(body, "redacted") where IsMatch(body, "password")
      filter/drop:
        error_mode: propagate
        traces:
          span:
            - attributes["http.route"] == "/health"
          spanevent:
            - name == "noise"
        logs:
          log_record:
            - severity_number < SEVERITY_NUMBER_INFO
        metric_conditions:
          - metric.name == "unused"
    """
)


def test_transform_and_filter_groups():
    groups = load_config(TRANSFORM)
    summary = [(g.processor, g.signal, g.kind, g.context, g.error_mode, len(g.texts)) for g in groups]
    assert summary == [
        ("transform/example", "traces", "statements", None, "ignore", 2),
        ("transform/example", "traces", "statements", "span", "silent", 1),
        ("transform/example", "logs", "statements", "log", "ignore", 1),
        ("filter/drop", "metrics", "conditions", None, "propagate", 1),
        ("filter/drop", "traces", "conditions", "span", "propagate", 1),
        ("filter/drop", "traces", "conditions", "spanevent", "propagate", 1),
        ("filter/drop", "logs", "conditions", "log", "propagate", 1),
    ]
    assert groups[1].conditions == ["kind == SPAN_KIND_SERVER"]
    # Each text remembers its line in the file.
    assert groups[0].texts[0].line == 6


def test_every_group_of_the_example_resolves():
    for group in load_config(TRANSFORM):
        result = check_group(group)
        assert result.ok, (group.where, result.error, [str(i.error) for i in result.items if i.error])
    first = check_group(load_config(TRANSFORM)[0])
    assert first.context == "span"  # span beats resource in the inference priority


def test_processor_body_alone_and_default_error_mode():
    groups = load_config('trace_statements: ["set(span.name, \\"x\\")"]')
    assert groups[0].error_mode == "propagate"
    assert groups[0].processor == "transform"


def test_group_errors_are_reported_per_statement():
    config = textwrap.dedent(
        """
        trace_statements:
          - context: span
            statements:
              - set(name, "ok")
              - set(nope, 1)
              - set(name,
        """
    )
    result = check_group(load_config(config)[0])
    assert not result.ok
    errors = [i.error for i in result.items]
    assert errors[0] is None
    assert "not a valid path" in str(errors[1]) and "statement 2" in str(errors[1])
    assert "syntax error" in str(errors[2]) and "statement 3" in str(errors[2])


def test_inference_failure_is_a_group_error():
    result = check_group(load_config('log_statements: ["set(span.name, \\"x\\")"]')[0])
    assert not result.ok and "not one of the contexts" in result.error


@pytest.mark.parametrize(
    "text, fragment, line",
    [
        ("error_mode: loud\ntrace_statements: []", "error_mode must be one of", 1),
        ("trace_statements: []\nbogus: 1", "unknown key 'bogus'", 2),
        ("trace_statements:\n  - context: log\n    statements: ['set(body, 1)']", "not a traces context", 2),
        ("trace_statements: {a: 1}", "must be a list", None),
        ("trace_statements:\n  - 5", "must be a statement string or a mapping", None),
        ("profile_statements: ['x']", "profiles are not supported", None),
        ("hello: world", "found neither a transform config", 1),
        ("[1, 2]", "expected a mapping", 1),
        ("a: [", "not valid YAML", None),
        ("trace_statements:\n  - context: span\n", "has no statements", None),
    ],
)
def test_bad_configs(text, fragment, line):
    with pytest.raises(ConfigError) as info:
        load_config(text, "cfg.yaml")
    assert fragment in str(info.value)
    assert str(info.value).startswith("cfg.yaml")
    if line is not None:
        assert info.value.line == line
