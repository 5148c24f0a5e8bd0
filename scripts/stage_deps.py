"""The source code each DVC stage depends on, from the package's real imports (grimp).

A stage's code is its stage module plus every module that module imports, transitively (imports
inside functions included), each listed in ``dvc.yaml`` as its file, plus the data files that sit
beside an imported module (``src/newsaudit/datasets/datasets.yaml``). File by file, not folder by
folder: a new or changed module reruns only the stages that import it (a folder dep would rerun
every stage that touches the package, which costs a full ``dvc repro`` for any change in ``lib``).

    python scripts/stage_deps.py          # print each stage's code deps
    python scripts/stage_deps.py --check  # exit 1 when dvc.yaml lists other code deps
    python scripts/stage_deps.py --write  # rewrite the code deps in dvc.yaml (the rest is kept)
"""

from __future__ import annotations

import sys
from pathlib import Path

import grimp
import yaml

ROOT = Path(__file__).resolve().parents[1]
SRC = "src/newsaudit"
DATA_SUFFIXES = (".yaml", ".yml", ".json", ".csv", ".txt")


def module_file(module: str) -> str | None:
    """The file of ``module`` relative to the repository (the package root's ``__init__`` pins the
    SIMD kernels every stage computes with, so it is a dependency of every stage)."""
    name = module.removeprefix("newsaudit").lstrip(".")
    if not name:
        return f"{SRC}/__init__.py"
    base = f"{SRC}/{name.replace('.', '/')}"
    return f"{base}/__init__.py" if (ROOT / base).is_dir() else f"{base}.py"


def data_files(py_file: str) -> list[str]:
    """Data files in the folder of a module (what the module opens by path beside itself)."""
    folder = py_file.rsplit("/", 1)[0]
    return [f"{folder}/{p.name}" for p in sorted((ROOT / folder).iterdir()) if p.suffix in DATA_SUFFIXES]


def with_parents(module: str) -> set[str]:
    """``module`` and the packages above it: Python runs each parent's ``__init__`` on import."""
    parts = module.split(".")
    return {".".join(parts[:i]) for i in range(1, len(parts) + 1)}


def expected_deps() -> dict[str, list[str]]:
    sys.path.insert(0, str(ROOT / "src"))
    from newsaudit.stages import STAGES

    graph = grimp.build_graph("newsaudit")
    out = {}
    for stage, module in STAGES.items():
        reached = {p for m in {module} | graph.find_upstream_modules(module) for p in with_parents(m)}
        files = {module_file(m) for m in reached} - {None}
        # the registry (stages/__init__) is imported with any stage module, but holds no stage's logic
        files.discard(f"{SRC}/stages/__init__.py")
        files |= {d for f in files for d in data_files(f)}
        out[stage] = sorted(files)
    return out


def listed_deps() -> dict[str, list[str]]:
    stages = yaml.safe_load((ROOT / "dvc.yaml").read_text(encoding="utf-8"))["stages"]
    return {
        name: sorted(d for d in s.get("deps", []) if str(d).startswith(SRC + "/"))
        for name, s in stages.items()
    }


def write_deps(expected: dict[str, list[str]], path: Path = ROOT / "dvc.yaml") -> None:
    """Replace each stage's ``src/newsaudit`` deps in ``path`` by ``expected``, line by line, so the
    comments, order and other deps of the file stay as they are."""
    out, stage, in_deps, written = [], None, False, False
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("  ") and not line.startswith("   ") and line.rstrip().endswith(":"):
            stage, in_deps, written = line.strip()[:-1], False, False
        elif line.startswith("    ") and not line.startswith(("     ", "    - ")):
            in_deps = line.strip() == "deps:"
        if in_deps and line.startswith(f"    - {SRC}/"):
            if not written:
                out.extend(f"    - {d}" for d in expected[stage])
                written = True
            continue
        out.append(line)
    path.write_text("\n".join(out) + "\n", encoding="utf-8")


def main(argv: list[str]) -> int:
    expected = expected_deps()
    if "--write" in argv:
        write_deps(expected)
        return main(["--check"])
    if "--check" not in argv:
        for stage, deps in expected.items():
            print(f"{stage}:")
            for d in deps:
                print(f"  - {d}")
        return 0
    listed = listed_deps()
    problems = []
    for stage in sorted(set(expected) | set(listed)):
        want, have = set(expected.get(stage, [])), set(listed.get(stage, []))
        if stage not in listed:
            problems.append(f"{stage}: not a dvc.yaml stage")
        for d in sorted(want - have):
            problems.append(f"{stage}: imports {d} but dvc.yaml does not list it")
        for d in sorted(have - want):
            problems.append(f"{stage}: dvc.yaml lists {d}, which the stage does not import")
    print("\n".join(problems) or "dvc.yaml code deps match the imports")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
