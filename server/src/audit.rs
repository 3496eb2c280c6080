//! The audit trail (issue 4, DESIGN.md section 5): every accepted update and command, with
//! when, who (person and mission), what (the action and the paragraphs it touched, the id
//! ranges it deleted, the client ids it claimed) and a hash chained to the previous record of
//! the same document.
//!
//! The chain makes tampering visible: a record altered in the database no longer hashes to what
//! it says, and a record removed breaks the link of the one after it (and the head, kept beside
//! the chain, catches a removed last record). `concord audit verify` walks every chain. The
//! chain is only as strong as its head: someone able to rewrite the whole table and its head
//! consistently is out of its reach (that needs an anchor outside the database).

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// What the audit keeps of one accepted update or command.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRecord {
    /// Unix milliseconds, when the server accepted it.
    pub at_ms: u64,
    pub person: String,
    pub mission: String,
    /// `update` for text typed by a client, else the command's name (`lock`, `accept`, ...).
    pub action: String,
    pub paragraphs: Vec<String>,
    /// Id ranges `(client, clock, len)` it deleted: who deleted what, when.
    pub deleted: Vec<(u64, u32, u32)>,
    /// Client ids it claimed for the mission (first use).
    pub claims: Vec<u64>,
}

pub type Hash = [u8; 32];

/// The hash of record `n` of `doc`: everything the record says, the update it stands for, and
/// the previous record's hash. Fields are length-prefixed so that no two records encode alike.
#[allow(clippy::too_many_arguments)]
pub fn chain_hash(
    doc: &str,
    n: u64,
    at_ms: u64,
    person: &str,
    mission: &str,
    action: &str,
    paragraphs: &str,
    deleted: &str,
    claims: &str,
    update_hash: &[u8],
    prev: &[u8],
) -> Hash {
    let mut hasher = Sha256::new();
    hasher.update(b"concord-audit-v1");
    for field in [
        doc.as_bytes(),
        &n.to_be_bytes(),
        &at_ms.to_be_bytes(),
        person.as_bytes(),
        mission.as_bytes(),
        action.as_bytes(),
        paragraphs.as_bytes(),
        deleted.as_bytes(),
        claims.as_bytes(),
        update_hash,
        prev,
    ] {
        hasher.update((field.len() as u64).to_be_bytes());
        hasher.update(field);
    }
    hasher.finalize().into()
}

pub fn update_hash(update: &[u8]) -> Hash {
    Sha256::digest(update).into()
}

/// The record's list fields as stored (and hashed): JSON.
pub fn stored_lists(record: &AuditRecord) -> (String, String, String) {
    let json = |value: serde_json::Result<String>| value.unwrap_or_else(|_| "[]".into());
    (
        json(serde_json::to_string(&record.paragraphs)),
        json(serde_json::to_string(&record.deleted)),
        json(serde_json::to_string(&record.claims)),
    )
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// What verification found.
#[derive(Debug, Default)]
pub struct Verification {
    pub documents: usize,
    pub records: u64,
    /// One line per broken link, naming the document and the record.
    pub problems: Vec<String>,
}

impl Verification {
    pub fn is_intact(&self) -> bool {
        self.problems.is_empty()
    }
}
