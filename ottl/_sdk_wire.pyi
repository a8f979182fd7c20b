from collections.abc import Iterable
from typing import Optional, Any

from opentelemetry.sdk.trace import ReadableSpan

MAX_VALUE_DEPTH: int

def encode_spans(spans: Iterable[ReadableSpan]) -> bytes: ...
def encode_logs(records: Iterable[Any]) -> bytes: ...
PROJECTABLE_SPAN_PARTS: frozenset[str]

def encode_spans_ordered(
    spans: Iterable[Any],
    projection: Optional[
        tuple[Iterable[str], Optional[Iterable[str]]]
        | tuple[Iterable[str], Optional[Iterable[str]], bool]
    ] = None,
) -> tuple[bytes, Optional[list[int]]]: ...
def encode_logs_ordered(records: Iterable[Any]) -> tuple[bytes, list[int]]: ...
