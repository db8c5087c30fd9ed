//! Which benchmarks criterion is going to run, guessed from the command line,
//! so that a benchmark's inputs are prepared *before* criterion times it.
//!
//! Why: criterion's warm-up clock runs around the whole first call. Inputs
//! generated inside that call (seconds for the large models) would end the
//! warm-up early and spoil criterion's per-iteration estimate, leaving too few
//! measured iterations for a p99. Criterion keeps its filter private, so this
//! re-reads its arguments (`[FILTER]` as a regex, `--exact`, `--list`,
//! `--ignored`). A wrong guess costs only time: a benchmark guessed out but run
//! after all is prepared lazily inside its first call (the old behaviour); one
//! guessed in but skipped wastes its preparation.

use regex::Regex;

/// Criterion flags that take a value (`--flag value`), from criterion 0.5's
/// `configure_from_args`.
const VALUE_FLAGS: &[&str] = &[
    "-c",
    "--color",
    "--colour",
    "-s",
    "--save-baseline",
    "-b",
    "--baseline",
    "--baseline-lenient",
    "--format",
    "--profile-time",
    "--load-baseline",
    "--sample-size",
    "--warm-up-time",
    "--measurement-time",
    "--nresamples",
    "--noise-threshold",
    "--confidence-level",
    "--significance-level",
    "--plotting-backend",
    "--output-format",
];

#[derive(Debug)]
enum Rule {
    All,
    None,
    Regex(Regex),
    Exact(String),
}

/// The guessed filter.
#[derive(Debug)]
pub struct Filter {
    rule: Rule,
}

impl Filter {
    /// Reads `std::env::args()` as criterion does.
    pub fn from_args() -> Self {
        let mut filter = None;
        let (mut exact, mut skip_all) = (false, false);
        let mut args = std::env::args().skip(1);
        while let Some(a) = args.next() {
            match a.as_str() {
                "--exact" => exact = true,
                "--list" | "--ignored" => skip_all = true,
                _ if VALUE_FLAGS.contains(&a.as_str()) => {
                    args.next();
                }
                _ if a.starts_with('-') => {}
                _ if filter.is_none() => filter = Some(a),
                _ => {}
            }
        }
        let rule = match filter {
            _ if skip_all => Rule::None,
            None => Rule::All,
            Some(f) if exact => Rule::Exact(f),
            // An invalid regex makes criterion panic anyway; prepare nothing.
            Some(f) => Regex::new(&f).map_or(Rule::None, Rule::Regex),
        };
        Self { rule }
    }

    /// Whether criterion will (probably) run the benchmark `id` (`group/name`).
    pub fn runs(&self, id: &str) -> bool {
        match &self.rule {
            Rule::All => true,
            Rule::None => false,
            Rule::Regex(r) => r.is_match(id),
            Rule::Exact(e) => e == id,
        }
    }
}
