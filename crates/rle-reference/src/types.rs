//! Public input and output types of the post-processor, shared by the CPU
//! reference and the GPU host crate (which returns exactly these types).
//!
//! Field names follow SPEC.md §1 and §2.8. Sizes are `(height, width)`.

use half::{bf16, f16};
use ndarray::{ArrayView3, ArrayView4};
use serde::{Deserialize, Serialize};

/// A `height × width` size in pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Size {
    /// Rows.
    pub height: u32,
    /// Columns.
    pub width: u32,
}

impl Size {
    /// `Size { height, width }`.
    pub const fn new(height: u32, width: u32) -> Self {
        Self { height, width }
    }
}

/// Static crop applied before the model (SPEC §1.3): its top-left corner in the
/// original image and its size. `(0, 0, W, H)` means no crop.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaticCrop {
    /// Left edge of the crop inside the original image.
    pub offset_x: u32,
    /// Top edge of the crop inside the original image.
    pub offset_y: u32,
    /// Crop width.
    pub width: u32,
    /// Crop height.
    pub height: u32,
}

/// Pre-processing metadata of one image (SPEC §1.3).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImageMeta {
    /// Size of the image handed to the model wrapper (`O`).
    pub original_size: Size,
    /// Static crop (`(0, 0, W, H)` when none).
    pub static_crop: StaticCrop,
    /// Size after the static crop (`S`); masks are resized to this size.
    pub size_after_pre_processing: Size,
    /// Network input size.
    pub inference_size: Size,
    /// Replaces `inference_size` as the denorm size `D` when set (§8.2 two-step path).
    pub nonsquare_intermediate_size: Option<Size>,
    /// Padding in denorm-size pixels; negative means content was cropped on that side.
    pub pad_left: i32,
    /// See `pad_left`.
    pub pad_top: i32,
    /// See `pad_left`.
    pub pad_right: i32,
    /// See `pad_left`.
    pub pad_bottom: i32,
    /// Factor from `S` to the content inside the denorm-size image (x axis), a Python double.
    pub scale_width: f64,
    /// Same for the y axis.
    pub scale_height: f64,
}

impl ImageMeta {
    /// Plain stretch pre-processing: no crop, no pads, `scale = D / O` per axis.
    pub fn stretch(original: Size, inference: Size) -> Self {
        Self {
            original_size: original,
            static_crop: StaticCrop {
                offset_x: 0,
                offset_y: 0,
                width: original.width,
                height: original.height,
            },
            size_after_pre_processing: original,
            inference_size: inference,
            nonsquare_intermediate_size: None,
            pad_left: 0,
            pad_top: 0,
            pad_right: 0,
            pad_bottom: 0,
            scale_width: f64::from(inference.width) / f64::from(original.width),
            scale_height: f64::from(inference.height) / f64::from(original.height),
        }
    }

    /// The denorm size `D` (§1.3).
    pub fn denorm_size(&self) -> Size {
        self.nonsquare_intermediate_size
            .unwrap_or(self.inference_size)
    }

    /// Whether the static crop offset is non-zero (`paste` of SPEC §1.3): the box
    /// chain adds the offset and, under [`CanvasRule::LegacyOriginCrop`], only then
    /// is the mask pasted on a canvas. The current rule (§10.2) also builds a canvas
    /// when `S ≠ O`; [`crate::geometry::MaskGrid`] decides.
    pub fn pastes(&self) -> bool {
        self.static_crop.offset_x > 0 || self.static_crop.offset_y > 0
    }
}

/// Confidence threshold (SPEC §1.2, §2.4).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Threshold {
    /// One threshold for every class: a Python float, compared as `f32(value)`.
    Scalar(f64),
    /// Per-class thresholds indexed by output (remapped) class id.
    PerClass(Vec<f32>),
}

/// How the low-resolution mask is resized to `S` (SPEC §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum ResizeMode {
    /// torchvision `resize` on tensors (antialiased bilinear): the Roboflow reference.
    #[default]
    Antialiased,
    /// Plain `F.interpolate(bilinear, align_corners=False)`, as rf-detr's own post-processing.
    Bilinear,
}

/// Which canvas rule places the resized mask (SPEC §10.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum CanvasRule {
    /// inference-models ≥ 0.39.6: a canvas whenever the crop offset is non-zero
    /// or `S ≠ O`, sized from the encoded grid's ratio to the image; a crop
    /// anchored at (0, 0) is pasted at (0, 0) of the full canvas.
    #[default]
    Current,
    /// Older releases: a canvas only when the crop offset is non-zero, so a crop
    /// anchored at (0, 0) encodes an `Hs×Ws` mask while the result declares
    /// `Ho×Wo` (the old SPEC §2.7d quirk). Requires `masks_resolution_factor == 1`.
    LegacyOriginCrop,
}

fn one() -> f64 {
    1.0
}

/// Post-processing options shared by every image of a batch.
///
/// [`Options::new`] gives Roboflow's defaults for a model's number of classes
/// (there is no `Default`: `num_classes` depends on the model, and a guessed one
/// would silently drop or invent classes). Change the rest with the `with_*`
/// builders, `Options::new(80).with_threshold(Threshold::Scalar(0.5))`, or with
/// struct update syntax: `Options { masks_resolution_factor: 0.5, ..Options::new(80) }`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Options {
    /// Scalar or per-class threshold.
    pub threshold: Threshold,
    /// Number of named output classes; used only without remapping (§2.3).
    pub num_classes: usize,
    /// `class_mapping` of `classes_re_mapping` (§1.2): one entry per original class,
    /// `-1` for a removed class.
    pub class_mapping: Option<Vec<i64>>,
    /// Cap applied after sorting.
    pub max_detections: Option<usize>,
    /// Resize flavour.
    pub resize: ResizeMode,
    /// `masks_resolution_factor` of inference-models 0.39.6 (SPEC §10.1): masks are
    /// encoded on a grid between the mask window (0.0) and the image (1.0, the
    /// default). Must be finite and in `[0, 1]`.
    #[serde(default = "one")]
    pub masks_resolution_factor: f64,
    /// The canvas rule (default: the current release's).
    #[serde(default)]
    pub canvas: CanvasRule,
}

impl Options {
    /// Roboflow's defaults for a model with `num_classes` named classes: threshold
    /// 0.4 (`INFERENCE_MODELS_RFDETR_DEFAULT_CONFIDENCE`), at most 300 detections,
    /// no remapping, antialiased resize, factor 1.0, the current canvas rule.
    pub fn new(num_classes: usize) -> Self {
        Self {
            threshold: Threshold::Scalar(0.4),
            num_classes,
            class_mapping: None,
            max_detections: Some(300),
            resize: ResizeMode::Antialiased,
            masks_resolution_factor: 1.0,
            canvas: CanvasRule::Current,
        }
    }

    /// These options with `threshold` instead (a scalar or one per output class).
    pub fn with_threshold(self, threshold: Threshold) -> Self {
        Self { threshold, ..self }
    }

    /// These options with the package's `class_mapping` (one entry per model class,
    /// `-1` for a removed one; SPEC §2.3 says what a mapping shorter or longer than
    /// the logit columns does).
    pub fn with_class_mapping(self, class_mapping: Vec<i64>) -> Self {
        Self {
            class_mapping: Some(class_mapping),
            ..self
        }
    }

    /// These options with another cap on detections per image (`None`: no cap).
    pub fn with_max_detections(self, max_detections: Option<usize>) -> Self {
        Self {
            max_detections,
            ..self
        }
    }

    /// These options with another resize flavour.
    pub fn with_resize(self, resize: ResizeMode) -> Self {
        Self { resize, ..self }
    }

    /// These options with another `masks_resolution_factor` (finite, in `[0, 1]`).
    pub fn with_masks_resolution_factor(self, masks_resolution_factor: f64) -> Self {
        Self {
            masks_resolution_factor,
            ..self
        }
    }

    /// These options with another canvas rule.
    pub fn with_canvas(self, canvas: CanvasRule) -> Self {
        Self { canvas, ..self }
    }
}

/// Mask logits of a batch, `B×Q×Mh×Mw`, in one of the supported dtypes.
#[derive(Debug, Clone, Copy)]
pub enum MaskLogits<'a> {
    /// float32 masks.
    F32(ArrayView4<'a, f32>),
    /// float16 masks: resized in f32 and rounded back to f16 before `> 0` (§1.1).
    F16(ArrayView4<'a, f16>),
    /// bfloat16 masks: resized in f32 and rounded back to bf16 before `> 0`.
    Bf16(ArrayView4<'a, bf16>),
}

impl MaskLogits<'_> {
    /// The `B×Q×Mh×Mw` shape.
    pub fn shape(&self) -> [usize; 4] {
        let s = match self {
            MaskLogits::F32(a) => a.shape(),
            MaskLogits::F16(a) => a.shape(),
            MaskLogits::Bf16(a) => a.shape(),
        };
        [s[0], s[1], s[2], s[3]]
    }
}

/// The model outputs of one batch (SPEC §1.1).
#[derive(Debug, Clone, Copy)]
pub struct Batch<'a> {
    /// Class logits `B×Q×C`.
    pub logits: ArrayView3<'a, f32>,
    /// Boxes `B×Q×4` as normalised `(cx, cy, w, h)`.
    pub boxes: ArrayView3<'a, f32>,
    /// Mask logits `B×Q×Mh×Mw`.
    pub masks: MaskLogits<'a>,
}

/// A COCO run-length-encoded mask: its size and the compressed counts string
/// (SPEC §4.2), byte-identical to pycocotools' `rleToString`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct CocoRle {
    /// The encoded grid (the image's `mask_size`, SPEC §10.4).
    pub size: Size,
    /// Compressed counts, ASCII bytes 48..=111.
    pub counts: Vec<u8>,
}

impl CocoRle {
    /// The compressed counts as text (they are ASCII by construction; bytes that
    /// are not valid UTF-8 would only come from a hand-built value and give `""`).
    pub fn counts_str(&self) -> &str {
        std::str::from_utf8(&self.counts).unwrap_or("")
    }
}

/// A detection's box `[x1, y1, x2, y2]` in the encoded grid's pixels (SPEC §10.3).
///
/// Integer (rounded half to even) exactly when the encoded grid is the image
/// (`mask_size == image_size`), as the package's `finalize_instance_segmentation_boxes`;
/// otherwise float32, unrounded. Equality compares bits, so NaN equals the same NaN
/// and `-0.0 ≠ 0.0`: the exactness tests need exactly that.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub enum Xyxy {
    /// Rounded to int32 (image grid).
    Int([i32; 4]),
    /// float32 in mask-grid coordinates.
    F32([f32; 4]),
}

impl Xyxy {
    /// The coordinates as f32 (the integers converted exactly: they are ≤ 2^24 in
    /// practice; larger ones round like any int → f32 conversion).
    pub fn to_f32(self) -> [f32; 4] {
        match self {
            Xyxy::Int(v) => v.map(|c| c as f32),
            Xyxy::F32(v) => v,
        }
    }

    /// The integer box, if this is one.
    pub fn as_int(self) -> Option<[i32; 4]> {
        match self {
            Xyxy::Int(v) => Some(v),
            Xyxy::F32(_) => None,
        }
    }
}

impl PartialEq for Xyxy {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Xyxy::Int(a), Xyxy::Int(b)) => a == b,
            (Xyxy::F32(a), Xyxy::F32(b)) => a.map(f32::to_bits) == b.map(f32::to_bits),
            _ => false,
        }
    }
}

impl Eq for Xyxy {}

/// One detection of an image, in the reference order (§2.5).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Detection {
    /// Query index `q`.
    pub query: u32,
    /// Logit column `c` (before remapping).
    pub column: u32,
    /// Output class id (the remapped id when remapping is active).
    pub class_id: i32,
    /// Sigmoid score, float32 bits as the oracle computes them.
    pub score: f32,
    /// Box `[x1, y1, x2, y2]` (§2.6, §10.3).
    pub xyxy: Xyxy,
    /// The mask as compressed COCO RLE.
    pub mask: CocoRle,
}

/// Which decision a near-tie flag is about (see [`NearDecision`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum NearDecisionKind {
    /// The pair straddles the top-k (`k = Q`) boundary within the sigmoid tolerance.
    TopKBoundary,
    /// The score lies within the sigmoid tolerance of its threshold.
    Threshold,
    /// Two kept detections are ordered by scores within the sigmoid tolerance.
    SortOrder,
}

/// A decision that depended on a score within the CPU sigmoid's tolerance
/// (`sigmoid::SIGMOID_TOLERANCE_ULP` of CUDA's, SPEC §2.1, §9 Q1): CUDA may have
/// decided it the other way.
/// Reported only when scores were computed on the CPU.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct NearDecision {
    /// What was decided.
    pub kind: NearDecisionKind,
    /// Flat index `q*C + c` of the entry the flag is about.
    pub flat_index: u32,
}

/// Result of one image (§2.8).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImageResult {
    /// `(Ho, Wo)`: the original image size.
    pub image_size: Size,
    /// The grid every mask of this image is encoded on (the COCO `size`); differs
    /// from `image_size` when `masks_resolution_factor < 1` (SPEC §10.4) or under
    /// [`CanvasRule::LegacyOriginCrop`] with a crop anchored at (0, 0).
    pub mask_size: Size,
    /// Detections in the reference order.
    pub detections: Vec<Detection>,
    /// Decisions that may differ from CUDA because CPU scores are not bit-exact.
    pub near_decisions: Vec<NearDecision>,
}
