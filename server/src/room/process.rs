//! The room's part in the process: what observers of published text may see of it, the
//! deadlines of its silence procedures, handed to the server's watch when the document loads
//! and when a procedure starts, and the missions that joined as delegations (those an author
//! may invite to co-sponsor).

use concord_protocol::command::{Command, Outcome};
use concord_protocol::process::ProcessState;
use concord_protocol::{schema, Role};
use yrs::Transact;

use super::{CommandReplyTo, Room};
use crate::auth::Identity;

impl Room {
    /// Rounds, readings, silence procedures and the notices addressed to all missions, without
    /// who read them: what anyone admitted to the document may see.
    pub(super) fn public_process(&self) -> ProcessState {
        let mut process = ProcessState::read(&self.core.doc().transact());
        process.notices.retain(|n| n.to.is_empty());
        for notice in &mut process.notices {
            notice.read_by.clear();
        }
        process
    }

    /// Every open silence procedure's deadline goes to the watch (after a load: the server
    /// may have stopped while one ran).
    pub(super) fn watch_silences(&self) -> usize {
        let process = ProcessState::read(&self.core.doc().transact());
        let mut open = 0;
        for silence in process.silences.iter().filter(|s| s.is_open()) {
            open += 1;
            self.config
                .silences
                .watch(&self.name, &silence.id, silence.deadline_ms);
        }
        open
    }

    /// After a command: a silence procedure it started is watched.
    pub(super) fn after_command(&self, command: &Command, outcome: &Outcome) {
        if let (Command::StartSilence { .. }, Outcome::Created { .. }) = (command, outcome) {
            let _ = self.watch_silences();
        }
    }
}

impl Room {
    /// A delegation joined, or sent a command: its mission is recorded the first time, by the
    /// server (one small command per mission and document, ever; a join takes a storage
    /// credit for it, and at most one such write per mission goes without one).
    pub(super) fn record_mission(&mut self, who: &Identity) {
        if who.role != Role::Delegation {
            return;
        }
        if schema::has_mission(&self.core.doc().transact(), &who.mission) {
            return;
        }
        let command = Command::RecordMission {
            mission: who.mission.clone(),
        };
        // Nobody waits for the answer: the join goes on either way.
        let (reply, _) = tokio::sync::oneshot::channel();
        self.command(
            &Identity::server("joined"),
            &command,
            CommandReplyTo::Caller(reply),
        );
    }
}
