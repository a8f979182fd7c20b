from collections.abc import Iterable
from typing import Any

from opentelemetry.sdk.trace import ReadableSpan

MAX_VALUE_DEPTH: int

def encode_spans(spans: Iterable[ReadableSpan]) -> bytes: ...
def encode_logs(records: Iterable[Any]) -> bytes: ...
