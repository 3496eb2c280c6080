//! Reading a document back from Redis: the snapshot, the log entries after it, the client-id
//! owners and the audit chain's head; and the audit records, for queries and verification.

use std::collections::HashMap;

use redis::aio::MultiplexedConnection;
use redis::streams::{StreamId, StreamRangeReply};
use redis::{AsyncCommands, Value};

use super::{keys, unreachable};
use crate::audit::{self, AuditRecord, Head, SealedRecord, Verification};
use crate::storage::{AuditQuery, StorageError, StoredDocument};

fn bytes(entry: &StreamId, field: &str) -> Option<Vec<u8>> {
    match entry.map.get(field)? {
        Value::BulkString(bytes) => Some(bytes.clone()),
        Value::SimpleString(s) => Some(s.clone().into_bytes()),
        Value::Int(i) => Some(i.to_string().into_bytes()),
        _ => None,
    }
}

fn text(entry: &StreamId, field: &str) -> Option<String> {
    bytes(entry, field).and_then(|b| String::from_utf8(b).ok())
}

fn number(entry: &StreamId, field: &str) -> Option<u64> {
    text(entry, field)?.parse().ok()
}

fn damaged(doc: &str, what: impl std::fmt::Display) -> StorageError {
    StorageError::Backend(format!("the stored log of {doc} is damaged: {what}"))
}

/// The stored document and its chain head.
pub(super) async fn load_document(
    conn: &mut MultiplexedConnection,
    doc: &str,
) -> Result<(StoredDocument, Head), StorageError> {
    let snapshot: HashMap<String, Vec<u8>> = conn
        .hgetall(keys::snapshot(doc))
        .await
        .map_err(unreachable)?;
    let upto = match snapshot.get("upto") {
        Some(id) => Some(String::from_utf8(id.clone()).map_err(|e| damaged(doc, e))?),
        None => None,
    };
    let start = upto.map_or_else(|| "-".to_string(), |id| format!("({id}"));
    let entries: StreamRangeReply = conn
        .xrange(keys::log(doc), start, "+")
        .await
        .map_err(unreachable)?;
    let updates = entries
        .ids
        .iter()
        .map(|entry| bytes(entry, "u").ok_or_else(|| damaged(doc, format!("entry {}", entry.id))))
        .collect::<Result<Vec<_>, _>>()?;
    let owners: HashMap<u64, String> =
        conn.hgetall(keys::owners(doc)).await.map_err(unreachable)?;
    let head: HashMap<String, Vec<u8>> =
        conn.hgetall(keys::head(doc)).await.map_err(unreachable)?;
    let head = stored_head(doc, &head)?.unwrap_or((0, [0; 32]));
    Ok((
        StoredDocument {
            snapshot: snapshot.get("state").cloned(),
            updates,
            owners: owners.into_iter().collect(),
        },
        head,
    ))
}

fn stored_head(doc: &str, head: &HashMap<String, Vec<u8>>) -> Result<Option<Head>, StorageError> {
    let (Some(n), Some(hash)) = (head.get("n"), head.get("hash")) else {
        return Ok(None);
    };
    let n: u64 = std::str::from_utf8(n)
        .ok()
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| damaged(doc, "the audit head's number"))?;
    let hash: audit::Hash = hash
        .as_slice()
        .try_into()
        .map_err(|_| damaged(doc, "the audit head's hash"))?;
    Ok(Some((n, hash)))
}

/// Every sealed record of `doc`'s chain, oldest first.
pub(super) async fn sealed_records(
    conn: &mut MultiplexedConnection,
    doc: &str,
) -> Result<Vec<SealedRecord>, StorageError> {
    let entries: StreamRangeReply = conn
        .xrange(keys::audit(doc), "-", "+")
        .await
        .map_err(unreachable)?;
    entries
        .ids
        .iter()
        .map(|entry| sealed(entry).ok_or_else(|| damaged(doc, format!("audit entry {}", entry.id))))
        .collect()
}

/// A stored record. This backend stores one record per update (a stream entry cannot be
/// rewritten to extend a run).
fn sealed(entry: &StreamId) -> Option<SealedRecord> {
    let at_ms = number(entry, "at")?;
    Some(SealedRecord {
        n: number(entry, "n")?,
        at_ms,
        until_ms: at_ms,
        updates: 1,
        person: text(entry, "person")?,
        mission: text(entry, "mission")?,
        action: text(entry, "action")?,
        paragraphs: text(entry, "paragraphs")?,
        deleted: text(entry, "deleted")?,
        claims: text(entry, "claims")?,
        update_hash: bytes(entry, "uh")?,
        prev: bytes(entry, "prev")?,
        hash: bytes(entry, "hash")?,
    })
}

/// The records `query` selects, each with its number in the chain.
pub(super) async fn audit_page(
    conn: &mut MultiplexedConnection,
    doc: &str,
    query: &AuditQuery,
) -> Result<Vec<(u64, AuditRecord)>, StorageError> {
    let mut page = Vec::new();
    for sealed in sealed_records(conn, doc).await? {
        if page.len() >= query.limit {
            break;
        }
        if sealed.until_ms < query.since_ms || sealed.n <= query.after {
            continue;
        }
        let record = sealed.record().map_err(|e| damaged(doc, e))?;
        if query.mission.as_ref().is_some_and(|m| *m != record.mission) {
            continue;
        }
        if query
            .paragraph
            .as_ref()
            .is_some_and(|p| !record.paragraphs.contains(p))
        {
            continue;
        }
        page.push((sealed.n, record));
    }
    Ok(page)
}

/// Checks every chain (or `only`'s) against its records and its stored head.
pub(super) async fn verify(
    conn: &mut MultiplexedConnection,
    only: Option<&str>,
) -> Result<Verification, StorageError> {
    let mut docs: Vec<String> = conn.smembers(keys::DOCUMENTS).await.map_err(unreachable)?;
    docs.sort();
    if let Some(only) = only {
        docs.retain(|d| d == only);
    }
    let mut report = Verification::default();
    for doc in docs {
        report.documents += 1;
        let records = sealed_records(conn, &doc).await?;
        let head: HashMap<String, Vec<u8>> =
            conn.hgetall(keys::head(&doc)).await.map_err(unreachable)?;
        let head = stored_head(&doc, &head)?.map(|(n, hash)| (n, hash.to_vec()));
        audit::verify_chain(&doc, records, head, &mut report);
    }
    Ok(report)
}
