//! `concord-load`: a y-websocket load generator for Concord and for any other Yjs server.
//!
//! - `run`: many clients on one or more documents, some of them writers typing at a steady
//!   rate; reports end-to-end delivery latency (a writer's edit to its arrival at every other
//!   client), deliveries and losses, and the server's CPU and memory.
//! - `memory`: many documents of a given size held open; reports server memory per document.
//! - `build` then `coldload`: a document with a long edit history; after the server restarts,
//!   the time until a new client holds the full text.
//!
//! Every edit carries a marker `~E<id>~`; receivers find markers in the raw frames, so
//! observers need no replica and one process holds thousands of clients.
//!
//! Against Concord (`--schema concord`, the default) writers type into paragraph bodies, the
//! only texts its update policy lets a facilitator write: each document is first given its
//! paragraphs with an `import-text` command over the socket, and every writer starts from that
//! state. Against other servers (`--schema root`) they type into a root text named `text`.

mod stats;
mod ws;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use clap::{Parser, Subcommand};
use concord_protocol::Message;
use serde_json::json;
use tokio::io::AsyncWriteExt;
use tokio::net::tcp::OwnedWriteHalf;
use tokio::sync::{Mutex, Semaphore};
use yrs::updates::decoder::Decode;
use yrs::{Doc, GetString, ReadTxn, StateVector, Text, Transact, Update};

use stats::{Histogram, ProcStats};

/// Longest a scenario may run, whatever it is asked.
const MAX_DURATION: u64 = 600;

#[derive(Debug, Parser)]
#[command(
    name = "concord-load",
    about = "Load generator for y-websocket servers"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Runtime worker threads for the generator itself.
    #[arg(long, global = true, default_value_t = 1)]
    threads: usize,
}

#[derive(Debug, clap::Args, Clone)]
struct Target {
    /// URL template; `{doc}` becomes the document name, e.g.
    /// `ws://127.0.0.1:8080/ws/{doc}?token=...` or `ws://127.0.0.1:1234/{doc}`.
    #[arg(long)]
    url: String,
    /// A token appended as `token=` (when the URL does not carry one).
    #[arg(long)]
    token: Option<String>,
    /// The server's process id, for CPU time and memory from /proc.
    #[arg(long)]
    server_pid: Option<u32>,
    /// A label for the report (scenario and server).
    #[arg(long, default_value = "")]
    label: String,
    /// Also write the report as JSON to this file.
    #[arg(long)]
    json: Option<std::path::PathBuf>,
    /// Prefix of document names.
    #[arg(long, default_value = "bench")]
    doc_prefix: String,
    /// Where writers type: `concord` (paragraph bodies, created by command) or `root` (a root
    /// text `text`, for servers without Concord's schema and policy).
    #[arg(long, value_enum, default_value_t = Schema::Concord)]
    schema: Schema,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Schema {
    Concord,
    Root,
}

/// The texts writers type into: every paragraph body (Concord) or the root text.
fn texts(doc: &Doc, schema: Schema) -> Vec<yrs::TextRef> {
    match schema {
        Schema::Root => vec![doc.get_or_insert_text("text")],
        Schema::Concord => {
            let txn = doc.transact();
            concord_protocol::schema::paragraphs(&txn)
                .iter()
                .filter_map(|p| concord_protocol::schema::body_text(&txn, &p.id))
                .collect()
        }
    }
}

/// Gives `doc` its paragraphs (Concord: `import-text` with `paragraphs` empty paragraphs, unless
/// it has content already) and returns the state every writer starts from (empty for `root`).
async fn prepare_document(
    target: &Target,
    doc: &str,
    paragraphs: usize,
) -> anyhow::Result<Vec<u8>> {
    if target.schema == Schema::Root {
        return Ok(Vec::new());
    }
    let (writer, mut read, leftover) = synced_client(target, doc).await?;
    let text: String = (1..=paragraphs.max(1))
        .map(|p| format!("[{p}]\n"))
        .collect();
    let request = concord_protocol::command::CommandRequest {
        id: 1,
        command: concord_protocol::command::Command::ImportText { text },
    };
    send(&writer, ws::OP_BINARY, &Message::Command(request).encode()).await?;
    let replica = Doc::new();
    // Either the import's update arrives, or the sync shows the document had content already.
    read_until(&writer, &mut read, leftover, &replica, |doc, _| {
        !texts(doc, Schema::Concord).is_empty()
    })
    .await?;
    let state = replica
        .transact()
        .encode_state_as_update_v1(&StateVector::default());
    Ok(state)
}

/// A writer's replica: a fresh client id, starting from `initial`.
fn writer_replica(initial: &[u8]) -> anyhow::Result<Doc> {
    let doc = Doc::new();
    if !initial.is_empty() {
        doc.transact_mut()
            .apply_update(Update::decode_v1(initial)?)?;
    }
    Ok(doc)
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Clients and writers on documents; latency and delivery.
    Run(RunParams),
    /// Many documents of a given size held open; memory per document.
    Memory {
        #[command(flatten)]
        target: Target,
        #[arg(long, default_value_t = 1000)]
        docs: usize,
        /// Bytes of text per document.
        #[arg(long, default_value_t = 5000)]
        bytes: usize,
    },
    /// Writes a document with a long history (for `coldload` after a restart).
    Build {
        #[command(flatten)]
        target: Target,
        #[arg(long, default_value_t = 200)]
        paragraphs: usize,
        #[arg(long, default_value_t = 120_000)]
        chars: usize,
        #[arg(long, default_value_t = 20_000)]
        transactions: usize,
    },
    /// Time until a new client holds the whole text of the document `build` wrote.
    Coldload {
        #[command(flatten)]
        target: Target,
        #[arg(long, default_value_t = 120_000)]
        chars: usize,
    },
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(cli.threads.max(1))
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        match cli.command {
            Command::Run(params) => run(params).await,
            Command::Memory {
                target,
                docs,
                bytes,
            } => memory(target, docs, bytes).await,
            Command::Build {
                target,
                paragraphs,
                chars,
                transactions,
            } => build(target, paragraphs, chars, transactions).await,
            Command::Coldload { target, chars } => coldload(target, chars).await,
        }
    })
}

/// Where to connect for a document: (address, path and query).
fn endpoint(target: &Target, doc: &str) -> anyhow::Result<(SocketAddr, String)> {
    let url = target.url.replace("{doc}", doc);
    let rest = url
        .strip_prefix("ws://")
        .context("only ws:// URLs are supported")?;
    let (host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let addr: SocketAddr = host.parse().context("the URL host must be IP:port")?;
    let mut path = if path.is_empty() {
        "/".to_string()
    } else {
        path.to_string()
    };
    if let Some(token) = &target.token {
        path.push(if path.contains('?') { '&' } else { '?' });
        path.push_str("token=");
        path.push_str(token);
    }
    Ok((addr, path))
}

fn doc_name(target: &Target, index: usize) -> String {
    format!("{}-{index}", target.doc_prefix)
}

#[derive(Debug, clap::Args)]
struct RunParams {
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

type Writer = Arc<Mutex<OwnedWriteHalf>>;

async fn send(writer: &Writer, opcode: u8, payload: &[u8]) -> anyhow::Result<()> {
    let mut frame = Vec::with_capacity(payload.len() + 14);
    ws::encode_frame(&mut frame, opcode, payload);
    writer.lock().await.write_all(&frame).await?;
    Ok(())
}

/// One client: sync, answer the server, count the edits it receives.
async fn client(
    shared: Arc<Shared>,
    addr: SocketAddr,
    path: String,
    own_writer: Option<u64>,
    ready: tokio::sync::oneshot::Sender<Writer>,
) {
    let result = async {
        let (writer, mut read, leftover) = connect_and_sync(addr, &path).await?;
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

async fn run(params: RunParams) -> anyhow::Result<()> {
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
        let (addr, path) = endpoint(&target, &doc_name(&target, doc_index))?;
        let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
        let permit = Arc::clone(&gate).acquire_owned().await?;
        let shared = Arc::clone(&shared);
        tokio::spawn(async move {
            client(shared, addr, path, writer_index, ready_tx).await;
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

    let server_before = target.server_pid.and_then(ProcStats::read);
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
    let server_after = target.server_pid.and_then(ProcStats::read);
    let self_after = ProcStats::read_self();
    shared.stop.store(true, Ordering::Relaxed);

    let delivered = shared.delivered.load(Ordering::Relaxed);
    let sent: u64 = shared
        .sent_per_doc
        .iter()
        .map(|s| s.load(Ordering::Relaxed))
        .sum();
    let server_cpu = match (&server_before, &server_after) {
        (Some(a), Some(b)) => Some(b.cpu_seconds - a.cpu_seconds),
        _ => None,
    };
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
        "server_cpu_us_per_delivery": server_cpu.map(|c| if delivered > 0 { c * 1e6 / delivered as f64 } else { 0.0 }),
        "server_rss_mib": server_after.as_ref().map(|s| s.rss_kib as f64 / 1024.0),
        "server_peak_rss_mib": server_after.as_ref().map(|s| s.peak_rss_kib as f64 / 1024.0),
        "generator_cpu_seconds": match (&self_before, &self_after) {
            (Some(a), Some(b)) => Some(b.cpu_seconds - a.cpu_seconds),
            _ => None,
        },
    });
    print_report(&target, &report)
}

fn print_report(target: &Target, report: &serde_json::Value) -> anyhow::Result<()> {
    let text = serde_json::to_string_pretty(report)?;
    if let Some(path) = &target.json {
        std::fs::write(path, &text)?;
    }
    eprintln!("{}", table(report));
    println!("{text}");
    Ok(())
}

/// The report as an aligned two-column table.
fn table(report: &serde_json::Value) -> String {
    fn rows(prefix: &str, value: &serde_json::Value, out: &mut Vec<(String, String)>) {
        match value {
            serde_json::Value::Object(map) => {
                for (key, value) in map {
                    let name = if prefix.is_empty() {
                        key.clone()
                    } else {
                        format!("{prefix}.{key}")
                    };
                    rows(&name, value, out);
                }
            }
            serde_json::Value::Number(n) => out.push((
                prefix.to_string(),
                n.as_f64()
                    .map(|f| {
                        if f.fract() == 0.0 {
                            format!("{f:.0}")
                        } else {
                            format!("{f:.3}")
                        }
                    })
                    .unwrap_or_default(),
            )),
            other => out.push((prefix.to_string(), other.to_string())),
        }
    }
    let mut out = Vec::new();
    rows("", report, &mut out);
    let width = out.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    out.iter()
        .map(|(k, v)| format!("{k:<width$}  {v}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Connects one client to `doc` and starts its sync (the caller reads the answer).
async fn synced_client(
    target: &Target,
    doc: &str,
) -> anyhow::Result<(Writer, tokio::net::tcp::OwnedReadHalf, Vec<u8>)> {
    let (addr, path) = endpoint(target, doc)?;
    connect_and_sync(addr, &path).await
}

/// Opens a WebSocket and sends the first sync step (an empty state vector: send everything).
async fn connect_and_sync(
    addr: SocketAddr,
    path: &str,
) -> anyhow::Result<(Writer, tokio::net::tcp::OwnedReadHalf, Vec<u8>)> {
    let (read, write, leftover) = ws::connect(addr, path).await?;
    let writer: Writer = Arc::new(Mutex::new(write));
    send(
        &writer,
        ws::OP_BINARY,
        &Message::SyncStep1(StateVector::default()).encode(),
    )
    .await?;
    Ok((writer, read, leftover))
}

/// Reads frames, applying sync step 2 and updates to `doc`, until `done(doc)` holds.
/// Answers pings and the server's sync step 1 on the way. Returns the time spent decoding and
/// applying updates (the client's own share of a load).
async fn read_until(
    writer: &Writer,
    read: &mut tokio::net::tcp::OwnedReadHalf,
    leftover: Vec<u8>,
    doc: &Doc,
    done: impl Fn(&Doc, bool) -> bool,
) -> anyhow::Result<Duration> {
    let mut synced = false;
    let mut applying = Duration::ZERO;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(u8, Vec<u8>)>();
    let answer = Arc::clone(writer);
    let answering = tokio::spawn(async move {
        while let Some((op, payload)) = rx.recv().await {
            if send(&answer, op, &payload).await.is_err() {
                break;
            }
        }
    });
    let mut finished = done(doc, synced);
    if !finished {
        ws::read_frames(read, leftover, |opcode, payload| {
            match opcode {
                ws::OP_PING => {
                    let _ = tx.send((ws::OP_PONG, payload.to_vec()));
                }
                ws::OP_CLOSE => return false,
                ws::OP_BINARY => {
                    if let Ok(messages) = Message::decode_frame(payload) {
                        for message in messages {
                            match message {
                                Message::SyncStep1(_) => {
                                    let _ = tx.send((
                                        ws::OP_BINARY,
                                        Message::SyncStep2(&[0, 0]).encode(),
                                    ));
                                }
                                Message::SyncStep2(update) | Message::Update(update) => {
                                    synced |= matches!(message, Message::SyncStep2(_));
                                    let started = Instant::now();
                                    if let Ok(update) = Update::decode_v1(update) {
                                        let _ = doc.transact_mut().apply_update(update);
                                    }
                                    applying += started.elapsed();
                                }
                                _ => {}
                            }
                        }
                    }
                    if done(doc, synced) {
                        finished = true;
                        return false;
                    }
                }
                _ => {}
            }
            true
        })
        .await?;
    }
    answering.abort();
    if !finished {
        bail!("the connection ended before the document was complete");
    }
    Ok(applying)
}

/// Characters in all the texts writers type into.
fn text_len(doc: &Doc, schema: Schema) -> u32 {
    let txn = doc.transact();
    texts(doc, schema).iter().map(|t| t.len(&txn)).sum()
}

/// S4: `docs` documents of `bytes` bytes each, held open; server memory per document.
async fn memory(target: Target, docs: usize, bytes: usize) -> anyhow::Result<()> {
    let pid = target.server_pid.context("memory needs --server-pid")?;
    let before = ProcStats::read(pid).context("cannot read the server's /proc")?;
    let mut held = Vec::with_capacity(docs);
    let started = Instant::now();
    let gate = Arc::new(Semaphore::new(100));
    let mut joins = Vec::new();
    for d in 0..docs {
        let target = target.clone();
        let gate = Arc::clone(&gate);
        joins.push(tokio::spawn(async move {
            let _permit = gate.acquire_owned().await?;
            let name = doc_name(&target, d);
            let initial = prepare_document(&target, &name, 1).await?;
            let (writer, mut read, leftover) = synced_client(&target, &name).await?;
            // One paragraph of ~`bytes` bytes, typed in 100-byte transactions.
            let local = writer_replica(&initial)?;
            let text = texts(&local, target.schema)
                .into_iter()
                .next()
                .context("the document has no text to type into")?;
            let chunk: String = "Migrants shall be protected in all circumstances; "
                .chars()
                .cycle()
                .take(100)
                .collect();
            let mut written = 0;
            while written < bytes {
                let update = {
                    let mut txn = local.transact_mut();
                    let len = text.len(&txn);
                    text.insert(&mut txn, len, &chunk);
                    txn.encode_update_v1()
                };
                send(&writer, ws::OP_BINARY, &Message::Update(&update).encode()).await?;
                written += chunk.len();
            }
            // The server answers a sync step 1 after everything sent before it: once the
            // answer holds all the text, the document is in the server's memory.
            send(
                &writer,
                ws::OP_BINARY,
                &Message::SyncStep1(StateVector::default()).encode(),
            )
            .await?;
            let mirror = Doc::new();
            let expected = text_len(&local, target.schema);
            read_until(&writer, &mut read, leftover, &mirror, |doc, _| {
                text_len(doc, target.schema) >= expected
            })
            .await?;
            anyhow::Ok((writer, read))
        }));
    }
    let mut errors = 0;
    for join in joins {
        match join.await? {
            Ok(connection) => held.push(connection),
            Err(_) => errors += 1,
        }
    }
    let loaded = started.elapsed();
    // Let the server settle (allocator, background snapshot writes), bounded.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let after = ProcStats::read(pid).context("cannot read the server's /proc")?;
    let per_doc_kib = (after.rss_kib as f64 - before.rss_kib as f64) / docs.max(1) as f64;
    let report = json!({
        "label": target.label,
        "scenario": "memory",
        "docs": docs,
        "bytes_per_doc": bytes,
        "errors": errors,
        "seconds_to_load": loaded.as_secs_f64(),
        "server_rss_before_mib": before.rss_kib as f64 / 1024.0,
        "server_rss_after_mib": after.rss_kib as f64 / 1024.0,
        "server_kib_per_doc": per_doc_kib,
    });
    drop(held);
    print_report(&target, &report)
}

/// S5 part one: a document of `paragraphs` paragraphs and `chars` characters written in
/// `transactions` transactions, each typed at a random place.
async fn build(
    target: Target,
    paragraphs: usize,
    chars: usize,
    transactions: usize,
) -> anyhow::Result<()> {
    let name = doc_name(&target, 0);
    // Concord: the paragraphs come from an import; the root schema types them as lines.
    let initial = prepare_document(&target, &name, paragraphs).await?;
    let (writer, mut read, leftover) = synced_client(&target, &name).await?;
    let local = writer_replica(&initial)?;
    let bodies = texts(&local, target.schema);
    let text = bodies
        .first()
        .cloned()
        .context("the document has no text to type into")?;
    let per_tx = (chars / transactions.max(1)).max(1);
    let mut rng = fastrand::Rng::with_seed(5);
    let started = Instant::now();
    let mut batch = Vec::new();
    for t in 0..transactions {
        let update = {
            let mut txn = local.transact_mut();
            if t == 0 && target.schema == Schema::Root {
                let seed: String = (0..paragraphs).map(|p| format!("{}. \n", p + 1)).collect();
                text.insert(&mut txn, 0, &seed);
            } else {
                // A random place in a random paragraph (Concord) or in the one text.
                let text = &bodies[rng.usize(0..bodies.len())];
                let len = text.len(&txn);
                let at = rng.u32(0..len.max(1));
                let word: String = (0..per_tx).map(|_| rng.alphabetic()).collect();
                text.insert(&mut txn, at, &word);
            }
            txn.encode_update_v1()
        };
        ws::encode_frame(
            &mut batch,
            ws::OP_BINARY,
            &Message::Update(&update).encode(),
        );
        if batch.len() > 64 * 1024 {
            writer.lock().await.write_all(&batch).await?;
            batch.clear();
        }
    }
    ws::encode_frame(
        &mut batch,
        ws::OP_BINARY,
        &Message::SyncStep1(StateVector::default()).encode(),
    );
    writer.lock().await.write_all(&batch).await?;
    let expected = text_len(&local, target.schema);
    let mirror = Doc::new();
    read_until(&writer, &mut read, leftover, &mirror, |doc, _| {
        text_len(doc, target.schema) >= expected
    })
    .await?;
    let report = json!({
        "label": target.label,
        "scenario": "build",
        "transactions": transactions,
        "chars": expected,
        "seconds": started.elapsed().as_secs_f64(),
    });
    print_report(&target, &report)
}

/// S5 part two: connect a new client and time until it holds the whole text.
async fn coldload(target: Target, chars: usize) -> anyhow::Result<()> {
    let name = doc_name(&target, 0);
    let started = Instant::now();
    let (writer, mut read, leftover) = synced_client(&target, &name).await?;
    let mirror = Doc::new();
    let expected = chars as u32;
    // Done when the whole text is there. Some servers answer the first sync before their
    // persistence has loaded the document and send it later as updates, so "synced" is not
    // the finish line; a server that lost part of it is cut off after a bounded wait and the
    // report says how much came.
    let wait = read_until(&writer, &mut read, leftover, &mirror, |doc, _| {
        text_len(doc, target.schema) >= expected
    });
    let applying = match tokio::time::timeout(Duration::from_secs(15), wait).await {
        Ok(applying) => applying?,
        Err(_) => Duration::ZERO,
    };
    let elapsed = started.elapsed();
    let got = {
        let txn = mirror.transact();
        texts(&mirror, target.schema)
            .iter()
            .map(|t| t.get_string(&txn).chars().count())
            .sum::<usize>()
    };
    let report = json!({
        "label": target.label,
        "scenario": "coldload",
        "chars": got,
        "complete": got >= chars,
        "ms_to_full_text": elapsed.as_secs_f64() * 1000.0,
        "ms_client_applying": applying.as_secs_f64() * 1000.0,
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

    #[test]
    fn endpoints_parse() {
        let target = Target {
            url: "ws://127.0.0.1:9/ws/{doc}".into(),
            token: Some("t".into()),
            server_pid: None,
            label: String::new(),
            json: None,
            doc_prefix: "b".into(),
            schema: Schema::Concord,
        };
        let (addr, path) = endpoint(&target, "b-1").expect("parses");
        assert_eq!(addr.port(), 9);
        assert_eq!(path, "/ws/b-1?token=t");
    }
}
