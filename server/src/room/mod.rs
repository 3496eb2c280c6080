//! A room: one live document, owned by one task.
//!
//! Everything that touches a document goes through its room's queue, so updates are applied one
//! at a time in one order, and the frame that broadcasts an update is encoded once and shared by
//! every recipient (a `Bytes` clone is a reference count). The room never waits on a connection:
//! a full outbox marks that connection lagged and it is resynced with the whole document once it
//! catches up, so a stalled client never delays the others and never silently misses an update.
//!
//! Durability: nothing leaves the room before it is durable. An accepted update is applied and
//! appended to the document log; its broadcast, the writer's `Ack`, a command's answer and any
//! sync reply that carries it wait for the log's commit (fsync). Had the server died in
//! between, nobody would hold words the log lacks, so nobody could re-send them later as their
//! own. Commits come back in the order the room issued its log operations, each with its
//! number; what waits for number `n` goes out once `n` is durable. If storage fails, the room
//! stops: what waited is dropped (commands are answered `storage-unavailable`), every
//! connection is closed with 1011 and the next connection reloads the document from what is
//! durable (clients re-send what the server lacks when they sync).
//!
//! Backpressure: every log write holds one of a bounded number of storage credits, shared by
//! all rooms, until its commit. A room takes a credit only for a request that may write, and
//! gives an unused one back at the end of its batch, so quiet rooms hold none. A write that
//! finds no credit waits, and the room takes nothing else meanwhile: its queue fills, and
//! connections stop reading their sockets. A slow disk slows writers down instead of filling
//! memory.

use std::collections::VecDeque;
use std::sync::{Arc, Weak};
use std::time::Duration;

use bytes::Bytes;
use concord_protocol::awareness::decode_awareness;
use concord_protocol::command::{Command, CommandError, ErrorCode, Outcome};
use concord_protocol::{CloseCode, Message};
use tokio::sync::{mpsc, oneshot, OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use yrs::{StateVector, Update};

use crate::auth::Identity;
use crate::document::DocumentCore;
use crate::peer::{ConnId, Peer};
use durable::{unavailable, Commit, Gated, MAX_WAITING_BYTES};
use fanout::Peers;
use presence::{PresenceTable, Publisher};
use registry::Rooms;

mod coalesce;
pub use coalesce::{COALESCE_FLOOR, COALESCE_FROM};
mod durable;
mod fanout;
mod load;
mod presence;
mod process;
mod readers;
pub mod registry;
mod retire;
mod write;
use crate::storage::DocumentLog;

/// Tunables of every room.
#[derive(Debug, Clone)]
pub struct RoomConfig {
    /// How long a document nobody uses stays in memory.
    pub idle_unload_after: Duration,
    /// Compact the log into a snapshot after this many appended updates.
    pub snapshot_every: u64,
    /// Log writes queued and not yet committed, across every room (see the module docs).
    pub storage_credits: Arc<Semaphore>,
    /// What audit records and commands are stamped with.
    pub clock: crate::clock::Clock,
    /// The deadlines of silence procedures, which the server runs itself.
    pub silences: Arc<crate::silence::SilenceWatch>,
    /// What `/metrics` reports.
    pub metrics: Arc<crate::metrics::Metrics>,
    /// From how many connections a room coalesces its broadcasts, and for how long at least.
    pub coalesce_from: usize,
    pub coalesce_floor: Duration,
}

/// How many log writes may wait for their commit at once, across every room.
pub const STORAGE_CREDITS: usize = 8192;

/// A request to a room. Its large payloads are boxed: the room's queue allocates slots in
/// blocks of 32 requests, each the size of the largest variant, and every loaded room holds
/// one or two such blocks (see the size test).
pub enum RoomRequest {
    Join {
        peer: Peer,
        reply: oneshot::Sender<Result<(), JoinError>>,
    },
    Leave {
        peer: ConnId,
    },
    /// The peer's state vector: answer with what it lacks.
    SyncStep1 {
        peer: ConnId,
        state_vector: Box<StateVector>,
    },
    /// A document update (or sync step 2), already scanned and decoded by the connection.
    Update {
        peer: ConnId,
        /// This is the peer's `seq`-th update; `Ack(seq)` follows once it is durable.
        seq: u64,
        raw: Bytes,
        update: Box<Update>,
    },
    Awareness {
        peer: ConnId,
        raw: Bytes,
    },
    QueryAwareness {
        peer: ConnId,
    },
    /// A lagged peer has emptied its outbox and wants the document again.
    Resync {
        peer: ConnId,
    },
    /// A command (WebSocket or REST), validated and applied under the server's client id.
    Command {
        who: Arc<Identity>,
        command: Box<Command>,
        reply: CommandReplyTo,
    },
    /// Another node took the document: this room stops, and its connections reconnect (to be
    /// forwarded to the new owner).
    Relinquish,
    /// The whole document, with the owner of every client id, for a REST read by `who`
    /// (an observer who reads published revisions only gets the published view).
    Read {
        who: Arc<Identity>,
        reply: oneshot::Sender<Result<DocumentRead, JoinError>>,
    },
}

/// Where a command's answer goes.
pub enum CommandReplyTo {
    /// A REST handler waiting for it.
    Caller(oneshot::Sender<Result<Outcome, CommandError>>),
    /// A WebSocket: a `CommandResult` with the request's id, straight into its outbox (after
    /// what the command wrote), so that it is there before any close the room requests.
    Socket { peer: ConnId, id: u64 },
}

/// What a REST read gets of a document.
#[derive(Debug)]
pub struct DocumentRead {
    /// The full state, as one v1 update.
    pub state: Vec<u8>,
    /// The owner mission of every client id that wrote in it.
    pub owners: Vec<(u64, String)>,
    /// The state is the published view (an observer who reads published revisions only):
    /// nothing live may be derived from it.
    pub published_only: bool,
    /// For such an observer: the room's process as everyone may see it (rounds, readings,
    /// silence procedures, notices to all missions), read from the live document, which the
    /// published view does not carry.
    pub process: Option<concord_protocol::process::ProcessState>,
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum JoinError {
    #[error("the document could not be loaded: {0}")]
    LoadFailed(String),
}

/// The code a command is answered with when its log entry could not be made durable.
pub const STORAGE_UNAVAILABLE: ErrorCode = ErrorCode::StorageUnavailable;

pub(crate) struct Room {
    name: Arc<str>,
    generation: u64,
    /// The replica, the policy's view of it and the server's client id.
    core: DocumentCore,
    /// Joined, lagging and refused connections.
    peers: Peers,
    presence: PresenceTable,
    log: Arc<dyn DocumentLog>,
    config: RoomConfig,
    rooms: Weak<Rooms>,
    /// Updates appended since the last snapshot.
    unsnapshotted: u64,
    /// Durable updates released in the current batch, not yet broadcast: (sender, update).
    unsent: Vec<(ConnId, Bytes)>,
    /// A large room holds its broadcasts until then (`coalesce.rs`).
    hold_until: Option<Instant>,
    /// Log operations issued by this room, and how many of them are durable.
    issued: u64,
    durable: u64,
    /// What waits for a commit, in issue order, with the operation number it waits for, and
    /// the bytes it holds.
    waiting: VecDeque<(u64, Gated)>,
    waiting_bytes: usize,
    commits: mpsc::UnboundedSender<Commit>,
    committed: Option<mpsc::UnboundedReceiver<Commit>>,
    /// The storage credit the next log write will hold (see the module docs), taken for a
    /// request that may write and given back at the end of its batch if unused.
    credit: Option<OwnedSemaphorePermit>,
    /// A request that may write, waiting for a credit.
    stalled: Option<RoomRequest>,
    /// The room is stopping (storage failed, or the replica diverged): nothing more is taken.
    failed: bool,
    /// A log write failed: what waited was answered `storage-unavailable`.
    storage_failed: bool,
    /// Set by the completion of the first write that failed, before any later completion runs:
    /// no `Ack` goes out after it.
    write_failed: Arc<std::sync::atomic::AtomicBool>,
    /// How long broadcasts waited for their commit (the price of broadcasting only what is
    /// durable), reported when the room retires.
    commit_waits: crate::latency::Samples,
    /// What observers who read published revisions only are served (made when first asked).
    published_view: Option<readers::PublishedView>,
    /// What observers read as of the last durable `set-observers` (or the load): until a
    /// change is durable, observers read published text only if either the replica or this
    /// says so (a switch to live that fails never let an observer read live).
    observers_durable: concord_protocol::schema::ObserverView,
}

/// Stands for the server itself among update senders (connection ids start at 1), so that the
/// server's own updates go to every peer.
const SERVER: ConnId = 0;

/// Requests one room handles back to back before it broadcasts; consecutive updates among
/// them leave as one merged frame.
const BATCH: usize = 256;

impl Room {
    pub(crate) fn new(
        name: Arc<str>,
        generation: u64,
        log: Arc<dyn DocumentLog>,
        config: RoomConfig,
        rooms: Weak<Rooms>,
    ) -> Self {
        let (commits, committed) = mpsc::unbounded_channel();
        Room {
            name,
            generation,
            core: DocumentCore::default(),
            peers: Peers::default(),
            presence: PresenceTable::default(),
            log,
            config,
            rooms,
            unsnapshotted: 0,
            unsent: Vec::new(),
            hold_until: None,
            issued: 0,
            durable: 0,
            waiting: VecDeque::new(),
            waiting_bytes: 0,
            commits,
            committed: Some(committed),
            credit: None,
            stalled: None,
            failed: false,
            storage_failed: false,
            write_failed: Arc::default(),
            commit_waits: crate::latency::Samples::default(),
            published_view: None,
            observers_durable: concord_protocol::schema::ObserverView::Published,
        }
    }

    /// The room's life: load, serve until idle, storage failure or shutdown, then retire.
    pub(crate) async fn run(
        mut self,
        mut requests: mpsc::Receiver<RoomRequest>,
        shutdown: CancellationToken,
    ) {
        // Loading and retiring are boxed: inline, their states would size the room's task
        // for as long as it serves.
        if let Err(err) = Box::pin(self.load(&mut requests)).await {
            tracing::error!(doc = %self.name, error = %err, "document load failed");
            Box::pin(self.retire(requests, Some(JoinError::LoadFailed(err)))).await;
            return;
        }
        let Some(mut committed) = self.committed.take() else {
            return;
        };
        let credits = Arc::clone(&self.config.storage_credits);
        let mut idle_since: Option<Instant> = Some(Instant::now());
        loop {
            let idle_deadline = idle_since.map(|since| since + self.config.idle_unload_after);
            let idle = self.peers.is_empty() && self.waiting.is_empty();
            tokio::select! {
                // Commits first: they release what waits, and return credits.
                biased;
                commit = committed.recv() => {
                    let Some(commit) = commit else { break };
                    self.on_commit(commit);
                    while let Ok(commit) = committed.try_recv() {
                        self.on_commit(commit);
                    }
                    self.flush_or_hold();
                    if self.failed {
                        break;
                    }
                }
                // Held broadcasts of a large room leave when their interval is over.
                () = sleep_until_or_forever(self.hold_until) => {
                    self.flush_broadcasts();
                }
                // A request that may write waits here for a storage credit (the room takes
                // nothing else meanwhile: order is kept, and connections stop being read).
                permit = Arc::clone(&credits).acquire_owned(), if self.stalled.is_some() => {
                    let Ok(permit) = permit else { break };
                    self.credit = Some(permit);
                    if let Some(request) = self.stalled.take() {
                        self.take(request, &credits);
                    }
                    self.end_batch();
                    if self.failed {
                        break;
                    }
                }
                request = requests.recv(),
                    if self.stalled.is_none() && self.waiting_bytes < MAX_WAITING_BYTES =>
                {
                    let Some(request) = request else { break };
                    self.take(request, &credits);
                    // Whatever else is already queued is handled now too, so that a busy
                    // room's updates share commits and frames.
                    for _ in 1..BATCH {
                        // A replica that diverged takes nothing more (it is reloaded).
                        if self.failed
                            || self.stalled.is_some()
                            || self.waiting_bytes >= MAX_WAITING_BYTES
                        {
                            break;
                        }
                        match requests.try_recv() {
                            Ok(request) => self.take(request, &credits),
                            Err(_) => break,
                        }
                    }
                    self.end_batch();
                    if self.failed {
                        break;
                    }
                    idle_since = if self.peers.is_empty() {
                        idle_since.or(Some(Instant::now()))
                    } else {
                        None
                    };
                }
                () = sleep_until_or_forever(idle_deadline.filter(|_| idle)) => {
                    tracing::debug!(doc = %self.name, "unloading idle document");
                    break;
                }
                () = shutdown.cancelled() => break,
            }
        }
        self.committed = Some(committed);
        Box::pin(self.retire(requests, None)).await;
    }

    /// Handles a request, first taking a storage credit for one that may write; without one
    /// available, the request waits (see `run`).
    fn take(&mut self, request: RoomRequest, credits: &Arc<Semaphore>) {
        let may_write = matches!(
            request,
            RoomRequest::Update { .. } | RoomRequest::Command { .. }
        ) || matches!(
            // A delegation's join may record its mission (`process::record_mission`).
            &request,
            RoomRequest::Join { peer, .. } if peer.who.role == concord_protocol::Role::Delegation
        );
        if may_write && self.credit.is_none() {
            match Arc::clone(credits).try_acquire_owned() {
                Ok(permit) => self.credit = Some(permit),
                Err(_) => {
                    self.stalled = Some(request);
                    return;
                }
            }
        }
        self.handle(request);
    }

    /// After a batch: its broadcasts go out, and a credit it did not use goes back, so that a
    /// quiet room holds none.
    fn end_batch(&mut self) {
        self.flush_or_hold();
        self.credit = None;
    }

    fn handle(&mut self, request: RoomRequest) {
        if !matches!(
            request,
            RoomRequest::Update { .. }
                | RoomRequest::Awareness { .. }
                | RoomRequest::QueryAwareness { .. }
        ) {
            // Everything else keeps its order relative to the updates before it. Presence
            // need not (a caret names its place in the text, wherever that text is yet), so
            // it does not cut a large room's held broadcasts short.
            self.flush_broadcasts();
        }
        match request {
            RoomRequest::Join { peer, reply } => {
                let id = peer.id;
                if self.reads_published(&peer.who) {
                    self.peers.join_reader(peer);
                    self.greet_reader(id);
                } else {
                    let who = Arc::clone(&peer.who);
                    self.peers.join(peer);
                    self.greet(id);
                    self.record_mission(&who);
                }
                let _ = reply.send(Ok(()));
            }
            RoomRequest::Leave { peer } => self.leave(peer),
            RoomRequest::Relinquish => self.fail("the document moved to another node; reconnect"),
            RoomRequest::SyncStep1 { peer, state_vector } if self.peers.is_reader(peer) => {
                self.sync_reader(peer, &state_vector);
            }
            RoomRequest::Update { peer, seq, raw, .. } if self.peers.is_reader(peer) => {
                self.reader_update(peer, seq, &raw);
            }
            // Readers see nobody's presence, and nobody theirs.
            RoomRequest::Awareness { peer, .. } | RoomRequest::QueryAwareness { peer }
                if self.peers.is_reader(peer) => {}
            RoomRequest::Resync { peer } if self.peers.is_reader(peer) => {
                self.sync_reader(peer, &StateVector::default());
            }
            RoomRequest::SyncStep1 { peer, state_vector } => {
                let diff = self.core.diff(&state_vector);
                let frame = Message::SyncStep2(&diff).encode().into();
                self.after_durable(Gated::Send { peer, frame });
            }
            RoomRequest::Update {
                peer,
                seq,
                raw,
                update,
            } => self.apply(peer, seq, raw, *update),
            RoomRequest::Awareness { peer, raw } => self.publish_presence(peer, &raw),
            RoomRequest::QueryAwareness { peer } => {
                if let Some(frame) = self.presence.frame() {
                    self.peers.send_to(peer, frame);
                }
            }
            RoomRequest::Read { who, reply } => {
                let read = if self.reads_published(&who) {
                    let (state, owners) = self.published_read();
                    DocumentRead {
                        state,
                        owners,
                        published_only: true,
                        process: Some(self.public_process()),
                    }
                } else {
                    DocumentRead {
                        state: self.core.full_state(),
                        owners: self.core.owners(),
                        published_only: false,
                        process: None,
                    }
                };
                self.after_durable(Gated::Reply {
                    bytes: read.state.len(),
                    answer: Box::new(move |durable| {
                        let _ = reply.send(durable.map(|()| read).map_err(unavailable));
                    }),
                });
            }
            RoomRequest::Command {
                who,
                command,
                reply,
            } => self.command(&who, &command, reply),
            RoomRequest::Resync { peer } => {
                if self.peers.resync(peer) {
                    self.config.metrics.resynced();
                    tracing::debug!(doc = %self.name, peer, "resyncing lagged connection");
                    let state = self.core.full_state();
                    let frame = Message::SyncStep2(&state).encode().into();
                    self.after_durable(Gated::Send { peer, frame });
                    self.greet(peer);
                }
            }
        }
    }

    /// What a (re)joining connection gets: the server's state vector, so that the client sends
    /// what the server lacks, and everyone's presence.
    fn greet(&mut self, peer: ConnId) {
        let state_vector = self.core.state_vector();
        self.peers
            .send_to(peer, Message::SyncStep1(state_vector).encode().into());
        if let Some(frame) = self.presence.frame() {
            self.peers.send_to(peer, frame);
        }
    }

    /// Sends the updates released since the last flush.
    fn flush_broadcasts(&mut self) {
        self.hold_until = None;
        let unsent = std::mem::take(&mut self.unsent);
        if !unsent.is_empty() {
            self.config.metrics.broadcast(self.peers.recipients());
        }
        self.peers.broadcast_updates(&unsent);
    }

    /// Relays what a connection published about its presence.
    fn publish_presence(&mut self, from: ConnId, raw: &[u8]) {
        let Ok(entries) = decode_awareness(raw) else {
            self.peers
                .close(from, CloseCode::Malformed, "malformed awareness update");
            return;
        };
        let Some(publisher) = self.peers.get(from) else {
            return;
        };
        let who = Arc::clone(&publisher.who);
        let publisher = Publisher {
            conn: from,
            person: &who.person,
            mission: &who.mission,
            role: who.role,
        };
        let policy = self.core.policy();
        let relayed = self.presence.publish(&publisher, entries, |client| {
            concord_protocol::policy::DocumentView::owner(policy, client)
        });
        if !relayed.is_empty() {
            // Presence goes to the publisher too, as the reference server does: stock
            // y-websocket clients drop a connection that has received nothing for 30 seconds,
            // and their own presence renewal (every 15) is what keeps a quiet one alive.
            self.peers
                .broadcast_except(&presence::frame_of(&relayed), &[]);
        }
    }

    fn leave(&mut self, id: ConnId) {
        self.peers.leave(id);
        let gone = self.presence.leave(id);
        if !gone.is_empty() {
            self.peers.broadcast_except(&presence::frame_of(&gone), &[]);
        }
    }

    /// Stops serving: every connection is closed with 1011 and reconnects to a fresh load.
    fn fail(&mut self, reason: &str) {
        tracing::error!(doc = %self.name, reason, "room failed; closing its connections");
        // What is held is durable: it goes out before the close.
        self.flush_broadcasts();
        self.peers.close_all(CloseCode::InternalError, reason);
        self.unsnapshotted = 0;
        self.failed = true;
    }
}

async fn sleep_until_or_forever(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod size_tests {
    /// Every loaded room holds its queue's blocks of 32 requests: a variant that grows past
    /// this makes every idle document larger (S4 in the benchmarks).
    #[test]
    fn a_room_request_stays_small() {
        let size = std::mem::size_of::<super::RoomRequest>();
        assert!(
            size <= 64,
            "RoomRequest is {size} bytes: box its new payload"
        );
    }
}
