//! The `kind` binary: the CLI in `kind_sysbox::cli`.

fn main() {
    std::process::exit(kind_sysbox::cli::main(std::env::args_os().collect()));
}
