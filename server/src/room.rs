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
//! all rooms, until its commit. A room without a credit stops taking requests, its queue fills,
//! and connections stop reading their sockets: a slow disk slows writers down instead of
//! filling memory.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Weak};
use std::time::Duration;

use bytes::Bytes;
use concord_protocol::awareness::{decode_awareness, encode_awareness, AwarenessEntry};
use concord_protocol::command::{Command, CommandError, CommandReply, ErrorCode, Outcome};
use concord_protocol::message::encode_update_frame;
use concord_protocol::policy::Refusal;
use concord_protocol::{CloseCode, Message};
use tokio::sync::{mpsc, oneshot, OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use yrs::{StateVector, Update};

use crate::document::{Author, DocumentCore, UpdateError};
use crate::peer::{ConnId, Peer, PeerState};
use crate::rooms::Rooms;
use crate::storage::{Completion, DocumentLog, LogEntry, StorageError, StoredDocument};

/// Tunables of every room.
#[derive(Debug, Clone)]
pub struct RoomConfig {
    /// How long a document nobody uses stays in memory.
    pub idle_unload_after: Duration,
    /// Compact the log into a snapshot after this many appended updates.
    pub snapshot_every: u64,
    /// Log writes queued and not yet committed, across every room (see the module docs).
    pub storage_credits: Arc<Semaphore>,
}

/// How many log writes may wait for their commit at once, across every room.
pub const STORAGE_CREDITS: usize = 8192;

/// A request to a room.
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
        state_vector: StateVector,
    },
    /// A document update (or sync step 2), already scanned and decoded by the connection.
    Update {
        peer: ConnId,
        /// This is the peer's `seq`-th update; `Ack(seq)` follows once it is durable.
        seq: u64,
        raw: Bytes,
        update: Update,
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
        role: concord_protocol::Role,
        mission: Arc<str>,
        person: Arc<str>,
        command: Box<Command>,
        reply: CommandReplyTo,
    },
    /// The whole document as one update (REST reads, exports).
    State {
        reply: oneshot::Sender<Result<Vec<u8>, JoinError>>,
    },
    /// The whole document and the owner of every client id (attribution).
    Attribution {
        reply: oneshot::Sender<Result<Attributable, JoinError>>,
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

/// A document's full state and the owner mission of every client id that wrote in it.
pub type Attributable = (Vec<u8>, Vec<(u64, String)>);

#[derive(Debug, Clone, thiserror::Error)]
pub enum JoinError {
    #[error("the document could not be loaded: {0}")]
    LoadFailed(String),
}

/// The code a command is answered with when its log entry could not be made durable.
pub const STORAGE_UNAVAILABLE: ErrorCode = ErrorCode::StorageUnavailable;

/// A log operation's number (counted per room) and how it ended.
type Commit = (u64, Result<(), StorageError>);

/// What goes out only once the log operations issued before it are durable.
enum Gated {
    /// An accepted update (a client's, or what a command wrote), to everyone but its sender.
    Broadcast {
        from: ConnId,
        update: Bytes,
        applied: std::time::Instant,
    },
    /// A frame carrying document content (a sync reply) to one connection.
    Send { peer: ConnId, frame: Bytes },
    /// An answer (a REST read): `Err` when storage failed.
    Reply(Box<dyn FnOnce(Result<(), StorageError>) + Send>),
    /// A command's answer: its result, or `storage-unavailable` when storage failed.
    Answer {
        to: CommandReplyTo,
        result: Result<Outcome, CommandError>,
    },
}

/// One client's presence, and the connection that published it.
struct Presence {
    clock: u32,
    state: String,
    owner: ConnId,
}

pub(crate) struct Room {
    name: Arc<str>,
    generation: u64,
    /// The replica, the policy's view of it and the server's client id.
    core: DocumentCore,
    /// Connections that receive broadcasts.
    peers: HashMap<ConnId, Peer>,
    /// Connections whose outbox overflowed, waiting to be resynced.
    lagging: HashMap<ConnId, Peer>,
    presence: HashMap<u64, Presence>,
    log: Arc<dyn DocumentLog>,
    config: RoomConfig,
    rooms: Weak<Rooms>,
    /// Updates appended since the last snapshot.
    unsnapshotted: u64,
    /// Durable updates released in the current batch, not yet broadcast: (sender, update).
    unsent: Vec<(ConnId, Bytes)>,
    /// Connections whose update was refused: they are closing, and whatever they sent after
    /// the refused update may build on it, so nothing more of theirs is applied.
    refused: std::collections::HashSet<ConnId>,
    /// Log operations issued by this room, and how many of them are durable.
    issued: u64,
    durable: u64,
    /// What waits for a commit, in issue order, with the operation number it waits for.
    waiting: VecDeque<(u64, Gated)>,
    commits: mpsc::UnboundedSender<Commit>,
    committed: Option<mpsc::UnboundedReceiver<Commit>>,
    /// The storage credit the next log write will hold (see the module docs).
    credit: Option<OwnedSemaphorePermit>,
    /// Storage failed: nothing more is written, and the room is stopping.
    failed: bool,
    /// How long broadcasts waited for their commit (the price of broadcasting only what is
    /// durable), reported when the room retires.
    commit_waits: crate::latency::Samples,
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
            peers: HashMap::new(),
            lagging: HashMap::new(),
            presence: HashMap::new(),
            log,
            config,
            rooms,
            unsnapshotted: 0,
            unsent: Vec::new(),
            refused: std::collections::HashSet::new(),
            issued: 0,
            durable: 0,
            waiting: VecDeque::new(),
            commits,
            committed: Some(committed),
            credit: None,
            failed: false,
            commit_waits: crate::latency::Samples::default(),
        }
    }

    /// The room's life: load, serve until idle, storage failure or shutdown, then retire.
    pub(crate) async fn run(
        mut self,
        mut requests: mpsc::Receiver<RoomRequest>,
        shutdown: CancellationToken,
    ) {
        if let Err(err) = self.load(&mut requests).await {
            tracing::error!(doc = %self.name, error = %err, "document load failed");
            self.retire(requests, Some(JoinError::LoadFailed(err)))
                .await;
            return;
        }
        let Some(mut committed) = self.committed.take() else {
            return;
        };
        let credits = Arc::clone(&self.config.storage_credits);
        let mut idle_since: Option<Instant> = Some(Instant::now());
        loop {
            let idle_deadline = idle_since.map(|since| since + self.config.idle_unload_after);
            let idle = self.peers.is_empty() && self.lagging.is_empty() && self.waiting.is_empty();
            tokio::select! {
                // Commits first: they release what waits, and return credits.
                biased;
                commit = committed.recv() => {
                    let Some(commit) = commit else { break };
                    self.on_commit(commit);
                    while let Ok(commit) = committed.try_recv() {
                        self.on_commit(commit);
                    }
                    self.flush_broadcasts();
                    if self.failed {
                        break;
                    }
                }
                permit = Arc::clone(&credits).acquire_owned(), if self.credit.is_none() => {
                    match permit {
                        Ok(permit) => self.credit = Some(permit),
                        Err(_) => break,
                    }
                }
                request = requests.recv(), if self.credit.is_some() => {
                    let Some(request) = request else { break };
                    self.handle(request);
                    // Whatever else is already queued is handled now too (as long as credit
                    // lasts), so that a busy room's updates share commits and frames.
                    for _ in 1..BATCH {
                        if self.credit.is_none() {
                            match Arc::clone(&credits).try_acquire_owned() {
                                Ok(permit) => self.credit = Some(permit),
                                Err(_) => break,
                            }
                        }
                        match requests.try_recv() {
                            Ok(request) => self.handle(request),
                            Err(_) => break,
                        }
                    }
                    self.flush_broadcasts();
                    if self.failed {
                        break;
                    }
                    idle_since = if self.peers.is_empty() && self.lagging.is_empty() {
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
        self.retire(requests, None).await;
    }

    /// Loads the document. Integrating a long-lived document into yrs is the slow part of a
    /// load, so it runs on a blocking thread while the room already serves what the stored
    /// bytes can answer: connections join, and a new client (empty state vector) gets the
    /// stored state at once. Everything else waits, in order, for the integrated replica.
    async fn load(&mut self, requests: &mut mpsc::Receiver<RoomRequest>) -> Result<(), String> {
        let started = std::time::Instant::now();
        let stored = self.log.load(&self.name).await.map_err(|e| e.to_string())?;
        let read = started.elapsed();
        let logged = stored.updates.len();
        let stored_state = stored_full_state(&stored);
        let mut integrating = tokio::task::spawn_blocking(move || DocumentCore::load(&stored));

        let mut joined_early = Vec::new();
        let mut deferred = Vec::new();
        let core = loop {
            tokio::select! {
                integrated = &mut integrating => {
                    break integrated.map_err(|e| e.to_string())??;
                }
                request = requests.recv() => match request {
                    Some(RoomRequest::Join { peer, reply }) => {
                        joined_early.push(peer.id);
                        self.peers.insert(peer.id, peer);
                        let _ = reply.send(Ok(()));
                    }
                    Some(RoomRequest::SyncStep1 { peer, state_vector })
                        if state_vector.is_empty() && stored_state.is_some() =>
                    {
                        if let Some(state) = &stored_state {
                            self.send_to(peer, Message::SyncStep2(state).encode().into());
                        }
                    }
                    Some(other) => deferred.push(other),
                    None => break integrating.await.map_err(|e| e.to_string())??,
                },
            }
        };
        self.core = core;
        self.unsnapshotted = logged as u64;
        // A long log left by an earlier life is compacted now, so the next load is fast.
        if self.unsnapshotted >= self.config.snapshot_every {
            self.snapshot();
        }
        for peer in joined_early {
            self.greet(peer);
        }
        for request in deferred {
            self.handle(request);
        }
        self.flush_broadcasts();
        tracing::debug!(
            doc = %self.name,
            logged,
            read_ms = read.as_secs_f64() * 1e3,
            total_ms = started.elapsed().as_secs_f64() * 1e3,
            "document loaded"
        );
        Ok(())
    }

    fn handle(&mut self, request: RoomRequest) {
        if !matches!(request, RoomRequest::Update { .. }) {
            // Everything else keeps its order relative to the updates before it.
            self.flush_broadcasts();
        }
        match request {
            RoomRequest::Join { peer, reply } => {
                let id = peer.id;
                self.peers.insert(id, peer);
                self.greet(id);
                let _ = reply.send(Ok(()));
            }
            RoomRequest::Leave { peer } => self.leave(peer),
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
            } => self.apply(peer, seq, raw, update),
            RoomRequest::Awareness { peer, raw } => self.publish_presence(peer, &raw),
            RoomRequest::QueryAwareness { peer } => {
                if let Some(frame) = self.presence_frame() {
                    self.send_to(peer, frame);
                }
            }
            RoomRequest::State { reply } => {
                let state = self.core.full_state();
                self.after_durable(Gated::Reply(Box::new(move |durable| {
                    let _ = reply.send(durable.map(|()| state).map_err(unavailable));
                })));
            }
            RoomRequest::Attribution { reply } => {
                let read = (self.core.full_state(), self.core.owners());
                self.after_durable(Gated::Reply(Box::new(move |durable| {
                    let _ = reply.send(durable.map(|()| read).map_err(unavailable));
                })));
            }
            RoomRequest::Command {
                role,
                mission,
                person,
                command,
                reply,
            } => self.command(role, &mission, &person, &command, reply),
            RoomRequest::Resync { peer } => {
                if let Some(lagged) = self.lagging.remove(&peer) {
                    tracing::debug!(doc = %self.name, peer, "resyncing lagged connection");
                    self.peers.insert(peer, lagged);
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
        self.send_to(peer, Message::SyncStep1(state_vector).encode().into());
        if let Some(frame) = self.presence_frame() {
            self.send_to(peer, frame);
        }
    }

    /// Judges an update, applies it, logs it with its audit record, and broadcasts it once it
    /// is durable; or refuses it, leaving the document untouched.
    fn apply(&mut self, from: ConnId, seq: u64, raw: Bytes, update: Update) {
        if self.refused.contains(&from) {
            return;
        }
        let Some(writer) = self.peers.get(&from).or_else(|| self.lagging.get(&from)) else {
            // Updates are only ever queued by joined connections; one that left is gone.
            return;
        };
        let (role, mission, person) = (
            writer.role,
            Arc::clone(&writer.mission),
            Arc::clone(&writer.person),
        );
        let ack = Some((Arc::clone(&writer.state), seq));
        let author = Author {
            role,
            mission: &mission,
            person: &person,
        };
        match self.core.apply_update(raw, update, author, now_ms()) {
            // Nothing new (a reconnecting client re-sending what the server has): durable as
            // soon as everything before it is.
            Ok(None) => self.issue_barrier(ack),
            Ok(Some(entry)) => {
                let update = entry.update.clone();
                self.issue_append(entry, ack);
                self.after_durable(Gated::Broadcast {
                    from,
                    update,
                    applied: std::time::Instant::now(),
                });
                self.unsnapshotted += 1;
                if self.unsnapshotted >= self.config.snapshot_every {
                    self.snapshot();
                }
            }
            Err(UpdateError::Malformed(reason)) => self.close_peer(
                from,
                CloseCode::Malformed,
                format!("malformed update: {reason}"),
            ),
            Err(UpdateError::Refused(refusal)) => self.refuse(from, &refusal, &mission),
            Err(UpdateError::Diverged(reason)) => {
                // The replica holds what nobody judged and nothing logged: it must go. Nothing
                // of it was sent anywhere; everyone reconnects to a reload from the log.
                tracing::error!(doc = %self.name, peer = from, %reason, "replica diverged");
                self.close_peer(from, CloseCode::Malformed, "update could not be applied");
                self.fail("document reloading; reconnect");
            }
        }
    }

    /// Refuses an update: `Rejected` (naming the rule and the paragraph) for Concord clients,
    /// permission-denied for stock Yjs clients, then close 4403. Nobody else sees anything.
    fn refuse(&mut self, peer: ConnId, refusal: &Refusal, mission: &str) {
        tracing::info!(
            doc = %self.name,
            peer,
            mission,
            rule = refusal.rule.as_str(),
            paragraph = refusal.paragraph.as_deref().unwrap_or("-"),
            "update refused"
        );
        self.refused.insert(peer);
        if let Some(p) = self.peers.get(&peer).or_else(|| self.lagging.get(&peer)) {
            // Straight to the outbox, lagged or not: the close that follows drains it first.
            let rejected = Message::Rejected(refusal.to_rejection()).encode();
            let _ = p.outbox.try_send(rejected.into());
            let denied = Message::PermissionDenied(&refusal.message).encode();
            let _ = p.outbox.try_send(denied.into());
        }
        self.close_peer(
            peer,
            CloseCode::Forbidden,
            format!("{}: {}", refusal.rule.as_str(), refusal.message),
        );
    }

    /// Runs a command on the replica. What it wrote is logged, then broadcast to everyone (the
    /// requester included: it is not the requester's own edit) and answered, once durable.
    fn command(
        &mut self,
        role: concord_protocol::Role,
        mission: &str,
        person: &str,
        command: &Command,
        reply: CommandReplyTo,
    ) {
        let author = Author {
            role,
            mission,
            person,
        };
        let (result, entry) = self.core.run_command(author, command, now_ms());
        if let Some(entry) = entry {
            // The command itself can be large (an imported text): details at debug level.
            tracing::info!(doc = %self.name, mission, person, "command applied");
            tracing::debug!(doc = %self.name, ?command, "command");
            let update = entry.update.clone();
            self.issue_append(entry, None);
            self.after_durable(Gated::Broadcast {
                from: SERVER,
                update,
                applied: std::time::Instant::now(),
            });
            self.unsnapshotted += 1;
        }
        // Even a command that wrote nothing is answered only once what it saw is durable.
        self.after_durable(Gated::Answer { to: reply, result });
    }

    fn answer(&mut self, to: CommandReplyTo, result: Result<Outcome, CommandError>) {
        match to {
            CommandReplyTo::Caller(reply) => {
                let _ = reply.send(result);
            }
            CommandReplyTo::Socket { peer, id } => {
                let reply = CommandReply {
                    id,
                    result: result.into(),
                };
                let frame = Message::CommandResult(reply).encode();
                if let Some(p) = self.peers.get(&peer).or_else(|| self.lagging.get(&peer)) {
                    // Straight to the outbox, lagged or not: an answer is not document content
                    // a resync would bring back.
                    let _ = p.outbox.try_send(frame.into());
                }
            }
        }
    }

    /// Sends `what` once every log operation issued so far is durable (at once if they are).
    fn after_durable(&mut self, what: Gated) {
        if self.waiting.is_empty() && self.durable >= self.issued {
            self.release(what);
        } else {
            self.waiting.push_back((self.issued, what));
        }
    }

    fn release(&mut self, what: Gated) {
        match what {
            Gated::Broadcast {
                from,
                update,
                applied,
            } => {
                self.commit_waits.record(applied.elapsed());
                self.unsent.push((from, update));
            }
            Gated::Send { peer, frame } => {
                // Keep the order: broadcasts released before this frame leave first.
                self.flush_broadcasts();
                self.send_to(peer, frame);
            }
            Gated::Reply(answer) => {
                self.flush_broadcasts();
                answer(Ok(()));
            }
            Gated::Answer { to, result } => {
                self.flush_broadcasts();
                self.answer(to, result);
            }
        }
    }

    fn on_commit(&mut self, (n, result): Commit) {
        if self.failed {
            return;
        }
        match result {
            Ok(()) => {
                self.durable = self.durable.max(n);
                while self
                    .waiting
                    .front()
                    .is_some_and(|(upto, _)| *upto <= self.durable)
                {
                    if let Some((_, what)) = self.waiting.pop_front() {
                        self.release(what);
                    }
                }
            }
            Err(err) => {
                tracing::error!(doc = %self.name, error = %err, "log write failed");
                // Nothing that waited is true any more: answers say so, the rest is dropped.
                for (_, what) in std::mem::take(&mut self.waiting) {
                    match what {
                        Gated::Reply(answer) => answer(Err(err.clone())),
                        Gated::Answer { to, .. } => {
                            let unstored = CommandError {
                                code: STORAGE_UNAVAILABLE,
                                message: format!("the change could not be stored: {err}"),
                            };
                            self.answer(to, Err(unstored));
                        }
                        Gated::Broadcast { .. } | Gated::Send { .. } => {}
                    }
                }
                self.unsent.clear();
                self.fail("the document could not be stored; reconnect to reload it");
            }
        }
    }

    /// A completion that reports operation `n` back to the room (and acks a writer).
    fn completion(&mut self, ack: Option<(Arc<PeerState>, u64)>) -> Completion {
        self.issued += 1;
        let n = self.issued;
        let commits = self.commits.clone();
        let credit = self.credit.take();
        Box::new(move |result: Result<_, StorageError>| {
            drop(credit);
            if let (Ok(_), Some((state, seq))) = (&result, ack) {
                state.ack(seq);
            }
            let _ = commits.send((n, result.map(|_| ())));
        })
    }

    fn issue_append(&mut self, entry: LogEntry, ack: Option<(Arc<PeerState>, u64)>) {
        let done = self.completion(ack);
        self.log.append(&self.name, entry, done);
    }

    fn issue_barrier(&mut self, ack: Option<(Arc<PeerState>, u64)>) {
        let done = self.completion(ack);
        self.log.barrier(done);
    }

    fn snapshot(&mut self) {
        let state = self.core.full_state();
        let name = Arc::clone(&self.name);
        let bytes = state.len();
        let done = self.completion(None);
        self.log.snapshot(
            &self.name,
            state,
            Box::new(move |result| {
                match &result {
                    Ok(_) => tracing::debug!(doc = %name, bytes, "snapshot written"),
                    Err(err) => tracing::error!(doc = %name, error = %err, "snapshot failed"),
                }
                done(result)
            }),
        );
        self.unsnapshotted = 0;
    }

    /// Broadcasts the updates applied since the last flush. One update goes out as it came;
    /// several are merged into one: everyone gets the merge of all, except that a sender gets
    /// the merge of the others' (an update is never echoed to its sender).
    fn flush_broadcasts(&mut self) {
        let unsent = std::mem::take(&mut self.unsent);
        match unsent.as_slice() {
            [] => {}
            [(from, raw)] => {
                let frame: Bytes = encode_update_frame(raw).into();
                self.broadcast(&frame, Some(*from));
            }
            many => {
                let mut senders: Vec<ConnId> = many.iter().map(|(from, _)| *from).collect();
                senders.sort_unstable();
                senders.dedup();
                let everything: Vec<&[u8]> = many.iter().map(|(_, raw)| raw.as_ref()).collect();
                let Some(frame) = merged_frame(&everything) else {
                    // Merging failed (it should not, all were applied): send them one by one.
                    for (from, raw) in many {
                        let frame: Bytes = encode_update_frame(raw).into();
                        self.broadcast(&frame, Some(*from));
                    }
                    return;
                };
                self.broadcast_except(&frame, &senders);
                for sender in senders {
                    let others: Vec<&[u8]> = many
                        .iter()
                        .filter(|(from, _)| *from != sender)
                        .map(|(_, raw)| raw.as_ref())
                        .collect();
                    if let Some(frame) = merged_frame(&others) {
                        self.send_to(sender, frame);
                    }
                }
            }
        }
    }

    /// Sends one frame to every peer but `except`.
    fn broadcast(&mut self, frame: &Bytes, except: Option<ConnId>) {
        self.broadcast_except(frame, except.as_slice());
    }

    /// Sends one frame to every peer not in `except`. Never waits: a full outbox lags its
    /// peer. (A closed outbox belongs to a connection whose Leave is already queued.)
    fn broadcast_except(&mut self, frame: &Bytes, except: &[ConnId]) {
        let mut lagged = Vec::new();
        for (id, peer) in &self.peers {
            if except.contains(id) {
                continue;
            }
            if let Err(mpsc::error::TrySendError::Full(_)) = peer.outbox.try_send(frame.clone()) {
                lagged.push(*id);
            }
        }
        for id in lagged {
            self.lag(id);
        }
    }

    fn send_to(&mut self, peer: ConnId, frame: Bytes) {
        if let Some(p) = self.peers.get(&peer) {
            if let Err(mpsc::error::TrySendError::Full(_)) = p.outbox.try_send(frame) {
                self.lag(peer);
            }
        }
    }

    fn lag(&mut self, id: ConnId) {
        if let Some(peer) = self.peers.remove(&id) {
            tracing::debug!(doc = %self.name, peer = id, "outbox full; connection lagged");
            peer.state.mark_lagged();
            self.lagging.insert(id, peer);
        }
    }

    fn close_peer(&mut self, id: ConnId, code: CloseCode, reason: impl Into<String>) {
        if let Some(peer) = self.peers.get(&id).or_else(|| self.lagging.get(&id)) {
            peer.state.request_close(code, reason);
        }
    }

    fn leave(&mut self, id: ConnId) {
        self.peers.remove(&id);
        self.lagging.remove(&id);
        self.refused.remove(&id);
        // Whatever presence the connection published goes with it, as y-websocket does.
        let mut gone = Vec::new();
        self.presence.retain(|client, presence| {
            if presence.owner == id {
                gone.push((*client, presence.clock + 1));
                false
            } else {
                true
            }
        });
        if !gone.is_empty() {
            let update = encode_awareness(gone.iter().map(|&(client, clock)| AwarenessEntry {
                client,
                clock,
                state: "null",
            }));
            let frame: Bytes = Message::Awareness(&update).encode().into();
            self.broadcast(&frame, None);
        }
    }

    fn publish_presence(&mut self, from: ConnId, raw: &[u8]) {
        let Ok(entries) = decode_awareness(raw) else {
            self.close_peer(from, CloseCode::Malformed, "malformed awareness update");
            return;
        };
        let Some(publisher) = self.peers.get(&from).or_else(|| self.lagging.get(&from)) else {
            return;
        };
        let (role, mission, person) = (
            publisher.role,
            Arc::clone(&publisher.mission),
            Arc::clone(&publisher.person),
        );
        // (client, clock, state as relayed: `None` for a removal)
        let mut accepted: Vec<(u64, u32, Option<String>)> = Vec::with_capacity(entries.len());
        for entry in entries {
            // A client id that wrote in the document belongs to one mission: only that
            // mission may speak for it in presence too.
            let owner =
                concord_protocol::policy::DocumentView::owner(self.core.policy(), entry.client);
            if owner.is_some_and(|owner| owner != &*mission) {
                continue;
            }
            match self.presence.get(&entry.client) {
                // A client id's presence belongs to the connection that first published it.
                Some(current) if current.owner != from => continue,
                Some(current) if entry.clock < current.clock => continue,
                Some(current) if entry.clock == current.clock && !entry.is_removal() => continue,
                _ => {}
            }
            if entry.is_removal() {
                self.presence.remove(&entry.client);
                accepted.push((entry.client, entry.clock, None));
            } else {
                // Whoever the state says it is, it is the token's person, mission and role.
                let state = crate::presence::stamp(entry.state, &person, &mission, role);
                self.presence.insert(
                    entry.client,
                    Presence {
                        clock: entry.clock,
                        state: state.clone(),
                        owner: from,
                    },
                );
                accepted.push((entry.client, entry.clock, Some(state)));
            }
        }
        if !accepted.is_empty() {
            let update =
                encode_awareness(
                    accepted
                        .iter()
                        .map(|(client, clock, state)| AwarenessEntry {
                            client: *client,
                            clock: *clock,
                            state: state.as_deref().unwrap_or("null"),
                        }),
                );
            let frame: Bytes = Message::Awareness(&update).encode().into();
            // Presence goes to the publisher too, as the reference server does: stock
            // y-websocket clients drop a connection that has received nothing for 30 seconds,
            // and their own presence renewal (every 15) is what keeps a quiet one alive.
            self.broadcast(&frame, None);
        }
    }

    fn presence_frame(&self) -> Option<Bytes> {
        if self.presence.is_empty() {
            return None;
        }
        let update = encode_awareness(self.presence.iter().map(|(client, p)| AwarenessEntry {
            client: *client,
            clock: p.clock,
            state: &p.state,
        }));
        Some(Message::Awareness(&update).encode().into())
    }

    /// Stops serving: every connection is closed with 1011 and reconnects to a fresh load.
    fn fail(&mut self, reason: &str) {
        tracing::error!(doc = %self.name, reason, "room failed; closing its connections");
        for peer in self.peers.values().chain(self.lagging.values()) {
            peer.state.request_close(CloseCode::InternalError, reason);
        }
        self.unsnapshotted = 0;
        self.failed = true;
    }

    /// Leaves the registry only once everything the room issued is durable, so that a new room
    /// for the same document loads all of it.
    async fn retire(
        mut self,
        mut requests: mpsc::Receiver<RoomRequest>,
        load_error: Option<JoinError>,
    ) {
        if self.unsnapshotted > 0 && load_error.is_none() && !self.failed {
            self.snapshot();
        }
        let (tx, rx) = oneshot::channel();
        self.log.barrier(Box::new(move |result| {
            let _ = tx.send(result);
        }));
        if let Ok(Err(err)) = rx.await {
            tracing::error!(doc = %self.name, error = %err, "final flush failed");
        }
        // Everything issued is settled now: what waited for it goes out (answers to commands
        // included) before the room goes.
        if let Some(mut committed) = self.committed.take() {
            while let Ok(commit) = committed.try_recv() {
                self.on_commit(commit);
            }
            self.flush_broadcasts();
        }
        if let Some((count, p50, p99)) = self.commit_waits.summary() {
            tracing::info!(
                doc = %self.name,
                broadcasts = count,
                p50_us = p50.as_micros() as u64,
                p99_us = p99.as_micros() as u64,
                "broadcasts waited for their commit"
            );
        }
        if let Some(rooms) = self.rooms.upgrade() {
            rooms.retire(&self.name, self.generation);
        }
        requests.close();
        while let Some(request) = requests.recv().await {
            match request {
                RoomRequest::Join { reply, .. } => {
                    if let Some(err) = &load_error {
                        let _ = reply.send(Err(err.clone()));
                    }
                    // Otherwise the dropped reply tells the connection to look the room up
                    // again: it will find (or start) the room's successor.
                }
                RoomRequest::Update { peer, .. } => {
                    self.close_peer(peer, CloseCode::GoingAway, "document unloaded");
                }
                RoomRequest::State { reply } => {
                    if let Some(err) = &load_error {
                        let _ = reply.send(Err(err.clone()));
                    }
                }
                RoomRequest::Attribution { reply } => {
                    if let Some(err) = &load_error {
                        let _ = reply.send(Err(err.clone()));
                    }
                }
                // A REST caller seeing its reply dropped looks the room up again; a socket is
                // told to reconnect (to the room's successor) and send it again.
                RoomRequest::Command {
                    reply: CommandReplyTo::Socket { peer, .. },
                    ..
                } => self.close_peer(peer, CloseCode::GoingAway, "document unloaded"),
                RoomRequest::Command { .. } => {}
                _ => {}
            }
        }
        // Connections still attached (shutdown, failure) are told to go.
        for peer in self.peers.values().chain(self.lagging.values()) {
            peer.state
                .request_close(CloseCode::GoingAway, "document closed");
        }
    }
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

fn unavailable(err: StorageError) -> JoinError {
    JoinError::LoadFailed(format!("storage failed: {err}"))
}

/// The whole stored document as one update, without integrating it: the snapshot when
/// nothing was logged after it, else the merge of snapshot and log.
fn stored_full_state(stored: &StoredDocument) -> Option<Vec<u8>> {
    match (&stored.snapshot, stored.updates.as_slice()) {
        (None, []) => None,
        (Some(snapshot), []) => Some(snapshot.clone()),
        (None, [only]) => Some(only.clone()),
        (snapshot, updates) => {
            yrs::merge_updates_v1(snapshot.iter().chain(updates.iter()).map(Vec::as_slice)).ok()
        }
    }
}

/// One sync-update frame carrying the merge of `updates` (`None` when there are none).
fn merged_frame(updates: &[&[u8]]) -> Option<Bytes> {
    match updates {
        [] => None,
        [one] => Some(encode_update_frame(one).into()),
        many => yrs::merge_updates_v1(many)
            .ok()
            .map(|merged| encode_update_frame(&merged).into()),
    }
}

async fn sleep_until_or_forever(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}
