#![no_main]
// See waybill_fuzz::targets::signed_tx_json for what this target asserts.
libfuzzer_sys::fuzz_target!(|data: &[u8]| waybill_fuzz::targets::signed_tx_json::run(data));
