//! `random_recipe` draws valid, varied cases: the reference accepts every one of
//! them, and over a few hundred seeds every metadata kind, dtype, resize mode and
//! option the fixtures cover shows up (counted, and required to appear).

use rle_fixtures::generate;
use rle_fixtures::synth::{random_recipe, Limits, MaskDtype, MaskMode, Recipe};
use rle_reference::{ResizeMode, Threshold};

#[derive(Default, Debug)]
struct Seen {
    stretch: usize,
    paste: usize,
    origin_quirk: usize,
    letterbox: usize,
    negative_pads: usize,
    per_class: usize,
    remap_short: usize,
    remap_long: usize,
    capped: usize,
    bilinear: usize,
    f16: usize,
    bf16: usize,
    border: usize,
    nan_logit: usize,
    detections: usize,
}

fn tally(
    seen: &mut Seen,
    recipe: &Recipe,
    metas: &[rle_reference::ImageMeta],
    opts: &rle_reference::Options,
) {
    let Recipe::Synth(r) = recipe else {
        panic!("random recipes are synth recipes")
    };
    for m in metas {
        let pads = [m.pad_left, m.pad_top, m.pad_right, m.pad_bottom];
        let cropped = m.size_after_pre_processing != m.original_size;
        seen.paste += usize::from(m.pastes());
        seen.origin_quirk += usize::from(cropped && !m.pastes());
        seen.stretch += usize::from(m.nonsquare_intermediate_size.is_none());
        seen.letterbox +=
            usize::from(m.nonsquare_intermediate_size.is_some() && pads.iter().all(|&p| p >= 0));
        seen.negative_pads += usize::from(pads.iter().any(|&p| p < 0));
    }
    seen.per_class += usize::from(matches!(opts.threshold, Threshold::PerClass(_)));
    if let Some(m) = &opts.class_mapping {
        seen.remap_short += usize::from(m.len() < r.columns);
        seen.remap_long += usize::from(m.len() >= r.columns);
    }
    seen.capped += usize::from(opts.max_detections.is_some());
    seen.bilinear += usize::from(opts.resize == ResizeMode::Bilinear);
    seen.f16 += usize::from(r.mask_dtype == MaskDtype::F16);
    seen.bf16 += usize::from(r.mask_dtype == MaskDtype::Bf16);
    seen.border += r
        .mask_modes
        .iter()
        .filter(|m| m.mode == MaskMode::Border)
        .count();
    seen.nan_logit += r
        .logits
        .iter()
        .filter(|l| l.logit.to_f32().is_nan())
        .count();
}

#[test]
fn small_random_cases_run_through_the_reference() {
    let mut seen = Seen::default();
    for seed in 0..160 {
        let (recipe, metas, opts) = random_recipe(seed, &Limits::small());
        tally(&mut seen, &recipe, &metas, &opts);
        let t = generate(&recipe);
        let out = rle_reference::postprocess(&t.batch(), &metas, &opts)
            .unwrap_or_else(|e| panic!("seed {seed}: the reference rejected a random case: {e}"));
        seen.detections += out.iter().map(|im| im.detections.len()).sum::<usize>();
    }
    println!("random cases (small limits): {seen:?}");
    for (what, n) in [
        ("stretch", seen.stretch),
        ("paste", seen.paste),
        ("(0,0) crop quirk", seen.origin_quirk),
        ("letterbox", seen.letterbox),
        ("negative pads", seen.negative_pads),
        ("per-class thresholds", seen.per_class),
        ("remap L < C", seen.remap_short),
        ("remap L ≥ C", seen.remap_long),
        ("max_detections", seen.capped),
        ("bilinear", seen.bilinear),
        ("f16", seen.f16),
        ("bf16", seen.bf16),
        ("border masks", seen.border),
        ("NaN logits", seen.nan_logit),
        ("detections", seen.detections),
    ] {
        assert!(n > 0, "160 random cases never produced {what}");
    }
}

#[test]
fn default_limits_stay_within_bounds() {
    let lim = Limits::default();
    for seed in 0..300 {
        let (recipe, metas, _) = random_recipe(seed, &lim);
        let (b, q, _, mh, mw) = recipe.dims();
        assert!(
            b <= lim.max_batch && q <= lim.max_queries && mh <= lim.max_mask && mw <= lim.max_mask,
            "seed {seed}"
        );
        for m in &metas {
            let o = m.original_size;
            assert!(
                o.height <= lim.max_canvas.height && o.width <= lim.max_canvas.width,
                "seed {seed}: {o:?}"
            );
        }
    }
}

#[test]
fn random_recipe_is_deterministic() {
    let a = random_recipe(42, &Limits::default());
    let b = random_recipe(42, &Limits::default());
    assert_eq!(a, b);
    assert_ne!(a.0, random_recipe(43, &Limits::default()).0);
}

#[test]
fn frame_case_yields_its_detections() {
    use rle_fixtures::synth::{frame_case, Model, FRAMES};
    let (recipe, metas, opts) = frame_case(7, Model::NANO, FRAMES[0], 12, MaskDtype::F32);
    let t = generate(&recipe);
    let out = rle_reference::postprocess(&t.batch(), &metas, &opts).expect("frame cases are valid");
    // Every planted logit is ≥ 0.5 (score > 0.6 > 0.4) and the background stays below −3.
    assert_eq!(out[0].detections.len(), 12);
    assert!(out[0].detections.iter().all(|d| d.mask.size == FRAMES[0]));
}
