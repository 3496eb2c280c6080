//! The schema's reads and writes, round trip, and the index of editable texts.

use yrs::{Doc, Map, Out, ReadTxn, Text, Transact};

use super::editable::branch_id;
use super::read::text;
use super::*;

fn paragraph_spec(id: &str, label: &str, kind: ParagraphKind, body: &str) -> NewParagraph {
    NewParagraph {
        id: id.into(),
        label: label.into(),
        kind,
        parent: None,
        body: body.into(),
    }
}

fn sample() -> Doc {
    let doc = Doc::with_client_id(1);
    let mut txn = doc.transact_mut();
    insert_paragraph(
        &mut txn,
        0,
        &paragraph_spec(
            "p1",
            "PP1",
            ParagraphKind::Preambular,
            "Recalling the Charter,",
        ),
    )
    .expect("p1");
    insert_paragraph(
        &mut txn,
        1,
        &paragraph_spec("p3", "OP1", ParagraphKind::Operative, "Decides to act;"),
    )
    .expect("p3");
    // Inserted between: "15bis"-style numbering keeps ids stable and labels free.
    insert_paragraph(
        &mut txn,
        1,
        &paragraph_spec("p2", "PP1bis", ParagraphKind::Preambular, "Noting,"),
    )
    .expect("p2");
    drop(txn);
    doc
}

#[test]
fn paragraphs_read_back_in_order_with_their_fields() {
    let doc = sample();
    let txn = doc.transact();
    let all = paragraphs(&txn);
    let labels: Vec<&str> = all.iter().map(|p| p.label.as_str()).collect();
    assert_eq!(labels, ["PP1", "PP1bis", "OP1"]);
    assert_eq!(all[2].body, "Decides to act;");
    assert_eq!(all[2].kind, ParagraphKind::Operative);
    assert_eq!(all[0].status, ParagraphStatus::Open);
    assert!(!all[0].is_locked());
}

#[test]
fn a_duplicate_paragraph_id_is_refused() {
    let doc = sample();
    let mut txn = doc.transact_mut();
    let again = paragraph_spec("p1", "X", ParagraphKind::Heading, "");
    assert_eq!(
        insert_paragraph(&mut txn, 0, &again),
        Err(SchemaError::DuplicateParagraph("p1".into()))
    );
}

#[test]
fn status_label_and_lock_change_and_read_back() {
    let doc = sample();
    let lock = Lock {
        mission: "UN".into(),
        person: "chair".into(),
        at_ms: 1_800_000_000_000,
        reason: "agreed ad ref".into(),
    };
    {
        let mut txn = doc.transact_mut();
        set_status(&mut txn, "p3", ParagraphStatus::AgreedAdRef).expect("status");
        set_label(&mut txn, "p3", "OP1alt").expect("label");
        set_lock(&mut txn, "p3", Some(&lock)).expect("lock");
        assert_eq!(
            set_status(&mut txn, "p9", ParagraphStatus::Held),
            Err(SchemaError::UnknownParagraph("p9".into()))
        );
    }
    let p3 = paragraph(&doc.transact(), "p3").expect("p3");
    assert_eq!(p3.status, ParagraphStatus::AgreedAdRef);
    assert_eq!(p3.label, "OP1alt");
    assert_eq!(p3.lock, Some(lock));
    set_lock(&mut doc.transact_mut(), "p3", None).expect("unlock");
    assert!(!paragraph(&doc.transact(), "p3").expect("p3").is_locked());
}

#[test]
fn an_amendment_starts_as_a_copy_of_the_body_and_lists_its_sponsors() {
    let doc = sample();
    let new = NewAmendment {
        id: "a1".into(),
        paragraph: "p3".into(),
        new_after: false,
        author: "MEX".into(),
        on_behalf_of: Some("G77 and China".into()),
        rationale: "Clarity.".into(),
        base_revision: Some("rev1".into()),
    };
    create_amendment(&mut doc.transact_mut(), &new).expect("amendment");
    let a1 = amendment(&doc.transact(), "a1").expect("a1");
    assert_eq!(a1.text, "Decides to act;");
    assert_eq!(a1.sponsors, vec!["MEX".to_string()]);
    assert!(a1.is_sponsored_by("MEX") && !a1.is_sponsored_by("EU"));
    assert_eq!(a1.on_behalf_of.as_deref(), Some("G77 and China"));
    assert_eq!(a1.status, AmendmentStatus::Open);
    assert_eq!(a1.rationale, "Clarity.");
    set_amendment_status(&mut doc.transact_mut(), "a1", AmendmentStatus::Withdrawn)
        .expect("status");
    assert_eq!(
        amendments(&doc.transact())[0].status,
        AmendmentStatus::Withdrawn
    );
    let missing = NewAmendment {
        paragraph: "p9".into(),
        ..new
    };
    assert!(create_amendment(&mut doc.transact_mut(), &missing).is_err());
}

#[test]
fn comments_append_in_order() {
    let doc = sample();
    for (i, text) in ["first", "second"].iter().enumerate() {
        let comment = Comment {
            id: String::new(),
            mission: "CHE".into(),
            person: "eva".into(),
            at_ms: i as u64,
            text: text.to_string(),
            reply_to: None,
            resolved: None,
        };
        add_comment(&mut doc.transact_mut(), "p1", &comment).expect("comment");
    }
    let thread = comments(&doc.transact(), "p1");
    assert_eq!(
        thread.iter().map(|c| c.text.as_str()).collect::<Vec<_>>(),
        ["first", "second"]
    );
    assert_eq!(
        thread.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(),
        ["c1", "c2"],
        "a comment's id is its place in the thread"
    );
    assert!(comments(&doc.transact(), "p2").is_empty());
}

#[test]
fn the_editable_index_names_every_text_a_client_may_write() {
    let doc = sample();
    let new = NewAmendment {
        id: "a1".into(),
        paragraph: "p1".into(),
        new_after: false,
        author: "EU".into(),
        on_behalf_of: None,
        rationale: String::new(),
        base_revision: None,
    };
    create_amendment(&mut doc.transact_mut(), &new).expect("amendment");
    let txn = doc.transact();
    let index = editable_branches(&txn);
    assert_eq!(index.len(), 3 + 2);
    let body = match txn.get_map(PARAGRAPHS).and_then(|m| m.get(&txn, "p2")) {
        Some(Out::YMap(map)) => text(&map, &txn, keys::BODY).expect("body"),
        _ => panic!("p2 exists"),
    };
    assert_eq!(
        index.get(&branch_id(&body)),
        Some(&Editable::ParagraphBody("p2".into()))
    );
    assert!(index
        .values()
        .any(|e| e == &Editable::AmendmentRationale("a1".into())));
    drop(txn);
    // A client's edit to a body changes the text, not the index.
    let body_len = body.len(&doc.transact());
    body.insert(&mut doc.transact_mut(), body_len, " (as amended)");
    assert_eq!(
        paragraph(&doc.transact(), "p2").expect("p2").body,
        "Noting, (as amended)"
    );
}
