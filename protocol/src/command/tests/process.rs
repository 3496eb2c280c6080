//! The process: rounds and their programme, readings and the pointer, silence procedures,
//! notices, and the progress trend the commands keep.

use super::*;
use crate::policy::SERVER_OWNER;
use crate::process::{
    read_paragraphs, Attachment, ItemKind, Notice, ProcessState, ProgrammeDay, ProgrammeItem,
    SilenceOutcome,
};
use crate::session::Role;

const SERVER: Actor<'static> = Actor {
    role: Role::Facilitator,
    mission: SERVER_OWNER,
};

fn run_at(
    doc: &Doc,
    actor: Actor<'_>,
    now_ms: u64,
    command: Command,
) -> Result<Outcome, CommandError> {
    let ctx = Context {
        actor,
        person: "someone",
        now_ms,
    };
    execute(&mut doc.transact_mut(), ctx, &command)
}

fn process(doc: &Doc) -> ProcessState {
    ProcessState::read(&doc.transact())
}

fn day(date: &str, titles: &[&str]) -> ProgrammeDay {
    ProgrammeDay {
        date: date.into(),
        items: titles
            .iter()
            .map(|t| ProgrammeItem {
                kind: ItemKind::Reading,
                title: (*t).into(),
                theme: None,
                paragraphs: vec!["p1".into()],
                time: "10:00-13:00".into(),
            })
            .collect(),
    }
}

fn round(programme: Vec<ProgrammeDay>) -> Command {
    Command::CreateRound {
        name: "Third round".into(),
        starts_on: "2018-04-03".into(),
        ends_on: "2018-04-06".into(),
        place: "Conference Room 2".into(),
        programme,
    }
}

/// The negotiation with a heading h (p3) over a new paragraph p4, after p2.
fn with_section() -> Doc {
    let doc = negotiation();
    for (after, label, kind, parent) in [
        ("p2", "Objective 1", ParagraphKind::Heading, None),
        ("p3", "3", ParagraphKind::Operative, Some("p3")),
    ] {
        run(
            &doc,
            CHAIR,
            Command::AddParagraph {
                after: Some(after.into()),
                label: label.into(),
                kind,
                parent: parent.map(String::from),
                body: format!("Text of {label}."),
            },
        )
        .expect("added");
    }
    doc
}

#[test]
fn a_round_holds_a_checked_programme_and_marks_the_item_under_way() {
    let doc = negotiation();
    let id = created(run(
        &doc,
        CHAIR,
        round(vec![day("2018-04-03", &["First reading"])]),
    ));
    assert_eq!(id, "round1");
    for (who, expected) in [
        (MEX, ErrorCode::ForbiddenRole),
        (NGO, ErrorCode::ForbiddenRole),
    ] {
        assert_eq!(code(run(&doc, who, round(Vec::new()))), expected);
    }
    for bad in [
        vec![day("2018-04-07", &["After the round"])],
        vec![day("2018-04-31", &["No such day"])],
        vec![day("2018-04-04", &["b"]), day("2018-04-03", &["a"])],
        vec![day("2018-04-03", &["  "])],
    ] {
        assert_eq!(
            code(run(&doc, CHAIR, round(bad))),
            ErrorCode::InvalidArgument
        );
    }
    let backwards = Command::CreateRound {
        name: "Backwards".into(),
        starts_on: "2018-04-06".into(),
        ends_on: "2018-04-03".into(),
        place: String::new(),
        programme: Vec::new(),
    };
    assert_eq!(
        code(run(&doc, CHAIR, backwards)),
        ErrorCode::InvalidArgument
    );
    let mark = |day, item| Command::SetCurrentItem {
        round: id.clone(),
        day,
        item,
    };
    run(&doc, CHAIR, mark(Some(0), Some(0))).expect("marked");
    assert_eq!(process(&doc).rounds[0].current, Some((0, 0)));
    assert_eq!(
        code(run(&doc, CHAIR, mark(Some(0), Some(1)))),
        ErrorCode::InvalidArgument
    );
    assert_eq!(
        code(run(&doc, MEX, mark(None, None))),
        ErrorCode::ForbiddenRole
    );
    // A programme redefined without that item unmarks it.
    let programme = Command::SetProgramme {
        round: id.clone(),
        programme: vec![day("2018-04-04", &[])],
    };
    run(&doc, CHAIR, programme).expect("redefined");
    let round = &process(&doc).rounds[0];
    assert_eq!((round.current, round.programme.len()), (None, 1));
    let unknown = Command::SetCurrentItem {
        round: "round9".into(),
        day: None,
        item: None,
    };
    assert_eq!(code(run(&doc, CHAIR, unknown)), ErrorCode::UnknownRound);
}

#[test]
fn a_reading_moves_its_pointer_within_its_range_and_claims_what_is_proposed_during_it() {
    let doc = with_section();
    let start = |from: &str, to: &str| Command::StartReading {
        name: "Second reading".into(),
        round: None,
        from: Some(from.into()),
        to: Some(to.into()),
    };
    assert_eq!(
        code(run(&doc, CHAIR, start("p3", "p2"))),
        ErrorCode::InvalidArgument
    );
    assert_eq!(
        code(run(&doc, MEX, start("p2", "p3"))),
        ErrorCode::ForbiddenRole
    );
    // From paragraph 2 to the heading: its section comes along.
    let reading = created(run(&doc, CHAIR, start("p2", "p3")));
    assert_eq!(
        code(run(&doc, CHAIR, start("p1", "p2"))),
        ErrorCode::ReadingInProgress
    );
    let point = |to: &str| Command::MovePointer {
        reading: reading.clone(),
        paragraph: to.into(),
    };
    assert_eq!(
        code(run(&doc, CHAIR, point("p1"))),
        ErrorCode::InvalidArgument
    );
    assert_eq!(code(run(&doc, MEX, point("p2"))), ErrorCode::ForbiddenRole);
    run_at(&doc, CHAIR, 1_000, point("p2")).expect("moved");
    run_at(&doc, CHAIR, 2_000, point("p3")).expect("moved to the heading");
    let amend = |paragraph: &str| Command::CreateAmendment {
        paragraph: paragraph.into(),
        new_after: false,
        on_behalf_of: None,
        rationale: String::new(),
    };
    let during = created(run(&doc, MEX, amend("p4")));
    let outside = created(run(&doc, CHE, amend("p1")));
    let txn = doc.transact();
    assert_eq!(
        schema::amendment(&txn, &during).and_then(|a| a.reading),
        Some(reading.clone())
    );
    assert_eq!(
        schema::amendment(&txn, &outside).and_then(|a| a.reading),
        None
    );
    let state = ProcessState::read(&txn);
    let r = &state.readings[0];
    assert_eq!(r.pointer.as_deref(), Some("p3"));
    assert_eq!(
        r.visits.iter().map(|v| v.at_ms).collect::<Vec<_>>(),
        [1_000, 2_000]
    );
    assert_eq!(read_paragraphs(&txn, r), ["p2", "p3", "p4"]);
    drop(txn);
    run(
        &doc,
        CHAIR,
        Command::EndReading {
            reading: reading.clone(),
        },
    )
    .expect("ended");
    assert_eq!(
        code(run(&doc, CHAIR, point("p2"))),
        ErrorCode::ReadingClosed
    );
    let after = created(run(&doc, MEX, amend("p2")));
    assert_eq!(
        schema::amendment(&doc.transact(), &after).and_then(|a| a.reading),
        None,
        "no reading is under way"
    );
    // Another reading may start now.
    created(run(&doc, CHAIR, start("p1", "p2")));
}

fn silence_on(doc: &Doc, paragraphs: &[&str], seconds: u64) -> String {
    created(run_at(
        doc,
        CHAIR,
        10_000,
        Command::StartSilence {
            revision: None,
            paragraphs: paragraphs.iter().map(|p| (*p).into()).collect(),
            seconds: Some(seconds),
        },
    ))
}

#[test]
fn an_unbroken_silence_adopts_and_locks_its_paragraphs_at_the_deadline_once() {
    let doc = with_section();
    let id = silence_on(&doc, &["p3"], 60);
    let state = process(&doc);
    let silence = &state.silences[0];
    assert_eq!(
        (silence.paragraphs.clone(), silence.deadline_ms),
        (vec!["p4".into()], 70_000)
    );
    // Every mission is told.
    let notice = state.notices.last().expect("a notice");
    assert!(notice.to.is_empty() && notice.silence.as_deref() == Some(id.as_str()));
    assert!(notice.subject.contains("paragraph 3"), "{}", notice.subject);
    // Locked meanwhile, and nobody lifts that lock.
    assert!(schema::paragraph(&doc.transact(), "p4")
        .expect("p4")
        .is_locked());
    let unlock = Command::Unlock {
        paragraph: "p4".into(),
        reason: "change of plan".into(),
    };
    assert_eq!(code(run(&doc, CHAIR, unlock)), ErrorCode::UnderSilence);
    assert_eq!(
        code(run_at(
            &doc,
            CHAIR,
            20_000,
            Command::StartSilence {
                revision: None,
                paragraphs: vec!["p4".into()],
                seconds: None,
            }
        )),
        ErrorCode::UnderSilence
    );
    let conclude = || Command::ConcludeSilence {
        silence: id.clone(),
    };
    // Only the server concludes, and only at the deadline.
    assert_eq!(
        code(run_at(&doc, CHAIR, 80_000, conclude())),
        ErrorCode::ForbiddenRole
    );
    assert_eq!(
        code(run_at(&doc, SERVER, 69_999, conclude())),
        ErrorCode::InvalidArgument
    );
    run_at(&doc, SERVER, 70_000, conclude()).expect("concluded");
    let p4 = schema::paragraph(&doc.transact(), "p4").expect("p4");
    assert_eq!(p4.status, ParagraphStatus::Agreed);
    assert!(p4
        .lock
        .expect("locked")
        .reason
        .contains("adopted by silence"));
    let state = process(&doc);
    assert_eq!(state.silences[0].outcome, Some(SilenceOutcome::Adopted));
    assert!(state
        .notices
        .last()
        .expect("told")
        .subject
        .contains("adopted"));
    assert_eq!(
        code(run_at(&doc, SERVER, 70_001, conclude())),
        ErrorCode::SilenceClosed,
        "concluded once"
    );
    let late = Command::BreakSilence {
        silence: id,
        statement: "Too late.".into(),
    };
    assert_eq!(
        code(run_at(&doc, MEX, 70_001, late)),
        ErrorCode::SilenceClosed
    );
}

#[test]
fn a_broken_silence_adopts_nothing_and_records_who_broke_it() {
    let doc = negotiation();
    lock(&doc, "p2");
    let id = silence_on(&doc, &["p1", "p2"], 60);
    assert_eq!(
        process(&doc).silences[0].locked,
        ["p1"],
        "p2 was locked already"
    );
    let statement = |text: &str| Command::BreakSilence {
        silence: id.clone(),
        statement: text.into(),
    };
    assert_eq!(
        code(run(&doc, CHAIR, statement("No."))),
        ErrorCode::ForbiddenRole
    );
    assert_eq!(
        code(run(&doc, NGO, statement("No."))),
        ErrorCode::ForbiddenRole
    );
    assert_eq!(
        code(run(&doc, MEX, statement("  "))),
        ErrorCode::ReasonRequired
    );
    run_at(
        &doc,
        MEX,
        30_000,
        statement("Mexico cannot join consensus on 1."),
    )
    .expect("broken");
    assert_eq!(
        code(run(&doc, MEX, statement("Again."))),
        ErrorCode::AlreadyBroken
    );
    run_at(
        &doc,
        SERVER,
        70_000,
        Command::ConcludeSilence { silence: id },
    )
    .expect("concluded");
    let txn = doc.transact();
    let (p1, p2) = (
        schema::paragraph(&txn, "p1").expect("p1"),
        schema::paragraph(&txn, "p2").expect("p2"),
    );
    assert_eq!((p1.status, p1.is_locked()), (ParagraphStatus::Open, false));
    assert_eq!(p2.lock.expect("still locked").reason, "agreed ad ref");
    let state = ProcessState::read(&txn);
    let silence = &state.silences[0];
    assert_eq!(silence.outcome, Some(SilenceOutcome::Broken));
    let b = &silence.breaks[0];
    assert_eq!((b.mission.as_str(), b.at_ms), (MEX.mission, 30_000));
    assert!(state
        .notices
        .last()
        .expect("told")
        .body
        .contains(MEX.mission));
}

#[test]
fn only_the_latest_revision_as_it_still_reads_goes_under_silence() {
    let doc = negotiation();
    let publish = |name: &str| Command::PublishRevision {
        name: name.into(),
        note: None,
    };
    let r1 = created(run(&doc, CHAIR, publish("Zero draft")));
    let on = |revision: &str| Command::StartSilence {
        revision: Some(revision.into()),
        paragraphs: Vec::new(),
        seconds: Some(5),
    };
    let body = schema::body_text(&doc.transact(), "p2").expect("body");
    body.insert(&mut doc.transact_mut(), 0, "A ");
    assert_eq!(code(run(&doc, CHAIR, on(&r1))), ErrorCode::BodyMovedOn);
    let r2 = created(run(&doc, CHAIR, publish("Rev 1")));
    assert_eq!(code(run(&doc, CHAIR, on(&r1))), ErrorCode::InvalidArgument);
    assert_eq!(code(run(&doc, CHAIR, on("r9"))), ErrorCode::UnknownRevision);
    let both = Command::StartSilence {
        revision: Some(r2.clone()),
        paragraphs: vec!["p1".into()],
        seconds: None,
    };
    assert_eq!(code(run(&doc, CHAIR, both)), ErrorCode::InvalidArgument);
    created(run(&doc, CHAIR, on(&r2)));
    let state = process(&doc);
    assert_eq!(state.silences[0].paragraphs, ["p1", "p2"]);
    let notice = state.notices.last().expect("told");
    assert_eq!(notice.attachments, [Attachment::Revision { revision: r2 }]);
    assert!(notice.subject.contains("Rev 1"));
}

#[test]
fn notices_reach_the_missions_they_are_addressed_to_and_record_who_read_them() {
    let doc = negotiation();
    let notice = |to: &[&str], attachments: Vec<Attachment>| Command::PublishNotice {
        subject: "Programme of the third round".into(),
        body: "Dear colleagues,\n\nPlease find attached ...".into(),
        to: to.iter().map(|m| (*m).into()).collect(),
        attachments,
        round: None,
        revision: None,
    };
    assert_eq!(
        code(run(&doc, MEX, notice(&[], Vec::new()))),
        ErrorCode::ForbiddenRole
    );
    let export = |format: &str, revision: Option<&str>| Attachment::Export {
        format: format.into(),
        revision: revision.map(String::from),
    };
    assert_eq!(
        code(run(&doc, CHAIR, notice(&[], vec![export("pdf", None)]))),
        ErrorCode::InvalidArgument
    );
    assert_eq!(
        code(run(
            &doc,
            CHAIR,
            notice(&[], vec![export("docx", Some("r1"))])
        )),
        ErrorCode::UnknownRevision
    );
    assert_eq!(
        code(run(&doc, CHAIR, notice(&["\u{202e}MEX"], Vec::new()))),
        ErrorCode::InvalidArgument
    );
    // A mission that never joined (a typo, another case) is refused, not silently left out.
    for unknown in ["MXE", "mex"] {
        assert_eq!(
            code(run(
                &doc,
                CHAIR,
                notice(&[MEX.mission, unknown], Vec::new())
            )),
            ErrorCode::UnknownMission,
            "{unknown}"
        );
    }
    let to_mex = created(run(
        &doc,
        CHAIR,
        notice(&[MEX.mission, MEX.mission], vec![export("docx", None)]),
    ));
    let read = |id: &str| Command::ReadNotice { notice: id.into() };
    assert_eq!(code(run(&doc, CHE, read(&to_mex))), ErrorCode::NotAddressed);
    assert_eq!(
        code(run(&doc, NGO, read(&to_mex))),
        ErrorCode::ForbiddenRole
    );
    assert_eq!(
        code(run(&doc, MEX, read("notice9"))),
        ErrorCode::UnknownNotice
    );
    run_at(&doc, MEX, 5_000, read(&to_mex)).expect("read");
    run_at(&doc, MEX, 6_000, read(&to_mex)).expect("read again: nothing new");
    let to_all = created(run(&doc, CHAIR, notice(&[], Vec::new())));
    run(&doc, CHE, read(&to_all)).expect("read");
    let state = process(&doc);
    let kept: &Notice = &state.notices[0];
    assert_eq!(kept.to, [MEX.mission], "named once");
    assert_eq!(kept.read_by.get(MEX.mission), Some(&5_000));
    let for_che = state.clone().notices_for(Some(CHE.mission));
    assert_eq!(for_che.notices.len(), 1, "only the one to all");
    assert!(for_che.notices[0].read_by.keys().all(|m| m == CHE.mission));
    assert_eq!(state.notices_for(None).notices.len(), 2);
}

#[test]
fn commands_that_move_the_counts_keep_the_day_s_trend_point() {
    let doc = negotiation();
    let day = 86_400_000;
    let status = |p: &str, status: ParagraphStatus| Command::SetStatus {
        paragraph: p.into(),
        status,
        pending: Vec::new(),
    };
    run_at(&doc, CHAIR, day, status("p1", ParagraphStatus::AgreedAdRef)).expect("set");
    run_at(&doc, CHAIR, 3 * day, status("p2", ParagraphStatus::Held)).expect("set");
    // A comment moves nothing: no point for that day.
    run_at(
        &doc,
        MEX,
        4 * day,
        Command::Comment {
            paragraph: "p1".into(),
            text: "Noted.".into(),
            reply_to: None,
        },
    )
    .expect("commented");
    let trend = crate::progress::trend(&doc.transact());
    let days: Vec<&str> = trend.iter().map(|p| p.day.as_str()).collect();
    assert_eq!(days, ["1970-01-01", "1970-01-02", "1970-01-04"]);
    let last = trend.last().expect("a point");
    assert_eq!(last.by_status.get("held"), Some(&1));
    assert_eq!(last.by_status.get("agreed-ad-ref"), Some(&1));
    assert_eq!((last.bracketed, last.open_amendments), (1, 1));
}

#[test]
fn an_objective_brings_its_lettered_actions_and_a_heading_its_section() {
    let doc = with_section();
    for (after, label) in [("p4", "18"), ("p5", "18(a)"), ("p6", "180")] {
        run(
            &doc,
            CHAIR,
            Command::AddParagraph {
                after: Some(after.into()),
                label: label.into(),
                kind: ParagraphKind::Operative,
                parent: Some("p3".into()),
                body: "Text.".into(),
            },
        )
        .expect("added");
    }
    let paragraphs = schema::paragraphs(&doc.transact());
    assert_eq!(crate::process::under(&paragraphs, "p5"), ["p5", "p6"]);
    assert_eq!(
        crate::process::under(&paragraphs, "p3"),
        ["p3", "p4", "p5", "p6", "p7"]
    );
    assert_eq!(crate::process::under(&paragraphs, "p1"), ["p1"]);
    // A reading to objective 18 covers 18(a), not 180.
    let reading = created(run(
        &doc,
        CHAIR,
        Command::StartReading {
            name: "First reading".into(),
            round: None,
            from: Some("p1".into()),
            to: Some("p5".into()),
        },
    ));
    let state = process(&doc);
    let r = state
        .readings
        .iter()
        .find(|r| r.id == reading)
        .expect("reading");
    let txn = doc.transact();
    assert!(crate::process::covers(&txn, r, "p6"));
    assert!(!crate::process::covers(&txn, r, "p7"));
}

/// What one command writes, as the update it makes.
fn written(doc: &Doc, actor: Actor<'_>, command: Command) -> usize {
    let mut txn = doc.transact_mut();
    let ctx = Context {
        actor,
        person: "someone",
        now_ms: 42,
    };
    execute(&mut txn, ctx, &command).expect("accepted");
    txn.encode_update_v1().len()
}

/// The document keeps every value a map ever held: what changes often must not rewrite a large
/// value. A pointer move, a read mark, the item under way and a break of silence each write a
/// small entry, however long the reading, the letter, the programme or the procedure.
#[test]
fn frequent_process_changes_write_small_entries_not_whole_values() {
    let doc = with_section();
    let reading = created(run(
        &doc,
        CHAIR,
        Command::StartReading {
            name: "First reading".into(),
            round: None,
            from: None,
            to: None,
        },
    ));
    let point = |to: &str| Command::MovePointer {
        reading: reading.clone(),
        paragraph: to.into(),
    };
    for i in 0..300 {
        run(&doc, CHAIR, point(if i % 2 == 0 { "p1" } else { "p2" })).expect("moved");
    }
    assert!(
        written(&doc, CHAIR, point("p4")) < 200,
        "a move after 300 others"
    );
    assert_eq!(process(&doc).readings[0].visits.len(), 301);
    assert_eq!(process(&doc).readings[0].pointer.as_deref(), Some("p4"));

    let long = "Dear colleagues, ".repeat(3_000);
    let notice = created(run(
        &doc,
        CHAIR,
        Command::PublishNotice {
            subject: "A long letter".into(),
            body: long,
            to: Vec::new(),
            attachments: Vec::new(),
            round: None,
            revision: None,
        },
    ));
    assert!(
        written(
            &doc,
            MEX,
            Command::ReadNotice {
                notice: notice.clone()
            }
        ) < 200
    );
    assert_eq!(process(&doc).notices[0].read_by.get(MEX.mission), Some(&42));

    let days: Vec<ProgrammeDay> = (3..=6)
        .map(|d| {
            day(
                &format!("2018-04-0{d}"),
                &["A long item title of the programme"; 100],
            )
        })
        .collect();
    let round_id = created(run(&doc, CHAIR, round(days)));
    let mark = Command::SetCurrentItem {
        round: round_id,
        day: Some(2),
        item: Some(50),
    };
    assert!(written(&doc, CHAIR, mark) < 200, "the item under way");
    assert_eq!(process(&doc).rounds[0].current, Some((2, 50)));

    run(&doc, CHAIR, Command::EndReading { reading }).expect("ended");
    let ended = &process(&doc).readings[0];
    assert_eq!((ended.visits.len(), ended.pointer.as_deref()), (301, None));

    let silence = silence_on(&doc, &["p1", "p2", "p4"], 60);
    let statement = Command::BreakSilence {
        silence,
        statement: "No.".into(),
    };
    assert!(written(&doc, MEX, statement) < 200);
    assert_eq!(process(&doc).silences[0].breaks.len(), 1);
}

/// Every new field has its limit: an oversized one is refused before anything is looked up.
#[test]
fn oversized_process_fields_are_refused_too_long() {
    use crate::command::limits::{MAX_ATTACHMENTS, MAX_PROGRAMME_ITEMS};
    let doc = negotiation();
    let big = |n: usize| "x".repeat(n);
    let many_days =
        vec![day("2018-04-03", &["t"; 1]); crate::command::limits::MAX_PROGRAMME_DAYS + 1];
    let many_items = vec![ProgrammeDay {
        date: "2018-04-03".into(),
        items: vec![
            ProgrammeItem {
                kind: ItemKind::Other,
                title: "t".into(),
                theme: None,
                paragraphs: Vec::new(),
                time: String::new(),
            };
            MAX_PROGRAMME_ITEMS + 1
        ],
    }];
    let notice = |subject: String, body: String, attachments: usize| Command::PublishNotice {
        subject,
        body,
        to: Vec::new(),
        attachments: vec![
            Attachment::Revision {
                revision: "r1".into()
            };
            attachments
        ],
        round: None,
        revision: None,
    };
    for (what, command) in [
        (
            "round name",
            Command::CreateRound {
                name: big(200),
                starts_on: "2018-04-03".into(),
                ends_on: "2018-04-06".into(),
                place: String::new(),
                programme: Vec::new(),
            },
        ),
        ("programme days", round(many_days)),
        ("programme items", round(many_items)),
        ("item title", round(vec![day("2018-04-03", &[&big(2_000)])])),
        (
            "reading id",
            Command::MovePointer {
                reading: big(100),
                paragraph: "p1".into(),
            },
        ),
        (
            "statement",
            Command::BreakSilence {
                silence: "silence1".into(),
                statement: big(20_000),
            },
        ),
        (
            "silence paragraphs",
            Command::StartSilence {
                revision: None,
                paragraphs: vec!["p1".into(); 5_001],
                seconds: None,
            },
        ),
        ("subject", notice(big(2_000), "b".into(), 0)),
        ("body", notice("s".into(), big(200_000), 0)),
        (
            "attachments",
            notice("s".into(), "b".into(), MAX_ATTACHMENTS + 1),
        ),
        (
            "comment reply",
            Command::Comment {
                paragraph: "p1".into(),
                text: "t".into(),
                reply_to: Some(big(100)),
            },
        ),
        (
            "reopen reason",
            Command::Reopen {
                amendment: "a1".into(),
                reason: big(2_000),
            },
        ),
    ] {
        assert_eq!(
            code(run(&doc, CHAIR, command)),
            ErrorCode::TooLong,
            "{what}"
        );
    }
}

#[test]
fn adopted_text_lets_the_proposals_still_open_on_it_lapse_and_no_others() {
    let doc = with_section();
    let amend = |paragraph: &str| {
        created(run(
            &doc,
            MEX,
            Command::CreateAmendment {
                paragraph: paragraph.into(),
                new_after: false,
                on_behalf_of: None,
                rationale: "Clarity.".into(),
            },
        ))
    };
    let on_adopted = amend("p4");
    let elsewhere = amend("p2");
    let id = silence_on(&doc, &["p3"], 60);
    run_at(
        &doc,
        SERVER,
        70_000,
        Command::ConcludeSilence {
            silence: id.clone(),
        },
    )
    .expect("concluded");
    let txn = doc.transact();
    let lapsed = schema::amendment(&txn, &on_adopted).expect("amendment");
    assert_eq!(lapsed.status, AmendmentStatus::Rejected);
    let decision = lapsed.decision.expect("a decision");
    assert_eq!(decision.mission, SERVER_OWNER);
    assert!(decision.reason.contains(&id), "{}", decision.reason);
    let open = schema::amendment(&txn, &elsewhere).expect("amendment");
    assert_eq!(open.status, AmendmentStatus::Open);
}

#[test]
fn the_item_under_way_stays_marked_where_a_redefined_programme_moved_it() {
    let doc = with_section();
    let id = created(run(
        &doc,
        CHAIR,
        round(vec![day("2018-04-03", &["Objective 1"])]),
    ));
    let mark = Command::SetCurrentItem {
        round: id.clone(),
        day: Some(0),
        item: Some(0),
    };
    run(&doc, CHAIR, mark).expect("marked");
    let redefine = |titles: &[&str]| Command::SetProgramme {
        round: id.clone(),
        programme: vec![day("2018-04-03", titles)],
    };
    assert_eq!(
        code(run(
            &doc,
            MEX,
            redefine(&["General comments", "Objective 1"])
        )),
        ErrorCode::ForbiddenRole
    );
    // An item inserted before it: "now" is still "Objective 1", at its new place.
    run(&doc, CHAIR, redefine(&["General comments", "Objective 1"])).expect("redefined");
    assert_eq!(process(&doc).rounds[0].current, Some((0, 1)));
    // Two items of one title on that day: "now" stays on the one it was on.
    let twice = ["Objective 1", "A", "B", "C", "Objective 1"];
    run(&doc, CHAIR, redefine(&twice)).expect("redefined");
    let mark = |item| Command::SetCurrentItem {
        round: id.clone(),
        day: Some(0),
        item: Some(item),
    };
    run(&doc, CHAIR, mark(4)).expect("marked");
    let opened = ["Opening", "Objective 1", "A", "B", "C", "Objective 1"];
    run(&doc, CHAIR, redefine(&opened)).expect("redefined");
    assert_eq!(process(&doc).rounds[0].current, Some((0, 5)));
    // Gone from the programme: nothing is marked (never another item in its place).
    run(&doc, CHAIR, redefine(&["General comments", "Objective 2"])).expect("redefined");
    assert_eq!(process(&doc).rounds[0].current, None);
}

#[test]
fn a_reading_neither_starts_nor_points_at_a_deleted_paragraph_and_only_facilitators_end_it() {
    let doc = with_section();
    run(
        &doc,
        CHAIR,
        Command::DeleteParagraph {
            paragraph: "p2".into(),
        },
    )
    .expect("deleted");
    let start = |from: &str| Command::StartReading {
        name: "First reading".into(),
        round: None,
        from: Some(from.into()),
        to: None,
    };
    assert_eq!(
        code(run(&doc, CHAIR, start("p2"))),
        ErrorCode::ParagraphDeleted
    );
    let reading = created(run(&doc, CHAIR, start("p1")));
    let point = Command::MovePointer {
        reading: reading.clone(),
        paragraph: "p2".into(),
    };
    assert_eq!(code(run(&doc, CHAIR, point)), ErrorCode::ParagraphDeleted);
    let end = || Command::EndReading {
        reading: reading.clone(),
    };
    assert_eq!(code(run(&doc, MEX, end())), ErrorCode::ForbiddenRole);
    run(&doc, CHAIR, end()).expect("ended");
}

#[test]
fn a_silence_on_a_paragraph_whose_label_holds_hidden_characters_starts_and_says_it_plainly() {
    let doc = negotiation();
    run(
        &doc,
        CHAIR,
        Command::RelabelParagraph {
            paragraph: "p2".into(),
            label: "2\u{202e}bis".into(),
        },
    )
    .expect("relabelled");
    let id = silence_on(&doc, &["p2"], 60);
    let state = process(&doc);
    let notice = state.notices.last().expect("a notice");
    assert_eq!(notice.silence.as_deref(), Some(id.as_str()));
    assert!(
        notice.subject.contains("paragraph 2bis"),
        "{}",
        notice.subject
    );
    assert!(schema::paragraph(&doc.transact(), "p2")
        .expect("p2")
        .is_locked());
}
