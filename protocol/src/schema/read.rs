//! Reading the negotiation document: paragraphs in reading order, amendments, comment
//! threads, each as a typed value (what the client renders, what commands check), and the
//! Y.Texts and mission lists that commands and clients write into.

use yrs::{Any, Array, ArrayRef, GetString, Map, MapRef, Out, ReadTxn, TextRef};

use super::keys;
use super::{Amendment, AmendmentStatus, Comment, Paragraph, ParagraphKind, ParagraphStatus};

pub(super) fn string(map: &MapRef, txn: &impl ReadTxn, key: &str) -> Option<String> {
    match map.get(txn, key) {
        Some(Out::Any(Any::String(s))) => Some(s.to_string()),
        _ => None,
    }
}

fn boolean(map: &MapRef, txn: &impl ReadTxn, key: &str) -> bool {
    matches!(map.get(txn, key), Some(Out::Any(Any::Bool(true))))
}

/// The Y.Text under `key` of an entry's map.
pub(super) fn text(map: &MapRef, txn: &impl ReadTxn, key: &str) -> Option<TextRef> {
    match map.get(txn, key) {
        Some(Out::YText(text)) => Some(text),
        _ => None,
    }
}

fn strings(map: &MapRef, txn: &impl ReadTxn, key: &str) -> Vec<String> {
    match map.get(txn, key) {
        Some(Out::YArray(array)) => array
            .iter(txn)
            .filter_map(|v| match v {
                Out::Any(Any::String(s)) => Some(s.to_string()),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// The map of paragraph or amendment `id` under the root map `root`.
pub(super) fn entry(txn: &impl ReadTxn, root: &str, id: &str) -> Option<MapRef> {
    match txn.get_map(root)?.get(txn, id) {
        Some(Out::YMap(map)) => Some(map),
        _ => None,
    }
}

fn read_paragraph(txn: &impl ReadTxn, id: &str, map: &MapRef) -> Option<Paragraph> {
    let lock = match map.get(txn, keys::LOCK) {
        Some(Out::Any(any @ Any::Map(_))) => {
            let mut json = String::new();
            any.to_json(&mut json);
            serde_json::from_str(&json).ok()
        }
        _ => None,
    };
    Some(Paragraph {
        id: id.to_string(),
        label: string(map, txn, keys::LABEL).unwrap_or_default(),
        kind: ParagraphKind::parse(&string(map, txn, keys::KIND)?)?,
        parent: string(map, txn, keys::PARENT),
        status: ParagraphStatus::parse(&string(map, txn, keys::STATUS)?)?,
        lock,
        body: text(map, txn, keys::BODY)
            .map(|t| t.get_string(txn))
            .unwrap_or_default(),
        pending: any_strings(map, txn, keys::PENDING),
    })
}

/// A plain array of strings under `key` (empty when absent).
fn any_strings(map: &MapRef, txn: &impl ReadTxn, key: &str) -> Vec<String> {
    match map.get(txn, key) {
        Some(Out::Any(Any::Array(values))) => values
            .iter()
            .filter_map(|v| match v {
                Any::String(s) => Some(s.to_string()),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// One paragraph, by id.
pub fn paragraph(txn: &impl ReadTxn, id: &str) -> Option<Paragraph> {
    read_paragraph(txn, id, &entry(txn, keys::PARAGRAPHS, id)?)
}

/// Every paragraph, in reading order (tombstones included: check `status`).
pub fn paragraphs(txn: &impl ReadTxn) -> Vec<Paragraph> {
    let Some(order) = txn.get_array(keys::ORDER) else {
        return Vec::new();
    };
    order
        .iter(txn)
        .filter_map(|id| match id {
            Out::Any(Any::String(id)) => paragraph(txn, &id),
            _ => None,
        })
        .collect()
}

fn read_amendment(txn: &impl ReadTxn, id: &str, map: &MapRef) -> Option<Amendment> {
    Some(Amendment {
        id: id.to_string(),
        paragraph: string(map, txn, keys::PARAGRAPH)?,
        new_after: boolean(map, txn, keys::NEW_AFTER),
        sponsors: strings(map, txn, keys::SPONSORS),
        on_behalf_of: string(map, txn, keys::ON_BEHALF_OF),
        text: text(map, txn, keys::TEXT)
            .map(|t| t.get_string(txn))
            .unwrap_or_default(),
        rationale: text(map, txn, keys::RATIONALE)
            .map(|t| t.get_string(txn))
            .unwrap_or_default(),
        supporters: strings(map, txn, keys::SUPPORTERS),
        opposers: strings(map, txn, keys::OPPOSERS),
        status: AmendmentStatus::parse(&string(map, txn, keys::STATUS)?)?,
        base_revision: string(map, txn, keys::BASE_REVISION),
        stale: boolean(map, txn, keys::STALE),
        base_body: string(map, txn, keys::BASE_BODY),
        applied_as: applied_as(map, txn),
        applied_by: applied_by(map, txn),
        applied_deleting: triples(map, txn, keys::APPLIED_DELETING),
        reading: string(map, txn, keys::READING),
        invited: plain::<Vec<String>>(map.get(txn, keys::INVITED)).unwrap_or_default(),
        decision: plain(map.get(txn, keys::DECISION)),
    })
}

fn applied_as(map: &MapRef, txn: &impl ReadTxn) -> Option<(u64, u32, u32)> {
    let Some(Out::Any(Any::Array(values))) = map.get(txn, keys::APPLIED_AS) else {
        return None;
    };
    let (client, from, to) = clocks(&values)?;
    Some((client, from, to))
}

fn applied_by(map: &MapRef, txn: &impl ReadTxn) -> Vec<(u32, u32, u64)> {
    let Some(Out::Any(Any::Array(stretches))) = map.get(txn, keys::APPLIED_BY) else {
        return Vec::new();
    };
    stretches
        .iter()
        .filter_map(|stretch| match stretch {
            // Stored as `[writer, from, to]`, like `applied_as` (a client id, two clocks).
            Any::Array(values) => {
                let (writer, from, to) = clocks(values)?;
                Some((from, to, writer))
            }
            _ => None,
        })
        .collect()
}

/// An array of `[client, clock, len]` under `key`.
fn triples(map: &MapRef, txn: &impl ReadTxn, key: &str) -> Vec<(u64, u32, u32)> {
    let Some(Out::Any(Any::Array(items))) = map.get(txn, key) else {
        return Vec::new();
    };
    items
        .iter()
        .filter_map(|item| match item {
            Any::Array(values) => clocks(values),
            _ => None,
        })
        .collect()
}

/// Three non-negative whole numbers: the first as a client id, the other two as clocks.
fn clocks(values: &[Any]) -> Option<(u64, u32, u32)> {
    let number = |i: usize| match values.get(i) {
        Some(Any::Number(yrs::any::Number::Int(n))) => u64::try_from(*n).ok(),
        Some(Any::Number(yrs::any::Number::Float(n))) if *n >= 0.0 && n.fract() == 0.0 => {
            Some(*n as u64)
        }
        _ => None,
    };
    let clock = |i: usize| number(i).and_then(|n| u32::try_from(n).ok());
    Some((number(0)?, clock(1)?, clock(2)?))
}

pub fn amendment(txn: &impl ReadTxn, id: &str) -> Option<Amendment> {
    read_amendment(txn, id, &entry(txn, keys::AMENDMENTS, id)?)
}

/// Every amendment, ordered by id.
pub fn amendments(txn: &impl ReadTxn) -> Vec<Amendment> {
    let Some(root) = txn.get_map(keys::AMENDMENTS) else {
        return Vec::new();
    };
    let mut all: Vec<Amendment> = root
        .iter(txn)
        .filter_map(|(id, value)| match value {
            Out::YMap(map) => read_amendment(txn, id, &map),
            _ => None,
        })
        .collect();
    all.sort_by(|a, b| a.id.cmp(&b.id));
    all
}

/// A plain value read back through serde (a lock, a decision), if it is one.
fn plain<T: serde::de::DeserializeOwned>(value: Option<Out>) -> Option<T> {
    match value? {
        Out::Any(any) => {
            let mut json = String::new();
            any.to_json(&mut json);
            serde_json::from_str(&json).ok()
        }
        _ => None,
    }
}

/// Whether `mission` joined the document as a delegation (one lookup: asked on every
/// delegation's command).
pub fn has_mission(txn: &impl ReadTxn, mission: &str) -> bool {
    txn.get_map(keys::MISSIONS)
        .is_some_and(|root| root.get(txn, mission).is_some())
}

/// The missions that joined the document as delegations, by name.
pub fn missions(txn: &impl ReadTxn) -> Vec<String> {
    let Some(root) = txn.get_map(keys::MISSIONS) else {
        return Vec::new();
    };
    let mut all: Vec<String> = root.keys(txn).map(String::from).collect();
    all.sort();
    all
}

/// The comments on one paragraph, oldest first.
pub fn comments(txn: &impl ReadTxn, paragraph: &str) -> Vec<Comment> {
    let Some(Out::YArray(list)) = txn
        .get_map(keys::COMMENTS)
        .and_then(|m| m.get(txn, paragraph))
    else {
        return Vec::new();
    };
    let resolutions = txn.get_map(keys::COMMENT_RESOLUTIONS);
    list.iter(txn)
        .enumerate()
        .filter_map(|(at, value)| {
            let mut comment: Comment = plain(Some(value))?;
            comment.id = format!("{}{}", keys::COMMENT_ID_PREFIX, at + 1);
            comment.resolved = resolutions
                .as_ref()
                .and_then(|r| plain(r.get(txn, &format!("{paragraph}/{}", comment.id))));
            Some(comment)
        })
        .collect()
}

/// The position of a paragraph in the reading order.
pub fn position(txn: &impl ReadTxn, id: &str) -> Option<u32> {
    txn.get_array(keys::ORDER)?
        .iter(txn)
        .position(|v| matches!(v, Out::Any(Any::String(s)) if &*s == id))
        .map(|p| p as u32)
}

/// A paragraph's body text, for writes.
pub fn body_text(txn: &impl ReadTxn, paragraph: &str) -> Option<TextRef> {
    text(&entry(txn, keys::PARAGRAPHS, paragraph)?, txn, keys::BODY)
}

/// An amendment's proposed text, for writes.
pub fn amendment_text(txn: &impl ReadTxn, amendment: &str) -> Option<TextRef> {
    text(&entry(txn, keys::AMENDMENTS, amendment)?, txn, keys::TEXT)
}

/// An amendment's rationale, for writes.
pub fn amendment_rationale(txn: &impl ReadTxn, amendment: &str) -> Option<TextRef> {
    text(
        &entry(txn, keys::AMENDMENTS, amendment)?,
        txn,
        keys::RATIONALE,
    )
}

/// One of an amendment's mission lists ([`keys::SPONSORS`], [`keys::SUPPORTERS`],
/// [`keys::OPPOSERS`]), for writes.
pub fn amendment_list(txn: &impl ReadTxn, amendment: &str, key: &str) -> Option<ArrayRef> {
    match entry(txn, keys::AMENDMENTS, amendment)?.get(txn, key) {
        Some(Out::YArray(list)) => Some(list),
        _ => None,
    }
}
