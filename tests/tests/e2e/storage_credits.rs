//! Storage credits bound the writes waiting for their commit; a room holds one only while it
//! writes, so quiet open documents never starve the others.

use concord_tests::{Client, TestServer};

/// With one credit in all, a quiet open document (a client connected, nothing written) must not
/// keep it: another document still loads, syncs and stores a write. (Rooms used to take a
/// credit on entering their loop and keep it while they only read: this hung.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quiet_open_documents_do_not_starve_another_room_of_credits() -> anyhow::Result<()> {
    let server = TestServer::start_with(|config| config.storage_queue = 1).await;
    let url_a = server.draft("quiet-a").await?;
    // A client keeps room A loaded (never idle); it writes nothing.
    let _a = Client::connect(&url_a).await?;
    let opened = tokio::time::timeout(concord_tests::WAIT, async {
        let url_b = server.draft("other-b").await?;
        let mut b = Client::connect(&url_b).await?;
        let seq = b.append("hello")?;
        b.wait_acked(seq).await?;
        anyhow::Ok(())
    })
    .await;
    assert!(
        matches!(opened, Ok(Ok(()))),
        "room B never served its client: {opened:?}"
    );
    server.stop().await;
    Ok(())
}
