//! The silence procedure: facilitators put a revision (the latest, as it still reads) or some
//! paragraphs under silence until a deadline; the text is locked meanwhile, so what is adopted
//! is what was circulated; every mission is notified; a delegation may break silence with a
//! statement; at the deadline the server alone concludes it: adopted (statuses agreed,
//! paragraphs locked) if nobody broke it, else nothing adopted and the procedure's own locks
//! lifted; proposals still open on adopted text lapse (rejected by the server, with the
//! reason). The server runs the deadline (`server/src/silence.rs`); concluding twice is refused,
//! so however many times it is asked, the text is adopted once.

use std::collections::BTreeSet;

use yrs::{ReadTxn, TransactionMut};

use super::amendment;
use super::error::{refuse, schema_error, CommandError, ErrorCode};
use super::guards::facilitators_only;
use super::guards::{paragraph, printable};
use super::notice::{self, revision_exists, Letter};
use super::process::{publisher, store};
use super::{next_id, Context, Outcome};
use crate::policy::SERVER_OWNER;
use crate::process::{
    utc_minute, Attachment, Silence, SilenceBreak, SilenceOutcome, DEFAULT_SILENCE_SECONDS,
    MAX_SILENCE_SECONDS,
};
use crate::schema::{self, keys, AmendmentStatus, Lock, ParagraphKind, ParagraphStatus};
use crate::session::Role;

fn silence(txn: &impl ReadTxn, id: &str) -> Result<Silence, CommandError> {
    crate::process::silence(txn, id).ok_or_else(|| {
        refuse(
            ErrorCode::UnknownSilence,
            format!("no silence procedure {id}"),
        )
    })
}

/// The paragraphs a silence procedure concerns (for the audit), if it exists.
pub(super) fn paragraphs_of(txn: &impl ReadTxn, id: &str) -> Vec<String> {
    silence(txn, id).map(|s| s.paragraphs).unwrap_or_default()
}

/// The open procedure holding a paragraph, if any.
pub(super) fn holding(txn: &impl ReadTxn, paragraph: &str) -> Option<String> {
    let all: Vec<Silence> = schema::process_values(txn, keys::SILENCES, keys::SILENCE_ID_PREFIX);
    all.into_iter()
        .find(|s| s.is_open() && s.paragraphs.iter().any(|p| p == paragraph))
        .map(|s| s.id)
}

/// The reason recorded with the locks a procedure sets.
fn lock_reason(id: &str, deadline_ms: u64) -> String {
    format!(
        "under silence procedure ({id}) until {}",
        utc_minute(deadline_ms)
    )
}

/// "paragraphs 3, 4 and 7".
fn labels(txn: &impl ReadTxn, ids: &[String]) -> String {
    let labels: Vec<String> = ids
        .iter()
        .filter_map(|id| schema::paragraph(txn, id).map(|p| p.label))
        .collect();
    match labels.as_slice() {
        [] => "no paragraphs".into(),
        [one] => format!("paragraph {one}"),
        [init @ .., last] => format!("paragraphs {} and {last}", init.join(", ")),
    }
}

/// The standing paragraphs a silence would adopt: a revision's (which must be the latest and
/// still read as published), or those listed (a heading stands for its section).
fn paragraphs_to_adopt(
    txn: &impl ReadTxn,
    revision: Option<&str>,
    listed: &[String],
) -> Result<Vec<String>, CommandError> {
    let live = schema::paragraphs(txn);
    let standing = |p: &schema::Paragraph| {
        p.kind != ParagraphKind::Heading && p.status != ParagraphStatus::Deleted
    };
    match (revision, listed.is_empty()) {
        (Some(id), true) => {
            revision_exists(txn, id)?;
            let revisions = schema::revisions(txn);
            let latest = revisions.last().filter(|r| r.id == id).ok_or_else(|| {
                refuse(
                    ErrorCode::InvalidArgument,
                    format!("{id} is not the latest revision: only the latest goes under silence"),
                )
            })?;
            let mut ids = Vec::new();
            for frozen in latest
                .paragraphs
                .iter()
                .filter(|p| p.kind != ParagraphKind::Heading)
                .filter(|p| p.status != ParagraphStatus::Deleted)
            {
                let now = live.iter().find(|p| p.id == frozen.id);
                match now {
                    Some(p) if standing(p) && p.body == frozen.body => ids.push(p.id.clone()),
                    _ => {
                        return Err(refuse(
                            ErrorCode::BodyMovedOn,
                            format!(
                                "paragraph {} no longer reads as in {}: publish a revision of the \
                                 text as it stands first",
                                frozen.label, latest.name
                            ),
                        ))
                    }
                }
            }
            Ok(ids)
        }
        (None, false) => {
            let mut ids: Vec<String> = Vec::new();
            let mut add = |id: &str| {
                if !ids.iter().any(|known| known == id) {
                    ids.push(id.to_string());
                }
            };
            for id in listed {
                let p = paragraph(txn, id)?;
                if p.kind == ParagraphKind::Heading {
                    for child in live
                        .iter()
                        .filter(|c| c.parent.as_deref() == Some(id.as_str()) && standing(c))
                    {
                        add(&child.id);
                    }
                } else if standing(&p) {
                    add(id);
                } else {
                    return Err(super::guards::deleted(&p));
                }
            }
            if ids.is_empty() {
                return Err(refuse(
                    ErrorCode::InvalidArgument,
                    "those headings have no paragraphs to adopt",
                ));
            }
            Ok(ids)
        }
        _ => Err(refuse(
            ErrorCode::InvalidArgument,
            "put either a revision or some paragraphs under silence",
        )),
    }
}

pub(super) fn start(
    txn: &mut TransactionMut,
    ctx: &Context<'_>,
    revision: Option<&str>,
    listed: &[String],
    seconds: Option<u64>,
) -> Result<Outcome, CommandError> {
    facilitators_only(ctx)?;
    let seconds = seconds.unwrap_or(DEFAULT_SILENCE_SECONDS);
    if !(1..=MAX_SILENCE_SECONDS).contains(&seconds) {
        return Err(refuse(
            ErrorCode::InvalidArgument,
            format!("a silence procedure lasts 1 to {MAX_SILENCE_SECONDS} seconds"),
        ));
    }
    let ids = paragraphs_to_adopt(txn, revision, listed)?;
    let open: Vec<Silence> = schema::process_values(txn, keys::SILENCES, keys::SILENCE_ID_PREFIX);
    for other in open.iter().filter(|s| s.is_open()) {
        if let Some(p) = ids.iter().find(|p| other.paragraphs.contains(p)) {
            let label = schema::paragraph(txn, p)
                .map(|p| p.label)
                .unwrap_or_default();
            return Err(refuse(
                ErrorCode::UnderSilence,
                format!(
                    "paragraph {label} is under silence procedure {} already",
                    other.id
                ),
            ));
        }
    }
    let id = next_id(txn, keys::SILENCES, keys::SILENCE_ID_PREFIX);
    let deadline_ms = ctx.now_ms.saturating_add(seconds * 1000);
    // Locked meanwhile: what is adopted is what was circulated.
    let lock = Lock {
        mission: ctx.actor.mission.to_string(),
        person: ctx.person.to_string(),
        at_ms: ctx.now_ms,
        reason: lock_reason(&id, deadline_ms),
    };
    // What the notice says, worked out before anything is written: a command refused writes
    // nothing. Labels are typed by facilitators and may hold characters no name may.
    let what = printable(&match revision {
        Some(r) => schema::revisions(txn)
            .into_iter()
            .find(|rev| rev.id == r)
            .map_or_else(|| r.to_string(), |rev| rev.name),
        None => labels(txn, &ids),
    });
    let mut locked = Vec::new();
    for p in &ids {
        if !paragraph(txn, p)?.is_locked() {
            schema::set_lock(txn, p, Some(&lock)).map_err(schema_error)?;
            locked.push(p.clone());
        }
    }
    let record = Silence {
        id: id.clone(),
        revision: revision.map(String::from),
        paragraphs: ids,
        locked,
        deadline_ms,
        started_by: publisher(ctx),
        started_at_ms: ctx.now_ms,
        breaks: Vec::new(),
        outcome: None,
        concluded_at_ms: None,
    };
    store(txn, keys::SILENCES, &id, &record)?;
    let deadline = utc_minute(deadline_ms);
    let subject = format!("Silence procedure: {what}, until {deadline}");
    let body = format!(
        "The co-facilitators put {what} under silence procedure until {deadline}.\n\n\
         If silence is not broken by then, the text is adopted. A delegation that wishes to \
         break silence does so with a statement before the deadline."
    );
    let attachments: Vec<Attachment> = revision
        .map(|r| Attachment::Revision {
            revision: r.to_string(),
        })
        .into_iter()
        .collect();
    notice::write(
        txn,
        ctx,
        &Letter {
            subject: &subject,
            body: &body,
            to: &[],
            attachments: &attachments,
            round: None,
            revision,
            silence: Some(&id),
        },
    )?;
    Ok(Outcome::Created { id })
}

/// An open procedure whose deadline has not passed.
fn running(txn: &impl ReadTxn, id: &str, now_ms: u64) -> Result<Silence, CommandError> {
    let s = silence(txn, id)?;
    if !s.is_open() || now_ms >= s.deadline_ms {
        return Err(refuse(
            ErrorCode::SilenceClosed,
            format!(
                "silence procedure {id} ended at {}",
                utc_minute(s.deadline_ms)
            ),
        ));
    }
    Ok(s)
}

pub(super) fn break_silence(
    txn: &mut TransactionMut,
    ctx: &Context<'_>,
    id: &str,
    statement: &str,
) -> Result<Outcome, CommandError> {
    if ctx.actor.role != Role::Delegation {
        return Err(refuse(
            ErrorCode::ForbiddenRole,
            "delegations break silence; facilitators run the procedure",
        ));
    }
    let s = running(txn, id, ctx.now_ms)?;
    let mission = ctx.actor.mission;
    if s.breaks.iter().any(|b| b.mission == mission) {
        return Err(refuse(
            ErrorCode::AlreadyBroken,
            format!("{mission} broke silence on {id} already"),
        ));
    }
    let statement = statement.trim();
    if statement.is_empty() {
        return Err(refuse(
            ErrorCode::ReasonRequired,
            "breaking silence takes a statement (it is circulated)",
        ));
    }
    let broken = SilenceBreak {
        mission: mission.to_string(),
        person: ctx.person.to_string(),
        at_ms: ctx.now_ms,
        statement: statement.to_string(),
    };
    // An entry of its own, not the procedure rewritten: the document keeps every value.
    schema::append_process_entry(txn, keys::SILENCE_BREAKS, id, &broken)
        .map_err(|e| refuse(ErrorCode::InvalidArgument, e.to_string()))?;
    Ok(Outcome::Done)
}

pub(super) fn conclude(
    txn: &mut TransactionMut,
    ctx: &Context<'_>,
    id: &str,
) -> Result<Outcome, CommandError> {
    if ctx.actor.mission != SERVER_OWNER {
        return Err(refuse(
            ErrorCode::ForbiddenRole,
            "the server concludes a silence procedure at its deadline",
        ));
    }
    let mut s = silence(txn, id)?;
    if !s.is_open() {
        return Err(refuse(
            ErrorCode::SilenceClosed,
            format!("silence procedure {id} was concluded already"),
        ));
    }
    if ctx.now_ms < s.deadline_ms {
        return Err(refuse(
            ErrorCode::InvalidArgument,
            format!(
                "silence procedure {id} runs until {}",
                utc_minute(s.deadline_ms)
            ),
        ));
    }
    let ours = lock_reason(id, s.deadline_ms);
    let outcome = if s.breaks.is_empty() {
        let adopted = Lock {
            mission: s.started_by.mission.clone(),
            person: s.started_by.person.clone(),
            at_ms: ctx.now_ms,
            reason: format!("adopted by silence procedure ({id})"),
        };
        let mut adopted_paragraphs = BTreeSet::new();
        for p in &s.paragraphs {
            // A paragraph deleted meanwhile (only after its lock was lifted) stays deleted.
            if schema::paragraph(txn, p).is_some_and(|p| p.status != ParagraphStatus::Deleted) {
                schema::set_status_pending(txn, p, ParagraphStatus::Agreed, &[])
                    .map_err(schema_error)?;
                schema::set_lock(txn, p, Some(&adopted)).map_err(schema_error)?;
                adopted_paragraphs.insert(p.as_str());
            }
        }
        // The adopted text is final: a proposal still open on it lapses, recorded as the
        // server's decision (otherwise an agreed, locked paragraph would stay bracketed).
        let lapsed = format!("the text was adopted by silence procedure ({id})");
        for a in schema::amendments(txn) {
            if a.status == AmendmentStatus::Open
                && adopted_paragraphs.contains(a.paragraph.as_str())
            {
                amendment::decide(txn, ctx, &a.id, AmendmentStatus::Rejected, &lapsed)?;
            }
        }
        SilenceOutcome::Adopted
    } else {
        // Nothing adopted: the procedure's own locks go (a lock someone set since stays).
        for p in &s.locked {
            let still_ours = schema::paragraph(txn, p)
                .and_then(|p| p.lock)
                .is_some_and(|lock| lock.reason == ours);
            if still_ours {
                schema::set_lock(txn, p, None).map_err(schema_error)?;
            }
        }
        SilenceOutcome::Broken
    };
    s.outcome = Some(outcome);
    s.concluded_at_ms = Some(ctx.now_ms);
    // The breaks stay where they are (`keys::SILENCE_BREAKS`).
    let breaks = std::mem::take(&mut s.breaks);
    store(txn, keys::SILENCES, id, &s)?;
    s.breaks = breaks;
    let what = match &s.revision {
        Some(r) => schema::revisions(txn)
            .into_iter()
            .find(|rev| &rev.id == r)
            .map_or_else(|| r.clone(), |rev| rev.name),
        None => labels(txn, &s.paragraphs),
    };
    let (subject, body) = match outcome {
        SilenceOutcome::Adopted => (
            format!("Silence procedure: {what} adopted"),
            format!(
                "Silence was not broken by {}: {what} is adopted.",
                utc_minute(s.deadline_ms)
            ),
        ),
        SilenceOutcome::Broken => {
            let missions: Vec<&str> = s.breaks.iter().map(|b| b.mission.as_str()).collect();
            (
                format!("Silence procedure: {what} not adopted"),
                format!(
                    "Silence was broken by {}. Nothing was adopted; the statements are with \
                     the procedure.",
                    missions.join(", ")
                ),
            )
        }
    };
    let facilitators = super::Context {
        actor: crate::policy::Actor {
            role: Role::Facilitator,
            mission: &s.started_by.mission,
        },
        person: &s.started_by.person,
        now_ms: ctx.now_ms,
    };
    notice::write(
        txn,
        &facilitators,
        &Letter {
            subject: &subject,
            body: &body,
            to: &[],
            attachments: &[],
            round: None,
            revision: s.revision.as_deref(),
            silence: Some(id),
        },
    )?;
    Ok(Outcome::Done)
}
