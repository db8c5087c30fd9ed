//! Device-resident cache of resize tables, keyed by `(n, m, kind)`.
//!
//! Tables depend only on the two axis lengths and the resize flavour, which in
//! a video stay the same frame after frame: they are built once on the host
//! with the shared `rle_kernels::tables` code (unit-tested against the
//! reference) and stay on the device. A new shape appends to the cache; only
//! that growth costs an upload.

use std::collections::HashMap;

use cudarc::driver::{result, sys};
use rle_kernels::abi::TapSpan;
use rle_kernels::tables::{aa_slots, build_aa, build_bilinear, build_identity};
use rle_kernels::uniform::{weight_stats, WeightStats};

use crate::error::{DriverContext, Error, Result};
use crate::memory::DeviceBuffer;

/// Which arithmetic a table encodes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum TableKind {
    /// torchvision antialiased bilinear.
    Antialiased,
    /// Both axes keep their size: torchvision (antialiased) and ATen (plain
    /// bilinear) return the input unchanged.
    Identity,
    /// Plain `F.interpolate` bilinear.
    Bilinear,
}

/// Where a table lives in the device buffers, and what the uniform-group
/// shortcut needs to know about its weights.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct TableRef {
    pub(crate) spans: u32,
    pub(crate) weights: u32,
    pub(crate) slots: u32,
    pub(crate) stats: WeightStats,
}

#[derive(Debug)]
pub(crate) struct TableCache {
    index: HashMap<(u32, u32, TableKind), TableRef>,
    spans: Vec<TapSpan>,
    weights: Vec<f32>,
    uploaded: (usize, usize),
    pub(crate) dev_spans: DeviceBuffer,
    pub(crate) dev_weights: DeviceBuffer,
}

impl TableCache {
    pub(crate) fn new(dev_spans: DeviceBuffer, dev_weights: DeviceBuffer) -> Self {
        Self {
            index: HashMap::new(),
            spans: Vec::new(),
            weights: Vec::new(),
            uploaded: (0, 0),
            dev_spans,
            dev_weights,
        }
    }

    /// The table for an `n → m` axis, built on first use.
    pub(crate) fn get(&mut self, n: u32, m: u32, kind: TableKind) -> Result<TableRef> {
        if let Some(r) = self.index.get(&(n, m, kind)) {
            return Ok(*r);
        }
        let slots = match kind {
            TableKind::Antialiased => aa_slots(n, m),
            TableKind::Identity => 1,
            TableKind::Bilinear => 2,
        };
        let mut spans = vec![TapSpan::default(); m as usize];
        let mut weights = vec![0f32; (m * slots) as usize];
        let built = match kind {
            TableKind::Antialiased => build_aa(n, m, slots, &mut spans, &mut weights),
            TableKind::Identity => build_identity(n, &mut spans, &mut weights),
            TableKind::Bilinear => build_bilinear(n, m, &mut spans, &mut weights),
        };
        built.map_err(|e| Error::Limit {
            what: format!("resize table {n}→{m} ({kind:?}): {e:?}"),
            limit: 0,
            got: 0,
        })?;
        let r = TableRef {
            spans: self.spans.len() as u32,
            weights: self.weights.len() as u32,
            slots,
            stats: weight_stats(n, &spans, &weights, slots, kind == TableKind::Bilinear),
        };
        let total = self.weights.len() + weights.len();
        if total > u32::MAX as usize {
            return Err(Error::Limit {
                what: "resize table weights".into(),
                limit: u64::from(u32::MAX),
                got: total as u64,
            });
        }
        self.spans.extend_from_slice(&spans);
        self.weights.extend_from_slice(&weights);
        self.index.insert((n, m, kind), r);
        Ok(r)
    }

    /// Uploads whatever was added since the last call (everything, if a
    /// device buffer had to grow). The stream must be idle when buffers grow.
    pub(crate) fn upload(&mut self, stream: sys::CUstream) -> Result<()> {
        let span_bytes = std::mem::size_of_val(self.spans.as_slice());
        let weight_bytes = std::mem::size_of_val(self.weights.as_slice());
        // A buffer that was reallocated, or whose growth failed (it may have
        // been restored empty), holds nothing uploaded.
        let spans = self.dev_spans.ensure(span_bytes);
        if !matches!(spans, Ok(false)) {
            self.uploaded.0 = 0;
        }
        let weights = self.dev_weights.ensure(weight_bytes);
        if !matches!(weights, Ok(false)) {
            self.uploaded.1 = 0;
        }
        spans?;
        weights?;
        // SAFETY: the destination ranges lie inside buffers just sized for the
        // whole host tables; pageable sources are staged by the driver before
        // the call returns, so the Vecs may change afterwards.
        unsafe {
            let (s0, w0) = self.uploaded;
            if s0 < self.spans.len() {
                let dst = self.dev_spans.ptr() + (s0 * std::mem::size_of::<TapSpan>()) as u64;
                result::memcpy_htod_async(dst, &self.spans[s0..], stream)
                    .call("cuMemcpyHtoDAsync(tables)")?;
            }
            if w0 < self.weights.len() {
                let dst = self.dev_weights.ptr() + (w0 * 4) as u64;
                result::memcpy_htod_async(dst, &self.weights[w0..], stream)
                    .call("cuMemcpyHtoDAsync(tables)")?;
            }
        }
        self.uploaded = (self.spans.len(), self.weights.len());
        Ok(())
    }
}
