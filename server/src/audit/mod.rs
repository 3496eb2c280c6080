//! The audit trail (docs/design.md section 5): every accepted update and command, with
//! when, who (person and mission), what (the action and the paragraphs it touched, the id
//! ranges it deleted, the client ids it claimed) and a hash chained to the previous record of
//! the same document.
//!
//! The chain makes tampering visible: a record altered in the database no longer hashes to what
//! it says, and a record removed breaks the link of the one after it (and the head, kept beside
//! the chain, catches a removed last record). `concord audit verify` walks every chain. The
//! chain is only as strong as its head: someone able to rewrite the whole table and its head
//! consistently is out of its reach (that needs an anchor outside the database).
//!
//! A record of typed text may stand for a run of one writer's consecutive updates (`run.rs`):
//! the embedded backend extends the chain's last record while its writer types, in the
//! transaction that stores each update, instead of writing one record per keystroke.

mod run;
pub use run::{OpenRun, RUN_GAP_MS, RUN_SPAN_MS};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// What the audit keeps of one accepted update or command, or of a run of one writer's
/// consecutive updates (`updates` of them, accepted from `at_ms` to `until_ms`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRecord {
    /// Unix milliseconds, when the server accepted it (the run's first update).
    pub at_ms: u64,
    /// When the run's last update was accepted: `at_ms` for a single update or a command.
    #[serde(default)]
    pub until_ms: u64,
    /// How many consecutive updates the record stands for: 1 for a single one or a command.
    #[serde(default = "one")]
    pub updates: u32,
    pub person: String,
    pub mission: String,
    /// `update` for text typed by a client, else the command's name (`lock`, `accept`, ...).
    pub action: String,
    pub paragraphs: Vec<String>,
    /// Id ranges `(client, clock, len)` it deleted: who deleted what, when.
    pub deleted: Vec<(u64, u32, u32)>,
    /// Client ids it claimed (first use), each with the mission that owns it from now on:
    /// the writer's for a client's update, [`concord_protocol::policy::SERVER_OWNER`] for the
    /// id the server writes commands under, whoever asked for the command.
    pub claims: Vec<Claim>,
}

fn one() -> u32 {
    1
}

impl Default for AuditRecord {
    fn default() -> Self {
        AuditRecord {
            at_ms: 0,
            until_ms: 0,
            updates: 1,
            person: String::new(),
            mission: String::new(),
            action: String::new(),
            paragraphs: Vec::new(),
            deleted: Vec::new(),
            claims: Vec::new(),
        }
    }
}

impl AuditRecord {
    /// When the record's last update was accepted (stored records before runs said nothing).
    pub fn last_ms(&self) -> u64 {
        self.until_ms.max(self.at_ms)
    }
}

/// A client id and the mission that owns it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claim {
    pub client: u64,
    pub mission: String,
}

impl Claim {
    pub fn new(client: u64, mission: impl Into<String>) -> Self {
        Claim {
            client,
            mission: mission.into(),
        }
    }
}

/// How a stored record lists its claims: records written before claims carried their owner
/// list bare client ids (owned by the record's mission).
#[derive(Deserialize)]
#[serde(untagged)]
enum StoredClaim {
    Owned { client: u64, mission: String },
    Bare(u64),
}

/// Reads a stored record's claims; bare ids belong to `record_mission`.
pub fn parse_claims(json: &str, record_mission: &str) -> serde_json::Result<Vec<Claim>> {
    let stored: Vec<StoredClaim> = serde_json::from_str(json)?;
    Ok(stored
        .into_iter()
        .map(|claim| match claim {
            StoredClaim::Owned { client, mission } => Claim { client, mission },
            StoredClaim::Bare(client) => Claim::new(client, record_mission),
        })
        .collect())
}

pub type Hash = [u8; 32];

/// Hashes `fields` under `tag`, each length-prefixed so that no two records encode alike.
fn hash_fields(tag: &[u8], fields: &[&[u8]]) -> Hash {
    let mut hasher = Sha256::new();
    hasher.update(tag);
    for field in fields {
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

/// A record as a backend stores it: its fields as hashed (the lists as JSON), its place in
/// the chain, the previous record's hash and its own. Computed here, not by a backend, so that
/// every backend chains and verifies alike.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedRecord {
    pub n: u64,
    pub at_ms: u64,
    /// A run's last update's time (`at_ms` for one update).
    pub until_ms: u64,
    /// How many updates the record stands for; for a run (more than one), `update_hash` is
    /// [`run::extend_update_hash`] folded over its updates' hashes.
    pub updates: u32,
    pub person: String,
    pub mission: String,
    pub action: String,
    pub paragraphs: String,
    pub deleted: String,
    pub claims: String,
    pub update_hash: Vec<u8>,
    pub prev: Vec<u8>,
    pub hash: Vec<u8>,
}

/// The last record of a chain: its number and hash (`(0, [0; 32])` before the first).
pub type Head = (u64, Hash);

impl SealedRecord {
    /// Seals `record` (standing for `update`) as the record after `head` in `doc`'s chain.
    pub fn seal(doc: &str, head: Head, record: &AuditRecord, update: &[u8]) -> Self {
        let (paragraphs, deleted, claims) = stored_lists(record);
        let mut sealed = SealedRecord {
            n: head.0 + 1,
            at_ms: record.at_ms,
            until_ms: record.at_ms,
            updates: 1,
            person: record.person.clone(),
            mission: record.mission.clone(),
            action: record.action.clone(),
            paragraphs,
            deleted,
            claims,
            update_hash: update_hash(update).to_vec(),
            prev: head.1.to_vec(),
            hash: Vec::new(),
        };
        sealed.hash = sealed.recompute(doc).to_vec();
        sealed
    }

    /// The record as read back (its stored lists parsed).
    pub fn record(&self) -> Result<AuditRecord, String> {
        let unreadable =
            |what: &str, json: &str| format!("record {} has unreadable {what}: {json}", self.n);
        Ok(AuditRecord {
            at_ms: self.at_ms,
            until_ms: self.until_ms,
            updates: self.updates,
            person: self.person.clone(),
            mission: self.mission.clone(),
            action: self.action.clone(),
            paragraphs: serde_json::from_str(&self.paragraphs)
                .map_err(|_| unreadable("paragraphs", &self.paragraphs))?,
            deleted: serde_json::from_str(&self.deleted)
                .map_err(|_| unreadable("deletions", &self.deleted))?,
            claims: parse_claims(&self.claims, &self.mission)
                .map_err(|_| unreadable("claims", &self.claims))?,
        })
    }

    /// Whether the record stands for a run of several updates (hashed as one).
    pub fn is_run(&self) -> bool {
        self.updates != 1 || self.until_ms != self.at_ms
    }

    /// The hash the record's fields give: for record `n` of `doc`, everything the record
    /// says, the update(s) it stands for and the previous record's hash. A run (more than one
    /// update) also hashes how many and until when, under another tag, so that no run hashes
    /// like a single record, nor a single record like a run.
    pub fn recompute(&self, doc: &str) -> Hash {
        let (n, at_ms) = (self.n.to_be_bytes(), self.at_ms.to_be_bytes());
        let (until_ms, updates) = (self.until_ms.to_be_bytes(), self.updates.to_be_bytes());
        let said = [
            self.person.as_bytes(),
            self.mission.as_bytes(),
            self.action.as_bytes(),
            self.paragraphs.as_bytes(),
            self.deleted.as_bytes(),
            self.claims.as_bytes(),
            &self.update_hash,
            &self.prev,
        ];
        if self.is_run() {
            let head: [&[u8]; 5] = [doc.as_bytes(), &n, &at_ms, &until_ms, &updates];
            hash_fields(b"concord-audit-run-v1", &[&head[..], &said[..]].concat())
        } else {
            let head: [&[u8]; 3] = [doc.as_bytes(), &n, &at_ms];
            hash_fields(b"concord-audit-v1", &[&head[..], &said[..]].concat())
        }
    }

    /// Where the chain stands after this record.
    pub fn head(&self) -> Head {
        let mut hash = [0; 32];
        if self.hash.len() == 32 {
            hash.copy_from_slice(&self.hash);
        }
        (self.n, hash)
    }
}

/// Walks one document's chain as stored (records in order, then the stored head) and notes
/// every broken link in `report`.
pub fn verify_chain(
    doc: &str,
    records: impl IntoIterator<Item = SealedRecord>,
    head: Option<(u64, Vec<u8>)>,
    report: &mut Verification,
) {
    let mut expected_n = 1u64;
    let mut prev: Vec<u8> = vec![0; 32];
    for record in records {
        report.records += 1;
        let n = record.n;
        if n != expected_n {
            report.problems.push(format!(
                "{doc}: record {expected_n} is missing (next is {n})"
            ));
        }
        if record.prev != prev {
            report.problems.push(format!(
                "{doc}: record {n} does not follow the record before it"
            ));
        }
        if record.recompute(doc)[..] != record.hash[..] {
            report.problems.push(format!(
                "{doc}: record {n} was altered (its hash does not match)"
            ));
        }
        expected_n = n + 1;
        prev = record.hash;
    }
    match head {
        Some((n, hash)) if n == expected_n - 1 && hash == prev => {}
        Some((n, _)) if n == expected_n - 1 => report.problems.push(format!(
            "{doc}: the chain's last record {n} does not match its head (altered)"
        )),
        Some((n, _)) => report.problems.push(format!(
            "{doc}: the chain ends at record {} but its head says {n}",
            expected_n - 1
        )),
        None => report
            .problems
            .push(format!("{doc}: the chain has no head record")),
    }
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
