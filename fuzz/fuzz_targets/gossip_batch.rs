#![no_main]
// See waybill_fuzz::targets::gossip_batch for what this target asserts.
libfuzzer_sys::fuzz_target!(|data: &[u8]| waybill_fuzz::targets::gossip_batch::run(data));
