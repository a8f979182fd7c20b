"""The standard converters of the reference (``pkg/ottl/ottlfuncs``), the span-only IsRootSpan, and
the lambda converters behind ``ottl.functions.enableLambda``.

Each entry follows the newest ``XArguments`` struct read for ``func_<name>.go``; the parameter
names are the snake_case of the Go fields, which is what named arguments resolve to (so ``Bool``
takes ``target``, not the README's ``value``; ``Concat`` takes ``vals``; ``URL`` takes ``uri``).
"""

from __future__ import annotations

from . import checks
from .editors import LAMBDA_GATE, K, P
from .spec import FunctionSpec, Kind


def C(name: str, params, summary: str, **kw) -> FunctionSpec:
    return FunctionSpec(name=name, kind=Kind.CONVERTER, params=tuple(params), summary=summary, **kw)


def _one(name: str, go_field: str, kind, summary: str) -> FunctionSpec:
    return C(name, [P(go_field, kind)], summary)


_T = "Target"

# --- type conversion and inspection -------------------------------------------------------------
_TYPES = (
    _one("Bool", _T, K.BOOL_LIKE_GETTER, "Convert to bool; nil when it cannot."),
    _one("Double", _T, K.FLOAT_LIKE_GETTER, "Convert to float64; nil when it cannot."),
    _one("Int", _T, K.INT_LIKE_GETTER, "Convert to int64 (floats truncate); nil when it cannot."),
    _one("String", _T, K.STRING_LIKE_GETTER, "Convert to string (bytes as hex, maps/slices as JSON)."),
    C("ParseInt", [P(_T, K.STRING_GETTER), P("Base", K.INT_GETTER)], "Parse an integer in base 0 or 2..36."),
    _one("IsBool", _T, K.GETTER, "True when the value is a bool."),
    _one("IsDouble", _T, K.GETTER, "True when the value is a float64."),
    _one("IsInt", _T, K.GETTER, "True when the value is an int64."),
    _one("IsString", _T, K.GETTER, "True when the value is a string."),
    _one("IsMap", _T, K.GETTER, "True when the value is a map."),
    _one("IsList", _T, K.GETTER, "True when the value is a list."),
    _one("IsEmpty", _T, K.GETTER, "True for nil, empty values, empty maps/slices and zero values."),
    _one("Len", _T, K.GETTER, "Length of a string, slice or map."),
    _one("Hex", _T, K.BYTE_SLICE_LIKE_GETTER, "Hex string of the value's bytes."),
    _one("Keys", _T, K.PMAP_GETTER, "Slice of a map's keys."),
    _one("Values", _T, K.PMAP_GETTER, "Slice of a map's values."),
    C("ContainsValue", [P(_T, K.PSLICE_GETTER), P("Item", K.GETTER)], "True when a slice holds the item."),
    C("Index", [P(_T, K.GETTER), P("Value", K.GETTER)], "First index of a value in a string or slice, or -1."),
    C(
        "Coalesce",
        [P("Values", K.GETTER, is_list=True, check=checks.non_empty_list("Coalesce requires at least one argument"))],
        "First non-nil value of a list.",
    ),
)

# --- strings -------------------------------------------------------------------------------------
_STRINGS = (
    C(
        "Concat",
        [P("Vals", K.STRING_LIKE_GETTER, is_list=True, dynamic_slice=True), P("Delimiter", K.STRING_GETTER)],
        "Join the string forms of values with a delimiter.",
    ),
    C(
        "ConvertCase",
        [P(_T, K.STRING_GETTER), P("ToCase", K.STRING, check=checks.convert_case)],
        "Convert a string to lower, upper, snake or camel case.",
    ),
    _one("ToLowerCase", _T, K.STRING_GETTER, "Lower-case a string."),
    _one("ToUpperCase", _T, K.STRING_GETTER, "Upper-case a string."),
    _one("ToSnakeCase", _T, K.STRING_GETTER, "Snake-case a string."),
    _one("ToCamelCase", _T, K.STRING_GETTER, "Camel-case a string."),
    C("Split", [P(_T, K.STRING_GETTER), P("Delimiter", K.STRING_GETTER)], "Split a string into a list of strings."),
    C(
        "Substring",
        [P(_T, K.STRING_GETTER), P("Start", K.INT_GETTER), P("Length", K.INT_GETTER), P("Utf8Safe", K.BOOL, optional=True)],
        "Bytes [start, start+length) of a string.",
    ),
    C("Trim", [P(_T, K.STRING_GETTER), P("Replacement", K.STRING, optional=True)], "Trim a character (default space) from both ends."),
    C("TrimPrefix", [P(_T, K.STRING_GETTER), P("Prefix", K.STRING_GETTER)], "Remove a leading prefix."),
    C("TrimSuffix", [P(_T, K.STRING_GETTER), P("Suffix", K.STRING_GETTER)], "Remove a trailing suffix."),
    C("HasPrefix", [P(_T, K.STRING_GETTER), P("Prefix", K.STRING_GETTER)], "True when a string starts with the prefix."),
    C("HasSuffix", [P(_T, K.STRING_GETTER), P("Suffix", K.STRING_GETTER)], "True when a string ends with the suffix."),
    C(
        "IsMatch",
        [P(_T, K.STRING_LIKE_GETTER), P("Pattern", K.STRING_GETTER, check=checks.regex("IsMatch"))],
        "True when the value's string form matches a regex (partial match).",
    ),
    C("Format", [P("Format", K.STRING), P("Vals", K.GETTER, is_list=True)], "Go fmt.Sprintf of the values."),
    C(
        "Sort",
        [P(_T, K.GETTER), P("Order", K.STRING, optional=True, check=checks.sort_order)],
        "Sort a list ascending or descending.",
    ),
    C(
        "ExtractPatterns",
        [P(_T, K.STRING_GETTER), P("Pattern", K.STRING_GETTER, check=checks.regex_with_named_group("ExtractPatterns"))],
        "Map of the named capture groups of a regex match.",
    ),
    C(
        "ExtractGrokPatterns",
        [
            P(_T, K.STRING_GETTER),
            P("Pattern", K.STRING_GETTER),
            P("NamedCapturesOnly", K.BOOL, optional=True),
            P("PatternDefinitions", K.STRING, optional=True, is_list=True, check=checks.grok_pattern_definitions),
        ],
        "Map of the captures of a grok pattern.",
        check_args=checks.grok_args,
    ),
    C(
        "ToKeyValueString",
        [
            P(_T, K.PMAP_GETTER),
            P("Delimiter", K.STRING, optional=True),
            P("PairDelimiter", K.STRING, optional=True),
            P("SortOutput", K.BOOL, optional=True),
        ],
        "Render a map as `k=v k2=v2`.",
        check_args=checks.kv_delimiters,
    ),
    C(
        "SliceToMap",
        [P(_T, K.PSLICE_GETTER), P("KeyPath", K.STRING, optional=True, is_list=True), P("ValuePath", K.STRING, optional=True, is_list=True)],
        "Turn a slice of maps into a map keyed by key_path (or index).",
    ),
)

# --- parsing -------------------------------------------------------------------------------------
_PARSING = (
    _one("ParseJSON", _T, K.STRING_GETTER, "Parse JSON into a map or slice (numbers become float64)."),
    C(
        "ParseKeyValue",
        [P(_T, K.STRING_GETTER), P("Delimiter", K.STRING, optional=True), P("PairDelimiter", K.STRING, optional=True)],
        "Parse `k=v k2=v2` into a map.",
        check_args=checks.kv_delimiters,
    ),
    C(
        "ParseCSV",
        [
            P(_T, K.STRING_GETTER),
            P("Header", K.STRING_GETTER),
            P("Delimiter", K.STRING, optional=True, check=checks.csv_single_char("delimiter")),
            P("HeaderDelimiter", K.STRING, optional=True, check=checks.csv_single_char("header_delimiter")),
            P("Mode", K.STRING, optional=True, check=checks.csv_mode),
        ],
        "Parse one CSV row into a map keyed by the header fields.",
    ),
    _one("ParseXML", _T, K.STRING_GETTER, "Parse XML into a map of tag/attributes/content/children."),
    _one("ParseSimplifiedXML", _T, K.STRING_GETTER, "Parse attribute-free XML into a plain map."),
    C(
        "GetXML",
        [P(_T, K.STRING_GETTER), P("XPath", K.STRING, check=checks.xpath)],
        "XML string of the elements an XPath selects.",
    ),
    C(
        "InsertXML",
        [P(_T, K.STRING_GETTER), P("XPath", K.STRING, check=checks.xpath), P("SubDocument", K.STRING_GETTER)],
        "Insert an XML document under the elements an XPath selects.",
    ),
    C(
        "RemoveXML",
        [P(_T, K.STRING_GETTER), P("XPath", K.STRING, check=checks.xpath)],
        "Remove the nodes an XPath selects.",
    ),
    C(
        "ConvertAttributesToElementsXML",
        [P(_T, K.STRING_GETTER), P("XPath", K.STRING, optional=True, check=checks.xpath)],
        "Turn XML attributes into child elements.",
    ),
    C(
        "ConvertTextToElementsXML",
        [P(_T, K.STRING_GETTER), P("XPath", K.STRING, optional=True, check=checks.xpath), P("ElementName", K.STRING, optional=True)],
        "Wrap XML text content in dedicated elements.",
    ),
    C("ParseSeverity", [P(_T, K.GETTER), P("Mapping", K.PMAP_GETTER)], "Map a value or numeric range to a severity name."),
    C("URL", [P("URI", K.STRING_GETTER)], "Map of the url.* parts of a URL."),
    C("UserAgent", [P("UserAgent", K.STRING_GETTER)], "Map of the user_agent.* and os.* parts of a user agent."),
    C(
        "Decode",
        [P(_T, K.GETTER), P("Encoding", K.STRING_GETTER, check=checks.decode_encoding)],
        "Decode a string or bytes from base64 variants or an IANA charset.",
    ),
    _one("Base64Decode", _T, K.STRING_GETTER, "Decode standard base64 (deprecated; use Decode)."),
    C(
        "Base64Encode",
        [P(_T, K.STRING_GETTER), P("Variant", K.STRING_GETTER, optional=True)],
        "Encode a string as base64 (variant checked when it runs).",
    ),
)

# --- hashing and ids -----------------------------------------------------------------------------
_HASHES = (
    _one("SHA1", _T, K.STRING_GETTER, "Hex SHA-1 digest."),
    _one("SHA256", _T, K.STRING_GETTER, "Hex SHA-256 digest."),
    _one("SHA512", _T, K.STRING_GETTER, "Hex SHA-512 digest."),
    _one("MD5", _T, K.STRING_GETTER, "Hex MD5 digest."),
    _one("FNV", _T, K.STRING_GETTER, "FNV-1a 64-bit hash as int64."),
    _one("Murmur3Hash", _T, K.STRING_GETTER, "Little-endian hex of the 32-bit Murmur3 hash."),
    _one("Murmur3Hash128", _T, K.STRING_GETTER, "Little-endian hex of the 128-bit Murmur3 hash."),
    _one("XXH3", _T, K.STRING_GETTER, "Hex 64-bit XXH3 digest."),
    _one("XXH128", _T, K.STRING_GETTER, "Hex 128-bit XXH3 digest."),
    C(
        "CommunityID",
        [
            P("SourceIP", K.STRING_GETTER),
            P("SourcePort", K.INT_GETTER),
            P("DestinationIP", K.STRING_GETTER),
            P("DestinationPort", K.INT_GETTER),
            P("Protocol", K.STRING_GETTER, optional=True),
            P("Seed", K.INT_GETTER, optional=True),
        ],
        "Community ID flow hash (base64).",
    ),
    _one("IsValidLuhn", _T, K.STRING_LIKE_GETTER, "True when the digits pass the Luhn check."),
    C(
        "IsInCIDR",
        [P(_T, K.STRING_GETTER), P("Networks", K.STRING_GETTER, is_list=True, dynamic_slice=True)],
        "True when an IP address is in one of the networks.",
    ),
    C("TraceID", [P(_T, K.BYTE_SLICE_LIKE_GETTER, check=checks.id_literal("TraceID", 16))], "TraceID from 16 bytes or 32 hex digits."),
    C("SpanID", [P(_T, K.BYTE_SLICE_LIKE_GETTER, check=checks.id_literal("SpanID", 8))], "SpanID from 8 bytes or 16 hex digits."),
    C(
        "ProfileID",
        [P(_T, K.BYTE_SLICE_LIKE_GETTER, check=checks.id_literal("ProfileID", 16))],
        "ProfileID from 16 bytes or 32 hex digits.",
    ),
    C("UUID", [], "A random version 4 UUID string."),
    C("UUIDv7", [], "A version 7 UUID string."),
)

# --- time and duration ---------------------------------------------------------------------------
_TIME = (
    C(
        "Time",
        [
            P("Time", K.STRING_GETTER),
            P("Format", K.STRING),
            P("Location", K.STRING, optional=True),
            P("Locale", K.STRING, optional=True),
        ],
        "Parse a string into a time with strptime-like directives.",
        check_args=checks.time_args,
    ),
    C(
        "FormatTime",
        [P("Time", K.TIME_GETTER), P("Format", K.STRING, check=checks.strptime_format)],
        "Format a time with strptime-like directives.",
    ),
    C("Now", [], "The current time."),
    C("Unix", [P("Seconds", K.INT_GETTER), P("Nanoseconds", K.INT_GETTER, optional=True)], "Time from Unix seconds and nanoseconds."),
    _one("UnixSeconds", "Time", K.TIME_GETTER, "Seconds since the Unix epoch."),
    _one("UnixMilli", "Time", K.TIME_GETTER, "Milliseconds since the Unix epoch."),
    _one("UnixMicro", "Time", K.TIME_GETTER, "Microseconds since the Unix epoch."),
    _one("UnixNano", "Time", K.TIME_GETTER, "Nanoseconds since the Unix epoch."),
    _one("Duration", "Duration", K.STRING_GETTER, "Parse a Go duration string."),
    C("TruncateTime", [P("Time", K.TIME_GETTER), P("Duration", K.DURATION_GETTER)], "Round a time down to a multiple of a duration."),
    _one("Year", "Time", K.TIME_GETTER, "Year of a time."),
    _one("Month", "Time", K.TIME_GETTER, "Month of a time."),
    _one("Day", "Time", K.TIME_GETTER, "Day of the month of a time."),
    _one("Weekday", "Time", K.TIME_GETTER, "Day of the week (0 = Sunday)."),
    _one("Hour", "Time", K.TIME_GETTER, "Hour of a time."),
    _one("Minute", "Time", K.TIME_GETTER, "Minute of a time."),
    _one("Second", "Time", K.TIME_GETTER, "Second of a time."),
    _one("Nanosecond", "Time", K.TIME_GETTER, "Nanosecond of a time."),
    _one("Hours", "Duration", K.DURATION_GETTER, "A duration in hours (float64)."),
    _one("Minutes", "Duration", K.DURATION_GETTER, "A duration in minutes (float64)."),
    _one("Seconds", "Duration", K.DURATION_GETTER, "A duration in seconds (float64)."),
    _one("Milliseconds", "Duration", K.DURATION_GETTER, "A duration in milliseconds (int64)."),
    _one("Microseconds", "Duration", K.DURATION_GETTER, "A duration in microseconds (int64)."),
    _one("Nanoseconds", "Duration", K.DURATION_GETTER, "A duration in nanoseconds (int64)."),
    _one("Log", _T, K.FLOAT_LIKE_GETTER, "Natural logarithm (float64); zero or less is an error."),
)

# --- span only -----------------------------------------------------------------------------------
IS_ROOT_SPAN = C(
    "IsRootSpan",
    [],
    "True when the span's parent span id is all zeros.",
    contexts=frozenset({"span"}),
)

STANDARD_CONVERTERS: tuple[FunctionSpec, ...] = (
    _TYPES + _STRINGS + _PARSING + _HASHES + _TIME + (IS_ROOT_SPAN,)
)

# --- lambda converters (alpha, gated) ------------------------------------------------------------


def _L(name: str, params, summary: str) -> FunctionSpec:
    return C(name, params, summary, gate=LAMBDA_GATE)


def _lam(go_field: str, arity: int, optional: bool = False):
    return P(go_field, K.LAMBDA, lambda_arity=arity, optional=optional)


LAMBDA_CONVERTERS: tuple[FunctionSpec, ...] = (
    _L("All", [P("Source", K.GETTER), _lam("Predicate", 2)], "True when the predicate holds for every element."),
    _L("Any", [P("Source", K.GETTER), _lam("Predicate", 2)], "True when the predicate holds for some element."),
    _L("Filter", [P("Source", K.GETTER), _lam("Predicate", 2)], "The elements for which the predicate holds."),
    _L(
        "Find",
        [P("Source", K.GETTER), _lam("Predicate", 2), _lam("Mapper", 2, optional=True)],
        "The first element for which the predicate holds, optionally mapped.",
    ),
    _L("MapEach", [P("Source", K.GETTER), _lam("Mapper", 2)], "Each element value transformed by the mapper."),
    _L("MapKeys", [P("Source", K.PMAP_GETTER), _lam("KeyMapper", 2)], "A map with each key transformed by the mapper."),
    _L(
        "Reduce",
        [P("Source", K.GETTER), P("Seed", K.GETTER), _lam("Accumulator", 3)],
        "Fold the elements into one value starting from the seed.",
    ),
    _L(
        "When",
        [_lam("Condition", 0), P("TrueValue", K.GETTER), P("FalseValue", K.GETTER)],
        "true_value when the condition lambda is true, else false_value.",
    ),
)

CONVERTERS: tuple[FunctionSpec, ...] = STANDARD_CONVERTERS + LAMBDA_CONVERTERS
