//! Differential suite on fresh random frames (rle_fixtures' synth: realistic
//! blob masks, every metadata kind, per-class thresholds, remapping, caps,
//! both resize modes, f16/bf16): the GPU against the reference fed with the
//! GPU's own scores (bit-exact everywhere), GPU scores within the CPU sigmoid's
//! tolerance, and the GPU against the CPU-score reference except where that
//! reports a near decision. Outputs are poisoned before each run.
//! Frames rotate through chunk sizes from 1 pixel (a chunk boundary at every
//! pixel of the mask kernels) to the default and through chunk-store sizes
//! (none, a few bytes, the default), and the suite checks that both of
//! the selection's paths (few candidates above the lowest threshold, or the
//! full radix select) and both of the write pass's (copy from the store, or
//! evaluate again) were taken.
//! `RLE_RANDOM_CASES` / `RLE_RANDOM_SEED` change the count and the seeds.

mod common;

use rle_fixtures::{generate, random_recipe, Limits};
use rle_reference::sigmoid::{sigmoid, ulp_distance, SIGMOID_TOLERANCE_ULP};
use rle_reference::{Options, Threshold};

/// Chunk sizes the frames rotate through (`Postprocessor::set_min_chunk_pixels`).
const CHUNK_PIXELS: [u32; 6] = [1, 2, 5, 64, 700, rle_kernels::abi::DEFAULT_CHUNK_PIXELS];
/// Chunk-store sizes (`Postprocessor::set_chunk_store_bytes`), rotated on a
/// different period than the chunk sizes so every pair occurs.
const STORE_BYTES: [u32; 5] = [rle_kernels::abi::DEFAULT_CHUNK_STORE_BYTES, 0, 7, 40, 512];
/// Frame `i` runs without uniform groups (`Postprocessor::set_uniform_groups`)
/// when `i % UNIFORM_OFF_PERIOD == 2`: a period prime to both rotations above.
const UNIFORM_OFF_PERIOD: u64 = 5;
/// Frame `i` runs with early ROIs off (`Postprocessor::set_early_rois`: the
/// plan finds every ROI itself) when `i % EARLY_OFF_PERIOD == 4`: prime to
/// every rotation here.
const EARLY_OFF_PERIOD: u64 = 7;
/// Item budgets (`Postprocessor::set_item_budget`), the next one every
/// `CHUNK_PIXELS.len() * STORE_BYTES.len()` frames: the largest (the default:
/// one detection of 1-pixel chunks holds more than a reserve round) and
/// smaller ones (chunks of many tiles, stores that overflow).
const BUDGETS: [u32; 3] = [rle_kernels::abi::MASK_ITEM_BUDGET, 1024, 256];
/// Item targets (`Postprocessor::set_item_target`), the next one every
/// `CHUNK_PIXELS.len()` frames (so every chunk size meets each): the
/// default (rounds of the item passes' grid: chunks of up to a wide tile on
/// realistic frames), none (chunks as small as the rotations above make
/// them), and a few items (large chunks).
const ITEM_TARGETS: [Option<u32>; 3] = [None, Some(0), Some(16)];
/// Frame `i` runs with the item passes striding over items instead of
/// taking them from the queue (`Postprocessor::set_item_queue`) when
/// `i % QUEUE_OFF_PERIOD == 1`: prime to every rotation here.
const QUEUE_OFF_PERIOD: u64 = 11;
/// Events a wide tile encodes at once (`Postprocessor::set_wide_events`),
/// the next one every ten frames so the realistic frames (every tenth, where
/// chunks are large enough for wide tiles) take each: the default, wide
/// tiles off, and caps that split most wide tiles into parts.
const WIDE_EVENTS: [u32; 4] = [rle_kernels::abi::DEFAULT_WIDE_EVENTS, 0, 1, 40];
/// Threads per block of the reserve step (`Postprocessor::set_reserve_threads`),
/// frame `i` taking entry `(i % 13) % 4`: 13 is prime to every rotation
/// here. With 32 a detection of more than 32 chunks chains in several
/// rounds, with 1024 nearly every one in one.
const RESERVE_THREADS: [u32; 4] = [rle_kernels::abi::DEFAULT_RESERVE_THREADS, 32, 1024, 96];
/// Frame `i` launches the item passes programmatically (sm_90:
/// `Postprocessor::set_programmatic_launch`) unless `i % PROGRAMMATIC_OFF_PERIOD
/// == 5`: 7 is prime to every rotation here.
const PROGRAMMATIC_OFF_PERIOD: u64 = 7;

/// Whether the selection (`rle_select_roi`) takes its fast path on an image with these scores
/// (`Q*C` of them): every threshold >= 0 and at most `Q` scores above the
/// lowest one or NaN (`device/select.rs`).
fn select_fast_path(scores: &[f32], queries: usize, opts: &Options) -> bool {
    let lowest = match &opts.threshold {
        Threshold::Scalar(t) => *t as f32,
        Threshold::PerClass(v) => v.iter().copied().fold(f32::INFINITY, f32::min),
    };
    lowest >= 0.0 && scores.iter().filter(|s| s.is_nan() || **s > lowest).count() <= queries
}

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[test]
#[ignore = "needs a CUDA GPU: run on the GPU machine with --include-ignored (cargo xtask gather-gpu)"]
fn random_frames_gpu_equals_reference() {
    let mut pp = common::gpu();
    let n = env("RLE_RANDOM_CASES", 2200);
    let seed0 = env("RLE_RANDOM_SEED", 0x2026_1124);
    // Mostly small frames (fast reference), every tenth at realistic size.
    let cases: Vec<u64> = (0..n).collect();
    let threads = std::thread::available_parallelism()
        .map_or(4, |p| p.get())
        .min(16);
    let mut frames = 0usize;
    let (mut dets, mut flagged_images, mut score_checks) = (0usize, 0usize, 0usize);
    let (mut fast_images, mut radix_images) = (0usize, 0usize);
    let (mut copied, mut walked) = (0usize, 0usize);
    let (mut decided, mut off_frames) = (0u64, 0usize);
    let (mut late_frames, mut late_rois) = (0usize, 0usize);
    let (mut wide_tiles, mut split_tiles) = (0u64, 0u64);
    let mut queued_items = 0usize;
    let sm90 = common::check_programmatic(&mut pp);
    let (mut pdl_frames, mut plain_frames) = (0usize, 0usize);
    for chunk in cases.chunks(threads * 4) {
        // GPU runs on this thread; the slow reference runs in parallel.
        let mut jobs = Vec::new();
        for &i in chunk {
            let limits = if i % 10 == 9 {
                Limits::default()
            } else {
                Limits::small()
            };
            let (recipe, metas, opts) =
                random_recipe(seed0 ^ (i.wrapping_mul(0x9E37_79B9_7F4A_7C15)), &limits);
            let data = generate(&recipe);
            pp.poison_buffers().unwrap();
            pp.set_min_chunk_pixels(CHUNK_PIXELS[i as usize % CHUNK_PIXELS.len()]);
            let store = STORE_BYTES[(i as usize / CHUNK_PIXELS.len()) % STORE_BYTES.len()];
            pp.set_chunk_store_bytes(store);
            let uniform = i % UNIFORM_OFF_PERIOD != 2;
            pp.set_uniform_groups(uniform);
            let rotation = (CHUNK_PIXELS.len() * STORE_BYTES.len()) as u64;
            pp.set_item_budget(BUDGETS[((i / rotation) % BUDGETS.len() as u64) as usize]);
            off_frames += usize::from(!uniform);
            let early = i % EARLY_OFF_PERIOD != 4;
            pp.set_early_rois(early);
            let wide_events = WIDE_EVENTS[((i / 10) % WIDE_EVENTS.len() as u64) as usize];
            pp.set_wide_events(wide_events);
            let queue = i % QUEUE_OFF_PERIOD != 1;
            pp.set_item_queue(queue);
            pp.set_reserve_threads(RESERVE_THREADS[(i % 13) as usize % RESERVE_THREADS.len()]);
            pp.set_programmatic_launch(i % PROGRAMMATIC_OFF_PERIOD != 5);
            if pp.programmatic_launches() {
                pdl_frames += 1;
            } else {
                plain_frames += 1;
            }
            pp.set_item_target(
                ITEM_TARGETS[(i as usize / CHUNK_PIXELS.len()) % ITEM_TARGETS.len()],
            );
            late_frames += usize::from(!early);
            let (gpu, scores) = pp
                .run_with_scores(&data.batch(), &metas, &opts)
                .unwrap_or_else(|e| panic!("case {i}: GPU error {e}"));
            let paths = common::chunk_paths(&pp, store, uniform, &format!("case {i}"));
            let found: usize = gpu.iter().map(|r| r.detections.len()).sum();
            common::check_late_rois(&paths, early, found, &format!("case {i}"));
            common::check_wide_tiles(&paths, wide_events, &format!("case {i}"));
            common::check_queue(&paths, queue, &format!("case {i}"));
            queued_items += paths.queued_items;
            late_rois += paths.late_rois;
            wide_tiles += paths.wide_tiles;
            split_tiles += paths.split_tiles;
            copied += paths.copied;
            walked += paths.walked;
            decided += paths.decided_groups;
            let chunk_px = CHUNK_PIXELS[i as usize % CHUNK_PIXELS.len()];
            let scores = scores.unwrap();
            let q = scores.shape()[1];
            for img in scores.outer_iter() {
                let flat: Vec<f32> = img.iter().copied().collect();
                if select_fast_path(&flat, q, &opts) {
                    fast_images += 1;
                } else {
                    radix_images += 1;
                }
            }
            jobs.push((i, data, metas, opts, gpu, scores, chunk_px));
        }
        let results: Vec<(usize, usize, usize)> = std::thread::scope(|s| {
            let handles: Vec<_> = jobs
                .iter()
                .map(|(i, data, metas, opts, gpu, scores, chunk_px)| {
                    s.spawn(move || {
                        let batch = data.batch();
                        let exact = rle_reference::postprocess_with_scores(&batch, scores.view(), metas, opts).unwrap();
                        assert_eq!(&exact, gpu, "case {i} (chunks of {chunk_px} px): GPU differs from the reference fed with GPU scores\nmetas {metas:?}\nopts {opts:?}");
                        // Scores: within the CPU sigmoid's tolerance of the GPU's.
                        for (x, g) in batch.logits.iter().zip(scores.iter()) {
                            let c = sigmoid(*x);
                            assert!(
                                (c.is_nan() && g.is_nan()) || ulp_distance(c, *g) <= SIGMOID_TOLERANCE_ULP,
                                "case {i}: sigmoid({x}) CPU {c} vs GPU {g}"
                            );
                        }
                        // CPU scores: equal unless a near decision is reported.
                        let cpu = rle_reference::postprocess(&batch, metas, opts).unwrap();
                        let mut flagged = 0;
                        for (c, g) in cpu.iter().zip(gpu) {
                            if c.near_decisions.is_empty() {
                                assert_eq!(c.detections.len(), g.detections.len(), "case {i}: unflagged image differs");
                                for (cd, gd) in c.detections.iter().zip(&g.detections) {
                                    assert_eq!((cd.query, cd.column, cd.class_id, cd.xyxy, &cd.mask), (gd.query, gd.column, gd.class_id, gd.xyxy, &gd.mask), "case {i}");
                                    assert!(ulp_distance(cd.score, gd.score) <= SIGMOID_TOLERANCE_ULP, "case {i}");
                                }
                            } else {
                                flagged += 1;
                            }
                        }
                        let d = gpu.iter().map(|r| r.detections.len()).sum::<usize>();
                        (d, flagged, scores.len())
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("reference thread"))
                .collect()
        });
        for (d, f, s) in results {
            dets += d;
            flagged_images += f;
            score_checks += s;
        }
        frames += chunk.len();
    }
    println!(
        "gpu random: {frames} frames, {dets} detections identical to the reference with GPU scores; \
         {score_checks} scores within {SIGMOID_TOLERANCE_ULP} ulp of the CPU sigmoid; \
         {flagged_images} images with CPU near-decision flags; select fast path on {fast_images} images, \
         radix select on {radix_images}; write pass copied {copied} chunks from the store, evaluated {walked} again; \
         {decided} pixel groups decided without evaluation, {off_frames} frames with uniform groups off; \
         {late_rois} ROIs found by the plan in {late_frames} frames with early ROIs off, none late otherwise; \
         {wide_tiles} wide tiles, {split_tiles} tiles encoded in parts; {queued_items} items from the queue; \
         {pdl_frames} frames with programmatic launches, {plain_frames} without"
    );
    assert!(
        plain_frames > 0 && (pdl_frames > 0 || !sm90),
        "both launch modes must run on sm_90: {pdl_frames} programmatic, {plain_frames} plain"
    );
    assert!(
        wide_tiles > 0 && split_tiles > 0,
        "wide tiles must run, and tiles encoded in parts: {wide_tiles} wide, {split_tiles} split"
    );
    assert!(
        late_rois > 0,
        "the plan's own ROI path must run: {late_frames} frames with early ROIs off found {late_rois}"
    );
    assert!(
        decided > 0 && off_frames > 0,
        "uniform groups must run, and frames without them too: {decided} groups decided, {off_frames} frames off"
    );
    assert!(
        copied > 0 && walked > 0,
        "both write paths must be exercised: copied {copied}, evaluated again {walked}"
    );
    assert!(
        fast_images > 0 && radix_images > 0,
        "both select paths must be exercised: fast {fast_images}, radix {radix_images}"
    );
    assert!(
        frames as u64 == n && dets > frames,
        "too little exercised: {frames} frames, {dets} detections"
    );
}
