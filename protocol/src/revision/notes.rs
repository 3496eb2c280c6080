//! The change notes: what the server finds happened to each paragraph since the previous
//! revision, as the draft facilitators complete before they publish ("16 (formerly 15bis):
//! wording, 4 words added").
//!
//! Paragraphs are matched by stable id, never by label: a label is what renumbering changes.
//! What a note can say, in this order:
//! - `New`: not in the previous revision (and `Deleted` after it, for a paragraph added and
//!   deleted in between: its tombstone is in the text, keeping its number);
//! - `Deleted`: now deleted (status `deleted`) or gone from the text; nothing else is said of
//!   a deleted paragraph, whose wording and place no longer matter;
//! - `Restored`: deleted before, now of another status (then what else changed, as below);
//! - `Moved`: out of order against the others, or under another heading ([`super::order`]);
//! - `Renumbered`: its label changed;
//! - `Wording`: its body changed, with the words added and removed ([`super::word_diff`]); a
//!   change of punctuation or spacing alone is a change of wording of no words;
//! - `Status`: its status changed (other than to or from `deleted`);
//! - `Unchanged`, alone, when none of these holds. The notes compare two texts, not their
//!   histories: a paragraph changed and changed back in between is unchanged.
//!
//! A paragraph split in two (a new id given part of another's body) is the original with its
//! wording changed and a new paragraph: there is no link between ids to say more.

use serde::{Deserialize, Serialize};

use super::order::align;
use super::words::{text_deadline, word_diff_until, WordCounts};
use super::TextParagraph;
use crate::schema::ParagraphStatus;

/// One thing that happened to a paragraph between two revisions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "change", rename_all = "kebab-case")]
pub enum Change {
    New,
    Deleted,
    Restored,
    /// It stands elsewhere in the reading order (after `after`, the label of the paragraph now
    /// just before it; at the start when `None`), or under another heading (`from_parent` and
    /// `to_parent` are the headings' ids, equal when only the order changed).
    Moved {
        after: Option<String>,
        from_parent: Option<String>,
        to_parent: Option<String>,
    },
    Renumbered {
        from: String,
        to: String,
    },
    Wording {
        added: usize,
        removed: usize,
    },
    Status {
        from: ParagraphStatus,
        to: ParagraphStatus,
    },
    Unchanged,
}

/// The note on one paragraph: what the server found, and what the facilitators add.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeNote {
    pub paragraph: String,
    pub label: String,
    pub changes: Vec<Change>,
    /// The facilitators' own note ("no changes: a proposal is being prepared").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl ChangeNote {
    pub fn is_unchanged(&self) -> bool {
        self.changes.iter().all(|c| *c == Change::Unchanged)
    }
}

/// The draft note of every paragraph of `next` (and of every paragraph of `previous` gone from
/// it, where it stood) against `previous`, in reading order; against nothing (every paragraph
/// new) for a first revision. The facilitators' notes are left empty.
pub fn change_notes(previous: Option<&[TextParagraph]>, next: &[TextParagraph]) -> Vec<ChangeNote> {
    let deadline = text_deadline();
    align(previous.unwrap_or_default(), next)
        .into_iter()
        .filter_map(|a| {
            let changes = match (a.before, a.after) {
                (None, Some(p)) if p.status == ParagraphStatus::Deleted => {
                    vec![Change::New, Change::Deleted]
                }
                (None, Some(_)) => vec![Change::New],
                (Some(_), None) => vec![Change::Deleted],
                (Some(b), Some(p)) => changes(b, p, a.moved.then_some(a.follows), deadline),
                (None, None) => return None,
            };
            let p = a.after.or(a.before)?;
            Some(ChangeNote {
                paragraph: p.id.clone(),
                label: p.label.clone(),
                changes,
                note: None,
            })
        })
        .collect()
}

/// What changed from `b` to `p`, the same paragraph; `moved` holds the paragraph now before it
/// (`Some(None)` at the start) if it moved.
fn changes(
    b: &TextParagraph,
    p: &TextParagraph,
    moved: Option<Option<&TextParagraph>>,
    deadline: Option<std::time::Instant>,
) -> Vec<Change> {
    let deleted = ParagraphStatus::Deleted;
    if p.status == deleted && b.status != deleted {
        return vec![Change::Deleted];
    }
    let mut changes = Vec::new();
    if b.status == deleted && p.status != deleted {
        changes.push(Change::Restored);
    }
    if let Some(follows) = moved {
        changes.push(Change::Moved {
            after: follows.map(|f| f.label.clone()),
            from_parent: b.parent.clone(),
            to_parent: p.parent.clone(),
        });
    }
    if b.label != p.label {
        changes.push(Change::Renumbered {
            from: b.label.clone(),
            to: p.label.clone(),
        });
    }
    if b.body != p.body {
        let counts = WordCounts::of(&word_diff_until(&b.body, &p.body, deadline));
        changes.push(Change::Wording {
            added: counts.added,
            removed: counts.removed,
        });
    }
    if b.status != p.status && b.status != deleted && p.status != deleted {
        changes.push(Change::Status {
            from: b.status,
            to: p.status,
        });
    }
    if changes.is_empty() {
        changes.push(Change::Unchanged);
    }
    changes
}
