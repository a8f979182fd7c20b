"""The engine's limits and defaults, read-only, from ``csrc/ottl_limits.h``.

The numbers come from the compiled extension ``ottl._limits``, which reads the header's table at
build time, so C and Python share one definition. The module refuses assignment: ``limits.X = 1``
raises ``AttributeError``.

For each value a user may choose there is a validator (``validate_batch_size``,
``validate_timeout``, ``validate_max_statements``, ``validate_max_string_length``,
``validate_max_attributes``) that returns the value or raises ``ValueError`` naming the limit and
the allowed range.
"""

from __future__ import annotations

import sys
import types
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final, Mapping

from ottl import _limits


@dataclass(frozen=True)
class Limit:
    name: str
    value: int
    min: int
    max: int
    configurable: bool
    unit: str
    doc: str


TABLE: Final[tuple[Limit, ...]] = tuple(Limit(*row) for row in _limits.rows())


def _public_names() -> dict[str, int]:
    names: dict[str, int] = {}
    for lim in TABLE:
        names[lim.name] = lim.value
        if lim.configurable:
            base = lim.name[len("DEFAULT_") :]
            names["MIN_" + base] = lim.min
            names["MAX_" + base] = lim.max
    return names


VALUES: Final[Mapping[str, int]] = MappingProxyType(_public_names())
globals().update(VALUES)

# Seconds are what Python callers pass; the header keeps whole milliseconds.
DEFAULT_TIMEOUT: Final[float] = VALUES["DEFAULT_TIMEOUT_MS"] / 1000.0
MIN_TIMEOUT: Final[float] = VALUES["MIN_TIMEOUT_MS"] / 1000.0
MAX_TIMEOUT: Final[float] = VALUES["MAX_TIMEOUT_MS"] / 1000.0


def _by_base(base: str) -> Limit:
    for lim in TABLE:
        if lim.configurable and lim.name == "DEFAULT_" + base:
            return lim
    raise KeyError(base)


def _validate_int(base: str, value: object, what: str) -> int:
    lim = _by_base(base)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(
            f"{what} must be an integer in [{lim.min}, {lim.max}] {lim.unit}, "
            f"got {type(value).__name__} {value!r}"
        )
    if not lim.min <= value <= lim.max:
        raise ValueError(
            f"{what} {value} is outside the allowed range [{lim.min}, {lim.max}] {lim.unit} "
            f"(default {lim.value})"
        )
    return value


def validate_batch_size(value: object) -> int:
    """A batch size, in records: an int in [MIN_BATCH_SIZE, MAX_BATCH_SIZE]."""
    return _validate_int("BATCH_SIZE", value, "batch_size")


def validate_max_statements(value: object) -> int:
    """Statements per program: an int in [MIN_MAX_STATEMENTS, MAX_MAX_STATEMENTS]."""
    return _validate_int("MAX_STATEMENTS", value, "max_statements")


def validate_max_string_length(value: object) -> int:
    """Bytes per string value: an int in [MIN_MAX_STRING_LENGTH, MAX_MAX_STRING_LENGTH]."""
    return _validate_int("MAX_STRING_LENGTH", value, "max_string_length")


def validate_max_attributes(value: object) -> int:
    """Attributes per record: an int in [MIN_MAX_ATTRIBUTES, MAX_MAX_ATTRIBUTES]."""
    return _validate_int("MAX_ATTRIBUTES", value, "max_attributes")


def validate_timeout(value: object) -> float:
    """A timeout in seconds (int or float) in [MIN_TIMEOUT, MAX_TIMEOUT]."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(
            f"timeout must be a number of seconds in [{MIN_TIMEOUT}, {MAX_TIMEOUT}], "
            f"got {type(value).__name__} {value!r}"
        )
    seconds = float(value)
    # NaN fails both comparisons, so it is rejected here too.
    if not MIN_TIMEOUT <= seconds <= MAX_TIMEOUT:
        raise ValueError(
            f"timeout {value!r} s is outside the allowed range [{MIN_TIMEOUT}, {MAX_TIMEOUT}] s "
            f"(default {DEFAULT_TIMEOUT})"
        )
    return seconds


class _ReadOnlyModule(types.ModuleType):
    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"ottl.limits is read-only: cannot set {name}")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"ottl.limits is read-only: cannot delete {name}")


sys.modules[__name__].__class__ = _ReadOnlyModule
