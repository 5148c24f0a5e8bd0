"""Training and evaluation give the same bytes whatever the number of BLAS/OpenMP threads (issue 15,
item 4): the stages pin the thread pools themselves, so the environment cannot change a result."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import yaml
from threadpoolctl import threadpool_info

from newsaudit.training.train import one_thread

ROOT = Path(__file__).resolve().parents[2]
THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS")


def test_one_thread_pins_every_pool():
    with one_thread():
        assert all(pool["num_threads"] == 1 for pool in threadpool_info())


def _run(args: list[str], threads: int, cwd: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    env.update({k: str(threads) for k in THREAD_VARS})
    subprocess.run(
        [sys.executable, "-m", "newsaudit.cli", *args], cwd=cwd, env=env, check=True, capture_output=True
    )


def test_train_and_evaluate_are_byte_identical_with_one_and_two_threads(
    tmp_path, make_labels, small_train_params
):
    labels = tmp_path / "labels.parquet"
    make_labels().to_parquet(labels, index=False)
    params = tmp_path / "params.yaml"
    evaluate = {"error_samples": 2, "n_bootstrap": 20, "webnews_dev": False}
    params.write_text(
        yaml.safe_dump({"train": small_train_params.model_dump(mode="json"), "evaluate": evaluate}),
        encoding="utf-8",
    )
    outputs = {}
    for threads in (1, 2):
        out = tmp_path / f"t{threads}"
        out.mkdir()
        base = ["--params", str(params)]
        _run(
            [
                *base,
                "train",
                "--labels",
                str(labels),
                "--labels-report",
                str(out / "none"),
                "--model",
                "m.skops",
                "--card",
                "card.md",
                "--metrics",
                "train.json",
                "--timings",
                "timings.json",
            ],
            threads,
            out,
        )
        _run(
            [
                *base,
                "evaluate",
                "--labels",
                str(labels),
                "--model",
                "m.skops",
                "--metrics",
                "classifier.json",
                "--plots",
                "plots",
            ],
            threads,
            out,
        )
        outputs[threads] = {
            name: (out / name).read_bytes()
            for name in ("m.skops", "card.md", "train.json", "classifier.json")
        }
    for name in outputs[1]:
        assert outputs[1][name] == outputs[2][name], f"{name} differs between 1 and 2 threads"
