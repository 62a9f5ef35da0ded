//! One streaming round of `kind load`: a single pass of the source (one
//! `docker save`, one read of an archive) into `ctr … images import -` on
//! every node of the round at once.
//!
//! Full-archive nodes take the source's bytes as they come. Partial nodes
//! (issue 8) take the OCI layout that `images::oci` writes for each of them
//! from the same pass, so one save serves both kinds: the converter is one
//! more sink of the fan-out and runs on a blocking thread (it is plain
//! `std::io`), writing each partial node's archive through a 256 KiB buffer
//! into that node's bounded channel.
//!
//! A slow or stuck node does not stall the others: every node has its own
//! bounded buffer, and a node that takes nothing for the stall timeout is
//! dropped from the fan-out (or from the converter's outputs), its import is
//! abandoned, and it is reported by name, while the others go on.

use std::collections::{HashMap, HashSet};
use std::io::{self, Read, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::anyhow;
use bytes::{Buf, Bytes};
use futures_util::stream::BoxStream;
use futures_util::StreamExt;
use tokio::runtime::Handle;
use tokio::sync::mpsc;

use super::fanout::{self, Progress};
use super::Source;
use crate::images::oci::{self, ConvertError, Limits, Target, TargetReport};
use crate::provider::{NodeRef, Provider};

/// What a node's command reads on its stdin in a round.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// The source's bytes as they are.
    Full,
    /// A partial archive leaving out these digests (the node holds them).
    Partial(HashSet<String>),
    /// Nothing (the command reads a file in the images inbox).
    Nothing,
}

/// One node's part in a round.
#[derive(Debug, Clone)]
pub struct Item {
    /// Index into the round's targets.
    pub node: usize,
    pub argv: Vec<String>,
    pub input: Input,
}

/// Whether any item reads the source (else no source needs opening).
pub fn reads_source(items: &[Item]) -> bool {
    items.iter().any(|i| i.input != Input::Nothing)
}

/// Why a node's import in a round did not succeed.
#[derive(Debug)]
pub enum Failure {
    /// The node took nothing for this long; its import was abandoned.
    Stalled(Duration),
    /// An import of the inbox file (no input to watch) still running this
    /// long after every other node's import of it ended; abandoned.
    Straggled(Duration),
    /// The import ran and failed (or could not run).
    Import(anyhow::Error),
}

/// What one node got in a round.
#[derive(Debug)]
pub struct NodeResult {
    pub result: Result<(), Failure>,
    /// The converter's report for a partial node.
    pub report: Option<TargetReport>,
}

/// What a round did.
#[derive(Debug)]
pub struct Outcome {
    /// One per item, in order.
    pub nodes: Vec<NodeResult>,
    pub pumped: anyhow::Result<fanout::Pumped>,
    /// The converter's error, when it could not produce partial archives.
    pub conversion: Option<ConvertError>,
    /// The layer digests the converter saw, when it ran to its end (see
    /// `load::hints`).
    pub learned: Option<HashMap<String, String>>,
    /// Bytes the converter held back until their digest was known.
    pub spooled: u64,
}

/// Runs one round: `source` into every item's import at once. With
/// `hints` (a `docker save` source), the converter runs even without a
/// partial node, to learn the layers' digests for the next load.
pub async fn run(
    provider: &dyn Provider,
    targets: &[NodeRef],
    items: &[Item],
    source: Source,
    stall: Duration,
    hints: Option<Arc<HashMap<String, String>>>,
) -> Outcome {
    let progress: Vec<Arc<Progress>> = items.iter().map(|_| Progress::new()).collect();
    let full: Vec<usize> = (0..items.len())
        .filter(|&k| items[k].input == Input::Full)
        .collect();
    let partial: Vec<usize> = (0..items.len())
        .filter(|&k| matches!(items[k].input, Input::Partial(_)))
        .collect();
    let converting = !partial.is_empty() || (hints.is_some() && reads_source(items));
    let pass = Arc::new(Pass {
        origin: std::time::Instant::now(),
        producers: std::sync::atomic::AtomicUsize::new(1 + usize::from(converting)),
        ended_ms: std::sync::atomic::AtomicU64::new(0),
    });
    let (senders, inputs) = fanout::sinks(full.len() + usize::from(converting));
    let mut inputs: Vec<BoxStream<'static, Bytes>> =
        inputs.into_iter().map(|s| s.boxed()).collect();
    let mut node_inputs: Vec<Option<BoxStream<'static, Bytes>>> =
        items.iter().map(|_| None).collect();
    // The converter may wait on a slow partial node for up to `stall`
    // before dropping it; the pump waits longer on the converter, so a
    // stuck partial node costs the other partial nodes nothing.
    let mut stalls = vec![stall; full.len()];
    let converter = if converting {
        let input = inputs.pop().expect("the converter's sink");
        stalls.push(stall * 2);
        let handle = Handle::current();
        let mut outs = Vec::with_capacity(partial.len());
        let mut stalled_flags = Vec::with_capacity(partial.len());
        for &k in &partial {
            let (tx, rx) = mpsc::channel::<Bytes>(fanout::SINK_CAPACITY);
            node_inputs[k] =
                Some(fanout::watched(fanout::receiver_stream(rx), progress[k].clone()).boxed());
            let flag = Arc::new(AtomicBool::new(false));
            stalled_flags.push(flag.clone());
            outs.push(Target {
                held: match &items[k].input {
                    Input::Partial(held) => held.clone(),
                    _ => HashSet::new(),
                },
                out: io::BufWriter::with_capacity(
                    fanout::CHUNK_BYTES,
                    ChannelWriter {
                        tx: Some(tx),
                        stall,
                        handle: handle.clone(),
                        stalled: flag,
                    },
                ),
            });
        }
        let reader = StreamReader {
            stream: input,
            buf: Bytes::new(),
            handle,
        };
        let done = pass.clone();
        let task = tokio::task::spawn_blocking(move || {
            let hints = hints.unwrap_or_default();
            // The writers (and so the nodes' inputs) end when this returns.
            let result = oci::partial_layouts(reader, outs, &hints, Limits::default())
                .map(|(conversion, _outs)| conversion);
            done.producer_done();
            result
        });
        Some((task, stalled_flags))
    } else {
        None
    };
    for (&k, input) in full.iter().zip(inputs) {
        node_inputs[k] = Some(fanout::watched(input, progress[k].clone()).boxed());
    }
    for (k, item) in items.iter().enumerate() {
        if item.input == Input::Nothing {
            node_inputs[k] =
                Some(fanout::watched(futures_util::stream::empty(), progress[k].clone()).boxed());
        }
    }

    let file_readers = Arc::new(Peers {
        origin: std::time::Instant::now(),
        running: std::sync::atomic::AtomicUsize::new(
            items.iter().filter(|i| i.input == Input::Nothing).count(),
        ),
        last_done_ms: std::sync::atomic::AtomicU64::new(0),
    });
    // Spawned so the nodes' socket writes spread over the runtime's threads.
    let watchdogs: Vec<_> = items
        .iter()
        .zip(node_inputs)
        .zip(&progress)
        .map(|((item, input), progress)| {
            let exec = tokio::spawn(provider.exec_with_input_stream(
                &targets[item.node],
                &item.argv,
                input.expect("every item has an input"),
            ));
            let peers = (item.input == Input::Nothing).then(|| file_readers.clone());
            watch(exec, progress.clone(), pass.clone(), stall, peers)
        })
        .collect();
    let pump = async {
        let pumped = fanout::pump_with(source, senders, fanout::CHUNK_BYTES, stalls).await;
        pass.producer_done();
        pumped
    };
    let (pumped, results) = tokio::join!(pump, futures_util::future::join_all(watchdogs));

    let mut results: Vec<Result<(), Failure>> = results;
    if let Ok(p) = &pumped {
        // A full node dropped by the pump got a truncated archive: whatever
        // its import said, it stalled.
        for &sink in &p.stalled {
            if let Some(&k) = full.get(sink) {
                results[k] = Err(Failure::Stalled(stall));
            }
        }
    }
    let mut reports: Vec<Option<TargetReport>> = items.iter().map(|_| None).collect();
    let mut conversion_error = None;
    let mut learned = None;
    let mut spooled = 0;
    if let Some((task, flags)) = converter {
        match task.await {
            Ok(Ok(conversion)) => {
                for (&k, report) in partial.iter().zip(conversion.reports) {
                    reports[k] = Some(report);
                }
                spooled = conversion.spooled;
                learned = Some(conversion.learned);
            }
            Ok(Err(e)) => conversion_error = Some(e),
            Err(join) => {
                conversion_error = Some(ConvertError::Malformed(format!(
                    "the conversion task failed: {join}"
                )))
            }
        }
        for (&k, flag) in partial.iter().zip(flags) {
            if flag.load(Ordering::Relaxed) {
                results[k] = Err(Failure::Stalled(stall));
            }
        }
    }
    Outcome {
        nodes: results
            .into_iter()
            .zip(reports)
            .map(|(result, report)| NodeResult { result, report })
            .collect(),
        pumped,
        conversion: conversion_error,
        learned,
        spooled,
    }
}

/// The round's pass over the source (the pump and the converter). While it
/// runs, a node's stall is judged by whoever offers it data (a send that
/// finds no room for the stall timeout): a node offered nothing (the
/// converter hashing a large layer no one lacks) is not stalled. Once it
/// has ended, by the watchdog: what is left in a node's buffer must be
/// taken within the stall timeout.
struct Pass {
    origin: std::time::Instant,
    producers: std::sync::atomic::AtomicUsize,
    /// Milliseconds since `origin` plus one when the pass ended; 0 before.
    ended_ms: std::sync::atomic::AtomicU64,
}

impl Pass {
    fn producer_done(&self) {
        if self.producers.fetch_sub(1, Ordering::Relaxed) == 1 {
            let ms = self.origin.elapsed().as_millis() as u64 + 1;
            self.ended_ms.store(ms, Ordering::Relaxed);
        }
    }

    /// Time since the pass ended, once it has.
    fn since_end(&self) -> Option<Duration> {
        match self.ended_ms.load(Ordering::Relaxed) {
            0 => None,
            ms => Some(
                self.origin
                    .elapsed()
                    .saturating_sub(Duration::from_millis(ms - 1)),
            ),
        }
    }
}

/// The nodes of a round importing the inbox file: how many still run, and
/// when the last one that ended did.
struct Peers {
    origin: std::time::Instant,
    running: std::sync::atomic::AtomicUsize,
    last_done_ms: std::sync::atomic::AtomicU64,
}

impl Peers {
    fn done(&self) {
        self.last_done_ms
            .store(self.origin.elapsed().as_millis() as u64, Ordering::Relaxed);
        self.running.fetch_sub(1, Ordering::Relaxed);
    }

    /// Whether this node, still running, is the last and has been alone
    /// for `stall` (there were others, and they all ended).
    fn straggling(&self, stall: Duration) -> bool {
        let last = self.last_done_ms.load(Ordering::Relaxed);
        self.running.load(Ordering::Relaxed) == 1
            && last > 0
            && self
                .origin
                .elapsed()
                .saturating_sub(Duration::from_millis(last))
                >= stall
    }
}

/// Waits for a node's import; abandons it when, after the pass (see
/// [`Pass`]), the node has taken nothing of what is left in its buffer for
/// `stall` (once the input is read, the import may take as long as it needs
/// to finish). An import of the inbox file (`peers`) has no input to watch:
/// it is abandoned when it is the last one running, `stall` after every
/// other node's ended.
async fn watch(
    mut exec: tokio::task::JoinHandle<
        Result<crate::provider::ExecOutput, crate::provider::RunError>,
    >,
    progress: Arc<Progress>,
    pass: Arc<Pass>,
    stall: Duration,
    peers: Option<Arc<Peers>>,
) -> Result<(), Failure> {
    let tick = (stall / 4).clamp(Duration::from_millis(50), Duration::from_secs(1));
    loop {
        tokio::select! {
            done = &mut exec => {
                if let Some(peers) = &peers {
                    peers.done();
                }
                return match done {
                    Ok(Ok(_)) => Ok(()),
                    Ok(Err(run)) => Err(Failure::Import(anyhow::Error::new(run))),
                    Err(join) => Err(Failure::Import(anyhow!("import task failed: {join}"))),
                };
            }
            _ = tokio::time::sleep(tick) => {
                let left_untaken = pass
                    .since_end()
                    .is_some_and(|since| since.min(progress.idle()) >= stall);
                if !progress.drained() && left_untaken {
                    exec.abort();
                    return Err(Failure::Stalled(stall));
                }
                if peers.as_ref().is_some_and(|p| p.straggling(stall)) {
                    exec.abort();
                    return Err(Failure::Straggled(stall));
                }
            }
        }
    }
}

/// The converter's input: a fan-out sink read from a blocking thread.
struct StreamReader {
    stream: BoxStream<'static, Bytes>,
    buf: Bytes,
    handle: Handle,
}

impl Read for StreamReader {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        while self.buf.is_empty() {
            match self.handle.block_on(self.stream.next()) {
                Some(chunk) => self.buf = chunk,
                None => return Ok(0),
            }
        }
        let n = out.len().min(self.buf.len());
        out[..n].copy_from_slice(&self.buf[..n]);
        self.buf.advance(n);
        Ok(n)
    }
}

/// A partial node's archive output: its bounded channel, written from the
/// converter's blocking thread. A node with no room for `stall` is given up
/// (flagged, its channel closed); a node whose import ended is a broken pipe.
struct ChannelWriter {
    tx: Option<mpsc::Sender<Bytes>>,
    stall: Duration,
    handle: Handle,
    stalled: Arc<AtomicBool>,
}

impl Write for ChannelWriter {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let Some(tx) = &self.tx else {
            return Err(io::Error::new(
                io::ErrorKind::BrokenPipe,
                "the node's import ended",
            ));
        };
        let chunk = Bytes::copy_from_slice(data);
        match self
            .handle
            .block_on(tokio::time::timeout(self.stall, tx.send(chunk)))
        {
            Ok(Ok(())) => Ok(data.len()),
            Ok(Err(_)) => {
                self.tx = None;
                Err(io::Error::new(
                    io::ErrorKind::BrokenPipe,
                    "the node's import ended",
                ))
            }
            Err(_) => {
                self.tx = None;
                self.stalled.store(true, Ordering::Relaxed);
                Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!("the node took nothing for {:?}", self.stall),
                ))
            }
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}
