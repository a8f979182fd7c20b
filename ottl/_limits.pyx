# cython: language_level=3
"""Compiled view of csrc/ottl_limits.h: the rows of its limits table, nothing else.

`ottl.limits` builds the public, read-only API on top of this.
"""

from libc.stdint cimport int64_t


cdef extern from "ottl_limits.h":
    ctypedef struct ottl_limit_t:
        const char *name
        int64_t value
        int64_t min
        int64_t max
        int configurable
        const char *unit
        const char *doc

    const ottl_limit_t ottl_limits[]
    const size_t ottl_limits_count


def rows():
    """Each row of the header's table as (name, value, min, max, configurable, unit, doc)."""
    cdef size_t i
    out = []
    for i in range(ottl_limits_count):
        row = ottl_limits[i]
        out.append((
            row.name.decode("ascii"),
            row.value,
            row.min,
            row.max,
            bool(row.configurable),
            row.unit.decode("ascii"),
            row.doc.decode("ascii"),
        ))
    return tuple(out)
