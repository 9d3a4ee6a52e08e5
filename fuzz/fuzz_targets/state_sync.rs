#![no_main]
// See waybill_fuzz::targets::state_sync for what this target asserts.
libfuzzer_sys::fuzz_target!(|data: &[u8]| waybill_fuzz::targets::state_sync::run(data));
