//! Latency statistics of a benchmark: nearest-rank percentiles, mean and
//! throughput over a set of per-frame samples.

use std::time::Duration;

/// Summary of one set of samples.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary {
    /// Samples.
    pub count: usize,
    /// Median.
    pub p50: Duration,
    /// 90th percentile.
    pub p90: Duration,
    /// 99th percentile.
    pub p99: Duration,
    /// Slowest sample.
    pub max: Duration,
    /// Mean.
    pub mean: Duration,
    /// Sum of all samples.
    pub total: Duration,
}

/// Nearest-rank percentile `p` (0 < p ≤ 100) of sorted, non-empty samples: the
/// smallest sample with at least `p`% of the samples at or below it.
fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

impl Summary {
    /// Summarises `samples`; `None` when there are none.
    pub fn of(samples: &[Duration]) -> Option<Self> {
        if samples.is_empty() {
            return None;
        }
        let mut s = samples.to_vec();
        s.sort_unstable();
        let total: Duration = s.iter().sum();
        Some(Self {
            count: s.len(),
            p50: percentile(&s, 50.0),
            p90: percentile(&s, 90.0),
            p99: percentile(&s, 99.0),
            max: s[s.len() - 1],
            mean: total / s.len() as u32,
            total,
        })
    }

    /// `units` processed per second of summed sample time (`units` = images per sample × count).
    pub fn per_second(&self, units: usize) -> f64 {
        units as f64 / self.total.as_secs_f64().max(f64::MIN_POSITIVE)
    }
}

/// A duration in milliseconds with a sensible number of digits.
pub fn ms(d: Duration) -> String {
    let v = d.as_secs_f64() * 1e3;
    if v < 1.0 {
        format!("{v:.3} ms")
    } else if v < 100.0 {
        format!("{v:.2} ms")
    } else {
        format!("{v:.1} ms")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms_list(v: &[u64]) -> Vec<Duration> {
        v.iter().map(|&x| Duration::from_millis(x)).collect()
    }

    #[test]
    fn nearest_rank_percentiles() {
        let s = Summary::of(&ms_list(&[5, 1, 4, 2, 3, 10, 9, 8, 7, 6])).unwrap();
        assert_eq!(s.p50, Duration::from_millis(5));
        assert_eq!(s.p90, Duration::from_millis(9));
        assert_eq!(s.p99, Duration::from_millis(10));
        assert_eq!(s.max, Duration::from_millis(10));
        assert_eq!(s.total, Duration::from_millis(55));
        assert!((s.per_second(10) - 10.0 / 0.055).abs() < 1e-9);
    }

    #[test]
    fn one_sample_and_none() {
        let s = Summary::of(&ms_list(&[7])).unwrap();
        assert_eq!(
            (s.p50, s.p99, s.max),
            (
                Duration::from_millis(7),
                Duration::from_millis(7),
                Duration::from_millis(7)
            )
        );
        assert!(Summary::of(&[]).is_none());
    }
}
