//! Records the git commit the binary is built from, for `waybill --version`, `waybill_status`
//! and the `waybill_build_info` metric. `WAYBILL_BUILD_COMMIT` in the build's environment
//! overrides it (a packager building outside git); with neither, the commit is `unknown`.

use std::path::PathBuf;
use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8(out.stdout).ok()?;
    Some(text.trim().to_string()).filter(|t| !t.is_empty())
}

fn main() {
    println!("cargo:rerun-if-env-changed=WAYBILL_BUILD_COMMIT");
    let commit = match std::env::var("WAYBILL_BUILD_COMMIT") {
        Ok(c) if !c.is_empty() => c,
        _ => describe().unwrap_or_else(|| "unknown".into()),
    };
    println!("cargo:rustc-env=WAYBILL_COMMIT={commit}");
}

/// `<12 hex digits>`, with `-dirty` when tracked files differ from that commit. Asks cargo to
/// run this again when HEAD moves, the branch it names moves, or the index changes (a commit,
/// an add, a checkout); an edit that is not staged yet still shows as dirty at the next build of
/// this crate, since any edit under `node/` rebuilds it.
fn describe() -> Option<String> {
    let head = git(&["rev-parse", "--short=12", "HEAD"])?;
    for path in ["HEAD", "index", "packed-refs"] {
        if let Some(p) = git(&["rev-parse", "--git-path", path]) {
            rerun_if_changed(p);
        }
    }
    if let Some(branch) = git(&["symbolic-ref", "-q", "HEAD"]) {
        if let Some(p) = git(&["rev-parse", "--git-path", &branch]) {
            rerun_if_changed(p);
        }
    }
    let dirty = Command::new("git")
        // Compares contents (refreshing stat data in memory only: the build must not write the
        // index it watches).
        .args(["--no-optional-locks", "diff", "--quiet", "HEAD", "--"])
        .status()
        .map(|s| !s.success())
        .unwrap_or(false);
    Some(if dirty { format!("{head}-dirty") } else { head })
}

fn rerun_if_changed(path: String) {
    let p = PathBuf::from(path);
    // Relative git paths are relative to the working directory, the crate's root.
    let p = if p.is_relative() {
        std::env::current_dir().map(|d| d.join(&p)).unwrap_or(p)
    } else {
        p
    };
    if p.exists() {
        println!("cargo:rerun-if-changed={}", p.display());
    }
}
