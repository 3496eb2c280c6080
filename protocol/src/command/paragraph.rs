//! The facilitators' commands on paragraphs: adding, moving, splitting, relabelling,
//! deleting (a tombstone) and restoring, locking and unlocking, and importing a whole
//! structured text into an empty document.

use yrs::{GetString, OffsetKind, ReadTxn, Text, TransactionMut};

use super::error::{refuse, schema_error, CommandError, ErrorCode};
use super::guards::{
    deleted, facilitators_only, open_paragraph, paragraph, reason_given, unknown_paragraph,
    unlocked_paragraph,
};
use super::limits::{within, MAX_BODY_BYTES, MAX_LABEL_BYTES};
use super::{next_paragraph_id, Context, Outcome};
use crate::schema::{self, Lock, NewParagraph, ParagraphKind, ParagraphStatus};

/// The reading-order position just after `after` (the start when `None`).
fn after_position(txn: &impl ReadTxn, after: Option<&str>) -> Result<u32, CommandError> {
    match after {
        None => Ok(0),
        Some(id) => schema::position(txn, id)
            .map(|p| p + 1)
            .ok_or_else(|| unknown_paragraph(id)),
    }
}

/// The byte index in `text` of the UTF-16 offset `at`, or `None` when `at` is past the end or
/// between the two halves of a surrogate pair (cutting there would destroy the character).
fn utf16_to_byte(text: &str, at: u32) -> Option<usize> {
    let at = at as usize;
    let mut units = 0;
    for (byte, c) in text.char_indices() {
        if units == at {
            return Some(byte);
        }
        if units > at {
            return None;
        }
        units += c.len_utf16();
    }
    (units == at).then_some(text.len())
}

pub(super) fn add(
    txn: &mut TransactionMut,
    ctx: &Context<'_>,
    after: Option<&str>,
    label: &str,
    kind: ParagraphKind,
    parent: Option<&str>,
    body: &str,
) -> Result<Outcome, CommandError> {
    facilitators_only(ctx)?;
    let at = after_position(txn, after)?;
    let id = next_paragraph_id(txn);
    let new = NewParagraph {
        id: id.clone(),
        label: label.to_string(),
        kind,
        parent: parent.map(String::from),
        body: body.to_string(),
    };
    schema::insert_paragraph(txn, at, &new).map_err(schema_error)?;
    Ok(Outcome::Created { id })
}

pub(super) fn move_after(
    txn: &mut TransactionMut,
    ctx: &Context<'_>,
    id: &str,
    after: Option<&str>,
) -> Result<Outcome, CommandError> {
    facilitators_only(ctx)?;
    // A tombstone may move (it holds no text), a locked paragraph may not.
    unlocked_paragraph(txn, id)?;
    if after == Some(id) {
        return Err(refuse(
            ErrorCode::InvalidArgument,
            "a paragraph cannot follow itself",
        ));
    }
    let target = after_position(txn, after)?;
    let from = schema::position(txn, id).unwrap_or(0);
    // Removing the paragraph first shifts what follows it by one.
    let at = if target > from { target - 1 } else { target };
    schema::move_paragraph(txn, id, at).map_err(schema_error)?;
    Ok(Outcome::Done)
}

pub(super) fn split(
    txn: &mut TransactionMut,
    ctx: &Context<'_>,
    id: &str,
    at: u32,
    label: &str,
) -> Result<Outcome, CommandError> {
    facilitators_only(ctx)?;
    let p = open_paragraph(txn, id)?;
    let body = schema::body_text(txn, id).ok_or_else(|| unknown_paragraph(id))?;
    let whole = body.get_string(txn);
    let units = whole.encode_utf16().count();
    if at == 0 || at as usize >= units {
        return Err(refuse(
            ErrorCode::InvalidArgument,
            format!("split inside the text (1..{units})"),
        ));
    }
    let byte = utf16_to_byte(&whole, at).ok_or_else(|| {
        refuse(
            ErrorCode::InvalidArgument,
            format!("offset {at} falls inside a character (a UTF-16 surrogate pair)"),
        )
    })?;
    let tail = whole[byte..].to_string();
    // yrs counts in the document's own unit; the command's offset is UTF-16 either way.
    let (from, len) = match txn.doc().offset_kind() {
        OffsetKind::Utf16 => (at, units),
        OffsetKind::Bytes => (byte as u32, whole.len()),
    };
    body.remove_range(txn, from, len as u32 - from);
    let new_id = next_paragraph_id(txn);
    let position = schema::position(txn, id).map(|p| p + 1).unwrap_or(0);
    let new = NewParagraph {
        id: new_id.clone(),
        label: label.to_string(),
        kind: p.kind,
        parent: p.parent.clone(),
        body: tail,
    };
    schema::insert_paragraph(txn, position, &new).map_err(schema_error)?;
    Ok(Outcome::Created { id: new_id })
}

pub(super) fn relabel(
    txn: &mut TransactionMut,
    ctx: &Context<'_>,
    id: &str,
    label: &str,
) -> Result<Outcome, CommandError> {
    facilitators_only(ctx)?;
    // A tombstone keeps its number, so that it is not given to another paragraph.
    open_paragraph(txn, id)?;
    if label.trim().is_empty() {
        return Err(refuse(
            ErrorCode::InvalidArgument,
            "a label cannot be empty",
        ));
    }
    schema::set_label(txn, id, label).map_err(schema_error)?;
    Ok(Outcome::Done)
}

pub(super) fn delete(
    txn: &mut TransactionMut,
    ctx: &Context<'_>,
    id: &str,
) -> Result<Outcome, CommandError> {
    facilitators_only(ctx)?;
    open_paragraph(txn, id)?;
    schema::set_status(txn, id, ParagraphStatus::Deleted).map_err(schema_error)?;
    Ok(Outcome::Done)
}

pub(super) fn set_status(
    txn: &mut TransactionMut,
    ctx: &Context<'_>,
    id: &str,
    status: ParagraphStatus,
    pending: &[String],
) -> Result<Outcome, CommandError> {
    facilitators_only(ctx)?;
    let p = unlocked_paragraph(txn, id)?;
    // From `deleted` to any other status restores the paragraph (its id, label and body were
    // kept); deleting a tombstone again is refused like `delete-paragraph`.
    if p.status == ParagraphStatus::Deleted && status == ParagraphStatus::Deleted {
        return Err(deleted(&p));
    }
    let pending = pending_missions(status, pending)?;
    schema::set_status_pending(txn, id, status, &pending).map_err(schema_error)?;
    Ok(Outcome::Done)
}

/// The missions an `agreed-pending` paragraph waits for: at least one, each a readable name,
/// none twice; and none for any other status.
fn pending_missions(
    status: ParagraphStatus,
    pending: &[String],
) -> Result<Vec<String>, CommandError> {
    if status != ParagraphStatus::AgreedPending {
        if !pending.is_empty() {
            return Err(refuse(
                ErrorCode::InvalidArgument,
                "only an agreed-pending paragraph waits for missions",
            ));
        }
        return Ok(Vec::new());
    }
    let mut missions: Vec<String> = Vec::with_capacity(pending.len());
    for m in pending {
        let m = super::guards::readable_name(m, "a pending mission")?;
        if !missions.iter().any(|known| known == m) {
            missions.push(m.to_string());
        }
    }
    if missions.is_empty() {
        return Err(refuse(
            ErrorCode::InvalidArgument,
            "agreed pending whom? name the missions agreement waits for",
        ));
    }
    Ok(missions)
}

pub(super) fn lock(
    txn: &mut TransactionMut,
    ctx: &Context<'_>,
    id: &str,
    reason: &str,
    status: Option<ParagraphStatus>,
) -> Result<Outcome, CommandError> {
    facilitators_only(ctx)?;
    reason_given(reason)?;
    open_paragraph(txn, id)?;
    if let Some(status) = status {
        // Agreed pending names missions, and deleting is its own command.
        if matches!(
            status,
            ParagraphStatus::AgreedPending | ParagraphStatus::Deleted
        ) {
            return Err(refuse(
                ErrorCode::InvalidArgument,
                format!(
                    "lock sets no {} status: use set-status first",
                    status.as_str()
                ),
            ));
        }
        schema::set_status_pending(txn, id, status, &[]).map_err(schema_error)?;
    }
    let lock = Lock {
        mission: ctx.actor.mission.to_string(),
        person: ctx.person.to_string(),
        at_ms: ctx.now_ms,
        reason: reason.to_string(),
    };
    schema::set_lock(txn, id, Some(&lock)).map_err(schema_error)?;
    Ok(Outcome::Done)
}

pub(super) fn unlock(
    txn: &mut TransactionMut,
    ctx: &Context<'_>,
    id: &str,
    reason: &str,
) -> Result<Outcome, CommandError> {
    facilitators_only(ctx)?;
    reason_given(reason)?;
    if !paragraph(txn, id)?.is_locked() {
        return Err(refuse(
            ErrorCode::NotLocked,
            format!("paragraph {id} is not locked"),
        ));
    }
    // Under silence the text stays as circulated until the server concludes the procedure.
    if let Some(silence) = super::silence::holding(txn, id) {
        return Err(refuse(
            ErrorCode::UnderSilence,
            format!("paragraph {id} is under silence procedure {silence}"),
        ));
    }
    schema::set_lock(txn, id, None).map_err(schema_error)?;
    Ok(Outcome::Done)
}

/// Fills an empty document from a structured text ([`crate::import`]).
pub(super) fn import_text(
    txn: &mut TransactionMut,
    ctx: &Context<'_>,
    text: &str,
) -> Result<Outcome, CommandError> {
    facilitators_only(ctx)?;
    if !schema::paragraphs(txn).is_empty() {
        return Err(refuse(
            ErrorCode::DocumentNotEmpty,
            "import fills an empty document only",
        ));
    }
    let parsed = crate::import::parse(text)
        .map_err(|e| refuse(ErrorCode::InvalidArgument, e.to_string()))?;
    // Checked before the first write: a refused import leaves the document empty.
    for paragraph in &parsed {
        within("an imported label", &paragraph.label, MAX_LABEL_BYTES)?;
        within("an imported paragraph", &paragraph.body, MAX_BODY_BYTES)?;
    }
    let mut ids: Vec<String> = Vec::with_capacity(parsed.len());
    for (position, paragraph) in parsed.iter().enumerate() {
        let id = next_paragraph_id(txn);
        let new = NewParagraph {
            id: id.clone(),
            label: paragraph.label.clone(),
            kind: paragraph.kind,
            parent: paragraph.parent.and_then(|i| ids.get(i).cloned()),
            body: paragraph.body.clone(),
        };
        schema::insert_paragraph(txn, position as u32, &new).map_err(schema_error)?;
        ids.push(id);
    }
    Ok(Outcome::Imported {
        paragraphs: ids.len(),
    })
}
