"""The GPU path from Python, on torch CUDA tensors (skipped without a GPU):
every fixture bit for bit (no score tolerance), random frames equal to the
Rust reference (through the staged host path), CuPy / DLPack inputs, half-precision logits and boxes, the
caller's stream under load from other streams, submit/collect with the
inputs-consumed event, and 100,000 calls with flat host and device memory."""

import gc
import os
import resource

import numpy as np
import pytest

import rle_gpu
from conftest import (assert_matches_expected, assert_same_results, fixture_cases, gpu, mask_dtype_name,
                      random_frame, run_kwargs, tensors, torch_cuda)

pytestmark = gpu

CASES = [c for c in fixture_cases() if c["options"].get("canvas", "Current") == "Current"]


@pytest.fixture(scope="module")
def torch():
    return torch_cuda()


@pytest.fixture(scope="module")
def pp():
    p = rle_gpu.Postprocessor(device=0, fallback="error")
    assert p.is_gpu
    return p


def cuda_inputs(torch, t, dtype_name):
    """Host tensors of a frame (masks: float32, float16 or uint16 bf16 bits) on CUDA."""
    logits = torch.from_numpy(np.ascontiguousarray(t[0])).cuda()
    boxes = torch.from_numpy(np.ascontiguousarray(t[1])).cuda()
    m = np.ascontiguousarray(t[2])
    if dtype_name == "bfloat16":
        masks = torch.from_numpy(m.view(np.int16)).cuda().view(torch.bfloat16)
    else:
        masks = torch.from_numpy(m).cuda()
    return logits, boxes, masks


def cuda_frames(torch, pp, seeds):
    """Random f32 frames on CUDA, ((logits, boxes, masks), metas, kwargs) each, and
    their results from a plain run."""
    frames = []
    for seed in seeds:
        logits, boxes, masks, dtype, metas, kw = random_frame(np.random.default_rng(seed), "float32")
        frames.append((cuda_inputs(torch, (logits, boxes, masks), "float32"), metas, kw))
    return frames, [pp.run(bx, lg, mk, metas, **kw) for (lg, bx, mk), metas, kw in frames]


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_fixture_on_cuda_tensors_is_bit_exact(torch, pp, case):
    t = tensors(case)
    lg, bx, mk = cuda_inputs(torch, (t["logits"], t["boxes"], t["masks"]), mask_dtype_name(t["mask_dtype"]))
    before = [x.clone() for x in (lg, bx, mk)]
    got = pp.run(bx, lg, mk, case["metas"], **run_kwargs(case["options"]))
    assert_matches_expected(case["name"], got, case["images"], score_ulp=0)
    for a, b in zip((lg, bx, mk), before):  # the inputs are untouched
        assert torch.equal(a.view(torch.uint8), b.view(torch.uint8))


def test_random_frames_on_cuda_tensors_equal_host_inputs_on_the_gpu(torch, pp):
    """The zero-copy tensor path against the staged host path of the same
    kernels (the Rust GPU tests prove those equal the reference fed with the
    GPU's scores; test_gpu_dropin.py compares with the released package)."""
    n = dets = 0
    for seed in range(300):
        rng = np.random.default_rng(777 + seed)
        logits, boxes, masks, dtype, metas, kw = random_frame(rng)
        lg, bx, mk = cuda_inputs(torch, (logits, boxes, masks), dtype)
        got = pp.run(bx, lg, mk, metas, **kw)
        want = pp.run(boxes, logits, masks, metas, masks_dtype=dtype, **kw)
        assert_same_results(got, want, f"seed {seed}")
        dets += sum(len(r) for r in got)
        n += 1
    assert dets > 500
    print(f"gpu python random: {n} frames, {dets} detections, tensors == host inputs")


def test_cupy_and_dlpack_inputs_equal_torch_inputs(torch, pp):
    cupy = pytest.importorskip("cupy")
    case = next(c for c in CASES if c["name"] == "batch_of_3")
    t = tensors(case)
    lg, bx, mk = cuda_inputs(torch, (t["logits"], t["boxes"], t["masks"]), "float32")
    want = pp.run(bx, lg, mk, case["metas"], **run_kwargs(case["options"]))

    class OnlyDLPack:
        def __init__(self, x):
            self._x = x

        def __dlpack__(self, stream=None):
            return self._x.__dlpack__(stream=stream)

        def __dlpack_device__(self):
            return self._x.__dlpack_device__()

    via_cupy = [cupy.asarray(x) for x in (bx, lg, mk)]
    torch.cuda.synchronize()
    assert_same_results(pp.run(*via_cupy, case["metas"], **run_kwargs(case["options"])), want, "cupy")
    via_dl = [OnlyDLPack(x) for x in (bx, lg, mk)]
    assert_same_results(pp.run(*via_dl, case["metas"], **run_kwargs(case["options"])), want, "dlpack")


@pytest.mark.parametrize("half", ["float16", "bfloat16"])
def test_half_logits_and_boxes_are_widened_on_the_device(torch, pp, half):
    dt = getattr(torch, half)
    for seed in range(20):
        rng = np.random.default_rng(4242 + seed)
        logits, boxes, masks, dtype, metas, kw = random_frame(rng, "float32")
        lg, bx, mk = cuda_inputs(torch, (logits, boxes, masks), "float32")
        lh, bh = lg.to(dt), bx.to(dt)
        got = pp.run(bh, lh, mk, metas, **kw)
        want = pp.run(bh.float(), lh.float(), mk, metas, **kw)
        assert_same_results(got, want, f"{half} seed {seed}")


def test_noncontiguous_cuda_tensor_is_a_clear_error(torch, pp):
    rng = np.random.default_rng(5)
    logits, boxes, masks, dtype, metas, kw = random_frame(rng, "float32")
    lg, bx, mk = cuda_inputs(torch, (logits, boxes, masks), "float32")
    with pytest.raises(ValueError, match=r"masks: a non-contiguous CUDA tensor.*contiguous\(\)"):
        pp.run(bx, lg, mk.transpose(2, 3), metas, **kw)


def test_results_are_right_while_other_streams_and_the_default_stream_work(torch, pp):
    frames, want = cuda_frames(torch, pp, range(31, 39))
    a = torch.randn(4096, 4096, device="cuda")
    side, ours = torch.cuda.Stream(), torch.cuda.Stream()
    for _ in range(3):
        # Long matmuls queued on the legacy default stream and on another stream.
        for _ in range(8):
            a = a @ a / 4096
        with torch.cuda.stream(side):
            b = a.clone()
            for _ in range(8):
                b = b @ b / 4096
        with torch.cuda.stream(ours):
            # Inputs produced on this stream right before the call.
            for ((lg, bx, mk), metas, kw), w in zip(frames, want):
                mk2 = mk * 1.0
                got = pp.run(bx, lg, mk2, metas, **kw)
                assert_same_results(got, w, "busy streams")
                f = pp.submit(bx, lg, mk2, metas, **kw)
                assert_same_results(f.result(), w, "busy streams (submit)")
    torch.cuda.synchronize()


def test_submit_collect_with_the_inputs_consumed_event(torch, pp):
    frames, want = cuda_frames(torch, pp, range(51, 57))
    stream = torch.cuda.Stream()
    with torch.cuda.stream(stream):
        pending = []
        for (lg, bx, mk), metas, kw in frames:
            consumed = torch.cuda.Event()
            f = pp.submit(bx, lg, mk, metas, inputs_consumed_event=consumed, **kw)
            pending.append((f, consumed, (lg, bx, mk)))
        # Once each event completes, the caller reuses its buffers.
        for f, consumed, (lg, bx, mk) in pending:
            consumed.synchronize()
            mk.fill_(-7.0)
            lg.fill_(9.0)
        for (f, _, _), w in zip(reversed(pending), reversed(want)):
            assert_same_results(f.result(), w, "submit")
    assert pp._engine.in_flight == 0


def test_overflowing_frame_after_the_consumed_event_reads_its_snapshot(torch):
    """Strings beyond the initial 1 MiB arena: collect reruns two passes, after
    the caller has already overwritten the masks (allowed once the consumed
    event completed), so the rerun must read the post-processor's copy."""
    yy, xx = np.mgrid[0:1024, 0:1024]
    masks = np.where((xx + yy) % 2 == 0, 2.5, -2.5).astype(np.float32)[None, None]
    logits = np.array([[[3.0, -9.0]]], np.float32)
    boxes = np.array([[[0.5, 0.5, 0.9, 0.9]]], np.float32)
    meta = {"original_size": {"height": 2048, "width": 2048},
            "static_crop": {"offset_x": 0, "offset_y": 0, "width": 2048, "height": 2048},
            "size_after_pre_processing": {"height": 2048, "width": 2048},
            "inference_size": {"height": 2048, "width": 2048}, "nonsquare_intermediate_size": None,
            "pad_left": 0, "pad_top": 0, "pad_right": 0, "pad_bottom": 0,
            "scale_width": 1.0, "scale_height": 1.0}
    kw = dict(threshold=0.5, num_classes=1)
    want = rle_gpu.Postprocessor("cpu").run(boxes, logits, masks, [meta], **kw)
    assert len(want[0]) == 1 and len(want[0].counts[0]) > 1 << 20
    fresh = rle_gpu.Postprocessor(device=0, fallback="error")
    lg, bx, mk = cuda_inputs(torch, (logits, boxes, masks), "float32")
    consumed = torch.cuda.Event()
    f = fresh.submit(bx, lg, mk, [meta], inputs_consumed_event=consumed, **kw)
    consumed.synchronize()
    mk.fill_(-1.0)
    lg.fill_(-1.0)
    torch.cuda.synchronize()
    got = f.result()
    assert got[0].counts == want[0].counts and got[0].xyxy.tolist() == want[0].xyxy.tolist()


def _rss_kib():
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * (os.sysconf("SC_PAGE_SIZE") // 1024)


def test_100000_calls_keep_host_and_device_memory_flat(torch, pp):
    calls = int(os.environ.get("RLE_PY_SOAK_CALLS", "100000"))
    rng = np.random.default_rng(3)
    logits, boxes, masks, dtype, metas, kw = random_frame(rng, "float32")
    lg, bx, mk = cuda_inputs(torch, (logits, boxes, masks), "float32")
    want = pp.run(bx, lg, mk, metas, **kw)
    assert sum(len(r) for r in want) > 0
    marks = []
    for i in range(calls):
        got = pp.run(bx, lg, mk, metas, **kw)
        if i % (calls // 10) == 0:
            gc.collect()
            free, total = torch.cuda.mem_get_info()
            marks.append((i, _rss_kib(), total - free))
            assert_same_results(got, want, f"call {i}")
    gc.collect()
    free, total = torch.cuda.mem_get_info()
    marks.append((calls, _rss_kib(), total - free))
    base = marks[1]
    grow_host = marks[-1][1] - base[1]
    grow_dev = marks[-1][2] - base[2]
    print(f"gpu python soak: {calls} calls, host RSS {base[1]} -> {marks[-1][1]} KiB, "
          f"device used {base[2] >> 20} -> {marks[-1][2] >> 20} MiB")
    assert grow_host < 8 * 1024, marks
    assert grow_dev <= 2 << 20, marks
