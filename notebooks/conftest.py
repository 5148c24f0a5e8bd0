"""Before nbval runs the notebooks: the example audit that ``04-explore-an-audit.ipynb`` opens.

The notebook's committed outputs are those of an audit of the tests' small corpus (three sites
with templates, error pages, repeated paragraphs, exact and near-duplicate copies, two rejected
files) run with the project's ``params.yaml``, no trained models (the fallback line rule, no
classifier) and the in-memory engine. It is rebuilt at the start of every session into
``data/example-audit/`` (not versioned), with paths relative to the project root so the notebook
shows the same text in any checkout. ``python notebooks/conftest.py`` builds it by hand.
"""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = Path("data") / "example-audit"  # relative to ROOT


def _make_corpus():
    """The tests' corpus generator (tests/conftest.py), so notebook and tests audit one corpus."""
    spec = importlib.util.spec_from_file_location("newsaudit_tests_corpus", ROOT / "tests" / "conftest.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.make_corpus


def build_example_audit(root: Path = ROOT) -> Path:
    """``data/example-audit/audit``: the audit of the small corpus, rebuilt from scratch."""
    base = root / EXAMPLE
    shutil.rmtree(base, ignore_errors=True)
    (base / "models").mkdir(parents=True)  # no trained artefacts: fallback line rule, no classifier
    _make_corpus()(base / "crawl")
    cmd = [
        sys.executable,
        "-m",
        "newsaudit.cli",
        "--params",
        "params.yaml",
        "audit",
        (EXAMPLE / "crawl").as_posix(),
        "--out",
        (EXAMPLE / "audit").as_posix(),
        "--models",
        (EXAMPLE / "models").as_posix(),
        "--engine",
        "memory",
        "--report",
    ]
    done = subprocess.run(cmd, cwd=root, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"example audit failed: {' '.join(cmd)}\n{done.stderr[-2000:]}")
    return base / "audit"


def pytest_sessionstart(session) -> None:
    # pytest loads this file only when it collects from notebooks/ (the nbval run)
    build_example_audit()


if __name__ == "__main__":
    print(build_example_audit())
