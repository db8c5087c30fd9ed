//! Arbitrary small post-processing inputs for the `reference` and `cpu_fast`
//! targets: shapes up to 3×16×8 logits and 16×16 masks (zero-sized and
//! mismatched dimensions included), tensor values mixing raw bits (NaN payloads,
//! infinities, subnormals) with small exact numbers, metadata mixing small
//! realistic sizes with extreme ones (0, `u32::MAX`, `i32::MIN` pads, non-finite
//! or out-of-f32 scales), and every option kind.

use arbitrary::Arbitrary;
use half::{bf16, f16};
use ndarray::{Array3, Array4};
use rle_reference::{
    Batch, ImageMeta, MaskLogits, Options, ResizeMode, Size, StaticCrop, Threshold,
};

/// One tensor value.
#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum Value {
    /// Any f32 bit pattern.
    Bits(u32),
    /// `k / 8`: small exact numbers, many ties.
    Eighths(i8),
    Nan,
    Inf,
    NegInf,
    Zero,
    NegZero,
    /// The largest subnormal's neighbourhood.
    Tiny(u8),
}

impl Value {
    pub fn f32(self) -> f32 {
        match self {
            Value::Bits(b) => f32::from_bits(b),
            Value::Eighths(k) => f32::from(k) / 8.0,
            Value::Nan => f32::NAN,
            Value::Inf => f32::INFINITY,
            Value::NegInf => f32::NEG_INFINITY,
            Value::Zero => 0.0,
            Value::NegZero => -0.0,
            Value::Tiny(k) => f32::from_bits(0x007F_FF00 + u32::from(k)),
        }
    }
}

/// A tensor's contents: the values, repeated cyclically.
#[derive(Arbitrary, Debug)]
pub struct Fill(pub Vec<Value>);

impl Fill {
    pub fn at(&self, i: usize) -> f32 {
        match self.0.len() {
            0 => (i % 7) as f32 - 3.0,
            n => self.0[i % n].f32(),
        }
    }
}

/// A size: usually small, sometimes extreme.
#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum SizeSpec {
    Small(u8, u8),
    Raw(u32, u32),
}

impl SizeSpec {
    pub fn size(self) -> Size {
        match self {
            SizeSpec::Small(h, w) => Size::new(u32::from(h % 48), u32::from(w % 48)),
            SizeSpec::Raw(h, w) => Size::new(h, w),
        }
    }
}

#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum Pad {
    Small(i8),
    Raw(i32),
}

impl Pad {
    pub fn get(self) -> i32 {
        match self {
            Pad::Small(p) => i32::from(p) / 4,
            Pad::Raw(p) => p,
        }
    }
}

#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum Scale {
    /// `D / S` on that axis (the stretch value), or `1` if a size is 0.
    Stretch,
    /// `k / 16`.
    Sixteenths(u8),
    Raw(f64),
}

#[derive(Arbitrary, Debug)]
pub struct MetaSpec {
    pub original: SizeSpec,
    /// Crop offsets (x, y); the crop size is `S`.
    pub crop: Option<(u8, u8)>,
    pub crop_raw: Option<(u32, u32)>,
    /// `S`; `None`: the crop is the whole image.
    pub after: Option<SizeSpec>,
    pub inference: SizeSpec,
    pub nonsquare: Option<SizeSpec>,
    pub pads: [Pad; 4],
    pub scales: [Scale; 2],
}

impl MetaSpec {
    pub fn meta(&self) -> ImageMeta {
        let o = self.original.size();
        let s = self.after.map_or(o, SizeSpec::size);
        let (ox, oy) = match (self.crop_raw, self.crop) {
            (Some(raw), _) => raw,
            (None, Some((x, y))) => (u32::from(x % 16), u32::from(y % 16)),
            (None, None) => (0, 0),
        };
        let inference = self.inference.size();
        let nonsquare = self.nonsquare.map(SizeSpec::size);
        let d = nonsquare.unwrap_or(inference);
        let scale = |spec: Scale, dl: u32, sl: u32| match spec {
            Scale::Stretch if dl > 0 && sl > 0 => f64::from(dl) / f64::from(sl),
            Scale::Stretch => 1.0,
            Scale::Sixteenths(k) => f64::from(k) / 16.0,
            Scale::Raw(v) => v,
        };
        ImageMeta {
            original_size: o,
            static_crop: StaticCrop {
                offset_x: ox,
                offset_y: oy,
                width: s.width,
                height: s.height,
            },
            size_after_pre_processing: s,
            inference_size: inference,
            nonsquare_intermediate_size: nonsquare,
            pad_left: self.pads[0].get(),
            pad_top: self.pads[1].get(),
            pad_right: self.pads[2].get(),
            pad_bottom: self.pads[3].get(),
            scale_width: scale(self.scales[0], d.width, s.width),
            scale_height: scale(self.scales[1], d.height, s.height),
        }
    }
}

#[derive(Arbitrary, Debug)]
pub enum ThresholdSpec {
    Scalar(Value),
    Fraction(u8),
    PerClass(Vec<Value>),
    PerClassFractions(Vec<u8>),
}

#[derive(Arbitrary, Debug)]
pub struct OptionsSpec {
    pub threshold: ThresholdSpec,
    pub num_classes: u8,
    pub mapping: Option<Vec<i8>>,
    pub mapping_raw: Option<i64>,
    pub max_detections: Option<u8>,
    pub bilinear: bool,
}

impl OptionsSpec {
    pub fn options(&self) -> Options {
        let threshold = match &self.threshold {
            ThresholdSpec::Scalar(v) => Threshold::Scalar(f64::from(v.f32())),
            ThresholdSpec::Fraction(k) => Threshold::Scalar(f64::from(*k) / 255.0),
            ThresholdSpec::PerClass(v) => Threshold::PerClass(v.iter().map(|x| x.f32()).collect()),
            ThresholdSpec::PerClassFractions(v) => {
                Threshold::PerClass(v.iter().map(|&k| f32::from(k) / 255.0).collect())
            }
        };
        let class_mapping = self.mapping.as_ref().map(|m| {
            let mut m: Vec<i64> = m.iter().map(|&v| i64::from(v) % 12).collect();
            if let Some(raw) = self.mapping_raw {
                m.push(raw);
            }
            m
        });
        Options {
            threshold,
            num_classes: usize::from(self.num_classes % 12),
            class_mapping,
            max_detections: self.max_detections.map(|m| usize::from(m % 20)),
            resize: if self.bilinear {
                ResizeMode::Bilinear
            } else {
                ResizeMode::Antialiased
            },
            ..Options::new(0)
        }
    }
}

#[derive(Arbitrary, Debug)]
pub struct Input {
    pub b: u8,
    pub q: u8,
    pub c: u8,
    pub mh: u8,
    pub mw: u8,
    /// 0: f32, 1: f16, 2: bf16 masks.
    pub dtype: u8,
    /// Non-zero: perturb one dimension of boxes or masks.
    pub mismatch: u8,
    pub logits: Fill,
    pub boxes: Fill,
    pub masks: Fill,
    pub metas: Vec<MetaSpec>,
    /// Non-zero: drop or repeat a meta record.
    pub meta_count_shift: i8,
    pub options: OptionsSpec,
}

/// The owned tensors, metadata and options an [`Input`] describes.
#[derive(Debug)]
pub struct Case {
    /// `B×Q×C`.
    pub logits: Array3<f32>,
    /// `B×Q'×4'` (perturbed when `mismatch` says so).
    pub boxes: Array3<f32>,
    /// The masks in f32 (the source of the other dtypes).
    pub m32: Array4<f32>,
    /// The masks in f16, when that dtype was drawn.
    pub m16: Option<Array4<f16>>,
    /// The masks in bf16, when that dtype was drawn.
    pub mbf: Option<Array4<bf16>>,
    /// One record per image (usually).
    pub metas: Vec<ImageMeta>,
    /// The options.
    pub opts: Options,
}

impl Case {
    /// Views of the tensors.
    pub fn batch(&self) -> Batch<'_> {
        let masks = match (&self.m16, &self.mbf) {
            (Some(m), _) => MaskLogits::F16(m.view()),
            (_, Some(m)) => MaskLogits::Bf16(m.view()),
            _ => MaskLogits::F32(self.m32.view()),
        };
        Batch {
            logits: self.logits.view(),
            boxes: self.boxes.view(),
            masks,
        }
    }
}

impl Input {
    /// Builds the case: shapes up to 3×16×8 logits and 16×16 masks.
    pub fn case(&self) -> Case {
        let input = self;
        let (b, q, c) = (
            usize::from(input.b % 4),
            usize::from(input.q % 17),
            usize::from(input.c % 9),
        );
        let (mh, mw) = (usize::from(input.mh % 17), usize::from(input.mw % 17));
        let (mut bq, mut b4, mut mb, mut mq) = (q, 4, b, q);
        match input.mismatch % 16 {
            1 => bq += 1,
            2 => b4 = 3,
            3 => mb += 1,
            4 => mq = q.saturating_sub(1),
            _ => {}
        }
        let logits =
            Array3::from_shape_fn((b, q, c), |(i, j, k)| input.logits.at((i * q + j) * c + k));
        let boxes = Array3::from_shape_fn((b, bq, b4), |(i, j, k)| {
            input.boxes.at((i * bq + j) * b4 + k)
        });
        let m32 = Array4::from_shape_fn((mb, mq, mh, mw), |(i, j, y, x)| {
            input.masks.at(((i * mq + j) * mh + y) * mw + x)
        });
        let dtype = input.dtype % 3;
        let m16 = (dtype == 1).then(|| m32.mapv(f16::from_f32));
        let mbf = (dtype == 2).then(|| m32.mapv(bf16::from_f32));
        let mut metas: Vec<ImageMeta> = input.metas.iter().take(4).map(MetaSpec::meta).collect();
        // Usually one record per image, so that validation gets past the count check.
        if input.meta_count_shift == 0 || metas.len() > b {
            metas.truncate(b);
        }
        while input.meta_count_shift == 0 && metas.len() < b {
            metas.push(ImageMeta::stretch(Size::new(10, 12), Size::new(32, 32)));
        }
        Case {
            logits,
            boxes,
            m32,
            m16,
            mbf,
            metas,
            opts: input.options.options(),
        }
    }
}
