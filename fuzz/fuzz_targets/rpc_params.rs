#![no_main]
// See waybill_fuzz::targets::rpc_params for what this target asserts.
libfuzzer_sys::fuzz_target!(|data: &[u8]| waybill_fuzz::targets::rpc_params::run(data));
