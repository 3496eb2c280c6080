//! The `run` scenario (S1 to S3): many clients on one or more documents, some of them writers
//! typing markers at a steady rate; every other client of the document times each marker's
//! arrival. Reports latency, deliveries and losses, and the server's CPU and memory.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use concord_protocol::Message;
use serde_json::json;
use tokio::sync::Semaphore;
use yrs::{Text, Transact};

use crate::client::{connect_and_sync, send, Writer};
use crate::document::{prepare_document, texts, writer_replica};
use crate::framing::Address;
use crate::report::print_report;
use crate::stats::{Histogram, ProcStats};
use crate::target::{doc_name, endpoint_of, Schema, Target};
use crate::ws;

/// Longest a scenario may run, whatever it is asked.
const MAX_DURATION: u64 = 600;

#[derive(Debug, clap::Args)]
pub struct RunParams {
    #[command(flatten)]
    target: Target,
    #[arg(long, default_value_t = 1)]
    docs: usize,
    /// Clients in all (spread over the documents).
    #[arg(long)]
    clients: usize,
    /// Writers per document (among its clients).
    #[arg(long, default_value_t = 10)]
    writers: usize,
    /// Edits per second per writer.
    #[arg(long, default_value_t = 5.0)]
    rate: f64,
    /// Seconds of writing (at most 600).
    #[arg(long, default_value_t = 10)]
    duration: u64,
    /// Connections opened at once while ramping up.
    #[arg(long, default_value_t = 200)]
    connect_concurrency: usize,
}

/// State shared by every client of a run.
struct Shared {
    start: Instant,
    /// Nanoseconds after `start` at which each edit was sent, plus one (0: not sent).
    sent_at: Vec<AtomicU64>,
    edits_per_writer: u64,
    latency: Histogram,
    delivered: AtomicU64,
    /// Edits sent, per document.
    sent_per_doc: Vec<AtomicU64>,
    errors: AtomicU64,
    synced: AtomicUsize,
    stop: AtomicBool,
}

impl Shared {
    fn now_ns(&self) -> u64 {
        self.start.elapsed().as_nanos() as u64
    }
}

/// Finds every `~E<id>~` marker in a frame.
fn markers(frame: &[u8], mut each: impl FnMut(u64)) {
    let mut i = 0;
    while i + 3 < frame.len() {
        if frame[i] == b'~' && frame[i + 1] == b'E' {
            let mut j = i + 2;
            let mut id: u64 = 0;
            while j < frame.len() && frame[j].is_ascii_digit() {
                id = id
                    .saturating_mul(10)
                    .saturating_add(u64::from(frame[j] - b'0'));
                j += 1;
            }
            if j < frame.len() && frame[j] == b'~' && j > i + 2 {
                each(id);
                i = j + 1;
                continue;
            }
        }
        i += 1;
    }
}

/// One client: sync, answer the server, count the edits it receives.
async fn client(
    shared: Arc<Shared>,
    addr: SocketAddr,
    path: String,
    address: Address,
    own_writer: Option<u64>,
    ready: tokio::sync::oneshot::Sender<Writer>,
) {
    let result = async {
        let (writer, mut read, leftover) = connect_and_sync(addr, &path, address).await?;
        let framing = writer.address.clone();
        let _ = ready.send(Arc::clone(&writer));
        let total_edits = shared.sent_at.len();
        let mut seen = vec![0u64; total_edits.div_ceil(64)];
        let mut synced = false;
        let (pong_tx, mut pong_rx) = tokio::sync::mpsc::unbounded_channel::<Vec<u8>>();
        let pong_writer = Arc::clone(&writer);
        tokio::spawn(async move {
            while let Some(payload) = pong_rx.recv().await {
                if send(&pong_writer, ws::OP_PONG, &payload).await.is_err() {
                    break;
                }
            }
        });
        let (reply_tx, mut reply_rx) = tokio::sync::mpsc::unbounded_channel::<Vec<u8>>();
        let reply_writer = Arc::clone(&writer);
        tokio::spawn(async move {
            while let Some(frame) = reply_rx.recv().await {
                if send(&reply_writer, ws::OP_BINARY, &frame).await.is_err() {
                    break;
                }
            }
        });
        ws::read_frames(&mut read, leftover, |opcode, payload| {
            match opcode {
                ws::OP_PING => {
                    let _ = pong_tx.send(payload.to_vec());
                }
                ws::OP_CLOSE => return false,
                ws::OP_BINARY => {
                    let Some(payload) = framing.unwrap(payload) else {
                        return !shared.stop.load(Ordering::Relaxed);
                    };
                    let payload = &payload[..];
                    // y-protocols sync: [0, step, ...]. Answer the server's sync step 1 with an
                    // empty update (a writer's edits reach the server as updates anyway).
                    if payload.len() >= 2 && payload[0] == 0 && payload[1] == 0 {
                        let _ = reply_tx.send(Message::SyncStep2(&[0, 0]).encode());
                    }
                    if payload.len() >= 2 && payload[0] == 0 && payload[1] == 1 && !synced {
                        synced = true;
                        shared.synced.fetch_add(1, Ordering::Relaxed);
                    }
                    let now = shared.now_ns();
                    markers(payload, |id| {
                        let Some(sent) = shared.sent_at.get(id as usize) else {
                            return;
                        };
                        if own_writer == Some(id / shared.edits_per_writer) {
                            return;
                        }
                        let (word, bit) = ((id / 64) as usize, id % 64);
                        if seen[word] & (1 << bit) != 0 {
                            return;
                        }
                        seen[word] |= 1 << bit;
                        let sent = sent.load(Ordering::Acquire);
                        if sent == 0 {
                            return;
                        }
                        shared.latency.record(now.saturating_sub(sent - 1) / 1000);
                        shared.delivered.fetch_add(1, Ordering::Relaxed);
                    });
                }
                _ => {}
            }
            !shared.stop.load(Ordering::Relaxed)
        })
        .await?;
        anyhow::Ok(())
    }
    .await;
    if result.is_err() {
        shared.errors.fetch_add(1, Ordering::Relaxed);
    }
}

/// What one writer types, where, and how fast.
struct Edits {
    writer_index: u64,
    doc_index: usize,
    rate: f64,
    until: Instant,
    schema: Schema,
    /// The document as prepared, which the writer's replica starts from.
    initial: Arc<Vec<u8>>,
}

/// A writer: types `~E<id>~` at the end of its text at a steady rate.
async fn write_edits(shared: Arc<Shared>, writer: Writer, edits: Edits) {
    let Edits {
        writer_index,
        doc_index,
        rate,
        until,
        schema,
        initial,
    } = edits;
    let Ok(doc) = writer_replica(&initial) else {
        shared.errors.fetch_add(1, Ordering::Relaxed);
        return;
    };
    let Some(text) = texts(&doc, schema).into_iter().next() else {
        shared.errors.fetch_add(1, Ordering::Relaxed);
        return;
    };
    let interval = Duration::from_secs_f64(1.0 / rate.max(0.001));
    // Writers start spread over one interval, as people do.
    let offset = interval.mul_f64(fastrand::f64());
    let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + offset, interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut seq = 0u64;
    while Instant::now() < until && seq < shared.edits_per_writer {
        tick.tick().await;
        let id = writer_index * shared.edits_per_writer + seq;
        seq += 1;
        let update = {
            let mut txn = doc.transact_mut();
            let len = text.len(&txn);
            text.insert(&mut txn, len, &format!("~E{id}~"));
            txn.encode_update_v1()
        };
        let frame = Message::Update(&update).encode();
        if let Some(slot) = shared.sent_at.get(id as usize) {
            slot.store(shared.now_ns() + 1, Ordering::Release);
        }
        shared.sent_per_doc[doc_index].fetch_add(1, Ordering::Relaxed);
        if send(&writer, ws::OP_BINARY, &frame).await.is_err() {
            shared.errors.fetch_add(1, Ordering::Relaxed);
            return;
        }
    }
}

pub async fn run(params: RunParams) -> anyhow::Result<()> {
    let RunParams {
        target,
        docs,
        clients,
        writers,
        rate,
        duration,
        connect_concurrency,
    } = params;
    let (docs, duration) = (docs.max(1), duration.min(MAX_DURATION));
    let connect_concurrency = connect_concurrency.max(1);
    let writers_total = (writers * docs).min(clients) as u64;
    let edits_per_writer = (rate * (duration as f64 + 1.0)).ceil() as u64 + 1;
    let shared = Arc::new(Shared {
        start: Instant::now(),
        sent_at: (0..writers_total * edits_per_writer)
            .map(|_| AtomicU64::new(0))
            .collect(),
        edits_per_writer,
        latency: Histogram::default(),
        delivered: AtomicU64::new(0),
        sent_per_doc: (0..docs).map(|_| AtomicU64::new(0)).collect(),
        errors: AtomicU64::new(0),
        synced: AtomicUsize::new(0),
        stop: AtomicBool::new(false),
    });

    // Every document gets its paragraph before anyone connects to it.
    let mut initial = Vec::with_capacity(docs);
    for d in 0..docs {
        initial.push(Arc::new(
            prepare_document(&target, &doc_name(&target, d), 1).await?,
        ));
    }

    // Ramp up: open every connection, a bounded number at a time.
    let gate = Arc::new(Semaphore::new(connect_concurrency));
    let mut writer_handles = Vec::new();
    let mut clients_per_doc = vec![0usize; docs];
    let ramp_started = Instant::now();
    let mut pending = Vec::new();
    for i in 0..clients {
        let doc_index = i % docs;
        let slot_in_doc = clients_per_doc[doc_index];
        clients_per_doc[doc_index] += 1;
        let writer_index = (slot_in_doc < writers)
            .then(|| (slot_in_doc * docs + doc_index) as u64)
            .filter(|w| *w < writers_total);
        let doc = doc_name(&target, doc_index);
        let (addr, path) = endpoint_of(&target, &doc, i)?;
        let address = Address::new(target.framing, &doc);
        let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
        let permit = Arc::clone(&gate).acquire_owned().await?;
        let shared = Arc::clone(&shared);
        tokio::spawn(async move {
            client(shared, addr, path, address, writer_index, ready_tx).await;
        });
        // Hold the permit until the handshake is done (or failed).
        let (done_tx, done_rx) = tokio::sync::oneshot::channel();
        tokio::spawn(async move {
            let writer = ready_rx.await.ok();
            drop(permit);
            let _ = done_tx.send(writer);
        });
        pending.push((writer_index, doc_index, done_rx));
    }
    for (writer_index, doc_index, done) in pending {
        if let (Some(w), Ok(Some(writer))) = (writer_index, done.await) {
            writer_handles.push((w, doc_index, writer));
        }
    }
    // Wait (bounded) until every client finished its initial sync.
    let sync_deadline = Instant::now() + Duration::from_secs(60);
    while shared.synced.load(Ordering::Relaxed) + (shared.errors.load(Ordering::Relaxed) as usize)
        < clients
        && Instant::now() < sync_deadline
    {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let ramp = ramp_started.elapsed();
    let connected = shared.synced.load(Ordering::Relaxed);

    let server_before: Vec<Option<ProcStats>> = target
        .server_pid
        .iter()
        .map(|&pid| ProcStats::read(pid))
        .collect();
    let self_before = ProcStats::read_self();
    let started = Instant::now();
    let until = started + Duration::from_secs(duration);
    let mut tasks = Vec::new();
    for (writer_index, doc_index, writer) in writer_handles {
        tasks.push(tokio::spawn(write_edits(
            Arc::clone(&shared),
            writer,
            Edits {
                writer_index,
                doc_index,
                rate,
                until,
                schema: target.schema,
                initial: Arc::clone(&initial[doc_index]),
            },
        )));
    }
    for task in tasks {
        let _ = task.await;
    }
    // Drain: wait (bounded) until every edit reached every other client of its document.
    let expected: u64 = shared
        .sent_per_doc
        .iter()
        .zip(&clients_per_doc)
        .map(|(sent, clients)| sent.load(Ordering::Relaxed) * (*clients as u64).saturating_sub(1))
        .sum();
    let drain_deadline = Instant::now() + Duration::from_secs(10);
    while shared.delivered.load(Ordering::Relaxed) < expected && Instant::now() < drain_deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let elapsed = started.elapsed();
    let server_after: Vec<Option<ProcStats>> = target
        .server_pid
        .iter()
        .map(|&pid| ProcStats::read(pid))
        .collect();
    let self_after = ProcStats::read_self();
    shared.stop.store(true, Ordering::Relaxed);

    let delivered = shared.delivered.load(Ordering::Relaxed);
    let sent: u64 = shared
        .sent_per_doc
        .iter()
        .map(|s| s.load(Ordering::Relaxed))
        .sum();
    // Per node (one entry for a single server), then added up.
    let per_node = |seconds: fn(&ProcStats) -> f64| -> Vec<Option<f64>> {
        server_before
            .iter()
            .zip(&server_after)
            .map(|(a, b)| Some(seconds(b.as_ref()?) - seconds(a.as_ref()?)))
            .collect()
    };
    let cpu_per_node = per_node(|p| p.cpu_seconds);
    let server_cpu = if cpu_per_node.is_empty() {
        None
    } else {
        cpu_per_node.iter().copied().sum::<Option<f64>>()
    };
    // User space alone, summed over the nodes: what the server's own code costs, apart from
    // the kernel's sends.
    let server_user: Option<f64> = per_node(|p| p.user_seconds).into_iter().sum();
    let per_delivery = |seconds: f64| {
        if delivered > 0 {
            seconds * 1e6 / delivered as f64
        } else {
            0.0
        }
    };
    let server_after = server_after.into_iter().next().flatten();
    let report = json!({
        "label": target.label,
        "scenario": "run",
        "docs": docs,
        "clients": clients,
        "connected": connected,
        "writers": writers_total,
        "rate_per_writer": rate,
        "seconds": elapsed.as_secs_f64(),
        "ramp_seconds": ramp.as_secs_f64(),
        "edits_sent": sent,
        "deliveries_expected": expected,
        "deliveries": delivered,
        "lost": expected.saturating_sub(delivered),
        "errors": shared.errors.load(Ordering::Relaxed),
        "latency_ms": {
            "p50": shared.latency.percentile(50.0) as f64 / 1000.0,
            "p95": shared.latency.percentile(95.0) as f64 / 1000.0,
            "p99": shared.latency.percentile(99.0) as f64 / 1000.0,
            "max": shared.latency.max() as f64 / 1000.0,
        },
        "server_cpu_seconds": server_cpu,
        "server_cpu_seconds_per_node": cpu_per_node,
        "server_cpu_us_per_delivery": server_cpu.map(per_delivery),
        "server_user_cpu_us_per_delivery": server_user.filter(|_| !cpu_per_node.is_empty()).map(per_delivery),
        "server_rss_mib": server_after.as_ref().map(|s| s.rss_kib as f64 / 1024.0),
        "server_peak_rss_mib": server_after.as_ref().map(|s| s.peak_rss_kib as f64 / 1024.0),
        "generator_cpu_seconds": match (&self_before, &self_after) {
            (Some(a), Some(b)) => Some(b.cpu_seconds - a.cpu_seconds),
            _ => None,
        },
    });
    print_report(&target, &report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_are_found_in_raw_bytes() {
        let mut found = Vec::new();
        markers(b"xx~E12~yy~E7~~E~ ~E99", |id| found.push(id));
        assert_eq!(found, vec![12, 7]);
    }
}
