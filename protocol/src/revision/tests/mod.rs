//! Golden tests of the word diff, the change notes and the comparison, and the invariants of
//! the word diff on generated hostile input.

use super::*;
use crate::schema::{ParagraphKind, ParagraphStatus};

mod compare;
mod notes;
mod words;
mod words_fuzz;

/// The pieces as a reader sees them: `[-deleted-]`, `[+inserted+]`.
fn show(pieces: &[Piece]) -> String {
    pieces
        .iter()
        .map(|p| match p.op {
            DiffOp::Equal => p.text.clone(),
            DiffOp::Delete => format!("[-{}-]", p.text),
            DiffOp::Insert => format!("[+{}+]", p.text),
        })
        .collect()
}

fn piece(op: DiffOp, text: &str, at: u32) -> Piece {
    Piece {
        op,
        text: text.to_string(),
        at,
    }
}

fn eq(text: &str, at: u32) -> Piece {
    piece(DiffOp::Equal, text, at)
}

fn del(text: &str, at: u32) -> Piece {
    piece(DiffOp::Delete, text, at)
}

fn ins(text: &str, at: u32) -> Piece {
    piece(DiffOp::Insert, text, at)
}

/// Everything a word diff promises, whatever the input: kept and inserted pieces give `new`,
/// kept and deleted ones give `old`, each `at` is where the piece stands in UTF-16 code units
/// (in `new`, or in `old` for a deletion), no piece is empty, two pieces next to each other are
/// of different kinds, and a deletion comes before the insertion at the same place.
fn assert_exact(old: &str, new: &str, pieces: &[Piece]) {
    let old16: Vec<u16> = old.encode_utf16().collect();
    let new16: Vec<u16> = new.encode_utf16().collect();
    let (mut rebuilt_old, mut rebuilt_new) = (String::new(), String::new());
    let (mut old_at, mut new_at) = (0usize, 0usize);
    for (i, p) in pieces.iter().enumerate() {
        let context = || format!("{old:?} -> {new:?}: piece {i} of {pieces:?}");
        assert!(!p.text.is_empty(), "empty piece: {}", context());
        if let Some(next) = pieces.get(i + 1) {
            assert_ne!(p.op, next.op, "unmerged pieces: {}", context());
            assert!(
                !(p.op == DiffOp::Insert && next.op == DiffOp::Delete),
                "insertion before deletion: {}",
                context()
            );
        }
        let text16: Vec<u16> = p.text.encode_utf16().collect();
        let (source, at) = match p.op {
            DiffOp::Delete => (&old16, &mut old_at),
            DiffOp::Equal | DiffOp::Insert => (&new16, &mut new_at),
        };
        assert_eq!(p.at as usize, *at, "offset: {}", context());
        assert_eq!(
            source.get(*at..*at + text16.len()),
            Some(&text16[..]),
            "text at offset: {}",
            context()
        );
        match p.op {
            DiffOp::Equal => {
                rebuilt_old.push_str(&p.text);
                rebuilt_new.push_str(&p.text);
                old_at += text16.len();
                new_at += text16.len();
            }
            DiffOp::Delete => {
                rebuilt_old.push_str(&p.text);
                old_at += text16.len();
            }
            DiffOp::Insert => {
                rebuilt_new.push_str(&p.text);
                new_at += text16.len();
            }
        }
    }
    assert_eq!(rebuilt_old, old, "old from {pieces:?}");
    assert_eq!(rebuilt_new, new, "new from {pieces:?}");
}

/// The word diff, checked for exactness.
fn diff(old: &str, new: &str) -> Vec<Piece> {
    let pieces = word_diff(old, new);
    assert_exact(old, new, &pieces);
    pieces
}

/// An open operative paragraph, at the top level.
fn para(id: &str, label: &str, body: &str) -> TextParagraph {
    TextParagraph {
        id: id.to_string(),
        label: label.to_string(),
        kind: ParagraphKind::Operative,
        parent: None,
        status: ParagraphStatus::Open,
        locked: false,
        body: body.to_string(),
        runs: Vec::new(),
        pending: Vec::new(),
    }
}

fn with_status(mut p: TextParagraph, status: ParagraphStatus) -> TextParagraph {
    p.status = status;
    p
}

fn under(mut p: TextParagraph, parent: &str) -> TextParagraph {
    p.parent = Some(parent.to_string());
    p
}

/// Paragraphs `p1`..`pN` labelled "1".."N", each with a body of its own.
fn numbered(n: usize) -> Vec<TextParagraph> {
    (1..=n)
        .map(|i| {
            para(
                &format!("p{i}"),
                &i.to_string(),
                &format!("Text of paragraph {i}."),
            )
        })
        .collect()
}
