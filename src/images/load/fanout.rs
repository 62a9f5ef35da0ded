//! One source, many sinks: every chunk read once goes to every live sink,
//! with bounded memory.
//!
//! Each sink is a bounded channel, so a slow consumer holds the pump back
//! (backpressure) and at most `capacity` chunks per sink are buffered. A sink
//! whose receiver is gone (its import ended, e.g. failed) is dropped from the
//! fan-out and never stalls the others; neither does one that takes no chunk
//! for the stall timeout (its node stopped reading): it is dropped too, and
//! reported, so the others go on at their own pace.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use futures_util::{Stream, StreamExt};
use tokio::sync::mpsc;

/// Chunks sent to sinks are at least this big (except the last one): the
/// source's own chunks can be tiny, and each chunk costs a channel send and a
/// socket write per node.
pub const CHUNK_BYTES: usize = 256 * 1024;
/// Chunks buffered per sink.
pub const SINK_CAPACITY: usize = 8;

/// What the pump did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pumped {
    /// Bytes read from the source.
    pub bytes: u64,
    /// Whether the source was read to its end (false when every sink went
    /// away first).
    pub complete: bool,
    /// Sinks (by index) dropped because they took nothing for the stall
    /// timeout.
    pub stalled: Vec<usize>,
}

/// How far a sink's consumer got: when it last took a chunk, and whether it
/// took the last one. Shared between the sink's stream and a watchdog.
#[derive(Debug)]
pub struct Progress {
    origin: Instant,
    last_ms: AtomicU64,
    drained: AtomicBool,
}

impl Progress {
    pub fn new() -> Arc<Progress> {
        Arc::new(Progress {
            origin: Instant::now(),
            last_ms: AtomicU64::new(0),
            drained: AtomicBool::new(false),
        })
    }

    fn touch(&self) {
        let ms = self.origin.elapsed().as_millis() as u64;
        self.last_ms.store(ms, Ordering::Relaxed);
    }

    /// Whether the consumer read its stream to the end.
    pub fn drained(&self) -> bool {
        self.drained.load(Ordering::Relaxed)
    }

    /// Time since the consumer last took a chunk (or since creation).
    pub fn idle(&self) -> Duration {
        let last = Duration::from_millis(self.last_ms.load(Ordering::Relaxed));
        self.origin.elapsed().saturating_sub(last)
    }
}

/// `stream`, recording in `progress` each item taken and its end.
pub fn watched<S>(stream: S, progress: Arc<Progress>) -> impl Stream<Item = Bytes> + Send + 'static
where
    S: Stream<Item = Bytes> + Send + 'static,
{
    let end = progress.clone();
    stream
        .map(move |b| {
            progress.touch();
            b
        })
        .chain(futures_util::stream::poll_fn(move |_| {
            end.touch();
            end.drained.store(true, Ordering::Relaxed);
            std::task::Poll::Ready(None)
        }))
}

/// A bounded channel per sink, as (senders, receivers-as-streams).
pub fn sinks(
    n: usize,
) -> (
    Vec<mpsc::Sender<Bytes>>,
    Vec<impl Stream<Item = Bytes> + Send + 'static>,
) {
    (0..n)
        .map(|_| {
            let (tx, rx) = mpsc::channel::<Bytes>(SINK_CAPACITY);
            (tx, receiver_stream(rx))
        })
        .unzip()
}

pub fn receiver_stream(rx: mpsc::Receiver<Bytes>) -> impl Stream<Item = Bytes> + Send + 'static {
    futures_util::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|b| (b, rx)) })
}

/// Copy `source` into every sender, re-chunked to `chunk_bytes`. A source
/// error stops the pump and is returned. Dropping the senders (at return)
/// ends every sink's stream. A sink that has no room for `stall` is dropped.
#[cfg(test)]
pub async fn pump<S, E>(
    source: S,
    senders: Vec<mpsc::Sender<Bytes>>,
    chunk_bytes: usize,
    stall: Duration,
) -> Result<Pumped, E>
where
    S: Stream<Item = Result<Bytes, E>>,
{
    let stalls = vec![stall; senders.len()];
    pump_with(source, senders, chunk_bytes, stalls).await
}

/// [`pump`] with a stall timeout per sender.
pub async fn pump_with<S, E>(
    source: S,
    senders: Vec<mpsc::Sender<Bytes>>,
    chunk_bytes: usize,
    stalls: Vec<Duration>,
) -> Result<Pumped, E>
where
    S: Stream<Item = Result<Bytes, E>>,
{
    let mut live: Vec<Option<mpsc::Sender<Bytes>>> = senders.into_iter().map(Some).collect();
    let mut source = std::pin::pin!(source);
    let mut buf = BytesMut::new();
    let mut total = 0u64;
    let mut stalled = Vec::new();
    loop {
        if live.iter().all(Option::is_none) {
            return Ok(Pumped {
                bytes: total,
                complete: false,
                stalled,
            });
        }
        match source.next().await {
            Some(Ok(chunk)) => {
                total += chunk.len() as u64;
                buf.extend_from_slice(&chunk);
                if buf.len() >= chunk_bytes {
                    send_all(&mut live, buf.split().freeze(), &stalls, &mut stalled).await;
                }
            }
            Some(Err(e)) => return Err(e),
            None => {
                if !buf.is_empty() {
                    send_all(&mut live, buf.split().freeze(), &stalls, &mut stalled).await;
                }
                return Ok(Pumped {
                    bytes: total,
                    complete: true,
                    stalled,
                });
            }
        }
    }
}

/// One chunk to every live sink; a closed sink is dropped, and so is one
/// with no room for `stall` (recorded in `stalled`). Sequential sends: the
/// pump moves on once the slowest live sink has room.
async fn send_all(
    live: &mut [Option<mpsc::Sender<Bytes>>],
    chunk: Bytes,
    stalls: &[Duration],
    stalled: &mut Vec<usize>,
) {
    for (i, slot) in live.iter_mut().enumerate() {
        if let Some(tx) = slot {
            match tokio::time::timeout(stalls[i], tx.send(chunk.clone())).await {
                Ok(Ok(())) => {}
                Ok(Err(_)) => *slot = None,
                Err(_) => {
                    *slot = None;
                    stalled.push(i);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::time::Duration;

    const LONG: Duration = Duration::from_secs(60);

    fn source(chunks: Vec<Vec<u8>>) -> impl Stream<Item = Result<Bytes, String>> {
        futures_util::stream::iter(chunks.into_iter().map(|c| Ok(Bytes::from(c))))
    }

    async fn collect(s: impl Stream<Item = Bytes>) -> Vec<u8> {
        s.fold(Vec::new(), |mut acc, b| async move {
            acc.extend_from_slice(&b);
            acc
        })
        .await
    }

    fn data(n: usize) -> Vec<Vec<u8>> {
        // Odd-sized chunks of a recognisable byte sequence.
        (0..n)
            .map(|i| {
                (0..(1000 + i * 37))
                    .map(|j| ((i * 131 + j) % 251) as u8)
                    .collect()
            })
            .collect()
    }

    #[tokio::test]
    async fn every_sink_gets_identical_bytes() {
        let chunks = data(200);
        let want: Vec<u8> = chunks.concat();
        let (tx, rx) = sinks(3);
        let readers: Vec<_> = rx.into_iter().map(|s| tokio::spawn(collect(s))).collect();
        let pumped = pump(source(chunks), tx, 4096, LONG).await.unwrap();
        assert_eq!(
            pumped,
            Pumped {
                bytes: want.len() as u64,
                complete: true,
                stalled: vec![],
            }
        );
        for r in readers {
            assert_eq!(r.await.unwrap(), want);
        }
    }

    #[tokio::test]
    async fn a_closed_sink_does_not_stall_the_others() {
        let chunks = data(300);
        let want: Vec<u8> = chunks.concat();
        let (tx, mut rx) = sinks(3);
        // The middle sink reads one chunk, then goes away (its import failed).
        let middle = rx.remove(1);
        let failing = tokio::spawn(async move {
            let mut s = std::pin::pin!(middle);
            s.next().await.map(|b| b.len())
        });
        let readers: Vec<_> = rx.into_iter().map(|s| tokio::spawn(collect(s))).collect();
        let pumped = tokio::time::timeout(
            Duration::from_secs(10),
            pump(source(chunks), tx, 1024, LONG),
        )
        .await
        .expect("pump stalled")
        .unwrap();
        assert!(pumped.complete);
        assert!(failing.await.unwrap().is_some());
        for r in readers {
            assert_eq!(r.await.unwrap(), want);
        }
    }

    #[tokio::test]
    async fn all_sinks_gone_stops_reading_early() {
        let (tx, rx) = sinks(2);
        drop(rx);
        let read = Arc::new(AtomicUsize::new(0));
        let counted = read.clone();
        let src = futures_util::stream::iter(data(100)).map(move |c| {
            counted.fetch_add(1, Ordering::SeqCst);
            Ok::<_, String>(Bytes::from(c))
        });
        let pumped = pump(src, tx, 1, LONG).await.unwrap();
        assert!(!pumped.complete);
        assert!(
            read.load(Ordering::SeqCst) <= 1,
            "read {} chunks with no sink",
            read.load(Ordering::SeqCst)
        );
    }

    #[tokio::test]
    async fn the_slowest_sink_bounds_how_far_the_pump_runs_ahead() {
        let read = Arc::new(AtomicUsize::new(0));
        let counted = read.clone();
        // 1-byte chunk size: one sent chunk per source chunk.
        let src = futures_util::stream::iter(data(100)).map(move |c| {
            counted.fetch_add(1, Ordering::SeqCst);
            Ok::<_, String>(Bytes::from(c))
        });
        let (tx, mut rx) = sinks(2);
        let slow = rx.pop().unwrap();
        let fast = tokio::spawn(collect(rx.pop().unwrap()));
        let pump = tokio::spawn(pump(src, tx, 1, LONG));
        // The slow sink reads nothing for a while: the pump must stop after
        // filling its buffer (plus the chunk in hand).
        tokio::time::sleep(Duration::from_millis(200)).await;
        let ahead = read.load(Ordering::SeqCst);
        assert!(
            ahead <= SINK_CAPACITY + 2,
            "pump read {ahead} chunks ahead of a stalled sink"
        );
        let slow_bytes = collect(slow).await;
        assert!(pump.await.unwrap().unwrap().complete);
        assert_eq!(slow_bytes, fast.await.unwrap());
        assert_eq!(slow_bytes, data(100).concat());
    }

    #[tokio::test]
    async fn a_stuck_sink_is_dropped_after_the_stall_timeout_and_named() {
        let chunks = data(100);
        let want: Vec<u8> = chunks.concat();
        let (tx, mut rx) = sinks(3);
        // Sink 1 never reads (its node stopped reading); it must not stall
        // sinks 0 and 2 beyond one stall timeout.
        let stuck = rx.remove(1);
        let readers: Vec<_> = rx.into_iter().map(|s| tokio::spawn(collect(s))).collect();
        let started = std::time::Instant::now();
        let pumped = tokio::time::timeout(
            Duration::from_secs(10),
            pump(source(chunks), tx, 1, Duration::from_millis(300)),
        )
        .await
        .expect("pump stalled")
        .unwrap();
        assert!(started.elapsed() < Duration::from_secs(5));
        assert!(pumped.complete);
        assert_eq!(pumped.stalled, vec![1]);
        for r in readers {
            assert_eq!(r.await.unwrap(), want);
        }
        drop(stuck);
    }

    #[tokio::test]
    async fn progress_records_reads_and_the_end() {
        let progress = Progress::new();
        let s = watched(
            futures_util::stream::iter(vec![Bytes::from_static(b"a")]),
            progress.clone(),
        );
        assert!(!progress.drained());
        let got = collect(s).await;
        assert_eq!(got, b"a");
        assert!(progress.drained());
        assert!(progress.idle() < Duration::from_secs(5));
    }

    #[tokio::test]
    async fn a_source_error_is_returned() {
        let src = futures_util::stream::iter(vec![
            Ok(Bytes::from_static(b"abc")),
            Err("disk on fire".to_string()),
        ]);
        let (tx, rx) = sinks(1);
        let reader = tokio::spawn(collect(rx.into_iter().next().unwrap()));
        assert_eq!(
            pump(src, tx, 1, LONG).await.map(|p| p.bytes),
            Err("disk on fire".to_string())
        );
        assert_eq!(reader.await.unwrap(), b"abc");
    }

    #[tokio::test]
    async fn rechunks_small_source_chunks() {
        let src = futures_util::stream::iter(
            (0..10).map(|i| Ok::<_, String>(Bytes::from(vec![i as u8; 10]))),
        );
        let (tx, rx) = sinks(1);
        let sizes = tokio::spawn(
            rx.into_iter()
                .next()
                .unwrap()
                .map(|b| b.len())
                .collect::<Vec<_>>(),
        );
        pump(src, tx, 25, LONG).await.unwrap();
        assert_eq!(sizes.await.unwrap(), vec![30, 30, 30, 10]);
    }
}
