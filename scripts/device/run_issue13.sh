#!/usr/bin/env bash
# Issue 13 on the GPU machine, one device call: every GPU test executable (in
# parallel), the four compute-sanitizer tools on the small GPU suites (in
# parallel with the tests), then — on an otherwise idle GPU — the end-to-end and
# per-kernel benches.
#
# Layout (built here, the GPU machine has no Rust): `cargo xtask gather-gpu`, then
#   mkdir -p .device-run/bin && cp gpu-bundle/bin/rle-host-lib \
#     gpu-bundle/bin/rle-host-test-{gpu_spec_example,gpu_random_smoke} \
#     gpu-bundle/bin/rle-test-gpu_{device_path,fixtures,random,faults,adversarial,submit} .device-run/bin/ \
#   && cp gpu-bundle/bin/rle-bench-{e2e,kernels} .device-run/ && cp -r fixtures .device-run/
# and carry [".device-run"]. Writes into $OUT: summary.txt, tests.tgz,
# sanitizer.txt (SAN=1), ours-log.txt, ours.json, kernels-log.txt, kernels.json, criterion.tgz.
set -u -o pipefail
: "${OUT:?}"
export RLE_FIXTURES_DIR=$PWD/.device-run/fixtures
logs=/tmp/i13-logs; rm -rf $logs; mkdir -p $logs
S=$OUT/summary.txt; : > $S
nvidia-smi --query-gpu=name,driver_version,clocks.max.sm --format=csv,noheader >> $S
date -u >> $S
# 1. Tests, all at once (independent processes, one GPU).
for e in .device-run/bin/*; do
  ( timeout ${TEST_LIMIT_S:-300} $e --include-ignored --test-threads 1 > $logs/$(basename $e).log 2>&1; echo $? > $logs/$(basename $e).rc ) &
done
# 2. Sanitizers on the small suites, alongside (SAN=0: none).
[ "${SAN:-1}" = 1 ] && ( for tool in memcheck racecheck initcheck synccheck; do
    for e in rle-host-test-gpu_spec_example rle-host-test-gpu_random_smoke rle-test-gpu_adversarial; do
      ( timeout ${SAN_LIMIT_S:-280} compute-sanitizer --tool $tool .device-run/bin/$e --include-ignored --test-threads 1 > $logs/san-$tool-$e.log 2>&1
        echo "$tool $e rc=$? $(grep -E 'ERROR SUMMARY|RACECHECK SUMMARY' $logs/san-$tool-$e.log | tail -1) $(grep -E '^test result' $logs/san-$tool-$e.log | tail -1)" >> $OUT/sanitizer.txt ) &
    done
  done; wait ) &
wait
pass=0; fail=0
for e in .device-run/bin/*; do
  n=$(basename $e); rc=$(cat $logs/$n.rc)
  r=$(grep -E '^test result' $logs/$n.log | awk '{p+=$4; f+=$6; i+=$8} END {print p" passed, "f" failed, "i" ignored"}')
  echo "$n rc=$rc: $r" >> $S
  if [ "$rc" = 0 ]; then pass=$((pass+1)); else fail=$((fail+1)); fi
done
echo "GPU test executables: $pass passed, $fail failed" >> $S
grep -hE "gpu fixtures|random frames|adversarial" $logs/*.log | head -8 >> $S
[ -f $OUT/sanitizer.txt ] && sort $OUT/sanitizer.txt -o $OUT/sanitizer.txt
cat $S $OUT/sanitizer.txt 2>/dev/null
# 3. Benches on the idle GPU.
RLE_BENCH_MEASURE_S=${MEASURE_S:-1} RLE_BENCH_WARMUP_S=0.5 RLE_BENCH_OUT=$OUT/ours.json \
  timeout ${E2E_LIMIT_S:-120} .device-run/rle-bench-e2e --bench '^gpu_e2e/|gpu_floor' > $OUT/ours-log.txt 2>&1
echo "e2e bench rc=$?"
grep -E "time:" -B1 $OUT/ours-log.txt | grep -vE "^--" | paste - - | awk '{print $1, $3, $4, $5, $6, $7, $8}' | head -16
# The reserve step as its own launch, for comparison (SEPARATE=1).
if [ "${SEPARATE:-0}" = 1 ]; then
  RLE_BENCH_SEPARATE_RESERVE=1 RLE_BENCH_MEASURE_S=${MEASURE_S:-1} RLE_BENCH_WARMUP_S=0.5 RLE_BENCH_OUT=$logs/ours-separate.json \
    timeout ${E2E_LIMIT_S:-120} .device-run/rle-bench-e2e --bench '^gpu_e2e/' > $logs/ours-separate-log.txt 2>&1
  echo "e2e bench (separate reserve) rc=$?"
  grep -E "time:" -B1 $logs/ours-separate-log.txt | grep -vE "^--" | paste - - | awk '{print $1, $3, $4, $5, $6, $7, $8}' | head -16
fi
[ "${KERNELS:-1}" = 1 ] && OUT=$OUT KERNELS_LIMIT_S=${KERNELS_LIMIT_S:-200} bash benches/run_kernels_gpu.sh .device-run/rle-bench-kernels > /dev/null 2>&1
echo "kernels bench rc=$?"
grep -E "time:" -B1 $OUT/kernels-log.txt 2>/dev/null | grep -vE "^--" | paste - - | awk '{print $1, $5}' | grep -E '1920x1080_q100m78_d15_f32_b1' | head; true
tar czf $OUT/tests.tgz -C /tmp i13-logs
