#!/usr/bin/env bash
# Device run of the Python package (issue #12): install the wheels of .whl/ (the released
# inference-models 0.39.6 and its import needs, pytest, and rle_gpu built here by
# `maturin build --release --compatibility linux -o .whl` in crates/rle-py), then run the
# Python tests on the GPU (pytest; the drop-in against the package's torch path on every
# fixture and RLE_PY_SWEEP random frames) and the Rust GPU test executables of
# .device-run/bin (built here, see run_0396_fixtures.sh). carry [".whl", ".device-run"].
set -u -o pipefail
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl \
  && export PYTHONPATH=/tmp/site || exit 3
export PYTHONUNBUFFERED=1 RLE_PY_SWEEP=${RLE_PY_SWEEP:-2000}
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee $OUT/gpu.txt
python3 -c "import torch, rle_gpu; print('torch', torch.__version__, 'rle_gpu', rle_gpu.__version__, rle_gpu.Postprocessor(0).device)" | tee -a $OUT/gpu.txt
timeout ${PYTEST_S:-330} python3 -m pytest -q -rs -p no:cacheprovider -s crates/rle-py/tests > $OUT/pytest.log 2>&1
echo "pytest rc=$?" | tee -a $OUT/pytest.log
grep -E "^(FAILED|ERROR)|gpu python|dropin|passed|failed" $OUT/pytest.log | tail -25
if [ "${RUST:-1}" = 1 ]; then
  export RLE_FIXTURES_DIR=$PWD/.device-run/fixtures
  : > $OUT/rust-gpu.log; pass=0; fail=0
  for e in .device-run/bin/*; do
    timeout 150 $e --include-ignored --test-threads 1 >> $OUT/rust-gpu.log 2>&1; rc=$?
    if [ $rc -eq 0 ]; then pass=$((pass+1)); else fail=$((fail+1)); echo "FAILED $(basename $e) rc=$rc"; fi
  done
  grep -E "^test result|gpu submit|gpu half" $OUT/rust-gpu.log | tail -20
  echo "RUST-GPU executables: $pass passed, $fail failed"
fi
