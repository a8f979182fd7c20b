"""The function registry against the reference.

Name lists below were written down from the reference's function index,
open-telemetry/opentelemetry-collector-contrib pkg/ottl/ottlfuncs/README.md ("Available Editors"
and "Available Converters"), plus IsRootSpan's own section in the same file.
"""

from pathlib import Path

import pytest

from ottl.functions import registry
from ottl.functions.spec import Kind, ParamKind

K = ParamKind

README_EDITORS = sorted([
    "append", "delete_index", "delete_key", "delete_matching_keys", "keep_matching_keys",
    "flatten", "keep_keys", "limit", "merge_maps", "replace_all_matches", "replace_all_patterns",
    "replace_match", "replace_pattern", "set", "stringify_all", "truncate_all",
])

README_CONVERTERS = sorted([
    "All", "Any", "Base64Decode", "Base64Encode", "Bool", "Decode", "Coalesce", "CommunityID",
    "Concat", "ContainsValue", "ConvertCase", "ConvertAttributesToElementsXML",
    "ConvertTextToElementsXML", "Day", "Double", "Duration", "ExtractPatterns",
    "ExtractGrokPatterns", "Filter", "Find", "FNV", "Format", "FormatTime", "GetXML", "HasPrefix",
    "HasSuffix", "Hex", "Hour", "Hours", "Index", "InsertXML", "Int", "IsBool", "IsDouble",
    "IsEmpty", "IsInCIDR", "IsInt", "IsRootSpan", "IsMap", "IsMatch", "IsList", "IsString", "Keys",
    "Len", "Log", "IsValidLuhn", "MapEach", "MapKeys", "MD5", "Microseconds", "Milliseconds",
    "Minute", "Minutes", "Month", "Murmur3Hash", "Murmur3Hash128", "Nanosecond", "Nanoseconds",
    "Now", "ParseCSV", "ParseInt", "ParseJSON", "ParseKeyValue", "ParseSeverity",
    "ParseSimplifiedXML", "ParseXML", "ProfileID", "Reduce", "RemoveXML", "Second", "Seconds",
    "SHA1", "SHA256", "SHA512", "SliceToMap", "Sort", "SpanID", "Split", "String", "Substring",
    "Time", "ToCamelCase", "ToKeyValueString", "ToLowerCase", "ToSnakeCase", "ToUpperCase",
    "TraceID", "Trim", "TrimPrefix", "TrimSuffix", "TruncateTime", "Unix", "UnixMicro", "UnixMilli",
    "UnixNano", "UnixSeconds", "URL", "UserAgent", "UUID", "UUIDv7", "Values", "Weekday", "When",
    "XXH3", "XXH128", "Year",
])

LAMBDAS = sorted(["All", "Any", "Filter", "Find", "MapEach", "MapKeys", "Reduce", "When"])

PROCESSOR = sorted([
    "convert_sum_to_gauge", "convert_gauge_to_sum", "extract_sum_metric", "extract_count_metric",
    "extract_percentile_metric", "copy_metric", "scale_metric", "aggregate_on_attributes",
    "aggregate_on_attribute_value", "convert_exponential_histogram_to_histogram",
    "convert_summary_quantile_val_to_gauge", "convert_summary_sum_val_to_sum",
    "convert_summary_count_val_to_sum", "merge_histogram_buckets", "ParseCEF", "ParseCLF",
    "ParseELF", "ParseLEEF", "set_semconv_span_name", "HasAttrKeyOnDatapoint", "HasAttrOnDatapoint",
])


def _names(kind, processor=False):
    proc = set(PROCESSOR)
    return sorted(
        n for n, s in registry.REGISTRY.items()
        if s.kind is kind and ((n in proc) == processor)
    )


def test_editor_names_match_reference():
    assert _names(Kind.EDITOR) == README_EDITORS
    assert len(README_EDITORS) == 16


def test_converter_names_match_reference():
    assert _names(Kind.CONVERTER) == README_CONVERTERS
    assert len(README_CONVERTERS) == 106


def test_processor_functions():
    assert sorted(n for n in registry.REGISTRY if n in set(PROCESSOR)) == PROCESSOR
    c = registry.counts()
    assert (c["editors"], c["converters"], c["gated"], c["processor-specific"]) == (16, 106, 8, 21)


def test_lambda_converters_are_gated():
    gated = sorted(n for n, s in registry.REGISTRY.items() if s.gate)
    assert gated == LAMBDAS
    for n in LAMBDAS:
        spec = registry.lookup(n)
        assert spec.gate == "ottl.functions.enableLambda"
        assert any(p.kind is K.LAMBDA for p in spec.params)
    assert [p.lambda_arity for p in registry.lookup("Reduce").params if p.kind is K.LAMBDA] == [3]
    assert [p.lambda_arity for p in registry.lookup("When").params if p.kind is K.LAMBDA] == [0]


def test_contexts():
    assert "IsRootSpan" in registry.functions_for_context("span")
    assert "IsRootSpan" not in registry.functions_for_context("log")
    assert "convert_sum_to_gauge" in registry.functions_for_context("metric")
    assert "convert_sum_to_gauge" not in registry.functions_for_context("datapoint")
    assert "convert_summary_sum_val_to_sum" in registry.functions_for_context("datapoint")
    assert "ParseCEF" in registry.functions_for_context("log")
    assert "HasAttrOnDatapoint" not in registry.functions_for_context("span")
    assert "All" not in registry.functions_for_context("log")
    assert "All" in registry.functions_for_context("log", frozenset({"ottl.functions.enableLambda"}))
    assert "set" in registry.functions_for_context("resource")


def sig(name):
    return registry.signature(registry.lookup(name))


def kinds(name):
    return [(p.name, p.kind, p.optional, p.is_list) for p in registry.lookup(name).params]


@pytest.mark.parametrize("name,expected", [
    ("set", "set(target, value)"),
    ("delete_key", "delete_key(target, key)"),
    ("keep_keys", "keep_keys(target, keys[])"),
    ("limit", "limit(target, limit, priority_keys[])"),
    ("replace_pattern", "replace_pattern(target, regex_pattern, replacement, Optional[function], Optional[replacement_format])"),
    ("replace_all_patterns", "replace_all_patterns(target, mode, regex_pattern, replacement, Optional[function], Optional[replacement_format])"),
    ("truncate_all", "truncate_all(target, limit, Optional[utf8_safe], Optional[truncation_marker])"),
    ("merge_maps", "merge_maps(target, source, strategy)"),
    ("flatten", "flatten(target, Optional[prefix], Optional[depth], Optional[resolve_conflicts])"),
    ("Concat", "Concat(vals[], delimiter)"),
    ("ConvertCase", "ConvertCase(target, to_case)"),
    ("Split", "Split(target, delimiter)"),
    ("Substring", "Substring(target, start, length, Optional[utf8_safe])"),
    ("IsMatch", "IsMatch(target, pattern)"),
    ("ExtractPatterns", "ExtractPatterns(target, pattern)"),
    ("Int", "Int(target)"),
    ("Time", "Time(time, format, Optional[location], Optional[locale])"),
    ("ParseJSON", "ParseJSON(target)"),
    ("SHA256", "SHA256(target)"),
    ("TraceID", "TraceID(target)"),
    ("append", "append(target, Optional[value], Optional[values[]])"),
    ("ParseCSV", "ParseCSV(target, header, Optional[delimiter], Optional[header_delimiter], Optional[mode])"),
    ("Now", "Now()"),
    ("IsRootSpan", "IsRootSpan()"),
])
def test_signatures(name, expected):
    assert sig(name) == expected


def test_star_kinds():
    assert kinds("set") == [("target", K.PATH, False, False), ("value", K.GETTER, False, False)]
    assert kinds("delete_key") == [("target", K.PATH, False, False), ("key", K.STRING_GETTER, False, False)]
    assert kinds("limit") == [
        ("target", K.PATH, False, False), ("limit", K.INT, False, False), ("priority_keys", K.STRING, False, True)]
    assert kinds("truncate_all")[1:] == [
        ("limit", K.INT, False, False), ("utf8_safe", K.BOOL, True, False), ("truncation_marker", K.STRING, True, False)]
    assert kinds("replace_pattern")[3] == ("function", K.FUNCTION, True, False)
    assert kinds("replace_all_patterns")[1] == ("mode", K.STRING, False, False)
    assert kinds("merge_maps")[2] == ("strategy", K.STRING, False, False)
    assert kinds("Concat")[0] == ("vals", K.STRING_LIKE_GETTER, False, True)
    assert kinds("ConvertCase")[1] == ("to_case", K.STRING, False, False)
    assert kinds("Int") == [("target", K.INT_LIKE_GETTER, False, False)]
    assert kinds("Time")[1] == ("format", K.STRING, False, False)
    assert kinds("TraceID") == [("target", K.BYTE_SLICE_LIKE_GETTER, False, False)]
    keys = registry.lookup("keep_keys").params[1]
    assert keys.dynamic_slice_gate == "pkg.ottl.functions.enableDynamicSliceArguments"
    assert registry.lookup("append").requires_one_of == ("value", "values")


def test_named_argument_resolution():
    tr = registry.lookup("truncate_all")
    assert registry.resolve_named(tr, "utf8_safe").go_field == "Utf8Safe"
    rp = registry.lookup("replace_pattern")
    assert registry.resolve_named(rp, "replacement_format").name == "replacement_format"
    assert registry.resolve_named(rp, "replacementFormat").name == "replacement_format"
    assert registry.resolve_named(rp, "regex") is None
    assert registry.resolve_named(registry.lookup("GetXML"), "x_path").name == "x_path"
    # The reference's strcase lowers the second capital of an acronym, so SourceIP has no name.
    assert registry.resolve_named(registry.lookup("CommunityID"), "source_ip") is None
    assert registry.to_camel("sourceIP") == "SourceIp"


def param(fn, name):
    return next(p for p in registry.lookup(fn).params if p.name == name)


def test_regex_checks():
    check = param("replace_pattern", "regex_pattern").check
    assert check("^kube_([0-9A-Za-z]+_)") is None
    err = check("(unclosed")
    assert err and err.startswith("the regex pattern supplied to replace_pattern '\"(unclosed\"' is not a valid pattern: ")
    assert param("delete_matching_keys", "pattern").check("[a-") is not None
    assert param("IsMatch", "pattern").check(".*ring") is None
    # RE2 rejects what backtracking engines accept.
    assert param("IsMatch", "pattern").check("(?=x)") is not None
    ep = param("ExtractPatterns", "pattern").check
    assert ep("GIT_SHA=(?P<sha>\\w+)") is None
    assert ep("GIT_SHA=(\\w+)") == "at least 1 named capture group must be supplied in the given regex"
    assert ep("(") is not None


def test_literal_checks():
    cc = param("ConvertCase", "to_case").check
    assert cc("snake") is None
    assert cc("title") == "invalid case: title, allowed cases are: lower, upper, snake, camel"
    assert param("merge_maps", "strategy").check("upsert") is None
    assert param("merge_maps", "strategy").check("replace") is not None
    assert param("replace_all_patterns", "mode").check("key") is None
    assert param("replace_all_patterns", "mode").check("keys") is not None
    assert param("Sort", "order").check("desc") is None
    assert param("Sort", "order").check("down") is not None
    assert param("limit", "limit").check(-1) == "invalid limit for limit function, -1 cannot be negative"
    assert param("truncate_all", "limit").check(-5) == "invalid limit for truncate_all function, -5 cannot be negative"
    assert param("truncate_all", "limit").check(0) is None
    assert registry.lookup("limit").check_args({"limit": 1, "priority_keys": ["a", "b"]}) is not None
    assert registry.lookup("limit").check_args({"limit": 2, "priority_keys": ["a", "b"]}) is None
    assert param("flatten", "depth").check(0) is not None
    assert param("ParseCSV", "mode").check("lazyQuotes") is None
    assert param("ParseCSV", "mode").check("lazy") == "unknown mode: lazy"
    assert param("ParseCSV", "delimiter").check("||") is not None
    assert param("Coalesce", "values").check([]) is not None
    kv = registry.lookup("ParseKeyValue").check_args
    assert kv({"delimiter": "!", "pair_delimiter": "_"}) is None
    assert kv({"delimiter": " "}) is not None
    assert kv({"pair_delimiter": ""}) is not None


def test_encoding_time_and_id_checks():
    dec = param("Decode", "encoding").check
    for ok in ("base64", "base64-raw-url", "us-ascii", "utf-16", "ISO-8859-1", "windows-1252"):
        assert dec(ok) is None, ok
    assert dec("no-such-charset") == "unsupported encoding 'no-such-charset'"
    t = registry.lookup("Time").check_args
    assert t({"format": "%Y-%m-%d %H:%M:%S"}) is None
    assert t({"format": ""}) == "format cannot be nil"
    assert t({"format": "%Q"}) == "invalid strptime format: [unsupported ctimefmt.toNative() directive: %Q]"
    assert "must be preceded with '.' or ','" in t({"format": "%H:%M:%L"})
    assert t({"format": "%Y", "locale": "de-DE"}) is None
    assert "unsupported locale 'xx-YY'" in t({"format": "%Y", "locale": "xx-YY"})
    assert t({"format": "%Y", "location": "America/New_York"}) is None
    assert t({"format": "%Y", "location": "Mars/Base"}).startswith("failed to load location Mars/Base")
    assert param("FormatTime", "format").check("%Y%m") is None
    tid = param("TraceID", "target").check
    assert tid("a389023abaa839283293ed323892389d") is None
    assert tid(bytes(16)) is None
    assert "invalid length" in tid("abc")
    assert "invalid hex" in tid("z" * 32)
    assert param("SpanID", "target").check("0102030405060708") is None


def test_glob_and_xpath_checks():
    g = param("replace_match", "pattern").check
    assert g("/user/*/list/*") is None
    assert g("[abc") is not None
    x = param("GetXML", "x_path").check
    assert x("//a[@b='c']") is None
    assert x("//a[") is not None


def test_docs_are_generated():
    docs = Path(__file__).resolve().parents[2] / "docs" / "functions.md"
    assert docs.read_text() == registry.render_markdown()
