//! Helpers shared by the root integration tests that need a GPU.

use rle_host::{ChunkPaths, Config, Fallback, Postprocessor};

/// A GPU post-processor; fails loudly (never skips) when there is none, so a
/// GPU test run with `--include-ignored` on a CPU machine fails.
pub fn gpu() -> Postprocessor {
    Postprocessor::new(Config {
        ordinal: 0,
        fallback: Fallback::Error,
        ..Default::default()
    })
    .unwrap_or_else(|e| panic!("this test needs a CUDA GPU: {e}"))
}

/// Whether `pp`'s device should take programmatic launches (compute
/// capability 9.0 or later), checked against what `pp` says it does with
/// them on (`Postprocessor::programmatic_launches`): on such a device a
/// suite that rotates them must really run both ways.
#[allow(dead_code)]
pub fn check_programmatic(pp: &mut Postprocessor) -> bool {
    let sm90 = pp
        .device_info()
        .is_some_and(|d| d.compute_capability.0 >= 9);
    pp.set_programmatic_launch(true);
    assert_eq!(
        pp.programmatic_launches(),
        sm90,
        "programmatic launches on a device of compute capability {:?}",
        pp.device_info().map(|d| d.compute_capability)
    );
    sm90
}

/// How the write pass produced the chunks of the frame `pp` just ran, with a
/// chunk store of `store` bytes per item and uniform groups on or off:
/// nothing is copied from a store of 0 bytes, and no group is decided with
/// the shortcut off (`what` names the frame in the failure). Not every GPU
/// suite checks the write paths.
#[allow(dead_code)]
pub fn chunk_paths(pp: &Postprocessor, store: u32, uniform: bool, what: &str) -> ChunkPaths {
    let paths = pp
        .last_chunk_paths()
        .unwrap_or_else(|e| panic!("{what}: reading the chunk states back: {e}"))
        .unwrap_or_else(|| panic!("{what}: no GPU frame ran"));
    assert!(
        store > 0 || paths.copied == 0,
        "{what}: {paths:?} copied from a store of 0 bytes"
    );
    assert!(
        uniform || paths.decided_groups == 0,
        "{what}: {paths:?} decided groups with the shortcut off"
    );
    paths
}

/// Checks who found the ROIs of the frame `paths` describes: with early ROIs
/// on, the query blocks found every detection's (the plan found none late:
/// the blocks' test that a query can become a detection missed none); off,
/// the plan found all `detections` itself.
#[allow(dead_code)]
pub fn check_late_rois(paths: &ChunkPaths, early: bool, detections: usize, what: &str) {
    let want = if early { 0 } else { detections };
    assert_eq!(
        paths.late_rois, want,
        "{what}: ROIs found late by the plan (early ROIs {early}, {detections} detections)"
    );
}

/// Checks that the frame `paths` describes used the item queue as set:
/// with it off no block took an item from it; on, at least one did (every
/// block claims one after each item it finishes).
#[allow(dead_code)]
pub fn check_queue(paths: &ChunkPaths, queue: bool, what: &str) {
    assert_eq!(
        paths.queued_items > 0,
        queue && paths.items > 0,
        "{what}: {paths:?} items taken from the queue (queue on: {queue})"
    );
}

/// Checks the wide tiles of the frame `paths` describes against the
/// frame's `wide_events` setting: none with wide tiles off.
#[allow(dead_code)]
pub fn check_wide_tiles(paths: &ChunkPaths, wide_events: u32, what: &str) {
    assert!(
        wide_events > 0 || paths.wide_tiles == 0,
        "{what}: {paths:?} walked wide tiles with them off"
    );
}
