//! A lock freezes every change to its paragraph; closed amendments and tombstones refuse what would change them.

use super::*;

#[test]
fn locked_paragraphs_and_closed_amendments_are_refused() {
    let doc = negotiation();
    lock(&doc, "p1");
    let on_locked = [
        (
            CHAIR,
            Command::SplitParagraph {
                paragraph: "p1".into(),
                at: 5,
                label: "1bis".into(),
            },
        ),
        (
            CHAIR,
            Command::DeleteParagraph {
                paragraph: "p1".into(),
            },
        ),
        (
            CHAIR,
            Command::Lock {
                paragraph: "p1".into(),
                reason: "again".into(),
                status: None,
            },
        ),
        (
            CHAIR,
            Command::Accept {
                amendment: "a1".into(),
                over_later_edits: false,
            },
        ),
        (
            CHE,
            Command::CreateAmendment {
                paragraph: "p1".into(),
                new_after: false,
                on_behalf_of: None,
                rationale: String::new(),
            },
        ),
    ];
    for (actor, command) in on_locked {
        assert_eq!(
            code(run(&doc, actor, command.clone())),
            "paragraph-locked",
            "{command:?}"
        );
    }
    // Unlocking needs a reason; then the amendment can be rejected, and is closed after.
    assert_eq!(
        code(run(
            &doc,
            CHAIR,
            Command::Unlock {
                paragraph: "p1".into(),
                reason: " ".into()
            }
        )),
        "reason-required"
    );
    run(
        &doc,
        CHAIR,
        Command::Unlock {
            paragraph: "p1".into(),
            reason: "reopened at the request of CHE".into(),
        },
    )
    .expect("unlocked");
    run(
        &doc,
        CHAIR,
        Command::Reject {
            amendment: "a1".into(),
            reason: "not agreed".into(),
        },
    )
    .expect("rejected");
    for (actor, command) in [
        (
            CHAIR,
            Command::Accept {
                amendment: "a1".into(),
                over_later_edits: false,
            },
        ),
        (
            MEX,
            Command::Withdraw {
                amendment: "a1".into(),
            },
        ),
        (
            CHE,
            Command::Support {
                amendment: "a1".into(),
            },
        ),
        (
            MEX,
            Command::InviteSponsor {
                amendment: "a1".into(),
                mission: "EU".into(),
            },
        ),
    ] {
        assert_eq!(
            code(run(&doc, actor, command.clone())),
            "amendment-closed",
            "{command:?}"
        );
    }
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
            Command::SetStatus {
                paragraph: "p2".into(),
                status: ParagraphStatus::Deleted,
                pending: Vec::new(),
            }
        )),
        "paragraph-deleted"
    );
    assert_eq!(
        code(run(
            &doc,
            CHE,
            Command::Comment {
                paragraph: "p9".into(),
                text: "?".into(),
                reply_to: None,
            }
        )),
        "unknown-paragraph"
    );
}

/// Everything a facilitator or a delegation can ask about a locked paragraph that would
/// change it (status, body, label, position, splitting, deletion, a second lock).
fn changes_to(paragraph: &str) -> Vec<(Actor<'static>, Command)> {
    let p = || paragraph.to_string();
    let mut changes: Vec<(Actor<'static>, Command)> = [
        ParagraphStatus::Open,
        ParagraphStatus::AgreedAdRef,
        ParagraphStatus::Agreed,
        ParagraphStatus::Held,
        ParagraphStatus::Deleted,
    ]
    .into_iter()
    .map(|status| {
        (
            CHAIR,
            Command::SetStatus {
                paragraph: p(),
                status,
                pending: if status == ParagraphStatus::AgreedPending {
                    vec!["EU".into()]
                } else {
                    Vec::new()
                },
            },
        )
    })
    .collect();
    changes.extend([
        (
            CHAIR,
            Command::RelabelParagraph {
                paragraph: p(),
                label: "1alt".into(),
            },
        ),
        (
            CHAIR,
            Command::MoveParagraph {
                paragraph: p(),
                after: Some("p2".into()),
            },
        ),
        (
            CHAIR,
            Command::SplitParagraph {
                paragraph: p(),
                at: 5,
                label: "1bis".into(),
            },
        ),
        (CHAIR, Command::DeleteParagraph { paragraph: p() }),
        (
            CHAIR,
            Command::Lock {
                paragraph: p(),
                reason: "again".into(),
                status: None,
            },
        ),
        (
            CHAIR,
            Command::Accept {
                amendment: "a1".into(),
                over_later_edits: false,
            },
        ),
        (
            CHE,
            Command::CreateAmendment {
                paragraph: p(),
                new_after: false,
                on_behalf_of: None,
                rationale: String::new(),
            },
        ),
    ]);
    changes
}

#[test]
fn every_change_to_a_locked_paragraph_is_refused_and_changes_nothing() {
    let doc = negotiation();
    lock(&doc, "p1");
    let before = (
        schema::paragraphs(&doc.transact()),
        schema::amendments(&doc.transact()),
    );
    for (actor, command) in changes_to("p1") {
        assert_eq!(
            code(run(&doc, actor, command.clone())),
            "paragraph-locked",
            "{command:?}"
        );
    }
    let after = (
        schema::paragraphs(&doc.transact()),
        schema::amendments(&doc.transact()),
    );
    assert_eq!(after, before);
    // Unlocked, the same requests are accepted again (one of them, to show the lock was
    // the only obstacle).
    run(
        &doc,
        CHAIR,
        Command::Unlock {
            paragraph: "p1".into(),
            reason: "reopened".into(),
        },
    )
    .expect("unlocked");
    run(
        &doc,
        CHAIR,
        Command::SetStatus {
            paragraph: "p1".into(),
            status: ParagraphStatus::Deleted,
            pending: Vec::new(),
        },
    )
    .expect("deleted once unlocked");
}
