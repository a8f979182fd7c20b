"""Fixtures of the engine tests: running a condition on both kernel sets of the VM."""

from __future__ import annotations

import pytest

from ottl import _vm


@pytest.fixture
def both_kernels():
    """run(condition, batch) -> {"simd": mask, "scalar": mask}: the condition's filter() once
    with the kernels chosen by CPU (AVX2 where the CPU has it) and once forced scalar. The
    choice by CPU (and the OTTL_SIMD environment switch) is restored afterwards."""

    def run(cond, batch) -> dict:
        out = {}
        for name, scalar in (("simd", False), ("scalar", True)):
            _vm.force_scalar(scalar)
            if scalar:
                assert _vm.simd() == "scalar"
            out[name] = cond.filter(batch)
        return out

    try:
        yield run
    finally:
        _vm.force_scalar(False)
