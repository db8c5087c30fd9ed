//! The frame's JSON sidecar (`frame.json` beside `frame.npz`): per-image
//! pre-processing metadata, COCO ids and optional option defaults
//! (docs/FRAME_FORMAT.md is the normative description).
//!
//! Invariants: unknown fields are rejected (a typo must not silently fall back
//! to a default); every error names the sidecar file and the JSON path of the
//! offending field; scales are parsed to the exact f64 Python wrote
//! (serde_json's `float_roundtrip`).

use std::path::Path;

use anyhow::{bail, Context, Result};
use rle_reference::{ImageMeta, ResizeMode, Size, StaticCrop};
use serde::{Deserialize, Serialize};

/// The format version this build reads and writes.
pub const FORMAT_VERSION: u32 = 1;

/// Element type of the `masks` array as the sidecar declares it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MaskDtypeDecl {
    /// float32 (`<f4`).
    F32,
    /// float16 (`<f2`).
    F16,
    /// bfloat16, stored as its uint16 bit patterns (`<u2`): numpy has no bfloat16.
    Bf16,
}

impl MaskDtypeDecl {
    /// The spelling used in the sidecar.
    pub fn name(self) -> &'static str {
        match self {
            MaskDtypeDecl::F32 => "f32",
            MaskDtypeDecl::F16 => "f16",
            MaskDtypeDecl::Bf16 => "bf16",
        }
    }
}

/// Resize flavour as spelled in the sidecar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ResizeDecl {
    /// [`ResizeMode::Antialiased`].
    Antialiased,
    /// [`ResizeMode::Bilinear`].
    Bilinear,
}

impl From<ResizeDecl> for ResizeMode {
    fn from(r: ResizeDecl) -> Self {
        match r {
            ResizeDecl::Antialiased => ResizeMode::Antialiased,
            ResizeDecl::Bilinear => ResizeMode::Bilinear,
        }
    }
}

/// Option defaults a frame may carry; command-line flags override them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OptionsDecl {
    /// A number, or a list with one number per output class.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threshold: Option<serde_json::Value>,
    /// Named output classes (without remapping); default `C − 1`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub num_classes: Option<usize>,
    /// One entry per model class, `-1` for a removed class.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub class_mapping: Option<Vec<i64>>,
    /// Cap on detections per image.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_detections: Option<usize>,
    /// Resize flavour.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resize: Option<ResizeDecl>,
    /// inference-models 0.39.6's `masks_resolution_factor`, in [0, 1] (SPEC §10.1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub masks_resolution_factor: Option<f64>,
    /// `true`: the canvas rule of releases before 0.39.6 (SPEC §10.2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub legacy_canvas: Option<bool>,
}

/// One image of the batch: its COCO id and its pre-processing metadata (SPEC §1.3).
/// Sizes are `[height, width]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImageDecl {
    /// COCO `image_id` of this image.
    pub image_id: i64,
    /// Informational: the image file the frame was captured from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_name: Option<String>,
    /// `[h, w]` of the image handed to the model wrapper.
    pub original_size: [u32; 2],
    /// `[offset_x, offset_y, crop_width, crop_height]`; default `[0, 0, w, h]` (no crop).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub static_crop_offset: Option<[u32; 4]>,
    /// `[h, w]` after the static crop; default: the crop's size.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size_after_pre_processing: Option<[u32; 2]>,
    /// `[h, w]` of the network input.
    pub inference_size: [u32; 2],
    /// `[h, w]` of the two-step path's intermediate image, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonsquare_intermediate_size: Option<[u32; 2]>,
    /// Padding in denorm-size pixels (negative: cropped).
    #[serde(default)]
    pub pad_left: i32,
    /// See `pad_left`.
    #[serde(default)]
    pub pad_top: i32,
    /// See `pad_left`.
    #[serde(default)]
    pub pad_right: i32,
    /// See `pad_left`.
    #[serde(default)]
    pub pad_bottom: i32,
    /// Factor from `size_after_pre_processing` to the content inside the denorm image (x).
    pub scale_width: f64,
    /// Same for y.
    pub scale_height: f64,
}

/// The whole sidecar.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sidecar {
    /// Must be [`FORMAT_VERSION`] when present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format_version: Option<u32>,
    /// Free-form provenance (model, capture time, …); ignored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub info: Option<serde_json::Value>,
    /// Declared dtype of `masks`; required for bf16 (stored as uint16 bits).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mask_dtype: Option<MaskDtypeDecl>,
    /// COCO `category_id` of each output class id; default: the class id itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category_ids: Option<Vec<i64>>,
    /// Option defaults.
    #[serde(default, skip_serializing_if = "is_default")]
    pub options: OptionsDecl,
    /// One entry per image of the batch, in batch order.
    pub images: Vec<ImageDecl>,
}

fn is_default(o: &OptionsDecl) -> bool {
    *o == OptionsDecl::default()
}

/// Reads and parses a sidecar; errors read `FILE: json.path: what`.
pub fn read(path: &Path) -> Result<Sidecar> {
    let text = super::input_file::read_text(path, "the metadata sidecar")?;
    parse(&text).with_context(|| path.display().to_string())
}

/// Parses sidecar text (errors name the JSON path of the field).
pub fn parse(text: &str) -> Result<Sidecar> {
    let de = &mut serde_json::Deserializer::from_str(text);
    let typed: Result<Sidecar, _> = serde_path_to_error::deserialize(de);
    // serde takes a JSON list for an object (by position); refuse it, and say so
    // rather than "invalid length 0, expected struct Sidecar with 6 elements".
    if let Some(problem) = super::json_text::list_for_object(text) {
        bail!("{problem}");
    }
    let sidecar = typed.map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let hint = super::json_text::hint(text, &inner).map_or(String::new(), |h| format!("; {h}"));
        if path == "." {
            anyhow::anyhow!("{inner}{hint}")
        } else {
            anyhow::anyhow!("{path}: {inner}{hint}")
        }
    })?;
    if let Some(v) = sidecar.format_version {
        if v != FORMAT_VERSION {
            bail!("format_version: this build reads version {FORMAT_VERSION}, the file says {v}");
        }
    }
    Ok(sidecar)
}

fn size(hw: [u32; 2]) -> Size {
    Size::new(hw[0], hw[1])
}

impl ImageDecl {
    /// The reference's metadata record, after the checks that need only this entry.
    /// `field` is the entry's JSON path (`images[3]`) for error messages.
    pub fn to_meta(&self, field: &str) -> Result<ImageMeta> {
        let original = size(self.original_size);
        let [ox, oy, cw, ch] =
            self.static_crop_offset
                .unwrap_or([0, 0, original.width, original.height]);
        if u64::from(ox) + u64::from(cw) > u64::from(original.width)
            || u64::from(oy) + u64::from(ch) > u64::from(original.height)
        {
            bail!(
                "{field}.static_crop_offset: crop [{ox}, {oy}, {cw}, {ch}] (x, y, width, height) does not fit \
                 in original_size [{}, {}] (height, width)",
                original.height,
                original.width
            );
        }
        let after = match self.size_after_pre_processing {
            Some(s) if s != [ch, cw] => bail!(
                "{field}.size_after_pre_processing: [{}, {}] differs from the static crop's size [{ch}, {cw}] \
                 (height, width){}",
                s[0],
                s[1],
                if self.static_crop_offset.is_none() {
                    "; without a static_crop_offset the crop is the whole original image"
                } else {
                    ""
                }
            ),
            _ => Size::new(ch, cw),
        };
        Ok(ImageMeta {
            original_size: original,
            static_crop: StaticCrop {
                offset_x: ox,
                offset_y: oy,
                width: cw,
                height: ch,
            },
            size_after_pre_processing: after,
            inference_size: size(self.inference_size),
            nonsquare_intermediate_size: self.nonsquare_intermediate_size.map(size),
            pad_left: self.pad_left,
            pad_top: self.pad_top,
            pad_right: self.pad_right,
            pad_bottom: self.pad_bottom,
            scale_width: self.scale_width,
            scale_height: self.scale_height,
        })
    }

    /// The sidecar entry describing `meta` (the inverse of [`ImageDecl::to_meta`]).
    pub fn from_meta(image_id: i64, file_name: Option<String>, meta: &ImageMeta) -> Self {
        let hw = |s: Size| [s.height, s.width];
        let c = meta.static_crop;
        Self {
            image_id,
            file_name,
            original_size: hw(meta.original_size),
            static_crop_offset: Some([c.offset_x, c.offset_y, c.width, c.height]),
            size_after_pre_processing: Some(hw(meta.size_after_pre_processing)),
            inference_size: hw(meta.inference_size),
            nonsquare_intermediate_size: meta.nonsquare_intermediate_size.map(hw),
            pad_left: meta.pad_left,
            pad_top: meta.pad_top,
            pad_right: meta.pad_right,
            pad_bottom: meta.pad_bottom,
            scale_width: meta.scale_width,
            scale_height: meta.scale_height,
        }
    }
}

/// The sidecar as text: one field per line, each image on one line (readable and
/// diffable, unlike serde_json's pretty printer, which puts every number on its own line).
pub fn to_text(s: &Sidecar) -> Result<String> {
    use serde_json::to_string as json;
    let mut fields = Vec::new();
    if let Some(v) = s.format_version {
        fields.push(format!("  \"format_version\": {v}"));
    }
    if let Some(v) = &s.info {
        fields.push(format!("  \"info\": {}", json(v)?));
    }
    if let Some(v) = &s.mask_dtype {
        fields.push(format!("  \"mask_dtype\": {}", json(v)?));
    }
    if let Some(v) = &s.category_ids {
        fields.push(format!("  \"category_ids\": {}", json(v)?));
    }
    if !is_default(&s.options) {
        fields.push(format!("  \"options\": {}", json(&s.options)?));
    }
    let images = s
        .images
        .iter()
        .map(|i| Ok(format!("    {}", json(i)?)))
        .collect::<Result<Vec<_>>>()?;
    fields.push(format!("  \"images\": [\n{}\n  ]", images.join(",\n")));
    Ok(format!("{{\n{}\n}}\n", fields.join(",\n")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_name_the_json_path() {
        let text = r#"{"images": [{"image_id": 1, "original_size": [10, 20], "inference_size": [8, 8],
            "scale_width": "x", "scale_height": 0.5}]}"#;
        let e = format!("{:#}", parse(text).unwrap_err());
        assert!(e.starts_with("images[0].scale_width: invalid type"), "{e}");
    }

    /// Issue #14: a list for the sidecar said "expected struct Sidecar with 6 elements";
    /// NaN (which Python's json.dump writes) said only "expected value".
    #[test]
    fn lists_for_objects_and_nan_are_explained() {
        let e = format!("{:#}", parse("[]").unwrap_err());
        assert!(e.starts_with("expected a JSON object (the sidecar"), "{e}");
        assert!(!e.contains("struct"), "{e}");
        let e = format!("{:#}", parse(r#"{"images": [[]]}"#).unwrap_err());
        assert!(
            e.starts_with("images[0]: expected a JSON object (one image's metadata"),
            "{e}"
        );
        // A list serde would have taken by position is refused all the same.
        let e = format!(
            "{:#}",
            parse(r#"[null, null, null, null, {}, []]"#).unwrap_err()
        );
        assert!(e.starts_with("expected a JSON object"), "{e}");
        let text = r#"{"images": [{"image_id": 1, "original_size": [10, 20], "inference_size": [8, 8],
            "scale_width": NaN, "scale_height": 0.5}]}"#;
        let e = format!("{:#}", parse(text).unwrap_err());
        assert!(
            e.starts_with("images[0].scale_width: expected value at line 2"),
            "{e}"
        );
        assert!(e.contains("JSON has no NaN or Infinity"), "{e}");
    }

    #[test]
    fn unknown_fields_are_rejected() {
        let text = r#"{"images": [], "treshold": 0.5}"#;
        let e = format!("{:#}", parse(text).unwrap_err());
        assert!(e.contains("unknown field `treshold`"), "{e}");
    }

    #[test]
    fn crop_and_size_must_agree() {
        let mut d: ImageDecl = serde_json::from_str(
            r#"{"image_id": 1, "original_size": [100, 200], "inference_size": [8, 8],
                "scale_width": 0.04, "scale_height": 0.08}"#,
        )
        .unwrap();
        let m = d.to_meta("images[0]").unwrap();
        assert_eq!(m.size_after_pre_processing, Size::new(100, 200));
        d.size_after_pre_processing = Some([50, 200]);
        let e = format!("{:#}", d.to_meta("images[0]").unwrap_err());
        assert!(e.starts_with("images[0].size_after_pre_processing:"), "{e}");
        d.static_crop_offset = Some([150, 0, 100, 50]);
        let e = format!("{:#}", d.to_meta("images[0]").unwrap_err());
        assert!(e.starts_with("images[0].static_crop_offset:"), "{e}");
    }

    #[test]
    fn text_parses_back() {
        let m = ImageMeta::stretch(Size::new(1080, 1920), Size::new(312, 312));
        let s = Sidecar {
            format_version: Some(FORMAT_VERSION),
            info: Some(serde_json::json!({"model": "x"})),
            mask_dtype: Some(MaskDtypeDecl::Bf16),
            category_ids: Some(vec![1, 2]),
            options: OptionsDecl {
                max_detections: Some(5),
                ..OptionsDecl::default()
            },
            images: vec![
                ImageDecl::from_meta(3, None, &m),
                ImageDecl::from_meta(4, Some("b.jpg".into()), &m),
            ],
        };
        assert_eq!(parse(&to_text(&s).unwrap()).unwrap(), s);
    }

    #[test]
    fn meta_round_trips() {
        let m = ImageMeta::stretch(Size::new(1080, 1920), Size::new(312, 312));
        let d = ImageDecl::from_meta(7, None, &m);
        assert_eq!(d.to_meta("images[0]").unwrap(), m);
    }
}
