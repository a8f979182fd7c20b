"""String converters (reference: pkg/ottl/ottlfuncs).

Concat, ConvertCase, ToLowerCase, ToUpperCase, ToSnakeCase, ToCamelCase, Split, Substring, Trim,
TrimPrefix, TrimSuffix, HasPrefix, HasSuffix, Format, Index, IsMatch, ExtractPatterns,
ExtractGrokPatterns, ToKeyValueString, SliceToMap, Sort, ContainsValue and Coalesce.

Go strings are bytes; here a string is a ``str`` whose undecodable bytes are surrogate escapes
(``\\udc80``..``\\udcff``, one per byte, as ``getters.bytes_like`` reads them). Byte offsets
(Substring, Index, Len) are taken on the UTF-8 form; rune-wise work sees one character per rune
and one per invalid byte, which is how Go ranges over a string.

Besides the converters this module holds ``go_sprintf`` (``fmt.Sprintf``); the Go text forms it
builds on live in ``ottl.eval.gotext``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import re2

from ottl import limits
from ottl.eval.compare import compare
from ottl.eval.errors import EvalError
from ottl.eval.funcs import Args, implements
from ottl.eval.funcs.time import go_duration_string, go_time_string
from ottl.eval.getters import ExprFunc, Getter
from ottl.eval.gotext import (
    _LOWER_HEX,
    _U64,
    _UPPER_HEX,
    _can_backquote,
    _has_surrogates,
    _replace_invalid,
    _rune_of,
    float64_as_string,
    go_bytes,
    go_format_float,
    go_is_print,
    go_quote,
    go_quote_ascii,
    go_quote_rune,
    go_str,
    go_trim_space,
    pvalue_as_string,
)
from ottl.eval.values import (
    Duration,
    PMap,
    PSlice,
    SpanID,
    Time,
    TraceID,
    as_raw,
    to_pvalue,
    type_name,
)

# --- case mapping --------------------------------------------------------------------------------


def _simple_lower(ch: str) -> str:
    low = ch.lower()
    if len(low) == 1:
        return low
    # Only U+0130 has a multi-character full lowercase; its simple mapping is 'i'.
    return "i" if ch == "\u0130" else ch


def _simple_upper(ch: str) -> str:
    up = ch.upper()
    if len(up) == 1:
        return up
    # Full uppercase that expands (ß -> SS) has no simple mapping, except the Greek letters with
    # ypogegrammeni, whose simple uppercase is their titlecase form.
    title = ch.title()
    if len(title) == 1 and title != ch:
        return title
    return ch


def go_to_lower(s: str) -> str:
    """strings.ToLower: the simple (one rune to one rune) Unicode mapping."""
    if s.isascii():
        return s.lower()
    return "".join(_simple_lower(ch) for ch in _replace_invalid(s))


def go_to_upper(s: str) -> str:
    """strings.ToUpper: the simple (one rune to one rune) Unicode mapping."""
    if s.isascii():
        return s.upper()
    return "".join(_simple_upper(ch) for ch in _replace_invalid(s))


def _is_upper_b(c: int) -> bool:
    return 65 <= c <= 90


def _is_lower_b(c: int) -> bool:
    return 97 <= c <= 122


def _is_digit_b(c: int) -> bool:
    return 48 <= c <= 57


def strcase_to_snake(s: str) -> str:
    """iancoleman/strcase ToSnake (v0.3.0): works on bytes, ASCII letters and digits only."""
    b = go_bytes(go_trim_space(s))
    out = bytearray()
    n = len(b)
    for i, v in enumerate(b):
        v_cap = _is_upper_b(v)
        v_low = _is_lower_b(v)
        if v_cap:
            v += 32
        if i + 1 < n:
            nxt = b[i + 1]
            v_num = _is_digit_b(v)
            n_cap, n_low, n_num = _is_upper_b(nxt), _is_lower_b(nxt), _is_digit_b(nxt)
            if (v_cap and (n_low or n_num)) or (v_low and (n_cap or n_num)) or (v_num and (n_cap or n_low)):
                if v_cap and n_low and i > 0 and _is_upper_b(b[i - 1]):
                    out.append(0x5F)
                out.append(v)
                if v_low or v_num or n_num:
                    out.append(0x5F)
                continue
        if v in (0x20, 0x5F, 0x2D, 0x2E):  # space, underscore, hyphen, dot
            out.append(0x5F)
        else:
            out.append(v)
    return go_str(bytes(out))


def strcase_to_camel(s: str) -> str:
    """iancoleman/strcase ToCamel (v0.3.0): bytes other than ASCII letters and digits are
    dropped; '_', ' ', '-' and '.' start a new word."""
    b = go_bytes(go_trim_space(s))
    if not b:
        return ""
    out = bytearray()
    cap_next = True
    prev_cap = False
    for i, v in enumerate(b):
        v_cap = _is_upper_b(v)
        v_low = _is_lower_b(v)
        if cap_next:
            if v_low:
                v -= 32
        elif i == 0:
            if v_cap:
                v += 32
        elif prev_cap and v_cap:
            v += 32
        prev_cap = v_cap
        if v_cap or v_low:
            out.append(v)
            cap_next = False
        elif _is_digit_b(v):
            out.append(v)
            cap_next = True
        else:
            cap_next = v in (0x5F, 0x20, 0x2D, 0x2E)
    return go_str(bytes(out))


# --- argument helpers ----------------------------------------------------------------------------


def _list_items(arg: Any, ctx: Any) -> list:
    """The items of a list argument: a list of getters, or one getter yielding a list (the
    dynamic-slice form); each item is returned as a getter."""
    if isinstance(arg, Getter):
        val = arg.get(ctx)
        if isinstance(val, (list, PSlice)):
            return [Getter.constant(v) for v in val]
        raise EvalError(f"expected a list but got {'nil' if val is None else type_name(val)}")
    return list(arg or ())


# --- RE2 -----------------------------------------------------------------------------------------

_RE2_OPTIONS = re2.Options()
_RE2_OPTIONS.log_errors = False


def _invalid_regex(func: str, pattern: str, err: str) -> str:
    return f"the regex pattern supplied to {func} '{go_quote(pattern)}' is not a valid pattern: {err}"


def re2_compile(pattern: str):
    """Compile a user pattern with RE2; raise ``ValueError(message)`` when it is rejected."""
    size = len(go_bytes(pattern))
    if size > limits.MAX_REGEX_PATTERN_SIZE:
        raise ValueError(
            f"pattern of {size} bytes exceeds MAX_REGEX_PATTERN_SIZE "
            f"({limits.MAX_REGEX_PATTERN_SIZE} bytes)"
        )
    try:
        return re2.compile(pattern, options=_RE2_OPTIONS)
    except re2.error as exc:
        msg = exc.args[0] if exc.args else str(exc)
        if isinstance(msg, bytes):
            msg = msg.decode("utf-8", "replace")
        raise ValueError(str(msg)) from None


def _scan_named_groups(pattern: str) -> tuple[str, list[str]]:
    """Rename every named group of ``pattern`` to a unique ``_gN`` name.

    Go allows one name on several groups and reports every group in order; RE2's Python binding
    keeps one index per name. Returns the rewritten pattern and the original names in group
    order (the order of their capture indexes)."""
    out: list[str] = []
    names: list[str] = []
    i, n = 0, len(pattern)
    in_class = False
    while i < n:
        ch = pattern[i]
        if ch == "\\":
            if pattern.startswith("\\Q", i):
                end = pattern.find("\\E", i + 2)
                end = n if end < 0 else end + 2
                out.append(pattern[i:end])
                i = end
                continue
            out.append(pattern[i : i + 2])
            i += 2
            continue
        if in_class:
            if ch == "[" and pattern.startswith("[:", i):
                end = pattern.find(":]", i + 2)
                if end >= 0:
                    out.append(pattern[i : end + 2])
                    i = end + 2
                    continue
            if ch == "]":
                in_class = False
            out.append(ch)
            i += 1
            continue
        if ch == "[":
            in_class = True
            out.append(ch)
            i += 1
            # A ']' right after '[' or '[^' is a literal.
            if i < n and pattern[i] == "^":
                out.append("^")
                i += 1
            if i < n and pattern[i] == "]":
                out.append("]")
                i += 1
            continue
        if ch == "(":
            for opener in ("(?P<", "(?<"):
                if pattern.startswith(opener, i):
                    close = pattern.find(">", i + len(opener))
                    if close >= 0:
                        names.append(pattern[i + len(opener) : close])
                        out.append(f"(?P<_g{len(names)}>")
                        i = close + 1
                        break
            else:
                out.append(ch)
                i += 1
            continue
        out.append(ch)
        i += 1
    return "".join(out), names


class NamedRegex:
    """A compiled user regex whose named groups are reported the Go way: every named group, in
    order, even when names repeat."""

    __slots__ = ("fields", "regex")

    def __init__(self, pattern: str) -> None:
        re2_compile(pattern)  # the pattern as the user wrote it must be valid
        rewritten, names = _scan_named_groups(pattern)
        self.regex = re2_compile(rewritten)
        index = self.regex.groupindex
        self.fields = [(name, index[f"_g{k}"]) for k, name in enumerate(names, 1)]

    def search(self, text: str):
        """(match, text matched); the match spans index ``text`` as given."""
        if _has_surrogates(text):
            # RE2 sees each invalid byte as U+FFFD, one character for one, so spans still index
            # the original text.
            return self.regex.search(_replace_invalid(text)), text
        return self.regex.search(text), text


def _group_text(match: Any, text: str, index: int) -> str | None:
    start, end = match.span(index)
    if start < 0:
        return None
    return text[start:end]


class _DynamicRegex:
    """A regex argument: compiled once when literal, else compiled per distinct value."""

    def __init__(self, func: str, getter: Getter, build: Callable[[str], Any], check: Callable[[Any], None] | None = None) -> None:
        self.func = func
        self.getter = getter
        self.build = build
        self.check = check
        self.cache: dict[str, Any] = {}
        self.fixed: Any = None
        self.fixed_error: str | None = None
        if getter.is_literal and isinstance(getter.literal, str):
            try:
                self.fixed = self._compile(getter.literal)
            except EvalError as exc:
                # The resolver reports bad literals before this; keep the failure for run time.
                self.fixed_error = str(exc)

    def _compile(self, pattern: str) -> Any:
        try:
            compiled = self.build(pattern)
        except ValueError as exc:
            raise EvalError(_invalid_regex(self.func, pattern, str(exc))) from None
        if self.check is not None:
            self.check(compiled)
        return compiled

    def get(self, ctx: Any) -> Any:
        if self.fixed is not None:
            return self.fixed
        if self.fixed_error is not None:
            raise EvalError(self.fixed_error)
        pattern = self.getter.string(ctx)
        compiled = self.cache.get(pattern)
        if compiled is None:
            compiled = self._compile(pattern)
            if len(self.cache) >= 64:
                self.cache.clear()
            self.cache[pattern] = compiled
        return compiled


def _plain_search(regex: Any, text: str) -> bool:
    return regex.search(_replace_invalid(text)) is not None


# --- Concat and the case converters --------------------------------------------------------------


@implements("Concat")
def concat(args: Args) -> ExprFunc:
    vals, delimiter = args["vals"], args["delimiter"]

    def run(ctx: Any) -> str:
        delim = delimiter.string(ctx)
        parts = []
        for getter in _list_items(vals, ctx):
            val = getter.string_like(ctx)
            parts.append("<nil>" if val is None else val)
        return delim.join(parts)

    return run


_CASES = ("lower", "upper", "snake", "camel")


@implements("ConvertCase")
def convert_case(args: Args) -> ExprFunc:
    target, to_case = args["target"], args["to_case"]
    if to_case not in _CASES:
        raise EvalError(f"invalid case: {to_case}, allowed cases are: lower, upper, snake, camel")
    convert = {"lower": go_to_lower, "upper": go_to_upper, "snake": strcase_to_snake, "camel": strcase_to_camel}[to_case]

    def run(ctx: Any) -> str:
        val = target.string(ctx)
        return val if val == "" else convert(val)

    return run


def _case_converter(convert: Callable[[str], str]):
    def factory(args: Args) -> ExprFunc:
        target = args["target"]

        def run(ctx: Any) -> str:
            val = target.string(ctx)
            return val if val == "" else convert(val)

        return run

    return factory


implements("ToLowerCase")(_case_converter(go_to_lower))
implements("ToUpperCase")(_case_converter(go_to_upper))
implements("ToSnakeCase")(_case_converter(strcase_to_snake))
implements("ToCamelCase")(_case_converter(strcase_to_camel))


# --- Split, Substring, Trim and friends ----------------------------------------------------------


def go_split(s: str, sep: str) -> list:
    """strings.Split(s, sep): an empty separator splits after each rune (or invalid byte)."""
    if sep == "":
        return list(s)
    return s.split(sep)


@implements("Split")
def split(args: Args) -> ExprFunc:
    target, delimiter = args["target"], args["delimiter"]

    def run(ctx: Any) -> list:
        val = target.string(ctx)
        return go_split(val, delimiter.string(ctx))

    return run


@implements("Substring")
def substring(args: Args) -> ExprFunc:
    target, start_g, length_g = args["target"], args["start"], args["length"]
    utf8_safe = bool(args.get("utf8_safe"))

    def run(ctx: Any) -> str:
        start = start_g.int(ctx)
        if start < 0:
            raise EvalError(f"invalid start for substring function, {start} cannot be negative")
        length = length_g.int(ctx)
        if length <= 0:
            raise EvalError(f"invalid length for substring function, {length} cannot be negative or zero")
        val = target.string(ctx)
        raw = go_bytes(val)
        if utf8_safe:
            end = start + length
            if end > len(raw):
                raise EvalError(
                    f"invalid range for substring function, start({start})+length({length}) "
                    f"exceeds byte length({len(raw)}) of target string"
                )
            # One character per rune, and per invalid byte, as Go's range over a string.
            if end > len(val):
                raise EvalError(
                    f"invalid range for substring function, start({start})+length({length}) "
                    f"cannot be greater than the rune length of target string({len(val)})"
                )
            return val[start:end]
        if start > len(raw) or length > len(raw) - start:
            raise EvalError(
                f"invalid range for substring function, start({start})+length({length}) "
                f"cannot be greater than the length of target string({len(raw)})"
            )
        if val.isascii():
            return val[start : start + length]
        return go_str(raw[start : start + length])

    return run


def go_trim(s: str, cutset: str) -> str:
    """strings.Trim: drop leading and trailing runes found in ``cutset``."""
    if s == "" or cutset == "":
        return s
    return s.strip(cutset)


@implements("Trim")
def trim(args: Args) -> ExprFunc:
    target = args["target"]
    replacement = args.get("replacement")
    cutset = " " if replacement is None else replacement

    def run(ctx: Any) -> str:
        return go_trim(target.string(ctx), cutset)

    return run


@implements("TrimPrefix")
def trim_prefix(args: Args) -> ExprFunc:
    target, prefix = args["target"], args["prefix"]

    def run(ctx: Any) -> str:
        val = target.string(ctx)
        return val.removeprefix(prefix.string(ctx))

    return run


@implements("TrimSuffix")
def trim_suffix(args: Args) -> ExprFunc:
    target, suffix = args["target"], args["suffix"]

    def run(ctx: Any) -> str:
        val = target.string(ctx)
        return val.removesuffix(suffix.string(ctx))

    return run


@implements("HasPrefix")
def has_prefix(args: Args) -> ExprFunc:
    target, prefix = args["target"], args["prefix"]

    def run(ctx: Any) -> bool:
        val = target.string(ctx)
        return val.startswith(prefix.string(ctx))

    return run


@implements("HasSuffix")
def has_suffix(args: Args) -> ExprFunc:
    target, suffix = args["target"], args["suffix"]

    def run(ctx: Any) -> bool:
        val = target.string(ctx)
        return val.endswith(suffix.string(ctx))

    return run


# --- Index and ContainsValue ---------------------------------------------------------------------


def go_index(s: str, sub: str) -> int:
    """strings.Index: the byte offset of the first ``sub`` in ``s``, or -1."""
    pos = s.find(sub)
    if pos <= 0 or s.isascii():
        return pos
    return len(go_bytes(s[:pos]))


@implements("Index")
def index(args: Args) -> ExprFunc:
    target, value = args["target"], args["value"]

    def run(ctx: Any) -> int:
        source = target.get(ctx)
        item = value.get(ctx)
        if isinstance(source, str):
            if not isinstance(item, str):
                raise EvalError("invalid value type for Index function, value must be a string")
            return go_index(source, item)
        slice_ = Getter.constant(source).pslice(ctx)
        for i, elem in enumerate(slice_):
            if compare("==", as_raw(elem), item):
                return i
        return -1

    return run


def _contains(slice_: PSlice, item: Any) -> bool:
    if isinstance(item, str):
        return any(isinstance(v, str) and v == item for v in slice_)
    if isinstance(item, bool):
        return any(isinstance(v, bool) and v == item for v in slice_)
    if isinstance(item, (int, float)):
        target = float(item) if isinstance(item, float) else item
        for v in slice_:
            if isinstance(v, bool) or not isinstance(v, (int, float)):
                continue
            if isinstance(v, float) or isinstance(target, float):
                if float(v) == float(target):
                    return True
            elif v == target:
                return True
        return False
    return any(compare("==", v, item) for v in slice_)


@implements("ContainsValue")
def contains_value(args: Args) -> ExprFunc:
    target, item_g = args["target"], args["item"]

    def run(ctx: Any) -> bool:
        slice_ = target.pslice(ctx)
        return _contains(slice_, item_g.get(ctx))

    return run


@implements("Coalesce")
def coalesce(args: Args) -> ExprFunc:
    values = args["values"]

    def run(ctx: Any) -> Any:
        for getter in _list_items(values, ctx):
            val = getter.get(ctx)
            if val is not None:
                return val
        return None

    return run


# --- IsMatch and ExtractPatterns -----------------------------------------------------------------


@implements("IsMatch")
def is_match(args: Args) -> ExprFunc:
    target = args["target"]
    pattern = _DynamicRegex("IsMatch", args["pattern"], re2_compile)

    def run(ctx: Any) -> bool:
        compiled = pattern.get(ctx)
        val = target.string_like(ctx)
        if val is None:
            return False
        return _plain_search(compiled, val)

    return run


_NO_NAMED_GROUP = "at least 1 named capture group must be supplied in the given regex"


def _require_named(compiled: NamedRegex) -> None:
    if not compiled.fields:
        raise EvalError(_NO_NAMED_GROUP)


@implements("ExtractPatterns")
def extract_patterns(args: Args) -> ExprFunc:
    target = args["target"]
    pattern = _DynamicRegex("ExtractPatterns", args["pattern"], NamedRegex, _require_named)

    def run(ctx: Any) -> PMap:
        compiled = pattern.get(ctx)
        val = target.string(ctx)
        result = PMap()
        match, text = compiled.search(val)
        if match is None:
            return result
        for name, idx in compiled.fields:
            # A group that took no part in the match reads as "" (Go's FindStringSubmatch).
            result[name] = _group_text(match, text, idx) or ""
        return result

    return run


# --- ExtractGrokPatterns -------------------------------------------------------------------------

_GROK_DOT = "___"
_GROK_REF = None  # compiled lazily: %{SYNTAX}, %{SYNTAX:ID}, %{SYNTAX:ID:TYPE}


def _grok_ref():
    global _GROK_REF
    if _GROK_REF is None:
        _GROK_REF = re2.compile(r"%{(\w+(?::[\w+.]+(?::\w+)?)?)}")
    return _GROK_REF


class GrokError(Exception):
    pass


def _grok_lookup(name: str, custom: dict) -> str | None:
    from ottl.eval.funcs import _grok_patterns

    found = custom.get(name)
    if found is None:
        found = _grok_patterns.COMPLETE.get(name)
    if found is None:
        found = _grok_patterns.DEFAULT.get(name)
    return found


def grok_expand(pattern: str, named_captures_only: bool, custom: dict) -> tuple[str, dict]:
    """Expand grok references the way elastic/go-grok does: each ``%{NAME...}`` becomes a named
    group (or a non-capturing one when only named captures are wanted and it has no ID);
    references inside definitions are expanded again, up to 1000 rounds. Returns the regex and
    the type hints keyed by group name."""
    ref = _grok_ref()
    hints: dict[str, str] = {}
    expanded = pattern
    for _ in range(1000):
        if ref.search(expanded) is None:
            break
        out = []
        offset = 0
        for match in ref.finditer(expanded):
            inner = match.group(1)
            grok_id, sep, rest = inner.partition(":")
            has_target = bool(sep)
            target_id, has_type, type_hint = grok_id, False, ""
            if has_target:
                target, tsep, type_hint = rest.partition(":")
                has_type = bool(tsep)
                target_id = target.replace(".", _GROK_DOT)
            known = _grok_lookup(grok_id, custom)
            if known is None:
                raise GrokError(f"pattern definition {go_quote(grok_id)} unknown: parsing failed")
            if has_type:
                hints[target_id] = type_hint
            out.append(expanded[offset : match.start()])
            if named_captures_only and not has_target:
                out.append(f"(?:{known})")
            else:
                out.append(f"(?P<{target_id}>{known})")
            offset = match.end()
        out.append(expanded[offset:])
        expanded = "".join(out)
    return expanded, hints


_GROK_TYPES = {"": "string", "string": "string", "double": "float", "float": "float", "int": "int", "long": "int", "bool": "bool", "boolean": "bool"}


class GrokRegex:
    """A compiled grok pattern: the regex and its capture fields (name, group index, type)."""

    __slots__ = ("fields", "named")

    def __init__(self, pattern: str, named_captures_only: bool, custom: dict) -> None:
        try:
            expanded, hints = grok_expand(pattern, named_captures_only, custom)
        except GrokError as exc:
            raise ValueError(str(exc)) from None
        self.named = NamedRegex(expanded)
        self.fields = []
        for name, idx in self.named.fields:
            hint = hints.get(name, "")
            self.fields.append((name.replace(_GROK_DOT, "."), idx, _GROK_TYPES.get(hint, "invalid")))

    def parse(self, text: str) -> PMap:
        result = PMap()
        if not self.fields:
            return result
        match, text = self.named.search(text)
        if match is None:
            return result
        for name, idx, kind in self.fields:
            val = _group_text(match, text, idx)
            if not val:
                continue
            result[name] = _grok_convert(val, name, kind)
        return result


def _grok_convert(val: str, name: str, kind: str) -> Any:
    if kind == "string":
        return val
    if kind == "int":
        parsed = go_parse_int(val, 10)
        if isinstance(parsed, str):
            raise EvalError(parsed.replace("strconv.ParseInt", "strconv.Atoi"))
        return parsed
    if kind == "float":
        from ottl.eval.getters import parse_go_float

        parsed_f = parse_go_float(val)
        if parsed_f is None:
            raise EvalError(f"strconv.ParseFloat: parsing {go_quote(val)}: invalid syntax")
        return parsed_f
    if kind == "bool":
        from ottl.eval.getters import parse_go_bool

        parsed_b = parse_go_bool(val)
        if parsed_b is None:
            raise EvalError(f"strconv.ParseBool: parsing {go_quote(val)}: invalid syntax")
        return parsed_b
    raise EvalError(f"invalid type for {name.replace('.', _GROK_DOT)}: type not specified")


@implements("ExtractGrokPatterns")
def extract_grok_patterns(args: Args) -> ExprFunc:
    target, pattern_g = args["target"], args["pattern"]
    named_only = bool(args.get("named_captures_only"))
    custom: dict[str, str] = {}
    for i, definition in enumerate(args.get("pattern_definitions") or ()):
        name, sep, body = definition.partition("=")
        if not sep:
            shown = definition if len(go_bytes(definition)) <= 20 else go_str(go_bytes(definition)[:17]) + "..."
            raise EvalError(
                f"pattern {go_quote(shown)} supplied to ExtractGrokPatterns at index {i} has "
                "incorrect format, expecting PATTERNNAME=pattern definition"
            )
        if ":" in name:
            raise EvalError(f"pattern ID {go_quote(name)} should not contain ':'")
        custom[name] = body

    def check(compiled: GrokRegex) -> None:
        if named_only and not compiled.fields:
            raise EvalError(_NO_NAMED_GROUP)

    pattern = _DynamicRegex(
        "ExtractGrokPatterns", pattern_g, lambda p: GrokRegex(p, named_only, custom), check
    )

    def run(ctx: Any) -> PMap:
        compiled = pattern.get(ctx)
        val = target.string(ctx)
        return compiled.parse(val)

    return run


# --- ToKeyValueString and SliceToMap -------------------------------------------------------------


def _escape_kv(s: str, delimiter: str, pair_delimiter: str) -> str:
    s = s.replace("\\", "\\\\").replace('"', '\\"')
    if pair_delimiter in s or delimiter in s:
        s = f'"{s}"'
    return s


@implements("ToKeyValueString")
def to_key_value_string(args: Args) -> ExprFunc:
    target = args["target"]
    d, p, s = args.get("delimiter"), args.get("pair_delimiter"), args.get("sort_output")
    if d == "":
        raise EvalError("delimiter cannot be set to an empty string")
    if p == "":
        raise EvalError("pair delimiter cannot be set to an empty string")
    delimiter = "=" if d is None else d
    pair_delimiter = " " if p is None else p
    if delimiter == pair_delimiter:
        raise EvalError(f"pair delimiter {go_quote(pair_delimiter)} cannot be equal to delimiter {go_quote(delimiter)}")
    sort_output = bool(s)

    def run(ctx: Any) -> str:
        source = target.pmap(ctx)
        items = list(source.items())
        if sort_output:
            items.sort(key=lambda kv: go_bytes(kv[0]))
        return pair_delimiter.join(
            _escape_kv(k, delimiter, pair_delimiter) + delimiter + _escape_kv(pvalue_as_string(v), delimiter, pair_delimiter)
            for k, v in items
        )

    return run


def _value_type(v: Any) -> str:
    """pcommon.ValueType.String() of a pdata value."""
    if v is None:
        return "Empty"
    if isinstance(v, str):
        return "Str"
    if isinstance(v, bool):
        return "Bool"
    if isinstance(v, int):
        return "Int"
    if isinstance(v, float):
        return "Double"
    if isinstance(v, PMap):
        return "Map"
    if isinstance(v, PSlice):
        return "Slice"
    if isinstance(v, bytes):
        return "Bytes"
    return type_name(v)


def _go_path(path: list) -> str:
    return "[" + " ".join(path) + "]"


def _extract_path(m: PMap, path: list) -> Any:
    if not path:
        raise EvalError("must provide at least one path item")
    if path[0] not in m:
        raise EvalError(f"provided object does not contain the path {_go_path(path)}")
    val = m[path[0]]
    if len(path) == 1:
        return val
    if not isinstance(val, PMap):
        raise EvalError(f"provided object does not contain the path {_go_path(path)}")
    return _extract_path(val, path[1:])


@implements("SliceToMap")
def slice_to_map(args: Args) -> ExprFunc:
    target = args["target"]
    key_path, value_path = args.get("key_path"), args.get("value_path")

    def run(ctx: Any) -> PMap:
        slice_ = target.pslice(ctx)
        result = PMap()
        for i, elem in enumerate(slice_):
            if (key_path is not None or value_path is not None) and not isinstance(elem, PMap):
                raise EvalError(
                    "slice elements must be maps when using `key_path` or `value_path`, but could "
                    f"not cast element of type `{_value_type(elem)}` to a map"
                )
            if key_path is not None:
                try:
                    key = _extract_path(elem, list(key_path))
                except EvalError as exc:
                    raise EvalError(f"could not extract key from element {i}: {exc}") from None
                if not isinstance(key, str):
                    raise EvalError(
                        f"element {i}: extracted key attribute is not of type string, got "
                        f"{go_quote(_value_type(key))}"
                    )
            else:
                key = str(i)
            value = elem
            if value_path is not None:
                try:
                    value = _extract_path(elem, list(value_path))
                except EvalError as exc:
                    raise EvalError(f"could not extract value from element {i}: {exc}") from None
            result[key] = value.copy() if isinstance(value, (PMap, PSlice)) else value
        return result

    return run


# --- Sort ----------------------------------------------------------------------------------------


def _float_key(f: float) -> tuple:
    # cmp.Compare: NaN sorts before every other value; -0.0 equals 0.0.
    return (0, 0.0) if math.isnan(f) else (1, f)


def _sort_pslice(slice_: PSlice, order: str) -> Any:
    if len(slice_) == 0:
        return slice_
    first = slice_[0]
    want_str = want_double = False
    for v in slice_:
        if isinstance(v, bool) or v is None or isinstance(v, str):
            want_str = True
        elif isinstance(v, int):
            if isinstance(first, float):
                want_double = True
        elif isinstance(v, float):
            if isinstance(first, int) and not isinstance(first, bool):
                want_double = True
        else:
            # Maps, slices and bytes do not sort: the slice comes back as it is.
            return slice_
    key: Callable[[Any], Any]
    if want_str:
        key = _string_sort_key
    elif want_double or isinstance(first, float):
        key = _double_sort_key
    else:
        key = _identity
    return sorted((as_raw(v) for v in slice_), key=key, reverse=(order == "desc"))


def _string_sort_key(v: Any) -> bytes:
    return go_bytes(pvalue_as_string(v))


def _double_sort_key(v: Any) -> tuple:
    return _float_key(float(v))


def _identity(v: Any) -> Any:
    return v


_RAW_TYPES = (str, bool, int, float, bytes, PMap, PSlice, dict, list)


def _first_non_raw(items: Any) -> Any:
    """The first value pcommon's FromRaw would refuse (nested lists and maps included)."""
    for v in items.values() if isinstance(items, (dict, PMap)) else items:
        if v is None:
            continue
        if not isinstance(v, _RAW_TYPES) or isinstance(v, (TraceID, SpanID)):
            return v
        if isinstance(v, (dict, list, PMap, PSlice)):
            bad = _first_non_raw(v)
            if bad is not None:
                return bad
    return None


@implements("Sort")
def sort(args: Args) -> ExprFunc:
    target = args["target"]
    order = args.get("order") or "asc"
    if order not in ("asc", "desc"):
        raise EvalError(f'invalid arguments: {order}. Order should be either "asc" or "desc"')

    def run(ctx: Any) -> Any:
        val = target.get(ctx)
        if isinstance(val, PSlice):
            return _sort_pslice(val, order)
        if isinstance(val, list):
            bad = _first_non_raw(val)
            if bad is not None:
                raise EvalError(
                    f"sort with unsupported type: '{go_type_name(val)}'. Target is not a list of "
                    f"primitive types; <Invalid value type {go_type_name(bad)}>"
                )
            return _sort_pslice(to_pvalue(val), order)
        raise EvalError(f"sort with unsupported type: '{type_name(val)}'. Target is not a list")

    return run


# --- Format (fmt.Sprintf) ------------------------------------------------------------------------


@implements("Format")
def format_(args: Args) -> ExprFunc:
    fmt_string, vals = args["format"], args["vals"]

    def run(ctx: Any) -> str:
        values = [getter.get(ctx) for getter in _list_items(vals, ctx)]
        return go_sprintf(fmt_string, values)

    return run


# =================================================================================================
# Go formatting
# =================================================================================================

# --- fmt.Sprintf ---------------------------------------------------------------------------------


class _Flags:
    __slots__ = ("minus", "plus", "plus_v", "prec", "prec_present", "sharp", "sharp_v", "space", "wid", "wid_present", "zero")

    def __init__(self) -> None:
        self.clear()

    def clear(self) -> None:
        self.plus = self.minus = self.sharp = self.space = self.zero = False
        self.plus_v = self.sharp_v = False
        self.wid = self.prec = 0
        self.wid_present = self.prec_present = False


class _Printer:
    """The state of one fmt.Sprintf call (Go's pp and fmt)."""

    def __init__(self) -> None:
        self.buf: list[str] = []
        self.f = _Flags()
        self.arg: Any = None

    # -- padding --

    def _padding(self, n: int) -> None:
        if n > 0:
            self.buf.append(("0" if self.f.zero else " ") * n)

    def pad(self, s: str) -> None:
        f = self.f
        if not f.wid_present or f.wid == 0:
            self.buf.append(s)
            return
        width = f.wid - len(s)
        if not f.minus:
            self._padding(width)
            self.buf.append(s)
        else:
            self.buf.append(s)
            self._padding(width)

    def _truncate(self, s: str) -> str:
        if self.f.prec_present:
            return s[: self.f.prec]
        return s

    # -- strings --

    def fmt_s(self, s: str) -> None:
        self.pad(self._truncate(s))

    def fmt_q(self, s: str) -> None:
        s = self._truncate(s)
        if self.f.sharp and _can_backquote(s):
            self.pad("`" + s + "`")
        elif self.f.plus:
            self.pad(go_quote_ascii(s))
        else:
            self.pad(go_quote(s))

    def fmt_sbx(self, data: bytes, digits: str) -> None:
        f = self.f
        length = len(data)
        if f.prec_present and f.prec < length:
            length = f.prec
        width = 2 * length
        if width > 0:
            if f.space:
                if f.sharp:
                    width *= 2
                width += length - 1
            elif f.sharp:
                width += 2
        else:
            if f.wid_present:
                self._padding(f.wid)
            return
        if f.wid_present and f.wid > width and not f.minus:
            self._padding(f.wid - width)
        out = []
        if f.sharp:
            out.append("0" + digits[16])
        for i in range(length):
            if f.space and i > 0:
                out.append(" ")
                if f.sharp:
                    out.append("0" + digits[16])
            c = data[i]
            out.append(digits[c >> 4] + digits[c & 0xF])
        self.buf.append("".join(out))
        if f.wid_present and f.wid > width and f.minus:
            self._padding(f.wid - width)

    def fmt_string(self, s: str, verb: str) -> None:
        if verb == "v":
            if self.f.sharp_v:
                self.fmt_q(s)
            else:
                self.fmt_s(s)
        elif verb == "s":
            self.fmt_s(s)
        elif verb == "x":
            self.fmt_sbx(go_bytes(s), _LOWER_HEX)
        elif verb == "X":
            self.fmt_sbx(go_bytes(s), _UPPER_HEX)
        elif verb == "q":
            self.fmt_q(s)
        else:
            self.bad_verb(verb)

    # -- booleans --

    def fmt_bool(self, v: bool, verb: str) -> None:
        if verb in "tv":
            self.pad("true" if v else "false")
        else:
            self.bad_verb(verb)

    # -- integers --

    def fmt_integer_raw(self, u: int, base: int, signed: bool, verb: str, digits: str) -> None:
        f = self.f
        negative = signed and u < 0
        if negative:
            u = -u
        prec = 0
        if f.prec_present:
            prec = f.prec
            if prec == 0 and u == 0:
                old = f.zero
                f.zero = False
                self._padding(f.wid)
                f.zero = old
                return
        elif f.zero and not f.minus and f.wid_present:
            prec = f.wid
            if negative or f.plus or f.space:
                prec -= 1
        if base == 10:
            body = str(u)
        elif base == 16:
            body = format(u, "x" if digits is _LOWER_HEX else "X")
        elif base == 8:
            body = format(u, "o")
        else:
            body = format(u, "b")
        if len(body) < prec:
            body = "0" * (prec - len(body)) + body
        if f.sharp:
            if base == 2:
                body = "0b" + body
            elif base == 8:
                if body[0] != "0":
                    body = "0" + body
            elif base == 16:
                body = "0" + digits[16] + body
        if verb == "O":
            body = "0o" + body
        if negative:
            body = "-" + body
        elif f.plus:
            body = "+" + body
        elif f.space:
            body = " " + body
        old = f.zero
        f.zero = False
        self.pad(body)
        f.zero = old

    def fmt_integer(self, v: int, signed: bool, verb: str) -> None:
        """print.go fmtInteger: ``v`` is an int64 (signed) or a uint8/uint64 (unsigned)."""
        if verb in "vd":
            if verb == "v" and self.f.sharp_v and not signed:
                old = self.f.sharp
                self.f.sharp = True
                self.fmt_integer_raw(v, 16, signed, verb, _LOWER_HEX)
                self.f.sharp = old
                return
            self.fmt_integer_raw(v, 10, signed, verb, _LOWER_HEX)
        elif verb == "b":
            self.fmt_integer_raw(v, 2, signed, verb, _LOWER_HEX)
        elif verb in "oO":
            self.fmt_integer_raw(v, 8, signed, verb, _LOWER_HEX)
        elif verb == "x":
            self.fmt_integer_raw(v, 16, signed, verb, _LOWER_HEX)
        elif verb == "X":
            self.fmt_integer_raw(v, 16, signed, verb, _UPPER_HEX)
        elif verb == "c":
            self.pad(_rune_of(v & _U64 if v < 0 else v))
        elif verb == "q":
            code = v & _U64 if v < 0 else v
            self.pad(go_quote_rune(code if code <= 0x10FFFF else 0xFFFD, self.f.plus))
        elif verb == "U":
            self.fmt_unicode(v & _U64)
        else:
            self.bad_verb(verb)

    def fmt_unicode(self, u: int) -> None:
        f = self.f
        prec = 4
        if f.prec_present and f.prec > 4:
            prec = f.prec
        text = "U+" + format(u, "X").rjust(prec, "0")
        if f.sharp and u <= 0x10FFFF and not (0xD800 <= u <= 0xDFFF) and go_is_print(chr(u)):
            text += " '" + chr(u) + "'"
        old = f.zero
        f.zero = False
        self.pad(text)
        f.zero = old

    # -- floats --

    def fmt_float(self, v: float, verb: str) -> None:
        if verb == "v":
            self._fmt_float(v, "g", -1)
        elif verb in "bgGxX":
            self._fmt_float(v, verb, -1)
        elif verb in "feEF":
            self._fmt_float(v, verb, 6)
        else:
            self.bad_verb(verb)

    def _fmt_float(self, v: float, verb: str, prec: int) -> None:
        f = self.f
        if f.prec_present:
            prec = f.prec
        num = go_format_float(v, verb, prec)
        if num[0] in "+-":
            sign, body = num[0], num[1:]
        else:
            sign, body = "+", num
        if f.space and sign == "+" and not f.plus:
            sign = " "
        if body in ("Inf", "NaN"):
            old = f.zero
            f.zero = False
            if body == "NaN" and not f.space and not f.plus:
                self.pad(body)
            else:
                self.pad(sign + body)
            f.zero = old
            return
        if f.sharp and verb != "b":
            digits = 0
            if verb in "vgGx":
                digits = 6 if prec == -1 else prec
            tail = ""
            has_point = False
            saw_nonzero = False
            i = 0
            chars = list(body)
            kept = []
            while i < len(chars):
                c = chars[i]
                if c == ".":
                    has_point = True
                elif c in "pP" or c in "eE" and verb not in "xX":
                    tail = "".join(chars[i:])
                    break
                else:
                    if c != "0":
                        saw_nonzero = True
                    if saw_nonzero:
                        digits -= 1
                kept.append(c)
                i += 1
            body = "".join(kept)
            if not has_point:
                if body == "0":
                    digits -= 1
                body += "."
            if digits > 0:
                body += "0" * digits
            body += tail
        if f.plus or sign != "+":
            num = sign + body
            if f.zero and not f.minus and f.wid_present and f.wid > len(num):
                self.buf.append(sign)
                self._padding(f.wid - len(num))
                self.buf.append(body)
                return
            self.pad(num)
            return
        self.pad(body)

    # -- bytes --

    def fmt_bytes(self, v: bytes, verb: str, type_string: str) -> None:
        if verb in "vd":
            if self.f.sharp_v:
                self.buf.append(type_string)
                self.buf.append("{" + ", ".join(f"0x{c:x}" for c in v) + "}")
                return
            self.buf.append("[")
            for i, c in enumerate(v):
                if i:
                    self.buf.append(" ")
                self.fmt_integer_raw(c, 10, False, verb, _LOWER_HEX)
            self.buf.append("]")
        elif verb == "s":
            self.fmt_s(go_str(v))
        elif verb == "x":
            self.fmt_sbx(v, _LOWER_HEX)
        elif verb == "X":
            self.fmt_sbx(v, _UPPER_HEX)
        elif verb == "q":
            self.fmt_q(go_str(v))
        else:
            self.buf.append("[")
            for i, c in enumerate(v):
                if i:
                    self.buf.append(" ")
                self.arg = c
                self._print_uint8(c, verb)
            self.buf.append("]")

    def _print_uint8(self, c: int, verb: str) -> None:
        if verb in "vdbOoxXcqU":
            self.fmt_integer(c, False, verb)
        else:
            self._bad_verb_typed(verb, "uint8", str(c))

    # -- errors --

    def _bad_verb_typed(self, verb: str, tname: str, shown: str) -> None:
        self.buf.append(f"%!{verb}({tname}={shown})")

    def bad_verb(self, verb: str) -> None:
        arg = self.arg
        self.buf.append("%!" + verb + "(")
        if arg is None:
            self.buf.append("<nil>")
        else:
            self.buf.append(go_type_name(arg) + "=")
            self.print_arg(arg, "v")
        self.buf.append(")")

    # -- dispatch --

    def print_arg(self, arg: Any, verb: str, depth: int = 0) -> None:
        self.arg = arg
        if arg is None:
            if depth > 0:
                self.buf.append("<nil>")
            elif verb in "Tv":
                self.pad("<nil>")
            else:
                self.bad_verb(verb)
            return
        if verb == "T":
            self.fmt_s(go_type_name(arg))
            return
        if verb == "p":
            self.bad_verb(verb)
            return
        if isinstance(arg, bool):
            self.fmt_bool(arg, verb)
        elif isinstance(arg, int):
            self.fmt_integer(arg, True, verb)
        elif isinstance(arg, float):
            self.fmt_float(arg, verb)
        elif isinstance(arg, str):
            self.fmt_string(arg, verb)
        elif isinstance(arg, (TraceID, SpanID)):
            if verb in "vsxXq" and not self.f.sharp_v:
                self.fmt_string("" if not any(arg) else bytes(arg).hex(), verb)
            elif self.f.sharp_v:
                self.buf.append(go_type_name(arg) + "{" + ", ".join(f"0x{c:x}" for c in arg) + "}")
            else:
                self.buf.append("[")
                for i, c in enumerate(arg):
                    if i:
                        self.buf.append(" ")
                    self.arg = c
                    self._print_uint8(c, verb)
                self.buf.append("]")
        elif isinstance(arg, bytes):
            self.fmt_bytes(arg, verb, "[]byte")
        elif isinstance(arg, Duration):
            if verb in "vsxXq":
                self.fmt_string(go_duration_string(arg.ns), verb)
            else:
                self.fmt_integer(arg.ns, True, verb)
        elif isinstance(arg, Time):
            if verb in "vsxXq":
                self.fmt_string(go_time_string(arg), verb)
            else:
                self.bad_verb(verb)
        elif isinstance(arg, (PMap, dict)):
            self._print_map(arg, verb, depth)
        elif isinstance(arg, (PSlice, list, tuple)):
            self._print_list(arg, verb, depth)
        else:
            self.fmt_s(str(arg))

    def _print_map(self, m: Any, verb: str, depth: int) -> None:
        if self.f.sharp_v:
            self.buf.append(go_type_name(m) + "{")
        else:
            self.buf.append("map[")
        keys = sorted(m.keys(), key=lambda k: go_bytes(str(k)))
        for i, k in enumerate(keys):
            if i:
                self.buf.append(", " if self.f.sharp_v else " ")
            self.print_arg(k, verb, depth + 1)
            self.buf.append(":")
            self.print_arg(m[k], verb, depth + 1)
        self.buf.append("}" if self.f.sharp_v else "]")

    def _print_list(self, items: Any, verb: str, depth: int) -> None:
        if self.f.sharp_v:
            self.buf.append(go_type_name(items) + "{")
            for i, v in enumerate(items):
                if i:
                    self.buf.append(", ")
                self.print_arg(v, verb, depth + 1)
            self.buf.append("}")
            return
        self.buf.append("[")
        for i, v in enumerate(items):
            if i:
                self.buf.append(" ")
            self.print_arg(v, verb, depth + 1)
        self.buf.append("]")


def go_type_name(v: Any) -> str:
    """reflect.TypeOf(v).String() for the values OTTL passes to fmt."""
    if isinstance(v, list) and not isinstance(v, PSlice):
        return "[]interface {}"
    return type_name(v)


def _parse_num(s: str, start: int, end: int) -> tuple[int, bool, int]:
    """fmt's parsenum: (number, found, new index)."""
    if start >= end:
        return 0, False, end
    num, found, i = 0, False, start
    while i < end and "0" <= s[i] <= "9":
        if num > 1_000_000:
            return 0, False, end
        num = num * 10 + ord(s[i]) - 48
        found = True
        i += 1
    return num, found, i


def _parse_arg_number(s: str) -> tuple[int, int, bool]:
    """fmt's parseArgNumber on s starting at '[': (index, width consumed, ok)."""
    if len(s) < 3:
        return 0, 1, False
    for i in range(1, len(s)):
        if s[i] == "]":
            width, ok, newi = _parse_num(s, 1, i)
            if not ok or newi != i:
                return 0, i + 1, False
            return width - 1, i + 1, True
    return 0, 1, False


def _int_from_arg(args: list, arg_num: int) -> tuple[int, bool, int]:
    num, is_int = 0, False
    if arg_num < len(args):
        val = args[arg_num]
        if type(val) is int:
            num, is_int = val, True
        elif isinstance(val, Duration):
            num, is_int = val.ns, True
        arg_num += 1
        if num > 1_000_000 or num < -1_000_000:
            num, is_int = 0, False
    return num, is_int, arg_num


def go_sprintf(fmt: str, args: list) -> str:
    """fmt.Sprintf(fmt, args...) for the values OTTL computes with."""
    p = _Printer()
    f = p.f
    end = len(fmt)
    arg_num = 0
    after_index = False
    reordered = False
    i = 0

    def arg_number(arg_num: int, i: int) -> tuple[int, int, bool, bool]:
        nonlocal reordered
        if i >= end or fmt[i] != "[":
            return arg_num, i, False, True
        reordered = True
        index, wid, ok = _parse_arg_number(fmt[i:])
        if ok and 0 <= index < len(args):
            return index, i + wid, True, True
        return arg_num, i + wid, ok, False

    while i < end:
        good_arg_num = True
        last = i
        while i < end and fmt[i] != "%":
            i += 1
        if i > last:
            p.buf.append(fmt[last:i])
        if i >= end:
            break
        i += 1
        f.clear()
        simple = False
        while i < end:
            c = fmt[i]
            if c == "#":
                f.sharp = True
            elif c == "0":
                f.zero = not f.minus
            elif c == "+":
                f.plus = True
            elif c == "-":
                f.minus = True
                f.zero = False
            elif c == " ":
                f.space = True
            else:
                if "a" <= c <= "z" and arg_num < len(args):
                    if c == "v":
                        f.sharp_v, f.sharp = f.sharp, False
                        f.plus_v, f.plus = f.plus, False
                    p.print_arg(args[arg_num], c)
                    arg_num += 1
                    i += 1
                    simple = True
                break
            i += 1
        if simple:
            continue

        arg_num, i, after_index, ok = arg_number(arg_num, i)
        good_arg_num = good_arg_num and ok

        if i < end and fmt[i] == "*":
            i += 1
            f.wid, f.wid_present, arg_num = _int_from_arg(args, arg_num)
            if not f.wid_present:
                p.buf.append("%!(BADWIDTH)")
            if f.wid < 0:
                f.wid = -f.wid
                f.minus = True
                f.zero = False
            after_index = False
        else:
            f.wid, f.wid_present, i = _parse_num(fmt, i, end)
            if after_index and f.wid_present:
                good_arg_num = False

        if i + 1 < end and fmt[i] == ".":
            i += 1
            if after_index:
                good_arg_num = False
            arg_num, i, after_index, ok = arg_number(arg_num, i)
            good_arg_num = good_arg_num and ok
            if i < end and fmt[i] == "*":
                i += 1
                f.prec, f.prec_present, arg_num = _int_from_arg(args, arg_num)
                if f.prec < 0:
                    f.prec = 0
                    f.prec_present = False
                if not f.prec_present:
                    p.buf.append("%!(BADPREC)")
                after_index = False
            else:
                f.prec, f.prec_present, i = _parse_num(fmt, i, end)
                if not f.prec_present:
                    f.prec = 0
                    f.prec_present = True

        if not after_index:
            arg_num, i, after_index, ok = arg_number(arg_num, i)
            good_arg_num = good_arg_num and ok

        if i >= end:
            p.buf.append("%!(NOVERB)")
            break

        verb = fmt[i]
        i += 1
        if verb == "%":
            p.buf.append("%")
        elif not good_arg_num:
            p.buf.append(f"%!{verb}(BADINDEX)")
        elif arg_num >= len(args):
            p.buf.append(f"%!{verb}(MISSING)")
        else:
            if verb == "v":
                f.sharp_v, f.sharp = f.sharp, False
                f.plus_v, f.plus = f.plus, False
            p.print_arg(args[arg_num], verb)
            arg_num += 1

    if not reordered and arg_num < len(args):
        f.clear()
        p.buf.append("%!(EXTRA ")
        for k, arg in enumerate(args[arg_num:]):
            if k:
                p.buf.append(", ")
            if arg is None:
                p.buf.append("<nil>")
            else:
                p.buf.append(go_type_name(arg) + "=")
                p.print_arg(arg, "v")
        p.buf.append(")")
    return "".join(p.buf)


# --- strconv.ParseInt ----------------------------------------------------------------------------


def _underscore_ok(s: str) -> bool:
    saw = "^"
    i = 0
    if s[:1] in ("+", "-"):
        s = s[1:]
    is_hex = False
    if len(s) >= 2 and s[0] == "0" and s[1].lower() in "box":
        i = 2
        saw = "0"
        is_hex = s[1].lower() == "x"
    while i < len(s):
        c = s[i]
        if "0" <= c <= "9" or (is_hex and "a" <= c.lower() <= "f"):
            saw = "0"
        elif c == "_":
            if saw != "0":
                return False
            saw = "_"
        else:
            if saw == "_":
                return False
            saw = "!"
        i += 1
    return saw != "_"


def go_parse_int(s: str, base: int) -> Any:
    """strconv.ParseInt(s, base, 64): the int, or the error message (a ``str``)."""
    quoted = go_quote(s)
    syntax = f"strconv.ParseInt: parsing {quoted}: invalid syntax"
    if s == "":
        return syntax
    s0 = s
    neg = False
    if s[0] in "+-":
        neg = s[0] == "-"
        s = s[1:]
        if s == "":
            return syntax
    base0 = base == 0
    if 2 <= base <= 36:
        pass
    elif base == 0:
        base = 10
        if s[0] == "0":
            if len(s) >= 3 and s[1].lower() == "b":
                base, s = 2, s[2:]
            elif len(s) >= 3 and s[1].lower() == "o":
                base, s = 8, s[2:]
            elif len(s) >= 3 and s[1].lower() == "x":
                base, s = 16, s[2:]
            else:
                base, s = 8, s[1:]
    else:
        return f"strconv.ParseInt: parsing {quoted}: invalid base {base}"
    n = 0
    underscores = False
    overflow = False
    for c in s:
        if c == "_" and base0:
            underscores = True
            continue
        if "0" <= c <= "9":
            d = ord(c) - 48
        elif "a" <= c.lower() <= "z":
            d = ord(c.lower()) - 87
        else:
            return syntax
        if d >= base:
            return syntax
        n = n * base + d
        if n > _U64:
            overflow = True
    if underscores and not _underscore_ok(s0):
        return syntax
    if overflow:
        return f"strconv.ParseInt: parsing {quoted}: value out of range"
    if not neg and n >= 1 << 63:
        return f"strconv.ParseInt: parsing {quoted}: value out of range"
    if neg and n > 1 << 63:
        return f"strconv.ParseInt: parsing {quoted}: value out of range"
    return -n if neg else n


__all__ = [
    "float64_as_string",
    "go_bytes",
    "go_duration_string",
    "go_format_float",
    "go_parse_int",
    "go_quote",
    "go_sprintf",
    "go_str",
    "go_time_string",
    "go_to_lower",
    "go_to_upper",
    "pvalue_as_string",
    "strcase_to_camel",
    "strcase_to_snake",
]

