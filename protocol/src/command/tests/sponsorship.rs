//! Invitations to co-sponsor wait for the invited mission's answer; decisions record who,
//! when and why; comments have replies and are resolved by their author or a facilitator.

use super::*;

fn invite(doc: &Doc, by: Actor<'_>, mission: &str) -> Result<Outcome, CommandError> {
    run(
        doc,
        by,
        Command::InviteSponsor {
            amendment: "a1".into(),
            mission: mission.into(),
        },
    )
}

fn answer(doc: &Doc, by: Actor<'_>, accept: bool) -> Result<Outcome, CommandError> {
    let amendment = "a1".into();
    let command = if accept {
        Command::AcceptInvitation { amendment }
    } else {
        Command::DeclineInvitation { amendment }
    };
    run(doc, by, command)
}

fn a1(doc: &Doc) -> schema::Amendment {
    schema::amendment(&doc.transact(), "a1").expect("a1")
}

#[test]
fn an_invitation_waits_for_the_invited_mission_to_accept_or_decline() {
    let doc = negotiation();
    assert_eq!(code(invite(&doc, MEX, "XYZ")), ErrorCode::UnknownMission);
    assert_eq!(code(invite(&doc, CHE, "MEX")), ErrorCode::NotTheAuthor);
    run(
        &doc,
        CHE,
        Command::Support {
            amendment: "a1".into(),
        },
    )
    .expect("supports");
    invite(&doc, MEX, "CHE").expect("invited");
    assert_eq!(code(invite(&doc, MEX, "CHE")), ErrorCode::AlreadyInvited);
    let pending = a1(&doc);
    assert_eq!(
        (pending.sponsors.clone(), pending.invited.clone()),
        (vec!["MEX".into()], vec!["CHE".into()])
    );
    // Only the invited mission answers.
    assert_eq!(code(answer(&doc, MEX, true)), ErrorCode::NotInvited);
    assert_eq!(code(answer(&doc, NGO, true)), ErrorCode::ForbiddenRole);
    answer(&doc, CHE, false).expect("declined");
    assert!(a1(&doc).invited.is_empty() && !a1(&doc).is_sponsored_by("CHE"));
    assert_eq!(
        code(answer(&doc, CHE, true)),
        ErrorCode::NotInvited,
        "answered already"
    );
    // The author may take an invitation back before it is answered.
    invite(&doc, MEX, "CHE").expect("invited again");
    run(
        &doc,
        MEX,
        Command::RemoveSponsor {
            amendment: "a1".into(),
            mission: "CHE".into(),
        },
    )
    .expect("taken back");
    assert!(a1(&doc).invited.is_empty());
    invite(&doc, MEX, "CHE").expect("invited a third time");
    answer(&doc, CHE, true).expect("accepted");
    let sponsored = a1(&doc);
    assert_eq!(sponsored.sponsors, ["MEX", "CHE"]);
    assert!(sponsored.invited.is_empty());
    assert!(
        sponsored.supporters.is_empty(),
        "a sponsor does not vote too"
    );
    assert_eq!(code(invite(&doc, MEX, "CHE")), ErrorCode::AlreadyASponsor);
    // And it may leave again.
    run(
        &doc,
        CHE,
        Command::RemoveSponsor {
            amendment: "a1".into(),
            mission: "CHE".into(),
        },
    )
    .expect("left");
    assert_eq!(a1(&doc).sponsors, ["MEX"]);
}

#[test]
fn the_server_alone_records_who_joined() {
    let doc = negotiation();
    let record = || Command::RecordMission {
        mission: "PHL".into(),
    };
    assert_eq!(code(run(&doc, CHAIR, record())), ErrorCode::ForbiddenRole);
    assert_eq!(code(run(&doc, MEX, record())), ErrorCode::ForbiddenRole);
    assert_eq!(schema::missions(&doc.transact()), ["CHE", "MEX"]);
}

#[test]
fn rejecting_and_reopening_say_why_and_every_decision_says_who_and_when() {
    let doc = negotiation();
    let reject = |reason: &str| Command::Reject {
        amendment: "a1".into(),
        reason: reason.into(),
    };
    assert_eq!(
        code(run(&doc, CHAIR, reject("  "))),
        ErrorCode::ReasonRequired
    );
    assert_eq!(
        code(run(&doc, MEX, reject("No."))),
        ErrorCode::ForbiddenRole
    );
    let reopen = |reason: &str| Command::Reopen {
        amendment: "a1".into(),
        reason: reason.into(),
    };
    assert_eq!(
        code(run(&doc, CHAIR, reopen("Again."))),
        ErrorCode::InvalidArgument,
        "it is open"
    );
    run(&doc, CHAIR, reject("Outside the mandate.")).expect("rejected");
    let decision = a1(&doc).decision.expect("a decision");
    assert_eq!(
        (
            decision.mission.as_str(),
            decision.person.as_str(),
            decision.at_ms,
            decision.reason.as_str(),
            decision.status
        ),
        (
            CHAIR.mission,
            "someone",
            42,
            "Outside the mandate.",
            Some(AmendmentStatus::Rejected)
        )
    );
    assert_eq!(
        code(run(&doc, CHAIR, reopen(""))),
        ErrorCode::ReasonRequired
    );
    lock(&doc, "p1");
    assert_eq!(
        code(run(&doc, CHAIR, reopen("Reconsidered."))),
        ErrorCode::ParagraphLocked
    );
    run(
        &doc,
        CHAIR,
        Command::Unlock {
            paragraph: "p1".into(),
            reason: "reopened".into(),
        },
    )
    .expect("unlocked");
    run(&doc, CHAIR, reopen("Reconsidered.")).expect("reopened");
    let reopened = a1(&doc);
    assert_eq!(reopened.status, AmendmentStatus::Open);
    assert_eq!(
        reopened.decision.map(|d| d.reason),
        Some("Reconsidered.".into())
    );
    run(
        &doc,
        CHAIR,
        Command::Accept {
            amendment: "a1".into(),
            over_later_edits: false,
        },
    )
    .expect("accepted");
    assert_eq!(
        a1(&doc).decision.and_then(|d| d.status),
        Some(AmendmentStatus::Accepted)
    );
}

#[test]
fn a_lock_may_set_the_status_it_records() {
    let doc = negotiation();
    let lock = |status| Command::Lock {
        paragraph: "p2".into(),
        reason: "agreed ad ref".into(),
        status: Some(status),
    };
    assert_eq!(
        code(run(&doc, CHAIR, lock(ParagraphStatus::AgreedPending))),
        ErrorCode::InvalidArgument
    );
    assert_eq!(
        code(run(&doc, CHAIR, lock(ParagraphStatus::Deleted))),
        ErrorCode::InvalidArgument
    );
    run(&doc, CHAIR, lock(ParagraphStatus::AgreedAdRef)).expect("locked");
    let p2 = schema::paragraph(&doc.transact(), "p2").expect("p2");
    assert_eq!(
        (p2.status, p2.is_locked()),
        (ParagraphStatus::AgreedAdRef, true)
    );
}

#[test]
fn comments_have_replies_and_are_resolved_by_their_author_or_a_facilitator() {
    let doc = negotiation();
    let comment = |text: &str, reply_to: Option<&str>| Command::Comment {
        paragraph: "p1".into(),
        text: text.into(),
        reply_to: reply_to.map(String::from),
    };
    assert_eq!(created(run(&doc, MEX, comment("Why?", None))), "c1");
    assert_eq!(
        code(run(&doc, CHE, comment("Because.", Some("c9")))),
        ErrorCode::UnknownComment
    );
    assert_eq!(
        created(run(&doc, CHE, comment("Because.", Some("c1")))),
        "c2"
    );
    let resolve = |c: &str| Command::ResolveComment {
        paragraph: "p1".into(),
        comment: c.into(),
    };
    assert_eq!(code(run(&doc, CHE, resolve("c1"))), ErrorCode::NotTheAuthor);
    assert_eq!(
        code(run(&doc, MEX, resolve("c7"))),
        ErrorCode::UnknownComment
    );
    assert_eq!(
        code(run(&doc, NGO, resolve("c1"))),
        ErrorCode::ForbiddenRole
    );
    run(&doc, MEX, resolve("c1")).expect("resolved by its author");
    run(&doc, CHAIR, resolve("c2")).expect("resolved by a facilitator");
    let thread = schema::comments(&doc.transact(), "p1");
    assert_eq!(thread[1].reply_to.as_deref(), Some("c1"));
    assert_eq!(
        thread[0].resolved.as_ref().map(|d| d.mission.as_str()),
        Some("MEX")
    );
    assert_eq!(
        thread[1].resolved.as_ref().map(|d| d.mission.as_str()),
        Some(CHAIR.mission)
    );
}
