//! `cpu_fast`: differential fuzzing of the fast CPU post-processor (`rle-cpu`,
//! the no-GPU fallback, which runs the host-compiled kernel arithmetic of
//! `rle-kernels`: resize tables, per-pixel evaluation, run merging) against the
//! CPU reference, on the `reference` target's inputs (`rle_fuzz::input`).
//!
//! Properties: for every input both reject with the same typed error or both
//! return the same results, byte for byte (detections, scores' bits, boxes, RLE
//! strings, near-decision flags), with CPU scores and with given scores (the raw
//! logits, so negative, NaN and infinite "scores" too).

#![no_main]

use libfuzzer_sys::fuzz_target;
use rle_fuzz::input::Input;

fuzz_target!(|input: Input| {
    let case = input.case();
    let batch = case.batch();
    let want = rle_reference::validate(&batch, &case.metas, &case.opts);
    if want.is_ok() && !rle_fuzz::cost(&batch, &case.metas).is_some_and(|c| c <= rle_fuzz::MAX_COST)
    {
        return;
    }
    let fast = rle_cpu::postprocess(&batch, &case.metas, &case.opts);
    let reference = rle_reference::postprocess(&batch, &case.metas, &case.opts);
    // As text: NaN fields make `PartialEq` unequal.
    assert_eq!(format!("{fast:?}"), format!("{reference:?}"));
    if reference.is_ok() {
        // Any values as "exact" scores: negative, above 1, NaN, infinities.
        let scores = batch.logits.to_owned();
        let fast = rle_cpu::postprocess_with_scores(&batch, scores.view(), &case.metas, &case.opts);
        let reference =
            rle_reference::postprocess_with_scores(&batch, scores.view(), &case.metas, &case.opts);
        assert_eq!(format!("{fast:?}"), format!("{reference:?}"));
    }
});
