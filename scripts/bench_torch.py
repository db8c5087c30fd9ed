#!/usr/bin/env python3
"""PyTorch baseline of the end-to-end benchmark (`benches/e2e.rs`), per frame as a user sees it.

The same configurations (same names), the same input tensors bit for bit (the Python twin of
`rle_fixtures::frame_case` below, on `synth.py`, checked through the tensor hashes that both
sides write), the same rotation over batches and device copies, and the same nearest-rank
percentiles as the Rust bench. A frame is: inputs already on the GPU -> SPEC §2 with the
oracle's own step functions (`oracle.select`, `boxes_xyxy`, `crop_masks`, `resize_one`) ->
detections with COCO RLE strings on the host (pycocotools), `torch.cuda.synchronize()`
included. Two deliberate differences from `oracle.image_result`, both in PyTorch's favour:
the masks of an image are resized in one batched call (`--per-detection` restores the
oracle's loop), and they are encoded by one pycocotools call on a column-major array
produced on the GPU, without the oracle's second, pure-Python encoding used as a cross-check.

On the GPU machine (pycocotools from .whl/, see scripts/READY_FOR_DEVICE):

    python3 scripts/bench_torch.py --out $OUT/torch.json

Dry run without a GPU (timings meaningless; checks the inputs against a Rust run):

    python3 scripts/bench_torch.py --device cpu --only 312x176 --out /tmp/torch.json
    python3 scripts/bench_torch.py --inputs-only --check ours.json

Runtime: about 7 s per configuration (1 s warm-up, 6 s or 20 frames of measurement) plus
input generation; about 2 minutes for the 11 configurations.
"""

import argparse
import json
import math
import os
import platform
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402
import torch  # noqa: E402

import meta as M  # noqa: E402
import oracle  # noqa: E402
import package_oracle  # noqa: E402
import rle  # noqa: E402
import synth  # noqa: E402

# (queries, columns, mask side, input resolution) of rle_fixtures::Model.
NANO = (100, 91, 78, 312)
MEDIUM = (200, 91, 108, 432)
XLARGE = (300, 91, 156, 624)
TAG_FRAME = 0x300  # rle_fixtures::synth::frame TAG_FRAME
DISTINCT = 8  # benches/support/inputs.rs DISTINCT
MAX_SLOTS = 256  # benches/support/inputs.rs MAX_SLOTS
CENTRE = {"frame": (1080, 1920), "model": NANO, "detections": 15, "dtype": "f32", "batch": 1}


def configs():
    """(axis, config) in the order of benches/support/configs.rs `all()`."""
    out = [("centre", CENTRE)]
    out += [("frame", dict(CENTRE, frame=f)) for f in ((176, 312), (720, 1280), (2160, 3840))]
    out += [("model", dict(CENTRE, model=m)) for m in (MEDIUM, XLARGE)]
    out += [("detections", dict(CENTRE, detections=d)) for d in (1, 50, 100)]
    out += [("dtype", dict(CENTRE, dtype="f16")), ("batch", dict(CENTRE, batch=4))]
    return out


def config_name(c):
    """`{W}x{H}_q{Q}m{M}_d{D}_{dtype}_b{B}`, as BenchConfig::name."""
    (h, w), (q, _, m, _) = c["frame"], c["model"]
    return f"{w}x{h}_q{q}m{m}_d{c['detections']}_{c['dtype']}_b{c['batch']}"


def params(c):
    (h, w), (q, _, m, res) = c["frame"], c["model"]
    return {"frame_w": w, "frame_h": h, "queries": q, "mask": m, "resolution": res,
            "detections": c["detections"], "dtype": c["dtype"], "batch": c["batch"]}


def frame_case(seed, model, frame, detections, dtype):
    """Twin of rle_fixtures::frame_case: (recipe, metas, options) of one frame."""
    q, c, m, res = model
    k = synth.key(seed, TAG_FRAME)
    r = {"kind": "synth", "seed": synth.mix_int(k) >> 12, "batch": 1, "queries": q, "columns": c,
         "mask_h": m, "mask_w": m, "mask_dtype": dtype, "logits": []}
    queries = list(range(q))
    for i in range(min(detections, q)):
        j = synth.uniform_int(k, 1 + 3 * i, i, q - 1)
        queries[i], queries[j] = queries[j], queries[i]
        column = synth.uniform_int(k, 2 + 3 * i, 0, c - 2)
        logit = synth.uniform_int(k, 3 + 3 * i, 32, 512) / 64.0
        r["logits"].append({"image": 0, "query": queries[i], "column": column, "logit": logit})
    opts = {"threshold": {"Scalar": 0.4}, "num_classes": c - 1, "class_mapping": None,
            "max_detections": 300, "resize": "Antialiased"}
    return r, [M.stretch(frame, (res, res))], opts


def batch_input(cfg, slot):
    """Batch `slot`: the frames of seeds slot*B .. slot*B+B-1 stacked (inputs.rs batch_input)."""
    parts, metas, opts = [], [], None
    for i in range(cfg["batch"]):
        r, m, opts = frame_case(slot * cfg["batch"] + i, cfg["model"], cfg["frame"],
                                cfg["detections"], cfg["dtype"])
        parts.append(synth.generate(r))
        metas += m
    t = {k: np.concatenate([p[k] for p in parts], axis=0) for k in ("logits", "boxes", "masks")}
    t["mask_dtype"] = cfg["dtype"]
    return t, metas, opts


def nbytes(t):
    return sum(t[k].nbytes for k in ("logits", "boxes", "masks"))


def rotation_slots(bytes_per_batch, rotate_bytes):
    """inputs.rs rotation_slots: ceil(rotate / bytes) clamped to [DISTINCT, MAX_SLOTS]."""
    return min(max(-(-rotate_bytes // max(bytes_per_batch, 1)), DISTINCT), MAX_SLOTS)


def identity(t, metas, opts):
    """Input::identity: what the merge compares between the two sides."""
    return {"hashes": synth.hashes(t), "meta0": metas[0], "options": opts}


def make_encoder():
    """(name, encode) where encode maps an H×W×n Fortran uint8 array to n RLE dicts."""
    try:
        from pycocotools import mask as mask_util
    except ImportError:
        print("warning: pycocotools missing; encoding with the slow pure-Python port "
              "(PyTorch times are then not a fair baseline)", file=sys.stderr)

        def port(hwn):
            return [{"size": list(hwn.shape[:2]),
                     "counts": rle.rle_to_string(rle.counts_of(hwn[:, :, i]))}
                    for i in range(hwn.shape[2])]
        return "python-port", port
    return "pycocotools", mask_util.encode


def image_detections(logits, boxes, masks, meta, opts, encode, per_detection):
    """SPEC §2 for one image with the oracle's steps; detections on the host."""
    s, oc, qq, _ = oracle.select(torch.sigmoid(logits), opts)
    n = s.numel()
    if n == 0:
        return []
    xyxy = oracle.boxes_xyxy(boxes[qq], meta)
    g = oracle.crop_masks(masks[qq], meta)
    sz = meta["size_after_pre_processing"]
    hs, ws = sz["height"], sz["width"]
    if per_detection:
        m = torch.cat([oracle.resize_one(g[i:i + 1], hs, ws, opts["resize"]) for i in range(n)]) > 0
    else:
        m = oracle.resize_one(g, hs, ws, opts["resize"]) > 0
    o = meta["original_size"]
    ox, oy = meta["static_crop"]["offset_x"], meta["static_crop"]["offset_y"]
    if ox > 0 or oy > 0:
        canvas = torch.zeros((n, o["height"], o["width"]), dtype=torch.bool, device=m.device)
        canvas[:, oy:oy + hs, ox:ox + ws] = m
        m = canvas
    # Column-major per mask on the GPU, so the host array is already H×W×n in Fortran order.
    hwn = m.transpose(1, 2).contiguous().cpu().numpy().transpose(2, 1, 0).view(np.uint8)
    rles = encode(hwn)
    scores, classes, boxes_l = s.tolist(), oc.tolist(), xyxy.tolist()
    return [{"class_id": classes[i], "score": scores[i], "xyxy": boxes_l[i], "rle": rles[i]}
            for i in range(n)]


def run_frame(slot, metas, opts, encode, per_detection, sync, path="own"):
    logits, boxes, masks = slot
    if path == "rle-gpu":
        # package_call calls common.post_process_..., which install() replaced.
        path = "package-torch"
    if path != "own":
        # The released package's own function (SPEC §10), as its users call it.
        out = package_oracle.package_call(logits, boxes, masks, metas, opts, logits.device,
                                          triton=(path == "package-triton"))
        sync()
        return [list(range(len(d.confidence))) for d in out]
    out = [image_detections(logits[b], boxes[b], masks[b], metas[b], opts, encode, per_detection)
           for b in range(len(metas))]
    sync()
    return out


def stats(samples_s):
    """Nearest-rank percentiles in µs (recorder.rs Stats::of)."""
    us = sorted(x * 1e6 for x in samples_s)
    n = len(us)
    if n == 0:
        return None
    rank = lambda q: us[min(max(math.ceil(q * n), 1), n) - 1]  # noqa: E731
    return {"n": n, "p50_us": rank(0.50), "p90_us": rank(0.90), "p99_us": rank(0.99),
            "mean_us": sum(us) / n, "min_us": us[0], "max_us": us[-1]}


def bench_config(axis, cfg, a, device, encode, sync):
    t0 = time.perf_counter()
    inputs = [batch_input(cfg, s) for s in range(DISTINCT)]
    n_slots = rotation_slots(nbytes(inputs[0][0]), int(a.rotate_mib * (1 << 20)))
    first = [oracle.to_device(t, device) for t, _, _ in inputs]
    slots = [first[k] if k < DISTINCT else tuple(x.clone() for x in first[k % DISTINCT])
             for k in range(n_slots)]
    ident = identity(*inputs[0])
    sync()
    setup_s = time.perf_counter() - t0

    def frame(k):
        i = k % n_slots
        _, metas, opts = inputs[i % DISTINCT]
        if a.factor != 1.0:
            opts = dict(opts, masks_resolution_factor=a.factor)
        return run_frame(slots[i], metas, opts, encode, a.per_detection, sync, a.path)

    detections = sum(len(d) for d in frame(0))
    k, w = 1, 0
    end = time.perf_counter() + a.warmup_s
    while w < 3 or time.perf_counter() < end:
        frame(k)
        k, w = k + 1, w + 1
    samples = []
    end = time.perf_counter() + a.measure_s
    while len(samples) < a.max_iters and (len(samples) < a.min_iters or time.perf_counter() < end):
        t = time.perf_counter()
        frame(k)
        samples.append(time.perf_counter() - t)
        k += 1
    name = config_name(cfg)
    want = min(cfg["detections"], cfg["model"][0]) * cfg["batch"]
    if detections != want:
        print(f"warning: torch_e2e/{name}: {detections} detections, the configuration asks for {want}",
              file=sys.stderr)
    group = {"own": "torch_e2e", "package-torch": "pkg_torch_e2e", "package-triton": "pkg_triton_e2e",
             "rle-gpu": "rle_py_e2e"}[a.path]
    if a.factor != 1.0:
        name += f"_f{a.factor}"
    return {"id": f"{group}/{name}", "group": group, "config": name, "axis": axis,
            "params": params(cfg), "slots": n_slots, "distinct": DISTINCT, "detections": detections,
            "input": ident, "setup_s": setup_s, "stats": stats(samples)}


def environment(device, encoder):
    env = {"python": platform.python_version(), "torch": torch.__version__, "numpy": np.__version__,
           "encoder": encoder, "host_cpu": platform.processor() or platform.machine()}
    try:
        import torchvision
        env["torchvision"] = torchvision.__version__
    except ImportError:
        env["torchvision"] = None
    try:
        import pycocotools  # noqa: F401
    except ImportError:
        env["pycocotools"] = None
    else:
        import importlib.metadata
        try:
            env["pycocotools"] = importlib.metadata.version("pycocotools")
        except importlib.metadata.PackageNotFoundError:
            env["pycocotools"] = "unknown version"
    env["cuda"] = torch.version.cuda
    dev = None
    if device.type == "cuda":
        p = torch.cuda.get_device_properties(device)
        dev = {"name": p.name, "compute_capability": [p.major, p.minor],
               "multiprocessors": p.multi_processor_count, "cuda": torch.version.cuda}
    return env, dev


def check_inputs(path, chosen):
    """Compares this side's input identities with those of a Rust results file."""
    ours = {r["config"]: r for r in json.load(open(path))["results"] if r.get("input")}
    bad = 0
    for axis, cfg in chosen:
        name = config_name(cfg)
        if name not in ours:
            print(f"{name:36s} not in {path}")
            continue
        same = identity(*batch_input(cfg, 0)) == ours[name]["input"]
        bad += not same
        print(f"{name:36s} {'identical' if same else 'DIFFERENT'}")
    return bad


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", help="results JSON (written after every configuration)")
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--only", help="regex on configuration names")
    ap.add_argument("--warmup-s", type=float, default=1.0)
    ap.add_argument("--measure-s", type=float, default=6.0)
    ap.add_argument("--min-iters", type=int, default=20)
    ap.add_argument("--max-iters", type=int, default=2000)
    ap.add_argument("--rotate-mib", type=float, default=128.0, help="as RLE_BENCH_ROTATE_MIB")
    ap.add_argument("--path", choices=("own", "package-torch", "package-triton", "rle-gpu"), default="own",
                    help="own: our step functions; package-*: inference-models' function, torch or Triton path; "
                         "rle-gpu: the same call with rle_gpu.inference_models installed (the Python drop-in)")
    ap.add_argument("--factor", type=float, default=1.0, help="masks_resolution_factor (package paths)")
    ap.add_argument("--per-detection", action="store_true", help="resize each detection on its own, as oracle.py")
    ap.add_argument("--inputs-only", action="store_true", help="generate inputs and print their identity; no timing")
    ap.add_argument("--check", metavar="OURS_JSON", help="with --inputs-only: compare with the Rust bench's inputs")
    a = ap.parse_args()

    chosen = [(ax, c) for ax, c in configs() if not a.only or re.search(a.only, config_name(c))]
    if a.path == "rle-gpu":
        # The user's one line: the package's own call, now served by rle_gpu.
        import rle_gpu.inference_models
        print("rle_gpu drop-in installed into", rle_gpu.inference_models.install(), file=sys.stderr)
    if a.inputs_only:
        if a.check:
            sys.exit(1 if check_inputs(a.check, chosen) else 0)
        for ax, c in chosen:
            print(json.dumps({"config": config_name(c), "input": identity(*batch_input(c, 0))}))
        return

    device = torch.device(a.device)
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    if device.type != "cuda":
        print("warning: not on CUDA: a dry run, the times mean nothing", file=sys.stderr)
    encoder, encode = make_encoder()
    env, dev = environment(device, encoder)
    doc = {"schema": "rle-bench/1", "source": "torch", "bench": "scripts/bench_torch.py",
           "device": dev, "host_cpu": env.pop("host_cpu"), "versions": env,
           "settings": {"warm_up_s": a.warmup_s, "measurement_s": a.measure_s, "min_iters": a.min_iters,
                        "max_iters": a.max_iters, "rotate_mib": a.rotate_mib, "distinct_batches": DISTINCT,
                        "per_detection_resize": a.per_detection, "torch_device": str(device)},
           "floor": None, "results": []}
    t0 = time.perf_counter()
    for axis, cfg in chosen:
        r = bench_config(axis, cfg, a, device, encode, sync)
        doc["results"].append(r)
        s = r["stats"]
        print(f"{r['id']:52s} p50 {s['p50_us']:10.1f} µs  p90 {s['p90_us']:10.1f} µs  "
              f"p99 {s['p99_us']:10.1f} µs  (n = {s['n']}, setup {r['setup_s']:.1f} s)", flush=True)
        if a.out:
            os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
            with open(a.out, "w") as f:
                json.dump(doc, f, indent=1)
                f.write("\n")
    print(f"{len(chosen)} configurations in {time.perf_counter() - t0:.0f} s"
          + (f"; wrote {a.out}" if a.out else ""))


if __name__ == "__main__":
    main()
