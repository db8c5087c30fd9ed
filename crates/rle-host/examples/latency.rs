//! Quick latency probe for kernel work (the criterion benches under the
//! workspace's `benches/` are the reported numbers): one configuration, device
//! inputs, N frames rotated over several inputs, percentiles of the
//! user-visible latency (launches through results on the host).
//!
//! Usage: `latency [FRAME_W FRAME_H [DETECTIONS [ITERS]]]` (default 1920 1080 15 2000).

use std::time::Instant;

use rle_fixtures::{frame_case, generate, MaskDtype, Model};
use rle_host::{Config, Fallback, Postprocessor};
use rle_reference::Size;

fn main() {
    let args: Vec<u64> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let (w, h) = (
        args.first().copied().unwrap_or(1920),
        args.get(1).copied().unwrap_or(1080),
    );
    let dets = args.get(2).copied().unwrap_or(15) as usize;
    let iters = args.get(3).copied().unwrap_or(2000) as usize;
    let mut pp = Postprocessor::new(Config {
        ordinal: 0,
        fallback: Fallback::Error,
        ..Default::default()
    })
    .expect("a CUDA GPU");
    let frames: Vec<_> = (0..4)
        .map(|s| {
            let (recipe, metas, opts) = frame_case(
                s,
                Model::NANO,
                Size::new(h as u32, w as u32),
                dets,
                MaskDtype::F32,
            );
            let data = generate(&recipe);
            let dev = pp.upload(&data.batch()).unwrap();
            (dev, metas, opts)
        })
        .collect();
    let mut times = Vec::with_capacity(iters);
    let mut found = 0;
    for i in 0..iters + 100 {
        let (dev, metas, opts) = &frames[i % frames.len()];
        let t = Instant::now();
        // SAFETY: `dev` holds the frame and is not written meanwhile.
        let out = unsafe { pp.run_device(&dev.inputs(), None, metas, opts) }.unwrap();
        let dt = t.elapsed();
        if i >= 100 {
            times.push(dt.as_secs_f64() * 1e6);
            found = out[0].detections.len();
        }
    }
    times.sort_by(|a, b| a.total_cmp(b));
    let p = |q: f64| times[((times.len() - 1) as f64 * q) as usize];
    println!(
        "{}: {w}x{h} Q=100 {found} detections: p50 {:.1} µs, p90 {:.1} µs, p99 {:.1} µs, min {:.1} µs ({iters} frames)",
        pp.device_info().map_or("?".into(), |d| d.name.clone()),
        p(0.5),
        p(0.9),
        p(0.99),
        times[0]
    );
}
