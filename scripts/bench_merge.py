#!/usr/bin/env python3
"""Merge the Rust bench's `ours.json` and `bench_torch.py`'s `torch.json` into Markdown tables.

    python3 scripts/bench_merge.py --ours OUT/ours.json --torch OUT/torch.json [--out OUT/report.md]

Main table, one row per configuration: ours (`gpu_e2e`: device inputs -> host detections)
p50/p90/p99, PyTorch p50/p90/p99, the ratio PyTorch / ours at p50, and the distance to
the floor (ours p50 - floor p50; the floor is an empty kernel launch + a 64-byte
device-to-pinned-host copy + a stream synchronize, measured in the same run). A second
table lists the host-input GPU path and the CPU reference where they were measured.
Then the checks: both sides had bit-identical inputs (tensor SHA-256, metadata, options)
and found the configured number of detections. Either file may be missing a section;
what is missing shows as "-". Standard library only.
"""

import argparse
import json
import sys

OURS = "gpu_e2e"
HOST = "gpu_e2e_hostinputs"
CPU = "cpu_e2e"
TORCH = "torch_e2e"


def load(path):
    if not path:
        return None
    with open(path) as f:
        doc = json.load(f)
    if doc.get("schema") != "rle-bench/1":
        sys.exit(f"{path}: not an rle-bench/1 results file")
    return doc


def fmt(us):
    if us is None:
        return "-"
    if us < 100:
        return f"{us:.1f} µs"
    if us < 1000:
        return f"{us:.0f} µs"
    if us < 100_000:
        return f"{us / 1000:.2f} ms"
    return f"{us / 1000:.0f} ms"


def triple(stats):
    if not stats:
        return "-"
    return " / ".join(fmt(stats[k]) for k in ("p50_us", "p90_us", "p99_us"))


def ratio(num, den):
    if not num or not den or den["p50_us"] <= 0:
        return "-"
    r = num["p50_us"] / den["p50_us"]
    return f"{r:.1f}×" if r < 10 else f"{r:.0f}×"


def by_group(docs):
    """{group: {config: result}} and the configurations in first-seen order."""
    groups, order, axis = {}, [], {}
    for doc in docs:
        for r in doc["results"] if doc else []:
            groups.setdefault(r["group"], {})[r["config"]] = r
            if r["config"] not in axis:
                order.append(r["config"])
                axis[r["config"]] = r.get("axis", "")
    return groups, order, axis


def header(ours, torch):
    lines = []
    dev = (ours or {}).get("device") or (torch or {}).get("device")
    if dev:
        cc = dev.get("compute_capability") or ["?", "?"]
        extra = f", driver {dev['driver_version']}" if "driver_version" in dev else ""
        lines.append(f"GPU: {dev['name']} (sm_{cc[0]}{cc[1]}, {dev.get('multiprocessors', '?')} SMs{extra})")
    if torch:
        v = torch.get("versions", {})
        s = torch.get("settings", {})
        lines.append(f"PyTorch {v.get('torch')} (CUDA {v.get('cuda')}), "
                     f"torchvision {v.get('torchvision')}, encoder {v.get('encoder')} {v.get('pycocotools') or ''}, "
                     f"{'per-detection' if s.get('per_detection_resize') else 'batched'} resize, "
                     f"device {s.get('torch_device')}")
    if ours:
        lines.append(f"Host CPU: {ours.get('host_cpu')}")
        s = ours.get("settings", {})
        lines.append(f"Ours: criterion warm-up {s.get('warm_up_s')} s, measurement {s.get('measurement_s')} s; "
                     f"inputs rotated over {s.get('distinct_batches')} batches in ≥ {s.get('rotate_mib')} MiB of device copies")
    floor = (ours or {}).get("floor")
    if floor and floor.get("stats"):
        lines.append(f"Floor ({floor['what']}): p50 / p90 / p99 = {triple(floor['stats'])}")
    return [f"- {l}" for l in lines]


def checks(groups, order):
    """Input identity across sides and detection counts."""
    out = []
    ours_inputs = {}
    for g in (OURS, HOST, CPU):
        for c, r in groups.get(g, {}).items():
            ours_inputs.setdefault(c, r.get("input"))
    both = [c for c in order if c in ours_inputs and c in groups.get(TORCH, {})]
    diff = [c for c in both if ours_inputs[c] != groups[TORCH][c].get("input")]
    if both:
        out.append(f"- Inputs bit-identical on both sides (tensor SHA-256, metadata, options): "
                   f"{len(both) - len(diff)} of {len(both)} configurations"
                   + (f"; DIFFERENT: {', '.join(diff)}" if diff else ""))
    bad = []
    for g, results in groups.items():
        for c, r in results.items():
            p = r.get("params", {})
            want = min(p.get("detections", 0), p.get("queries", 0)) * p.get("batch", 1)
            if r.get("detections") != want:
                bad.append(f"{g}/{c}: {r.get('detections')} (configured {want})")
    out.append("- Detections as configured in every measured configuration" if not bad
               else "- Detection counts DIFFER: " + "; ".join(bad))
    return out


def report(ours, torch):
    groups, order, axis = by_group([ours, torch])
    floor = ((ours or {}).get("floor") or {}).get("stats")
    ours_g, torch_g = groups.get(OURS, {}), groups.get(TORCH, {})
    lines = ["### End-to-end latency per frame: ours (GPU, device inputs) vs PyTorch", ""]
    lines += header(ours, torch) + [""]
    lines.append("| config | axis | ours p50 / p90 / p99 | PyTorch p50 / p90 / p99 | PyTorch / ours (p50) | ours − floor (p50) |")
    lines.append("|---|---|---|---|---|---|")
    for c in order:
        o = (ours_g.get(c) or {}).get("stats")
        t = (torch_g.get(c) or {}).get("stats")
        if not o and not t:
            continue
        dist = fmt(o["p50_us"] - floor["p50_us"]) if o and floor else "-"
        lines.append(f"| {c} | {axis[c]} | {triple(o)} | {triple(t)} | {ratio(t, o)} | {dist} |")
    other = [c for c in order if (groups.get(HOST, {}).get(c) or {}).get("stats")
             or (groups.get(CPU, {}).get(c) or {}).get("stats")]
    if other:
        lines += ["", "### Other paths (p50 / p90 / p99)", ""]
        lines.append("| config | GPU, host inputs (`run`) | CPU reference | host / device inputs (p50) | CPU / GPU (p50) |")
        lines.append("|---|---|---|---|---|")
        for c in other:
            h = (groups.get(HOST, {}).get(c) or {}).get("stats")
            p = (groups.get(CPU, {}).get(c) or {}).get("stats")
            o = (ours_g.get(c) or {}).get("stats")
            lines.append(f"| {c} | {triple(h)} | {triple(p)} | {ratio(h, o)} | {ratio(p, o)} |")
    lines += ["", "Checks:", ""] + checks(groups, order)
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ours", help="ours.json of benches/e2e.rs (RLE_BENCH_OUT)")
    ap.add_argument("--torch", help="torch.json of scripts/bench_torch.py")
    ap.add_argument("--out", help="also write the Markdown here")
    a = ap.parse_args()
    if not a.ours and not a.torch:
        ap.error("give --ours, --torch or both")
    md = report(load(a.ours), load(a.torch))
    sys.stdout.write(md)
    if a.out:
        with open(a.out, "w") as f:
            f.write(md)


if __name__ == "__main__":
    main()
