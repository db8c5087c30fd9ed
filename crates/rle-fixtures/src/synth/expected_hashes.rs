//! Cross-language check: recipes whose tensor hashes were computed by the Python
//! generator (`scripts/check_synth.py --write` wrote `expected_hashes.json`) must
//! hash the same when generated here.

use serde::Deserialize;

use super::{generate, Recipe, TensorHashes};

#[derive(Deserialize)]
struct Expected {
    name: String,
    recipe: Recipe,
    hashes: TensorHashes,
}

#[test]
fn rust_generator_matches_python_hashes() {
    let expected: Vec<Expected> = serde_json::from_str(include_str!("expected_hashes.json"))
        .expect("expected_hashes.json should parse");
    assert!(
        expected.len() >= 7,
        "the committed file lists every check recipe"
    );
    let mut bad = Vec::new();
    for e in &expected {
        let got = generate(&e.recipe).hashes();
        if got != e.hashes {
            bad.push(format!(
                "{}: expected {:?}\n  got {:?}",
                e.name, e.hashes, got
            ));
        }
    }
    assert!(bad.is_empty(), "generators disagree:\n{}", bad.join("\n"));
}

#[test]
fn recipes_round_trip_through_json() {
    let expected: Vec<Expected> = serde_json::from_str(include_str!("expected_hashes.json"))
        .expect("expected_hashes.json should parse");
    for e in &expected {
        let text = serde_json::to_string(&e.recipe).expect("recipes serialise");
        let back: Recipe = serde_json::from_str(&text).expect("serialised recipes parse");
        assert_eq!(back, e.recipe, "{}", e.name);
        assert_eq!(generate(&back).hashes(), e.hashes, "{}", e.name);
    }
}
