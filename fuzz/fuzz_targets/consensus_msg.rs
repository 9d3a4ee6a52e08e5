#![no_main]
// See waybill_fuzz::targets::consensus_msg for what this target asserts.
libfuzzer_sys::fuzz_target!(|data: &[u8]| waybill_fuzz::targets::consensus_msg::run(data));
