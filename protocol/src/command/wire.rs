//! Commands on the WebSocket: the request a client numbers (`Command` message) and the reply
//! that carries the same number (`CommandResult` message).

use serde::{Deserialize, Serialize};

use super::{Command, CommandError, Outcome};

/// A command on the wire (`Command` message), numbered by the client so it can match the reply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommandRequest {
    pub id: u64,
    pub command: Command,
}

/// The answer to a [`CommandRequest`] (`CommandResult` message): `{"id", "ok": outcome}` or
/// `{"id", "error": {code, message}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommandReply {
    pub id: u64,
    #[serde(flatten)]
    pub result: Reply,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Reply {
    Ok(Outcome),
    Error(CommandError),
}

impl From<Result<Outcome, CommandError>> for Reply {
    fn from(result: Result<Outcome, CommandError>) -> Self {
        match result {
            Ok(outcome) => Reply::Ok(outcome),
            Err(error) => Reply::Error(error),
        }
    }
}
