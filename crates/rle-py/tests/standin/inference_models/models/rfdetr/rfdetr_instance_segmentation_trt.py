"""Stand-in of the TensorRT model on a machine without tensorrt: the import fails."""

import tensorrt  # noqa: F401  (absent: ImportError)
