"""A module outside the known list that imported the function by name too."""

from inference_models.models.rfdetr.common import post_process_instance_segmentation_results_to_rle_masks  # noqa: F401
