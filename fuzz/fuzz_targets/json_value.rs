#![no_main]
// See waybill_fuzz::targets::json_value for what this target asserts.
libfuzzer_sys::fuzz_target!(|data: &[u8]| waybill_fuzz::targets::json_value::run(data));
