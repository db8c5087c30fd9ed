"""Every error path of the Python API: a Python exception (ValueError or
TypeError subclasses) whose message names the field, never a crash; the
caller's arrays are never modified."""

import numpy as np
import pytest

import rle_gpu
from conftest import random_frame


@pytest.fixture()
def frame():
    rng = np.random.default_rng(99)
    return random_frame(rng, "float32")


def run(frame, **over):
    logits, boxes, masks, dtype, metas, kw = frame
    args = dict(bboxes=boxes, logits=logits, masks=masks, metas=metas)
    args.update({k: v for k, v in over.items() if k in args})
    kw = {**kw, **{k: v for k, v in over.items() if k not in args}}
    return rle_gpu.Postprocessor("cpu").run(args["bboxes"], args["logits"], args["masks"], args["metas"], **kw)


@pytest.mark.parametrize(
    "over, exc, words",
    [
        (dict(logits=np.zeros((2, 3), np.float32)), ValueError, "logits: expected 3 dimensions"),
        (dict(masks=np.ones((1, 2, 3), np.float32)), ValueError, "masks: expected 4 dimensions"),
        (dict(logits=np.zeros((1, 10, 4), np.int32)), TypeError, "logits: expected float32"),
        (dict(bboxes="boxes"), TypeError, "bboxes: expected a torch tensor"),
        (dict(masks_resolution_factor=1.5), ValueError, "masks_resolution_factor"),
        (dict(masks_resolution_factor=float("nan")), ValueError, "masks_resolution_factor"),
        (dict(resize="nearest"), ValueError, "resize"),
        (dict(threshold="high"), TypeError, "threshold"),
        (dict(threshold=[]), ValueError, "threshold"),
        (dict(threshold=[float("nan")] * 3), ValueError, "threshold[0]"),
        (dict(num_classes=-1), ValueError, "num_classes"),
        (dict(max_detections=-3), ValueError, "max_detections"),
        (dict(metas=[]), ValueError, "meta"),
        (dict(metas=[{"original_size": {"height": 10, "width": 10}}]), TypeError, "pre_processing_meta[0]"),
    ],
)
def test_bad_inputs_raise_typed_errors_naming_the_field(frame, over, exc, words):
    with pytest.raises(exc) as e:
        run(frame, **over)
    assert words in str(e.value), str(e.value)


def test_rust_errors_are_input_errors_and_value_errors(frame):
    logits, boxes, masks, dtype, metas, kw = frame
    bad = [dict(metas[0], pad_left=-2**31)] + metas[1:]
    with pytest.raises(rle_gpu.InputError) as e:
        rle_gpu.Postprocessor("cpu").run(boxes, logits, masks, bad, **kw)
    assert isinstance(e.value, ValueError) and "\n" not in str(e.value)


def test_shape_disagreement_is_reported(frame):
    logits, boxes, masks, dtype, metas, kw = frame
    with pytest.raises(ValueError):
        rle_gpu.Postprocessor("cpu").run(boxes[:, :-1], logits, masks, metas, **kw)


def test_inputs_are_not_modified(frame):
    logits, boxes, masks, dtype, metas, kw = frame
    copies = [a.copy() for a in (logits, boxes, masks)]
    rle_gpu.Postprocessor("cpu").run(boxes, logits, masks, metas, **kw)
    for a, b in zip((logits, boxes, masks), copies):
        assert a.tobytes() == b.tobytes()


class FakeCudaArray:
    """Claims to live on the GPU (``__cuda_array_interface__``)."""

    def __init__(self, shape, typestr="<f4", strides=None):
        self.__cuda_array_interface__ = {"shape": shape, "typestr": typestr, "data": (0x10000, False),
                                         "version": 3, "strides": strides}


def test_device_inputs_on_a_cpu_postprocessor_are_refused(frame):
    logits, boxes, masks, dtype, metas, kw = frame
    fake = [FakeCudaArray(a.shape) for a in (boxes, logits, masks)]
    with pytest.raises(ValueError, match="need a GPU"):
        rle_gpu.Postprocessor("cpu").run(*fake, metas, **kw)


def test_mixed_host_and_device_inputs_are_refused(frame):
    logits, boxes, masks, dtype, metas, kw = frame
    with pytest.raises(ValueError, match="all on the GPU or all on the host"):
        rle_gpu.Postprocessor("cpu").run(boxes, logits, FakeCudaArray(masks.shape), metas, **kw)


def test_non_contiguous_and_unsupported_device_arrays_are_refused(frame):
    logits, boxes, masks, dtype, metas, kw = frame
    strided = FakeCudaArray(masks.shape, strides=(4, 4, 4, 4))
    with pytest.raises(ValueError, match="non-contiguous"):
        rle_gpu.Postprocessor("cpu").run(FakeCudaArray(boxes.shape), FakeCudaArray(logits.shape), strided, metas, **kw)
    with pytest.raises(TypeError, match="typestr"):
        rle_gpu.Postprocessor("cpu").run(FakeCudaArray(boxes.shape, "<i4"), logits, masks, metas, **kw)


@pytest.mark.parametrize("device", ["gpu", -1, 1.5, True])
def test_bad_device_arguments(device):
    with pytest.raises(ValueError, match="device"):
        rle_gpu.Postprocessor(device=device)


def test_bad_fallback_and_in_flight():
    with pytest.raises(ValueError, match="fallback"):
        rle_gpu.Postprocessor(device=0, fallback="maybe")
    with pytest.raises(ValueError, match="max_in_flight"):
        rle_gpu.Postprocessor(device="cpu", max_in_flight=0)


@pytest.mark.skipif(rle_gpu.driver_present(), reason="a CUDA driver is present here")
def test_no_gpu_with_fallback_error_is_a_device_error():
    with pytest.raises(rle_gpu.DeviceError, match="no CUDA driver"):
        rle_gpu.Postprocessor(device=0, fallback="error")
    assert not rle_gpu.Postprocessor(device=0, fallback="cpu").is_gpu


def test_uncompressed_counts_rejects_garbage():
    with pytest.raises(rle_gpu.InputError, match=r"counts\[1\]"):
        rle_gpu._native.uncompressed_counts([b"0", b"\xff\xff"])
