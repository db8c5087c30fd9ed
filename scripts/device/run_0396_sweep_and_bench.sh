#!/usr/bin/env bash
# Layout: .device-run/bin/ holds the GPU test executables of `cargo xtask gather-gpu` (gpu-bundle/bin: rle-host-lib, rle-host-test-{host_validation,gpu_spec_example,gpu_random_smoke}, rle-test-gpu_{device_path,fixtures,random,faults,adversarial}), .device-run/fixtures a copy of fixtures/, .device-run/rle-bench-e2e the e2e bench; carry [".whl", ".device-run"] (.whl: GPU.md's inference-models wheels). The full bundle is over the 64 MiB carry limit.
# Device run 2: package-vs-GPU random sweep, GPU suite on the new fixtures, memcheck, benches.
set -u -o pipefail
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl && export PYTHONPATH=/tmp/site || exit 3
export PYTHONUNBUFFERED=1
( cd scripts && timeout 230 python3 gen_fixtures.py --random ${SWEEP_N:-2000} --seed 20261202 --out /tmp/sweep/fixtures --archive /tmp/sweep.tgz > $OUT/sweep-gen.log 2>&1 ) &
gen=$!
export RLE_FIXTURES_DIR=$PWD/.device-run/fixtures
: > $OUT/gpu-tests.log; pass=0; fail=0
for e in .device-run/bin/*; do
  timeout 200 $e --include-ignored --test-threads 1 >> $OUT/gpu-tests.log 2>&1; rc=$?
  if [ $rc -eq 0 ]; then pass=$((pass+1)); else fail=$((fail+1)); echo "FAILED $(basename $e) rc=$rc"; fi
done
grep -E "^gpu |fixtures:|random" $OUT/gpu-tests.log | tail -12
echo "RUST-GPU executables: $pass passed, $fail failed"
for e in rle-host-test-gpu_spec_example rle-host-test-gpu_random_smoke rle-test-gpu_adversarial; do
  timeout 90 compute-sanitizer --tool memcheck .device-run/bin/$e --include-ignored --test-threads 1 > /tmp/mc.log 2>&1; echo "memcheck $e rc=$? $(grep -E 'ERROR SUMMARY' /tmp/mc.log | tail -1)"
done | tee $OUT/memcheck.txt
wait $gen; echo "sweep gen rc=$?"; grep -cE "detections" $OUT/sweep-gen.log; grep -E "skipped|FINDING|differences" $OUT/sweep-gen.log | head -5
cp .device-run/fixtures/sigmoid.json /tmp/sweep/fixtures/ 2>/dev/null
RLE_FIXTURES_DIR=/tmp/sweep/fixtures timeout 150 .device-run/bin/rle-test-gpu_fixtures --include-ignored --test-threads 1 gpu_reproduces_every > $OUT/sweep-test.log 2>&1; echo "sweep test rc=$?"; grep -E "gpu fixtures|test result|mismatch" $OUT/sweep-test.log | head -5; grep -E "image 0" $OUT/sweep-test.log | head -3 | cut -c1-300
RLE_BENCH_MEASURE_S=1 RLE_BENCH_WARMUP_S=0.5 RLE_BENCH_OUT=$OUT/ours.json timeout 100 .device-run/rle-bench-e2e --bench '^gpu_e2e/|gpu_floor' > $OUT/ours-log.txt 2>&1; echo "ours bench rc=$?"; grep -E "time:" -B1 $OUT/ours-log.txt | grep -vE "^--" | paste - - | awk '{print $1, $3, $4, $5, $6, $7, $8}' | head -14
for p in package-torch package-triton; do timeout 75 python3 scripts/bench_torch.py --path $p --warmup-s 0.3 --measure-s 1.0 --min-iters 5 --out $OUT/$p.json 2>&1 | grep -E "p50|configurations" ; done
timeout 40 python3 scripts/bench_torch.py --path package-torch --factor 0.5 --only '1920x1080_q100m78_d15_f32_b1|3840' --warmup-s 0.3 --measure-s 1.0 --min-iters 5 --out $OUT/pkg-f05.json 2>&1 | grep p50
