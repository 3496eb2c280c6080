//! Revisions: the numbered drafts facilitators circulate ("zero draft", "Rev 1"), frozen when
//! published, and the comparisons delegations read between any two of them or against the
//! live text.
//!
//! A revision is a plain value: every paragraph by stable id, in reading order, with its label,
//! kind, parent, status, body and who wrote each run of the body; the amendments open at the
//! time; the cover letter; the change notes against the previous revision; the themes. It is
//! stored, whole, as one value the server writes into the document's `revisions` map when a
//! facilitator publishes (`publish-revision`): it is then part of every snapshot and chained by
//! the audit record of the publication, and no update or command can change it (clients write
//! only the texts of [`crate::schema::Editable`], and no command rewrites a revision).
//!
//! - this file: the types, shared by the server, the page and the exports;
//! - `words`: the word diff ([`word_diff`]) readers expect: words, punctuation and spaces;
//!   `tokens` cuts a body into those, `pieces` assembles the diff's pieces and offsets;
//! - `notes`: [`change_notes`], the server's draft note per paragraph against the previous
//!   revision (new, deleted, restored, moved, renumbered, wording, status, unchanged);
//! - `compare`: [`compare`], any two texts paragraph by paragraph by stable id;
//! - `order`: the reading order of two texts together and what moved, for both.

use serde::{Deserialize, Serialize};

use crate::schema::{Amendment, ParagraphKind, ParagraphStatus};

mod compare;
mod notes;
mod order;
mod pieces;
mod text;
mod tokens;
mod view;
mod words;

#[cfg(test)]
mod tests;

pub use compare::{compare, runs_within, Comparison, ParagraphComparison, ParagraphOperation};
pub use notes::{change_notes, Change, ChangeNote};
pub use text::{live_text, text_runs};
pub use view::{empty_published_view, is_view_client_id, published_view, VIEW_CLIENT_ID};
pub use words::{word_diff, DiffOp, Piece, WordCounts};

/// A run of a paragraph's body written by one client: `len` UTF-16 code units from the
/// client's clock `clock` on (yrs counts text in UTF-16). The runs of a body, in order, cover
/// it exactly; who the client is (a mission, or the server applying an amendment) is resolved
/// when the revision is read, from the client-id owners and the accepted amendments.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct WrittenRun {
    pub len: u32,
    pub client: u64,
    pub clock: u32,
}

/// One paragraph as a text reads at a moment: a published revision, or the live text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TextParagraph {
    /// The stable id (`p17`): a renumbered or moved paragraph keeps it.
    pub id: String,
    pub label: String,
    pub kind: ParagraphKind,
    pub parent: Option<String>,
    pub status: ParagraphStatus,
    pub locked: bool,
    pub body: String,
    /// Who wrote the body, run by run (empty when unknown).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub runs: Vec<WrittenRun>,
    /// While `agreed-pending`: the missions agreement waits for.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pending: Vec<String>,
}

/// Who published a revision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Publisher {
    pub mission: String,
    pub person: String,
}

/// A theme facilitators follow across the text ("differentiation between migrants and
/// refugees"), and the paragraphs (or headings: a heading stands for its section) that address
/// it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Theme {
    pub id: String,
    pub name: String,
    pub paragraphs: Vec<String>,
}

/// A published revision: immutable once written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Revision {
    /// Stable id (`r1`, `r2`, ...), in publication order.
    pub id: String,
    /// 1 for the first published revision, and so on.
    pub number: u32,
    /// The display name: "Zero draft", "Rev 1".
    pub name: String,
    /// The id of the revision before it, if any.
    pub previous: Option<String>,
    pub published_at_ms: u64,
    pub published_by: Publisher,
    /// The facilitators' cover letter (Markdown).
    pub cover_note: String,
    /// Every paragraph in reading order, tombstones included (status `deleted`).
    pub paragraphs: Vec<TextParagraph>,
    /// The amendments open when it was published.
    pub amendments: Vec<Amendment>,
    /// One note per paragraph against the previous revision (against nothing for the first).
    pub change_notes: Vec<ChangeNote>,
    pub themes: Vec<Theme>,
}

/// What the list of revisions shows of each.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevisionSummary {
    pub id: String,
    pub number: u32,
    pub name: String,
    pub published_at_ms: u64,
    pub published_by: Publisher,
    /// Paragraphs that changed against the previous revision.
    pub changed: usize,
    /// The size of the stored revision, in bytes.
    pub stored_bytes: usize,
}

impl Revision {
    pub fn summary(&self, stored_bytes: usize) -> RevisionSummary {
        RevisionSummary {
            id: self.id.clone(),
            number: self.number,
            name: self.name.clone(),
            published_at_ms: self.published_at_ms,
            published_by: self.published_by.clone(),
            changed: self
                .change_notes
                .iter()
                .filter(|n| !n.is_unchanged())
                .count(),
            stored_bytes,
        }
    }
}
