"""rle_gpu.inference_models against the released inference-models package
(skipped where it cannot be imported, e.g. on CI without torch; the stand-in
of test_install.py covers install() there).

On a CUDA machine: for every fixture and for ``RLE_PY_SWEEP`` (default 2,000)
random frames, the drop-in's ``InstanceDetections`` equal the package's torch
path byte for byte; ``defer_postprocess_sync=True`` goes end to end through
the package's own deferred machinery (its TensorRT model's ``post_process``
and ``async_handoff``)."""

import os
import sys
import types

import numpy as np
import pytest

from conftest import ROOT, fixture_cases, random_frame, tensors

torch = pytest.importorskip("torch")
pytest.importorskip("inference_models.models.rfdetr.common")

import package_oracle  # noqa: E402  (scripts/, on sys.path via conftest)
import rle_gpu.inference_models as drop  # noqa: E402
from inference_models.models.rfdetr import common  # noqa: E402

CUDA = torch.cuda.is_available()
needs_cuda = pytest.mark.skipif(not CUDA, reason="needs a CUDA GPU (run on the GPU machine)")
ORIGINAL = drop._original_unpatched()


def args_for(logits, boxes, masks, metas, opts, device):
    """The package's call arguments for a frame given as our metas / options dicts."""
    return package_oracle.package_args(logits, boxes, masks, metas, opts, device)


def package_torch(**kw):
    common._TRITON_POSTPROC_ENABLED = False
    return ORIGINAL(**kw)


def same(a, b, where):
    """Two InstanceDetections, byte for byte, tensors on the same device."""
    for name in ("xyxy", "confidence", "class_id"):
        x, y = getattr(a, name), getattr(b, name)
        assert x.dtype == y.dtype and x.device == y.device and tuple(x.shape) == tuple(y.shape), f"{where} {name}"
        assert x.cpu().numpy().tobytes() == y.cpu().numpy().tobytes(), f"{where} {name}"
    assert type(a.mask) is type(b.mask), where
    assert [bytes(m) for m in a.mask.masks] == [bytes(m) for m in b.mask.masks], f"{where} masks"
    assert tuple(a.mask.mask_size) == tuple(b.mask.mask_size), f"{where} mask.mask_size"
    assert tuple(a.mask.image_size) == tuple(b.mask.image_size), f"{where} mask.image_size"
    for name in ("image_size", "mask_size", "mask_frame_size"):
        assert tuple(getattr(a, name)) == tuple(getattr(b, name)), f"{where} {name}"


def frame_tensors(t, device):
    masks = t["masks"]
    if t.get("mask_dtype") == "bf16" or masks.dtype == np.uint16:
        m = torch.from_numpy(np.ascontiguousarray(masks).view(np.int16)).to(device).view(torch.bfloat16)
    else:
        m = torch.from_numpy(np.ascontiguousarray(masks)).to(device)
    return (torch.from_numpy(np.ascontiguousarray(t["logits"])).to(device),
            torch.from_numpy(np.ascontiguousarray(t["boxes"])).to(device), m)


def random_case(seed, device):
    rng = np.random.default_rng(20261203 * 7 + seed)
    logits, boxes, masks, dtype, metas, kw = random_frame(rng)
    thr = kw["threshold"]
    opts = {"threshold": {"PerClass": thr} if isinstance(thr, list) else {"Scalar": thr},
            "num_classes": kw["num_classes"], "class_mapping": kw["class_mapping"],
            "max_detections": kw["max_detections"], "masks_resolution_factor": kw["masks_resolution_factor"]}
    t = {"logits": logits, "boxes": boxes, "masks": masks, "mask_dtype": {"bfloat16": "bf16"}.get(dtype, dtype)}
    return frame_tensors(t, device), metas, opts


def test_install_patches_the_real_package_and_uninstall_restores_it():
    patched = drop.install()
    try:
        assert "inference_models.models.rfdetr.common" in patched
        assert "inference_models.models.rfdetr.rfdetr_instance_segmentation_pytorch" in patched
        assert common.post_process_instance_segmentation_results_to_rle_masks is \
            drop.post_process_instance_segmentation_results_to_rle_masks
    finally:
        restored = drop.uninstall()
    assert set(restored) == set(patched)
    assert common.post_process_instance_segmentation_results_to_rle_masks is ORIGINAL
    import inspect
    def params(f):  # names, kinds and defaults (annotations are the package's business)
        return [(p.name, p.kind, p.default) for p in inspect.signature(f).parameters.values()]
    assert params(ORIGINAL) == params(drop.post_process_instance_segmentation_results_to_rle_masks)


def test_cpu_tensors_give_the_package_types():
    case = next(c for c in fixture_cases() if c["name"] == "batch_of_3")
    lg, bx, mk = frame_tensors(tensors(case), "cpu")
    out = drop.post_process_instance_segmentation_results_to_rle_masks(
        **args_for(lg, bx, mk, case["metas"], case["options"], "cpu"))
    pkg = package_torch(**args_for(lg, bx, mk, case["metas"], case["options"], "cpu"))
    assert [type(d) for d in out] == [type(d) for d in pkg]
    for d, want in zip(out, case["images"]):
        assert len(d.confidence) == len(want["detections"])
        assert d.mask._rle_counts_cpu.dtype == np.int64 and d.mask._rle_lengths_cpu.dtype == np.int32
        assert [m.decode() for m in d.mask.masks] == [w["counts"] for w in want["detections"]]


@needs_cuda
def test_fixtures_equal_the_package_torch_path():
    n = 0
    for case in fixture_cases():
        if case["options"].get("canvas", "Current") != "Current":
            continue
        lg, bx, mk = frame_tensors(tensors(case), "cuda")
        a = args_for(lg, bx, mk, case["metas"], case["options"], "cuda")
        ours = drop.post_process_instance_segmentation_results_to_rle_masks(**a)
        pkg = package_torch(**a)
        assert len(ours) == len(pkg)
        for i, (x, y) in enumerate(zip(ours, pkg)):
            same(x, y, f"{case['name']} image {i}")
            n += len(y.confidence)
    print(f"dropin fixtures: {n} detections identical to the package")


@needs_cuda
def test_random_frames_equal_the_package_torch_path():
    frames = int(os.environ.get("RLE_PY_SWEEP", "2000"))
    dets = images = 0
    for seed in range(frames):
        (lg, bx, mk), metas, opts = random_case(seed, "cuda")
        a = args_for(lg, bx, mk, metas, opts, "cuda")
        ours = drop.post_process_instance_segmentation_results_to_rle_masks(**a)
        pkg = package_torch(**a)
        for i, (x, y) in enumerate(zip(ours, pkg)):
            same(x, y, f"seed {seed} image {i}")
            dets += len(y.confidence)
            images += 1
    assert dets > frames  # the sweep exercised real detections
    print(f"dropin sweep: {frames} frames, {images} images, {dets} detections, all identical to the package")


def _trt_model_class():
    """The package's TensorRT model class. Its module imports tensorrt and
    pycuda, which its ``post_process`` never touches: where they are absent,
    stand-ins that answer every attribute let the import through, and are
    removed from ``sys.modules`` again right after."""
    import importlib.machinery

    class _Meta(type):
        def __getattr__(cls, name):
            if name.startswith("__"):
                raise AttributeError(name)
            return cls

    class _Any(metaclass=_Meta):
        def __init__(self, *args, **kwargs):
            pass

    class _Module(types.ModuleType):
        def __getattr__(self, name):
            if name.startswith("__"):
                raise AttributeError(name)
            return _Any

    added = []
    for name in ("tensorrt", "pycuda", "pycuda.driver"):
        try:
            __import__(name)
        except ImportError:
            m = _Module(name)
            m.__spec__ = importlib.machinery.ModuleSpec(name, None)
            sys.modules[name] = m
            added.append(name)
    if "pycuda.driver" in added:
        sys.modules["pycuda"].driver = sys.modules["pycuda.driver"]
    try:
        from inference_models.models.rfdetr.rfdetr_instance_segmentation_trt import RFDetrForInstanceSegmentationTRT
    finally:
        for name in added:
            del sys.modules[name]
    return RFDetrForInstanceSegmentationTRT


@needs_cuda
def test_deferred_sync_through_the_package_pipeline():
    from inference_models.models.base.async_handoff import (get_deferred_postprocess_done_event,
                                                            get_deferred_postprocess_finalizer,
                                                            get_trt_outputs_consumed_event)
    cls = _trt_model_class()
    model = object.__new__(cls)
    model._class_names = [f"c{i}" for i in range(90)]
    model._classes_re_mapping = None
    model.recommended_parameters = None
    model._stream_pipeline_enabled = True
    model._post_process_cuda_stream = torch.cuda.Stream()
    cases = [c for c in fixture_cases() if c["options"].get("canvas", "Current") == "Current"
             and c["options"].get("class_mapping") is None and "Scalar" in c["options"]["threshold"]
             and c["options"].get("masks_resolution_factor", 1.0) == 1.0 and c["options"]["num_classes"] == 90][:6]
    assert cases
    drop.install()
    try:
        pending = []
        for case in cases:
            lg, bx, mk = frame_tensors(tensors(case), "cuda")
            results = cls.post_process(model, (bx, lg, mk), [package_oracle.package_meta(m) for m in case["metas"]],
                                       confidence=case["options"]["threshold"]["Scalar"], mask_format="rle",
                                       max_detections=case["options"].get("max_detections"),
                                       defer_postprocess_sync=True)
            for r in results:
                assert get_deferred_postprocess_done_event(r) is not None
                assert get_trt_outputs_consumed_event(r) is not None
                assert len(r.confidence) == 0  # a placeholder until finalize
            pending.append((case, (lg, bx, mk), results))
        for case, (lg, bx, mk), results in pending:
            a = args_for(lg, bx, mk, case["metas"], dict(case["options"], max_detections=case["options"].get("max_detections")), "cuda")
            want = package_torch(**a)
            for i, (r, w) in enumerate(zip(results, want)):
                get_trt_outputs_consumed_event(r).synchronize()
                got = get_deferred_postprocess_finalizer(r)()
                same(got, w, f"deferred {case['name']} image {i}")
    finally:
        drop.uninstall()
    print(f"dropin deferred: {len(cases)} frames through RFDetrForInstanceSegmentationTRT.post_process")
