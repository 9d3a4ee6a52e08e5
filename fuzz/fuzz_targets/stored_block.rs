#![no_main]
// See waybill_fuzz::targets::stored_block for what this target asserts.
libfuzzer_sys::fuzz_target!(|data: &[u8]| waybill_fuzz::targets::stored_block::run(data));
