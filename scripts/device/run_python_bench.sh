#!/usr/bin/env bash
# Device run: Python-level latency per call (issue #12 §3), same process kind, same CUDA
# tensors and configurations (scripts/bench_torch.py, the configurations of
# docs/BENCHMARKS.md): the package's torch path, its Triton path, and the same call with
# rle_gpu.inference_models installed. carry [".whl"] (see run_python_gpu.sh).
set -u -o pipefail
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl \
  && export PYTHONPATH=/tmp/site || exit 3
export PYTHONUNBUFFERED=1
M=${MEASURE_S:-2}
for p in rle-gpu package-torch package-triton; do
  timeout ${PATH_S:-170} python3 scripts/bench_torch.py --path $p --measure-s $M --warmup-s 0.5 --min-iters 20 \
    --out $OUT/py_$p.json > $OUT/py_$p.log 2>&1; echo "$p rc=$?"
done
python3 - <<'PY'
import json, os
out = os.environ["OUT"]
rows = {}
for p in ("rle-gpu", "package-torch", "package-triton"):
    try:
        for r in json.load(open(f"{out}/py_{p}.json"))["results"]:
            rows.setdefault(r["config"], {})[p] = r["stats"]["p50_us"] / 1e3
    except Exception as e:  # noqa: BLE001
        print(p, "no results:", e)
print(f"{'config':38s} {'rle_gpu':>9s} {'torch':>9s} {'triton':>9s}   (ms per call, median)")
for c, v in rows.items():
    f = lambda k: f"{v[k]:9.3f}" if k in v else f"{'-':>9s}"
    print(f"{c:38s} {f('rle-gpu')} {f('package-torch')} {f('package-triton')}")
PY
