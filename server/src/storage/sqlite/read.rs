//! Reads: a document's snapshot, log and client-id owners; its audit records; and the audit
//! verification `concord audit verify` runs (read-only, beside a running server).

use std::path::Path;

use rusqlite::{params, Connection, OptionalExtension};

use super::backend;
use super::schema::DB_FILE;
use crate::audit::{self, AuditRecord, SealedRecord, Verification, RUN_SPAN_MS};
use crate::storage::AuditQuery;
use crate::storage::{StorageError, StoredDocument};

/// The head of `doc`'s chain as stored: the last record's number and hash.
pub(super) fn stored_head(
    conn: &Connection,
    doc: &str,
) -> Result<Option<(i64, Vec<u8>)>, StorageError> {
    conn.query_row(
        "SELECT n, hash FROM audit_heads WHERE doc = ?1",
        params![doc],
        |row| Ok((row.get(0)?, row.get(1)?)),
    )
    .optional()
    .map_err(backend)
}

/// A read-only connection to the database at `data_dir`: what the command-line readers use
/// beside a running server, which they neither lock out nor checkpoint.
fn open_read_only(data_dir: &Path) -> Result<Connection, StorageError> {
    let path = data_dir.join(DB_FILE);
    if !path.exists() {
        return Err(backend(format!("no database at {}", path.display())));
    }
    let conn = Connection::open_with_flags(&path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .map_err(backend)?;
    conn.busy_timeout(std::time::Duration::from_secs(5))
        .map_err(backend)?;
    Ok(conn)
}

/// What is committed of `doc` in the database at `data_dir`, read-only (a running server may
/// have it open).
pub fn read_stored(data_dir: &Path, doc: &str) -> Result<StoredDocument, StorageError> {
    load_document(&open_read_only(data_dir)?, doc)
}

/// The audit records of `doc` in the database at `data_dir`, oldest first (read-only).
pub fn read_stored_audit(data_dir: &Path, doc: &str) -> Result<Vec<AuditRecord>, StorageError> {
    read_audit(&open_read_only(data_dir)?, doc, 0)
}

/// Walks every audit chain in the database at `data_dir` (read-only).
pub fn verify_audit(data_dir: &Path, only: Option<&str>) -> Result<Verification, StorageError> {
    let mut conn = open_read_only(data_dir)?;
    // One read transaction: records and heads as of one moment, even beside a server that
    // goes on writing (it rewrites the last record of a run with each keystroke).
    let conn = conn.transaction().map_err(backend)?;
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
        let records = stored_records(&conn, &doc)?;
        let head = stored_head(&conn, &doc)?.map(|(n, hash)| (n.max(0) as u64, hash));
        audit::verify_chain(&doc, records, head, &mut report);
    }
    Ok(report)
}

/// The columns that say how many updates a record stands for and until when. A database
/// this server has not migrated yet (read beside an older server, or verified before this one
/// starts) has no runs: every record there is one update.
fn has_runs(conn: &Connection) -> Result<bool, StorageError> {
    let has_runs: i64 = conn
        .query_row(
            "SELECT count(*) FROM pragma_table_info('audit') WHERE name = 'updates'",
            [],
            |row| row.get(0),
        )
        .map_err(backend)?;
    Ok(has_runs > 0)
}

/// What a query selects for a record's `until_ms` and `updates`, and its last update's time.
fn run_columns(conn: &Connection) -> Result<(&'static str, &'static str), StorageError> {
    Ok(if has_runs(conn)? {
        ("until_ms, updates", "coalesce(until_ms, at_ms)")
    } else {
        ("NULL, 1", "at_ms")
    })
}

/// A document's audit records as stored, in order. A record's `prev` is not stored: it is the
/// hash of the record stored before it (zeros for the first), so a record removed, inserted or
/// moved breaks the hash of the one after it.
fn stored_records(conn: &Connection, doc: &str) -> Result<Vec<SealedRecord>, StorageError> {
    let (runs, _) = run_columns(conn)?;
    let mut statement = conn
        .prepare(&format!(
            "SELECT n, at_ms, person, mission, action, paragraphs, deleted, claims,
                    update_hash, hash, {runs}
             FROM audit WHERE doc = ?1 ORDER BY n"
        ))
        .map_err(backend)?;
    let rows = statement
        .query_map(params![doc], |row| {
            let at_ms = row.get::<_, i64>(1)?.max(0) as u64;
            Ok(SealedRecord {
                n: row.get::<_, i64>(0)?.max(0) as u64,
                at_ms,
                until_ms: row
                    .get::<_, Option<i64>>(10)?
                    .map_or(at_ms, |until| until.max(0) as u64),
                updates: row.get::<_, i64>(11)?.clamp(0, i64::from(u32::MAX)) as u32,
                person: row.get(2)?,
                mission: row.get(3)?,
                action: row.get(4)?,
                paragraphs: row.get(5)?,
                deleted: row.get(6)?,
                claims: row.get(7)?,
                update_hash: row.get(8)?,
                prev: Vec::new(),
                hash: row.get(9)?,
            })
        })
        .map_err(backend)?;
    let mut records = rows.collect::<Result<Vec<_>, _>>().map_err(backend)?;
    let mut prev = vec![0; 32];
    for record in &mut records {
        record.prev = std::mem::replace(&mut prev, record.hash.clone());
    }
    Ok(records)
}

pub(super) fn load_document(conn: &Connection, doc: &str) -> Result<StoredDocument, StorageError> {
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

pub(super) fn read_audit(
    conn: &Connection,
    doc: &str,
    since_ms: u64,
) -> Result<Vec<AuditRecord>, StorageError> {
    let query = AuditQuery {
        since_ms,
        limit: usize::MAX,
        ..AuditQuery::default()
    };
    Ok(read_audit_page(conn, doc, &query)?
        .into_iter()
        .map(|(_, record)| record)
        .collect())
}

/// The records of `doc` that `query` selects, oldest first, each with its number in the chain
/// (what a page's cursor names: numbers only grow, so pages are stable).
pub(super) fn read_audit_page(
    conn: &Connection,
    doc: &str,
    query: &AuditQuery,
) -> Result<Vec<(u64, AuditRecord)>, StorageError> {
    let (runs, last_ms) = run_columns(conn)?;
    let mut statement = conn
        .prepare_cached(&format!(
            "SELECT n, at_ms, person, mission, action, paragraphs, deleted, claims, {runs}
             FROM audit AS a
             WHERE doc = ?1 AND at_ms >= ?2 - ?7 AND {last_ms} >= ?2
               AND n > ?3
               AND (?4 IS NULL OR mission = ?4)
               AND (?5 IS NULL OR EXISTS
                    (SELECT 1 FROM json_each(a.paragraphs) AS p WHERE p.value = ?5))
             ORDER BY n LIMIT ?6"
        ))
        .map_err(backend)?;
    let clamp = |v: u64| v.min(i64::MAX as u64) as i64;
    let limit = clamp(query.limit as u64);
    let rows = statement
        .query_map(
            params![
                doc,
                clamp(query.since_ms),
                clamp(query.after),
                query.mission,
                query.paragraph,
                limit,
                // A run that began before `since` may reach into it (`audit/run.rs`).
                RUN_SPAN_MS as i64
            ],
            |row| {
                Ok((
                    row.get::<_, i64>(0)?,
                    (
                        row.get::<_, i64>(1)?,
                        row.get::<_, String>(2)?,
                        row.get::<_, String>(3)?,
                        row.get::<_, String>(4)?,
                        row.get::<_, String>(5)?,
                        row.get::<_, String>(6)?,
                        row.get::<_, String>(7)?,
                    ),
                    (row.get::<_, Option<i64>>(8)?, row.get::<_, i64>(9)?),
                ))
            },
        )
        .map_err(backend)?;
    let mut records = Vec::new();
    for row in rows {
        let (n, (at_ms, person, mission, action, paragraphs, deleted, claims), (until, updates)) =
            row.map_err(backend)?;
        let parse = |what: &str, json: &str| {
            backend(format!(
                "audit record of {doc} has unreadable {what}: {json}"
            ))
        };
        let owned_claims =
            audit::parse_claims(&claims, &mission).map_err(|_| parse("claims", &claims))?;
        records.push((
            n as u64,
            AuditRecord {
                at_ms: at_ms as u64,
                until_ms: until.unwrap_or(at_ms).max(0) as u64,
                updates: updates.clamp(0, i64::from(u32::MAX)) as u32,
                person,
                mission,
                action,
                paragraphs: serde_json::from_str(&paragraphs)
                    .map_err(|_| parse("paragraphs", &paragraphs))?,
                deleted: serde_json::from_str(&deleted)
                    .map_err(|_| parse("deletions", &deleted))?,
                claims: owned_claims,
            },
        ));
    }
    Ok(records)
}

/// Every document the store holds.
pub(super) fn read_documents(conn: &Connection) -> Result<Vec<String>, StorageError> {
    let mut statement = conn
        .prepare_cached("SELECT doc FROM updates UNION SELECT doc FROM snapshots ORDER BY 1")
        .map_err(backend)?;
    let rows = statement
        .query_map([], |row| row.get::<_, String>(0))
        .map_err(backend)?;
    rows.map(|r| r.map_err(backend)).collect()
}

pub(super) fn read_documents_with_action(
    conn: &Connection,
    action: &str,
) -> Result<Vec<String>, StorageError> {
    let mut statement = conn
        .prepare_cached("SELECT DISTINCT doc FROM audit WHERE action = ?1 ORDER BY 1")
        .map_err(backend)?;
    let rows = statement
        .query_map([action], |row| row.get::<_, String>(0))
        .map_err(backend)?;
    rows.map(|r| r.map_err(backend)).collect()
}
