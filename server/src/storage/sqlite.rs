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

use bytes::Bytes;
use rusqlite::{params, Connection, OptionalExtension};
use tokio::sync::oneshot;

use super::{BoxFuture, Completion, DocumentLog, LogSeq, StorageError, StoredDocument};

/// The schema version this code writes (`PRAGMA user_version`).
const SCHEMA_VERSION: i64 = 1;

/// How many queued operations one commit takes at most.
const MAX_BATCH: usize = 4096;

enum Job {
    Append {
        doc: Box<str>,
        update: Bytes,
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
            Job::Append { done, .. } | Job::Snapshot { done, .. } | Job::Barrier { done } => {
                done(result)
            }
        }
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
    Ok(())
}

fn write_loop(mut conn: Connection, jobs: std_mpsc::Receiver<Job>) {
    let mut batch = Vec::with_capacity(64);
    while let Ok(first) = jobs.recv() {
        batch.push(first);
        while batch.len() < MAX_BATCH {
            match jobs.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        match commit_batch(&mut conn, &batch) {
            Ok(seqs) => {
                for (job, seq) in batch.drain(..).zip(seqs) {
                    job.complete(Ok(seq));
                }
            }
            Err(err) => {
                tracing::error!(error = %err, jobs = batch.len(), "storage commit failed");
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

/// Writes one batch in one transaction; returns the log position each job reached.
fn commit_batch(conn: &mut Connection, batch: &[Job]) -> Result<Vec<LogSeq>, StorageError> {
    let txn = conn.transaction().map_err(backend)?;
    let mut seqs = Vec::with_capacity(batch.len());
    {
        let mut insert = txn
            .prepare_cached("INSERT INTO updates (doc, data) VALUES (?1, ?2)")
            .map_err(backend)?;
        let mut last_seq: LogSeq = 0;
        for job in batch {
            match job {
                Job::Append { doc, update, .. } => {
                    insert
                        .execute(params![&**doc, update.as_ref()])
                        .map_err(backend)?;
                    last_seq = txn.last_insert_rowid() as LogSeq;
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
                Job::Barrier { .. } => {}
            }
            seqs.push(last_seq);
        }
    }
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
    Ok(StoredDocument {
        snapshot: snapshot.map(|(_, data)| data),
        updates,
    })
}

impl DocumentLog for SqliteLog {
    fn load<'a>(&'a self, doc: &'a str) -> BoxFuture<'a, Result<StoredDocument, StorageError>> {
        let reader = Arc::clone(&self.reader);
        let doc = doc.to_owned();
        Box::pin(async move {
            tokio::task::spawn_blocking(move || {
                let conn = reader.lock().map_err(|_| backend("reader lock poisoned"))?;
                load_document(&conn, &doc)
            })
            .await
            .map_err(backend)?
        })
    }

    fn append(&self, doc: &str, update: Bytes, done: Completion) {
        self.submit(Job::Append {
            doc: doc.into(),
            update,
            done,
        });
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

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "concord-sqlite-{name}-{}-{}",
            std::process::id(),
            fastrand::u64(..)
        ));
        std::fs::create_dir_all(&dir).expect("temp dir");
        dir
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
            wait(|d| log.append("a", Bytes::from(vec![i]), d))
                .await
                .expect("append");
        }
        wait(|d| log.append("b", Bytes::from_static(b"other"), d))
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
        wait(|d| log.append("a", Bytes::from_static(b"after"), d))
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
            wait(|d| reopened.append("a", Bytes::new(), d)).await,
            Err(StorageError::Closed)
        ));
        std::fs::remove_dir_all(dir).ok();
    }
}
