"""One module per DVC stage (plus ``audit``, ``bench`` and ``predict``, which are not stages).

A stage module is the only place that reads ``params.yaml``, chooses an engine and writes files;
it defines ``register(subparsers)`` for its sub-command. The name is the same everywhere:
``dvc.yaml`` stage ``train-linemodel`` = ``newsaudit train-linemodel`` = ``stages/train_linemodel.py``
= params section ``train_linemodel`` = ``reports/metrics/train_linemodel.json`` where it writes one
(a test checks ``dvc.yaml`` against this registry).
"""

from __future__ import annotations

# stage name -> module, in pipeline order
STAGES = {
    "fetch": "newsaudit.stages.fetch",
    "ingest": "newsaudit.stages.ingest",
    "train-linemodel": "newsaudit.stages.train_linemodel",
    "boilerplate": "newsaudit.stages.boilerplate",
    "bench-boilerplate": "newsaudit.stages.bench_boilerplate",
    "duplicates": "newsaudit.stages.duplicates",
    "leakage": "newsaudit.stages.leakage",
    "bench-duplicates": "newsaudit.stages.bench_duplicates",
    "labels": "newsaudit.stages.labels",
    "train": "newsaudit.stages.train",
    "evaluate": "newsaudit.stages.evaluate",
    "conflibert-benchmark": "newsaudit.stages.conflibert_benchmark",
    "classify": "newsaudit.stages.classify",
    "report": "newsaudit.stages.report",
}
# commands that are not DVC stages
COMMANDS = {
    "predict": "newsaudit.stages.predict",
    "audit": "newsaudit.stages.audit",
    "bench": "newsaudit.stages.bench",
    "ablate-classifier": "newsaudit.stages.ablate_classifier",
}
REGISTRY = {**STAGES, **COMMANDS}


def module_name(stage: str) -> str:
    """``train-linemodel`` -> ``train_linemodel``: the module, params section and metrics name."""
    return stage.replace("-", "_")
