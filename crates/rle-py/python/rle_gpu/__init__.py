"""rle_gpu: RF-DETR instance-segmentation outputs to COCO RLE masks on the GPU,
bit for bit what Roboflow's inference-models 0.39.6 computes on CUDA, without
building full-resolution masks.

- ``Postprocessor(device=0, fallback="cpu").run(bboxes, logits, masks, metas, ...)``
  on torch CUDA tensors (in place, on the current stream), CuPy / JAX arrays,
  or numpy arrays (the CPU path); ``submit`` for the non-blocking variant.
- ``rle_gpu.inference_models``: the drop-in for inference-models
  (``install()`` patches it into the package, ``uninstall()`` undoes it).

Importing this package needs only numpy: no torch, no CUDA library (the
driver is loaded on demand by the Rust side).
"""

from ._native import DEFAULT_MAX_IN_FLIGHT, DeviceError, InputError, __version__
from ._native import driver_present as _driver_present
from ._postprocessor import ImageResult, PendingFrame, Postprocessor


def driver_present() -> bool:
    """Whether the CUDA driver library can be loaded on this machine."""
    return _driver_present()


__all__ = [
    "DEFAULT_MAX_IN_FLIGHT",
    "DeviceError",
    "ImageResult",
    "InputError",
    "PendingFrame",
    "Postprocessor",
    "__version__",
    "driver_present",
]
