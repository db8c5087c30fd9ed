//! The kernels' shared arithmetic (compiled here for the host) against the CPU
//! reference, on random shapes and values: resize tables, per-pixel resize
//! evaluation, the box chain and the COCO characters. What passes here is what
//! the device runs, so a mismatch on the GPU can only come from device-only
//! code (indexing, shared memory, run detection), which the GPU suite covers.

use ndarray::Array2;
use proptest::prelude::*;
use rle_kernels::abi::{ImageParams, TapSpan};
use rle_kernels::boxes::box_xyxy;
use rle_kernels::coco::{char_len, coded_value, write_chars};
use rle_kernels::tables::{aa_slots, build_aa, build_bilinear, eval_aa, eval_bilinear, tap_index};
use rle_reference::geometry::MaskGrid;
use rle_reference::resize::antialiased::{resize_with_tables, AxisTable};
use rle_reference::resize::bilinear::{resize_bilinear_with, BilinearVariant};
use rle_reference::{CanvasRule, ImageMeta, Size, StaticCrop};

fn aa_table(n: u32, m: u32) -> (Vec<TapSpan>, Vec<f32>, u32) {
    let slots = aa_slots(n, m);
    let mut spans = vec![TapSpan::default(); m as usize];
    let mut w = vec![0f32; (m * slots) as usize];
    build_aa(n, m, slots, &mut spans, &mut w).unwrap();
    (spans, w, slots)
}

fn bl_table(n: u32, m: u32) -> (Vec<TapSpan>, Vec<f32>) {
    let mut spans = vec![TapSpan::default(); m as usize];
    let mut w = vec![0f32; 2 * m as usize];
    build_bilinear(n, m, &mut spans, &mut w).unwrap();
    (spans, w)
}

fn values(h: usize, w: usize, seed: u64) -> Array2<f32> {
    let mut s = seed | 1;
    Array2::from_shape_fn((h, w), |_| {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        ((s >> 40) as f32 / (1u64 << 24) as f32) * 8.0 - 4.0
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn antialiased_tables_match(n in 1u32..260, m in 1u32..400) {
        let (spans, w, slots) = aa_table(n, m);
        let r = AxisTable::new(n as usize, m as usize);
        for i in 0..m as usize {
            let (first, rw) = r.taps(i);
            prop_assert_eq!(spans[i].first as usize, first, "n={} m={} i={}", n, m, i);
            prop_assert_eq!(spans[i].count as usize, rw.len());
            let mine = &w[i * slots as usize..i * slots as usize + rw.len()];
            prop_assert_eq!(mine.iter().map(|v| v.to_bits()).collect::<Vec<_>>(), rw.iter().map(|v| v.to_bits()).collect::<Vec<_>>());
        }
    }

    #[test]
    fn antialiased_pixels_match(h in 1usize..40, w in 1usize..40, oh in 1usize..90, ow in 1usize..90, seed in any::<u64>()) {
        let src = values(h, w, seed);
        let (ys, yw, ysl) = aa_table(h as u32, oh as u32);
        let (xs, xw, xsl) = aa_table(w as u32, ow as u32);
        let want = resize_with_tables(src.view(), &AxisTable::new(h, oh), &AxisTable::new(w, ow));
        for y in 0..oh {
            for x in 0..ow {
                let v = eval_aa(
                    ys[y], &yw[y * ysl as usize..(y + 1) * ysl as usize],
                    xs[x], &xw[x * xsl as usize..(x + 1) * xsl as usize],
                    |a, b| src[[a as usize, b as usize]],
                );
                prop_assert_eq!(v.to_bits(), want[[y, x]].to_bits(), "({}, {})", y, x);
            }
        }
    }

    #[test]
    fn bilinear_pixels_match(h in 1usize..40, w in 1usize..40, oh in 1usize..90, ow in 1usize..90, seed in any::<u64>()) {
        prop_assume!((h, w) != (oh, ow)); // same size is an identity copy on both sides
        let src = values(h, w, seed);
        let (ys, yw) = bl_table(h as u32, oh as u32);
        let (xs, xw) = bl_table(w as u32, ow as u32);
        let want = resize_bilinear_with(src.view(), oh, ow, BilinearVariant::DEFAULT);
        for y in 0..oh {
            for x in 0..ow {
                let v = eval_bilinear(ys[y], &yw[2 * y..2 * y + 2], xs[x], &xw[2 * x..2 * x + 2], h as u32, w as u32,
                    |a, b| src[[a as usize, b as usize]]);
                prop_assert_eq!(v.to_bits(), want[[y, x]].to_bits(), "({}, {})", y, x);
                prop_assert!(tap_index(ys[y], 1, h as u32) < h as u32);
            }
        }
    }

    #[test]
    fn boxes_match(
        cx in -0.5f32..1.5, cy in -0.5f32..1.5, bw in -0.2f32..1.5, bh in -0.2f32..1.5,
        ho in 1u32..4000, wo in 1u32..4000, d in 100u32..1000, pads in prop::array::uniform4(-300i32..300),
        ox in 0u32..50, oy in 0u32..50, sw in 0.05f64..20.0, sh in 0.05f64..20.0, special in 0usize..6,
        crop in 0u32..3, win in (1usize..200, 1usize..200), factor in prop::sample::select(vec![1.0, 0.0, 0.25, 0.5, 0.999, 0.3]),
    ) {
        let specials = [f32::NAN, f32::INFINITY, f32::NEG_INFINITY, 0.5, 0.25, 1e-30];
        let mut b = [cx, cy, bw, bh];
        if special < 4 { b[special] = specials[special]; }
        // S = O, or a crop smaller than the image (so the §10.2 canvas appears).
        let s_size = Size::new((ho / (crop + 1)).max(1), (wo / (crop + 1)).max(1));
        let meta = ImageMeta {
            original_size: Size::new(ho, wo),
            static_crop: StaticCrop { offset_x: ox, offset_y: oy, width: s_size.width, height: s_size.height },
            size_after_pre_processing: s_size,
            inference_size: Size::new(d, d),
            nonsquare_intermediate_size: None,
            pad_left: pads[0], pad_top: pads[1], pad_right: pads[2], pad_bottom: pads[3],
            scale_width: sw, scale_height: sh,
        };
        let grid = MaskGrid::new(win.0, win.1, &meta, factor, CanvasRule::Current);
        // The same f32 conversions rle-host makes when it fills ImageParams.
        let p = ImageParams {
            denorm_w: d as f32, denorm_h: d as f32, pad_left: pads[0] as f32, pad_top: pads[1] as f32,
            scale_w: grid.box_scale_w as f32, scale_h: grid.box_scale_h as f32,
            offset_x: grid.box_offset.0 as f32, offset_y: grid.box_offset.1 as f32,
            clamp_w: grid.box_clamp.width as f32, clamp_h: grid.box_clamp.height as f32,
            add_offset: u32::from(grid.add_box_offset),
            ..ImageParams::default()
        };
        let want = rle_reference::boxes::box_on_grid_f32(b, &meta, &grid);
        prop_assert_eq!(box_xyxy(b, &p).map(f32::to_bits), want.map(f32::to_bits));
    }

    #[test]
    fn coco_characters_match_the_reference_codec(counts in prop::collection::vec(0u32..5_000_000, 1..60)) {
        let mut mine = Vec::new();
        for (i, &c) in counts.iter().enumerate() {
            let back = if i >= 2 { counts[i - 2] } else { 0 };
            let x = coded_value(i as u64, c, back);
            let n = write_chars(x, |_, b| mine.push(b));
            prop_assert_eq!(n, char_len(x));
        }
        prop_assert_eq!(mine, rle_reference::rle::compress(&counts));
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    /// torch's small-sort network, kernel copy vs reference copy, on score
    /// lists full of ties (few distinct values).
    #[test]
    fn small_sort_network_matches(levels in prop::collection::vec(0u8..4, 0..=32)) {
        let scores: Vec<f32> = levels.iter().map(|&l| 0.25 * f32::from(l)).collect();
        let mut keys = [0f32; 32];
        let mut pos = [0u32; 32];
        for (i, &s) in scores.iter().enumerate() {
            keys[i] = s;
            pos[i] = i as u32;
        }
        rle_kernels::torch_sort::small_bitonic_sort(&mut keys, &mut pos, scores.len());
        let mine: Vec<usize> = pos[..scores.len()].iter().map(|&p| p as usize).collect();
        prop_assert_eq!(mine, rle_reference::torch_sort::sort_descending_order(&scores));
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    /// The split horizontal/vertical evaluation the mask kernels use (with a
    /// cache of horizontal values) gives the same bits as the one-shot forms.
    #[test]
    fn split_passes_match_one_shot(h in 1usize..30, w in 1usize..30, oh in 1usize..70, ow in 1usize..70, seed in any::<u64>(), bilinear in any::<bool>()) {
        use rle_kernels::tables::{horizontal, vertical};
        let src = values(h, w, seed);
        let read = |a: u32, b: u32| src[[a as usize, b as usize]];
        let (ys, yw, ysl, xs, xw, xsl) = if bilinear {
            let (ys, yw) = bl_table(h as u32, oh as u32);
            let (xs, xw) = bl_table(w as u32, ow as u32);
            (ys, yw, 2usize, xs, xw, 2usize)
        } else {
            let (ys, yw, a) = aa_table(h as u32, oh as u32);
            let (xs, xw, b) = aa_table(w as u32, ow as u32);
            (ys, yw, a as usize, xs, xw, b as usize)
        };
        for y in 0..oh {
            for x in 0..ow {
                let (yw, xw) = (&yw[y * ysl..(y + 1) * ysl], &xw[x * xsl..(x + 1) * xsl]);
                let one = if bilinear {
                    eval_bilinear(ys[y], yw, xs[x], xw, h as u32, w as u32, read)
                } else {
                    eval_aa(ys[y], yw, xs[x], xw, read)
                };
                let split = vertical(bilinear, ys[y], yw, h as u32, |sy| horizontal(bilinear, xs[x], xw, w as u32, sy, read));
                prop_assert_eq!(one.to_bits(), split.to_bits());
            }
        }
    }
}
