//! The backend for several nodes: every document lives in Redis, which every node shares
//! (`concord serve --redis redis://HOST:PORT`). Design: ARCHITECTURE.md, "Several nodes on
//! Redis".
//!
//! - One node owns a document at a time (`lease.rs`): it alone runs the update policy and
//!   appends, so the log has one total order and the policy decides against exactly the
//!   accepted prefix. Other nodes forward their clients to it (`crate::cluster`).
//! - Appends go through a script that checks the owner's fencing number (`scripts.rs`):
//!   Redis itself refuses a paused ex-owner's late write.
//! - A write completes once Redis answered it, which with `appendfsync always` is after the
//!   append-only file is fsynced: acks and broadcasts wait for that, as on one node.
//! - Snapshots are stored in Redis; the log is trimmed only behind a stored snapshot.
//!
//! Keys: `keys.rs`. Writes: `writer.rs`. Reads: `read.rs`.

mod keys;
mod lease;
mod read;
mod scripts;
pub mod shared;
mod stats;
mod writer;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use redis::aio::MultiplexedConnection;
use tokio::sync::{mpsc, oneshot};

use lease::Leases;
pub use lease::Route;
pub use stats::RedisStats;
use writer::{Job, Writer};

use super::{
    AuditQuery, BoxFuture, Completion, DocumentLog, LogEntry, StorageError, StoredDocument,
};
use crate::audit::{AuditRecord, Verification};

/// How long a lease lasts unless renewed: how long a dead owner's documents wait before
/// another node takes them.
pub const LEASE: Duration = Duration::from_secs(3);

pub struct RedisLog {
    client: redis::Client,
    /// For reads and leases (writes have the writer's own connection, so that they keep
    /// their order).
    conn: tokio::sync::Mutex<Option<MultiplexedConnection>>,
    jobs: Mutex<Option<mpsc::UnboundedSender<Job>>>,
    leases: Arc<Leases>,
    lost: Mutex<Option<mpsc::UnboundedReceiver<String>>>,
    url: String,
    stats: RedisStats,
}

impl std::fmt::Debug for RedisLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisLog").field("url", &self.url).finish()
    }
}

pub(crate) fn unreachable(err: redis::RedisError) -> StorageError {
    StorageError::Backend(format!("redis: {err}"))
}

/// A connection whose requests time out rather than hang on a Redis that went away.
async fn connect(client: &redis::Client) -> Result<MultiplexedConnection, StorageError> {
    let config = redis::AsyncConnectionConfig::new()
        .set_connection_timeout(Some(Duration::from_secs(2)))
        .set_response_timeout(Some(Duration::from_secs(5)));
    client
        .get_multiplexed_async_connection_with_config(&config)
        .await
        .map_err(unreachable)
}

/// Refuses a Redis that would acknowledge writes before they are on disk: Concord acks an
/// update once Redis answered its append, so Redis must fsync before answering.
async fn require_fsync_always(conn: &mut MultiplexedConnection) -> Result<(), StorageError> {
    let conn = conn.clone();
    let setting = |name: &'static str| {
        let mut conn = conn.clone();
        async move {
            let pair: Result<Vec<String>, _> = redis::cmd("CONFIG")
                .arg("GET")
                .arg(name)
                .query_async(&mut conn)
                .await;
            pair.map(|pair| pair.get(1).cloned().unwrap_or_default())
        }
    };
    match (setting("appendonly").await, setting("appendfsync").await) {
        (Ok(only), Ok(fsync)) if only == "yes" && fsync == "always" => Ok(()),
        (Ok(only), Ok(fsync)) => Err(StorageError::Backend(format!(
            "redis runs with appendonly {only}, appendfsync {fsync}: Concord needs appendonly yes \
             and appendfsync always, or an acknowledged update could be lost when Redis dies"
        ))),
        // A managed Redis may hide CONFIG: its operator vouches for the setting.
        (Err(err), _) | (_, Err(err)) => {
            tracing::warn!(error = %err, "cannot read redis's durability settings; they must be \
                appendonly yes and appendfsync always");
            Ok(())
        }
    }
}

impl RedisLog {
    /// Connects to the Redis at `url` (checked at once: a node that cannot reach it does not
    /// start) and starts the writer and the lease keeper.
    pub async fn open(url: &str) -> Result<Self, StorageError> {
        Self::open_with_lease(url, LEASE).await
    }

    pub async fn open_with_lease(url: &str, lease: Duration) -> Result<Self, StorageError> {
        let client = redis::Client::open(url).map_err(unreachable)?;
        let mut conn = connect(&client).await?;
        require_fsync_always(&mut conn).await?;
        let node = crate::auth::random_id().map_err(|e| StorageError::Backend(e.to_string()))?;
        let (lost_tx, lost_rx) = mpsc::unbounded_channel();
        let stats = RedisStats::default();
        let leases = Arc::new(Leases::new(node, lease, lost_tx, stats.clone()));
        let (jobs, queue) = mpsc::unbounded_channel();
        let writer = Writer::new(client.clone(), Arc::clone(&leases), stats.clone());
        tokio::spawn(writer.run(queue));
        {
            let leases = Arc::clone(&leases);
            let client = client.clone();
            tokio::spawn(async move { leases.keep(client).await });
        }
        Ok(RedisLog {
            client,
            conn: tokio::sync::Mutex::new(Some(conn)),
            jobs: Mutex::new(Some(jobs)),
            leases,
            lost: Mutex::new(Some(lost_rx)),
            url: url.to_string(),
            stats,
        })
    }

    /// This node's address, as other nodes will forward to it.
    pub fn advertise(&self, address: String) {
        self.leases.advertise(address);
    }

    /// One of `mission`'s connections, counted across every node; `None` when it holds
    /// `limit` already. The slot is given back when dropped.
    pub async fn connection_slot(
        self: &Arc<Self>,
        mission: &str,
        limit: usize,
    ) -> Result<Option<ConnectionSlot>, StorageError> {
        let mut conn = self.connection().await?;
        // The node's liveness key may not be written yet (at start): write it now.
        let alive: Result<(), _> = redis::cmd("SET")
            .arg(keys::node(self.node()))
            .arg(1)
            .arg("PX")
            .arg(self.leases.ttl.as_millis() as u64)
            .arg("NX")
            .query_async(&mut conn)
            .await;
        if let Err(err) = alive {
            *self.conn.lock().await = None;
            return Err(unreachable(err));
        }
        let taken = shared::claim_connection(&mut conn, mission, self.node(), limit).await;
        self.keep_unless_broken(&taken).await;
        Ok(taken?.then(|| ConnectionSlot {
            log: Arc::clone(self),
            mission: mission.to_string(),
        }))
    }

    /// Round trips and lease changes, for `/metrics`.
    pub fn stats(&self) -> &RedisStats {
        &self.stats
    }

    /// This node's id in leases and logs.
    pub fn node(&self) -> &str {
        &self.leases.node
    }

    /// Documents whose lease another node took: their rooms here must close (taken once).
    pub fn take_lost_leases(&self) -> Option<mpsc::UnboundedReceiver<String>> {
        self.lost.lock().ok().and_then(|mut lost| lost.take())
    }

    /// Where `doc` is served: here (its lease taken if nobody held it) or at another node.
    pub async fn route(&self, doc: &str) -> Result<Route, StorageError> {
        let mut conn = self.connection().await?;
        let routed = self.leases.route(&mut conn, doc).await;
        self.keep_unless_broken(&routed).await;
        routed
    }

    /// The shared connection, made again if it broke.
    async fn connection(&self) -> Result<MultiplexedConnection, StorageError> {
        let mut slot = self.conn.lock().await;
        if let Some(conn) = slot.as_ref() {
            return Ok(conn.clone());
        }
        let conn = connect(&self.client).await?;
        *slot = Some(conn.clone());
        Ok(conn)
    }

    /// The document ids an index holds (`SMEMBERS` of a set, `HKEYS` of a hash), sorted.
    async fn document_names(
        &self,
        command: &'static str,
        key: String,
    ) -> Result<Vec<String>, StorageError> {
        let mut conn = self.connection().await?;
        let docs = redis::cmd(command)
            .arg(&key)
            .query_async(&mut conn)
            .await
            .map_err(unreachable);
        self.keep_unless_broken(&docs).await;
        let mut docs: Vec<String> = docs?;
        docs.sort();
        Ok(docs)
    }

    /// A request that failed makes the next one connect afresh (the connection may be what
    /// broke).
    async fn keep_unless_broken<T>(&self, result: &Result<T, StorageError>) {
        if result.is_err() {
            *self.conn.lock().await = None;
        }
    }

    fn submit(&self, job: Job) {
        let sender = self.jobs.lock().ok().and_then(|jobs| jobs.clone());
        let rejected = match sender {
            Some(sender) => sender.send(job).err().map(|e| e.0),
            None => Some(job),
        };
        if let Some(job) = rejected {
            job.complete(Err(StorageError::Closed));
        }
    }

    /// Verifies every audit chain (or `only`'s) stored in this Redis.
    pub async fn verify_audit(&self, only: Option<&str>) -> Result<Verification, StorageError> {
        let mut conn = self.connection().await?;
        let verified = read::verify(&mut conn, only).await;
        self.keep_unless_broken(&verified).await;
        verified
    }

    /// The document as stored (for `concord` commands that read it from outside a room).
    pub async fn read_stored(&self, doc: &str) -> Result<StoredDocument, StorageError> {
        let mut conn = self.connection().await?;
        let loaded = read::load_document(&mut conn, doc).await;
        self.keep_unless_broken(&loaded).await;
        Ok(loaded?.0)
    }

    /// The connection, for what every node shares (`shared.rs`); pass what was done with it
    /// to [`RedisLog::done_with`].
    pub async fn shared(&self) -> Result<MultiplexedConnection, StorageError> {
        self.connection().await
    }

    /// After a use of [`RedisLog::shared`]: a failure makes the next use connect afresh.
    pub async fn done_with<T>(&self, result: &Result<T, StorageError>) {
        self.keep_unless_broken(result).await;
    }

    /// A client for `concord` commands run beside the nodes (`token`, `revoke`).
    pub async fn connect_to(url: &str) -> Result<MultiplexedConnection, StorageError> {
        connect(&redis::Client::open(url).map_err(unreachable)?).await
    }
}

/// A connection counted against its mission across every node (see
/// [`RedisLog::connection_slot`]).
pub struct ConnectionSlot {
    log: Arc<RedisLog>,
    mission: String,
}

impl Drop for ConnectionSlot {
    fn drop(&mut self) {
        let (log, mission) = (Arc::clone(&self.log), std::mem::take(&mut self.mission));
        // A node that dies without giving it back has its counts dropped once its liveness
        // key expires.
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                let Ok(mut conn) = log.connection().await else {
                    return;
                };
                let released = shared::release_connection(&mut conn, &mission, log.node()).await;
                log.keep_unless_broken(&released).await;
            });
        }
    }
}

impl DocumentLog for RedisLog {
    fn load<'a>(&'a self, doc: &'a str) -> BoxFuture<'a, Result<StoredDocument, StorageError>> {
        Box::pin(async move {
            let mut conn = self.connection().await?;
            // The lease and a fencing number first: from here on, no earlier owner can
            // append, so what is read next is the whole log.
            let held = self.leases.hold(&mut conn, doc).await;
            self.keep_unless_broken(&held).await;
            held?;
            let loaded = read::load_document(&mut conn, doc).await;
            let (stored, head) = match loaded {
                Ok(loaded) => loaded,
                Err(err) => {
                    // The room retires, which gives the lease back.
                    *self.conn.lock().await = None;
                    return Err(err);
                }
            };
            let (tx, rx) = oneshot::channel();
            self.submit(Job::Reset {
                doc: doc.into(),
                head,
                done: Box::new(move |result| {
                    let _ = tx.send(result);
                }),
            });
            rx.await.map_err(|_| StorageError::Closed)??;
            Ok(stored)
        })
    }

    fn append(&self, doc: &str, entry: LogEntry, done: Completion) {
        self.submit(Job::Append {
            doc: doc.into(),
            entry,
            done,
        });
    }

    fn audit<'a>(
        &'a self,
        doc: &'a str,
        since_ms: u64,
    ) -> BoxFuture<'a, Result<Vec<AuditRecord>, StorageError>> {
        Box::pin(async move {
            let query = AuditQuery {
                since_ms,
                limit: usize::MAX,
                ..AuditQuery::default()
            };
            let page = self.audit_page(doc, &query).await?;
            Ok(page.into_iter().map(|(_, record)| record).collect())
        })
    }

    fn audit_page<'a>(
        &'a self,
        doc: &'a str,
        query: &'a AuditQuery,
    ) -> BoxFuture<'a, Result<Vec<(u64, AuditRecord)>, StorageError>> {
        Box::pin(async move {
            let mut conn = self.connection().await?;
            let page = read::audit_page(&mut conn, doc, query).await;
            self.keep_unless_broken(&page).await;
            page
        })
    }

    fn documents(&self) -> BoxFuture<'_, Result<Vec<String>, StorageError>> {
        Box::pin(self.document_names("SMEMBERS", keys::DOCUMENTS.to_string()))
    }

    fn documents_with_open_silences(&self) -> BoxFuture<'_, Result<Vec<String>, StorageError>> {
        Box::pin(self.document_names("HKEYS", keys::OPEN_SILENCES.to_string()))
    }

    fn documents_with_action<'a>(
        &'a self,
        action: &'a str,
    ) -> BoxFuture<'a, Result<Vec<String>, StorageError>> {
        Box::pin(self.document_names("SMEMBERS", keys::action(action)))
    }

    fn barrier(&self, done: Completion) {
        self.submit(Job::Barrier { done });
    }

    fn snapshot(&self, doc: &str, state: Vec<u8>, done: Completion) {
        self.submit(Job::Snapshot {
            doc: doc.into(),
            state,
            done,
        });
    }

    fn open_silences(&self, doc: &str, open: usize) {
        self.submit(Job::OpenSilences {
            doc: doc.into(),
            open,
            done: Box::new(move |result| {
                if let Err(err) = result {
                    tracing::warn!(error = %err, "cannot set the count of open silence procedures");
                }
            }),
        });
    }

    fn serves_here<'a>(&'a self, doc: &'a str) -> BoxFuture<'a, bool> {
        Box::pin(async move { matches!(self.route(doc).await, Ok(Route::Here)) })
    }

    fn release(&self, doc: &str) {
        self.leases.release(doc);
    }

    fn close(&self) -> BoxFuture<'_, Result<(), StorageError>> {
        Box::pin(async move {
            let (tx, rx) = oneshot::channel();
            self.barrier(Box::new(move |result| {
                let _ = tx.send(result);
            }));
            let flushed = rx.await.map_err(|_| StorageError::Closed)?;
            if let Ok(mut jobs) = self.jobs.lock() {
                jobs.take();
            }
            flushed.map(|_| ())
        })
    }
}
