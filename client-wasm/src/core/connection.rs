//! The connection's life: where the link stands, the sync (the client's state vector out, the
//! server's missing updates answered), `Ack` bookkeeping (an edit is saved once the update that
//! carried it is acknowledged as durable), the fresh replica after a refusal, and the backoff
//! between reconnections.

use concord_protocol::close::AfterClose;
use concord_protocol::policy::PolicyState;
use concord_protocol::{CloseCode, Message};
use serde::Serialize;
use yrs::updates::decoder::Decode;
use yrs::{ReadTxn, StateVector, Transact, Update};

use super::{new_replica, ClientCore, Event};

/// Where the connection stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Link {
    /// No socket; the transport will (re)connect.
    Offline,
    /// Socket open, initial sync not complete.
    Syncing,
    Synced,
    /// The server ended the session for good (expired or revoked token, ...): the reason.
    Closed(String),
}

impl ClientCore {
    /// The socket opened: start the sync (with a fresh replica if the last one had a gap).
    pub fn connected(&mut self) {
        if self.fresh_replica_needed {
            let old = std::mem::replace(&mut self.doc, new_replica());
            self.previous.get_or_insert(old);
            self.policy = PolicyState::default();
            self.fresh_replica_needed = false;
            self.reapply_pending = true;
        }
        self.sent = 0;
        self.acked = 0;
        self.answered = false;
        self.presence.clear();
        self.link = Link::Syncing;
        let state_vector = self.doc.transact().state_vector();
        self.send(Message::SyncStep1(state_vector).encode());
        self.status_changed();
    }

    /// The socket closed. Returns whether to reconnect.
    pub fn disconnected(&mut self, code: u16, reason: &str) -> bool {
        // Whatever was sent and not acknowledged is still in the replica: the next sync
        // carries it again.
        for unsaved in &mut self.unsaved {
            unsaved.seq = None;
        }
        self.presence.clear();
        let after = CloseCode::after_close(code);
        if after == AfterClose::Stop {
            let why = match code {
                4401 => "Your sign-in has expired or was revoked. Sign in again to continue; \
                         your unsaved text is kept below."
                    .to_string(),
                _ => format!("The server closed the connection: {reason}"),
            };
            self.link = Link::Closed(why);
            self.keep_unsaved_as_recoverable("the session ended before the server saved it");
            self.status_changed();
            return false;
        }
        if after == AfterClose::ReconnectFresh {
            self.fresh_replica_needed = true;
        }
        self.link = Link::Offline;
        self.attempts = self.attempts.saturating_add(1);
        self.status_changed();
        true
    }

    /// How long to wait before reconnecting: exponential backoff from 250 ms to 10 s, spread
    /// by `jitter` (0..1) so that a room of delegates does not reconnect in one instant.
    pub fn reconnect_delay_ms(&self, jitter: f64) -> f64 {
        let exponent = self.attempts.saturating_sub(1).min(6);
        let base = (250.0 * f64::from(1u32 << exponent)).min(10_000.0);
        base * (0.5 + jitter.clamp(0.0, 1.0) / 2.0)
    }

    /// Every local change is acknowledged as durable.
    pub fn is_saved(&self) -> bool {
        self.unsaved.is_empty() && self.acked >= self.sent
    }

    pub fn link(&self) -> &Link {
        &self.link
    }

    /// Queues a frame, counting the document updates this connection sent (what `Ack` counts).
    pub(super) fn send(&mut self, frame: Vec<u8>) {
        if let Ok(messages) = Message::decode_frame(&frame) {
            if messages.iter().any(Message::is_document_update) {
                self.sent += 1;
            }
        }
        self.outgoing.push_back(frame);
    }

    /// The server's sync step 1: send what it lacks.
    pub(super) fn answer_sync(&mut self, state_vector: &StateVector) {
        let diff = self.doc.transact().encode_state_as_update_v1(state_vector);
        self.send(Message::SyncStep2(&diff).encode());
        self.answered = true;
        // A fresh replica holds none of the remembered edits: they go in again once the
        // server's state has arrived, and their own update is what must be acknowledged. (A
        // server may acknowledge this answer before its sync step 2 arrives.)
        if self.reapply_pending {
            return;
        }
        let seq = self.sent;
        // Everything the server lacks is in that answer, unsent edits included.
        for unsaved in &mut self.unsaved {
            if unsaved.seq.is_none() {
                unsaved.seq = Some(seq);
            }
        }
    }

    /// The server's sync step 2: its whole state (what this replica lacked). The first one on
    /// a connection completes the sync; after a refusal, the remembered edits go in again.
    pub(super) fn receive_state(&mut self, update: &[u8]) {
        self.integrate(update);
        // A whole state: the page re-reads everything.
        self.whole_state_changed();
        if self.link == Link::Syncing {
            self.link = Link::Synced;
            self.attempts = 0;
            if self.reapply_pending {
                self.reapply_pending = false;
                self.previous = None;
                self.reapply();
            }
            self.status_changed();
        }
    }

    /// The first `n` document updates of this connection are durable.
    pub(super) fn acknowledged(&mut self, n: u64) {
        self.acked = self.acked.max(n);
        let acked = self.acked;
        self.unsaved
            .retain(|u| !matches!(u.seq, Some(seq) if seq <= acked));
        self.status_changed();
    }

    /// Applies an update from the server to the replica and the policy's view of it.
    pub(super) fn integrate(&mut self, update: &[u8]) {
        let Ok(decoded) = Update::decode_v1(update) else {
            self.event(Event::Error {
                message: "the server sent an unreadable update".into(),
            });
            return;
        };
        let mut txn = self.doc.transact_mut();
        if txn.apply_update(decoded).is_err() {
            drop(txn);
            self.event(Event::Error {
                message: "an update could not be applied".into(),
            });
            return;
        }
        let deleted = txn.delete_set().clone();
        self.policy.absorb_own(update, &deleted, &txn);
        drop(txn);
        // Typing (the common case) only changes texts: the page updates just those.
        match self.texts_touched(update) {
            Some(targets) => self.event(Event::Texts { targets }),
            None => self.event(Event::Changed),
        }
    }
}
