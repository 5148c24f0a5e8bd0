"""The layout keeps its promises: layers and step independence (import-linter), no import cycles,
small modules, one name per stage, and dvc.yaml code deps that follow the real imports."""

from __future__ import annotations

import runpy
import shutil
import subprocess
import sys
from pathlib import Path

import grimp
import pytest
import yaml

from newsaudit.stages import STAGES, module_name

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "newsaudit"
MAX_LINES = 450  # "about 400": a module past this is two modules


def test_import_contracts_hold():
    exe = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    assert exe, "import-linter is a dev dependency: pip install -e '.[dev]'"
    done = subprocess.run([exe], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout[-3000:]


def _cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []
    counter = 0
    for root in sorted(graph.modules):
        if root in index:
            continue
        work = [(root, iter(sorted(graph.find_modules_directly_imported_by(root))))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on.add(root)
        while work:
            node, it = work[-1]
            nxt = next(it, None)
            if nxt is not None:
                if nxt not in index:
                    index[nxt] = low[nxt] = counter
                    counter += 1
                    stack.append(nxt)
                    on.add(nxt)
                    work.append((nxt, iter(sorted(graph.find_modules_directly_imported_by(nxt)))))
                elif nxt in on:
                    low[node] = min(low[node], index[nxt])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                comp = []
                while True:
                    m = stack.pop()
                    on.discard(m)
                    comp.append(m)
                    if m == node:
                        break
                if len(comp) > 1:
                    out.append(sorted(comp))
    return out


def test_no_import_cycles_counting_imports_inside_functions():
    graph = grimp.build_graph("newsaudit")
    assert _cycles(graph) == []


def test_the_cycle_check_finds_a_cycle(tmp_path, monkeypatch):
    pkg = tmp_path / "cyclic"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from cyclic import b\n")
    (pkg / "b.py").write_text("def f():\n    from cyclic import a  # inside a function\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert _cycles(grimp.build_graph("cyclic")) == [["cyclic.a", "cyclic.b"]]


def test_modules_stay_small():
    sizes = {
        p.relative_to(PACKAGE).as_posix(): len(p.read_text().splitlines()) for p in PACKAGE.rglob("*.py")
    }
    assert {k: v for k, v in sizes.items() if v > MAX_LINES} == {}


def test_one_name_per_stage():
    dvc = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    assert list(dvc) == list(STAGES)
    for stage, module in STAGES.items():
        assert module == f"newsaudit.stages.{module_name(stage)}"
        assert (PACKAGE / "stages" / f"{module_name(stage)}.py").is_file()
        assert dvc[stage]["cmd"].split()[:2] == ["newsaudit", stage]
        own = module_name(stage)
        listed = [p for p in dvc[stage].get("params", []) if isinstance(p, str)]
        if own in params:
            assert own in listed, f"{stage} does not list its params section {own}"
    assert not any("execution" in (st.get("params") or []) for st in dvc.values())


def test_dvc_code_deps_follow_the_imports(capsys):
    script = runpy.run_path(str(ROOT / "scripts" / "stage_deps.py"))
    code = script["main"](["--check"])
    assert code == 0, capsys.readouterr().out


@pytest.mark.parametrize("forbidden", ["newsaudit.engines.stream", "newsaudit.steps.dedup.step"])
def test_a_step_importing_an_engine_or_another_step_breaks_a_contract(tmp_path, forbidden):
    """The contracts are not vacuous: a step module that imports an engine (or another step)
    makes lint-imports fail."""
    copy = tmp_path / "src"
    shutil.copytree(ROOT / "src", copy, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    target = copy / "newsaudit" / "steps" / "boilerplate" / "params.py"
    target.write_text(target.read_text() + f"\nimport {forbidden}  # noqa\n")
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    exe = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    env = {"PYTHONPATH": str(copy), "PATH": str(Path(sys.executable).parent)}
    done = subprocess.run([exe], cwd=tmp_path, capture_output=True, text=True, env=env)
    assert done.returncode != 0
    assert "BROKEN" in done.stdout


def test_the_report_reads_exactly_the_metrics_files_its_stage_declares():
    from newsaudit.core import paths

    deps = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]["report"]["deps"]
    declared = {Path(d).stem for d in deps if str(d).startswith("reports/metrics/")}
    assert declared == set(paths.REPORT_METRICS)
