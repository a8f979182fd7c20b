from dataclasses import dataclass
from typing import Final, Mapping

@dataclass(frozen=True)
class Limit:
    name: str
    value: int
    min: int
    max: int
    configurable: bool
    unit: str
    doc: str

TABLE: Final[tuple[Limit, ...]]
VALUES: Final[Mapping[str, int]]

DEFAULT_BATCH_SIZE: Final[int]
MIN_BATCH_SIZE: Final[int]
MAX_BATCH_SIZE: Final[int]
DEFAULT_TIMEOUT_MS: Final[int]
MIN_TIMEOUT_MS: Final[int]
MAX_TIMEOUT_MS: Final[int]
DEFAULT_TIMEOUT: Final[float]
MIN_TIMEOUT: Final[float]
MAX_TIMEOUT: Final[float]
DEFAULT_MAX_STATEMENTS: Final[int]
MIN_MAX_STATEMENTS: Final[int]
MAX_MAX_STATEMENTS: Final[int]
DEFAULT_MAX_STRING_LENGTH: Final[int]
MIN_MAX_STRING_LENGTH: Final[int]
MAX_MAX_STRING_LENGTH: Final[int]
DEFAULT_MAX_ATTRIBUTES: Final[int]
MIN_MAX_ATTRIBUTES: Final[int]
MAX_MAX_ATTRIBUTES: Final[int]
MAX_STATEMENT_LENGTH: Final[int]
MAX_NESTING_DEPTH: Final[int]
MAX_EXPRESSION_DEPTH: Final[int]
MAX_ARGUMENTS: Final[int]
MAX_PATH_KEYS: Final[int]
MAX_REGEX_PATTERN_SIZE: Final[int]
MAX_PAYLOAD_SIZE: Final[int]
MAX_DECODE_THREADS: Final[int]
DECODE_PART_MIN_BYTES: Final[int]
VM_BLOCK_SIZE: Final[int]
VM_MAX_REGISTERS: Final[int]
VM_MAX_CODE: Final[int]

def validate_batch_size(value: object) -> int: ...
def validate_timeout(value: object) -> float: ...
def validate_max_statements(value: object) -> int: ...
def validate_max_string_length(value: object) -> int: ...
def validate_max_attributes(value: object) -> int: ...
