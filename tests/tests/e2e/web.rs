//! The web page's files: served at `/` without a token, with their types; nothing outside the
//! page's directory can be named.

use concord_tests::{http_get, http_request, TestServer};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_is_served_and_nothing_else_is() -> anyhow::Result<()> {
    let server = TestServer::start().await;
    let (status, body) = http_get(server.addr, "/").await?;
    assert_eq!(status, 200);
    assert!(body.contains("<title>Concord</title>"), "{body}");
    let (status, head) = http_request(server.addr, "GET", "/app.js", &[], &[]).await?;
    assert_eq!(status, 200);
    assert!(String::from_utf8_lossy(&head).contains("import"));
    for path in [
        "/../Cargo.toml",
        "/%2e%2e/Cargo.toml",
        "/.gitignore",
        "/pkg/../../Cargo.toml",
        "/web//app.js",
        "/Cargo.toml",
        "/no-such-page.html",
    ] {
        let (status, body) = http_get(server.addr, path).await?;
        assert_eq!(status, 404, "{path}: {body}");
        assert!(body.contains("not_found"), "{path}: {body}");
    }
    // A query the attribution route cannot read is a 400 with a code, not a silent default.
    let token = server.token("ana", "MEX", concord_protocol::Role::Delegation, "*");
    let auth = format!("Authorization: Bearer {token}");
    let (status, body) = concord_tests::http_get_with(
        server.addr,
        "/api/docs/gcm/paragraphs/p1/attribution?since=yesterday",
        &[&auth],
    )
    .await?;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("invalid_query"), "{body}");
    server.stop().await;
    Ok(())
}
