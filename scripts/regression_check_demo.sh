#!/usr/bin/env bash
# Demonstrates the regression check: change one parameter, and the change shows in
# `dvc metrics diff` and makes nbval fail until the notebooks are re-executed (`make notebooks`).
# Run after `make repro`, on a clean git tree: it edits params.yaml and restores everything at the end.
# Usage: scripts/regression_check_demo.sh [PARAM] [VALUE]   (default: duplicates.threshold 0.9)
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.venv/bin:$PATH"
PARAM=${1:-duplicates.threshold}
VALUE=${2:-0.9}
# It rewrites params.yaml, dvc.lock and the committed metrics, then restores them from HEAD: so the
# tracked tree must be clean, or local edits would be lost.
[ -z "$(git status --porcelain --untracked-files=no)" ] || { echo "the git tree has uncommitted changes; commit or stash them first" >&2; exit 2; }
restore() { git checkout -q -- . && dvc checkout -q >/dev/null 2>&1 || true; }
trap restore EXIT

echo "== 1. set $PARAM=$VALUE and reproduce"
python - "$PARAM" "$VALUE" <<'PY'
import sys, yaml
from pathlib import Path
key, value = sys.argv[1], yaml.safe_load(sys.argv[2])
params = yaml.safe_load(Path("params.yaml").read_text())
node = params
*path, last = key.split(".")
for part in path:
    node = node[part]
node[last] = value
Path("params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
PY
dvc repro
echo "== 2. the change is visible in dvc params diff and dvc metrics diff"
dvc params diff
dvc metrics diff
echo "== 3. nbval must now fail on the notebooks that show the moved numbers"
if pytest -q notebooks --nbval --nbval-current-env --nbval-sanitize-with notebooks/nbval_sanitize.cfg; then
  echo "UNEXPECTED: nbval passed although results changed" >&2
  exit 1
fi
echo "OK: nbval caught the change; run \`make notebooks\` when a change is legitimate."
