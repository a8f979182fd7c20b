"""Resolution never fails with anything but OttlError, on statements built from the real
registry and path tables (so that many of them resolve, and the rest fail in interesting ways)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from strategies import COMPARISON_OPS, literals

from ottl.contexts import CONTEXTS, reachable
from ottl.functions.registry import REGISTRY, functions_for_context
from ottl.functions.spec import Kind
from ottl.lang import ast
from ottl.lang.errors import OttlError
from ottl.lang.parser import parse_statement
from ottl.lang.printer import print_node
from ottl.resolved import describe
from ottl.resolver import Resolver

CONVERTERS = sorted(n for n, s in REGISTRY.items() if s.kind is Kind.CONVERTER)


def editors(context: str) -> list[str]:
    return sorted(n for n, s in functions_for_context(context).items() if s.kind is Kind.EDITOR)
KEYS = st.one_of(st.text(max_size=4).map(ast.StringLit), st.integers(0, 3).map(ast.IntLit))


@st.composite
def real_paths(draw, context: str) -> ast.Path:
    owner = draw(st.sampled_from(reachable(context)))
    spec = draw(st.sampled_from(CONTEXTS[owner].paths))
    fields = [ast.Field(name) for name in spec.segments]
    if spec.keys:
        fields[-1] = ast.Field(fields[-1].name, tuple(draw(st.lists(KEYS, max_size=2))))
    prefix = [ast.Field(owner)] if owner != context or draw(st.booleans()) else []
    return ast.Path(tuple(prefix + fields))


def real_values(context: str) -> st.SearchStrategy[ast.Value]:
    leaves = st.one_of(literals, real_paths(context))

    def extend(children):
        @st.composite
        def calls(draw) -> ast.Call:
            spec = REGISTRY[draw(st.sampled_from(CONVERTERS))]
            count = draw(st.integers(len(spec.required), len(spec.params)))
            args = draw(st.lists(children.map(ast.Argument), min_size=count, max_size=count))
            return ast.Call(spec.name, tuple(args))

        return st.one_of(
            calls(),
            st.lists(children, max_size=3).map(lambda items: ast.ListLit(tuple(items))),
        )

    return st.recursive(leaves, extend, max_leaves=6)


@st.composite
def real_statements(draw) -> tuple[str, ast.Statement]:
    context = draw(st.sampled_from(sorted(CONTEXTS)))
    spec = REGISTRY[draw(st.sampled_from(editors(context)))]
    # Mostly the right number of arguments, so that many statements resolve.
    count = draw(st.integers(len(spec.required), len(spec.params)))
    values = [draw(real_paths(context))] + draw(
        st.lists(real_values(context), min_size=count, max_size=count)
    )
    args = tuple(ast.Argument(v) for v in values[:count])
    comparison = st.builds(
        ast.Comparison, st.sampled_from(COMPARISON_OPS), real_values(context), real_values(context)
    )
    where = draw(st.none() | comparison)
    return context, ast.Statement(ast.Call(spec.name, args), where)


@given(real_statements())
def test_resolution_raises_only_ottl_errors(case):
    context, tree = case
    text = print_node(tree)
    try:
        parsed = parse_statement(text)
    except OttlError:
        return  # e.g. a generated tree deeper than the limits
    try:
        resolved = Resolver(context).statement(parsed, text)
    except OttlError as exc:
        assert exc.text == text and 0 <= exc.span.start <= len(text)
        return
    assert describe(resolved).startswith(f"statement in context {context}")
    # Resolution depends on the tree only: the printed form resolves to the same thing.
    again = Resolver(context).statement(parse_statement(print_node(parsed)), text)
    assert describe(again) == describe(resolved)
