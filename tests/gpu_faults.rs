//! Fault handling on the GPU (issue 6): a driver call that fails in the
//! middle of a frame returns a typed error, the post-processor stays usable,
//! and its next frames are correct (equal to the reference fed with the
//! GPU's scores, outputs poisoned first). Injected faults:
//!
//! - a failing allocation: the test takes nearly all free device memory, then
//!   asks for a frame whose buffers must grow (`cuMemAlloc` fails);
//! - a failing launch/copy: a stream of another CUDA context passed to
//!   `run_device` (the first copy on it fails).
//!
//! Ignored without a GPU.

mod common;

use cudarc::driver::{result, sys, CudaContext};
use rle_fixtures::{frame_case, generate, MaskDtype, Model};
use rle_host::{Error, Postprocessor};
use rle_reference::{ImageMeta, ImageResult, Options, Size};

struct Frame {
    data: rle_fixtures::SynthBatch,
    metas: Vec<ImageMeta>,
    opts: Options,
}

fn frame(model: Model, h: u32, w: u32) -> Frame {
    let (recipe, metas, opts) = frame_case(3, model, Size::new(h, w), 12, MaskDtype::F32);
    Frame {
        data: generate(&recipe),
        metas,
        opts,
    }
}

/// Runs `f` after poisoning the outputs and checks it against the
/// reference with the GPU's scores.
fn run_checked(pp: &mut Postprocessor, f: &Frame) -> Vec<ImageResult> {
    let batch = f.data.batch();
    pp.poison_buffers().unwrap();
    let (got, scores) = pp.run_with_scores(&batch, &f.metas, &f.opts).unwrap();
    let want =
        rle_reference::postprocess_with_scores(&batch, scores.unwrap().view(), &f.metas, &f.opts)
            .unwrap();
    assert_eq!(got, want);
    assert!(got.iter().map(|r| r.detections.len()).sum::<usize>() > 0);
    got
}

/// Device memory held by the test: allocations of decreasing size until
/// less than 1 MiB is free.
struct Hog(Vec<sys::CUdeviceptr>);

impl Hog {
    fn take_all() -> Self {
        let mut held = Vec::new();
        let mut size = 1usize << 30;
        while size >= 1 << 20 {
            // SAFETY: plain allocations of our own, freed in `drop`.
            match unsafe { result::malloc_sync(size) } {
                Ok(p) => held.push(p),
                Err(_) => size /= 2,
            }
        }
        Self(held)
    }
}

impl Drop for Hog {
    fn drop(&mut self) {
        for &p in &self.0 {
            // SAFETY: allocated by `take_all`, freed once.
            unsafe { result::free_sync(p) }.unwrap();
        }
    }
}

#[test]
#[ignore = "needs a CUDA GPU: run on the GPU machine with --include-ignored (cargo xtask gather-gpu)"]
fn a_failing_allocation_is_a_typed_error_and_the_pool_recovers() {
    let mut pp = common::gpu();
    let small = frame(Model::NANO, 176, 312);
    let large = frame(Model::XLARGE, 1080, 1920);
    let first = run_checked(&mut pp, &small);
    // The primary context the post-processor uses, current on this thread.
    let ctx = CudaContext::new(0).unwrap();
    ctx.bind_to_thread().unwrap();
    let (free_before, _) = result::mem_get_info().unwrap();
    let hog = Hog::take_all();
    let (free, _) = result::mem_get_info().unwrap();
    let e = pp
        .run(&large.data.batch(), &large.metas, &large.opts)
        .expect_err("the large frame's buffers cannot grow");
    let oom = matches!(
        &e,
        Error::Driver { source, .. } if source.0 == sys::cudaError_enum::CUDA_ERROR_OUT_OF_MEMORY
    );
    assert!(oom, "expected a typed out-of-memory error, got {e:?}");
    // Under the hog, the small frame runs in the pool as it is (failed growths
    // restore their old capacity), unless the large frame's tables, now in the
    // cache, must still grow: then the same typed error, never a wrong result.
    pp.poison_buffers().unwrap();
    let under = match pp.run(&small.data.batch(), &small.metas, &small.opts) {
        Ok(r) => {
            assert_eq!(r, first);
            "correct"
        }
        Err(Error::Driver { source, .. })
            if source.0 == sys::cudaError_enum::CUDA_ERROR_OUT_OF_MEMORY =>
        {
            "out of memory (typed)"
        }
        Err(other) => panic!("unexpected error under the hog: {other:?}"),
    };
    drop(hog);
    run_checked(&mut pp, &large);
    assert_eq!(run_checked(&mut pp, &small), first);
    println!(
        "gpu fault (allocation): {free_before} B free, {free} B left by the hog; error: {e}; \
         small frame under the hog: {under}; both frames correct after it"
    );
}

#[test]
#[ignore = "needs a CUDA GPU: run on the GPU machine with --include-ignored (cargo xtask gather-gpu)"]
fn a_stream_of_another_context_is_a_typed_error_and_the_next_frame_is_correct() {
    let mut pp = common::gpu();
    let f = frame(Model::NANO, 720, 1280);
    let dev = pp.upload(&f.data.batch()).unwrap();
    // SAFETY: `dev` holds the batch and is not written meanwhile.
    let good = unsafe { pp.run_device(&dev.inputs(), None, &f.metas, &f.opts) }.unwrap();
    assert_eq!(good, run_checked(&mut pp, &f));
    // A second, non-primary context on the same device and a stream in it.
    let mut foreign: sys::CUcontext = std::ptr::null_mut();
    let mut stream: sys::CUstream = std::ptr::null_mut();
    // SAFETY: creates (and makes current) a context of device 0, then a
    // stream in it; both destroyed below.
    unsafe {
        sys::cuCtxCreate_v2(&mut foreign, 0, 0).result().unwrap();
        sys::cuStreamCreate(&mut stream, 0).result().unwrap();
    }
    for _ in 0..3 {
        // SAFETY: as above; the stream is a live handle, of the wrong context.
        let e = unsafe {
            pp.run_device(
                &dev.inputs(),
                Some(rle_host::StreamHandle::from_raw(stream as usize)),
                &f.metas,
                &f.opts,
            )
        }
        .expect_err("a stream of another context must fail");
        assert!(
            matches!(e, Error::Driver { .. }),
            "expected a driver error, got {e:?}"
        );
        println!("gpu fault (foreign stream): {e}");
        pp.poison_buffers().unwrap();
        // SAFETY: as above.
        let again = unsafe { pp.run_device(&dev.inputs(), None, &f.metas, &f.opts) }.unwrap();
        assert_eq!(again, good);
    }
    // SAFETY: our own stream and context, idle.
    unsafe {
        sys::cuStreamDestroy_v2(stream).result().unwrap();
        sys::cuCtxDestroy_v2(foreign).result().unwrap();
    }
    assert_eq!(run_checked(&mut pp, &f), good);
}
