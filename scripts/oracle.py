"""Our own torch transcription of SPEC §2 and §10, for what the package cannot do.

Since inference-models 0.39.6 the released package is the oracle
(scripts/package_oracle.py). This file remains for three things the package has no
entry point for: plain-bilinear resize fixtures (rf-detr's own flavour), the legacy
(0,0)-crop canvas rule of older releases, and the (query, column) each detection came
from; gen_fixtures.py checks that it agrees with the package on every other fixture.

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


def grid(h, w, meta, opts):
    """SPEC §10.1-10.3 for a window of h×w: (target, canvas, (offy, offx), box scale (sw, sh),
    box offset (ox, oy) or None, clamp (w, h), int boxes)."""
    s, o = meta["size_after_pre_processing"], meta["original_size"]
    hs, ws, ho, wo = s["height"], s["width"], o["height"], o["width"]
    c = meta["static_crop"]
    oy, ox = c["offset_y"], c["offset_x"]
    f = opts.get("masks_resolution_factor", 1.0)
    if opts.get("canvas", "Current") == "LegacyOriginCrop":
        paste = ox > 0 or oy > 0
        return ((hs, ws), (ho, wo) if paste else (hs, ws), (oy, ox) if paste else (0, 0),
                (meta["scale_width"], meta["scale_height"]), (ox, oy) if paste else None, (wo, ho), True)
    if f >= 1.0:
        ht, wt = hs, ws
    else:
        ht, wt = max(1, round(h * (1 - f) + hs * f)), max(1, round(w * (1 - f) + ws * f))
    needs = ox > 0 or oy > 0 or (hs, ws) != (ho, wo)
    if needs:
        sh, sw = ht / hs, wt / ws
        offy, offx = round(oy * sh), round(ox * sw)
        canvas = (max(1, round(ho * sh), offy + ht), max(1, round(wo * sw), offx + wt))
    else:
        offy, offx, canvas = 0, 0, (ht, wt)
    sw_, sh_ = meta["scale_width"], meta["scale_height"]
    if (ht, wt) != (hs, ws):
        sw_ = sw_ * (ws / wt)
        sh_ = sh_ * (hs / ht)
    off = (offx, offy) if needs and (offx or offy) else None
    return (ht, wt), canvas, (offy, offx), (sw_, sh_), off, (canvas[1], canvas[0]), canvas == (ho, wo)


def boxes_xyxy(b, meta, g):
    """§2.6 / §10.3: n×4 cxcywh f32 -> n×4 f32 (clamped, unrounded), one tensor op per step."""
    dev = b.device
    d = meta["nonsquare_intermediate_size"] or meta["inference_size"]
    cx, cy, w, h = b[:, 0], b[:, 1], b[:, 2], b[:, 3]
    hw = 0.5 * w
    hh = 0.5 * h
    xyxy = torch.stack([cx - hw, cy - hh, cx + hw, cy + hh], dim=1)
    f = lambda v: torch.tensor(v, dtype=torch.float32, device=dev)
    xyxy = xyxy * f([d["width"], d["height"], d["width"], d["height"]])
    xyxy = xyxy - f([meta["pad_left"], meta["pad_top"], meta["pad_left"], meta["pad_top"]])
    sw, sh = g[3]
    xyxy = xyxy / f([sw, sh, sw, sh])
    if g[4] is not None:
        ox, oy = g[4]
        xyxy = xyxy + f([ox, oy, ox, oy])
    cw, ch = g[5]
    mx = f([cw, ch, cw, ch])
    return xyxy.clamp(min=torch.zeros_like(mx), max=mx)


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
    mh, mw = masks.shape[-2], masks.shape[-1]
    t, b_, l, r = mask_pads(mh, mw, meta)
    g = grid(max(1, mh - t - b_), max(1, mw - l - r), meta, opts)
    (ht, wt), canvas, (offy, offx) = g[0], g[1], g[2]
    out = {"image_size": [o["height"], o["width"]], "mask_size": list(canvas),
           "boxes": "int" if g[6] else "f32", "detections": []}
    if s.numel() == 0:
        return out
    fb = boxes_xyxy(boxes[qq], meta, g)
    xyxy = torch.round(fb).to(torch.int32).cpu().numpy() if g[6] else None
    fb = fb.cpu().numpy()
    gc = crop_masks(masks[qq], meta)
    s_bits = s.cpu().numpy().view(np.uint32)
    lg = logits[qq, cc].cpu().numpy().view(np.uint32)
    for i in range(s.numel()):
        m = resize_one(gc[i:i + 1], ht, wt, opts["resize"])[0] > 0
        if tuple(canvas) != (ht, wt):
            cv = torch.zeros(canvas, dtype=torch.bool, device=m.device)
            cv[offy:offy + ht, offx:offx + wt] = m
            m = cv
        m_np = m.cpu().numpy().astype(np.uint8)
        d = {"query": int(qq[i]), "column": int(cc[i]), "class_id": int(oc[i]),
             "score_bits": int(s_bits[i]), "logit_bits": int(lg[i]),
             "mask_size": [int(m_np.shape[0]), int(m_np.shape[1])],
             "counts": encode(m_np).decode("ascii")}
        if g[6]:
            d["xyxy"] = [int(v) for v in xyxy[i]]
        else:
            d["xyxy_bits"] = [int(v) for v in fb[i].view(np.uint32)]
            d["xyxy_approx"] = [None if v != v else float(v) for v in fb[i].tolist()]
        out["detections"].append(d)
    return out


def run_case(t, metas, opts, device):
    logits, boxes, masks = to_device(t, device)
    return [image_result(logits[b], boxes[b], masks[b], metas[b], opts) for b in range(len(metas))]
