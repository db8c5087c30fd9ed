"""Input adapters: whatever the caller passes, as one of two things.

- ``Device``: a CUDA address, dtype name, shape, device ordinal and the object
  that keeps the memory alive (torch CUDA tensors; objects with
  ``__cuda_array_interface__`` such as CuPy or Numba arrays; objects with
  ``__dlpack__`` on a CUDA device, such as JAX arrays). Used in place: never
  copied, never moved to the host.
- ``Host``: a C-contiguous numpy array (numpy arrays, CPU torch tensors, host
  DLPack producers). These run the CPU path (or are staged to the GPU through
  pinned memory when the post-processor has one).

Non-contiguous device inputs are refused with a ``ValueError`` naming the
input (a silent copy would cost a full read and write of the masks); host
inputs are made contiguous with ``numpy.ascontiguousarray`` (a documented
copy: the CPU path reads every element anyway).

No module here imports torch: a torch tensor is recognised by its type's
module, so ``import rle_gpu`` works without torch installed.
"""

from __future__ import annotations

import ctypes
from dataclasses import dataclass
from typing import Any, Optional, Tuple

import numpy as np

FLOAT_DTYPES = ("float32", "float16", "bfloat16")


@dataclass
class Device:
    ptr: int
    dtype: str
    shape: Tuple[int, ...]
    ordinal: int
    keepalive: Any
    # The stream the producer says its data is ready on (CAI ``stream``), if any.
    producer_stream: Optional[int] = None
    is_torch: bool = False


@dataclass
class Host:
    array: np.ndarray  # C-contiguous; float32, or uint16 bit patterns of ``dtype``
    dtype: str


def is_torch_tensor(x: Any) -> bool:
    t = type(x)
    return t.__module__.startswith("torch") and hasattr(x, "data_ptr") and hasattr(x, "is_cuda")


def _torch_dtype_name(x: Any, name: str) -> str:
    d = str(x.dtype).replace("torch.", "")
    if d not in FLOAT_DTYPES:
        raise TypeError(f"{name}: expected float32, float16 or bfloat16 elements, got torch.{d}")
    return d


def _c_contiguous(shape, strides_elems) -> bool:
    expect = 1
    for n, s in zip(reversed(shape), reversed(strides_elems)):
        if n != 1 and s != expect:
            return False
        expect *= n
    return True


def _from_torch(x: Any, name: str):
    dtype = _torch_dtype_name(x, name)
    if x.is_cuda:
        if not x.is_contiguous():
            raise ValueError(
                f"{name}: a non-contiguous CUDA tensor (shape {tuple(x.shape)}, strides "
                f"{tuple(x.stride())}); pass {name}.contiguous() (rle_gpu never copies device inputs)"
            )
        return Device(x.data_ptr(), dtype, tuple(x.shape), x.device.index or 0, x, None, True)
    t = x.detach()
    if dtype == "bfloat16":
        import torch

        arr = t.contiguous().view(torch.int16).numpy().view(np.uint16)
    else:
        arr = t.numpy()
    return _from_numpy(arr, name, dtype)


_TYPESTR = {"<f4": "float32", "<f2": "float16"}


def _from_cai(x: Any, name: str) -> Device:
    d = x.__cuda_array_interface__
    dtype = _TYPESTR.get(d["typestr"])
    if dtype is None:
        raise TypeError(f"{name}: expected float32 or float16 elements, got typestr {d['typestr']!r}")
    shape = tuple(int(v) for v in d["shape"])
    item = 4 if dtype == "float32" else 2
    strides = d.get("strides")
    if strides is not None and not _c_contiguous(shape, [s // item for s in strides]):
        raise ValueError(f"{name}: a non-contiguous CUDA array (shape {shape}, strides {tuple(strides)})")
    ptr = int(d["data"][0])
    ordinal = _ordinal_of(x)
    return Device(ptr, dtype, shape, ordinal, x, d.get("stream"))


def _ordinal_of(x: Any) -> int:
    dev = getattr(x, "device", None)
    for attr in ("id", "index"):
        v = getattr(dev, attr, None)
        if isinstance(v, int):
            return v
    return 0


# --- DLPack (the capsule layout of dlpack.h, read with ctypes) ---------------


class _DLDevice(ctypes.Structure):
    _fields_ = [("device_type", ctypes.c_int32), ("device_id", ctypes.c_int32)]


class _DLDataType(ctypes.Structure):
    _fields_ = [("code", ctypes.c_uint8), ("bits", ctypes.c_uint8), ("lanes", ctypes.c_uint16)]


class _DLTensor(ctypes.Structure):
    _fields_ = [
        ("data", ctypes.c_void_p),
        ("device", _DLDevice),
        ("ndim", ctypes.c_int32),
        ("dtype", _DLDataType),
        ("shape", ctypes.POINTER(ctypes.c_int64)),
        ("strides", ctypes.POINTER(ctypes.c_int64)),
        ("byte_offset", ctypes.c_uint64),
    ]


_KDL_CPU, _KDL_CUDA, _KDL_CUDA_HOST = 1, 2, 3
_KDL_FLOAT, _KDL_BFLOAT = 2, 4


def _capsule_tensor(capsule) -> _DLTensor:
    get = ctypes.pythonapi.PyCapsule_GetPointer
    get.restype = ctypes.c_void_p
    get.argtypes = [ctypes.py_object, ctypes.c_char_p]
    p = get(capsule, b"dltensor")
    # DLManagedTensor starts with its DLTensor.
    return _DLTensor.from_address(p)


def _from_dlpack(x: Any, name: str, stream: Optional[int]):
    dev_type, dev_id = x.__dlpack_device__()
    if dev_type == _KDL_CUDA:
        # DLPack's stream argument: 1 is the legacy default stream (0 is not allowed).
        cap = x.__dlpack__(stream=1 if not stream else stream)
    else:
        cap = x.__dlpack__()
    t = _capsule_tensor(cap)
    code, bits = t.dtype.code, t.dtype.bits
    dtype = {(_KDL_FLOAT, 32): "float32", (_KDL_FLOAT, 16): "float16", (_KDL_BFLOAT, 16): "bfloat16"}.get(
        (code, bits)
    )
    if dtype is None or t.dtype.lanes != 1:
        raise TypeError(f"{name}: expected float32, float16 or bfloat16 elements, got DLPack code {code} bits {bits}")
    shape = tuple(t.shape[i] for i in range(t.ndim))
    if t.strides and not _c_contiguous(shape, [t.strides[i] for i in range(t.ndim)]):
        raise ValueError(f"{name}: a non-contiguous DLPack tensor (shape {shape})")
    ptr = (t.data or 0) + t.byte_offset
    if dev_type == _KDL_CUDA:
        return Device(ptr, dtype, shape, int(dev_id), (x, cap), None)
    if dev_type in (_KDL_CPU, _KDL_CUDA_HOST):
        return _from_numpy(np.asarray(x) if dtype != "bfloat16" else _raw_host(ptr, shape), name, dtype)
    raise TypeError(f"{name}: DLPack device type {dev_type} is neither CUDA nor host memory")


def _raw_host(ptr: int, shape) -> np.ndarray:
    """A copy of host bf16 bits a DLPack producer exposes (numpy cannot import bf16)."""
    n = int(np.prod(shape)) if shape else 1
    return np.ctypeslib.as_array((ctypes.c_uint16 * n).from_address(ptr)).reshape(shape).copy()


# --- host ---------------------------------------------------------------------


def _from_numpy(a: np.ndarray, name: str, dtype: Optional[str] = None) -> Host:
    if dtype is None:
        kind = a.dtype.name
        if kind == "float32":
            dtype = "float32"
        elif kind == "float16":
            dtype = "float16"
        elif kind == "bfloat16":  # ml_dtypes
            dtype = "bfloat16"
        else:
            raise TypeError(f"{name}: expected float32, float16 or bfloat16 elements, got numpy {kind}")
    a = np.ascontiguousarray(a)
    if dtype != "float32" and a.dtype != np.uint16:
        a = a.view(np.uint16)
    return Host(a, dtype)


def classify(x: Any, name: str, stream: Optional[int] = None):
    """``Device`` or ``Host`` for one input (see the module docstring)."""
    if is_torch_tensor(x):
        return _from_torch(x, name)
    if isinstance(x, np.ndarray):
        return _from_numpy(x, name)
    if hasattr(x, "__cuda_array_interface__"):
        return _from_cai(x, name)
    if hasattr(x, "__dlpack__") and hasattr(x, "__dlpack_device__"):
        return _from_dlpack(x, name, stream)
    if hasattr(x, "__array__"):
        return _from_numpy(np.asarray(x), name)
    raise TypeError(
        f"{name}: expected a torch tensor, a numpy array, or an object with __cuda_array_interface__ "
        f"or __dlpack__, got {type(x).__name__}"
    )


def widen_host(h: Host) -> np.ndarray:
    """Host f16/bf16 logits or boxes as exact float32 values."""
    if h.dtype == "float32":
        return h.array
    if h.dtype == "float16":
        return h.array.view(np.float16).astype(np.float32)
    return (h.array.astype(np.uint32) << 16).view(np.float32)
