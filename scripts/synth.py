"""Deterministic synthetic RF-DETR outputs from a compact JSON recipe.

This module is the Python half of a generator implemented twice; the Rust half
is `crates/rle-fixtures/src/synth/`. Both must produce bit-identical tensors, so
everything below is integer arithmetic on wrapping u64 hashes and exact int64
values, followed by one exact conversion `int * 2**-k` to float32 (|int| < 2**24,
so every value is representable). Nothing depends on numpy's RNG or on floats.
Change one side only together with the other and with the committed hashes in
`crates/rle-fixtures/src/synth/expected_hashes.json` (`scripts/check_synth.py
--write` rewrites them; `--verify` checks recipes hashed by Rust).

Normative description (the Rust side follows it line by line):

* `mix(z)`: splitmix64 finaliser, `z += 0x9E3779B97F4A7C15`, then
  `z = (z ^ z>>30) * 0xBF58476D1CE4E5B9`, `z = (z ^ z>>27) * 0x94D049BB133111EB`,
  `z ^ z>>31`, all mod 2**64. `key(seed, tag) = mix(mix(seed) ^ tag)`;
  `draw(key, i) = mix(key ^ i)`; `uniform(key, i, lo, hi) = lo + draw % (hi-lo+1)`.
* Slot `s = b*Q + q` (image b, query q). Logit `(s, c)` has index `s*C + c`,
  mask pixel `(s, y, x)` index `(s*Mh + y)*Mw + x`, blob parameter j of a slot
  index `s*16 + j`.
* Logits (units of 1/256): background `uniform(key(seed, TAG_BG), s*C+c, lo, hi)`;
  then each fill n overwrites its rectangle with `uniform(key(seed, TAG_FILL+n), ...)`;
  converted to f32; then `logits` overrides set exact f32 values in order.
* Masks: per slot a shape from blob parameters (see `blob_params`), evaluated in
  quarter-pixel units (pixel centre `4x+2`), see `ellipse_field`; union = max;
  clamp below at `-neg`; plus noise `uniform(key(seed, TAG_NOISE), pix, -n, n)`;
  quantised to the mask dtype (`quantise`); overrides last.
* Boxes (units of 2**-20): the bounding box of the slot's ellipses, normalised by
  the mask grid, centre jittered, clamped to [1, 2**20-1]; overrides last.
"""

import hashlib
import json
import math

import numpy as np

M64 = (1 << 64) - 1
GOLDEN = 0x9E3779B97F4A7C15
MIX1 = 0xBF58476D1CE4E5B9
MIX2 = 0x94D049BB133111EB

TAG_BG = 1
TAG_BLOB = 2
TAG_NOISE = 3
TAG_FLAT = 5  # per-pixel values of the all-negative / all-positive modes
TAG_FILL = 0x100  # + fill number

LOGIT_SHIFT = 8
BOX_SHIFT = 20
BOX_ONE = 1 << BOX_SHIFT
# Mask dtype -> (shift k, max |int| after quantisation, divisor from 1/256 units).
MASK_QUANT = {"f32": (8, None, 1), "f16": (6, 2048, 4), "bf16": (3, 256, 32)}

# Fixed-point radius unit: a pixel on the ellipse border has normalised distance S.
S = 256
Q_CAP = 64 * S * S  # distances beyond 8 radii all give the same (clamped) value
# Rotations without trigonometry: (cos, sin) = (a/c, b/c) from Pythagorean triples.
ROTATIONS = [(1, 0, 1), (4, 3, 5), (3, 4, 5), (0, 1, 1), (-3, 4, 5),
             (-4, 3, 5), (12, 5, 13), (5, 12, 13), (-5, 12, 13), (-12, 5, 13)]
# Aspect ratios ry = r * num // den; the first entries repeat so round blobs dominate.
ELONGATIONS = [(1, 1), (1, 1), (1, 1), (3, 2), (2, 3), (2, 1), (1, 2), (3, 1)]
MASK_MODES = ("auto", "single", "double", "elongated", "neg", "pos", "border")

NAN_F32 = 0x7FC00000
SPECIAL_F32 = {"nan": NAN_F32, "inf": 0x7F800000, "-inf": 0xFF800000}
SPECIAL_F16 = {"nan": 0x7E00, "inf": 0x7C00, "-inf": 0xFC00}
SPECIAL_BF16 = {"nan": 0x7FC0, "inf": 0x7F80, "-inf": 0xFF80}


def mix_int(z):
    """splitmix64 finaliser on a Python int (mod 2**64)."""
    z = (z + GOLDEN) & M64
    z = ((z ^ (z >> 30)) * MIX1) & M64
    z = ((z ^ (z >> 27)) * MIX2) & M64
    return z ^ (z >> 31)


def mix_np(z):
    """splitmix64 finaliser on a uint64 array; numpy wraps array arithmetic."""
    z = z + np.uint64(GOLDEN)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(MIX1)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(MIX2)
    return z ^ (z >> np.uint64(31))


def key(seed, tag):
    return mix_int(mix_int(seed & M64) ^ tag)


def draw_np(k, idx):
    return mix_np(np.uint64(k) ^ idx.astype(np.uint64))


def uniform_np(k, idx, lo, hi):
    """`lo + draw % (hi - lo + 1)`; lo and hi broadcast with idx (int64)."""
    lo = np.asarray(lo, dtype=np.int64)
    hi = np.asarray(hi, dtype=np.int64)
    span = (hi - lo + 1).astype(np.uint64)
    return lo + (draw_np(k, idx) % span).astype(np.int64)


def uniform_int(k, i, lo, hi):
    return lo + mix_int(k ^ i) % (hi - lo + 1)


def f32_from_number(v):
    """Recipe scalar (number or "nan"/"inf"/"-inf") -> float32 bits."""
    if isinstance(v, str):
        return SPECIAL_F32[v]
    return int(np.array([v], dtype=np.float32).view(np.uint32)[0])


def bf16_round_bits(f32_bits):
    """float32 bits -> bfloat16 bits, round to nearest even (NaN kept quiet)."""
    if (f32_bits & 0x7FFFFFFF) > 0x7F800000:
        return 0x7FC0
    return ((f32_bits + 0x7FFF + ((f32_bits >> 16) & 1)) >> 16) & 0xFFFF


def to_f32(ints, shift):
    return ints.astype(np.float32) * np.float32(2.0 ** -shift)


# ---------------------------------------------------------------- shapes


def blob_params(seed, slots, mh, mw, modes):
    """Per-slot shape parameters as int64 arrays of length len(slots)."""
    k = key(seed, TAG_BLOB)
    base = slots.astype(np.int64) * 16
    u = lambda j, lo, hi: uniform_np(k, base + j, lo, hi)
    mn = min(mh, mw)
    rmin = max(6, mn // 6)
    rmax = max(rmin, mn)
    p = {}
    p["two"] = (draw_np(k, base + 0) % np.uint64(4) == 0)
    p["cx1"] = u(1, 0, 4 * mw - 1)
    p["cy1"] = u(2, 0, 4 * mh - 1)
    r = u(3, rmin, rmax)
    e = (draw_np(k, base + 4) % np.uint64(len(ELONGATIONS))).astype(np.int64)
    p["rot1"] = (draw_np(k, base + 5) % np.uint64(len(ROTATIONS))).astype(np.int64)
    p["g"] = u(6, 2 * 256, 8 * 256)
    p["neg"] = u(7, 12 * 256, 30 * 256)
    p["noise"] = u(8, 0, 64)
    dx2 = u(9, -2 * r, 2 * r)
    dy2 = u(10, -2 * r, 2 * r)
    r2 = u(11, np.maximum(4, r // 2), r)
    p["rot2"] = (draw_np(k, base + 12) % np.uint64(len(ROTATIONS))).astype(np.int64)
    e2 = (draw_np(k, base + 13) % np.uint64(len(ELONGATIONS))).astype(np.int64)
    p["jx"] = u(14, -(BOX_ONE >> 8), BOX_ONE >> 8)
    p["jy"] = u(15, -(BOX_ONE >> 8), BOX_ONE >> 8)
    num = np.array([n for n, _ in ELONGATIONS])[e]
    den = np.array([d for _, d in ELONGATIONS])[e]
    num2 = np.array([n for n, _ in ELONGATIONS])[e2]
    den2 = np.array([d for _, d in ELONGATIONS])[e2]
    p["rx1"] = r
    p["ry1"] = np.maximum(4, r * num // den)
    p["cx2"] = p["cx1"] + dx2
    p["cy2"] = p["cy1"] + dy2
    p["rx2"] = r2
    p["ry2"] = np.maximum(4, r2 * num2 // den2)
    # Modes override the hashed choices.
    modes = np.asarray(modes)
    p["two"] = np.where(modes == "single", False, np.where(modes == "double", True, p["two"]))
    elong = modes == "elongated"
    p["ry1"] = np.where(elong, 4 * r, p["ry1"])
    p["two"] = np.where(elong, False, p["two"])
    border = modes == "border"
    p["two"] = np.where(border, False, p["two"])
    p["cx1"] = np.where(border, 2 * mw, p["cx1"])
    p["cy1"] = np.where(border, 2 * mh, p["cy1"])
    p["rot1"] = np.where(border, 0, p["rot1"])
    p["rx1"] = np.where(border, 24 * mw // 10, p["rx1"])
    p["ry1"] = np.where(border, 24 * mh // 10, p["ry1"])
    return p


def ellipse_field(px, py, cx, cy, rx, ry, rot, g):
    """Logit (1/256 units) of an ellipse at quarter-pixel coordinates.

    `g * (1 - d^2)` with `d` the normalised distance in fixed point: `g` at the
    centre, 0 on the border, falling quadratically outside (capped at 8 radii).
    """
    a = np.array([t[0] for t in ROTATIONS], dtype=np.int64)[rot]
    b = np.array([t[1] for t in ROTATIONS], dtype=np.int64)[rot]
    c = np.array([t[2] for t in ROTATIONS], dtype=np.int64)[rot]
    dx = px - cx
    dy = py - cy
    du = a * dx + b * dy
    dv = a * dy - b * dx
    su = (du * S) // (c * rx)
    sv = (dv * S) // (c * ry)
    q = np.minimum(su * su + sv * sv, Q_CAP)
    return (g * (S * S - q)) // (S * S)


def quantise(vals, dtype):
    """1/256-unit ints -> ints exactly representable in the mask dtype."""
    _, lim, div = MASK_QUANT[dtype]
    if lim is None:
        return vals
    return np.clip(vals // div, -lim, lim)


def mask_ints(seed, b, q, mh, mw, dtype, modes, slot0=0, chunk=32):
    """Quantised mask ints, shape (b*q, mh, mw), slot by slot in chunks."""
    out = np.empty((b * q, mh, mw), dtype=np.int64)
    yy = np.arange(mh, dtype=np.int64)[None, :, None]
    xx = np.arange(mw, dtype=np.int64)[None, None, :]
    py = 4 * yy + 2
    px = 4 * xx + 2
    knoise = key(seed, TAG_NOISE)
    kflat = key(seed, TAG_FLAT)
    for s0 in range(0, b * q, chunk):
        slots = np.arange(s0, min(s0 + chunk, b * q), dtype=np.int64)
        m = np.asarray(modes)[slots]
        p = blob_params(seed, slots, mh, mw, m)
        col = lambda name: p[name][:, None, None]
        f = ellipse_field(px, py, col("cx1"), col("cy1"), col("rx1"), col("ry1"), col("rot1"), col("g"))
        f2 = ellipse_field(px, py, col("cx2"), col("cy2"), col("rx2"), col("ry2"), col("rot2"), col("g"))
        f = np.where(col("two"), np.maximum(f, f2), f)
        f = np.maximum(f, -col("neg"))
        pix = (slots[:, None, None] * mh + yy) * mw + xx
        f = f + uniform_np(knoise, pix, -col("noise"), col("noise"))
        mm = m[:, None, None]
        flat_neg = -uniform_np(kflat, pix, 256, col("neg"))
        flat_pos = uniform_np(kflat, pix, 256, col("g"))
        f = np.where(mm == "neg", flat_neg, np.where(mm == "pos", flat_pos, f))
        out[slots] = quantise(f, dtype)
    return out


def isqrt_np(v):
    return np.array([math.isqrt(int(t)) for t in v.ravel()], dtype=np.int64).reshape(v.shape)


def half_extents(rx, ry, rot):
    """Half width and height (quarter pixels) of a rotated ellipse, rounded down."""
    a = np.array([t[0] for t in ROTATIONS], dtype=np.int64)[rot]
    b = np.array([t[1] for t in ROTATIONS], dtype=np.int64)[rot]
    c = np.array([t[2] for t in ROTATIONS], dtype=np.int64)[rot]
    hx = isqrt_np((a * rx) ** 2 + (b * ry) ** 2) // c
    hy = isqrt_np((b * rx) ** 2 + (a * ry) ** 2) // c
    return hx, hy


def box_ints(seed, b, q, mh, mw, modes):
    """Boxes (units of 2**-20), shape (b*q, 4), matching each slot's blobs."""
    slots = np.arange(b * q, dtype=np.int64)
    p = blob_params(seed, slots, mh, mw, np.asarray(modes))
    hx1, hy1 = half_extents(p["rx1"], p["ry1"], p["rot1"])
    hx2, hy2 = half_extents(p["rx2"], p["ry2"], p["rot2"])
    x0 = p["cx1"] - hx1
    x1 = p["cx1"] + hx1
    y0 = p["cy1"] - hy1
    y1 = p["cy1"] + hy1
    two = p["two"]
    x0 = np.where(two, np.minimum(x0, p["cx2"] - hx2), x0)
    x1 = np.where(two, np.maximum(x1, p["cx2"] + hx2), x1)
    y0 = np.where(two, np.minimum(y0, p["cy2"] - hy2), y0)
    y1 = np.where(two, np.maximum(y1, p["cy2"] + hy2), y1)
    lo, hi = 1, BOX_ONE - 1
    cx = np.clip((x0 + x1) * (BOX_ONE // 2) // (4 * mw) + p["jx"], lo, hi)
    cy = np.clip((y0 + y1) * (BOX_ONE // 2) // (4 * mh) + p["jy"], lo, hi)
    w = np.clip((x1 - x0) * BOX_ONE // (4 * mw), lo, hi)
    h = np.clip((y1 - y0) * BOX_ONE // (4 * mh), lo, hi)
    return np.stack([cx, cy, w, h], axis=1)


# ---------------------------------------------------------------- recipes


def slot_modes(r):
    b, q = r["batch"], r["queries"]
    modes = np.full(b * q, "auto", dtype=object)
    for m in r.get("mask_modes", []):
        if m["mode"] not in MASK_MODES:
            raise ValueError(f"unknown mask mode {m['mode']!r}")
        modes[m["image"] * q + m["query"]] = m["mode"]
    return modes


def logit_ints(r):
    b, q, c = r["batch"], r["queries"], r["columns"]
    seed = r["seed"]
    lo, hi = r.get("background", [-2560, -768])
    idx = np.arange(b * q * c, dtype=np.int64).reshape(b, q, c)
    out = uniform_np(key(seed, TAG_BG), idx, lo, hi)
    for n, fill in enumerate(r.get("fills", [])):
        (b0, b1), (q0, q1), (c0, c1) = fill["images"], fill["queries"], fill["columns"]
        flo, fhi = fill["range"]
        sub = idx[b0:b1, q0:q1, c0:c1]
        out[b0:b1, q0:q1, c0:c1] = uniform_np(key(seed, TAG_FILL + n), sub, flo, fhi)
    if np.abs(out).max(initial=0) >= 1 << 24:
        raise ValueError("logit ints must stay below 2**24")
    return out


def generate(r):
    """Recipe dict -> dict of numpy arrays: logits f32, boxes f32, masks (f32,
    f16, or bf16 given as uint16 bits), plus `mask_dtype`."""
    if r["kind"] == "explicit":
        return generate_explicit(r)
    b, q, c, mh, mw = r["batch"], r["queries"], r["columns"], r["mask_h"], r["mask_w"]
    dtype = r.get("mask_dtype", "f32")
    seed = r["seed"]
    modes = slot_modes(r)

    logits = to_f32(logit_ints(r), LOGIT_SHIFT)
    lbits = logits.view(np.uint32)
    for d in r.get("logits", []):
        lbits[d["image"], d["query"], d["column"]] = f32_from_number(d["logit"])

    boxes = to_f32(box_ints(seed, b, q, mh, mw, modes).reshape(b, q, 4), BOX_SHIFT)
    bbits = boxes.view(np.uint32)
    for o in r.get("boxes", []):
        for k, v in enumerate(o["cxcywh"]):
            bbits[o["image"], o["query"], k] = f32_from_number(v)

    shift = MASK_QUANT[dtype][0]
    mf = to_f32(mask_ints(seed, b, q, mh, mw, dtype, modes), shift).reshape(b, q, mh, mw)
    if dtype == "f32":
        masks = mf
        mbits = masks.view(np.uint32)
    elif dtype == "f16":
        masks = mf.astype(np.float16)
        mbits = masks.view(np.uint16)
    else:
        masks = (mf.view(np.uint32) >> np.uint32(16)).astype(np.uint16)
        mbits = masks
    for o in r.get("mask_values", []):
        bits = f32_from_number(o["value"])
        if dtype == "f16":
            v = o["value"]
            bits = SPECIAL_F16[v] if isinstance(v, str) else int(
                np.array([bits], dtype=np.uint32).view(np.float32).astype(np.float16).view(np.uint16)[0])
        elif dtype == "bf16":
            v = o["value"]
            bits = SPECIAL_BF16[v] if isinstance(v, str) else bf16_round_bits(bits)
        mbits[o["image"], o["query"], o["y"], o["x"]] = bits
    return {"logits": logits, "boxes": boxes, "masks": masks, "mask_dtype": dtype}


def generate_explicit(r):
    """Tiny tensors written out in the recipe as float32 bits (row-major)."""
    b, q, c, mh, mw = r["batch"], r["queries"], r["columns"], r["mask_h"], r["mask_w"]
    get = lambda name, shape: np.array(r[name], dtype=np.uint32).reshape(shape).view(np.float32)
    return {"logits": get("logits_bits", (b, q, c)), "boxes": get("boxes_bits", (b, q, 4)),
            "masks": get("masks_bits", (b, q, mh, mw)), "mask_dtype": "f32"}


def tensor_hash(arr):
    """SHA-256 (hex) of the little-endian bytes of a tensor in its own dtype."""
    a = np.ascontiguousarray(arr)
    a = a.astype(a.dtype.newbyteorder("<"), copy=False)
    return hashlib.sha256(a.tobytes()).hexdigest()


def hashes(t):
    return {name: tensor_hash(t[name]) for name in ("logits", "boxes", "masks")}


if __name__ == "__main__":
    import sys
    recipe = json.load(open(sys.argv[1])) if len(sys.argv) > 1 else json.load(sys.stdin)
    print(json.dumps(hashes(generate(recipe)), indent=1))
