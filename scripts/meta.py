"""Pre-processing metadata builders (SPEC.md §1.3, §8.2) for the fixture cases.

Each builder returns a dict with exactly the field names and serde shape of
`rle_reference::ImageMeta`, so the Rust loader deserialises it directly. Sizes
are given as (h, w) tuples. The arithmetic (Python doubles, `int()` truncation,
`//`) follows the producers described in SPEC §8.2; the Rust twins live in
`crates/rle-fixtures/src/meta.rs`.
"""


def size(hw):
    return {"height": int(hw[0]), "width": int(hw[1])}


def static_crop_px(orig, pct):
    """Crop (x0, y0, x1, y1) in pixels from percentages, as the model package does."""
    h, w = orig
    x_min, y_min, x_max, y_max = pct
    return (int(x_min / 100 * w), int(y_min / 100 * h), int(x_max / 100 * w), int(y_max / 100 * h))


def _base(orig, crop, inference):
    if crop is None:
        crop = (0, 0, orig[1], orig[0])
    x0, y0, x1, y1 = crop
    s = (y1 - y0, x1 - x0)
    m = {
        "original_size": size(orig),
        "static_crop": {"offset_x": x0, "offset_y": y0, "width": s[1], "height": s[0]},
        "size_after_pre_processing": size(s),
        "inference_size": size(inference),
        "nonsquare_intermediate_size": None,
        "pad_left": 0, "pad_top": 0, "pad_right": 0, "pad_bottom": 0,
        "scale_width": 1.0, "scale_height": 1.0,
    }
    return m, s


def stretch(orig, inference, crop=None):
    """Single stretch resize: pads 0, independent scales D/S."""
    m, s = _base(orig, crop, inference)
    m["scale_width"] = inference[1] / s[1]
    m["scale_height"] = inference[0] / s[0]
    return m


def letterbox(orig, inference, dataset, crop=None):
    """Two-step letterbox into the dataset dims: equal scales, pads >= 0."""
    m, s = _base(orig, crop, inference)
    dh, dw = dataset
    sc = min(dw / s[1], dh / s[0])
    new_w, new_h = int(s[1] * sc), int(s[0] * sc)
    pl, pt = int((dw - new_w) / 2), int((dh - new_h) / 2)
    m.update(nonsquare_intermediate_size=size(dataset), pad_left=pl, pad_top=pt,
             pad_right=dw - new_w - pl, pad_bottom=dh - new_h - pt,
             scale_width=sc, scale_height=sc)
    return m


def _center_pads(s, d):
    if s <= d:
        a = (d - s) // 2
        return a, d - s - a
    a = (s - d) // 2
    return -a, -(s - d - a)


def center_crop(orig, inference, dataset, crop=None):
    """Two-step center crop into the dataset dims: scale 1, pads of either sign."""
    m, s = _base(orig, crop, inference)
    pl, pr = _center_pads(s[1], dataset[1])
    pt, pb = _center_pads(s[0], dataset[0])
    m.update(nonsquare_intermediate_size=size(dataset), pad_left=pl, pad_top=pt,
             pad_right=pr, pad_bottom=pb, scale_width=1.0, scale_height=1.0)
    return m
