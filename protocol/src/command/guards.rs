//! The checks commands share before they write: who may ask (role), whether the paragraph or
//! amendment exists, and whether it may change now (lock, tombstone, amendment status), each
//! refusing with its code.

use yrs::ReadTxn;

use super::error::{refuse, CommandError, ErrorCode};
use super::Context;
use crate::schema::{self, AmendmentStatus, ParagraphStatus};
use crate::session::Role;

pub(super) fn facilitators_only(ctx: &Context<'_>) -> Result<(), CommandError> {
    if ctx.actor.role == Role::Facilitator {
        Ok(())
    } else {
        Err(refuse(
            ErrorCode::ForbiddenRole,
            "only facilitators may do this",
        ))
    }
}

pub(super) fn participants_only(ctx: &Context<'_>) -> Result<(), CommandError> {
    if ctx.actor.role == Role::Observer {
        Err(refuse(
            ErrorCode::ForbiddenRole,
            "observers follow the text; they cannot change it",
        ))
    } else {
        Ok(())
    }
}

/// A paragraph that exists (tombstones included).
pub(super) fn paragraph(txn: &impl ReadTxn, id: &str) -> Result<schema::Paragraph, CommandError> {
    schema::paragraph(txn, id).ok_or_else(|| unknown_paragraph(id))
}

pub(super) fn unknown_paragraph(id: &str) -> CommandError {
    refuse(ErrorCode::UnknownParagraph, format!("no paragraph {id}"))
}

pub(super) fn deleted(p: &schema::Paragraph) -> CommandError {
    refuse(
        ErrorCode::ParagraphDeleted,
        format!("paragraph {} is deleted", p.label),
    )
}

/// A paragraph that may change at all: it exists and is not locked. A lock freezes
/// everything about a paragraph (status, label, place, body) until a facilitator unlocks it
/// with a reason, so every command that changes one goes through here.
pub(super) fn unlocked_paragraph(
    txn: &impl ReadTxn,
    id: &str,
) -> Result<schema::Paragraph, CommandError> {
    let p = paragraph(txn, id)?;
    if p.is_locked() {
        return Err(refuse(
            ErrorCode::ParagraphLocked,
            format!("paragraph {} is locked", p.label),
        ));
    }
    Ok(p)
}

/// A paragraph whose text may change: it exists, is not deleted, and is not locked.
/// A paragraph of the text as it stands: it exists and is not deleted (it may be locked).
pub(super) fn standing_paragraph(
    txn: &impl ReadTxn,
    id: &str,
) -> Result<schema::Paragraph, CommandError> {
    let p = paragraph(txn, id)?;
    if p.status == ParagraphStatus::Deleted {
        return Err(deleted(&p));
    }
    Ok(p)
}

pub(super) fn open_paragraph(
    txn: &impl ReadTxn,
    id: &str,
) -> Result<schema::Paragraph, CommandError> {
    standing_paragraph(txn, id)?;
    unlocked_paragraph(txn, id)
}

/// An amendment that exists, whatever its status.
pub(super) fn amendment(txn: &impl ReadTxn, id: &str) -> Result<schema::Amendment, CommandError> {
    schema::amendment(txn, id)
        .ok_or_else(|| refuse(ErrorCode::UnknownAmendment, format!("no amendment {id}")))
}

/// An amendment still under discussion: not accepted, rejected or withdrawn.
pub(super) fn open_amendment(
    txn: &impl ReadTxn,
    id: &str,
) -> Result<schema::Amendment, CommandError> {
    let a = amendment(txn, id)?;
    if a.status != AmendmentStatus::Open {
        return Err(refuse(
            ErrorCode::AmendmentClosed,
            format!("amendment {id} is {}", a.status.as_str()),
        ));
    }
    Ok(a)
}

/// Locks and unlocks say why; the reason is recorded with the lock.
pub(super) fn reason_given(reason: &str) -> Result<(), CommandError> {
    if reason.trim().is_empty() {
        Err(refuse(
            ErrorCode::ReasonRequired,
            "say why (it is recorded with the lock)",
        ))
    } else {
        Ok(())
    }
}

/// A name people read (a revision's, a theme's), trimmed: not empty, and without control
/// characters, bidi controls or zero-width characters. A revision's name is frozen with it for
/// good and printed on terminals (`concord revisions`): an escape sequence or a NUL there could
/// never be corrected, and a right-to-left override or a zero-width space would make two names
/// that read alike. Joiners (U+200C, U+200D) stay: scripts and emoji need them.
pub(super) fn readable_name<'a>(name: &'a str, what: &str) -> Result<&'a str, CommandError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(refuse(
            ErrorCode::InvalidArgument,
            format!("{what} needs a name"),
        ));
    }
    if let Some(c) = name.chars().find(|&c| c.is_control() || is_hidden(c)) {
        return Err(refuse(
            ErrorCode::InvalidArgument,
            format!(
                "{what}'s name cannot hold U+{:04X} (control, bidi and zero-width characters \
                 are not names)",
                c as u32
            ),
        ));
    }
    Ok(name)
}

/// `text` without control, bidi and zero-width characters: for names the server writes
/// itself from what others typed (paragraph labels in a notice's subject).
pub(super) fn printable(text: &str) -> String {
    text.chars()
        .filter(|&c| !c.is_control() && !is_hidden(c))
        .collect()
}

/// Bidi controls and characters that render as nothing.
fn is_hidden(c: char) -> bool {
    matches!(
        c,
        '\u{00ad}'
            | '\u{061c}'
            | '\u{200b}'
            | '\u{200e}'
            | '\u{200f}'
            | '\u{202a}'..='\u{202e}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{2069}'
            | '\u{feff}'
    )
}
