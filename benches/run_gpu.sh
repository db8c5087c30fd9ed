#!/usr/bin/env bash
# The whole end-to-end benchmark on the GPU machine, in one command (docs/BENCHMARKS.md):
# our criterion bench (benches/e2e.rs, built on the development machine), the PyTorch
# baseline (scripts/bench_torch.py), the merged Markdown table and, where matplotlib is
# installed, the plot. Run from the repository root:
#
#   bash benches/run_gpu.sh [BENCH_EXE]
#
# BENCH_EXE defaults to target/rle-bench/e2e (benches/build_for_gpu.sh) when present, else
# gpu-bundle/bin/rle-bench-e2e (cargo xtask gather-gpu).
#
# Writes 7 files into $OUT (required): env.txt, ours-log.txt, ours.json, torch-log.txt,
# torch.json, report.md, and bench.png when matplotlib is there (else plot it later with
# scripts/plot_bench.py). pycocotools is installed from .whl/ when that folder is present.
# Stage time limits (seconds) keep the whole under the device tool's 10 minutes:
# OURS_LIMIT_S [300], TORCH_LIMIT_S [220]. Extra environment for the Rust bench
# (RLE_BENCH_MEASURE_S, RLE_BENCH_CPU, ...) and BENCH_FILTER (a criterion filter regex)
# and TORCH_ARGS (extra bench_torch.py arguments) pass through.
# Exit status: 0 when both benches and the merge succeeded.

set -u -o pipefail
: "${OUT:?set OUT to the folder for the results}"
if [ -x target/rle-bench/e2e ]; then default_exe=target/rle-bench/e2e; else default_exe=gpu-bundle/bin/rle-bench-e2e; fi
exe="${1:-$default_exe}"
mkdir -p "$OUT"
status=0

if compgen -G ".whl/*.whl" >/dev/null; then
  python3 -m pip install -q --no-index --no-deps --target /tmp/rle-bench-site .whl/*.whl \
    && export PYTHONPATH="/tmp/rle-bench-site${PYTHONPATH:+:$PYTHONPATH}"
fi

{
  echo "date (UTC): $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "bench executable: $exe"
  # BUILD.txt: benches/build_for_gpu.sh; BUNDLE.txt: cargo xtask gather-gpu.
  cat "$(dirname "$exe")/BUILD.txt" 2>/dev/null || grep -m1 '^commit:' "$(dirname "$exe")/../BUNDLE.txt" 2>/dev/null \
    || echo "commit: unknown"
  echo "host: $(uname -srm); CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'); $(nproc) cores"
  python3 -c 'import sys, torch, torchvision, numpy
try:
    import importlib.metadata, pycocotools; pc = importlib.metadata.version("pycocotools")
except Exception:
    pc = "MISSING"
print(f"python {sys.version.split()[0]}, torch {torch.__version__} (CUDA {torch.version.cuda}), torchvision {torchvision.__version__}, numpy {numpy.__version__}, pycocotools {pc}")'
  nvidia-smi --query-gpu=name,driver_version,pstate,clocks.sm,clocks.max.sm,clocks.mem,temperature.gpu,power.draw,power.limit --format=csv
  nvidia-smi
} >"$OUT/env.txt" 2>&1

echo "=== ours: $exe"
# Without a usable GPU the bench would skip its GPU groups with a notice; here that is a failure.
CRITERION_HOME=/tmp/rle-criterion RLE_BENCH_OUT="$OUT" RLE_BENCH_REQUIRE_GPU="${RLE_BENCH_REQUIRE_GPU:-1}" \
  timeout "${OURS_LIMIT_S:-300}" "$exe" --bench ${BENCH_FILTER:+"$BENCH_FILTER"} 2>&1 | tee "$OUT/ours-log.txt"
[ "${PIPESTATUS[0]}" -eq 0 ] || { echo "ours: FAILED or timed out" | tee -a "$OUT/ours-log.txt"; status=1; }

echo "=== PyTorch: scripts/bench_torch.py"
# shellcheck disable=SC2086
timeout "${TORCH_LIMIT_S:-220}" python3 scripts/bench_torch.py --out "$OUT/torch.json" ${TORCH_ARGS:-} 2>&1 \
  | tee "$OUT/torch-log.txt"
[ "${PIPESTATUS[0]}" -eq 0 ] || { echo "torch: FAILED or timed out" | tee -a "$OUT/torch-log.txt"; status=1; }

args=()
[ -f "$OUT/ours.json" ] && args+=(--ours "$OUT/ours.json")
[ -f "$OUT/torch.json" ] && args+=(--torch "$OUT/torch.json")
if [ "${#args[@]}" -gt 0 ]; then
  echo "=== merge"
  python3 scripts/bench_merge.py "${args[@]}" --out "$OUT/report.md" || status=1
  if python3 -c 'import matplotlib' 2>/dev/null; then
    python3 scripts/plot_bench.py "${args[@]}" --out "$OUT/bench.png" || status=1
  else
    echo "matplotlib not installed here: plot later with scripts/plot_bench.py"
  fi
else
  status=1
fi
exit "$status"
