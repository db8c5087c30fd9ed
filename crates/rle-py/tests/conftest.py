"""Shared helpers of the Python tests: the repository's fixtures (regenerated
from their recipes by scripts/synth.py, hashes checked), random frames, and
result comparison. GPU tests are marked ``gpu`` and skipped, with the reason,
where no CUDA GPU and torch are available."""

import json
import math
import os
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "scripts"))

import meta as M  # noqa: E402
import synth  # noqa: E402


def fixture_cases():
    """Every committed case: (name, tensors, metas, options dict, expected images)."""
    out = []
    for p in sorted((ROOT / "fixtures" / "cases").glob("*.json")):
        case = json.loads(p.read_text())
        out.append(case)
    assert len(out) >= 50, "the fixture set is missing"
    return out


def tensors(case):
    t = synth.generate(case["recipe"])
    assert synth.hashes(t) == case["hashes"], f"{case['name']}: regenerated tensors differ"
    return t


def mask_dtype_name(d):
    return {"f32": "float32", "f16": "float16", "bf16": "bfloat16"}[d]


def host_masks(t):
    """The masks as rle_gpu takes host arrays: float32, float16, or uint16 bits of bf16."""
    return t["masks"]


def run_kwargs(opts):
    thr = opts["threshold"]
    return dict(
        threshold=thr["Scalar"] if "Scalar" in thr else list(thr["PerClass"]),
        num_classes=opts["num_classes"],
        class_mapping=opts.get("class_mapping"),
        max_detections=opts.get("max_detections"),
        masks_resolution_factor=opts.get("masks_resolution_factor", 1.0),
        resize=opts["resize"].lower(),
    )


# The CPU sigmoid is within this many ulp of CUDA's (SPEC §9 Q1;
# rle_reference::sigmoid::SIGMOID_TOLERANCE_ULP). GPU results must match exactly.
CPU_SCORE_ULP = 4


def ulp(a_bits, b_bits):
    def ordered(b):
        return b if b < 0x80000000 else 0x80000000 - b
    return abs(ordered(a_bits) - ordered(b_bits))


def assert_matches_expected(name, got, images, score_ulp=0):
    """Our ImageResult list against a fixture's expected records: bit for bit,
    scores within ``score_ulp`` (0 on the GPU)."""
    assert len(got) == len(images), name
    for b, (r, want) in enumerate(zip(got, images)):
        where = f"{name} image {b}"
        assert list(r.image_size) == want["image_size"], where
        assert list(r.mask_size) == want["mask_size"], where
        dets = want["detections"]
        assert len(r) == len(dets), f"{where}: {len(r)} detections, expected {len(dets)}"
        for i, d in enumerate(dets):
            assert int(r.class_id[i]) == d["class_id"], f"{where} det {i}"
            bits = int(r.confidence[i:i + 1].view(np.uint32)[0])
            assert ulp(bits, d["score_bits"]) <= score_ulp, f"{where} det {i}: score bits {bits:#x} vs {d['score_bits']:#x}"
            if "xyxy_bits" in d:
                assert r.xyxy.dtype == np.float32, where
                assert r.xyxy[i].view(np.uint32).tolist() == d["xyxy_bits"], f"{where} det {i}"
            else:
                assert r.xyxy.dtype == np.int32, where
                assert r.xyxy[i].tolist() == d["xyxy"], f"{where} det {i}"
            assert r.counts[i].decode() == d["counts"], f"{where} det {i}"
            assert int(r.query[i]) == d["query"] and int(r.column[i]) == d["column"], f"{where} det {i}"


def assert_same_results(a, b, where=""):
    """Two ImageResult lists, bit for bit."""
    assert len(a) == len(b), where
    for i, (x, y) in enumerate(zip(a, b)):
        w = f"{where} image {i}"
        assert x.image_size == y.image_size and x.mask_size == y.mask_size, w
        assert x.xyxy.dtype == y.xyxy.dtype and x.xyxy.shape == y.xyxy.shape, w
        assert x.xyxy.tobytes() == y.xyxy.tobytes(), w
        assert x.confidence.tobytes() == y.confidence.tobytes(), w
        assert x.class_id.tobytes() == y.class_id.tobytes(), w
        assert x.counts == y.counts, w
        assert x.query.tobytes() == y.query.tobytes() and x.column.tobytes() == y.column.tobytes(), w


def random_frame(rng, dtype=None):
    """A random frame: tensors with blob-shaped masks, metadata of a random
    pre-processing, random options. Never all zeros, usually detections."""
    b = int(rng.integers(1, 3))
    q = int(rng.choice([10, 30, 100, 300]))
    c = int(rng.integers(2, 12))
    mh = mw = int(rng.choice([16, 28, 40]))
    logits = rng.normal(-2.0, 3.0, (b, q, c)).astype(np.float32)
    cx, cy = rng.uniform(0.05, 0.95, (2, b, q))
    w, h = rng.uniform(0.05, 0.6, (2, b, q))
    boxes = np.stack([cx, cy, w, h], -1).astype(np.float32)
    yy, xx = np.mgrid[0:mh, 0:mw]
    masks = np.empty((b, q, mh, mw), np.float32)
    for i in range(b):
        for j in range(q):
            r = ((xx - cx[i, j] * mw) / (w[i, j] * mw / 2 + 1)) ** 2 + ((yy - cy[i, j] * mh) / (h[i, j] * mh / 2 + 1)) ** 2
            masks[i, j] = (1.0 - r) * 4 + rng.normal(0, 0.7, (mh, mw))
    dtype = dtype or rng.choice(["float32", "float16", "bfloat16"])
    if dtype == "float16":
        masks_in = masks.astype(np.float16)
    elif dtype == "bfloat16":
        masks_in = (masks.view(np.uint32) >> 16).astype(np.uint16)
    else:
        masks_in = masks
    orig = (int(rng.integers(60, 400)), int(rng.integers(60, 400)))
    side = mh * 4
    kind = rng.integers(0, 3)
    if kind == 0:
        m = M.stretch(orig, (side, side))
    elif kind == 1:
        m = M.letterbox(orig, (side, side), (side, side))
    else:
        crop = (int(orig[1] * 0.1), int(orig[0] * 0.2), int(orig[1] * 0.9), int(orig[0] * 0.95))
        m = M.stretch(orig, (side, side), crop=crop)
    metas = [m] * b
    per_class = rng.random() < 0.3
    mapping = [int(v) for v in rng.integers(-1, c, c)] if rng.random() < 0.3 else None
    factor = float(rng.choice([1.0, 1.0, 0.5, 0.0, float(rng.uniform(0, 1))]))
    kwargs = dict(
        threshold=[float(v) for v in rng.uniform(0.05, 0.8, c)] if per_class else float(rng.uniform(0.05, 0.8)),
        num_classes=c - 1,
        class_mapping=mapping,
        max_detections=int(rng.choice([5, 300])) if rng.random() < 0.5 else None,
        masks_resolution_factor=factor,
        resize=str(rng.choice(["antialiased", "bilinear"])) if factor == 1.0 else "antialiased",
    )
    return logits, boxes, masks_in, dtype, metas, kwargs


def torch_cuda():
    """torch with a usable CUDA device and the rle_gpu driver, or None."""
    try:
        import torch
    except ImportError:
        return None
    import rle_gpu

    if not (torch.cuda.is_available() and rle_gpu.driver_present()):
        return None
    return torch


gpu = pytest.mark.skipif(torch_cuda() is None, reason="needs torch with a CUDA GPU (run on the GPU machine)")
