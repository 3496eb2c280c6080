//! Comments on a paragraph: a thread anyone taking part writes into (observers read it),
//! replies to a comment of the same thread, and resolving one (its author's mission or a
//! facilitator), recorded with who and when.

use yrs::TransactionMut;

use super::error::{refuse, schema_error, CommandError, ErrorCode};
use super::guards::paragraph;
use super::{Context, Outcome};
use crate::schema::{self, Comment, Decision};
use crate::session::Role;

pub(super) fn comment(
    txn: &mut TransactionMut,
    ctx: &Context<'_>,
    id: &str,
    text: &str,
    reply_to: Option<&str>,
) -> Result<Outcome, CommandError> {
    paragraph(txn, id)?;
    if text.trim().is_empty() {
        return Err(refuse(
            ErrorCode::InvalidArgument,
            "a comment cannot be empty",
        ));
    }
    let thread = schema::comments(txn, id);
    if let Some(answered) = reply_to {
        if !thread.iter().any(|c| c.id == answered) {
            return Err(unknown_comment(id, answered));
        }
    }
    let comment = Comment {
        id: String::new(),
        mission: ctx.actor.mission.to_string(),
        person: ctx.person.to_string(),
        at_ms: ctx.now_ms,
        text: text.to_string(),
        reply_to: reply_to.map(String::from),
        resolved: None,
    };
    schema::add_comment(txn, id, &comment).map_err(schema_error)?;
    Ok(Outcome::Created {
        id: format!("{}{}", schema::keys::COMMENT_ID_PREFIX, thread.len() + 1),
    })
}

fn unknown_comment(paragraph: &str, comment: &str) -> CommandError {
    refuse(
        ErrorCode::UnknownComment,
        format!("no comment {comment} on {paragraph}"),
    )
}

pub(super) fn resolve(
    txn: &mut TransactionMut,
    ctx: &Context<'_>,
    id: &str,
    comment: &str,
) -> Result<Outcome, CommandError> {
    paragraph(txn, id)?;
    let found = schema::comments(txn, id)
        .into_iter()
        .find(|c| c.id == comment)
        .ok_or_else(|| unknown_comment(id, comment))?;
    if found.mission != ctx.actor.mission && ctx.actor.role != Role::Facilitator {
        return Err(refuse(
            ErrorCode::NotTheAuthor,
            "a comment is resolved by its author's mission or a facilitator",
        ));
    }
    if found.resolved.is_none() {
        let by = Decision {
            mission: ctx.actor.mission.to_string(),
            person: ctx.person.to_string(),
            at_ms: ctx.now_ms,
            reason: String::new(),
            status: None,
        };
        schema::resolve_comment(txn, id, comment, &by);
    }
    Ok(Outcome::Done)
}
