//! The process values in the document (rounds, readings, silences, notices, the progress
//! trend): each one JSON string under its id, written whole by the command that changes it.

use serde::de::DeserializeOwned;
use serde::Serialize;
use yrs::{Any, Map, Out, ReadTxn, TransactionMut, WriteTxn};

/// The number in a server-made id (`round12` → 12).
fn id_number(id: &str, prefix: &str) -> Option<u64> {
    id.strip_prefix(prefix)?.parse().ok()
}

/// Every value under `root`, ordered by id number (a value that does not parse is skipped:
/// the server writes only what it serialised).
pub fn process_values<T: DeserializeOwned>(txn: &impl ReadTxn, root: &str, prefix: &str) -> Vec<T> {
    let Some(map) = txn.get_map(root) else {
        return Vec::new();
    };
    let mut all: Vec<(u64, T)> = map
        .iter(txn)
        .filter_map(|(id, value)| match value {
            Out::Any(Any::String(json)) => {
                Some((id_number(id, prefix)?, serde_json::from_str(&json).ok()?))
            }
            _ => None,
        })
        .collect();
    all.sort_by_key(|(n, _)| *n);
    all.into_iter().map(|(_, value)| value).collect()
}

/// One value under `root`.
pub fn process_value<T: DeserializeOwned>(txn: &impl ReadTxn, root: &str, id: &str) -> Option<T> {
    match txn.get_map(root)?.get(txn, id) {
        Some(Out::Any(Any::String(json))) => serde_json::from_str(&json).ok(),
        _ => None,
    }
}

/// Writes a value whole under its id. Serialising a value of ours cannot fail; if it did,
/// nothing is written and the caller's command reports it.
pub fn store_process_value<T: Serialize>(
    txn: &mut TransactionMut,
    root: &str,
    id: &str,
    value: &T,
) -> serde_json::Result<()> {
    let json = serde_json::to_string(value)?;
    let map = txn.get_or_insert_map(root);
    map.insert(txn, id, json);
    Ok(())
}

/// Every key of `root` with its JSON, unordered (the trend's days).
pub fn process_entries(txn: &impl ReadTxn, root: &str) -> Vec<(String, String)> {
    let Some(map) = txn.get_map(root) else {
        return Vec::new();
    };
    map.iter(txn)
        .filter_map(|(key, value)| match value {
            Out::Any(Any::String(json)) => Some((key.to_string(), json.to_string())),
            _ => None,
        })
        .collect()
}
