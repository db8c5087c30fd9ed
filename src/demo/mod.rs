//! The embedded demo frame: a realistic 1920×1080 video frame as rfdetr-seg-nano
//! sees it (Q = 100 queries, C = 91 logit columns, 78×78 mask logits in f32,
//! stretched to 312×312 for inference) with 15 detections above the default
//! threshold of 0.4, one of them a query that passes for two classes.
//!
//! The frame ships as its recipe (`recipe.json`, a few hundred bytes) and is
//! regenerated bit for bit by `rle_fixtures::synth`, so the binary carries no
//! tensors. Masks are blob-shaped and the boxes match them.

pub mod coco_names;

use anyhow::{Context, Result};
use rle_fixtures::{Recipe, SynthBatch, SynthMasks};
use rle_reference::Size;

use crate::frame::npz::{Masks, Tensors};
use crate::frame::options::{Overrides, DEFAULT_MAX_DETECTIONS, DEFAULT_THRESHOLD};
use crate::frame::sidecar::{ImageDecl, OptionsDecl, ResizeDecl, Sidecar, FORMAT_VERSION};
use crate::frame::{assemble, Frame};

/// The recipe of the demo tensors.
pub const RECIPE: &str = include_str!("recipe.json");
/// The frame's size.
pub const ORIGINAL: Size = Size::new(1080, 1920);
/// rfdetr-seg-nano's inference resolution.
pub const INFERENCE: Size = Size::new(312, 312);
/// The demo image's COCO id.
pub const IMAGE_ID: i64 = 1;

fn tensors() -> Result<Tensors> {
    let recipe: Recipe =
        serde_json::from_str(RECIPE).context("the embedded demo recipe does not parse")?;
    let SynthBatch {
        logits,
        boxes,
        masks,
    } = rle_fixtures::try_generate(&recipe).context("the embedded demo recipe is invalid")?;
    let masks = match masks {
        SynthMasks::F32(m) => Masks::F32(m),
        SynthMasks::F16(m) => Masks::F16(m),
        SynthMasks::Bf16(m) => Masks::Bf16(m),
    };
    Ok(Tensors {
        logits,
        boxes,
        masks,
    })
}

/// The demo frame's sidecar, as `--save-frame` writes it.
pub fn sidecar() -> Sidecar {
    let meta = rle_fixtures::meta::stretch(ORIGINAL, INFERENCE, None);
    Sidecar {
        format_version: Some(FORMAT_VERSION),
        info: Some(serde_json::json!({
            "source": "rle demo --save-frame: the embedded synthetic frame",
            "model": "rfdetr-seg-nano shapes (synthetic outputs)",
        })),
        mask_dtype: Some(crate::frame::sidecar::MaskDtypeDecl::F32),
        category_ids: None,
        options: OptionsDecl {
            threshold: Some(serde_json::json!(DEFAULT_THRESHOLD)),
            num_classes: Some(90),
            class_mapping: None,
            max_detections: Some(DEFAULT_MAX_DETECTIONS),
            resize: Some(ResizeDecl::Antialiased),
            ..OptionsDecl::default()
        },
        images: vec![ImageDecl::from_meta(
            IMAGE_ID,
            Some("demo.jpg".into()),
            &meta,
        )],
    }
}

/// The demo frame, checked like any loaded frame.
pub fn frame(overrides: &Overrides) -> Result<Frame> {
    let name = "<embedded demo frame>";
    assemble(name.into(), name.into(), tensors()?, sidecar(), overrides)
}

/// The demo tensors and sidecar, for `--save-frame`.
pub fn parts() -> Result<(Tensors, Sidecar)> {
    Ok((tensors()?, sidecar()))
}
