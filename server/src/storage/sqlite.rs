//! The embedded backend: one SQLite database in the data directory.
//!
//! Writes go through one dedicated thread that group-commits: it takes every operation waiting
//! in its queue, writes them in one transaction, and commits with `synchronous=FULL` (an fsync of
//! the write-ahead log) before firing their completions. Under load, many keystrokes from many
//! documents share one fsync; when idle, a lone update is committed at once.
//!
//! Reads use their own connection (WAL readers never block the writer). A room only unloads
//! after a barrier, so a load never misses an operation that was issued before it.

use std::path::{Path, PathBuf};
use std::sync::mpsc as std_mpsc;
use std::sync::{Arc, Mutex};
use std::thread;

use rusqlite::{params, Connection, OptionalExtension};
use tokio::sync::oneshot;

use super::{BoxFuture, Completion, DocumentLog, LogEntry, LogSeq, StorageError, StoredDocument};
use crate::audit::{self, AuditRecord, Hash, Verification};

/// The schema version this code writes (`PRAGMA user_version`).
const SCHEMA_VERSION: i64 = 3;

/// How many queued operations one commit takes at most.
const MAX_BATCH: usize = 4096;

enum Job {
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
    /// A document is being loaded afresh: writes for it are accepted again (see `write_loop`).
    Reset {
        doc: Box<str>,
        done: Completion,
    },
}

pub struct SqliteLog {
    jobs: Mutex<Option<std_mpsc::Sender<Job>>>,
    reader: Arc<Mutex<Connection>>,
    writer: Mutex<Option<thread::JoinHandle<()>>>,
    path: PathBuf,
}

impl std::fmt::Debug for SqliteLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteLog")
            .field("path", &self.path)
            .finish()
    }
}

fn backend(err: impl std::fmt::Display) -> StorageError {
    StorageError::Backend(err.to_string())
}

impl SqliteLog {
    /// Opens (creating if needed) `concord.db` in `data_dir`.
    pub fn open(data_dir: &Path) -> Result<Self, StorageError> {
        std::fs::create_dir_all(data_dir).map_err(backend)?;
        let path = data_dir.join("concord.db");
        refuse_emptied_store(&path)?;
        let writer_conn = Connection::open(&path).map_err(backend)?;
        // Other processes (`concord revoke`) write to the same file now and then: wait for
        // their short transactions instead of failing with SQLITE_BUSY.
        writer_conn
            .busy_timeout(std::time::Duration::from_secs(5))
            .map_err(backend)?;
        writer_conn
            .execute_batch(
                "PRAGMA journal_mode=WAL;
                 PRAGMA synchronous=FULL;
                 PRAGMA foreign_keys=ON;
                 PRAGMA cache_size=-512;",
            )
            .map_err(backend)?;
        check_integrity(&writer_conn, &path)?;
        migrate(&writer_conn)?;
        let reader = Connection::open(&path).map_err(backend)?;
        reader
            .busy_timeout(std::time::Duration::from_secs(5))
            .map_err(backend)?;
        // Loads read a document once and keep it in memory: a small page cache is enough.
        reader
            .execute_batch("PRAGMA journal_mode=WAL; PRAGMA cache_size=-512;")
            .map_err(backend)?;

        let (tx, rx) = std_mpsc::channel();
        let writer = thread::Builder::new()
            .name("concord-storage".into())
            .spawn(move || write_loop(writer_conn, rx))
            .map_err(backend)?;
        Ok(SqliteLog {
            jobs: Mutex::new(Some(tx)),
            reader: Arc::new(Mutex::new(reader)),
            writer: Mutex::new(Some(writer)),
            path,
        })
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
}

impl Job {
    fn complete(self, result: Result<LogSeq, StorageError>) {
        match self {
            Job::Append { done, .. }
            | Job::Snapshot { done, .. }
            | Job::Barrier { done }
            | Job::Reset { done, .. } => done(result),
        }
    }
}

/// SQLite takes a 0-byte file for a new, empty database. A store that was written to and is now
/// empty lost everything (a truncation, a bad copy): starting on it would serve empty documents
/// and then write over the evidence. Only a missing file means "new".
fn refuse_emptied_store(path: &Path) -> Result<(), StorageError> {
    match std::fs::metadata(path) {
        Ok(meta) if meta.len() == 0 => Err(StorageError::Backend(format!(
            "{} is empty (0 bytes): refusing to serve a damaged store; restore it from a \
             backup, or remove it to start with no documents",
            path.display()
        ))),
        _ => Ok(()),
    }
}

/// Refuses a store SQLite finds damaged, before anything is served from it or written to it.
fn check_integrity(conn: &Connection, path: &Path) -> Result<(), StorageError> {
    let damaged = |detail: String| {
        StorageError::Backend(format!(
            "{} is damaged ({detail}): refusing to serve it; restore it from a backup",
            path.display()
        ))
    };
    let mut statement = conn
        .prepare("PRAGMA quick_check")
        .map_err(|e| damaged(e.to_string()))?;
    let findings = statement
        .query_map([], |row| row.get::<_, String>(0))
        .map_err(|e| damaged(e.to_string()))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| damaged(e.to_string()))?;
    match findings.as_slice() {
        [ok] if ok == "ok" => Ok(()),
        _ => Err(damaged(findings.join("; "))),
    }
}

fn migrate(conn: &Connection) -> Result<(), StorageError> {
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |row| row.get(0))
        .map_err(backend)?;
    if version > SCHEMA_VERSION {
        return Err(StorageError::Backend(format!(
            "database schema {version} is newer than this server understands ({SCHEMA_VERSION})"
        )));
    }
    if version < 1 {
        conn.execute_batch(
            "BEGIN;
             CREATE TABLE IF NOT EXISTS updates (
                 seq  INTEGER PRIMARY KEY AUTOINCREMENT,
                 doc  TEXT NOT NULL,
                 data BLOB NOT NULL
             );
             CREATE INDEX IF NOT EXISTS updates_by_doc ON updates (doc, seq);
             CREATE TABLE IF NOT EXISTS snapshots (
                 doc  TEXT PRIMARY KEY,
                 upto INTEGER NOT NULL,
                 data BLOB NOT NULL
             );
             PRAGMA user_version = 1;
             COMMIT;",
        )
        .map_err(backend)?;
    }
    if version < 2 {
        // The audit chain (one per document, `n` counting from 1), its heads, and client-id
        // ownership. Never compacted: snapshots replace updates, not their records.
        conn.execute_batch(
            "BEGIN;
             CREATE TABLE IF NOT EXISTS audit (
                 doc         TEXT NOT NULL,
                 n           INTEGER NOT NULL,
                 at_ms       INTEGER NOT NULL,
                 person      TEXT NOT NULL,
                 mission     TEXT NOT NULL,
                 action      TEXT NOT NULL,
                 paragraphs  TEXT NOT NULL,
                 deleted     TEXT NOT NULL,
                 claims      TEXT NOT NULL,
                 update_hash BLOB NOT NULL,
                 prev        BLOB NOT NULL,
                 hash        BLOB NOT NULL,
                 PRIMARY KEY (doc, n)
             );
             CREATE INDEX IF NOT EXISTS audit_by_time ON audit (doc, at_ms);
             CREATE TABLE IF NOT EXISTS audit_heads (
                 doc  TEXT PRIMARY KEY,
                 n    INTEGER NOT NULL,
                 hash BLOB NOT NULL
             );
             CREATE TABLE IF NOT EXISTS client_ids (
                 doc     TEXT NOT NULL,
                 client  INTEGER NOT NULL,
                 mission TEXT NOT NULL,
                 PRIMARY KEY (doc, client)
             );
             PRAGMA user_version = 2;
             COMMIT;",
        )
        .map_err(backend)?;
    }
    if version < 3 {
        // Until version 3, the client id a room writes commands under was stored as owned by
        // the mission whose command came first. Command records (every action but `update`)
        // only ever claimed the server's own ids: give them back to the server.
        conn.execute_batch(
            "BEGIN;
             UPDATE client_ids SET mission = 'concord:server'
             WHERE EXISTS (
                 SELECT 1 FROM audit, json_each(audit.claims) AS claim
                 WHERE audit.doc = client_ids.doc
                   AND audit.action != 'update'
                   AND claim.type = 'integer'
                   AND claim.value = client_ids.client
             );
             PRAGMA user_version = 3;
             COMMIT;",
        )
        .map_err(backend)?;
    }
    Ok(())
}

/// The last record of each document's audit chain, as the writer last committed it.
type Heads = std::collections::HashMap<Box<str>, (u64, Hash)>;

fn head(
    txn: &rusqlite::Transaction<'_>,
    heads: &mut Heads,
    doc: &str,
) -> Result<(u64, Hash), StorageError> {
    if let Some(head) = heads.get(doc) {
        return Ok(*head);
    }
    let stored = stored_head(txn, doc)?;
    let head = match stored {
        Some((n, hash)) => (
            n as u64,
            hash.try_into()
                .map_err(|_| backend(format!("audit head of {doc} is not a hash")))?,
        ),
        None => (0, [0; 32]),
    };
    heads.insert(doc.into(), head);
    Ok(head)
}

/// Stores the chain heads of the documents a batch extended (once per document per batch, in
/// the batch's transaction: a head never disagrees with the records committed with it).
fn store_heads(
    txn: &rusqlite::Transaction<'_>,
    heads: &Heads,
    extended: &std::collections::HashSet<&str>,
) -> Result<(), StorageError> {
    for doc in extended {
        if let Some((n, hash)) = heads.get(*doc) {
            txn.prepare_cached(
                "INSERT INTO audit_heads (doc, n, hash) VALUES (?1, ?2, ?3)
                 ON CONFLICT (doc) DO UPDATE SET n = excluded.n, hash = excluded.hash",
            )
            .and_then(|mut upsert| upsert.execute(params![doc, *n as i64, &hash[..]]))
            .map_err(backend)?;
        }
    }
    Ok(())
}

/// The head of `doc`'s chain as stored: the last record's number and hash.
fn stored_head(conn: &Connection, doc: &str) -> Result<Option<(i64, Vec<u8>)>, StorageError> {
    conn.query_row(
        "SELECT n, hash FROM audit_heads WHERE doc = ?1",
        params![doc],
        |row| Ok((row.get(0)?, row.get(1)?)),
    )
    .optional()
    .map_err(backend)
}

/// Writes the audit record of an appended update (and its claims), extending the chain.
fn write_record(
    txn: &rusqlite::Transaction<'_>,
    heads: &mut Heads,
    doc: &str,
    entry: &LogEntry,
) -> Result<(), StorageError> {
    let (last, prev) = head(txn, heads, doc)?;
    let n = last + 1;
    let record = &entry.record;
    let (paragraphs, deleted, claims) = audit::stored_lists(record);
    let update_hash = audit::update_hash(&entry.update);
    let hash = audit::chain_hash(
        doc,
        n,
        record.at_ms,
        &record.person,
        &record.mission,
        &record.action,
        &paragraphs,
        &deleted,
        &claims,
        &update_hash,
        &prev,
    );
    txn.prepare_cached(
        "INSERT INTO audit (doc, n, at_ms, person, mission, action, paragraphs, deleted, claims,
                            update_hash, prev, hash)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
    )
    .and_then(|mut insert| {
        insert.execute(params![
            doc,
            n as i64,
            record.at_ms as i64,
            record.person,
            record.mission,
            record.action,
            paragraphs,
            deleted,
            claims,
            &update_hash[..],
            &prev[..],
            &hash[..]
        ])
    })
    .map_err(backend)?;
    for claim in &record.claims {
        txn.prepare_cached(
            "INSERT OR IGNORE INTO client_ids (doc, client, mission) VALUES (?1, ?2, ?3)",
        )
        .and_then(|mut insert| insert.execute(params![doc, claim.client as i64, claim.mission]))
        .map_err(backend)?;
    }
    heads.insert(doc.into(), (n, hash));
    Ok(())
}

/// Walks every audit chain in the database at `data_dir` (read-only).
pub fn verify_audit(data_dir: &Path, only: Option<&str>) -> Result<Verification, StorageError> {
    let path = data_dir.join("concord.db");
    if !path.exists() {
        return Err(backend(format!("no database at {}", path.display())));
    }
    let conn = Connection::open_with_flags(&path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .map_err(backend)?;
    conn.busy_timeout(std::time::Duration::from_secs(5))
        .map_err(backend)?;
    let mut docs: Vec<String> = conn
        .prepare("SELECT doc FROM audit UNION SELECT doc FROM audit_heads ORDER BY 1")
        .and_then(|mut s| {
            s.query_map([], |row| row.get(0))?
                .collect::<Result<Vec<String>, _>>()
        })
        .map_err(backend)?;
    if let Some(only) = only {
        docs.retain(|d| d == only);
    }
    let mut report = Verification::default();
    for doc in docs {
        report.documents += 1;
        verify_chain(&conn, &doc, &mut report)?;
    }
    Ok(report)
}

fn verify_chain(
    conn: &Connection,
    doc: &str,
    report: &mut Verification,
) -> Result<(), StorageError> {
    type Row = (
        i64,
        i64,
        String,
        String,
        String,
        String,
        String,
        String,
        Vec<u8>,
        Vec<u8>,
        Vec<u8>,
    );
    let mut statement = conn
        .prepare(
            "SELECT n, at_ms, person, mission, action, paragraphs, deleted, claims,
                    update_hash, prev, hash
             FROM audit WHERE doc = ?1 ORDER BY n",
        )
        .map_err(backend)?;
    let rows = statement
        .query_map(params![doc], |row| {
            Ok((
                row.get(0)?,
                row.get(1)?,
                row.get(2)?,
                row.get(3)?,
                row.get(4)?,
                row.get(5)?,
                row.get(6)?,
                row.get(7)?,
                row.get(8)?,
                row.get(9)?,
                row.get(10)?,
            ))
        })
        .map_err(backend)?;
    let mut expected_n = 1i64;
    let mut prev: Vec<u8> = vec![0; 32];
    for row in rows {
        let (
            n,
            at_ms,
            person,
            mission,
            action,
            paragraphs,
            deleted,
            claims,
            update_hash,
            stored_prev,
            hash,
        ): Row = row.map_err(backend)?;
        report.records += 1;
        if n != expected_n {
            report.problems.push(format!(
                "{doc}: record {expected_n} is missing (next is {n})"
            ));
        }
        if stored_prev != prev {
            report.problems.push(format!(
                "{doc}: record {n} does not follow the record before it"
            ));
        }
        let recomputed = audit::chain_hash(
            doc,
            n as u64,
            at_ms as u64,
            &person,
            &mission,
            &action,
            &paragraphs,
            &deleted,
            &claims,
            &update_hash,
            &stored_prev,
        );
        if recomputed[..] != hash[..] {
            report.problems.push(format!(
                "{doc}: record {n} was altered (its hash does not match)"
            ));
        }
        expected_n = n + 1;
        prev = hash;
    }
    let head = stored_head(conn, doc)?;
    match head {
        Some((n, hash)) if n == expected_n - 1 && hash == prev => {}
        Some((n, _)) => report.problems.push(format!(
            "{doc}: the chain ends at record {} but its head says {n}",
            expected_n - 1
        )),
        None => report
            .problems
            .push(format!("{doc}: the chain has no head record")),
    }
    Ok(())
}

fn write_loop(mut conn: Connection, jobs: std_mpsc::Receiver<Job>) {
    let mut batch = Vec::with_capacity(64);
    let mut heads = Heads::new();
    // Documents whose write failed. Their later writes were issued on top of what is now lost
    // (the next keystrokes of the same client), so they are refused too, until the document is
    // loaded afresh: the log never holds an update without those before it.
    let mut failed: std::collections::HashSet<Box<str>> = std::collections::HashSet::new();
    while let Ok(first) = jobs.recv() {
        batch.push(first);
        while batch.len() < MAX_BATCH {
            match jobs.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        batch.retain_mut(|job| true_unless_refused(job, &mut failed));
        let batch_docs: Vec<Box<str>> = batch
            .iter()
            .filter_map(|job| match job {
                Job::Append { doc, .. } | Job::Snapshot { doc, .. } => Some(doc.clone()),
                _ => None,
            })
            .collect();
        match commit_batch(&mut conn, &mut heads, &batch) {
            Ok(seqs) => {
                for (job, seq) in batch.drain(..).zip(seqs) {
                    job.complete(Ok(seq));
                }
            }
            Err(err) => {
                tracing::error!(error = %err, jobs = batch.len(), "storage commit failed");
                // The cached chain heads ran ahead of what was committed: re-read them.
                heads.clear();
                failed.extend(batch_docs);
                for job in batch.drain(..) {
                    job.complete(Err(err.clone()));
                }
            }
        }
    }
    // Every sender is gone: the queue is drained and committed.
    if let Err(err) = conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);") {
        tracing::warn!(error = %err, "final checkpoint failed");
    }
}

/// Settles the jobs that need no transaction; keeps the rest. A write for a document whose
/// earlier write failed is refused (see `write_loop`); a reset lifts that.
fn true_unless_refused(job: &mut Job, failed: &mut std::collections::HashSet<Box<str>>) -> bool {
    match job {
        Job::Reset { doc, done } => {
            failed.remove(doc);
            let done = std::mem::replace(done, Box::new(|_| {}));
            done(Ok(0));
            false
        }
        Job::Append { doc, done, .. } | Job::Snapshot { doc, done, .. } if failed.contains(doc) => {
            let done = std::mem::replace(done, Box::new(|_| {}));
            done(Err(StorageError::Backend(format!(
                "an earlier write of {doc} failed; it must be reloaded first"
            ))));
            false
        }
        _ => true,
    }
}

/// Writes one batch in one transaction; returns the log position each job reached.
fn commit_batch(
    conn: &mut Connection,
    heads: &mut Heads,
    batch: &[Job],
) -> Result<Vec<LogSeq>, StorageError> {
    let txn = conn.transaction().map_err(backend)?;
    let mut seqs = Vec::with_capacity(batch.len());
    let mut extended = std::collections::HashSet::new();
    {
        let mut insert = txn
            .prepare_cached("INSERT INTO updates (doc, data) VALUES (?1, ?2)")
            .map_err(backend)?;
        let mut last_seq: LogSeq = 0;
        for job in batch {
            match job {
                Job::Append { doc, entry, .. } => {
                    insert
                        .execute(params![&**doc, entry.update.as_ref()])
                        .map_err(backend)?;
                    last_seq = txn.last_insert_rowid() as LogSeq;
                    write_record(&txn, heads, doc, entry)?;
                    extended.insert(&**doc);
                }
                Job::Snapshot { doc, state, .. } => {
                    // Everything issued for this document before the snapshot is in the table
                    // (earlier batches committed, this batch's earlier jobs inserted above).
                    let upto: Option<i64> = txn
                        .query_row(
                            "SELECT max(seq) FROM updates WHERE doc = ?1",
                            params![&**doc],
                            |row| row.get(0),
                        )
                        .optional()
                        .map_err(backend)?
                        .flatten();
                    let previous: Option<i64> = txn
                        .query_row(
                            "SELECT upto FROM snapshots WHERE doc = ?1",
                            params![&**doc],
                            |row| row.get(0),
                        )
                        .optional()
                        .map_err(backend)?;
                    let upto = upto.or(previous).unwrap_or(0);
                    txn.execute(
                        "INSERT INTO snapshots (doc, upto, data) VALUES (?1, ?2, ?3)
                         ON CONFLICT (doc) DO UPDATE SET upto = excluded.upto, data = excluded.data",
                        params![&**doc, upto, state],
                    )
                    .map_err(backend)?;
                    txn.execute(
                        "DELETE FROM updates WHERE doc = ?1 AND seq <= ?2",
                        params![&**doc, upto],
                    )
                    .map_err(backend)?;
                    last_seq = upto as LogSeq;
                }
                Job::Barrier { .. } | Job::Reset { .. } => {}
            }
            seqs.push(last_seq);
        }
    }
    store_heads(&txn, heads, &extended)?;
    txn.commit().map_err(backend)?;
    Ok(seqs)
}

fn load_document(conn: &Connection, doc: &str) -> Result<StoredDocument, StorageError> {
    let snapshot: Option<(i64, Vec<u8>)> = conn
        .query_row(
            "SELECT upto, data FROM snapshots WHERE doc = ?1",
            params![doc],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .optional()
        .map_err(backend)?;
    let after = snapshot.as_ref().map_or(0, |(upto, _)| *upto);
    let mut statement = conn
        .prepare_cached("SELECT data FROM updates WHERE doc = ?1 AND seq > ?2 ORDER BY seq")
        .map_err(backend)?;
    let updates = statement
        .query_map(params![doc, after], |row| row.get::<_, Vec<u8>>(0))
        .map_err(backend)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(backend)?;
    let mut owners = conn
        .prepare_cached("SELECT client, mission FROM client_ids WHERE doc = ?1")
        .map_err(backend)?;
    let owners = owners
        .query_map(params![doc], |row| {
            Ok((row.get::<_, i64>(0)? as u64, row.get::<_, String>(1)?))
        })
        .map_err(backend)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(backend)?;
    Ok(StoredDocument {
        snapshot: snapshot.map(|(_, data)| data),
        updates,
        owners,
    })
}

fn read_audit(
    conn: &Connection,
    doc: &str,
    since_ms: u64,
) -> Result<Vec<AuditRecord>, StorageError> {
    let mut statement = conn
        .prepare_cached(
            "SELECT at_ms, person, mission, action, paragraphs, deleted, claims
             FROM audit WHERE doc = ?1 AND at_ms >= ?2 ORDER BY n",
        )
        .map_err(backend)?;
    let rows = statement
        .query_map(params![doc, since_ms.min(i64::MAX as u64) as i64], |row| {
            Ok((
                row.get::<_, i64>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, String>(2)?,
                row.get::<_, String>(3)?,
                row.get::<_, String>(4)?,
                row.get::<_, String>(5)?,
                row.get::<_, String>(6)?,
            ))
        })
        .map_err(backend)?;
    let mut records = Vec::new();
    for row in rows {
        let (at_ms, person, mission, action, paragraphs, deleted, claims) = row.map_err(backend)?;
        let parse = |what: &str, json: &str| {
            backend(format!(
                "audit record of {doc} has unreadable {what}: {json}"
            ))
        };
        let owned_claims =
            audit::parse_claims(&claims, &mission).map_err(|_| parse("claims", &claims))?;
        records.push(AuditRecord {
            at_ms: at_ms as u64,
            person,
            mission,
            action,
            paragraphs: serde_json::from_str(&paragraphs)
                .map_err(|_| parse("paragraphs", &paragraphs))?,
            deleted: serde_json::from_str(&deleted).map_err(|_| parse("deletions", &deleted))?,
            claims: owned_claims,
        });
    }
    Ok(records)
}

impl DocumentLog for SqliteLog {
    fn load<'a>(&'a self, doc: &'a str) -> BoxFuture<'a, Result<StoredDocument, StorageError>> {
        let reader = Arc::clone(&self.reader);
        let doc = doc.to_owned();
        Box::pin(async move {
            // A fresh load starts from what is durable: writes for it may be accepted again.
            let (tx, rx) = oneshot::channel();
            self.submit(Job::Reset {
                doc: doc.as_str().into(),
                done: Box::new(move |result| {
                    let _ = tx.send(result);
                }),
            });
            rx.await.map_err(|_| StorageError::Closed)??;
            tokio::task::spawn_blocking(move || {
                let conn = reader.lock().map_err(|_| backend("reader lock poisoned"))?;
                load_document(&conn, &doc)
            })
            .await
            .map_err(backend)?
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
        let reader = Arc::clone(&self.reader);
        let doc = doc.to_owned();
        Box::pin(async move {
            tokio::task::spawn_blocking(move || {
                let conn = reader.lock().map_err(|_| backend("reader lock poisoned"))?;
                read_audit(&conn, &doc, since_ms)
            })
            .await
            .map_err(backend)?
        })
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

    fn close(&self) -> BoxFuture<'_, Result<(), StorageError>> {
        Box::pin(async move {
            let (tx, rx) = oneshot::channel();
            self.barrier(Box::new(move |result| {
                let _ = tx.send(result);
            }));
            let flushed = rx.await.map_err(|_| StorageError::Closed)?;
            // Dropping the only sender ends the writer thread after its final checkpoint.
            if let Ok(mut jobs) = self.jobs.lock() {
                jobs.take();
            }
            let writer = self.writer.lock().ok().and_then(|mut w| w.take());
            if let Some(writer) = writer {
                tokio::task::spawn_blocking(move || writer.join())
                    .await
                    .map_err(backend)?
                    .map_err(|_| backend("storage thread panicked"))?;
            }
            flushed.map(|_| ())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "concord-sqlite-{name}-{}-{}",
            std::process::id(),
            fastrand::u64(..)
        ));
        std::fs::create_dir_all(&dir).expect("temp dir");
        dir
    }

    fn entry(update: Bytes) -> LogEntry {
        LogEntry {
            update,
            record: AuditRecord {
                at_ms: 1,
                person: "ana".into(),
                mission: "MEX".into(),
                action: "update".into(),
                ..AuditRecord::default()
            },
        }
    }

    async fn wait(issue: impl FnOnce(Completion)) -> Result<LogSeq, StorageError> {
        let (tx, rx) = oneshot::channel();
        issue(Box::new(move |r| {
            let _ = tx.send(r);
        }));
        rx.await.expect("completion fires")
    }

    #[tokio::test]
    async fn appends_snapshots_and_loads_in_order() {
        let dir = temp_dir("order");
        let log = SqliteLog::open(&dir).expect("open");
        for i in 0..5u8 {
            wait(|d| log.append("a", entry(Bytes::from(vec![i])), d))
                .await
                .expect("append");
        }
        wait(|d| log.append("b", entry(Bytes::from_static(b"other")), d))
            .await
            .expect("append");
        let loaded = log.load("a").await.expect("load");
        assert_eq!(loaded.snapshot, None);
        assert_eq!(
            loaded.updates,
            vec![vec![0], vec![1], vec![2], vec![3], vec![4]]
        );

        wait(|d| log.snapshot("a", b"state".to_vec(), d))
            .await
            .expect("snapshot");
        wait(|d| log.append("a", entry(Bytes::from_static(b"after")), d))
            .await
            .expect("append");
        let loaded = log.load("a").await.expect("load");
        assert_eq!(loaded.snapshot.as_deref(), Some(&b"state"[..]));
        assert_eq!(loaded.updates, vec![b"after".to_vec()]);
        assert_eq!(
            log.load("b").await.expect("load").updates,
            vec![b"other".to_vec()]
        );
        assert!(log.load("c").await.expect("load").is_new());
        log.close().await.expect("close");

        // Reopening finds everything; work after close is refused, not lost silently.
        let reopened = SqliteLog::open(&dir).expect("reopen");
        assert_eq!(
            reopened.load("a").await.expect("load").updates,
            vec![b"after".to_vec()]
        );
        reopened.close().await.expect("close");
        assert!(matches!(
            wait(|d| reopened.append("a", entry(Bytes::new()), d)).await,
            Err(StorageError::Closed)
        ));
        std::fs::remove_dir_all(dir).ok();
    }
}
