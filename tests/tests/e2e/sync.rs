//! Two clients converge; updates are not echoed; sockets are TCP_NODELAY.

use concord_tests::{Client, TestServer};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_native_clients_editing_concurrently_converge() -> anyhow::Result<()> {
    let server = TestServer::start().await;
    let url = server.draft("converge").await?;
    let mut ana = Client::connect(&url).await?;
    let mut ben = Client::connect(&url).await?;

    // Interleave edits without waiting for each other: both insert at the start and the end.
    for i in 0..50 {
        ana.insert(0, &format!("a{i};"))?;
        ben.insert(0, &format!("b{i};"))?;
        ana.append("A")?;
        ben.append("B")?;
    }
    let complete = |text: &str| {
        (0..50).all(|i| text.contains(&format!("a{i};")) && text.contains(&format!("b{i};")))
            && text.matches('A').count() == 50
            && text.matches('B').count() == 50
    };
    ana.wait_text(complete).await?;
    ben.wait_text(complete).await?;
    assert_eq!(ana.text(), ben.text());
    assert_eq!(ana.state_vector(), ben.state_vector());

    // The server's own replica is the same: a third client syncing from it sees that text.
    let cleo = Client::connect(&url).await?;
    assert_eq!(cleo.text(), ana.text());
    server.stop().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_introduces_itself_and_acknowledges_durable_updates() -> anyhow::Result<()> {
    let server = TestServer::start().await;
    let mut ana = Client::connect(&server.draft("session").await?).await?;
    let session = ana.seen().session.expect("Session arrives before the sync");
    assert_eq!(session.document, "session");
    assert!(session.server_time_ms > 0);
    let seq = ana.insert(0, "hello")?;
    ana.wait_acked(seq).await?;
    server.stop().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_update_is_not_echoed_to_its_sender() -> anyhow::Result<()> {
    let server = TestServer::start().await;
    let url = server.draft("echo").await?;
    let mut ana = Client::connect(&url).await?;
    let mut ben = Client::connect(&url).await?;

    ana.insert(0, "from ana")?;
    ben.wait_text(|t| t == "from ana").await?;
    // Ben's reply reaches Ana after anything the room queued for her before it, so if Ana's
    // own update had been echoed it would have arrived first.
    ben.append(" / from ben")?;
    ana.wait_text(|t| t == "from ana / from ben").await?;
    let received = ana.seen().updates;
    assert_eq!(
        received.len(),
        1,
        "Ana receives Ben's update and nothing of her own"
    );
    server.stop().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_sockets_are_tcp_nodelay() -> anyhow::Result<()> {
    let server = TestServer::start().await;
    let client = concord_tests::RawSocket::connect(&server.ws_url("nodelay")).await?;
    let client_addr = match client.ws.get_ref() {
        tokio_tungstenite::MaybeTlsStream::Plain(tcp) => tcp.local_addr()?,
        _ => anyhow::bail!("plain TCP expected"),
    };
    // The server runs in this process: find its end of the connection among our own sockets.
    let server_side = our_tcp_sockets()
        .into_iter()
        .find(|s| s.peer == Some(client_addr))
        .expect("the server's socket for this client");
    assert!(
        server_side.nodelay,
        "TCP_NODELAY must be set on accepted sockets"
    );
    // The check can fail: a plain socket (Nagle on by default) reads as not NODELAY.
    let control = std::net::TcpStream::connect(server.addr)?;
    let control_side = our_tcp_sockets()
        .into_iter()
        .find(|s| s.local == Some(control.local_addr().expect("bound")))
        .expect("the control socket");
    assert!(!control_side.nodelay);
    server.stop().await;
    Ok(())
}

struct SocketInfo {
    local: Option<std::net::SocketAddr>,
    peer: Option<std::net::SocketAddr>,
    nodelay: bool,
}

#[allow(unsafe_code)]
fn our_tcp_sockets() -> Vec<SocketInfo> {
    use std::os::fd::{BorrowedFd, RawFd};
    let mut sockets = Vec::new();
    let Ok(entries) = std::fs::read_dir("/proc/self/fd") else {
        return sockets;
    };
    for entry in entries.flatten() {
        let Ok(fd) = entry.file_name().to_string_lossy().parse::<RawFd>() else {
            continue;
        };
        let is_socket = std::fs::read_link(entry.path())
            .map(|target| target.to_string_lossy().starts_with("socket:"))
            .unwrap_or(false);
        if !is_socket {
            continue;
        }
        // SAFETY: the descriptor is open (listed in /proc/self/fd) and only borrowed for the
        // two getsockopt calls below; a descriptor closed meanwhile makes them fail, not UB
        // in our code.
        let fd = unsafe { BorrowedFd::borrow_raw(fd) };
        let sock = socket2::SockRef::from(&fd);
        let local = sock.local_addr().ok().and_then(|a| a.as_socket());
        let peer = sock.peer_addr().ok().and_then(|a| a.as_socket());
        if let Ok(nodelay) = sock.tcp_nodelay() {
            sockets.push(SocketInfo {
                local,
                peer,
                nodelay,
            });
        }
    }
    sockets
}

/// A large room holds its broadcasts briefly and sends them merged (the threshold is lowered
/// here to three connections, the hold raised to 200 ms): updates a writer sends one at a time,
/// each acknowledged before the next, reach the others in fewer frames than updates; all of
/// them, and nobody gets its own back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_room_sends_its_updates_merged_and_loses_none() -> anyhow::Result<()> {
    let server = TestServer::start_with(|c| {
        c.coalesce_from = 3;
        c.coalesce_floor = std::time::Duration::from_millis(200);
    })
    .await;
    let url = server.draft("big").await?;
    let mut writer = Client::connect(&url).await?;
    let other = Client::connect(&url).await?;
    let reader = Client::connect(&url).await?;
    for n in 0..10 {
        let seq = writer.append(&format!("<w{n}>"))?;
        // Acknowledged once durable, while its broadcast is held.
        writer.wait_acked(seq).await?;
    }
    let everything = |text: &str| (0..10).all(|n| text.contains(&format!("<w{n}>")));
    for client in [&other, &reader] {
        client.wait_text(everything).await?;
        assert_eq!(client.text(), writer.text());
    }
    let frames = reader.seen().updates.len();
    assert!(
        frames < 10,
        "10 updates came in {frames} frames: none merged"
    );
    assert!(
        writer.seen().updates.is_empty(),
        "the writer's own updates were echoed"
    );
    Ok(())
}
