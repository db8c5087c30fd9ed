//! `rle`: command-line front end (placeholder until the CLI lands).
fn main() {}
