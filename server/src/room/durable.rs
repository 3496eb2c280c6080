//! Nothing leaves the room before it is durable. Every log write the room issues is numbered
//! and holds a storage credit until its commit comes back (storage completes writes in issue
//! order); what must not run ahead of the log (a broadcast, a sync reply, a command's answer,
//! a REST read) waits in a queue for the number issued before it, and is released in order
//! as commits arrive. A failed write answers what waited with `storage-unavailable` and stops
//! the room.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use bytes::Bytes;
use concord_protocol::command::{CommandError, Outcome};

use super::{CommandReplyTo, JoinError, Room, STORAGE_UNAVAILABLE};
use crate::peer::{ConnId, PeerState};
use crate::storage::{Completion, LogEntry, StorageError};

/// A log write's number (counted per room) and how it ended.
pub(super) type Commit = (u64, Result<(), StorageError>);

/// What goes out only once the log writes issued before it are durable.
pub(super) enum Gated {
    /// An accepted update (a client's, or what a command wrote), to everyone but its sender.
    Broadcast {
        from: ConnId,
        update: Bytes,
        applied: std::time::Instant,
    },
    /// A frame carrying document content (a sync reply) to one connection.
    Send { peer: ConnId, frame: Bytes },
    /// An answer (a REST read) and the bytes it holds: `Err` when storage failed.
    Reply {
        bytes: usize,
        answer: Box<dyn FnOnce(Result<(), StorageError>) + Send>,
    },
    /// A command's answer: its result, or `storage-unavailable` when storage failed.
    Answer {
        to: CommandReplyTo,
        result: Result<Outcome, CommandError>,
    },
    /// A publication (or a change of what observers read) is durable: readers reconnect to
    /// what they should read now. `observers`: what observers read from now on, when the
    /// change was of that.
    RenewReaders {
        observers: Option<concord_protocol::schema::ObserverView>,
    },
}

/// What may wait for commits at most, in bytes, before the room stops taking requests (a slow
/// disk and a flood of sync requests must not fill memory: each waiting sync reply holds its
/// diff).
pub(super) const MAX_WAITING_BYTES: usize = 64 << 20;

/// How many entries an empty wait queue keeps room for at the least.
const IDLE_WAITING: usize = 4;

impl Gated {
    /// The bytes it holds while it waits.
    fn bytes(&self) -> usize {
        match self {
            Gated::Broadcast { update, .. } => update.len(),
            Gated::Send { frame, .. } => frame.len(),
            Gated::Reply { bytes, .. } => *bytes,
            Gated::Answer { .. } => 256,
            Gated::RenewReaders { .. } => 0,
        }
    }
}

impl Room {
    /// Sends `what` once every log operation issued so far is durable (at once if they are).
    pub(super) fn after_durable(&mut self, what: Gated) {
        if self.waiting.is_empty() && self.durable >= self.issued {
            self.release(what);
        } else {
            self.waiting_bytes += what.bytes();
            self.waiting.push_back((self.issued, what));
        }
    }

    pub(super) fn release(&mut self, what: Gated) {
        match what {
            Gated::Broadcast {
                from,
                update,
                applied,
            } => {
                self.commit_waits.record(applied.elapsed());
                self.config.metrics.commit_waited(applied.elapsed());
                self.unsent.push((from, update));
            }
            Gated::Send { peer, frame } => {
                // Keep the order: broadcasts released before this frame leave first.
                self.flush_broadcasts();
                self.peers.send_to(peer, frame);
            }
            Gated::Reply { answer, .. } => {
                self.flush_broadcasts();
                answer(Ok(()));
            }
            Gated::Answer { to, result } => {
                self.flush_broadcasts();
                self.answer(to, result);
            }
            Gated::RenewReaders { observers } => {
                self.flush_broadcasts();
                if let Some(observers) = observers {
                    self.observers_durable = observers;
                }
                self.renew_readers();
            }
        }
    }

    pub(super) fn on_commit(&mut self, (n, result): Commit) {
        // After a failed write, what waited has been answered: nothing later is released. A
        // room stopping for another reason (a diverged replica, shutdown) still releases what
        // became durable, so that answered means stored and stored is answered.
        if self.storage_failed {
            return;
        }
        match result {
            Ok(()) => {
                self.durable = self.durable.max(n);
                let mut released = 0;
                while self
                    .waiting
                    .front()
                    .is_some_and(|(upto, _)| *upto <= self.durable)
                {
                    if let Some((_, what)) = self.waiting.pop_front() {
                        self.waiting_bytes = self.waiting_bytes.saturating_sub(what.bytes());
                        self.release(what);
                        released += 1;
                    }
                }
                // A burst leaves the queue at its largest: give that back once the commits
                // release far less than it holds (a steadily busy room keeps its size, and
                // reallocates nothing).
                let keep = (released * 2).max(IDLE_WAITING);
                if self.waiting.is_empty() && self.waiting.capacity() > keep * 4 {
                    self.waiting.shrink_to(keep);
                }
            }
            Err(err) => {
                self.storage_failed = true;
                tracing::error!(doc = %self.name, error = %err, "log write failed");
                // Nothing that waited is true any more: answers say so, the rest is dropped.
                self.waiting_bytes = 0;
                for (_, what) in std::mem::take(&mut self.waiting) {
                    match what {
                        Gated::Reply { answer, .. } => answer(Err(err.clone())),
                        Gated::Answer { to, .. } => {
                            let unstored = CommandError {
                                code: STORAGE_UNAVAILABLE,
                                message: format!("the change could not be stored: {err}"),
                            };
                            self.answer(to, Err(unstored));
                        }
                        Gated::Broadcast { .. }
                        | Gated::Send { .. }
                        | Gated::RenewReaders { .. } => {}
                    }
                }
                // What was released before the failure is durable: `fail` still sends it.
                self.fail("the document could not be stored; reconnect to reload it");
            }
        }
    }

    /// A completion that reports operation `n` back to the room (and acks a writer).
    pub(super) fn completion(&mut self, ack: Option<(Arc<PeerState>, u64)>) -> Completion {
        self.issued += 1;
        let n = self.issued;
        let commits = self.commits.clone();
        let credit = self.credit.take();
        let write_failed = Arc::clone(&self.write_failed);
        Box::new(move |result: Result<_, StorageError>| {
            drop(credit);
            // `Ack(n)` says the first n updates are durable. Once one of this room's writes
            // failed, that is false for every later n, even when a later operation (a barrier
            // for a re-sent update) succeeds. Completions run in issue order, on one thread.
            match &result {
                Err(_) => write_failed.store(true, Ordering::Release),
                Ok(_) if write_failed.load(Ordering::Acquire) => {}
                Ok(_) => {
                    if let Some((state, seq)) = ack {
                        state.ack(seq);
                    }
                }
            }
            let _ = commits.send((n, result.map(|_| ())));
        })
    }

    pub(super) fn issue_append(&mut self, entry: LogEntry, ack: Option<(Arc<PeerState>, u64)>) {
        let done = self.completion(ack);
        self.log.append(&self.name, entry, done);
    }

    pub(super) fn issue_barrier(&mut self, ack: Option<(Arc<PeerState>, u64)>) {
        let done = self.completion(ack);
        self.log.barrier(done);
    }

    pub(super) fn snapshot(&mut self) {
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
}

pub(super) fn unavailable(err: StorageError) -> JoinError {
    JoinError::LoadFailed(format!("storage failed: {err}"))
}
