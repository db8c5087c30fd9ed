#!/usr/bin/env python3
"""Print the tensor hashes of a few synth recipes (numpy only, no torch).

These recipes and hashes are the cross-language contract of the generator: the
Rust unit test in crates/rle-fixtures/src/synth/expected_hashes.rs regenerates
the same recipes and compares. After an intended change to scripts/synth.py (and
the same change in Rust), rewrite the committed file with

    python3 scripts/check_synth.py --write

The recipes exercise every mask mode and dtype, fills, NaN/±inf/subnormal
overrides, box overrides, non-square grids, the largest grid (192) and the
explicit kind.
"""

import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import cases  # noqa: E402
import synth  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                   "crates", "rle-fixtures", "src", "synth", "expected_hashes.json")


def every_feature(dtype):
    modes = ["auto", "single", "double", "elongated", "neg", "pos", "border"]
    return {
        "kind": "synth", "seed": 12345, "batch": 2, "queries": 9, "columns": 5, "mask_h": 13, "mask_w": 17,
        "mask_dtype": dtype, "background": [-3000, -500],
        "fills": [{"images": [0, 2], "queries": [2, 6], "columns": [1, 4], "range": [-300, 2000]},
                  {"images": [1, 5], "queries": [7, 99], "columns": [0, 99], "range": [4000, 4000]}],
        "logits": [{"image": 0, "query": 0, "column": 0, "logit": 17.0},
                   {"image": 0, "query": 1, "column": 2, "logit": "nan"},
                   {"image": 1, "query": 3, "column": 4, "logit": "inf"},
                   {"image": 1, "query": 4, "column": 1, "logit": "-inf"},
                   {"image": 1, "query": 5, "column": 3, "logit": 0.1}],
        "mask_modes": [{"image": i // 7, "query": i % 7 + (i // 7), "mode": m} for i, m in enumerate(modes * 2)],
        "mask_values": [{"image": 0, "query": 0, "y": 0, "x": 0, "value": "nan"},
                        {"image": 0, "query": 1, "y": 12, "x": 16, "value": "inf"},
                        {"image": 1, "query": 2, "y": 5, "x": 7, "value": "-inf"},
                        {"image": 1, "query": 3, "y": 6, "x": 8, "value": 1e-40},
                        {"image": 1, "query": 4, "y": 1, "x": 2, "value": 2.7182818}],
        "boxes": [{"image": 0, "query": 8, "cxcywh": [1.2, -0.25, "nan", 0.3]},
                  {"image": 1, "query": 0, "cxcywh": ["inf", "-inf", 0.5, 1.5]}],
    }


def recipes():
    return {
        "every_feature_f32": every_feature("f32"),
        "every_feature_f16": every_feature("f16"),
        "every_feature_bf16": every_feature("bf16"),
        "nano_shape": {"kind": "synth", "seed": 1, "batch": 1, "queries": 100, "columns": 91,
                       "mask_h": 78, "mask_w": 78},
        "grid_192_border": {"kind": "synth", "seed": 2 ** 52 - 1, "batch": 1, "queries": 12, "columns": 3,
                            "mask_h": 192, "mask_w": 192,
                            "mask_modes": [{"image": 0, "query": q, "mode": "border"} for q in range(0, 12, 3)]},
        "flat_grid_8x40": {"kind": "synth", "seed": 99, "batch": 3, "queries": 4, "columns": 2,
                           "mask_h": 8, "mask_w": 40, "mask_dtype": "bf16",
                           "mask_modes": [{"image": 1, "query": 1, "mode": "elongated"}]},
        "spec_4_4_explicit": cases.spec_example(),
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--write", action="store_true", help=f"write {os.path.relpath(OUT)}")
    ap.add_argument("--verify", metavar="FILE", help="check [{name, recipe, hashes}] written by Rust "
                    "(cargo run -p rle-fixtures --example dump_random)")
    a = ap.parse_args()
    if a.verify:
        bad = 0
        for e in json.load(open(a.verify)):
            h = synth.hashes(synth.generate(e["recipe"]))
            ok = h == e["hashes"]
            bad += not ok
            if not ok:
                print(f"MISMATCH {e['name']}: python {h} rust {e['hashes']}")
        print(f"verified {len(json.load(open(a.verify)))} recipes, {bad} mismatches")
        sys.exit(1 if bad else 0)
    out = []
    for name, r in recipes().items():
        h = synth.hashes(synth.generate(r))
        print(f"{name:22s} logits {h['logits'][:16]}  boxes {h['boxes'][:16]}  masks {h['masks'][:16]}")
        out.append({"name": name, "recipe": r, "hashes": h})
    if a.write:
        with open(OUT, "w") as f:
            json.dump(out, f, indent=1)
            f.write("\n")
        print("wrote", OUT)


if __name__ == "__main__":
    main()
