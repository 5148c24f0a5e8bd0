"""The SIMD pins that make the pipeline's floating-point bytes the same on AVX2 and AVX-512 machines
(src/newsaudit/__init__.py): set before NumPy loads, seen by NumPy, OpenBLAS and Arrow, overridable."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from newsaudit import SIMD_PINS, _cpu_flags

PROBE = """
import json, os
import newsaudit, numpy, pyarrow, threadpoolctl
print(json.dumps({
    "env": {k: os.environ.get(k) for k in newsaudit.SIMD_PINS},
    "blas": sorted(
        {i.get("architecture") for i in threadpoolctl.threadpool_info() if i["internal_api"] == "openblas"}
    ),
    "arrow": pyarrow.runtime_info().simd_level,
    "numpy_v4": bool(numpy._core._multiarray_umath.__cpu_features__.get("X86_V4")),
}))
"""

needs_avx2 = pytest.mark.skipif(not {"avx2", "fma"} <= _cpu_flags(), reason="the pins apply to AVX2 machines")


def probe(**env: str) -> dict:
    clean = {k: v for k, v in os.environ.items() if k not in SIMD_PINS and k != "NEWSAUDIT_NATIVE_SIMD"}
    out = subprocess.run(
        [sys.executable, "-c", PROBE], env={**clean, **env}, capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout)


@needs_avx2
def test_importing_newsaudit_first_holds_numpy_openblas_and_arrow_to_their_avx2_kernels():
    seen = probe()
    assert seen["env"] == SIMD_PINS
    assert seen["blas"] == ["Haswell"] and seen["arrow"] == "avx2" and not seen["numpy_v4"]


@needs_avx2
def test_a_value_the_user_set_wins_and_native_simd_turns_the_pins_off():
    assert probe(OPENBLAS_CORETYPE="Sandybridge")["blas"] == ["Sandybridge"]
    assert probe(NEWSAUDIT_NATIVE_SIMD="1")["env"] == dict.fromkeys(SIMD_PINS)
