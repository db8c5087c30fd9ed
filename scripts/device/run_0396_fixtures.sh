#!/usr/bin/env bash
# Layout: .device-run/bin/ holds the GPU test executables of `cargo xtask gather-gpu` (gpu-bundle/bin: rle-host-lib, rle-host-test-{host_validation,gpu_spec_example,gpu_random_smoke}, rle-test-gpu_{device_path,fixtures,random,faults,adversarial}), .device-run/fixtures a copy of fixtures/, .device-run/rle-bench-e2e the e2e bench; carry [".whl", ".device-run"] (.whl: GPU.md's inference-models wheels). The full bundle is over the 64 MiB carry limit.
# Device run: install the package wheels, regenerate fixtures with the package, run the Rust GPU tests.
set -u -o pipefail
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl && export PYTHONPATH=/tmp/site || exit 3
export PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee $OUT/gpu.txt
( cd scripts && timeout 280 python3 gen_fixtures.py --out /tmp/gen/fixtures --archive $OUT/fixtures.tar.gz ) > $OUT/gen.log 2>&1; echo "gen rc=$?" | tee -a $OUT/gen.log
grep -E "FINDING|differences|files," $OUT/gen.log | tail -40
export RLE_FIXTURES_DIR=$PWD/.device-run/fixtures
: > $OUT/gpu-tests.log
pass=0; fail=0
for e in .device-run/bin/*; do
  timeout 200 $e --include-ignored --test-threads 1 >> $OUT/gpu-tests.log 2>&1; rc=$?
  if [ $rc -eq 0 ]; then pass=$((pass+1)); else fail=$((fail+1)); echo "FAILED $(basename $e) rc=$rc"; fi
done
grep -E "^test result|passed|mismatch|gpu " $OUT/gpu-tests.log | grep -v "^test .* ok$" | tail -30
echo "RUST-GPU executables: $pass passed, $fail failed"
