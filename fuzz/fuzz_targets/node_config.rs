#![no_main]
// See waybill_fuzz::targets::node_config for what this target asserts.
libfuzzer_sys::fuzz_target!(|data: &[u8]| waybill_fuzz::targets::node_config::run(data));
