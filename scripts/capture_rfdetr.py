#!/usr/bin/env python3
"""Capture real RF-DETR segmentation outputs as `rle` frames.

For each image this runs the model once and writes `<out>/<NNNNNN>_<stem>.npz`
(arrays `logits` B×Q×C f32, `boxes` B×Q×4 f32, `masks` B×Q×Mh×Mw f32/f16, or
bf16 bits as uint16) and its sidecar `<out>/<NNNNNN>_<stem>.json` with the
stretch pre-processing metadata, computed here exactly as the Roboflow
pre-processing computes it (docs/FRAME_FORMAT.md describes the format).
Post-process the frames with `rle run --frames <out> --out results.json`.

Models:
  *.onnx                 ONNX Runtime (CUDA provider when available); outputs named
                         dets/labels/masks as rf-detr exports them, else recognised by shape.
  --rfdetr-class NAME    a checkpoint loaded with the rfdetr package,
                         e.g. --rfdetr-class RFDETRSegNano (MODEL is its pretrain_weights).
  anything else          torch: TorchScript (torch.jit.load) or a pickled nn.Module
                         (torch.load); the module returns a dict with pred_logits,
                         pred_boxes, pred_masks or a tuple (boxes, logits, masks).

Pre-processing follows rfdetr's `predict`: RGB, [0, 1], normalise with the
ImageNet mean/std, stretch (no aspect ratio kept) to the square inference size.

Examples:
  python scripts/capture_rfdetr.py rf-detr-seg-nano.onnx img/*.jpg --out frames/
  python scripts/capture_rfdetr.py rf-detr-seg-nano.pth --rfdetr-class RFDETRSegNano \\
      val2017/*.jpg --out frames/ --coco-gt instances_val2017.json
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import NoReturn

import numpy as np

FORMAT_VERSION = 1
MEANS = np.array([0.485, 0.456, 0.406], dtype=np.float32)
STDS = np.array([0.229, 0.224, 0.225], dtype=np.float32)


def fail(msg: str) -> NoReturn:
    print(f"error: {msg}", file=sys.stderr)
    sys.exit(1)


# ---------------------------------------------------------------- metadata


def stretch_meta(height: int, width: int, res_h: int, res_w: int) -> dict:
    """SPEC §1.3 metadata of a plain stretch to the inference size: no static crop,
    no pads, `scale = D / S` per axis as Python doubles (what the pre-processing records)."""
    return {
        "original_size": [height, width],
        "static_crop_offset": [0, 0, width, height],
        "size_after_pre_processing": [height, width],
        "inference_size": [res_h, res_w],
        "pad_left": 0,
        "pad_top": 0,
        "pad_right": 0,
        "pad_bottom": 0,
        "scale_width": res_w / width,
        "scale_height": res_h / height,
    }


# ---------------------------------------------------------------- images


def load_rgb(path: Path):
    from PIL import Image

    with Image.open(path) as im:
        # No EXIF rotation: rfdetr's predict and COCO annotations use the stored pixels.
        return np.asarray(im.convert("RGB"))


def preprocess_numpy(rgb: np.ndarray, res_h: int, res_w: int) -> np.ndarray:
    """1×3×R×R float32 input without torch: PIL bilinear resize, then normalise."""
    from PIL import Image

    resized = Image.fromarray(rgb).resize((res_w, res_h), Image.BILINEAR)
    x = np.asarray(resized, dtype=np.float32) / 255.0
    x = (x - MEANS) / STDS
    return np.ascontiguousarray(x.transpose(2, 0, 1)[None])


def preprocess_torch(rgb: np.ndarray, res_h: int, res_w: int, device):
    """rfdetr's own order: to_tensor, normalise, resize (antialiased, on tensors)."""
    import torch
    import torchvision.transforms.functional as F

    t = torch.from_numpy(rgb.copy()).permute(2, 0, 1).float().div(255.0).to(device)
    t = F.normalize(t, MEANS.tolist(), STDS.tolist())
    t = F.resize(t, [res_h, res_w])
    return t[None]


# ---------------------------------------------------------------- models


def pick_outputs(named: dict, where: str):
    """(logits, boxes, masks) from a dict of arrays, by rf-detr's names or by shape."""
    for keys in (("labels", "dets", "masks"), ("pred_logits", "pred_boxes", "pred_masks")):
        if all(k in named for k in keys):
            return tuple(named[k] for k in keys)
    arrays = list(named.values())
    masks = [a for a in arrays if a.ndim == 4]
    boxes = [a for a in arrays if a.ndim == 3 and a.shape[-1] == 4]
    logits = [a for a in arrays if a.ndim == 3 and a.shape[-1] != 4]
    if len(masks) == 1 and len(boxes) == 1 and len(logits) == 1:
        return logits[0], boxes[0], masks[0]
    shapes = {k: tuple(v.shape) for k, v in named.items()}
    fail(f"{where}: cannot tell logits, boxes and masks apart in the outputs {shapes}; "
         "expected dets/labels/masks (rf-detr's ONNX export) or one B×Q×4, one B×Q×C and one B×Q×Mh×Mw")


class OnnxModel:
    def __init__(self, path: Path, resolution: int | None):
        try:
            import onnxruntime as ort
        except ImportError:
            fail("onnxruntime is not installed (pip install onnxruntime-gpu or onnxruntime)")
        providers = [p for p in ("CUDAExecutionProvider", "CPUExecutionProvider") if p in ort.get_available_providers()]
        self.session = ort.InferenceSession(str(path), providers=providers)
        inp = self.session.get_inputs()[0]
        self.input_name = inp.name
        h, w = inp.shape[2], inp.shape[3]
        if isinstance(h, int) and isinstance(w, int):
            self.res = (h, w)
        elif resolution:
            self.res = (resolution, resolution)
        else:
            fail(f"{path}: the input size is dynamic ({inp.shape}); give --resolution")
        self.where = str(path)
        self.describe = f"onnxruntime {ort.__version__} {self.session.get_providers()[0]} ({path.name})"

    def __call__(self, rgb: np.ndarray):
        x = preprocess_numpy(rgb, *self.res)
        names = [o.name for o in self.session.get_outputs()]
        outs = self.session.run(None, {self.input_name: x})
        return pick_outputs(dict(zip(names, outs)), self.where)


class TorchModel:
    def __init__(self, path: Path, rfdetr_class: str | None, resolution: int | None, device: str | None):
        import torch

        self.torch = torch
        self.device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
        if rfdetr_class:
            try:
                import rfdetr
            except ImportError:
                fail("--rfdetr-class needs the rfdetr package (pip install rfdetr)")
            cls = getattr(rfdetr, rfdetr_class, None)
            if cls is None:
                fail(f"--rfdetr-class: rfdetr has no class {rfdetr_class!r}")
            wrapper = cls(pretrain_weights=str(path), device=self.device.type)
            self.module = wrapper.model.model
            res = resolution or wrapper.model.resolution
            self.describe = f"rfdetr {getattr(rfdetr, '__version__', '?')} {rfdetr_class} ({path.name})"
        else:
            try:
                self.module = torch.jit.load(str(path), map_location=self.device)
                kind = "TorchScript"
            except Exception:  # not TorchScript: a pickled module
                self.module = torch.load(str(path), map_location=self.device, weights_only=False)
                kind = "pickled module"
            if not callable(self.module):
                fail(f"{path}: torch.load gave a {type(self.module).__name__}, not a module "
                     "(a state dict needs --rfdetr-class)")
            res = resolution
            self.describe = f"torch {torch.__version__} {kind} ({path.name})"
        if not res:
            fail(f"{path}: give --resolution (the square inference size, e.g. 312 for seg-nano)")
        self.res = (res, res)
        self.module.eval()
        self.module.to(self.device)
        self.where = str(path)
        self.describe += f" on {self.device}"

    def __call__(self, rgb: np.ndarray):
        x = preprocess_torch(rgb, *self.res, self.device)
        with self.torch.no_grad():
            out = self.module(x)
        if isinstance(out, (tuple, list)):
            if len(out) < 3:
                fail(f"{self.where}: the model returned {len(out)} outputs; a segmentation model returns 3")
            out = {"dets": out[0], "labels": out[1], "masks": out[2]}
        named = {k: v.detach().cpu().float().numpy() if v.dtype == self.torch.bfloat16 else v.detach().cpu().numpy()
                 for k, v in out.items() if hasattr(v, "detach")}
        return pick_outputs(named, self.where)


# ---------------------------------------------------------------- writing


def to_bf16_bits(a: np.ndarray) -> np.ndarray:
    """float32 → bfloat16 bit patterns, round to nearest even (as torch's .bfloat16())."""
    bits = np.ascontiguousarray(a, dtype=np.float32).view(np.uint32)
    rounded = (bits + 0x7FFF + ((bits >> 16) & 1)) >> 16
    out = rounded.astype(np.uint16)
    out[np.isnan(a)] = 0x7FC0
    return out


def masks_as(masks: np.ndarray, dtype: str | None):
    """The masks in the requested dtype and the sidecar's mask_dtype."""
    if dtype is None:
        dtype = "f16" if masks.dtype == np.float16 else "f32"
    if dtype == "f32":
        return masks.astype(np.float32, copy=False), "f32"
    if dtype == "f16":
        return masks.astype(np.float16), "f16"
    return to_bf16_bits(masks.astype(np.float32)), "bf16"


def sidecar_text(sidecar: dict) -> str:
    """One top-level field per line and one image per line (Python's repr of a float
    is the shortest text that reads back as the same double, so scales stay exact)."""
    fields = []
    for key, value in sidecar.items():
        if key == "images":
            images = ",\n".join("    " + json.dumps(im) for im in value)
            fields.append(f'  "images": [\n{images}\n  ]')
        else:
            fields.append(f"  {json.dumps(key)}: {json.dumps(value)}")
    return "{\n" + ",\n".join(fields) + "\n}\n"


def save_frame(out_dir: Path, stem: str, logits, boxes, masks, sidecar: dict) -> None:
    """Writes stem.npz and stem.json, each through a temporary file and a rename."""
    npz_tmp = out_dir / f".{stem}.npz.partial"
    with open(npz_tmp, "wb") as f:
        np.savez_compressed(f, logits=logits, boxes=boxes, masks=masks)
    npz_tmp.replace(out_dir / f"{stem}.npz")
    json_tmp = out_dir / f".{stem}.json.partial"
    json_tmp.write_text(sidecar_text(sidecar))
    json_tmp.replace(out_dir / f"{stem}.json")


def coco_ids(path: Path) -> dict:
    data = json.loads(path.read_text())
    return {Path(im["file_name"]).name: int(im["id"]) for im in data.get("images", [])}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("model", type=Path, help="model file: .onnx, a TorchScript/pickled module, or an rfdetr checkpoint")
    p.add_argument("images", type=Path, nargs="+", help="input images")
    p.add_argument("--out", type=Path, required=True, help="directory for the frames")
    p.add_argument("--rfdetr-class", help="load MODEL with this rfdetr class, e.g. RFDETRSegNano")
    p.add_argument("--resolution", type=int, help="square inference size when the model does not declare it")
    p.add_argument("--device", help="torch device (default: cuda when available)")
    p.add_argument("--mask-dtype", choices=["f32", "f16", "bf16"], help="store masks in this dtype (default: as produced)")
    p.add_argument("--first-image-id", type=int, default=1, help="image_id of the first image (then +1 each)")
    p.add_argument("--coco-gt", type=Path, help="COCO annotations: take image_ids from it, matched by file name")
    p.add_argument("--category-ids", type=Path, help="JSON list: COCO category_id of each output class id")
    p.add_argument("--threshold", type=float, help="default threshold stored in the sidecars")
    p.add_argument("--num-classes", type=int, help="number of named classes stored in the sidecars (default C - 1)")
    args = p.parse_args(argv)

    for img in args.images:
        if not img.is_file():
            fail(f"{img}: no such image")
    if args.model.suffix.lower() == ".onnx":
        model = OnnxModel(args.model, args.resolution)
    else:
        model = TorchModel(args.model, args.rfdetr_class, args.resolution, args.device)
    ids = coco_ids(args.coco_gt) if args.coco_gt else None
    category_ids = json.loads(args.category_ids.read_text()) if args.category_ids else None
    args.out.mkdir(parents=True, exist_ok=True)

    options = {}
    if args.threshold is not None:
        options["threshold"] = args.threshold
    if args.num_classes is not None:
        options["num_classes"] = args.num_classes
    started = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    for n, img in enumerate(args.images):
        rgb = load_rgb(img)
        h, w = rgb.shape[:2]
        logits, boxes, masks = model(rgb)
        if logits.dtype != np.float32 or boxes.dtype != np.float32:
            logits, boxes = logits.astype(np.float32), boxes.astype(np.float32)
        masks, mask_dtype = masks_as(masks, args.mask_dtype)
        if ids is not None:
            if img.name not in ids:
                fail(f"{img}: not among the images of {args.coco_gt}")
            image_id = ids[img.name]
        else:
            image_id = args.first_image_id + n
        sidecar = {
            "format_version": FORMAT_VERSION,
            "info": {"source": "scripts/capture_rfdetr.py", "model": model.describe, "captured": started},
            "mask_dtype": mask_dtype,
            "images": [{"image_id": image_id, "file_name": img.name, **stretch_meta(h, w, *model.res)}],
        }
        if category_ids is not None:
            sidecar["category_ids"] = category_ids
        if options:
            sidecar["options"] = options
        stem = f"{n:06d}_{img.stem}"
        save_frame(args.out, stem, logits, boxes, masks, sidecar)
        q, c = logits.shape[1], logits.shape[2]
        print(f"{stem}: {w}×{h} → Q={q}, C={c}, masks {masks.shape[2]}×{masks.shape[3]} {mask_dtype}")
    print(f"wrote {len(args.images)} frame(s) to {args.out}; next: rle run --frames {args.out} --out results.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
