#!/usr/bin/env bash
# Side-by-side benchmark: deepnet-bench against PyTorch + torchscale on the same configs (`make bench-vs-torch`).
#
#   ROUNDS=2 STEPS=5 FILTER=substring THREADS=2 bash scripts/bench_vs_torch.sh
#
# Needs Python with torch and torchscale only on the machine where it runs; without them it says so and exits 0.
# Builds the release deepnet-bench first, then hands over to scripts/bench_vs_torch.py (see its docstring).
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
SWIFT=${SWIFT:-swift}
ROUNDS=${ROUNDS:-2}
STEPS=${STEPS:-5}
FILTER=${FILTER:-}
THREADS=${THREADS:-2}

if ! command -v "$PYTHON" >/dev/null 2>&1 || ! "$PYTHON" -c 'import torch, torchscale' >/dev/null 2>&1; then
  echo "bench-vs-torch: PyTorch/torchscale not installed (pip install torch torchscale); skipped"
  exit 0
fi

"${MAKE:-make}" --no-print-directory deps >&2     # libopenblas-dev / libhdf5-dev, as every building target
"$SWIFT" build -c release --product deepnet-bench >&2
exec "$PYTHON" scripts/bench_vs_torch.py --deepnet-bench .build/release/deepnet-bench \
  --rounds "$ROUNDS" --steps "$STEPS" --filter "$FILTER" --threads "$THREADS"
