//! The database file: refusing a damaged one, and the migrations that bring every table to
//! this version (the log, the audit chain, client-id ownership, revocations).

use std::path::Path;
use std::time::Duration;

use rusqlite::Connection;

use super::backend;
use crate::storage::StorageError;

/// The schema version this code writes (`PRAGMA user_version`).
const SCHEMA_VERSION: i64 = 6;

/// The database in `data_dir`.
pub(crate) const DB_FILE: &str = "concord.db";

/// A connection to the database in `data_dir` for a short-lived writer from outside the server
/// (`concord revoke`) or a reader beside it: waits for other writers' short transactions, and
/// brings the schema up to date.
pub(crate) fn open_connection(data_dir: &Path) -> Result<Connection, StorageError> {
    std::fs::create_dir_all(data_dir).map_err(backend)?;
    let path = data_dir.join(DB_FILE);
    refuse_emptied_store(&path)?;
    let conn = open_file(&path)?;
    conn.busy_timeout(Duration::from_secs(5)).map_err(backend)?;
    conn.execute_batch("PRAGMA journal_mode=WAL;")
        .map_err(backend)?;
    migrate(&conn)?;
    Ok(conn)
}

/// Opens the database file, setting up a new one: pages freed when a snapshot replaces a
/// document's log go back to the file system (`writer.rs`, after a snapshot) instead of
/// keeping the file at its largest. Only a file with nothing in it yet takes this setting, so
/// it comes before anything else (the write-ahead log included).
pub(super) fn open_file(path: &Path) -> Result<Connection, StorageError> {
    let new = !path.exists();
    let conn = Connection::open(path).map_err(backend)?;
    if new {
        conn.execute_batch("PRAGMA auto_vacuum = INCREMENTAL;")
            .map_err(backend)?;
    }
    Ok(conn)
}

/// SQLite takes a 0-byte file for a new, empty database. A store that was written to and is now
/// empty lost everything (a truncation, a bad copy): starting on it would serve empty documents
/// and then write over the evidence. Only a missing file means "new".
pub(super) fn refuse_emptied_store(path: &Path) -> Result<(), StorageError> {
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
pub(super) fn check_integrity(conn: &Connection, path: &Path) -> Result<(), StorageError> {
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

pub(crate) fn migrate(conn: &Connection) -> Result<(), StorageError> {
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
        // ownership. Never compacted: snapshots replace updates, not their records. The chain
        // is stored in its key's order (no rowid, so no second copy of the key in an index);
        // databases made before this keep their rowid table, which reads the same.
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
             ) WITHOUT ROWID;
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
    if version < 4 {
        // Revoked tokens and missions (`concord revoke` writes them from its own process).
        conn.execute_batch(
            "BEGIN;
             CREATE TABLE IF NOT EXISTS revocations (
                 kind       TEXT NOT NULL CHECK (kind IN ('token', 'mission')),
                 value      TEXT NOT NULL,
                 revoked_at INTEGER NOT NULL,
                 PRIMARY KEY (kind, value)
             );
             PRAGMA user_version = 4;
             COMMIT;",
        )
        .map_err(backend)?;
    }
    if version < 5 {
        // A record's `prev` is the hash of the record before it: stored once, there (32 bytes
        // a record). Verification reads it from the record before (`read.rs`).
        conn.execute_batch(
            "BEGIN;
             ALTER TABLE audit DROP COLUMN prev;
             PRAGMA user_version = 5;
             COMMIT;",
        )
        .map_err(backend)?;
    }
    if version < 6 {
        // A record may stand for a run of one writer's consecutive updates (`audit/run.rs`):
        // how many, and when the last was accepted. A single update leaves `until_ms` NULL
        // (its `at_ms`) and `updates` at 1: one header byte each in its row, no payload.
        conn.execute_batch(
            "BEGIN;
             ALTER TABLE audit ADD COLUMN until_ms INTEGER;
             ALTER TABLE audit ADD COLUMN updates INTEGER NOT NULL DEFAULT 1;
             PRAGMA user_version = 6;
             COMMIT;",
        )
        .map_err(backend)?;
    }
    Ok(())
}
