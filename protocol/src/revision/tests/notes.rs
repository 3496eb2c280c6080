//! Golden tests of the change notes: each asserts every note, in order.

use super::*;
use Change::{Deleted, New, Restored, Unchanged};
use ParagraphStatus::{Agreed, AgreedAdRef, Open};

/// The notes as `(paragraph, label, changes)`, checking the facilitators' notes are left empty.
fn notes(
    previous: Option<&[TextParagraph]>,
    next: &[TextParagraph],
) -> Vec<(String, String, Vec<Change>)> {
    change_notes(previous, next)
        .into_iter()
        .map(|n| {
            assert_eq!(n.note, None);
            (n.paragraph, n.label, n.changes)
        })
        .collect()
}

fn note(id: &str, label: &str, changes: &[Change]) -> (String, String, Vec<Change>) {
    (id.to_string(), label.to_string(), changes.to_vec())
}

fn moved(after: Option<&str>) -> Change {
    Change::Moved {
        after: after.map(str::to_string),
        from_parent: None,
        to_parent: None,
    }
}

fn renumbered(from: &str, to: &str) -> Change {
    Change::Renumbered {
        from: from.to_string(),
        to: to.to_string(),
    }
}

fn wording(added: usize, removed: usize) -> Change {
    Change::Wording { added, removed }
}

#[test]
fn a_first_revision_is_all_new() {
    let text = numbered(3);
    assert_eq!(
        notes(None, &text),
        [
            note("p1", "1", &[New]),
            note("p2", "2", &[New]),
            note("p3", "3", &[New])
        ]
    );
    assert_eq!(notes(None, &[]), []);
}

#[test]
fn the_same_text_is_unchanged() {
    let text = numbered(3);
    let notes = change_notes(Some(&text), &text);
    assert!(notes.iter().all(ChangeNote::is_unchanged));
    assert_eq!(notes.len(), 3);
    assert_eq!(notes[1].changes, [Unchanged]);
}

#[test]
fn a_moved_paragraph_and_only_it_is_moved() {
    let previous = numbered(6);
    // p3 now stands after p5; the labels stay with their paragraphs.
    let order = [0, 1, 3, 4, 2, 5];
    let next: Vec<TextParagraph> = order.iter().map(|&i| previous[i].clone()).collect();
    assert_eq!(
        notes(Some(&previous), &next),
        [
            note("p1", "1", &[Unchanged]),
            note("p2", "2", &[Unchanged]),
            note("p4", "4", &[Unchanged]),
            note("p5", "5", &[Unchanged]),
            note("p3", "3", &[moved(Some("5"))]),
            note("p6", "6", &[Unchanged]),
        ]
    );
    // To the start: after nothing.
    let next: Vec<TextParagraph> = [5, 0, 1, 2, 3, 4]
        .iter()
        .map(|&i| previous[i].clone())
        .collect();
    assert_eq!(
        notes(Some(&previous), &next)[0],
        note("p6", "6", &[moved(None)])
    );
    assert_eq!(
        change_notes(Some(&previous), &next)
            .iter()
            .filter(|n| !n.is_unchanged())
            .count(),
        1
    );
}

#[test]
fn a_move_renumbers_without_moving_the_others() {
    let previous = numbered(5);
    // p2 moved after p4, and the text renumbered by position.
    let mut next = vec![
        previous[0].clone(),
        previous[2].clone(),
        previous[3].clone(),
        previous[1].clone(),
        previous[4].clone(),
    ];
    for (i, p) in next.iter_mut().enumerate() {
        p.label = (i + 1).to_string();
    }
    assert_eq!(
        notes(Some(&previous), &next),
        [
            note("p1", "1", &[Unchanged]),
            note("p3", "2", &[renumbered("3", "2")]),
            note("p4", "3", &[renumbered("4", "3")]),
            note("p2", "4", &[moved(Some("3")), renumbered("2", "4")]),
            note("p5", "5", &[Unchanged]),
        ]
    );
}

#[test]
fn two_paragraphs_swapped_are_one_move() {
    let previous = numbered(3);
    let next = vec![
        previous[1].clone(),
        previous[0].clone(),
        previous[2].clone(),
    ];
    assert_eq!(
        notes(Some(&previous), &next),
        [
            note("p2", "2", &[moved(None)]),
            note("p1", "1", &[Unchanged]),
            note("p3", "3", &[Unchanged]),
        ]
    );
}

#[test]
fn an_insertion_and_a_deletion_move_nothing() {
    let previous = numbered(5);
    // "15bis" style: a new paragraph after p2 labelled "2bis"; p4 removed from the text
    // altogether; then the insertion renumbered "3" and everything after shifted.
    let mut next = vec![
        previous[0].clone(),
        previous[1].clone(),
        para("p9", "2bis", "A new paragraph."),
        previous[2].clone(),
        previous[4].clone(),
    ];
    assert_eq!(
        notes(Some(&previous), &next),
        [
            note("p1", "1", &[Unchanged]),
            note("p2", "2", &[Unchanged]),
            note("p9", "2bis", &[New]),
            note("p3", "3", &[Unchanged]),
            note("p4", "4", &[Deleted]),
            note("p5", "5", &[Unchanged]),
        ]
    );
    next[2].label = "3".into();
    next[3].label = "4".into();
    assert_eq!(
        notes(Some(&previous), &next)[2..4],
        [
            note("p9", "3", &[New]),
            note("p3", "4", &[renumbered("3", "4")])
        ]
    );
}

#[test]
fn renumbered_only() {
    let previous = vec![para("p15b", "15bis", "Text."), para("p16", "16", "More.")];
    let next = vec![para("p15b", "16", "Text."), para("p16", "17", "More.")];
    assert_eq!(
        notes(Some(&previous), &next),
        [
            note("p15b", "16", &[renumbered("15bis", "16")]),
            note("p16", "17", &[renumbered("16", "17")]),
        ]
    );
}

#[test]
fn a_split_paragraph_is_reworded_and_a_new_one() {
    let previous = vec![
        para(
            "p1",
            "1",
            "Decides to convene a meeting. Requests a report on its outcome.",
        ),
        para("p2", "2", "Decides to remain seized of the matter."),
    ];
    let next = vec![
        para("p1", "1", "Decides to convene a meeting."),
        para("p7", "1bis", "Requests a report on its outcome."),
        para("p2", "2", "Decides to remain seized of the matter."),
    ];
    assert_eq!(
        notes(Some(&previous), &next),
        [
            note("p1", "1", &[wording(0, 6)]),
            note("p7", "1bis", &[New]),
            note("p2", "2", &[Unchanged]),
        ]
    );
}

#[test]
fn deleted_and_restored() {
    let previous = vec![
        para("p1", "1", "One."),
        with_status(para("p2", "2", "Two."), ParagraphStatus::Deleted),
        para("p3", "3", "Three."),
        with_status(para("p4", "4", "Four."), ParagraphStatus::Deleted),
    ];
    let next = vec![
        with_status(para("p1", "1", "One, reworded."), ParagraphStatus::Deleted),
        para("p2", "2", "Two."),
        with_status(para("p3", "3", "Three."), Agreed),
        with_status(para("p4", "4", "Four, reworded."), AgreedAdRef),
        with_status(
            para("p5", "5", "Added and deleted since."),
            ParagraphStatus::Deleted,
        ),
    ];
    assert_eq!(
        notes(Some(&previous), &next),
        [
            note("p1", "1", &[Deleted]),
            note("p2", "2", &[Restored]),
            note(
                "p3",
                "3",
                &[Change::Status {
                    from: Open,
                    to: Agreed
                }]
            ),
            note("p4", "4", &[Restored, wording(1, 0)]),
            note("p5", "5", &[New, Deleted]),
        ]
    );
    // A tombstone still a tombstone is unchanged.
    assert_eq!(notes(Some(&next), &next)[0], note("p1", "1", &[Unchanged]));
}

#[test]
fn paragraphs_gone_from_the_text_stand_where_they_stood() {
    let previous = numbered(6);
    // p5 moved to the start; p1 (before every paragraph left), p3 and p4 (after p2) and p6
    // (after p5, wherever p5 now stands) are gone.
    let next = vec![previous[4].clone(), previous[1].clone()];
    assert_eq!(
        notes(Some(&previous), &next),
        [
            note("p1", "1", &[Deleted]),
            note("p5", "5", &[moved(None)]),
            note("p6", "6", &[Deleted]),
            note("p2", "2", &[Unchanged]),
            note("p3", "3", &[Deleted]),
            note("p4", "4", &[Deleted]),
        ]
    );
    assert_eq!(notes(Some(&previous), &[]).len(), 6);
}

#[test]
fn changed_and_changed_back_is_unchanged() {
    let rev1 = vec![para("p1", "1", "Calls upon Member States to act.")];
    let live = vec![with_status(
        para("p1", "1bis", "Calls upon all States to act."),
        Agreed,
    )];
    assert_eq!(
        notes(Some(&rev1), &live),
        [note(
            "p1",
            "1bis",
            &[
                renumbered("1", "1bis"),
                wording(1, 1),
                Change::Status {
                    from: Open,
                    to: Agreed
                }
            ]
        )]
    );
    let rev2 = rev1.clone();
    assert_eq!(notes(Some(&rev1), &rev2), [note("p1", "1", &[Unchanged])]);
}

#[test]
fn punctuation_and_spacing_are_wording_of_no_words() {
    let previous = vec![
        para("p1", "1", "Member States, and"),
        para("p2", "2", "a  b"),
    ];
    let next = vec![
        para("p1", "1", "Member States; and"),
        para("p2", "2", "a b"),
    ];
    assert_eq!(
        notes(Some(&previous), &next),
        [
            note("p1", "1", &[wording(0, 0)]),
            note("p2", "2", &[wording(0, 0)])
        ]
    );
}

#[test]
fn moved_under_another_heading() {
    let previous = vec![
        para("h1", "I", "Mitigation"),
        under(para("p1", "1", "One."), "h1"),
        para("h2", "II", "Adaptation"),
        under(para("p2", "2", "Two."), "h2"),
    ];
    // p1 moves from under h1 to the end, under h2.
    let next = vec![
        para("h1", "I", "Mitigation"),
        para("h2", "II", "Adaptation"),
        under(para("p2", "2", "Two."), "h2"),
        under(para("p1", "3", "One."), "h2"),
    ];
    let to_h2 = Change::Moved {
        after: Some("2".into()),
        from_parent: Some("h1".into()),
        to_parent: Some("h2".into()),
    };
    assert_eq!(
        notes(Some(&previous), &next),
        [
            note("h1", "I", &[Unchanged]),
            note("h2", "II", &[Unchanged]),
            note("p2", "2", &[Unchanged]),
            note("p1", "3", &[to_h2, renumbered("1", "3")]),
        ]
    );
    // Under another heading in the same place.
    let mut regrouped = previous.clone();
    regrouped[3].parent = Some("h1".into());
    assert_eq!(
        notes(Some(&previous), &regrouped)[3],
        note(
            "p2",
            "2",
            &[Change::Moved {
                after: Some("II".into()),
                from_parent: Some("h2".into()),
                to_parent: Some("h1".into()),
            }]
        )
    );
}

#[test]
fn the_summary_counts_the_changed_paragraphs() {
    let previous = numbered(4);
    let mut next = previous.clone();
    next[1].body = "Reworded.".into();
    next[3].status = Agreed;
    let revision = Revision {
        id: "r2".into(),
        number: 2,
        name: "Rev 1".into(),
        previous: Some("r1".into()),
        published_at_ms: 0,
        published_by: Publisher {
            mission: "Chair".into(),
            person: "Facilitator".into(),
        },
        cover_note: String::new(),
        change_notes: change_notes(Some(&previous), &next),
        paragraphs: next,
        amendments: Vec::new(),
        themes: Vec::new(),
    };
    assert_eq!(revision.summary(0).changed, 2);
}

#[test]
fn a_duplicated_id_does_not_panic() {
    // Ids are unique in a text; a duplicate is taken as a paragraph of its own, out of order.
    let previous = vec![
        para("p1", "1", "One."),
        para("p2", "2", "Two."),
        para("p1", "3", "Dup."),
    ];
    let next = vec![
        para("p1", "1", "One."),
        para("p1", "1", "One."),
        para("p2", "2", "Two."),
    ];
    assert_eq!(
        notes(Some(&previous), &next),
        [
            note("p1", "1", &[Unchanged]),
            note("p1", "1", &[moved(Some("1"))]),
            note("p2", "2", &[Unchanged]),
        ]
    );
}
