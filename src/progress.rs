//! Progress bars on stderr (indicatif). They draw only on a terminal, so logs,
//! pipes and tests see nothing but the final report.

use indicatif::{ProgressBar, ProgressStyle};

/// A bar of `len` steps counting `unit`; hidden when `visible` is false.
pub fn bar(len: u64, unit: &str, visible: bool) -> ProgressBar {
    if !visible {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(len);
    let template =
        format!("{{prefix}} [{{bar:40}}] {{pos}}/{{len}} {unit} ({{elapsed}}, eta {{eta}})");
    if let Ok(style) = ProgressStyle::with_template(&template) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}
