//! Golden tests of the word diff: each asserts the exact pieces, offsets included.

use super::super::tokens::{tokenize, Class};
use super::*;

fn tokens(text: &str) -> Vec<(Class, &str)> {
    tokenize(text)
        .iter()
        .map(|s| (s.class, &text[s.start..s.end]))
        .collect()
}

#[test]
fn words_keep_their_apostrophes_hyphens_and_numbers() {
    use Class::{Punct as P, Space as S, Word as W};
    let text = "Member States' capacity-building, 15bis don't 1.5 10,000 — by 2030. 'quoted' -x x-";
    assert_eq!(
        tokens(text),
        [
            (W, "Member"),
            (S, " "),
            (W, "States'"),
            (S, " "),
            (W, "capacity-building"),
            (P, ","),
            (S, " "),
            (W, "15bis"),
            (S, " "),
            (W, "don't"),
            (S, " "),
            (W, "1.5"),
            (S, " "),
            (W, "10,000"),
            (S, " "),
            (P, "—"),
            (S, " "),
            (W, "by"),
            (S, " "),
            (W, "2030"),
            (P, "."),
            (S, " "),
            (P, "'"),
            (W, "quoted"),
            (P, "'"),
            (S, " "),
            (P, "-"),
            (W, "x"),
            (S, " "),
            (W, "x"),
            (P, "-"),
        ]
    );
}

#[test]
fn tokens_never_split_a_character_from_its_marks() {
    use Class::{Punct as P, Space as S, Word as W};
    let text = "cafe\u{301} 👨\u{200D}👩\u{200D}👧 🇫🇷🇩🇪 👍🏽 क्षमता 我们 カナー 𝔘nited\u{a0}\u{301}x";
    assert_eq!(
        tokens(text),
        [
            (W, "cafe\u{301}"),
            (S, " "),
            (P, "👨\u{200D}👩\u{200D}👧"),
            (S, " "),
            (P, "🇫🇷"),
            (P, "🇩🇪"),
            (S, " "),
            (P, "👍🏽"),
            (S, " "),
            (W, "क्षमता"),
            (S, " "),
            (W, "我"),
            (W, "们"),
            (S, " "),
            (W, "カ"),
            (W, "ナ"),
            (W, "ー"),
            (S, " "),
            (W, "𝔘nited"),
            (S, "\u{a0}"),
            (P, "\u{301}"),
            (W, "x"),
        ]
    );
}

#[test]
fn a_replaced_word() {
    assert_eq!(
        diff("the old text", "the new text"),
        [eq("the ", 0), del("old", 4), ins("new", 4), eq(" text", 7)]
    );
}

#[test]
fn a_replaced_phrase_takes_the_spaces_between_its_words() {
    let pieces = diff("the quick brown fox jumps", "the slow red fox jumps");
    assert_eq!(
        pieces,
        [
            eq("the ", 0),
            del("quick brown", 4),
            ins("slow red", 4),
            eq(" fox jumps", 12)
        ]
    );
    assert_eq!(
        WordCounts::of(&pieces),
        WordCounts {
            added: 2,
            removed: 2
        }
    );
}

#[test]
fn a_redrafted_paragraph_reads_as_drafted() {
    let pieces = diff(
        "The Parties agree to reduce emissions by 2030 and to report on progress.",
        "The Parties shall reduce emissions by 2035, and report on their progress annually.",
    );
    assert_eq!(
        show(&pieces),
        "The Parties [-agree to-][+shall+] reduce emissions by [-2030-][+2035,+] and [-to -]\
         report on [+their +]progress[+ annually+]."
    );
    assert_eq!(
        WordCounts::of(&pieces),
        WordCounts {
            added: 4,
            removed: 4
        }
    );
}

#[test]
fn a_changed_punctuation_mark_is_the_only_change() {
    let pieces = diff(
        "Calls upon Member States, and invites",
        "Calls upon Member States; and invites",
    );
    assert_eq!(
        pieces,
        [
            eq("Calls upon Member States", 0),
            del(",", 24),
            ins(";", 24),
            eq(" and invites", 25)
        ]
    );
    assert_eq!(WordCounts::of(&pieces), WordCounts::default());
}

#[test]
fn insertions_and_deletions_at_the_start_and_at_the_end() {
    assert_eq!(
        diff("upon Member States", "Further upon Member States"),
        [ins("Further ", 0), eq("upon Member States", 8)]
    );
    assert_eq!(
        diff("upon Member States", "upon Member States and observers"),
        [eq("upon Member States", 0), ins(" and observers", 18)]
    );
    assert_eq!(
        diff("Also upon Member States", "upon Member States"),
        [del("Also ", 0), eq("upon Member States", 0)]
    );
    assert_eq!(
        diff("upon Member States to act", "upon Member States"),
        [eq("upon Member States", 0), del(" to act", 18)]
    );
    assert_eq!(
        diff("the old text", "the very old text"),
        [eq("the ", 0), ins("very ", 4), eq("old text", 9)]
    );
    // Before the final full stop.
    assert_eq!(
        diff("Commit to cooperate.", "Commit to cooperate closely."),
        [
            eq("Commit to cooperate", 0),
            ins(" closely", 19),
            eq(".", 27)
        ]
    );
}

#[test]
fn a_whole_body_replaced() {
    let pieces = diff(
        "Decides to remain seized of the matter.",
        "Requests a report.",
    );
    assert_eq!(
        pieces,
        [
            del("Decides to remain seized of the matter", 0),
            ins("Requests a report", 0),
            eq(".", 17)
        ]
    );
    assert_eq!(
        WordCounts::of(&pieces),
        WordCounts {
            added: 3,
            removed: 7
        }
    );
    assert_eq!(
        diff("Noting", "Welcoming"),
        [del("Noting", 0), ins("Welcoming", 0)]
    );
}

#[test]
fn empty_and_identical_bodies() {
    assert_eq!(diff("", ""), []);
    assert_eq!(diff("", "New text."), [ins("New text.", 0)]);
    assert_eq!(diff("Old text.", ""), [del("Old text.", 0)]);
    assert_eq!(diff("Same text.", "Same text."), [eq("Same text.", 0)]);
}

#[test]
fn whitespace_differences_leave_the_words_kept() {
    let pieces = diff("Member  States agree", "Member States agree");
    assert_eq!(
        pieces,
        [eq("Member ", 0), del(" ", 7), eq("States agree", 7)]
    );
    assert_eq!(WordCounts::of(&pieces), WordCounts::default());
    assert_eq!(
        diff("a\n\nb", "a\nb"),
        [eq("a\n", 0), del("\n", 2), eq("b", 2)]
    );
    assert_eq!(
        diff("Member States", "Member\u{a0}States"),
        [
            eq("Member", 0),
            del(" ", 6),
            ins("\u{a0}", 6),
            eq("States", 7)
        ]
    );
    assert_eq!(diff("   ", " "), [eq(" ", 0), del("  ", 1)]);
}

#[test]
fn repeated_words() {
    assert_eq!(
        diff("the the the", "the the"),
        [eq("the the", 0), del(" the", 7)]
    );
    assert_eq!(
        diff("to the extent possible, to the extent", "to the extent"),
        [eq("to the extent", 0), del(" possible, to the extent", 13)]
    );
}

#[test]
fn offsets_count_utf16_units() {
    // 😀 and 👍🏽 are astral (two units each, four for 👍🏽), 𝔘 too.
    assert_eq!(
        diff("😀 States agree", "😀 Member States agree 👍🏽"),
        [
            eq("😀 ", 0),
            ins("Member ", 3),
            eq("States agree", 10),
            ins(" 👍🏽", 22)
        ]
    );
    assert_eq!(
        diff("𝔘nited 𝔘 text", "𝔘nited 𝔘𝔘 text"),
        [eq("𝔘nited ", 0), del("𝔘", 8), ins("𝔘𝔘", 8), eq(" text", 12)]
    );
    assert_eq!(
        diff("👍🏽 yes", "👍🏿 yes"),
        [del("👍🏽", 0), ins("👍🏿", 0), eq(" yes", 4)]
    );
}

#[test]
fn combining_marks_stay_with_their_letters() {
    assert_eq!(
        diff("cafe\u{301} au lait", "cafe au lait"),
        [del("cafe\u{301}", 0), ins("cafe", 0), eq(" au lait", 4)]
    );
    assert_eq!(
        diff("a\u{301}\u{302} b", "a\u{301} b"),
        [del("a\u{301}\u{302}", 0), ins("a\u{301}", 0), eq(" b", 2)]
    );
    // A mark with nothing before it to combine with is a token of its own.
    assert_eq!(diff("\u{301}x", "x"), [del("\u{301}", 0), eq("x", 0)]);
}

#[test]
fn right_to_left_and_unspaced_scripts() {
    assert_eq!(
        diff("قرر المجلس", "قرر المجلس الموقر"),
        [eq("قرر المجلس", 0), ins(" الموقر", 10)]
    );
    assert_eq!(
        diff("قَرَّرَ المجلس", "قرر المجلس"),
        [del("قَرَّرَ", 0), ins("قرر", 0), eq(" المجلس", 3)]
    );
    let pieces = diff("我们同意这个案文", "我们不同意这个案文");
    assert_eq!(pieces, [eq("我们", 0), ins("不", 2), eq("同意这个案文", 3)]);
    assert_eq!(
        WordCounts::of(&pieces),
        WordCounts {
            added: 1,
            removed: 0
        }
    );
}

#[test]
fn word_counts_leave_out_punctuation_and_spaces() {
    let pieces = [
        del("Member States, ", 0),
        ins("— 15bis; capacity-building 👍", 0),
        eq("kept words", 0),
    ];
    assert_eq!(
        WordCounts::of(&pieces),
        WordCounts {
            added: 2,
            removed: 2
        }
    );
}

/// Found by the generator: `similar` compacts a deletion up past a kept space and leaves its
/// position in the new text one token on; positions are now taken from the lengths.
#[test]
fn a_deletion_compacted_over_a_kept_space() {
    assert_eq!(
        diff(
            "text  States\u{200d}Member States'the👨",
            "text capacity-building StatesStates我们Member States'thethe👨"
        ),
        [
            eq("text ", 0),
            del(" States\u{200d}Member States'the", 5),
            ins("capacity-building StatesStates我们Member States'thethe", 5),
            eq("👨", 57)
        ]
    );
}

/// Found by the generator: with spaces matched only to equal spaces, the shortest edit kept a
/// no-break space and called a "the" deleted and inserted.
#[test]
fn words_decide_what_is_kept_not_spaces() {
    assert_eq!(
        diff("x \n the\u{a0}the\u{a0}; x", "x\u{a0}the \n the \n ;\nx"),
        [
            eq("x", 0),
            del(" \n ", 1),
            ins("\u{a0}", 1),
            eq("the", 2),
            del("\u{a0}", 7),
            ins(" \n ", 5),
            eq("the", 8),
            del("\u{a0}", 11),
            ins(" \n ", 11),
            eq(";", 14),
            del(" ", 13),
            ins("\n", 15),
            eq("x", 16)
        ]
    );
}
