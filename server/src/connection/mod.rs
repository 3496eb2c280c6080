//! One WebSocket connection to one document.
//!
//! The connection is two halves. The reader decodes frames, checks them (nothing malformed
//! reaches a room: updates are scanned for hostile structure and decoded here, off the room's
//! task) and forwards requests to the room. The writer owns the socket's sending half: it sends
//! what the room queued in the outbox, batching whatever is ready into one flush, plus the
//! coalesced `Ack`, pings, and at the end the close frame.
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
use futures_util::stream::SplitStream;
use futures_util::StreamExt;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use yrs::updates::decoder::Decode;
use yrs::Update;

use crate::auth::{Authenticator, Identity};
use crate::clock::Clock;
use crate::config::Config;
use crate::limits::{ConnectionPermit, MissionLimits};
use crate::peer::{ConnId, Peer, PeerState};
use crate::revocations::Revocations;
use crate::room::registry::{RoomHandle, Rooms};
use crate::room::{CommandReplyTo, RoomRequest};
use crate::sessions::Sessions;
use writer::write_loop;

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

/// Serves one upgraded socket until it closes. The identity was verified before the upgrade;
/// the permit holds the mission's connection slot for as long as this runs.
pub async fn serve(
    socket: WebSocket,
    id: ConnId,
    document: Arc<str>,
    identity: Identity,
    _permit: ConnectionPermit,
    concord: bool,
    ctx: &ConnectionContext,
) {
    let (sink, stream) = socket.split();
    let (outbox, outbox_rx) = mpsc::channel::<Bytes>(ctx.config.outbox_frames.max(8));
    let state = Arc::new(PeerState::new(concord));
    let peer = Peer {
        id,
        outbox: outbox.clone(),
        state: Arc::clone(&state),
        who: Arc::new(identity.clone()),
    };

    // The outbox is empty: the first frame always fits. Only Concord's clients are told.
    if concord {
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
    let writer = tokio::spawn(write_loop(
        sink,
        outbox_rx,
        Arc::clone(&state),
        room.clone().map(|room| (id, room)),
        ctx.config.ping_interval,
        ctx.config.write_timeout,
    ));

    let mut stream = stream;
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
    // Let the writer send its close frame, and drain what the peer still sends meanwhile so
    // that closing the socket does not reset it before the peer has read the close frame.
    state.request_close(CloseCode::GoingAway, "");
    let linger = async {
        while let Some(Ok(frame)) = stream.next().await {
            if matches!(frame, WsMessage::Close(_)) {
                break;
            }
        }
    };
    let _ = tokio::time::timeout(CLOSE_LINGER, linger).await;
    let _ = tokio::time::timeout(CLOSE_LINGER, writer).await;
    ctx.sessions.remove(id);
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
    outbox: mpsc::Sender<Bytes>,
    /// Document updates received so far; the n-th is acknowledged with `Ack(n)`.
    updates: u64,
}

type CloseReason = (CloseCode, String);

impl Reader<'_> {
    /// Reads until the connection ends. Returns the close the server should send, if any.
    async fn read_loop(
        &mut self,
        stream: &mut SplitStream<WebSocket>,
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
                Ok(Some(Err(err))) => return read_error(err),
                Ok(Some(Ok(frame))) => frame,
            };
            if !matches!(frame, WsMessage::Pong(_) | WsMessage::Close(_))
                && !self.ctx.limits.allow_message(&self.identity.mission)
            {
                return Some((
                    CloseCode::RateLimited,
                    format!("rate limit exceeded for mission {}", self.identity.mission),
                ));
            }
            match frame {
                WsMessage::Binary(bytes) => {
                    let limit = self.config().max_frame_bytes;
                    if bytes.len() > limit {
                        return Some((CloseCode::TooLarge, too_large(limit)));
                    }
                    if let Err(close) = self.handle_frame(bytes).await {
                        return Some(close);
                    }
                }
                WsMessage::Text(_) => {
                    return Some((
                        CloseCode::Malformed,
                        "text frames are not supported: send binary y-websocket frames".into(),
                    ))
                }
                WsMessage::Close(_) => return None,
                WsMessage::Ping(_) | WsMessage::Pong(_) => {}
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
    use tokio_tungstenite::tungstenite::Error as WsError;
    let inner = err.into_inner();
    match inner.downcast_ref::<WsError>() {
        Some(WsError::Capacity(_)) => {
            Some((CloseCode::TooLarge, "frame exceeds the size limit".into()))
        }
        Some(WsError::Utf8(_)) => {
            Some((CloseCode::Malformed, "invalid UTF-8 in a text frame".into()))
        }
        Some(WsError::Protocol(err)) => Some((
            CloseCode::Malformed,
            format!("WebSocket protocol error: {err}"),
        )),
        _ => None,
    }
}
