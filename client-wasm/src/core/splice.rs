//! Turning what an input now holds into an edit of the shared text: the one change between the
//! old and the new wording (common prefix and suffix), applied at offsets as JavaScript counts
//! them (UTF-16), so that concurrent edits elsewhere in a paragraph or amendment survive.

use yrs::{Text, TextRef};

/// The one change that turns `old` into `new`: (start, removed, inserted), in chars, found by
/// the common prefix and suffix.
pub(super) fn difference<'a>(old: &'a str, new: &'a str) -> (usize, usize, &'a str) {
    let prefix: usize = old
        .chars()
        .zip(new.chars())
        .take_while(|(a, b)| a == b)
        .map(|(a, _)| a.len_utf8())
        .sum();
    let (old_rest, new_rest) = (&old[prefix..], &new[prefix..]);
    let suffix: usize = old_rest
        .chars()
        .rev()
        .zip(new_rest.chars().rev())
        .take_while(|(a, b)| a == b)
        .map(|(a, _)| a.len_utf8())
        .sum();
    let removed = old_rest.len() - suffix;
    let inserted = &new_rest[..new_rest.len() - suffix];
    (prefix, removed, inserted)
}

fn utf16_len(s: &str) -> u32 {
    s.encode_utf16().count() as u32
}

/// Applies the difference between `old` (what `text` reads) and `new` to `text`.
pub(super) fn splice(text: &TextRef, txn: &mut yrs::TransactionMut, old: &str, new: &str) {
    let (start, removed, inserted) = difference(old, new);
    let at = utf16_len(&old[..start]);
    let removed_len = utf16_len(&old[start..start + removed]);
    if removed_len > 0 {
        text.remove_range(txn, at, removed_len);
    }
    if !inserted.is_empty() {
        text.insert(txn, at, inserted);
    }
}
