//! Early differential smoke test: random shapes, metadata and blob-like masks,
//! GPU vs the reference fed with the GPU's own scores (so every decision is
//! bit-exact). Ignored without a GPU. The full randomized suite lives in
//! `tests/gpu_random.rs` at the workspace root (it uses rle-fixtures' synth).

use half::{bf16, f16};
use ndarray::{Array3, Array4};
use rle_host::{Config, Fallback, Postprocessor};
use rle_reference::{
    Batch, ImageMeta, MaskLogits, Options, ResizeMode, Size, StaticCrop, Threshold,
};

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo + 1)
    }
    fn unit(&mut self) -> f32 {
        (self.next() >> 40) as f32 / (1u64 << 24) as f32
    }
}

fn meta(r: &mut Rng, d: u32) -> ImageMeta {
    let (ho, wo) = (r.range(1, 700) as u32, r.range(1, 900) as u32);
    let mut m = ImageMeta::stretch(Size::new(ho, wo), Size::new(d, d));
    match r.range(0, 3) {
        0 => {}
        1 => {
            // static crop (sometimes anchored at (0, 0))
            let ox = if r.range(0, 2) == 0 {
                0
            } else {
                r.range(0, u64::from(wo - 1)) as u32
            };
            let oy = r.range(0, u64::from(ho - 1)) as u32;
            let cw = r.range(1, u64::from(wo - ox)) as u32;
            let ch = r.range(1, u64::from(ho - oy)) as u32;
            m.static_crop = StaticCrop {
                offset_x: ox,
                offset_y: oy,
                width: cw,
                height: ch,
            };
            m.size_after_pre_processing = Size::new(ch, cw);
            m.scale_width = f64::from(d) / f64::from(cw);
            m.scale_height = f64::from(d) / f64::from(ch);
        }
        2 => {
            // letterbox inside a non-square intermediate size
            let s = (f64::from(d) / f64::from(wo)).min(f64::from(d) / f64::from(ho));
            let (cw, ch) = (
                ((f64::from(wo) * s) as i32).max(1),
                ((f64::from(ho) * s) as i32).max(1),
            );
            m.nonsquare_intermediate_size = Some(Size::new(d, d));
            m.pad_left = (d as i32 - cw) / 2;
            m.pad_right = d as i32 - cw - m.pad_left;
            m.pad_top = (d as i32 - ch) / 2;
            m.pad_bottom = d as i32 - ch - m.pad_top;
            m.scale_width = s;
            m.scale_height = s;
        }
        _ => {
            // center crop: negative pads, scale 1
            let dd = d as i32;
            m.nonsquare_intermediate_size = Some(Size::new(d, d));
            let (w, h) = (wo as i32, ho as i32);
            let (l, t) = (((dd - w) / 2), ((dd - h) / 2));
            m.pad_left = if w <= dd { l } else { -((w - dd) / 2) };
            m.pad_right = if w <= dd {
                dd - w - l
            } else {
                -(w - dd - (w - dd) / 2)
            };
            m.pad_top = if h <= dd { t } else { -((h - dd) / 2) };
            m.pad_bottom = if h <= dd {
                dd - h - t
            } else {
                -(h - dd - (h - dd) / 2)
            };
            m.scale_width = 1.0;
            m.scale_height = 1.0;
        }
    }
    m
}

#[test]
#[ignore = "needs a CUDA GPU: run on the GPU machine with --include-ignored (cargo xtask gather-gpu)"]
fn random_frames_match_the_reference_bit_for_bit() {
    let mut pp = Postprocessor::new(Config {
        ordinal: 0,
        fallback: Fallback::Error,
        ..Default::default()
    })
    .expect("a CUDA GPU");
    let mut r = Rng(0x5EED_0001);
    let (mut ran, mut dets, mut rejected) = (0, 0, 0);
    // RLE_SMOKE_FRAMES shortens the run under compute-sanitizer.
    let frames: usize = std::env::var("RLE_SMOKE_FRAMES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300);
    for case in 0..frames {
        let b = r.range(1, 3) as usize;
        let q = r.range(1, 120) as usize;
        let c = r.range(2, 40) as usize;
        let (mh, mw) = (r.range(2, 48) as usize, r.range(2, 48) as usize);
        let d = (mh.max(mw) * 4) as u32;
        let logits = Array3::from_shape_fn((b, q, c), |_| {
            if r.range(0, 30) == 0 {
                r.unit() * 8.0
            } else {
                -8.0 + r.unit() * 6.0
            }
        });
        let boxes = Array3::from_shape_fn((b, q, 4), |_| r.unit() * 1.2 - 0.1);
        let blobs: Vec<(f32, f32, f32, f32)> = (0..b * q)
            .map(|_| {
                (
                    r.unit() * mh as f32,
                    r.unit() * mw as f32,
                    1.0 + r.unit() * mh as f32 / 2.0,
                    1.0 + r.unit() * mw as f32 / 2.0,
                )
            })
            .collect();
        let masks = Array4::from_shape_fn((b, q, mh, mw), |(bi, qi, y, x)| {
            let (cy, cx, ry, rx) = blobs[bi * q + qi];
            let dy = (y as f32 - cy) / ry;
            let dx = (x as f32 - cx) / rx;
            4.0 * (1.0 - dy * dy - dx * dx) + ((y * 7 + x * 13 + qi) % 5) as f32 * 0.1 - 0.2
        });
        let metas: Vec<ImageMeta> = (0..b).map(|_| meta(&mut r, d)).collect();
        let opts = Options {
            threshold: if r.range(0, 1) == 0 {
                Threshold::Scalar(0.3)
            } else {
                Threshold::PerClass((0..c).map(|i| 0.2 + 0.01 * i as f32).collect())
            },
            num_classes: c - 1,
            class_mapping: if r.range(0, 3) == 0 {
                Some(
                    (0..c as i64)
                        .map(|i| if i % 3 == 1 { -1 } else { i - (i + 1) / 3 })
                        .collect(),
                )
            } else {
                None
            },
            max_detections: if r.range(0, 4) == 0 {
                Some(r.range(1, 10) as usize)
            } else {
                None
            },
            resize: if r.range(0, 3) == 0 {
                ResizeMode::Bilinear
            } else {
                ResizeMode::Antialiased
            },
            // SPEC §10.1: the window itself, between, and the image.
            masks_resolution_factor: [1.0, 0.0, 0.25, 0.5, 0.999][r.range(0, 4) as usize],
            canvas: rle_reference::CanvasRule::Current,
        };
        let m16 = masks.mapv(f16::from_f32);
        let mb16 = masks.mapv(bf16::from_f32);
        let mview = match case % 3 {
            0 => MaskLogits::F32(masks.view()),
            1 => MaskLogits::F16(m16.view()),
            _ => MaskLogits::Bf16(mb16.view()),
        };
        let batch = Batch {
            logits: logits.view(),
            boxes: boxes.view(),
            masks: mview,
        };
        if rle_reference::validate(&batch, &metas, &opts).is_err() {
            rejected += 1;
            continue;
        }
        pp.poison_buffers().unwrap();
        let (gpu, scores) = pp
            .run_with_scores(&batch, &metas, &opts)
            .unwrap_or_else(|e| panic!("case {case}: {e}"));
        let scores = scores.unwrap();
        let cpu =
            rle_reference::postprocess_with_scores(&batch, scores.view(), &metas, &opts).unwrap();
        for (i, (g, c)) in gpu.iter().zip(&cpu).enumerate() {
            assert_eq!(g.image_size, c.image_size, "case {case} image {i}");
            assert_eq!(
                g.detections.len(),
                c.detections.len(),
                "case {case} image {i}: {:?}\n{:?}",
                metas[i],
                opts
            );
            for (j, (gd, cd)) in g.detections.iter().zip(&c.detections).enumerate() {
                assert_eq!(
                    gd, cd,
                    "case {case} image {i} detection {j}: meta {:?} opts {:?}",
                    metas[i], opts
                );
            }
            dets += g.detections.len();
        }
        ran += 1;
    }
    println!(
        "random smoke: {ran} frames, {dets} detections identical, {rejected} invalid draws skipped"
    );
    assert!(
        ran * 10 > frames * 9 && dets > frames,
        "too few cases exercised: {ran} frames, {dets} detections"
    );
}
