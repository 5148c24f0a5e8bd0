"""The ordered process-pool map of the streaming stages."""

from __future__ import annotations

import os

import pytest

from newsaudit.engines.parallel import STATE, ordered_map


def _scaled(x: int) -> tuple[int, int]:
    return x * STATE["factor"], os.getpid()


@pytest.mark.parametrize(("workers", "window"), [(1, 0), (2, 0), (2, 1)])
def test_results_come_back_in_input_order_with_the_state(workers, window):
    out = list(ordered_map(_scaled, range(25), workers, {"factor": 3}, window))
    assert [v for v, _ in out] == [3 * i for i in range(25)]
    pids = {pid for _, pid in out}
    assert (os.getpid() in pids) == (workers == 1)


def _fail(x: int) -> int:
    if x == 3:
        raise ValueError("bad batch 3")
    return x


def test_a_failing_batch_raises_in_the_caller():
    with pytest.raises(ValueError, match="bad batch 3"):
        list(ordered_map(_fail, range(6), 2, {}))
