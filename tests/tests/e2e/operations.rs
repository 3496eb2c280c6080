//! What an operator watches: `/metrics` in the Prometheus text format (counts that follow what
//! happened, no mission or document in any label), `/readyz` distinct from `/healthz` (not
//! ready while storage does not commit), and logs as JSON on request.

use concord_protocol::Role;
use concord_tests::{http_get, http_post_json, Client, ProcessServer, TempDir, TestServer};
use tokio::io::{AsyncBufReadExt, BufReader};

fn value(metrics: &str, series: &str) -> Option<f64> {
    metrics
        .lines()
        .find_map(|line| line.strip_prefix(series)?.trim().parse().ok())
}

#[tokio::test]
async fn metrics_count_what_happened_and_name_no_mission_or_document() -> anyhow::Result<()> {
    let server = TestServer::start().await;
    let chair = server.token("chair", "UN", Role::Facilitator, "gcm-secret");
    let path = "/api/docs/gcm-secret/commands";
    for body in [
        r#"{"type":"import-text","text":"[1] Commit to cooperate."}"#,
        r#"{"type":"lock","paragraph":"p1","reason":"agreed ad ref"}"#,
        r#"{"type":"lock","paragraph":"p1","reason":"again"}"#,
    ] {
        http_post_json(server.addr, path, &chair, body).await?;
    }
    // A keystroke by a facilitator into the other body is accepted; a delegation's is refused.
    http_post_json(
        server.addr,
        path,
        &chair,
        r#"{"type":"add-paragraph","after":"p1","label":"2","kind":"operative","parent":null,"body":"Text."}"#,
    )
    .await?;
    let mut writer = Client::connect(&server.ws_url_with("gcm-secret", &chair)).await?;
    let body = concord_tests::revision_room::body_of("p2");
    let seq = writer.insert_into(&body, 0, "A ")?;
    writer.wait_acked(seq).await?;
    let mex = server.token("ana", "SECRETMISSION", Role::Delegation, "gcm-secret");
    let mut refused = Client::connect(&server.ws_url_with("gcm-secret", &mex)).await?;
    refused.insert_into(&body, 0, "B ")?;
    refused.wait_closed().await?;

    let (status, text) = http_get(server.addr, "/metrics").await?;
    assert_eq!(status, 200);
    assert_eq!(
        value(&text, "concord_updates_total{outcome=\"accepted\"}"),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        value(
            &text,
            "concord_updates_total{outcome=\"body-facilitators-only\"}"
        ),
        Some(1.0)
    );
    assert_eq!(
        value(
            &text,
            "concord_commands_total{command=\"lock\",outcome=\"ok\"}"
        ),
        Some(1.0)
    );
    assert_eq!(
        value(
            &text,
            "concord_commands_total{command=\"lock\",outcome=\"paragraph-locked\"}"
        ),
        Some(1.0)
    );
    assert!(value(&text, "concord_commit_wait_seconds_count").is_some_and(|n| n >= 1.0));
    assert!(value(&text, "concord_documents_loaded").is_some_and(|n| n >= 1.0));
    for secret in ["gcm-secret", "SECRETMISSION", "UN"] {
        assert!(!text.contains(secret), "{secret} in the metrics");
    }
    Ok(())
}

#[tokio::test]
async fn readyz_says_not_ready_while_storage_does_not_commit_and_healthz_stays_up(
) -> anyhow::Result<()> {
    let binary = env!("CARGO_BIN_EXE_concord-under-test");
    let data = TempDir::new("readyz");
    let mut server = ProcessServer::start_with_faults(binary, data.path(), &[]).await?;
    let (status, body) = http_get(server.addr, "/readyz").await?;
    assert_eq!((status, body.contains("ready")), (200, true), "{body}");
    server.fault("hold").await?;
    let (status, body) = http_get(server.addr, "/readyz").await?;
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("does not commit"), "{body}");
    let (status, _) = http_get(server.addr, "/healthz").await?;
    assert_eq!(status, 200, "alive, though not ready");
    server.fault("pass").await?;
    let (status, _) = http_get(server.addr, "/readyz").await?;
    assert_eq!(status, 200);
    server.kill().await;
    Ok(())
}

#[tokio::test]
async fn logs_are_json_lines_on_request() -> anyhow::Result<()> {
    let data = TempDir::new("json-logs");
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_concord-under-test"))
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--log-format",
            "json",
            "--data-dir",
        ])
        .arg(data.path())
        .env("CONCORD_LOG", "info")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()?;
    let stderr = child
        .stderr
        .take()
        .ok_or_else(|| anyhow::anyhow!("no stderr"))?;
    let mut lines = BufReader::new(stderr).lines();
    let listening = tokio::time::timeout(concord_tests::WAIT, async {
        while let Some(line) = lines.next_line().await? {
            let entry: serde_json::Value = serde_json::from_str(&line)
                .map_err(|e| anyhow::anyhow!("not JSON: {line:?}: {e}"))?;
            if entry["fields"]["message"] == "concord listening" {
                return anyhow::Ok(entry);
            }
        }
        anyhow::bail!("the server ended before listening")
    })
    .await??;
    assert_eq!(listening["level"], "INFO");
    assert!(listening["fields"]["addr"]
        .as_str()
        .is_some_and(|a| a.starts_with("127.0.0.1:")));
    let _ = child.start_kill();
    let _ = child.wait().await;
    Ok(())
}
