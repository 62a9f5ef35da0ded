//! Any bytes as a `--config` file: the decoder `kind create cluster
//! --config` uses, then the CLI's overrides, defaulting and validation.
//! Errors are fine; a panic (exit 101 in the real binary) is a bug.
#![no_main]

use kind_sysbox::config;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(mut cluster) = config::parse(data) {
        config::apply_overrides(&mut cluster, "", None);
        config::set_defaults(&mut cluster);
        if let Err(e) = config::validate(&cluster) {
            let _ = e.to_string();
        }
    }
});
