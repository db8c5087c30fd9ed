//! Prints `[{"name", "recipe", "hashes"}, ...]` for random recipes, hashed by the
//! Rust generator, so `python3 scripts/check_synth.py --verify FILE` can confirm
//! the Python generator agrees on recipes it has never seen:
//!
//!     cargo run --release -p rle-fixtures --example dump_random -- 40 > /tmp/random.json

use rle_fixtures::synth::{random_recipe, Limits};

fn main() {
    let n: u64 = std::env::args().nth(1).map_or(20, |s| {
        s.parse().expect("the argument is a number of recipes")
    });
    let out: Vec<serde_json::Value> = (0..n)
        .map(|seed| {
            let limits = if seed % 4 == 0 { Limits::default() } else { Limits::small() };
            let (recipe, _, _) = random_recipe(seed, &limits);
            let hashes = rle_fixtures::generate(&recipe).hashes();
            serde_json::json!({ "name": format!("random_{seed}"), "recipe": recipe, "hashes": hashes })
        })
        .collect();
    println!(
        "{}",
        serde_json::to_string(&out).expect("recipes serialise")
    );
}
