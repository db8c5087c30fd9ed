"""Stand-in of the pytorch instance-segmentation model: imports the function by name."""

from inference_models.models.rfdetr.common import post_process_instance_segmentation_results_to_rle_masks


class Model:
    def post_process(self, *args, **kwargs):
        return post_process_instance_segmentation_results_to_rle_masks(*args, **kwargs)
