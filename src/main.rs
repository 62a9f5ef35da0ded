fn main() {
    std::process::exit(kind_sysbox::cli::main(std::env::args_os().collect()));
}
