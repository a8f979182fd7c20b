"""The reference evaluator: a resolved statement or condition compiled into Python closures.

``compile_statement(r)`` gives a ``Statement`` whose ``execute(ctx)`` checks the ``where``
clause and runs the editor; ``compile_condition(r)`` gives a ``Condition`` whose ``eval(ctx)``
returns a bool. Every failure while running becomes an ``OttlRuntimeError`` pointing at the
innermost piece of the statement that failed (a call, a path, an operator).

This is the plain-Python specification of OTTL's behaviour (DESIGN.md decision 4): simple and
exact first; the C engine of a later issue must agree with it.
"""

from __future__ import annotations

import threading
from typing import Any, Callable, Optional, Sequence

from ottl.eval import paths
from ottl.eval.arith import arithmetic, negate
from ottl.eval.compare import compare
from ottl.eval.errors import EvalError, OttlRuntimeError
from ottl.eval.funcs import IMPLEMENTATIONS, load_all
from ottl.eval.getters import FunctionRef, GetSetter, Getter, LambdaArg
from ottl.eval.model import TransformContext
from ottl.eval.values import PMap, type_name
from ottl.functions.spec import GETTER_KINDS, FunctionSpec, ParamKind
from ottl.lang.ast import Span
from ottl.lang.errors import OttlCompileError
from ottl.resolved import (
    RAnd,
    RArg,
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
)

Fn = Callable[[TransformContext], Any]

_LITERAL_KINDS = (ParamKind.STRING, ParamKind.INT, ParamKind.FLOAT, ParamKind.BOOL)


class Statement:
    """A compiled statement: ``execute(ctx)`` returns whether the ``where`` clause matched."""

    def __init__(self, source: RStatement, editor: Fn, where: Optional[Fn]) -> None:
        self.source = source
        self._editor = editor
        self._where = where

    @property
    def text(self) -> str:
        return self.source.text

    def execute(self, ctx: TransformContext) -> bool:
        if self._where is not None and not self._where(ctx):
            return False
        self._editor(ctx)
        return True


class Condition:
    def __init__(self, source: RCondition, fn: Fn) -> None:
        self.source = source
        self._fn = fn

    @property
    def text(self) -> str:
        return self.source.text

    def eval(self, ctx: TransformContext) -> bool:
        return self._fn(ctx)


def compile_statement(r: RStatement, gates: frozenset[str] = frozenset()) -> Statement:
    """``gates``: the feature gates switched on (``ottl.set.allowNil`` changes ``set``)."""
    c = _Compiler(r.text, gates)
    editor = c.call(r.editor)
    where = c.boolean(r.where) if r.where is not None else None
    return Statement(r, editor, where)


def compile_condition(r: RCondition, gates: frozenset[str] = frozenset()) -> Condition:
    c = _Compiler(r.text, gates)
    return Condition(r, c.boolean(r.expr))


class _LambdaFrames(threading.local):
    """The bindings of the lambdas being evaluated on this thread, innermost last."""

    def __init__(self) -> None:
        self.frames: list[dict[str, Any]] = []


_FRAMES = _LambdaFrames()


class _Compiler:
    def __init__(self, text: str, gates: frozenset[str] = frozenset()) -> None:
        self.text = text
        self.gates = gates
        load_all()

    # -- errors -------------------------------------------------------------------------------

    def guard(self, fn: Fn, span: Span) -> Fn:
        """Run ``fn``, turning an EvalError into a runtime error at ``span``."""
        text = self.text

        def run(ctx: TransformContext) -> Any:
            try:
                return fn(ctx)
            except EvalError as exc:
                raise OttlRuntimeError(str(exc), text, span) from None

        return run

    # -- values -------------------------------------------------------------------------------

    def value(self, node: Any) -> Fn:
        if isinstance(node, RLiteral):
            v = node.value
            return lambda ctx: v
        if isinstance(node, REnum):
            n = node.value
            return lambda ctx: n
        if isinstance(node, RList):
            items = [self.value(i) for i in node.items]
            return lambda ctx: [f(ctx) for f in items]
        if isinstance(node, RMap):
            entries = [(k, self.value(v)) for k, v in node.items]

            def build_map(ctx: TransformContext) -> PMap:
                m = PMap()
                for k, f in entries:
                    m[k] = paths.pdata_or_empty(f(ctx))
                return m

            return self.guard(build_map, node.span)
        if isinstance(node, RPath):
            return self.path(node)[0]
        if isinstance(node, RLambdaParam):
            return self.lambda_param(node)
        if isinstance(node, RCall):
            return self.call(node)
        if isinstance(node, RNeg):
            operand = self.value(node.operand)
            return self.guard(lambda ctx: negate(operand(ctx)), node.span)
        if isinstance(node, RMath):
            left, right, op = self.value(node.left), self.value(node.right), node.op
            return self.guard(lambda ctx: arithmetic(op, left(ctx), right(ctx)), node.span)
        if isinstance(node, (RCompare, RNot, RAnd, ROr, RBoolConst)):
            return self.boolean(node)
        raise OttlCompileError(f"cannot evaluate {type(node).__name__}", self.text, node.span)

    def keys(self, keys: tuple) -> list[Fn]:
        return [
            paths.LiteralKey(k.value)
            if isinstance(k, RLiteral) and (isinstance(k.value, str) or type(k.value) is int)
            else self.value(k)
            for k in keys
        ]

    def path(self, node: RPath) -> tuple[Fn, Optional[Callable[[TransformContext, Any], None]]]:
        try:
            get, set_ = paths.accessor(node.context, node.spec.name)
        except EvalError as exc:
            raise OttlCompileError(str(exc), self.text, node.span) from None
        if node.keys:
            get, set_ = paths.keyed(get, set_, self.keys(node.keys), node.context, node.spec.name)
        guarded_set = None
        if set_ is not None:
            inner_set = set_
            text, span = self.text, node.span

            def guarded_set(ctx: TransformContext, value: Any) -> None:
                try:
                    inner_set(ctx, value)
                except EvalError as exc:
                    raise OttlRuntimeError(str(exc), text, span) from None

        return self.guard(get, node.span), guarded_set

    def lambda_param(self, node: RLambdaParam) -> Fn:
        name = node.name
        keys = self.keys(node.keys)

        def read(ctx: TransformContext) -> Any:
            for frame in reversed(_FRAMES.frames):
                if name in frame:
                    value = frame[name]
                    if value is ABSENT:  # a missing attribute: its path reads nil, keys or not
                        return None
                    return paths.read_keys(value, keys, ctx) if keys else value
            raise EvalError(f"lambda parameter {name} is not bound")

        return self.guard(read, node.span)

    # -- calls --------------------------------------------------------------------------------

    def call(self, node: RCall) -> Fn:
        fn = self.implementation(node)
        if node.keys:
            keys = self.keys(node.keys)
            base = fn
            fn = self.guard(lambda ctx: paths.read_keys(base(ctx), keys, ctx), node.span)
        return fn

    def implementation(self, node: RCall, first: Any = None) -> Fn:
        """The function's implementation bound to its compiled arguments; ``first``, when
        given, stands for the first argument instead of its compiled form."""
        spec = node.spec
        factory = IMPLEMENTATIONS.get(spec.name)
        if factory is None:
            raise OttlCompileError(
                f"function '{spec.name}' is not implemented by the reference evaluator yet",
                self.text,
                node.span,
            )
        args: dict[str, Any] = {
            p.name: (first if i == 0 and first is not None
                     else None if a is None else self.argument(spec, p.kind, p.is_list, a))
            for i, (p, a) in enumerate(zip(spec.params, node.args))
        }
        # Implementations whose behaviour depends on a feature gate read it from here.
        args["_gates"] = self.gates
        try:
            run = factory(args)
        except EvalError as exc:
            raise OttlCompileError(f"invalid arguments to '{spec.name}': {exc}", self.text,
                                   node.span) from None
        return self.guard(run, node.span)

    def argument(self, spec: FunctionSpec, kind: ParamKind, is_list: bool, arg: RArg) -> Any:
        value = arg.value
        if kind is ParamKind.PATH:
            assert isinstance(value, RPath)
            get, set_ = self.path(value)
            if set_ is None:
                text, span = self.text, value.span

                def set_(ctx: TransformContext, v: Any) -> None:
                    raise OttlRuntimeError(f"path {value.text()} is read-only", text, span)

            return GetSetter(get, set_)
        if kind in _LITERAL_KINDS or kind is ParamKind.ENUM:
            return _literal(value)
        if kind is ParamKind.FUNCTION:
            assert isinstance(value, RFunctionRef)
            return self.function_ref(value)
        if kind is ParamKind.LAMBDA:
            assert isinstance(value, RLambda)
            return self.lambda_arg(value)
        if kind in GETTER_KINDS or kind.value == "bytes":
            if is_list and isinstance(value, RList):
                return [self.getter(i) for i in value.items]
            return self.getter(value)
        raise OttlCompileError(f"unsupported parameter kind {kind.value}", self.text, arg.span)

    def getter(self, value: Any) -> Getter:
        if isinstance(value, RLiteral):
            return Getter.constant(value.value)
        if isinstance(value, REnum):
            return Getter.constant(value.value)
        return Getter(self.value(value))

    def function_ref(self, ref: RFunctionRef) -> FunctionRef:
        spec = ref.spec
        factory = IMPLEMENTATIONS.get(spec.name)
        if factory is None:
            raise OttlCompileError(
                f"function '{spec.name}' is not implemented by the reference evaluator yet",
                self.text,
                ref.span,
            )
        first = spec.params[0].name if spec.params else None
        text, span = self.text, ref.span

        def call(ctx: TransformContext, value: Any) -> Any:
            args: dict[str, Any] = {p.name: None for p in spec.params}
            if first is not None:
                args[first] = Getter.constant(value)
            try:
                return factory(args)(ctx)
            except EvalError as exc:
                raise OttlRuntimeError(str(exc), text, span) from None

        return FunctionRef(spec.name, call)

    def lambda_arg(self, node: RLambda) -> LambdaArg:
        body = self.value(node.body)
        params = node.params

        def call(ctx: TransformContext, *values: Any) -> Any:
            if len(values) != len(params):
                raise EvalError(
                    f"lambda takes {len(params)} argument(s), called with {len(values)}"
                )
            frame = {p: v for p, v in zip(params, values) if p != "_"}
            _FRAMES.frames.append(frame)
            try:
                return body(ctx)
            finally:
                _FRAMES.frames.pop()

        return LambdaArg(params, call)

    # -- conditions ---------------------------------------------------------------------------

    def boolean(self, node: Any) -> Fn:
        if isinstance(node, RBoolConst):
            v = node.value
            return lambda ctx: v
        if isinstance(node, RCompare):
            left, right, op = self.value(node.left), self.value(node.right), node.op
            return lambda ctx: compare(op, left(ctx), right(ctx))
        if isinstance(node, RNot):
            inner = self.boolean(node.operand)
            return lambda ctx: not inner(ctx)
        if isinstance(node, RAnd):
            left, right = self.boolean(node.left), self.boolean(node.right)
            return lambda ctx: left(ctx) and right(ctx)
        if isinstance(node, ROr):
            left, right = self.boolean(node.left), self.boolean(node.right)
            return lambda ctx: left(ctx) or right(ctx)
        if isinstance(node, RCall):
            call = self.call(node)
            name = node.spec.name

            def as_bool(ctx: TransformContext) -> bool:
                result = call(ctx)
                if not isinstance(result, bool):
                    raise EvalError(
                        f"value returned from Converter {name} is not a bool, "
                        f"it is {type_name(result)}"
                    )
                return result

            return self.guard(as_bool, node.span)
        raise OttlCompileError(f"not a condition: {type(node).__name__}", self.text, node.span)


def _literal(value: Any) -> Any:
    if isinstance(value, (RLiteral, REnum)):
        return value.value
    if isinstance(value, RList):
        return [_literal(i) for i in value.items]
    raise TypeError(f"not a literal: {value!r}")


__all__ = ["Statement", "Condition", "compile_statement", "compile_condition"]


_ROW = "\x00row"


def _with_leaves(node: RCall, leaves: Sequence[tuple[int, Optional[int]]]) -> RCall:
    """``node`` with each leaf (argument position, item position or None) replaced by a
    parameter the caller binds per call (``_ROW`` + its index)."""
    args = list(node.args)
    for i, (at, item) in enumerate(leaves):
        a = args[at]
        assert a is not None
        param = row_param(i, (), a.span)
        if item is None:
            args[at] = RArg(a.param, param, a.span)
        else:
            lst = a.value
            assert isinstance(lst, RList)
            items = list(lst.items)
            items[item] = row_param(i, (), items[item].span)
            args[at] = RArg(a.param, RList(tuple(items), lst.span), a.span)
    return RCall(node.spec, tuple(args), node.keys, node.span)


def compile_call_of(node: RCall, leaves: Sequence[tuple[int, Optional[int]]], text: str,
                    gates: frozenset[str] = frozenset()) -> Callable[..., Any]:
    """A converter call as a function of its record-dependent parts (every other part being
    constant): what the fast engine applies once per distinct combination of their values.
    ``leaves`` names each part: (argument position, item position in that argument's list, or
    None for the whole argument); the function takes their values in that order. Raises
    ``OttlRuntimeError`` where the call would fail on a record with those values."""
    return _of_parts(_Compiler(text, gates).call(_with_leaves(node, leaves)), len(leaves))


def _of_parts(fn: Fn, parts: int) -> Callable[..., Any]:
    """``fn``, which reads nothing of a context but ``row_param`` 0 to ``parts - 1``, as a
    function of those parts' values."""
    names = [f"{_ROW}{i}" for i in range(parts)]

    def apply(*values: Any) -> Any:
        _FRAMES.frames.append(dict(zip(names, values)))
        try:
            return fn(None)  # type: ignore[arg-type]
        finally:
            _FRAMES.frames.pop()

    return apply


def row_param(index: int, keys: tuple, span: Any) -> RLambdaParam:
    """Part ``index`` of an expression ``compile_expression_of`` evaluates, followed by
    ``keys`` (literal keys into its value)."""
    return RLambdaParam(f"{_ROW}{index}", keys, span)


def row_index(node: Any) -> Optional[int]:
    """Which part a ``row_param`` stands for (None for any other node)."""
    if isinstance(node, RLambdaParam) and node.name.startswith(_ROW):
        return int(node.name[len(_ROW):])
    return None


# Bound to a part whose attribute is missing: a path with keys reads nil there (the
# reference's read_keys stops at the missing key), while an empty value cannot be indexed.
ABSENT = object()


def compile_expression_of(node: Any, parts: int, text: str, gates: frozenset[str] = frozenset()
                          ) -> Callable[..., Any]:
    """A value expression whose record-dependent parts were replaced by ``row_param`` 0 to
    ``parts - 1``, as a function of those parts' values (ABSENT for a missing attribute):
    what the fast engine applies once per distinct combination of them. Raises
    ``OttlRuntimeError`` where the expression would fail on a record with those values."""
    return _of_parts(_Compiler(text, gates).value(node), parts)


def compile_constant_of(node: Any, text: str, gates: frozenset[str] = frozenset()
                        ) -> Callable[[], Any]:
    """A value expression that reads nothing of a record (a literal, a map or list of them, a
    converter of constants) as a function of nothing; it raises what the reference raises
    when evaluating it."""
    fn = _Compiler(text, gates).value(node)
    return lambda: fn(None)  # type: ignore[arg-type]  # nothing in it reads the context


_UNWRITTEN = object()


def compile_edit_of(node: RCall, text: str, gates: frozenset[str] = frozenset(),
                    leaves: Sequence[tuple[int, Optional[int]]] = (),
                    keys: Sequence[Any] = ()) -> Callable[..., Any]:
    """An editor call as a function of its target's value (every other argument being
    constant, but the ``leaves``, named as compile_call_of names them): ``apply(value,
    *parts)`` runs the reference editor with a target that reads ``value`` and returns what the
    editor wrote, or None when it wrote nothing. What the fast engine uses once per distinct
    value (or distinct key of a map). With ``keys`` (literal keys), the target is that path
    into the value (ABSENT: a missing attribute), and what the editor writes is the whole value
    with the write made inside it, as the reference's keyed setter makes it. Raises
    ``OttlRuntimeError`` where the editor would fail on a record with that value."""
    cell: dict[str, Any] = {}
    key_fns = [paths.LiteralKey("value"), *(paths.LiteralKey(k) for k in keys)]
    where = node.args[0].value.span if keys and node.args and node.args[0] else node.span

    def write(ctx: Any, value: Any) -> None:
        if not keys:
            cell["written"] = value
            return
        holder = PMap()  # the value in a map, so that a missing one is made as the setter makes it
        if cell["value"] is not ABSENT:
            holder["value"] = cell["value"]
        try:
            paths.write_keys(holder, key_fns, value, ctx)
        except EvalError as exc:
            raise OttlRuntimeError(str(exc), text, where) from None
        cell["written"] = holder["value"]

    def read(ctx: Any) -> Any:
        value = cell["value"]
        if not keys:
            return value
        if value is ABSENT:
            return None
        try:
            return paths.read_keys(value, key_fns[1:], ctx)
        except EvalError as exc:
            raise OttlRuntimeError(str(exc), text, where) from None

    target = GetSetter(read, write)
    run = _of_parts(_Compiler(text, gates).implementation(_with_leaves(node, leaves),
                                                        first=target), len(leaves))

    def apply(value: Any, *parts: Any) -> Any:
        cell.clear()
        cell["value"] = value
        run(*parts)
        written = cell.get("written", _UNWRITTEN)
        return None if written is _UNWRITTEN else written

    return apply
