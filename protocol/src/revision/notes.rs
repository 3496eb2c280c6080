//! Change notes (stub: replaced by the real one).

use serde::{Deserialize, Serialize};

use super::TextParagraph;
use crate::schema::ParagraphStatus;

/// One thing that happened to a paragraph between two revisions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "change", rename_all = "kebab-case")]
pub enum Change {
    New,
    Deleted,
    Restored,
    /// It stands elsewhere in the reading order (after `after`, a label; at the start when
    /// `None`), or under another heading.
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
/// it) against `previous`; against nothing (every paragraph new) for a first revision.
pub fn change_notes(previous: Option<&[TextParagraph]>, next: &[TextParagraph]) -> Vec<ChangeNote> {
    next.iter()
        .map(|p| {
            let before = previous.and_then(|prev| prev.iter().find(|q| q.id == p.id));
            let change = match before {
                None => Change::New,
                Some(b) if b.body != p.body => Change::Wording {
                    added: 0,
                    removed: 0,
                },
                Some(_) => Change::Unchanged,
            };
            ChangeNote {
                paragraph: p.id.clone(),
                label: p.label.clone(),
                changes: vec![change],
                note: None,
            }
        })
        .collect()
}
