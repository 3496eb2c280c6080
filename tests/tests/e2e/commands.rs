//! Commands over the WebSocket and REST: one handler, validated per role and mission, applied
//! by the server, seen by everyone, durable across a restart.

use concord_protocol::command::{Command, CommandRequest, Outcome, Reply};
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
    assert!(body.contains("invalid_command"), "{body}");
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
