//! What this binary is: the crate version and the git commit it was built from (`build.rs`).

/// The crate version, e.g. `0.1.0`.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
/// The commit, e.g. `9276509abcde` or `9276509abcde-dirty`, or `unknown`.
pub const COMMIT: &str = env!("WAYBILL_COMMIT");
/// `0.1.0 (commit 9276509abcde)`: what `--version`, `waybill_status` and the logs show.
pub const LONG: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("WAYBILL_COMMIT"),
    ")"
);
