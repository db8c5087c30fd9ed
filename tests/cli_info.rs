//! `rle info`: runs without a GPU and says there is none; always describes the
//! embedded PTX bundle.

#[path = "cli_common.rs"]
mod common;

use common::*;

#[test]
fn info_describes_driver_gpu_and_bundle() {
    let output = rle().arg("info").output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    for part in [
        "rle 0.",
        "CUDA driver: ",
        "embedded PTX bundle",
        "PTX ISA ",
        "kernels: ",
        "rle_select_roi",
        "mask_kernels.ptx (mask-kernels",
        "mask_rle_iou",
        "toolchain: ",
        "kernel sources sha256: ",
        "PTX sha256: ",
    ] {
        assert!(stdout.contains(part), "`{part}` missing from:\n{stdout}");
    }
    assert!(
        stdout.contains("(matches the manifest)"),
        "the embedded PTX is the one the manifest describes:\n{stdout}"
    );
    assert!(
        !stdout.contains("DIFFERS") && !stdout.contains("warning"),
        "every embedded module is the one the manifest describes:\n{stdout}"
    );
    if rle_host::driver_present() {
        assert!(stdout.contains("CUDA driver: found"), "{stdout}");
    } else {
        assert_eq!(
            output.status.code(),
            Some(0),
            "no GPU is not a failure: {stdout}"
        );
        assert!(stdout.contains("CUDA driver: not found"), "{stdout}");
        assert!(
            stdout.contains("GPU: none; rle runs on the CPU fallback rle-cpu"),
            "{stdout}"
        );
    }
}
