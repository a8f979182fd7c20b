"""Remote configurations and their hash.

A configuration is OpAMP's ``AgentConfigMap``: named files, each a content type and a body. Its
hash (the ``config_hash`` the server sends and agents echo in ``last_remote_config_hash``) is
sha256 over the files sorted by name, each written as three length-prefixed fields (name,
content type, body; lengths as 8-byte big-endian integers), after a version tag. Sorting makes it
independent of map order; the length prefixes make ("ab", "c") and ("a", "bc") differ.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Mapping

HASH_TAG = b"ottl-opamp-config/v1\x00"


def _field(data: bytes) -> bytes:
    return len(data).to_bytes(8, "big") + data


def config_hash(files: Mapping[str, tuple[str, bytes]]) -> bytes:
    """sha256 over sorted, length-prefixed (name, content type, body)."""
    h = hashlib.sha256(HASH_TAG)
    for name in sorted(files):
        content_type, body = files[name]
        h.update(_field(name.encode()))
        h.update(_field(content_type.encode()))
        h.update(_field(bytes(body)))
    return h.digest()


@dataclass(frozen=True)
class ConfigVersion:
    """One configuration the server can offer: files by name -> (content type, body)."""

    files: tuple[tuple[str, str, bytes], ...]

    @classmethod
    def of(cls, files: Mapping[str, tuple[str, bytes]]) -> "ConfigVersion":
        return cls(tuple((n, files[n][0], bytes(files[n][1])) for n in sorted(files)))

    @property
    def mapping(self) -> dict[str, tuple[str, bytes]]:
        return {n: (ct, body) for n, ct, body in self.files}

    @property
    def hash(self) -> bytes:
        return config_hash(self.mapping)
