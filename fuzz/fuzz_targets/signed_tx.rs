#![no_main]
// See waybill_fuzz::targets::signed_tx for what this target asserts.
libfuzzer_sys::fuzz_target!(|data: &[u8]| waybill_fuzz::targets::signed_tx::run(data));
