//! Bench harness (bench/load.sh): `kind load docker-image` through the
//! library, for branches where the CLI subcommand is not wired yet.
//!
//! Usage: load_bench <cluster> [-v N] [--nodes a,b] IMAGE…

use kind_sysbox::images::load::load_docker_images;
use kind_sysbox::log::Logger;
use kind_sysbox::provider::Docker;

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let cluster = args
        .next()
        .expect("usage: load_bench <cluster> [--nodes a,b] IMAGE…");
    let mut nodes = Vec::new();
    let mut images = Vec::new();
    let mut verbosity = 0;
    while let Some(a) = args.next() {
        if a == "-v" {
            verbosity = args.next().and_then(|v| v.parse().ok()).expect("-v N");
        } else if a == "--nodes" {
            nodes.extend(
                args.next()
                    .expect("--nodes value")
                    .split(',')
                    .map(String::from),
            );
        } else {
            images.push(a);
        }
    }
    let log = Logger::stderr(false, verbosity);
    let result = async {
        let docker = Docker::connect().await?;
        load_docker_images(&docker, &cluster, &images, &nodes, &log).await
    }
    .await;
    if let Err(e) = result {
        eprintln!("ERROR: {e:#}");
        std::process::exit(1);
    }
}
