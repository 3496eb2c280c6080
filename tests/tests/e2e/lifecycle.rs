//! Documents come and go from memory; many clients arriving at once share one replica;
//! shutdown closes sockets with 1001.

use std::sync::Arc;
use std::time::Duration;

use concord_tests::{Client, TestServer};
use tokio::sync::Barrier;

async fn wait_connections(server: &TestServer, expected: u64) -> anyhow::Result<()> {
    wait_health(server, "connections", expected).await
}

async fn wait_loaded(server: &TestServer, expected: u64) -> anyhow::Result<()> {
    wait_health(server, "documents_loaded", expected).await
}

async fn wait_health(server: &TestServer, field: &str, expected: u64) -> anyhow::Result<()> {
    // Unloading and disconnection are server-side events with no client message to wait on:
    // poll health, bounded.
    let deadline = tokio::time::Instant::now() + concord_tests::WAIT;
    loop {
        let value = server.health().await[field].as_u64();
        if value == Some(expected) {
            return Ok(());
        }
        anyhow::ensure!(
            tokio::time::Instant::now() < deadline,
            "{field} stayed {value:?}, expected {expected}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_document_is_unloaded_and_comes_back_intact() -> anyhow::Result<()> {
    let server = TestServer::start_with(|c| c.idle_unload_after = Duration::from_millis(200)).await;
    let url = server.draft("idle").await?;
    let mut ana = Client::connect(&url).await?;
    let seq = ana.insert(0, "Rev 1, paragraph 17")?;
    ana.wait_acked(seq).await?;
    wait_loaded(&server, 1).await?;
    let sv = ana.state_vector();
    ana.close();
    ana.wait_closed().await?;

    wait_loaded(&server, 0).await?;
    let ben = Client::connect(&url).await?;
    assert_eq!(ben.text(), "Rev 1, paragraph 17");
    assert_eq!(ben.state_vector(), sv);
    wait_loaded(&server, 1).await?;
    server.stop().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_clients_opening_an_unloaded_document_share_one_replica() -> anyhow::Result<()>
{
    const CLIENTS: usize = 200;
    let server = TestServer::start_with(|c| c.idle_unload_after = Duration::from_millis(200)).await;
    let url = server.draft("herd").await?;
    {
        let mut seed = Client::connect(&url).await?;
        let seq = seed.insert(0, "zero draft|")?;
        seed.wait_acked(seq).await?;
        seed.close();
        seed.wait_closed().await?;
    }
    wait_loaded(&server, 0).await?;

    let barrier = Arc::new(Barrier::new(CLIENTS));
    let mut joins = Vec::new();
    for i in 0..CLIENTS {
        let (barrier, url) = (Arc::clone(&barrier), url.clone());
        joins.push(tokio::spawn(async move {
            barrier.wait().await;
            let mut client = Client::connect(&url).await?;
            client.append(&format!("<{i}>"))?;
            anyhow::Ok(client)
        }));
    }
    let mut clients = Vec::new();
    for join in joins {
        clients.push(join.await??);
    }
    assert_eq!(server.health().await["documents_loaded"], 1);

    let all = |text: &str| {
        text.starts_with("zero draft|") && (0..CLIENTS).all(|i| text.contains(&format!("<{i}>")))
    };
    for client in &clients {
        client.wait_text(all).await?;
    }
    let first = clients[0].text();
    for client in &clients {
        assert_eq!(client.text(), first);
    }
    // Concurrent updates leave the room merged; a merge sent to a writer never holds its own.
    for (i, client) in clients.iter().enumerate() {
        let own = format!("<{i}>");
        let echoed = client
            .seen()
            .updates
            .iter()
            .any(|update| update.windows(own.len()).any(|w| w == own.as_bytes()));
        assert!(!echoed, "client {i} received its own edit back");
    }
    server.stop().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_closes_sockets_with_1001_and_keeps_everything() -> anyhow::Result<()> {
    let server = TestServer::start().await;
    let url = server.draft("bye").await?;
    let mut ana = Client::connect(&url).await?;
    for i in 0..20 {
        ana.append(&format!("{i} "))?;
    }
    let text_when_stopping = {
        let probe = Client::connect(&url).await?;
        probe.wait_text(|t| t.ends_with("19 ")).await?;
        probe.text()
    };
    // A graceful restart: the old server closes every socket with 1001 before it stops.
    let server = server.restart().await;
    let close = ana.wait_closed().await?;
    assert_eq!(close.map(|c| c.0), Some(1001));

    let back = Client::connect(&server.ws_url("bye")).await?;
    assert_eq!(back.text(), text_when_stopping);
    server.stop().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_that_goes_silent_is_closed_with_4000() -> anyhow::Result<()> {
    let server = TestServer::start_with(|c| {
        c.ping_interval = Duration::from_millis(100);
        c.liveness_timeout = Duration::from_millis(400);
    })
    .await;
    let url = server.ws_url("liveness");
    let path = url
        .split_once("/ws/")
        .map(|(_, p)| format!("/ws/{p}"))
        .expect("path");
    let silent = concord_tests::SilentPeer::connect(server.addr, &path).await?;
    // A client that keeps reading answers the server's pings (tungstenite replies with pongs),
    // so it stays although it sends nothing of its own.
    let lively = Client::connect(&url).await?;

    // The server pings the silent peer, hears nothing, and closes it with 4000.
    let frames = silent.frames().await?;
    assert!(frames.iter().any(|(op, _)| *op == 0x9), "the server pinged");
    let close = frames
        .iter()
        .find(|(op, _)| *op == 0x8)
        .expect("a close frame");
    assert_eq!(concord_tests::close_code(&close.1), Some(4000));

    assert_eq!(
        lively.seen().close,
        None,
        "a client that answers pings stays"
    );
    assert!(!lively.seen().ended);
    wait_connections(&server, 1).await?;
    server.stop().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_closes_sockets_with_1001_flushes_and_exits_cleanly() -> anyhow::Result<()> {
    const BINARY: &str = env!("CARGO_BIN_EXE_concord-under-test");
    let data = concord_tests::TempDir::new("sigterm");
    let server = concord_tests::ProcessServer::start(BINARY, data.path(), &[]).await?;
    let url = server.draft("term").await?;
    let mut ana = Client::connect(&url).await?;
    for i in 0..50 {
        ana.append(&format!("{i} "))?;
    }
    let expected = {
        let probe = Client::connect(&url).await?;
        probe.wait_text(|t| t.ends_with("49 ")).await?;
        probe.text()
    };
    let status = server.terminate().await?;
    assert!(status.success(), "exit status {status}");
    assert_eq!(ana.wait_closed().await?.map(|c| c.0), Some(1001));

    let server = concord_tests::ProcessServer::start(BINARY, data.path(), &[]).await?;
    let back = Client::connect(&server.ws_url("term")).await?;
    assert_eq!(back.text(), expected);
    server.kill().await;
    Ok(())
}
