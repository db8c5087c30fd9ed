//! Quickstart: one frame built by hand, post-processed with `rle_host` alone (the
//! only crate a Rust caller needs), its detections printed as COCO results.
//!
//! Runs on the GPU when there is one and on the CPU fallback (`rle-cpu`, the same
//! results) otherwise:
//!
//! ```sh
//! cargo run --release --example quickstart
//! ```
//!
//! The frame: one 1280×720 image stretched to 432×432 for inference, Q = 8 queries,
//! C = 4 logit columns (3 classes and "no object"), 108×108 mask logits. Two
//! queries are confident: a person (class 0) on the left and a car (class 2) on the
//! right; a third passes for the "no object" column only and is no detection.

use rle_host::ndarray::{s, Array3, Array4};
use rle_host::{Batch, Config, ImageMeta, MaskLogits, Options, Postprocessor, Size, Threshold};

const NAMES: [&str; 3] = ["person", "bicycle", "car"];

fn main() -> Result<(), rle_host::Error> {
    let (q, c, m) = (8, 4, 108);
    // Logits below every threshold, masks all background, boxes in the middle.
    let mut logits = Array3::<f32>::from_elem((1, q, c), -6.0);
    let mut boxes = Array3::<f32>::from_elem((1, q, 4), 0.5);
    let mut masks = Array4::<f32>::from_elem((1, q, m, m), -3.0);

    // Query 1: a person, box (cx, cy, w, h) normalised to the 432×432 input.
    logits[[0, 1, 0]] = 2.5;
    boxes
        .slice_mut(s![0, 1, ..])
        .assign(&rle_host::ndarray::arr1(&[0.25, 0.55, 0.2, 0.7]));
    masks.slice_mut(s![0, 1, 20..96, 18..36]).fill(5.0);
    // Query 4: a car.
    logits[[0, 4, 2]] = 1.0;
    boxes
        .slice_mut(s![0, 4, ..])
        .assign(&rle_host::ndarray::arr1(&[0.7, 0.7, 0.3, 0.2]));
    masks.slice_mut(s![0, 4, 65..86, 60..92]).fill(2.0);
    // Query 6 is confident about "no object" (the last column): never a detection.
    logits[[0, 6, 3]] = 8.0;

    let batch = Batch {
        logits: logits.view(),
        boxes: boxes.view(),
        masks: MaskLogits::F32(masks.view()),
    };
    let metas = [ImageMeta::stretch(
        Size::new(720, 1280),
        Size::new(432, 432),
    )];
    // Roboflow's defaults for a 3-class model, with a stricter threshold.
    let options = Options::new(NAMES.len()).with_threshold(Threshold::Scalar(0.5));

    let mut pp = Postprocessor::new(Config::default())?;
    let where_ = match pp.device_info() {
        Some(d) => format!("GPU {}: {}", d.ordinal, d.name),
        None => "CPU fallback (rle-cpu; no usable GPU)".to_string(),
    };
    let results = pp.run(&batch, &metas, &options)?;
    let image = &results[0];
    println!(
        "{} detection(s) on {where_}, masks encoded at {}×{}:",
        image.detections.len(),
        image.mask_size.width,
        image.mask_size.height
    );
    for d in &image.detections {
        // The COCO results record pycocotools' `loadRes` reads.
        let [x1, y1, x2, y2] = d.xyxy.to_f32();
        println!(
            "{{\"category\": \"{}\", \"score\": {}, \"bbox\": [{x1}, {y1}, {}, {}], \
             \"segmentation\": {{\"size\": [{}, {}], \"counts\": \"{}\"}}}}",
            NAMES[d.class_id as usize],
            d.score,
            x2 - x1,
            y2 - y1,
            d.mask.size.height,
            d.mask.size.width,
            d.mask.counts_str()
        );
    }
    Ok(())
}
