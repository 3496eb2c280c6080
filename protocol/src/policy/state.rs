//! The policy's view of a document, built from a replica and kept current by the core.

use std::collections::{BTreeSet, HashMap};

use super::index::{BranchKey, IdIndex};
use super::{AmendmentGuard, DocumentView, ParagraphGuard, Verdict};
use crate::schema::Editable;
use crate::update::Id;

/// A [`DocumentView`] built from a replica: the index of its items, the meaning of its texts,
/// the guards of its paragraphs and amendments, and the client ids each mission owns.
#[derive(Debug, Clone, Default)]
pub struct PolicyState {
    pub index: IdIndex,
    pub(super) meaning: HashMap<BranchKey, Editable>,
    paragraphs: HashMap<String, ParagraphGuard>,
    amendments: HashMap<String, AmendmentGuard>,
    owners: HashMap<u64, String>,
}

/// The policy's name for a yrs branch id.
pub fn branch_key(id: &yrs::BranchID) -> BranchKey {
    match id {
        yrs::BranchID::Nested(id) => BranchKey::Nested(Id {
            client: id.client.get(),
            clock: id.clock,
        }),
        yrs::BranchID::Root(name) => BranchKey::Root(name.to_string()),
    }
}

impl PolicyState {
    /// Builds everything from a replica.
    pub fn from_replica(txn: &impl yrs::ReadTxn) -> Self {
        let full = txn.encode_state_as_update_v1(&yrs::StateVector::default());
        let mut state = PolicyState::default();
        if let Ok(scanned) = crate::update::scan_update_v1(&full) {
            state.index.absorb(&scanned);
        }
        state.refresh(txn);
        state
    }

    /// Re-reads meanings and guards (after the server applied a command).
    pub fn refresh(&mut self, txn: &impl yrs::ReadTxn) {
        self.meaning = crate::schema::editable_branches(txn)
            .into_iter()
            .map(|(id, editable)| (branch_key(&id), editable))
            .collect();
        self.paragraphs = crate::schema::paragraphs(txn)
            .into_iter()
            .map(|p| {
                let guard = ParagraphGuard {
                    locked: p.is_locked(),
                    status: p.status,
                };
                (p.id, guard)
            })
            .collect();
        self.amendments = crate::schema::amendments(txn)
            .into_iter()
            .map(|a| {
                let guard = AmendmentGuard {
                    paragraph: a.paragraph,
                    status: a.status,
                    sponsors: a.sponsors,
                };
                (a.id, guard)
            })
            .collect();
    }

    /// Records who owns a client id (claims are persisted by the caller).
    pub fn claim(&mut self, client: u64, mission: &str) {
        self.owners
            .entry(client)
            .or_insert_with(|| mission.to_string());
    }

    /// Remembers an accepted update once applied. `deleted` is what the applying transaction
    /// actually deleted (`TransactionMut::delete_set`): besides the update's own deletions,
    /// yrs deletes on its own (redundant formatting on commit), and a client that re-sends
    /// its delete set must find those counted as old.
    pub fn record(&mut self, verdict: &Verdict, mission: &str, deleted: &yrs::IdSet) {
        for client in &verdict.claims {
            self.claim(*client, mission);
        }
        for (id, len, branch) in &verdict.items {
            self.index.insert(*id, *len, branch.clone());
        }
        for (client, clock, len) in &verdict.deletions {
            self.index.mark_deleted(*client, *clock, *len);
        }
        self.index.mark_deleted_set(deleted);
    }
}

impl PolicyState {
    /// The paragraphs an accepted update wrote in: a body is its paragraph's, an amendment's
    /// text and rationale are the amended paragraph's.
    pub fn paragraphs_touched(&self, verdict: &Verdict) -> Vec<String> {
        let mut paragraphs = BTreeSet::new();
        for (kind, id) in &verdict.touched {
            if *kind == 0 {
                paragraphs.insert(id.clone());
            } else if let Some(amendment) = self.amendments.get(id) {
                paragraphs.insert(amendment.paragraph.clone());
            }
        }
        paragraphs.into_iter().collect()
    }

    /// Takes in what the server wrote itself (a command's update, already applied): its items
    /// join the index and its deletions are recorded, then meanings and guards are re-read.
    pub fn absorb_own(&mut self, update: &[u8], deleted: &yrs::IdSet, txn: &impl yrs::ReadTxn) {
        if let Ok(scanned) = crate::update::scan_update_v1(update) {
            self.index.absorb(&scanned);
        }
        self.index.mark_deleted_set(deleted);
        self.refresh(txn);
    }

    /// Every client id with its owner.
    pub fn owners(&self) -> impl Iterator<Item = (u64, &str)> {
        self.owners
            .iter()
            .map(|(client, owner)| (*client, owner.as_str()))
    }
}

impl DocumentView for PolicyState {
    fn index(&self) -> &IdIndex {
        &self.index
    }

    fn meaning(&self, branch: &BranchKey) -> Option<&Editable> {
        self.meaning.get(branch)
    }

    fn paragraph(&self, id: &str) -> Option<ParagraphGuard> {
        self.paragraphs.get(id).cloned()
    }

    fn amendment(&self, id: &str) -> Option<AmendmentGuard> {
        self.amendments.get(id).cloned()
    }

    fn owner(&self, client: u64) -> Option<&str> {
        self.owners.get(&client).map(String::as_str)
    }
}
