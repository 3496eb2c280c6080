//! The client itself, in plain Rust: a replica of the document, the connection's life, and what
//! the person typed until the server has it durably. No I/O: the transport (a browser WebSocket,
//! or a test) hands frames in with [`ClientCore::receive`] and takes frames out with
//! [`ClientCore::take_outgoing`]; the page reads [`ClientCore::model`] and drains
//! [`ClientCore::take_events`].
//!
//! Nothing a person types is lost. Each text with unsaved changes is remembered (what it read
//! before, what the person made of it) until the server acknowledges the update that carried
//! it. Offline, edits go into the replica and leave with the next sync. If the server refuses an
//! update (`Rejected`, then close 4403), the replica has a gap the server will never fill, so the
//! next connection starts a fresh replica from the server's state, re-applies the remembered
//! edits the policy still permits, and hands the others to the page as text to copy.
//!
//! This file holds [`ClientCore`]'s state and sorts what arrives; the rest is by concern:
//! `connection` (sync, acks, backoff, link state), `editing` (texts, unsaved changes, recovery
//! after a refusal), `commands` (structural changes, pre-checked), `view` (the model and status
//! the page reads), `presence`, `splice` (an input's new value as one text edit) and `events`
//! (what the page is told).

mod commands;
mod connection;
mod editing;
mod events;
mod presence;
mod splice;
mod view;

pub use connection::Link;
pub use editing::{target_of, Recoverable, Refused, Target};
pub use events::Event;

use std::collections::{BTreeMap, VecDeque};

use concord_protocol::policy::{Actor, PolicyState};
/// Concord's replica options (UTF-16 offsets, no GC, no formatting clean-up): the server's own.
pub(crate) use concord_protocol::schema::new_replica;
use concord_protocol::{Message, Session};
use serde_json::Value;
use yrs::{Doc, GetString, Transact};

use editing::Unsaved;

#[derive(Debug)]
pub struct ClientCore {
    doc: Doc,
    policy: PolicyState,
    session: Option<Session>,
    link: Link,
    /// Document updates sent on this connection, and how many the server acknowledged.
    sent: u64,
    acked: u64,
    /// The server's sync step 1 has been answered on this connection.
    answered: bool,
    unsaved: Vec<Unsaved>,
    outgoing: VecDeque<Vec<u8>>,
    events: Vec<Event>,
    next_command: u64,
    /// A refused update left a gap: the next connection starts a fresh replica.
    fresh_replica_needed: bool,
    /// The fresh replica is waiting for the server's state to re-apply the unsaved edits.
    reapply_pending: bool,
    /// The replica before the rebuild, still shown (read-only) until the fresh one has the
    /// server's state, so the page does not go blank for a round trip.
    previous: Option<Doc>,
    recoverable: Vec<Recoverable>,
    attempts: u32,
    /// Others' presence: client id -> (clock, state).
    presence: BTreeMap<u64, (u32, Value)>,
    presence_clock: u32,
    /// The text this person is in (published with their presence), if any.
    focus: Option<Target>,
    /// Where in `focus` the caret is (UTF-16 offset), published so others see it.
    caret: Option<u32>,
}

impl Default for ClientCore {
    fn default() -> Self {
        Self::new()
    }
}

impl ClientCore {
    pub fn new() -> Self {
        ClientCore {
            doc: new_replica(),
            policy: PolicyState::default(),
            session: None,
            link: Link::Offline,
            sent: 0,
            acked: 0,
            answered: false,
            unsaved: Vec::new(),
            outgoing: VecDeque::new(),
            events: Vec::new(),
            next_command: 1,
            fresh_replica_needed: false,
            reapply_pending: false,
            previous: None,
            recoverable: Vec::new(),
            attempts: 0,
            presence: BTreeMap::new(),
            presence_clock: 0,
            focus: None,
            caret: None,
        }
    }

    /// Everything received in one frame.
    pub fn receive(&mut self, frame: &[u8]) {
        let messages = match Message::decode_frame(frame) {
            Ok(messages) => messages,
            Err(err) => {
                self.event(Event::Error {
                    message: format!("unreadable frame: {err}"),
                });
                return;
            }
        };
        for message in messages {
            match message {
                Message::Session(session) => {
                    self.session = Some(session);
                    self.publish_presence();
                    self.event(Event::Session);
                }
                Message::SyncStep1(state_vector) => self.answer_sync(&state_vector),
                Message::SyncStep2(update) => self.receive_state(update),
                Message::Update(update) => self.integrate(update),
                Message::Ack(n) => self.acknowledged(n),
                Message::Rejected(rejection) => self.rejected(rejection),
                Message::CommandResult(reply) => self.event(Event::CommandResult {
                    id: reply.id,
                    result: reply.result,
                }),
                Message::Awareness(update) => self.receive_presence(update),
                Message::QueryAwareness => self.publish_presence(),
                // The server's permission-denied follows its `Rejected`, which says more.
                Message::PermissionDenied(_) => {}
                Message::Refresh(_) | Message::Command(_) | Message::UnreadableCommand { .. } => {}
            }
        }
    }

    /// The next frame to send, if any.
    pub fn take_outgoing(&mut self) -> Option<Vec<u8>> {
        self.outgoing.pop_front()
    }

    /// The current text of `target` in the replica.
    pub fn text(&self, target: &Target) -> Option<String> {
        let txn = self.doc.transact();
        target.text(&txn).map(|t| t.get_string(&txn))
    }

    pub fn client_id(&self) -> u64 {
        self.doc.client_id().get()
    }

    /// Who this is, as the update policy and commands see them (once signed in).
    fn actor(&self) -> Option<Actor<'_>> {
        let session = self.session.as_ref()?;
        Some(Actor {
            role: session.role?,
            mission: session.mission.as_deref()?,
        })
    }
}

#[cfg(test)]
mod tests;
