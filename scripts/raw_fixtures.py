"""Raw-kernel fixtures: torch sigmoid bits and single-resize bits (SPEC §2.1, §3).

`sigmoid_fixture` samples ~32768 float32 inputs, dense in [-20, 20], sparser out
to ±100, plus the specials and the edges SPEC §2.1 names (saturation near 16.6,
overflow near -88.7, subnormals). `resize_fixture` runs `F.interpolate(bilinear,
align_corners=False, antialias=...)` on small 1×1×h×w float32 inputs; it calls the
kernel directly (no torchvision early return), so the same-size case shows the
kernel's own inf/NaN behaviour. Inputs come from numpy's seeded RNG and are
stored with the outputs, so nothing here has to be reproduced elsewhere.
"""

import base64

import numpy as np
import torch
import torch.nn.functional as F


def b64_u32(a):
    return base64.b64encode(np.ascontiguousarray(a, dtype=np.float32).view("<u4").tobytes()).decode()


def sigmoid_inputs():
    rng = np.random.default_rng(20240611)
    parts = [
        rng.uniform(-20, 20, 20000),
        rng.uniform(-100, 100, 4000),
        rng.uniform(16.0, 17.5, 1500),      # saturation to exactly 1.0
        rng.uniform(-90.0, -85.0, 1500),    # tiny results, expf overflow
        rng.uniform(-1e-3, 1e-3, 500),
        np.concatenate([-np.logspace(-45, 2, 1000), np.logspace(-45, 2, 1000)]),
    ]
    x = np.concatenate(parts).astype(np.float32)
    # a contiguous run of bit patterns around 0.4's logit and around 16.64
    for centre in (np.float32(-0.4054651), np.float32(16.635532), np.float32(-88.72284)):
        bits = np.int64(np.array([centre], dtype=np.float32).view(np.int32)[0])
        x = np.concatenate([x, (np.arange(bits - 200, bits + 200).astype(np.int32)).view(np.float32)])
    specials = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 1e-45, -1e-45, 1.1754944e-38,
                         -1.1754944e-38, 3.4028235e38, -3.4028235e38, 16.6, 16.7, -87.0, 88.0, -88.0,
                         0.5, -0.5, 1.0, -1.0, 17.0, 100.0, -100.0], dtype=np.float32)
    x = np.concatenate([x, specials])
    pad = 32768 - x.size
    x = np.concatenate([x, rng.uniform(-20, 20, max(pad, 0)).astype(np.float32)])
    return x


def sigmoid_fixture(device, provenance):
    x = sigmoid_inputs()
    y = torch.sigmoid(torch.from_numpy(x).to(device)).cpu().numpy()
    return {"provenance": provenance, "count": int(x.size), "encoding": "base64 of little-endian u32",
            "input_bits": b64_u32(x), "output_bits": b64_u32(y)}


# (in_h, in_w, out_h, out_w, input kind)
RESIZE_SHAPES = [
    (3, 4, 5, 6, "spec"),          # SPEC §3.8 upsampling example
    (6, 6, 4, 3, "spec_down"),     # SPEC §3.8 downsampling example
    (13, 17, 40, 29, "random"),    # upsampling both axes
    (31, 23, 12, 9, "random"),     # downsampling both axes
    (20, 20, 20, 45, "pm1"),       # height same, width up, ±1 values
    (24, 16, 11, 16, "random"),    # width same, height down
    (9, 11, 9, 11, "special"),     # same size on both axes, inf/NaN/−inf inside
    (48, 40, 44, 78, "random"),    # 192→176-like mild downsampling + upsampling
    (78, 78, 50, 40, "random"),    # SPEC §3.7's 78→50
    (16, 12, 60, 64, "special"),   # upsampling with inf/NaN/−inf
]


def resize_input(kind, h, w, rng):
    if kind == "spec":
        return np.array([[-2, 1, 3, -1], [0.5, -0.25, 2, -3], [1, 1, -1, -1]], dtype=np.float32)
    if kind == "spec_down":
        r, c = np.mgrid[0:6, 0:6]
        return (0.25 * (6 * r + c) - 4).astype(np.float32)
    if kind == "pm1":
        return rng.choice(np.array([-1.0, 1.0], dtype=np.float32), size=(h, w))
    x = rng.normal(0, 4, size=(h, w)).astype(np.float32)
    if kind == "special":
        flat = x.reshape(-1)
        pos = rng.choice(flat.size, size=9, replace=False)
        flat[pos] = np.array([np.inf, np.inf, -np.inf, -np.inf, np.nan, np.nan, np.inf, -np.inf, np.nan],
                             dtype=np.float32)
    return x


def resize_fixture(device, provenance):
    rng = np.random.default_rng(7)
    cases = []
    for mode in ("antialiased", "bilinear"):
        for h, w, oh, ow, kind in RESIZE_SHAPES:
            x = resize_input(kind, h, w, rng)
            t = torch.from_numpy(x)[None, None].to(device)
            y = F.interpolate(t, size=(oh, ow), mode="bilinear", align_corners=False,
                              antialias=(mode == "antialiased"))[0, 0].cpu().numpy()
            cases.append({"mode": mode, "in_h": h, "in_w": w, "out_h": oh, "out_w": ow,
                          "input_bits": x.view(np.uint32).reshape(-1).tolist(),
                          "output_bits": y.astype(np.float32).view(np.uint32).reshape(-1).tolist()})
    return {"provenance": provenance,
            "call": "F.interpolate(x[None,None], size=(out_h,out_w), mode='bilinear', align_corners=False, "
                    "antialias=(mode=='antialiased')), float32, row-major bits",
            "cases": cases}
