"""``newsaudit bench --resume``: finished parts are saved as they end and reused only when the
parameters and code are the same (benchmarks/scale/saved.py)."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from newsaudit.benchmarks.scale.saved import SavedParts, bench_key
from newsaudit.core.errors import NewsauditError


def measured_part(log_file: str, value: int) -> dict:
    """A part of the benchmark: it notes each time it really runs (in its own process)."""
    with open(log_file, "a") as fh:
        fh.write(f"{value}\n")
    if value < 0:
        raise RuntimeError("the run died here")
    return {"pages": value, "seconds": value / 10}


def runs(log_file: Path) -> list[str]:
    return log_file.read_text().split() if log_file.exists() else []


def test_a_killed_benchmark_keeps_its_finished_parts_and_runs_the_rest(tmp_path):
    saved, calls = tmp_path / "benchmark.partial.json", tmp_path / "calls.txt"
    first = SavedParts(saved, "key-1", resume=False)
    assert first.run("run/local/100", "100 pages", measured_part, str(calls), 100) == {
        "pages": 100,
        "seconds": 10.0,
    }
    with pytest.raises(NewsauditError, match="1000 pages failed in its process"):
        first.run("run/local/1000", "1000 pages", measured_part, str(calls), -1)
    on_disk = json.loads(saved.read_text())
    assert on_disk["key"] == "key-1" and set(on_disk) == {"key", "run/local/100"}
    assert not list(tmp_path.glob("*.partial.json.partial"))
    resumed = SavedParts(saved, "key-1", resume=True)
    assert resumed.run("run/local/100", "100 pages", measured_part, str(calls), 100)["pages"] == 100
    assert resumed.run("run/local/1000", "1000 pages", measured_part, str(calls), 1000)["pages"] == 1000
    assert resumed.reused == ["run/local/100"]
    assert runs(calls) == ["100", "-1", "1000"]  # the 100-page part ran once
    assert set(json.loads(saved.read_text())) == {"key", "run/local/100", "run/local/1000"}


def test_parts_of_other_params_or_a_damaged_file_are_measured_again(tmp_path, caplog):
    saved, calls = tmp_path / "benchmark.partial.json", tmp_path / "calls.txt"
    SavedParts(saved, "key-1", resume=False).run("a", "a", measured_part, str(calls), 1)
    with caplog.at_level(logging.WARNING):
        other = SavedParts(saved, "key-2", resume=True)
    assert other.parts == {} and "other params or code" in caplog.text
    saved.write_text('{"key": "key-1", "a": {')
    with caplog.at_level(logging.WARNING):
        damaged = SavedParts(saved, "key-1", resume=True)
    assert damaged.parts == {} and "unreadable checkpoint" in caplog.text
    fresh = SavedParts(saved, "key-1", resume=False)  # without --resume nothing is reused
    fresh.run("a", "a", measured_part, str(calls), 1)
    assert fresh.reused == [] and runs(calls) == ["1", "1"]


def test_the_key_follows_every_parameter_execution_included():
    base = {"bench": {"sizes": [100]}, "execution": {"workers": {"boilerplate": 2}}}
    assert bench_key(base) == bench_key(json.loads(json.dumps(base)))
    assert bench_key({**base, "execution": {"workers": {"boilerplate": 1}}}) != bench_key(base)
    assert bench_key({**base, "duplicates": {"threshold": 0.5}}) != bench_key(base)
