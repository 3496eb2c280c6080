//! The pieces of a word diff as [`super::words`] finds them: pushed in reading order, they
//! come out with clean-up 3 of the word diff done (within a change the deletion first, then
//! the insertion; pieces of one kind next to each other merged; no empty piece) and with their
//! UTF-16 offsets counted as they go, so that every `at` is exact by construction (each piece
//! starts where the text before it, kept or deleted for the old side, kept or inserted for the
//! new one, ends).

use super::words::{DiffOp, Piece};

/// The pieces of a diff as it finds them, in reading order.
#[derive(Debug, Default)]
pub(super) struct Pieces {
    pieces: Vec<Piece>,
    /// Where the next piece starts in the old text and in the new one.
    old_at: u32,
    new_at: u32,
    /// The change since the last kept piece, emitted when the next kept piece comes.
    deleted: Option<Piece>,
    inserted: Option<Piece>,
}

impl Pieces {
    /// Appends `text`, kept, deleted or inserted; empty text is no piece.
    pub(super) fn push(&mut self, op: DiffOp, text: &str) {
        if text.is_empty() {
            return;
        }
        let len = u32::try_from(text.encode_utf16().count()).unwrap_or(u32::MAX);
        let (slot, at) = match op {
            DiffOp::Equal => {
                self.flush_change();
                let at = self.new_at;
                self.old_at = self.old_at.saturating_add(len);
                self.new_at = self.new_at.saturating_add(len);
                match self.pieces.last_mut() {
                    Some(last) if last.op == DiffOp::Equal => last.text.push_str(text),
                    _ => self.pieces.push(piece(op, text, at)),
                }
                return;
            }
            DiffOp::Delete => {
                let at = self.old_at;
                self.old_at = self.old_at.saturating_add(len);
                (&mut self.deleted, at)
            }
            DiffOp::Insert => {
                let at = self.new_at;
                self.new_at = self.new_at.saturating_add(len);
                (&mut self.inserted, at)
            }
        };
        match slot {
            Some(p) => p.text.push_str(text),
            None => *slot = Some(piece(op, text, at)),
        }
    }

    /// The change since the last kept piece: its deletion, then its insertion.
    fn flush_change(&mut self) {
        self.pieces.extend(self.deleted.take());
        self.pieces.extend(self.inserted.take());
    }

    pub(super) fn finish(mut self) -> Vec<Piece> {
        self.flush_change();
        self.pieces
    }
}

fn piece(op: DiffOp, text: &str, at: u32) -> Piece {
    Piece {
        op,
        text: text.to_string(),
        at,
    }
}
