"""The 16 standard editors (``pkg/ottl/ottlfuncs``), plus the Go text helpers they need.

Editors write through their PATH argument (a ``GetSetter``): a map or slice editor reads the
value, changes it in place and then sets it back, as the newest reference does, so the write
lands whether the getter handed out the record's own ``PMap`` or a converted copy.

Go semantics reproduced here, with no Go runtime:

- regular expressions run on RE2 (``re2``) over the UTF-8 bytes of a string; global replace and
  find-all follow Go's ``regexp`` rules (an empty match right after a match is skipped) and
  ``$`` templates follow ``Regexp.Expand`` (``$1``, ``${1}``, ``$name``, ``${name}``, ``$$``);
- globs follow ``gobwas/glob`` as the reference compiles them (no separators, so ``*`` also
  matches ``/``);
- strings that hold invalid UTF-8 carry the bad bytes as lone surrogates (``surrogateescape``),
  and byte lengths are counted on the UTF-8 form.
"""

from __future__ import annotations

from typing import Any

import re2

from ottl.eval.errors import EvalError
from ottl.eval.funcs import Args, implements
from ottl.eval.getters import Getter
from ottl.eval.gotext import go_bytes, go_str, pvalue_as_string
from ottl.eval.values import (
    Duration,
    PMap,
    PSlice,
    SpanID,
    Time,
    TraceID,
    deep_copy,
    to_pvalue,
    type_name,
)
from ottl.lang.errors import OttlError

INT64_MAX = (1 << 63) - 1

# Go strings as bytes, shared with the other families.
_gobytes = go_bytes
_gostr = go_str


def as_string(v: Any) -> str:
    """pcommon's AsString of a pdata value; other objects (in messages) as Python prints them."""
    try:
        return pvalue_as_string(v)
    except EvalError:
        return str(v)


def _rune_width(b: bytes, pos: int) -> int:
    """Width of the UTF-8 sequence at ``pos`` as Go decodes it (1 for an invalid byte, 0 at
    the end)."""
    if pos >= len(b):
        return 0
    c = b[pos]
    if c < 0x80:
        return 1
    if 0xC2 <= c <= 0xDF:
        n = 2
    elif 0xE0 <= c <= 0xEF:
        n = 3
    elif 0xF0 <= c <= 0xF4:
        n = 4
    else:
        return 1
    try:
        b[pos:pos + n].decode("utf-8")
    except UnicodeDecodeError:
        return 1
    return n


# --- pcommon Value.AsString ----------------------------------------------------------------------


# --- Go regular expressions on RE2 ---------------------------------------------------------------


def _is_name_char(ch: str) -> bool:
    return ch == "_" or ch.isalpha() or ch.isdecimal()


def _extract(t: str):
    """Go's regexp ``extract``: the name or number after a ``$``. Returns (name, num, rest) or
    None when malformed."""
    if not t:
        return None
    brace = t[0] == "{"
    if brace:
        t = t[1:]
    i = 0
    while i < len(t) and _is_name_char(t[i]):
        i += 1
    if i == 0:
        return None
    name = t[:i]
    if brace:
        if i >= len(t) or t[i] != "}":
            return None
        i += 1
    num = 0
    for ch in name:
        if not ("0" <= ch <= "9") or num >= 100_000_000:
            num = -1
            break
        num = num * 10 + ord(ch) - 48
    if name[0] == "0" and len(name) > 1:
        num = -1
    return name, num, t[i:]


_RE2_OPTIONS = re2.Options()
_RE2_OPTIONS.log_errors = False


class GoRegexp:
    """A compiled regular expression with Go ``regexp`` semantics, on RE2."""

    __slots__ = ("_names", "_ngroups", "_re", "pattern")

    def __init__(self, pattern: str) -> None:
        self.pattern = pattern
        try:
            self._re = re2.compile(_gobytes(pattern), _RE2_OPTIONS)
        except re2.error as exc:
            msg = exc.args[0] if exc.args else ""
            if isinstance(msg, bytes):
                msg = msg.decode("utf-8", "replace")
            raise EvalError(f"error parsing regexp: {msg or 'invalid pattern'}") from None
        self._ngroups = self._re.groups
        self._names = {
            (k.decode("utf-8", "surrogateescape") if isinstance(k, bytes) else k): v
            for k, v in self._re.groupindex.items()
        }

    # matching -------------------------------------------------------------------------------

    def match_string(self, s: str) -> bool:
        return self._re.search(_gobytes(s)) is not None

    def _spans(self, b: bytes, pos: int) -> list | None:
        m = self._re.search(b, pos)
        if m is None:
            return None
        return [m.span(i) for i in range(self._ngroups + 1)]

    def find_all_submatch_index(self, b: bytes) -> list:
        """``FindAllSubmatchIndex(b, -1)``: group spans of every match, Go's way."""
        out = []
        end = len(b)
        pos, prev_end = 0, -1
        while pos <= end:
            spans = self._spans(b, pos)
            if spans is None:
                break
            a0, a1 = spans[0]
            accept = True
            if a1 == pos:
                if a0 == prev_end:
                    accept = False
                width = _rune_width(b, pos)
                pos = pos + width if width > 0 else end + 1
            else:
                pos = a1
            prev_end = a1
            if accept:
                out.append(spans)
        return out

    # templates ------------------------------------------------------------------------------

    def expand(self, template: str, src: bytes, spans: list) -> bytes:
        """``Regexp.Expand``: ``$$`` is ``$``; ``$n``/``${n}`` a group number; ``$name`` (the
        longest run of letters, digits and ``_``) or ``${name}`` a group name. A malformed
        reference leaves the ``$`` as text; an unknown group expands to nothing."""
        out = bytearray()
        t = template
        while True:
            i = t.find("$")
            if i < 0:
                break
            out += _gobytes(t[:i])
            t = t[i + 1:]
            if t.startswith("$"):
                out += b"$"
                t = t[1:]
                continue
            ext = _extract(t)
            if ext is None:
                out += b"$"
                continue
            name, num, t = ext
            idx = num if num >= 0 else self._names.get(name, -1)
            if 0 <= idx < len(spans):
                s, e = spans[idx]
                if s >= 0:
                    out += src[s:e]
        out += _gobytes(t)
        return bytes(out)

    def replace_all(self, s: str, template: str) -> str:
        """``ReplaceAllString``: every match replaced by the expanded template."""
        b = _gobytes(s)
        out = bytearray()
        last = search = 0
        n = len(b)
        literal = "$" not in template
        lit_bytes = _gobytes(template) if literal else b""
        while search <= n:
            spans = self._spans(b, search)
            if spans is None:
                break
            a0, a1 = spans[0]
            out += b[last:a0]
            if a1 > last or a0 == 0:
                out += lit_bytes if literal else self.expand(template, b, spans)
            last = a1
            width = _rune_width(b, search)
            if search + width > a1:
                search += width
            elif search + 1 > a1:
                search += 1
            else:
                search = a1
        out += b[last:]
        return _gostr(bytes(out))


_INVALID_REGEX = "the regex pattern supplied to {name} '{quoted}' is not a valid pattern: {err}"


def _go_quote(s: str) -> str:
    from ottl.eval.gotext import go_quote

    return go_quote(s)


class DynamicRegex:
    """A pattern argument: compiled once when it is a literal, per record otherwise."""

    __slots__ = ("getter", "name", "value")

    def __init__(self, name: str, getter: Getter) -> None:
        self.name = name
        self.getter = getter
        self.value: GoRegexp | None = None
        if getter.is_literal:
            pattern = getter.literal
            if not isinstance(pattern, str):
                raise EvalError(f"expected string but got {type_name(pattern)}")
            try:
                self.value = GoRegexp(pattern)
            except EvalError as exc:
                raise EvalError(
                    _INVALID_REGEX.format(name=name, quoted=_go_quote(pattern), err=exc)
                ) from None

    def compile(self, ctx: Any) -> GoRegexp:
        if self.value is not None:
            return self.value
        try:
            pattern = self.getter.string(ctx)
        except EvalError as exc:
            raise EvalError(_INVALID_REGEX.format(name=self.name, quoted='""', err=exc)) from None
        return _compile_cached(pattern)


_CACHE: dict[str, GoRegexp] = {}


def _compile_cached(pattern: str) -> GoRegexp:
    r = _CACHE.get(pattern)
    if r is None:
        r = GoRegexp(pattern)
        if len(_CACHE) > 256:
            _CACHE.clear()
        _CACHE[pattern] = r
    return r


# --- replacement format ('%s') -------------------------------------------------------------------


def _valid_format(fmt: str) -> bool:
    """The reference's check: one or more ``%s``, no other verb, no newline (its ``.``)."""
    if "\n" in fmt or "%s" not in fmt:
        return False
    i = 0
    while i < len(fmt):
        if fmt[i] == "%" and i + 1 < len(fmt) and fmt[i + 1] != "s":
            return False
        i += 2 if fmt[i] == "%" else 1
    return True


def _sprintf_s(fmt: str, arg: str) -> str:
    """Go's Sprintf for a format holding only ``%s`` verbs and one argument."""
    out = []
    used = False
    i = 0
    while i < len(fmt):
        ch = fmt[i]
        if ch != "%":
            out.append(ch)
            i += 1
            continue
        if i + 1 >= len(fmt):
            out.append("%!(NOVERB)")
            break
        if not used:
            out.append(arg)
            used = True
        else:
            out.append("%!s(MISSING)")
        i += 2
    return "".join(out)


def _apply_format(ctx: Any, fmt_getter: Getter | None, value: str) -> str:
    if fmt_getter is None:
        return value
    fmt = fmt_getter.string(ctx)
    if not _valid_format(fmt):
        raise EvalError(
            "replacementFormat must be format string containing a single %s and no other "
            "format specifiers"
        )
    return _sprintf_s(fmt, value)


def _apply_replace_function(ctx, cp: GoRegexp, fn, original: str, replacement: str, fmt_getter
                            ) -> str:
    """The reference's applyOptReplaceFunction: each match is replaced, where it stands, by the
    function applied to the expanded template and then put through the optional format."""
    src = _gobytes(original)
    out = bytearray()
    last = 0
    for spans in cp.find_all_submatch_index(src):
        s, e = spans[0]
        expanded = _gostr(cp.expand(replacement, src, spans))
        result = fn.call(ctx, expanded)
        if not isinstance(result, str):
            raise EvalError("the replacement value must be a string")
        result = _apply_format(ctx, fmt_getter, result)
        out += src[last:s]
        out += _gobytes(result)
        last = e
    out += src[last:]
    return _gostr(bytes(out))


# --- gobwas/glob -----------------------------------------------------------------------------------

_EOF = None


class GlobError(Exception):
    pass


class _GlobLexer:
    """gobwas/glob's lexer (v0.2.3, the reference's version), over the characters of a str."""

    TEXT_BREAKERS = ("?", "*", "[", "{")
    TERMS_BREAKERS = ("?", "*", "[", "{", "}", ",")

    def __init__(self, src: str) -> None:
        self.src = src
        self.pos = 0
        self.terms = 0
        self.tokens: list = []
        self.err: str | None = None

    def _read(self):
        if self.pos >= len(self.src):
            self.pos += 1  # so that an unread after eof restores the position
            return _EOF
        ch = self.src[self.pos]
        self.pos += 1
        return ch

    def _unread(self):
        self.pos -= 1

    def _peek(self):
        return self.src[self.pos] if self.pos < len(self.src) else _EOF

    def next(self):
        while True:
            if self.err is not None:
                return ("error", self.err)
            if self.tokens:
                return self.tokens.pop(0)
            self._fetch_item()

    def _fetch_item(self):
        r = self._read()
        if r is _EOF:
            self._unread()
            self.tokens.append(("eof", ""))
        elif r == "{":
            self.terms += 1
            self.tokens.append(("terms_open", r))
        elif r == "," and self.terms > 0:
            self.tokens.append(("separator", r))
        elif r == "}" and self.terms > 0:
            self.tokens.append(("terms_close", r))
            self.terms -= 1
        elif r == "[":
            self.tokens.append(("range_open", r))
            self._fetch_range()
        elif r == "?":
            self.tokens.append(("single", r))
        elif r == "*":
            nxt = self._read()
            if nxt == "*":
                self.tokens.append(("super", "**"))
            else:
                self._unread()
                self.tokens.append(("any", r))
        else:
            self._unread()
            self._fetch_text(self.TERMS_BREAKERS if self.terms > 0 else self.TEXT_BREAKERS)

    def _fetch_range(self):
        want_hi = want_close = seen_not = False
        while True:
            r = self._read()
            if r is _EOF:
                self.err = "unexpected end of input"
                return
            if want_close:
                if r != "]":
                    self.err = "expected close range character"
                else:
                    self.tokens.append(("range_close", r))
                return
            if want_hi:
                self.tokens.append(("range_hi", r))
                want_close = True
                continue
            if not seen_not and r == "!":
                self.tokens.append(("not", r))
                seen_not = True
                continue
            if self._peek() == "-":
                self.pos += 1
                self.tokens.append(("range_lo", r))
                self.tokens.append(("range_between", "-"))
                want_hi = True
                continue
            self._unread()
            self._fetch_text(("]",))
            want_close = True

    def _fetch_text(self, breakers):
        data = []
        escaped = False
        while True:
            r = self._read()
            if r is _EOF:
                self._unread()
                break
            if not escaped:
                if r == "\\":
                    escaped = True
                    continue
                if r in breakers:
                    self._unread()
                    break
            escaped = False
            data.append(r)
        if data:
            self.tokens.append(("text", "".join(data)))


def _glob_parse(pattern: str) -> list:
    """gobwas/glob's parser: a list of nodes; an alternation is ("anyof", [node lists])."""
    lex = _GlobLexer(pattern)
    root: list = []
    # A stack of (node list, the anyof alternatives it belongs to).
    stack: list = [(root, None)]
    while True:
        kind, data = lex.next()
        cur, alts = stack[-1]
        if kind == "eof":
            return root
        if kind == "error":
            raise GlobError(data)
        if kind == "text":
            cur.append(("text", data))
        elif kind in ("any", "super"):
            cur.append(("any",))
        elif kind == "single":
            cur.append(("single",))
        elif kind == "range_open":
            cur.append(_glob_parse_range(lex))
        elif kind == "terms_open":
            alternatives: list = [[]]
            cur.append(("anyof", alternatives))
            stack.append((alternatives[0], alternatives))
        elif kind == "separator":
            assert alts is not None
            alts.append([])
            stack[-1] = (alts[-1], alts)
        elif kind == "terms_close":
            stack.pop()
        else:
            raise GlobError(f"unexpected token: {kind}")


def _glob_parse_range(lex: _GlobLexer):
    negate = False
    lo = hi = ""
    chars = ""
    while True:
        kind, data = lex.next()
        if kind == "eof":
            raise GlobError("unexpected end")
        if kind == "error":
            raise GlobError(data)
        if kind == "not":
            negate = True
        elif kind == "range_lo":
            lo = data
        elif kind == "range_hi":
            hi = data
            if hi < lo:
                raise GlobError(f"hi character '{hi}' should be greater than lo '{lo}'")
        elif kind == "text":
            chars = data
        elif kind == "range_close":
            is_range = lo not in ("", "\x00") and hi not in ("", "\x00")
            is_chars = chars != ""
            if is_chars == is_range:
                raise GlobError("could not parse range")
            if is_range:
                return ("range", lo, hi, negate)
            return ("list", frozenset(chars), negate)


class Glob:
    """A compiled gobwas glob (no separators): ``match(s)`` tests the whole string."""

    __slots__ = ("_nodes", "pattern")

    def __init__(self, pattern: str) -> None:
        self.pattern = pattern
        self._nodes = _glob_parse(pattern)

    def match(self, s: str) -> bool:
        return len(s) in _glob_advance(self._nodes, s, {0})


def _glob_advance(nodes: list, s: str, starts: set) -> set:
    n = len(s)
    for node in nodes:
        if not starts:
            return starts
        kind = node[0]
        if kind == "text":
            t = node[1]
            starts = {p + len(t) for p in starts if s.startswith(t, p)}
        elif kind == "any":
            starts = set(range(min(starts), n + 1))
        elif kind == "single":
            starts = {p + 1 for p in starts if p < n}
        elif kind == "list":
            chars, negate = node[1], node[2]
            starts = {p + 1 for p in starts if p < n and ((s[p] in chars) != negate)}
        elif kind == "range":
            lo, hi, negate = node[1], node[2], node[3]
            starts = {p + 1 for p in starts if p < n and ((lo <= s[p] <= hi) != negate)}
        else:  # anyof
            out: set = set()
            for alt in node[1]:
                out |= _glob_advance(alt, s, set(starts))
            starts = out
    return starts


def _compile_glob(func: str, pattern: str) -> Glob:
    try:
        return Glob(pattern)
    except GlobError as exc:
        raise EvalError(
            _INVALID_REGEX.format(name=func, quoted=_go_quote(pattern), err=exc)
        ) from None


class _DynamicGlob:
    __slots__ = ("getter", "name", "value")

    def __init__(self, name: str, getter: Getter) -> None:
        self.name = name
        self.getter = getter
        self.value: Glob | None = None
        if getter.is_literal:
            if not isinstance(getter.literal, str):
                raise EvalError(f"expected string but got {type_name(getter.literal)}")
            self.value = _compile_glob(name, getter.literal)

    def compile(self, ctx: Any) -> Glob:
        if self.value is not None:
            return self.value
        return _compile_glob(self.name, self.getter.string(ctx))


# --- shared argument helpers -----------------------------------------------------------------------


def _string_list(ctx: Any, keys: Any) -> list:
    """The strings of a list argument: a list of getters, or (dynamic slices) one getter that
    yields a list."""
    if isinstance(keys, Getter):
        val = keys.get(ctx)
        if val is None:
            raise EvalError("keys cannot be nil")
        if not isinstance(val, (list, PSlice)):
            raise EvalError(f"expected a list but got {type_name(val)}")
        out = []
        for item in val:
            if not isinstance(item, str):
                raise EvalError(f"expected string but got {'nil' if item is None else type_name(item)}")
            out.append(item)
        return out
    return [k.string(ctx) for k in keys]


def _literal_strings(keys: Any) -> frozenset | None:
    if isinstance(keys, list) and all(
        isinstance(k, Getter) and k.is_literal and isinstance(k.literal, str) for k in keys
    ):
        return frozenset(k.literal for k in keys)
    return None


def _store(value: Any) -> Any:
    """A value as pcommon stores it (FromRaw / CopyTo): converted and deep-copied."""
    try:
        return to_pvalue(deep_copy(value))
    except TypeError as exc:
        raise EvalError(str(exc)) from None


# --- set ---------------------------------------------------------------------------------------

ALLOW_NIL_GATE = "ottl.set.allowNil"
_GO_ZERO_TIME_NS = -62135596800 * 1_000_000_000


def _zero_value(v: Any) -> Any:
    if isinstance(v, bool):
        return False
    if isinstance(v, int):
        return 0
    if isinstance(v, float):
        return 0.0
    if isinstance(v, str):
        return ""
    if isinstance(v, TraceID):
        return type(v)()  # TraceID or ProfileID
    if isinstance(v, SpanID):
        return SpanID()
    if isinstance(v, bytes):
        return b""
    if isinstance(v, PMap):
        return PMap()
    if isinstance(v, PSlice):
        return PSlice()
    if isinstance(v, dict):
        return {}
    if isinstance(v, list):
        return []
    if isinstance(v, Duration):
        return Duration(0)
    if isinstance(v, Time):
        return Time(_GO_ZERO_TIME_NS)
    raise EvalError(f"cannot infer zero value for type {type_name(v)} in set")


@implements("set")
def set_(args: Args):
    """set(target, value). A nil value does nothing, unless the ``ottl.set.allowNil`` gate is on
    (``args["_gates"]``), when it writes the zero value of the target's current type."""
    target, value = args["target"], args["value"]
    allow_nil = ALLOW_NIL_GATE in (args.get("_gates") or ())

    def run(ctx):
        val = value.get(ctx)
        if val is None:
            if not allow_nil:
                return None
            try:
                current = target.get(ctx)
            except EvalError as exc:
                raise EvalError(
                    f"error getting target value to infer zero value in set: {exc}"
                ) from None
            if current is not None:
                val = _zero_value(current)
        target.set(ctx, val)
        return None

    return run


# --- map editors ---------------------------------------------------------------------------------


@implements("delete_key")
def delete_key(args: Args):
    target, key = args["target"], args["key"]

    def run(ctx):
        m = target.pmap(ctx)
        k = key.string(ctx)
        m.pop(k, None)
        target.set(ctx, m)
        return None

    return run


def _matching_keys_editor(name: str, keep: bool):
    def factory(args: Args):
        target = args["target"]
        pattern = DynamicRegex(name, args["pattern"])

        def run(ctx):
            cp = pattern.compile(ctx)
            m = target.pmap(ctx)
            for k in [k for k in m if cp.match_string(k) != keep]:
                del m[k]
            target.set(ctx, m)
            return None

        return run

    return factory


implements("delete_matching_keys")(_matching_keys_editor("delete_matching_keys", keep=False))
implements("keep_matching_keys")(_matching_keys_editor("keep_matching_keys", keep=True))


@implements("keep_keys")
def keep_keys(args: Args):
    target, keys = args["target"], args["keys"]
    literal = _literal_strings(keys)

    def run(ctx):
        m = target.pmap(ctx)
        keep = literal if literal is not None else frozenset(_string_list(ctx, keys))
        for k in [k for k in m if k not in keep]:
            del m[k]
        target.set(ctx, m)
        return None

    return run


@implements("limit")
def limit(args: Args):
    target, lim = args["target"], args["limit"]
    priority = list(args.get("priority_keys") or [])
    if lim < 0:
        raise EvalError(f"invalid limit for limit function, {lim} cannot be negative")
    if lim < len(priority):
        raise EvalError(
            f"invalid limit for limit function, {lim} cannot be less than number of priority "
            f"attributes {len(priority)}"
        )
    keep = frozenset(priority)

    def run(ctx):
        m = target.pmap(ctx)
        if len(m) <= lim:
            return None
        count = sum(1 for k in priority if k in m)
        drop = []
        for k in m:
            if k in keep:
                continue
            if count < lim:
                count += 1
                continue
            drop.append(k)
        for k in drop:
            del m[k]
        target.set(ctx, m)
        return None

    return run


_STRATEGIES = ("insert", "update", "upsert")


@implements("merge_maps")
def merge_maps(args: Args):
    target, source, strategy = args["target"], args["source"], args["strategy"]
    if strategy not in _STRATEGIES:
        raise EvalError(
            f"invalid value for strategy, {strategy}, must be 'insert', 'update' or 'upsert'"
        )

    def run(ctx):
        m = target.pmap(ctx)
        src = source.pmap(ctx)
        for k, v in list(src.items()):
            present = k in m
            if strategy == "insert" and present:
                continue
            if strategy == "update" and not present:
                continue
            m[k] = _store(v)
        target.set(ctx, m)
        return None

    return run


@implements("flatten")
def flatten(args: Args):
    target = args["target"]
    prefix = args.get("prefix") or ""
    depth = args.get("depth")
    if depth is None:
        depth = INT64_MAX
    elif depth < 1:
        raise EvalError(f"invalid depth '{depth}' for flatten function, must be greater than 0")
    resolve = bool(args.get("resolve_conflicts"))

    def run(ctx):
        m = target.pmap(ctx)
        result = _Flattener(resolve, depth).run(m, prefix)
        m.clear()
        for k, v in result.items():
            m[k] = v
        target.set(ctx, m)
        return None

    return run


class _Flattener:
    """The reference's flattenData, key for key (including how slice items are named)."""

    def __init__(self, resolve: bool, max_depth: int) -> None:
        self.result = PMap()
        self.seen: dict[str, int] = {}
        self.resolve = resolve
        self.max_depth = max_depth

    def run(self, m: PMap, prefix: str) -> PMap:
        self.flatten_map(m, prefix, 0)
        return self.result

    def flatten_map(self, m, prefix: str, depth: int) -> None:
        if prefix:
            prefix += "."
        for k, v in list(m.items()):
            self.flatten_value(k, v, depth, prefix)

    def flatten_slice(self, s, prefix: str, depth: int) -> None:
        for i, v in enumerate(list(s)):
            self.flatten_value(str(i), v, depth + 1, prefix)

    def flatten_value(self, k: str, v: Any, depth: int, prefix: str) -> None:
        if isinstance(v, PMap) and depth < self.max_depth:
            self.flatten_map(v, prefix + k, depth + 1)
            return
        if isinstance(v, PSlice) and depth < self.max_depth:
            for i, item in enumerate(list(v)):
                if isinstance(item, PMap) and depth + 1 < self.max_depth:
                    self.flatten_map(item, f"{prefix}{k}.{i}", depth + 2)
                elif isinstance(item, PSlice) and depth + 1 < self.max_depth:
                    self.flatten_slice(item, f"{prefix}{k}.{i}", depth + 2)
                else:
                    key = prefix + k
                    if self.resolve:
                        self.put_resolving(key, item)
                    else:
                        self.result[f"{key}.{i}"] = deep_copy(item)
            return
        key = prefix + k
        if self.resolve:
            self.put_resolving(key, v)
        else:
            self.result[key] = deep_copy(v)

    def put_resolving(self, key: str, v: Any) -> None:
        if key in self.result:
            n = self.seen.get(key, 0)
            self.seen[key] = n + 1
            self.result[f"{key}.{n}"] = deep_copy(v)
        else:
            self.seen[key] = 0
            self.result[key] = deep_copy(v)


@implements("stringify_all")
def stringify_all(args: Args):
    target = args["target"]

    def run(ctx):
        m = target.pmap(ctx)
        for k, v in list(m.items()):
            if not isinstance(v, str):
                m[k] = as_string(v)
        target.set(ctx, m)
        return None

    return run


@implements("truncate_all")
def truncate_all(args: Args):
    target, lim = args["target"], args["limit"]
    utf8_safe = args.get("utf8_safe")
    utf8_safe = True if utf8_safe is None else bool(utf8_safe)
    marker = args.get("truncation_marker") or ""
    if lim < 0:
        raise EvalError(f"invalid limit for truncate_all function, {lim} cannot be negative")
    marker_b = _gobytes(marker)
    if len(marker_b) > lim:
        raise EvalError(
            f"invalid truncation_marker for truncate_all function, its length {len(marker_b)} "
            f"exceeds the limit {lim}"
        )
    keep = lim - len(marker_b)

    def run(ctx):
        m = target.pmap(ctx)
        for k, v in list(m.items()):
            if not isinstance(v, str):
                continue
            if len(v) * 4 <= lim:
                continue  # at most 4 bytes a character: cannot exceed the limit
            b = _gobytes(v)
            if len(b) <= lim:
                continue
            cut = keep
            if utf8_safe:
                while cut > 0 and (b[cut] & 0xC0) == 0x80:
                    cut -= 1
            m[k] = _gostr(b[:cut] + marker_b)
        target.set(ctx, m)
        return None

    return run


# --- slice editors -------------------------------------------------------------------------------


@implements("append")
def append(args: Args):
    target, value, values = args["target"], args.get("value"), args.get("values")
    if value is None and values is None:
        raise EvalError("at least one of the optional arguments ('value' or 'values') must be provided")

    def run(ctx):
        t = target.get(ctx)
        res: list = []
        if t is not None:
            if isinstance(t, (PSlice, list)):
                res.extend(t)
            else:
                res.append(t)
        if value is not None:
            res.append(value.get(ctx))
        if values is not None:
            if isinstance(values, Getter):
                vs = values.get(ctx)
                if vs is not None:
                    if not isinstance(vs, (list, PSlice)):
                        raise EvalError(f"expected a list but got {type_name(vs)}")
                    res.extend(vs)
            else:
                for g in values:
                    res.append(g.get(ctx))
        target.set(ctx, PSlice(_store(v) for v in res))
        return None

    return run


@implements("delete_index")
def delete_index(args: Args):
    target, start_g, end_g = args["target"], args["start_index"], args.get("end_index")

    def run(ctx):
        s = target.pslice(ctx)
        start = start_g.int(ctx)
        n = len(s)
        end = start + 1 if end_g is None else end_g.int(ctx)
        if start == 0 and end == n:
            target.set(ctx, PSlice())
            return None
        if start < 0 or start >= n:
            raise EvalError(f"startIndex {start} out of bounds for slice of length {n}")
        if end < start:
            raise EvalError(f"endIndex {end} cannot be less than startIndex {start}")
        if end > n:
            raise EvalError(f"deletion range [{start}:{end}] out of bounds for slice of length {n}")
        if start != end:
            del s[start:end]
        target.set(ctx, s)
        return None

    return run


# --- replace editors -----------------------------------------------------------------------------


def _call_replacement_function(ctx, fn, replacement: Getter, fmt_getter) -> str:
    """replace_match / replace_all_matches with a function: the function gets the replacement,
    its string result goes through the optional format."""
    result = fn.call(ctx, replacement.get(ctx))
    if not isinstance(result, str):
        raise EvalError("replacement value is not a string")
    return _apply_format(ctx, fmt_getter, result)


@implements("replace_match")
def replace_match(args: Args):
    target, replacement = args["target"], args["replacement"]
    fn, fmt_getter = args.get("function"), args.get("replacement_format")
    pattern = _DynamicGlob("replace_match", args["pattern"])

    def run(ctx):
        cp = pattern.compile(ctx)
        val = target.get(ctx)
        if fn is None:
            new = replacement.string(ctx)
        else:
            new = _call_replacement_function(ctx, fn, replacement, fmt_getter)
        if isinstance(val, str) and cp.match(val):
            target.set(ctx, new)
        return None

    return run


@implements("replace_all_matches")
def replace_all_matches(args: Args):
    target, replacement = args["target"], args["replacement"]
    fn, fmt_getter = args.get("function"), args.get("replacement_format")
    pattern = _DynamicGlob("replace_all_matches", args["pattern"])

    def run(ctx):
        cp = pattern.compile(ctx)
        m = target.pmap(ctx)
        if fn is None:
            new = replacement.string(ctx)
        else:
            new = _call_replacement_function(ctx, fn, replacement, fmt_getter)
        for k, v in list(m.items()):
            if isinstance(v, str) and cp.match(v):
                m[k] = new
        target.set(ctx, m)
        return None

    return run


@implements("replace_pattern")
def replace_pattern(args: Args):
    target, replacement = args["target"], args["replacement"]
    fn, fmt_getter = args.get("function"), args.get("replacement_format")
    pattern = DynamicRegex("replace_pattern", args["regex_pattern"])

    def run(ctx):
        original = target.get(ctx)
        if original is None:
            return None
        repl = replacement.string(ctx)
        if not isinstance(original, str):
            return None
        cp = pattern.compile(ctx)
        if not cp.match_string(original):
            return None
        if fn is not None:
            updated = _apply_replace_function(ctx, cp, fn, original, repl, fmt_getter)
        else:
            updated = cp.replace_all(original, repl)
        target.set(ctx, updated)
        return None

    return run


@implements("replace_all_patterns")
def replace_all_patterns(args: Args):
    target, mode, replacement = args["target"], args["mode"], args["replacement"]
    fn, fmt_getter = args.get("function"), args.get("replacement_format")
    pattern = DynamicRegex("replace_all_patterns", args["regex_pattern"])
    if mode not in ("key", "value"):
        raise EvalError(f"invalid mode {mode}, must be either 'key' or 'value'")

    def replace(ctx, cp: GoRegexp, s: str, repl: str) -> str | None:
        """The new text, or None when the function failed (the entry is then skipped)."""
        if fn is None:
            return cp.replace_all(s, repl)
        try:
            return _apply_replace_function(ctx, cp, fn, s, repl, fmt_getter)
        except (EvalError, OttlError):
            return None

    def run(ctx):
        m = target.pmap(ctx)
        repl = replacement.string(ctx)
        cp = pattern.compile(ctx)
        if mode == "value":
            for k, v in list(m.items()):
                if not isinstance(v, str) or not cp.match_string(v):
                    continue
                new = replace(ctx, cp, v, repl)
                if new is not None:
                    m[k] = new
        elif any(cp.match_string(k) for k in m):
            rebuilt = PMap()
            for k, v in list(m.items()):
                new_key: str | None = k
                if cp.match_string(k):
                    new_key = replace(ctx, cp, k, repl)
                    if new_key is None:
                        continue  # as the reference: a key whose function failed is dropped
                rebuilt[new_key] = v
            m.clear()
            for k, v in rebuilt.items():
                m[k] = v
        target.set(ctx, m)
        return None

    return run


