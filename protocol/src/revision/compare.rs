//! Comparison of two texts (stub: replaced by the real one).

use serde::{Deserialize, Serialize};

use super::words::{word_diff, Piece};
use super::{TextParagraph, WrittenRun};
use crate::schema::ParagraphStatus;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ParagraphOperation {
    Added,
    Deleted,
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
    pub moved: bool,
    pub renumbered: bool,
    pub pieces: Vec<Piece>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Comparison {
    pub paragraphs: Vec<ParagraphComparison>,
}

pub fn compare(from: &[TextParagraph], to: &[TextParagraph]) -> Comparison {
    let paragraphs = to
        .iter()
        .map(|p| {
            let before = from.iter().find(|q| q.id == p.id);
            ParagraphComparison {
                id: p.id.clone(),
                operation: match before {
                    None => ParagraphOperation::Added,
                    Some(b) if b.body != p.body => ParagraphOperation::Changed,
                    Some(_) => ParagraphOperation::Unchanged,
                },
                label_from: before.map(|b| b.label.clone()),
                label_to: Some(p.label.clone()),
                status_from: before.map(|b| b.status),
                status_to: Some(p.status),
                moved: false,
                renumbered: before.is_some_and(|b| b.label != p.label),
                pieces: word_diff(before.map(|b| b.body.as_str()).unwrap_or(""), &p.body),
            }
        })
        .collect();
    Comparison { paragraphs }
}

/// The parts of `runs` (a body's runs, in order) that cover the UTF-16 range `[at, at+len)`.
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
                clock: run.clock + (lo - start),
            });
        }
        start = run_end;
    }
    out
}
