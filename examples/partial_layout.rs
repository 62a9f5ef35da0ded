//! Bench/debug harness for `images::oci`: reads a `docker save` archive on
//! stdin and writes the partial OCI layout for a node holding the digests
//! listed (one a line, as `ctr content ls -q` prints them) in HELD_FILE.
//! The report goes to stderr as JSON.
//!
//! Usage: docker save IMAGE | partial_layout HELD_FILE [HINTS_IN [HINTS_OUT]] > archive.tar
//! HINTS_* are JSON maps of legacy layer path → digest (`Conversion::learned`).

use std::collections::HashMap;
use std::io::{BufWriter, Write};

use kind_sysbox::images::oci::{parse_content_list, partial_layouts, Limits, Target};

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let usage = "usage: partial_layout HELD_FILE [HINTS_IN [HINTS_OUT]]";
    let held = std::fs::read_to_string(args.next().ok_or_else(|| anyhow::anyhow!(usage))?)?;
    let hints: HashMap<String, String> = match args.next() {
        Some(p) if std::path::Path::new(&p).exists() => serde_json::from_slice(&std::fs::read(p)?)?,
        _ => HashMap::new(),
    };
    let hints_out = args.next();
    let started = std::time::Instant::now();
    let out = BufWriter::with_capacity(1 << 20, std::io::stdout().lock());
    let target = Target {
        held: parse_content_list(&held),
        out,
    };
    let (conversion, mut outs) = partial_layouts(
        std::io::stdin().lock(),
        vec![target],
        &hints,
        Limits::default(),
    )?;
    outs[0].flush()?;
    let r = &conversion.reports[0];
    eprintln!(
        "{}",
        serde_json::json!({
            "seconds": started.elapsed().as_secs_f64(),
            "bytes": r.bytes,
            "sent": r.sent,
            "skipped": r.skipped,
            "spooled": conversion.spooled,
            "error": r.error,
        })
    );
    if let Some(p) = hints_out {
        std::fs::write(p, serde_json::to_vec(&conversion.learned)?)?;
    }
    Ok(())
}
