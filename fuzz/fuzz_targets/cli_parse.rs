//! Any bytes as a command line (arguments separated by NUL bytes) through
//! the CLI's pure parse entry point, `cli::parse` (the `-q` pre-scan,
//! cobra/pflag rules, help and error texts). Nothing here touches Docker.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // argv as the process sees it: lossily decoded, as `cli::main` does.
    let argv: Vec<String> = std::iter::once("kind".to_string())
        .chain(
            data.split(|&b| b == 0)
                .map(|a| String::from_utf8_lossy(a).into_owned()),
        )
        .collect();
    let _ = kind_sysbox::cli::parse(&argv);
});
