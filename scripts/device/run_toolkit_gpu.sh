#!/usr/bin/env bash
# Issue 15 on the GPU machine: the mask kernel family's GPU test (under
# compute-sanitizer memcheck too), its per-kernel bench, and the RLE
# per-kernel bench (after the host-layer move, for comparison with
# docs/BENCHMARKS.md). Logs go to $OUT.
#
# Build the carried folder on the development machine, from the repository
# root (stable toolchain; ~20 MiB or less after strip):
#
#   cargo test --release --no-run --test gpu_mask_ops
#   cargo bench --no-run --bench mask_ops --bench kernels
#   rm -rf .device-run-15 && mkdir -p .device-run-15
#   cp "$(ls -t target/release/deps/gpu_mask_ops-* | grep -v '\.d$' | head -1)" .device-run-15/gpu_mask_ops
#   cp "$(ls -t target/release/deps/mask_ops-* | grep -v '\.d$' | head -1)" .device-run-15/bench_mask_ops
#   cp "$(ls -t target/release/deps/kernels-* | grep -v '\.d$' | head -1)" .device-run-15/bench_kernels
#   strip .device-run-15/*
#
# Then, on the GPU machine (device tool, carry [".device-run-15"]):
#
#   bash scripts/device/run_toolkit_gpu.sh
#
# Exit status: 0 when the GPU tests passed, 1 otherwise (benches are logged,
# their failures reported but not fatal).
set -u -o pipefail
cd "$(dirname "$0")/../.."
D=.device-run-15
OUT=${OUT:-/tmp/toolkit-out}
mkdir -p "$OUT"
# The test executables were built elsewhere: point them at this checkout's fixtures.
export RLE_FIXTURES_DIR=$PWD/fixtures
{ date -u; nvidia-smi --query-gpu=name,driver_version --format=csv,noheader; git rev-parse --short HEAD 2>/dev/null; } > "$OUT/env.txt" 2>&1
cat "$OUT/env.txt"

status=0
timeout 240 "$D/gpu_mask_ops" --include-ignored --test-threads 1 --nocapture > "$OUT/gpu-test.log" 2>&1
rc=$?; [ $rc -eq 0 ] || status=1
echo "gpu_mask_ops rc=$rc"; grep -E "^gpu mask ops|test result|panicked" "$OUT/gpu-test.log" | head -5

MASK_OPS_RANDOM_CASES=40 timeout 240 compute-sanitizer --tool memcheck "$D/gpu_mask_ops" --include-ignored --test-threads 1 > "$OUT/memcheck.log" 2>&1
rc=$?; [ $rc -eq 0 ] || status=1
echo "memcheck rc=$rc $(grep -E 'ERROR SUMMARY' "$OUT/memcheck.log" | tail -1)"

RLE_BENCH_REQUIRE_GPU=1 MASK_BENCH_MEASURE_S=1 timeout 150 "$D/bench_mask_ops" --bench > "$OUT/bench-mask-ops.log" 2>&1
echo "bench_mask_ops rc=$?"; grep -E "time:" -B1 "$OUT/bench-mask-ops.log" | grep -vE "^--" | paste - - | awk '{print $1, $3, $4, $5, $6, $7, $8}'

# The RLE kernels (centre configuration) after the toolkit move.
RLE_BENCH_REQUIRE_GPU=1 RLE_BENCH_CPU=none RLE_BENCH_MEASURE_S=1 RLE_BENCH_WARMUP_S=0.5 RLE_BENCH_OUT=$OUT \
  timeout 120 "$D/bench_kernels" --bench '^gpu_.*/1920x1080_q100m78_d15_f32_b1$' > "$OUT/bench-kernels.log" 2>&1
echo "bench_kernels rc=$?"; grep -E "time:" -B1 "$OUT/bench-kernels.log" | grep -vE "^--" | paste - - | awk '{print $1, $3, $4, $5, $6, $7, $8}'
exit $status
