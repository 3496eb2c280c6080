//! Revisions: publishing freezes the text once, the draft starts again, and accepting an
//! amendment over later edits of the body needs saying so.

use super::*;
use crate::revision::{Change, Revision};

fn publish(doc: &Doc, name: &str) -> Result<Outcome, CommandError> {
    run(
        doc,
        CHAIR,
        Command::PublishRevision {
            name: name.into(),
            note: None,
        },
    )
}

fn stored(doc: &Doc, id: &str) -> (String, Revision) {
    let json = schema::revision(&doc.transact(), id).expect("stored");
    let revision = serde_json::from_str(&json).expect("parses");
    (json, revision)
}

fn type_into_body(doc: &Doc, paragraph: &str, at: u32, text: &str) {
    let body = schema::body_text(&doc.transact(), paragraph).expect("body");
    body.insert(&mut doc.transact_mut(), at, text);
}

#[test]
fn a_published_revision_is_the_text_as_it_read_with_notes_and_the_cover_letter() {
    let doc = negotiation();
    run(&doc, CHAIR, Command::PrepareRevision {}).expect("prepared");
    let letter = schema::cover_note_text(&doc.transact()).expect("a letter to type");
    letter.insert(&mut doc.transact_mut(), 0, "Dear colleagues,");
    assert_eq!(created(publish(&doc, "Zero draft")), "r1");
    let (_, zero) = stored(&doc, "r1");
    assert_eq!(zero.number, 1);
    assert_eq!(zero.previous, None);
    assert_eq!(zero.cover_note, "Dear colleagues,");
    assert_eq!(zero.published_by.mission, CHAIR.mission);
    assert_eq!(zero.published_at_ms, 42);
    let bodies: Vec<&str> = zero.paragraphs.iter().map(|p| p.body.as_str()).collect();
    assert_eq!(bodies, ["First paragraph.", "Second one."]);
    assert_eq!(zero.amendments.len(), 1, "a1 is open");
    assert!(zero
        .change_notes
        .iter()
        .all(|n| n.changes == vec![Change::New]));
    // Who wrote the body is kept, run by run, covering it exactly.
    let p1 = &zero.paragraphs[0];
    let covered: u32 = p1.runs.iter().map(|r| r.len).sum();
    assert_eq!(covered, crate::attribution::utf16_len(&p1.body));
    // The draft starts again: an empty letter, no notes.
    assert_eq!(schema::cover_note(&doc.transact()), "");

    type_into_body(&doc, "p2", 0, "A ");
    run(
        &doc,
        CHAIR,
        Command::NoteChange {
            paragraph: "p1".into(),
            note: "No changes: a proposal is being prepared.".into(),
        },
    )
    .expect("noted");
    assert_eq!(created(publish(&doc, "Rev 1")), "r2");
    let (_, rev1) = stored(&doc, "r2");
    assert_eq!(rev1.previous.as_deref(), Some("r1"));
    let p1 = &rev1.change_notes[0];
    assert_eq!(p1.changes, vec![Change::Unchanged]);
    assert_eq!(
        p1.note.as_deref(),
        Some("No changes: a proposal is being prepared.")
    );
    assert!(matches!(
        rev1.change_notes[1].changes[..],
        [Change::Wording { .. }]
    ));
    assert!(schema::change_notes_drafted(&doc.transact()).is_empty());
}

#[test]
fn a_revision_is_written_once_and_names_are_not_reused() {
    let doc = negotiation();
    created(publish(&doc, "Zero draft"));
    let (before, _) = stored(&doc, "r1");
    assert_eq!(
        code(publish(&doc, "zero DRAFT")),
        ErrorCode::RevisionNameTaken
    );
    assert_eq!(code(publish(&doc, "   ")), ErrorCode::InvalidArgument);
    for hidden in [
        "Rev\u{0}2",
        "Rev\n2",
        "\u{1b}[31mRev 2",
        "\u{202e}2 veR",
        "Rev\u{200b} 2",
    ] {
        assert_eq!(
            code(publish(&doc, hidden)),
            ErrorCode::InvalidArgument,
            "{hidden:?}"
        );
    }
    // Joiners are parts of names in some scripts.
    created(publish(&doc, "می\u{200c}خواهم"));
    assert_eq!(
        code(run(
            &doc,
            MEX,
            Command::PublishRevision {
                name: "Rev 9".into(),
                note: None
            }
        )),
        ErrorCode::ForbiddenRole
    );
    type_into_body(&doc, "p1", 0, "Later: ");
    created(publish(&doc, "Rev 1"));
    let (after, _) = stored(&doc, "r1");
    assert_eq!(before, after, "r1 is byte for byte what was published");
    let names: Vec<String> = schema::revisions(&doc.transact())
        .into_iter()
        .map(|r| r.name)
        .collect();
    assert_eq!(names, ["Zero draft", "می\u{200c}خواهم", "Rev 1"]);
}

#[test]
fn accepting_over_later_edits_of_the_body_must_be_asked_for() {
    let doc = negotiation();
    // The amendment a1 was made on "First paragraph."; the chair edits the body since.
    type_into_body(&doc, "p1", 0, "The ");
    let text = schema::amendment_text(&doc.transact(), "a1").expect("text");
    text.insert(&mut doc.transact_mut(), 0, "Firmly: ");
    let accept = |over: bool| Command::Accept {
        amendment: "a1".into(),
        over_later_edits: over,
    };
    assert_eq!(
        code(run(&doc, CHAIR, accept(false))),
        ErrorCode::BodyMovedOn
    );
    assert_eq!(
        schema::amendment(&doc.transact(), "a1").expect("a1").status,
        AmendmentStatus::Open
    );
    run(&doc, CHAIR, accept(true)).expect("accepted over the edit");
    let a1 = schema::amendment(&doc.transact(), "a1").expect("a1");
    assert_eq!(a1.base_body.as_deref(), Some("First paragraph."));
    assert_eq!(
        schema::paragraph(&doc.transact(), "p1").expect("p1").body,
        "Firmly: First paragraph."
    );
    let (client, from, to) = a1.applied_as.expect("credited");
    assert_eq!(client, doc.client_id().get());
    assert!(to > from);
}

#[test]
fn an_accepted_amendment_rewrites_only_the_words_it_changes() {
    let doc = negotiation();
    let text = schema::amendment_text(&doc.transact(), "a1").expect("text");
    text.insert(&mut doc.transact_mut(), 6, "new ");
    let before = crate::revision::live_text(&mut doc.transact_mut());
    run(
        &doc,
        CHAIR,
        Command::Accept {
            amendment: "a1".into(),
            over_later_edits: false,
        },
    )
    .expect("accepted");
    let after = crate::revision::live_text(&mut doc.transact_mut());
    assert_eq!(after[0].body, "First new paragraph.");
    // "First " keeps the items (and so the author) it had.
    assert_eq!(after[0].runs[0].client, before[0].runs[0].client);
    assert_eq!(after[0].runs[0].clock, before[0].runs[0].clock);
}

#[test]
fn themes_and_what_observers_read_are_the_facilitators() {
    let doc = negotiation();
    let theme = Command::SetTheme {
        theme: None,
        name: "Capacity-building".into(),
        paragraphs: vec!["p1".into(), "p1".into()],
    };
    assert_eq!(
        code(run(&doc, MEX, theme.clone())),
        ErrorCode::ForbiddenRole
    );
    assert_eq!(created(run(&doc, CHAIR, theme)), "t1");
    let themes = schema::themes(&doc.transact());
    assert_eq!(themes[0].paragraphs, ["p1"]);
    let unknown = Command::SetTheme {
        theme: Some("t9".into()),
        name: "X".into(),
        paragraphs: vec![],
    };
    assert_eq!(code(run(&doc, CHAIR, unknown)), ErrorCode::UnknownTheme);
    let bad_paragraph = Command::SetTheme {
        theme: Some("t1".into()),
        name: "Capacity-building".into(),
        paragraphs: vec!["p99".into()],
    };
    assert_eq!(
        code(run(&doc, CHAIR, bad_paragraph)),
        ErrorCode::UnknownParagraph
    );
    let published = Command::SetObservers {
        observers: schema::ObserverView::Published,
    };
    assert_eq!(
        code(run(&doc, MEX, published.clone())),
        ErrorCode::ForbiddenRole
    );
    run(&doc, CHAIR, published).expect("set");
    assert_eq!(
        schema::observer_view(&doc.transact()),
        schema::ObserverView::Published
    );
}
