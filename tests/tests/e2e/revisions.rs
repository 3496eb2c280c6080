//! Revisions end to end: publishing freezes the text for good (5,000 updates, snapshots and a
//! restart later it is the same bytes, and nothing can write it); comparing a revision with
//! what came after gives exactly the edits, each credited to the mission that wrote it; and
//! observers who read published revisions only never see live text.

use concord_protocol::schema;
use concord_protocol::Role;
use serde_json::Value;
use yrs::{Map, Transact, WriteTxn};

use concord_tests::revision_room::{body_of, RevisionRoom as Room, DOC};

/// The changed pieces of a compared paragraph: (op, trimmed text, missions credited).
fn changes(paragraph: &Value) -> Vec<(String, String, Vec<String>)> {
    paragraph["pieces"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|p| p["op"] != "equal")
        .map(|p| {
            let by = p["by"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|b| b["mission"].as_str().unwrap_or("-").to_string())
                .collect();
            (
                p["op"].as_str().unwrap_or_default().to_string(),
                p["text"].as_str().unwrap_or_default().trim().to_string(),
                by,
            )
        })
        .collect()
}

fn paragraph<'a>(comparison: &'a Value, id: &str) -> &'a Value {
    comparison["paragraphs"]
        .as_array()
        .and_then(|ps| ps.iter().find(|p| p["id"] == id))
        .unwrap_or(&Value::Null)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn comparing_a_revision_with_what_followed_gives_the_edits_and_who_made_them(
) -> anyhow::Result<()> {
    let room = Room::start_with(|_| {}).await?;
    let published = room
        .command(&room.chair, r#"{"type":"publish-revision","name":"Rev 1"}"#)
        .await?;
    assert_eq!(published, r#"{"outcome":"created","id":"r1"}"#);

    // The chair writes into p2; MEX co-drafts its amendment, which the chair accepts.
    let mut chair = room.connect(&room.chair).await?;
    let seq = chair.insert_into(&body_of("p2"), 0, "Fully ")?;
    chair.wait_acked(seq).await?;
    let mut mex = room.connect(&room.mex).await?;
    let seq = mex.insert_into(&concord_tests::client::amendment_text("a1"), 19, " closely")?;
    mex.wait_acked(seq).await?;
    room.command(&room.chair, r#"{"type":"accept","amendment":"a1"}"#)
        .await?;

    let live = room.get_json(&room.che, "/compare?from=r1&to=live").await?;
    assert_eq!(live["from"]["name"], "Rev 1");
    assert_eq!(live["changed"], 2);
    assert_eq!(
        changes(paragraph(&live, "p1")),
        [("insert".into(), "closely".into(), vec!["MEX".to_string()])]
    );
    let p1 = paragraph(&live, "p1");
    let credit = &p1["pieces"]
        .as_array()
        .and_then(|ps| ps.iter().find(|p| p["op"] == "insert"))
        .map(|p| p["by"][0].clone())
        .unwrap_or_default();
    assert_eq!(
        credit["amendment"], "a1",
        "credited to the accepted amendment"
    );
    assert_eq!(
        changes(paragraph(&live, "p2")),
        [("insert".into(), "Fully".into(), vec!["UN".to_string()])]
    );

    // A second revision: comparing the two published ones says the same, from what each
    // stored.
    room.command(&room.chair, r#"{"type":"publish-revision","name":"Rev 2"}"#)
        .await?;
    let between = room.get_json(&room.mex, "/compare?from=r1&to=r2").await?;
    assert_eq!(
        changes(paragraph(&between, "p1")),
        changes(paragraph(&live, "p1"))
    );
    assert_eq!(
        changes(paragraph(&between, "p2")),
        changes(paragraph(&live, "p2"))
    );
    let list = room.get_json(&room.mex, "/revisions").await?;
    let names: Vec<&str> = list["revisions"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| r["name"].as_str())
        .collect();
    assert_eq!(names, ["Rev 1", "Rev 2"]);
    let rev2 = room.get_json(&room.mex, "/revisions/r2").await?;
    let notes: Vec<&str> = rev2["change_notes"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|n| n["changes"][0]["change"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(notes, ["wording", "wording"]);

    // Unknown revisions and bad queries are told apart.
    let (status, body) = room.get(&room.mex, "/compare?from=r9&to=live").await?;
    assert_eq!(status, 404, "{body}");
    assert!(body.contains("unknown-revision"));
    let (status, _) = room.get(&room.mex, "/compare").await?;
    assert_eq!(status, 400);

    // The command line reads the same from the data directory.
    let data = room.server.data.clone();
    room.server.stop().await;
    let cli = |args: &[&str]| -> anyhow::Result<String> {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_concord-under-test"))
            .args(args)
            .arg("--data-dir")
            .arg(data.path())
            .output()?;
        anyhow::ensure!(output.status.success(), "{args:?}: {output:?}");
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    };
    let listed = cli(&["revisions", "--doc", DOC])?;
    assert!(
        listed.contains("Rev 1") && listed.contains("Rev 2"),
        "{listed}"
    );
    let compared: Value = serde_json::from_str(&cli(&[
        "compare", "--doc", DOC, "--from", "r1", "--to", "r2", "--json",
    ])?)?;
    assert_eq!(
        changes(paragraph(&compared, "p1")),
        changes(paragraph(&between, "p1"))
    );
    let redline = cli(&["compare", "--doc", DOC, "--from", "r1", "--to", "r2"])?;
    assert!(redline.contains("(MEX)"), "{redline}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accepting_over_later_edits_is_refused_until_asked_and_the_redline_shows_why(
) -> anyhow::Result<()> {
    let room = Room::start_with(|_| {}).await?;
    let mut chair = room.connect(&room.chair).await?;
    let seq = chair.insert_into(&body_of("p1"), 0, "We ")?;
    chair.wait_acked(seq).await?;
    let redline = room.get_json(&room.che, "/amendments/a2/redline").await?;
    assert_eq!(redline["moved_on"], true);
    assert_eq!(redline["base_body"], "Commit to cooperate.");
    assert!(redline["since"].is_array() && redline["proposed"].is_array());
    let (status, body) = room
        .post(&room.chair, r#"{"type":"accept","amendment":"a2"}"#)
        .await?;
    assert_eq!(status, 409, "{body}");
    assert!(body.contains("body-moved-on"), "{body}");
    room.command(
        &room.chair,
        r#"{"type":"accept","amendment":"a2","over_later_edits":true}"#,
    )
    .await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_published_revision_outlives_5000_updates_snapshots_and_a_restart_and_nothing_writes_it(
) -> anyhow::Result<()> {
    let room = Room::start_with(|config| {
        config.snapshot_every = 700;
        config.limits.messages_per_second = 1_000_000;
        config.limits.burst = 1_000_000;
    })
    .await?;
    room.command(
        &room.chair,
        r#"{"type":"publish-revision","name":"Zero draft"}"#,
    )
    .await?;
    let (status, published) = room.get(&room.mex, "/revisions/r1").await?;
    assert_eq!(status, 200);

    let mut chair = room.connect(&room.chair).await?;
    let mut last = 0;
    for i in 0..5000u32 {
        let target = if i % 2 == 0 { "p1" } else { "p2" };
        last = chair.insert_into(&body_of(target), 0, "x")?;
    }
    chair.wait_acked(last).await?;
    chair.close();

    // Crafted writes at the revision: overwriting it, deleting it, publishing over its name.
    for attempt in ["overwrite", "delete"] {
        let forger = room.connect(&room.chair).await?;
        let update = forger.with_doc(|doc| {
            let mut txn = doc.transact_mut();
            let revisions = txn.get_or_insert_map(schema::keys::REVISIONS);
            match attempt {
                "overwrite" => {
                    revisions.insert(&mut txn, "r1", "{\"forged\":true}");
                }
                _ => {
                    revisions.remove(&mut txn, "r1");
                }
            }
            txn.encode_update_v1()
        });
        let mut forger = forger;
        forger.send_update(&update)?;
        let close = forger.wait_closed().await?;
        assert_eq!(close.map(|c| c.0), Some(4403), "{attempt} refused");
        assert_eq!(
            forger.seen().rejections[0].rule,
            "not-editable",
            "{attempt}"
        );
    }
    let (status, body) = room
        .post(
            &room.chair,
            r#"{"type":"publish-revision","name":"Zero draft"}"#,
        )
        .await?;
    assert_eq!(status, 409, "{body}");

    let room = Room {
        server: room.server.restart().await,
        ..room
    };
    let (status, after) = room.get(&room.mex, "/revisions/r1").await?;
    assert_eq!(status, 200);
    assert_eq!(after, published, "byte for byte what was published");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn observers_who_read_published_revisions_never_see_live_text() -> anyhow::Result<()> {
    const MARKER: &str = "LIVE-MARKER-7Q";
    let room = Room::start_with(|_| {}).await?;
    let ngo_token = room.server.token("nora", "NGO-1", Role::Observer, DOC);
    // A live observer is sent away once observers read published text only.
    let live_observer = room.connect(&ngo_token).await?;
    room.command(
        &room.chair,
        r#"{"type":"set-observers","observers":"published"}"#,
    )
    .await?;
    let close = live_observer.wait_closed().await?;
    assert_eq!(close.map(|c| c.0), Some(4001));

    room.command(&room.chair, r#"{"type":"publish-revision","name":"Rev 1"}"#)
        .await?;
    let observer = room.connect(&ngo_token).await?;
    observer
        .wait_until("the published text", |_, doc| {
            schema::paragraph(&doc.transact(), "p1").is_some()
        })
        .await?;

    // Live drafting after the publication, typed by the chair and by a sponsor.
    let mut chair = room.connect(&room.chair).await?;
    let seq = chair.insert_into(&body_of("p1"), 0, MARKER)?;
    chair.wait_acked(seq).await?;
    let mut mex = room.connect(&room.mex).await?;
    let seq = mex.insert_into(&concord_tests::client::amendment_text("a1"), 0, MARKER)?;
    mex.wait_acked(seq).await?;
    // Everyone live has it; a delegation's REST read too.
    let (_, delegation_state) = room.get(&room.mex, "/state").await?;
    assert!(delegation_state.contains(MARKER));

    // The observer's REST: the published view, no live answers.
    let (status, state) = room.get(&ngo_token, "/state").await?;
    assert_eq!(status, 200);
    assert!(!state.contains(MARKER), "REST state leaked live text");
    for path in [
        "/draft",
        "/compare?from=r1&to=live",
        "/amendments/a1/redline",
        "/paragraphs/p1/attribution",
        "/export?format=md",
        "/export?format=docx&revision=r1&against=live",
        "/audit",
    ] {
        let (status, body) = room.get(&ngo_token, path).await?;
        assert_eq!(status, 403, "{path}: {body}");
        assert!(body.contains("published-only"), "{path}: {body}");
        assert!(!body.contains(MARKER));
    }
    let observed = observer.with_doc(concord_tests::client::full_state);
    assert!(
        !String::from_utf8_lossy(&observed).contains(MARKER),
        "the observer's replica holds live text"
    );
    // The read API and the exports serve the published view.
    for path in [
        "",
        "/paragraphs/p1",
        "/amendments",
        "/export?format=akn&revision=r1",
    ] {
        let (status, body) = room.get(&ngo_token, path).await?;
        assert_eq!(status, 200, "{path}: {body}");
        assert!(!body.contains(MARKER), "{path} leaked live text");
    }
    let (status, revision) = room.get(&ngo_token, "/revisions/r1").await?;
    assert_eq!(status, 200);
    assert!(!revision.contains(MARKER));

    // A new revision: the observer is told to read again, and then reads it.
    room.command(&room.chair, r#"{"type":"publish-revision","name":"Rev 2"}"#)
        .await?;
    let close = observer.wait_closed().await?;
    assert_eq!(close.map(|c| c.0), Some(4001));
    let seen = observer.seen();
    for update in &seen.updates {
        assert!(
            !String::from_utf8_lossy(update).contains(MARKER),
            "a live update reached the observer"
        );
    }
    // Between published revisions, an observer compares too, with who wrote what.
    let between = room.get_json(&ngo_token, "/compare?from=r1&to=r2").await?;
    let marked = changes(paragraph(&between, "p1"))
        .into_iter()
        .find(|(op, text, _)| op == "insert" && text.contains(MARKER));
    assert!(
        marked.is_some_and(|(_, _, by)| by.contains(&"UN".to_string())),
        "{between}"
    );
    let again = room.connect(&ngo_token).await?;
    again
        .wait_until("Rev 2, with the marker now published", |_, doc| {
            schema::paragraph(&doc.transact(), "p1").is_some_and(|p| p.body.contains(MARKER))
        })
        .await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cover_letter_is_typed_by_facilitators_only() -> anyhow::Result<()> {
    let room = Room::start_with(|_| {}).await?;
    room.command(&room.chair, r#"{"type":"prepare-revision"}"#)
        .await?;
    let cover = |txn: &yrs::TransactionMut| schema::cover_note_text(txn);
    let mut chair = room.connect(&room.chair).await?;
    let seq = chair.insert_into(&cover, 0, "Excellencies,")?;
    chair.wait_acked(seq).await?;
    let mut mex = room.connect(&room.mex).await?;
    mex.insert_into(&cover, 0, "Forged: ")?;
    let close = mex.wait_closed().await?;
    assert_eq!(close.map(|c| c.0), Some(4403));
    assert_eq!(
        mex.seen().rejections[0].rule,
        "cover-note-facilitators-only"
    );
    let draft = room.get_json(&room.che, "/draft").await?;
    assert_eq!(draft["cover_note"], "Excellencies,");
    room.command(&room.chair, r#"{"type":"publish-revision","name":"Rev 1"}"#)
        .await?;
    let rev = room.get_json(&room.che, "/revisions/latest").await?;
    assert_eq!(rev["cover_note"], "Excellencies,");
    let draft = room.get_json(&room.che, "/draft").await?;
    assert_eq!(
        draft["cover_note"], "",
        "a fresh letter for the next revision"
    );
    Ok(())
}
