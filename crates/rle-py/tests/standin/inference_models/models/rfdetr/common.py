"""Stand-in of inference_models.models.rfdetr.common: defines the function."""


def post_process_instance_segmentation_results_to_rle_masks(
    bboxes, logits, masks, pre_processing_meta, threshold, num_classes, classes_re_mapping,
    max_detections=None, defer_postprocess_sync=False, masks_resolution_factor=1.0,
):
    return "package"
