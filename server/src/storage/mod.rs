//! The document log (docs/design.md section 5): every document is an append-only, totally ordered
//! log of accepted updates, compacted by snapshots.
//!
//! Rooms talk to storage only through [`DocumentLog`]. Appends report completion through a
//! callback rather than a future so that the room (one task per document, on the hot path) never
//! waits for a disk: it broadcasts at once, and the writer's `Ack` goes out from the callback
//! once the entry is durable.
//!
//! Two backends: SQLite in the data directory (one node, the default) and Redis Streams shared
//! by several nodes (`redis/`). Nothing in the trait assumes a local file.

pub mod redis;
pub mod sqlite;

use std::future::Future;
use std::pin::Pin;

use bytes::Bytes;

use crate::audit::AuditRecord;

/// A position in the log, increasing with every append.
pub type LogSeq = u64;

/// Called once, when the operation is durable (or has failed). Callbacks for one document fire in
/// the order the operations were issued.
pub type Completion = Box<dyn FnOnce(Result<LogSeq, StorageError>) + Send + 'static>;

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// What storage holds for one document: the newest snapshot and every update logged after it,
/// and which mission owns each client id that wrote in it.
#[derive(Debug, Default)]
pub struct StoredDocument {
    pub snapshot: Option<Vec<u8>>,
    pub updates: Vec<Vec<u8>>,
    pub owners: Vec<(u64, String)>,
}

/// One accepted update (a client's, or what a command wrote) and its audit record. Both are
/// stored in one transaction, with the client ids the record claims: there is never an update
/// without its record, nor a claim without the update that made it.
#[derive(Debug, Clone)]
pub struct LogEntry {
    pub update: Bytes,
    pub record: AuditRecord,
}

/// Which audit records to read: ending at or after `since_ms` (a run that began before it
/// counts when it reaches into it), after record number `after` (a page's cursor), by
/// `mission`, touching `paragraph`; at most `limit`.
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    pub since_ms: u64,
    pub after: u64,
    pub mission: Option<String>,
    pub paragraph: Option<String>,
    pub limit: usize,
}

impl StoredDocument {
    pub fn is_new(&self) -> bool {
        self.snapshot.is_none() && self.updates.is_empty()
    }
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum StorageError {
    #[error("storage failure: {0}")]
    Backend(String),
    #[error("storage is shut down")]
    Closed,
    /// Passing: the document is leaving this node (or the node is not listening yet); asking
    /// again shortly finds where it is served.
    #[error("{0}")]
    Moving(String),
}

/// The log every document lives in.
pub trait DocumentLog: Send + Sync + 'static {
    /// The newest snapshot of `doc` and the updates appended after it, in order. Sees every
    /// operation whose completion has fired.
    fn load<'a>(&'a self, doc: &'a str) -> BoxFuture<'a, Result<StoredDocument, StorageError>>;

    /// Appends an update and its audit record to the log of `doc`; `done` fires once both are
    /// durable.
    fn append(&self, doc: &str, entry: LogEntry, done: Completion);

    /// The audit records of `doc` ending at or after `since_ms`, oldest first.
    fn audit<'a>(
        &'a self,
        doc: &'a str,
        since_ms: u64,
    ) -> BoxFuture<'a, Result<Vec<AuditRecord>, StorageError>>;

    /// The records of `doc` that `query` selects, oldest first, each with its number in the
    /// document's chain.
    fn audit_page<'a>(
        &'a self,
        doc: &'a str,
        query: &'a AuditQuery,
    ) -> BoxFuture<'a, Result<Vec<(u64, AuditRecord)>, StorageError>>;

    /// Every document the log holds, by id.
    fn documents(&self) -> BoxFuture<'_, Result<Vec<String>, StorageError>>;

    /// The documents with at least one audit record of this action (`start-silence`), by id:
    /// what the server must look into at startup.
    fn documents_with_action<'a>(
        &'a self,
        action: &'a str,
    ) -> BoxFuture<'a, Result<Vec<String>, StorageError>>;

    /// With several nodes, the documents with a silence procedure still open, whichever node
    /// serves them (one node looks at its own documents' procedures as they load).
    fn documents_with_open_silences(&self) -> BoxFuture<'_, Result<Vec<String>, StorageError>> {
        Box::pin(async { Ok(Vec::new()) })
    }

    /// The room of `doc` loaded with `open` silence procedures still open: a backend shared
    /// by several nodes sets its count to that (it is moved by each start and conclusion, and
    /// set here from the document itself, so it cannot drift for good).
    fn open_silences(&self, _doc: &str, _open: usize) {}

    /// `done` fires once everything issued before it is durable.
    fn barrier(&self, done: Completion);

    /// Replaces everything issued for `doc` before this call with `state`, an update that
    /// contains all of it. Loading stays fast however long a document lives.
    fn snapshot(&self, doc: &str, state: Vec<u8>, done: Completion);

    /// Whether this node serves `doc` (with several nodes, it may be another's; asking may
    /// take it, if nobody serves it).
    fn serves_here<'a>(&'a self, _doc: &'a str) -> BoxFuture<'a, bool> {
        Box::pin(async { true })
    }

    /// A room of `doc` retired on this node (a backend shared by several nodes gives the
    /// document up, so that another node may serve it).
    fn release(&self, _doc: &str) {}

    /// Makes everything durable and stops accepting work.
    fn close(&self) -> BoxFuture<'_, Result<(), StorageError>>;
}
