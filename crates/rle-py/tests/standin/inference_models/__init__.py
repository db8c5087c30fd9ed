"""A minimal stand-in for inference-models 0.39.6's module layout, used by
test_install.py on machines where the real package cannot be imported (it
needs torch). Same module names; each model module imports the function by
name, as the real ones do; the TensorRT module fails to import, as it does
without tensorrt."""
