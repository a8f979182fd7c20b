"""The standard editors of the reference (``pkg/ottl/ottlfuncs``), with their argument structs.

Parameter order and kinds follow the newest ``XArguments`` struct of each ``func_<name>.go`` read
from the reference. ``P`` builds a parameter from its Go field name; the snake_case name is
derived from the field (``ReplacementFormat`` -> ``replacement_format``).
"""

from __future__ import annotations

import re
from typing import Optional

from . import checks
from .spec import FunctionSpec, Kind, Param, ParamKind

K = ParamKind

# Gate under which stable functions' SliceGetter arguments accept an expression, not only a list.
DYNAMIC_SLICE_GATE = "pkg.ottl.functions.enableDynamicSliceArguments"
LAMBDA_GATE = "ottl.functions.enableLambda"


def snake(go_field: str) -> str:
    """Snake_case of a Go field name: ``ReplacementFormat`` -> ``replacement_format``,
    ``XPath`` -> ``x_path``, ``SourceIP`` -> ``source_ip``, ``Utf8Safe`` -> ``utf8_safe``."""
    s = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", go_field)
    s = re.sub(r"(?<=[A-Z])(?=[A-Z][a-z])", "_", s)
    return s.lower()


def P(
    go_field: str,
    kind: ParamKind,
    *,
    optional: bool = False,
    is_list: bool = False,
    check=None,
    name: Optional[str] = None,
    dynamic_slice: bool = False,
    lambda_arity: Optional[int] = None,
) -> Param:
    return Param(
        name=name or snake(go_field),
        kind=kind,
        optional=optional,
        is_list=is_list,
        check=check,
        go_field=go_field,
        dynamic_slice_gate=DYNAMIC_SLICE_GATE if dynamic_slice else None,
        lambda_arity=lambda_arity,
    )


def E(name: str, params, summary: str, **kw) -> FunctionSpec:
    return FunctionSpec(name=name, kind=Kind.EDITOR, params=tuple(params), summary=summary, **kw)


def _replace_tail(func: str):
    """The shared ``function`` / ``replacement_format`` tail of the replace_* editors."""
    return (
        P("Function", K.FUNCTION, optional=True),
        P("ReplacementFormat", K.STRING_GETTER, optional=True),
    )


EDITORS: tuple[FunctionSpec, ...] = (
    E(
        "append",
        [
            P("Target", K.PATH),
            P("Value", K.GETTER, optional=True),
            P("Values", K.GETTER, optional=True, is_list=True),
        ],
        "Append a value and/or a list of values to a slice; a scalar becomes a slice.",
        requires_one_of=("value", "values"),
    ),
    E(
        "delete_index",
        [
            P("Target", K.PATH),
            P("StartIndex", K.INT_GETTER),
            P("EndIndex", K.INT_GETTER, optional=True),
        ],
        "Remove slice elements from start_index up to, not including, end_index.",
    ),
    E(
        "delete_key",
        [P("Target", K.PATH), P("Key", K.STRING_GETTER)],
        "Remove one key from a map.",
    ),
    E(
        "delete_matching_keys",
        [
            P("Target", K.PATH),
            P("Pattern", K.STRING_GETTER, check=checks.regex("delete_matching_keys")),
        ],
        "Remove every map key that matches a regex.",
    ),
    E(
        "keep_matching_keys",
        [
            P("Target", K.PATH),
            P("Pattern", K.STRING_GETTER, check=checks.regex("keep_matching_keys")),
        ],
        "Keep only the map keys that match a regex.",
    ),
    E(
        "flatten",
        [
            P("Target", K.PATH),
            P("Prefix", K.STRING, optional=True),
            P("Depth", K.INT, optional=True, check=checks.flatten_depth),
            P("ResolveConflicts", K.BOOL, optional=True),
        ],
        "Move nested map and slice items to the root with dotted keys.",
    ),
    E(
        "keep_keys",
        [
            P("Target", K.PATH),
            P("Keys", K.STRING_GETTER, is_list=True, dynamic_slice=True),
        ],
        "Keep only the listed keys of a map.",
    ),
    E(
        "limit",
        [
            P("Target", K.PATH),
            P("Limit", K.INT, check=checks.non_negative("limit")),
            P("PriorityKeys", K.STRING, is_list=True),
        ],
        "Drop map entries until at most `limit` remain, keeping the priority keys.",
        check_args=checks.limit_args,
    ),
    E(
        "merge_maps",
        [
            P("Target", K.PATH),
            P("Source", K.PMAP_GETTER),
            P("Strategy", K.STRING, check=checks.merge_strategy),
        ],
        "Merge a map into the target with strategy insert, update or upsert.",
    ),
    E(
        "replace_all_matches",
        [
            P("Target", K.PATH),
            P("Pattern", K.STRING_GETTER, check=checks.glob("replace_all_matches")),
            P("Replacement", K.STRING_GETTER),
            *_replace_tail("replace_all_matches"),
        ],
        "Replace every string value of a map that matches a glob.",
    ),
    E(
        "replace_all_patterns",
        [
            P("Target", K.PATH),
            P("Mode", K.STRING, check=checks.replace_mode),
            P("RegexPattern", K.STRING_GETTER, check=checks.regex("replace_all_patterns")),
            P("Replacement", K.STRING_GETTER),
            *_replace_tail("replace_all_patterns"),
        ],
        "Regex-replace inside every string value (mode value) or key (mode key) of a map.",
    ),
    E(
        "replace_match",
        [
            P("Target", K.PATH),
            P("Pattern", K.STRING_GETTER, check=checks.glob("replace_match")),
            P("Replacement", K.STRING_GETTER),
            *_replace_tail("replace_match"),
        ],
        "Replace a whole string field when it matches a glob.",
    ),
    E(
        "replace_pattern",
        [
            P("Target", K.PATH),
            P("RegexPattern", K.STRING_GETTER, check=checks.regex("replace_pattern")),
            P("Replacement", K.STRING_GETTER),
            *_replace_tail("replace_pattern"),
        ],
        "Regex-replace every match inside one string field, with $1 / ${name} expansion.",
    ),
    E(
        "set",
        [P("Target", K.PATH), P("Value", K.GETTER)],
        "Write a value to a path; a nil value does nothing unless ottl.set.allowNil is on.",
    ),
    E(
        "stringify_all",
        [P("Target", K.PATH)],
        "Convert every non-string map value to its string form.",
    ),
    E(
        "truncate_all",
        [
            P("Target", K.PATH),
            P("Limit", K.INT, check=checks.non_negative("truncate_all")),
            P("Utf8Safe", K.BOOL, optional=True),
            P("TruncationMarker", K.STRING, optional=True),
        ],
        "Truncate every string value of a map to at most `limit` bytes.",
        check_args=checks.truncate_all_args,
    ),
)
