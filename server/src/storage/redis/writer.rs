//! The writer task: it takes every operation waiting in its queue and sends them to Redis as
//! one pipeline (one round trip), firing their completions in order as the answers come.
//! Redis answers a write only once it is in the append-only file, fsynced (`appendfsync
//! always`), so a completion means durable. Audit records are sealed here, against the head
//! this node read when it took the document: the append script refuses any record that does
//! not follow the stored head, and any append under a stale fence.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use redis::aio::MultiplexedConnection;
use redis::{Script, Value};
use tokio::sync::mpsc;

use super::lease::Leases;
use super::{keys, scripts};
use crate::audit::{Head, SealedRecord};
use crate::storage::{Completion, LogEntry, LogSeq, StorageError};

/// How many queued operations one pipeline takes at most.
const MAX_BATCH: usize = 1024;

/// After this long without writing, the connection is checked before the next write.
const IDLE_CHECK: std::time::Duration = std::time::Duration::from_secs(1);

pub(super) enum Job {
    Append {
        doc: Box<str>,
        entry: LogEntry,
        done: Completion,
    },
    Snapshot {
        doc: Box<str>,
        state: Vec<u8>,
        done: Completion,
    },
    Barrier {
        done: Completion,
    },
    /// The count of the document's open silence procedures, as its room found it on loading.
    OpenSilences {
        doc: Box<str>,
        open: usize,
        done: Completion,
    },
    /// The document was loaded afresh with this chain head: writes for it are accepted again.
    Reset {
        doc: Box<str>,
        head: Head,
        done: Completion,
    },
}

impl Job {
    pub(super) fn complete(self, result: Result<LogSeq, StorageError>) {
        match self {
            Job::Append { done, .. }
            | Job::Snapshot { done, .. }
            | Job::OpenSilences { done, .. }
            | Job::Barrier { done }
            | Job::Reset { done, .. } => done(result),
        }
    }

    fn doc(&self) -> Option<&str> {
        match self {
            Job::Append { doc, .. } | Job::Snapshot { doc, .. } | Job::OpenSilences { doc, .. } => {
                Some(doc)
            }
            _ => None,
        }
    }
}

/// The writer's connection, with its id in Redis (to cut it off: see `commit`).
pub(super) struct Connection {
    conn: MultiplexedConnection,
    id: i64,
}

pub(super) struct Writer {
    pub(super) client: redis::Client,
    pub(super) leases: Arc<Leases>,
    pub(super) append: Script,
    pub(super) snapshot: Script,
    open_silences: Script,
    landed: Script,
    stats: super::RedisStats,
}

impl Writer {
    pub(super) async fn run(self, mut jobs: mpsc::UnboundedReceiver<Job>) {
        let mut conn: Option<Connection> = None;
        let mut heads: HashMap<Box<str>, Head> = HashMap::new();
        // Documents whose write failed: later writes were issued on top of what may be lost,
        // so they are refused until the document is loaded afresh (the log never holds an
        // update without those before it).
        let mut failed: HashSet<Box<str>> = HashSet::new();
        let mut batch = Vec::with_capacity(64);
        let mut idle_since = std::time::Instant::now();
        while let Some(first) = jobs.recv().await {
            batch.push(first);
            while batch.len() < MAX_BATCH {
                match jobs.try_recv() {
                    Ok(job) => batch.push(job),
                    Err(_) => break,
                }
            }
            // A connection unused for a while may have died with a Redis that restarted:
            // checked first, so that the writes are not failed for it.
            if idle_since.elapsed() > IDLE_CHECK {
                if let Some(c) = conn.as_mut() {
                    if redis::cmd("PING")
                        .query_async::<()>(&mut c.conn)
                        .await
                        .is_err()
                    {
                        conn = None;
                    }
                }
            }
            if conn.is_none() {
                conn = self.connect().await;
            }
            self.commit(&mut conn, &mut heads, &mut failed, &mut batch)
                .await;
            idle_since = std::time::Instant::now();
        }
    }

    async fn commit(
        &self,
        conn: &mut Option<Connection>,
        heads: &mut HashMap<Box<str>, Head>,
        failed: &mut HashSet<Box<str>>,
        batch: &mut Vec<Job>,
    ) {
        let mut ready = Vec::with_capacity(batch.len());
        for job in batch.drain(..) {
            match job {
                Job::Reset { doc, head, done } => {
                    failed.remove(&doc);
                    heads.insert(doc, head);
                    done(Ok(0));
                }
                job if job.doc().is_some_and(|d| failed.contains(d)) => {
                    let doc = job.doc().unwrap_or_default().to_string();
                    job.complete(Err(StorageError::Backend(format!(
                        "an earlier write of {doc} failed; it must be reloaded first"
                    ))));
                }
                job => match self.prepare(heads, job) {
                    Ok(prepared) => ready.push(prepared),
                    Err((job, err)) => {
                        if let Some(doc) = job.doc() {
                            failed.insert(doc.into());
                        }
                        job.complete(Err(err));
                    }
                },
            }
        }
        // A connection that breaks mid-pipeline leaves unknown which writes landed. The chain
        // tells: an append landed if the stored head reached its record's number (the fence
        // makes this node the only writer, and a pipeline runs in order). What landed is
        // done; the rest is sent again, once, on a new connection.
        for attempt in 0..2 {
            if ready.is_empty() {
                return;
            }
            let mut pipe = redis::pipe();
            pipe.ignore_errors();
            for prepared in &ready {
                match &prepared.command {
                    Some(invocation) => {
                        pipe.invoke_script(invocation);
                    }
                    None => {
                        pipe.cmd("PING");
                    }
                }
            }
            let sent = std::time::Instant::now();
            let answers: Result<Vec<redis::RedisResult<Value>>, _> = match conn.as_mut() {
                Some(c) => {
                    let answers = pipe.query_async(&mut c.conn).await;
                    self.stats.round_trip.observe(sent.elapsed().as_secs_f64());
                    answers
                }
                None => Err(redis::RedisError::from(std::io::Error::from(
                    std::io::ErrorKind::NotConnected,
                ))),
            };
            match answers {
                Ok(answers) if answers.len() == ready.len() => {
                    for (prepared, answer) in ready.drain(..).zip(answers) {
                        self.settle(prepared.job, answer, conn, heads, failed);
                    }
                    return;
                }
                _ => {
                    let broken = conn.take().map(|c| c.id);
                    *conn = self.connect().await;
                    if attempt == 0 {
                        let docs: HashMap<String, u64> = ready
                            .iter()
                            .filter(|p| p.record.is_some())
                            .filter_map(|p| Some((p.job.doc()?.to_string(), p.fence?)))
                            .collect();
                        if let Some(c) = conn.as_mut() {
                            // The old connection is cut off first: what it still had queued
                            // in Redis can no longer run after the check.
                            if let Some(id) = broken {
                                let _: Result<Value, _> = redis::cmd("CLIENT")
                                    .arg("KILL")
                                    .arg("ID")
                                    .arg(id)
                                    .query_async(&mut c.conn)
                                    .await;
                            }
                            if let Ok(landed) = self.stored_heads(&mut c.conn, docs).await {
                                ready = finish_landed(ready, &landed);
                                continue;
                            }
                        }
                    }
                    // Whether each write happened is unknown: every document in the batch is
                    // reloaded before it is written again.
                    for prepared in ready.drain(..) {
                        if let Some(doc) = prepared.job.doc() {
                            failed.insert(doc.into());
                            heads.remove(doc);
                        }
                        prepared
                            .job
                            .complete(Err(StorageError::Backend("redis is unreachable".into())));
                    }
                    return;
                }
            }
        }
    }

    /// For each document (and the fence its appends were sent under): the stored head's
    /// record number, or `None` if the fence moved on (another node may have appended: what
    /// landed cannot be told, so nothing is counted as landed).
    async fn stored_heads(
        &self,
        conn: &mut MultiplexedConnection,
        docs: HashMap<String, u64>,
    ) -> Result<HashMap<String, u64>, redis::RedisError> {
        let mut heads = HashMap::new();
        for (doc, fence) in docs {
            let n: i64 = self
                .landed
                .key(keys::fence(&doc))
                .key(keys::head(&doc))
                .arg(fence)
                .invoke_async(conn)
                .await?;
            if let Ok(n) = u64::try_from(n) {
                heads.insert(doc, n);
            }
        }
        Ok(heads)
    }

    /// Completes a job with Redis's answer to it.
    fn settle(
        &self,
        job: Job,
        answer: redis::RedisResult<Value>,
        conn: &mut Option<Connection>,
        heads: &mut HashMap<Box<str>, Head>,
        failed: &mut HashSet<Box<str>>,
    ) {
        match answer {
            Ok(value) => job.complete(Ok(log_seq(&value))),
            Err(err) => {
                if err.code() == Some("NOSCRIPT") {
                    *conn = None;
                }
                if let Some(doc) = job.doc() {
                    tracing::error!(doc, error = %err, "redis refused a write");
                    failed.insert(doc.into());
                    heads.remove(doc);
                }
                job.complete(Err(StorageError::Backend(err.to_string())));
            }
        }
    }

    /// A job with the command that does it (`None`: a PING, for a barrier).
    #[allow(clippy::result_large_err)]
    fn prepare(
        &self,
        heads: &mut HashMap<Box<str>, Head>,
        job: Job,
    ) -> Result<Prepared<'_>, (Job, StorageError)> {
        let not_owner = |doc: &str| {
            StorageError::Backend(format!("this node does not own {doc} (its lease was lost)"))
        };
        let (command, record, fence) = match &job {
            Job::Append { doc, entry, .. } => {
                let Some(fence) = self.leases.fence(doc) else {
                    let err = not_owner(doc);
                    return Err((job, err));
                };
                let Some(head) = heads.get(doc).copied() else {
                    let err = StorageError::Backend(format!("{doc} was not loaded here"));
                    return Err((job, err));
                };
                let sealed = SealedRecord::seal(doc, head, &entry.record, &entry.update);
                let mut invocation = self.append.prepare_invoke();
                invocation
                    .key(keys::log(doc))
                    .key(keys::audit(doc))
                    .key(keys::owners(doc))
                    .key(keys::fence(doc))
                    .key(keys::DOCUMENTS)
                    .key(keys::action(&sealed.action))
                    .key(keys::head(doc))
                    .key(keys::OPEN_SILENCES)
                    .arg(fence)
                    .arg(&**doc)
                    .arg(entry.update.as_ref())
                    .arg(sealed.n)
                    .arg(sealed.at_ms)
                    .arg(&sealed.person)
                    .arg(&sealed.mission)
                    .arg(&sealed.action)
                    .arg(&sealed.paragraphs)
                    .arg(&sealed.deleted)
                    .arg(&sealed.claims)
                    .arg(&sealed.update_hash)
                    .arg(&sealed.prev)
                    .arg(&sealed.hash);
                for claim in &entry.record.claims {
                    invocation.arg(claim.client).arg(&claim.mission);
                }
                heads.insert(doc.clone(), sealed.head());
                (Some(invocation), Some(sealed.n), Some(fence))
            }
            Job::Snapshot { doc, state, .. } => {
                let Some(fence) = self.leases.fence(doc) else {
                    let err = not_owner(doc);
                    return Err((job, err));
                };
                // The state holds exactly the records issued before it.
                let Some(covered) = heads.get(doc).map(|head| head.0) else {
                    let err = StorageError::Backend(format!("{doc} was not loaded here"));
                    return Err((job, err));
                };
                let mut invocation = self.snapshot.prepare_invoke();
                invocation
                    .key(keys::log(doc))
                    .key(keys::snapshot(doc))
                    .key(keys::fence(doc))
                    .key(keys::head(doc))
                    .arg(fence)
                    .arg(state.as_slice())
                    .arg(covered);
                (Some(invocation), None, Some(fence))
            }
            Job::OpenSilences { doc, open, .. } => {
                let Some(fence) = self.leases.fence(doc) else {
                    let err = not_owner(doc);
                    return Err((job, err));
                };
                let mut invocation = self.open_silences.prepare_invoke();
                invocation
                    .key(keys::fence(doc))
                    .key(keys::OPEN_SILENCES)
                    .arg(fence)
                    .arg(&**doc)
                    .arg(*open);
                (Some(invocation), None, Some(fence))
            }
            Job::Barrier { .. } | Job::Reset { .. } => (None, None, None),
        };
        Ok(Prepared {
            job,
            command,
            record,
            fence,
        })
    }
}

/// A job ready to send.
struct Prepared<'a> {
    job: Job,
    command: Option<redis::ScriptInvocation<'a>>,
    /// An append's record number in its chain.
    record: Option<u64>,
    /// The fencing number it was sent under.
    fence: Option<u64>,
}

/// Completes the appends that landed; returns what is left to send.
fn finish_landed<'a>(ready: Vec<Prepared<'a>>, heads: &HashMap<String, u64>) -> Vec<Prepared<'a>> {
    let mut left = Vec::new();
    for prepared in ready {
        let stored = prepared.job.doc().and_then(|doc| heads.get(doc)).copied();
        match (prepared.record, stored) {
            (Some(n), Some(head)) if n <= head => prepared.job.complete(Ok(0)),
            _ => left.push(prepared),
        }
    }
    left
}

/// A log position from a stream id (`ms-seq`): increasing with every entry.
fn log_seq(value: &Value) -> LogSeq {
    let id = match value {
        Value::BulkString(bytes) => String::from_utf8_lossy(bytes).into_owned(),
        Value::SimpleString(s) => s.clone(),
        _ => return 0,
    };
    let mut parts = id.splitn(2, '-');
    let ms: u64 = parts.next().and_then(|p| p.parse().ok()).unwrap_or(0);
    let seq: u64 = parts.next().and_then(|p| p.parse().ok()).unwrap_or(0);
    (ms << 20) | (seq & 0xF_FFFF)
}

impl Writer {
    /// A connection with the scripts loaded (a pipeline sends them by hash only). Redis
    /// forgets scripts when it restarts; a restart also breaks the connection, and the next
    /// one loads them again.
    async fn connect(&self) -> Option<Connection> {
        let mut conn = super::connect(&self.client).await.ok()?;
        for script in [&self.append, &self.snapshot, &self.open_silences] {
            if let Err(err) = script.prepare_invoke().load_async(&mut conn).await {
                tracing::warn!(error = %err, "cannot load a script into redis");
                return None;
            }
        }
        let id: i64 = redis::cmd("CLIENT")
            .arg("ID")
            .query_async(&mut conn)
            .await
            .ok()?;
        Some(Connection { conn, id })
    }

    pub(super) fn new(
        client: redis::Client,
        leases: Arc<Leases>,
        stats: super::RedisStats,
    ) -> Self {
        Writer {
            client,
            leases,
            stats,
            append: Script::new(scripts::APPEND),
            snapshot: Script::new(scripts::SNAPSHOT),
            open_silences: Script::new(scripts::OPEN_SILENCES),
            landed: Script::new(scripts::LANDED),
        }
    }
}
