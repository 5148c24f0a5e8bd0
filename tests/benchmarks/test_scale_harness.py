"""The benchmark harness: each size audited in a process of its own."""

from __future__ import annotations

import os

import pytest

from newsaudit.benchmarks.scale.harness import in_fresh_process
from newsaudit.core.errors import NewsauditError


def test_in_fresh_process_runs_elsewhere_and_reports_failures():
    assert in_fresh_process("pid", os.getpid) != os.getpid()
    with pytest.raises(NewsauditError, match=r"bad size failed in its process:[\s\S]*ValueError"):
        in_fresh_process("bad size", int, "not a number")
    with pytest.raises(NewsauditError, match=r"dying: its process died \(exit code 3\)"):
        in_fresh_process("dying", os._exit, 3)
