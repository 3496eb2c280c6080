//! The writer thread: it takes every operation waiting in its queue, writes them in one
//! transaction and commits with `synchronous=FULL` (an fsync of the write-ahead log) before
//! firing their completions, in order. Under load, many keystrokes from many documents share
//! one fsync; when idle, a lone update is committed at once. Audit records are sealed by
//! [`crate::audit`]; this file only stores them.

use std::sync::mpsc as std_mpsc;

use rusqlite::{params, Connection, OptionalExtension};

use super::backend;
use super::read::stored_head;
use crate::audit::{Head, OpenRun, SealedRecord, RUN_GAP_MS};
use crate::storage::{Completion, LogEntry, LogSeq, StorageError};

/// How many queued operations one commit takes at most.
const MAX_BATCH: usize = 4096;

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
    /// A document is being loaded afresh: writes for it are accepted again (see `write_loop`).
    Reset {
        doc: Box<str>,
        done: Completion,
    },
}

impl Job {
    pub(super) fn complete(self, result: Result<LogSeq, StorageError>) {
        match self {
            Job::Append { done, .. }
            | Job::Snapshot { done, .. }
            | Job::Barrier { done }
            | Job::Reset { done, .. } => done(result),
        }
    }
}

/// Where each document's audit chain ends, as the writer last committed it: the last
/// record's number and hash, and that record while its writer's next updates may join it.
#[derive(Default)]
struct ChainEnd {
    head: Head,
    run: Option<OpenRun>,
}

type Heads = std::collections::HashMap<Box<str>, ChainEnd>;

/// The end of `doc`'s chain (read from the database once, then kept). A run is only ever
/// extended by the writer that started it: after a restart, the next update opens a new one.
fn chain_end<'h>(
    txn: &rusqlite::Transaction<'_>,
    heads: &'h mut Heads,
    doc: &str,
) -> Result<&'h mut ChainEnd, StorageError> {
    if !heads.contains_key(doc) {
        let head = match stored_head(txn, doc)? {
            Some((n, hash)) => (
                n as u64,
                hash.try_into()
                    .map_err(|_| backend(format!("audit head of {doc} is not a hash")))?,
            ),
            None => (0, [0; 32]),
        };
        heads.insert(doc.into(), ChainEnd { head, run: None });
    }
    heads
        .get_mut(doc)
        .ok_or_else(|| backend(format!("audit head of {doc} vanished")))
}

/// Stores the chain heads of the documents a batch extended (once per document per batch, in
/// the batch's transaction: a head never disagrees with the records committed with it).
fn store_heads(
    txn: &rusqlite::Transaction<'_>,
    heads: &Heads,
    extended: &std::collections::HashSet<&str>,
) -> Result<(), StorageError> {
    for doc in extended {
        if let Some(ChainEnd {
            head: (n, hash), ..
        }) = heads.get(*doc)
        {
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

/// Writes the audit record of an appended update (and its claims), extending the chain: the
/// open run of the chain's last record when the update joins it (the record is rewritten),
/// else a new record.
fn write_record(
    txn: &rusqlite::Transaction<'_>,
    heads: &mut Heads,
    doc: &str,
    entry: &LogEntry,
) -> Result<(), StorageError> {
    let end = chain_end(txn, heads, doc)?;
    let extended = end.head;
    let joined = match &mut end.run {
        Some(run) => run.join(doc, &entry.record, &entry.update),
        None => false,
    };
    if let (true, Some(run)) = (joined, &end.run) {
        let sealed = run.sealed();
        // Only the record this writer sealed last, and only while nothing follows it: had
        // anyone else extended the chain meanwhile (another process on the same file),
        // rewriting it would break the chain. That is a failed write instead, and the
        // document is loaded again from what is stored.
        let rewritten = txn
            .prepare_cached(
                "UPDATE audit SET until_ms = ?3, updates = ?4, paragraphs = ?5, deleted = ?6,
                                  claims = ?7, update_hash = ?8, hash = ?9
                 WHERE doc = ?1 AND n = ?2 AND hash = ?10
                   AND NOT EXISTS (SELECT 1 FROM audit AS later WHERE later.doc = ?1 AND later.n > ?2)",
            )
            .and_then(|mut update| {
                update.execute(params![
                    doc,
                    sealed.n as i64,
                    sealed.until_ms as i64,
                    sealed.updates,
                    sealed.paragraphs,
                    sealed.deleted,
                    sealed.claims,
                    sealed.update_hash,
                    sealed.hash,
                    &extended.1[..]
                ])
            })
            .map_err(backend)?;
        if rewritten != 1 {
            return Err(backend(format!(
                "the audit chain of {doc} no longer ends at record {}: it was extended elsewhere",
                sealed.n
            )));
        }
        end.head = sealed.head();
    } else {
        let sealed = SealedRecord::seal(doc, end.head, &entry.record, &entry.update);
        txn.prepare_cached(
            "INSERT INTO audit (doc, n, at_ms, person, mission, action, paragraphs, deleted,
                                claims, update_hash, hash)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        )
        .and_then(|mut insert| {
            insert.execute(params![
                doc,
                sealed.n as i64,
                sealed.at_ms as i64,
                sealed.person,
                sealed.mission,
                sealed.action,
                sealed.paragraphs,
                sealed.deleted,
                sealed.claims,
                // `prev` is the record before's `hash`: read back from there (`read.rs`). A
                // single update's `until_ms` is its `at_ms` and is left NULL, its `updates`
                // the column's default, 1: neither takes a byte.
                sealed.update_hash,
                sealed.hash
            ])
        })
        .map_err(backend)?;
        end.head = sealed.head();
        end.run = OpenRun::start(&sealed, &entry.record);
    }
    for claim in &entry.record.claims {
        txn.prepare_cached(
            "INSERT OR IGNORE INTO client_ids (doc, client, mission) VALUES (?1, ?2, ?3)",
        )
        .and_then(|mut insert| insert.execute(params![doc, claim.client as i64, claim.mission]))
        .map_err(backend)?;
    }
    Ok(())
}

pub(super) fn write_loop(mut conn: Connection, jobs: std_mpsc::Receiver<Job>) {
    let mut batch = Vec::with_capacity(64);
    let mut heads = Heads::new();
    let mut commits = 0u64;
    // Documents whose write failed. Their later writes were issued on top of what is now lost
    // (the next keystrokes of the same client), so they are refused too, until the document is
    // loaded afresh: the log never holds an update without those before it.
    let mut failed: std::collections::HashSet<Box<str>> = std::collections::HashSet::new();
    // Pages freed by snapshots are still to be given back.
    let mut freed = false;
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
        freed |= batch.iter().any(|job| matches!(job, Job::Snapshot { .. }));
        match commit_batch(&mut conn, &mut heads, &batch) {
            Ok(seqs) => {
                commits += 1;
                if commits.is_multiple_of(CLOSE_RUNS_EVERY) {
                    close_paused_runs(&mut heads, &batch);
                }
                for (job, seq) in batch.drain(..).zip(seqs) {
                    job.complete(Ok(seq));
                }
                // What snapshots replaced goes back to the file system after the batch is
                // answered, a bounded step at a time (each step is a write of its own), while
                // pages are left (a no-op on a database made before auto_vacuum was set).
                if freed {
                    freed = match give_back_free_pages(&conn) {
                        Ok(left) => left,
                        Err(err) => {
                            tracing::warn!(error = %err, "cannot give freed pages back");
                            false
                        }
                    };
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

/// How many commits go between two sweeps of [`close_paused_runs`].
const CLOSE_RUNS_EVERY: u64 = 1024;

/// Forgets the open runs nobody can join any more (paused longer than a run's gap, as of the
/// newest update in `batch`), so that the cache holds a run only for documents being typed in.
fn close_paused_runs(heads: &mut Heads, batch: &[Job]) {
    let newest = batch
        .iter()
        .filter_map(|job| match job {
            Job::Append { entry, .. } => Some(entry.record.at_ms),
            _ => None,
        })
        .max();
    let Some(newest) = newest else { return };
    for end in heads.values_mut() {
        if end
            .run
            .as_ref()
            .is_some_and(|run| run.sealed().until_ms.saturating_add(RUN_GAP_MS) < newest)
        {
            end.run = None;
        }
    }
}

/// Free pages given back to the file system at most in one step (1 MiB of 4 KiB pages).
const FREE_PAGES_PER_STEP: u32 = 256;

/// Returns up to [`FREE_PAGES_PER_STEP`] free pages to the file system; says whether any are
/// left. The pragma frees one page per step of its statement, so it is stepped to the end.
fn give_back_free_pages(conn: &Connection) -> rusqlite::Result<bool> {
    let mut vacuum =
        conn.prepare_cached(&format!("PRAGMA incremental_vacuum({FREE_PAGES_PER_STEP})"))?;
    let mut steps = vacuum.raw_query();
    while steps.next()?.is_some() {}
    drop(steps);
    let left: i64 = conn.query_row("PRAGMA freelist_count", [], |row| row.get(0))?;
    Ok(left > 0)
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
