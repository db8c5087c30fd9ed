#!/usr/bin/env bash
# The per-kernel benchmark on the GPU machine (benches/kernels.rs, built on the
# development machine by benches/build_for_gpu.sh). Run from the repository root:
#
#   bash benches/run_kernels_gpu.sh [BENCH_EXE]
#
# BENCH_EXE defaults to target/rle-bench/kernels, else gpu-bundle/bin/rle-bench-kernels.
# Writes into $OUT (required): kernels-log.txt, kernels.json (p50/p90/p99 per kernel and
# configuration) and criterion.tgz (criterion's saved results). Back on the development
# machine, the table with a column per kernel:
#
#   tar xzf <files_at>/criterion.tgz -C /tmp && cargo xtask bench-table \
#     --criterion /tmp/criterion --sum \
#     --groups gpu_select_roi,gpu_mask_count,gpu_mask_reserve,gpu_mask_write
#
# Timing defaults are shorter than e2e's (0.5 s warm-up, 1 s measurement per kernel and
# configuration: about 2 minutes in all); RLE_BENCH_* and BENCH_FILTER pass through.
# KERNELS_LIMIT_S [420] bounds the run. Exit status: 0 when the bench succeeded.

set -u -o pipefail
: "${OUT:?set OUT to the folder for the results}"
if [ -x target/rle-bench/kernels ]; then default_exe=target/rle-bench/kernels; else default_exe=gpu-bundle/bin/rle-bench-kernels; fi
exe="${1:-$default_exe}"
mkdir -p "$OUT"
home=/tmp/rle-kernels-criterion
rm -rf "$home"
echo "=== kernels: $exe ($(cat "$(dirname "$exe")/BUILD.txt" 2>/dev/null | head -1))"
CRITERION_HOME="$home/criterion" RLE_BENCH_OUT="$OUT" RLE_BENCH_REQUIRE_GPU="${RLE_BENCH_REQUIRE_GPU:-1}" \
  RLE_BENCH_WARMUP_S="${RLE_BENCH_WARMUP_S:-0.5}" RLE_BENCH_MEASURE_S="${RLE_BENCH_MEASURE_S:-1}" \
  timeout "${KERNELS_LIMIT_S:-420}" "$exe" --bench ${BENCH_FILTER:+"$BENCH_FILTER"} 2>&1 | tee "$OUT/kernels-log.txt"
status="${PIPESTATUS[0]}"
[ "$status" -eq 0 ] || echo "kernels: FAILED or timed out" | tee -a "$OUT/kernels-log.txt"
[ -d "$home/criterion" ] && tar czf "$OUT/criterion.tgz" -C "$home" criterion
exit "$status"
