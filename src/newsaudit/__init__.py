"""newsaudit: turn a messy scraped news corpus into trustworthy numbers."""

import os
import platform

__version__ = "0.1.0"

# Same floating-point results on every x86-64 machine with AVX2. NumPy, OpenBLAS and Arrow pick
# their kernels at run time from the CPU's features: an AVX-512 Xeon and an AVX2 EPYC then compute
# float32 logarithms, dot products and sums with different instructions and differ in the last bits
# (measured: the trained models and the probabilities in the classifier's tables differed at 1e-8
# between the two, the metrics did not). Every library is held to its AVX2 kernels, which both
# kinds of machine run, so `make repro` gives the committed bytes on either. These must be set
# before NumPy is first imported: the `newsaudit` command and the stages import this package first;
# the Makefile exports the same values for everything it runs. A value already in the environment
# wins (set NEWSAUDIT_NATIVE_SIMD=1 to keep every library's own choice).
SIMD_PINS = {
    "NPY_DISABLE_CPU_FEATURES": "X86_V4 AVX512_ICL AVX512_SPR",
    "OPENBLAS_CORETYPE": "Haswell",
    "ARROW_USER_SIMD_LEVEL": "AVX2",
}


def _cpu_flags() -> set[str]:
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as info:
            for line in info:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def _pin_simd() -> None:
    if os.environ.get("NEWSAUDIT_NATIVE_SIMD") == "1" or platform.machine() not in ("x86_64", "AMD64"):
        return
    if {"avx2", "fma"} <= _cpu_flags():  # the pinned kernels need AVX2 and FMA
        for name, value in SIMD_PINS.items():
            os.environ.setdefault(name, value)


_pin_simd()
