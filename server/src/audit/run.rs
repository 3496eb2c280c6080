//! Runs: one audit record for a writer's consecutive updates.
//!
//! A delegate typing a sentence sends an update per keystroke. One record for each (about 130
//! bytes with its two hashes, plus its entry in the time index) made the audit the largest part
//! of a document's storage: 20,000 records for a 120,000-character text written in 20,000
//! transactions. A run record says the same once: who (person and mission), what (every
//! paragraph touched, every id range deleted, every client id claimed), when (the first and the
//! last update's times), and a hash that binds every update of the run, in order.
//!
//! A run stays open while it is its chain's last record and its writer goes on typing. The
//! next update joins it when it is an update by the same person of the same mission, accepted
//! within [`RUN_GAP_MS`] of the run's last update and [`RUN_SPAN_MS`] of its first, and the
//! record stays small (bounded lists, so that rewriting it on each keystroke stays cheap). A
//! command, another writer's update or a pause closes it. No guarantee is loosened: the record
//! is extended in the transaction that stores the update, and it is hashed and chained as any
//! other, so altering, removing or reordering it still breaks the chain.

use sha2::{Digest, Sha256};

use super::{stored_lists, AuditRecord, Hash, SealedRecord};

/// The longest pause between two updates of one run.
pub const RUN_GAP_MS: u64 = 5_000;
/// The longest time one run covers, first update to last: a reader asking for records since
/// a time looks this far before it for runs that reach into it.
pub const RUN_SPAN_MS: u64 = 30_000;
/// Bounds on what one run record holds.
const MAX_UPDATES: u32 = 4096;
const MAX_PARAGRAPHS: usize = 32;
const MAX_DELETIONS: usize = 64;
const MAX_CLAIMS: usize = 8;

/// The action of a client's typed update: the only records runs are made of.
const TYPED: &str = "update";

/// The update hash of a run after one more update: the previous value and the new update's
/// hash, hashed together (a run of one update has the update's own hash).
pub fn extend_update_hash(run: &[u8], update: &[u8]) -> Hash {
    let mut hasher = Sha256::new();
    hasher.update(b"concord-audit-run-update");
    hasher.update(run);
    hasher.update(super::update_hash(update));
    hasher.finalize().into()
}

/// The chain's last record, while further updates of its writer may join it.
#[derive(Debug, Clone)]
pub struct OpenRun {
    sealed: SealedRecord,
    record: AuditRecord,
}

impl OpenRun {
    /// The run `sealed` (the record of `record`) starts, if it is one that may grow: a
    /// client's typed update.
    pub fn start(sealed: &SealedRecord, record: &AuditRecord) -> Option<Self> {
        (record.action == TYPED).then(|| OpenRun {
            sealed: sealed.clone(),
            record: AuditRecord {
                until_ms: sealed.until_ms,
                updates: sealed.updates,
                ..record.clone()
            },
        })
    }

    /// The run's record as it now stands.
    pub fn sealed(&self) -> &SealedRecord {
        &self.sealed
    }

    /// Joins `next` (the record of one more update, `update`) to the run and seals the run
    /// again, if `next` belongs in it; says whether it did. Left as it was when not.
    pub fn join(&mut self, doc: &str, next: &AuditRecord, update: &[u8]) -> bool {
        let run = &mut self.record;
        let same_writer =
            next.action == TYPED && next.person == run.person && next.mission == run.mission;
        let in_time = next.at_ms >= run.until_ms
            && next.at_ms - run.until_ms <= RUN_GAP_MS
            && next.at_ms - run.at_ms <= RUN_SPAN_MS;
        let new_paragraphs = next
            .paragraphs
            .iter()
            .filter(|p| !run.paragraphs.contains(p))
            .count();
        let new_claims = next
            .claims
            .iter()
            .filter(|c| !run.claims.contains(c))
            .count();
        let fits = run.updates < MAX_UPDATES
            && run.paragraphs.len() + new_paragraphs <= MAX_PARAGRAPHS
            && run.deleted.len() + next.deleted.len() <= MAX_DELETIONS
            && run.claims.len() + new_claims <= MAX_CLAIMS;
        if !(same_writer && in_time && fits) {
            return false;
        }
        for paragraph in &next.paragraphs {
            if !run.paragraphs.contains(paragraph) {
                run.paragraphs.push(paragraph.clone());
            }
        }
        for &range in &next.deleted {
            merge_deletion(&mut run.deleted, range);
        }
        for claim in &next.claims {
            if !run.claims.contains(claim) {
                run.claims.push(claim.clone());
            }
        }
        run.until_ms = next.at_ms;
        run.updates += 1;
        let (paragraphs, deleted, claims) = stored_lists(run);
        let sealed = &mut self.sealed;
        sealed.until_ms = run.until_ms;
        sealed.updates = run.updates;
        sealed.paragraphs = paragraphs;
        sealed.deleted = deleted;
        sealed.claims = claims;
        sealed.update_hash = extend_update_hash(&sealed.update_hash, update).to_vec();
        sealed.hash = sealed.recompute(doc).to_vec();
        true
    }
}

/// Adds a deleted id range, merged with the last one when they touch (a run of backspaces
/// deletes one id after another, going back). Ranges never overlap: the policy records only
/// ids not deleted before.
fn merge_deletion(ranges: &mut Vec<(u64, u32, u32)>, (client, clock, len): (u64, u32, u32)) {
    if let Some(last) = ranges.last_mut() {
        if last.0 == client && last.1.checked_add(last.2) == Some(clock) {
            last.2 = last.2.saturating_add(len);
            return;
        }
        if last.0 == client && clock.checked_add(len) == Some(last.1) {
            last.1 = clock;
            last.2 = last.2.saturating_add(len);
            return;
        }
    }
    ranges.push((client, clock, len));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::{Claim, Head};

    fn typed(at_ms: u64, mission: &str, paragraph: &str) -> AuditRecord {
        AuditRecord {
            at_ms,
            person: format!("{mission}-delegate"),
            mission: mission.into(),
            action: TYPED.into(),
            paragraphs: vec![paragraph.into()],
            ..AuditRecord::default()
        }
    }

    fn started(record: &AuditRecord, update: &[u8]) -> OpenRun {
        let head: Head = (4, [7; 32]);
        let sealed = SealedRecord::seal("gcm", head, record, update);
        OpenRun::start(&sealed, record).expect("a typed update starts a run")
    }

    #[test]
    fn a_writers_next_keystrokes_join_the_run_and_reseal_it() {
        let mut run = started(&typed(1_000, "MEX", "p1"), b"a");
        let single = run.sealed().clone();
        let mut next = typed(1_200, "MEX", "p2");
        next.deleted = vec![(9, 5, 1)];
        next.claims = vec![Claim::new(9, "MEX")];
        assert!(run.join("gcm", &next, b"b"));
        let mut backspace = typed(1_300, "MEX", "p2");
        backspace.deleted = vec![(9, 4, 1)];
        assert!(run.join("gcm", &backspace, b"c"));

        let sealed = run.sealed();
        assert_eq!(sealed.n, single.n, "the run is still the one record");
        assert_eq!(sealed.prev, single.prev);
        assert_eq!(
            (sealed.at_ms, sealed.until_ms, sealed.updates),
            (1_000, 1_300, 3)
        );
        assert_eq!(sealed.paragraphs, r#"["p1","p2"]"#);
        assert_eq!(sealed.deleted, "[[9,4,2]]", "touching ranges merge");
        assert_eq!(sealed.claims, r#"[{"client":9,"mission":"MEX"}]"#);
        let folded = extend_update_hash(&extend_update_hash(&single.update_hash, b"b"), b"c");
        assert_eq!(sealed.update_hash, folded.to_vec());
        assert_eq!(sealed.hash, sealed.recompute("gcm").to_vec());
        assert_ne!(sealed.hash, single.hash);
    }

    #[test]
    fn another_writer_a_command_a_pause_or_a_full_record_closes_the_run() {
        let mut run = started(&typed(1_000, "MEX", "p1"), b"a");
        let before = run.sealed().clone();
        let mut other_person = typed(1_100, "MEX", "p1");
        other_person.person = "someone-else".into();
        let mut command = typed(1_100, "MEX", "p1");
        command.action = "lock".into();
        let refused = [
            typed(1_100, "CHE", "p1"),
            other_person,
            command,
            typed(1_000 + RUN_GAP_MS + 1, "MEX", "p1"),
            typed(999, "MEX", "p1"),
        ];
        for next in &refused {
            assert!(!run.join("gcm", next, b"x"), "{next:?}");
            assert_eq!(run.sealed(), &before, "left as it was");
        }
        // Within the gap each time, but past the span.
        let mut at = 1_000;
        while at - 1_000 + RUN_GAP_MS <= RUN_SPAN_MS {
            at += RUN_GAP_MS;
            assert!(run.join("gcm", &typed(at, "MEX", "p1"), b"y"));
        }
        assert!(!run.join("gcm", &typed(at + RUN_GAP_MS, "MEX", "p1"), b"y"));
        // Too many paragraphs for one record.
        let mut run = started(&typed(1_000, "MEX", "p0"), b"a");
        for p in 1..MAX_PARAGRAPHS {
            assert!(run.join("gcm", &typed(1_000, "MEX", &format!("p{p}")), b"z"));
        }
        assert!(!run.join("gcm", &typed(1_000, "MEX", "one-more"), b"z"));
        assert!(
            run.join("gcm", &typed(1_000, "MEX", "p3"), b"z"),
            "one already in it"
        );
    }

    #[test]
    fn only_typed_updates_start_runs() {
        let mut command = typed(1_000, "MEX", "p1");
        command.action = "accept".into();
        let sealed = SealedRecord::seal("gcm", (0, [0; 32]), &command, b"c");
        assert!(OpenRun::start(&sealed, &command).is_none());
    }

    #[test]
    fn a_run_hashes_unlike_any_single_record() {
        let mut run = started(&typed(1_000, "MEX", "p1"), b"a");
        assert!(run.join("gcm", &typed(1_000, "MEX", "p1"), b"b"));
        let mut forged = run.sealed().clone();
        // Passing the run off as one update of the same time is seen.
        forged.updates = 1;
        assert!(!forged.is_run());
        assert_ne!(forged.recompute("gcm").to_vec(), run.sealed().hash);
        let mut forged = run.sealed().clone();
        forged.action = "start-silence".into();
        assert_ne!(forged.recompute("gcm").to_vec(), run.sealed().hash);
    }
}
