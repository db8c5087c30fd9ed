#!/usr/bin/env bash
# Builds the end-to-end bench here (the GPU machine has no Rust) and puts the stripped
# executable at target/rle-bench/e2e (an ignored path, ~6 MB: carry it to the GPU machine
# with `.whl`, then run benches/run_gpu.sh there; docs/BENCHMARKS.md has the commands).
# `cargo xtask gather-gpu` builds the same executable as gpu-bundle/bin/rle-bench-e2e,
# inside the full test bundle.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
exe="$(cargo bench --bench e2e --no-run --message-format=json | python3 -c '
import json, sys
exes = [m["executable"] for m in map(json.loads, sys.stdin)
        if m.get("reason") == "compiler-artifact" and m.get("executable")
        and m["target"]["kind"] == ["bench"] and m["target"]["name"] == "e2e"]
print(exes[-1])')"
mkdir -p target/rle-bench
cp "$exe" target/rle-bench/e2e
strip --strip-debug target/rle-bench/e2e 2>/dev/null || true
dirty="$(git status --porcelain --untracked-files=no 2>/dev/null | head -c1)"
{
  echo "commit: $(git rev-parse HEAD 2>/dev/null || echo unknown)${dirty:+ (with uncommitted changes)}"
  echo "built (UTC): $(date -u +%Y-%m-%dT%H:%M:%SZ) with $(rustc --version)"
} >target/rle-bench/BUILD.txt
ls -l target/rle-bench/e2e
