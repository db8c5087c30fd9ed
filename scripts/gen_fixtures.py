#!/usr/bin/env python3
"""Generate the fixtures under fixtures/ (see fixtures/MANIFEST.md) from the released
inference-models package on CUDA (its torch path), cross-checked against our own
transcription scripts/oracle.py, which alone serves the cases the package cannot run
(plain bilinear, the legacy canvas rule).

On the GPU machine (the oracle; torch + torchvision on CUDA, pycocotools from .whl/):

    python3 -m pip install -q --no-index --no-deps --target /tmp/site .whl/*.whl \
      && export PYTHONPATH=/tmp/site \
      && python3 scripts/gen_fixtures.py --out /tmp/gen/fixtures --archive $OUT/fixtures.tar.gz
    # back here: tar xzf <files_at>/fixtures.tar.gz -C /work/main   (replaces fixtures/...)

Dry run on a CPU (different bits, never commit the output):

    python3 scripts/gen_fixtures.py --device cpu --out /tmp/fixtures-dry

Writes `<out>/cases/<name>.json`, `<out>/sigmoid.json`, `<out>/resize_raw.json`
and one archive (`--archive`, default `<out>.tar.gz`) holding all of them with
paths relative to `<out>`'s parent. Only a few files come back from the device
machine, so the device command writes the folder to /tmp and the archive to
$OUT. Refuses to write a CPU run into the repository's fixtures/ unless
--allow-cpu-into-repo.
"""

import argparse
import json
import os
import platform
import sys
import tarfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torchvision  # noqa: E402

import cases  # noqa: E402
import oracle  # noqa: E402
import package_oracle  # noqa: E402
import raw_fixtures  # noqa: E402
import rle  # noqa: E402
import synth  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def provenance(device):
    try:
        from importlib.metadata import version
        im = version("inference-models")
    except Exception:  # noqa: BLE001 - the dry run may have no package
        im = None
    p = {"inference_models": im, "torch": torch.__version__, "torchvision": torchvision.__version__, "numpy": np.__version__,
         "python": platform.python_version(), "device": str(device)}
    if device.type == "cuda":
        p["gpu"] = torch.cuda.get_device_name(device)
        p["cuda"] = torch.version.cuda
    try:
        import pycocotools
        p["pycocotools"] = getattr(pycocotools, "__version__", "unknown")
    except ImportError:
        p["pycocotools"] = None
    return p


def dump(path, obj, compact=False):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        if compact:
            json.dump(obj, f, separators=(",", ":"))
        else:
            json.dump(obj, f, indent=1, ensure_ascii=False)
        f.write("\n")


PACKAGE_FIELDS = ("class_id", "score_bits", "xyxy", "xyxy_bits", "mask_size", "counts")


def merge(pkg, own):
    """The package's records with (query, column, logit_bits) from our oracle.

    Returns (images, differences). Where the two agree on everything the package
    reports, our record is taken whole; where they differ, the package wins (its
    fields replace ours) and the difference is reported (docs/SPEC-NOTES.md)."""
    images, diffs = [], []
    for b, (p, o) in enumerate(zip(pkg, own)):
        for k in ("image_size", "mask_size"):
            if list(p[k]) != list(o[k]):
                diffs.append(f"image {b}: {k} package {p[k]} vs ours {o[k]}")
        if len(p["detections"]) != len(o["detections"]):
            diffs.append(f"image {b}: {len(p['detections'])} detections vs ours {len(o['detections'])}")
        dets = []
        for i, pd in enumerate(p["detections"]):
            od = o["detections"][i] if i < len(o["detections"]) else {"query": 0, "column": 0, "logit_bits": 0}
            for k in PACKAGE_FIELDS:
                if pd.get(k) != od.get(k):
                    diffs.append(f"image {b} det {i}: {k} package {pd.get(k)} vs ours {od.get(k)}")
            d = dict(od)
            for k in PACKAGE_FIELDS + ("xyxy_approx",):
                d.pop(k, None)
                if k in pd:
                    d[k] = pd[k]
            dets.append(d)
        images.append({"image_size": list(p["image_size"]), "mask_size": list(p["mask_size"]),
                       "boxes": p["boxes"], "detections": dets})
    return images, diffs


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True, help="output folder (e.g. fixtures or $OUT/fixtures)")
    ap.add_argument("--device", default="cuda", help="torch device (the oracle is cuda)")
    ap.add_argument("--only", nargs="*", help="case names to run (default: all)")
    ap.add_argument("--archive", help="where to write the .tar.gz (default: <out>.tar.gz)")
    ap.add_argument("--allow-cpu-into-repo", action="store_true")
    ap.add_argument("--random", type=int, default=0,
                    help="instead of the named cases, N random cases (cases.random_cases) for a GPU sweep")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--own-oracle", action="store_true",
                    help="use scripts/oracle.py only (no inference-models; dry runs)")
    a = ap.parse_args()

    device = torch.device(a.device)
    out = os.path.abspath(a.out)
    if device.type != "cuda" and out.startswith(os.path.join(REPO, "fixtures")) and not a.allow_cpu_into_repo:
        sys.exit("refusing to write CPU (non-oracle) output into the repository's fixtures/")
    if mask_missing := (oracle.mask_util is None):
        print("warning: pycocotools missing, RLE strings checked only by the own port", file=sys.stderr)
    if device.type == "cuda" and mask_missing:
        sys.exit("pycocotools is required for the committed fixtures (see GPU.md)")

    rle.self_test()
    prov = provenance(device)
    t0 = time.time()
    written = []
    findings = []
    for c in (cases.random_cases(a.random, a.seed) if a.random else cases.all_cases()):
        if a.only and c["name"] not in a.only:
            continue
        t1 = time.time()
        tensors = synth.generate(c["recipe"])
        try:
            own = oracle.run_case(tensors, c["metas"], c["options"], device)
        except Exception as e:  # noqa: BLE001 - only random sweeps may hit torch's own refusals
            if not a.random:
                raise
            print(f"skipped {c['name']}: torch refused it ({type(e).__name__}: {e})", flush=True)
            continue
        o = c["options"]
        if o["resize"] == "Antialiased" and o.get("canvas", "Current") == "Current" and not a.own_oracle:
            logits, boxes, masks = oracle.to_device(tensors, device)
            pkg = package_oracle.run_case(logits, boxes, masks, c["metas"], o, device)
            images, diffs = merge(pkg, own)
            source = "inference-models torch path (query/column from scripts/oracle.py)"
            for d in diffs:
                print(f"FINDING {c['name']}: {d}", flush=True)
                findings.append(f"{c['name']}: {d}")
        else:
            images = own
            source = "scripts/oracle.py (the package has no entry point for this case)"
        rec = dict(c, hashes=synth.hashes(tensors), images=images, provenance=dict(prov, oracle=source))
        path = os.path.join(out, "cases", c["name"] + ".json")
        dump(path, rec)
        written.append(path)
        ndet = sum(len(im["detections"]) for im in images)
        print(f"{c['name']:34s} {ndet:3d} detections  {time.time() - t1:6.2f}s", flush=True)

    if not a.only and not a.random:
        for name, fn in (("sigmoid.json", raw_fixtures.sigmoid_fixture), ("resize_raw.json", raw_fixtures.resize_fixture)):
            path = os.path.join(out, name)
            dump(path, fn(device, prov), compact=(name == "resize_raw.json"))
            written.append(path)

    archive = a.archive or out.rstrip("/") + ".tar.gz"
    os.makedirs(os.path.dirname(os.path.abspath(archive)), exist_ok=True)
    with tarfile.open(archive, "w:gz") as tar:
        for p in written:
            tar.add(p, arcname=os.path.relpath(p, os.path.dirname(out)))
    size = sum(os.path.getsize(p) for p in written)
    print(f"package vs scripts/oracle.py: {len(findings)} differences")
    print(f"{len(written)} files, {size / 1e6:.2f} MB, archive {archive}, {time.time() - t0:.1f}s total")


if __name__ == "__main__":
    main()
