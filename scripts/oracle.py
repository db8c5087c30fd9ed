"""The PyTorch oracle: SPEC.md §2 written as plain torch operations on a device.

Written from the specification, not copied from roboflow/inference. Every step
that SPEC.md pins down as "a separate float32 tensor op" is one here (the box
chain divides by a 4-element float32 tensor, rounds with `torch.round`, converts
with `.to(torch.int32)`), the mask pads use Python doubles and `round`, and the
resize is torchvision's `resize(..., antialias=True)` per detection (or plain
`F.interpolate` bilinear). Run on CUDA it is the oracle; on the CPU it is only a
dry run (different sigmoid and resize bits, SPEC §3.9).
"""

import numpy as np
import torch
import torch.nn.functional as F
import torchvision.transforms.functional as TF
from torchvision.transforms import InterpolationMode

import rle

try:  # only the committed fixtures need it; the dry run can go without
    from pycocotools import mask as mask_util
except ImportError:  # pragma: no cover
    mask_util = None

TORCH_DTYPE = {"f32": torch.float32, "f16": torch.float16, "bf16": torch.bfloat16}


def to_device(t, device):
    """numpy tensors from synth.generate -> torch tensors on `device`."""
    logits = torch.from_numpy(np.ascontiguousarray(t["logits"])).to(device)
    boxes = torch.from_numpy(np.ascontiguousarray(t["boxes"])).to(device)
    m = np.ascontiguousarray(t["masks"])
    if t["mask_dtype"] == "bf16":
        masks = torch.from_numpy(m.view(np.int16)).view(torch.bfloat16)
    else:
        masks = torch.from_numpy(m)
    return logits, boxes, masks.to(device)


def select(scores, opts):
    """§2.2-2.5 for one image: (scores, out classes, queries, columns) of the kept,
    sorted, capped detections. `scores` is the Q×C sigmoid tensor."""
    q, c = scores.shape
    flat = scores.reshape(-1)
    top, idx = torch.topk(flat, q)
    query = idx // c
    col = idx % c
    mapping = opts["class_mapping"]
    if mapping is None:
        valid = col < opts["num_classes"]
        out_cls = col
    else:
        cm = torch.tensor(mapping, dtype=torch.int64, device=scores.device)
        if len(mapping) >= c:
            out_cls = cm[col]
        else:
            out_cls = torch.where(col < len(mapping), cm[col.clamp(max=len(mapping) - 1)],
                                  torch.full_like(col, -1))
        valid = out_cls >= 0
    thr = opts["threshold"]
    if "Scalar" in thr:
        passed = top > thr["Scalar"]  # Python float against an f32 tensor
    else:
        t = torch.tensor(thr["PerClass"], device=scores.device)  # default dtype: float32
        passed = top > t[out_cls.clamp(0, t.numel() - 1)]
    keep = valid & passed
    s, oc, qq, cc = top[keep], out_cls[keep], query[keep], col[keep]
    order = torch.sort(s, descending=True).indices
    s, oc, qq, cc = s[order], oc[order], qq[order], cc[order]
    cap = opts["max_detections"]
    if cap is not None:
        s, oc, qq, cc = s[:cap], oc[:cap], qq[:cap], cc[:cap]
    return s, oc, qq, cc


def boxes_xyxy(b, meta):
    """§2.6: n×4 cxcywh f32 -> n×4 int32, one tensor op per step."""
    dev = b.device
    d = meta["nonsquare_intermediate_size"] or meta["inference_size"]
    cx, cy, w, h = b[:, 0], b[:, 1], b[:, 2], b[:, 3]
    hw = 0.5 * w
    hh = 0.5 * h
    xyxy = torch.stack([cx - hw, cy - hh, cx + hw, cy + hh], dim=1)
    f = lambda v: torch.tensor(v, dtype=torch.float32, device=dev)
    xyxy = xyxy * f([d["width"], d["height"], d["width"], d["height"]])
    xyxy = xyxy - f([meta["pad_left"], meta["pad_top"], meta["pad_left"], meta["pad_top"]])
    sw, sh = meta["scale_width"], meta["scale_height"]
    xyxy = xyxy / f([sw, sh, sw, sh])
    ox, oy = meta["static_crop"]["offset_x"], meta["static_crop"]["offset_y"]
    if ox > 0 or oy > 0:
        xyxy = xyxy + f([ox, oy, ox, oy])
    o = meta["original_size"]
    xyxy = torch.stack([xyxy[:, 0].clamp(0, o["width"]), xyxy[:, 1].clamp(0, o["height"]),
                        xyxy[:, 2].clamp(0, o["width"]), xyxy[:, 3].clamp(0, o["height"])], dim=1)
    return torch.round(xyxy).to(torch.int32)


def mask_pads(mh, mw, meta):
    """§2.7a: (top, bottom, left, right) in mask pixels, Python doubles + round."""
    d = meta["nonsquare_intermediate_size"] or meta["inference_size"]
    sy = mh / d["height"]
    sx = mw / d["width"]
    return (round(sy * meta["pad_top"]), round(sy * meta["pad_bottom"]),
            round(sx * meta["pad_left"]), round(sx * meta["pad_right"]))


def crop_masks(g, meta):
    """§2.7a on an n×Mh×Mw tensor: negative pads add zero logits, positive crop."""
    mh, mw = g.shape[-2], g.shape[-1]
    t, b, l, r = mask_pads(mh, mw, meta)
    if min(t, b, l, r) < 0:
        g = F.pad(g, (max(-l, 0), max(-r, 0), max(-t, 0), max(-b, 0)), value=0.0)
    hh, ww = g.shape[-2], g.shape[-1]
    return g[:, max(t, 0):hh - max(b, 0), max(l, 0):ww - max(r, 0)]


def resize_one(m, hs, ws, mode):
    """§2.7b on a 1×h×w tensor, in the tensor's own dtype."""
    if mode == "Antialiased":
        return TF.resize(m, [hs, ws], interpolation=InterpolationMode.BILINEAR, antialias=True)
    return F.interpolate(m[None], size=(hs, ws), mode="bilinear", align_corners=False)[0]


def encode(mask_np):
    """Compressed RLE string of an H×W uint8 mask, checked against pycocotools."""
    counts = rle.counts_of(mask_np)
    s = rle.rle_to_string(counts)
    if mask_util is not None:
        ref = mask_util.encode(np.asfortranarray(mask_np))["counts"]
        assert ref == s, "own rleToString disagrees with pycocotools"
    return s


def image_result(logits, boxes, masks, meta, opts):
    """One image's expected output as the fixture's JSON record."""
    scores = torch.sigmoid(logits)
    s, oc, qq, cc = select(scores, opts)
    o = meta["original_size"]
    out = {"image_size": [o["height"], o["width"]], "detections": []}
    if s.numel() == 0:
        return out
    xyxy = boxes_xyxy(boxes[qq], meta).cpu().numpy()
    gc = crop_masks(masks[qq], meta)
    sz = meta["size_after_pre_processing"]
    hs, ws = sz["height"], sz["width"]
    ox, oy = meta["static_crop"]["offset_x"], meta["static_crop"]["offset_y"]
    paste = ox > 0 or oy > 0
    s_bits = s.cpu().numpy().view(np.uint32)
    lg = logits[qq, cc].cpu().numpy().view(np.uint32)
    for i in range(s.numel()):
        m = resize_one(gc[i:i + 1], hs, ws, opts["resize"])[0] > 0
        if paste:
            canvas = torch.zeros((o["height"], o["width"]), dtype=torch.bool, device=m.device)
            canvas[oy:oy + hs, ox:ox + ws] = m
            m = canvas
        m_np = m.cpu().numpy().astype(np.uint8)
        out["detections"].append({
            "query": int(qq[i]), "column": int(cc[i]), "class_id": int(oc[i]),
            "score_bits": int(s_bits[i]), "logit_bits": int(lg[i]),
            "xyxy": [int(v) for v in xyxy[i]],
            "mask_size": [int(m_np.shape[0]), int(m_np.shape[1])],
            "counts": encode(m_np).decode("ascii"),
        })
    return out


def run_case(t, metas, opts, device):
    logits, boxes, masks = to_device(t, device)
    return [image_result(logits[b], boxes[b], masks[b], metas[b], opts) for b in range(len(metas))]
