//! Two texts side by side, paragraph by stable id: the reading order a comparison and the
//! change notes follow, and which paragraphs moved. Shared by [`super::change_notes`] and
//! [`super::compare`], so that the two never disagree on what moved.
//!
//! Moving is about order, not numbers: a paragraph renumbered where it stands did not move,
//! and neither did the paragraphs after one inserted or deleted, whose places relative to each
//! other are the same. So the paragraphs present in both texts are compared as two sequences of
//! ids: one longest common subsequence of them (by `similar`'s Myers, which finds a shortest
//! edit, hence a longest common subsequence) is what stayed in order, and the paragraphs
//! outside it are what moved. A paragraph moved under another heading (`parent`) moved too,
//! wherever it stands.

use std::collections::{HashMap, HashSet};

use similar::{capture_diff_slices, Algorithm};

use super::TextParagraph;

/// One paragraph, by stable id, in one text or the other or both.
#[derive(Debug, Clone, Copy)]
pub(super) struct Aligned<'a> {
    /// As it stood in the earlier text, if it was there.
    pub before: Option<&'a TextParagraph>,
    /// As it stands in the later text, if it is there.
    pub after: Option<&'a TextParagraph>,
    /// The paragraph just before it in the later text (`None` at the start, or when it is not
    /// in the later text).
    pub follows: Option<&'a TextParagraph>,
    /// In both texts, and out of order against the others or under another heading.
    pub moved: bool,
}

/// Every paragraph of `later` in its reading order, and every paragraph of `earlier` absent
/// from `later` where it stood: after its nearest preceding paragraph that `later` still has
/// (at the start if none), in `earlier`'s order.
///
/// Ids are unique within a text; should one occur twice, the first occurrence is the
/// paragraph, and a later one in `later` is a paragraph of its own, out of order.
pub(super) fn align<'a>(
    earlier: &'a [TextParagraph],
    later: &'a [TextParagraph],
) -> Vec<Aligned<'a>> {
    let earlier_at = first_positions(earlier);
    let later_at = first_positions(later);
    let is_first =
        |at: &HashMap<&str, usize>, i: usize, p: &TextParagraph| at.get(p.id.as_str()) == Some(&i);
    let in_order = in_order(earlier, later, &earlier_at, &later_at);

    // The paragraphs gone from `later`, by the position in `later` they come after.
    let mut gone: HashMap<Option<usize>, Vec<&'a TextParagraph>> = HashMap::new();
    let mut anchor = None;
    for (i, p) in earlier.iter().enumerate() {
        match later_at.get(p.id.as_str()) {
            Some(&j) => anchor = Some(j),
            None if is_first(&earlier_at, i, p) => gone.entry(anchor).or_default().push(p),
            None => {}
        }
    }
    let gone_after = |gone: &mut HashMap<Option<usize>, Vec<&'a TextParagraph>>, at| {
        gone.remove(&at)
            .unwrap_or_default()
            .into_iter()
            .map(|p| Aligned {
                before: Some(p),
                after: None,
                follows: None,
                moved: false,
            })
    };

    let mut out: Vec<Aligned<'a>> = Vec::with_capacity(earlier.len().max(later.len()));
    out.extend(gone_after(&mut gone, None));
    for (j, p) in later.iter().enumerate() {
        let before = earlier_at.get(p.id.as_str()).and_then(|&i| earlier.get(i));
        let moved = before.is_some_and(|b| {
            let first = is_first(&later_at, j, p);
            !(first && in_order.contains(p.id.as_str())) || b.parent != p.parent
        });
        out.push(Aligned {
            before,
            after: Some(p),
            follows: j.checked_sub(1).and_then(|k| later.get(k)),
            moved,
        });
        out.extend(gone_after(&mut gone, Some(j)));
    }
    out
}

/// Where each id first stands.
fn first_positions(text: &[TextParagraph]) -> HashMap<&str, usize> {
    let mut at = HashMap::with_capacity(text.len());
    for (i, p) in text.iter().enumerate() {
        at.entry(p.id.as_str()).or_insert(i);
    }
    at
}

/// The ids of one longest common subsequence of the two orders, over the paragraphs in both.
fn in_order<'a>(
    earlier: &'a [TextParagraph],
    later: &'a [TextParagraph],
    earlier_at: &HashMap<&str, usize>,
    later_at: &HashMap<&str, usize>,
) -> HashSet<&'a str> {
    let common = |text: &'a [TextParagraph],
                  own: &HashMap<&str, usize>,
                  other: &HashMap<&str, usize>| {
        text.iter()
            .enumerate()
            .filter(|(i, p)| own.get(p.id.as_str()) == Some(i) && other.contains_key(p.id.as_str()))
            .map(|(_, p)| p.id.as_str())
            .collect::<Vec<&'a str>>()
    };
    let from = common(earlier, earlier_at, later_at);
    let to = common(later, later_at, earlier_at);
    let mut kept = HashSet::with_capacity(to.len());
    // Positions follow from the lengths (as in the word diff, not from `similar`'s indexes).
    let mut at = 0;
    for op in capture_diff_slices(Algorithm::Myers, &from, &to) {
        let (tag, _, range) = op.as_tag_tuple();
        if tag == similar::DiffTag::Equal {
            kept.extend(to.get(at..at + range.len()).unwrap_or_default());
        }
        at += range.len();
    }
    kept
}
