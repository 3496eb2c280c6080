//! Letters to missions: the facilitators publish notices (a subject, a Markdown body, what they
//! attach, whom they are addressed to), and each mission marks what it has read.
//!
//! Addressing decides who is notified and whom the read API and the page show a notice to; it
//! is not secrecy: every delegation's replica holds the whole document, notices included.

use std::collections::BTreeMap;

use yrs::{ReadTxn, TransactionMut};

use super::error::{refuse, CommandError, ErrorCode};
use super::guards::{facilitators_only, readable_name};
use super::process::{publisher, round, store};
use super::{next_id, Context, Outcome};
use crate::process::{Attachment, Notice, EXPORT_FORMATS};
use crate::schema::{self, keys};

/// A notice to publish.
pub(super) struct Letter<'a> {
    pub subject: &'a str,
    pub body: &'a str,
    pub to: &'a [String],
    pub attachments: &'a [Attachment],
    pub round: Option<&'a str>,
    pub revision: Option<&'a str>,
    pub silence: Option<&'a str>,
}

pub(super) fn revision_exists(txn: &impl ReadTxn, id: &str) -> Result<(), CommandError> {
    match schema::revision(txn, id) {
        Some(_) => Ok(()),
        None => Err(refuse(
            ErrorCode::UnknownRevision,
            format!("no revision {id}"),
        )),
    }
}

pub(super) fn publish(
    txn: &mut TransactionMut,
    ctx: &Context<'_>,
    letter: &Letter<'_>,
) -> Result<Outcome, CommandError> {
    facilitators_only(ctx)?;
    let id = write(txn, ctx, letter)?;
    Ok(Outcome::Created { id })
}

/// Checks and stores a notice (also the ones a silence procedure sends), returning its id.
pub(super) fn write(
    txn: &mut TransactionMut,
    ctx: &Context<'_>,
    letter: &Letter<'_>,
) -> Result<String, CommandError> {
    let subject = readable_name(letter.subject, "a notice's subject")?;
    let body = letter.body.trim();
    if body.is_empty() {
        return Err(refuse(ErrorCode::InvalidArgument, "a notice needs a body"));
    }
    let mut to: Vec<String> = Vec::with_capacity(letter.to.len());
    for mission in letter.to {
        let mission = readable_name(mission, "a mission")?;
        // A letter to a mission the document does not know would reach nobody: refused,
        // so that a typo is seen rather than a letter silently lost.
        if !schema::has_mission(txn, mission) {
            return Err(refuse(
                ErrorCode::UnknownMission,
                format!("{mission} has not joined this negotiation as a delegation"),
            ));
        }
        if !to.iter().any(|m| m == mission) {
            to.push(mission.to_string());
        }
    }
    for attachment in letter.attachments {
        match attachment {
            Attachment::Revision { revision } => revision_exists(txn, revision)?,
            Attachment::Export { format, revision } => {
                if !EXPORT_FORMATS.contains(&format.as_str()) {
                    return Err(refuse(
                        ErrorCode::InvalidArgument,
                        format!(
                            "no export format {format}: use {}",
                            EXPORT_FORMATS.join(", ")
                        ),
                    ));
                }
                if let Some(revision) = revision {
                    revision_exists(txn, revision)?;
                }
            }
        }
    }
    if let Some(id) = letter.round {
        round(txn, id)?;
    }
    if let Some(id) = letter.revision {
        revision_exists(txn, id)?;
    }
    let id = next_id(txn, keys::NOTICES, keys::NOTICE_ID_PREFIX);
    let notice = Notice {
        id: id.clone(),
        subject: subject.to_string(),
        body: body.to_string(),
        to,
        attachments: letter.attachments.to_vec(),
        round: letter.round.map(String::from),
        revision: letter.revision.map(String::from),
        silence: letter.silence.map(String::from),
        published_by: publisher(ctx),
        published_at_ms: ctx.now_ms,
        read_by: BTreeMap::new(),
    };
    store(txn, keys::NOTICES, &id, &notice)?;
    Ok(id)
}

/// The mission has read the notice: recorded once, with when.
pub(super) fn read(
    txn: &mut TransactionMut,
    ctx: &Context<'_>,
    id: &str,
) -> Result<Outcome, CommandError> {
    let notice: Notice = crate::process::notice(txn, id)
        .ok_or_else(|| refuse(ErrorCode::UnknownNotice, format!("no notice {id}")))?;
    let mission = ctx.actor.mission;
    if !notice.is_for(mission) {
        return Err(refuse(
            ErrorCode::NotAddressed,
            format!("{id} is not addressed to {mission}"),
        ));
    }
    if !notice.read_by.contains_key(mission) {
        // A mark of its own, not the letter rewritten: the document keeps every value.
        let key = format!("{id}/{mission}");
        schema::set_process_mark(txn, keys::NOTICE_READS, &key, Some(&ctx.now_ms))
            .map_err(|e| refuse(ErrorCode::InvalidArgument, e.to_string()))?;
    }
    Ok(Outcome::Done)
}
