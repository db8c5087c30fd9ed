//! The zero-copy device-input path and the pool under reuse: device inputs give
//! the same result as host inputs; bad device pointers are typed errors;
//! several post-processors on several threads (each with its own stream) agree
//! with one; profiled frames (kernel times from CUDA events) equal plain
//! ones; shapes changing frame to frame reuse and grow the pool correctly.

mod common;

use rle_fixtures::{all_cases, fixtures_dir, generate, random_recipe, Limits};
use std::time::Duration;

use rle_host::{DeviceInputs, Error, Kernel};

#[test]
#[ignore = "needs a CUDA GPU: run on the GPU machine with --include-ignored (cargo xtask gather-gpu)"]
fn device_inputs_match_host_inputs_on_every_fixture() {
    let mut pp = common::gpu();
    for case in all_cases(fixtures_dir()).unwrap() {
        let data = case.inputs().unwrap();
        let batch = data.batch();
        let host = pp.run(&batch, &case.metas, &case.options).unwrap();
        let dev = pp.upload(&batch).unwrap();
        pp.poison_buffers().unwrap();
        // SAFETY: `dev` holds this batch and is not written meanwhile.
        let got =
            unsafe { pp.run_device(&dev.inputs(), None, &case.metas, &case.options) }.unwrap();
        assert_eq!(got, host, "{}", case.name);
        assert_eq!(got, case.expected(), "{}", case.name);
    }
}

/// The profiled frame (CUDA events between the launches) returns what the
/// plain one does, and a GPU time for every kernel that fits in the call.
#[test]
#[ignore = "needs a CUDA GPU: run on the GPU machine with --include-ignored (cargo xtask gather-gpu)"]
fn profiled_frames_equal_plain_frames_and_time_every_kernel() {
    let mut pp = common::gpu();
    for seed in 0..12 {
        let (recipe, metas, opts) = random_recipe(300 + seed, &Limits::small());
        let data = generate(&recipe);
        let dev = pp.upload(&data.batch()).unwrap();
        // SAFETY: `dev` holds this batch and is not written meanwhile.
        let plain = unsafe { pp.run_device(&dev.inputs(), None, &metas, &opts) }.unwrap();
        pp.poison_buffers().unwrap();
        let start = std::time::Instant::now();
        // SAFETY: as above.
        let (got, times) =
            unsafe { pp.run_device_profiled(&dev.inputs(), None, &metas, &opts) }.unwrap();
        let wall = start.elapsed();
        assert_eq!(got, plain, "seed {seed}");
        for k in Kernel::ALL {
            assert!(
                times.of(k) > Duration::ZERO,
                "seed {seed}: {} took no time",
                k.name()
            );
        }
        assert!(
            times.total() <= wall,
            "seed {seed}: {times:?} vs wall {wall:?}"
        );
    }
}

#[test]
#[ignore = "needs a CUDA GPU: run on the GPU machine with --include-ignored (cargo xtask gather-gpu)"]
fn bad_device_pointers_are_typed_errors() {
    let mut pp = common::gpu();
    let (recipe, metas, opts) = random_recipe(7, &Limits::small());
    let data = generate(&recipe);
    let dev = pp.upload(&data.batch()).unwrap();
    let good = dev.inputs();
    let null = DeviceInputs { masks: 0, ..good };
    // SAFETY: the call must reject the null pointer before any launch.
    let e = unsafe { pp.run_device(&null, None, &metas, &opts) }.unwrap_err();
    assert!(
        matches!(
            e,
            Error::DevicePointer {
                field: "inputs.masks",
                ..
            }
        ),
        "{e}"
    );
    let mut short = good;
    short.shapes.queries += 1;
    // SAFETY: the call must find the buffers too short for the declared shape.
    let e = unsafe { pp.run_device(&short, None, &metas, &opts) }.unwrap_err();
    assert!(e.to_string().contains("needs"), "{e}");
    // The pool is still usable after the refusals.
    // SAFETY: valid inputs.
    let ok = unsafe { pp.run_device(&good, None, &metas, &opts) }.unwrap();
    assert_eq!(ok, pp.run(&data.batch(), &metas, &opts).unwrap());
}

#[test]
#[ignore = "needs a CUDA GPU: run on the GPU machine with --include-ignored (cargo xtask gather-gpu)"]
fn several_postprocessors_on_threads_agree_with_one() {
    let cases: Vec<_> = (0..24)
        .map(|s| random_recipe(1000 + s, &Limits::small()))
        .collect();
    let mut one = common::gpu();
    let want: Vec<_> = cases
        .iter()
        .map(|(r, m, o)| one.run(&generate(r).batch(), m, o).unwrap())
        .collect();
    std::thread::scope(|s| {
        for t in 0..4 {
            let (cases, want) = (&cases, &want);
            s.spawn(move || {
                let mut pp = common::gpu();
                for _round in 0..3 {
                    for (i, (r, m, o)) in cases.iter().enumerate().skip(t) {
                        assert_eq!(
                            pp.run(&generate(r).batch(), m, o).unwrap(),
                            want[i],
                            "thread {t} case {i}"
                        );
                    }
                }
            });
        }
    });
}
