//! With several nodes, a document is served by the node that owns it
//! ([`crate::storage::redis`]): a node that receives a request for a document another node
//! owns forwards it there. A WebSocket is piped frame for frame to a connection this node opens
//! to the owner with the client's own credentials (the owner authenticates, runs the policy,
//! answers and acks as for its own clients); an HTTP request is sent on and its answer sent
//! back. Forwarded requests carry [`FORWARDED`] and are never forwarded again.
//!
//! While an owner that died still holds its lease, its address refuses connections: the
//! request waits, re-reading where the document is served, until the lease expires and a live
//! node (possibly this one) takes the document.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::ws::{self, WebSocket};
use axum::extract::FromRequestParts;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::{self, client::IntoClientRequest};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::http::{ApiError, AppState};
use crate::storage::redis::{RedisLog, Route, LEASE};
use crate::storage::StorageError;

/// The header a forwarding node adds.
pub const FORWARDED: &str = "x-concord-forwarded";

/// A connection to the owning node.
pub type Upstream = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// How long a connection to an owner may take to open (it is on the same network).
const HANDSHAKE: Duration = Duration::from_secs(1);

/// How long a forwarded HTTP request may wait for its answer. It is never sent twice: once
/// sent, the owner may have acted on it, so a timeout is answered 504 (outcome unknown).
const ANSWER: Duration = Duration::from_secs(30);

/// How long a forwarded read may wait for its answer before it is asked again elsewhere.
const READ_ANSWER: Duration = Duration::from_secs(2);

/// On an answer from an owner: the request was not done (the document moved on), so the
/// forwarding node may send it again where the document is now.
const NOT_DONE: &str = "x-concord-not-done";

/// How long a request waits for a document whose owner cannot be reached to get a new one.
fn patience() -> Duration {
    LEASE + Duration::from_secs(2)
}

fn unavailable(message: impl Into<String>) -> ApiError {
    ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "document-unavailable",
        message,
    )
}

/// Where `doc` is served, for a request with `headers`: `None` here, or the owner's address.
/// A request another node forwarded is served here whatever happens.
async fn owner(
    cluster: &RedisLog,
    doc: &str,
    headers: &HeaderMap,
) -> Result<Option<String>, ApiError> {
    let forwarded = headers.contains_key(FORWARDED);
    let started = Instant::now();
    loop {
        // Each question to Redis is bounded too: the wait as a whole stays within patience.
        let left = patience().saturating_sub(started.elapsed());
        let route = tokio::time::timeout(left.max(Duration::from_millis(1)), cluster.route(doc))
            .await
            .unwrap_or_else(|_| Err(StorageError::Backend("redis did not answer in time".into())));
        match route {
            Ok(Route::Here) => return Ok(None),
            Ok(Route::Node(_)) if forwarded => {
                return Err(unavailable(format!(
                    "{doc} moved to another node meanwhile; try again"
                )))
            }
            Ok(Route::Node(owner)) => return Ok(Some(owner)),
            // The document is leaving this node (its room is closing after the lease moved):
            // a client's own request waits to see where it goes. A forwarded one is answered
            // at once; the node that forwarded it waits. Redis unreachable is answered at once
            // (503): waiting would only hold every request.
            Err(StorageError::Moving(err)) if !forwarded && started.elapsed() < patience() => {
                tracing::debug!(doc, error = %err, "cannot route yet; waiting");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(err) => {
                return Err(unavailable(format!(
                    "cannot tell which node serves {doc}: {err}"
                )))
            }
        }
    }
}

/// For a WebSocket upgrade of `doc`: a connection to its owner, opened with the client's
/// headers (its token, its subprotocols), or `None` if this node serves it.
pub async fn open_upstream(
    cluster: &RedisLog,
    doc: &str,
    path_and_query: &str,
    headers: &HeaderMap,
) -> Result<Option<Upstream>, ApiError> {
    let started = Instant::now();
    loop {
        let Some(owner) = owner(cluster, doc, headers).await? else {
            return Ok(None);
        };
        let request = upstream_request(&owner, path_and_query, headers)?;
        // The owner's frames are the owner's to bound (a whole large document is one frame).
        let config = tungstenite::protocol::WebSocketConfig::default()
            .max_message_size(None)
            .max_frame_size(None);
        // A paused owner still accepts connections (the kernel does) but never answers: the
        // handshake is bounded, and retried (an upgrade changes nothing at the owner).
        let handshake = tokio_tungstenite::connect_async_with_config(request, Some(config), true);
        let answered = tokio::time::timeout(HANDSHAKE, handshake)
            .await
            .unwrap_or_else(|_| Err(tungstenite::Error::Io(std::io::ErrorKind::TimedOut.into())));
        match answered {
            Ok((upstream, _)) => return Ok(Some(upstream)),
            // The owner refused (its HTTP answer: a bad token, a limit): the client gets it.
            Err(tungstenite::Error::Http(response)) if response.status() != 503 => {
                let status = StatusCode::from_u16(response.status().as_u16())
                    .unwrap_or(StatusCode::BAD_GATEWAY);
                let body = response
                    .body()
                    .as_ref()
                    .map(|b| String::from_utf8_lossy(b).into_owned())
                    .unwrap_or_default();
                return Err(ApiError::new(status, "refused-by-owner", body));
            }
            Err(err) if started.elapsed() < patience() => {
                tracing::debug!(doc, owner, error = %err, "owner unreachable; waiting for its lease");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(err) => {
                return Err(unavailable(format!(
                    "the node serving {doc} ({owner}) cannot be reached: {err}"
                )))
            }
        }
    }
}

fn upstream_request(
    owner: &str,
    path_and_query: &str,
    headers: &HeaderMap,
) -> Result<tungstenite::handshake::client::Request, ApiError> {
    let mut request = format!("ws://{owner}{path_and_query}")
        .into_client_request()
        .map_err(|e| unavailable(format!("bad owner address {owner}: {e}")))?;
    for name in ["sec-websocket-protocol", "authorization"] {
        if let Some(value) = headers.get(name) {
            request.headers_mut().insert(name, value.clone());
        }
    }
    request
        .headers_mut()
        .insert(FORWARDED, HeaderValue::from_static("1"));
    Ok(request)
}

/// How a pipe keeps both of its sockets honest (the node's own connection settings).
#[derive(Debug, Clone)]
pub struct PipeSettings {
    pub ping_interval: Duration,
    pub liveness_timeout: Duration,
    pub write_timeout: Duration,
    pub shutdown: tokio_util::sync::CancellationToken,
}

/// Pipes a client's socket to its owner's until either side closes. Each side is pinged and
/// dropped when silent past the liveness timeout, as this node's own connections are; an
/// owner that goes away without a close (it died, or its host vanished) closes the client
/// with 1012, so it reconnects (to any node) and re-sends what was not acknowledged.
pub async fn pipe(client: WebSocket, upstream: Upstream, settings: PipeSettings) {
    let (mut to_client, mut from_client) = client.split();
    let (mut to_owner, mut from_owner) = upstream.split();
    let mut ping = tokio::time::interval(settings.ping_interval);
    ping.tick().await;
    let (mut heard_client, mut heard_owner) = (Instant::now(), Instant::now());
    let write = settings.write_timeout;
    let end: Option<(u16, String)> = loop {
        tokio::select! {
            message = from_owner.next() => match message {
                Some(Ok(message)) => {
                    heard_owner = Instant::now();
                    let Some(message) = to_axum(message) else { continue };
                    let closing = matches!(message, ws::Message::Close(_));
                    let sent = tokio::time::timeout(write, to_client.send(message)).await;
                    if closing || !matches!(sent, Ok(Ok(()))) {
                        let _ = to_owner.close().await;
                        break None;
                    }
                }
                _ => break Some((1012, "the node serving this document went away; reconnect".into())),
            },
            message = from_client.next() => match message {
                Some(Ok(message)) => {
                    heard_client = Instant::now();
                    let Some(message) = to_tungstenite(message) else { continue };
                    let closing = matches!(message, tungstenite::Message::Close(_));
                    let sent = tokio::time::timeout(write, to_owner.send(message)).await;
                    if closing {
                        break None;
                    }
                    if !matches!(sent, Ok(Ok(()))) {
                        break Some((1012, "the node serving this document went away; reconnect".into()));
                    }
                }
                // A frame past the size limit, bad UTF-8...: closed as this node closes its own.
                Some(Err(err)) => {
                    let _ = to_owner.close().await;
                    break crate::connection::read_error(err)
                        .map(|(code, reason)| (code as u16, reason));
                }
                None => {
                    let _ = to_owner.close().await;
                    break None;
                }
            },
            _ = ping.tick() => {
                if heard_owner.elapsed() > settings.liveness_timeout {
                    break Some((1012, "the node serving this document stopped answering; reconnect".into()));
                }
                if heard_client.elapsed() > settings.liveness_timeout {
                    let _ = to_owner.close().await;
                    break None;
                }
                let pinged = tokio::time::timeout(write, to_owner.send(tungstenite::Message::Ping(Default::default()))).await;
                let pinged_client = tokio::time::timeout(write, to_client.send(ws::Message::Ping(Default::default()))).await;
                if !matches!(pinged, Ok(Ok(()))) || !matches!(pinged_client, Ok(Ok(()))) {
                    let _ = to_owner.close().await;
                    break Some((1012, "the connection to the document's node failed; reconnect".into()));
                }
            }
            () = settings.shutdown.cancelled() => {
                let _ = to_owner.close().await;
                break Some((1001, "the server is shutting down".into()));
            }
        }
    };
    if let Some((code, reason)) = end {
        let close = ws::Message::Close(Some(ws::CloseFrame {
            code,
            reason: reason.into(),
        }));
        let _ = tokio::time::timeout(write, to_client.send(close)).await;
    }
}

/// Frames are passed on as they are; pings and pongs are each hop's own.
fn to_axum(message: tungstenite::Message) -> Option<ws::Message> {
    Some(match message {
        tungstenite::Message::Binary(bytes) => ws::Message::Binary(bytes),
        tungstenite::Message::Text(text) => ws::Message::Text(text.as_str().into()),
        tungstenite::Message::Close(frame) => ws::Message::Close(frame.map(|f| ws::CloseFrame {
            code: f.code.into(),
            reason: f.reason.as_str().into(),
        })),
        _ => return None,
    })
}

fn to_tungstenite(message: ws::Message) -> Option<tungstenite::Message> {
    Some(match message {
        ws::Message::Binary(bytes) => tungstenite::Message::Binary(bytes),
        ws::Message::Text(text) => tungstenite::Message::Text(text.as_str().into()),
        ws::Message::Close(frame) => {
            tungstenite::Message::Close(frame.map(|f| tungstenite::protocol::CloseFrame {
                code: f.code.into(),
                reason: f.reason.as_str().into(),
            }))
        }
        _ => return None,
    })
}

/// The document an API path names (`/api/docs/{doc}/...`), percent-decoded as the route's
/// own extractor decodes it (`gc%6D` is `gcm`).
fn document_of(path: &str) -> Option<String> {
    let rest = path.strip_prefix("/api/docs/")?;
    let raw = rest.split('/').next().filter(|doc| !doc.is_empty())?;
    let mut bytes = Vec::with_capacity(raw.len());
    let mut input = raw.bytes();
    while let Some(b) = input.next() {
        if b == b'%' {
            let hex = [input.next()?, input.next()?];
            let hex = std::str::from_utf8(&hex).ok()?;
            bytes.push(u8::from_str_radix(hex, 16).ok()?);
        } else {
            bytes.push(b);
        }
    }
    String::from_utf8(bytes).ok()
}

/// Middleware: a document's HTTP request goes to the node that owns the document.
pub async fn requests(
    State(state): State<Arc<AppState>>,
    request: Request,
    next: Next,
) -> Response {
    let Some(cluster) = state.ctx.cluster.as_ref() else {
        return next.run(request).await;
    };
    let Some(doc) = document_of(request.uri().path()) else {
        return next.run(request).await;
    };
    let (mut parts, body) = request.into_parts();
    // Only a caller who may open the document moves it between nodes (takes its lease); any
    // other request is answered here, by the route itself (a 401, 403 or 400).
    let may_open = match crate::http::Authenticated::from_request_parts(&mut parts, &state).await {
        Ok(crate::http::Authenticated(identity)) => {
            crate::http::validate_document_id(&doc).is_ok() && identity.may_open(&doc).is_ok()
        }
        Err(_) => false,
    };
    if !may_open {
        return next.run(Request::from_parts(parts, body)).await;
    }
    let idempotent = matches!(parts.method, Method::GET | Method::HEAD);
    let started = Instant::now();
    // The body is read once: a forwarded request may have to be sent again.
    let Ok(body) = axum::body::to_bytes(body, state.ctx.config.max_frame_bytes).await else {
        return ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too-large",
            "the request is too large",
        )
        .into_response();
    };
    loop {
        let owner = match owner(cluster, &doc, &parts.headers).await {
            Ok(None) => {
                let request = Request::from_parts(parts, Body::from(body));
                return next.run(request).await;
            }
            Ok(Some(owner)) => owner,
            Err(err) => {
                // Nothing was done: the forwarding node may ask again elsewhere.
                let mut refused = err.into_response();
                refused
                    .headers_mut()
                    .insert(NOT_DONE, HeaderValue::from_static("1"));
                return refused;
            }
        };
        let answer = if idempotent { READ_ANSWER } else { ANSWER };
        match send(&owner, &parts, body.clone(), answer).await {
            // The owner moved on meanwhile and did nothing: ask again where it is now.
            Ok(response)
                if response.headers().contains_key(NOT_DONE) && started.elapsed() < patience() =>
            {
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Ok(response) => {
                state.ctx.metrics.forwarded("request");
                return response;
            }
            // A read may be asked again (a paused owner holds it until its lease moves on).
            Err(Unsent::Sent(_)) if idempotent && started.elapsed() < patience() + ANSWER => {}
            Err(Unsent::Sent(err)) => {
                return ApiError::new(
                    StatusCode::GATEWAY_TIMEOUT,
                    "owner-timeout",
                    format!("the node serving {doc} did not answer ({err}); the request may or may not have been done"),
                )
                .into_response()
            }
            Err(Unsent::NotSent(err)) if started.elapsed() < patience() => {
                tracing::debug!(doc, owner, error = %err, "owner unreachable; waiting for its lease");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(Unsent::NotSent(err)) => {
                return unavailable(format!("the node serving {doc} ({owner}) cannot be reached: {err}"))
                    .into_response()
            }
        }
    }
}

/// Why a forwarded request got no answer.
enum Unsent {
    /// It never reached the owner: it may be sent elsewhere.
    NotSent(String),
    /// It was sent: the owner may have done it.
    Sent(String),
}

/// Sends a request to `owner` on a connection of its own and returns the answer.
async fn send(
    owner: &str,
    parts: &axum::http::request::Parts,
    body: bytes::Bytes,
    answer: Duration,
) -> Result<Response, Unsent> {
    let not_sent = |e: String| Unsent::NotSent(e);
    let stream = tokio::time::timeout(HANDSHAKE, TcpStream::connect(owner))
        .await
        .map_err(|_| not_sent("connecting timed out".into()))?
        .map_err(|e| not_sent(e.to_string()))?;
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
            .await
            .map_err(|e| not_sent(e.to_string()))?;
    tokio::spawn(connection);
    let mut request = axum::http::Request::builder()
        .method(parts.method.clone())
        .uri(parts.uri.path_and_query().map_or("/", |p| p.as_str()));
    // Hop-by-hop headers stay on this hop (the body is sent whole, with its length).
    const HOP: [&str; 6] = [
        "connection",
        "keep-alive",
        "transfer-encoding",
        "te",
        "trailer",
        "upgrade",
    ];
    for (name, value) in &parts.headers {
        if !HOP.contains(&name.as_str()) {
            request = request.header(name, value);
        }
    }
    let request = request
        .header(FORWARDED, "1")
        .body(Body::from(body))
        .map_err(|e| not_sent(e.to_string()))?;
    let response = tokio::time::timeout(answer, sender.send_request(request))
        .await
        .map_err(|_| Unsent::Sent("no answer in time".into()))?
        .map_err(|e| Unsent::Sent(e.to_string()))?;
    Ok(response.map(Body::new))
}
