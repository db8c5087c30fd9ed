"""The named fixture cases: recipe + per-image metadata + options, nothing else.

Each entry of `all_cases()` is a dict with `name`, `description`, `recipe`
(scripts/synth.py), `metas` (rle_reference::ImageMeta JSON) and `options`
(rle_reference::Options JSON). Detection lists are drawn here with Python's
`random` seeded by the case name, but they are written into the recipe, so
only synth.py has to agree with Rust bit for bit.
"""

import random
import struct

import meta as M

# name -> (queries, mask side, inference side) of the released models (SPEC §8.1)
MODELS = {"nano": (100, 78, 312), "small": (100, 96, 384), "medium": (200, 108, 432),
          "large": (200, 126, 504), "xlarge": (300, 156, 624), "2xlarge": (300, 192, 768)}
COCO_COLUMNS = 91
FRAMES = {"312x176": (176, 312), "1280x720": (720, 1280), "1920x1080": (1080, 1920),
          "3840x2160": (2160, 3840)}


def opts(threshold=0.4, num_classes=COCO_COLUMNS - 1, mapping=None, max_det=None, resize="Antialiased",
         factor=1.0, canvas="Current"):
    thr = {"PerClass": threshold} if isinstance(threshold, list) else {"Scalar": threshold}
    return {"threshold": thr, "num_classes": num_classes, "class_mapping": mapping,
            "max_detections": max_det, "resize": resize, "masks_resolution_factor": factor,
            "canvas": canvas}


def logit(x):
    """A logit rounded to 1/64 so its decimal form is exact in f32 and f64."""
    return round(x * 64) / 64


def dets(rng, image, queries, classes, n, lo=0.5, hi=8.0, avoid=()):
    """n detections on distinct random queries, logits uniform in [lo, hi]."""
    qs = rng.sample([q for q in range(queries) if q not in avoid], n)
    return [{"image": image, "query": q, "column": rng.randrange(classes),
             "logit": logit(rng.uniform(lo, hi))} for q in qs]


def synth(name, b, q, c, mh, mw=None, **kw):
    r = {"kind": "synth", "seed": seed_of(name), "batch": b, "queries": q, "columns": c,
         "mask_h": mh, "mask_w": mw or mh, "mask_dtype": "f32"}
    r.update(kw)
    return r


def seed_of(name):
    h = 0xCBF29CE484222325  # FNV-1a of the name: stable across Python runs
    for ch in name.encode():
        h = ((h ^ ch) * 0x100000001B3) & ((1 << 64) - 1)
    return h >> 12  # keep JSON integers below 2**53 for any reader


def case(name, description, recipe, metas, options):
    return {"name": name, "description": description, "recipe": recipe, "metas": metas,
            "options": options}


def model_case(name, desc, model, frame, n_det=8, meta=None, options=None, **kw):
    q, m, inf = MODELS[model]
    rng = random.Random(name)
    o = FRAMES[frame] if isinstance(frame, str) else frame
    md = meta or M.stretch(o, (inf, inf))
    r = synth(name, 1, q, COCO_COLUMNS, m, logits=dets(rng, 0, q, COCO_COLUMNS - 1, n_det), **kw)
    return case(name, desc, r, [md], options or opts())


def f32_bits(v):
    return struct.unpack("<I", struct.pack("<f", v))[0]


def spec_example():
    """SPEC §4.4: Q=4, C=3, 8×8 masks given by a formula, stored as f32 bits."""
    lg = [[2.0, -1.0, 0.5], [-0.3, 1.2, 3.0], [0.1, 0.15, -2.0], [0.4, 0.4, -5.0]]
    bx = [[0.5, 0.5, 0.6, 0.4], [0.2, 0.3, 0.5, 0.9], [0.9, 0.9, 0.4, 0.4], [0.1, 0.95, 0.3, 0.3]]
    mk = [((8 * r + 5 * c + 3 * q) % 11) - 5.5 for q in range(4) for r in range(8) for c in range(8)]
    return {"kind": "explicit", "batch": 1, "queries": 4, "columns": 3, "mask_h": 8, "mask_w": 8,
            "logits_bits": [f32_bits(v) for row in lg for v in row],
            "boxes_bits": [f32_bits(v) for row in bx for v in row],
            "masks_bits": [f32_bits(v) for v in mk]}


def spec_cases():
    o = opts(threshold=0.5, num_classes=2)
    stretch = M.stretch((10, 12), (32, 32))
    crop = M.letterbox((16, 20), (32, 32), (32, 32), crop=(4, 2, 16, 12))
    return [
        case("spec_e2e_stretch", "SPEC §4.4 case 1: stretch 10×12, boxes [2,3,10,7] and [0,0,5,8]",
             spec_example(), [stretch], o),
        case("spec_e2e_crop_letterbox", "SPEC §4.4 case 2: static crop (4,2) + letterbox pads 3/3, pasted into 16×20",
             spec_example(), [crop], o),
    ]


def frame_cases():
    out = [
        model_case("nano_312x176", "seg-nano 78→176×312 stretch, 8 detections", "nano", "312x176"),
        model_case("nano_1280x720", "seg-nano 78→720×1280 stretch", "nano", "1280x720"),
        model_case("nano_3840x2160", "seg-nano 78→2160×3840 stretch, 6 detections", "nano", "3840x2160", n_det=6),
        model_case("small_1920x1080", "seg-small 96→1080×1920 stretch", "small", "1920x1080"),
        model_case("medium_1280x720", "seg-medium Q=200, 108→720×1280 stretch, 12 detections", "medium", "1280x720", n_det=12),
        model_case("large_1920x1080", "seg-large Q=200, 126→1080×1920 stretch", "large", "1920x1080"),
        model_case("xlarge_3840x2160", "seg-xlarge Q=300, 156→2160×3840 stretch, 6 detections", "xlarge", "3840x2160", n_det=6),
        model_case("xxlarge_312x176", "seg-2xlarge Q=300, 192→176 height downsampling (up to 3 taps)", "2xlarge", "312x176", n_det=12),
        model_case("xxlarge_1920x1080", "seg-2xlarge Q=300, 192→1080×1920 stretch", "2xlarge", "1920x1080"),
        model_case("nano_tiny_64x48", "image 64×48 smaller than the 78×78 mask grid (downsampling both axes)", "nano", (48, 64)),
        model_case("nano_same_size_78", "image 78×78 equals the mask grid: no resize, raw logits > 0", "nano", (78, 78)),
        model_case("nano_one_axis_same", "image 200×78 (h×w): width stays 78 (weights (1,0)), height upsampled", "nano", (200, 78)),
    ]
    return out


def geometry_cases():
    q, m, inf = MODELS["medium"]
    lb = lambda o, d, crop=None: M.letterbox(o, (inf, inf), d, crop)
    cc = lambda o, d, crop=None: M.center_crop(o, (inf, inf), d, crop)
    fr = FRAMES["1920x1080"]
    sc = M.static_crop_px(fr, (10, 5, 90, 95))
    quirk = M.static_crop_px(fr, (0, 0, 50, 60))
    return [
        model_case("letterbox_1280x720_640", "two-step letterbox into 640×640 (pads top/bottom 140)", "medium", "1280x720",
                   meta=lb((720, 1280), (640, 640))),
        model_case("letterbox_portrait_1080x720", "letterbox portrait 720×1080 (w×h) into 480×640 dataset dims (pads left/right)",
                   "medium", (1080, 720), meta=lb((1080, 720), (480, 640))),
        model_case("letterbox_pad_13_5", "letterbox with mask pads (108/432)·54 = 13.5 → 14 (half to even)", "medium", (960, 1280),
                   meta=lb((960, 1280), (432, 432))),
        model_case("letterbox_pad_14_5", "letterbox with mask pads (108/432)·58 = 14.5 → 14 (half to even)", "medium", (937, 1280),
                   meta=lb((937, 1280), (432, 432))),
        model_case("center_crop_all_negative", "center crop 720×1280 into 640×640: all four pads negative (zero-logit padding)",
                   "medium", "1280x720", meta=cc((720, 1280), (640, 640))),
        model_case("center_crop_mixed_signs", "center crop 480×800 (h×w) into 640×640: pads +80 on y, −80 on x", "medium", (480, 800),
                   meta=cc((480, 800), (640, 640))),
        model_case("center_crop_odd", "center crop 501×333 into 400×400: odd remainders (−50/−51, +33/+34)", "nano", (501, 333),
                   meta=cc((501, 333), (400, 400))),
        model_case("static_crop_offset", "static crop (10%,5%)–(90%,95%) of 1920×1080, stretch, pasted into the frame", "medium", "1920x1080",
                   meta=M.stretch(fr, (inf, inf), crop=sc)),
        model_case("static_crop_origin_quirk", "legacy canvas rule (releases before 0.39.6): static crop anchored at (0,0), 50%×60%: no paste, RLE of the crop size",
                   "medium", "1920x1080", meta=M.stretch(fr, (inf, inf), crop=quirk), options=opts(canvas="LegacyOriginCrop")),
        model_case("static_crop_origin", "0.39.6 canvas: static crop anchored at (0,0), 50%×60%, pasted at (0,0) of the full frame",
                   "medium", "1920x1080", meta=M.stretch(fr, (inf, inf), crop=quirk)),
        model_case("static_crop_letterbox", "static crop + letterbox into 640×480 dataset dims", "medium", "1920x1080",
                   meta=lb(fr, (480, 640), crop=sc)),
        model_case("static_crop_center_crop", "static crop + center crop into 640×640 (negative pads) pasted", "medium", "1920x1080",
                   meta=cc(fr, (640, 640), crop=sc)),
    ]


def selection_cases():
    out = []
    q, m, inf = MODELS["nano"]
    st = M.stretch(FRAMES["1280x720"], (inf, inf))

    name = "per_class_thresholds"
    rng = random.Random(name)
    thr = [round(rng.uniform(0.2, 0.9) * 64) / 64 for _ in range(COCO_COLUMNS - 1)]
    r = synth(name, 1, q, COCO_COLUMNS, m, logits=dets(rng, 0, q, COCO_COLUMNS - 1, 30, lo=-1.5, hi=3.0))
    out.append(case(name, "per-class thresholds (90 classes), 30 candidates around them", r, [st], opts(threshold=thr)))

    name = "remap_l_ge_c"
    rng = random.Random(name)
    removed = set(rng.sample(range(COCO_COLUMNS - 1), 20))
    mapping, k = [], 0
    for cls in range(COCO_COLUMNS):
        mapping.append(-1 if cls in removed or cls == COCO_COLUMNS - 1 else k)
        k += cls not in removed and cls != COCO_COLUMNS - 1
    r = synth(name, 1, q, COCO_COLUMNS, m, logits=dets(rng, 0, q, COCO_COLUMNS, 40, lo=0.0, hi=6.0))
    out.append(case(name, "remapping L = C = 91 with 20 removed classes and no-object removed; removed pairs still take top-k slots",
                    r, [st], opts(mapping=mapping)))

    name = "remap_l_lt_c"
    rng = random.Random(name)
    ncols = 12
    mapping = [0, -1, 1, 2, -1, 3, 4, -1, 5]  # L = 9 < C = 12: columns 9..11 invalid
    r = synth(name, 1, q, ncols, m, logits=dets(rng, 0, q, ncols, 40, lo=0.0, hi=6.0))
    out.append(case(name, "remapping L = 9 < C = 12: columns ≥ L (incl. no-object) invalid, 3 removed",
                    r, [st], opts(mapping=mapping)))

    name = "remap_l_gt_c"
    rng = random.Random(name)
    mapping = [-1, 0, 1, -1, 2, 3, 4, 5]  # L = 8 > C = 6
    r = synth(name, 1, q, 6, m, logits=dets(rng, 0, q, 6, 25, lo=0.0, hi=6.0))
    out.append(case(name, "remapping L = 8 > C = 6 with class 0 and 3 removed", r, [st], opts(mapping=mapping)))

    name = "multi_class_queries"
    rng = random.Random(name)
    lg = []
    for qq in rng.sample(range(q), 6):
        for cl in rng.sample(range(COCO_COLUMNS - 1), 3):
            lg.append({"image": 0, "query": qq, "column": cl, "logit": logit(rng.uniform(0.0, 5.0))})
    r = synth(name, 1, q, COCO_COLUMNS, m, logits=lg)
    out.append(case(name, "6 queries passing for 3 classes each: same box and mask, several detections", r, [st], opts()))

    name = "more_pairs_than_q"
    fill = {"images": [0, 1], "queries": [10, 50], "columns": [0, 8], "range": [-256, 6 * 256]}
    r = synth(name, 1, q, COCO_COLUMNS, m, fills=[fill])
    out.append(case(name, "320 (query, class) pairs with logits in [−1, 6], about 240 passing, more than Q = 100",
                    r, [M.stretch(FRAMES["312x176"], (inf, inf))], opts(threshold=0.3)))

    name = "ties_at_one"
    rng = random.Random(name)
    lg = dets(rng, 0, q, COCO_COLUMNS - 1, 12, lo=17.0, hi=40.0)
    lg += [{"image": 0, "query": d["query"], "column": (d["column"] + 5) % 90, "logit": 17.0} for d in lg[:4]]
    lg += [{"image": 0, "query": 99, "column": 3, "logit": "inf"}]
    lg += dets(rng, 0, q, COCO_COLUMNS - 1, 4, lo=1.0, hi=3.0, avoid={d["query"] for d in lg})
    r = synth(name, 1, q, COCO_COLUMNS, m, logits=lg)
    out.append(case(name, "17 scores at exactly 1.0 (logits ≥ 17 and +inf): order by flat index", r, [st], opts()))

    name = "nan_inf_logits"
    rng = random.Random(name)
    lg = dets(rng, 0, q, COCO_COLUMNS - 1, 10)
    specials = ["nan", "nan", "nan", "inf", "-inf", "inf"]
    for v, d in zip(specials, dets(rng, 0, q, COCO_COLUMNS, 6, avoid={d["query"] for d in lg})):
        lg.append(dict(d, logit=v))
    r = synth(name, 1, q, COCO_COLUMNS, m, logits=lg)
    out.append(case(name, "NaN logits take top-k slots then fail; +inf → 1.0, −inf → 0", r, [st], opts()))

    name = "max_detections_cap"
    rng = random.Random(name)
    r = synth(name, 1, q, COCO_COLUMNS, m, logits=dets(rng, 0, q, COCO_COLUMNS - 1, 20))
    out.append(case(name, "max_detections = 5 of 20 passing", r, [st], opts(max_det=5)))

    name = "empty_result"
    r = synth(name, 1, q, COCO_COLUMNS, m)
    out.append(case(name, "nothing passes the threshold: empty image result", r, [st], opts()))

    name = "all_classes_named"
    rng = random.Random(name)
    r = synth(name, 1, q, COCO_COLUMNS, m, logits=dets(rng, 0, q, COCO_COLUMNS, 15))
    out.append(case(name, "num_classes = C = 91: the last column counts as a class (SPEC §9 Q4)", r, [st],
                    opts(num_classes=COCO_COLUMNS)))
    return out


def mask_cases():
    out = []
    q, m, inf = MODELS["nano"]
    st = M.stretch(FRAMES["1280x720"], (inf, inf))

    name = "nan_inf_masks"
    rng = random.Random(name)
    lg = dets(rng, 0, q, COCO_COLUMNS - 1, 6)
    mv = []
    for d, v in zip(lg, ["nan", "inf", "-inf", "nan", 1e-40, -1e-40]):
        for k in range(3):
            mv.append({"image": 0, "query": d["query"], "y": 20 + 9 * k, "x": 30 + 7 * k, "value": v})
    mv.append({"image": 0, "query": lg[1]["query"], "y": 21, "x": 31, "value": "-inf"})
    r = synth(name, 1, q, COCO_COLUMNS, m, logits=lg, mask_values=mv)
    out.append(case(name, "NaN, ±inf and subnormal mask logits inside and next to the blobs", r, [st], opts()))

    name = "neg_pos_border_masks"
    rng = random.Random(name)
    lg = dets(rng, 0, q, COCO_COLUMNS - 1, 6)
    modes = [{"image": 0, "query": d["query"], "mode": mo}
             for d, mo in zip(lg, ["neg", "pos", "border", "border", "elongated", "double"])]
    r = synth(name, 1, q, COCO_COLUMNS, m, logits=lg, mask_modes=modes)
    out.append(case(name, "all-negative (counts [H·W]), all-positive ([0, H·W]), border-touching masks whose runs continue "
                    "from the bottom of a column into the next, elongated and two-blob masks", r, [st], opts()))

    name = "border_masks_pasted"
    fr = FRAMES["1920x1080"]
    q2, m2, inf2 = MODELS["small"]
    rng = random.Random(name)
    lg = dets(rng, 0, q2, COCO_COLUMNS - 1, 4)
    modes = [{"image": 0, "query": d["query"], "mode": mo} for d, mo in zip(lg, ["border", "pos", "neg", "border"])]
    r = synth(name, 1, q2, COCO_COLUMNS, m2, logits=lg, mask_modes=modes)
    md = M.stretch(fr, (inf2, inf2), crop=M.static_crop_px(fr, (20, 10, 70, 80)))
    out.append(case(name, "border-touching and all-positive masks pasted into a larger canvas", r, [md], opts()))

    name = "boxes_outside"
    rng = random.Random(name)
    lg = dets(rng, 0, q, COCO_COLUMNS - 1, 8)
    ov = [[1.2, 0.5, 0.2, 0.2], [-0.3, -0.2, 0.1, 0.1], [0.5, 0.5, 1.5, 1.5], ["nan", 0.5, 0.2, 0.2],
          [0.5, "inf", 0.2, 0.2], [0.5, 0.5, "-inf", 0.3], [0.5, 0.5, -0.2, 0.3], [0.0009765625, 0.5, 0.001953125, 0.5]]
    bo = [{"image": 0, "query": d["query"], "cxcywh": v} for d, v in zip(lg, ov)]
    r = synth(name, 1, q, COCO_COLUMNS, m, logits=lg, boxes=bo)
    out.append(case(name, "boxes leaving [0,1], fully outside, negative width, NaN and ±inf coordinates", r, [st], opts()))
    return out


def dtype_mode_cases():
    out = []
    for name, model, frame, dt, mode, desc in [
        ("f16_nano_1280x720", "nano", "1280x720", "f16", "Antialiased", "f16 masks (|int| ≤ 2048 at 2^-6), antialiased"),
        ("bf16_small_1920x1080", "small", "1920x1080", "bf16", "Antialiased", "bf16 masks (|int| ≤ 256 at 2^-3), antialiased"),
        ("f16_xxlarge_312x176", "2xlarge", "312x176", "f16", "Antialiased", "f16 masks with 192→176 downsampling"),
        ("bilinear_nano_1280x720", "nano", "1280x720", "f32", "Bilinear", "plain bilinear (F.interpolate) upsampling"),
        ("bilinear_xxlarge_312x176", "2xlarge", "312x176", "f32", "Bilinear", "plain bilinear 192→176 downsampling (2-tap filter)"),
        ("bilinear_f16_medium_1920x1080", "medium", "1920x1080", "f16", "Bilinear", "plain bilinear on f16 masks"),
        ("bilinear_bf16_nano_312x176", "nano", "312x176", "bf16", "Bilinear", "plain bilinear on bf16 masks"),
    ]:
        c = model_case(name, desc, model, frame, mask_dtype=dt)
        c["options"]["resize"] = mode
        out.append(c)
    # negative pads with f16: zero padding happens in f16 too
    q, m, inf = MODELS["medium"]
    c = model_case("f16_center_crop", "f16 masks with center-crop negative pads", "medium", "1280x720", mask_dtype="f16",
                   meta=M.center_crop((720, 1280), (inf, inf), (640, 640)))
    out.append(c)
    return out


def batch_cases():
    q, m, inf = MODELS["medium"]
    name = "batch_of_3"
    rng = random.Random(name)
    lg = []
    for b in range(3):
        lg += dets(rng, b, q, COCO_COLUMNS - 1, 6)
    r = synth(name, 3, q, COCO_COLUMNS, m, logits=lg,
              mask_modes=[{"image": 2, "query": lg[-1]["query"], "mode": "border"}])
    metas = [M.stretch(FRAMES["1280x720"], (inf, inf)),
             M.letterbox((1080, 1920), (inf, inf), (640, 640)),
             M.center_crop((480, 800), (inf, inf), (640, 640))]
    return [case(name, "batch of 3 images with stretch, letterbox and center-crop metadata", r, metas, opts())]


def factor_cases():
    """inference-models 0.39.6's masks_resolution_factor (SPEC §10)."""
    q, m, inf = MODELS["medium"]
    fr = FRAMES["1920x1080"]
    sc = M.static_crop_px(fr, (10, 5, 90, 95))
    quirk = M.static_crop_px(fr, (0, 0, 50, 60))
    cs = [model_case(f"factor_{tag}_1920x1080", f"masks_resolution_factor {f}: stretch 1920×1080", "medium", "1920x1080",
                     options=opts(factor=f))
          for tag, f in (("0", 0.0), ("0_25", 0.25), ("0_5", 0.5), ("0_999", 0.999))]
    cs += [
        model_case("factor_0_5_static_crop", "factor 0.5 with a static crop (10%,5%)–(90%,95%): scaled canvas and offset",
                   "medium", "1920x1080", meta=M.stretch(fr, (inf, inf), crop=sc), options=opts(factor=0.5)),
        model_case("factor_0_25_static_crop_origin", "factor 0.25 with a static crop anchored at (0,0)", "medium", "1920x1080",
                   meta=M.stretch(fr, (inf, inf), crop=quirk), options=opts(factor=0.25)),
        model_case("factor_0_5_letterbox", "factor 0.5, letterbox 1280×720 into 640×640", "medium", "1280x720",
                   meta=M.letterbox((720, 1280), (inf, inf), (640, 640)), options=opts(factor=0.5)),
        model_case("factor_0_5_center_crop", "factor 0.5, center crop 480×800 into 640×640 (pads of both signs)", "medium", (480, 800),
                   meta=M.center_crop((480, 800), (inf, inf), (640, 640)), options=opts(factor=0.5)),
        model_case("factor_0_5_image_smaller_than_grid", "factor 0.5, a 64×48 image below the 108×108 mask grid (target between)",
                   "medium", (48, 64), options=opts(factor=0.5)),
        model_case("factor_0_3_xxlarge_312x176", "factor 0.3, 2xlarge 192×192 masks on 312×176: downsampling on one axis",
                   "2xlarge", "312x176", options=opts(factor=0.3)),
    ]
    name = "factor_0_5_per_class_thresholds"
    rng = random.Random(name)
    thr = [logit(rng.uniform(0.2, 0.8)) for _ in range(COCO_COLUMNS - 1)]
    r = synth(name, 1, q, COCO_COLUMNS, m, logits=dets(rng, 0, q, COCO_COLUMNS - 1, 12, lo=-0.5, hi=3.0))
    cs.append(case(name, "factor 0.5 with per-class thresholds", r, [M.stretch(FRAMES["1280x720"], (inf, inf))],
                   opts(threshold=thr, factor=0.5)))
    return cs


def all_cases():
    cs = spec_cases() + frame_cases() + geometry_cases() + selection_cases() + mask_cases() \
        + dtype_mode_cases() + batch_cases() + factor_cases()
    names = [c["name"] for c in cs]
    assert len(names) == len(set(names)), "duplicate case names"
    return cs


def random_cases(n, seed):
    """n random cases for the package-vs-GPU sweep (not committed): random model
    shapes and class counts, frames up to 1280×720, stretch / static crop (offset or
    anchored at (0,0)) / letterbox / center crop, masks_resolution_factor in
    {0, 0.25, 0.5, 0.999, 1, random}, scalar or per-class thresholds, remapping,
    max_detections, f32/f16/bf16 masks, mask modes and special values."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        name = f"random_{seed}_{i:05d}"
        q = rng.choice([10, 30, 100, 100, 200])
        m = rng.choice([16, 24, 40, 78, 96, 108])
        inf = 4 * m
        c = rng.choice([3, 8, 91])
        o = (rng.randint(24, 720), rng.randint(24, 1280))
        o = (min(o[0], 4 * o[1]), min(o[1], 4 * o[0]))
        kind = rng.randrange(5)
        crop = None
        if kind in (1, 2) or (kind > 2 and rng.random() < 0.3):
            x0, y0 = (0, 0) if kind == 2 else (rng.randint(0, 30), rng.randint(0, 30))
            crop = M.static_crop_px(o, (x0, y0, rng.randint(max(x0 + 20, 60), 100), rng.randint(max(y0 + 20, 60), 100)))
        if kind <= 2:
            md = M.stretch(o, (inf, inf), crop=crop)
        elif kind == 3:
            md = M.letterbox(o, (inf, inf), (rng.choice([320, 480, 640]), rng.choice([320, 480, 640])), crop)
        else:
            md = M.center_crop(o, (inf, inf), (rng.randint(o[0] // 2 + 16, o[0] * 3 // 2 + 16),
                                               rng.randint(o[1] // 2 + 16, o[1] * 3 // 2 + 16)), crop)
        lg = dets(rng, 0, q, c, rng.randint(0, min(q, 12)), lo=-1.0, hi=10.0)
        for d in lg[:2]:
            if rng.random() < 0.1:
                d["logit"] = rng.choice(["nan", "inf", 17.0, 20.0])
        kw = {}
        if rng.random() < 0.3:
            kw["mask_dtype"] = rng.choice(["f16", "bf16"])
        modes = [{"image": 0, "query": d["query"], "mode": rng.choice(["border", "neg", "pos", "elongated", "double"])}
                 for d in lg if rng.random() < 0.3]
        r = synth(name, 1, q, c, m, logits=lg, mask_modes=modes, **kw)
        num_classes = c - 1 if rng.random() < 0.8 else c
        mapping = None
        if rng.random() < 0.2:
            nxt, mapping = 0, []
            for _ in range(rng.choice([c, c - 1, c + 2])):
                if rng.random() < 0.2:
                    mapping.append(-1)
                else:
                    mapping.append(nxt)
                    nxt += 1
        n_out = sum(1 for v in mapping if v >= 0) if mapping else num_classes
        thr = rng.choice([0.4, 0.5, 0.3, 0.05])
        if n_out > 0 and rng.random() < 0.2:
            thr = [logit(rng.uniform(0.1, 0.9)) for _ in range(n_out)]
        f = 1.0 if rng.random() < 0.3 else rng.choice([0.0, 0.25, 0.5, 0.999, logit(rng.random())])
        o_ = opts(threshold=thr, num_classes=num_classes, mapping=mapping,
                  max_det=rng.choice([None, None, 300, rng.randint(1, 20)]), factor=f)
        out.append(case(name, "random sweep case", r, [md], o_))
    return out
