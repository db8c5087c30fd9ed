//! Adversarial shapes on the GPU (issue 6), each against the reference fed
//! with the GPU's scores (bit-exact), with outputs poisoned first, at the
//! default chunk size and with 1-pixel chunks: 1×1 masks, a 1-pixel image,
//! an 8K canvas, every query passing (the full radix select), masks whose
//! every run is one pixel long (a checkerboard), and COCO strings longer than
//! the initial string arena (the grow-and-rerun path). This executable is
//! also what the sanitizers run on (docs/RELIABILITY.md). Ignored without a
//! GPU.

mod common;

use ndarray::{Array3, Array4};
use rle_reference::{Batch, ImageMeta, MaskLogits, Options, ResizeMode, Size, Threshold};

/// A stretch of an `h×w` image to an `inference`-square model input.
fn stretch(h: u32, w: u32, inference: u32) -> ImageMeta {
    ImageMeta::stretch(Size::new(h, w), Size::new(inference, inference))
}

fn opts(threshold: f64, classes: usize, resize: ResizeMode) -> Options {
    Options {
        threshold: Threshold::Scalar(threshold),
        num_classes: classes,
        class_mapping: None,
        max_detections: None,
        resize,
        ..Options::new(0)
    }
}

struct Case {
    name: &'static str,
    logits: Array3<f32>,
    boxes: Array3<f32>,
    masks: Array4<f32>,
    metas: Vec<ImageMeta>,
    opts: Options,
}

/// Deterministic values in [-1, 1) (xorshift), so no case is all zeros.
fn noise(seed: u64) -> impl FnMut() -> f32 {
    let mut s = seed | 1;
    move || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        (s >> 40) as f32 / (1u64 << 23) as f32 - 1.0
    }
}

fn boxes(b: usize, q: usize, seed: u64) -> Array3<f32> {
    let mut r = noise(seed);
    Array3::from_shape_fn((b, q, 4), |(_, _, k)| {
        let v = 0.5 + 0.5 * r();
        if k < 2 {
            v
        } else {
            0.05 + 0.5 * v
        }
    })
}

fn cases() -> Vec<Case> {
    let mut out = Vec::new();
    // 1×1 masks: every pixel of the canvas reads the one logit.
    {
        let (q, c) = (6, 3);
        let mut r = noise(11);
        let logits = Array3::from_shape_fn((2, q, c), |_| 4.0 * r());
        let vals = [3.0f32, -3.0, 0.0, f32::INFINITY, f32::NAN, -0.0];
        let masks = Array4::from_shape_fn((2, q, 1, 1), |(b, q, _, _)| vals[(q + b) % 6]);
        out.push(Case {
            name: "1x1 masks",
            logits,
            boxes: boxes(2, q, 12),
            masks,
            metas: vec![stretch(37, 53, 4), stretch(480, 640, 4)],
            opts: opts(0.2, c, ResizeMode::Antialiased),
        });
    }
    // A 1-pixel image.
    for resize in [ResizeMode::Antialiased, ResizeMode::Bilinear] {
        let (q, c) = (5, 2);
        let mut r = noise(21);
        let logits = Array3::from_shape_fn((1, q, c), |_| 4.0 * r());
        let masks = Array4::from_shape_fn((1, q, 8, 8), |_| 3.0 * r());
        out.push(Case {
            name: "1-pixel image",
            logits,
            boxes: boxes(1, q, 22),
            masks,
            metas: vec![stretch(1, 1, 32)],
            opts: opts(0.1, c, resize),
        });
    }
    // An 8K canvas with large masks.
    {
        let (q, c) = (8, 4);
        let mut r = noise(31);
        let logits = Array3::from_shape_fn((1, q, c), |_| 2.0 + 2.0 * r());
        let masks = Array4::from_shape_fn((1, q, 78, 78), |(_, q, y, x)| {
            let (dy, dx) = (y as f32 - 39.0, x as f32 - 39.0 + 3.0 * q as f32);
            let v = 900.0 - dy * dy - dx * dx;
            v / 100.0 + r()
        });
        out.push(Case {
            name: "8K canvas",
            logits,
            boxes: boxes(1, q, 32),
            masks,
            metas: vec![stretch(4320, 7680, 312)],
            opts: opts(0.3, c, ResizeMode::Antialiased),
        });
    }
    // Every query passing: threshold 0, so Q*C candidates (radix path).
    {
        let (q, c) = (100, 3);
        let mut r = noise(41);
        let logits = Array3::from_shape_fn((1, q, c), |_| 6.0 * r());
        let masks = Array4::from_shape_fn((1, q, 16, 16), |_| r());
        out.push(Case {
            name: "every query passing",
            logits,
            boxes: boxes(1, q, 42),
            masks,
            metas: vec![stretch(30, 40, 64)],
            opts: opts(0.0, c, ResizeMode::Antialiased),
        });
    }
    // Every run one pixel long: a checkerboard copied at the same size.
    {
        let (q, c) = (3, 2);
        let logits = Array3::from_shape_fn((1, q, c), |(_, q, c)| 3.0 - (q + c) as f32);
        let masks = Array4::from_shape_fn((1, q, 64, 64), |(_, q, y, x)| {
            if (x + y + q) % 2 == 0 {
                1.5
            } else {
                -1.5
            }
        });
        out.push(Case {
            name: "alternating runs",
            logits,
            boxes: boxes(1, q, 52),
            masks,
            metas: vec![stretch(64, 64, 64)],
            opts: opts(0.5, c, ResizeMode::Antialiased),
        });
    }
    // Strings beyond the initial 1 MiB arena (4 Mi one-pixel runs): the
    // kernels report the overflow, the host grows the arena and reruns the
    // reserve and write passes.
    {
        let masks = Array4::from_shape_fn((1, 1, 2048, 2048), |(_, _, y, x)| {
            if (x + y) % 2 == 0 {
                2.5
            } else {
                -2.5
            }
        });
        out.push(Case {
            name: "strings beyond the initial arena",
            logits: Array3::from_elem((1, 1, 1), 3.0),
            boxes: boxes(1, 1, 62),
            masks,
            metas: vec![stretch(2048, 2048, 2048)],
            opts: opts(0.5, 1, ResizeMode::Antialiased),
        });
    }
    out
}

/// The cases themselves, on the CPU: valid frames that detect something
/// (so the GPU test below cannot pass on empty work).
#[test]
fn adversarial_cases_are_valid_and_detect_something() {
    for case in cases() {
        let batch = Batch {
            logits: case.logits.view(),
            boxes: case.boxes.view(),
            masks: MaskLogits::F32(case.masks.view()),
        };
        let out = rle_reference::postprocess(&batch, &case.metas, &case.opts)
            .unwrap_or_else(|e| panic!("{}: {e}", case.name));
        let n: usize = out.iter().map(|r| r.detections.len()).sum();
        assert!(n > 0, "{}: no detection", case.name);
    }
}

#[test]
#[ignore = "needs a CUDA GPU: run on the GPU machine with --include-ignored (cargo xtask gather-gpu)"]
fn adversarial_shapes_match_the_reference() {
    let mut pp = common::gpu();
    common::check_programmatic(&mut pp);
    let (mut frames, mut dets, mut runs) = (0usize, 0usize, 0u64);
    let (mut copied, mut walked) = (0usize, 0usize);
    let mut decided = 0u64;
    let mut late = 0usize;
    let (mut wide_tiles, mut split_tiles) = (0u64, 0u64);
    for case in cases() {
        let batch = Batch {
            logits: case.logits.view(),
            boxes: case.boxes.view(),
            masks: MaskLogits::F32(case.masks.view()),
        };
        // (smallest chunk, chunk-store bytes): the defaults; chunk boundaries
        // at every pixel with a store too small for most chunks (both write
        // paths in one frame); no store (every chunk evaluated twice); fine
        // chunks, default store. RLE_ADVERSARIAL_CONFIGS=N runs the first N
        // (the sanitizer runs take 2: every path, half the time).
        let default_store = rle_kernels::abi::DEFAULT_CHUNK_STORE_BYTES;
        // Uniform groups and early ROIs on in all but the second, which
        // also plans the largest item budget (1-pixel chunks: a detection of
        // more chunks than a reserve round) and leaves every ROI to the
        // plan; the sanitizer runs take the first two, so both ways every
        // time. The last plans few items (chunks of many tiles).
        let most = rle_kernels::abi::MASK_ITEM_BUDGET;
        // (smallest chunk, store bytes, uniform groups, item budget, early
        // ROIs, wide-tile events): wide tiles as by default but in the last,
        // which encodes every wide tile with more than one event in parts.
        let wide = rle_kernels::abi::DEFAULT_WIDE_EVENTS;
        let configs = [
            (
                rle_kernels::abi::DEFAULT_CHUNK_PIXELS,
                default_store,
                true,
                most,
                true,
                wide,
            ),
            (1, 9, false, most, false, wide),
            (
                rle_kernels::abi::DEFAULT_CHUNK_PIXELS,
                0,
                true,
                most,
                true,
                wide,
            ),
            (1, default_store, true, 64, true, 1),
        ];
        let take = std::env::var("RLE_ADVERSARIAL_CONFIGS")
            .ok()
            .and_then(|v| v.parse::<usize>().ok())
            .unwrap_or(configs.len())
            .clamp(2, configs.len());
        for (k, &(chunk, store, uniform, items, early, wide_events)) in
            configs[..take].iter().enumerate()
        {
            // Every other configuration chains in rounds of 32 chunks, and
            // launches the item passes one after the other instead of
            // programmatically (sm_90).
            pp.set_programmatic_launch(k % 2 == 0);
            pp.set_reserve_threads(if k % 2 == 1 {
                32
            } else {
                rle_kernels::abi::DEFAULT_RESERVE_THREADS
            });
            pp.set_min_chunk_pixels(chunk);
            pp.set_chunk_store_bytes(store);
            pp.set_uniform_groups(uniform);
            pp.set_item_budget(items);
            // 1-pixel chunks mean chunk boundaries everywhere: no item
            // target asks for larger ones there.
            pp.set_item_target(if chunk == 1 { Some(0) } else { None });
            // The second (every ROI found by the plan) also strides over
            // items instead of taking them from the queue.
            pp.set_item_queue(early);
            pp.set_early_rois(early);
            pp.set_wide_events(wide_events);
            pp.poison_buffers().unwrap();
            let (gpu, scores) = pp
                .run_with_scores(&batch, &case.metas, &case.opts)
                .unwrap_or_else(|e| panic!("{}: GPU error {e}", case.name));
            let want = rle_reference::postprocess_with_scores(
                &batch,
                scores.unwrap().view(),
                &case.metas,
                &case.opts,
            )
            .unwrap();
            assert_eq!(
                gpu, want,
                "{} (chunks of {chunk} px, store of {store} bytes, uniform groups {uniform}, budget {items}, early ROIs {early}, wide-tile events {wide_events})",
                case.name
            );
            let paths = common::chunk_paths(&pp, store, uniform, case.name);
            let found = gpu.iter().map(|r| r.detections.len()).sum();
            common::check_late_rois(&paths, early, found, case.name);
            common::check_wide_tiles(&paths, wide_events, case.name);
            common::check_queue(&paths, early, case.name);
            late += paths.late_rois;
            wide_tiles += paths.wide_tiles;
            split_tiles += paths.split_tiles;
            copied += paths.copied;
            walked += paths.walked;
            decided += paths.decided_groups;
            frames += 1;
            for d in gpu.iter().flat_map(|r| &r.detections) {
                dets += 1;
                runs += rle_reference::rle::decompress(&d.mask.counts)
                    .map(|c| c.len() as u64 / 2)
                    .unwrap_or(0);
            }
        }
        let n: usize = pp
            .run(&batch, &case.metas, &case.opts)
            .unwrap()
            .iter()
            .map(|r| r.detections.len())
            .sum();
        assert!(n > 0, "{}: no detection, nothing exercised", case.name);
    }
    assert!(
        copied > 0 && walked > 0,
        "both write paths must run: copied {copied}, evaluated again {walked}"
    );
    assert!(
        decided > 0,
        "no pixel group was decided by the uniform shortcut"
    );
    assert!(late > 0, "no ROI was found by the plan itself");
    assert!(wide_tiles > 0, "no wide tile was walked");
    println!("gpu adversarial: {frames} frames, {dets} detections, {runs} runs, all equal to the reference; write pass copied {copied} chunks, evaluated {walked} again; {decided} pixel groups decided without evaluation; {late} ROIs found by the plan with early ROIs off; {wide_tiles} wide tiles, {split_tiles} tiles encoded in parts");
}
