//! `reference`: the whole CPU reference (`validate`, `postprocess`,
//! `postprocess_with_scores`) on arbitrary small tensors, metadata and options
//! (`rle_fuzz::input`). Properties: see `rle_fuzz::check_pipeline` (typed errors
//! only, never a panic; accepted inputs produce RLE strings that decode to the
//! dense reference mask), and nothing the caller passed is changed.

#![no_main]

use libfuzzer_sys::fuzz_target;
use rle_fuzz::input::Input;

fuzz_target!(|input: Input| {
    let case = input.case();
    let (logits, boxes, metas, opts) = (
        case.logits.clone(),
        case.boxes.clone(),
        case.metas.clone(),
        case.opts.clone(),
    );
    rle_fuzz::check_pipeline(&case.batch(), &case.metas, &case.opts);
    // Nothing the caller passed was changed (bit for bit: NaN payloads included).
    let same = |a: &ndarray::Array3<f32>, b: &ndarray::Array3<f32>| {
        a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits())
    };
    assert!(same(&case.logits, &logits) && same(&case.boxes, &boxes));
    assert_eq!(format!("{:?}", case.metas), format!("{metas:?}"));
    assert_eq!(format!("{:?}", case.opts), format!("{opts:?}"));
});
