"""The source code each DVC stage depends on, from the package's real imports (grimp).

A stage's code is its stage module plus everything that module imports, transitively (imports
inside functions included). Listed in ``dvc.yaml`` as the stage module file and one folder per
package it reaches (``src/newsaudit/steps/boilerplate``, ``src/newsaudit/engines``, ...) or the
file of a top-level module (``src/newsaudit/pipeline.py``).

    python scripts/stage_deps.py          # print each stage's code deps
    python scripts/stage_deps.py --check  # exit 1 when dvc.yaml lists other code deps
"""

from __future__ import annotations

import sys
from pathlib import Path

import grimp
import yaml

ROOT = Path(__file__).resolve().parents[1]
SRC = "src/newsaudit"
# packages whose folder is the unit of a dependency (a subpackage of steps is its own unit)
FOLDER_UNITS = (
    "steps.ingest",
    "steps.boilerplate",
    "steps.dedup",
    "steps.classify",
    "engines",
    "lib",
    "core",
    "datasets",
    "training",
    "benchmarks",
    "report",
)


def unit(module: str) -> str | None:
    """The dvc.yaml dependency that covers ``module`` (None for the package root)."""
    name = module.removeprefix("newsaudit").lstrip(".")
    if not name:
        return None
    for folder in FOLDER_UNITS:
        if name == folder or name.startswith(folder + "."):
            return f"{SRC}/{folder.replace('.', '/')}"
    return f"{SRC}/{name.replace('.', '/')}.py"


def expected_deps() -> dict[str, list[str]]:
    sys.path.insert(0, str(ROOT / "src"))
    from newsaudit.stages import STAGES

    graph = grimp.build_graph("newsaudit")
    out = {}
    for stage, module in STAGES.items():
        reached = {module} | graph.find_upstream_modules(module)
        units = {unit(m) for m in reached} - {None}
        # the registry (stages/__init__) is imported with any stage module, but holds no stage's logic
        units.discard(f"{SRC}/stages/__init__.py")
        units.discard(f"{SRC}/stages.py")
        out[stage] = sorted(units)
    return out


def listed_deps() -> dict[str, list[str]]:
    stages = yaml.safe_load((ROOT / "dvc.yaml").read_text(encoding="utf-8"))["stages"]
    return {
        name: sorted(d for d in s.get("deps", []) if str(d).startswith(SRC + "/") and not d.endswith(".yaml"))
        for name, s in stages.items()
    }


def main(argv: list[str]) -> int:
    expected = expected_deps()
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
