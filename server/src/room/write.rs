//! Writing to the document: a client's update and a command, through the document core. What
//! they produce is logged, and goes out (broadcast, `Ack`, answer) only once durable.

use std::sync::Arc;

use bytes::Bytes;
use concord_protocol::command::{Command, CommandError, CommandReply, Outcome};
use concord_protocol::policy::Refusal;
use concord_protocol::{CloseCode, Message};
use yrs::Update;

use super::durable::Gated;
use super::{CommandReplyTo, Room, SERVER};
use crate::auth::Identity;
use crate::document::{Author, UpdateError};
use crate::peer::ConnId;

impl Room {
    /// Judges an update, applies it, logs it with its audit record, and broadcasts it once it
    /// is durable; or refuses it, leaving the document untouched.
    pub(super) fn apply(&mut self, from: ConnId, seq: u64, raw: Bytes, update: Update) {
        // Nothing more of a refused connection, and nothing at all once the replica diverged
        // (it is about to be reloaded from the log).
        if self.peers.is_refused(from) || self.failed {
            return;
        }
        let Some(writer) = self.peers.get(from) else {
            // Updates are only ever queued by joined connections; one that left is gone.
            return;
        };
        let who = Arc::clone(&writer.who);
        let ack = Some((Arc::clone(&writer.state), seq));
        let author = Author::from(&*who);
        let mission = &who.mission;
        match self
            .core
            .apply_update(raw, update, author, self.config.clock.now_ms())
        {
            // Nothing new (a reconnecting client re-sending what the server has): durable as
            // soon as everything before it is.
            Ok(None) => self.issue_barrier(ack),
            Ok(Some(entry)) => {
                self.config.metrics.update_accepted();
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
            Err(UpdateError::Malformed(reason)) => self.peers.close(
                from,
                CloseCode::Malformed,
                format!("malformed update: {reason}"),
            ),
            Err(UpdateError::Refused(refusal)) => {
                self.config.metrics.update_refused(refusal.rule.as_str());
                self.refuse(from, &refusal, mission)
            }
            Err(UpdateError::Diverged(reason)) => {
                // The replica holds what nobody judged and nothing logged: it must go. Nothing
                // of it was sent anywhere; everyone reconnects to a reload from the log.
                tracing::error!(doc = %self.name, peer = from, %reason, "replica diverged");
                self.peers
                    .close(from, CloseCode::Malformed, "update could not be applied");
                self.fail("document reloading; reconnect");
            }
        }
    }

    /// Refuses an update: `Rejected` (naming the rule and the paragraph) for Concord clients,
    /// permission-denied for stock Yjs clients, then close 4403. Nobody else sees anything.
    pub(super) fn refuse(&mut self, peer: ConnId, refusal: &Refusal, mission: &str) {
        tracing::info!(
            doc = %self.name,
            peer,
            mission,
            rule = refusal.rule.as_str(),
            paragraph = refusal.paragraph.as_deref().unwrap_or("-"),
            "update refused"
        );
        self.peers.refuse(peer);
        // Straight to the outbox, lagged or not: the close that follows drains it first.
        // `Rejected` (rule, paragraph) is Concord's; stock clients get permission-denied.
        let concord = self
            .peers
            .get(peer)
            .is_some_and(|p| p.state.speaks_concord());
        if concord {
            let rejected = Message::Rejected(refusal.to_rejection()).encode();
            self.peers.send_directly(peer, rejected.into());
        }
        let denied = Message::PermissionDenied(&refusal.message).encode();
        self.peers.send_directly(peer, denied.into());
        self.peers.close(
            peer,
            CloseCode::Forbidden,
            format!("{}: {}", refusal.rule.as_str(), refusal.message),
        );
    }

    /// Runs a command on the replica. What it wrote is logged, then broadcast to everyone (the
    /// requester included: it is not the requester's own edit) and answered, once durable.
    pub(super) fn command(&mut self, who: &Identity, command: &Command, reply: CommandReplyTo) {
        if self.failed {
            // Unanswered: a REST caller asks the room's successor, a socket is being closed.
            drop(reply);
            return;
        }
        // A delegation that sends a command takes part: its mission is known from now on.
        self.record_mission(who);
        let author = Author::from(who);
        let (mission, person) = (&who.mission, &who.person);
        let (result, entry) = self
            .core
            .run_command(author, command, self.config.clock.now_ms());
        let outcome = match &result {
            Ok(_) => "ok",
            Err(refused) => refused.code.as_str(),
        };
        self.config.metrics.command(command.name(), outcome);
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
        if let Ok(outcome) = &result {
            self.after_command(command, outcome);
        }
        let renew = result.is_ok() && super::readers::renews_readers(command);
        // Even a command that wrote nothing is answered only once what it saw is durable.
        self.after_durable(Gated::Answer { to: reply, result });
        if renew {
            let observers = match command {
                Command::SetObservers { observers } => Some(*observers),
                _ => None,
            };
            self.after_durable(Gated::RenewReaders { observers });
        }
    }

    pub(super) fn answer(&mut self, to: CommandReplyTo, result: Result<Outcome, CommandError>) {
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
                self.peers.send_directly(peer, frame.into());
            }
        }
    }
}
