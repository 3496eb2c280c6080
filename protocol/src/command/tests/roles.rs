//! Who may ask for what: observers nothing, delegations no facilitator command, and only an amendment's author or sponsors what is theirs.

use super::*;

#[test]
fn observers_may_do_nothing() {
    let doc = negotiation();
    for command in [
        Command::Comment {
            paragraph: "p1".into(),
            text: "hi".into(),
            reply_to: None,
        },
        Command::Support {
            amendment: "a1".into(),
        },
        Command::CreateAmendment {
            paragraph: "p1".into(),
            new_after: false,
            on_behalf_of: None,
            rationale: String::new(),
        },
    ] {
        assert_eq!(code(run(&doc, NGO, command)), "forbidden-role");
    }
}

#[test]
fn facilitator_commands_refuse_delegations() {
    let doc = negotiation();
    let commands = [
        Command::AddParagraph {
            after: None,
            label: "0".into(),
            kind: ParagraphKind::Heading,
            parent: None,
            body: String::new(),
        },
        Command::MoveParagraph {
            paragraph: "p2".into(),
            after: None,
        },
        Command::SplitParagraph {
            paragraph: "p1".into(),
            at: 5,
            label: "1bis".into(),
        },
        Command::RelabelParagraph {
            paragraph: "p1".into(),
            label: "1alt".into(),
        },
        Command::DeleteParagraph {
            paragraph: "p2".into(),
        },
        Command::SetStatus {
            paragraph: "p1".into(),
            status: ParagraphStatus::AgreedAdRef,
            pending: Vec::new(),
        },
        Command::Lock {
            paragraph: "p1".into(),
            reason: "x".into(),
            status: None,
        },
        Command::Unlock {
            paragraph: "p1".into(),
            reason: "x".into(),
        },
        Command::Accept {
            amendment: "a1".into(),
            over_later_edits: false,
        },
        Command::Reject {
            amendment: "a1".into(),
            reason: "not agreed".into(),
        },
    ];
    for command in commands {
        assert_eq!(
            code(run(&doc, MEX, command.clone())),
            "forbidden-role",
            "{command:?}"
        );
    }
}

#[test]
fn amendment_commands_refuse_the_wrong_mission() {
    let doc = negotiation();
    let cases = [
        (
            Command::InviteSponsor {
                amendment: "a1".into(),
                mission: "CHE".into(),
            },
            "not-the-author",
        ),
        (
            Command::Withdraw {
                amendment: "a1".into(),
            },
            "not-the-author",
        ),
        (
            Command::RemoveSponsor {
                amendment: "a1".into(),
                mission: "EU".into(),
            },
            "not-the-author",
        ),
    ];
    for (command, expected) in cases {
        assert_eq!(
            code(run(&doc, CHE, command.clone())),
            expected,
            "{command:?}"
        );
    }
    assert_eq!(
        code(run(
            &doc,
            MEX,
            Command::Support {
                amendment: "a1".into()
            }
        )),
        "sponsor-cannot-vote"
    );
}
