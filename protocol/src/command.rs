//! Commands: everything structural in a negotiation (DESIGN.md section 2). Clients only type
//! characters into texts; creating paragraphs and amendments, locks, statuses, sponsorship,
//! support, comments are requests that the server validates and applies under its own client
//! id, recording who asked. [`execute`] is that validation and application, pure over a yrs
//! transaction: the server runs it for the WebSocket `Command` message and for REST alike, and
//! the browser client can run it on a scratch copy to offer only what the server would accept.

use serde::{Deserialize, Serialize};
use yrs::{Array, GetString, OffsetKind, Out, ReadTxn, Text, TransactionMut};

use crate::policy::Actor;
use crate::schema::{
    self, AmendmentStatus, Comment, Lock, NewAmendment, NewParagraph, ParagraphKind,
    ParagraphStatus,
};
use crate::session::Role;

// Limits on the text fields of commands, in bytes of UTF-8 (what a frame and the log carry).
// A command with a field over its limit is refused with `too-long` (HTTP 413) before anything
// is looked up or written. They bound what one request can make the server store and every
// client download, far above what a negotiation needs.

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
/// The whole structured text of `import-text`.
pub const MAX_IMPORT_BYTES: usize = 1 << 20;

/// A request to change the document's structure. This enum is the list of commands.
///
/// While a paragraph is locked, every command that would change it (its status, label, place,
/// body, a split, a deletion, an amendment to it or its acceptance) is refused with
/// `paragraph-locked`; comments on it, and votes and sponsorship on its amendments, are not
/// changes to it and stay allowed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum Command {
    /// Facilitators: a new paragraph after `after` (at the start when `None`).
    AddParagraph {
        after: Option<String>,
        label: String,
        kind: ParagraphKind,
        parent: Option<String>,
        body: String,
    },
    MoveParagraph {
        paragraph: String,
        after: Option<String>,
    },
    /// Facilitators: the text from `at` (UTF-16 offset, not inside a surrogate pair) on
    /// becomes a new paragraph.
    SplitParagraph {
        paragraph: String,
        at: u32,
        label: String,
    },
    RelabelParagraph {
        paragraph: String,
        label: String,
    },
    /// Facilitators: keeps the paragraph as a tombstone so its number is not reused (restore
    /// it with `set-status`).
    DeleteParagraph {
        paragraph: String,
    },
    /// Facilitators: `deleted` is `delete-paragraph`; from `deleted` to any other status
    /// restores the tombstone (same id, label and body).
    SetStatus {
        paragraph: String,
        status: ParagraphStatus,
    },
    Lock {
        paragraph: String,
        reason: String,
    },
    Unlock {
        paragraph: String,
        reason: String,
    },
    /// Delegations and facilitators: new wording for a paragraph (or a new one after it).
    CreateAmendment {
        paragraph: String,
        #[serde(default)]
        new_after: bool,
        on_behalf_of: Option<String>,
        #[serde(default)]
        rationale: String,
    },
    /// The author invites a co-sponsor.
    InviteSponsor {
        amendment: String,
        mission: String,
    },
    /// The author removes a co-sponsor, or a co-sponsor withdraws its own sponsorship.
    RemoveSponsor {
        amendment: String,
        mission: String,
    },
    Support {
        amendment: String,
    },
    Oppose {
        amendment: String,
    },
    /// The author withdraws its amendment.
    Withdraw {
        amendment: String,
    },
    /// Facilitators: the paragraph takes the amendment's text.
    Accept {
        amendment: String,
    },
    Reject {
        amendment: String,
    },
    Comment {
        paragraph: String,
        text: String,
    },
    /// Facilitators: fills an empty document from a structured text ([`crate::import`]).
    ImportText {
        text: String,
    },
}

impl Command {
    /// The command's name on the wire (its `type`), for logs and the audit.
    pub fn name(&self) -> &'static str {
        match self {
            Command::AddParagraph { .. } => "add-paragraph",
            Command::MoveParagraph { .. } => "move-paragraph",
            Command::SplitParagraph { .. } => "split-paragraph",
            Command::RelabelParagraph { .. } => "relabel-paragraph",
            Command::DeleteParagraph { .. } => "delete-paragraph",
            Command::SetStatus { .. } => "set-status",
            Command::Lock { .. } => "lock",
            Command::Unlock { .. } => "unlock",
            Command::CreateAmendment { .. } => "create-amendment",
            Command::InviteSponsor { .. } => "invite-sponsor",
            Command::RemoveSponsor { .. } => "remove-sponsor",
            Command::Support { .. } => "support",
            Command::Oppose { .. } => "oppose",
            Command::Withdraw { .. } => "withdraw",
            Command::Accept { .. } => "accept",
            Command::Reject { .. } => "reject",
            Command::Comment { .. } => "comment",
            Command::ImportText { .. } => "import-text",
        }
    }

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
            Command::DeleteParagraph { paragraph }
            | Command::SetStatus {
                paragraph,
                status: _,
            } => fields.push(id("paragraph", paragraph)),
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
            | Command::Accept { amendment }
            | Command::Reject { amendment } => fields.push(id("amendment", amendment)),
            Command::Comment { paragraph, text } => {
                fields.push(id("paragraph", paragraph));
                fields.push(("text", text.as_str(), MAX_COMMENT_BYTES));
            }
            Command::ImportText { text } => fields.push(("text", text.as_str(), MAX_IMPORT_BYTES)),
        }
        fields
    }

    /// Refuses a command with a text field over its limit (`too-long`).
    pub fn check_limits(&self) -> Result<(), CommandError> {
        for (field, value, limit) in self.text_fields() {
            within(field, value, limit)?;
        }
        Ok(())
    }

    /// The paragraphs an applied command concerns (the audit's "paragraphs touched"): its
    /// paragraph, an amendment's paragraph, a created paragraph, or all of an import.
    pub fn paragraphs_touched(&self, txn: &impl ReadTxn, outcome: &Outcome) -> Vec<String> {
        let mut touched = Vec::new();
        match self {
            Command::MoveParagraph { paragraph, .. }
            | Command::RelabelParagraph { paragraph, .. }
            | Command::DeleteParagraph { paragraph }
            | Command::SetStatus { paragraph, .. }
            | Command::Lock { paragraph, .. }
            | Command::Unlock { paragraph, .. }
            | Command::CreateAmendment { paragraph, .. }
            | Command::Comment { paragraph, .. }
            | Command::SplitParagraph { paragraph, .. } => touched.push(paragraph.clone()),
            Command::InviteSponsor { amendment, .. }
            | Command::RemoveSponsor { amendment, .. }
            | Command::Support { amendment }
            | Command::Oppose { amendment }
            | Command::Withdraw { amendment }
            | Command::Accept { amendment }
            | Command::Reject { amendment } => {
                if let Some(a) = schema::amendment(txn, amendment) {
                    touched.push(a.paragraph);
                }
            }
            Command::AddParagraph { .. } => {}
            Command::ImportText { .. } => {
                touched.extend(schema::paragraphs(txn).into_iter().map(|p| p.id));
            }
        }
        if let (
            Command::AddParagraph { .. } | Command::SplitParagraph { .. },
            Outcome::Created { id },
        ) = (self, outcome)
        {
            touched.push(id.clone());
        }
        touched
    }
}

/// A command on the wire (`Command` message), numbered by the client so it can match the reply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommandRequest {
    pub id: u64,
    pub command: Command,
}

/// The answer to a [`CommandRequest`] (`CommandResult` message): `{"id", "ok": outcome}` or
/// `{"id", "error": {code, message}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommandReply {
    pub id: u64,
    #[serde(flatten)]
    pub result: Reply,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Reply {
    Ok(Outcome),
    Error(CommandError),
}

impl From<Result<Outcome, CommandError>> for Reply {
    fn from(result: Result<Outcome, CommandError>) -> Self {
        match result {
            Ok(outcome) => Reply::Ok(outcome),
            Err(error) => Reply::Error(error),
        }
    }
}

impl CommandError {
    /// The HTTP status a REST client gets for this refusal.
    pub fn http_status(&self) -> u16 {
        match self.code.as_str() {
            "forbidden-role" | "not-the-author" | "not-a-sponsor" | "sponsor-cannot-vote" => 403,
            "too-long" => 413,
            "unknown-paragraph" | "unknown-amendment" => 404,
            "paragraph-locked" | "paragraph-deleted" | "amendment-closed" | "already-a-sponsor"
            | "not-locked" | "document-not-empty" => 409,
            // The server could not make the change durable: nothing was done.
            "storage-unavailable" => 503,
            _ => 400,
        }
    }
}

/// The code of a request that is not a command at all (not JSON, an unknown `type`, a missing
/// field): REST answers it with 400, the WebSocket with a `CommandResult` error. It predates
/// the kebab-case codes of [`execute`] and is kept as clients know it.
pub const INVALID_COMMAND: &str = "invalid_command";

impl CommandError {
    /// A request that could not be read as a command ([`INVALID_COMMAND`]).
    pub fn invalid_command(message: impl Into<String>) -> Self {
        refuse(INVALID_COMMAND, message)
    }
}

/// Who asks, and when (by the server's clock).
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    pub actor: Actor<'a>,
    pub person: &'a str,
    pub now_ms: u64,
}

/// What a successful command produced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "kebab-case")]
pub enum Outcome {
    Done,
    /// A paragraph or amendment was created with this id.
    Created {
        id: String,
    },
    /// A structured text was imported as this many paragraphs.
    Imported {
        paragraphs: usize,
    },
}

/// A refused command: a stable code and a sentence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{code}: {message}")]
pub struct CommandError {
    pub code: String,
    pub message: String,
}

fn refuse(code: &str, message: impl Into<String>) -> CommandError {
    CommandError {
        code: code.to_string(),
        message: message.into(),
    }
}

/// Refuses a text over its limit, naming the field and both sizes.
fn within(field: &str, value: &str, limit: usize) -> Result<(), CommandError> {
    if value.len() > limit {
        return Err(refuse(
            "too-long",
            format!(
                "{field} is {} bytes; the limit is {limit} bytes",
                value.len()
            ),
        ));
    }
    Ok(())
}

fn facilitators_only(ctx: &Context<'_>) -> Result<(), CommandError> {
    if ctx.actor.role == Role::Facilitator {
        Ok(())
    } else {
        Err(refuse("forbidden-role", "only facilitators may do this"))
    }
}

fn participants_only(ctx: &Context<'_>) -> Result<(), CommandError> {
    if ctx.actor.role == Role::Observer {
        Err(refuse(
            "forbidden-role",
            "observers follow the text; they cannot change it",
        ))
    } else {
        Ok(())
    }
}

fn paragraph(txn: &impl ReadTxn, id: &str) -> Result<schema::Paragraph, CommandError> {
    schema::paragraph(txn, id)
        .ok_or_else(|| refuse("unknown-paragraph", format!("no paragraph {id}")))
}

fn deleted(p: &schema::Paragraph) -> CommandError {
    refuse(
        "paragraph-deleted",
        format!("paragraph {} is deleted", p.label),
    )
}

/// A paragraph that may change at all: it exists and is not locked. A lock freezes
/// everything about a paragraph (status, label, place, body) until a facilitator unlocks it
/// with a reason, so every command that changes one goes through here.
fn unlocked_paragraph(txn: &impl ReadTxn, id: &str) -> Result<schema::Paragraph, CommandError> {
    let p = paragraph(txn, id)?;
    if p.is_locked() {
        return Err(refuse(
            "paragraph-locked",
            format!("paragraph {} is locked", p.label),
        ));
    }
    Ok(p)
}

/// A paragraph whose text may change: it exists, is not deleted, and is not locked.
fn open_paragraph(txn: &impl ReadTxn, id: &str) -> Result<schema::Paragraph, CommandError> {
    let p = paragraph(txn, id)?;
    if p.status == ParagraphStatus::Deleted {
        return Err(deleted(&p));
    }
    unlocked_paragraph(txn, id)
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

fn amendment(txn: &impl ReadTxn, id: &str) -> Result<schema::Amendment, CommandError> {
    schema::amendment(txn, id)
        .ok_or_else(|| refuse("unknown-amendment", format!("no amendment {id}")))
}

fn open_amendment(txn: &impl ReadTxn, id: &str) -> Result<schema::Amendment, CommandError> {
    let a = amendment(txn, id)?;
    if a.status != AmendmentStatus::Open {
        return Err(refuse(
            "amendment-closed",
            format!("amendment {id} is {}", a.status.as_str()),
        ));
    }
    Ok(a)
}

fn reason_given(reason: &str) -> Result<(), CommandError> {
    if reason.trim().is_empty() {
        Err(refuse(
            "reason-required",
            "say why (it is recorded with the lock)",
        ))
    } else {
        Ok(())
    }
}

/// The next free id with this prefix: ids are never reused, tombstones included.
fn next_id(txn: &impl ReadTxn, root: &str, prefix: &str) -> String {
    let highest = txn
        .get_map(root)
        .map(|map| {
            use yrs::Map;
            map.keys(txn)
                .filter_map(|k| k.strip_prefix(prefix).and_then(|n| n.parse::<u64>().ok()))
                .max()
                .unwrap_or(0)
        })
        .unwrap_or(0);
    format!("{prefix}{}", highest + 1)
}

fn after_position(txn: &impl ReadTxn, after: &Option<String>) -> Result<u32, CommandError> {
    match after {
        None => Ok(0),
        Some(id) => schema::position(txn, id)
            .map(|p| p + 1)
            .ok_or_else(|| refuse("unknown-paragraph", format!("no paragraph {id}"))),
    }
}

fn add_mission(txn: &mut TransactionMut, amendment: &str, key: &str, mission: &str) -> bool {
    let Some(list) = schema::amendment_list(txn, amendment, key) else {
        return false;
    };
    let present = list
        .iter(txn)
        .any(|v| matches!(v, Out::Any(yrs::Any::String(s)) if &*s == mission));
    if !present {
        list.push_back(txn, mission);
    }
    !present
}

fn remove_mission(txn: &mut TransactionMut, amendment: &str, key: &str, mission: &str) -> bool {
    let Some(list) = schema::amendment_list(txn, amendment, key) else {
        return false;
    };
    let at = list
        .iter(txn)
        .position(|v| matches!(v, Out::Any(yrs::Any::String(s)) if &*s == mission));
    match at {
        Some(at) => {
            list.remove(txn, at as u32);
            true
        }
        None => false,
    }
}

/// Replaces a paragraph's body with `text` (accepting an amendment).
fn replace_body(txn: &mut TransactionMut, paragraph: &str, text: &str) -> Result<(), CommandError> {
    let body = schema::body_text(txn, paragraph)
        .ok_or_else(|| refuse("unknown-paragraph", format!("no paragraph {paragraph}")))?;
    let len = body.len(txn);
    body.remove_range(txn, 0, len);
    body.insert(txn, 0, text);
    Ok(())
}

/// Validates a command for this actor and applies it. On error nothing was changed.
pub fn execute(
    txn: &mut TransactionMut,
    ctx: Context<'_>,
    command: &Command,
) -> Result<Outcome, CommandError> {
    participants_only(&ctx)?;
    command.check_limits()?;
    let schema_error = |e: schema::SchemaError| refuse("invalid-argument", e.to_string());
    match command {
        Command::AddParagraph {
            after,
            label,
            kind,
            parent,
            body,
        } => {
            facilitators_only(&ctx)?;
            let at = after_position(txn, after)?;
            let id = next_id(txn, schema::PARAGRAPHS, "p");
            let new = NewParagraph {
                id: id.clone(),
                label: label.clone(),
                kind: *kind,
                parent: parent.clone(),
                body: body.clone(),
            };
            schema::insert_paragraph(txn, at, &new).map_err(schema_error)?;
            Ok(Outcome::Created { id })
        }
        Command::MoveParagraph {
            paragraph: id,
            after,
        } => {
            facilitators_only(&ctx)?;
            // A tombstone may move (it holds no text), a locked paragraph may not.
            unlocked_paragraph(txn, id)?;
            if after.as_deref() == Some(id.as_str()) {
                return Err(refuse(
                    "invalid-argument",
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
        Command::SplitParagraph {
            paragraph: id,
            at,
            label,
        } => {
            facilitators_only(&ctx)?;
            let p = open_paragraph(txn, id)?;
            let body = schema::body_text(txn, id)
                .ok_or_else(|| refuse("unknown-paragraph", format!("no paragraph {id}")))?;
            let whole = body.get_string(txn);
            let units = whole.encode_utf16().count();
            if *at == 0 || *at as usize >= units {
                return Err(refuse(
                    "invalid-argument",
                    format!("split inside the text (1..{units})"),
                ));
            }
            let byte = utf16_to_byte(&whole, *at).ok_or_else(|| {
                refuse(
                    "invalid-argument",
                    format!("offset {at} falls inside a character (a UTF-16 surrogate pair)"),
                )
            })?;
            let tail = whole[byte..].to_string();
            // yrs counts in the document's own unit; the command's offset is UTF-16 either way.
            let (from, len) = match txn.doc().offset_kind() {
                OffsetKind::Utf16 => (*at, units),
                OffsetKind::Bytes => (byte as u32, whole.len()),
            };
            body.remove_range(txn, from, len as u32 - from);
            let new_id = next_id(txn, schema::PARAGRAPHS, "p");
            let position = schema::position(txn, id).map(|p| p + 1).unwrap_or(0);
            let new = NewParagraph {
                id: new_id.clone(),
                label: label.clone(),
                kind: p.kind,
                parent: p.parent.clone(),
                body: tail,
            };
            schema::insert_paragraph(txn, position, &new).map_err(schema_error)?;
            Ok(Outcome::Created { id: new_id })
        }
        Command::RelabelParagraph {
            paragraph: id,
            label,
        } => {
            facilitators_only(&ctx)?;
            // A tombstone keeps its number, so that it is not given to another paragraph.
            open_paragraph(txn, id)?;
            if label.trim().is_empty() {
                return Err(refuse("invalid-argument", "a label cannot be empty"));
            }
            schema::set_label(txn, id, label).map_err(schema_error)?;
            Ok(Outcome::Done)
        }
        Command::DeleteParagraph { paragraph: id } => {
            facilitators_only(&ctx)?;
            open_paragraph(txn, id)?;
            schema::set_status(txn, id, ParagraphStatus::Deleted).map_err(schema_error)?;
            Ok(Outcome::Done)
        }
        Command::SetStatus {
            paragraph: id,
            status,
        } => {
            facilitators_only(&ctx)?;
            let p = unlocked_paragraph(txn, id)?;
            // From `deleted` to any other status restores the paragraph (its id, label and
            // body were kept); deleting a tombstone again is refused like `delete-paragraph`.
            if p.status == ParagraphStatus::Deleted && *status == ParagraphStatus::Deleted {
                return Err(deleted(&p));
            }
            schema::set_status(txn, id, *status).map_err(schema_error)?;
            Ok(Outcome::Done)
        }
        Command::Lock {
            paragraph: id,
            reason,
        } => {
            facilitators_only(&ctx)?;
            reason_given(reason)?;
            open_paragraph(txn, id)?;
            let lock = Lock {
                mission: ctx.actor.mission.to_string(),
                person: ctx.person.to_string(),
                at_ms: ctx.now_ms,
                reason: reason.clone(),
            };
            schema::set_lock(txn, id, Some(&lock)).map_err(schema_error)?;
            Ok(Outcome::Done)
        }
        Command::Unlock {
            paragraph: id,
            reason,
        } => {
            facilitators_only(&ctx)?;
            reason_given(reason)?;
            if !paragraph(txn, id)?.is_locked() {
                return Err(refuse(
                    "not-locked",
                    format!("paragraph {id} is not locked"),
                ));
            }
            schema::set_lock(txn, id, None).map_err(schema_error)?;
            Ok(Outcome::Done)
        }
        Command::CreateAmendment {
            paragraph: id,
            new_after,
            on_behalf_of,
            rationale,
        } => {
            open_paragraph(txn, id)?;
            let amendment_id = next_id(txn, schema::AMENDMENTS, "a");
            let new = NewAmendment {
                id: amendment_id.clone(),
                paragraph: id.clone(),
                new_after: *new_after,
                author: ctx.actor.mission.to_string(),
                on_behalf_of: on_behalf_of.clone(),
                rationale: rationale.clone(),
                base_revision: None,
            };
            schema::create_amendment(txn, &new).map_err(schema_error)?;
            Ok(Outcome::Created { id: amendment_id })
        }
        Command::InviteSponsor {
            amendment: id,
            mission,
        } => {
            let a = open_amendment(txn, id)?;
            if a.author() != Some(ctx.actor.mission) {
                return Err(refuse(
                    "not-the-author",
                    "only the author invites co-sponsors",
                ));
            }
            if !add_mission(txn, id, "sponsors", mission) {
                return Err(refuse(
                    "already-a-sponsor",
                    format!("{mission} already sponsors {id}"),
                ));
            }
            Ok(Outcome::Done)
        }
        Command::RemoveSponsor {
            amendment: id,
            mission,
        } => {
            let a = open_amendment(txn, id)?;
            let author = a.author();
            if author == Some(mission.as_str()) {
                return Err(refuse(
                    "invalid-argument",
                    "the author cannot be removed; withdraw instead",
                ));
            }
            if author != Some(ctx.actor.mission) && mission != ctx.actor.mission {
                return Err(refuse(
                    "not-the-author",
                    "only the author, or the co-sponsor itself, may remove a co-sponsor",
                ));
            }
            if !remove_mission(txn, id, "sponsors", mission) {
                return Err(refuse(
                    "not-a-sponsor",
                    format!("{mission} does not sponsor {id}"),
                ));
            }
            Ok(Outcome::Done)
        }
        Command::Support { amendment: id } | Command::Oppose { amendment: id } => {
            let a = open_amendment(txn, id)?;
            if a.is_sponsored_by(ctx.actor.mission) {
                return Err(refuse(
                    "sponsor-cannot-vote",
                    "sponsors support their amendment already",
                ));
            }
            let (add, remove) = match command {
                Command::Support { .. } => ("supporters", "opposers"),
                _ => ("opposers", "supporters"),
            };
            remove_mission(txn, id, remove, ctx.actor.mission);
            add_mission(txn, id, add, ctx.actor.mission);
            Ok(Outcome::Done)
        }
        Command::Withdraw { amendment: id } => {
            let a = open_amendment(txn, id)?;
            if a.author() != Some(ctx.actor.mission) {
                return Err(refuse(
                    "not-the-author",
                    "only the author withdraws an amendment",
                ));
            }
            schema::set_amendment_status(txn, id, AmendmentStatus::Withdrawn)
                .map_err(schema_error)?;
            Ok(Outcome::Done)
        }
        Command::Accept { amendment: id } => {
            facilitators_only(&ctx)?;
            let a = open_amendment(txn, id)?;
            let p = open_paragraph(txn, &a.paragraph)?;
            // Sponsors type the amendment's text freely; accepted, it is a paragraph's body.
            within("the amendment's text", &a.text, MAX_BODY_BYTES)?;
            let created = if a.new_after {
                let position = schema::position(txn, &p.id).map(|x| x + 1).unwrap_or(0);
                let new_id = next_id(txn, schema::PARAGRAPHS, "p");
                let new = NewParagraph {
                    id: new_id.clone(),
                    label: format!("{}bis", p.label),
                    kind: p.kind,
                    parent: p.parent.clone(),
                    body: a.text.clone(),
                };
                schema::insert_paragraph(txn, position, &new).map_err(schema_error)?;
                Some(new_id)
            } else {
                replace_body(txn, &p.id, &a.text)?;
                // Every other open amendment of this paragraph was drafted on the old body.
                for other in schema::amendments(txn) {
                    if other.id != a.id
                        && other.paragraph == p.id
                        && other.status == AmendmentStatus::Open
                    {
                        schema::set_stale(txn, &other.id).map_err(schema_error)?;
                    }
                }
                None
            };
            schema::set_amendment_status(txn, id, AmendmentStatus::Accepted)
                .map_err(schema_error)?;
            Ok(created.map_or(Outcome::Done, |id| Outcome::Created { id }))
        }
        Command::Reject { amendment: id } => {
            facilitators_only(&ctx)?;
            open_amendment(txn, id)?;
            schema::set_amendment_status(txn, id, AmendmentStatus::Rejected)
                .map_err(schema_error)?;
            Ok(Outcome::Done)
        }
        Command::ImportText { text } => {
            facilitators_only(&ctx)?;
            if !schema::paragraphs(txn).is_empty() {
                return Err(refuse(
                    "document-not-empty",
                    "import fills an empty document only",
                ));
            }
            let parsed = crate::import::parse(text)
                .map_err(|e| refuse("invalid-argument", e.to_string()))?;
            // Checked before the first write: a refused import leaves the document empty.
            for paragraph in &parsed {
                within("an imported label", &paragraph.label, MAX_LABEL_BYTES)?;
                within("an imported paragraph", &paragraph.body, MAX_BODY_BYTES)?;
            }
            let mut ids: Vec<String> = Vec::with_capacity(parsed.len());
            for (position, paragraph) in parsed.iter().enumerate() {
                let id = next_id(txn, schema::PARAGRAPHS, "p");
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
        Command::Comment {
            paragraph: id,
            text,
        } => {
            paragraph(txn, id)?;
            if text.trim().is_empty() {
                return Err(refuse("invalid-argument", "a comment cannot be empty"));
            }
            let comment = Comment {
                mission: ctx.actor.mission.to_string(),
                person: ctx.person.to_string(),
                at_ms: ctx.now_ms,
                text: text.clone(),
            };
            schema::add_comment(txn, id, &comment).map_err(schema_error)?;
            Ok(Outcome::Done)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use yrs::{Doc, Transact};

    use crate::policy::test_actors::{CHAIR, CHE, MEX, NGO};

    fn run(doc: &Doc, actor: Actor<'_>, command: Command) -> Result<Outcome, CommandError> {
        let ctx = Context {
            actor,
            person: "someone",
            now_ms: 42,
        };
        execute(&mut doc.transact_mut(), ctx, &command)
    }

    fn code(result: Result<Outcome, CommandError>) -> String {
        result.expect_err("refused").code
    }

    fn created(result: Result<Outcome, CommandError>) -> String {
        match result.expect("accepted") {
            Outcome::Created { id } => id,
            other => panic!("expected a new id, got {other:?}"),
        }
    }

    /// p1 "First paragraph." and p2 "Second one.", amendment a1 on p1 by MEX.
    fn negotiation() -> Doc {
        let doc = Doc::with_client_id(1);
        let add = |after: Option<&str>, label: &str, body: &str| Command::AddParagraph {
            after: after.map(String::from),
            label: label.into(),
            kind: ParagraphKind::Operative,
            parent: None,
            body: body.into(),
        };
        assert_eq!(
            created(run(&doc, CHAIR, add(None, "1", "First paragraph."))),
            "p1"
        );
        assert_eq!(
            created(run(&doc, CHAIR, add(Some("p1"), "2", "Second one."))),
            "p2"
        );
        let amend = Command::CreateAmendment {
            paragraph: "p1".into(),
            new_after: false,
            on_behalf_of: Some("G77 and China".into()),
            rationale: "Stronger.".into(),
        };
        assert_eq!(created(run(&doc, MEX, amend)), "a1");
        doc
    }

    fn lock(doc: &Doc, paragraph: &str) {
        let command = Command::Lock {
            paragraph: paragraph.into(),
            reason: "agreed ad ref".into(),
        };
        run(doc, CHAIR, command).expect("locked");
    }

    #[test]
    fn observers_may_do_nothing() {
        let doc = negotiation();
        for command in [
            Command::Comment {
                paragraph: "p1".into(),
                text: "hi".into(),
            },
            Command::Support {
                amendment: "a1".into(),
            },
            Command::CreateAmendment {
                paragraph: "p1".into(),
                new_after: false,
                on_behalf_of: None,
                rationale: String::new(),
            },
        ] {
            assert_eq!(code(run(&doc, NGO, command)), "forbidden-role");
        }
    }

    #[test]
    fn facilitator_commands_refuse_delegations() {
        let doc = negotiation();
        let commands = [
            Command::AddParagraph {
                after: None,
                label: "0".into(),
                kind: ParagraphKind::Heading,
                parent: None,
                body: String::new(),
            },
            Command::MoveParagraph {
                paragraph: "p2".into(),
                after: None,
            },
            Command::SplitParagraph {
                paragraph: "p1".into(),
                at: 5,
                label: "1bis".into(),
            },
            Command::RelabelParagraph {
                paragraph: "p1".into(),
                label: "1alt".into(),
            },
            Command::DeleteParagraph {
                paragraph: "p2".into(),
            },
            Command::SetStatus {
                paragraph: "p1".into(),
                status: ParagraphStatus::AgreedAdRef,
            },
            Command::Lock {
                paragraph: "p1".into(),
                reason: "x".into(),
            },
            Command::Unlock {
                paragraph: "p1".into(),
                reason: "x".into(),
            },
            Command::Accept {
                amendment: "a1".into(),
            },
            Command::Reject {
                amendment: "a1".into(),
            },
        ];
        for command in commands {
            assert_eq!(
                code(run(&doc, MEX, command.clone())),
                "forbidden-role",
                "{command:?}"
            );
        }
    }

    #[test]
    fn amendment_commands_refuse_the_wrong_mission() {
        let doc = negotiation();
        let cases = [
            (
                Command::InviteSponsor {
                    amendment: "a1".into(),
                    mission: "CHE".into(),
                },
                "not-the-author",
            ),
            (
                Command::Withdraw {
                    amendment: "a1".into(),
                },
                "not-the-author",
            ),
            (
                Command::RemoveSponsor {
                    amendment: "a1".into(),
                    mission: "EU".into(),
                },
                "not-the-author",
            ),
        ];
        for (command, expected) in cases {
            assert_eq!(
                code(run(&doc, CHE, command.clone())),
                expected,
                "{command:?}"
            );
        }
        assert_eq!(
            code(run(
                &doc,
                MEX,
                Command::Support {
                    amendment: "a1".into()
                }
            )),
            "sponsor-cannot-vote"
        );
    }

    #[test]
    fn locked_paragraphs_and_closed_amendments_are_refused() {
        let doc = negotiation();
        lock(&doc, "p1");
        let on_locked = [
            (
                CHAIR,
                Command::SplitParagraph {
                    paragraph: "p1".into(),
                    at: 5,
                    label: "1bis".into(),
                },
            ),
            (
                CHAIR,
                Command::DeleteParagraph {
                    paragraph: "p1".into(),
                },
            ),
            (
                CHAIR,
                Command::Lock {
                    paragraph: "p1".into(),
                    reason: "again".into(),
                },
            ),
            (
                CHAIR,
                Command::Accept {
                    amendment: "a1".into(),
                },
            ),
            (
                CHE,
                Command::CreateAmendment {
                    paragraph: "p1".into(),
                    new_after: false,
                    on_behalf_of: None,
                    rationale: String::new(),
                },
            ),
        ];
        for (actor, command) in on_locked {
            assert_eq!(
                code(run(&doc, actor, command.clone())),
                "paragraph-locked",
                "{command:?}"
            );
        }
        // Unlocking needs a reason; then the amendment can be rejected, and is closed after.
        assert_eq!(
            code(run(
                &doc,
                CHAIR,
                Command::Unlock {
                    paragraph: "p1".into(),
                    reason: " ".into()
                }
            )),
            "reason-required"
        );
        run(
            &doc,
            CHAIR,
            Command::Unlock {
                paragraph: "p1".into(),
                reason: "reopened at the request of CHE".into(),
            },
        )
        .expect("unlocked");
        run(
            &doc,
            CHAIR,
            Command::Reject {
                amendment: "a1".into(),
            },
        )
        .expect("rejected");
        for (actor, command) in [
            (
                CHAIR,
                Command::Accept {
                    amendment: "a1".into(),
                },
            ),
            (
                MEX,
                Command::Withdraw {
                    amendment: "a1".into(),
                },
            ),
            (
                CHE,
                Command::Support {
                    amendment: "a1".into(),
                },
            ),
            (
                MEX,
                Command::InviteSponsor {
                    amendment: "a1".into(),
                    mission: "EU".into(),
                },
            ),
        ] {
            assert_eq!(
                code(run(&doc, actor, command.clone())),
                "amendment-closed",
                "{command:?}"
            );
        }
        run(
            &doc,
            CHAIR,
            Command::DeleteParagraph {
                paragraph: "p2".into(),
            },
        )
        .expect("deleted");
        assert_eq!(
            code(run(
                &doc,
                CHAIR,
                Command::SetStatus {
                    paragraph: "p2".into(),
                    status: ParagraphStatus::Deleted
                }
            )),
            "paragraph-deleted"
        );
        assert_eq!(
            code(run(
                &doc,
                CHE,
                Command::Comment {
                    paragraph: "p9".into(),
                    text: "?".into()
                }
            )),
            "unknown-paragraph"
        );
    }

    /// Everything a facilitator or a delegation can ask about a locked paragraph that would
    /// change it (status, body, label, position, splitting, deletion, a second lock).
    fn changes_to(paragraph: &str) -> Vec<(Actor<'static>, Command)> {
        let p = || paragraph.to_string();
        let mut changes: Vec<(Actor<'static>, Command)> = [
            ParagraphStatus::Open,
            ParagraphStatus::AgreedAdRef,
            ParagraphStatus::Agreed,
            ParagraphStatus::Held,
            ParagraphStatus::Deleted,
        ]
        .into_iter()
        .map(|status| {
            (
                CHAIR,
                Command::SetStatus {
                    paragraph: p(),
                    status,
                },
            )
        })
        .collect();
        changes.extend([
            (
                CHAIR,
                Command::RelabelParagraph {
                    paragraph: p(),
                    label: "1alt".into(),
                },
            ),
            (
                CHAIR,
                Command::MoveParagraph {
                    paragraph: p(),
                    after: Some("p2".into()),
                },
            ),
            (
                CHAIR,
                Command::SplitParagraph {
                    paragraph: p(),
                    at: 5,
                    label: "1bis".into(),
                },
            ),
            (CHAIR, Command::DeleteParagraph { paragraph: p() }),
            (
                CHAIR,
                Command::Lock {
                    paragraph: p(),
                    reason: "again".into(),
                },
            ),
            (
                CHAIR,
                Command::Accept {
                    amendment: "a1".into(),
                },
            ),
            (
                CHE,
                Command::CreateAmendment {
                    paragraph: p(),
                    new_after: false,
                    on_behalf_of: None,
                    rationale: String::new(),
                },
            ),
        ]);
        changes
    }

    #[test]
    fn every_change_to_a_locked_paragraph_is_refused_and_changes_nothing() {
        let doc = negotiation();
        lock(&doc, "p1");
        let before = (
            schema::paragraphs(&doc.transact()),
            schema::amendments(&doc.transact()),
        );
        for (actor, command) in changes_to("p1") {
            assert_eq!(
                code(run(&doc, actor, command.clone())),
                "paragraph-locked",
                "{command:?}"
            );
        }
        let after = (
            schema::paragraphs(&doc.transact()),
            schema::amendments(&doc.transact()),
        );
        assert_eq!(after, before);
        // Unlocked, the same requests are accepted again (one of them, to show the lock was
        // the only obstacle).
        run(
            &doc,
            CHAIR,
            Command::Unlock {
                paragraph: "p1".into(),
                reason: "reopened".into(),
            },
        )
        .expect("unlocked");
        run(
            &doc,
            CHAIR,
            Command::SetStatus {
                paragraph: "p1".into(),
                status: ParagraphStatus::Deleted,
            },
        )
        .expect("deleted once unlocked");
    }

    #[test]
    fn a_facilitator_restores_a_deleted_paragraph_with_its_number() {
        let doc = negotiation();
        for delete in [
            Command::DeleteParagraph {
                paragraph: "p2".into(),
            },
            Command::SetStatus {
                paragraph: "p1".into(),
                status: ParagraphStatus::Deleted,
            },
        ] {
            run(&doc, CHAIR, delete).expect("deleted");
        }
        let restore = |paragraph: &str, status| Command::SetStatus {
            paragraph: paragraph.into(),
            status,
        };
        assert_eq!(
            code(run(&doc, MEX, restore("p2", ParagraphStatus::Open))),
            "forbidden-role"
        );
        run(&doc, CHAIR, restore("p2", ParagraphStatus::Open)).expect("restored");
        run(&doc, CHAIR, restore("p1", ParagraphStatus::Held)).expect("restored as held");
        let txn = doc.transact();
        let restored: Vec<(String, String, ParagraphStatus, String)> = schema::paragraphs(&txn)
            .into_iter()
            .map(|p| (p.id, p.label, p.status, p.body))
            .collect();
        assert_eq!(
            restored,
            vec![
                (
                    "p1".to_string(),
                    "1".to_string(),
                    ParagraphStatus::Held,
                    "First paragraph.".to_string()
                ),
                (
                    "p2".to_string(),
                    "2".to_string(),
                    ParagraphStatus::Open,
                    "Second one.".to_string()
                ),
            ]
        );
        drop(txn);
        // Restored, it takes amendments again.
        run(
            &doc,
            CHE,
            Command::CreateAmendment {
                paragraph: "p2".into(),
                new_after: false,
                on_behalf_of: None,
                rationale: String::new(),
            },
        )
        .expect("amendable again");
    }

    #[test]
    fn a_tombstone_keeps_its_label() {
        let doc = negotiation();
        run(
            &doc,
            CHAIR,
            Command::DeleteParagraph {
                paragraph: "p2".into(),
            },
        )
        .expect("deleted");
        assert_eq!(
            code(run(
                &doc,
                CHAIR,
                Command::RelabelParagraph {
                    paragraph: "p2".into(),
                    label: "2bis".into(),
                }
            )),
            "paragraph-deleted"
        );
    }

    #[test]
    fn accepting_an_amendment_rewrites_the_body_and_marks_the_others_stale() {
        let doc = negotiation();
        let second = Command::CreateAmendment {
            paragraph: "p1".into(),
            new_after: false,
            on_behalf_of: None,
            rationale: String::new(),
        };
        assert_eq!(created(run(&doc, CHE, second)), "a2");
        {
            let sponsors =
                schema::amendment_list(&doc.transact(), "a1", "sponsors").expect("sponsors");
            assert_eq!(sponsors.len(&doc.transact()), 1);
        }
        // MEX co-drafts: its amendment text becomes the new wording.
        {
            let txn = doc.transact();
            let map = match txn
                .get_map(schema::AMENDMENTS)
                .and_then(|m| yrs::Map::get(&m, &txn, "a1"))
            {
                Some(Out::YMap(map)) => map,
                _ => panic!("a1"),
            };
            let Some(Out::YText(text)) = yrs::Map::get(&map, &txn, "text") else {
                panic!("text")
            };
            drop(txn);
            let mut txn = doc.transact_mut();
            text.insert(&mut txn, 0, "Firmly: ");
        }
        run(
            &doc,
            CHE,
            Command::Support {
                amendment: "a1".into(),
            },
        )
        .expect("supported");
        run(
            &doc,
            CHAIR,
            Command::Accept {
                amendment: "a1".into(),
            },
        )
        .expect("accepted");
        let txn = doc.transact();
        assert_eq!(
            schema::paragraph(&txn, "p1").expect("p1").body,
            "Firmly: First paragraph."
        );
        let a1 = schema::amendment(&txn, "a1").expect("a1");
        assert_eq!(a1.status, AmendmentStatus::Accepted);
        assert_eq!(a1.supporters, vec!["CHE".to_string()]);
        assert!(schema::amendment(&txn, "a2").expect("a2").stale);
    }

    #[test]
    fn structure_commands_do_what_they_say() {
        let doc = negotiation();
        let tail = created(run(
            &doc,
            CHAIR,
            Command::SplitParagraph {
                paragraph: "p1".into(),
                at: 6,
                label: "1bis".into(),
            },
        ));
        run(
            &doc,
            CHAIR,
            Command::MoveParagraph {
                paragraph: "p2".into(),
                after: None,
            },
        )
        .expect("moved");
        run(
            &doc,
            CHAIR,
            Command::RelabelParagraph {
                paragraph: "p2".into(),
                label: "PP1".into(),
            },
        )
        .expect("relabelled");
        run(
            &doc,
            MEX,
            Command::InviteSponsor {
                amendment: "a1".into(),
                mission: "CHE".into(),
            },
        )
        .expect("invited");
        assert_eq!(
            code(run(
                &doc,
                MEX,
                Command::InviteSponsor {
                    amendment: "a1".into(),
                    mission: "CHE".into()
                }
            )),
            "already-a-sponsor"
        );
        run(
            &doc,
            CHE,
            Command::RemoveSponsor {
                amendment: "a1".into(),
                mission: "CHE".into(),
            },
        )
        .expect("a co-sponsor may leave");
        run(
            &doc,
            CHE,
            Command::Comment {
                paragraph: tail.clone(),
                text: "We support this.".into(),
            },
        )
        .expect("comment");
        let txn = doc.transact();
        let order: Vec<(String, String)> = schema::paragraphs(&txn)
            .into_iter()
            .map(|p| (p.label, p.body))
            .collect();
        assert_eq!(
            order,
            vec![
                ("PP1".to_string(), "Second one.".to_string()),
                ("1".to_string(), "First ".to_string()),
                ("1bis".to_string(), "paragraph.".to_string()),
            ]
        );
        assert_eq!(schema::comments(&txn, &tail)[0].mission, "CHE");
        assert_eq!(
            schema::amendment(&txn, "a1").expect("a1").sponsors,
            vec!["MEX".to_string()]
        );
    }

    /// A document counting offsets in UTF-16 code units, as the server's and the client's do.
    fn utf16_doc() -> Doc {
        Doc::with_options(yrs::Options {
            client_id: yrs::ClientID::new(1),
            offset_kind: yrs::OffsetKind::Utf16,
            ..yrs::Options::default()
        })
    }

    fn one_paragraph(doc: &Doc, body: &str) {
        let add = Command::AddParagraph {
            after: None,
            label: "1".into(),
            kind: ParagraphKind::Operative,
            parent: None,
            body: body.into(),
        };
        assert_eq!(created(run(doc, CHAIR, add)), "p1");
    }

    fn bodies(doc: &Doc) -> Vec<String> {
        schema::paragraphs(&doc.transact())
            .into_iter()
            .map(|p| p.body)
            .collect()
    }

    fn split(at: u32) -> Command {
        Command::SplitParagraph {
            paragraph: "p1".into(),
            at,
            label: "1bis".into(),
        }
    }

    #[test]
    fn a_split_inside_a_surrogate_pair_is_refused() {
        let doc = utf16_doc();
        one_paragraph(&doc, "A😀B");
        // "A" is one unit, the emoji two (a surrogate pair), "B" one: 2 is between the halves.
        assert_eq!(code(run(&doc, CHAIR, split(2))), "invalid-argument");
        assert_eq!(bodies(&doc), vec!["A😀B".to_string()]);
        created(run(&doc, CHAIR, split(3)));
        assert_eq!(bodies(&doc), vec!["A😀".to_string(), "B".to_string()]);
    }

    #[test]
    fn split_offsets_are_utf16_whatever_the_document_counts_in() {
        // A document counting in bytes (yrs's default): the emoji is four bytes there, but
        // the command's offset still counts UTF-16 units.
        let doc = Doc::with_client_id(1);
        one_paragraph(&doc, "A😀B");
        assert_eq!(code(run(&doc, CHAIR, split(2))), "invalid-argument");
        assert_eq!(code(run(&doc, CHAIR, split(4))), "invalid-argument");
        created(run(&doc, CHAIR, split(1)));
        assert_eq!(bodies(&doc), vec!["A".to_string(), "😀B".to_string()]);
    }

    /// A text field: its name, who sends it, the command carrying a value there, its limit.
    type FieldCase = (
        &'static str,
        Actor<'static>,
        Box<dyn Fn(String) -> Command>,
        usize,
    );

    /// Every text field of every command.
    fn text_fields() -> Vec<FieldCase> {
        let id = || "p1".to_string();
        vec![
            (
                "add-paragraph.after",
                CHAIR,
                Box::new(|v| Command::AddParagraph {
                    after: Some(v),
                    label: "9".into(),
                    kind: ParagraphKind::Operative,
                    parent: None,
                    body: String::new(),
                }),
                MAX_ID_BYTES,
            ),
            (
                "add-paragraph.label",
                CHAIR,
                Box::new(|v| Command::AddParagraph {
                    after: None,
                    label: v,
                    kind: ParagraphKind::Operative,
                    parent: None,
                    body: String::new(),
                }),
                MAX_LABEL_BYTES,
            ),
            (
                "add-paragraph.parent",
                CHAIR,
                Box::new(|v| Command::AddParagraph {
                    after: None,
                    label: "9".into(),
                    kind: ParagraphKind::Operative,
                    parent: Some(v),
                    body: String::new(),
                }),
                MAX_ID_BYTES,
            ),
            (
                "add-paragraph.body",
                CHAIR,
                Box::new(|v| Command::AddParagraph {
                    after: None,
                    label: "9".into(),
                    kind: ParagraphKind::Operative,
                    parent: None,
                    body: v,
                }),
                MAX_BODY_BYTES,
            ),
            (
                "move-paragraph.paragraph",
                CHAIR,
                Box::new(|v| Command::MoveParagraph {
                    paragraph: v,
                    after: None,
                }),
                MAX_ID_BYTES,
            ),
            (
                "move-paragraph.after",
                CHAIR,
                Box::new(move |v| Command::MoveParagraph {
                    paragraph: id(),
                    after: Some(v),
                }),
                MAX_ID_BYTES,
            ),
            (
                "split-paragraph.paragraph",
                CHAIR,
                Box::new(|v| Command::SplitParagraph {
                    paragraph: v,
                    at: 1,
                    label: "1bis".into(),
                }),
                MAX_ID_BYTES,
            ),
            (
                "split-paragraph.label",
                CHAIR,
                Box::new(move |v| Command::SplitParagraph {
                    paragraph: id(),
                    at: 1,
                    label: v,
                }),
                MAX_LABEL_BYTES,
            ),
            (
                "relabel-paragraph.paragraph",
                CHAIR,
                Box::new(|v| Command::RelabelParagraph {
                    paragraph: v,
                    label: "1".into(),
                }),
                MAX_ID_BYTES,
            ),
            (
                "relabel-paragraph.label",
                CHAIR,
                Box::new(move |v| Command::RelabelParagraph {
                    paragraph: id(),
                    label: v,
                }),
                MAX_LABEL_BYTES,
            ),
            (
                "delete-paragraph.paragraph",
                CHAIR,
                Box::new(|v| Command::DeleteParagraph { paragraph: v }),
                MAX_ID_BYTES,
            ),
            (
                "set-status.paragraph",
                CHAIR,
                Box::new(|v| Command::SetStatus {
                    paragraph: v,
                    status: ParagraphStatus::Held,
                }),
                MAX_ID_BYTES,
            ),
            (
                "lock.paragraph",
                CHAIR,
                Box::new(|v| Command::Lock {
                    paragraph: v,
                    reason: "r".into(),
                }),
                MAX_ID_BYTES,
            ),
            (
                "lock.reason",
                CHAIR,
                Box::new(move |v| Command::Lock {
                    paragraph: id(),
                    reason: v,
                }),
                MAX_REASON_BYTES,
            ),
            (
                "unlock.paragraph",
                CHAIR,
                Box::new(|v| Command::Unlock {
                    paragraph: v,
                    reason: "r".into(),
                }),
                MAX_ID_BYTES,
            ),
            (
                "unlock.reason",
                CHAIR,
                Box::new(move |v| Command::Unlock {
                    paragraph: id(),
                    reason: v,
                }),
                MAX_REASON_BYTES,
            ),
            (
                "create-amendment.paragraph",
                CHE,
                Box::new(|v| Command::CreateAmendment {
                    paragraph: v,
                    new_after: false,
                    on_behalf_of: None,
                    rationale: String::new(),
                }),
                MAX_ID_BYTES,
            ),
            (
                "create-amendment.on_behalf_of",
                CHE,
                Box::new(move |v| Command::CreateAmendment {
                    paragraph: id(),
                    new_after: false,
                    on_behalf_of: Some(v),
                    rationale: String::new(),
                }),
                MAX_NAME_BYTES,
            ),
            (
                "create-amendment.rationale",
                CHE,
                Box::new(move |v| Command::CreateAmendment {
                    paragraph: id(),
                    new_after: false,
                    on_behalf_of: None,
                    rationale: v,
                }),
                MAX_RATIONALE_BYTES,
            ),
            (
                "invite-sponsor.amendment",
                MEX,
                Box::new(|v| Command::InviteSponsor {
                    amendment: v,
                    mission: "CHE".into(),
                }),
                MAX_ID_BYTES,
            ),
            (
                "invite-sponsor.mission",
                MEX,
                Box::new(|v| Command::InviteSponsor {
                    amendment: "a1".into(),
                    mission: v,
                }),
                MAX_NAME_BYTES,
            ),
            (
                "remove-sponsor.amendment",
                MEX,
                Box::new(|v| Command::RemoveSponsor {
                    amendment: v,
                    mission: "CHE".into(),
                }),
                MAX_ID_BYTES,
            ),
            (
                "remove-sponsor.mission",
                MEX,
                Box::new(|v| Command::RemoveSponsor {
                    amendment: "a1".into(),
                    mission: v,
                }),
                MAX_NAME_BYTES,
            ),
            (
                "support.amendment",
                CHE,
                Box::new(|v| Command::Support { amendment: v }),
                MAX_ID_BYTES,
            ),
            (
                "oppose.amendment",
                CHE,
                Box::new(|v| Command::Oppose { amendment: v }),
                MAX_ID_BYTES,
            ),
            (
                "withdraw.amendment",
                MEX,
                Box::new(|v| Command::Withdraw { amendment: v }),
                MAX_ID_BYTES,
            ),
            (
                "accept.amendment",
                CHAIR,
                Box::new(|v| Command::Accept { amendment: v }),
                MAX_ID_BYTES,
            ),
            (
                "reject.amendment",
                CHAIR,
                Box::new(|v| Command::Reject { amendment: v }),
                MAX_ID_BYTES,
            ),
            (
                "comment.paragraph",
                CHE,
                Box::new(|v| Command::Comment {
                    paragraph: v,
                    text: "hi".into(),
                }),
                MAX_ID_BYTES,
            ),
            (
                "comment.text",
                CHE,
                Box::new(move |v| Command::Comment {
                    paragraph: id(),
                    text: v,
                }),
                MAX_COMMENT_BYTES,
            ),
            (
                "import-text.text",
                CHAIR,
                Box::new(|v| Command::ImportText { text: v }),
                MAX_IMPORT_BYTES,
            ),
        ]
    }

    #[test]
    fn every_text_field_is_refused_past_its_limit() {
        let fields = text_fields();
        assert_eq!(
            fields.len(),
            31,
            "a field was added: give it a limit and a case here"
        );
        for (field, actor, command, limit) in fields {
            let doc = negotiation();
            let before = doc.transact().state_vector();
            let over = command("x".repeat(limit + 1));
            let refused = run(&doc, actor, over).expect_err(field);
            assert_eq!(refused.code, "too-long", "{field}: {refused}");
            assert_eq!(refused.http_status(), 413);
            assert!(
                refused.message.contains(&limit.to_string()),
                "{field}: {refused}"
            );
            assert_eq!(doc.transact().state_vector(), before, "{field} wrote");
            // At the limit the field is no obstacle (the command may fail for other reasons:
            // no such paragraph, not a structured text).
            if let Err(other) = run(&doc, actor, command("x".repeat(limit))) {
                assert_ne!(other.code, "too-long", "{field} at its limit");
            }
        }
    }

    #[test]
    fn limits_count_bytes_of_utf8() {
        let doc = negotiation();
        let relabel = |label: String| Command::RelabelParagraph {
            paragraph: "p1".into(),
            label,
        };
        // "é" is two bytes: half the limit in characters is already the whole limit.
        let at_limit = "é".repeat(MAX_LABEL_BYTES / 2);
        run(&doc, CHAIR, relabel(at_limit.clone())).expect("at the limit");
        assert_eq!(code(run(&doc, CHAIR, relabel(at_limit + "x"))), "too-long");
    }

    #[test]
    fn what_becomes_a_paragraph_is_held_to_the_paragraph_limits() {
        // An imported paragraph's body and label, within a text under the import limit.
        let long_body = format!("# H\n[1] {}", "x".repeat(MAX_BODY_BYTES + 1));
        let long_label = format!("# H\n[{}] text", "x".repeat(MAX_LABEL_BYTES + 1));
        for text in [long_body, long_label] {
            let doc = Doc::with_client_id(1);
            assert_eq!(
                code(run(&doc, CHAIR, Command::ImportText { text })),
                "too-long"
            );
            assert!(schema::paragraphs(&doc.transact()).is_empty());
        }
        // An amendment's text, typed by its sponsors, becomes the body when accepted.
        let doc = negotiation();
        {
            let text = schema::amendment_text(&doc.transact(), "a1").expect("a1");
            let mut txn = doc.transact_mut();
            text.insert(&mut txn, 0, &"x".repeat(MAX_BODY_BYTES));
        }
        let accept = Command::Accept {
            amendment: "a1".into(),
        };
        assert_eq!(code(run(&doc, CHAIR, accept)), "too-long");
        assert_eq!(
            schema::paragraph(&doc.transact(), "p1").expect("p1").body,
            "First paragraph."
        );
    }

    #[test]
    fn a_structured_text_imports_into_an_empty_document_only() {
        let doc = Doc::with_client_id(1);
        let text = "# Preamble\n[PP1] Recalling,\n# Commitments\n[17] We commit\n[17(a)] Act";
        let import = Command::ImportText { text: text.into() };
        assert_eq!(code(run(&doc, MEX, import.clone())), "forbidden-role");
        assert_eq!(
            run(&doc, CHAIR, import.clone()),
            Ok(Outcome::Imported { paragraphs: 5 })
        );
        let txn = doc.transact();
        let all = schema::paragraphs(&txn);
        assert_eq!(all[4].label, "17(a)");
        assert_eq!(all[4].kind, ParagraphKind::Action);
        assert_eq!(
            all[4].parent.as_deref(),
            Some("p3"),
            "under the second heading"
        );
        drop(txn);
        assert_eq!(code(run(&doc, CHAIR, import)), "document-not-empty");
        let bad = Command::ImportText {
            text: "no heading".into(),
        };
        assert_eq!(code(run(&Doc::new(), CHAIR, bad)), "invalid-argument");
    }

    #[test]
    fn commands_travel_as_json() {
        let command = Command::Lock {
            paragraph: "p7".into(),
            reason: "agreed ad ref".into(),
        };
        let json = serde_json::to_string(&command).expect("serializes");
        assert_eq!(
            json,
            r#"{"type":"lock","paragraph":"p7","reason":"agreed ad ref"}"#
        );
        assert_eq!(
            serde_json::from_str::<Command>(&json).expect("parses"),
            command
        );
    }
}
