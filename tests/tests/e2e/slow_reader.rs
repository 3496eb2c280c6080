//! A client that stops reading never delays the others, and is resynced when it reads again.

use concord_tests::{Client, TestServer};

const UPDATES: usize = 400;
const CHUNK: usize = 32 * 1024;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_reader_does_not_delay_others_and_is_resynced() -> anyhow::Result<()> {
    let server = TestServer::start_with(|c| c.outbox_frames = 16).await;
    let url = server.draft("stall").await?;
    let stalled = Client::connect(&url).await?;
    let mut writer = Client::connect(&url).await?;
    let watcher = Client::connect(&url).await?;
    stalled.pause_reading();

    // ~13 MB: more than the socket buffers and the 16-frame outbox hold for the stalled client.
    // Each update waits for its Ack, so that each is its own commit and its own frame: a
    // busy room (other tests beside this one) would otherwise release many per commit and
    // send them as one merged frame, and a few such frames fit the outbox without lagging it.
    let mut last = 0;
    for i in 0..UPDATES {
        let chunk = format!("{i:06}|{}", "x".repeat(CHUNK - 7));
        last = writer.append(&chunk)?;
        writer.wait_acked(last).await?;
    }
    let expected_len = UPDATES * CHUNK;
    // The watcher gets every update while the stalled client still reads nothing.
    watcher.wait_text(|t| t.len() == expected_len).await?;
    writer.wait_acked(last).await?;
    assert!(stalled.text().len() < expected_len);

    // Once it reads again it is brought up to date (a fresh sync step 2), not left with gaps.
    stalled.resume_reading();
    stalled.wait_text(|t| t.len() == expected_len).await?;
    assert_eq!(stalled.text(), watcher.text());
    assert!(
        stalled.seen().sync_step2s >= 2,
        "the catch-up came as a resync, not as the skipped updates"
    );
    assert_eq!(stalled.seen().close, None);
    server.stop().await;
    Ok(())
}
