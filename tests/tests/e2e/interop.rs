//! A real Yjs client (npm `yjs` + `y-websocket`, from the committed lock file) and a native
//! client edit the same document through the server and see each other's edits.

use std::path::PathBuf;
use std::process::Stdio;

use anyhow::{bail, Context};
use concord_tests::{Client, TestServer};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

fn interop_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("interop")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stock_yjs_client_and_a_native_client_see_each_other() -> anyhow::Result<()> {
    let dir = interop_dir();
    if !dir.join("node_modules/y-websocket").exists() {
        bail!("tests/interop/node_modules is missing: run scripts/test.sh (it runs npm ci)");
    }
    let server = TestServer::start().await;
    let mut native = Client::connect(&server.draft("interop").await?).await?;
    let seq = native.append("PP1 Recalling the zero draft;")?;
    native.wait_acked(seq).await?;

    let token = server.token("yjs", "CHE", concord_protocol::Role::Facilitator, "interop");
    let mut node = Command::new("node")
        .current_dir(&dir)
        .env("CONCORD_TOKEN", token)
        .arg("yjs-client.mjs")
        .arg(format!("ws://{}/ws", server.addr))
        .arg("interop")
        .arg("body")
        .arg("PP1 Recalling the zero draft;") // the existing document synced to Yjs
        .arg(" OP2 Yjs proposes;") // Yjs edits
        .arg(" OP3 native replies;") // and waits for the native edit
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .context("node is needed for the interop test")?;
    let stdout = node.stdout.take().context("stdout")?;
    let mut lines = BufReader::new(stdout).lines();
    let edited = tokio::time::timeout(concord_tests::WAIT, lines.next_line()).await??;
    assert_eq!(edited.as_deref(), Some("EDITED"));

    native
        .wait_text(|t| t.ends_with(" OP2 Yjs proposes;"))
        .await?;
    native.append(" OP3 native replies;")?;
    let saw = tokio::time::timeout(concord_tests::WAIT, lines.next_line()).await??;
    assert_eq!(saw.as_deref(), Some("SAW"));
    let status = tokio::time::timeout(concord_tests::WAIT, node.wait()).await??;
    assert!(status.success(), "the Yjs client failed: {status}");
    assert_eq!(
        native.text(),
        "PP1 Recalling the zero draft; OP2 Yjs proposes; OP3 native replies;"
    );
    server.stop().await;
    Ok(())
}

/// Runs the stock Yjs client script to its end; returns what it printed.
async fn run_yjs(server: &TestServer, token: &str, args: [&str; 5]) -> anyhow::Result<Vec<String>> {
    let mut node = Command::new("node")
        .current_dir(interop_dir())
        .env("CONCORD_TOKEN", token)
        .arg("yjs-client.mjs")
        .arg(format!("ws://{}/ws", server.addr))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .context("node is needed for the interop test")?;
    let stdout = node.stdout.take().context("stdout")?;
    let mut lines = BufReader::new(stdout).lines();
    let mut printed = Vec::new();
    while let Some(line) = tokio::time::timeout(concord_tests::WAIT, lines.next_line()).await?? {
        printed.push(line);
    }
    let status = tokio::time::timeout(concord_tests::WAIT, node.wait()).await??;
    anyhow::ensure!(status.success(), "the Yjs client failed: {status}");
    Ok(printed)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stock_yjs_delegation_edits_its_amendment_and_is_refused_once_locked(
) -> anyhow::Result<()> {
    if !interop_dir().join("node_modules/y-websocket").exists() {
        bail!("tests/interop/node_modules is missing: run scripts/test.sh (it runs npm ci)");
    }
    let server = TestServer::start().await;
    let chair = server.token("chair", "UN", concord_protocol::Role::Facilitator, "gcm");
    let mex = server.token("ana", "MEX", concord_protocol::Role::Delegation, "gcm");
    let command = |token: &str, body: &str| {
        let (addr, token, body) = (server.addr, token.to_string(), body.to_string());
        async move {
            let (status, answer) =
                concord_tests::http_post_json(addr, "/api/docs/gcm/commands", &token, &body)
                    .await?;
            anyhow::ensure!(status == 200, "{body}: {status} {answer}");
            Ok(answer)
        }
    };
    command(
        &chair,
        r#"{"type":"import-text","text":"[17] Cooperate to address irregular migration."}"#,
    )
    .await?;
    command(&mex, r#"{"type":"create-amendment","paragraph":"p1"}"#).await?;
    let reader = Client::connect(&server.ws_url_with("gcm", &chair)).await?;

    // The sponsor's stock Yjs client edits the amendment's text (it starts as the body).
    let printed = run_yjs(
        &server,
        &mex,
        [
            "gcm",
            "amendment:a1",
            "irregular migration.",
            " Add: safe and orderly.",
            "safe and orderly",
        ],
    )
    .await?;
    assert_eq!(printed, ["EDITED", "SAW"]);
    let amended = |doc: &yrs::Doc| {
        concord_protocol::schema::amendment(&yrs::Transact::transact(doc), "a1")
            .map(|a| a.text)
            .unwrap_or_default()
    };
    reader
        .wait_until("the Yjs edit", |_, doc| {
            amended(doc).ends_with(" Add: safe and orderly.")
        })
        .await?;

    // The paragraph is agreed and locked: the same edit is refused and nothing changes.
    command(
        &chair,
        r#"{"type":"lock","paragraph":"p1","reason":"agreed ad ref"}"#,
    )
    .await?;
    let auth = format!("Authorization: Bearer {chair}");
    let headers = [auth.as_str()];
    let state = || concord_tests::http_get_raw(server.addr, "/api/docs/gcm/state", &headers);
    let (_, before) = state().await?;
    let printed = run_yjs(
        &server,
        &mex,
        [
            "gcm",
            "amendment:a1",
            "safe and orderly.",
            " And regular.",
            "!refused",
        ],
    )
    .await?;
    assert_eq!(printed, ["EDITED", "REFUSED"]);
    let (_, after) = state().await?;
    assert_eq!(
        before, after,
        "a refused edit leaves the document byte for byte"
    );
    assert_eq!(
        reader.with_doc(amended),
        "Cooperate to address irregular migration. Add: safe and orderly."
    );
    server.stop().await;
    Ok(())
}
