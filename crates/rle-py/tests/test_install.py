"""install() / uninstall() against the package's module layout: the released
package where it imports (the GPU machine), else the stand-in in
tests/standin (run in a subprocess so the two never meet)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

STANDIN = Path(__file__).parent / "standin"

SCRIPT = r"""
import importlib, sys
import rle_gpu.inference_models as drop
FN = drop.FUNCTION
common = importlib.import_module("inference_models.models.rfdetr.common")
original = getattr(common, FN)
other = importlib.import_module("inference_models.models.rfdetr.other_user")
patched = drop.install()
assert drop.is_installed()
expect = {"inference_models.models.rfdetr.common",
          "inference_models.models.rfdetr.rfdetr_instance_segmentation_onnx",
          "inference_models.models.rfdetr.rfdetr_instance_segmentation_pytorch",
          "inference_models.models.rfdetr.rfdetr_instance_segmentation_coreml",
          "inference_models.models.rfdetr.other_user"}
assert set(patched) == expect, patched
for name in expect:
    assert getattr(sys.modules[name], FN) is drop.post_process_instance_segmentation_results_to_rle_masks, name
# A model's method now reaches the drop-in (called with no tensors: it must
# fail inside rle_gpu, not in the package's function).
m = importlib.import_module("inference_models.models.rfdetr.rfdetr_instance_segmentation_onnx").Model()
try:
    m.post_process(None, None, None, [], 0.5, 1, None)
except AttributeError as e:
    assert "device" in str(e), e
else:
    raise AssertionError("the patched function was not called")
assert drop.install() == sorted(expect)  # idempotent
restored = drop.uninstall()
assert set(restored) == expect, restored
for name in expect:
    assert getattr(sys.modules[name], FN) is original, name
assert not drop.is_installed() and drop.uninstall() == []
assert m.post_process(None, None, None, [], 0.5, 1, None) == "package"
print("install-ok", len(expect))
"""


def test_install_and_uninstall_on_the_package_layout():
    import numpy
    import rle_gpu

    # The stand-in first (it shadows a real package), then where rle_gpu and numpy live.
    where = [str(STANDIN)] + [str(Path(m.__file__).resolve().parents[1]) for m in (rle_gpu, numpy)]
    r = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True,
                       env={"PYTHONPATH": os.pathsep.join(where), "PATH": "/usr/bin:/bin"})
    assert r.returncode == 0, r.stdout + r.stderr
    assert "install-ok 5" in r.stdout
