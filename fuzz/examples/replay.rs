//! Runs one input through one target on the stable toolchain, for a crash's backtrace (and,
//! for `engine_node`, a trace of every event with `WAYBILL_FUZZ_TRACE=1`):
//!
//!     cargo run --example replay TARGET FILE            (from fuzz/)

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, target, file] = &args[..] else {
        eprintln!("usage: replay TARGET FILE");
        std::process::exit(2);
    };
    let run = waybill_fuzz::TARGETS
        .iter()
        .find(|(name, _)| name == target)
        .unwrap_or_else(|| panic!("no target {target}"))
        .1;
    let data = std::fs::read(file).unwrap_or_else(|e| panic!("{file}: {e}"));
    run(&data);
    println!("{target}: {file} ran cleanly");
}
