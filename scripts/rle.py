"""COCO RLE helpers (SPEC.md §4): column-major counts and the compressed string.

`rle_to_string` is an independent port of cocoapi's `rleToString`; the fixture
generator asserts that it equals pycocotools' `encode` on every mask, so the
committed strings are checked twice. `rle_fr_string` is the decoder, used only
to self-test.
"""

import numpy as np


def counts_of(mask):
    """Uncompressed counts of an H×W bool/uint8 mask (column-major, starts with zeros)."""
    flat = np.asarray(mask, dtype=np.uint8).T.reshape(-1)
    n = flat.size
    change = np.flatnonzero(flat[1:] != flat[:-1]) + 1
    edges = np.concatenate([[0], change, [n]])
    counts = np.diff(edges).tolist()
    if n and flat[0] == 1:
        counts.insert(0, 0)
    if n == 0:
        counts = [0]
    return counts


def rle_to_string(counts):
    """cocoapi rleToString: delta against counts[i-2] from i > 2, 5-bit groups."""
    out = bytearray()
    for i, c in enumerate(counts):
        x = int(c)
        if i > 2:
            x -= int(counts[i - 2])
        while True:
            g = x & 0x1F
            x >>= 5  # Python >> on ints is arithmetic (floor)
            more = (x != -1) if (g & 0x10) else (x != 0)
            if more:
                g |= 0x20
            out.append(g + 48)
            if not more:
                break
    return bytes(out)


def rle_fr_string(s):
    """cocoapi rleFrString: the inverse of `rle_to_string`."""
    counts, p = [], 0
    while p < len(s):
        x, k, more = 0, 0, True
        while more:
            c = s[p] - 48
            x |= (c & 0x1F) << (5 * k)
            more = bool(c & 0x20)
            p += 1
            k += 1
            if not more and (c & 0x10):
                x |= -1 << (5 * k)
        if len(counts) > 2:
            x += counts[-2]
        counts.append(x)
    return counts


def self_test():
    """SPEC §4.3's worked examples."""
    m = np.array([[0, 1, 1], [0, 1, 0], [1, 1, 0]])
    assert counts_of(m) == [2, 5, 2] and rle_to_string([2, 5, 2]) == b"252"
    assert rle_to_string(counts_of(np.ones((2, 2)))) == b"04"
    assert rle_to_string(counts_of(np.zeros((2, 3)))) == b"6"
    m = np.zeros((4, 3)); m[2:4, 0] = 1; m[0:2, 1] = 1
    assert counts_of(m) == [2, 4, 6] and rle_to_string([2, 4, 6]) == b"246"
    m = np.array([[1, 0, 0, 0], [0, 1, 1, 0], [0, 1, 1, 0], [0, 1, 1, 0], [0, 0, 0, 1]])
    assert counts_of(m) == [0, 1, 5, 3, 2, 3, 5, 1] and rle_to_string(counts_of(m)) == b"0152M03N"
    assert rle_to_string([100, 20, 300, 5, 40]) == b"T3d0\\9AlG"
    assert rle_to_string([8294400]) == b"PPTm7"
    assert rle_to_string([0, 2073600]) == b"0PPYo1"
    for c in ([100, 20, 300, 5, 40], [0, 1, 5, 3, 2, 3, 5, 1], [8294400]):
        assert rle_fr_string(rle_to_string(c)) == c


if __name__ == "__main__":
    self_test()
    print("rle self-test ok")
