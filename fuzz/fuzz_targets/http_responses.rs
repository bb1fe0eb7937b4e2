#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| sockway_fuzz::http_responses::run(data));
