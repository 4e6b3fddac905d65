#![no_main]
// See krm_sops::fuzzing for what this target checks.
libfuzzer_sys::fuzz_target!(|data: &[u8]| krm_sops::fuzzing::yaml_roundtrip(data));
