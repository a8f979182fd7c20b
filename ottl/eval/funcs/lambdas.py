"""The lambda converters (alpha, gate ``ottl.functions.enableLambda``): All, Any, Filter, Find,
MapEach, MapKeys, Reduce and When.

A source is a map or a slice (``pcommon.Map``/``Slice``, or a Go map/slice, which is converted).
A predicate or mapper gets ``(key, value)`` for a map and ``(index, value)`` for a slice, the index
an int64. As in the reference:

- a predicate must return a bool: anything else is the error ``lambda expression must return a
  value of type bool, got <type>``;
- a mapper must return a value, and a nil result is that same error (the reference's generic
  check has no case for nil: ``... of type <nil>, got <nil>``); MapKeys' key mapper must return a
  string;
- a failure inside a lambda is wrapped as ``error while evaluating lambda function on map item
  (<key>, <value>): <cause>`` (``slice item (<index>, <value>)``).

Reduce's accumulator gets ``(accumulator, key or index, value)``; its results are not checked.
"""

from __future__ import annotations

from typing import Any

from ottl.eval.errors import EvalError
from ottl.eval.funcs import Args, implements
from ottl.eval.funcs.editors import as_string
from ottl.eval.getters import Getter, LambdaArg
from ottl.eval.values import PMap, PSlice, deep_copy, to_pvalue, type_name


def _source(getter: Getter, ctx: Any):
    """funcutil.GetSliceOrMapValue: a PMap or PSlice, or ``unsupported type provided``."""
    val = getter.get(ctx)
    if isinstance(val, (PMap, PSlice)):
        return val
    if isinstance(val, list):
        return to_pvalue(val)
    if isinstance(val, dict):
        return to_pvalue(val)
    raise EvalError(f"unsupported type provided: {type_name(val)}")


def _items(src):
    """(key or int64 index, value) pairs of a source, and whether it is a map."""
    if isinstance(src, PMap):
        return list(src.items()), True
    return list(enumerate(src)), False


def _show(v: Any) -> str:
    """A value in an error message (the reference prints Go's %v of a pcommon.Value)."""
    return as_string(v) if not isinstance(v, str) else v


def _where(is_map: bool, k: Any, v: Any) -> str:
    return f"{'map' if is_map else 'slice'} item ({k}, {_show(v)})"


def _result_type_error(want: str, got: Any) -> EvalError:
    return EvalError(
        f"lambda expression must return a value of type {want}, got {type_name(got)}"
    )


def _predicate(lam: LambdaArg, ctx: Any, *values: Any) -> bool:
    result = lam.call(ctx, *values)
    if isinstance(result, bool):
        return result
    raise _result_type_error("bool", result)


def _mapper(lam: LambdaArg, ctx: Any, *values: Any) -> Any:
    result = lam.call(ctx, *values)
    if result is None:
        raise _result_type_error("<nil>", None)
    return result


def _wrap(prefix: str, exc: EvalError) -> EvalError:
    return EvalError(f"{prefix}: {exc}")


def _store(value: Any, what: str) -> Any:
    try:
        return to_pvalue(deep_copy(value))
    except TypeError as exc:
        raise EvalError(f"{what}: Invalid value type {type_name(value)}: {exc}") from None


def _bool_scan(name: str, want: bool):
    """All (stop at the first false) and Any (stop at the first true)."""

    def factory(args: Args):
        source, predicate = args["source"], args["predicate"]

        def run(ctx):
            items, is_map = _items(_source(source, ctx))
            for k, v in items:
                try:
                    match = _predicate(predicate, ctx, k, v)
                except EvalError as exc:
                    raise _wrap(f"error while evaluating lambda function on {_where(is_map, k, v)}",
                                exc) from None
                if match is want:
                    return want
            return not want

        return run

    implements(name)(factory)
    return factory


_bool_scan("All", False)
_bool_scan("Any", True)


@implements("Filter")
def filter_(args: Args):
    source, predicate = args["source"], args["predicate"]

    def run(ctx):
        items, is_map = _items(_source(source, ctx))
        out: Any = PMap() if is_map else PSlice()
        for k, v in items:
            try:
                keep = _predicate(predicate, ctx, k, v)
            except EvalError as exc:
                raise _wrap(f"error while evaluating lambda function on {_where(is_map, k, v)}",
                            exc) from None
            if keep:
                if is_map:
                    out[k] = deep_copy(v)
                else:
                    out.append(deep_copy(v))
        return out

    return run


@implements("Find")
def find(args: Args):
    source, predicate, mapper = args["source"], args["predicate"], args.get("mapper")

    def run(ctx):
        items, is_map = _items(_source(source, ctx))
        for k, v in items:
            try:
                match = _predicate(predicate, ctx, k, v)
            except EvalError as exc:
                raise _wrap(f"error while evaluating lambda function on {_where(is_map, k, v)}",
                            exc) from None
            if not match:
                continue
            if mapper is None:
                return v
            try:
                return _mapper(mapper, ctx, k, v)
            except EvalError as exc:
                raise _wrap(
                    f"error while evaluating mapper lambda function on item ({k}, {_show(v)})", exc
                ) from None
        return None

    return run


@implements("MapEach")
def map_each(args: Args):
    source, mapper = args["source"], args["mapper"]

    def run(ctx):
        items, is_map = _items(_source(source, ctx))
        out: Any = PMap() if is_map else PSlice()
        for k, v in items:
            where = _where(is_map, k, v)
            try:
                val = _mapper(mapper, ctx, k, v)
            except EvalError as exc:
                raise _wrap(f"error while evaluating lambda function on {where}", exc) from None
            stored = _store(
                val,
                f"error while converting lambda function result on "
                f"{'map' if is_map else 'slice'} item ({k}, {_show(val)})",
            )
            if is_map:
                out[k] = stored
            else:
                out.append(stored)
        return out

    return run


@implements("MapKeys")
def map_keys(args: Args):
    source, key_mapper = args["source"], args["key_mapper"]

    def run(ctx):
        src = source.pmap(ctx)
        out = PMap()
        for k, v in list(src.items()):
            try:
                new_key = key_mapper.call(ctx, k, v)
                if not isinstance(new_key, str):
                    raise _result_type_error("string", new_key)
            except EvalError as exc:
                raise _wrap(
                    f"error while evaluating lambda function on map item ({k}, {_show(v)})", exc
                ) from None
            # A repeated key overwrites the value where the key first appeared.
            out[new_key] = deep_copy(v)
        return out

    return run


@implements("Reduce")
def reduce_(args: Args):
    source, seed, accumulator = args["source"], args["seed"], args["accumulator"]

    def run(ctx):
        items, _ = _items(_source(source, ctx))
        acc = seed.get(ctx)
        for k, v in items:
            acc = accumulator.call(ctx, acc, k, v)
        return acc

    return run


@implements("When")
def when(args: Args):
    condition, true_value, false_value = args["condition"], args["true_value"], args["false_value"]

    def run(ctx):
        try:
            match = _predicate(condition, ctx)
        except EvalError as exc:
            raise _wrap("error while evaluating lambda function", exc) from None
        return true_value.get(ctx) if match else false_value.get(ctx)

    return run
