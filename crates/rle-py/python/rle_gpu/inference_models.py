"""The drop-in for Roboflow's ``inference-models`` (0.39.6).

``post_process_instance_segmentation_results_to_rle_masks`` here has exactly
the package's signature and returns the package's own ``InstanceDetections``
(with ``InstancesRLEMasks``) holding what its torch path computes, bit for
bit, with the tensors where that path puts them (``xyxy``, ``confidence``,
``class_id`` on the inputs' device) plus the uncompressed counts its Triton
path attaches (``mask._rle_counts_cpu`` int64 ``(n, L)``,
``mask._rle_lengths_cpu`` int32 ``(n,)``), which its polygon response reads.

``install()`` puts it into every module of the package that imported the
function by name (``models.rfdetr.common`` and the TensorRT, ONNX, PyTorch and
CoreML instance-segmentation models); ``uninstall()`` restores the originals::

    import rle_gpu.inference_models
    rle_gpu.inference_models.install()

With ``defer_postprocess_sync=True`` the frame is only enqueued: each returned
placeholder carries the package's deferred hand-off (``done_event``, the
inputs-consumed event recorded right after our kernels last read the model
outputs, and ``finalize``), exactly what its stream pipeline consumes.

Inputs on a device this module cannot serve (no usable GPU) go to the
package's original function. Half-precision logits or boxes are widened
exactly to float32 on the device; the results equal the package run on
``logits.float()`` / ``bboxes.float()`` (the package itself computes in half
precision there, which SPEC.md §1.1 leaves outside the contract).
"""

from __future__ import annotations

import importlib
import sys
import threading
from typing import Any, Dict, List, Optional, Tuple

import numpy as np

from . import _native
from ._postprocessor import ImageResult, Postprocessor

FUNCTION = "post_process_instance_segmentation_results_to_rle_masks"
COMMON = "inference_models.models.rfdetr.common"
#: The package's modules that import the function by name (0.39.6).
MODULES = (
    COMMON,
    "inference_models.models.rfdetr.rfdetr_instance_segmentation_trt",
    "inference_models.models.rfdetr.rfdetr_instance_segmentation_onnx",
    "inference_models.models.rfdetr.rfdetr_instance_segmentation_pytorch",
    "inference_models.models.rfdetr.rfdetr_instance_segmentation_coreml",
)

_lock = threading.Lock()
_patched: Dict[str, Any] = {}
_engines: Dict[Any, Postprocessor] = {}
_mapping_cache: Dict[int, Tuple[Any, List[int]]] = {}


def _engine(device) -> Postprocessor:
    key = ("cuda", device.index or 0) if device.type == "cuda" else "cpu"
    pp = _engines.get(key)
    if pp is None:
        with _lock:
            pp = _engines.get(key)
            if pp is None:
                pp = Postprocessor(device=key[1] if key != "cpu" else "cpu", fallback="cpu")
                _engines[key] = pp
    return pp


def _class_mapping(remap) -> Optional[List[int]]:
    if remap is None:
        return None
    # The mapping tensor lives on the model's device: read it once per object.
    hit = _mapping_cache.get(id(remap))
    if hit is not None and hit[0] is remap:
        return hit[1]
    values = [int(v) for v in remap.class_mapping.detach().cpu().reshape(-1).tolist()]
    if len(_mapping_cache) > 16:
        _mapping_cache.clear()
    _mapping_cache[id(remap)] = (remap, values)
    return values


def _types():
    from inference_models.models.base.instance_segmentation import InstanceDetections
    from inference_models.models.base.types import InstancesRLEMasks

    return InstanceDetections, InstancesRLEMasks


def _hw(meta) -> Tuple[int, int]:
    o = meta.original_size
    return (int(o.height), int(o.width))


def _detections(results: List[ImageResult], metas, device) -> list:
    """The package's ``InstanceDetections`` for each image, tensors on ``device``
    (one host→device copy for the whole batch)."""
    import torch

    InstanceDetections, InstancesRLEMasks = _types()
    words = []
    for r in results:
        words += [r.xyxy.reshape(-1).view(np.int32), r.confidence.view(np.int32), r.class_id.astype(np.int32)]
    packed = torch.from_numpy(np.concatenate(words) if words else np.zeros(0, np.int32))
    if device.type != "cpu":
        packed = packed.to(device)
    out, at = [], 0
    for r, meta in zip(results, metas):
        n = len(r)
        box_words = packed[at : at + 4 * n].view(n, 4)
        xyxy = box_words.view(torch.float32) if r.xyxy.dtype == np.float32 else box_words
        confidence = packed[at + 4 * n : at + 5 * n].view(torch.float32)
        class_id = packed[at + 5 * n : at + 6 * n]
        at += 6 * n
        image_size = _hw(meta)
        # What the package's from_coco_rle_masks builds from pycocotools dicts.
        mask = InstancesRLEMasks(image_size=image_size, masks=list(r.counts), mask_size=tuple(r.mask_size))
        counts, lengths = _native.uncompressed_counts(r.counts)
        mask._rle_counts_cpu = counts
        mask._rle_lengths_cpu = lengths
        out.append(
            InstanceDetections(
                xyxy=xyxy,
                confidence=confidence,
                class_id=class_id,
                mask=mask,
                image_size=image_size,
                mask_frame_size=image_size,
            )
        )
    return out


class _DeferredBatch:
    """One submitted batch shared by its images' hand-offs: the first
    ``finalize`` collects the frame, each returns its own image."""

    def __init__(self, frame, metas, device):
        self._frame, self._metas, self._device = frame, metas, device
        self._dets = None
        self._lock = threading.Lock()

    def image(self, i: int):
        with self._lock:
            if self._dets is None:
                self._dets = _detections(self._frame.result(), self._metas, self._device)
                self._frame = None
            return self._dets[i]


def _placeholders(batch: _DeferredBatch, metas, done_event, consumed_event, count: int) -> list:
    """Empty detections carrying the package's deferred hand-off, as its
    Triton path returns them."""
    import torch
    from inference_models.models.base.async_handoff import attach_deferred_postprocess_handoff

    InstanceDetections, InstancesRLEMasks = _types()
    out = []
    for i in range(count):
        image_size = _hw(metas[i])
        d = InstanceDetections(
            xyxy=torch.empty((0, 4), dtype=torch.int32),
            confidence=torch.empty((0,), dtype=torch.float32),
            class_id=torch.empty((0,), dtype=torch.int32),
            mask=InstancesRLEMasks.from_coco_rle_masks(image_size=image_size, masks=[]),
            image_size=image_size,
            mask_frame_size=image_size,
        )
        attach_deferred_postprocess_handoff(
            detections=d,
            done_event=done_event,
            trt_outputs_consumed_event=consumed_event,
            finalize=(lambda i=i: batch.image(i)),
        )
        out.append(d)
    return out


def post_process_instance_segmentation_results_to_rle_masks(
    bboxes,
    logits,
    masks,
    pre_processing_meta,
    threshold,
    num_classes: int,
    classes_re_mapping,
    max_detections: Optional[int] = None,
    defer_postprocess_sync: bool = False,
    masks_resolution_factor: float = 1.0,
):
    """inference-models 0.39.6's function of the same name, on rle_gpu."""
    device = bboxes.device
    pp = _engine(device)
    if device.type == "cuda" and not pp.is_gpu:
        return _original_unpatched()(
            bboxes, logits, masks, pre_processing_meta, threshold, num_classes, classes_re_mapping,
            max_detections=max_detections, defer_postprocess_sync=defer_postprocess_sync,
            masks_resolution_factor=masks_resolution_factor,
        )
    kwargs = dict(
        threshold=threshold,
        num_classes=num_classes,
        class_mapping=_class_mapping(classes_re_mapping),
        max_detections=max_detections,
        masks_resolution_factor=masks_resolution_factor,
    )
    metas = list(pre_processing_meta)
    if device.type == "cuda":
        import torch

        stream = torch.cuda.current_stream(device)
        if defer_postprocess_sync:
            consumed = torch.cuda.Event()
            consumed.record(stream)
            frame = pp.submit(bboxes, logits, masks, metas, stream=stream, inputs_consumed_event=consumed, **kwargs)
            done = torch.cuda.Event()
            done.record(stream)
            return _placeholders(_DeferredBatch(frame, metas, device), metas, done, consumed, len(metas))
        results = pp.run(bboxes, logits, masks, metas, stream=stream, **kwargs)
    else:
        results = pp.run(bboxes, logits, masks, metas, **kwargs)
    return _detections(results, metas, device)


def install() -> List[str]:
    """Patches the drop-in into every importable module of the package that
    holds the original function; returns their names. Idempotent. Modules of
    the package imported later pick the drop-in up from ``common``."""
    with _lock:
        # Import them all first: a model module imported after ``common`` was
        # patched would bind the drop-in directly, and uninstall could not tell.
        modules = []
        for name in MODULES:
            try:
                modules.append((name, importlib.import_module(name)))
            except Exception:  # noqa: BLE001 - e.g. tensorrt or onnxruntime absent: nothing to patch
                continue
        original = _original_unpatched()
        for name, mod in list(sys.modules.items()):
            if name.startswith("inference_models") and mod is not None:
                modules.append((name, mod))
        for name, mod in modules:
            if name not in _patched and getattr(mod, FUNCTION, None) is original:
                _patched[name] = original
                setattr(mod, FUNCTION, post_process_instance_segmentation_results_to_rle_masks)
        return sorted(_patched)


def _original_unpatched():
    if COMMON in _patched:
        return _patched[COMMON]
    return getattr(importlib.import_module(COMMON), FUNCTION)


def uninstall() -> List[str]:
    """Restores the package's original function in every module of the
    package that holds the drop-in (also those imported after ``install``)."""
    with _lock:
        original = _patched.get(COMMON)
        restored = []
        for name, mod in list(sys.modules.items()):
            if not name.startswith("inference_models") or mod is None:
                continue
            if getattr(mod, FUNCTION, None) is post_process_instance_segmentation_results_to_rle_masks:
                setattr(mod, FUNCTION, _patched.get(name, original))
                restored.append(name)
        _patched.clear()
        return sorted(restored)


def is_installed() -> bool:
    return bool(_patched)
