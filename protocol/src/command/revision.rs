//! The facilitators' commands on revisions: preparing the next one (its cover letter, a note
//! on any paragraph, themes), publishing it, and what observers read.
//!
//! Publishing freezes the text as it reads at that moment into one value written once under
//! a new revision id; the change notes are the server's draft against the previous revision
//! with the facilitators' notes added, and the cover letter is what they typed (or the `note`
//! the command carries). Then the draft starts again, empty, for the next revision.

use yrs::TransactionMut;

use super::error::{refuse, CommandError, ErrorCode};
use super::guards::{facilitators_only, paragraph, readable_name};
use super::limits::{within, MAX_COVER_NOTE_BYTES};
use super::{Context, Outcome};
use crate::revision::{change_notes, live_text, Publisher, Revision, Theme};
use crate::schema::{self, keys, AmendmentStatus, ObserverView};

pub(super) fn publish(
    txn: &mut TransactionMut,
    ctx: &Context<'_>,
    name: &str,
    note: Option<&str>,
) -> Result<Outcome, CommandError> {
    facilitators_only(ctx)?;
    let name = readable_name(name, "a revision")?;
    let published = schema::revisions(txn);
    if published.iter().any(|r| r.name.eq_ignore_ascii_case(name)) {
        return Err(refuse(
            ErrorCode::RevisionNameTaken,
            format!("a revision named {name} was published already"),
        ));
    }
    let paragraphs = live_text(txn);
    if paragraphs.is_empty() {
        return Err(refuse(
            ErrorCode::InvalidArgument,
            "there is no text to publish yet",
        ));
    }
    let previous = published.last();
    let mut notes = change_notes(previous.map(|r| r.paragraphs.as_slice()), &paragraphs);
    let mut drafted = schema::change_notes_drafted(txn);
    for note in &mut notes {
        note.note = drafted.remove(&note.paragraph);
    }
    // Facilitators type the letter freely; frozen, it is held to the limit of the `note`.
    let cover_note = note.map_or_else(|| schema::cover_note(txn), String::from);
    within("the cover letter", &cover_note, MAX_COVER_NOTE_BYTES)?;
    let number = previous.map_or(1, |r| r.number + 1);
    let id = format!("{}{number}", keys::REVISION_ID_PREFIX);
    let revision = Revision {
        id: id.clone(),
        number,
        name: name.to_string(),
        previous: previous.map(|r| r.id.clone()),
        published_at_ms: ctx.now_ms,
        published_by: Publisher {
            mission: ctx.actor.mission.to_string(),
            person: ctx.person.to_string(),
        },
        cover_note,
        paragraphs,
        amendments: schema::amendments(txn)
            .into_iter()
            .filter(|a| a.status == AmendmentStatus::Open)
            .collect(),
        change_notes: notes,
        themes: schema::themes(txn),
    };
    let json = serde_json::to_string(&revision)
        .map_err(|e| refuse(ErrorCode::InvalidArgument, e.to_string()))?;
    if !schema::store_revision(txn, &id, &json) {
        return Err(refuse(
            ErrorCode::RevisionNameTaken,
            format!("revision {id} exists already"),
        ));
    }
    schema::start_next_revision(txn);
    Ok(Outcome::Created { id })
}

/// Makes the next revision's cover letter for the facilitators to type, if there is none.
pub(super) fn prepare(
    txn: &mut TransactionMut,
    ctx: &Context<'_>,
) -> Result<Outcome, CommandError> {
    facilitators_only(ctx)?;
    schema::prepare_cover_note(txn);
    Ok(Outcome::Done)
}

/// The facilitators' own note on a paragraph for the next revision (empty clears it).
pub(super) fn note_change(
    txn: &mut TransactionMut,
    ctx: &Context<'_>,
    id: &str,
    note: &str,
) -> Result<Outcome, CommandError> {
    facilitators_only(ctx)?;
    paragraph(txn, id)?;
    schema::set_change_note(txn, id, note.trim());
    Ok(Outcome::Done)
}

/// Defines a theme (when `theme` is `None`) or redefines one: its name and the paragraphs or
/// headings that address it.
pub(super) fn set_theme(
    txn: &mut TransactionMut,
    ctx: &Context<'_>,
    theme: Option<&str>,
    name: &str,
    paragraphs: &[String],
) -> Result<Outcome, CommandError> {
    facilitators_only(ctx)?;
    let name = readable_name(name, "a theme")?;
    let themes = schema::themes(txn);
    let id = match theme {
        Some(id) if themes.iter().any(|t| t.id == id) => id.to_string(),
        Some(id) => return Err(refuse(ErrorCode::UnknownTheme, format!("no theme {id}"))),
        None => super::next_id(txn, keys::THEMES, keys::THEME_ID_PREFIX),
    };
    if themes
        .iter()
        .any(|t| t.id != id && t.name.eq_ignore_ascii_case(name))
    {
        return Err(refuse(
            ErrorCode::InvalidArgument,
            format!("a theme named {name} exists already"),
        ));
    }
    let mut ids: Vec<String> = Vec::with_capacity(paragraphs.len());
    for p in paragraphs {
        paragraph(txn, p)?;
        if !ids.contains(p) {
            ids.push(p.clone());
        }
    }
    let created = theme.is_none();
    schema::set_theme(
        txn,
        &Theme {
            id: id.clone(),
            name: name.to_string(),
            paragraphs: ids,
        },
    );
    Ok(if created {
        Outcome::Created { id }
    } else {
        Outcome::Done
    })
}

pub(super) fn set_observers(
    txn: &mut TransactionMut,
    ctx: &Context<'_>,
    view: ObserverView,
) -> Result<Outcome, CommandError> {
    facilitators_only(ctx)?;
    if schema::observer_view(txn) != view {
        schema::set_observer_view(txn, view);
    }
    Ok(Outcome::Done)
}
