//! The server's writes to the negotiation document, made only while applying a command (under
//! the server's own client id): new paragraphs and amendments, status, label, place and lock,
//! staleness, and comments. Each refuses an unknown or duplicate id with a [`SchemaError`].

use std::collections::HashMap;

use yrs::{
    Any, Array, ArrayPrelim, ArrayRef, GetString, Map, MapPrelim, MapRef, Out, Text, TextPrelim,
};

use crate::attribution::utf16_len;
use yrs::{TransactionMut, WriteTxn};

use super::keys;
use super::read::{entry, paragraph};
use super::{
    AmendmentStatus, Comment, Decision, Lock, ParagraphKind, ParagraphStatus, SchemaError,
};

/// A paragraph to create.
#[derive(Debug, Clone)]
pub struct NewParagraph {
    pub id: String,
    pub label: String,
    pub kind: ParagraphKind,
    pub parent: Option<String>,
    pub body: String,
}

/// Inserts a paragraph at position `at` of the reading order (clamped to the end).
pub fn insert_paragraph(
    txn: &mut TransactionMut,
    at: u32,
    new: &NewParagraph,
) -> Result<(), SchemaError> {
    let root = txn.get_or_insert_map(keys::PARAGRAPHS);
    if root.get(txn, &new.id).is_some() {
        return Err(SchemaError::DuplicateParagraph(new.id.clone()));
    }
    let order = txn.get_or_insert_array(keys::ORDER);
    let map = root.insert(txn, new.id.as_str(), MapPrelim::default());
    map.insert(txn, keys::LABEL, new.label.as_str());
    map.insert(txn, keys::KIND, new.kind.as_str());
    if let Some(parent) = &new.parent {
        map.insert(txn, keys::PARENT, parent.as_str());
    }
    map.insert(txn, keys::STATUS, ParagraphStatus::Open.as_str());
    map.insert(txn, keys::BODY, TextPrelim::new(new.body.as_str()));
    let at = at.min(order.len(txn));
    order.insert(txn, at, new.id.as_str());
    Ok(())
}

fn paragraph_map(txn: &mut TransactionMut, id: &str) -> Result<MapRef, SchemaError> {
    entry(txn, keys::PARAGRAPHS, id).ok_or_else(|| SchemaError::UnknownParagraph(id.to_string()))
}

fn amendment_map(txn: &mut TransactionMut, id: &str) -> Result<MapRef, SchemaError> {
    entry(txn, keys::AMENDMENTS, id).ok_or_else(|| SchemaError::UnknownAmendment(id.into()))
}

pub fn set_status(
    txn: &mut TransactionMut,
    id: &str,
    status: ParagraphStatus,
) -> Result<(), SchemaError> {
    set_status_pending(txn, id, status, &[])
}

/// Sets a paragraph's status, with the missions agreement waits for when it is
/// `agreed-pending` (the list is dropped for any other status).
pub fn set_status_pending(
    txn: &mut TransactionMut,
    id: &str,
    status: ParagraphStatus,
    pending: &[String],
) -> Result<(), SchemaError> {
    let map = paragraph_map(txn, id)?;
    map.insert(txn, keys::STATUS, status.as_str());
    if status == ParagraphStatus::AgreedPending {
        let missions: Vec<Any> = pending.iter().map(|m| Any::from(m.as_str())).collect();
        map.insert(txn, keys::PENDING, Any::from(missions));
    } else if map.get(txn, keys::PENDING).is_some() {
        map.remove(txn, keys::PENDING);
    }
    Ok(())
}

pub fn set_label(txn: &mut TransactionMut, id: &str, label: &str) -> Result<(), SchemaError> {
    let map = paragraph_map(txn, id)?;
    map.insert(txn, keys::LABEL, label);
    Ok(())
}

/// Locks (`Some`) or unlocks (`None`) a paragraph.
pub fn set_lock(
    txn: &mut TransactionMut,
    id: &str,
    lock: Option<&Lock>,
) -> Result<(), SchemaError> {
    let map = paragraph_map(txn, id)?;
    match lock {
        Some(lock) => {
            let value: Any = Any::from(HashMap::from([
                (keys::MISSION.to_string(), Any::from(lock.mission.as_str())),
                (keys::PERSON.to_string(), Any::from(lock.person.as_str())),
                (keys::AT_MS.to_string(), Any::from(lock.at_ms as f64)),
                (keys::REASON.to_string(), Any::from(lock.reason.as_str())),
            ]));
            map.insert(txn, keys::LOCK, value);
        }
        None => {
            map.remove(txn, keys::LOCK);
        }
    }
    Ok(())
}

/// An amendment to create. Its text starts as a copy of the paragraph's body.
#[derive(Debug, Clone)]
pub struct NewAmendment {
    pub id: String,
    pub paragraph: String,
    pub new_after: bool,
    pub author: String,
    pub on_behalf_of: Option<String>,
    pub rationale: String,
    pub base_revision: Option<String>,
}

pub fn create_amendment(txn: &mut TransactionMut, new: &NewAmendment) -> Result<(), SchemaError> {
    let body = paragraph(txn, &new.paragraph)
        .ok_or_else(|| SchemaError::UnknownParagraph(new.paragraph.clone()))?
        .body;
    let root = txn.get_or_insert_map(keys::AMENDMENTS);
    if root.get(txn, &new.id).is_some() {
        return Err(SchemaError::DuplicateAmendment(new.id.clone()));
    }
    let map = root.insert(txn, new.id.as_str(), MapPrelim::default());
    map.insert(txn, keys::PARAGRAPH, new.paragraph.as_str());
    map.insert(txn, keys::NEW_AFTER, new.new_after);
    let sponsors = map.insert(txn, keys::SPONSORS, ArrayPrelim::default());
    sponsors.push_back(txn, new.author.as_str());
    if let Some(group) = &new.on_behalf_of {
        map.insert(txn, keys::ON_BEHALF_OF, group.as_str());
    }
    let text = if new.new_after {
        String::new()
    } else {
        // What the amendment amends: accepting it later shows what changed in the body since.
        map.insert(txn, keys::BASE_BODY, body.as_str());
        body
    };
    map.insert(txn, keys::TEXT, TextPrelim::new(text.as_str()));
    map.insert(
        txn,
        keys::RATIONALE,
        TextPrelim::new(new.rationale.as_str()),
    );
    map.insert(txn, keys::SUPPORTERS, ArrayPrelim::default());
    map.insert(txn, keys::OPPOSERS, ArrayPrelim::default());
    map.insert(txn, keys::STATUS, AmendmentStatus::Open.as_str());
    if let Some(revision) = &new.base_revision {
        map.insert(txn, keys::BASE_REVISION, revision.as_str());
    }
    Ok(())
}

/// Records the reading during which an amendment was proposed.
pub fn set_amendment_reading(
    txn: &mut TransactionMut,
    id: &str,
    reading: &str,
) -> Result<(), SchemaError> {
    let map = amendment_map(txn, id)?;
    map.insert(txn, keys::READING, reading);
    Ok(())
}

/// Marks an amendment as based on an older body (another amendment was accepted meanwhile).
pub fn set_stale(txn: &mut TransactionMut, id: &str) -> Result<(), SchemaError> {
    let map = amendment_map(txn, id)?;
    map.insert(txn, keys::STALE, true);
    Ok(())
}

/// Moves a paragraph to position `at` of the reading order.
pub fn move_paragraph(txn: &mut TransactionMut, id: &str, at: u32) -> Result<(), SchemaError> {
    let order = txn.get_or_insert_array(keys::ORDER);
    let position = order
        .iter(txn)
        .position(|v| matches!(v, Out::Any(Any::String(s)) if &*s == id))
        .ok_or_else(|| SchemaError::UnknownParagraph(id.to_string()))?;
    order.remove(txn, position as u32);
    let at = at.min(order.len(txn));
    order.insert(txn, at, id);
    Ok(())
}

pub fn set_amendment_status(
    txn: &mut TransactionMut,
    id: &str,
    status: AmendmentStatus,
) -> Result<(), SchemaError> {
    let map = amendment_map(txn, id)?;
    map.insert(txn, keys::STATUS, status.as_str());
    Ok(())
}

/// Appends a comment to a paragraph's thread.
pub fn add_comment(
    txn: &mut TransactionMut,
    paragraph_id: &str,
    comment: &Comment,
) -> Result<(), SchemaError> {
    if entry(txn, keys::PARAGRAPHS, paragraph_id).is_none() {
        return Err(SchemaError::UnknownParagraph(paragraph_id.to_string()));
    }
    let root = txn.get_or_insert_map(keys::COMMENTS);
    let list: ArrayRef = match root.get(txn, paragraph_id) {
        Some(Out::YArray(list)) => list,
        _ => root.insert(txn, paragraph_id, ArrayPrelim::default()),
    };
    let mut fields = HashMap::from([
        (
            keys::MISSION.to_string(),
            Any::from(comment.mission.as_str()),
        ),
        (keys::PERSON.to_string(), Any::from(comment.person.as_str())),
        (keys::AT_MS.to_string(), Any::from(comment.at_ms as f64)),
        (keys::TEXT.to_string(), Any::from(comment.text.as_str())),
    ]);
    if let Some(reply_to) = &comment.reply_to {
        fields.insert(keys::REPLY_TO.to_string(), Any::from(reply_to.as_str()));
    }
    list.push_back(txn, Any::from(fields));
    Ok(())
}

/// A decision as a plain value.
fn decision_value(decision: &Decision) -> Any {
    let mut fields = HashMap::from([
        (
            keys::MISSION.to_string(),
            Any::from(decision.mission.as_str()),
        ),
        (
            keys::PERSON.to_string(),
            Any::from(decision.person.as_str()),
        ),
        (keys::AT_MS.to_string(), Any::from(decision.at_ms as f64)),
        (
            keys::REASON.to_string(),
            Any::from(decision.reason.as_str()),
        ),
    ]);
    if let Some(status) = decision.status {
        fields.insert(keys::STATUS.to_string(), Any::from(status.as_str()));
    }
    Any::from(fields)
}

/// Records the last decision on an amendment.
pub fn set_decision(
    txn: &mut TransactionMut,
    amendment: &str,
    decision: &Decision,
) -> Result<(), SchemaError> {
    let map = amendment_map(txn, amendment)?;
    map.insert(txn, keys::DECISION, decision_value(decision));
    Ok(())
}

/// The missions invited to co-sponsor an amendment, written whole.
pub fn set_invited(
    txn: &mut TransactionMut,
    amendment: &str,
    invited: &[String],
) -> Result<(), SchemaError> {
    let map = amendment_map(txn, amendment)?;
    let missions: Vec<Any> = invited.iter().map(|m| Any::from(m.as_str())).collect();
    map.insert(txn, keys::INVITED, Any::from(missions));
    Ok(())
}

/// Adds a co-sponsor (an invitation accepted).
pub fn add_sponsor(
    txn: &mut TransactionMut,
    amendment: &str,
    mission: &str,
) -> Result<(), SchemaError> {
    let list = super::read::amendment_list(txn, amendment, keys::SPONSORS)
        .ok_or_else(|| SchemaError::UnknownAmendment(amendment.into()))?;
    list.push_back(txn, mission);
    Ok(())
}

/// Marks comment `comment` of `paragraph`'s thread resolved.
pub fn resolve_comment(txn: &mut TransactionMut, paragraph: &str, comment: &str, by: &Decision) {
    let root = txn.get_or_insert_map(keys::COMMENT_RESOLUTIONS);
    root.insert(txn, format!("{paragraph}/{comment}"), decision_value(by));
}

/// Records that a mission joined the document as a delegation (once).
pub fn record_mission(txn: &mut TransactionMut, mission: &str, at_ms: u64) -> bool {
    let root = txn.get_or_insert_map(keys::MISSIONS);
    if root.get(txn, mission).is_some() {
        return false;
    }
    root.insert(txn, mission, Any::from(at_ms as f64));
    true
}

/// Rewrites `text` into `new` as one splice: the stretch between their common prefix and
/// suffix replaced (what a person's run of keystrokes makes, and the least a view rewrites).
pub fn rewrite_text(txn: &mut TransactionMut, text: &yrs::TextRef, new: &str) {
    let old = text.get_string(txn);
    let prefix: usize = old
        .chars()
        .zip(new.chars())
        .take_while(|(a, b)| a == b)
        .map(|(a, _)| a.len_utf8())
        .sum();
    let suffix: usize = old[prefix..]
        .chars()
        .rev()
        .zip(new[prefix..].chars().rev())
        .take_while(|(a, b)| a == b)
        .map(|(a, _)| a.len_utf8())
        .sum();
    let at = utf16_len(&old[..prefix]);
    let removed = utf16_len(&old[prefix..old.len() - suffix]);
    if removed > 0 {
        text.remove_range(txn, at, removed);
    }
    let inserted = &new[prefix..new.len() - suffix];
    if !inserted.is_empty() {
        text.insert(txn, at, inserted);
    }
}
