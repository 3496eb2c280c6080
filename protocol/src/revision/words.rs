//! The word diff (stub: replaced by the real one).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DiffOp {
    Equal,
    Insert,
    Delete,
}

/// A stretch of a diff: kept, inserted or deleted text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Piece {
    pub op: DiffOp,
    pub text: String,
    /// UTF-16 offset of the piece in the text it comes from: the new text for `equal` and
    /// `insert`, the old one for `delete`.
    pub at: u32,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WordCounts {
    pub added: usize,
    pub removed: usize,
}

pub fn word_diff(old: &str, new: &str) -> Vec<Piece> {
    if old == new {
        return vec![Piece {
            op: DiffOp::Equal,
            text: new.to_string(),
            at: 0,
        }];
    }
    vec![
        Piece {
            op: DiffOp::Delete,
            text: old.to_string(),
            at: 0,
        },
        Piece {
            op: DiffOp::Insert,
            text: new.to_string(),
            at: 0,
        },
    ]
}

impl WordCounts {
    pub fn of(pieces: &[Piece]) -> Self {
        let words = |p: &Piece| p.text.split_whitespace().count();
        WordCounts {
            added: pieces
                .iter()
                .filter(|p| p.op == DiffOp::Insert)
                .map(words)
                .sum(),
            removed: pieces
                .iter()
                .filter(|p| p.op == DiffOp::Delete)
                .map(words)
                .sum(),
        }
    }
}
