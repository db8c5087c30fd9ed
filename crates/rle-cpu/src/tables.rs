//! The resize tables of one frame, built with the GPU kernels' shared code
//! (`rle_kernels::tables`, unit-tested against the reference), one per distinct
//! `(n, m, kind)` axis.
//!
//! Invariants: the table kind of an image is chosen exactly as `rle-host`'s
//! `params::plan` does (same size on both axes ⇒ identity on both axes, in both
//! resize modes; otherwise the mode's table on both axes, even on an axis that
//! keeps its size, because the reference still runs the arithmetic there and
//! `inf·0 = NaN` must appear). Every span has at least one tap, and spans are
//! contiguous source ranges, so "outputs whose span reaches a source range" is
//! a per-output interval test.

use std::collections::HashMap;

use rle_kernels::abi::TapSpan;
use rle_kernels::tables::{aa_slots, build_aa, build_bilinear, build_identity, tap_index};
use rle_kernels::uniform::{weight_stats, WeightStats};
use rle_reference::{ResizeMode, Size};

/// Which arithmetic a table encodes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum TableKind {
    /// torchvision antialiased bilinear (SPEC §3.3).
    Antialiased,
    /// Both axes keep their size: the input is returned unchanged (one tap, weight 1).
    Identity,
    /// Plain `F.interpolate` bilinear (SPEC §3.9).
    Bilinear,
}

impl TableKind {
    /// The kind used to resize an `h×w` window to `out` (as `rle-host` plans it).
    pub(crate) fn for_resize(h: usize, w: usize, out: Size, mode: ResizeMode) -> Self {
        if (h, w) == (out.height as usize, out.width as usize) {
            return TableKind::Identity;
        }
        match mode {
            ResizeMode::Antialiased => TableKind::Antialiased,
            ResizeMode::Bilinear => TableKind::Bilinear,
        }
    }

    /// Whether `rle_kernels::tables::{horizontal, vertical}` run in bilinear mode
    /// (identity tables use the antialiased chain: one product by 1.0, exact).
    pub(crate) fn bilinear(self) -> bool {
        self == TableKind::Bilinear
    }
}

/// One axis: `n` window pixels → `m` outputs.
#[derive(Debug)]
pub(crate) struct Table {
    n: u32,
    spans: Vec<TapSpan>,
    weights: Vec<f32>,
    slots: usize,
    monotone: bool,
    /// What the uniform-group shortcut needs to know about the weights.
    stats: WeightStats,
}

impl Table {
    fn build(n: u32, m: u32, kind: TableKind) -> Self {
        let slots = match kind {
            TableKind::Antialiased => aa_slots(n, m),
            TableKind::Identity => 1,
            TableKind::Bilinear => 2,
        };
        let mut spans = vec![TapSpan::default(); m as usize];
        let mut weights = vec![0f32; m as usize * slots as usize];
        let built = match kind {
            TableKind::Antialiased => build_aa(n, m, slots, &mut spans, &mut weights),
            TableKind::Identity => build_identity(n, &mut spans, &mut weights),
            TableKind::Bilinear => build_bilinear(n, m, &mut spans, &mut weights),
        };
        if let Err(e) = built {
            // validate() bounds both lengths to 1..=2^23, where every output has a tap.
            panic!("resize table {n}→{m} ({kind:?}) of a validated frame failed: {e:?}");
        }
        let stats = weight_stats(n, &spans, &weights, slots, kind.bilinear());
        let mut table = Self {
            n,
            spans,
            weights,
            slots: slots as usize,
            monotone: false,
            stats,
        };
        table.monotone = (1..m as usize).all(|i| {
            table.spans[i - 1].first <= table.spans[i].first
                && table.last_tap(i - 1) <= table.last_tap(i)
        });
        table
    }

    /// Whether first and last taps never decrease with the output index (true
    /// for every table the formulas give; checked, because callers binary-search).
    #[inline]
    pub(crate) fn monotone(&self) -> bool {
        self.monotone
    }

    /// The weight statistics of `rle_kernels::uniform` (its foreground bound).
    #[inline]
    pub(crate) fn stats(&self) -> &WeightStats {
        &self.stats
    }

    /// Source length `n`.
    #[inline]
    pub(crate) fn source_len(&self) -> u32 {
        self.n
    }

    /// Span of output `i`.
    #[inline]
    pub(crate) fn span(&self, i: usize) -> TapSpan {
        self.spans[i]
    }

    /// Weight slots of output `i` (at least its span's taps).
    #[inline]
    pub(crate) fn weights(&self, i: usize) -> &[f32] {
        &self.weights[i * self.slots..(i + 1) * self.slots]
    }

    /// Last source index output `i` reads (bilinear clamps its second tap).
    #[inline]
    pub(crate) fn last_tap(&self, i: usize) -> u32 {
        let s = self.spans[i];
        tap_index(s, s.count - 1, self.n)
    }

    /// The outputs `[i0, i1)` whose spans reach into source range `[lo, hi)`,
    /// as the smallest interval holding all of them; `None` if there are none.
    pub(crate) fn reaching(&self, lo: u32, hi: u32) -> Option<(usize, usize)> {
        let reaches = |&i: &usize| self.spans[i].first < hi && self.last_tap(i) >= lo;
        let first = (0..self.spans.len()).find(reaches)?;
        let last = (first..self.spans.len())
            .rev()
            .find(reaches)
            .unwrap_or(first);
        Some((first, last + 1))
    }

    /// The source range `[lo, hi)` read by outputs `[i0, i1)` (non-empty).
    pub(crate) fn sources(&self, i0: usize, i1: usize) -> (u32, u32) {
        (i0..i1).fold((u32::MAX, 0), |(lo, hi), i| {
            (lo.min(self.spans[i].first), hi.max(self.last_tap(i) + 1))
        })
    }
}

/// The distinct tables of a frame, addressed by the index [`TableSet::id`] returns.
#[derive(Debug, Default)]
pub(crate) struct TableSet {
    index: HashMap<(u32, u32, TableKind), usize>,
    tables: Vec<Table>,
}

impl TableSet {
    /// The id of the `n → m` table of `kind`, built on first use.
    pub(crate) fn id(&mut self, n: u32, m: u32, kind: TableKind) -> usize {
        *self.index.entry((n, m, kind)).or_insert_with(|| {
            self.tables.push(Table::build(n, m, kind));
            self.tables.len() - 1
        })
    }

    /// The table with id `id`.
    pub(crate) fn get(&self, id: usize) -> &Table {
        &self.tables[id]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_of_real_and_small_shapes_are_monotone() {
        // The row walk binary-searches monotone tables; the formulas should give them.
        for (n, m) in [
            (78, 1080),
            (78, 1920),
            (192, 176),
            (78, 50),
            (6, 3),
            (1, 7),
            (7, 1),
            (5, 5),
        ] {
            for kind in [TableKind::Antialiased, TableKind::Bilinear] {
                assert!(Table::build(n, m, kind).monotone(), "{n}→{m} {kind:?}");
            }
        }
        assert!(Table::build(9, 9, TableKind::Identity).monotone());
    }

    #[test]
    fn reaching_finds_the_outputs_of_a_source_range() {
        let t = Table::build(4, 8, TableKind::Antialiased);
        let (i0, i1) = t.reaching(1, 2).expect("source 1 is read");
        assert!((i0..i1).all(|i| t.span(i).first < 2 && t.last_tap(i) >= 1));
        assert!(i0 > 0 && i1 < 8, "{i0}..{i1}");
    }
}
