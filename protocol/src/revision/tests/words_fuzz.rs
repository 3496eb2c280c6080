//! The word diff's invariants on generated hostile input, and its speed on a whole text.

use super::super::tokens::{tokenize, Class};
use super::*;

/// Fragments texts are made of: words of several scripts, long and repeated words, punctuation,
/// every kind of whitespace, emoji sequences and lone combining marks.
const FRAGMENTS: &[&str] = &[
    "the",
    "the",
    "the",
    "States",
    "Member States'",
    "capacity-building",
    "15bis",
    "don't",
    "1.5",
    "10,000",
    ",",
    ";",
    ".",
    "—",
    "'",
    "-",
    "(",
    ")",
    " ",
    " ",
    " ",
    "  ",
    "\n",
    "\t",
    "\u{a0}",
    "\u{3000}",
    "我们",
    "同意",
    "案文",
    "قرر",
    "المجلس",
    "قَرَّرَ",
    "שָׁלוֹם",
    "😀",
    "👍🏽",
    "👨\u{200D}👩\u{200D}👧",
    "🇫🇷",
    "🇫",
    "\u{200D}",
    "\u{301}",
    "e\u{301}",
    "𝔘",
    "𝔘nited",
    "क्षमता",
    "\u{FE0F}",
    "\u{200F}",
];

fn fragment(rng: &mut fastrand::Rng) -> String {
    match rng.u8(..20) {
        0 => "a".repeat(rng.usize(1..600)),
        1 => "𝔘".repeat(rng.usize(1..50)),
        _ => FRAGMENTS[rng.usize(..FRAGMENTS.len())].to_string(),
    }
}

fn text(rng: &mut fastrand::Rng, len: usize) -> Vec<String> {
    (0..len).map(|_| fragment(rng)).collect()
}

/// `old`, edited: fragments kept, dropped, replaced and inserted.
fn edited(rng: &mut fastrand::Rng, old: &[String]) -> Vec<String> {
    let mut new = Vec::new();
    for f in old {
        match rng.u8(..10) {
            0 => {}
            1 => new.push(fragment(rng)),
            2 => {
                new.push(fragment(rng));
                new.push(f.clone());
            }
            _ => new.push(f.clone()),
        }
    }
    new
}

#[test]
fn every_diff_rebuilds_both_texts_at_exact_offsets() {
    let mut rng = fastrand::Rng::with_seed(0x00C0_FFEE);
    for round in 0..3000 {
        let len = rng.usize(0..40);
        let old = text(&mut rng, len);
        let new = if round % 4 == 0 {
            text(&mut rng, len)
        } else {
            edited(&mut rng, &old)
        };
        let (old, new) = (old.concat(), new.concat());
        let pieces = diff(&old, &new);
        let counts = WordCounts::of(&pieces);
        let words = |t: &str| {
            tokenize(t)
                .iter()
                .filter(|s| s.class == Class::Word)
                .count()
        };
        // The words kept plus those added are the new text's, plus those removed the old's.
        let kept: usize = pieces
            .iter()
            .filter(|p| p.op == DiffOp::Equal)
            .map(|p| words(&p.text))
            .sum();
        assert_eq!(kept + counts.added, words(&new), "{old:?} -> {new:?}");
        assert_eq!(kept + counts.removed, words(&old), "{old:?} -> {new:?}");
    }
}

#[test]
fn only_whitespace_or_only_punctuation() {
    let mut rng = fastrand::Rng::with_seed(7);
    let spaces = [" ", "  ", "\n", "\t", "\u{a0}", "\u{3000}"];
    let marks = [",", ";", ".", "—", "(", "\u{301}", "😀"];
    for _ in 0..500 {
        for set in [&spaces[..], &marks[..]] {
            let mut t = || -> String {
                (0..rng.usize(0..12))
                    .map(|_| set[rng.usize(..set.len())])
                    .collect()
            };
            let (old, new) = (t(), t());
            diff(&old, &new);
        }
    }
}

#[test]
fn whitespace_edits_never_touch_the_words() {
    let mut rng = fastrand::Rng::with_seed(11);
    let spaces = [" ", "  ", "\n", "\t", "\u{a0}", " \n "];
    for _ in 0..1000 {
        let words: Vec<String> = (0..rng.usize(1..20))
            .map(|_| {
                let f = fragment(&mut rng);
                if f.trim().is_empty() {
                    "x".to_string()
                } else {
                    f.trim().to_string()
                }
            })
            .collect();
        let mut join = || -> String {
            let mut s = String::new();
            for (i, w) in words.iter().enumerate() {
                if i > 0 {
                    s.push_str(spaces[rng.usize(..spaces.len())]);
                }
                s.push_str(w);
            }
            s
        };
        let (old, new) = (join(), join());
        let pieces = diff(&old, &new);
        for p in pieces.iter().filter(|p| p.op != DiffOp::Equal) {
            assert!(
                p.text.chars().all(char::is_whitespace),
                "{old:?} -> {new:?}: {pieces:?}"
            );
        }
        assert_eq!(WordCounts::of(&pieces), WordCounts::default());
    }
}

#[test]
fn long_bodies_with_little_in_common_stay_exact() {
    let mut rng = fastrand::Rng::with_seed(5);
    let a: String = (0..20_000)
        .map(|i| if i % 2 == 0 { 'a' } else { ' ' })
        .collect();
    let b: String = (0..20_000)
        .map(|i| if i % 2 == 0 { 'b' } else { ',' })
        .collect();
    assert_eq!(diff(&a, &b), [del(&a, 0), ins(&b, 0)]);
    let c: String = (0..20_000)
        .map(|_| ['a', ' ', 'b'][rng.usize(..3)])
        .collect();
    let mut shuffled: Vec<char> = c.chars().collect();
    rng.shuffle(&mut shuffled);
    let shuffled: String = shuffled.into_iter().collect();
    diff(&c, &shuffled);
    let long = "word ".repeat(4000);
    assert_eq!(
        diff(&long, &format!("{long}end")),
        [eq(&long, 0), ins("end", 20_000)]
    );
}

/// 420 paragraphs of about 60 words, most unchanged, some edited, some redrafted (how long it
/// takes is measured by `cargo bench -p concord-server --bench revisions`).
#[test]
fn a_whole_edited_text_diffs_paragraph_by_paragraph() {
    let mut rng = fastrand::Rng::with_seed(420);
    let vocabulary: Vec<String> = (0..3000).map(|i| format!("w{}", i * 7919 % 3001)).collect();
    let common = ["the", "of", "and", "to", "in", "States", "Member", "shall"];
    let word = |rng: &mut fastrand::Rng| -> String {
        if rng.bool() {
            common[rng.usize(..common.len())].to_string()
        } else {
            vocabulary[rng.usize(..vocabulary.len())].clone()
        }
    };
    let paragraph = |rng: &mut fastrand::Rng| -> Vec<String> {
        (0..60)
            .map(|i| {
                let w = word(rng);
                if i % 12 == 11 {
                    format!("{w},")
                } else {
                    w
                }
            })
            .collect()
    };
    let old: Vec<Vec<String>> = (0..420).map(|_| paragraph(&mut rng)).collect();
    let new: Vec<Vec<String>> = old
        .iter()
        .map(|p| match rng.u8(..10) {
            0..=5 => p.clone(),
            6..=8 => {
                let mut p = p.clone();
                for _ in 0..rng.usize(1..8) {
                    let i = rng.usize(..p.len());
                    p[i] = format!("new{}", rng.u32(..));
                }
                p
            }
            _ => paragraph(&mut rng),
        })
        .collect();
    let (old, new): (Vec<String>, Vec<String>) = (
        old.iter().map(|p| p.join(" ")).collect(),
        new.iter().map(|p| p.join(" ")).collect(),
    );
    let pieces: usize = old
        .iter()
        .zip(&new)
        .map(|(o, n)| word_diff(o, n).len())
        .sum();
    assert!(pieces > 420);
}
