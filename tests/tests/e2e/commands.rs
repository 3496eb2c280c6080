//! Commands over the WebSocket and REST: one handler, validated per role and mission, applied
//! by the server, seen by everyone, durable across a restart.

use concord_protocol::command::{Command, CommandRequest, Outcome, Reply};
use concord_protocol::lib0::{write_buf, write_var_u64};
use concord_protocol::message::MSG_COMMAND;
use concord_protocol::schema::{self, ParagraphKind};
use concord_protocol::{Message, Role};
use concord_tests::{http_post_json, Client, TestServer};
use yrs::Transact;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commands_over_websocket_and_rest_are_validated_applied_and_kept() -> anyhow::Result<()> {
    let server = TestServer::start().await;
    let chair = server.token("chair", "UN", Role::Facilitator, "gcm");
    let mex = server.token("ana", "MEX", Role::Delegation, "gcm");
    let ngo = server.token("ngo", "NGO-1", Role::Observer, "gcm");
    let facilitator = Client::connect(&server.ws_url_with("gcm", &chair)).await?;
    let observer = Client::connect(&server.ws_url_with("gcm", &ngo)).await?;

    // Over the WebSocket: the facilitator adds paragraph 17; everyone sees it.
    let add = Command::AddParagraph {
        after: None,
        label: "17".into(),
        kind: ParagraphKind::Operative,
        parent: None,
        body: "Commit to cooperate internationally.".into(),
    };
    facilitator.send_message(&Message::Command(CommandRequest {
        id: 1,
        command: add,
    }))?;
    facilitator
        .wait_until("the command's result", |s, _| !s.command_results.is_empty())
        .await?;
    let reply = &facilitator.seen().command_results[0];
    assert_eq!(reply.id, 1);
    assert_eq!(
        reply.result,
        Reply::Ok(Outcome::Created { id: "p1".into() })
    );
    observer
        .wait_until("paragraph 17", |_, doc| {
            schema::paragraph(&doc.transact(), "p1").is_some_and(|p| p.label == "17")
        })
        .await?;

    // Over REST: a delegation proposes an amendment; refusals carry their codes.
    let post = |token: &str, body: &str| {
        let (addr, token, body) = (server.addr, token.to_string(), body.to_string());
        async move { http_post_json(addr, "/api/docs/gcm/commands", &token, &body).await }
    };
    let (status, body) = post(
        &mex,
        r#"{"type":"create-amendment","paragraph":"p1","rationale":"Add safe."}"#,
    )
    .await?;
    assert_eq!(
        (status, body.as_str()),
        (200, r#"{"outcome":"created","id":"a1"}"#)
    );
    let (status, body) = post(
        &ngo,
        r#"{"type":"comment","paragraph":"p1","text":"hello"}"#,
    )
    .await?;
    assert_eq!(status, 403);
    assert!(body.contains(r#""error":"forbidden-role""#), "{body}");
    let (status, body) = post(&mex, r#"{"type":"lock","paragraph":"p1","reason":"mine"}"#).await?;
    assert_eq!(status, 403);
    assert!(body.contains("forbidden-role"), "{body}");
    let (status, _) = post(
        &chair,
        r#"{"type":"lock","paragraph":"p1","reason":"agreed ad ref"}"#,
    )
    .await?;
    assert_eq!(status, 200);
    let (status, body) = post(&mex, r#"{"type":"create-amendment","paragraph":"p1"}"#).await?;
    assert_eq!(status, 409);
    assert!(body.contains("paragraph-locked"), "{body}");
    let (status, body) = post(&mex, r#"{"type":"support","amendment":"a9"}"#).await?;
    assert_eq!(status, 404);
    assert!(body.contains("unknown-amendment"), "{body}");
    let (status, body) = post(&mex, "{not json").await?;
    assert_eq!(status, 400);
    assert!(body.contains("invalid-command"), "{body}");
    observer
        .wait_until("the lock", |_, doc| {
            schema::paragraph(&doc.transact(), "p1").is_some_and(|p| p.is_locked())
        })
        .await?;

    // Everything the commands wrote is durable.
    let server = server.restart().await;
    let again = Client::connect(&server.ws_url("gcm")).await?;
    let (paragraph, amendment) = again.with_doc(|doc| {
        let txn = doc.transact();
        (schema::paragraph(&txn, "p1"), schema::amendment(&txn, "a1"))
    });
    let paragraph = paragraph.expect("paragraph 17 survives");
    assert!(paragraph.is_locked());
    assert_eq!(paragraph.body, "Commit to cooperate internationally.");
    let amendment = amendment.expect("the amendment survives");
    assert_eq!(amendment.sponsors, vec!["MEX".to_string()]);
    assert_eq!(amendment.rationale, "Add safe.");
    server.stop().await;
    Ok(())
}

/// A `Command` message carrying `json` as it is.
fn command_frame(json: &str) -> Vec<u8> {
    let mut frame = Vec::new();
    write_var_u64(&mut frame, MSG_COMMAND);
    write_buf(&mut frame, json.as_bytes());
    frame
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreadable_command_over_the_websocket_is_answered_and_the_connection_stays(
) -> anyhow::Result<()> {
    let server = TestServer::start().await;
    let chair = server.token("chair", "UN", Role::Facilitator, "gcm");
    let client = Client::connect(&server.ws_url_with("gcm", &chair)).await?;

    // What REST answers for a command it cannot read: 400 `invalid-command`.
    let unknown = r#"{"type":"frobnicate","paragraph":"p1"}"#;
    let (status, body) =
        http_post_json(server.addr, "/api/docs/gcm/commands", &chair, unknown).await?;
    assert_eq!(status, 400);
    assert!(body.contains(r#""error":"invalid-command""#), "{body}");

    // The WebSocket answers the same code, with the request's id when it can be read (0 when
    // it cannot), and keeps serving.
    let unreadable = [
        (format!(r#"{{"id":5,"command":{unknown}}}"#), 5),
        (r#"{"id":6,"command":{"type":"lock"}}"#.to_string(), 6),
        ("not json".to_string(), 0),
    ];
    for (json, _) in &unreadable {
        client.send_frame(command_frame(json))?;
    }
    let add = Command::AddParagraph {
        after: None,
        label: "1".into(),
        kind: ParagraphKind::Operative,
        parent: None,
        body: "Still here.".into(),
    };
    client.send_message(&Message::Command(CommandRequest {
        id: 7,
        command: add,
    }))?;
    client
        .wait_until("four command results", |s, _| s.command_results.len() == 4)
        .await?;
    let results = client.seen().command_results;
    for ((json, id), reply) in unreadable.iter().zip(&results) {
        assert_eq!(reply.id, *id, "{json}");
        match &reply.result {
            Reply::Error(error) => assert_eq!(error.code, "invalid-command", "{json}"),
            other => panic!("{json}: expected an error, got {other:?}"),
        }
    }
    assert_eq!(results[3].id, 7);
    assert_eq!(
        results[3].result,
        Reply::Ok(Outcome::Created { id: "p1".into() })
    );
    client
        .wait_until("paragraph 1", |_, doc| {
            schema::paragraph(&doc.transact(), "p1").is_some_and(|p| p.body == "Still here.")
        })
        .await?;
    assert_eq!(client.seen().close, None);
    server.stop().await;
    Ok(())
}

const STRUCTURED: &str = "\
# Global Compact for Safe, Orderly and Regular Migration
## Preamble
[PP1] Recalling the Charter of the United Nations,
## Objective 1: Collect and utilize accurate data
[17] We commit to strengthen the global evidence base.
[17(a)] Elaborate and implement a comprehensive strategy
for improving migration data.
";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_structured_text_is_imported_offline_or_live() -> anyhow::Result<()> {
    const BINARY: &str = env!("CARGO_BIN_EXE_concord-under-test");
    let data = concord_tests::TempDir::new("import");
    let file = data.path().join("gcm.md");
    std::fs::write(&file, STRUCTURED)?;
    let import = || {
        std::process::Command::new(BINARY)
            .arg("import")
            .arg(&file)
            .args(["--doc", "gcm", "--data-dir"])
            .arg(data.path())
            .output()
    };
    let first = import()?;
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&first.stdout).trim(),
        "imported 6 paragraphs into gcm"
    );
    let again = import()?;
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("document-not-empty"));

    let server = concord_tests::ProcessServer::start(BINARY, data.path(), &[]).await?;
    let client = Client::connect(&server.ws_url("gcm")).await?;
    let paragraphs = client.with_doc(|doc| schema::paragraphs(&doc.transact()));
    let shape: Vec<(&str, ParagraphKind)> = paragraphs
        .iter()
        .map(|p| (p.label.as_str(), p.kind))
        .collect();
    assert_eq!(
        shape,
        vec![
            ("", ParagraphKind::Heading),
            ("", ParagraphKind::Heading),
            ("PP1", ParagraphKind::Preambular),
            ("", ParagraphKind::Heading),
            ("17", ParagraphKind::Operative),
            ("17(a)", ParagraphKind::Action),
        ]
    );
    assert_eq!(
        paragraphs[5].body,
        "Elaborate and implement a comprehensive strategy for improving migration data."
    );
    assert_eq!(
        paragraphs[5].parent.as_deref(),
        Some(paragraphs[3].id.as_str())
    );
    server.kill().await;

    // A live server takes the same text as a command.
    let live = TestServer::start().await;
    let chair = live.token("chair", "UN", Role::Facilitator, "*");
    let body = serde_json::json!({ "type": "import-text", "text": STRUCTURED }).to_string();
    let (status, answer) =
        http_post_json(live.addr, "/api/docs/rio/commands", &chair, &body).await?;
    assert_eq!(
        (status, answer.as_str()),
        (200, r#"{"outcome":"imported","paragraphs":6}"#)
    );
    let (status, answer) =
        http_post_json(live.addr, "/api/docs/rio/commands", &chair, &body).await?;
    assert_eq!(status, 409);
    assert!(answer.contains("document-not-empty"), "{answer}");
    live.stop().await;
    Ok(())
}
