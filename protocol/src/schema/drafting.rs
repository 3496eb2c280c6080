//! Revisions in the document: the published ones (one JSON value each, written once), what
//! the facilitators prepare for the next (the cover letter they type together, their note on
//! any paragraph), the themes they follow across the text, and what observers read.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use yrs::{Any, GetString, Map, Out, ReadTxn, TextPrelim, TextRef, TransactionMut, WriteTxn};

use super::keys;
use super::read::{entry, string, text};
use crate::revision::{Revision, Theme};

/// What observers of a document read: the live drafting, or only what was published.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ObserverView {
    #[default]
    Live,
    Published,
}

impl ObserverView {
    pub fn as_str(self) -> &'static str {
        match self {
            ObserverView::Live => "live",
            ObserverView::Published => "published",
        }
    }
}

/// The number in a server-made id (`r12` → 12).
fn id_number(id: &str, prefix: &str) -> Option<u64> {
    id.strip_prefix(prefix)?.parse().ok()
}

/// The published revisions' ids with their stored JSON, in publication order.
pub fn revision_ids(txn: &impl ReadTxn) -> Vec<(String, String)> {
    let Some(root) = txn.get_map(keys::REVISIONS) else {
        return Vec::new();
    };
    let mut all: Vec<(u64, String, String)> = root
        .iter(txn)
        .filter_map(|(id, value)| match value {
            Out::Any(Any::String(json)) => Some((
                id_number(id, keys::REVISION_ID_PREFIX)?,
                id.to_string(),
                json.to_string(),
            )),
            _ => None,
        })
        .collect();
    all.sort_by_key(|(n, _, _)| *n);
    all.into_iter().map(|(_, id, json)| (id, json)).collect()
}

/// Every published revision, in publication order (a value that does not parse is skipped:
/// the server writes only what it serialised).
pub fn revisions(txn: &impl ReadTxn) -> Vec<Revision> {
    revision_ids(txn)
        .into_iter()
        .filter_map(|(_, json)| serde_json::from_str(&json).ok())
        .collect()
}

/// One published revision: its stored JSON, byte for byte.
pub fn revision(txn: &impl ReadTxn, id: &str) -> Option<String> {
    match txn.get_map(keys::REVISIONS)?.get(txn, id) {
        Some(Out::Any(Any::String(json))) => Some(json.to_string()),
        _ => None,
    }
}

/// Writes a published revision under its id, once: an id taken is never written again.
pub fn store_revision(txn: &mut TransactionMut, id: &str, json: &str) -> bool {
    let root = txn.get_or_insert_map(keys::REVISIONS);
    if root.get(txn, id).is_some() {
        return false;
    }
    root.insert(txn, id, json);
    true
}

/// The Y.Text the facilitators type the next cover letter into, if it exists.
pub fn cover_note_text(txn: &impl ReadTxn) -> Option<TextRef> {
    text(&txn.get_map(keys::DRAFTING)?, txn, keys::COVER_NOTE)
}

/// The next revision's cover letter as typed so far.
pub fn cover_note(txn: &impl ReadTxn) -> String {
    cover_note_text(txn)
        .map(|t| t.get_string(txn))
        .unwrap_or_default()
}

/// Makes the cover letter's text if there is none; true if it made one.
pub fn prepare_cover_note(txn: &mut TransactionMut) -> bool {
    if cover_note_text(txn).is_some() {
        return false;
    }
    let drafting = txn.get_or_insert_map(keys::DRAFTING);
    drafting.insert(txn, keys::COVER_NOTE, TextPrelim::new(""));
    true
}

/// After a publication: a fresh, empty cover letter and no paragraph notes.
pub fn start_next_revision(txn: &mut TransactionMut) {
    let drafting = txn.get_or_insert_map(keys::DRAFTING);
    drafting.insert(txn, keys::COVER_NOTE, TextPrelim::new(""));
    let notes = txn.get_or_insert_map(keys::CHANGE_NOTES);
    let keys: Vec<String> = notes.keys(txn).map(String::from).collect();
    for key in keys {
        notes.remove(txn, &key);
    }
}

/// The facilitators' notes for the next revision, by paragraph id.
pub fn change_notes_drafted(txn: &impl ReadTxn) -> HashMap<String, String> {
    let Some(notes) = txn.get_map(keys::CHANGE_NOTES) else {
        return HashMap::new();
    };
    notes
        .iter(txn)
        .filter_map(|(id, value)| match value {
            Out::Any(Any::String(note)) => Some((id.to_string(), note.to_string())),
            _ => None,
        })
        .collect()
}

/// Sets (or, when empty, clears) the facilitators' note on a paragraph.
pub fn set_change_note(txn: &mut TransactionMut, paragraph: &str, note: &str) {
    let notes = txn.get_or_insert_map(keys::CHANGE_NOTES);
    if note.trim().is_empty() {
        notes.remove(txn, paragraph);
    } else {
        notes.insert(txn, paragraph, note);
    }
}

/// Every theme, ordered by id number.
pub fn themes(txn: &impl ReadTxn) -> Vec<Theme> {
    let Some(root) = txn.get_map(keys::THEMES) else {
        return Vec::new();
    };
    let mut all: Vec<(u64, Theme)> = root
        .iter(txn)
        .filter_map(|(id, value)| {
            let Out::Any(Any::Map(fields)) = value else {
                return None;
            };
            let name = match fields.get(keys::NAME) {
                Some(Any::String(name)) => name.to_string(),
                _ => return None,
            };
            let paragraphs = match fields.get(keys::THEME_PARAGRAPHS) {
                Some(Any::Array(ids)) => ids
                    .iter()
                    .filter_map(|v| match v {
                        Any::String(s) => Some(s.to_string()),
                        _ => None,
                    })
                    .collect(),
                _ => Vec::new(),
            };
            let theme = Theme {
                id: id.to_string(),
                name,
                paragraphs,
            };
            Some((id_number(id, keys::THEME_ID_PREFIX)?, theme))
        })
        .collect();
    all.sort_by_key(|(n, _)| *n);
    all.into_iter().map(|(_, theme)| theme).collect()
}

/// Writes a theme whole (name and paragraphs).
pub fn set_theme(txn: &mut TransactionMut, theme: &Theme) {
    let root = txn.get_or_insert_map(keys::THEMES);
    let paragraphs: Vec<Any> = theme
        .paragraphs
        .iter()
        .map(|p| Any::from(p.as_str()))
        .collect();
    let value = Any::from(HashMap::from([
        (keys::NAME.to_string(), Any::from(theme.name.as_str())),
        (keys::THEME_PARAGRAPHS.to_string(), Any::from(paragraphs)),
    ]));
    root.insert(txn, theme.id.as_str(), value);
}

/// What observers read (live unless a facilitator said otherwise).
pub fn observer_view(txn: &impl ReadTxn) -> ObserverView {
    let Some(settings) = txn.get_map(keys::SETTINGS) else {
        return ObserverView::Live;
    };
    match string(&settings, txn, keys::OBSERVERS).as_deref() {
        Some("published") => ObserverView::Published,
        _ => ObserverView::Live,
    }
}

pub fn set_observer_view(txn: &mut TransactionMut, view: ObserverView) {
    let settings = txn.get_or_insert_map(keys::SETTINGS);
    settings.insert(txn, keys::OBSERVERS, view.as_str());
}

/// Records which of the server's clocks wrote an accepted amendment's words into the body
/// (`client`, `from`, `to`), and which stretch of them carries whose words (`by`: `(from, to,
/// writer)`, the writer being the client id that typed them in the amendment's text).
pub fn set_applied_as(
    txn: &mut TransactionMut,
    amendment: &str,
    (client, from, to): (u64, u32, u32),
    by: &[(u32, u32, u64)],
    deleting: &[(u64, u32, u32)],
) {
    let triple = |a: u64, b: u32, c: u32| {
        Any::from(vec![
            Any::from(a as f64),
            Any::from(f64::from(b)),
            Any::from(f64::from(c)),
        ])
    };
    if let Some(map) = entry(txn, keys::AMENDMENTS, amendment) {
        map.insert(txn, keys::APPLIED_AS, triple(client, from, to));
        let stretches: Vec<Any> = by
            .iter()
            .map(|&(from, to, writer)| triple(writer, from, to))
            .collect();
        map.insert(txn, keys::APPLIED_BY, Any::from(stretches));
        let deleted: Vec<Any> = deleting
            .iter()
            .map(|&(client, clock, len)| triple(client, clock, len))
            .collect();
        map.insert(txn, keys::APPLIED_DELETING, Any::from(deleted));
    }
}
