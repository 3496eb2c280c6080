//! The word diff readers of negotiated texts expect: whole words, single punctuation marks and
//! runs of whitespace ([`super::tokens`]), never half a word.
//!
//! The token sequences are diffed with `similar`'s Myers algorithm, after stripping their
//! common prefix and suffix (most paragraphs of a revision differ in a few words if at all, and
//! the strip makes those linear, however long the text kept before and after). Myers rather
//! than Patience: Patience first aligns the tokens that occur once on each side, then runs
//! Myers between those anchors; in prose few tokens are unique (spaces, commas, "the", "of"
//! repeat), so the anchors are a few distinctive words, and an anchor can hold a change apart
//! from where it reads best. On one redrafted paragraph tried while writing this, Patience
//! gave "in [-developing-][+particular in least developed+] countries" where Myers gives
//! "[+efforts, in particular +]in [-developing-][+least developed+] countries"; on the others
//! tried they agreed. Myers' edit is also the shortest one, which after the clean-up reads as
//! the edit a drafter made.
//!
//! Myers sees every run of whitespace as the same token ([`intern`]), so that the words alone
//! decide what is kept; a kept run of whitespace that differs from the one it was matched to
//! (double space made single, a line break) is then a change of that run alone. The clean-up:
//! 1. a run of whitespace kept between two changes goes into the change, so a rewritten phrase
//!    reads `the [-old text-][+new wording+] of`, not as changes split around kept spaces;
//! 2. whitespace both sides of a change start or end with is kept, so two spaces made one are
//!    one deleted space between kept words;
//! 3. within a change the deletion comes first, then the insertion; pieces of one kind next to
//!    each other are merged; no piece is empty ([`super::pieces`]).
//!
//! Myers takes about `(n + m) * d` steps for `d` tokens changed out of `n + m`, quadratic for
//! two bodies with little in common, and a hostile body of 20 000 bytes can be as many tokens.
//! So when the tokens alone show that `d` is large ([`too_different`]), the changed stretch is
//! shown deleted and inserted whole (which is what a diff of such texts amounts to for a
//! reader); and `similar` is given a deadline (one per paragraph, and one for all the
//! paragraphs of a text), past which it reports what it had not compared as deleted and
//! inserted. Either way the result is exact; only its grain is coarser. The
//! deadline makes the grain of such pathological diffs depend on the machine; no text a person
//! wrote comes near it (420 paragraphs of 60 words, many of them edited, diff in a few
//! milliseconds).
//!
//! Each piece's `at` counts UTF-16 code units (what yrs counts): from the start of the new text
//! for kept and inserted text, of the old one for deleted text; it is how inserted text is
//! matched to the runs of who wrote it.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use similar::{capture_diff_slices_deadline, Algorithm};

use super::pieces::Pieces;
use super::tokens::{count_words, slice, tokenize, Class, Span};

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

/// Words added and removed by a diff (punctuation and spaces are not words).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WordCounts {
    pub added: usize,
    pub removed: usize,
}

/// A stretch of the token sequences: the same tokens on both sides, or a change, as token
/// index ranges (`old`, `new`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Hunk {
    Same {
        old: (usize, usize),
        new: (usize, usize),
    },
    Change {
        old: (usize, usize),
        new: (usize, usize),
    },
}

/// The word diff of `old` to `new`: pieces in reading order such that the kept and deleted ones
/// give `old`, and the kept and inserted ones give `new`.
pub fn word_diff(old: &str, new: &str) -> Vec<Piece> {
    word_diff_until(old, new, None)
}

/// How long one paragraph's diff may look for the finest diff, and all those of a text.
const PARAGRAPH_TIME: Duration = Duration::from_millis(100);
const TEXT_TIME: Duration = Duration::from_secs(1);

/// Past this estimate of Myers' steps (see [`too_different`]), the changed stretch is shown
/// deleted and inserted whole.
const MAX_WORK: u64 = 50_000_000;

/// When the diffs of a whole text ([`super::compare`], [`super::change_notes`]) should stop
/// looking for the finest diffs: so that a text of many hostile paragraphs costs at most about
/// [`TEXT_TIME`], not [`PARAGRAPH_TIME`] for each.
pub(super) fn text_deadline() -> Option<Instant> {
    deadline_in(TEXT_TIME)
}

/// `now + time`, where there is a clock: none on wasm32 (`Instant::now` panics there), so in the
/// browser a diff always runs to the end and only burdens the reader's own tab.
fn deadline_in(time: Duration) -> Option<Instant> {
    #[cfg(not(target_arch = "wasm32"))]
    return Instant::now().checked_add(time);
    #[cfg(target_arch = "wasm32")]
    {
        let _ = time;
        None
    }
}

/// [`word_diff`], giving up looking for the finest diff at `text_deadline` (from
/// [`text_deadline`]) or after [`PARAGRAPH_TIME`], whichever comes first.
pub(super) fn word_diff_until(old: &str, new: &str, text_deadline: Option<Instant>) -> Vec<Piece> {
    if old == new {
        let mut out = Pieces::default();
        out.push(DiffOp::Equal, new);
        return out.finish();
    }
    let old_spans = tokenize(old);
    let new_spans = tokenize(new);
    let old_tokens: Vec<&str> = old_spans
        .iter()
        .map(|s| slice(old, s.start, s.end))
        .collect();
    let new_tokens: Vec<&str> = new_spans
        .iter()
        .map(|s| slice(new, s.start, s.end))
        .collect();
    let deadline = match (deadline_in(PARAGRAPH_TIME), text_deadline) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    let hunks = diff_tokens(&old_tokens, &new_tokens, deadline);
    let hunks = absorb_spaces(hunks, &old_spans);

    let mut out = Pieces::default();
    for hunk in hunks {
        match hunk {
            Hunk::Same { new: (a, b), .. } => {
                out.push(DiffOp::Equal, text_of(new, &new_spans, a, b))
            }
            Hunk::Change {
                old: (a, b),
                new: (c, d),
            } => {
                let deleted = text_of(old, &old_spans, a, b);
                let inserted = text_of(new, &new_spans, c, d);
                let (head, deleted, inserted, tail) = kept_spaces(deleted, inserted);
                out.push(DiffOp::Equal, head);
                out.push(DiffOp::Delete, deleted);
                out.push(DiffOp::Insert, inserted);
                out.push(DiffOp::Equal, tail);
            }
        }
    }
    out.finish()
}

impl WordCounts {
    /// The words of the inserted pieces and of the deleted ones.
    pub fn of(pieces: &[Piece]) -> Self {
        let mut counts = WordCounts::default();
        for piece in pieces {
            match piece.op {
                DiffOp::Insert => counts.added += count_words(&piece.text),
                DiffOp::Delete => counts.removed += count_words(&piece.text),
                DiffOp::Equal => {}
            }
        }
        counts
    }
}

/// The hunks of the token sequences: common prefix and suffix stripped, the rest by `similar`.
fn diff_tokens(old_tokens: &[&str], new_tokens: &[&str], deadline: Option<Instant>) -> Vec<Hunk> {
    let (old, new) = (old_tokens, new_tokens);
    let prefix = old.iter().zip(new).take_while(|(a, b)| a == b).count();
    let suffix = old[prefix..]
        .iter()
        .rev()
        .zip(new[prefix..].iter().rev())
        .take_while(|(a, b)| a == b)
        .count();
    let (old_end, new_end) = (old.len() - suffix, new.len() - suffix);
    let mut hunks = Vec::new();
    let mut push = |hunk: Hunk| merge_into(&mut hunks, hunk);
    push(Hunk::Same {
        old: (0, prefix),
        new: (0, prefix),
    });
    let (old_ids, new_ids) = intern(&old[prefix..old_end], &new[prefix..new_end]);
    let (n, m) = (old_ids.len(), new_ids.len());
    let whole = vec![(false, n, m)];
    let stretches = if too_different(&old_ids, &new_ids) {
        whole
    } else {
        let ops = capture_diff_slices_deadline(Algorithm::Myers, &old_ids, &new_ids, deadline);
        let stretches: Vec<(bool, usize, usize)> = ops
            .iter()
            .map(|op| {
                let (tag, old_range, new_range) = op.as_tag_tuple();
                (
                    tag == similar::DiffTag::Equal,
                    old_range.len(),
                    new_range.len(),
                )
            })
            .collect();
        let covered = stretches
            .iter()
            .fold((0, 0), |(a, b), &(_, x, y)| (a + x, b + y));
        if covered == (n, m) {
            stretches
        } else {
            whole
        }
    };
    // Positions follow from the lengths: `similar`'s compaction can leave a deletion's
    // `new_index` (and an insertion's `old_index`) pointing past the kept token it moved over.
    let (mut at_old, mut at_new) = (prefix, prefix);
    for (same, old_len, new_len) in stretches {
        let old_range = (at_old, at_old + old_len);
        let new_range = (at_new, at_new + new_len);
        (at_old, at_new) = (old_range.1, new_range.1);
        if !same {
            push(Hunk::Change {
                old: old_range,
                new: new_range,
            });
            continue;
        }
        // Kept, but a run of whitespace may differ from the one it was matched to.
        for i in 0..old_len {
            let (o, n) = (old_range.0 + i, new_range.0 + i);
            let (old, new) = ((o, o + 1), (n, n + 1));
            push(if old_tokens.get(o) == new_tokens.get(n) {
                Hunk::Same { old, new }
            } else {
                Hunk::Change { old, new }
            });
        }
    }
    push(Hunk::Same {
        old: (old_end, old.len()),
        new: (new_end, new.len()),
    });
    hunks
}

/// The tokens as numbers for Myers (comparing numbers is cheaper than comparing strings): equal
/// for equal tokens, and the same for every run of whitespace. Whitespace matched to other
/// whitespace lets the words alone decide what is kept: otherwise, in "the\u{a0}the ;" against
/// "the the\n;", Myers could as well keep the no-break space and call a "the" deleted and
/// inserted. Runs of whitespace kept that differ are then told apart by [`diff_tokens`].
fn intern<'t>(old: &[&'t str], new: &[&'t str]) -> (Vec<u32>, Vec<u32>) {
    let mut ids: HashMap<&'t str, u32> = HashMap::with_capacity(old.len() + new.len());
    let mut id = |token: &&'t str| {
        if token.starts_with(char::is_whitespace) {
            return 0;
        }
        let next = u32::try_from(ids.len() + 1).unwrap_or(u32::MAX);
        *ids.entry(*token).or_insert(next)
    };
    let old = old.iter().map(&mut id).collect();
    let new = new.iter().map(&mut id).collect();
    (old, new)
}

/// Whether Myers would take long on these tokens for a diff that could not help a reader
/// anyway: Myers takes about `(n + m) * d` steps for `d` tokens deleted or inserted, and `d` is
/// at least the number of tokens one side has more of than the other.
fn too_different(old: &[u32], new: &[u32]) -> bool {
    let distinct = old.iter().chain(new).max().map_or(0, |&id| id as usize + 1);
    let mut surplus = vec![0i64; distinct];
    for (ids, by) in [(old, 1), (new, -1)] {
        for &id in ids {
            if let Some(count) = surplus.get_mut(id as usize) {
                *count += by;
            }
        }
    }
    let unmatched: u64 = surplus.iter().map(|s| s.unsigned_abs()).sum();
    let tokens = (old.len() + new.len()) as u64;
    tokens.saturating_mul(unmatched) > MAX_WORK
}

/// Appends `hunk`, dropping it if empty and merging it into the last hunk if of the same kind
/// (the ranges follow each other).
fn merge_into(hunks: &mut Vec<Hunk>, hunk: Hunk) {
    let (old, new) = hunk.ranges();
    if old.0 == old.1 && new.0 == new.1 {
        return;
    }
    match (hunks.last_mut(), hunk) {
        (Some(Hunk::Same { old: o, new: n }), Hunk::Same { .. })
        | (Some(Hunk::Change { old: o, new: n }), Hunk::Change { .. }) => {
            o.1 = old.1;
            n.1 = new.1;
        }
        _ => hunks.push(hunk),
    }
}

impl Hunk {
    fn ranges(&self) -> ((usize, usize), (usize, usize)) {
        match *self {
            Hunk::Same { old, new } | Hunk::Change { old, new } => (old, new),
        }
    }
}

/// Clean-up 1: a kept run of whitespace between two changes becomes part of one change.
fn absorb_spaces(hunks: Vec<Hunk>, old_spans: &[Span]) -> Vec<Hunk> {
    let only_space = |(a, b): (usize, usize)| {
        old_spans
            .get(a..b)
            .is_some_and(|s| s.iter().all(|t| t.class == Class::Space))
    };
    let mut out: Vec<Hunk> = Vec::with_capacity(hunks.len());
    for hunk in hunks {
        if let Hunk::Change { old, new } = hunk {
            if let [.., Hunk::Change { .. }, Hunk::Same { old: kept, .. }] = out[..] {
                if only_space(kept) {
                    out.pop();
                    if let Some(Hunk::Change { old: o, new: n }) = out.last_mut() {
                        o.1 = old.1;
                        n.1 = new.1;
                    }
                    continue;
                }
            }
        }
        merge_into(&mut out, hunk);
    }
    out
}

/// The text of tokens `a..b` of `text`.
fn text_of<'t>(text: &'t str, spans: &[Span], a: usize, b: usize) -> &'t str {
    match (
        spans.get(a),
        b.checked_sub(1).and_then(|last| spans.get(last)),
    ) {
        (Some(first), Some(last)) if a < b => slice(text, first.start, last.end),
        _ => "",
    }
}

/// Clean-up 2: the whitespace both sides of a change start with, and end with, is kept:
/// `(kept head, deleted, inserted, kept tail)`.
fn kept_spaces<'o, 'n>(
    deleted: &'o str,
    inserted: &'n str,
) -> (&'n str, &'o str, &'n str, &'n str) {
    let head: usize = deleted
        .chars()
        .zip(inserted.chars())
        .take_while(|(a, b)| a == b && a.is_whitespace())
        .map(|(a, _)| a.len_utf8())
        .sum();
    let (deleted, inserted, kept_head) = (&deleted[head..], &inserted[head..], &inserted[..head]);
    let tail: usize = deleted
        .chars()
        .rev()
        .zip(inserted.chars().rev())
        .take_while(|(a, b)| a == b && a.is_whitespace())
        .map(|(a, _)| a.len_utf8())
        .sum();
    (
        kept_head,
        &deleted[..deleted.len() - tail],
        &inserted[..inserted.len() - tail],
        &inserted[inserted.len() - tail..],
    )
}
