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

    /// Whether the mask is pasted into an original-size canvas (§2.7d): only when
    /// the static crop offset is non-zero.
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

/// Post-processing options shared by every image of a batch.
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
    /// Mask size (the canvas, or `S` under the (0,0) static-crop quirk).
    pub size: Size,
    /// Compressed counts, ASCII bytes 48..=111.
    pub counts: Vec<u8>,
}

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
    /// Box `[x1, y1, x2, y2]` (§2.6).
    pub xyxy: [i32; 4],
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
    /// `(Ho, Wo)`: the size the mask container declares.
    pub image_size: Size,
    /// Detections in the reference order.
    pub detections: Vec<Detection>,
    /// Decisions that may differ from CUDA because CPU scores are not bit-exact.
    pub near_decisions: Vec<NearDecision>,
}
