//! Where Concord keeps things in Redis. A document's own keys share the hash tag `{doc}`;
//! the indexes across documents (`DOCUMENTS`, `action`) are global, so Concord needs one
//! Redis (with replicas if wanted), not a sharded Redis Cluster.

pub fn log(doc: &str) -> String {
    format!("concord:{{{doc}}}:log")
}

pub fn audit(doc: &str) -> String {
    format!("concord:{{{doc}}}:audit")
}

pub fn owners(doc: &str) -> String {
    format!("concord:{{{doc}}}:owners")
}

/// The audit chain's last record: `n` and `hash`, written with every record.
pub fn head(doc: &str) -> String {
    format!("concord:{{{doc}}}:head")
}

pub fn snapshot(doc: &str) -> String {
    format!("concord:{{{doc}}}:snapshot")
}

pub fn fence(doc: &str) -> String {
    format!("concord:{{{doc}}}:fence")
}

pub fn lease(doc: &str) -> String {
    format!("concord:{{{doc}}}:lease")
}

/// Every document with at least one entry.
pub const DOCUMENTS: &str = "concord:documents";

/// The documents with at least one audit record of `action`.
pub fn action(action: &str) -> String {
    format!("concord:action:{action}")
}

/// The documents with open silence procedures: field the document, value how many are open.
pub const OPEN_SILENCES: &str = "concord:silences:open";

/// Revoked tokens and missions: field `token:{jti}` or `mission:{id}`, value the time.
pub const REVOCATIONS: &str = "concord:revocations";

/// A mission's live connections, by node (field: node id, value: its count).
pub fn connections(mission: &str) -> String {
    format!("concord:connections:{mission}")
}

/// Present while the node with this id is alive (renewed with its leases).
pub fn node(node: &str) -> String {
    format!("concord:node:{node}")
}

/// The secret local tokens are signed with, shared by every node.
pub const SECRET: &str = "concord:secret";
