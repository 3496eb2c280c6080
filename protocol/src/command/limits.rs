//! Limits on the text fields of commands, in bytes of UTF-8 (what a frame and the log carry).
//! A command with a field over its limit is refused with `too-long` (HTTP 413) before anything
//! is looked up or written. They bound what one request can make the server store and every
//! client download, far above what a negotiation needs.

use super::error::{refuse, CommandError, ErrorCode};
use super::Command;

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
            Command::Lock { paragraph, reason } | Command::Unlock { paragraph, reason } => {
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
            | Command::Reject { amendment } => fields.push(id("amendment", amendment)),
            Command::Comment { paragraph, text } => {
                fields.push(id("paragraph", paragraph));
                fields.push(("text", text.as_str(), MAX_COMMENT_BYTES));
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
        }
        fields
    }

    /// Refuses a command with a text field over its limit (`too-long`).
    pub fn check_limits(&self) -> Result<(), CommandError> {
        if let Command::SetStatus { pending, .. } = self {
            if pending.len() > MAX_PENDING_MISSIONS {
                return Err(refuse(
                    ErrorCode::TooLong,
                    format!(
                        "agreement waits for at most {MAX_PENDING_MISSIONS} missions, not {}",
                        pending.len()
                    ),
                ));
            }
        }
        if let Command::SetTheme { paragraphs, .. } = self {
            if paragraphs.len() > MAX_THEME_PARAGRAPHS {
                return Err(refuse(
                    ErrorCode::TooLong,
                    format!(
                        "a theme lists at most {MAX_THEME_PARAGRAPHS} paragraphs, not {}",
                        paragraphs.len()
                    ),
                ));
            }
        }
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
