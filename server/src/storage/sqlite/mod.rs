//! The embedded backend: one SQLite database in the data directory.
//!
//! Writes go through one dedicated thread that group-commits (`writer.rs`); the file, its
//! checks and migrations are `schema.rs`; reads are `read.rs`.
//!
//! Reads use their own connection (WAL readers never block the writer). A room only unloads
//! after a barrier, so a load never misses an operation that was issued before it.

mod read;
pub(crate) mod schema;
#[cfg(test)]
mod tests;
mod writer;

use std::path::{Path, PathBuf};
use std::sync::mpsc as std_mpsc;
use std::sync::{Arc, Mutex};
use std::thread;

use rusqlite::Connection;
use tokio::sync::oneshot;

use read::{load_document, read_audit};
pub use read::{read_stored, read_stored_audit, verify_audit};
use schema::{check_integrity, migrate, refuse_emptied_store, DB_FILE};
use writer::{write_loop, Job};

use super::{
    AuditQuery, BoxFuture, Completion, DocumentLog, LogEntry, StorageError, StoredDocument,
};
use crate::audit::AuditRecord;

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

pub(crate) fn backend(err: impl std::fmt::Display) -> StorageError {
    StorageError::Backend(err.to_string())
}

impl SqliteLog {
    /// Opens (creating if needed) `concord.db` in `data_dir`.
    pub fn open(data_dir: &Path) -> Result<Self, StorageError> {
        std::fs::create_dir_all(data_dir).map_err(backend)?;
        let path = data_dir.join(DB_FILE);
        refuse_emptied_store(&path)?;
        let writer_conn = schema::open_file(&path)?;
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

    fn audit_page<'a>(
        &'a self,
        doc: &'a str,
        query: &'a AuditQuery,
    ) -> BoxFuture<'a, Result<Vec<(u64, AuditRecord)>, StorageError>> {
        let reader = Arc::clone(&self.reader);
        let (doc, query) = (doc.to_owned(), query.clone());
        Box::pin(async move {
            tokio::task::spawn_blocking(move || {
                let conn = reader.lock().map_err(|_| backend("reader lock poisoned"))?;
                read::read_audit_page(&conn, &doc, &query)
            })
            .await
            .map_err(backend)?
        })
    }

    fn documents(&self) -> BoxFuture<'_, Result<Vec<String>, StorageError>> {
        let reader = Arc::clone(&self.reader);
        Box::pin(async move {
            tokio::task::spawn_blocking(move || {
                let conn = reader.lock().map_err(|_| backend("reader lock poisoned"))?;
                read::read_documents(&conn)
            })
            .await
            .map_err(backend)?
        })
    }

    fn documents_with_action<'a>(
        &'a self,
        action: &'a str,
    ) -> BoxFuture<'a, Result<Vec<String>, StorageError>> {
        let reader = Arc::clone(&self.reader);
        let action = action.to_string();
        Box::pin(async move {
            tokio::task::spawn_blocking(move || {
                let conn = reader.lock().map_err(|_| backend("reader lock poisoned"))?;
                read::read_documents_with_action(&conn, &action)
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
