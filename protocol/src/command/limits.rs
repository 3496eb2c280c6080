//! Limits on the text fields of commands, in bytes of UTF-8 (what a frame and the log carry).
//! A command with a field over its limit is refused with `too-long` (HTTP 413) before anything
//! is looked up or written. They bound what one request can make the server store and every
//! client download, far above what a negotiation needs.

use super::error::{refuse, CommandError, ErrorCode};
use super::Command;
use crate::process::{Attachment, ProgrammeDay};

/// A programme's text fields: each item's title, time, theme and paragraphs, each day's date.
fn programme_fields<'a>(
    fields: &mut Vec<(&'static str, &'a str, usize)>,
    programme: &'a [ProgrammeDay],
) {
    for day in programme {
        fields.push(("date", day.date.as_str(), MAX_ID_BYTES));
        for item in &day.items {
            fields.push(("title", item.title.as_str(), MAX_REASON_BYTES));
            fields.push(("time", item.time.as_str(), MAX_LABEL_BYTES));
            fields.extend(
                item.theme
                    .iter()
                    .map(|t| ("theme", t.as_str(), MAX_ID_BYTES)),
            );
            fields.extend(
                item.paragraphs
                    .iter()
                    .map(|p| ("paragraphs", p.as_str(), MAX_ID_BYTES)),
            );
        }
    }
}

/// Paragraph and amendment ids (`paragraph`, `amendment`, `after`, `parent`): the server makes
/// them (`p17`, `a3`).
pub const MAX_ID_BYTES: usize = 64;
/// Paragraph labels ("17", "PP3", "15bis", "OP6alt").
pub const MAX_LABEL_BYTES: usize = 64;
/// Mission and group names (`mission` of the sponsor commands, `on_behalf_of`).
pub const MAX_NAME_BYTES: usize = 128;
/// Why a paragraph is locked or unlocked.
pub const MAX_REASON_BYTES: usize = 1_000;
/// One comment.
pub const MAX_COMMENT_BYTES: usize = 10_000;
/// An amendment's rationale, as created.
pub const MAX_RATIONALE_BYTES: usize = 10_000;
/// A paragraph's body as a command writes it: `add-paragraph`, each imported paragraph, and
/// an accepted amendment's text.
pub const MAX_BODY_BYTES: usize = 20_000;
/// A revision's cover letter, given with `publish-revision` or typed before it.
pub const MAX_COVER_NOTE_BYTES: usize = 100_000;
/// The missions an `agreed-pending` paragraph waits for (the UN has 193 members).
pub const MAX_PENDING_MISSIONS: usize = 200;
/// The paragraphs a theme lists.
pub const MAX_THEME_PARAGRAPHS: usize = 5_000;
/// A round's programme: its days, and its items over all days.
pub const MAX_PROGRAMME_DAYS: usize = 60;
pub const MAX_PROGRAMME_ITEMS: usize = 500;
/// What one notice attaches.
pub const MAX_ATTACHMENTS: usize = 20;
/// The pointer's moves one reading records.
pub const MAX_READING_VISITS: usize = 20_000;
/// The whole structured text of `import-text`.
pub const MAX_IMPORT_BYTES: usize = 1 << 20;

impl Command {
    /// Every text field of the command: its name, its value and its limit. Every field is
    /// named (no `..`), so that a new field does not compile until it has a limit here.
    fn text_fields(&self) -> Vec<(&'static str, &str, usize)> {
        fn id<'a>(name: &'static str, v: &'a str) -> (&'static str, &'a str, usize) {
            (name, v, MAX_ID_BYTES)
        }
        let mut fields = Vec::with_capacity(4);
        match self {
            Command::AddParagraph {
                after,
                label,
                kind: _,
                parent,
                body,
            } => {
                fields.extend(after.iter().map(|v| id("after", v)));
                fields.push(("label", label.as_str(), MAX_LABEL_BYTES));
                fields.extend(parent.iter().map(|v| id("parent", v)));
                fields.push(("body", body.as_str(), MAX_BODY_BYTES));
            }
            Command::MoveParagraph { paragraph, after } => {
                fields.push(id("paragraph", paragraph));
                fields.extend(after.iter().map(|v| id("after", v)));
            }
            Command::SplitParagraph {
                paragraph,
                at: _,
                label,
            }
            | Command::RelabelParagraph { paragraph, label } => {
                fields.push(id("paragraph", paragraph));
                fields.push(("label", label.as_str(), MAX_LABEL_BYTES));
            }
            Command::DeleteParagraph { paragraph } => fields.push(id("paragraph", paragraph)),
            Command::SetStatus {
                paragraph,
                status: _,
                pending,
            } => {
                fields.push(id("paragraph", paragraph));
                fields.extend(
                    pending
                        .iter()
                        .map(|m| ("pending", m.as_str(), MAX_NAME_BYTES)),
                );
            }
            Command::Lock {
                paragraph,
                reason,
                status: _,
            }
            | Command::Unlock { paragraph, reason } => {
                fields.push(id("paragraph", paragraph));
                fields.push(("reason", reason.as_str(), MAX_REASON_BYTES));
            }
            Command::CreateAmendment {
                paragraph,
                new_after: _,
                on_behalf_of,
                rationale,
            } => {
                fields.push(id("paragraph", paragraph));
                fields.extend(
                    on_behalf_of
                        .iter()
                        .map(|v| ("on_behalf_of", v.as_str(), MAX_NAME_BYTES)),
                );
                fields.push(("rationale", rationale.as_str(), MAX_RATIONALE_BYTES));
            }
            Command::RecordMission { mission } => {
                fields.push(("mission", mission.as_str(), MAX_NAME_BYTES))
            }
            Command::InviteSponsor { amendment, mission }
            | Command::RemoveSponsor { amendment, mission } => {
                fields.push(id("amendment", amendment));
                fields.push(("mission", mission.as_str(), MAX_NAME_BYTES));
            }
            Command::Support { amendment }
            | Command::Oppose { amendment }
            | Command::Withdraw { amendment }
            | Command::Accept {
                amendment,
                over_later_edits: _,
            }
            | Command::AcceptInvitation { amendment }
            | Command::DeclineInvitation { amendment } => fields.push(id("amendment", amendment)),
            Command::Reject { amendment, reason } | Command::Reopen { amendment, reason } => {
                fields.push(id("amendment", amendment));
                fields.push(("reason", reason.as_str(), MAX_REASON_BYTES));
            }
            Command::Comment {
                paragraph,
                text,
                reply_to,
            } => {
                fields.push(id("paragraph", paragraph));
                fields.push(("text", text.as_str(), MAX_COMMENT_BYTES));
                fields.extend(reply_to.iter().map(|v| id("reply_to", v)));
            }
            Command::ResolveComment { paragraph, comment } => {
                fields.push(id("paragraph", paragraph));
                fields.push(id("comment", comment));
            }
            Command::ImportText { text } => fields.push(("text", text.as_str(), MAX_IMPORT_BYTES)),
            Command::PublishRevision { name, note } => {
                fields.push(("name", name.as_str(), MAX_NAME_BYTES));
                fields.extend(
                    note.iter()
                        .map(|v| ("note", v.as_str(), MAX_COVER_NOTE_BYTES)),
                );
            }
            Command::PrepareRevision {} | Command::SetObservers { observers: _ } => {}
            Command::NoteChange { paragraph, note } => {
                fields.push(id("paragraph", paragraph));
                fields.push(("note", note.as_str(), MAX_COMMENT_BYTES));
            }
            Command::SetTheme {
                theme,
                name,
                paragraphs,
            } => {
                fields.extend(theme.iter().map(|v| id("theme", v)));
                fields.push(("name", name.as_str(), MAX_NAME_BYTES));
                fields.extend(paragraphs.iter().map(|v| id("paragraphs", v)));
            }
            Command::CreateRound {
                name,
                starts_on,
                ends_on,
                place,
                programme,
            } => {
                fields.push(("name", name.as_str(), MAX_NAME_BYTES));
                fields.push(("starts_on", starts_on.as_str(), MAX_ID_BYTES));
                fields.push(("ends_on", ends_on.as_str(), MAX_ID_BYTES));
                fields.push(("place", place.as_str(), MAX_NAME_BYTES));
                programme_fields(&mut fields, programme);
            }
            Command::SetProgramme { round, programme } => {
                fields.push(id("round", round));
                programme_fields(&mut fields, programme);
            }
            Command::SetCurrentItem {
                round,
                day: _,
                item: _,
            } => fields.push(id("round", round)),
            Command::StartReading {
                name,
                round,
                from,
                to,
            } => {
                fields.push(("name", name.as_str(), MAX_NAME_BYTES));
                for (field, value) in [("round", round), ("from", from), ("to", to)] {
                    fields.extend(value.iter().map(|v| id(field, v)));
                }
            }
            Command::MovePointer { reading, paragraph } => {
                fields.push(id("reading", reading));
                fields.push(id("paragraph", paragraph));
            }
            Command::EndReading { reading } => fields.push(id("reading", reading)),
            Command::StartSilence {
                revision,
                paragraphs,
                seconds: _,
            } => {
                fields.extend(revision.iter().map(|v| id("revision", v)));
                fields.extend(paragraphs.iter().map(|v| id("paragraphs", v)));
            }
            Command::BreakSilence { silence, statement } => {
                fields.push(id("silence", silence));
                fields.push(("statement", statement.as_str(), MAX_COMMENT_BYTES));
            }
            Command::ConcludeSilence { silence } => fields.push(id("silence", silence)),
            Command::PublishNotice {
                subject,
                body,
                to,
                attachments,
                round,
                revision,
            } => {
                fields.push(("subject", subject.as_str(), MAX_REASON_BYTES));
                fields.push(("body", body.as_str(), MAX_COVER_NOTE_BYTES));
                fields.extend(to.iter().map(|m| ("to", m.as_str(), MAX_NAME_BYTES)));
                for attachment in attachments {
                    match attachment {
                        Attachment::Revision { revision } => fields.push(id("revision", revision)),
                        Attachment::Export { format, revision } => {
                            fields.push(id("format", format));
                            fields.extend(revision.iter().map(|v| id("revision", v)));
                        }
                    }
                }
                for (field, value) in [("round", round), ("revision", revision)] {
                    fields.extend(value.iter().map(|v| id(field, v)));
                }
            }
            Command::ReadNotice { notice } => fields.push(id("notice", notice)),
        }
        fields
    }

    /// Lists over their limit: more missions, paragraphs, items or attachments than any
    /// negotiation needs.
    fn check_counts(&self) -> Result<(), CommandError> {
        let over = |what: &str, n: usize, limit: usize| {
            if n > limit {
                Err(refuse(
                    ErrorCode::TooLong,
                    format!("at most {limit} {what}, not {n}"),
                ))
            } else {
                Ok(())
            }
        };
        match self {
            Command::SetStatus { pending, .. } => over(
                "missions agreement waits for",
                pending.len(),
                MAX_PENDING_MISSIONS,
            ),
            Command::SetTheme { paragraphs, .. } => over(
                "paragraphs in a theme",
                paragraphs.len(),
                MAX_THEME_PARAGRAPHS,
            ),
            Command::CreateRound { programme, .. } | Command::SetProgramme { programme, .. } => {
                over("days in a programme", programme.len(), MAX_PROGRAMME_DAYS)?;
                let items = programme.iter().map(|d| d.items.len()).sum();
                over("items in a programme", items, MAX_PROGRAMME_ITEMS)?;
                let listed = programme
                    .iter()
                    .flat_map(|d| &d.items)
                    .map(|i| i.paragraphs.len())
                    .sum();
                over("paragraphs in a programme", listed, MAX_THEME_PARAGRAPHS)
            }
            Command::StartSilence { paragraphs, .. } => over(
                "paragraphs under silence",
                paragraphs.len(),
                MAX_THEME_PARAGRAPHS,
            ),
            Command::PublishNotice {
                to, attachments, ..
            } => {
                over(
                    "missions a notice is addressed to",
                    to.len(),
                    MAX_PENDING_MISSIONS,
                )?;
                over("attachments", attachments.len(), MAX_ATTACHMENTS)
            }
            _ => Ok(()),
        }
    }

    /// Refuses a command with a text field over its limit (`too-long`).
    pub fn check_limits(&self) -> Result<(), CommandError> {
        self.check_counts()?;
        for (field, value, limit) in self.text_fields() {
            within(field, value, limit)?;
        }
        Ok(())
    }
}

/// Refuses a text over its limit, naming the field and both sizes.
pub(super) fn within(field: &str, value: &str, limit: usize) -> Result<(), CommandError> {
    if value.len() > limit {
        return Err(refuse(
            ErrorCode::TooLong,
            format!(
                "{field} is {} bytes; the limit is {limit} bytes",
                value.len()
            ),
        ));
    }
    Ok(())
}
