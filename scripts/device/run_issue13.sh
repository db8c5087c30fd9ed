#!/usr/bin/env bash
# Issues 13 and 15 on the GPU machine, one device call: every GPU test executable
# (in parallel), the four compute-sanitizer tools on the small GPU suites (in
# parallel with the tests, or after them with SAN_AFTER=1; SAN=0 skips them,
# SAN_TOOLS and SAN_EXES choose), ptxas's register and spill report of
# the committed PTX (Triton's ptxas), then — on an otherwise idle GPU — the
# end-to-end, mask-family and per-kernel benches (KERNELS=0 skips the last;
# BENCH_FILTER narrows it; UNIFORM_OFF=1 adds the e2e and count benches with
# uniform groups off; SWEEP, other bench settings), after an optional Nsight Compute pass (NCU=1). TEST_LIMIT_S, SAN_LIMIT_S, E2E_LIMIT_S, MEASURE_S bound the
# steps.
#
# Layout (built here, the GPU machine has no Rust): `cargo xtask gather-gpu`, then
#   mkdir -p .device-run/bin && cp gpu-bundle/bin/rle-host-lib \
#     gpu-bundle/bin/rle-host-test-{gpu_spec_example,gpu_random_smoke} \
#     gpu-bundle/bin/rle-test-gpu_{device_path,fixtures,random,faults,adversarial,submit,mask_ops} .device-run/bin/ \
#   && cp gpu-bundle/bin/rle-bench-{e2e,kernels,mask_ops} gpu-bundle/bin/rle .device-run/ && cp -r fixtures .device-run/
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
# gpu_faults takes nearly all free device memory on purpose (its allocation
# failure test): beside it, other tests' allocations and context creations
# failed with CUDA_ERROR_OUT_OF_MEMORY (the flakes of earlier runs), so it runs
# alone once the others are done.
run_test() { timeout ${TEST_LIMIT_S:-300} $1 --include-ignored --test-threads 1 --nocapture > $logs/$(basename $1).log 2>&1; echo $? > $logs/$(basename $1).rc; }
for e in .device-run/bin/*; do
  case $e in *gpu_faults) continue ;; esac
  run_test $e &
done
# 2. Sanitizers on the small suites (SAN=0: none): one process per tool (more
# at once made a sanitizer report "device not supported"); racecheck skips
# gpu_random_smoke, which it cannot finish in the time. Alongside the tests by
# default, started SAN_DELAY_S after them, or once the tests are done with
# SAN_AFTER=1 (longer: the tests' ~140 s plus racecheck's ~160 s). The
# CUDA_ERROR_OUT_OF_MEMORY failures first blamed on the sanitizers were
# gpu_faults' memory hog (above).
sanitizers() {
  for tool in ${SAN_TOOLS:-memcheck racecheck initcheck synccheck}; do
    ( for e in ${SAN_EXES:-rle-host-test-gpu_spec_example rle-host-test-gpu_random_smoke rle-test-gpu_adversarial rle-test-gpu_mask_ops}; do
        [ $tool = racecheck ] && [ $e = rle-host-test-gpu_random_smoke ] && continue
        MASK_OPS_RANDOM_CASES=40 RLE_ADVERSARIAL_CONFIGS=2 timeout ${SAN_LIMIT_S:-280} compute-sanitizer --tool $tool .device-run/bin/$e --include-ignored --test-threads 1 > $logs/san-$tool-$e.log 2>&1
        echo "$tool $e rc=$? $(grep -E 'ERROR SUMMARY|RACECHECK SUMMARY' $logs/san-$tool-$e.log | tail -1) $(grep -E '^test result' $logs/san-$tool-$e.log | tail -1)" >> $OUT/sanitizer.txt
      done ) &
  done
}
if [ "${SAN:-1}" = 1 ] && [ "${SAN_AFTER:-0}" != 1 ]; then
  sleep ${SAN_DELAY_S:-20}
  sanitizers
fi
# ptxas's view of the committed PTX (registers, spills), from Triton's copy.
P=$(python3 -c "import triton,os;print(os.path.join(os.path.dirname(triton.__file__),'backends','nvidia','bin','ptxas'))" 2>/dev/null)
[ -x "$P" ] && "$P" -arch=sm_90 -v crates/rle-host/ptx/rle_kernels.ptx -o /dev/null > $logs/ptxas.txt 2>&1
wait
for e in .device-run/bin/*gpu_faults; do [ -x $e ] && run_test $e; done
if [ "${SAN:-1}" = 1 ] && [ "${SAN_AFTER:-0}" = 1 ]; then
  sanitizers
  wait
fi
pass=0; fail=0
for e in .device-run/bin/*; do
  n=$(basename $e); rc=$(cat $logs/$n.rc)
  r=$(grep -E '^test result' $logs/$n.log | awk '{p+=$4; f+=$6; i+=$8} END {print p" passed, "f" failed, "i" ignored"}')
  echo "$n rc=$rc: $r" >> $S
  if [ "$rc" = 0 ]; then pass=$((pass+1)); else fail=$((fail+1)); fi
done
echo "GPU test executables: $pass passed, $fail failed" >> $S
grep -ohE "gpu (fixtures|random|adversarial): .*" $logs/*.log | cut -c1-800 | head -8 >> $S
grep -A3 -E "Compiling entry function '(rle_select_roi|rle_mask_count|rle_mask_write)'" $logs/ptxas.txt 2>/dev/null | grep -E "entry|registers|spill" >> $S
[ -f $OUT/sanitizer.txt ] && sort $OUT/sanitizer.txt -o $OUT/sanitizer.txt
cat $S $OUT/sanitizer.txt 2>/dev/null
# 3. NCU=1: Nsight Compute's view of the demo frame's kernels on the idle GPU
# (scripts/device/profile_ncu.sh: its report files go into tests.tgz, the
# headline metrics into summary.txt).
if [ "${NCU:-0}" = 1 ] && [ -x .device-run/rle ]; then
  OUT=$logs bash scripts/device/profile_ncu.sh > $logs/ncu.txt 2>&1
  grep -E '^ncu rc=' $logs/ncu.txt >> $S
  grep -E '^  rle_|Duration|Achieved Occupancy|Theoretical Occupancy|Registers Per|Warp Cycles Per Issued|Issued Warp Per|No Eligible|Compute \(SM\) Throughput|Memory Throughput' /tmp/ncu/details.txt >> $S
fi
# 4. Benches on the idle GPU.
RLE_BENCH_MEASURE_S=${MEASURE_S:-1} RLE_BENCH_WARMUP_S=0.5 RLE_BENCH_OUT=$OUT/ours.json \
  timeout ${E2E_LIMIT_S:-120} .device-run/rle-bench-e2e --bench '^gpu_e2e/|gpu_floor' > $OUT/ours-log.txt 2>&1
echo "e2e bench rc=$?"
grep -E "time:" -B1 $OUT/ours-log.txt | grep -vE "^--" | paste - - | awk '{print $1, $3, $4, $5, $6, $7, $8}' | head -16
# UNIFORM_OFF=1: the same configurations (OFF_FILTER narrows them) and the count
# pass alone with uniform groups off (RLE_BENCH_UNIFORM=0), for the comparison
# in one run; logs and JSON in tests.tgz, medians in the output.
if [ "${UNIFORM_OFF:-0}" = 1 ]; then
  RLE_BENCH_UNIFORM=0 RLE_BENCH_MEASURE_S=${MEASURE_S:-1} RLE_BENCH_WARMUP_S=0.5 RLE_BENCH_OUT=$logs/ours-off.json \
    timeout ${E2E_LIMIT_S:-120} .device-run/rle-bench-e2e --bench "^gpu_e2e/(${OFF_FILTER:-.*})" > $logs/ours-off-log.txt 2>&1
  echo "e2e bench, uniform groups off rc=$?"
  grep -E "time:" -B1 $logs/ours-off-log.txt | grep -vE "^--" | paste - - | awk '{print $1, $3, $4, $5, $6, $7, $8}' | head -16
  CRITERION_HOME=/tmp/rle-off-criterion RLE_BENCH_UNIFORM=0 RLE_BENCH_REQUIRE_GPU=1 RLE_BENCH_MEASURE_S=${MEASURE_S:-1} \
    RLE_BENCH_WARMUP_S=0.5 RLE_BENCH_OUT=$logs/kernels-off timeout ${E2E_LIMIT_S:-120} .device-run/rle-bench-kernels \
    --bench "gpu_mask_count/(${OFF_FILTER:-.*})" > $logs/kernels-off-log.txt 2>&1
  echo "count bench, uniform groups off rc=$?"
  grep -E "time:" -B1 $logs/kernels-off-log.txt | grep -vE "^--" | paste - - | awk '{print $1, $5}' | head -8
fi
# SWEEP="RLE_BENCH_CHUNK_PIXELS=4096 RLE_BENCH_ITEM_BUDGET=1024+RLE_BENCH_STORE_BYTES=2048":
# the same configurations (OFF_FILTER) once per setting, each a '+'-joined
# list of benches/support's variables (to choose defaults from measurements).
n=0
for a in ${SWEEP:-}; do
  n=$((n+1))
  env ${a//+/ } RLE_BENCH_MEASURE_S=${MEASURE_S:-1} RLE_BENCH_WARMUP_S=0.5 RLE_BENCH_OUT=$logs/ours-sweep$n.json \
    timeout ${E2E_LIMIT_S:-120} .device-run/rle-bench-e2e --bench "^gpu_e2e/(${OFF_FILTER:-.*})" > $logs/ours-sweep$n-log.txt 2>&1
  echo "e2e bench, $a rc=$?"
  grep -E "time:" -B1 $logs/ours-sweep$n-log.txt | grep -vE "^--" | paste - - | awk '{print $1, $3, $4, $5, $6, $7, $8}' | head -16
done
# The mask family's per-kernel bench (issue 15).
if [ -x .device-run/rle-bench-mask_ops ]; then
  RLE_BENCH_REQUIRE_GPU=1 MASK_BENCH_MEASURE_S=1 timeout 150 .device-run/rle-bench-mask_ops --bench > $logs/bench-mask-ops.log 2>&1
  echo "mask_ops bench rc=$?"
  grep -E "time:" -B1 $logs/bench-mask-ops.log | grep -vE "^--" | paste - - | awk '{print $1, $3, $4, $5, $6, $7, $8}'
fi
[ "${KERNELS:-1}" = 1 ] && OUT=$OUT KERNELS_LIMIT_S=${KERNELS_LIMIT_S:-200} bash benches/run_kernels_gpu.sh .device-run/rle-bench-kernels > /dev/null 2>&1
echo "kernels bench rc=$?"
grep -E "time:" -B1 $OUT/kernels-log.txt 2>/dev/null | grep -vE "^--" | paste - - | awk '{print $1, $5}' | grep -E '1920x1080_q100m78_d15_f32_b1' | head; true
tar czf $OUT/tests.tgz -C /tmp i13-logs
