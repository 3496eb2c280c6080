//! Every text field of every command is refused past its limit, in bytes of UTF-8, and what becomes a paragraph is held to the paragraph limits.

use super::*;

/// A text field: its name, who sends it, the command carrying a value there, its limit.
type FieldCase = (
    &'static str,
    Actor<'static>,
    Box<dyn Fn(String) -> Command>,
    usize,
);

/// Every text field of every command.
fn text_fields() -> Vec<FieldCase> {
    let id = || "p1".to_string();
    vec![
        (
            "add-paragraph.after",
            CHAIR,
            Box::new(|v| Command::AddParagraph {
                after: Some(v),
                label: "9".into(),
                kind: ParagraphKind::Operative,
                parent: None,
                body: String::new(),
            }),
            MAX_ID_BYTES,
        ),
        (
            "add-paragraph.label",
            CHAIR,
            Box::new(|v| Command::AddParagraph {
                after: None,
                label: v,
                kind: ParagraphKind::Operative,
                parent: None,
                body: String::new(),
            }),
            MAX_LABEL_BYTES,
        ),
        (
            "add-paragraph.parent",
            CHAIR,
            Box::new(|v| Command::AddParagraph {
                after: None,
                label: "9".into(),
                kind: ParagraphKind::Operative,
                parent: Some(v),
                body: String::new(),
            }),
            MAX_ID_BYTES,
        ),
        (
            "add-paragraph.body",
            CHAIR,
            Box::new(|v| Command::AddParagraph {
                after: None,
                label: "9".into(),
                kind: ParagraphKind::Operative,
                parent: None,
                body: v,
            }),
            MAX_BODY_BYTES,
        ),
        (
            "move-paragraph.paragraph",
            CHAIR,
            Box::new(|v| Command::MoveParagraph {
                paragraph: v,
                after: None,
            }),
            MAX_ID_BYTES,
        ),
        (
            "move-paragraph.after",
            CHAIR,
            Box::new(move |v| Command::MoveParagraph {
                paragraph: id(),
                after: Some(v),
            }),
            MAX_ID_BYTES,
        ),
        (
            "split-paragraph.paragraph",
            CHAIR,
            Box::new(|v| Command::SplitParagraph {
                paragraph: v,
                at: 1,
                label: "1bis".into(),
            }),
            MAX_ID_BYTES,
        ),
        (
            "split-paragraph.label",
            CHAIR,
            Box::new(move |v| Command::SplitParagraph {
                paragraph: id(),
                at: 1,
                label: v,
            }),
            MAX_LABEL_BYTES,
        ),
        (
            "relabel-paragraph.paragraph",
            CHAIR,
            Box::new(|v| Command::RelabelParagraph {
                paragraph: v,
                label: "1".into(),
            }),
            MAX_ID_BYTES,
        ),
        (
            "relabel-paragraph.label",
            CHAIR,
            Box::new(move |v| Command::RelabelParagraph {
                paragraph: id(),
                label: v,
            }),
            MAX_LABEL_BYTES,
        ),
        (
            "delete-paragraph.paragraph",
            CHAIR,
            Box::new(|v| Command::DeleteParagraph { paragraph: v }),
            MAX_ID_BYTES,
        ),
        (
            "set-status.paragraph",
            CHAIR,
            Box::new(|v| Command::SetStatus {
                paragraph: v,
                status: ParagraphStatus::Held,
                pending: Vec::new(),
            }),
            MAX_ID_BYTES,
        ),
        (
            "lock.paragraph",
            CHAIR,
            Box::new(|v| Command::Lock {
                paragraph: v,
                reason: "r".into(),
                status: None,
            }),
            MAX_ID_BYTES,
        ),
        (
            "lock.reason",
            CHAIR,
            Box::new(move |v| Command::Lock {
                paragraph: id(),
                reason: v,
                status: None,
            }),
            MAX_REASON_BYTES,
        ),
        (
            "unlock.paragraph",
            CHAIR,
            Box::new(|v| Command::Unlock {
                paragraph: v,
                reason: "r".into(),
            }),
            MAX_ID_BYTES,
        ),
        (
            "unlock.reason",
            CHAIR,
            Box::new(move |v| Command::Unlock {
                paragraph: id(),
                reason: v,
            }),
            MAX_REASON_BYTES,
        ),
        (
            "create-amendment.paragraph",
            CHE,
            Box::new(|v| Command::CreateAmendment {
                paragraph: v,
                new_after: false,
                on_behalf_of: None,
                rationale: String::new(),
            }),
            MAX_ID_BYTES,
        ),
        (
            "create-amendment.on_behalf_of",
            CHE,
            Box::new(move |v| Command::CreateAmendment {
                paragraph: id(),
                new_after: false,
                on_behalf_of: Some(v),
                rationale: String::new(),
            }),
            MAX_NAME_BYTES,
        ),
        (
            "create-amendment.rationale",
            CHE,
            Box::new(move |v| Command::CreateAmendment {
                paragraph: id(),
                new_after: false,
                on_behalf_of: None,
                rationale: v,
            }),
            MAX_RATIONALE_BYTES,
        ),
        (
            "invite-sponsor.amendment",
            MEX,
            Box::new(|v| Command::InviteSponsor {
                amendment: v,
                mission: "CHE".into(),
            }),
            MAX_ID_BYTES,
        ),
        (
            "invite-sponsor.mission",
            MEX,
            Box::new(|v| Command::InviteSponsor {
                amendment: "a1".into(),
                mission: v,
            }),
            MAX_NAME_BYTES,
        ),
        (
            "remove-sponsor.amendment",
            MEX,
            Box::new(|v| Command::RemoveSponsor {
                amendment: v,
                mission: "CHE".into(),
            }),
            MAX_ID_BYTES,
        ),
        (
            "remove-sponsor.mission",
            MEX,
            Box::new(|v| Command::RemoveSponsor {
                amendment: "a1".into(),
                mission: v,
            }),
            MAX_NAME_BYTES,
        ),
        (
            "support.amendment",
            CHE,
            Box::new(|v| Command::Support { amendment: v }),
            MAX_ID_BYTES,
        ),
        (
            "oppose.amendment",
            CHE,
            Box::new(|v| Command::Oppose { amendment: v }),
            MAX_ID_BYTES,
        ),
        (
            "withdraw.amendment",
            MEX,
            Box::new(|v| Command::Withdraw { amendment: v }),
            MAX_ID_BYTES,
        ),
        (
            "accept.amendment",
            CHAIR,
            Box::new(|v| Command::Accept {
                amendment: v,
                over_later_edits: false,
            }),
            MAX_ID_BYTES,
        ),
        (
            "reject.amendment",
            CHAIR,
            Box::new(|v| Command::Reject {
                amendment: v,
                reason: "not agreed".into(),
            }),
            MAX_ID_BYTES,
        ),
        (
            "comment.paragraph",
            CHE,
            Box::new(|v| Command::Comment {
                paragraph: v,
                text: "hi".into(),
                reply_to: None,
            }),
            MAX_ID_BYTES,
        ),
        (
            "comment.text",
            CHE,
            Box::new(move |v| Command::Comment {
                paragraph: id(),
                text: v,
                reply_to: None,
            }),
            MAX_COMMENT_BYTES,
        ),
        (
            "import-text.text",
            CHAIR,
            Box::new(|v| Command::ImportText { text: v }),
            MAX_IMPORT_BYTES,
        ),
    ]
}

#[test]
fn every_text_field_is_refused_past_its_limit() {
    let fields = text_fields();
    assert_eq!(
        fields.len(),
        31,
        "a field was added: give it a limit and a case here"
    );
    for (field, actor, command, limit) in fields {
        let doc = negotiation();
        let before = doc.transact().state_vector();
        let over = command("x".repeat(limit + 1));
        let refused = run(&doc, actor, over).expect_err(field);
        assert_eq!(refused.code, "too-long", "{field}: {refused}");
        assert_eq!(refused.http_status(), 413);
        assert!(
            refused.message.contains(&limit.to_string()),
            "{field}: {refused}"
        );
        assert_eq!(doc.transact().state_vector(), before, "{field} wrote");
        // At the limit the field is no obstacle (the command may fail for other reasons:
        // no such paragraph, not a structured text).
        if let Err(other) = run(&doc, actor, command("x".repeat(limit))) {
            assert_ne!(other.code, "too-long", "{field} at its limit");
        }
    }
}

#[test]
fn limits_count_bytes_of_utf8() {
    let doc = negotiation();
    let relabel = |label: String| Command::RelabelParagraph {
        paragraph: "p1".into(),
        label,
    };
    // "é" is two bytes: half the limit in characters is already the whole limit.
    let at_limit = "é".repeat(MAX_LABEL_BYTES / 2);
    run(&doc, CHAIR, relabel(at_limit.clone())).expect("at the limit");
    assert_eq!(code(run(&doc, CHAIR, relabel(at_limit + "x"))), "too-long");
}

#[test]
fn what_becomes_a_paragraph_is_held_to_the_paragraph_limits() {
    // An imported paragraph's body and label, within a text under the import limit.
    let long_body = format!("# H\n[1] {}", "x".repeat(MAX_BODY_BYTES + 1));
    let long_label = format!("# H\n[{}] text", "x".repeat(MAX_LABEL_BYTES + 1));
    for text in [long_body, long_label] {
        let doc = Doc::with_client_id(1);
        assert_eq!(
            code(run(&doc, CHAIR, Command::ImportText { text })),
            "too-long"
        );
        assert!(schema::paragraphs(&doc.transact()).is_empty());
    }
    // An amendment's text, typed by its sponsors, becomes the body when accepted.
    let doc = negotiation();
    {
        let text = schema::amendment_text(&doc.transact(), "a1").expect("a1");
        let mut txn = doc.transact_mut();
        text.insert(&mut txn, 0, &"x".repeat(MAX_BODY_BYTES));
    }
    let accept = Command::Accept {
        amendment: "a1".into(),
        over_later_edits: false,
    };
    assert_eq!(code(run(&doc, CHAIR, accept)), "too-long");
    assert_eq!(
        schema::paragraph(&doc.transact(), "p1").expect("p1").body,
        "First paragraph."
    );
}
