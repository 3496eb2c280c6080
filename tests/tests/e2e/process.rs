//! The negotiation's process through the server: a round run end to end over the API with the
//! progress counted right at each step, silence procedures concluded by the server at their
//! deadline (across a graceful restart, across a SIGKILL of the real binary, broken by one
//! mission), who may run each command, what observers see, and hostile writes into the
//! process's roots.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use concord_protocol::process::{ProcessState, SilenceOutcome};
use concord_protocol::schema::{self, ParagraphStatus};
use concord_protocol::Role;
use concord_server::clock::Clock;
use concord_tests::{http_get_with, http_post_json, Client, ProcessServer, TempDir, TestServer};
use serde_json::{json, Value};
use yrs::{Map, Transact};

const DOC: &str = "gcm";

const TEXT: &str = "# Global Compact\n\
## Preamble\n\
[PP1] Recalling the Charter.\n\
[PP2] Reaffirming the Declaration.\n\
## Objective 1: Collect data\n\
[17] We commit to strengthen the evidence base.\n\
[17(a)] Elaborate a strategy.\n\
## Objective 2: Minimize drivers\n\
[18] We commit to create conducive conditions.\n\
[18(a)] Invest in programmes.\n";

/// A server with the text above and tokens for a chair (UN), MEX, CHE and an observer.
struct Room {
    server: TestServer,
    chair: String,
    mex: String,
    che: String,
    ngo: String,
}

impl Room {
    async fn start(clock: Option<Clock>) -> anyhow::Result<Self> {
        let server = TestServer::start_with(|config| {
            if let Some(clock) = clock {
                config.clock = clock;
            }
        })
        .await;
        let room = Room::tokens(server);
        let import = json!({ "type": "import-text", "text": TEXT }).to_string();
        room.command(&room.chair, &import).await?;
        Ok(room)
    }

    fn tokens(server: TestServer) -> Self {
        Room {
            chair: server.token("chair", "UN", Role::Facilitator, DOC),
            mex: server.token("ana", "MEX", Role::Delegation, DOC),
            che: server.token("ben", "CHE", Role::Delegation, DOC),
            ngo: server.token("nora", "NGO-1", Role::Observer, DOC),
            server,
        }
    }

    async fn post(&self, token: &str, body: &str) -> anyhow::Result<(u16, Value)> {
        let path = format!("/api/docs/{DOC}/commands");
        let (status, answer) = http_post_json(self.server.addr, &path, token, body).await?;
        Ok((status, serde_json::from_str(&answer)?))
    }

    async fn command(&self, token: &str, body: &str) -> anyhow::Result<Value> {
        let (status, answer) = self.post(token, body).await?;
        anyhow::ensure!(status == 200, "{body} answered {status} {answer}");
        Ok(answer)
    }

    /// The new id a command answered with.
    async fn created(&self, token: &str, body: Value) -> anyhow::Result<String> {
        let answer = self.command(token, &body.to_string()).await?;
        answer["id"]
            .as_str()
            .map(String::from)
            .ok_or_else(|| anyhow::anyhow!("no id in {answer}"))
    }

    /// A refusal's status and code.
    async fn refused(&self, token: &str, body: Value) -> anyhow::Result<(u16, String)> {
        let (status, answer) = self.post(token, &body.to_string()).await?;
        anyhow::ensure!(status != 200, "{body} was accepted");
        Ok((status, answer["error"].as_str().unwrap_or_default().into()))
    }

    async fn get(&self, token: &str, path: &str) -> anyhow::Result<Value> {
        let auth = format!("Authorization: Bearer {token}");
        let path = format!("/api/docs/{DOC}{path}");
        let (status, body) = http_get_with(self.server.addr, &path, &[&auth]).await?;
        anyhow::ensure!(status == 200, "{path} answered {status} {body}");
        Ok(serde_json::from_str(&body)?)
    }

    async fn connect(&self) -> anyhow::Result<Client> {
        Client::connect(&self.server.ws_url_with(DOC, &self.chair)).await
    }
}

/// Paragraph ids by label, from the model.
fn ids(model: &Value) -> BTreeMap<String, String> {
    let mut ids = BTreeMap::new();
    for p in model["paragraphs"].as_array().into_iter().flatten() {
        let (label, id) = (p["label"].as_str(), p["id"].as_str());
        if let (Some(label), Some(id)) = (label, id) {
            let key = if label.is_empty() {
                p["body"].as_str().unwrap_or_default().to_string()
            } else {
                label.to_string()
            };
            ids.insert(key, id.to_string());
        }
    }
    ids
}

async fn progress_matches_the_model(room: &Room, step: &str) -> anyhow::Result<Value> {
    let model = room.get(&room.chair, "").await?;
    let progress = room.get(&room.chair, "/progress").await?;
    let (by_status, bracketed) = concord_tests::progress_from_model(&model);
    let reported: BTreeMap<String, u64> =
        serde_json::from_value(progress["overall"]["by_status"].clone())?;
    assert_eq!(reported, by_status, "{step}: by status");
    assert_eq!(
        progress["overall"]["bracketed"].as_u64(),
        Some(bracketed),
        "{step}: bracketed"
    );
    Ok(progress)
}

#[tokio::test]
async fn a_round_runs_end_to_end_over_the_api_with_progress_right_at_each_step(
) -> anyhow::Result<()> {
    let room = Room::start(None).await?;
    let p = ids(&room.get(&room.chair, "").await?);
    let (obj1, obj2) = (
        &p["Objective 1: Collect data"],
        &p["Objective 2: Minimize drivers"],
    );
    progress_matches_the_model(&room, "imported").await?;

    let theme = room
        .created(
            &room.chair,
            json!({"type": "set-theme", "name": "Data and evidence", "paragraphs": [obj1, p["18(a)"]]}),
        )
        .await?;
    let round = room
        .created(
            &room.chair,
            json!({
                "type": "create-round",
                "name": "Third round",
                "starts_on": "2018-04-03",
                "ends_on": "2018-04-06",
                "place": "Conference Room 2",
                "programme": [
                    {"date": "2018-04-03", "items": [
                        {"kind": "general-comments", "title": "General comments", "time": "10:00-11:00"},
                        {"kind": "theme", "title": "Data and evidence", "theme": theme},
                    ]},
                    {"date": "2018-04-04", "items": [
                        {"kind": "reading", "title": "Second reading, objectives 1 and 2", "paragraphs": [obj1, obj2]},
                    ]},
                ],
            }),
        )
        .await?;
    room.command(
        &room.chair,
        &json!({"type": "set-current-item", "round": round, "day": 1, "item": 0}).to_string(),
    )
    .await?;
    let reading = room
        .created(
            &room.chair,
            json!({"type": "start-reading", "name": "Second reading", "round": round, "from": obj1, "to": obj2}),
        )
        .await?;
    // Everyone sees the programme, its current item and the pointer, observers included.
    let seen = room.get(&room.ngo, "/process").await?;
    let state: ProcessState = serde_json::from_value(seen)?;
    assert_eq!(state.rounds[0].current, Some((1, 0)));
    assert_eq!(state.rounds[0].programme[0].items.len(), 2);
    assert_eq!(state.readings[0].id, reading);

    for to in [obj1.as_str(), &p["17"], obj2] {
        room.command(
            &room.chair,
            &json!({"type": "move-pointer", "reading": reading, "paragraph": to}).to_string(),
        )
        .await?;
    }
    let outside = json!({"type": "move-pointer", "reading": reading, "paragraph": p["PP1"]});
    assert_eq!(
        room.refused(&room.chair, outside).await?,
        (400, "invalid-argument".into())
    );

    // Proposals during the reading: under objective 2 (MEX), and on the preamble (CHE), which
    // the reading does not cover.
    let during = room
        .created(
            &room.mex,
            json!({"type": "create-amendment", "paragraph": p["18(a)"], "rationale": "Clearer."}),
        )
        .await?;
    let outside = room
        .created(
            &room.che,
            json!({"type": "create-amendment", "paragraph": p["PP2"]}),
        )
        .await?;
    let on_obj2 = room
        .get(&room.chair, &format!("/readings/{reading}?under={obj2}"))
        .await?;
    let proposed: Vec<&str> = on_obj2["proposals"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|a| a["id"].as_str())
        .collect();
    assert_eq!(proposed, [during.as_str()]);
    let read: Vec<&str> = on_obj2["read"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    for expected in [obj1, &p["17"], &p["17(a)"], obj2, &p["18"], &p["18(a)"]] {
        assert!(
            read.contains(&expected.as_str()),
            "{expected} read: {read:?}"
        );
    }
    assert!(!read.contains(&p["PP1"].as_str()));
    let on_obj1 = room
        .get(&room.chair, &format!("/readings/{reading}?under={obj1}"))
        .await?;
    assert_eq!(on_obj1["proposals"].as_array().map(Vec::len), Some(0));
    let by_query = room
        .get(
            &room.chair,
            &format!("/amendments?reading={reading}&under={obj2}"),
        )
        .await?;
    assert_eq!(by_query["amendments"].as_array().map(Vec::len), Some(1));
    let by_theme = room
        .get(&room.chair, &format!("/amendments?theme={theme}"))
        .await?;
    assert_eq!(by_theme["amendments"][0]["id"], during.as_str());
    let themed = room.get(&room.chair, &format!("?theme={theme}")).await?;
    let themed_ids: Vec<&str> = themed["paragraphs"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| p["id"].as_str())
        .collect();
    assert_eq!(
        themed_ids,
        [obj1.as_str(), &p["17"], &p["17(a)"], &p["18(a)"]]
    );
    let progress = progress_matches_the_model(&room, "two proposals").await?;
    assert_eq!(progress["overall"]["bracketed"], 2);
    let _ = outside;

    // Statuses move: agreed ad ref, agreed pending named missions, an accepted proposal.
    for (paragraph, status, pending) in [
        (&p["17"], "agreed-ad-ref", json!([])),
        (&p["17(a)"], "agreed-pending", json!(["CHE", "MEX"])),
    ] {
        room.command(
            &room.chair,
            &json!({"type": "set-status", "paragraph": paragraph, "status": status, "pending": pending}).to_string(),
        )
        .await?;
        progress_matches_the_model(&room, status).await?;
    }
    room.command(
        &room.chair,
        &json!({"type": "accept", "amendment": during}).to_string(),
    )
    .await?;
    let progress = progress_matches_the_model(&room, "accepted").await?;
    assert_eq!(progress["pending_on"]["MEX"], json!(["17(a)"]));
    let theme_counts = &progress["themes"][0];
    assert_eq!(theme_counts["paragraphs"], 3, "17, 17(a) and 18(a)");
    assert!(progress["trend"].as_array().is_some_and(|t| !t.is_empty()));
    room.command(
        &room.chair,
        &json!({"type": "end-reading", "reading": reading}).to_string(),
    )
    .await?;
    let state: ProcessState = serde_json::from_value(room.get(&room.mex, "/process").await?)?;
    assert!(state.readings[0].ended_at_ms.is_some() && state.readings[0].pointer.is_none());
    Ok(())
}

/// A clock tests move by hand.
fn settable_clock(start_ms: u64) -> (Arc<AtomicU64>, Clock) {
    let now = Arc::new(AtomicU64::new(start_ms));
    let read = Arc::clone(&now);
    (now, Clock::from_fn(move || read.load(Ordering::Relaxed)))
}

fn silence_of(doc: &yrs::Doc) -> Option<concord_protocol::process::Silence> {
    ProcessState::read(&doc.transact())
        .silences
        .into_iter()
        .next()
}

#[tokio::test]
async fn silence_adopts_at_its_deadline_after_a_restart_in_between() -> anyhow::Result<()> {
    // Tokens are minted by the system clock: the test clock starts there.
    let start = Clock::system().now_ms();
    let (now, clock) = settable_clock(start);
    let room = Room::start(Some(clock)).await?;
    let p = ids(&room.get(&room.chair, "").await?);
    let obj1 = p["Objective 1: Collect data"].clone();
    let silence = room
        .created(
            &room.chair,
            json!({"type": "start-silence", "paragraphs": [obj1], "seconds": 600}),
        )
        .await?;
    // Every mission is told, and the text is locked meanwhile.
    let told = room.get(&room.che, "/process").await?;
    assert_eq!(told["notices"][0]["silence"], silence.as_str());
    let amend = json!({"type": "create-amendment", "paragraph": p["17"]});
    assert_eq!(
        room.refused(&room.mex, amend).await?,
        (409, "paragraph-locked".into())
    );

    // A graceful restart with the procedure running: the new server finds it by itself.
    let Room { server, .. } = room;
    let room = Room::tokens(server.restart().await);
    // Nobody asks for the document: the server loads it by itself, to watch the deadline.
    tokio::time::timeout(concord_tests::WAIT, async {
        let mut every = tokio::time::interval(std::time::Duration::from_millis(10));
        while room.server.health().await["documents_loaded"] != 1 {
            every.tick().await;
        }
    })
    .await?;
    now.store(start + 600_000, Ordering::Relaxed);
    let client = room.connect().await?;
    client
        .wait_until("adopted at the deadline", |_, doc| {
            silence_of(doc).is_some_and(|s| s.outcome == Some(SilenceOutcome::Adopted))
        })
        .await?;
    client.with_doc(|doc| {
        let txn = doc.transact();
        for label in ["17", "17(a)"] {
            let paragraph = schema::paragraph(&txn, &p[label]).expect("paragraph");
            assert_eq!(paragraph.status, ParagraphStatus::Agreed, "{label}");
            assert!(
                paragraph.lock.is_some_and(|l| l.reason.contains("adopted")),
                "{label}"
            );
        }
        let untouched = schema::paragraph(&txn, &p["18"]).expect("18");
        assert_eq!(
            (untouched.status, untouched.lock),
            (ParagraphStatus::Open, None)
        );
    });
    // Adopted once: the audit holds one conclusion.
    let audit = room.get(&room.chair, "/audit?limit=1000").await?;
    let conclusions = audit["records"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|r| r["action"] == "conclude-silence")
        .count();
    assert_eq!(conclusions, 1);
    let record = audit["records"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|r| r["action"] == "conclude-silence")
        .cloned()
        .unwrap_or_default();
    assert_eq!(record["mission"], "concord:server");
    Ok(())
}

#[tokio::test]
async fn a_broken_silence_adopts_nothing_and_shows_who_broke_it() -> anyhow::Result<()> {
    let start = Clock::system().now_ms();
    let (now, clock) = settable_clock(start);
    let room = Room::start(Some(clock)).await?;
    let p = ids(&room.get(&room.chair, "").await?);
    room.command(&room.chair, r#"{"type":"publish-revision","name":"Rev 1"}"#)
        .await?;
    let silence = room
        .created(
            &room.chair,
            json!({"type": "start-silence", "revision": "r1", "seconds": 1800}),
        )
        .await?;
    let statement = "Mexico cannot join consensus on paragraph 18.";
    let break_with =
        |text: &str| json!({"type": "break-silence", "silence": silence, "statement": text});
    assert_eq!(
        room.refused(&room.chair, break_with("No.")).await?,
        (403, "forbidden-role".into())
    );
    assert_eq!(
        room.refused(&room.ngo, break_with("No.")).await?,
        (403, "forbidden-role".into())
    );
    now.store(start + 60_000, Ordering::Relaxed);
    room.command(&room.mex, &break_with(statement).to_string())
        .await?;
    assert_eq!(
        room.refused(&room.mex, break_with("Again.")).await?,
        (409, "already-broken".into())
    );
    // Nobody but the server concludes, not even a facilitator.
    let conclude = json!({"type": "conclude-silence", "silence": silence});
    assert_eq!(
        room.refused(&room.chair, conclude).await?,
        (403, "forbidden-role".into())
    );

    let client = room.connect().await?;
    now.store(start + 1_800_000, Ordering::Relaxed);
    client
        .wait_until("concluded at the deadline", |_, doc| {
            silence_of(doc).is_some_and(|s| s.outcome.is_some())
        })
        .await?;
    let state: ProcessState = serde_json::from_value(room.get(&room.che, "/process").await?)?;
    let concluded = &state.silences[0];
    assert_eq!(concluded.outcome, Some(SilenceOutcome::Broken));
    let b = &concluded.breaks[0];
    assert_eq!(
        (
            b.mission.as_str(),
            b.person.as_str(),
            b.statement.as_str(),
            b.at_ms
        ),
        ("MEX", "ana", statement, start + 60_000)
    );
    let model = room.get(&room.chair, "").await?;
    for paragraph in model["paragraphs"].as_array().into_iter().flatten() {
        assert_ne!(paragraph["status"], "agreed", "nothing adopted");
        assert!(
            paragraph["lock"].is_null(),
            "the procedure's locks are lifted"
        );
    }
    let late = json!({"type": "break-silence", "silence": silence, "statement": "Late."});
    assert_eq!(
        room.refused(&room.che, late).await?,
        (409, "silence-closed".into())
    );
    let _ = p;
    Ok(())
}

#[tokio::test]
async fn silence_is_concluded_once_after_a_sigkill_of_the_server() -> anyhow::Result<()> {
    let binary = env!("CARGO_BIN_EXE_concord-under-test");
    let data = TempDir::new("silence-kill");
    let server = ProcessServer::start(binary, data.path(), &[]).await?;
    let chair = server.token("chair", "UN", Role::Facilitator);
    let path = format!("/api/docs/{DOC}/commands");
    for body in [
        json!({"type": "import-text", "text": TEXT}),
        json!({"type": "start-silence", "paragraphs": ["p3", "p4"], "seconds": 2}),
    ] {
        let (status, answer) =
            http_post_json(server.addr, &path, &chair, &body.to_string()).await?;
        assert_eq!(status, 200, "{answer}");
    }
    // Killed with the procedure running; back before or after its deadline, it concludes it.
    server.kill().await;
    let server = ProcessServer::start(binary, data.path(), &[]).await?;
    let client = Client::connect(&server.ws_url(DOC)).await?;
    client
        .wait_until("adopted after the restart", |_, doc| {
            silence_of(doc).is_some_and(|s| s.outcome == Some(SilenceOutcome::Adopted))
        })
        .await?;
    client.with_doc(|doc| {
        let txn = doc.transact();
        for id in ["p3", "p4"] {
            assert_eq!(
                schema::paragraph(&txn, id).map(|p| p.status),
                Some(ParagraphStatus::Agreed)
            );
        }
    });
    Ok(())
}

#[tokio::test]
async fn each_process_command_refuses_the_wrong_role_and_mission_and_observers_see_what_they_may(
) -> anyhow::Result<()> {
    let room = Room::start(None).await?;
    let p = ids(&room.get(&room.chair, "").await?);
    let round = json!({"type": "create-round", "name": "Third round", "starts_on": "2018-04-03", "ends_on": "2018-04-06"});
    let facilitators_only = [
        round.clone(),
        json!({"type": "start-reading", "name": "First reading"}),
        json!({"type": "start-silence", "paragraphs": [p["17"]], "seconds": 60}),
        json!({"type": "publish-notice", "subject": "Programme", "body": "Dear colleagues"}),
        json!({"type": "set-current-item", "round": "round1"}),
    ];
    for command in &facilitators_only {
        for token in [&room.mex, &room.ngo] {
            assert_eq!(
                room.refused(token, command.clone()).await?,
                (403, "forbidden-role".into()),
                "{command}"
            );
        }
    }
    room.created(&room.chair, round).await?;
    let reading = room
        .created(
            &room.chair,
            json!({"type": "start-reading", "name": "First reading"}),
        )
        .await?;
    assert_eq!(
        room.refused(
            &room.chair,
            json!({"type": "start-reading", "name": "Second reading"})
        )
        .await?,
        (409, "reading-in-progress".into())
    );
    for command in [
        json!({"type": "move-pointer", "reading": reading, "paragraph": p["17"]}),
        json!({"type": "end-reading", "reading": reading}),
        json!({"type": "set-programme", "round": "round1", "programme": []}),
    ] {
        for token in [&room.mex, &room.ngo] {
            assert_eq!(
                room.refused(token, command.clone()).await?,
                (403, "forbidden-role".into()),
                "{command}"
            );
        }
    }
    let to_mex = room
        .created(&room.chair, json!({"type": "publish-notice", "subject": "To Mexico", "body": "Dear colleagues", "to": ["MEX"]}))
        .await?;
    let to_all = room
        .created(&room.chair, json!({"type": "publish-notice", "subject": "To all", "body": "Dear colleagues", "attachments": [{"kind": "export", "format": "docx"}]}))
        .await?;
    assert_eq!(
        room.refused(&room.che, json!({"type": "read-notice", "notice": to_mex}))
            .await?,
        (403, "not-addressed".into())
    );
    assert_eq!(
        room.refused(&room.ngo, json!({"type": "read-notice", "notice": to_all}))
            .await?,
        (403, "forbidden-role".into())
    );
    room.command(
        &room.mex,
        &json!({"type": "read-notice", "notice": to_mex}).to_string(),
    )
    .await?;
    let notices = |v: &Value| -> Vec<String> {
        v["notices"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|n| n["id"].as_str().map(String::from))
            .collect()
    };
    let for_chair = room.get(&room.chair, "/process").await?;
    assert_eq!(notices(&for_chair), [to_mex.clone(), to_all.clone()]);
    assert!(for_chair["notices"][0]["read_by"]["MEX"].is_u64());
    assert_eq!(
        notices(&room.get(&room.mex, "/process").await?),
        [to_mex.clone(), to_all.clone()]
    );
    assert_eq!(
        notices(&room.get(&room.che, "/process").await?),
        std::slice::from_ref(&to_all)
    );
    assert_eq!(
        notices(&room.get(&room.ngo, "/process").await?),
        std::slice::from_ref(&to_all)
    );
    for bad in [
        json!({"type": "publish-notice", "subject": "x", "body": "y", "attachments": [{"kind": "export", "format": "exe"}]}),
        json!({"type": "create-round", "name": "x", "starts_on": "2018-02-30", "ends_on": "2018-03-01"}),
        json!({"type": "start-silence", "seconds": 60}),
        json!({"type": "start-silence", "paragraphs": [p["17"]], "seconds": 0}),
    ] {
        assert_eq!(
            room.refused(&room.chair, bad.clone()).await?,
            (400, "invalid-argument".into()),
            "{bad}"
        );
    }
    for (bad, code) in [
        (
            json!({"type": "move-pointer", "reading": "reading9", "paragraph": p["17"]}),
            "unknown-reading",
        ),
        (
            json!({"type": "read-notice", "notice": "notice9"}),
            "unknown-notice",
        ),
        (
            json!({"type": "set-programme", "round": "round9", "programme": []}),
            "unknown-round",
        ),
        (
            json!({"type": "start-silence", "revision": "r9"}),
            "unknown-revision",
        ),
        (
            json!({"type": "publish-notice", "subject": "x", "body": "y", "to": ["XYZ"]}),
            "unknown-mission",
        ),
    ] {
        assert_eq!(
            room.refused(&room.chair, bad.clone()).await?,
            (404, code.into()),
            "{bad}"
        );
    }
    // Observers who read published revisions only still see the programme and the notices to
    // all, but not the proposals of a reading (live amendments).
    room.command(
        &room.chair,
        r#"{"type":"set-observers","observers":"published"}"#,
    )
    .await?;
    let seen = room.get(&room.ngo, "/process").await?;
    assert_eq!(seen["rounds"].as_array().map(Vec::len), Some(1));
    assert_eq!(notices(&seen), [to_all]);
    let reading_seen = room.get(&room.ngo, &format!("/readings/{reading}")).await?;
    assert!(reading_seen["proposals"].is_null(), "{reading_seen}");
    Ok(())
}

#[tokio::test]
async fn a_client_cannot_write_the_process_itself() -> anyhow::Result<()> {
    let room = Room::start(None).await?;
    let silence = room
        .created(
            &room.chair,
            json!({"type": "start-silence", "paragraphs": ["p3"], "seconds": 600}),
        )
        .await?;
    // A delegation rewrites the procedure as if it had been concluded without a break, and
    // adds a notice: every process root is the server's.
    for root in [
        "silences",
        "notices",
        "rounds",
        "readings",
        "progress_trend",
        "round_current",
        "reading_visits",
        "silence_breaks",
        "notice_reads",
    ] {
        let mut client = Client::connect(&room.server.ws_url_with(DOC, &room.mex)).await?;
        let update = client.with_doc(|doc| {
            let map = doc.get_or_insert_map(root);
            let mut txn = doc.transact_mut();
            map.insert(&mut txn, silence.as_str(), "{\"forged\":true}");
            txn.encode_update_v1()
        });
        client.send_update(&update)?;
        let close = client.wait_closed().await?;
        assert_eq!(close.map(|c| c.0), Some(4403), "{root}");
        assert_eq!(
            client.seen().rejections.first().map(|r| r.rule.clone()),
            Some("not-editable".into()),
            "{root}"
        );
    }
    let state: ProcessState = serde_json::from_value(room.get(&room.chair, "/process").await?)?;
    assert_eq!(state.silences[0].id, silence);
    assert!(state.silences[0].is_open());
    Ok(())
}
