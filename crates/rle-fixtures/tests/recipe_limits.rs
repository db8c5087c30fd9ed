//! Issue #14 ("apply the same rule to every reader"): a recipe is a few bytes of
//! JSON that declares tensor sizes, and every axis had a bound but their product
//! did not, so a fixture file declaring `4096 × 65536 × 65536` logits made
//! `try_generate` (and `Case::inputs`) allocate 64 TiB and abort the process.
//! Now each tensor's element count is checked first and the error is typed.

use rle_fixtures::synth::{SynthError, MAX_TENSOR_ELEMENTS};
use rle_fixtures::{load_case, try_generate, FixtureError, Recipe};

fn recipe(json: &str) -> Recipe {
    serde_json::from_str(json).expect("a well-formed recipe")
}

#[test]
fn a_synth_recipe_declaring_terabytes_is_refused_before_generating() {
    let r = recipe(
        r#"{"kind": "synth", "seed": 1, "batch": 4096, "queries": 65536, "columns": 65536,
            "mask_h": 8, "mask_w": 8}"#,
    );
    let e = try_generate(&r).unwrap_err();
    assert_eq!(
        e,
        SynthError::TooLarge {
            tensor: "logits",
            elements: 4096 * 65536 * 65536,
            dims: "batch × queries × columns",
            max: MAX_TENSOR_ELEMENTS,
        }
    );
    assert!(
        e.to_string()
            .starts_with("recipe: logits would have 17592186044416 elements"),
        "{e}"
    );
    let r = recipe(
        r#"{"kind": "synth", "seed": 1, "batch": 64, "queries": 65536, "columns": 2,
            "mask_h": 1024, "mask_w": 1024}"#,
    );
    assert!(
        matches!(
            try_generate(&r),
            Err(SynthError::TooLarge {
                tensor: "masks",
                ..
            })
        ),
        "masks too"
    );
}

#[test]
fn a_fixture_case_with_such_a_recipe_is_a_typed_error() {
    let tmp = tempfile_dir();
    let path = tmp.join("huge.json");
    std::fs::write(
        &path,
        r#"{"name": "huge", "description": "hostile", "recipe": {"kind": "synth", "seed": 1,
            "batch": 4096, "queries": 65536, "columns": 65536, "mask_h": 8, "mask_w": 8},
            "metas": [], "options": {"threshold": {"Scalar": 0.4}, "num_classes": 1,
            "class_mapping": null, "max_detections": null, "resize": "Antialiased"},
            "hashes": {"logits": "", "boxes": "", "masks": ""}, "images": []}"#,
    )
    .unwrap();
    let case = load_case(&path).expect("the case file parses");
    match case.inputs() {
        Err(FixtureError::Recipe {
            case,
            source: SynthError::TooLarge { .. },
        }) => assert_eq!(case, "huge"),
        other => panic!(
            "expected a TooLarge recipe error, got {:?}",
            other.map(|_| ())
        ),
    }
    std::fs::remove_dir_all(tmp).unwrap();
}

/// A fresh directory under the system's temporary directory (no tempfile dependency).
fn tempfile_dir() -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("rle-fixtures-recipe-limits-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}
