#![no_main]
// See waybill_fuzz::targets::epcis_document for what this target asserts.
libfuzzer_sys::fuzz_target!(|data: &[u8]| waybill_fuzz::targets::epcis_document::run(data));
