"""Metadata and options as the tuples ``rle_gpu._native`` reads
(``crates/rle-py/src/convert.rs`` documents the layout).

Metadata comes either as inference-models' ``PreProcessingMetadata`` (a
namedtuple with ``pad_left``, ``original_size``, ``static_crop_offset``...) or
as a dict in the layout of the Rust ``ImageMeta`` (the repository's fixture
JSON: ``original_size: {"height", "width"}``, ``static_crop``, ...).
"""

from __future__ import annotations

from typing import Any, Optional, Sequence, Tuple

RESIZE_MODES = ("antialiased", "bilinear")


def _hw(v: Any, name: str) -> Tuple[int, int]:
    if isinstance(v, dict):
        return int(v["height"]), int(v["width"])
    if hasattr(v, "height") and hasattr(v, "width"):
        return int(v.height), int(v.width)
    raise TypeError(f"{name}: expected an ImageDimensions or a {{'height', 'width'}} dict, got {v!r}")


def meta_tuple(m: Any, index: int):
    """One image's metadata tuple."""
    where = f"pre_processing_meta[{index}]"
    try:
        if isinstance(m, dict):
            crop = m.get("static_crop")
            s = _hw(m["size_after_pre_processing"], f"{where}.size_after_pre_processing")
            crop_t = (
                (int(crop["offset_x"]), int(crop["offset_y"]), int(crop["width"]), int(crop["height"]))
                if crop
                else (0, 0, s[1], s[0])
            )
            ns = m.get("nonsquare_intermediate_size")
            return (
                _hw(m["original_size"], f"{where}.original_size"),
                crop_t,
                s,
                _hw(m["inference_size"], f"{where}.inference_size"),
                _hw(ns, f"{where}.nonsquare_intermediate_size") if ns else None,
                (int(m["pad_left"]), int(m["pad_top"]), int(m["pad_right"]), int(m["pad_bottom"])),
                (float(m["scale_width"]), float(m["scale_height"])),
            )
        s = _hw(m.size_after_pre_processing, f"{where}.size_after_pre_processing")
        c = m.static_crop_offset
        crop_t = (
            (int(c.offset_x), int(c.offset_y), int(c.crop_width), int(c.crop_height)) if c is not None else (0, 0, s[1], s[0])
        )
        ns = getattr(m, "nonsquare_intermediate_size", None)
        return (
            _hw(m.original_size, f"{where}.original_size"),
            crop_t,
            s,
            _hw(m.inference_size, f"{where}.inference_size"),
            _hw(ns, f"{where}.nonsquare_intermediate_size") if ns is not None else None,
            (int(m.pad_left), int(m.pad_top), int(m.pad_right), int(m.pad_bottom)),
            (float(m.scale_width), float(m.scale_height)),
        )
    except (KeyError, AttributeError) as e:
        raise TypeError(f"{where}: missing field {e}") from None


def _floats(v: Any) -> Sequence[float]:
    if hasattr(v, "detach"):  # a torch tensor (moved to the host: a small copy)
        return [float(x) for x in v.detach().float().cpu().reshape(-1).tolist()]
    if hasattr(v, "tolist"):
        return [float(x) for x in v.tolist()]
    return [float(x) for x in v]


def options_tuple(
    threshold: Any,
    num_classes: int,
    class_mapping: Optional[Sequence[int]],
    max_detections: Optional[int],
    masks_resolution_factor: float,
    resize: str,
):
    if resize not in RESIZE_MODES:
        raise ValueError(f"resize: expected one of {RESIZE_MODES}, got {resize!r}")
    if isinstance(threshold, (int, float)) and not isinstance(threshold, bool):
        scalar, per_class = float(threshold), None
    elif threshold is None or isinstance(threshold, (str, bool)):
        raise TypeError(f"threshold: expected a float or a per-class sequence, got {threshold!r}")
    else:
        scalar, per_class = None, list(_floats(threshold))
    if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 0:
        raise ValueError(f"num_classes: expected a non-negative int, got {num_classes!r}")
    if max_detections is not None and (
        isinstance(max_detections, bool) or not isinstance(max_detections, int) or max_detections < 0
    ):
        raise ValueError(f"max_detections: expected None or a non-negative int, got {max_detections!r}")
    mapping = None if class_mapping is None else [int(v) for v in _ints(class_mapping)]
    return (scalar, per_class, num_classes, mapping, max_detections, resize, float(masks_resolution_factor))


def _ints(v: Any):
    if hasattr(v, "detach"):
        return v.detach().cpu().reshape(-1).tolist()
    if hasattr(v, "tolist"):
        return v.tolist()
    return list(v)
