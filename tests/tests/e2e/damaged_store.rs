//! A damaged store is refused at start with a clear message, never served (SQLite takes a
//! 0-byte file for a new database, and would serve a corrupted one until it trips).

use concord_tests::{Client, ProcessServer, TempDir};
use tokio::process::Command;

const BINARY: &str = env!("CARGO_BIN_EXE_concord-under-test");

/// Starts `concord serve` on `data` and expects it to exit with an error naming the damage.
async fn refuses_to_serve(data: &TempDir, expected: &str) -> anyhow::Result<()> {
    let child = Command::new(BINARY)
        .arg("serve")
        .args(["--listen", "127.0.0.1:0", "--data-dir"])
        .arg(data.path())
        .env("CONCORD_LOG", "error")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()?;
    let output = tokio::time::timeout(concord_tests::WAIT, child.wait_with_output()).await??;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "served a damaged store: {stdout}");
    assert!(!stdout.contains("listening"), "{stdout}");
    assert!(stderr.contains(expected), "unclear refusal: {stderr}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_emptied_database_is_refused() -> anyhow::Result<()> {
    let data = TempDir::new("emptied");
    std::fs::write(data.path().join("concord.db"), b"")?;
    refuses_to_serve(&data, "is empty (0 bytes)").await?;
    // Nothing was written over it.
    assert_eq!(std::fs::metadata(data.path().join("concord.db"))?.len(), 0);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_corrupted_mid_file_is_refused() -> anyhow::Result<()> {
    let data = TempDir::new("corrupted");
    let server = ProcessServer::start(BINARY, data.path(), &[]).await?;
    let url = server.draft("gcm").await?;
    let mut writer = Client::connect(&url).await?;
    let mut last = 0;
    for i in 0..300 {
        last = writer.append(&format!(" words {i} of a long enough negotiated text"))?;
    }
    writer.wait_acked(last).await?;
    let status = server.terminate().await?;
    assert!(status.success());
    let path = data.path().join("concord.db");
    let mut bytes = std::fs::read(&path)?;
    anyhow::ensure!(bytes.len() > 6 * 4096, "store too small: {}", bytes.len());
    // Garbage over the third and fourth pages (the header stays intact).
    bytes[2 * 4096..4 * 4096].fill(0xA5);
    std::fs::write(&path, &bytes)?;
    refuses_to_serve(&data, "damaged").await
}
