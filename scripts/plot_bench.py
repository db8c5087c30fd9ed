#!/usr/bin/env python3
"""Plot the end-to-end benchmark: latency vs detections per frame and vs image area (log y).

    python3 scripts/plot_bench.py --ours OUT/ours.json --torch OUT/torch.json --out bench.png

Reads the results files of `benches/e2e.rs` (RLE_BENCH_OUT) and `scripts/bench_torch.py`.
Left: the `detections` sweep (1920x1080, Q=100, f32, batch 1); right: the `frame` sweep
(Q=100, 15 detections). Each source is its p50 line with a band up to p99; the floor
(empty kernel + 64-byte copy + sync) is a dashed line. Needs matplotlib.
"""

import argparse
import json

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

SERIES = [  # (file key, group, label, colour)
    ("ours", "gpu_e2e", "ours: GPU, device inputs", "tab:blue"),
    ("ours", "gpu_e2e_hostinputs", "ours: GPU, host inputs", "tab:cyan"),
    ("torch", "torch_e2e", "PyTorch (CUDA + pycocotools)", "tab:orange"),
]


def points(doc, group, axis, x_of):
    """Sorted (x, p50 ms, p99 ms, label) of `group` on the sweep `axis` (centre included)."""
    out = []
    for r in (doc or {}).get("results", []):
        if r["group"] != group or r.get("axis") not in ("centre", axis) or not r.get("stats"):
            continue
        x, label = x_of(r["params"])
        out.append((x, r["stats"]["p50_us"] / 1e3, r["stats"]["p99_us"] / 1e3, label))
    return sorted(out)


def panel(ax, docs, axis, x_of, xlabel, logx):
    for key, group, label, colour in SERIES:
        pts = points(docs.get(key), group, axis, x_of)
        if not pts:
            continue
        xs = [p[0] for p in pts]
        ax.plot(xs, [p[1] for p in pts], "o-", color=colour, label=f"{label} (p50, band to p99)")
        ax.fill_between(xs, [p[1] for p in pts], [p[2] for p in pts], color=colour, alpha=0.2)
    floor = ((docs.get("ours") or {}).get("floor") or {}).get("stats")
    if floor:
        ax.axhline(floor["p50_us"] / 1e3, color="grey", ls="--", label="floor: launch + 64 B copy + sync (p50)")
    ticks = sorted({(p[0], p[3]) for key, group, _, _ in SERIES for p in points(docs.get(key), group, axis, x_of)})
    if ticks:
        ax.set_xticks([t[0] for t in ticks])
        ax.set_xticklabels([t[1] for t in ticks])
    ax.set_yscale("log")
    if logx:
        ax.set_xscale("log")
        ax.minorticks_off()
        ax.set_xticks([t[0] for t in ticks])
        ax.set_xticklabels([t[1] for t in ticks])
    ax.set_xlabel(xlabel)
    ax.set_ylabel("latency per frame (ms, log)")
    ax.grid(True, which="both", alpha=0.3)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ours")
    ap.add_argument("--torch")
    ap.add_argument("--out", required=True, help="PNG path")
    a = ap.parse_args()
    docs = {k: json.load(open(p)) for k, p in (("ours", a.ours), ("torch", a.torch)) if p}
    dev = next((d["device"]["name"] for d in docs.values() if d.get("device")), "no GPU")

    fig, (left, right) = plt.subplots(1, 2, figsize=(13, 5))
    panel(left, docs, "detections", lambda p: (p["detections"], str(p["detections"])),
          "detections per frame (1920x1080, Q=100, f32, batch 1)", logx=False)
    panel(right, docs, "frame",
          lambda p: (p["frame_w"] * p["frame_h"] / 1e6, f"{p['frame_w']}x{p['frame_h']}"),
          "image area (log; Q=100, 15 detections, f32, batch 1)", logx=True)
    left.legend(fontsize=8)
    fig.suptitle(f"RF-DETR segmentation post-processing to COCO RLE, end to end per frame: {dev}")
    fig.tight_layout()
    fig.savefig(a.out, dpi=120)
    print(f"wrote {a.out}")


if __name__ == "__main__":
    main()
