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

/// Appends a plain value to the array under `id` in `root` (made on first use).
pub fn append_process_entry<T: Serialize>(
    txn: &mut TransactionMut,
    root: &str,
    id: &str,
    value: &T,
) -> serde_json::Result<()> {
    let json = serde_json::to_string(value)?;
    let any = Any::from_json(&json).map_err(serde::ser::Error::custom)?;
    let map = txn.get_or_insert_map(root);
    let list: yrs::ArrayRef = match map.get(txn, id) {
        Some(Out::YArray(list)) => list,
        _ => map.insert(txn, id, yrs::ArrayPrelim::default()),
    };
    yrs::Array::push_back(&list, txn, any);
    Ok(())
}

/// The plain values of the array under `id` in `root`, in order.
pub fn process_entries_of<T: DeserializeOwned>(txn: &impl ReadTxn, root: &str, id: &str) -> Vec<T> {
    let Some(Out::YArray(list)) = txn.get_map(root).and_then(|m| m.get(txn, id)) else {
        return Vec::new();
    };
    yrs::Array::iter(&list, txn)
        .filter_map(|value| match value {
            Out::Any(any) => {
                let mut json = String::new();
                any.to_json(&mut json);
                serde_json::from_str(&json).ok()
            }
            _ => None,
        })
        .collect()
}

/// A small plain value under `key` in `root` (`None` removes it).
pub fn set_process_mark<T: Serialize>(
    txn: &mut TransactionMut,
    root: &str,
    key: &str,
    value: Option<&T>,
) -> serde_json::Result<()> {
    let map = txn.get_or_insert_map(root);
    match value {
        Some(value) => {
            let json = serde_json::to_string(value)?;
            let any = Any::from_json(&json).map_err(serde::ser::Error::custom)?;
            map.insert(txn, key, any);
        }
        None => {
            map.remove(txn, key);
        }
    }
    Ok(())
}

/// Every small value of `root` whose key starts with `prefix`, with the rest of its key.
pub fn process_marks<T: DeserializeOwned>(
    txn: &impl ReadTxn,
    root: &str,
    prefix: &str,
) -> Vec<(String, T)> {
    let Some(map) = txn.get_map(root) else {
        return Vec::new();
    };
    map.iter(txn)
        .filter_map(|(key, value)| {
            let rest = key.strip_prefix(prefix)?;
            let Out::Any(any) = value else { return None };
            let mut json = String::new();
            any.to_json(&mut json);
            Some((rest.to_string(), serde_json::from_str(&json).ok()?))
        })
        .collect()
}
