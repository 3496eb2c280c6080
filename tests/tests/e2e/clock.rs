//! The server reads one clock, passed in through its configuration: what `Session` reports and
//! what comments and audit records are stamped with come from it.

use concord_protocol::Role;
use concord_server::clock::Clock;
use concord_tests::{http_get_with, http_post_json, Client, TestServer};

/// Ten minutes ahead of the wall clock (tokens minted now stay valid).
const AHEAD_MS: u64 = 600_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_stamps_with_the_clock_it_is_given() -> anyhow::Result<()> {
    let server = TestServer::start_with(|config| {
        config.clock = Clock::from_fn(|| concord_tests::now_ms() + AHEAD_MS);
    })
    .await;
    let chair = server.token("chair", "UN", Role::Facilitator, "gcm");
    let before = concord_tests::now_ms() + AHEAD_MS;
    let client = Client::connect(&server.draft("gcm").await?).await?;
    let session = client
        .seen()
        .session
        .ok_or_else(|| anyhow::anyhow!("no session"))?;
    assert!(session.server_time_ms >= before, "{session:?}");
    let (status, answer) = http_post_json(
        server.addr,
        "/api/docs/gcm/commands",
        &chair,
        r#"{"type":"comment","paragraph":"p1","text":"Stamped."}"#,
    )
    .await?;
    assert_eq!(status, 200, "{answer}");
    client
        .wait_until("the comment", |_, doc| {
            use yrs::Transact;
            !concord_protocol::schema::comments(&doc.transact(), "p1").is_empty()
        })
        .await?;
    let at = client.with_doc(|doc| {
        use yrs::Transact;
        concord_protocol::schema::comments(&doc.transact(), "p1")[0].at_ms
    });
    let after = concord_tests::now_ms() + AHEAD_MS;
    assert!(
        (before..=after).contains(&at),
        "{before} <= {at} <= {after}"
    );
    // The audit reads the same clock: nothing is recorded before `before` on it.
    let path = format!("/api/docs/gcm/paragraphs/p1/attribution?since={before}");
    let auth = format!("Authorization: Bearer {chair}");
    let (status, _) = http_get_with(server.addr, &path, &[&auth]).await?;
    assert_eq!(status, 200);
    server.stop().await;
    Ok(())
}
