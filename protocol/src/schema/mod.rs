//! The negotiation document: its shape inside the Y.Doc, the typed reads shared by server and
//! client, and the writes the server makes when it applies a command.
//!
//! Layout (root types; every name is in [`keys`]):
//! - `paragraphs`: map, paragraph id → map { `label`, `kind`, `parent`, `status`, `lock`,
//!   `body` (Y.Text) }. Ids are stable and never reused; a deleted paragraph stays, as a
//!   tombstone, so that its number is not given to another.
//! - `order`: array of paragraph ids, in the order the text reads.
//! - `amendments`: map, amendment id → map { `paragraph`, `new_after`, `sponsors`,
//!   `on_behalf_of`, `text` (Y.Text), `rationale` (Y.Text), `supporters`, `opposers`,
//!   `status`, `base_revision`, `stale` }.
//! - `comments`: map, paragraph id → array of comment values (append-only).
//! - `revisions`: map, revision id → the published revision (one JSON string, written once).
//! - `drafting`: map { `cover_note` (Y.Text, facilitators type it) } and `change_notes`:
//!   map, paragraph id → the facilitators' note for the next revision.
//! - `themes`: map, theme id → { `name`, `paragraphs` }. `settings`: map { `observers` }.
//! - `rounds`, `readings`, `silences`, `notices`: map, id → one JSON string each (the
//!   [`crate::process`] values), with what changes often beside them, a small entry per
//!   change (`round_current`, `reading_visits`, `silence_breaks`, `notice_reads`: the document
//!   keeps every value a map held, so a value is not rewritten for a pointer move);
//!   `progress_trend`: map, day → the progress counts.
//!
//! Clients only ever write characters into the three kinds of Y.Text ([`Editable`]); every
//! other value is written by the server, applying commands under its own client id.
//!
//! - [`keys`]: the names of the roots and fields.
//! - `read`: the typed reads ([`paragraphs`], [`amendment`], [`comments`], ...) and the
//!   Y.Texts for writing into ([`body_text`], ...).
//! - `write`: the server's writes ([`insert_paragraph`], [`set_lock`], ...).
//! - `editable`: [`editable_branches`], the index of the texts clients may write.
//! - `replica`: [`new_replica`], the one way a Y.Doc for a negotiation is made.

use serde::{Deserialize, Serialize};

mod drafting;
mod editable;
pub mod keys;
mod process;
mod read;
mod replica;
mod write;

#[cfg(test)]
mod tests;

pub use drafting::{
    change_notes_drafted, cover_note, cover_note_text, observer_view, prepare_cover_note, revision,
    revision_ids, revisions, set_applied_as, set_change_note, set_observer_view, set_theme,
    start_next_revision, store_revision, themes, ObserverView,
};
pub use editable::{editable_branches, Editable};
pub use keys::{AMENDMENTS, COMMENTS, ORDER, PARAGRAPHS};
pub use process::{
    append_process_entry, process_entries, process_entries_of, process_marks, process_value,
    process_values, set_process_mark, store_process_value,
};
pub use read::{
    amendment, amendment_list, amendment_rationale, amendment_text, amendments, body_text,
    comments, has_mission, missions, paragraph, paragraphs, position,
};
pub use replica::{new_replica, replica_options};
pub use write::{
    add_comment, add_sponsor, create_amendment, insert_paragraph, move_paragraph, record_mission,
    resolve_comment, rewrite_text, set_amendment_reading, set_amendment_status, set_decision,
    set_invited, set_label, set_lock, set_stale, set_status, set_status_pending, NewAmendment,
    NewParagraph,
};

/// Where a paragraph sits in the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ParagraphKind {
    Heading,
    Preambular,
    Operative,
    Action,
}

/// How far a paragraph has come: open, agreed pending named missions (agreed by all but
/// them), agreed ad referendum (subject to confirmation), agreed, held, or deleted (a tombstone
/// that keeps its number; any other status restores it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ParagraphStatus {
    Open,
    /// Agreed by all but the missions in the paragraph's `pending` list.
    AgreedPending,
    AgreedAdRef,
    Agreed,
    Held,
    Deleted,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AmendmentStatus {
    Open,
    Accepted,
    Rejected,
    Withdrawn,
}

macro_rules! text_enum {
    ($ty:ty { $($variant:ident => $text:literal),* $(,)? }) => {
        impl $ty {
            pub fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $text),* }
            }
            pub fn parse(text: &str) -> Option<Self> {
                match text { $($text => Some(Self::$variant),)* _ => None }
            }
        }
    };
}

text_enum!(ParagraphKind { Heading => "heading", Preambular => "preambular", Operative => "operative", Action => "action" });
text_enum!(ParagraphStatus { Open => "open", AgreedPending => "agreed-pending", AgreedAdRef => "agreed-ad-ref", Agreed => "agreed", Held => "held", Deleted => "deleted" });
text_enum!(AmendmentStatus { Open => "open", Accepted => "accepted", Rejected => "rejected", Withdrawn => "withdrawn" });

/// Who locked a paragraph, when, and why. Stored as a plain value under [`keys::LOCK`], its
/// fields named by [`keys::MISSION`], [`keys::PERSON`], [`keys::AT_MS`], [`keys::REASON`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lock {
    pub mission: String,
    pub person: String,
    /// Milliseconds since the Unix epoch, by the server's clock.
    pub at_ms: u64,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Paragraph {
    pub id: String,
    /// The displayed number: "17", "15bis", "PP3", "OP6alt".
    pub label: String,
    pub kind: ParagraphKind,
    /// The section or objective this paragraph belongs to (a heading's id).
    pub parent: Option<String>,
    pub status: ParagraphStatus,
    pub lock: Option<Lock>,
    pub body: String,
    /// While `agreed-pending`: the missions agreement waits for.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pending: Vec<String>,
}

impl Paragraph {
    pub fn is_locked(&self) -> bool {
        self.lock.is_some()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Amendment {
    pub id: String,
    /// The paragraph it rewords, or after which it proposes a new one.
    pub paragraph: String,
    /// True for a proposed new paragraph after `paragraph`.
    pub new_after: bool,
    /// Sponsor missions; the first is the author.
    pub sponsors: Vec<String>,
    pub on_behalf_of: Option<String>,
    pub text: String,
    pub rationale: String,
    pub supporters: Vec<String>,
    pub opposers: Vec<String>,
    pub status: AmendmentStatus,
    pub base_revision: Option<String>,
    /// The paragraph's body changed (another amendment was accepted) since this one began.
    pub stale: bool,
    /// The paragraph's body when the amendment was created: what its text amends (absent
    /// for amendments made before it was recorded, and for new paragraphs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_body: Option<String>,
    /// Once accepted: the server's clocks `(client, from, to)` that wrote its words into
    /// the body, so that those words are credited to it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub applied_as: Option<(u64, u32, u32)>,
    /// Within `applied_as`: each stretch `(from, to, writer)` of the server's clocks and the
    /// client id that typed those words in the amendment's text (a sponsor, a co-sponsor, a
    /// facilitator), so that each is credited to whoever wrote it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub applied_by: Vec<(u32, u32, u64)>,
    /// The id ranges `(client, clock, len)` its acceptance deleted from the body: the words it
    /// took out, credited to it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub applied_deleting: Vec<(u64, u32, u32)>,
    /// The reading during which it was proposed (on a paragraph the reading covers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reading: Option<String>,
    /// Missions the author invited to co-sponsor, until they accept or decline.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub invited: Vec<String>,
    /// The last decision on it (accepted, rejected, withdrawn, reopened): who, when, why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision: Option<Decision>,
}

impl Amendment {
    /// The author: the first sponsor.
    pub fn author(&self) -> Option<&str> {
        self.sponsors.first().map(String::as_str)
    }

    pub fn is_sponsored_by(&self, mission: &str) -> bool {
        self.sponsors.iter().any(|s| s == mission)
    }
}

/// One comment in a paragraph's thread. Stored as a plain value, its fields named by
/// [`keys::MISSION`], [`keys::PERSON`], [`keys::AT_MS`], [`keys::TEXT`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Comment {
    /// `c1`, `c2`, ... in the paragraph's thread: its place, which never changes (the thread
    /// is append-only). Not stored; given when read.
    #[serde(default)]
    pub id: String,
    pub mission: String,
    pub person: String,
    pub at_ms: u64,
    pub text: String,
    /// The comment of the same thread this one answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<String>,
    /// Who marked it resolved, and when (its author or a facilitator).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolved: Option<Decision>,
}

/// Who decided something, when, and why: an amendment accepted, rejected, withdrawn or
/// reopened; a comment resolved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    pub mission: String,
    pub person: String,
    pub at_ms: u64,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub reason: String,
    /// For an amendment: the status it was given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<AmendmentStatus>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SchemaError {
    #[error("no paragraph {0}")]
    UnknownParagraph(String),
    #[error("no amendment {0}")]
    UnknownAmendment(String),
    #[error("paragraph {0} exists already")]
    DuplicateParagraph(String),
    #[error("amendment {0} exists already")]
    DuplicateAmendment(String),
}
