#!/usr/bin/env bash
# End-to-end A/B of two builds on one GPU machine: the criterion bench of an
# older commit (.device-run/ab/old-e2e) and of this one (.device-run/ab/new-e2e),
# alternating old, new, old, new so that drifts of the machine show as a
# spread instead of a change. Medians only (criterion's own output stays in
# /tmp). AB_FILTER narrows the configurations, AB_ROUNDS [2] repeats the pair.
#
# Layout (built here): `cargo bench --bench e2e --no-run` in a worktree of the
# older commit and in this checkout (or the bundle's rle-bench-e2e), the two
# executables copied to .device-run/ab/{old,new}-e2e; carry [".device-run"].
# AB_BENCH=kernels compares the per-kernel bench instead (`cargo bench --bench
# kernels --no-run`, copied to .device-run/ab/{old,new}-kernels; by default the
# count and write passes, whose spread between passes of one build stays below
# 1 %, where the end-to-end spread is a few per cent).
set -u -o pipefail
bench=${AB_BENCH:-e2e}
case $bench in
  e2e) F=${AB_FILTER:-'^gpu_(floor|e2e/(1920x1080_q100m78_d15_f32_b1|312x176.*|3840x2160.*|.*_d100_.*|.*q300.*|.*_b4))'} ;;
  kernels) F=${AB_FILTER:-'^gpu_mask_(count|write)/(1920x1080_q100m78_d15_f32_b1|312x176.*|3840x2160.*|.*_d100_.*|.*_b4)'} ;;
  *) echo "AB_BENCH must be e2e or kernels, got $bench" >&2; exit 2 ;;
esac
for i in $(seq ${AB_ROUNDS:-2}); do
  for r in old new; do
    echo "== $r (pass $i)"
    RLE_BENCH_MEASURE_S=${MEASURE_S:-0.3} RLE_BENCH_WARMUP_S=0.4 CRITERION_HOME=/tmp/crit-$bench-$r RLE_BENCH_REQUIRE_GPU=1 \
      RLE_BENCH_CPU=none timeout ${AB_LIMIT_S:-40} .device-run/ab/$r-$bench --bench "$F" 2>&1 \
      | grep -E "time:" -B1 | grep -vE "^--" | paste - - | awk '{print $1, $5}'
  done
done
