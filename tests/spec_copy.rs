//! `docs/SPEC.md` is the repository's own copy of the contract, so a plain clone
//! is complete; it must stay identical to the shared copy it came from
//! (`../shared/docs/SPEC.md`, beside the repository on the project's machines).
//!
//! A clean checkout elsewhere (CI on another machine, a user's clone) has no shared
//! copy: then the test says so on stderr and passes, because there is nothing to
//! compare with; the repository copy must still exist and look like the contract.

use std::path::Path;

#[test]
fn docs_spec_is_the_shared_contract() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let ours = std::fs::read_to_string(root.join("docs/SPEC.md"))
        .expect("docs/SPEC.md is committed: the repository carries its own contract");
    assert!(
        ours.starts_with('#') && ours.contains("### 2.3 Class validity and remapping"),
        "docs/SPEC.md does not look like the post-processing contract"
    );
    let shared = root.join("../shared/docs/SPEC.md");
    match std::fs::read_to_string(&shared) {
        Ok(theirs) => assert!(
            ours == theirs,
            "docs/SPEC.md differs from {}: copy the shared contract over it (cp {} docs/SPEC.md)",
            shared.display(),
            shared.display()
        ),
        Err(e) => eprintln!(
            "spec_copy: {} not readable ({e}); nothing to compare docs/SPEC.md with (a clean checkout)",
            shared.display()
        ),
    }
}
