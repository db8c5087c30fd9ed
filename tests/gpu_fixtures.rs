//! The GPU post-processor against PyTorch on CUDA: every committed fixture must
//! come out bit for bit (order, classes, score bits, boxes, RLE bytes) with no
//! tolerance and no flags, and the GPU sigmoid must equal torch's on the
//! sigmoid fixture. Outputs are poisoned before each run. Every fixture runs
//! with the default chunk size and with 1-pixel chunks (as many chunk
//! boundaries as the item budget allows). Ignored without a GPU.

mod common;

use ndarray::{Array3, Array4};
use rle_fixtures::{all_cases, fixtures_dir, load_sigmoid};
use rle_reference::{Batch, ImageMeta, MaskLogits, Options, ResizeMode, Size, Threshold};

#[test]
#[ignore = "needs a CUDA GPU: run on the GPU machine with --include-ignored (cargo xtask gather-gpu)"]
fn gpu_reproduces_every_pytorch_fixture_bit_for_bit() {
    let mut pp = common::gpu();
    let cases = all_cases(fixtures_dir()).expect("fixtures load");
    assert!(cases.len() >= 40, "only {} fixture cases", cases.len());
    let (mut dets, mut mismatches) = (0usize, Vec::new());
    let (mut copied, mut walked) = (0usize, 0usize);
    let mut decided = 0u64;
    let (mut wide_tiles, mut split_tiles) = (0u64, 0u64);
    for case in &cases {
        let inputs = case
            .inputs()
            .expect("inputs regenerate with matching hashes");
        let batch = inputs.batch();
        pp.run(&batch, &case.metas, &case.options)
            .expect("warm-up run");
        let want = case.expected();
        // 1-pixel chunks, as many as the largest item budget allows (no
        // item target asking for larger ones).
        pp.set_min_chunk_pixels(1);
        pp.set_item_budget(rle_kernels::abi::MASK_ITEM_BUDGET);
        pp.set_item_target(Some(0));
        pp.poison_buffers().unwrap();
        let fine = pp
            .run(&batch, &case.metas, &case.options)
            .expect("GPU run, 1-pixel chunks");
        pp.set_min_chunk_pixels(rle_kernels::abi::DEFAULT_CHUNK_PIXELS);
        pp.set_item_budget(rle_kernels::abi::DEFAULT_ITEM_BUDGET);
        pp.set_item_target(None);
        // Without the chunk store (every chunk evaluated twice), without
        // uniform groups (every pixel evaluated) and without early ROIs
        // (the plan finds every ROI); few items (chunks of many tiles),
        // wide tiles with more than one event encoded in parts, the items
        // strided over instead of queued, and the reserve step in rounds of
        // 32 chunks.
        pp.set_chunk_store_bytes(0);
        pp.set_uniform_groups(false);
        pp.set_early_rois(false);
        pp.set_item_budget(64);
        pp.set_wide_events(1);
        pp.set_item_queue(false);
        pp.set_reserve_threads(32);
        pp.poison_buffers().unwrap();
        let twice = pp
            .run(&batch, &case.metas, &case.options)
            .expect("GPU run, no chunk store, no uniform groups, no early ROIs");
        let paths = common::chunk_paths(&pp, 0, false, &case.name);
        common::check_wide_tiles(&paths, 1, &case.name);
        walked += paths.walked;
        split_tiles += paths.split_tiles;
        let found = twice.iter().map(|r| r.detections.len()).sum();
        common::check_late_rois(&paths, false, found, &case.name);
        common::check_queue(&paths, false, &case.name);
        pp.set_chunk_store_bytes(rle_kernels::abi::DEFAULT_CHUNK_STORE_BYTES);
        pp.set_uniform_groups(true);
        pp.set_early_rois(true);
        pp.set_item_budget(rle_kernels::abi::DEFAULT_ITEM_BUDGET);
        pp.set_wide_events(rle_kernels::abi::DEFAULT_WIDE_EVENTS);
        pp.set_item_queue(true);
        pp.set_reserve_threads(rle_kernels::abi::DEFAULT_RESERVE_THREADS);
        pp.poison_buffers().unwrap();
        let (got, scores) = pp
            .run_with_scores(&batch, &case.metas, &case.options)
            .expect("GPU run");
        let paths = common::chunk_paths(
            &pp,
            rle_kernels::abi::DEFAULT_CHUNK_STORE_BYTES,
            true,
            &case.name,
        );
        common::check_wide_tiles(&paths, rle_kernels::abi::DEFAULT_WIDE_EVENTS, &case.name);
        copied += paths.copied;
        decided += paths.decided_groups;
        wide_tiles += paths.wide_tiles;
        let found = got.iter().map(|r| r.detections.len()).sum();
        common::check_late_rois(&paths, true, found, &case.name);
        common::check_queue(&paths, true, &case.name);
        for (i, (g, w)) in got.iter().zip(&want).enumerate() {
            if g != w {
                mismatches.push(format!(
                    "{} image {i}:\n  gpu {:?}\n  torch {:?}",
                    case.name, g.detections, w.detections
                ));
            }
            if fine[i] != *w {
                mismatches.push(format!("{} image {i} (1-pixel chunks)", case.name));
            }
            if twice[i] != *w {
                mismatches.push(format!("{} image {i} (no chunk store)", case.name));
            }
            dets += w.detections.len();
        }
        // The same GPU scores through the reference give the same result.
        let cpu = rle_reference::postprocess_with_scores(
            &batch,
            scores.unwrap().view(),
            &case.metas,
            &case.options,
        )
        .unwrap();
        assert_eq!(
            cpu, got,
            "{}: reference with GPU scores differs from the GPU",
            case.name
        );
    }
    println!(
        "gpu fixtures: {} cases, {dets} detections, {} mismatches; write pass: {copied} chunks copied \
         from the store (default size), {walked} evaluated again (no store); {decided} pixel groups \
         decided without evaluation; {wide_tiles} wide tiles (defaults), {split_tiles} encoded in parts \
         (few items, one event at once)",
        cases.len(),
        mismatches.len()
    );
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
    assert!(
        copied > 0 && walked > 0,
        "both write paths must run on the fixtures: copied {copied}, evaluated again {walked}"
    );
    assert!(
        decided > 0,
        "no pixel group of the fixtures was decided by the uniform shortcut"
    );
    assert!(
        split_tiles > 0,
        "no wide tile of the fixtures was encoded in parts"
    );
}

#[test]
#[ignore = "needs a CUDA GPU: run on the GPU machine with --include-ignored (cargo xtask gather-gpu)"]
fn gpu_sigmoid_equals_torch_on_the_sigmoid_fixture() {
    let mut pp = common::gpu();
    let fx = load_sigmoid(fixtures_dir()).expect("sigmoid fixture");
    let n = fx.inputs.len();
    let (q, c) = (256, n.div_ceil(256));
    let mut logits = Array3::from_elem((1, q, c), -10.0f32);
    for (i, &x) in fx.inputs.iter().enumerate() {
        logits[[0, i / c, i % c]] = x;
    }
    let boxes = Array3::from_elem((1, q, 4), 0.5f32);
    let masks = Array4::from_elem((1, q, 1, 1), -1.0f32);
    let batch = Batch {
        logits: logits.view(),
        boxes: boxes.view(),
        masks: MaskLogits::F32(masks.view()),
    };
    let meta = ImageMeta::stretch(Size::new(4, 4), Size::new(4, 4));
    let opts = Options {
        threshold: Threshold::Scalar(2.0),
        num_classes: c,
        class_mapping: None,
        max_detections: None,
        resize: ResizeMode::Antialiased,
        ..Options::new(0)
    };
    pp.run(&batch, std::slice::from_ref(&meta), &opts).unwrap();
    pp.poison_buffers().unwrap();
    let (_, scores) = pp.run_with_scores(&batch, &[meta], &opts).unwrap();
    let scores = scores.unwrap();
    let mut bad = 0;
    for (i, (&x, &want)) in fx.inputs.iter().zip(&fx.outputs).enumerate() {
        let got = scores[[0, i / c, i % c]];
        if got.to_bits() != want.to_bits() && !(got.is_nan() && want.is_nan()) {
            if bad < 10 {
                eprintln!("sigmoid({x:e}) = {got:e} on the GPU, torch {want:e}");
            }
            bad += 1;
        }
    }
    println!("gpu sigmoid: {n} inputs, {bad} differ from torch");
    assert_eq!(bad, 0);
}
