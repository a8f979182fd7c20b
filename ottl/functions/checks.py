"""Checks the reference runs when it builds a function, before any telemetry flows.

Each builder returns a callable taking the literal Python value of one argument (``Param.check``)
or the dict of literal arguments (``FunctionSpec.check_args``) and returning an error message, or
None when the value is acceptable. Only checks the reference performs at factory time live here;
what the reference checks while running (a replacement format, a Base64Encode variant, a
CommunityID protocol) is left to the runtime.

Messages follow the reference's wording where it was read; Go's ``%q`` quoting is reproduced by
``go_quote``.
"""

from __future__ import annotations

import re
from typing import Callable, Iterable, Optional

import re2

from ottl import limits
from ottl.eval.gotext import go_quote

Check = Callable[[object], Optional[str]]
ArgsCheck = Callable[[dict], Optional[str]]


# --- regular expressions (RE2, as Go's regexp) -------------------------------------------------


# RE2 would log every bad pattern to stderr; the error is reported to the user instead.
_RE2_QUIET = re2.Options()
_RE2_QUIET.log_errors = False


def _re2_compile(pattern: str):
    """Compile with RE2; return (compiled, None) or (None, message)."""
    size = len(pattern.encode("utf-8", "surrogatepass"))
    if size > limits.MAX_REGEX_PATTERN_SIZE:
        return None, (
            f"pattern of {size} bytes exceeds MAX_REGEX_PATTERN_SIZE "
            f"({limits.MAX_REGEX_PATTERN_SIZE} bytes)"
        )
    try:
        return re2.compile(pattern, _RE2_QUIET), None
    except Exception as exc:  # re2.error
        msg = str(exc) or exc.__class__.__name__
        return None, msg


def regex(func_name: str) -> Check:
    """A literal regex, compiled when the statement is built (the reference's dynamic regex)."""

    def check(value: object) -> Optional[str]:
        if not isinstance(value, str):
            return None
        _, err = _re2_compile(value)
        if err is not None:
            return (
                f"the regex pattern supplied to {func_name} '{go_quote(value)}' "
                f"is not a valid pattern: {err}"
            )
        return None

    return check


def regex_with_named_group(func_name: str) -> Check:
    """ExtractPatterns: a valid regex with at least one named capture group."""
    valid = regex(func_name)

    def check(value: object) -> Optional[str]:
        err = valid(value)
        if err is not None:
            return err
        if isinstance(value, str):
            compiled, _ = _re2_compile(value)
            if compiled is not None and not compiled.groupindex:
                return "at least 1 named capture group must be supplied in the given regex"
        return None

    return check


# --- globs (gobwas/glob syntax) ----------------------------------------------------------------


def _glob_error(pattern: str) -> Optional[str]:
    """Return why gobwas/glob would reject ``pattern``, or None.

    The glob lexer rejects an unfinished escape, an unclosed ``[`` class, an unclosed ``{``
    alternation and a ``}`` with no ``{``. The messages are this engine's own.
    """
    i, n = 0, len(pattern)
    depth = 0
    while i < n:
        ch = pattern[i]
        if ch == "\\":
            if i + 1 >= n:
                return "unexpected end of input after escape"
            i += 2
            continue
        if ch == "[":
            j = i + 1
            if j < n and pattern[j] == "!":
                j += 1
            closed = False
            while j < n:
                if pattern[j] == "\\":
                    j += 2
                    continue
                if pattern[j] == "]":
                    closed = True
                    break
                j += 1
            if not closed:
                return "unexpected end of input: unclosed character class"
            i = j + 1
            continue
        if ch == "{":
            depth += 1
        elif ch == "}":
            if depth == 0:
                return "unexpected '}' without a matching '{'"
            depth -= 1
        i += 1
    if depth:
        return "unexpected end of input: unclosed '{'"
    return None


def glob(func_name: str) -> Check:
    """replace_match / replace_all_matches: a literal glob compiled when the statement is built."""

    def check(value: object) -> Optional[str]:
        if not isinstance(value, str):
            return None
        err = _glob_error(value)
        if err is not None:
            return (
                f"the regex pattern supplied to {func_name} '{go_quote(value)}' "
                f"is not a valid pattern: {err}"
            )
        return None

    return check


# --- enumerations of literal strings ------------------------------------------------------------


def convert_case(value: object) -> Optional[str]:
    if value not in ("lower", "upper", "snake", "camel"):
        return f"invalid case: {value}, allowed cases are: lower, upper, snake, camel"
    return None


def merge_strategy(value: object) -> Optional[str]:
    if value not in ("insert", "update", "upsert"):
        return f"invalid value for strategy, {value}, must be 'insert', 'update' or 'upsert'"
    return None


def replace_mode(value: object) -> Optional[str]:
    if value not in ("key", "value"):
        return f"invalid mode {value}, must be either 'key' or 'value'"
    return None


def sort_order(value: object) -> Optional[str]:
    if value not in ("asc", "desc"):
        return f'invalid arguments: {value}. Order should be either "asc" or "desc"'
    return None


def csv_mode(value: object) -> Optional[str]:
    if value not in ("strict", "lazyQuotes", "ignoreQuotes"):
        return f"unknown mode: {value}"
    return None


def csv_single_char(label: str) -> Check:
    """ParseCSV delimiter / header_delimiter: exactly one character (rune)."""

    def check(value: object) -> Optional[str]:
        if isinstance(value, str) and len(value) != 1:
            return f"invalid arguments: {label} must be a single character"
        return None

    return check


def clf_format(value: object) -> Optional[str]:
    if value not in ("clf", "combined"):
        return f"invalid format {go_quote(str(value))}, must be one of \"clf\" or \"combined\""
    return None


def one_of(values: Iterable[str], message: str) -> Check:
    """A literal that must be one of ``values``; ``message`` is formatted with ``value``."""
    allowed = tuple(values)

    def check(value: object) -> Optional[str]:
        if value not in allowed:
            return message.format(value=value)
        return None

    return check


# --- numbers ------------------------------------------------------------------------------------


def non_negative(func_name: str, label: str = "limit") -> Check:
    def check(value: object) -> Optional[str]:
        if isinstance(value, int) and value < 0:
            return f"invalid {label} for {func_name} function, {value} cannot be negative"
        return None

    return check


def flatten_depth(value: object) -> Optional[str]:
    if isinstance(value, int) and value < 1:
        return f"invalid depth '{value}' for flatten function, must be greater than 0"
    return None


def limit_args(args: dict) -> Optional[str]:
    """limit: priority keys may not outnumber the limit (after the non-negative check)."""
    lim = args.get("limit")
    keys = args.get("priority_keys")
    if isinstance(lim, int) and lim >= 0 and isinstance(keys, list) and lim < len(keys):
        return (
            f"invalid limit for limit function, {lim} cannot be less than number of "
            f"priority attributes {len(keys)}"
        )
    return None


def truncate_all_args(args: dict) -> Optional[str]:
    """truncate_all: the truncation marker counts against the limit, so it must fit in it."""
    lim = args.get("limit")
    marker = args.get("truncation_marker")
    if isinstance(lim, int) and lim >= 0 and isinstance(marker, str):
        if len(marker.encode("utf-8")) > lim:
            return (
                f"invalid truncation_marker for truncate_all function, its length "
                f"{len(marker.encode('utf-8'))} exceeds the limit {lim}"
            )
    return None


# --- lists --------------------------------------------------------------------------------------


def non_empty_list(message: str) -> Check:
    def check(value: object) -> Optional[str]:
        if isinstance(value, list) and not value:
            return message
        return None

    return check


def grok_pattern_definitions(value: object) -> Optional[str]:
    """ExtractGrokPatterns pattern definitions: ``NAME=pattern`` with no ``:`` in NAME."""
    if not isinstance(value, list):
        return None
    for i, item in enumerate(value):
        if not isinstance(item, str):
            continue
        if "=" not in item:
            shown = item if len(item) <= 20 else item[:17] + "..."
            return (
                f"pattern {go_quote(shown)} supplied to ExtractGrokPatterns at index {i} has "
                f"incorrect format, expecting PATTERNNAME=pattern definition"
            )
        name = item.split("=", 1)[0]
        if ":" in name:
            return f"pattern ID {go_quote(name)} should not contain ':'"
    return None


def grok_args(args: dict) -> Optional[str]:
    """ExtractGrokPatterns: a literal pattern without any ``%{...}`` reference is plain RE2;
    with named_captures_only it needs a named group. Patterns using grok references are not
    expanded here (the pattern library is the reference's), so they pass."""
    pattern = args.get("pattern")
    if not isinstance(pattern, str) or "%{" in pattern:
        return None
    compiled, err = _re2_compile(pattern)
    if err is not None:
        return f"the pattern supplied to ExtractGrokPatterns is not a valid pattern: {err}"
    if args.get("named_captures_only") is True and not compiled.groupindex:
        return "at least 1 named capture group must be supplied in the given regex"
    return None


# --- key/value delimiters -----------------------------------------------------------------------


def kv_delimiters(args: dict) -> Optional[str]:
    """ParseKeyValue / ToKeyValueString: delimiters not empty and not equal."""
    d = args.get("delimiter")
    p = args.get("pair_delimiter")
    if d == "":
        return "delimiter cannot be set to an empty string"
    if p == "":
        return "pair delimiter cannot be set to an empty string"
    delim = "=" if d is None else d
    pair = " " if p is None else p
    if delim == pair:
        return f"pair delimiter {go_quote(pair)} cannot be equal to delimiter {go_quote(delim)}"
    return None


# --- encodings ----------------------------------------------------------------------------------

_BASE64_VARIANTS = ("base64", "base64-raw", "base64-url", "base64-raw-url")
_ENCODING_OVERRIDES = ("utf-16", "utf16", "utf-8", "utf8", "ascii", "us-ascii", "nop", "")


def decode_encoding(value: object) -> Optional[str]:
    """Decode: a base64 variant, one of the collector's aliases, or an IANA charset name.

    The IANA lookup is approximated with Python's codec registry (names the reference's
    golang.org/x/text index knows are nearly all known to Python as well)."""
    if not isinstance(value, str):
        return None
    if value in _BASE64_VARIANTS or value.lower() in _ENCODING_OVERRIDES:
        return None
    import codecs

    try:
        info = codecs.lookup(value)
    except LookupError:
        return f"unsupported encoding '{value}'"
    # Python knows some codecs that are not character sets (rot13, zlib, ...).
    if not getattr(info, "_is_text_encoding", True):
        return f"unsupported encoding '{value}'"
    return None


# --- time ---------------------------------------------------------------------------------------

_CTIME_DIRECTIVES = set("YymoqbhBdegaAHlIpPMSLfsZzwijkDxFTXrRnt%c")


def strptime_format(value: object) -> Optional[str]:
    """Time / FormatTime format: not empty and valid for ctimefmt (the evaluator's own check, so
    compile time and run time cannot disagree)."""
    if not isinstance(value, str):
        return None
    if value == "":
        return "format cannot be nil"
    from ottl.eval.funcs.time import validate_strptime

    return validate_strptime(value)


def time_location(value: object) -> Optional[str]:
    """Time location: an IANA zone the time zone database knows ("" means none)."""
    if not isinstance(value, str) or value == "" or value in ("UTC", "Local"):
        return None
    try:
        from zoneinfo import ZoneInfo

        ZoneInfo(value)
    except Exception:
        return f"failed to load location {value}: unknown time zone {value}"
    return None


_BCP47 = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z]{4})?(-([A-Za-z]{2}|[0-9]{3}))?(-[A-Za-z0-9]{5,8})*$")


def time_locale(value: object) -> Optional[str]:
    """Time locale: a BCP 47 tag of a locale whose names are known (CLDR)."""
    if not isinstance(value, str):
        return None
    from ottl.eval.errors import EvalError
    from ottl.eval.funcs.time import resolve_locale

    try:
        resolve_locale(value)
    except EvalError as exc:
        return str(exc)
    return None


def time_args(args: dict) -> Optional[str]:
    """Time: the format first, then the location, then the locale, as the reference orders them."""
    for key, check in (("format", strptime_format), ("location", time_location), ("locale", time_locale)):
        if key in args:
            err = check(args[key])
            if err is not None:
                return err
    return None


# --- XPath --------------------------------------------------------------------------------------


def xpath(value: object) -> Optional[str]:
    """A literal XPath, compiled when the statement is built.

    No XPath engine is used: this catches the syntax errors that matter in practice (empty,
    unbalanced brackets/parentheses, unterminated string, trailing operator)."""
    if not isinstance(value, str):
        return None
    if value.strip() == "":
        return "invalid xpath: expression must evaluate to a node-set"
    stack = []
    quote = None
    for ch in value:
        if quote:
            if ch == quote:
                quote = None
            continue
        if ch in "'\"":
            quote = ch
        elif ch in "([":
            stack.append(ch)
        elif ch in ")]":
            if not stack or stack.pop() != ("(" if ch == ")" else "["):
                return f"invalid xpath: {value} has an invalid token"
    if quote:
        return f"invalid xpath: {value} has an unclosed string"
    if stack:
        return f"invalid xpath: {value} has an unclosed bracket"
    if value.rstrip()[-1] in "/|=<>+-,@":
        if not value.rstrip() == "/":
            return f"invalid xpath: {value} has an invalid token"
    return None


# --- IDs ----------------------------------------------------------------------------------------


def id_literal(func_name: str, size: int) -> Check:
    """TraceID / SpanID / ProfileID with a literal: ``size`` raw bytes or ``2*size`` hex digits."""

    def check(value: object) -> Optional[str]:
        if isinstance(value, str):
            raw = value.encode("utf-8")
        elif isinstance(value, (bytes, bytearray)):
            raw = bytes(value)
        else:
            return None
        if len(raw) == size:
            return None
        if len(raw) == 2 * size:
            try:
                bytes.fromhex(raw.decode("ascii"))
            except (ValueError, UnicodeDecodeError):
                return f"{func_name}: could not decode ID: invalid hex"
            return None
        return (
            f"{func_name}: could not decode ID: invalid length: expected {size} or "
            f"{2 * size} bytes, got {len(raw)}"
        )

    return check


# --- metrics (transform processor) --------------------------------------------------------------


def aggregation_temporality(value: object) -> Optional[str]:
    if value not in ("cumulative", "delta"):
        return f"unknown aggregation temporality: {value}"
    return None


AGGREGATION_FUNCTIONS = ("sum", "mean", "min", "max", "median", "count")


def aggregation_function(value: object) -> Optional[str]:
    if value not in AGGREGATION_FUNCTIONS:
        return (
            f"invalid aggregation function: '{value}', valid options: "
            f"[{' '.join(AGGREGATION_FUNCTIONS)}]"
        )
    return None


def distribution_fn(value: object) -> Optional[str]:
    allowed = ("upper", "midpoint", "random", "uniform")
    if value not in allowed:
        return f"invalid distribution function: {value}, must be one of {', '.join(allowed)}"
    return None
