//! The WebSocket handshake (RFC 6455 section 4.2), answered here instead of by axum's
//! `WebSocketUpgrade`, so that a connection served on this node gets its TCP socket itself:
//! the room then writes broadcast frames straight into it (`connection/socket.rs`). With
//! several nodes, connections keep axum's WebSocket, which the forwarding pipe works on.
//!
//! A request that is not a WebSocket handshake is refused as axum refuses it: 405 for a
//! method other than GET, 400 for a missing or wrong `Connection`, `Upgrade`,
//! `Sec-WebSocket-Version` or `Sec-WebSocket-Key` header, 426 when the connection cannot be
//! upgraded.

use std::sync::Arc;

use axum::extract::ws::WebSocketUpgrade;
use axum::extract::FromRequestParts;
use axum::http::{header, request::Parts, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use hyper::upgrade::OnUpgrade;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;

use crate::http::AppState;

/// A WebSocket handshake to answer.
pub enum SocketUpgrade {
    /// Served on this node's own socket.
    Direct(DirectUpgrade),
    /// Through axum's WebSocket (with several nodes).
    Axum(WebSocketUpgrade),
}

pub struct DirectUpgrade {
    on_upgrade: OnUpgrade,
    key: HeaderValue,
    offered: Vec<String>,
    selected: Option<&'static str>,
}

impl DirectUpgrade {
    /// Picks the first of `ours` the client offered (as axum's `protocols` does).
    pub fn protocols(mut self, ours: &[&'static str]) -> Self {
        self.selected = ours
            .iter()
            .copied()
            .find(|ours| self.offered.iter().any(|offered| offered == ours));
        self
    }

    pub fn selected_protocol(&self) -> Option<&'static str> {
        self.selected
    }

    /// The 101 answer, and the socket once the client has it: the TCP socket and whatever
    /// the HTTP layer read past the handshake (a client may send its first frames at once).
    pub fn accept(
        self,
    ) -> (
        Response,
        impl std::future::Future<Output = Option<(TcpStream, Bytes)>>,
    ) {
        let mut response = StatusCode::SWITCHING_PROTOCOLS.into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
        headers.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
        if let Ok(accept) = HeaderValue::from_str(&derive_accept_key(self.key.as_bytes())) {
            headers.insert(header::SEC_WEBSOCKET_ACCEPT, accept);
        }
        if let Some(protocol) = self.selected {
            headers.insert(
                header::SEC_WEBSOCKET_PROTOCOL,
                HeaderValue::from_static(protocol),
            );
        }
        let socket = async move {
            let upgraded = match self.on_upgrade.await {
                Ok(upgraded) => upgraded,
                Err(err) => {
                    tracing::debug!(error = %err, "the WebSocket upgrade did not complete");
                    return None;
                }
            };
            match hyper_util::server::conn::auto::upgrade::downcast::<TokioIo<TcpStream>>(upgraded)
            {
                Ok(parts) => Some((parts.io.into_inner(), parts.read_buf)),
                Err(_) => {
                    // `server.rs` serves plain TCP sockets: another transport is a bug.
                    tracing::error!("an upgraded connection is not a TCP socket; dropped");
                    None
                }
            }
        };
        (response, socket)
    }
}

impl FromRequestParts<Arc<AppState>> for SocketUpgrade {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, Self::Rejection> {
        // With several nodes, and for anything but HTTP/1.1 (an HTTP/2 extended CONNECT has
        // no TCP socket of its own), axum's WebSocket.
        if state.ctx.cluster.is_some() || parts.version != axum::http::Version::HTTP_11 {
            return WebSocketUpgrade::from_request_parts(parts, state)
                .await
                .map(SocketUpgrade::Axum)
                .map_err(IntoResponse::into_response);
        }
        let refuse = |status: StatusCode, why: &'static str| (status, why).into_response();
        if parts.method != Method::GET {
            return Err(refuse(
                StatusCode::METHOD_NOT_ALLOWED,
                "Request method must be `GET`",
            ));
        }
        let headers = &parts.headers;
        if !lists_token(headers, header::CONNECTION, "upgrade") {
            return Err(refuse(
                StatusCode::BAD_REQUEST,
                "Connection header did not include 'upgrade'",
            ));
        }
        if !lists_token(headers, header::UPGRADE, "websocket") {
            return Err(refuse(
                StatusCode::BAD_REQUEST,
                "`Upgrade` header did not include 'websocket'",
            ));
        }
        if headers.get(header::SEC_WEBSOCKET_VERSION) != Some(&HeaderValue::from_static("13")) {
            return Err(refuse(
                StatusCode::BAD_REQUEST,
                "`Sec-WebSocket-Version` header did not include '13'",
            ));
        }
        let Some(key) = headers.get(header::SEC_WEBSOCKET_KEY).cloned() else {
            return Err(refuse(
                StatusCode::BAD_REQUEST,
                "`Sec-WebSocket-Key` header missing",
            ));
        };
        let offered = headers
            .get_all(header::SEC_WEBSOCKET_PROTOCOL)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(','))
            .map(|protocol| protocol.trim().to_string())
            .collect();
        let Some(on_upgrade) = parts.extensions.remove::<OnUpgrade>() else {
            return Err(refuse(
                StatusCode::UPGRADE_REQUIRED,
                "WebSocket request couldn't be upgraded since no upgrade state was present",
            ));
        };
        Ok(SocketUpgrade::Direct(DirectUpgrade {
            on_upgrade,
            key,
            offered,
            selected: None,
        }))
    }
}

/// Whether the comma-separated header `name` holds `token` (case-insensitively).
fn lists_token(headers: &HeaderMap, name: header::HeaderName, token: &str) -> bool {
    headers
        .get_all(name)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .any(|part| part.trim().eq_ignore_ascii_case(token))
}
