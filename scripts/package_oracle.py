"""The released inference-models package as the oracle (SPEC §10; GPU.md).

`run_case(tensors, metas, options, device)` calls
`inference_models.models.rfdetr.common.post_process_instance_segmentation_results_to_rle_masks`
on its torch path (`common._TRITON_POSTPROC_ENABLED = False`) with the package's own
metadata types, and returns the fixture's per-image records: image_size, mask_size,
and per detection class_id, score bits, boxes (int32, or float32 bits when the
package returns float boxes) and the RLE string. The package does not report which
(query, column) each detection came from: gen_fixtures.py takes those from
scripts/oracle.py once both agree on everything the package does report.
"""

import math

import numpy as np
import torch


def _load():
    from inference_models.entities import ImageDimensions
    from inference_models.models.common.roboflow.model_packages import (
        PreProcessingMetadata, StaticCropOffset)
    from inference_models.models.rfdetr import common
    from inference_models.models.rfdetr.class_remapping import ClassesReMapping
    return ImageDimensions, PreProcessingMetadata, StaticCropOffset, common, ClassesReMapping


def package_meta(m):
    """Our ImageMeta JSON as the package's PreProcessingMetadata."""
    ImageDimensions, PreProcessingMetadata, StaticCropOffset, _, _ = _load()
    dim = lambda s: ImageDimensions(height=s["height"], width=s["width"])
    c = m["static_crop"]
    return PreProcessingMetadata(
        pad_left=m["pad_left"], pad_top=m["pad_top"], pad_right=m["pad_right"], pad_bottom=m["pad_bottom"],
        original_size=dim(m["original_size"]), size_after_pre_processing=dim(m["size_after_pre_processing"]),
        inference_size=dim(m["inference_size"]), scale_width=m["scale_width"], scale_height=m["scale_height"],
        static_crop_offset=StaticCropOffset(offset_x=c["offset_x"], offset_y=c["offset_y"],
                                            crop_width=c["width"], crop_height=c["height"]),
        nonsquare_intermediate_size=(dim(m["nonsquare_intermediate_size"])
                                     if m.get("nonsquare_intermediate_size") else None),
    )


def package_args(logits, boxes, masks, metas, opts, device):
    """The package function's keyword arguments for a frame given as our metas / options."""
    _, _, _, _, ClassesReMapping = _load()
    thr = opts["threshold"]
    threshold = thr["Scalar"] if "Scalar" in thr else torch.tensor(thr["PerClass"])
    remap = None
    if opts.get("class_mapping") is not None:
        cm = torch.tensor(opts["class_mapping"], dtype=torch.int64, device=device)
        remap = ClassesReMapping(remaining_class_ids=torch.nonzero(cm >= 0).flatten(), class_mapping=cm)
    return dict(bboxes=boxes, logits=logits, masks=masks, pre_processing_meta=[package_meta(m) for m in metas],
                threshold=threshold, num_classes=opts["num_classes"], classes_re_mapping=remap,
                max_detections=opts.get("max_detections"),
                masks_resolution_factor=opts.get("masks_resolution_factor", 1.0))


def package_call(logits, boxes, masks, metas, opts, device, triton=False):
    """The package's function on device tensors; returns its InstanceDetections list."""
    common = _load()[3]
    common._TRITON_POSTPROC_ENABLED = triton
    return common.post_process_instance_segmentation_results_to_rle_masks(
        **package_args(logits, boxes, masks, metas, opts, device))


def records(dets):
    """One InstanceDetections as the fixture's image record (no query/column)."""
    xyxy = dets.xyxy.cpu()
    out = {"image_size": list(dets.image_size), "mask_size": [int(v) for v in dets.mask.mask_size],
           "boxes": "int" if xyxy.dtype == torch.int32 else "f32", "detections": []}
    conf = dets.confidence.float().cpu().numpy().view(np.uint32)
    cls = dets.class_id.cpu().numpy()
    for i, counts in enumerate(dets.mask.masks):
        d = {"class_id": int(cls[i]), "score_bits": int(conf[i]),
             "mask_size": out["mask_size"],
             "counts": counts.decode("ascii") if isinstance(counts, bytes) else str(counts)}
        if xyxy.dtype == torch.int32:
            d["xyxy"] = [int(v) for v in xyxy[i].tolist()]
        else:
            f = xyxy[i].float().numpy()
            d["xyxy_bits"] = [int(v) for v in f.view(np.uint32)]
            d["xyxy_approx"] = [None if math.isnan(v) else float(v) for v in f.tolist()]
        out["detections"].append(d)
    return out


def run_case(logits, boxes, masks, metas, opts, device):
    return [records(d) for d in package_call(logits, boxes, masks, metas, opts, device)]
