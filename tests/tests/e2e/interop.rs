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
