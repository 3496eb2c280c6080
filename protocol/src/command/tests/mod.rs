//! The commands' unit tests, by area: who may ask (`roles`), what a lock freezes (`locks`),
//! paragraph commands (`paragraphs`), amendments (`amendments`), size limits (`limits`), and
//! how commands and refusals travel (`wire`). The helpers here build a small negotiation.

use yrs::{Array, Doc, Out, ReadTxn, Text, Transact};

use super::*;
use crate::policy::test_actors::{CHAIR, CHE, MEX, NGO};
use crate::schema::AmendmentStatus;

mod amendments;
mod limits;
mod locks;
mod paragraphs;
mod process;
mod revisions;
mod roles;
mod sponsorship;
mod wire;

fn run(doc: &Doc, actor: Actor<'_>, command: Command) -> Result<Outcome, CommandError> {
    let ctx = Context {
        actor,
        person: "someone",
        now_ms: 42,
    };
    execute(&mut doc.transact_mut(), ctx, &command)
}

fn code(result: Result<Outcome, CommandError>) -> ErrorCode {
    result.expect_err("refused").code
}

fn created(result: Result<Outcome, CommandError>) -> String {
    match result.expect("accepted") {
        Outcome::Created { id } => id,
        other => panic!("expected a new id, got {other:?}"),
    }
}

/// p1 "First paragraph." and p2 "Second one.", amendment a1 on p1 by MEX.
fn negotiation() -> Doc {
    let doc = Doc::with_client_id(1);
    // The delegations have joined: they may be invited to co-sponsor.
    let server = Actor {
        role: crate::session::Role::Facilitator,
        mission: crate::policy::SERVER_OWNER,
    };
    for mission in [MEX.mission, CHE.mission] {
        let record = Command::RecordMission {
            mission: mission.into(),
        };
        run(&doc, server, record).expect("recorded");
    }
    let add = |after: Option<&str>, label: &str, body: &str| Command::AddParagraph {
        after: after.map(String::from),
        label: label.into(),
        kind: ParagraphKind::Operative,
        parent: None,
        body: body.into(),
    };
    assert_eq!(
        created(run(&doc, CHAIR, add(None, "1", "First paragraph."))),
        "p1"
    );
    assert_eq!(
        created(run(&doc, CHAIR, add(Some("p1"), "2", "Second one."))),
        "p2"
    );
    let amend = Command::CreateAmendment {
        paragraph: "p1".into(),
        new_after: false,
        on_behalf_of: Some("G77 and China".into()),
        rationale: "Stronger.".into(),
    };
    assert_eq!(created(run(&doc, MEX, amend)), "a1");
    doc
}

fn lock(doc: &Doc, paragraph: &str) {
    let command = Command::Lock {
        paragraph: paragraph.into(),
        reason: "agreed ad ref".into(),
        status: None,
    };
    run(doc, CHAIR, command).expect("locked");
}
