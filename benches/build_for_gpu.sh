#!/usr/bin/env bash
# Builds the criterion benches here (the GPU machine has no Rust) and puts the stripped
# executables at target/rle-bench/e2e and target/rle-bench/kernels (an ignored path,
# ~6 MB each: carry it to the GPU machine with `.whl`, then run benches/run_gpu.sh or
# benches/run_kernels_gpu.sh there; docs/BENCHMARKS.md has the commands).
# `cargo xtask gather-gpu` builds the same executables as gpu-bundle/bin/rle-bench-*,
# inside the full test bundle.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
mkdir -p target/rle-bench
cargo bench --bench e2e --bench kernels --no-run --message-format=json | python3 -c '
import json, shutil, sys
for m in map(json.loads, sys.stdin):
    if (m.get("reason") == "compiler-artifact" and m.get("executable")
            and m["target"]["kind"] == ["bench"] and m["target"]["name"] in ("e2e", "kernels")):
        shutil.copy(m["executable"], "target/rle-bench/" + m["target"]["name"])'
for exe in e2e kernels; do
  strip --strip-debug "target/rle-bench/$exe" 2>/dev/null || true
done
dirty="$(git status --porcelain --untracked-files=no 2>/dev/null | head -c1)"
{
  echo "commit: $(git rev-parse HEAD 2>/dev/null || echo unknown)${dirty:+ (with uncommitted changes)}"
  echo "built (UTC): $(date -u +%Y-%m-%dT%H:%M:%SZ) with $(rustc --version)"
} >target/rle-bench/BUILD.txt
ls -l target/rle-bench/e2e target/rle-bench/kernels
