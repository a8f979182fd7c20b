from typing import Any, Iterable, Mapping, Optional, Sequence, Union

import numpy as np
import numpy.typing as npt

from ottl._batch import LogBatch, SpanBatch

_Batch = SpanBatch | LogBatch
_Column = tuple[npt.NDArray[np.uint8], npt.NDArray[np.int64]]

class VMError(ValueError):
    pc: int
    def __init__(self, message: str, pc: int = -1) -> None: ...

class VMNeedsReference(VMError): ...

class VMProgram:
    def __init__(
        self,
        code: npt.ArrayLike,
        const_tags: npt.ArrayLike,
        const_vals: npt.ArrayLike,
        strings: Sequence[bytes],
        nregs: int,
        nmasks: int,
    ) -> None: ...
    @property
    def signal(self) -> str: ...
    @property
    def nderived(self) -> int: ...
    @property
    def writes(self) -> bool: ...
    def filter(self, batch: _Batch, derived: Iterable[_Column] = ()) -> npt.NDArray[np.uint8]: ...
    def execute(
        self,
        batch: _Batch,
        gate: Optional[npt.ArrayLike] = None,
        derived: Iterable[_Column] = (),
    ) -> npt.NDArray[np.uint8]: ...

def column(batch: _Batch, field: int, key: Optional[str] = None,
           absent: bool = False) -> _Column: ...
def set_rows(batch: _Batch, field: int, rows: Sequence[int],
             maps: Sequence[Mapping[str, Any]]) -> None: ...
def follow_keys(batch: _Batch, tags: np.ndarray, vals: np.ndarray,
                keys: Sequence[Union[str, int]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]: ...
def intern(batch: _Batch, value: bytes) -> int: ...
def dirty_records(batch: _Batch) -> npt.NDArray[np.bool_]: ...
def reset_cache(batch: _Batch) -> None: ...

MAPEDIT_KINDS: dict[str, int]

def map_edit(
    batch: _Batch,
    owner: int,
    mask: npt.ArrayLike,
    kind: str,
    table: npt.ArrayLike,
    limit: int = 0,
) -> None: ...

PARENT_OWNERS: dict[str, int]

def store_value(batch: _Batch, value: Any) -> tuple[int, int]: ...
def set_parent(
    batch: _Batch,
    owner: str,
    row: int,
    attributes: Mapping[str, Any],
    dropped: int,
    schema_url: str,
    name: str = "",
    version: str = "",
) -> None: ...
def set_event(
    batch: _Batch,
    row: int,
    name: str,
    time: int,
    attributes: Mapping[str, Any],
    dropped: int,
) -> bool: ...
def keep_events(batch: _Batch, keep: npt.ArrayLike) -> None: ...
def simd() -> str: ...
def opcode_table() -> list[tuple[str, str]]: ...
def field_table() -> list[tuple[int, int]]: ...
def operator_counts() -> tuple[int, int]: ...
def force_scalar(on: bool) -> None: ...
def events_as_logs(batch: _Batch) -> LogBatch: ...
def events_from_logs(batch: _Batch, logs: _Batch) -> None: ...
def set_ids(batch: _Batch, field: int, rows: npt.ArrayLike, ids: bytes) -> None: ...
