//! A minimal WebSocket client for load: a hand-made handshake, then frames parsed straight out
//! of one read buffer. Thousands of these live in one process, so nothing is allocated per
//! received frame and one read system call takes as many frames as have arrived.

use std::net::SocketAddr;

use anyhow::{bail, Context};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::TcpStream;

pub const OP_BINARY: u8 = 0x2;
pub const OP_CLOSE: u8 = 0x8;
pub const OP_PING: u8 = 0x9;
pub const OP_PONG: u8 = 0xa;

/// Connects and upgrades; returns the two halves and any frame bytes read past the handshake.
pub async fn connect(
    addr: SocketAddr,
    path_and_query: &str,
) -> anyhow::Result<(OwnedReadHalf, OwnedWriteHalf, Vec<u8>)> {
    let mut tcp = TcpStream::connect(addr).await.context("connect")?;
    tcp.set_nodelay(true)?;
    let request = format!(
        "GET {path_and_query} HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    );
    tcp.write_all(request.as_bytes()).await?;
    let mut received = Vec::with_capacity(1024);
    let mut buf = [0u8; 4096];
    let end = loop {
        let n = tcp.read(&mut buf).await?;
        if n == 0 {
            bail!("closed during the handshake");
        }
        received.extend_from_slice(&buf[..n]);
        if let Some(at) = received.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
        if received.len() > 16 * 1024 {
            bail!("oversized handshake response");
        }
    };
    if !received.starts_with(b"HTTP/1.1 101") {
        let head = String::from_utf8_lossy(&received[..end]);
        bail!(
            "upgrade refused: {}",
            head.lines().next().unwrap_or_default()
        );
    }
    let leftover = received[end..].to_vec();
    let (read, write) = tcp.into_split();
    Ok((read, write, leftover))
}

/// Appends one masked client frame (clients must mask; a fixed mask is fine for load).
pub fn encode_frame(out: &mut Vec<u8>, opcode: u8, payload: &[u8]) {
    const MASK: [u8; 4] = [0x12, 0x34, 0x56, 0x78];
    out.push(0x80 | opcode);
    let len = payload.len();
    if len < 126 {
        out.push(0x80 | len as u8);
    } else if len <= u16::MAX as usize {
        out.push(0x80 | 126);
        out.extend_from_slice(&(len as u16).to_be_bytes());
    } else {
        out.push(0x80 | 127);
        out.extend_from_slice(&(len as u64).to_be_bytes());
    }
    out.extend_from_slice(&MASK);
    out.extend(payload.iter().enumerate().map(|(i, b)| b ^ MASK[i % 4]));
}

/// Reads frames from a half-closed socket into `buf` and calls `each(opcode, payload)` for
/// every complete one. Returns when the connection ends.
pub async fn read_frames(
    read: &mut OwnedReadHalf,
    mut buf: Vec<u8>,
    mut each: impl FnMut(u8, &[u8]) -> bool,
) -> anyhow::Result<()> {
    let mut start = 0;
    loop {
        // Parse every complete frame in buf[start..].
        loop {
            let available = &buf[start..];
            let Some((opcode, header, len)) = frame_header(available) else {
                break;
            };
            if available.len() < header + len {
                break;
            }
            let payload = &available[header..header + len];
            if !each(opcode, payload) {
                return Ok(());
            }
            start += header + len;
        }
        // Keep the partial frame, drop the rest.
        if start > 0 {
            buf.drain(..start);
            start = 0;
        }
        if buf.capacity() - buf.len() < 16 * 1024 {
            buf.reserve(64 * 1024);
        }
        let len = buf.len();
        let spare = buf.capacity() - len;
        buf.resize(len + spare, 0);
        let n = read.read(&mut buf[len..]).await?;
        buf.truncate(len + n);
        if n == 0 {
            return Ok(());
        }
    }
}

/// (opcode, header length, payload length) of the unmasked server frame at the start of `b`.
fn frame_header(b: &[u8]) -> Option<(u8, usize, usize)> {
    if b.len() < 2 {
        return None;
    }
    let opcode = b[0] & 0x0f;
    let short = (b[1] & 0x7f) as usize;
    match short {
        126 if b.len() >= 4 => Some((opcode, 4, u16::from_be_bytes([b[2], b[3]]) as usize)),
        127 if b.len() >= 10 => {
            let mut be = [0u8; 8];
            be.copy_from_slice(&b[2..10]);
            Some((opcode, 10, u64::from_be_bytes(be) as usize))
        }
        126 | 127 => None,
        len => Some((opcode, 2, len)),
    }
}
