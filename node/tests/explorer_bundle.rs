//! The explorer's committed bundle (`explorer/dist/`, which the binary embeds) is what its
//! sources build: `node explorer/build.mjs --check` rebuilds it from the packages installed by
//! `npm ci` from explorer/package-lock.json (offline: nothing is fetched while building) and
//! fails naming a file that differs. The sources also type-check (`tsc`, which the bundler does
//! not do), and their pure parts pass `explorer/test/units.test.mjs` (no browser: block hashes
//! and certificates against PROOFS.md's vectors, the genesis reader, custody over time, the
//! provenance graph's edges). Skipped with a message where node or those packages are absent;
//! `.ci/test` installs them.

use std::path::Path;
use std::process::Command;

#[test]
fn committed_explorer_bundle_is_what_the_sources_build() {
    let explorer = Path::new(env!("CARGO_MANIFEST_DIR")).join("../explorer");
    let node = Command::new("node").arg("--version").output();
    if !node.map(|o| o.status.success()).unwrap_or(false) {
        eprintln!("SKIPPED: node is absent; the explorer bundle is not rebuilt");
        return;
    }
    if !explorer.join("node_modules/esbuild").is_dir() {
        eprintln!(
            "SKIPPED: {}/node_modules is absent (cd explorer && npm ci); the explorer bundle is not rebuilt",
            explorer.display()
        );
        return;
    }
    for args in [
        &["build.mjs", "--check"][..],
        &["node_modules/typescript/bin/tsc", "-p", "tsconfig.json"],
        &["--test", "test/units.test.mjs"],
    ] {
        let out = Command::new("node")
            .args(args)
            .current_dir(&explorer)
            .output()
            .expect("run node");
        assert!(
            out.status.success(),
            "node {}:\n{}{}",
            args.join(" "),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
