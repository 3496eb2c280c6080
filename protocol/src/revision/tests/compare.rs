//! Golden tests of the comparison and of `runs_within`.

use super::*;
use ParagraphOperation::{Added, Changed, Deleted, Unchanged};
use ParagraphStatus::{Agreed, Open};

/// `(id, operation, moved, renumbered, pieces as read)` of each paragraph.
fn lines(
    from: &[TextParagraph],
    to: &[TextParagraph],
) -> Vec<(String, ParagraphOperation, bool, bool, String)> {
    compare(from, to)
        .paragraphs
        .into_iter()
        .map(|p| (p.id, p.operation, p.moved, p.renumbered, show(&p.pieces)))
        .collect()
}

fn line(
    id: &str,
    op: ParagraphOperation,
    moved: bool,
    renumbered: bool,
    pieces: &str,
) -> (String, ParagraphOperation, bool, bool, String) {
    (id.to_string(), op, moved, renumbered, pieces.to_string())
}

#[test]
fn every_kind_of_paragraph() {
    let from = vec![
        para("p1", "1", "Kept as it was."),
        para("p2", "2", "Gone from the text."),
        para("p3", "3", "Calls upon Member States, and"),
        para("p4", "4", "Deleted now."),
        para("p5", "5", "Renumbered."),
        para("p6", "6", "Agreed now."),
        para("p7", "7", "Moved up."),
    ];
    let to = vec![
        para("p1", "1", "Kept as it was."),
        para("p9", "2", "An added paragraph."),
        para("p3", "3", "Calls upon Member States; and"),
        with_status(para("p4", "4", "Deleted now."), ParagraphStatus::Deleted),
        para("p5", "5bis", "Renumbered."),
        with_status(para("p6", "6", "Agreed now."), Agreed),
        para("p7", "7", "Moved up."),
    ];
    // p7 moved to stand after p1.
    let mut to = to;
    let p7 = to.remove(6);
    to.insert(1, p7);
    assert_eq!(
        lines(&from, &to),
        [
            line("p1", Unchanged, false, false, "Kept as it was."),
            line("p2", Deleted, false, false, "[-Gone from the text.-]"),
            line("p7", Changed, true, false, "Moved up."),
            line("p9", Added, false, false, "[+An added paragraph.+]"),
            line(
                "p3",
                Changed,
                false,
                false,
                "Calls upon Member States[-,-][+;+] and"
            ),
            line("p4", Deleted, false, false, "[-Deleted now.-]"),
            line("p5", Changed, false, true, "Renumbered."),
            line("p6", Changed, false, false, "Agreed now."),
        ]
    );
    let p = &compare(&from, &to).paragraphs;
    assert_eq!(
        (
            p[1].label_from.as_deref(),
            p[1].label_to.as_deref(),
            p[1].status_to
        ),
        (Some("2"), None, None)
    );
    assert_eq!(
        (
            p[3].label_from.as_deref(),
            p[3].label_to.as_deref(),
            p[3].status_from
        ),
        (None, Some("2"), None)
    );
    assert_eq!(
        (p[7].status_from, p[7].status_to),
        (Some(Open), Some(Agreed))
    );
    assert_eq!(
        (p[6].label_from.as_deref(), p[6].label_to.as_deref()),
        (Some("5"), Some("5bis"))
    );
    // The pieces of a deleted or added paragraph are its whole body, at 0.
    assert_eq!(p[1].pieces, [del("Gone from the text.", 0)]);
    assert_eq!(p[3].pieces, [ins("An added paragraph.", 0)]);
}

#[test]
fn a_text_against_itself_is_unchanged() {
    let text = numbered(3);
    let c = compare(&text, &text);
    assert!(c
        .paragraphs
        .iter()
        .all(|p| p.operation == Unchanged && !p.moved && !p.renumbered));
    assert_eq!(c.paragraphs[0].pieces, [eq("Text of paragraph 1.", 0)]);
    assert_eq!(compare(&[], &[]).paragraphs, []);
}

#[test]
fn empty_bodies_have_no_pieces() {
    let from = vec![para("p1", "1", ""), para("p2", "2", "")];
    let to = vec![para("p1", "1", ""), para("p3", "3", "")];
    assert_eq!(
        lines(&from, &to),
        [
            line("p1", Unchanged, false, false, ""),
            line("p2", Deleted, false, false, ""),
            line("p3", Added, false, false, ""),
        ]
    );
    assert!(compare(&from, &to)
        .paragraphs
        .iter()
        .all(|p| p.pieces.is_empty()));
}

#[test]
fn a_restored_paragraph_is_changed() {
    let from = vec![with_status(
        para("p1", "1", "Back."),
        ParagraphStatus::Deleted,
    )];
    let to = vec![para("p1", "1", "Back again.")];
    assert_eq!(
        lines(&from, &to),
        [line("p1", Changed, false, false, "Back[+ again+].")]
    );
    // Deleted on both sides: unchanged.
    assert_eq!(
        lines(&from, &from),
        [line("p1", Unchanged, false, false, "Back.")]
    );
}

#[test]
fn moves_agree_with_the_change_notes() {
    let mut rng = fastrand::Rng::with_seed(3);
    for _ in 0..200 {
        let from = numbered(rng.usize(0..12));
        let mut to: Vec<TextParagraph> = from.iter().filter(|_| rng.u8(..5) > 0).cloned().collect();
        rng.shuffle(&mut to[..]);
        if rng.bool() {
            to.insert(0, para("p99", "99", "New."));
        }
        let moved_in_comparison: Vec<String> = compare(&from, &to)
            .paragraphs
            .into_iter()
            .filter(|p| p.moved)
            .map(|p| p.id)
            .collect();
        let moved_in_notes: Vec<String> = change_notes(Some(&from), &to)
            .into_iter()
            .filter(|n| n.changes.iter().any(|c| matches!(c, Change::Moved { .. })))
            .map(|n| n.paragraph)
            .collect();
        assert_eq!(moved_in_comparison, moved_in_notes);
        // Paragraphs in both texts, in order, minus those moved, are in the same order in both.
        let kept: Vec<&str> = to
            .iter()
            .filter(|p| from.iter().any(|q| q.id == p.id) && !moved_in_notes.contains(&p.id))
            .map(|p| p.id.as_str())
            .collect();
        let in_from: Vec<&str> = from
            .iter()
            .filter(|p| kept.contains(&p.id.as_str()))
            .map(|p| p.id.as_str())
            .collect();
        assert_eq!(kept, in_from);
        // And as few moved as can be: the kept ones are a longest increasing run of positions.
        let positions: Vec<usize> = to
            .iter()
            .filter_map(|p| from.iter().position(|q| q.id == p.id))
            .collect();
        let mut longest = vec![1; positions.len()];
        for i in 0..positions.len() {
            for j in 0..i {
                if positions[j] < positions[i] {
                    longest[i] = longest[i].max(longest[j] + 1);
                }
            }
        }
        assert_eq!(kept.len(), longest.iter().copied().max().unwrap_or(0));
    }
}

/// The notes and the comparison of a 420-paragraph text, most of it unchanged, some reworded,
/// a few moved (timed by `cargo bench -p concord-server --bench revisions`).
#[test]
fn a_whole_text_compares_with_every_paragraph_and_the_changed_ones_noted() {
    let mut rng = fastrand::Rng::with_seed(42);
    let from: Vec<TextParagraph> = (1..=420)
        .map(|i| {
            let body: Vec<String> = (0..60).map(|_| format!("w{}", rng.u16(..2000))).collect();
            para(&format!("p{i}"), &i.to_string(), &body.join(" "))
        })
        .collect();
    let mut to = from.clone();
    for p in to.iter_mut().filter(|_| rng.u8(..4) == 0) {
        p.body = p.body.replacen(" w", " new w", 3);
    }
    for _ in 0..10 {
        let p = to.remove(rng.usize(..to.len()));
        to.insert(rng.usize(..to.len()), p);
    }
    let changed = change_notes(Some(&from), &to)
        .iter()
        .filter(|n| !n.is_unchanged())
        .count();
    let compared = compare(&from, &to).paragraphs.len();
    assert!(changed > 50 && compared == 420);
}

fn run(len: u32, client: u64, clock: u32) -> WrittenRun {
    WrittenRun { len, client, clock }
}

#[test]
fn runs_within_a_range() {
    // "Member " by client 1 (clocks 10..17), "States" by 2 (clocks 0..6), "." by 1 (30).
    let runs = [run(7, 1, 10), run(6, 2, 0), run(1, 1, 30)];
    // Within one run.
    assert_eq!(runs_within(&runs, 2, 3), [run(3, 1, 12)]);
    // Exactly one run.
    assert_eq!(runs_within(&runs, 7, 6), [run(6, 2, 0)]);
    // Over run boundaries: the end of the first, all of the second, the start of the third.
    assert_eq!(
        runs_within(&runs, 5, 9),
        [run(2, 1, 15), run(6, 2, 0), run(1, 1, 30)]
    );
    // Empty ranges, anywhere.
    assert_eq!(runs_within(&runs, 0, 0), []);
    assert_eq!(runs_within(&runs, 7, 0), []);
    assert_eq!(runs_within(&runs, 14, 0), []);
    // Past the end: the part that exists, or nothing.
    assert_eq!(runs_within(&runs, 12, 10), [run(1, 2, 5), run(1, 1, 30)]);
    assert_eq!(runs_within(&runs, 14, 3), []);
    assert_eq!(runs_within(&runs, u32::MAX, u32::MAX), []);
    assert_eq!(runs_within(&[], 0, 5), []);
    // A clock at the end of its range does not overflow.
    assert_eq!(
        runs_within(&[run(5, 1, u32::MAX)], 2, 1),
        [run(1, 1, u32::MAX)]
    );
}

#[test]
fn runs_of_inserted_pieces() {
    // Who wrote the words inserted: the diff's offsets are offsets into the new body's runs.
    let from = vec![para("p1", "1", "😀 States agree")];
    let mut p = para("p1", "1", "😀 Member States agree");
    // "😀 " by 1 (3 units), "Member " by 2 (7), "States agree" by 1.
    p.runs = vec![run(3, 1, 0), run(7, 2, 0), run(12, 1, 3)];
    let c = compare(&from, &[p.clone()]);
    let inserted: Vec<&Piece> = c.paragraphs[0]
        .pieces
        .iter()
        .filter(|x| x.op == DiffOp::Insert)
        .collect();
    assert_eq!(inserted, [&ins("Member ", 3)]);
    let len = inserted[0].text.encode_utf16().count() as u32;
    assert_eq!(runs_within(&p.runs, inserted[0].at, len), [run(7, 2, 0)]);
}
