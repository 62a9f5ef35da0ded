//! Any bytes as a command line (arguments separated by NUL bytes) through
//! today's parse surface: clap's `Cli::try_parse_from` and the rendering
//! of its errors. To be re-pointed at the CLI's pure parse entry point
//! once it exists (the `-é` panic is in the error report, after this).
#![no_main]

use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;

use clap::Parser;
use kind_sysbox::cli::args::Cli;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let args: Vec<OsString> = std::iter::once(OsString::from("kind"))
        .chain(
            data.split(|&b| b == 0)
                .map(|a| OsString::from_vec(a.to_vec())),
        )
        .collect();
    let lossy: Vec<String> = args
        .iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let _ = kind_sysbox::cli::quiet_requested(&lossy);
    if let Err(e) = Cli::try_parse_from(&args) {
        let _ = e.to_string();
        let _ = e.render().to_string();
    }
});
