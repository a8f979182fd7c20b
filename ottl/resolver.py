"""Resolution: bind an AST to a context and to the function registry.

Input: an AST from ``ottl.lang`` and a context name (or none, to infer it from the path
prefixes as the collector's processors do). Output: the resolved tree of ``ottl.resolved``.
Every rejection is an ``OttlCompileError`` pointing at the offending span of the statement.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Iterator, Optional, Sequence, Union

from ottl import contexts as ctxs
from ottl import limits
from ottl.contexts.spec import ContextSpec
from ottl.functions import registry
from ottl.functions.spec import (
    GETTER_KINDS,
    FunctionSpec,
    Kind,
    Param,
    ParamKind,
)
from ottl.lang import ast
from ottl.lang.errors import OttlCompileError
from ottl.resolved import (
    RAnd,
    RArg,
    RBool,
    RBoolConst,
    RCall,
    RCompare,
    RCondition,
    REnum,
    RFunctionRef,
    RLambda,
    RLambdaParam,
    RList,
    RLiteral,
    RMap,
    RMath,
    RNeg,
    RNot,
    ROr,
    RPath,
    RStatement,
    RValue,
)

_LITERAL_TYPES = {
    ParamKind.STRING: (ast.StringLit, "a string literal"),
    ParamKind.INT: (ast.IntLit, "an int literal"),
    ParamKind.FLOAT: (ast.FloatLit, "a float literal"),
    ParamKind.BOOL: (ast.BoolLit, "a bool literal (true or false)"),
}


@dataclass
class Options:
    """What resolution may use beyond the context itself."""

    # Feature gates switched on (e.g. "ottl.functions.enableLambda").
    gates: frozenset[str] = frozenset()
    max_string_length: int = field(default_factory=lambda: limits.DEFAULT_MAX_STRING_LENGTH)
    max_attributes: int = field(default_factory=lambda: limits.DEFAULT_MAX_ATTRIBUTES)


class Resolver:
    """Resolves the statements and conditions of one context."""

    def __init__(self, context: str, options: Optional[Options] = None) -> None:
        spec = ctxs.context_for_prefix(context)
        if spec is None:
            known = ", ".join(sorted(ctxs.CONTEXTS))
            raise ValueError(f"unknown context {context!r}; known contexts: {known}")
        self.context: ContextSpec = spec
        self.options = options or Options()
        self.functions = registry.functions_for_context(spec.name, self.options.gates)
        self._text = ""
        # Parameter names of the lambdas being resolved, innermost last.
        self._scopes: list[tuple[str, ...]] = []

    # -- entry points -------------------------------------------------------------------------

    def statement(self, node: ast.Statement, text: str) -> RStatement:
        self._text = text
        if not node.editor.is_editor:
            raise self._error(
                f"editor names must start with a lowercase letter but got '{node.editor.name}'",
                node.editor.span,
            )
        editor = self._call(node.editor, want=Kind.EDITOR)
        where = self._bool(node.where) if node.where is not None else None
        return RStatement(self.context.name, editor, where, text)

    def condition(self, node: ast.Condition, text: str) -> RCondition:
        self._text = text
        return RCondition(self.context.name, self._bool(node.expr), text)

    def value(self, node: ast.ValueExpression, text: str) -> RValue:
        self._text = text
        return self._value(node.value)

    # -- boolean expressions ------------------------------------------------------------------

    def _bool(self, node: ast.BoolExpr) -> RBool:
        if isinstance(node, ast.BoolLit):
            return RBoolConst(node.value, node.span)
        if isinstance(node, ast.Comparison):
            return RCompare(node.op, self._value(node.left), self._value(node.right), node.span)
        if isinstance(node, ast.Not):
            return RNot(self._bool(node.operand), node.span)
        if isinstance(node, ast.And):
            return RAnd(self._bool(node.left), self._bool(node.right), node.span)
        if isinstance(node, ast.Or):
            return ROr(self._bool(node.left), self._bool(node.right), node.span)
        if isinstance(node, ast.Call):
            # A converter as a boolean term; whether it returns a bool is known only at run time.
            return self._converter(node)
        raise self._error(f"not a boolean expression: {type(node).__name__}", node.span)

    # -- values -------------------------------------------------------------------------------

    def _value(self, node: ast.Value) -> RValue:
        if isinstance(node, ast.NilLit):
            return RLiteral(None, node.span)
        if isinstance(node, (ast.BoolLit, ast.IntLit, ast.FloatLit, ast.BytesLit)):
            self._check_size(node)
            return RLiteral(node.value, node.span)
        if isinstance(node, ast.StringLit):
            self._check_size(node)
            return RLiteral(node.value, node.span)
        if isinstance(node, ast.EnumSymbol):
            return self._enum(node)
        if isinstance(node, ast.FunctionName):
            raise self._error(
                f"'{node.name}' is a function name, which is only accepted where a function is "
                "expected; call it with parentheses to use its result",
                node.span,
            )
        if isinstance(node, ast.ListLit):
            self._check_entries(len(node.items), node.span, "list")
            return RList(tuple(self._value(v) for v in node.items), node.span)
        if isinstance(node, ast.MapLit):
            self._check_entries(len(node.items), node.span, "map")
            return RMap(tuple((i.key, self._value(i.value)) for i in node.items), node.span)
        if isinstance(node, ast.Path):
            return self._path(node)
        if isinstance(node, ast.Call):
            return self._converter(node)
        if isinstance(node, ast.Lambda):
            raise self._error(
                "a lambda expression is only accepted as the argument of a function parameter "
                "that takes one (All, Any, Filter, Find, MapEach, MapKeys, Reduce, When)",
                node.span,
            )
        if isinstance(node, ast.Neg):
            return RNeg(self._value(node.operand), node.span)
        if isinstance(node, ast.BinaryMath):
            return RMath(node.op, self._value(node.left), self._value(node.right), node.span)
        raise self._error(f"not a value: {type(node).__name__}", node.span)

    def _converter(self, node: ast.Call) -> RCall:
        if node.is_editor:
            raise self._error(
                f"converter names must start with an uppercase letter but got '{node.name}'",
                node.span,
            )
        return self._call(node, want=Kind.CONVERTER)

    def _enum(self, node: ast.EnumSymbol) -> REnum:
        value = self.context.enums.get(node.name)
        if value is None:
            raise self._error(
                f"enum symbol '{node.name}' is not defined in the {self.context.name} context",
                node.span,
                expected=_choices(self.context.enums) if self.context.enums else None,
            )
        return REnum(node.name, value, node.span)

    def _check_size(self, node: Union[ast.StringLit, ast.BytesLit, ast.Value]) -> None:
        value = getattr(node, "value", None)
        if isinstance(value, str):
            size = len(value.encode("utf-8", "surrogatepass"))
        elif isinstance(value, bytes):
            size = len(value)
        else:
            return
        if size > self.options.max_string_length:
            raise self._error(
                f"literal of {size} bytes exceeds max_string_length "
                f"({self.options.max_string_length} bytes)",
                node.span,
            )

    def _check_entries(self, count: int, span: ast.Span, what: str) -> None:
        if count > self.options.max_attributes:
            raise self._error(
                f"{what} literal with {count} entries exceeds max_attributes "
                f"({self.options.max_attributes})",
                span,
            )

    # -- paths --------------------------------------------------------------------------------

    def _path(self, node: ast.Path) -> Union[RPath, RLambdaParam]:
        fields = node.fields
        if self._bound(fields[0].name):
            if len(fields) > 1:
                raise self._error(
                    f"lambda parameter '{fields[0].name}' has no fields; index it with keys "
                    f"instead ({fields[0].name}[\"key\"])",
                    fields[1].span,
                )
            return RLambdaParam(fields[0].name, self._keys(fields[0].keys), node.span)
        owner = self.context
        first = fields[0]
        named = ctxs.context_for_prefix(first.name)
        # A first segment that names a context is a prefix when more segments follow and that
        # context is reachable from here; otherwise it is an ordinary field (``scope`` is not a
        # field of any context, but ``status`` or ``kind`` are not context names either).
        if named is not None and len(fields) > 1 and not first.keys:
            if named.name not in ctxs.reachable(self.context.name):
                raise self._error(
                    f"path context '{first.name}' is not reachable from the "
                    f"{self.context.name} context",
                    first.span,
                    expected="one of " + ", ".join(_prefixes(self.context.name)),
                )
            owner = named
            fields = fields[1:]

        segments = tuple(f.name for f in fields)
        found = ctxs.lookup_path(owner, segments)
        if found is None:
            raise self._error(
                f"segment '{segments[0]}' of path '{_path_text(node)}' is not a valid path of "
                f"the {owner.name} context",
                fields[0].span,
                expected=_nearby_paths(owner, segments),
            )
        spec, used = found
        if spec.segments[0] == "cache" and owner.name != self.context.name:
            raise self._error(
                f"'{owner.name}.cache' is not accessible from the {self.context.name} context; "
                f"each statement reaches only its own context's cache",
                node.span,
            )
        if used < len(segments):
            bad = fields[used]
            raise self._error(
                f"segment '{bad.name}' is not a valid path of the {owner.name} context after "
                f"'{spec.name}'",
                bad.span,
            )
        for f in fields[: used - 1]:
            if f.keys:
                raise self._error(
                    f"keys are not allowed on '{f.name}' in path '{_path_text(node)}'",
                    f.keys[0].span,
                )
        keys = fields[used - 1].keys
        if keys:
            if not spec.keys:
                raise self._error(
                    f"path '{owner.name}.{spec.name}' does not take keys", keys[0].span
                )
            if spec.key_limit is not None and len(keys) > spec.key_limit:
                raise self._error(
                    f"path '{owner.name}.{spec.name}' takes at most {spec.key_limit} key(s), "
                    f"got {len(keys)}",
                    keys[spec.key_limit].span,
                )
        return RPath(owner.name, spec, self._keys(keys), node.span)

    def _bound(self, name: str) -> bool:
        return name != "_" and any(name in scope for scope in self._scopes)

    def _lambda(self, param: Param, where: str, node: ast.Value) -> RLambda:
        if not isinstance(node, ast.Lambda):
            raise self._error(f"{where} must be a lambda expression such as (k, v) => ...", node.span)
        if param.lambda_arity is not None and len(node.params) != param.lambda_arity:
            raise self._error(
                f"{where} must be a lambda with {param.lambda_arity} parameter(s), "
                f"got {len(node.params)}",
                node.span,
            )
        self._scopes.append(node.params)
        try:
            body = node.body
            if isinstance(body, (ast.Comparison, ast.Not, ast.And, ast.Or)):
                resolved: Union[RValue, RBool] = self._bool(body)
            else:
                resolved = self._value(body)
        finally:
            self._scopes.pop()
        return RLambda(node.params, resolved, node.span)

    def _keys(self, keys: Sequence[ast.Value]) -> tuple[RValue, ...]:
        if len(keys) > limits.MAX_PATH_KEYS:
            raise self._error(
                f"{len(keys)} keys exceed MAX_PATH_KEYS ({limits.MAX_PATH_KEYS})",
                keys[limits.MAX_PATH_KEYS].span,
            )
        out = []
        for key in keys:
            if isinstance(key, ast.StringLit) or isinstance(key, ast.IntLit):
                out.append(RLiteral(key.value, key.span))
                continue
            # As in the reference's grammar, a float is an expression key: it parses, and
            # fails at run time as an index of the wrong type.
            if not isinstance(key, (ast.Path, ast.Call, ast.BinaryMath, ast.Neg, ast.FloatLit)):
                raise self._error(
                    "a key must be a string or int literal, a path, a converter, a float or a "
                    "math expression",
                    key.span,
                )
            out.append(self._value(key))
        return tuple(out)

    # -- calls --------------------------------------------------------------------------------

    def _call(self, node: ast.Call, want: Kind) -> RCall:
        spec = self.functions.get(node.name)
        if spec is None:
            raise self._error(self._undefined(node.name), node.span)
        if spec.kind is not want:
            raise self._error(
                f"'{node.name}' is {'an editor' if spec.kind is Kind.EDITOR else 'a converter'}, "
                f"not {'an editor' if want is Kind.EDITOR else 'a converter'}",
                node.span,
            )
        if node.keys and want is Kind.EDITOR:
            raise self._error(
                "only paths and converters may be indexed, not editors", node.keys[0].span
            )
        if len(node.args) > limits.MAX_ARGUMENTS:
            raise self._error(
                f"{len(node.args)} arguments exceed MAX_ARGUMENTS ({limits.MAX_ARGUMENTS})",
                node.args[limits.MAX_ARGUMENTS].span,
            )
        slots = self._bind(spec, node)
        args = tuple(
            None if arg is None else RArg(param, self._arg(spec, param, arg), arg.span)
            for param, arg in zip(spec.params, slots)
        )
        self._check_literals(spec, args, node)
        return RCall(spec, args, self._keys(node.keys), node.span)

    def _undefined(self, name: str) -> str:
        other = registry.lookup(name)
        if other is None:
            return f"undefined function '{name}'"
        if other.gate and other.gate not in self.options.gates:
            return f"function '{name}' needs the feature gate {other.gate}"
        return f"function '{name}' is not available in the {self.context.name} context"

    def _bind(self, spec: FunctionSpec, node: ast.Call) -> list[Optional[ast.Argument]]:
        """Match arguments to parameters: positional first, then by name."""
        slots: list[Optional[ast.Argument]] = [None] * len(spec.params)
        index = {id(p): i for i, p in enumerate(spec.params)}
        positional = [a for a in node.args if a.name is None]
        if len(positional) > len(spec.params):
            raise self._error(
                f"incorrect number of arguments for '{spec.name}': it takes at most "
                f"{len(spec.params)}, got {len(positional)}",
                positional[len(spec.params)].span,
                expected=registry.signature(spec),
            )
        for i, arg in enumerate(positional):
            slots[i] = arg
        for arg in node.args:
            if arg.name is None:
                continue
            param = registry.resolve_named(spec, arg.name)
            i = index.get(id(param)) if param is not None else None
            if i is None:
                raise self._error(
                    f"'{spec.name}' has no parameter named '{arg.name}'",
                    arg.span,
                    expected=registry.signature(spec),
                )
            if slots[i] is not None:
                raise self._error(
                    f"parameter '{arg.name}' of '{spec.name}' is given twice", arg.span
                )
            slots[i] = arg
        if spec.requires_one_of and all(
            slots[i] is None for i, p in enumerate(spec.params) if p.name in spec.requires_one_of
        ):
            raise self._error(
                f"'{spec.name}' needs at least one of "
                + ", ".join(f"'{n}'" for n in spec.requires_one_of),
                node.span,
                expected=registry.signature(spec),
            )
        missing = [p.name for p, s in zip(spec.params, slots) if s is None and not p.optional]
        if missing:
            given = sum(1 for s in slots if s is not None)
            raise self._error(
                f"incorrect number of arguments for '{spec.name}': missing "
                + ", ".join(f"'{m}'" for m in missing)
                + f" (got {given})",
                node.span,
                expected=registry.signature(spec),
            )
        return slots

    def _arg(self, spec: FunctionSpec, param: Param, arg: ast.Argument) -> RValue:
        value = arg.value
        where = f"argument '{param.name}' of '{spec.name}'"
        if param.is_list:
            if not isinstance(value, ast.ListLit):
                gate = param.dynamic_slice_gate
                if gate and gate in self.options.gates:
                    return self._value(value)
                hint = f" (a list expression needs the feature gate {gate})" if gate else ""
                raise self._error(f"{where} must be a list literal{hint}", value.span)
            self._check_entries(len(value.items), value.span, "list")
            items = tuple(self._single(spec, param, where, item) for item in value.items)
            return RList(items, value.span)
        return self._single(spec, param, where, value)

    def _single(self, spec: FunctionSpec, param: Param, where: str, value: ast.Value) -> RValue:
        kind = param.kind
        if kind is ParamKind.PATH:
            if not isinstance(value, ast.Path):
                raise self._error(f"{where} must be a path", value.span)
            path = self._path(value)
            if isinstance(path, RLambdaParam):
                raise self._error(f"{where} must be a path, not a lambda parameter", value.span)
            if spec.kind is Kind.EDITOR and not path.spec.settable:
                raise self._error(
                    f"path '{path.context}.{path.spec.name}' is read-only and cannot be the "
                    f"target of '{spec.name}'",
                    value.span,
                )
            return path
        if kind in GETTER_KINDS:
            return self._value(value)
        if kind in _LITERAL_TYPES:
            node_type, what = _LITERAL_TYPES[kind]
            if not isinstance(value, node_type):
                raise self._error(f"{where} must be {what}", value.span)
            self._check_size(value)
            return RLiteral(value.value, value.span)  # type: ignore[union-attr]
        if kind is ParamKind.ENUM:
            if not isinstance(value, ast.EnumSymbol):
                raise self._error(f"{where} must be an enum symbol", value.span)
            return self._enum(value)
        if kind is ParamKind.FUNCTION:
            if not isinstance(value, (ast.EnumSymbol, ast.FunctionName)):
                raise self._error(f"{where} must be the name of a converter", value.span)
            target = self.functions.get(value.name)
            if target is None or target.kind is not Kind.CONVERTER:
                raise self._error(f"{where}: undefined converter '{value.name}'", value.span)
            return RFunctionRef(target, value.span)
        if kind is ParamKind.LAMBDA:
            return self._lambda(param, where, value)
        bytes_kind = getattr(ParamKind, "BYTES", None)
        if bytes_kind is not None and kind is bytes_kind:
            if not isinstance(value, ast.BytesLit):
                raise self._error(f"{where} must be a bytes literal", value.span)
            return RLiteral(value.value, value.span)
        raise self._error(f"{where}: unsupported parameter kind {kind.value}", value.span)

    def _check_literals(
        self, spec: FunctionSpec, args: tuple[Optional[RArg], ...], node: ast.Call
    ) -> None:
        """The factory-time checks of the reference: regexes compile, modes are known, ..."""
        literal_values: dict[str, object] = {}
        for param, arg in zip(spec.params, args):
            if arg is None:
                continue
            py = _literal_python(arg.value)
            if py is _NOT_LITERAL:
                continue
            literal_values[param.name] = py
            # The reference checks literals when it builds the function, whatever the parameter's
            # kind (a literal regex passed to a getter is compiled then too).
            if param.check is not None:
                message = param.check(py)
                if message:
                    raise self._error(
                        f"invalid argument '{param.name}' of '{spec.name}': {message}",
                        arg.span,
                    )
        if spec.check_args is not None:
            message = spec.check_args(literal_values)
            if message:
                raise self._error(f"invalid arguments to '{spec.name}': {message}", node.span)

    def _error(self, message: str, span: ast.Span, expected: Optional[str] = None):
        return OttlCompileError(message, self._text, span, expected=expected)


_NOT_LITERAL = object()


def _literal_python(value: RValue) -> object:
    if isinstance(value, RLiteral):
        return value.value
    if isinstance(value, RList):
        items = [_literal_python(v) for v in value.items]
        return _NOT_LITERAL if any(i is _NOT_LITERAL for i in items) else items
    return _NOT_LITERAL


def _choices(names: Iterable[str], limit: int = 8) -> str:
    names = sorted(names)
    shown = ", ".join(names[:limit])
    return "one of " + shown + (f", ... ({len(names)} in all)" if len(names) > limit else "")


def _prefixes(context: str) -> list[str]:
    out = []
    for name in ctxs.reachable(context):
        out.append(name)
        out.extend(ctxs.CONTEXTS[name].aliases)
    return out


def _nearby_paths(spec: ContextSpec, segments: tuple[str, ...]) -> str:
    first = segments[0]
    names = sorted({p.segments[0] for p in spec.paths})
    close = [n for n in names if n.startswith(first[:3])] or names
    return _choices(close)


def _path_text(node: ast.Path) -> str:
    from ottl.lang.printer import print_node

    return print_node(node)


# ---------------------------------------------------------------------------------------------
# Context inference, as the collector's processors do it (pkg/ottl/context_inferrer.go)


@dataclass(frozen=True)
class Hints:
    prefixes: tuple[str, ...]
    functions: frozenset[str]
    enums: frozenset[str]


def hints(nodes: Iterable[ast.TopLevel]) -> Hints:
    """The context prefixes, function names and enum symbols used by the given trees."""
    prefixes: list[str] = []
    functions: set[str] = set()
    enums: set[str] = set()
    for node in nodes:
        for sub in _walk(node):
            if isinstance(sub, ast.Path):
                first = sub.fields[0]
                if len(sub.fields) > 1 and not first.keys:
                    prefixes.append(first.name)
            elif isinstance(sub, ast.Call):
                functions.add(sub.name)
            elif isinstance(sub, ast.EnumSymbol):
                enums.add(sub.name)
    return Hints(tuple(prefixes), frozenset(functions), frozenset(enums))


def infer_context(
    nodes: Sequence[ast.TopLevel],
    candidates: Sequence[str],
    gates: frozenset[str] = frozenset(),
) -> str:
    """Pick the context for a group of statements or conditions, as the processors do
    (``ottl.contexts.infer_context`` holds the reference's algorithm); ``candidates`` are the
    contexts the signal allows. Raises ``ValueError`` saying why when no context fits.
    """
    h = hints(nodes)
    if not h.prefixes:
        raise ValueError(
            "unable to infer a context: no path starts with a context name "
            f"(one of {', '.join(candidates)}); prefix the paths or give the context explicitly"
        )

    def has_function(context: str, name: str) -> bool:
        return name in registry.functions_for_context(context, gates)

    # An all-caps argument may name a function (SHA256) rather than an enum symbol.
    enums = [e for e in sorted(h.enums) if registry.lookup(e) is None]
    chosen = ctxs.infer_context(
        h.prefixes,
        functions=sorted(h.functions),
        enums=enums,
        has_function=has_function,
        candidates=candidates,
    )
    if chosen is not None and chosen in candidates:
        return chosen
    used = ", ".join(dict.fromkeys(h.prefixes))
    foreign = [
        p for p in dict.fromkeys(h.prefixes)
        if ctxs.canonical_name(p) is not None and ctxs.canonical_name(p) not in candidates
    ]
    if chosen is not None or foreign:
        raise ValueError(
            f"path prefix '{(foreign or [chosen])[0]}' is not one of the contexts of this list: "
            f"{', '.join(candidates)}"
        )
    for name in sorted(h.functions):
        spec = registry.lookup(name)
        if spec is not None and spec.gate and spec.gate not in gates:
            raise ValueError(f"function '{name}' needs the feature gate {spec.gate}")
    raise ValueError(
        f"unable to infer a context from the path prefixes {used}: no context among "
        f"{', '.join(candidates)} reaches them and supports every function "
        f"({', '.join(sorted(h.functions)) or 'none'}) and enum symbol "
        f"({', '.join(enums) or 'none'}) used"
    )


def _walk(node: object) -> Iterator[object]:
    yield node
    if isinstance(node, ast.Statement):
        yield from _walk(node.editor)
        if node.where is not None:
            yield from _walk(node.where)
    elif isinstance(node, (ast.Condition,)):
        yield from _walk(node.expr)
    elif isinstance(node, ast.ValueExpression):
        yield from _walk(node.value)
    elif isinstance(node, ast.Call):
        for a in node.args:
            yield from _walk(a.value)
        for k in node.keys:
            yield from _walk(k)
    elif isinstance(node, ast.Path):
        for f in node.fields:
            for k in f.keys:
                yield from _walk(k)
    elif isinstance(node, ast.ListLit):
        for v in node.items:
            yield from _walk(v)
    elif isinstance(node, ast.MapLit):
        for i in node.items:
            yield from _walk(i.value)
    elif isinstance(node, ast.Lambda):
        yield from _walk(node.body)
    elif isinstance(node, ast.Neg):
        yield from _walk(node.operand)
    elif isinstance(node, ast.Not):
        yield from _walk(node.operand)
    elif isinstance(node, (ast.BinaryMath, ast.Comparison, ast.And, ast.Or)):
        yield from _walk(node.left)
        yield from _walk(node.right)
