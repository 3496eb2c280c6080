//! The WebSocket handshake the server answers itself (so that it holds the TCP socket):
//! requests that are not a handshake are refused as before, the accept key is RFC 6455's,
//! frames a client sends in the same packets as its handshake are read, not lost, and a
//! client that closes gets one close frame, last.

use concord_protocol::Role;
use concord_tests::TestServer;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Sends `request` and returns the response head and whatever followed it.
async fn exchange(addr: std::net::SocketAddr, request: &[u8]) -> anyhow::Result<(String, Vec<u8>)> {
    let mut tcp = TcpStream::connect(addr).await?;
    tcp.write_all(request).await?;
    let mut received = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let n = tokio::time::timeout(concord_tests::WAIT, tcp.read(&mut buf)).await??;
        anyhow::ensure!(n > 0, "closed: {}", String::from_utf8_lossy(&received));
        received.extend_from_slice(&buf[..n]);
        if let Some(end) = received.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&received[..end]).into_owned();
            let mut rest = received[end + 4..].to_vec();
            if head.starts_with("HTTP/1.1 101") {
                // Read on until the server's answer to the frame sent with the handshake.
                while !has_sync_step2(&rest) {
                    let n = tokio::time::timeout(concord_tests::WAIT, tcp.read(&mut buf)).await??;
                    anyhow::ensure!(n > 0, "closed after the handshake");
                    rest.extend_from_slice(&buf[..n]);
                }
            }
            return Ok((head, rest));
        }
    }
}

/// Whether the server's frames in `bytes` include a y-websocket SyncStep2 (`0, 1, ...`).
fn has_sync_step2(bytes: &[u8]) -> bool {
    let mut at = 0;
    while at + 2 <= bytes.len() {
        let mut len = usize::from(bytes[at + 1] & 0x7f);
        let mut start = at + 2;
        if len == 126 {
            if start + 2 > bytes.len() {
                return false;
            }
            len = usize::from(u16::from_be_bytes([bytes[start], bytes[start + 1]]));
            start += 2;
        }
        if start + len > bytes.len() {
            return false;
        }
        if bytes[at] == 0x82 && bytes[start..start + len].starts_with(&[0, 1]) {
            return true;
        }
        at = start + len;
    }
    false
}

fn handshake(path: &str, headers: &str) -> String {
    format!("GET {path} HTTP/1.1\r\nHost: concord\r\n{headers}\r\n")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_answers_the_handshake_and_reads_what_comes_with_it() -> anyhow::Result<()> {
    let server = TestServer::start().await;
    let token = server.token("ana", "MEX", Role::Facilitator, "gcm");
    let path = format!("/ws/gcm?token={token}");
    let key = "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n";
    let upgrade = "Upgrade: websocket\r\nConnection: keep-alive, Upgrade\r\n";
    let version = "Sec-WebSocket-Version: 13\r\n";

    // Not handshakes: refused before any upgrade.
    for (headers, refusal) in [
        (format!("{key}{version}"), "400"),
        (format!("{upgrade}{key}Sec-WebSocket-Version: 8\r\n"), "400"),
        (format!("{upgrade}{version}"), "400"),
    ] {
        let (head, _) = exchange(server.addr, handshake(&path, &headers).as_bytes()).await?;
        assert!(
            head.starts_with(&format!("HTTP/1.1 {refusal}")),
            "{headers}: {head}"
        );
    }

    // A handshake with the client's first frame in the same write: a masked SyncStep1 with
    // an empty state vector. The server's SyncStep2 answers it.
    let mut request = handshake(&path, &format!("{upgrade}{key}{version}")).into_bytes();
    let mask = [0x12u8, 0x34, 0x56, 0x78];
    let sync_step1 = [0u8, 0, 1, 0];
    request.extend_from_slice(&[0x82, 0x80 | sync_step1.len() as u8]);
    request.extend_from_slice(&mask);
    request.extend(
        sync_step1
            .iter()
            .zip(mask.iter().cycle())
            .map(|(b, m)| b ^ m),
    );
    let (head, rest) = exchange(server.addr, &request).await?;
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    // RFC 6455's example key and its accept value.
    assert!(
        head.to_ascii_lowercase()
            .contains("sec-websocket-accept: s3pplmbitxaq9kygzzhzrbk+xoo="),
        "{head}"
    );
    assert!(has_sync_step2(&rest));
    Ok(())
}

/// Reads `tcp` to its end and returns the server's frames as (opcode, payload).
async fn frames_to_end(
    tcp: &mut TcpStream,
    mut bytes: Vec<u8>,
) -> anyhow::Result<Vec<(u8, Vec<u8>)>> {
    tokio::time::timeout(concord_tests::WAIT, tcp.read_to_end(&mut bytes)).await??;
    let mut frames = Vec::new();
    let mut at = 0;
    while at + 2 <= bytes.len() {
        let opcode = bytes[at] & 0x0f;
        let mut len = usize::from(bytes[at + 1] & 0x7f);
        at += 2;
        if len == 126 {
            len = usize::from(u16::from_be_bytes([bytes[at], bytes[at + 1]]));
            at += 2;
        } else if len == 127 {
            let mut be = [0u8; 8];
            be.copy_from_slice(&bytes[at..at + 8]);
            len = usize::try_from(u64::from_be_bytes(be))?;
            at += 8;
        }
        anyhow::ensure!(at + len <= bytes.len(), "truncated frame");
        frames.push((opcode, bytes[at..at + len].to_vec()));
        at += len;
    }
    Ok(frames)
}

/// A client that closes while others type gets exactly one close frame back, and nothing
/// after it: neither the broadcasts still on their way nor the server's own close.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_closes_gets_one_close_frame_and_nothing_after() -> anyhow::Result<()> {
    let server = TestServer::start().await;
    let url = server.draft("gcm").await?;
    let mut typist = concord_tests::Client::connect(&url).await?;
    let token = server.token("eve", "EU", Role::Delegation, "gcm");
    let path = format!("/ws/gcm?token={token}");
    let body = |txn: &yrs::TransactionMut| concord_tests::client::body(txn);
    for round in 0..10 {
        let mut tcp = TcpStream::connect(server.addr).await?;
        let request = handshake(
            &path,
            "Upgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n",
        );
        tcp.write_all(request.as_bytes()).await?;
        let mut received = Vec::new();
        let mut buf = [0u8; 4096];
        let end = loop {
            let n = tokio::time::timeout(concord_tests::WAIT, tcp.read(&mut buf)).await??;
            anyhow::ensure!(n > 0, "closed during the handshake");
            received.extend_from_slice(&buf[..n]);
            if let Some(at) = received.windows(4).position(|w| w == b"\r\n\r\n") {
                break at + 4;
            }
        };
        anyhow::ensure!(received.starts_with(b"HTTP/1.1 101"));
        // Keystrokes on their way to this delegate while it closes (1000, masked).
        for _ in 0..5 {
            typist.insert_into(&body, 0, "x")?;
        }
        let mask = [1u8, 2, 3, 4];
        let mut close = vec![0x88, 0x82];
        close.extend_from_slice(&mask);
        close.extend(
            1000u16
                .to_be_bytes()
                .iter()
                .zip(mask.iter())
                .map(|(b, m)| b ^ m),
        );
        tcp.write_all(&close).await?;
        for _ in 0..5 {
            typist.insert_into(&body, 0, "y")?;
        }
        let frames = frames_to_end(&mut tcp, received[end..].to_vec()).await?;
        let closes: Vec<usize> = frames
            .iter()
            .enumerate()
            .filter(|(_, (opcode, _))| *opcode == 0x8)
            .map(|(i, _)| i)
            .collect();
        assert_eq!(
            closes,
            vec![frames.len() - 1],
            "round {round}: one close frame, last of {} frames",
            frames.len()
        );
    }
    Ok(())
}
