//! Who a connection is, as the server tells it.

use serde::{Deserialize, Serialize};

/// What a person may do in a negotiation: hold the pen, co-draft amendments, or follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Co-facilitators, the chair and their secretariat: they hold the pen.
    Facilitator,
    /// A mission (delegation): proposes and co-drafts amendments.
    Delegation,
    /// NGOs, agencies, galleries: read only, invisible in presence.
    Observer,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Facilitator => "facilitator",
            Role::Delegation => "delegation",
            Role::Observer => "observer",
        }
    }
}

/// Sent by the server as the first message of every connection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    /// The document this connection is bound to.
    pub document: String,
    /// The person (token subject), when the connection is authenticated.
    pub person: Option<String>,
    /// The mission the person acts for.
    pub mission: Option<String>,
    pub role: Option<Role>,
    /// When the token expires, in seconds since the Unix epoch.
    pub expires_at: Option<u64>,
    /// The server's clock when it sent this, in milliseconds since the Unix epoch.
    pub server_time_ms: u64,
}

/// Why the server refused an update or a command (sent as `Rejected`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rejection {
    /// A stable name for the rule that refused it (e.g. `observer-read-only`).
    pub rule: String,
    /// The paragraph concerned, when there is one.
    pub paragraph: Option<String>,
    /// A sentence for the person who typed it.
    pub message: String,
}

impl Role {
    /// Parses a role as written in tokens.
    pub fn parse(text: &str) -> Option<Role> {
        match text {
            "facilitator" => Some(Role::Facilitator),
            "delegation" => Some(Role::Delegation),
            "observer" => Some(Role::Observer),
            _ => None,
        }
    }
}
