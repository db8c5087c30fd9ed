//! Per-iteration latency samples next to criterion's own statistics, which
//! give means and medians but not the p90/p99 that BENCHMARKS.md reports.
//!
//! Criterion calls a benchmark's routine first for its warm-up (1, 2, 4, …
//! iterations until the summed wall time of those calls exceeds the warm-up
//! time), then for the measurement. [`Recorder::call`] mirrors that rule with
//! its own clock around each whole call (setup included, as criterion's is),
//! so it keeps exactly the measurement's iterations.

use std::time::{Duration, Instant};

/// Collects the measurement-phase samples of one benchmark.
#[derive(Debug)]
pub struct Recorder {
    warm_up: Duration,
    elapsed: Duration,
    calls: usize,
    samples: Vec<Duration>,
}

impl Recorder {
    /// A recorder for a benchmark whose group warms up for `warm_up`.
    pub fn new(warm_up: Duration) -> Self {
        Self {
            warm_up,
            elapsed: Duration::ZERO,
            calls: 0,
            samples: Vec::new(),
        }
    }

    /// Runs one criterion call of `iters` iterations: creates `state` with
    /// `init` on the first call (untimed: it is not in the returned time),
    /// then times each `one` on its own; their results are dropped after the
    /// clock stops. `ctx` is what both need mutably (e.g. the post-processor).
    /// Returns the summed iteration time for `iter_custom`.
    pub fn call<C, S, T>(
        &mut self,
        iters: u64,
        ctx: &mut C,
        state: &mut Option<S>,
        init: impl FnOnce(&mut C) -> S,
        mut one: impl FnMut(&mut C, &mut S) -> T,
    ) -> Duration {
        self.call_measured(iters, ctx, state, init, |c, s| {
            let t = Instant::now();
            let out = one(c, s);
            (out, t.elapsed())
        })
    }

    /// Like [`call`](Self::call), but `one` measures itself: it returns its
    /// result and the duration to record (e.g. one kernel's GPU time from
    /// CUDA events), which is what criterion gets. The warm-up rule still
    /// runs on the wall clock around the whole call, as criterion's does.
    pub fn call_measured<C, S, T>(
        &mut self,
        iters: u64,
        ctx: &mut C,
        state: &mut Option<S>,
        init: impl FnOnce(&mut C) -> S,
        mut one: impl FnMut(&mut C, &mut S) -> (T, Duration),
    ) -> Duration {
        let start = Instant::now();
        let state = state.get_or_insert_with(|| init(ctx));
        let measuring = self.elapsed > self.warm_up;
        let mut total = Duration::ZERO;
        for _ in 0..iters {
            let (out, dt) = one(ctx, state);
            drop(std::hint::black_box(out));
            total += dt;
            if measuring {
                self.samples.push(dt);
            }
        }
        self.calls += 1;
        self.elapsed += start.elapsed();
        total
    }

    /// Whether criterion ran this benchmark at all (it was not filtered out).
    pub fn ran(&self) -> bool {
        self.calls > 0
    }

    /// Percentiles of the kept samples (`None` when there are none, as in
    /// criterion's `--test` mode, which runs one iteration).
    pub fn stats(&self) -> Option<Stats> {
        Stats::of(&self.samples)
    }
}

/// Summary of latency samples, in microseconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Stats {
    /// Samples.
    pub n: usize,
    /// Median (nearest rank).
    pub p50: f64,
    /// 90th percentile (nearest rank).
    pub p90: f64,
    /// 99th percentile (nearest rank).
    pub p99: f64,
    /// Mean.
    pub mean: f64,
    /// Fastest sample.
    pub min: f64,
    /// Slowest sample.
    pub max: f64,
}

impl Stats {
    /// Nearest-rank percentiles (`sorted[ceil(q·n) − 1]`), the definition
    /// `scripts/bench_torch.py` uses too.
    pub fn of(samples: &[Duration]) -> Option<Self> {
        if samples.is_empty() {
            return None;
        }
        let mut us: Vec<f64> = samples.iter().map(|d| d.as_secs_f64() * 1e6).collect();
        us.sort_by(f64::total_cmp);
        let n = us.len();
        let rank = |q: f64| us[((q * n as f64).ceil() as usize).clamp(1, n) - 1];
        Some(Self {
            n,
            p50: rank(0.50),
            p90: rank(0.90),
            p99: rank(0.99),
            mean: us.iter().sum::<f64>() / n as f64,
            min: us[0],
            max: us[n - 1],
        })
    }

    /// As JSON fields (`n`, `p50_us`, …).
    pub fn json(&self) -> serde_json::Value {
        serde_json::json!({
            "n": self.n,
            "p50_us": self.p50,
            "p90_us": self.p90,
            "p99_us": self.p99,
            "mean_us": self.mean,
            "min_us": self.min,
            "max_us": self.max,
        })
    }
}
