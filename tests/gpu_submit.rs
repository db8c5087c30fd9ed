//! The non-blocking device path: `submit_device` / `collect` with several
//! frames in flight (more than the slots, collected out of order), the
//! inputs-consumed event (the caller's buffers are wiped as soon as it
//! completes, on a frame whose strings overflow the arena, so the rerun must
//! read the snapshot), and f16/bf16 logits and boxes widened on the device.
//! Ignored without a GPU.

mod common;

use cudarc::driver::sys;
use half::{bf16, f16};
use ndarray::{Array3, Array4};
use rle_fixtures::{generate, random_recipe, Limits};
use rle_host::{DeviceInputs, Error, EventHandle, MaskDtype, StreamHandle};
use rle_reference::{Batch, ImageMeta, MaskLogits, Options, Size, Threshold};

/// Device memory holding `data` (freed by the caller with `cuMemFree`).
fn upload_u16(data: &[u16]) -> u64 {
    let mut p = 0;
    // SAFETY: allocates and fills a fresh buffer of exactly that size.
    unsafe {
        sys::cuMemAlloc_v2(&mut p, data.len() * 2).result().unwrap();
        sys::cuMemcpyHtoD_v2(p, data.as_ptr().cast(), data.len() * 2)
            .result()
            .unwrap();
    }
    p
}

#[test]
#[ignore = "needs a CUDA GPU: run on the GPU machine with --include-ignored (cargo xtask gather-gpu)"]
fn more_frames_than_slots_collected_out_of_order_equal_synchronous_runs() {
    let mut pp = common::gpu();
    assert_eq!(pp.max_in_flight(), rle_host::DEFAULT_MAX_IN_FLIGHT);
    let frames: Vec<_> = (0..8)
        .map(|seed| {
            let (recipe, metas, opts) = random_recipe(900 + seed, &Limits::small());
            (generate(&recipe), metas, opts)
        })
        .collect();
    let want: Vec<_> = frames
        .iter()
        .map(|(d, m, o)| pp.run(&d.batch(), m, o).unwrap())
        .collect();
    let uploads: Vec<_> = frames
        .iter()
        .map(|(d, _, _)| pp.upload(&d.batch()).unwrap())
        .collect();
    pp.poison_buffers().unwrap();
    let mut tickets = Vec::new();
    for (i, (_, metas, opts)) in frames.iter().enumerate() {
        // SAFETY: each upload holds its frame and is not written meanwhile.
        let t = unsafe { pp.submit_device(&uploads[i].inputs(), None, None, metas, opts) }.unwrap();
        assert!(pp.in_flight() <= pp.max_in_flight());
        tickets.push((i, t));
    }
    let mut detections = 0;
    while let Some((i, t)) = tickets.pop() {
        let got = pp.collect(t).unwrap();
        assert_eq!(got, want[i], "frame {i}");
        detections += got.iter().map(|r| r.detections.len()).sum::<usize>();
    }
    assert!(
        detections > 0,
        "nothing was detected: the test exercised nothing"
    );
    assert_eq!(pp.in_flight(), 0);
    // A ticket of another post-processor is a typed error, not a wrong frame.
    let mut other = common::gpu();
    let (d, m, o) = &frames[0];
    let dev = other.upload(&d.batch()).unwrap();
    // SAFETY: as above.
    let foreign = unsafe { other.submit_device(&dev.inputs(), None, None, m, o) }.unwrap();
    let e = pp.collect(foreign).unwrap_err();
    assert!(matches!(e, Error::Ticket { .. }), "{e:?}");
    println!("gpu submit: 8 frames through 3 slots, {detections} detections, all equal");
}

#[test]
#[ignore = "needs a CUDA GPU: run on the GPU machine with --include-ignored (cargo xtask gather-gpu)"]
fn inputs_may_be_overwritten_once_the_consumed_event_completes_even_on_overflow() {
    // 4 Mi one-pixel runs: strings far beyond the initial 1 MiB arena, so
    // `collect` reruns the reserve and write passes.
    let masks = Array4::from_shape_fn((1, 1, 2048, 2048), |(_, _, y, x)| {
        if (x + y) % 2 == 0 {
            2.5f32
        } else {
            -2.5
        }
    });
    let logits = Array3::from_elem((1, 1, 1), 3.0f32);
    let boxes = Array3::from_shape_vec((1, 1, 4), vec![0.5f32, 0.5, 0.9, 0.9]).unwrap();
    let batch = Batch {
        logits: logits.view(),
        boxes: boxes.view(),
        masks: MaskLogits::F32(masks.view()),
    };
    let metas = vec![ImageMeta::stretch(
        Size::new(2048, 2048),
        Size::new(2048, 2048),
    )];
    let opts = Options {
        threshold: Threshold::Scalar(0.5),
        ..Options::new(1)
    };
    let want = rle_reference::postprocess(&batch, &metas, &opts).unwrap();
    assert_eq!(want[0].detections.len(), 1);
    for _ in 0..2 {
        // A fresh post-processor each time: its arena starts small.
        let mut fresh = common::gpu();
        let dev = fresh.upload(&batch).unwrap();
        let inputs = dev.inputs();
        let mut stream: sys::CUstream = std::ptr::null_mut();
        let mut consumed: sys::CUevent = std::ptr::null_mut();
        // SAFETY: a stream and an event of the primary context (current
        // after `upload`, retained by `fresh`), destroyed below before it goes.
        unsafe {
            sys::cuStreamCreate(&mut stream, 1).result().unwrap();
            sys::cuEventCreate(&mut consumed, 2).result().unwrap();
        }
        // SAFETY: `dev` holds the batch; it is only overwritten after the
        // consumed event, which is what the contract allows.
        let t = unsafe {
            fresh.submit_device(
                &inputs,
                Some(StreamHandle::from_raw(stream as usize)),
                Some(EventHandle::from_raw(consumed as usize)),
                &metas,
                &opts,
            )
        }
        .unwrap();
        // SAFETY: waits for the event, then wipes the caller's masks and logits.
        unsafe {
            sys::cuEventSynchronize(consumed).result().unwrap();
            sys::cuMemsetD8_v2(inputs.masks, 0x80, 2048 * 2048 * 4)
                .result()
                .unwrap();
            sys::cuMemsetD8_v2(inputs.logits, 0xFF, 4).result().unwrap();
        }
        assert_eq!(fresh.collect(t).unwrap(), want);
        // SAFETY: ours, idle (the frame was collected).
        unsafe {
            sys::cuEventDestroy_v2(consumed).result().unwrap();
            sys::cuStreamDestroy_v2(stream).result().unwrap();
        }
    }
}

#[test]
#[ignore = "needs a CUDA GPU: run on the GPU machine with --include-ignored (cargo xtask gather-gpu)"]
fn half_precision_logits_and_boxes_equal_their_exact_f32_widening() {
    let mut pp = common::gpu();
    let mut compared = 0;
    for seed in 0..16 {
        let (recipe, metas, opts) = random_recipe(1300 + seed, &Limits::small());
        let data = generate(&recipe);
        let batch = data.batch();
        for kind in [MaskDtype::F16, MaskDtype::Bf16] {
            let to16 = |v: f32| match kind {
                MaskDtype::F16 => f16::from_f32(v).to_bits(),
                _ => bf16::from_f32(v).to_bits(),
            };
            let back = |h: u16| match kind {
                MaskDtype::F16 => f16::from_bits(h).to_f32(),
                _ => bf16::from_bits(h).to_f32(),
            };
            let l16: Vec<u16> = batch.logits.iter().map(|&v| to16(v)).collect();
            let b16: Vec<u16> = batch.boxes.iter().map(|&v| to16(v)).collect();
            // The reference on the exactly widened values.
            let lw =
                Array3::from_shape_vec(batch.logits.dim(), l16.iter().map(|&h| back(h)).collect())
                    .unwrap();
            let bw =
                Array3::from_shape_vec(batch.boxes.dim(), b16.iter().map(|&h| back(h)).collect())
                    .unwrap();
            let wide = Batch {
                logits: lw.view(),
                boxes: bw.view(),
                masks: data.batch().masks,
            };
            let want = pp.run(&wide, &metas, &opts).unwrap();
            let dev = pp.upload(&batch).unwrap();
            let (lp, bp) = (upload_u16(&l16), upload_u16(&b16));
            let base = dev.inputs();
            let inputs = DeviceInputs {
                logits: lp,
                boxes: bp,
                logits_dtype: kind,
                boxes_dtype: kind,
                ..base
            };
            pp.poison_buffers().unwrap();
            // SAFETY: the buffers hold the declared shapes and are not written.
            let got = unsafe { pp.run_device(&inputs, None, &metas, &opts) }.unwrap();
            assert_eq!(got, want, "seed {seed} {kind:?}");
            compared += got.iter().map(|r| r.detections.len()).sum::<usize>();
            // SAFETY: our allocations, no longer used (the frame finished).
            unsafe {
                sys::cuMemFree_v2(lp).result().unwrap();
                sys::cuMemFree_v2(bp).result().unwrap();
            }
        }
    }
    assert!(compared > 0, "no detection compared");
    println!("gpu half inputs: {compared} detections equal to the widened f32 run");
}
