//! A bare WebSocket for sending crafted frames and reading the close code.

use anyhow::{anyhow, bail};
use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub struct RawSocket {
    pub ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

impl RawSocket {
    pub async fn connect(url: &str) -> anyhow::Result<Self> {
        let config = WebSocketConfig::default()
            .max_message_size(Some(256 << 20))
            .max_frame_size(Some(256 << 20));
        let request = crate::concord_request(url)?;
        let (ws, _) =
            tokio_tungstenite::connect_async_with_config(request, Some(config), true).await?;
        Ok(RawSocket { ws })
    }

    pub async fn send_binary(&mut self, bytes: Vec<u8>) -> anyhow::Result<()> {
        self.ws.send(WsMessage::Binary(bytes.into())).await?;
        Ok(())
    }

    pub async fn send_text(&mut self, text: &str) -> anyhow::Result<()> {
        self.ws.send(WsMessage::Text(text.into())).await?;
        Ok(())
    }

    /// Reads (and discards) frames until the server's close frame; returns its code and reason.
    pub async fn expect_close(&mut self) -> anyhow::Result<(u16, String)> {
        let read = async {
            while let Some(frame) = self.ws.next().await {
                match frame? {
                    WsMessage::Close(Some(close)) => {
                        return Ok((u16::from(close.code), close.reason.to_string()))
                    }
                    WsMessage::Close(None) => bail!("close frame without a code"),
                    _ => {}
                }
            }
            Err(anyhow!("connection ended without a close frame"))
        };
        tokio::time::timeout(crate::WAIT, read).await?
    }
}

/// A peer that completes the WebSocket handshake and then neither reads nor writes, like a
/// laptop whose lid was closed. Afterwards, [`SilentPeer::frames`] reads whatever the server
/// left in the socket, as raw frames.
pub struct SilentPeer {
    tcp: TcpStream,
    leftover: Vec<u8>,
}

impl SilentPeer {
    pub async fn connect(addr: std::net::SocketAddr, path: &str) -> anyhow::Result<Self> {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut tcp = TcpStream::connect(addr).await?;
        let request = format!(
            "GET {path} HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        );
        tcp.write_all(request.as_bytes()).await?;
        let mut received = Vec::new();
        let mut buf = [0u8; 4096];
        let end = loop {
            let n = tokio::time::timeout(crate::WAIT, tcp.read(&mut buf)).await??;
            if n == 0 {
                bail!("connection closed during the handshake");
            }
            received.extend_from_slice(&buf[..n]);
            if let Some(at) = received.windows(4).position(|w| w == b"\r\n\r\n") {
                break at + 4;
            }
        };
        if !received.starts_with(b"HTTP/1.1 101") {
            bail!(
                "upgrade refused: {}",
                String::from_utf8_lossy(&received[..end])
            );
        }
        Ok(SilentPeer {
            tcp,
            leftover: received[end..].to_vec(),
        })
    }

    /// Reads until the server closes the TCP connection; returns its frames as
    /// (opcode, payload).
    pub async fn frames(mut self) -> anyhow::Result<Vec<(u8, Vec<u8>)>> {
        use tokio::io::AsyncReadExt;
        let mut bytes = std::mem::take(&mut self.leftover);
        tokio::time::timeout(crate::WAIT, self.tcp.read_to_end(&mut bytes)).await??;
        let mut frames = Vec::new();
        let mut at = 0;
        while at + 2 <= bytes.len() {
            let opcode = bytes[at] & 0x0f;
            let mut len = (bytes[at + 1] & 0x7f) as usize;
            at += 2;
            if len == 126 {
                len = u16::from_be_bytes([bytes[at], bytes[at + 1]]) as usize;
                at += 2;
            } else if len == 127 {
                let mut be = [0u8; 8];
                be.copy_from_slice(&bytes[at..at + 8]);
                len = u64::from_be_bytes(be) as usize;
                at += 8;
            }
            anyhow::ensure!(at + len <= bytes.len(), "truncated frame");
            frames.push((opcode, bytes[at..at + len].to_vec()));
            at += len;
        }
        Ok(frames)
    }
}

/// The close code of a close frame's payload.
pub fn close_code(payload: &[u8]) -> Option<u16> {
    (payload.len() >= 2).then(|| u16::from_be_bytes([payload[0], payload[1]]))
}
