#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| sockway_fuzz::sockjs_client::run(data));
