"""Probe of PyTorch-on-CUDA tie order in the two steps of the reference that
order equal scores (SPEC §2.2 topk, §2.5 sort, §9 Q2). Prints, per step and
size, how tied entries come out: 'asc' (ascending index), 'desc', or 'mixed'.
Run on the GPU machine: python3 scripts/probe_tie_order.py
"""
import torch

torch.manual_seed(0)
dev = "cuda"


def order(idx_list):
    if idx_list == sorted(idx_list):
        return "asc"
    if idx_list == sorted(idx_list, reverse=True):
        return "desc"
    return "mixed"


def topk_probe(n, k, trials=20):
    seen = {}
    for t in range(trials):
        x = torch.rand(n, device=dev) * 0.5
        # a pair (or group) of ties inside the top-k, at random positions
        pos = torch.randperm(n)[:3].tolist()
        x[pos] = 0.9 + 0.001 * (t % 5)
        v, i = torch.topk(x, k)
        tied = [j for j in i.tolist() if j in pos]
        o = order(tied)
        seen[o] = seen.get(o, 0) + 1
    return seen


def sort_probe(n, trials=20):
    seen = {}
    for t in range(trials):
        x = torch.rand(n, device=dev)
        pos = sorted(torch.randperm(n)[:3].tolist())
        x[pos] = 0.5
        v, i = torch.sort(x, descending=True)
        tied = [j for j in i.tolist() if j in pos]
        o = order(tied)
        seen[o] = seen.get(o, 0) + 1
    return seen


for n, k in [(9100, 100), (18200, 200), (27300, 300), (600, 100), (1200, 100), (100 * 6, 100)]:
    print(f"topk n={n} k={k}: {topk_probe(n, k)}")
for n in [2, 3, 5, 8, 10, 16, 17, 32, 33, 64, 100, 128, 200, 256, 300, 1000, 2048, 5000]:
    print(f"sort(desc) n={n}: {sort_probe(n)}")
