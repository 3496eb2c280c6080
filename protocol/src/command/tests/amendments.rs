//! Accepting an amendment: the body takes its text, the other open amendments become stale.

use super::*;

#[test]
fn accepting_an_amendment_rewrites_the_body_and_marks_the_others_stale() {
    let doc = negotiation();
    let second = Command::CreateAmendment {
        paragraph: "p1".into(),
        new_after: false,
        on_behalf_of: None,
        rationale: String::new(),
    };
    assert_eq!(created(run(&doc, CHE, second)), "a2");
    {
        let sponsors =
            schema::amendment_list(&doc.transact(), "a1", keys::SPONSORS).expect("sponsors");
        assert_eq!(sponsors.len(&doc.transact()), 1);
    }
    // MEX co-drafts: its amendment text becomes the new wording.
    {
        let txn = doc.transact();
        let map = match txn
            .get_map(schema::AMENDMENTS)
            .and_then(|m| yrs::Map::get(&m, &txn, "a1"))
        {
            Some(Out::YMap(map)) => map,
            _ => panic!("a1"),
        };
        let Some(Out::YText(text)) = yrs::Map::get(&map, &txn, keys::TEXT) else {
            panic!("text")
        };
        drop(txn);
        let mut txn = doc.transact_mut();
        text.insert(&mut txn, 0, "Firmly: ");
    }
    run(
        &doc,
        CHE,
        Command::Support {
            amendment: "a1".into(),
        },
    )
    .expect("supported");
    run(
        &doc,
        CHAIR,
        Command::Accept {
            amendment: "a1".into(),
            over_later_edits: false,
        },
    )
    .expect("accepted");
    let txn = doc.transact();
    assert_eq!(
        schema::paragraph(&txn, "p1").expect("p1").body,
        "Firmly: First paragraph."
    );
    let a1 = schema::amendment(&txn, "a1").expect("a1");
    assert_eq!(a1.status, AmendmentStatus::Accepted);
    assert_eq!(a1.supporters, vec!["CHE".to_string()]);
    assert!(schema::amendment(&txn, "a2").expect("a2").stale);
}

#[test]
fn an_amendment_proposing_no_wording_deletes_its_paragraph_when_accepted() {
    let doc = negotiation();
    let proposal = Command::CreateAmendment {
        paragraph: "p2".into(),
        new_after: false,
        on_behalf_of: None,
        rationale: "Redundant with paragraph 1.".into(),
    };
    let id = created(run(&doc, CHE, proposal));
    let rewording = created(run(
        &doc,
        MEX,
        Command::CreateAmendment {
            paragraph: "p2".into(),
            new_after: false,
            on_behalf_of: None,
            rationale: "Sharper.".into(),
        },
    ));
    {
        // The sponsor clears the proposed text: the amendment proposes deleting the paragraph.
        let text = schema::amendment_text(&doc.transact(), &id).expect("text");
        let mut txn = doc.transact_mut();
        let len = yrs::Text::len(&text, &txn);
        yrs::Text::remove_range(&text, &mut txn, 0, len);
    }
    let accept = Command::Accept {
        amendment: id.clone(),
        over_later_edits: false,
    };
    run(&doc, CHAIR, accept).expect("accepted");
    let txn = doc.transact();
    let p2 = schema::paragraph(&txn, "p2").expect("p2");
    assert_eq!(p2.status, ParagraphStatus::Deleted);
    assert_eq!(
        p2.body, "Second one.",
        "the body is kept, as a deletion keeps it"
    );
    let accepted = schema::amendment(&txn, &id).expect("accepted");
    assert_eq!(accepted.status, AmendmentStatus::Accepted);
    assert!(accepted.applied_as.is_none(), "a deletion credits no words");
    let other = schema::amendment(&txn, &rewording).expect("the other");
    assert!(other.stale && other.status == AmendmentStatus::Open);
}

#[test]
fn a_new_paragraph_with_no_text_is_not_accepted() {
    let doc = negotiation();
    let id = created(run(
        &doc,
        CHE,
        Command::CreateAmendment {
            paragraph: "p2".into(),
            new_after: true,
            on_behalf_of: None,
            rationale: "A gap.".into(),
        },
    ));
    let accept = Command::Accept {
        amendment: id,
        over_later_edits: false,
    };
    assert_eq!(code(run(&doc, CHAIR, accept)), "invalid-argument");
}
