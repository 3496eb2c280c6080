//! The commands on amendments: creating one, withdrawal by its author, acceptance (the
//! paragraph takes its text), rejection and reopening by the facilitators, each decision
//! recorded with who, when and why. Sponsorship and votes are in `sponsorship`.

use yrs::{GetString, ReadTxn, Text, TransactionMut};

use crate::attribution::{split_utf16, utf16_len};
use crate::revision::{runs_within, text_runs, word_diff, DiffOp, WrittenRun};

use super::error::{refuse, schema_error, CommandError, ErrorCode};
use super::guards::{
    amendment, facilitators_only, open_amendment, open_paragraph, reason_given, unknown_paragraph,
};
use super::limits::{within, MAX_BODY_BYTES};
use super::{next_amendment_id, next_paragraph_id, Context, Outcome};
use crate::schema::{self, AmendmentStatus, Decision, NewAmendment, NewParagraph};

/// Rewrites a paragraph's body into the amendment's text by its word diff: the words both
/// share stay the items they are, so they keep their author, and only what the amendment
/// changes is deleted and written anew under the server's id. Each inserted stretch is
/// written run by run of the amendment's text, and which of the server's clocks carry whose
/// words is returned as `(from, to, writer)`, so that they are credited to whoever typed them
/// ([`schema::set_applied_as`]).
fn replace_body(
    txn: &mut TransactionMut,
    paragraph: &str,
    amendment: &str,
    text: &str,
) -> Result<Vec<(u32, u32, u64)>, CommandError> {
    let body = schema::body_text(txn, paragraph).ok_or_else(|| unknown_paragraph(paragraph))?;
    let current = body.get_string(txn);
    let writers = amendment_writers(txn, amendment);
    let mut by = Vec::new();
    // Offsets into the body as it is being rewritten: kept and inserted text advance it.
    let mut at = 0u32;
    for piece in word_diff(&current, text) {
        let len = utf16_len(&piece.text);
        match piece.op {
            DiffOp::Equal => at += len,
            DiffOp::Delete => body.remove_range(txn, at, len),
            DiffOp::Insert => {
                write_by_writer(txn, &body, at, &piece.text, piece.at, &writers, &mut by);
                at += len;
            }
        }
    }
    debug_assert_eq!(body.get_string(txn), text);
    Ok(by)
}

/// Who typed each run of an amendment's text.
fn amendment_writers(txn: &mut TransactionMut, amendment: &str) -> Vec<WrittenRun> {
    match schema::amendment_text(txn, amendment) {
        Some(text) => text_runs(txn, &text),
        None => Vec::new(),
    }
}

/// Inserts `words` (which stand at `source_at` of the amendment's text) at `at` of `target`,
/// one run of the amendment's writers at a time, recording the server's clocks of each.
fn write_by_writer(
    txn: &mut TransactionMut,
    target: &yrs::TextRef,
    at: u32,
    words: &str,
    source_at: u32,
    writers: &[WrittenRun],
    by: &mut Vec<(u32, u32, u64)>,
) {
    let server = txn.doc().client_id();
    let mut rest = words;
    let mut offset = at;
    for run in runs_within(writers, source_at, utf16_len(words)) {
        let (head, tail) = split_utf16(rest, run.len);
        rest = tail;
        let from = txn.state_vector().get(&server);
        target.insert(txn, offset, head);
        offset += utf16_len(head);
        by.push((from, txn.state_vector().get(&server), run.client));
    }
    if !rest.is_empty() {
        target.insert(txn, offset, rest);
    }
}

pub(super) fn create(
    txn: &mut TransactionMut,
    ctx: &Context<'_>,
    paragraph: &str,
    new_after: bool,
    on_behalf_of: Option<&str>,
    rationale: &str,
) -> Result<Outcome, CommandError> {
    open_paragraph(txn, paragraph)?;
    let amendment_id = next_amendment_id(txn);
    let new = NewAmendment {
        id: amendment_id.clone(),
        paragraph: paragraph.to_string(),
        new_after,
        author: ctx.actor.mission.to_string(),
        on_behalf_of: on_behalf_of.map(String::from),
        rationale: rationale.to_string(),
        base_revision: None,
    };
    schema::create_amendment(txn, &new).map_err(schema_error)?;
    // Proposed during a reading of this part of the text: so "what was proposed on objective
    // 12 in the second reading" can be asked.
    if let Some(reading) = super::process::reading_for(txn, paragraph) {
        schema::set_amendment_reading(txn, &amendment_id, &reading).map_err(schema_error)?;
    }
    Ok(Outcome::Created { id: amendment_id })
}

pub(super) fn withdraw(
    txn: &mut TransactionMut,
    ctx: &Context<'_>,
    id: &str,
) -> Result<Outcome, CommandError> {
    let a = open_amendment(txn, id)?;
    if a.author() != Some(ctx.actor.mission) {
        return Err(refuse(
            ErrorCode::NotTheAuthor,
            "only the author withdraws an amendment",
        ));
    }
    decide(txn, ctx, id, AmendmentStatus::Withdrawn, "")?;
    Ok(Outcome::Done)
}

/// Gives the amendment its new status and records who decided, when, and why.
pub(super) fn decide(
    txn: &mut TransactionMut,
    ctx: &Context<'_>,
    id: &str,
    status: AmendmentStatus,
    reason: &str,
) -> Result<(), CommandError> {
    schema::set_amendment_status(txn, id, status).map_err(schema_error)?;
    let decision = Decision {
        mission: ctx.actor.mission.to_string(),
        person: ctx.person.to_string(),
        at_ms: ctx.now_ms,
        reason: reason.trim().to_string(),
        status: Some(status),
    };
    schema::set_decision(txn, id, &decision).map_err(schema_error)
}

/// The paragraph takes the amendment's text (or, for a new paragraph, one is inserted after
/// it); every other open amendment of a rewritten paragraph becomes stale.
pub(super) fn accept(
    txn: &mut TransactionMut,
    ctx: &Context<'_>,
    id: &str,
    over_later_edits: bool,
) -> Result<Outcome, CommandError> {
    facilitators_only(ctx)?;
    let a = open_amendment(txn, id)?;
    let p = open_paragraph(txn, &a.paragraph)?;
    if let Some(base) = a.base_body.as_deref() {
        if !a.new_after && base != p.body && !over_later_edits {
            return Err(refuse(
                ErrorCode::BodyMovedOn,
                format!(
                    "paragraph {} changed since amendment {id} was made; accepting it would \
                     overwrite those edits (see the amendment's redline, then accept over them)",
                    p.label
                ),
            ));
        }
    }
    let server = txn.doc().client_id();
    let from = txn.state_vector().get(&server);
    let by;
    // Sponsors type the amendment's text freely; accepted, it is a paragraph's body.
    within("the amendment's text", &a.text, MAX_BODY_BYTES)?;
    let deletes = !a.new_after && a.text.trim().is_empty();
    if a.new_after && a.text.trim().is_empty() {
        return Err(refuse(
            ErrorCode::InvalidArgument,
            format!("amendment {id} proposes a new paragraph with no text yet"),
        ));
    }
    let created = if a.new_after {
        let position = schema::position(txn, &p.id).map(|x| x + 1).unwrap_or(0);
        let new_id = next_paragraph_id(txn);
        let new = NewParagraph {
            id: new_id.clone(),
            label: format!("{}bis", p.label),
            kind: p.kind,
            parent: p.parent.clone(),
            body: String::new(),
        };
        schema::insert_paragraph(txn, position, &new).map_err(schema_error)?;
        // The new body is written run by run of the amendment's writers, as a rewording is.
        by = replace_body(txn, &new_id, id, &a.text)?;
        Some(new_id)
    } else if deletes {
        // An amendment proposing no wording for its paragraph proposes to delete it: accepted,
        // the paragraph is deleted (its body kept, as `delete-paragraph` keeps it), not left
        // standing with an empty body. The others proposed on it were drafted on a paragraph
        // that no longer stands.
        schema::set_status(txn, &p.id, schema::ParagraphStatus::Deleted).map_err(schema_error)?;
        for other in schema::amendments(txn) {
            if other.id != a.id && other.paragraph == p.id && other.status == AmendmentStatus::Open
            {
                schema::set_stale(txn, &other.id).map_err(schema_error)?;
            }
        }
        by = Vec::new();
        None
    } else {
        by = replace_body(txn, &p.id, id, &a.text)?;
        // Every other open amendment of this paragraph was drafted on the old body.
        for other in schema::amendments(txn) {
            if other.id != a.id && other.paragraph == p.id && other.status == AmendmentStatus::Open
            {
                schema::set_stale(txn, &other.id).map_err(schema_error)?;
            }
        }
        None
    };
    let to = txn.state_vector().get(&server);
    // What the rewording deleted from the body: text items only (the body's), before the map
    // writes below add their own replaced values.
    let deleting: Vec<(u64, u32, u32)> = txn
        .delete_set()
        .iter()
        .flat_map(|(client, ranges)| {
            ranges
                .iter()
                .map(move |r| (client.get(), r.start, r.end.saturating_sub(r.start)))
        })
        .filter(|(_, _, len)| *len > 0)
        .collect();
    decide(txn, ctx, id, AmendmentStatus::Accepted, "")?;
    // A deletion writes no words: nothing of the body is credited to it.
    if !deletes && (to > from || !deleting.is_empty()) {
        schema::set_applied_as(txn, id, (server.get(), from, to), &by, &deleting);
    }
    Ok(created.map_or(Outcome::Done, |id| Outcome::Created { id }))
}

pub(super) fn reject(
    txn: &mut TransactionMut,
    ctx: &Context<'_>,
    id: &str,
    reason: &str,
) -> Result<Outcome, CommandError> {
    facilitators_only(ctx)?;
    reason_given(reason)?;
    open_amendment(txn, id)?;
    decide(txn, ctx, id, AmendmentStatus::Rejected, reason)?;
    Ok(Outcome::Done)
}

/// A rejected amendment is open again, for a reason (the paragraph must still be open to it).
pub(super) fn reopen(
    txn: &mut TransactionMut,
    ctx: &Context<'_>,
    id: &str,
    reason: &str,
) -> Result<Outcome, CommandError> {
    facilitators_only(ctx)?;
    reason_given(reason)?;
    let a = amendment(txn, id)?;
    if a.status != AmendmentStatus::Rejected {
        return Err(refuse(
            ErrorCode::InvalidArgument,
            format!(
                "only a rejected amendment is reopened; {id} is {}",
                a.status.as_str()
            ),
        ));
    }
    open_paragraph(txn, &a.paragraph)?;
    decide(txn, ctx, id, AmendmentStatus::Open, reason)?;
    Ok(Outcome::Done)
}
