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
        let (ws, _) = tokio_tungstenite::connect_async_with_config(url, Some(config), true).await?;
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
