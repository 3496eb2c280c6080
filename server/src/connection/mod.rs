//! One WebSocket connection to one document.
//!
//! The connection is two halves. The reader decodes frames, checks them (nothing malformed
//! reaches a room: updates are scanned for hostile structure and decoded here, off the room's
//! task) and forwards requests to the room. Frames for the client go into its outbox: on this
//! node's own socket (`socket.rs`), the room writes them straight in while the socket has
//! room, and the writer task (`direct.rs`) sends what had to wait, the coalesced `Ack`,
//! pings, and at the end the close frame; on axum's WebSocket (several nodes), the writer
//! (`writer.rs`) sends everything, batching whatever is ready into one flush.
//!
//! Close codes: 4400 malformed input (with the decoder's reason), 4413 a frame over the limit,
//! 4000 no sign of life, 1001 shutdown or unload, 1011 the room failed.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{Message as WsMessage, WebSocket};
use bytes::Bytes;
use concord_protocol::command::{CommandError, CommandReply, Reply};
use concord_protocol::update::scan_update_v1;
use concord_protocol::{CloseCode, Message, Session};
use futures_util::StreamExt;
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::protocol::{Role, WebSocketConfig};
use tokio_tungstenite::tungstenite::{Error as WsError, Message as TungsteniteMessage};
use tokio_tungstenite::WebSocketStream;
use tokio_util::sync::CancellationToken;
use yrs::updates::decoder::Decode;
use yrs::Update;

use crate::auth::{Authenticator, Identity};
use crate::clock::Clock;
use crate::config::Config;
use crate::limits::{ConnectionPermit, MissionLimits};
use crate::peer::{ConnId, Outbox, Peer, PeerState};
use crate::revocations::Revocations;
use crate::room::registry::{RoomHandle, Rooms};
use crate::room::{CommandReplyTo, RoomRequest};
use crate::sessions::Sessions;
use socket::Socket;
use writer::write_loop;

mod direct;
pub(crate) mod socket;
mod writer;

/// How many times a connection looks a room up again when it retired under it.
const JOIN_ATTEMPTS: usize = 8;
/// How long a closing connection waits for the peer's close reply.
const CLOSE_LINGER: Duration = Duration::from_secs(2);

/// What every connection shares.
pub struct ConnectionContext {
    pub config: Arc<Config>,
    pub rooms: Arc<Rooms>,
    pub shutdown: CancellationToken,
    pub auth: Arc<Authenticator>,
    pub revocations: Arc<Revocations>,
    pub sessions: Arc<Sessions>,
    pub limits: Arc<MissionLimits>,
    pub metrics: Arc<crate::metrics::Metrics>,
    /// With several nodes: the shared Redis, which says which node serves each document.
    pub cluster: Option<Arc<crate::storage::redis::RedisLog>>,
}

/// An upgraded socket: the TCP socket itself (with what the HTTP layer read past the
/// handshake), or axum's WebSocket (with several nodes, whose forwarding works on it).
pub enum Transport {
    Direct { tcp: TcpStream, read_ahead: Bytes },
    Axum(Box<WebSocket>),
}

/// One frame from the client, whichever the transport.
enum Incoming {
    Binary(Bytes),
    Text,
    Close,
    Ping,
    Pong,
}

type Received = Result<Incoming, Option<CloseReason>>;

fn from_axum(frame: Result<WsMessage, axum::Error>) -> Received {
    match frame {
        Ok(WsMessage::Binary(bytes)) => Ok(Incoming::Binary(bytes)),
        Ok(WsMessage::Text(_)) => Ok(Incoming::Text),
        Ok(WsMessage::Close(_)) => Ok(Incoming::Close),
        Ok(WsMessage::Ping(_)) => Ok(Incoming::Ping),
        Ok(WsMessage::Pong(_)) => Ok(Incoming::Pong),
        Err(err) => Err(read_error(err)),
    }
}

fn from_tungstenite(frame: Result<TungsteniteMessage, WsError>) -> Received {
    match frame {
        Ok(TungsteniteMessage::Binary(bytes)) => Ok(Incoming::Binary(bytes)),
        Ok(TungsteniteMessage::Text(_)) => Ok(Incoming::Text),
        Ok(TungsteniteMessage::Close(_)) => Ok(Incoming::Close),
        Ok(TungsteniteMessage::Ping(_)) => Ok(Incoming::Ping),
        // A raw frame is never handed out when reading.
        Ok(TungsteniteMessage::Pong(_) | TungsteniteMessage::Frame(_)) => Ok(Incoming::Pong),
        Err(err) => Err(close_for(&err)),
    }
}

/// What bounds a direct connection's reads (axum's upgrade is told the same in `http.rs`).
pub struct ReadLimits {
    pub max_frame_bytes: usize,
    pub read_buffer: usize,
}

/// Serves one upgraded socket until it closes. The identity was verified before the upgrade;
/// the permit holds the mission's connection slot for as long as this runs.
#[allow(clippy::too_many_arguments)]
pub async fn serve(
    transport: Transport,
    limits: ReadLimits,
    id: ConnId,
    document: Arc<str>,
    identity: Identity,
    _permit: ConnectionPermit,
    concord: bool,
    ctx: &ConnectionContext,
) {
    let state = Arc::new(PeerState::new(concord));
    let (ping, write_timeout) = (ctx.config.ping_interval, ctx.config.write_timeout);
    let connection = Connection {
        id,
        document,
        identity,
        state: Arc::clone(&state),
        ctx,
    };
    match transport {
        Transport::Direct { tcp, read_ahead } => {
            let socket = Arc::new(Socket::new(tcp, ctx.config.outbox_frames));
            let io = direct::SocketIo::new(Arc::clone(&socket), read_ahead);
            let config = WebSocketConfig::default()
                .max_message_size(Some(limits.max_frame_bytes))
                .max_frame_size(Some(limits.max_frame_bytes))
                .read_buffer_size(limits.read_buffer);
            let stream = WebSocketStream::from_raw_socket(io, Role::Server, Some(config))
                .await
                .map(from_tungstenite);
            let outbox = Outbox::Direct(Arc::clone(&socket));
            // However the connection ends, the socket is done with when it does.
            let _abandon = AbandonOnDrop(Arc::clone(&socket));
            let start_writer = move |room| {
                tokio::spawn(direct::write_loop(socket, state, room, ping, write_timeout))
            };
            connection.run(stream, outbox, start_writer).await;
        }
        Transport::Axum(socket) => {
            let (sink, stream) = (*socket).split();
            let (outbox, outbox_rx) = mpsc::channel::<Bytes>(ctx.config.outbox_frames.max(8));
            let start_writer = move |room| {
                tokio::spawn(write_loop(
                    sink,
                    outbox_rx,
                    state,
                    room,
                    ping,
                    write_timeout,
                ))
            };
            connection
                .run(stream.map(from_axum), Outbox::Queue(outbox), start_writer)
                .await;
        }
    }
}

/// Abandons the socket when the connection's task ends (or unwinds): the room may hold it a
/// little longer, until it handles the connection's leave.
struct AbandonOnDrop(Arc<Socket>);

impl Drop for AbandonOnDrop {
    fn drop(&mut self) {
        self.0.abandon();
    }
}

/// One connection, whichever its transport.
struct Connection<'a> {
    id: ConnId,
    document: Arc<str>,
    identity: Identity,
    state: Arc<PeerState>,
    ctx: &'a ConnectionContext,
}

impl Connection<'_> {
    async fn run<S>(
        self,
        mut stream: S,
        outbox: Outbox,
        start_writer: impl FnOnce(Option<(ConnId, RoomHandle)>) -> tokio::task::JoinHandle<()>,
    ) where
        S: futures_util::Stream<Item = Received> + Unpin,
    {
        let Connection {
            id,
            document,
            identity,
            state,
            ctx,
        } = self;
        let peer = Peer {
            id,
            outbox: outbox.clone(),
            state: Arc::clone(&state),
            who: Arc::new(identity.clone()),
        };
        // Nothing was sent yet: the first frame always fits. Only Concord's clients are told.
        if state.speaks_concord() {
            let _ = outbox.try_send(session_frame(&document, &identity, &ctx.config.clock));
        }
        ctx.sessions
            .insert(id, identity.clone(), Arc::clone(&state));

        // Boxed: joining may load the document, a state the connection's task need not keep
        // room for once it is served.
        let room = match Box::pin(join(&ctx.rooms, &document, peer)).await {
            Ok(room) => Some(room),
            Err(reason) => {
                state.request_close(CloseCode::InternalError, reason);
                None
            }
        };
        let writer = start_writer(room.clone().map(|room| (id, room)));

        if let Some(room) = &room {
            let mut reader = Reader {
                id,
                room: room.clone(),
                state: Arc::clone(&state),
                ctx,
                document: &document,
                identity,
                outbox,
                updates: 0,
            };
            if let Some((code, reason)) = reader.read_loop(&mut stream, &ctx.shutdown).await {
                state.request_close(code, reason);
            }
            let _ = room.send(RoomRequest::Leave { peer: id }).await;
        }
        // Let the writer send its close frame, and drain what the peer still sends meanwhile
        // so that closing the socket does not reset it before the peer has read the close
        // frame.
        state.request_close(CloseCode::GoingAway, "");
        let linger = async {
            while let Some(Ok(frame)) = stream.next().await {
                if matches!(frame, Incoming::Close) {
                    break;
                }
            }
        };
        let _ = tokio::time::timeout(CLOSE_LINGER, linger).await;
        let abort = writer.abort_handle();
        if tokio::time::timeout(CLOSE_LINGER, writer).await.is_err() {
            // The writer's own deadline has passed too: it does not outlive the connection.
            abort.abort();
        }
        ctx.sessions.remove(id);
    }
}

fn session_frame(document: &str, identity: &Identity, clock: &Clock) -> Bytes {
    Message::Session(Session {
        document: document.to_string(),
        person: Some(identity.person.clone()),
        mission: Some(identity.mission.clone()),
        role: Some(identity.role),
        expires_at: Some(identity.expires_at),
        server_time_ms: clock.now_ms(),
    })
    .encode()
    .into()
}

async fn join(rooms: &Arc<Rooms>, document: &str, peer: Peer) -> Result<RoomHandle, String> {
    for _ in 0..JOIN_ATTEMPTS {
        let room = rooms.get(document);
        match room.join(peer.clone()).await {
            Ok(Some(())) => return Ok(room),
            Ok(None) => continue,
            Err(err) => return Err(err.to_string()),
        }
    }
    Err("the document is being unloaded; try again".into())
}

struct Reader<'a> {
    id: ConnId,
    room: RoomHandle,
    state: Arc<PeerState>,
    ctx: &'a ConnectionContext,
    document: &'a str,
    identity: Identity,
    /// For replies that come from the connection itself (rejections, refreshed sessions).
    outbox: Outbox,
    /// Document updates received so far; the n-th is acknowledged with `Ack(n)`.
    updates: u64,
}

type CloseReason = (CloseCode, String);

impl Reader<'_> {
    /// Reads until the connection ends. Returns the close the server should send, if any.
    async fn read_loop(
        &mut self,
        stream: &mut (impl futures_util::Stream<Item = Received> + Unpin),
        shutdown: &CancellationToken,
    ) -> Option<CloseReason> {
        loop {
            let next = tokio::select! {
                () = shutdown.cancelled() => {
                    return Some((CloseCode::GoingAway, "server shutting down".into()));
                }
                // The writer, the room or a revocation decided to close: stop reading.
                () = self.state.closing() => return None,
                () = tokio::time::sleep_until(expiry(self.identity.expires_at, &self.ctx.config.clock)) => {
                    return Some((CloseCode::Unauthenticated, "token expired".into()));
                }
                next = tokio::time::timeout(self.config().liveness_timeout, stream.next()) => next,
            };
            let frame = match next {
                Err(_) => return Some((CloseCode::LivenessTimeout, "no sign of life".into())),
                Ok(None) => return None,
                Ok(Some(Err(close))) => return close,
                Ok(Some(Ok(frame))) => frame,
            };
            if !matches!(frame, Incoming::Pong | Incoming::Close)
                && !self.ctx.limits.allow_message(&self.identity.mission)
            {
                return Some((
                    CloseCode::RateLimited,
                    format!("rate limit exceeded for mission {}", self.identity.mission),
                ));
            }
            match frame {
                Incoming::Binary(bytes) => {
                    let limit = self.config().max_frame_bytes;
                    if bytes.len() > limit {
                        return Some((CloseCode::TooLarge, too_large(limit)));
                    }
                    if let Err(close) = self.handle_frame(bytes).await {
                        return Some(close);
                    }
                }
                Incoming::Text => {
                    return Some((
                        CloseCode::Malformed,
                        "text frames are not supported: send binary y-websocket frames".into(),
                    ))
                }
                Incoming::Close => return None,
                Incoming::Ping | Incoming::Pong => {}
            }
        }
    }

    async fn handle_frame(&mut self, frame: Bytes) -> Result<(), CloseReason> {
        let messages = Message::decode_frame(&frame)
            .map_err(|err| (CloseCode::Malformed, format!("malformed frame: {err}")))?;
        for message in messages {
            let request = match message {
                Message::SyncStep1(state_vector) => RoomRequest::SyncStep1 {
                    peer: self.id,
                    state_vector: Box::new(state_vector),
                },
                Message::SyncStep2(update) | Message::Update(update) => {
                    // Scanned before yrs decodes it (yrs trusts claimed lengths and nests
                    // without bound); whether the writer may write it is the room's to judge.
                    scan_update_v1(update).map_err(|err| {
                        (CloseCode::Malformed, format!("malformed update: {err}"))
                    })?;
                    let decoded = Update::decode_v1(update).map_err(|err| {
                        (CloseCode::Malformed, format!("malformed update: {err}"))
                    })?;
                    self.updates += 1;
                    RoomRequest::Update {
                        peer: self.id,
                        seq: self.updates,
                        raw: frame.slice_ref(update),
                        update: Box::new(decoded),
                    }
                }
                Message::Awareness(update) => {
                    concord_protocol::awareness::decode_awareness(update).map_err(|err| {
                        (
                            CloseCode::Malformed,
                            format!("malformed awareness update: {err}"),
                        )
                    })?;
                    RoomRequest::Awareness {
                        peer: self.id,
                        raw: frame.slice_ref(update),
                    }
                }
                Message::QueryAwareness => RoomRequest::QueryAwareness { peer: self.id },
                Message::Refresh(token) => {
                    self.refresh(token)?;
                    continue;
                }
                Message::Command(request) => {
                    self.command(request).await?;
                    continue;
                }
                // A request REST would answer with 400: answered, not a reason to close.
                Message::UnreadableCommand { id, error, .. } => {
                    self.answer(CommandReply {
                        // 0 when the id could not be read either: clients number from 1.
                        id: id.unwrap_or(0),
                        result: Reply::Error(CommandError::invalid_command(error)),
                    });
                    continue;
                }
                Message::PermissionDenied(_)
                | Message::Session(_)
                | Message::Ack(_)
                | Message::Rejected(_)
                | Message::CommandResult(_) => {
                    return Err((
                        CloseCode::Malformed,
                        "only the server sends auth, session, ack and rejected messages".into(),
                    ))
                }
            };
            self.room
                .send(request)
                .await
                .map_err(|_| (CloseCode::GoingAway, "document unloaded".to_string()))?;
        }
        Ok(())
    }
}

impl Reader<'_> {
    fn config(&self) -> &Config {
        &self.ctx.config
    }

    /// Hands a command to the room, which answers it in this connection's outbox once what it
    /// wrote is durable (after what it changed has reached this connection). The reader goes
    /// on meanwhile: commands of one connection are answered in order all the same.
    async fn command(
        &mut self,
        request: concord_protocol::command::CommandRequest,
    ) -> Result<(), CloseReason> {
        self.room
            .send(RoomRequest::Command {
                who: Arc::new(self.identity.clone()),
                command: Box::new(request.command),
                reply: CommandReplyTo::Socket {
                    peer: self.id,
                    id: request.id,
                },
            })
            .await
            .map_err(|_| (CloseCode::GoingAway, "document unloaded".to_string()))
    }

    fn answer(&self, reply: CommandReply) {
        let _ = self
            .outbox
            .try_send(Message::CommandResult(reply).encode().into());
    }

    /// A fresh token extends the session; it must be for the same person, mission and role.
    fn refresh(&mut self, token: &str) -> Result<(), CloseReason> {
        let refused = |why: String| {
            (
                CloseCode::Unauthenticated,
                format!("refresh refused: {why}"),
            )
        };
        let fresh = self
            .ctx
            .auth
            .verify(token, self.ctx.config.clock.now_seconds())
            .map_err(|e| refused(e.to_string()))?;
        if fresh.person != self.identity.person
            || fresh.mission != self.identity.mission
            || fresh.role != self.identity.role
        {
            return Err(refused(
                "the token is for another person, mission or role".into(),
            ));
        }
        if fresh.may_open(self.document).is_err() {
            return Err(refused("the token does not open this document".into()));
        }
        if self.ctx.revocations.is_revoked(&fresh) {
            return Err(refused("the token has been revoked".into()));
        }
        self.ctx.sessions.update(self.id, fresh.clone());
        let _ = self
            .outbox
            .try_send(session_frame(self.document, &fresh, &self.ctx.config.clock));
        self.identity = fresh;
        Ok(())
    }
}

/// The instant a token expiring at `expires_at` (Unix seconds) runs out.
fn expiry(expires_at: u64, clock: &Clock) -> tokio::time::Instant {
    let left_ms = expires_at
        .saturating_mul(1000)
        .saturating_sub(clock.now_ms());
    tokio::time::Instant::now() + Duration::from_millis(left_ms.min(u64::from(u32::MAX) * 1000))
}

fn too_large(limit: usize) -> String {
    format!("frame exceeds the {limit}-byte limit")
}

/// The close a socket's read error calls for (the forwarding pipe closes alike).
pub fn read_error(err: axum::Error) -> Option<CloseReason> {
    let inner = err.into_inner();
    inner.downcast_ref::<WsError>().and_then(close_for)
}

/// The close a WebSocket read error calls for: none when the socket is simply gone.
fn close_for(err: &WsError) -> Option<CloseReason> {
    match err {
        WsError::Capacity(_) => Some((CloseCode::TooLarge, "frame exceeds the size limit".into())),
        WsError::Utf8(_) => Some((CloseCode::Malformed, "invalid UTF-8 in a text frame".into())),
        WsError::Protocol(err) => Some((
            CloseCode::Malformed,
            format!("WebSocket protocol error: {err}"),
        )),
        _ => None,
    }
}
