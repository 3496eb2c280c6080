//! Structural changes (amendments, support, locks, statuses, comments): sent as commands, each
//! first tried on a scratch copy of the replica with the server's own `execute`, so what the
//! server would refuse is refused here with the same code.

use concord_protocol::command::{
    execute, Command, CommandError, CommandRequest, Context, ErrorCode,
};
use concord_protocol::Message;
use yrs::updates::decoder::Decode;
use yrs::{ReadTxn, StateVector, Transact, Update};

use super::{new_replica, ClientCore, Link};

impl ClientCore {
    /// Sends a command; returns its id (the `command-result` event carries the same id). It is
    /// first tried on a scratch copy of the replica, so what the server would refuse is refused
    /// here with the same code.
    pub fn command(&mut self, command: Command) -> Result<u64, CommandError> {
        self.check_command(&command)?;
        if self.link != Link::Synced {
            return Err(CommandError {
                code: ErrorCode::Offline,
                message: "not connected; try again once the page says it is connected".into(),
            });
        }
        let id = self.next_command;
        self.next_command += 1;
        self.send(Message::Command(CommandRequest { id, command }).encode());
        Ok(id)
    }

    /// Would the server accept this command now (as far as this replica knows)?
    pub fn check_command(&self, command: &Command) -> Result<(), CommandError> {
        let Some(actor) = self.actor() else {
            return Err(CommandError {
                code: ErrorCode::NotSignedIn,
                message: "not signed in".into(),
            });
        };
        let person = self
            .session
            .as_ref()
            .and_then(|s| s.person.clone())
            .unwrap_or_default();
        let scratch = new_replica();
        let state = self
            .doc
            .transact()
            .encode_state_as_update_v1(&StateVector::default());
        if let Ok(update) = Update::decode_v1(&state) {
            let _ = scratch.transact_mut().apply_update(update);
        }
        let ctx = Context {
            actor,
            person: &person,
            now_ms: 0,
        };
        let mut txn = scratch.transact_mut();
        let result = execute(&mut txn, ctx, command).map(drop);
        drop(txn);
        result
    }
}
