"""The CPU path (no GPU needed): every committed fixture (the released
package's outputs on CUDA) and the embedded demo frame come out bit for bit,
and random frames equal the Rust reference (`rle_reference::postprocess`)."""

import json

import numpy as np
import pytest

import rle_gpu
from rle_gpu import _native
from rle_gpu._convert import meta_tuple, options_tuple
from conftest import CPU_SCORE_ULP, ROOT, mask_dtype_name, assert_matches_expected, assert_same_results, fixture_cases, random_frame, run_kwargs, tensors
import synth
from rle_gpu._postprocessor import _image_results


def reference(logits, boxes, masks, dtype, metas, kw):
    opts = options_tuple(kw["threshold"], kw["num_classes"], kw["class_mapping"], kw["max_detections"],
                         kw["masks_resolution_factor"], kw["resize"])
    if masks.dtype == np.float16:
        masks = masks.view(np.uint16)
    raw = _native.reference(logits, boxes, masks, dtype, [meta_tuple(m, i) for i, m in enumerate(metas)], opts)
    return _image_results(raw)


CASES = [c for c in fixture_cases() if c["options"].get("canvas", "Current") == "Current"]


@pytest.fixture(scope="module")
def cpu():
    return rle_gpu.Postprocessor(device="cpu")


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_fixture_equals_the_released_package(cpu, case):
    t = tensors(case)
    got = cpu.run(t["boxes"], t["logits"], t["masks"], case["metas"], masks_dtype=mask_dtype_name(t["mask_dtype"]),
                  **run_kwargs(case["options"]))
    assert_matches_expected(case["name"], got, case["images"], score_ulp=CPU_SCORE_ULP)


def test_the_fixture_set_detects_something():
    n = sum(len(img["detections"]) for c in CASES for img in c["images"])
    assert len(CASES) >= 50 and n > 500


def test_embedded_demo_frame():
    recipe = json.loads((ROOT / "src" / "demo" / "recipe.json").read_text())
    t = synth.generate(recipe)
    meta = {"original_size": {"height": 1080, "width": 1920},
            "static_crop": {"offset_x": 0, "offset_y": 0, "width": 1920, "height": 1080},
            "size_after_pre_processing": {"height": 1080, "width": 1920},
            "inference_size": {"height": 312, "width": 312}, "nonsquare_intermediate_size": None,
            "pad_left": 0, "pad_top": 0, "pad_right": 0, "pad_bottom": 0,
            "scale_width": 312 / 1920, "scale_height": 312 / 1080}
    kw = dict(threshold=0.4, num_classes=90, class_mapping=None, max_detections=300,
              masks_resolution_factor=1.0, resize="antialiased")
    got = rle_gpu.Postprocessor("cpu").run(t["boxes"], t["logits"], t["masks"], [meta], **kw)
    want = reference(t["logits"], t["boxes"], t["masks"], "float32", [meta], kw)
    assert_same_results(got, want, "demo")
    # The frame docs/CLI.md shows: 15 detections, the first a person at [0, 0, 1137, 227].
    r = got[0]
    assert len(r) == 15
    assert r.class_id[0] == 1 and r.xyxy[0].tolist() == [0, 0, 1137, 227]
    assert r.rles[0]["size"] == [1080, 1920] and isinstance(r.rles[0]["counts"], str)
    counts, lengths = r.uncompressed_counts()
    assert counts.shape[0] == 15 and lengths.dtype == np.int32
    # Uncompressed counts cover the whole grid and the foreground matches the CLI's area.
    assert (counts.sum(axis=1) == 1080 * 1920).all()
    assert int(counts[0, 1 : lengths[0] : 2].sum()) == 262019


@pytest.mark.parametrize("seed", range(40))
def test_random_frames_equal_the_rust_reference(seed):
    rng = np.random.default_rng(20261203 + seed)
    logits, boxes, masks, dtype, metas, kw = random_frame(rng)
    got = rle_gpu.Postprocessor("cpu").run(boxes, logits, masks, metas, masks_dtype=dtype, **kw)
    want = reference(logits, boxes, masks, dtype, metas, kw)
    assert_same_results(got, want, f"seed {seed}")


def test_random_frames_detect_something():
    total = 0
    for seed in range(40):
        rng = np.random.default_rng(20261203 + seed)
        logits, boxes, masks, dtype, metas, kw = random_frame(rng)
        total += sum(len(r) for r in rle_gpu.Postprocessor("cpu").run(boxes, logits, masks, metas, masks_dtype=dtype, **kw))
    assert total > 100


def test_pycocotools_decodes_our_masks_when_installed():
    mask_utils = pytest.importorskip("pycocotools.mask")
    rng = np.random.default_rng(7)
    logits, boxes, masks, dtype, metas, kw = random_frame(rng, "float32")
    kw["masks_resolution_factor"] = 1.0
    r = rle_gpu.Postprocessor("cpu").run(boxes, logits, masks, metas, masks_dtype=dtype, **kw)[0]
    for rle, (counts, length) in zip(r.rles, zip(*r.uncompressed_counts())):
        dense = mask_utils.decode({"size": rle["size"], "counts": rle["counts"].encode()})
        assert dense.shape == tuple(rle["size"])
        again = mask_utils.frPyObjects({"size": rle["size"], "counts": counts[:length].tolist()}, *rle["size"])
        assert again["counts"].decode() == rle["counts"]


def test_half_host_logits_and_boxes_are_widened_exactly():
    rng = np.random.default_rng(11)
    logits, boxes, masks, dtype, metas, kw = random_frame(rng, "float32")
    l16, b16 = logits.astype(np.float16), boxes.astype(np.float16)
    pp = rle_gpu.Postprocessor("cpu")
    got = pp.run(b16, l16, masks, metas, **kw)
    want = pp.run(b16.astype(np.float32), l16.astype(np.float32), masks, metas, **kw)
    assert_same_results(got, want, "f16 host")


def test_non_contiguous_host_inputs_are_copied_not_misread():
    rng = np.random.default_rng(12)
    logits, boxes, masks, dtype, metas, kw = random_frame(rng, "float32")
    pp = rle_gpu.Postprocessor("cpu")
    want = pp.run(boxes, logits, masks, metas, **kw)
    # Same values through transposed (non-contiguous) views.
    lt = np.ascontiguousarray(logits.transpose(2, 1, 0)).transpose(2, 1, 0)
    mt = np.asfortranarray(masks)
    assert not lt.flags.c_contiguous and not mt.flags.c_contiguous
    assert_same_results(pp.run(boxes, lt, mt, metas, **kw), want, "non-contiguous")
    assert np.array_equal(lt, logits)  # the caller's array is untouched


def test_submit_on_the_cpu_returns_a_finished_frame():
    rng = np.random.default_rng(13)
    logits, boxes, masks, dtype, metas, kw = random_frame(rng)
    pp = rle_gpu.Postprocessor("cpu")
    f = pp.submit(boxes, logits, masks, metas, masks_dtype=dtype, **kw)
    assert f.ready()
    assert_same_results(f.result(), pp.run(boxes, logits, masks, metas, masks_dtype=dtype, **kw))
