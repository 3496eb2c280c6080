//! Paragraph commands: restoring tombstones, structure changes, splits at UTF-16 offsets, and importing a structured text.

use super::*;

#[test]
fn a_facilitator_restores_a_deleted_paragraph_with_its_number() {
    let doc = negotiation();
    for delete in [
        Command::DeleteParagraph {
            paragraph: "p2".into(),
        },
        Command::SetStatus {
            paragraph: "p1".into(),
            status: ParagraphStatus::Deleted,
            pending: Vec::new(),
        },
    ] {
        run(&doc, CHAIR, delete).expect("deleted");
    }
    let restore = |paragraph: &str, status| Command::SetStatus {
        paragraph: paragraph.into(),
        status,
        pending: Vec::new(),
    };
    assert_eq!(
        code(run(&doc, MEX, restore("p2", ParagraphStatus::Open))),
        "forbidden-role"
    );
    run(&doc, CHAIR, restore("p2", ParagraphStatus::Open)).expect("restored");
    run(&doc, CHAIR, restore("p1", ParagraphStatus::Held)).expect("restored as held");
    let txn = doc.transact();
    let restored: Vec<(String, String, ParagraphStatus, String)> = schema::paragraphs(&txn)
        .into_iter()
        .map(|p| (p.id, p.label, p.status, p.body))
        .collect();
    assert_eq!(
        restored,
        vec![
            (
                "p1".to_string(),
                "1".to_string(),
                ParagraphStatus::Held,
                "First paragraph.".to_string()
            ),
            (
                "p2".to_string(),
                "2".to_string(),
                ParagraphStatus::Open,
                "Second one.".to_string()
            ),
        ]
    );
    drop(txn);
    // Restored, it takes amendments again.
    run(
        &doc,
        CHE,
        Command::CreateAmendment {
            paragraph: "p2".into(),
            new_after: false,
            on_behalf_of: None,
            rationale: String::new(),
        },
    )
    .expect("amendable again");
}

#[test]
fn a_tombstone_keeps_its_label() {
    let doc = negotiation();
    run(
        &doc,
        CHAIR,
        Command::DeleteParagraph {
            paragraph: "p2".into(),
        },
    )
    .expect("deleted");
    assert_eq!(
        code(run(
            &doc,
            CHAIR,
            Command::RelabelParagraph {
                paragraph: "p2".into(),
                label: "2bis".into(),
            }
        )),
        "paragraph-deleted"
    );
}

#[test]
fn structure_commands_do_what_they_say() {
    let doc = negotiation();
    let tail = created(run(
        &doc,
        CHAIR,
        Command::SplitParagraph {
            paragraph: "p1".into(),
            at: 6,
            label: "1bis".into(),
        },
    ));
    run(
        &doc,
        CHAIR,
        Command::MoveParagraph {
            paragraph: "p2".into(),
            after: None,
        },
    )
    .expect("moved");
    run(
        &doc,
        CHAIR,
        Command::RelabelParagraph {
            paragraph: "p2".into(),
            label: "PP1".into(),
        },
    )
    .expect("relabelled");
    run(
        &doc,
        MEX,
        Command::InviteSponsor {
            amendment: "a1".into(),
            mission: "CHE".into(),
        },
    )
    .expect("invited");
    assert_eq!(
        code(run(
            &doc,
            MEX,
            Command::InviteSponsor {
                amendment: "a1".into(),
                mission: "CHE".into()
            }
        )),
        "already-invited"
    );
    run(
        &doc,
        CHE,
        Command::AcceptInvitation {
            amendment: "a1".into(),
        },
    )
    .expect("accepted");
    assert_eq!(
        code(run(
            &doc,
            MEX,
            Command::InviteSponsor {
                amendment: "a1".into(),
                mission: "CHE".into()
            }
        )),
        "already-a-sponsor"
    );
    run(
        &doc,
        CHE,
        Command::RemoveSponsor {
            amendment: "a1".into(),
            mission: "CHE".into(),
        },
    )
    .expect("a co-sponsor may leave");
    run(
        &doc,
        CHE,
        Command::Comment {
            paragraph: tail.clone(),
            text: "We support this.".into(),
            reply_to: None,
        },
    )
    .expect("comment");
    let txn = doc.transact();
    let order: Vec<(String, String)> = schema::paragraphs(&txn)
        .into_iter()
        .map(|p| (p.label, p.body))
        .collect();
    assert_eq!(
        order,
        vec![
            ("PP1".to_string(), "Second one.".to_string()),
            ("1".to_string(), "First ".to_string()),
            ("1bis".to_string(), "paragraph.".to_string()),
        ]
    );
    assert_eq!(schema::comments(&txn, &tail)[0].mission, "CHE");
    assert_eq!(
        schema::amendment(&txn, "a1").expect("a1").sponsors,
        vec!["MEX".to_string()]
    );
}

/// A document counting offsets in UTF-16 code units, as the server's and the client's do.
fn utf16_doc() -> Doc {
    Doc::with_options(yrs::Options {
        client_id: yrs::ClientID::new(1),
        offset_kind: yrs::OffsetKind::Utf16,
        ..yrs::Options::default()
    })
}

fn one_paragraph(doc: &Doc, body: &str) {
    let add = Command::AddParagraph {
        after: None,
        label: "1".into(),
        kind: ParagraphKind::Operative,
        parent: None,
        body: body.into(),
    };
    assert_eq!(created(run(doc, CHAIR, add)), "p1");
}

fn bodies(doc: &Doc) -> Vec<String> {
    schema::paragraphs(&doc.transact())
        .into_iter()
        .map(|p| p.body)
        .collect()
}

fn split(at: u32) -> Command {
    Command::SplitParagraph {
        paragraph: "p1".into(),
        at,
        label: "1bis".into(),
    }
}

#[test]
fn a_split_inside_a_surrogate_pair_is_refused() {
    let doc = utf16_doc();
    one_paragraph(&doc, "A😀B");
    // "A" is one unit, the emoji two (a surrogate pair), "B" one: 2 is between the halves.
    assert_eq!(code(run(&doc, CHAIR, split(2))), "invalid-argument");
    assert_eq!(bodies(&doc), vec!["A😀B".to_string()]);
    created(run(&doc, CHAIR, split(3)));
    assert_eq!(bodies(&doc), vec!["A😀".to_string(), "B".to_string()]);
}

#[test]
fn split_offsets_are_utf16_whatever_the_document_counts_in() {
    // A document counting in bytes (yrs's default): the emoji is four bytes there, but
    // the command's offset still counts UTF-16 units.
    let doc = Doc::with_client_id(1);
    one_paragraph(&doc, "A😀B");
    assert_eq!(code(run(&doc, CHAIR, split(2))), "invalid-argument");
    assert_eq!(code(run(&doc, CHAIR, split(4))), "invalid-argument");
    created(run(&doc, CHAIR, split(1)));
    assert_eq!(bodies(&doc), vec!["A".to_string(), "😀B".to_string()]);
}

#[test]
fn a_structured_text_imports_into_an_empty_document_only() {
    let doc = Doc::with_client_id(1);
    let text = "# Preamble\n[PP1] Recalling,\n# Commitments\n[17] We commit\n[17(a)] Act";
    let import = Command::ImportText { text: text.into() };
    assert_eq!(code(run(&doc, MEX, import.clone())), "forbidden-role");
    assert_eq!(
        run(&doc, CHAIR, import.clone()),
        Ok(Outcome::Imported { paragraphs: 5 })
    );
    let txn = doc.transact();
    let all = schema::paragraphs(&txn);
    assert_eq!(all[4].label, "17(a)");
    assert_eq!(all[4].kind, ParagraphKind::Action);
    assert_eq!(
        all[4].parent.as_deref(),
        Some("p3"),
        "under the second heading"
    );
    drop(txn);
    assert_eq!(code(run(&doc, CHAIR, import)), "document-not-empty");
    let bad = Command::ImportText {
        text: "no heading".into(),
    };
    assert_eq!(code(run(&Doc::new(), CHAIR, bad)), "invalid-argument");
}
