//! Commands: everything structural in a negotiation. Clients only type characters into texts;
//! creating paragraphs and amendments, locks, statuses, sponsorship, support, comments are
//! requests that the server validates and applies under its own client id, recording who
//! asked. [`execute`] is that validation and application, pure over a yrs transaction: the
//! server runs it for the WebSocket `Command` message and for REST alike, and the browser
//! client can run it on a scratch copy to offer only what the server would accept.
//!
//! - this file: the list of commands ([`Command`]), who asks ([`Context`]), what a command
//!   produced ([`Outcome`]), and [`execute`], which checks what every command shares and hands
//!   each to its module;
//! - `paragraph`: the facilitators' paragraph commands (and `import-text`);
//! - `amendment`: amendments, acceptance, rejection, reopening, with who decided and why;
//!   `sponsorship`: invitations to co-sponsor and their answers, votes, the missions that
//!   joined; `comments`: comments, replies, resolving;
//! - `revision`: preparing and publishing revisions, themes, what observers read;
//! - `process`: rounds and their programme, readings and the pointer; `silence`: silence
//!   procedures; `notice`: letters to missions;
//! - `guards`: the checks commands share (role, existence, lock, tombstone, status);
//! - [`limits`]: the size limit of every text field;
//! - `error`: [`ErrorCode`] and [`CommandError`]; `wire`: [`CommandRequest`], [`CommandReply`].

use serde::{Deserialize, Serialize};
use yrs::{Map, ReadTxn, TransactionMut};

use crate::policy::Actor;
use crate::process::{Attachment, ProgrammeDay};
use crate::schema::{self, keys, ParagraphKind, ParagraphStatus};

mod amendment;
mod comments;
mod error;
mod guards;
pub mod limits;
mod notice;
mod paragraph;
mod process;
mod revision;
mod silence;
mod sponsorship;
mod wire;

#[cfg(test)]
mod tests;

pub use error::{CommandError, ErrorCode, INVALID_COMMAND};
pub use limits::{
    MAX_BODY_BYTES, MAX_COMMENT_BYTES, MAX_ID_BYTES, MAX_IMPORT_BYTES, MAX_LABEL_BYTES,
    MAX_NAME_BYTES, MAX_RATIONALE_BYTES, MAX_REASON_BYTES,
};
pub use wire::{CommandReply, CommandRequest, Reply};

use sponsorship::Vote;

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
        /// With `agreed-pending`: the missions agreement waits for (required then, and only
        /// then).
        #[serde(default)]
        pending: Vec<String>,
    },
    /// Facilitators: locks the paragraph, saying why; with `status`, sets it in the same step
    /// ("agreed ad ref", and locked).
    Lock {
        paragraph: String,
        reason: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        status: Option<ParagraphStatus>,
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
    /// The author invites a co-sponsor, from the missions that joined the document as
    /// delegations; the invitation waits for the mission's answer.
    InviteSponsor {
        amendment: String,
        mission: String,
    },
    /// The invited mission accepts: it co-sponsors from now on.
    AcceptInvitation {
        amendment: String,
    },
    /// The invited mission declines.
    DeclineInvitation {
        amendment: String,
    },
    /// The author removes a co-sponsor (or takes back an invitation), or a co-sponsor
    /// withdraws its own sponsorship.
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
    /// Facilitators: the paragraph takes the amendment's text. When the body changed since
    /// the amendment was made, this is refused (`body-moved-on`) unless `over_later_edits`
    /// says the facilitator has seen what the acceptance overwrites.
    Accept {
        amendment: String,
        #[serde(default)]
        over_later_edits: bool,
    },
    /// Facilitators: rejects the amendment, saying why.
    Reject {
        amendment: String,
        #[serde(default)]
        reason: String,
    },
    /// Facilitators: a rejected amendment is open again, saying why.
    Reopen {
        amendment: String,
        reason: String,
    },
    /// A comment on a paragraph, or (`reply_to`) an answer to one of its thread.
    Comment {
        paragraph: String,
        text: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reply_to: Option<String>,
    },
    /// The comment's author's mission, or a facilitator: the comment is resolved.
    ResolveComment {
        paragraph: String,
        comment: String,
    },
    /// The server alone: a mission joined the document as a delegation.
    RecordMission {
        mission: String,
    },
    /// Facilitators: fills an empty document from a structured text ([`crate::import`]).
    ImportText {
        text: String,
    },
    /// Facilitators: freezes the text as the revision `name` ("Rev 1"), with the cover
    /// letter typed so far, or `note` when given.
    PublishRevision {
        name: String,
        #[serde(default)]
        note: Option<String>,
    },
    /// Facilitators: makes the next revision's cover letter to type into, if there is none.
    PrepareRevision {},
    /// Facilitators: their own note on a paragraph for the next revision (empty clears it).
    NoteChange {
        paragraph: String,
        note: String,
    },
    /// Facilitators: defines a theme (`theme` absent) or redefines one.
    SetTheme {
        #[serde(default)]
        theme: Option<String>,
        name: String,
        #[serde(default)]
        paragraphs: Vec<String>,
    },
    /// Facilitators: what observers read, the live text or only published revisions.
    SetObservers {
        observers: schema::ObserverView,
    },
    /// Facilitators: a round of negotiations ("Third round", 3-6 April 2018, Conference Room
    /// 2) with its programme of work.
    CreateRound {
        name: String,
        starts_on: String,
        ends_on: String,
        #[serde(default)]
        place: String,
        #[serde(default)]
        programme: Vec<ProgrammeDay>,
    },
    /// Facilitators: a round's programme, redefined whole.
    SetProgramme {
        round: String,
        programme: Vec<ProgrammeDay>,
    },
    /// Facilitators: the item under way (day and item, indices into the programme), or none.
    SetCurrentItem {
        round: String,
        #[serde(default)]
        day: Option<usize>,
        #[serde(default)]
        item: Option<usize>,
    },
    /// Facilitators: a reading ("second reading") of the text from `from` to `to` (absent: the
    /// whole text). One at a time.
    StartReading {
        name: String,
        #[serde(default)]
        round: Option<String>,
        #[serde(default)]
        from: Option<String>,
        #[serde(default)]
        to: Option<String>,
    },
    /// Facilitators: "now under discussion": a paragraph, or a heading for its section.
    MovePointer {
        reading: String,
        paragraph: String,
    },
    EndReading {
        reading: String,
    },
    /// Facilitators: puts a revision (the latest, as it still reads) or some paragraphs under
    /// silence until `seconds` from now (72 hours when absent); every mission is notified.
    StartSilence {
        #[serde(default)]
        revision: Option<String>,
        #[serde(default)]
        paragraphs: Vec<String>,
        #[serde(default)]
        seconds: Option<u64>,
    },
    /// Delegations: breaks silence, with a statement.
    BreakSilence {
        silence: String,
        statement: String,
    },
    /// The server alone, at the deadline: adopts the text if nobody broke silence.
    ConcludeSilence {
        silence: String,
    },
    /// Facilitators: a letter to all missions (`to` empty) or some.
    PublishNotice {
        subject: String,
        body: String,
        #[serde(default)]
        to: Vec<String>,
        #[serde(default)]
        attachments: Vec<Attachment>,
        #[serde(default)]
        round: Option<String>,
        #[serde(default)]
        revision: Option<String>,
    },
    /// A mission has read a notice addressed to it.
    ReadNotice {
        notice: String,
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
            Command::Reopen { .. } => "reopen",
            Command::AcceptInvitation { .. } => "accept-invitation",
            Command::DeclineInvitation { .. } => "decline-invitation",
            Command::Comment { .. } => "comment",
            Command::ResolveComment { .. } => "resolve-comment",
            Command::RecordMission { .. } => "record-mission",
            Command::ImportText { .. } => "import-text",
            Command::PublishRevision { .. } => "publish-revision",
            Command::PrepareRevision {} => "prepare-revision",
            Command::NoteChange { .. } => "note-change",
            Command::SetTheme { .. } => "set-theme",
            Command::SetObservers { .. } => "set-observers",
            Command::CreateRound { .. } => "create-round",
            Command::SetProgramme { .. } => "set-programme",
            Command::SetCurrentItem { .. } => "set-current-item",
            Command::StartReading { .. } => "start-reading",
            Command::MovePointer { .. } => "move-pointer",
            Command::EndReading { .. } => "end-reading",
            Command::StartSilence { .. } => "start-silence",
            Command::BreakSilence { .. } => "break-silence",
            Command::ConcludeSilence { .. } => "conclude-silence",
            Command::PublishNotice { .. } => "publish-notice",
            Command::ReadNotice { .. } => "read-notice",
        }
    }

    /// Whether the command can change the progress counts (statuses, paragraphs, open
    /// amendments): after one, the day's trend point is brought up to date.
    fn may_move_progress(&self) -> bool {
        matches!(
            self,
            Command::AddParagraph { .. }
                | Command::SplitParagraph { .. }
                | Command::DeleteParagraph { .. }
                | Command::SetStatus { .. }
                | Command::CreateAmendment { .. }
                | Command::Withdraw { .. }
                | Command::Accept { .. }
                | Command::Reject { .. }
                | Command::Reopen { .. }
                | Command::Lock { .. }
                | Command::ImportText { .. }
                | Command::ConcludeSilence { .. }
        )
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
            | Command::ResolveComment { paragraph, .. }
            | Command::NoteChange { paragraph, .. }
            | Command::SplitParagraph { paragraph, .. }
            | Command::MovePointer { paragraph, .. } => touched.push(paragraph.clone()),
            Command::InviteSponsor { amendment, .. }
            | Command::RemoveSponsor { amendment, .. }
            | Command::Support { amendment }
            | Command::Oppose { amendment }
            | Command::Withdraw { amendment }
            | Command::Accept { amendment, .. }
            | Command::Reject { amendment, .. }
            | Command::Reopen { amendment, .. }
            | Command::AcceptInvitation { amendment }
            | Command::DeclineInvitation { amendment } => {
                if let Some(a) = schema::amendment(txn, amendment) {
                    touched.push(a.paragraph);
                }
            }
            Command::SetTheme { paragraphs, .. } => touched.extend(paragraphs.iter().cloned()),
            Command::AddParagraph { .. }
            | Command::PublishRevision { .. }
            | Command::PrepareRevision {}
            | Command::SetObservers { .. }
            | Command::CreateRound { .. }
            | Command::SetProgramme { .. }
            | Command::SetCurrentItem { .. }
            | Command::StartReading { .. }
            | Command::EndReading { .. }
            | Command::PublishNotice { .. }
            | Command::ReadNotice { .. }
            | Command::RecordMission { .. } => {}
            Command::BreakSilence { silence, .. } | Command::ConcludeSilence { silence } => {
                touched.extend(silence::paragraphs_of(txn, silence));
            }
            Command::StartSilence { .. } => {
                if let Outcome::Created { id } = outcome {
                    touched.extend(silence::paragraphs_of(txn, id));
                }
            }
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

/// Validates a command for this actor and applies it. On error nothing was changed.
///
/// Observers are refused and text fields checked against their limits before anything is
/// looked up; then each command checks the rest (role, existence, lock, status) itself.
pub fn execute(
    txn: &mut TransactionMut,
    ctx: Context<'_>,
    command: &Command,
) -> Result<Outcome, CommandError> {
    guards::participants_only(&ctx)?;
    command.check_limits()?;
    let outcome = run(txn, &ctx, command)?;
    if command.may_move_progress() {
        crate::progress::record_trend(txn, ctx.now_ms);
    }
    Ok(outcome)
}

fn run(
    txn: &mut TransactionMut,
    ctx: &Context<'_>,
    command: &Command,
) -> Result<Outcome, CommandError> {
    match command {
        Command::AddParagraph {
            after,
            label,
            kind,
            parent,
            body,
        } => paragraph::add(
            txn,
            ctx,
            after.as_deref(),
            label,
            *kind,
            parent.as_deref(),
            body,
        ),
        Command::MoveParagraph {
            paragraph: id,
            after,
        } => paragraph::move_after(txn, ctx, id, after.as_deref()),
        Command::SplitParagraph {
            paragraph: id,
            at,
            label,
        } => paragraph::split(txn, ctx, id, *at, label),
        Command::RelabelParagraph {
            paragraph: id,
            label,
        } => paragraph::relabel(txn, ctx, id, label),
        Command::DeleteParagraph { paragraph: id } => paragraph::delete(txn, ctx, id),
        Command::SetStatus {
            paragraph: id,
            status,
            pending,
        } => paragraph::set_status(txn, ctx, id, *status, pending),
        Command::Lock {
            paragraph: id,
            reason,
            status,
        } => paragraph::lock(txn, ctx, id, reason, *status),
        Command::Unlock {
            paragraph: id,
            reason,
        } => paragraph::unlock(txn, ctx, id, reason),
        Command::CreateAmendment {
            paragraph: id,
            new_after,
            on_behalf_of,
            rationale,
        } => amendment::create(txn, ctx, id, *new_after, on_behalf_of.as_deref(), rationale),
        Command::InviteSponsor {
            amendment: id,
            mission,
        } => sponsorship::invite_sponsor(txn, ctx, id, mission),
        Command::AcceptInvitation { amendment: id } => {
            sponsorship::answer_invitation(txn, ctx, id, true)
        }
        Command::DeclineInvitation { amendment: id } => {
            sponsorship::answer_invitation(txn, ctx, id, false)
        }
        Command::RemoveSponsor {
            amendment: id,
            mission,
        } => sponsorship::remove_sponsor(txn, ctx, id, mission),
        Command::Support { amendment: id } => sponsorship::vote(txn, ctx, id, Vote::Support),
        Command::Oppose { amendment: id } => sponsorship::vote(txn, ctx, id, Vote::Oppose),
        Command::Withdraw { amendment: id } => amendment::withdraw(txn, ctx, id),
        Command::Accept {
            amendment: id,
            over_later_edits,
        } => amendment::accept(txn, ctx, id, *over_later_edits),
        Command::Reject {
            amendment: id,
            reason,
        } => amendment::reject(txn, ctx, id, reason),
        Command::Reopen {
            amendment: id,
            reason,
        } => amendment::reopen(txn, ctx, id, reason),
        Command::ImportText { text } => paragraph::import_text(txn, ctx, text),
        Command::Comment {
            paragraph: id,
            text,
            reply_to,
        } => comments::comment(txn, ctx, id, text, reply_to.as_deref()),
        Command::ResolveComment {
            paragraph: id,
            comment,
        } => comments::resolve(txn, ctx, id, comment),
        Command::RecordMission { mission } => sponsorship::record_mission(txn, ctx, mission),
        Command::PublishRevision { name, note } => {
            revision::publish(txn, ctx, name, note.as_deref())
        }
        Command::PrepareRevision {} => revision::prepare(txn, ctx),
        Command::NoteChange {
            paragraph: id,
            note,
        } => revision::note_change(txn, ctx, id, note),
        Command::SetTheme {
            theme,
            name,
            paragraphs,
        } => revision::set_theme(txn, ctx, theme.as_deref(), name, paragraphs),
        Command::SetObservers { observers } => revision::set_observers(txn, ctx, *observers),
        Command::CreateRound {
            name,
            starts_on,
            ends_on,
            place,
            programme,
        } => process::create_round(txn, ctx, name, (starts_on, ends_on), place, programme),
        Command::SetProgramme { round, programme } => {
            process::set_programme(txn, ctx, round, programme)
        }
        Command::SetCurrentItem { round, day, item } => {
            process::set_current_item(txn, ctx, round, *day, *item)
        }
        Command::StartReading {
            name,
            round,
            from,
            to,
        } => process::start_reading(txn, ctx, name, round.as_deref(), from, to),
        Command::MovePointer { reading, paragraph } => {
            process::move_pointer(txn, ctx, reading, paragraph)
        }
        Command::EndReading { reading } => process::end_reading(txn, ctx, reading),
        Command::StartSilence {
            revision,
            paragraphs,
            seconds,
        } => silence::start(txn, ctx, revision.as_deref(), paragraphs, *seconds),
        Command::BreakSilence {
            silence: id,
            statement,
        } => silence::break_silence(txn, ctx, id, statement),
        Command::ConcludeSilence { silence: id } => silence::conclude(txn, ctx, id),
        Command::PublishNotice {
            subject,
            body,
            to,
            attachments,
            round,
            revision,
        } => notice::publish(
            txn,
            ctx,
            &notice::Letter {
                subject,
                body,
                to,
                attachments,
                round: round.as_deref(),
                revision: revision.as_deref(),
                silence: None,
            },
        ),
        Command::ReadNotice { notice: id } => notice::read(txn, ctx, id),
    }
}

/// The next free id with this prefix under this root map: ids are never reused, tombstones
/// included.
pub(super) fn next_id(txn: &impl ReadTxn, root: &str, prefix: &str) -> String {
    let highest = txn
        .get_map(root)
        .map(|map| {
            map.keys(txn)
                .filter_map(|k| k.strip_prefix(prefix).and_then(|n| n.parse::<u64>().ok()))
                .max()
                .unwrap_or(0)
        })
        .unwrap_or(0);
    format!("{prefix}{}", highest + 1)
}

/// The id the next new paragraph takes (`p1`, `p2`, ...).
fn next_paragraph_id(txn: &impl ReadTxn) -> String {
    next_id(txn, keys::PARAGRAPHS, keys::PARAGRAPH_ID_PREFIX)
}

/// The id the next new amendment takes (`a1`, `a2`, ...).
fn next_amendment_id(txn: &impl ReadTxn) -> String {
    next_id(txn, keys::AMENDMENTS, keys::AMENDMENT_ID_PREFIX)
}
