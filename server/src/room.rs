//! A room: one live document, owned by one task.
//!
//! Everything that touches a document goes through its room's queue, so updates are applied one
//! at a time in one order, and the frame that broadcasts an update is encoded once and shared by
//! every recipient (a `Bytes` clone is a reference count). The room never waits on a connection:
//! a full outbox marks that connection lagged and it is resynced with the whole document once it
//! catches up, so a stalled client never delays the others and never silently misses an update.
//!
//! Durability: an accepted update is broadcast at once and appended to the document log; the
//! writer's `Ack` is released by the log's completion, after the fsync. If storage fails, the
//! room stops: every connection is closed with 1011 and the next connection reloads the document
//! from what is durable (clients re-send what the server lacks when they sync).

use std::collections::HashMap;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use bytes::Bytes;
use concord_protocol::awareness::{decode_awareness, encode_awareness, AwarenessEntry};
use concord_protocol::command::{execute, Command, CommandError, Context, Outcome};
use concord_protocol::message::encode_update_frame;
use concord_protocol::policy::{self, Actor, PolicyState, Refusal, SERVER_OWNER};
use concord_protocol::update::scan_update_v1;
use concord_protocol::{CloseCode, Message};
use tokio::sync::{mpsc, oneshot, Notify};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use yrs::updates::decoder::Decode;
use yrs::{Doc, OffsetKind, Options, ReadTxn, StateVector, Transact, Update};

use crate::audit::AuditRecord;
use crate::peer::{ConnId, Peer};
use crate::rooms::Rooms;
use crate::storage::{Completion, DocumentLog, LogEntry, StorageError, StoredDocument};

/// Tunables of every room.
#[derive(Debug, Clone)]
pub struct RoomConfig {
    /// How long a document nobody uses stays in memory.
    pub idle_unload_after: Duration,
    /// Compact the log into a snapshot after this many appended updates.
    pub snapshot_every: u64,
}

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
        reply: oneshot::Sender<Result<Outcome, CommandError>>,
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

/// A document's full state and the owner mission of every client id that wrote in it.
pub type Attributable = (Vec<u8>, Vec<(u64, String)>);

#[derive(Debug, Clone, thiserror::Error)]
pub enum JoinError {
    #[error("the document could not be loaded: {0}")]
    LoadFailed(String),
}

/// Raised from storage callbacks (which run on the storage thread) to stop the room.
#[derive(Default)]
struct Alarm {
    raised: AtomicBool,
    notify: Notify,
}

impl Alarm {
    fn raise(&self) {
        self.raised.store(true, Ordering::Release);
        self.notify.notify_one();
    }
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
    doc: Doc,
    /// Connections that receive broadcasts.
    peers: HashMap<ConnId, Peer>,
    /// Connections whose outbox overflowed, waiting to be resynced.
    lagging: HashMap<ConnId, Peer>,
    presence: HashMap<u64, Presence>,
    log: Arc<dyn DocumentLog>,
    config: RoomConfig,
    rooms: Weak<Rooms>,
    alarm: Arc<Alarm>,
    /// Updates appended since the last snapshot.
    unsnapshotted: u64,
    /// Updates applied in the current batch, not yet broadcast: (sender, raw update).
    unsent: Vec<(ConnId, Bytes)>,
    /// What the update policy knows of the document: which text every item is in, the guards
    /// of paragraphs and amendments, and which mission owns each client id.
    policy: PolicyState,
    /// Connections whose update was refused: they are closing, and whatever they sent after
    /// the refused update may build on it, so nothing more of theirs is applied.
    refused: std::collections::HashSet<ConnId>,
    /// The server's own client id has been recorded as claimed in this room's life.
    server_claim_logged: bool,
}

/// Stands for the server itself among update senders (connection ids start at 1), so that the
/// server's own updates go to every peer.
const SERVER: ConnId = 0;

/// Requests one room handles back to back before it broadcasts; consecutive updates among
/// them leave as one merged frame.
const BATCH: usize = 256;

/// A new, empty replica with Concord's settings: garbage collection off, so every revision and
/// deletion stays reconstructible; offsets in UTF-16 code units, as Yjs counts them; and no
/// formatting clean-up, which would delete items on the server's own initiative: the server's
/// replica only ever applies what it is given (logged updates and commands), so that it and
/// its log never drift apart.
pub fn new_replica() -> Doc {
    Doc::with_options(replica_options())
}

fn replica_options() -> Options {
    Options {
        skip_gc: true,
        offset_kind: OffsetKind::Utf16,
        cleanup_formatting: false,
        ..Options::default()
    }
}

fn full_state(doc: &Doc) -> Vec<u8> {
    doc.transact()
        .encode_state_as_update_v1(&StateVector::default())
}

impl Room {
    pub(crate) fn new(
        name: Arc<str>,
        generation: u64,
        log: Arc<dyn DocumentLog>,
        config: RoomConfig,
        rooms: Weak<Rooms>,
    ) -> Self {
        Room {
            name,
            generation,
            doc: new_replica(),
            peers: HashMap::new(),
            lagging: HashMap::new(),
            presence: HashMap::new(),
            log,
            config,
            rooms,
            alarm: Arc::default(),
            unsnapshotted: 0,
            unsent: Vec::new(),
            policy: PolicyState::default(),
            refused: std::collections::HashSet::new(),
            server_claim_logged: false,
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
        let mut idle_since: Option<Instant> = Some(Instant::now());
        loop {
            let idle_deadline = idle_since.map(|since| since + self.config.idle_unload_after);
            tokio::select! {
                request = requests.recv() => {
                    let Some(request) = request else { break };
                    self.handle(request);
                    // Whatever else is already queued is handled now too, so that consecutive
                    // updates (a busy room) cost every recipient one frame, not one each.
                    for _ in 1..BATCH {
                        match requests.try_recv() {
                            Ok(request) => self.handle(request),
                            Err(_) => break,
                        }
                    }
                    self.flush_broadcasts();
                    idle_since = if self.peers.is_empty() && self.lagging.is_empty() {
                        idle_since.or(Some(Instant::now()))
                    } else {
                        None
                    };
                }
                () = sleep_until_or_forever(idle_deadline) => {
                    tracing::debug!(doc = %self.name, "unloading idle document");
                    break;
                }
                () = self.alarm.notify.notified() => {
                    if self.alarm.raised.load(Ordering::Acquire) {
                        self.fail("document failed; reconnect to reload it");
                        break;
                    }
                }
                () = shutdown.cancelled() => break,
            }
        }
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
        let mut integrating = tokio::task::spawn_blocking(move || integrate(&stored));

        let mut joined_early = Vec::new();
        let mut deferred = Vec::new();
        let doc = loop {
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
        let (doc, policy) = doc;
        self.doc = doc;
        self.policy = policy;
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
                let diff = self.doc.transact().encode_state_as_update_v1(&state_vector);
                self.send_to(peer, Message::SyncStep2(&diff).encode().into());
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
                let _ = reply.send(Ok(full_state(&self.doc)));
            }
            RoomRequest::Attribution { reply } => {
                let owners = self
                    .policy
                    .owners()
                    .map(|(client, owner)| (client, owner.to_string()))
                    .collect();
                let _ = reply.send(Ok((full_state(&self.doc), owners)));
            }
            RoomRequest::Command {
                role,
                mission,
                person,
                command,
                reply,
            } => {
                let result = self.command(role, &mission, &person, &command);
                let _ = reply.send(result);
            }
            RoomRequest::Resync { peer } => {
                if let Some(lagged) = self.lagging.remove(&peer) {
                    tracing::debug!(doc = %self.name, peer, "resyncing lagged connection");
                    self.peers.insert(peer, lagged);
                    let state = full_state(&self.doc);
                    self.send_to(peer, Message::SyncStep2(&state).encode().into());
                    self.greet(peer);
                }
            }
        }
    }

    /// What a (re)joining connection gets: the server's state vector, so that the client sends
    /// what the server lacks, and everyone's presence.
    fn greet(&mut self, peer: ConnId) {
        let state_vector = self.doc.transact().state_vector();
        self.send_to(peer, Message::SyncStep1(state_vector).encode().into());
        if let Some(frame) = self.presence_frame() {
            self.send_to(peer, frame);
        }
    }

    /// Checks an update against the policy, applies it, logs it with its audit record, and
    /// queues it for broadcast; or refuses it, leaving the document untouched.
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
        let verdict = match scan_update_v1(&raw) {
            Ok(scanned) => policy::check(
                &scanned,
                &self.policy,
                Actor {
                    role,
                    mission: &mission,
                },
            ),
            Err(err) => {
                self.close_peer(
                    from,
                    CloseCode::Malformed,
                    format!("malformed update: {err}"),
                );
                return;
            }
        };
        let verdict = match verdict {
            Ok(verdict) => verdict,
            Err(refusal) => {
                self.refuse(from, &refusal, &mission);
                return;
            }
        };
        let doc = &self.doc;
        let outcome = std::panic::catch_unwind(AssertUnwindSafe(|| {
            let mut txn = doc.transact_mut();
            txn.apply_update(update)?;
            // The policy refuses missing dependencies, so nothing should stay pending; if yrs
            // still keeps something pending, it has to be logged, or a restart would lose it.
            let store = txn.store();
            let pending = store.pending_update().is_some() || store.pending_ds().is_some();
            let changed = txn.has_changes() || pending;
            Ok::<_, yrs::error::UpdateError>((changed, txn.delete_set().clone()))
        }));
        let changed = match outcome {
            Ok(Ok((changed, deleted))) => {
                self.policy.record(&verdict, &mission, &deleted);
                changed
            }
            Ok(Err(err)) => {
                self.close_peer(
                    from,
                    CloseCode::Malformed,
                    format!("update rejected: {err}"),
                );
                return;
            }
            Err(_) => {
                // yrs panicked half-way through a transaction: the replica can no longer be
                // trusted. Nothing of this update was logged; reload from storage.
                tracing::error!(doc = %self.name, peer = from, "update application panicked");
                self.close_peer(from, CloseCode::Malformed, "update could not be applied");
                self.alarm.raise();
                return;
            }
        };
        let ack = self.ack_for(from, seq);
        if !changed {
            // Nothing new (a reconnecting client re-sending what the server has): durable as
            // soon as everything before it is.
            self.log.barrier(ack);
            return;
        }
        let record = AuditRecord {
            at_ms: now_ms(),
            person: person.to_string(),
            mission: mission.to_string(),
            action: "update".into(),
            paragraphs: self.policy.paragraphs_touched(&verdict),
            deleted: verdict.deletions,
            claims: verdict.claims,
        };
        self.unsent.push((from, raw.clone()));
        self.log.append(
            &self.name,
            LogEntry {
                update: raw,
                record,
            },
            ack,
        );
        self.unsnapshotted += 1;
        if self.unsnapshotted >= self.config.snapshot_every {
            self.snapshot();
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

    /// Runs a command on the replica. What it wrote is logged and broadcast to everyone (the
    /// requester included: it is not the requester's own edit) before the reply goes out.
    fn command(
        &mut self,
        role: concord_protocol::Role,
        mission: &str,
        person: &str,
        command: &Command,
    ) -> Result<Outcome, CommandError> {
        let ctx = Context {
            actor: Actor { role, mission },
            person,
            now_ms: now_ms(),
        };
        let (result, update, paragraphs) = {
            let mut txn = self.doc.transact_mut();
            let result = execute(&mut txn, ctx, command);
            let update = txn.encode_update_v1();
            let deleted = txn.delete_set().clone();
            // The policy learns what the server wrote (new texts, guards) before anything else
            // is checked against it.
            self.policy.absorb_own(&update, &deleted, &txn);
            let paragraphs = match &result {
                Ok(outcome) => command.paragraphs_touched(&txn, outcome),
                Err(_) => Vec::new(),
            };
            (result, update, paragraphs)
        };
        let wrote = scan_is_nonempty(&update);
        if wrote {
            let raw = Bytes::from(update);
            let mut claims = Vec::new();
            if !self.server_claim_logged {
                claims.push(self.doc.client_id().get());
                self.server_claim_logged = true;
            }
            let record = AuditRecord {
                at_ms: ctx.now_ms,
                person: person.to_string(),
                mission: mission.to_string(),
                action: command.name().to_string(),
                paragraphs,
                deleted: Vec::new(),
                claims,
            };
            // The command itself can be large (an imported text): details at debug level.
            tracing::info!(doc = %self.name, mission, person, "command applied");
            tracing::debug!(doc = %self.name, ?command, "command");
            self.unsent.push((SERVER, raw.clone()));
            let alarm = Arc::clone(&self.alarm);
            self.log.append(
                &self.name,
                LogEntry {
                    update: raw,
                    record,
                },
                Box::new(move |result| {
                    if let Err(err) = result {
                        tracing::error!(error = %err, "command append failed");
                        alarm.raise();
                    }
                }),
            );
            self.unsnapshotted += 1;
            self.flush_broadcasts();
        }
        result
    }

    fn ack_for(&self, peer: ConnId, seq: u64) -> Completion {
        let state = self
            .peers
            .get(&peer)
            .or_else(|| self.lagging.get(&peer))
            .map(|p| Arc::clone(&p.state));
        let alarm = Arc::clone(&self.alarm);
        Box::new(move |result: Result<_, StorageError>| match result {
            Ok(_) => {
                if let Some(state) = state {
                    state.ack(seq);
                }
            }
            Err(err) => {
                tracing::error!(error = %err, "append failed");
                alarm.raise();
            }
        })
    }

    fn snapshot(&mut self) {
        let state = full_state(&self.doc);
        let alarm = Arc::clone(&self.alarm);
        let name = Arc::clone(&self.name);
        let bytes = state.len();
        self.log.snapshot(
            &self.name,
            state,
            Box::new(move |result| match result {
                Ok(_) => tracing::debug!(doc = %name, bytes, "snapshot written"),
                Err(err) => {
                    tracing::error!(doc = %name, error = %err, "snapshot failed");
                    alarm.raise();
                }
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
        let mission = self
            .peers
            .get(&from)
            .or_else(|| self.lagging.get(&from))
            .map(|p| Arc::clone(&p.mission));
        let mut accepted = Vec::with_capacity(entries.len());
        for entry in entries {
            // A client id that wrote in the document belongs to one mission: only that
            // mission may speak for it in presence too.
            let owner = concord_protocol::policy::DocumentView::owner(&self.policy, entry.client);
            if owner.is_some_and(|owner| Some(owner) != mission.as_deref()) {
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
            } else {
                self.presence.insert(
                    entry.client,
                    Presence {
                        clock: entry.clock,
                        state: entry.state.to_owned(),
                        owner: from,
                    },
                );
            }
            accepted.push(entry);
        }
        if !accepted.is_empty() {
            let update = encode_awareness(accepted);
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
    }

    /// Leaves the registry only once everything the room issued is durable, so that a new room
    /// for the same document loads all of it.
    async fn retire(
        mut self,
        mut requests: mpsc::Receiver<RoomRequest>,
        load_error: Option<JoinError>,
    ) {
        if self.unsnapshotted > 0
            && load_error.is_none()
            && !self.alarm.raised.load(Ordering::Acquire)
        {
            self.snapshot();
        }
        let (tx, rx) = oneshot::channel();
        self.log.barrier(Box::new(move |result| {
            let _ = tx.send(result);
        }));
        if let Ok(Err(err)) = rx.await {
            tracing::error!(doc = %self.name, error = %err, "final flush failed");
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
                // Dropping the reply tells the caller the room is gone: it looks again.
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

fn scan_is_nonempty(update: &[u8]) -> bool {
    concord_protocol::update::scan_update_v1(update).is_ok_and(|scanned| !scanned.is_empty())
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// A replica holding everything stored, and the policy's view of it (runs on a blocking
/// thread). The replica's own client id, which commands write under, is claimed for the server:
/// it must be one nobody has written under, so in the rare case the random id is taken the
/// replica is built again under another.
fn integrate(stored: &StoredDocument) -> Result<(Doc, PolicyState), String> {
    let mut doc = new_replica();
    loop {
        let applied = std::panic::catch_unwind(AssertUnwindSafe(|| {
            let mut txn = doc.transact_mut();
            for bytes in stored.snapshot.iter().chain(stored.updates.iter()) {
                let update = Update::decode_v1(bytes).map_err(|e| e.to_string())?;
                txn.apply_update(update).map_err(|e| e.to_string())?;
            }
            Ok::<_, String>(())
        }));
        match applied {
            Ok(result) => result?,
            Err(_) => return Err("stored updates could not be applied".into()),
        }
        let own = doc.client_id();
        let taken = stored.owners.iter().any(|(client, _)| *client == own.get())
            || doc.transact().state_vector().get(&own) > 0;
        if !taken {
            break;
        }
        doc = new_replica();
    }
    let mut policy = PolicyState::from_replica(&doc.transact());
    for (client, mission) in &stored.owners {
        policy.claim(*client, mission);
    }
    policy.claim(doc.client_id().get(), SERVER_OWNER);
    Ok((doc, policy))
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
