#![no_main]
// See waybill_fuzz::targets::engine_node for what this target asserts.
libfuzzer_sys::fuzz_target!(|data: &[u8]| waybill_fuzz::targets::engine_node::run(data));
