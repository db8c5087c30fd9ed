//! Host API of the GPU post-processor.
