"""OTTL, the OpenTelemetry Transformation Language, for Python.

The front end: ``parse_statement`` / ``parse_condition`` give an AST (``ottl.lang.ast``);
``resolve_statement`` / ``resolve_condition`` bind it to a context and the function registry
(``ottl.resolved``). ``transform`` and ``filter`` run statements or conditions (or a collector
config) over an OTLP document, as the collector's processors do. Every rejection of input raises
a subclass of ``OttlError``.
"""

from ottl.lang.errors import OttlCompileError, OttlError, OttlSyntaxError

__version__ = "0.1.0"

# Loaded on first use, so that importing one submodule (the limits, the registry) does not pull
# in the whole front end.
_LAZY = {
    "parse_statement": "ottl.lang.parser",
    "parse_condition": "ottl.lang.parser",
    "parse_value_expression": "ottl.lang.parser",
    "print_node": "ottl.lang.printer",
    "resolve_statement": "ottl.frontend",
    "resolve_condition": "ottl.frontend",
    "check_group": "ottl.frontend",
    "transform": "ottl.run",
    "filter": "ottl.run",
}


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'ottl' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


__all__ = ["OttlError", "OttlSyntaxError", "OttlCompileError", "__version__", *_LAZY]
