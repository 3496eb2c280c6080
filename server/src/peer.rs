//! What one connection shares with its room and with storage callbacks.
//!
//! The room hands frames to the connection's outbox (written straight into its socket, or
//! queued when the socket is full, up to a bound) and never waits on it. Everything
//! that must not be lost when the outbox is full travels beside it instead, as state the
//! connection's writer picks up when woken: the durable-ack counter (acks coalesce, so they never
//! need queue space), the lag flag (the room dropped frames for this connection and will resync
//! it), and a close request.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use concord_protocol::CloseCode;

use crate::auth::Identity;
use crate::connection::socket::{Refused, Socket};
use tokio::sync::{mpsc, Notify};
use tokio_util::sync::CancellationToken;

pub type ConnId = u64;

/// The room's end of a connection: where its frames go, and who is writing, as the token
/// says (the policy judges every update by role and mission, the audit records the person,
/// presence is stamped with all three).
#[derive(Debug, Clone)]
pub struct Peer {
    pub id: ConnId,
    pub outbox: Outbox,
    pub state: std::sync::Arc<PeerState>,
    pub who: std::sync::Arc<Identity>,
}

/// Where the frames for one connection go.
#[derive(Debug, Clone)]
pub enum Outbox {
    /// Written straight into the connection's socket when it has room, else queued there
    /// (`connection/socket.rs`): a connection served on this node.
    Direct(Arc<Socket>),
    /// A bounded queue its writer task drains (connections through axum's WebSocket: with
    /// several nodes, and in tests of the room).
    Queue(mpsc::Sender<Bytes>),
}

/// Why a frame was not taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutboxError {
    /// The connection holds as many frames as it may: it is too slow.
    Full,
    /// The connection is closing or gone.
    Closed,
}

impl Outbox {
    /// Hands over one message for the connection, never waiting.
    pub fn try_send(&self, frame: Bytes) -> Result<(), OutboxError> {
        match self {
            Outbox::Direct(socket) => socket.send_binary(frame).map_err(|refused| match refused {
                Refused::Full => OutboxError::Full,
                Refused::Closed => OutboxError::Closed,
            }),
            Outbox::Queue(queue) => queue.try_send(frame).map_err(|err| match err {
                mpsc::error::TrySendError::Full(_) => OutboxError::Full,
                mpsc::error::TrySendError::Closed(_) => OutboxError::Closed,
            }),
        }
    }
}

#[derive(Debug, Default)]
pub struct PeerState {
    /// How many of this connection's updates are durable (cumulative, only grows).
    acked: AtomicU64,
    lagged: AtomicBool,
    close: Mutex<Option<(CloseCode, String)>>,
    /// Cancelled once a close is requested, so the reader stops too.
    closing: CancellationToken,
    wake: Notify,
    /// The connection asked for Concord's protocol (the `concord.v1` WebSocket subprotocol):
    /// it is sent Concord's own messages (`Session`, `Ack`, `Rejected`); a stock Yjs client,
    /// which did not, gets plain y-websocket.
    concord: bool,
}

impl PeerState {
    pub fn new(concord: bool) -> Self {
        PeerState {
            concord,
            ..PeerState::default()
        }
    }

    /// Whether the connection speaks Concord's protocol, beyond y-websocket's.
    pub fn speaks_concord(&self) -> bool {
        self.concord
    }

    /// Records that the first `count` updates of this connection are durable.
    pub fn ack(&self, count: u64) {
        self.acked.fetch_max(count, Ordering::AcqRel);
        self.wake.notify_one();
    }

    pub fn acked(&self) -> u64 {
        self.acked.load(Ordering::Acquire)
    }

    /// The room could not queue a frame: it has stopped sending to this connection and will
    /// send it the whole document again once asked.
    pub fn mark_lagged(&self) {
        self.lagged.store(true, Ordering::Release);
        self.wake.notify_one();
    }

    pub fn take_lagged(&self) -> bool {
        self.lagged.swap(false, Ordering::AcqRel)
    }

    /// Asks the connection's writer to close the socket with this code. The first request wins.
    pub fn request_close(&self, code: CloseCode, reason: impl Into<String>) {
        if let Ok(mut close) = self.close.lock() {
            if close.is_none() {
                *close = Some((code, reason.into()));
            }
        }
        self.closing.cancel();
        self.wake.notify_one();
    }

    pub fn close_requested(&self) -> Option<(CloseCode, String)> {
        self.close.lock().ok().and_then(|close| close.clone())
    }

    pub async fn closing(&self) {
        self.closing.cancelled().await
    }

    pub async fn woken(&self) {
        self.wake.notified().await
    }
}
