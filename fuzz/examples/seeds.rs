//! Writes every target's seeds to `corpus/<target>/`, each file named by the blake3 of its
//! contents (so rerunning adds nothing twice):
//!
//!     cargo run --example seeds            (from fuzz/)
//!
//! Then minimise the corpora the fuzzer grew and commit them (see docs/TESTING.md).

use std::path::Path;

fn main() -> std::io::Result<()> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus");
    for (target, seeds) in waybill_fuzz::seeds::all() {
        let dir = root.join(target);
        std::fs::create_dir_all(&dir)?;
        for seed in &seeds {
            let name = blake3::hash(seed).to_hex();
            std::fs::write(dir.join(&name[..16]), seed)?;
        }
        println!("{target}: {} seeds", seeds.len());
    }
    Ok(())
}
