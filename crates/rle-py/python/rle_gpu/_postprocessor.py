"""``Postprocessor``: the engine for Python callers, and its result types.

Streams: device inputs are read on the caller's stream, chosen in this order:
the ``stream`` argument (an int handle, or an object with ``cuda_stream`` /
``ptr`` such as ``torch.cuda.Stream`` or ``cupy.cuda.Stream``); the current
torch stream of the inputs' device when they are torch tensors; the stream a
``__cuda_array_interface__`` producer names; else the legacy default stream.
The call never synchronizes a stream or the device: it waits on an event
recorded after its own kernels.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any, List, Optional, Sequence, Tuple

import numpy as np

from . import _native
from ._arrays import Device, Host, classify, widen_host
from ._convert import meta_tuple, options_tuple


@dataclass
class ImageResult:
    """Detections of one image.

    ``xyxy`` is int32 ``(n, 4)`` when masks are encoded on the image grid, float32
    in mask-grid coordinates otherwise (``masks_resolution_factor < 1``);
    ``counts[i]`` is detection ``i``'s compressed COCO string as bytes.
    """

    image_size: Tuple[int, int]
    mask_size: Tuple[int, int]
    xyxy: np.ndarray
    confidence: np.ndarray
    class_id: np.ndarray
    counts: List[bytes]
    query: np.ndarray = field(repr=False)
    column: np.ndarray = field(repr=False)

    def __len__(self) -> int:
        return len(self.counts)

    @property
    def rles(self) -> List[dict]:
        """COCO RLE dicts ``{"size": [h, w], "counts": str}`` (pycocotools-compatible)."""
        size = [int(self.mask_size[0]), int(self.mask_size[1])]
        return [{"size": list(size), "counts": c.decode("ascii")} for c in self.counts]

    def uncompressed_counts(self) -> Tuple[np.ndarray, np.ndarray]:
        """``(counts (n, L) int64 zero-padded, lengths (n,) int32)``."""
        return _native.uncompressed_counts(self.counts)


def _image_results(raw) -> List[ImageResult]:
    out = []
    for image_size, mask_size, _float_boxes, xyxy, conf, cls, counts, query, column in raw:
        out.append(ImageResult(tuple(image_size), tuple(mask_size), xyxy, conf, cls, list(counts), query, column))
    return out


def _stream_handle(stream: Any) -> Optional[int]:
    if stream is None:
        return None
    if isinstance(stream, int):
        return stream
    for attr in ("cuda_stream", "ptr", "handle"):
        v = getattr(stream, attr, None)
        if isinstance(v, int):
            return v
    raise TypeError(f"stream: expected an int handle or a stream object, got {type(stream).__name__}")


def _torch_current_stream(ordinal: int) -> int:
    import torch

    return int(torch.cuda.current_stream(ordinal).cuda_stream)


def _cupy_current_stream(x: Any) -> Optional[int]:
    if type(x).__module__.startswith("cupy"):
        import cupy

        return int(cupy.cuda.get_current_stream().ptr)
    return None


class PendingFrame:
    """A frame enqueued by ``Postprocessor.submit``: ``ready()`` never blocks,
    ``result()`` waits for this frame (GIL released) and returns its
    ``ImageResult`` list. Keeps the inputs alive until then."""

    def __init__(self, owner: "Postprocessor", ticket, keepalive, results=None):
        self._owner = owner
        self._ticket = ticket
        self._keepalive = keepalive
        self._results = results
        self._lock = threading.Lock()

    @property
    def id(self) -> int:
        return -1 if self._ticket is None else self._ticket.id

    def ready(self) -> bool:
        with self._lock:
            if self._results is not None:
                return True
            return self._owner._engine.is_ready(self._ticket)

    def result(self) -> List[ImageResult]:
        with self._lock:
            if self._results is None:
                self._results = _image_results(self._owner._engine.collect(self._ticket))
                self._keepalive = None
            return self._results

    def __del__(self):
        # An abandoned frame: wait for its GPU work and free its slot.
        try:
            if self._results is None and self._ticket is not None:
                self._owner._engine.discard(self._ticket)
        except Exception:  # noqa: BLE001 - never raise from a finalizer
            pass


class Postprocessor:
    """RF-DETR instance-segmentation outputs → COCO RLE masks, bit for bit what
    inference-models 0.39.6 computes on CUDA.

    ``device``: a CUDA ordinal, or ``"cpu"`` / ``None`` for the CPU path only.
    ``fallback``: ``"cpu"`` runs on the CPU when no GPU is usable, ``"error"``
    raises ``DeviceError`` instead. ``max_in_flight``: frames ``submit`` may
    have enqueued at once (each owns a slot of device and pinned buffers).
    One post-processor may be shared by threads (calls are serialized).
    """

    def __init__(self, device: Any = 0, fallback: str = "cpu", max_in_flight: int = _native.DEFAULT_MAX_IN_FLIGHT):
        if device in (None, "cpu"):
            ordinal = None
        elif isinstance(device, int) and not isinstance(device, bool) and device >= 0:
            ordinal = device
        elif isinstance(device, str) and device.startswith("cuda"):
            ordinal = int(device.split(":")[1]) if ":" in device else 0
        elif getattr(device, "type", None) == "cuda":  # torch.device
            ordinal = device.index or 0
        else:
            raise ValueError(f"device: expected a CUDA ordinal, 'cuda:N' or 'cpu', got {device!r}")
        if not isinstance(max_in_flight, int) or max_in_flight < 1:
            raise ValueError(f"max_in_flight: expected an int >= 1, got {max_in_flight!r}")
        self._ordinal = ordinal
        self._engine = _native.Engine(ordinal, fallback, max_in_flight)

    @property
    def is_gpu(self) -> bool:
        return self._engine.is_gpu

    @property
    def device(self):
        """``(name, (major, minor), ordinal)`` of the GPU, or ``None``."""
        return self._engine.device

    @property
    def max_in_flight(self) -> int:
        return self._engine.max_in_flight

    def _prepare(self, bboxes, logits, masks, metas, stream, threshold, num_classes, class_mapping,
                 max_detections, masks_resolution_factor, resize, masks_dtype=None):
        metas = [meta_tuple(m, i) for i, m in enumerate(metas)]
        opts = options_tuple(threshold, num_classes, class_mapping, max_detections, masks_resolution_factor, resize)
        handle = _stream_handle(stream)
        if isinstance(masks, np.ndarray) and masks.dtype == np.uint16:
            # numpy has no bfloat16: raw 16-bit patterns say what they are.
            if masks_dtype not in ("float16", "bfloat16"):
                raise TypeError("masks: a uint16 array holds half-precision bit patterns; "
                                f"pass masks_dtype='bfloat16' or 'float16' (got {masks_dtype!r})")
            masks = Host(np.ascontiguousarray(masks), masks_dtype)
        ins = [x if isinstance(x, Host) else classify(x, n, handle)
               for x, n in ((logits, "logits"), (bboxes, "bboxes"), (masks, "masks"))]
        kinds = {type(i) for i in ins}
        if len(kinds) != 1:
            where = ", ".join(f"{n} on the {'GPU' if isinstance(i, Device) else 'host'}"
                              for n, i in zip(("logits", "bboxes", "masks"), ins))
            raise ValueError(f"inputs: expected all on the GPU or all on the host, got {where}")
        return ins, metas, opts, handle

    def _device_call(self, ins: List[Device], handle: Optional[int], stream_given: bool):
        lg, bx, mk = ins
        if not self.is_gpu:
            raise ValueError("inputs: CUDA inputs need a GPU, and this post-processor runs on the CPU")
        ordinals = {d.ordinal for d in ins}
        if len(ordinals) != 1 or self._ordinal not in ordinals:
            raise ValueError(f"inputs: on CUDA device(s) {sorted(ordinals)}, this post-processor is on device {self._ordinal}")
        for d, n, rank in ((lg, "logits", 3), (bx, "bboxes", 3), (mk, "masks", 4)):
            if len(d.shape) != rank:
                raise ValueError(f"{n}: expected {rank} dimensions, got shape {d.shape}")
        if not stream_given:
            if any(d.is_torch for d in ins):
                handle = _torch_current_stream(self._ordinal)
            else:
                handle = _cupy_current_stream(mk.keepalive) or mk.producer_stream or 0
        b, q, c = lg.shape
        shape = (b, q, c, mk.shape[2], mk.shape[3])
        if tuple(bx.shape[:2]) != (b, q) or tuple(mk.shape[:2]) != (b, q):
            raise ValueError(
                f"inputs: logits {lg.shape}, bboxes {bx.shape} and masks {mk.shape} disagree on (B, Q)"
            )
        return (lg.ptr, bx.ptr, mk.ptr), (lg.dtype, bx.dtype, mk.dtype), shape, handle

    def _run_host(self, ins: List[Host], metas, opts) -> List[ImageResult]:
        lg, bx, mk = ins
        return _image_results(self._engine.run_host(widen_host(lg), widen_host(bx), mk.array, mk.dtype, metas, opts))

    def run(self, bboxes, logits, masks, metas, *, threshold, num_classes, class_mapping=None,
            max_detections: Optional[int] = 300, masks_resolution_factor: float = 1.0,
            resize: str = "antialiased", stream: Any = None, masks_dtype: Optional[str] = None) -> List[ImageResult]:
        """Post-processes one batch and returns one ``ImageResult`` per image.

        ``bboxes`` (B, Q, 4) cxcywh, ``logits`` (B, Q, C), ``masks`` (B, Q, Mh, Mw):
        torch tensors, numpy arrays or CUDA array objects (see the module docs).
        ``metas``: one ``PreProcessingMetadata`` (or metadata dict) per image.
        ``threshold``: a float or one per class. Blocks until this frame's
        results are on the host (the GIL is released meanwhile). ``masks_dtype``: only for host
        ``uint16`` masks, which hold ``"bfloat16"`` or ``"float16"`` bits.
        """
        ins, metas, opts, handle = self._prepare(bboxes, logits, masks, metas, stream, threshold, num_classes,
                                                 class_mapping, max_detections, masks_resolution_factor, resize,
                                                 masks_dtype)
        if isinstance(ins[0], Host):
            return self._run_host(ins, metas, opts)
        ptrs, dtypes, shape, handle = self._device_call(ins, handle, stream is not None)
        return _image_results(self._engine.run_device(ptrs, dtypes, shape, handle, metas, opts))

    def submit(self, bboxes, logits, masks, metas, *, threshold, num_classes, class_mapping=None,
               max_detections: Optional[int] = 300, masks_resolution_factor: float = 1.0,
               resize: str = "antialiased", stream: Any = None, inputs_consumed_event: Any = None,
               masks_dtype: Optional[str] = None) -> PendingFrame:
        """Like ``run`` but returns at once with a ``PendingFrame``: the kernels are
        enqueued on the stream and nothing waits. ``inputs_consumed_event``: a
        ``torch.cuda.Event`` (or raw ``CUevent`` int) recorded on the stream as
        soon as the kernels stop reading the inputs, after which the caller may
        overwrite them. Host inputs (CPU path) are computed before returning."""
        ins, metas, opts, handle = self._prepare(bboxes, logits, masks, metas, stream, threshold, num_classes,
                                                 class_mapping, max_detections, masks_resolution_factor, resize,
                                                 masks_dtype)
        if isinstance(ins[0], Host):
            return PendingFrame(self, None, None, self._run_host(ins, metas, opts))
        ptrs, dtypes, shape, handle = self._device_call(ins, handle, stream is not None)
        event = _event_handle(inputs_consumed_event, handle)
        ticket = self._engine.submit_device(ptrs, dtypes, shape, handle, event, metas, opts)
        return PendingFrame(self, ticket, [d.keepalive for d in ins])


def _event_handle(event: Any, stream: Optional[int]) -> Optional[int]:
    if event is None or isinstance(event, int):
        return event
    if hasattr(event, "cuda_event"):  # torch.cuda.Event: its handle exists after a first record
        if not event.cuda_event:
            import torch

            event.record(torch.cuda.ExternalStream(stream) if stream else torch.cuda.current_stream())
        return int(event.cuda_event)
    raise TypeError(f"inputs_consumed_event: expected a torch.cuda.Event or an int, got {type(event).__name__}")
