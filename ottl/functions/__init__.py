"""The function registry: editors, converters and processor functions with their signatures."""

from .converters import CONVERTERS, LAMBDA_CONVERTERS, STANDARD_CONVERTERS
from .editors import EDITORS
from .processor_functions import PROCESSOR_FUNCTIONS
from .registry import (
    REGISTRY,
    counts,
    functions_for_context,
    lookup,
    render_markdown,
    resolve_named,
    signature,
    to_camel,
)
from .spec import FunctionSpec, Kind, Param, ParamKind

__all__ = [
    "CONVERTERS",
    "EDITORS",
    "LAMBDA_CONVERTERS",
    "PROCESSOR_FUNCTIONS",
    "REGISTRY",
    "STANDARD_CONVERTERS",
    "FunctionSpec",
    "Kind",
    "Param",
    "ParamKind",
    "counts",
    "functions_for_context",
    "lookup",
    "render_markdown",
    "resolve_named",
    "signature",
    "to_camel",
]
