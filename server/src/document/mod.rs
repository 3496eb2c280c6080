//! The document core: one document's replica, the update policy's view of it and the client
//! id the server writes under, and the only two ways the document changes (a client's update,
//! a command). Each returns the log entry to store; nothing here does I/O. The room drives it
//! for a live document, and `concord import` (with the demo) drives it offline, so the two can
//! never disagree on what is written, who is credited with it, or who owns which client id.

pub mod offline;

use std::panic::AssertUnwindSafe;

use bytes::Bytes;
use concord_protocol::command::{execute, Command, CommandError, Context, Outcome};
use concord_protocol::policy::{self, Actor, PolicyState, Refusal, SERVER_OWNER};
use concord_protocol::update::scan_update_v1;
use concord_protocol::Role;
use yrs::updates::decoder::Decode;
use yrs::{Doc, ReadTxn, StateVector, Transact, Update};

/// A new, empty replica with Concord's settings (garbage collection off, UTF-16 offsets, no
/// formatting clean-up), the same for the server as for the client.
pub use concord_protocol::schema::new_replica;

use crate::audit::{AuditRecord, Claim};
use crate::storage::{LogEntry, StoredDocument};

/// Who is changing the document.
#[derive(Debug, Clone, Copy)]
pub struct Author<'a> {
    pub role: Role,
    pub mission: &'a str,
    pub person: &'a str,
}

impl<'a> From<&'a crate::auth::Identity> for Author<'a> {
    fn from(who: &'a crate::auth::Identity) -> Self {
        Author {
            role: who.role,
            mission: &who.mission,
            person: &who.person,
        }
    }
}

/// Why a client's update was not applied.
#[derive(Debug)]
pub enum UpdateError {
    /// The update does not scan: nothing was applied.
    Malformed(String),
    /// The policy refused it: nothing was applied.
    Refused(Refusal),
    /// yrs failed or integrated something other than what the policy judged. The replica can
    /// no longer be trusted (it may hold part of the update, which is not logged): the
    /// document must be reloaded from its log.
    Diverged(String),
}

pub struct DocumentCore {
    doc: Doc,
    policy: PolicyState,
    /// Whether a log entry claiming the server's client id has been issued.
    server_id_claimed: bool,
}

impl DocumentCore {
    /// Integrates everything stored. The replica's own client id, which commands write under,
    /// is one nobody has written under: in the rare case the random id is taken, the replica
    /// is built again under another. A log that leaves anything pending (a damaged store) is
    /// refused rather than served half.
    pub fn load(stored: &StoredDocument) -> Result<Self, String> {
        let mut doc = new_replica();
        loop {
            let applied = std::panic::catch_unwind(AssertUnwindSafe(|| {
                let mut txn = doc.transact_mut();
                for bytes in stored.snapshot.iter().chain(stored.updates.iter()) {
                    let update = Update::decode_v1(bytes).map_err(|e| e.to_string())?;
                    txn.apply_update(update).map_err(|e| e.to_string())?;
                }
                let store = txn.store();
                if store.pending_update().is_some() || store.pending_ds().is_some() {
                    return Err("the stored log leaves updates pending (damaged store)".into());
                }
                Ok::<_, String>(())
            }));
            match applied {
                Ok(result) => result?,
                Err(_) => return Err("stored updates could not be applied".into()),
            }
            let own = doc.client_id();
            let taken = stored.owners.iter().any(|(client, _)| *client == own.get())
                || doc.transact().state_vector().get(&own) > 0;
            if !taken {
                break;
            }
            doc = new_replica();
        }
        let mut policy = PolicyState::from_replica(&doc.transact());
        for (client, mission) in &stored.owners {
            policy.claim(*client, mission);
        }
        policy.claim(doc.client_id().get(), SERVER_OWNER);
        let holes = policy.index.holes();
        if holes > 0 {
            // Left by a server that accepted updates with gaps: what filled them later was
            // never judged. Nothing may fill them now.
            tracing::warn!(
                holes,
                "document has gaps in its clocks; updates filling them are refused"
            );
        }
        Ok(DocumentCore {
            doc,
            policy,
            server_id_claimed: false,
        })
    }

    pub fn doc(&self) -> &Doc {
        &self.doc
    }

    pub fn policy(&self) -> &PolicyState {
        &self.policy
    }

    pub fn state_vector(&self) -> StateVector {
        self.doc.transact().state_vector()
    }

    /// What a replica with `state_vector` lacks.
    pub fn diff(&self, state_vector: &StateVector) -> Vec<u8> {
        self.doc.transact().encode_state_as_update_v1(state_vector)
    }

    pub fn full_state(&self) -> Vec<u8> {
        self.diff(&StateVector::default())
    }

    /// Every client id that wrote in the document, with its owner.
    pub fn owners(&self) -> Vec<(u64, String)> {
        self.policy
            .owners()
            .map(|(client, owner)| (client, owner.to_string()))
            .collect()
    }

    /// Judges a client's update, applies it and returns what to log (`None` when it brings
    /// nothing the document lacks: a reconnecting client re-sending what the server has).
    pub fn apply_update(
        &mut self,
        raw: Bytes,
        update: Update,
        author: Author<'_>,
        at_ms: u64,
    ) -> Result<Option<LogEntry>, UpdateError> {
        let actor = Actor {
            role: author.role,
            mission: author.mission,
        };
        let scanned = scan_update_v1(&raw).map_err(|e| UpdateError::Malformed(e.to_string()))?;
        let verdict = policy::check(&scanned, &self.policy, actor).map_err(UpdateError::Refused)?;
        if verdict.items.is_empty() && verdict.deletions.is_empty() {
            return Ok(None);
        }
        let doc = &self.doc;
        let outcome = std::panic::catch_unwind(AssertUnwindSafe(|| {
            let mut txn = doc.transact_mut();
            txn.apply_update(update)
                .map_err(|e| format!("yrs refused an update the policy accepted: {e}"))?;
            let store = txn.store();
            if store.pending_update().is_some() || store.pending_ds().is_some() {
                return Err("yrs kept part of an accepted update pending".to_string());
            }
            Ok(txn.delete_set().clone())
        }));
        let deleted = match outcome {
            Ok(Ok(deleted)) => deleted,
            Ok(Err(reason)) => return Err(UpdateError::Diverged(reason)),
            Err(_) => {
                return Err(UpdateError::Diverged(
                    "yrs panicked applying an update".into(),
                ))
            }
        };
        self.policy.record(&verdict, author.mission, &deleted);
        // The index must describe what yrs integrated, id for id: the next update is judged
        // by it. A disagreement means the replica holds something nobody judged.
        let state = self.doc.transact().state_vector();
        for (id, _, _) in &verdict.items {
            let integrated = state.get(&yrs::block::ClientID::new(id.client));
            let known = self.policy.index.integrated_clock(id.client);
            if integrated != known {
                return Err(UpdateError::Diverged(format!(
                    "client {} integrated up to {integrated}, the policy knows {known}",
                    id.client
                )));
            }
        }
        let claims = verdict
            .claims
            .iter()
            .map(|client| Claim::new(*client, author.mission))
            .collect();
        let record = AuditRecord {
            at_ms,
            until_ms: at_ms,
            updates: 1,
            person: author.person.to_string(),
            mission: author.mission.to_string(),
            action: "update".into(),
            paragraphs: self.policy.paragraphs_touched(&verdict),
            deleted: verdict.deletions,
            claims,
        };
        Ok(Some(LogEntry {
            update: raw,
            record,
        }))
    }

    /// Runs a command under the server's own client id; returns its outcome and what to log
    /// (`None` when it wrote nothing).
    pub fn run_command(
        &mut self,
        author: Author<'_>,
        command: &Command,
        at_ms: u64,
    ) -> (Result<Outcome, CommandError>, Option<LogEntry>) {
        let ctx = Context {
            actor: Actor {
                role: author.role,
                mission: author.mission,
            },
            person: author.person,
            now_ms: at_ms,
        };
        let (result, update, paragraphs, deleted_ranges) = {
            let mut txn = self.doc.transact_mut();
            let result = execute(&mut txn, ctx, command);
            let update = txn.encode_update_v1();
            let deleted = txn.delete_set().clone();
            // What the command deleted (an accepted amendment's rewording), for the audit's
            // record of who deleted which ids.
            let deleted_ranges: Vec<(u64, u32, u32)> = deleted
                .iter()
                .flat_map(|(client, ranges)| {
                    ranges
                        .iter()
                        .map(move |r| (client.get(), r.start, r.end.saturating_sub(r.start)))
                })
                .filter(|(_, _, len)| *len > 0)
                .collect();
            // The policy learns what the server wrote (new texts, guards) before anything else
            // is checked against it.
            self.policy.absorb_own(&update, &deleted, &txn);
            let paragraphs = match &result {
                Ok(outcome) => command.paragraphs_touched(&txn, outcome),
                Err(_) => Vec::new(),
            };
            (result, update, paragraphs, deleted_ranges)
        };
        let wrote = scan_update_v1(&update).is_ok_and(|scanned| !scanned.is_empty());
        if !wrote {
            return (result, None);
        }
        let mut claims = Vec::new();
        if !self.server_id_claimed {
            // The server's id is the server's, whoever's command made it write first.
            claims.push(Claim::new(self.doc.client_id().get(), SERVER_OWNER));
            self.server_id_claimed = true;
        }
        let record = AuditRecord {
            at_ms,
            until_ms: at_ms,
            updates: 1,
            person: author.person.to_string(),
            mission: author.mission.to_string(),
            action: command.name().to_string(),
            paragraphs,
            deleted: deleted_ranges,
            claims,
        };
        let entry = LogEntry {
            update: Bytes::from(update),
            record,
        };
        (result, Some(entry))
    }
}

impl Default for DocumentCore {
    fn default() -> Self {
        // An empty store always integrates.
        DocumentCore::load(&StoredDocument::default()).unwrap_or_else(|_| DocumentCore {
            doc: new_replica(),
            policy: PolicyState::default(),
            server_id_claimed: false,
        })
    }
}

#[cfg(test)]
mod tests {
    use concord_protocol::command::Command;
    use concord_protocol::policy::Rule;
    use concord_protocol::schema;
    use yrs::{GetString, Text};

    use super::*;

    const CHAIR: Author<'static> = Author {
        role: Role::Facilitator,
        mission: "UN",
        person: "chair",
    };

    /// A core with two paragraphs imported by the chair, and what it logged.
    fn imported() -> (DocumentCore, Vec<LogEntry>) {
        let mut core = DocumentCore::default();
        let import = Command::ImportText {
            text: "[1] Commit to cooperate.\n[2] Agreed wording.".into(),
        };
        let (result, entry) = core.run_command(CHAIR, &import, 1);
        assert!(result.is_ok(), "{result:?}");
        (core, entry.into_iter().collect())
    }

    /// What storage would hand back after `entries` were logged.
    fn stored(entries: &[LogEntry]) -> StoredDocument {
        StoredDocument {
            snapshot: None,
            updates: entries.iter().map(|e| e.update.to_vec()).collect(),
            owners: entries
                .iter()
                .flat_map(|e| e.record.claims.iter())
                .map(|c| (c.client, c.mission.clone()))
                .collect(),
        }
    }

    /// A facilitator's replica of `core` under `client`.
    fn replica(core: &DocumentCore, client: u64) -> Doc {
        let replica = Doc::with_client_id(client);
        replica
            .transact_mut()
            .apply_update(Update::decode_v1(&core.full_state()).expect("decodes"))
            .expect("applies");
        replica
    }

    /// An update typing `text` at the start of p1.
    fn typing(replica: &Doc, text: &str) -> Vec<u8> {
        let mut txn = replica.transact_mut();
        let body = schema::body_text(&txn, "p1").expect("p1");
        body.insert(&mut txn, 0, text);
        txn.encode_update_v1()
    }

    fn apply(core: &mut DocumentCore, update: &[u8]) -> Result<Option<LogEntry>, UpdateError> {
        let decoded = Update::decode_v1(update).expect("decodes");
        core.apply_update(Bytes::copy_from_slice(update), decoded, CHAIR, 2)
    }

    #[test]
    fn the_servers_id_is_claimed_once_for_the_server_whoever_asks() {
        let (mut core, entries) = imported();
        let claims = &entries[0].record.claims;
        assert_eq!(claims.len(), 1);
        assert_eq!(claims[0].mission, SERVER_OWNER);
        assert_eq!(
            entries[0].record.mission, "UN",
            "the record names who asked"
        );
        let lock = Command::Lock {
            paragraph: "p2".into(),
            reason: "agreed ad ref".into(),
            status: None,
        };
        let (result, entry) = core.run_command(CHAIR, &lock, 3);
        assert!(result.is_ok());
        assert!(entry.expect("wrote").record.claims.is_empty());
    }

    #[test]
    fn an_accepted_update_is_logged_with_its_authors_claim() {
        let (mut core, _) = imported();
        let update = typing(&replica(&core, 4242), "Firmly. ");
        let entry = apply(&mut core, &update)
            .expect("accepted")
            .expect("something new");
        assert_eq!(entry.record.claims, vec![Claim::new(4242, "UN")]);
        assert_eq!(entry.record.paragraphs, vec!["p1".to_string()]);
        // The same again (a reconnecting client) brings nothing new: nothing to log.
        let again = apply(&mut core, &update);
        assert!(matches!(again, Ok(None)), "{again:?}");
    }

    #[test]
    fn an_update_with_a_gap_is_refused_and_the_replica_left_as_it_was() {
        let (mut core, _) = imported();
        let before = core.full_state();
        let writer = replica(&core, 77);
        let _first = typing(&writer, "never sent ");
        let second = typing(&writer, "x");
        match apply(&mut core, &second) {
            Err(UpdateError::Refused(refusal)) => {
                assert_eq!(refusal.rule, Rule::UnknownReference)
            }
            other => panic!("not refused: {other:?}"),
        }
        assert_eq!(core.full_state(), before);
    }

    #[test]
    fn a_core_loaded_from_its_log_is_the_same_document_with_the_same_owners() {
        let (mut core, mut entries) = imported();
        let update = typing(&replica(&core, 4242), "Firmly. ");
        entries.extend(apply(&mut core, &update).expect("accepted"));
        let reloaded = DocumentCore::load(&stored(&entries)).expect("loads");
        assert_eq!(reloaded.state_vector(), core.state_vector());
        let text = |core: &DocumentCore| {
            let txn = core.doc().transact();
            schema::body_text(&txn, "p1").map(|t| t.get_string(&txn))
        };
        assert_eq!(text(&reloaded), text(&core));
        let mut owners = reloaded.owners();
        owners.sort();
        let server_id = entries[0].record.claims[0].client;
        assert!(owners.contains(&(server_id, SERVER_OWNER.to_string())));
        assert!(owners.contains(&(4242, "UN".to_string())));
        // The reloaded core writes under a fresh id of its own, also the server's.
        let own = reloaded.doc().client_id().get();
        assert_ne!(own, server_id);
        assert!(owners.contains(&(own, SERVER_OWNER.to_string())));
    }
}
