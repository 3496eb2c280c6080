//! The comparison of any two texts (two revisions, or a revision and the live text) paragraph
//! by paragraph, by stable id: what delegations read to see what changed between drafts.
//!
//! The paragraphs come in the reading order of the later text, with those it no longer has
//! where they stood ([`super::order`]); each with what happened to it and the word diff of its
//! body, whose inserted pieces [`runs_within`] maps to who wrote them.

use serde::{Deserialize, Serialize};

use super::order::align;
use super::words::{text_deadline, word_diff_until, DiffOp, Piece};
use super::{TextParagraph, WrittenRun};
use crate::schema::ParagraphStatus;

/// What happened to a paragraph from one text to the other.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ParagraphOperation {
    /// Only in the later text (a paragraph added and deleted in between is added, with
    /// `status_to` deleted: the change notes say both, new and deleted).
    Added,
    /// Gone from the later text, or deleted there (status `deleted`) and not before.
    Deleted,
    /// Its body, label or status differs, or it moved.
    Changed,
    Unchanged,
}

/// One paragraph, by stable id, from one text to the other.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParagraphComparison {
    pub id: String,
    pub operation: ParagraphOperation,
    pub label_from: Option<String>,
    pub label_to: Option<String>,
    pub status_from: Option<ParagraphStatus>,
    pub status_to: Option<ParagraphStatus>,
    /// Out of order against the other paragraphs, or under another heading (as in the change
    /// notes).
    pub moved: bool,
    /// Its label differs.
    pub renumbered: bool,
    /// The word diff of the bodies: one inserted piece for an added paragraph, one deleted
    /// piece (the old body) for a deleted one; none for an empty body.
    pub pieces: Vec<Piece>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Comparison {
    pub paragraphs: Vec<ParagraphComparison>,
}

/// Every paragraph of `from` and `to`, by stable id, in `to`'s reading order (those only in
/// `from` where they stood).
pub fn compare(from: &[TextParagraph], to: &[TextParagraph]) -> Comparison {
    let deadline = text_deadline();
    let deleted = ParagraphStatus::Deleted;
    let whole = |op: DiffOp, body: &str| {
        let piece = Piece {
            op,
            text: body.to_string(),
            at: 0,
        };
        (!body.is_empty()).then_some(piece).into_iter().collect()
    };
    let paragraphs = align(from, to)
        .into_iter()
        .filter_map(|a| {
            let (b, p) = (a.before, a.after);
            let (operation, pieces) = match (b, p) {
                (None, None) => return None,
                (None, Some(p)) => (ParagraphOperation::Added, whole(DiffOp::Insert, &p.body)),
                (Some(b), None) => (ParagraphOperation::Deleted, whole(DiffOp::Delete, &b.body)),
                (Some(b), Some(p)) if p.status == deleted && b.status != deleted => {
                    (ParagraphOperation::Deleted, whole(DiffOp::Delete, &b.body))
                }
                (Some(b), Some(p)) => {
                    let changed =
                        b.body != p.body || b.label != p.label || b.status != p.status || a.moved;
                    let operation = if changed {
                        ParagraphOperation::Changed
                    } else {
                        ParagraphOperation::Unchanged
                    };
                    (operation, word_diff_until(&b.body, &p.body, deadline))
                }
            };
            let id = p.or(b)?.id.clone();
            Some(ParagraphComparison {
                id,
                operation,
                label_from: b.map(|b| b.label.clone()),
                label_to: p.map(|p| p.label.clone()),
                status_from: b.map(|b| b.status),
                status_to: p.map(|p| p.status),
                moved: a.moved,
                renumbered: b.zip(p).is_some_and(|(b, p)| b.label != p.label),
                pieces,
            })
        })
        .collect();
    Comparison { paragraphs }
}

/// The parts of `runs` (a body's runs, in order) that cover the UTF-16 range `[at, at+len)`:
/// who wrote a piece of a diff. A range past the end of the runs gets the part that exists.
pub fn runs_within(runs: &[WrittenRun], at: u32, len: u32) -> Vec<WrittenRun> {
    let mut out = Vec::new();
    let mut start = 0u32;
    let end = at.saturating_add(len);
    for run in runs {
        let run_end = start.saturating_add(run.len);
        let lo = start.max(at);
        let hi = run_end.min(end);
        if lo < hi {
            out.push(WrittenRun {
                len: hi - lo,
                client: run.client,
                clock: run.clock.saturating_add(lo - start),
            });
        }
        start = run_end;
    }
    out
}
