//! The update policy against structurally hostile updates, in a server-like loop.
//!
//! `policy_differential.rs` checks the policy's decisions on updates real replicas make. This
//! test makes the updates real replicas never make: clock gaps, Skip and GC structs among items,
//! partly known re-sends with other origins, fillers for a gap from another mission, origins in
//! two texts or at the edges of items, deletions of unknown or partly known or locked ids,
//! dependencies on missing items, cycles, repeated client sections and delete-set entries,
//! writes under another mission's client id, new root types, explicit parents that are no text,
//! content that is no text, and real yrs updates mutated structurally or byte by byte; plus
//! ordinary typing, so that thousands of updates are accepted too. Every update goes through
//! scan, `check`, apply and `record` as in the room, and the invariants of
//! `adversarial/world.rs` are checked after each one.
//!
//! - `CONCORD_SEED=<n>` replays a run (default: a random seed, printed first);
//! - `CONCORD_ADVERSARIAL_UPDATES=<n>` sets how many updates (default 20,000); a long run in
//!   release mode is the fuzz loop on stable Rust (`protocol/fuzz/` holds the cargo-fuzz target);
//! - `CONCORD_ADVERSARIAL_EPOCH=<n>` how many updates each fresh document takes (default 400),
//!   `CONCORD_ADVERSARIAL_FIRST_EPOCH=<n>` starts at a later one (every epoch has its own seed,
//!   derived from the run's, so a failure deep into a long run replays at once);
//! - `CONCORD_ADVERSARIAL_SKIP=cat,cat` leaves categories out (names as in the summary), and
//!   with them their shapes wherever else they arise (mutations, byte flips, fuzz input);
//! - `CONCORD_FUZZ_INPUT=<file>` replays one input of the fuzz target.
//!
//! Findings (see `mod findings` below; each has a minimal reproduction). Four are fixed (a
//! client named twice in an update or its delete set, an empty deletion, JSON content: the
//! scanner refuses them now). One is open: an item whose right origin lies left of its origin
//! is placed by yrs according to how updates were batched, so a reloaded room can read a text
//! (one the writer may write) otherwise than the live one. The default run leaves that shape
//! out; `CONCORD_ADVERSARIAL_SKIP=` (empty) puts it back.

#[path = "adversarial/world.rs"]
mod world;

use std::collections::BTreeSet;
use std::time::Instant;

use world::{Cat, Entropy, Stats, World};

struct Seeded(fastrand::Rng);

impl Entropy for Seeded {
    fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            0
        } else {
            self.0.u64(..n)
        }
    }
}

fn env<T: std::str::FromStr>(name: &str) -> Option<T> {
    std::env::var(name).ok().and_then(|v| v.trim().parse().ok())
}

/// Each epoch's seed, from the run's (splitmix64).
fn epoch_seed(seed: u64, epoch: u64) -> u64 {
    let mut z = seed ^ epoch.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Categories that must have been generated and refused (the generator may not degrade into
/// updates the policy never sees as hostile).
const MUST_BE_REFUSED: [Cat; 14] = [
    Cat::Gap,
    Cat::SkipStruct,
    Cat::GcStruct,
    Cat::CrossOrigins,
    Cat::DeleteUnknown,
    Cat::DeletePartlyKnown,
    Cat::DeleteForbidden,
    Cat::MissingDependency,
    Cat::Cycle,
    Cat::RepeatedSection,
    Cat::StolenClient,
    Cat::NewRoot,
    Cat::BadParent,
    Cat::BadContent,
];

#[test]
fn hostile_updates_are_refused_or_integrate_exactly_as_judged() {
    let seed = env("CONCORD_SEED").unwrap_or_else(|| fastrand::u64(..));
    let updates: u64 = env("CONCORD_ADVERSARIAL_UPDATES").unwrap_or(20_000);
    let epoch_len: u64 = env::<u64>("CONCORD_ADVERSARIAL_EPOCH")
        .unwrap_or(400)
        .max(1);
    let first_epoch: u64 = env("CONCORD_ADVERSARIAL_FIRST_EPOCH").unwrap_or(0);
    let disabled: BTreeSet<Cat> = world::disabled_from_env();
    eprintln!(
        "policy adversarial seed {seed} (CONCORD_SEED={seed} to replay), {updates} updates, \
         epochs of {epoch_len}, skipping {:?}",
        disabled.iter().map(|c| c.name()).collect::<Vec<_>>()
    );

    let started = Instant::now();
    let mut stats = Stats::default();
    let mut done = 0;
    let mut epoch = first_epoch;
    while done < updates {
        let mut rng = Seeded(fastrand::Rng::with_seed(epoch_seed(seed, epoch)));
        let label = format!(
            "CONCORD_SEED={seed} CONCORD_ADVERSARIAL_EPOCH={epoch_len} \
             CONCORD_ADVERSARIAL_FIRST_EPOCH={epoch}"
        );
        let mut world = World::new(&mut rng, label, &disabled);
        let steps = epoch_len.min(updates - done);
        for _ in 0..steps {
            world.step(&mut rng);
        }
        world.finish();
        stats.merge(&world.stats);
        done += steps;
        epoch += 1;
    }
    eprintln!(
        "seed {seed}: {done} updates in {:.1} s\n{}",
        started.elapsed().as_secs_f64(),
        stats.summary()
    );

    assert!(
        stats.accepted >= updates / 10,
        "too few accepted updates: {}",
        stats.accepted
    );
    if updates >= 5_000 {
        for cat in MUST_BE_REFUSED {
            if disabled.contains(&cat) {
                continue;
            }
            let s = stats.by_cat.get(&cat).cloned().unwrap_or_default();
            // Refused by the policy, or before it by the scanner (a client named twice).
            assert!(
                s.generated > 0 && s.refused + s.malformed > 0,
                "category {} was generated {} times and refused {} times ({} malformed)",
                cat.name(),
                s.generated,
                s.refused,
                s.malformed
            );
        }
    }
}

#[test]
fn replays_a_fuzz_input() {
    if let Ok(path) = std::env::var("CONCORD_FUZZ_INPUT") {
        let data = std::fs::read(&path).expect("the fuzz input");
        world::fuzz_one(&data);
    }
}

/// Minimal reproductions of what the generator found, each asserting what must hold. They fail
/// until the policy (or the scanner it reads) is fixed; each prints its updates in hex.
mod findings {
    use super::world::encode::{c_json, c_str, item, Upd};
    use super::world::{hex, server_replica};
    use concord_protocol::policy::{
        check, Actor, BranchKey, PolicyState, Refusal, Verdict, SERVER_OWNER,
    };
    use concord_protocol::schema::{self, Editable, Lock, NewAmendment, NewParagraph};
    use concord_protocol::update::{scan_update_v1, Block, Id};
    use concord_protocol::Role;
    use yrs::updates::decoder::Decode;
    use yrs::{ClientID, Doc, ReadTxn, StateVector, Transact, TransactionMut, Update};

    const CHAIR: Actor<'static> = Actor {
        role: Role::Facilitator,
        mission: "UN",
    };
    const MEX: Actor<'static> = Actor {
        role: Role::Delegation,
        mission: "MEX",
    };
    const NGO: Actor<'static> = Actor {
        role: Role::Observer,
        mission: "NGO",
    };
    const SERVER: u64 = 1;

    /// p1 (locked) "Agreed 🌍 text.", p2 "Open text.", amendment a1 on p2 by MEX.
    struct Fixture {
        server: Doc,
        state: PolicyState,
        log: Vec<Vec<u8>>,
    }

    impl Fixture {
        fn new() -> Self {
            let server = server_replica(SERVER);
            {
                let mut txn = server.transact_mut();
                for (i, (id, body)) in [("p1", "Agreed 🌍 text."), ("p2", "Open text.")]
                    .into_iter()
                    .enumerate()
                {
                    let new = NewParagraph {
                        id: id.into(),
                        label: format!("{}", i + 1),
                        kind: schema::ParagraphKind::Operative,
                        parent: None,
                        body: body.into(),
                    };
                    schema::insert_paragraph(&mut txn, i as u32, &new).expect("paragraph");
                }
                let new = NewAmendment {
                    id: "a1".into(),
                    paragraph: "p2".into(),
                    new_after: false,
                    author: "MEX".into(),
                    on_behalf_of: None,
                    rationale: "Why.".into(),
                    base_revision: None,
                };
                schema::create_amendment(&mut txn, &new).expect("amendment");
            }
            let mut state = PolicyState::from_replica(&server.transact());
            state.claim(SERVER, SERVER_OWNER);
            let genesis = server
                .transact()
                .encode_state_as_update_v1(&StateVector::default());
            let mut fixture = Fixture {
                server,
                state,
                log: vec![genesis],
            };
            fixture.lock("p1", true);
            fixture
        }

        /// A command, as the room runs it.
        fn command(&mut self, write: impl FnOnce(&mut TransactionMut)) {
            let update = {
                let mut txn = self.server.transact_mut();
                write(&mut txn);
                let update = txn.encode_update_v1();
                let deleted = txn.delete_set().clone();
                self.state.absorb_own(&update, &deleted, &txn);
                update
            };
            self.log.push(update);
        }

        fn lock(&mut self, paragraph: &str, locked: bool) {
            let lock = Lock {
                mission: "UN".into(),
                person: "chair".into(),
                at_ms: 1,
                reason: "agreed".into(),
            };
            self.command(|txn| {
                schema::set_lock(txn, paragraph, locked.then_some(&lock)).expect("lock")
            });
        }

        /// Scan, check, apply, record, as the room does. Returns the verdict and whether yrs
        /// kept something pending. An update the scanner refuses (the server closes with 4400)
        /// counts as refused.
        fn submit(&mut self, bytes: &[u8], actor: Actor<'_>) -> Result<(Verdict, bool), Refusal> {
            let scanned = scan_update_v1(bytes).map_err(|err| Refusal {
                rule: concord_protocol::policy::Rule::UnknownReference,
                paragraph: None,
                message: format!("malformed: {err}"),
            })?;
            let verdict = check(&scanned, &self.state, actor)?;
            let (deleted, pending) = {
                let mut txn = self.server.transact_mut();
                txn.apply_update(Update::decode_v1(bytes).expect("decodes"))
                    .expect("applies");
                let store = txn.store();
                let pending = store.pending_update().is_some() || store.pending_ds().is_some();
                (txn.delete_set().clone(), pending)
            };
            self.state.record(&verdict, actor.mission, &deleted);
            self.log.push(bytes.to_vec());
            Ok((verdict, pending))
        }

        fn body(&self, paragraph: &str) -> String {
            schema::paragraph(&self.server.transact(), paragraph)
                .expect("paragraph")
                .body
        }

        fn locked(&self, paragraph: &str) -> bool {
            schema::paragraph(&self.server.transact(), paragraph)
                .expect("paragraph")
                .is_locked()
        }

        fn has(&self, client: u64) -> u32 {
            self.server
                .transact()
                .state_vector()
                .get(&ClientID::new(client))
        }

        /// The id of the first character of a text (the server wrote it in one item).
        fn start_of(&self, editable: Editable) -> Id {
            let txn = self.server.transact();
            let branch = schema::editable_branches(&txn)
                .into_iter()
                .find(|(_, e)| *e == editable)
                .map(|(b, _)| concord_protocol::policy::branch_key(&b))
                .expect("text");
            let BranchKey::Nested(text) = branch.clone() else {
                panic!("nested text")
            };
            let full = txn.encode_state_as_update_v1(&StateVector::default());
            let scanned = scan_update_v1(&full).expect("scans");
            scanned
                .blocks
                .iter()
                .find_map(|b| match b {
                    Block::Item(it) if self.state.index.branch_of(it.id) == Some(&branch) => {
                        Some(it.id)
                    }
                    _ => None,
                })
                .unwrap_or(text)
        }
    }

    fn at(id: Id, offset: u32) -> Id {
        Id {
            client: id.client,
            clock: id.clock + offset,
        }
    }

    /// Two sections of one client in a row evade the "client appears twice" and gap checks
    /// (only a section's first block is compared with the document, and a section is told from
    /// the next by its client changing). yrs appends both to one queue and integrates the
    /// second with a Skip hole; the index counts the hole as taken. A filler for the hole is
    /// then "already known" to the policy (no fresh part: no ownership, no observer, no lock
    /// check) and yrs integrates it: an observer writes into a locked paragraph.
    #[test]
    fn repeated_client_sections_cannot_leave_a_hole() {
        let mut fx = Fixture::new();
        let p2 = fx.start_of(Editable::ParagraphBody("p2".into()));
        let p1 = fx.start_of(Editable::ParagraphBody("p1".into()));
        let mut upd = Upd::default();
        upd.section(500, 0).push(item(Some(p2), None, c_str("ab")));
        upd.section(500, 4).push(item(
            Some(Id {
                client: 500,
                clock: 1,
            }),
            None,
            c_str("c"),
        ));
        let first = upd.encode();
        println!("chair: {}", hex(&first));
        let mut filler = Upd::default();
        filler
            .section(500, 2)
            .push(item(Some(at(p1, 6)), None, c_str("XX")));
        let filler = filler.encode();
        println!("observer: {}", hex(&filler));
        let before = fx.body("p1");
        let accepted = fx.submit(&first, CHAIR).is_ok();
        let (has, index) = (fx.has(500), fx.state.index.clock(500));
        let filled = fx.submit(&filler, NGO).is_ok();
        println!(
            "chair accepted: {accepted}; replica clock {has}, index clock {index}; \
             observer's filler accepted: {filled}; p1 {before:?} -> {:?}",
            fx.body("p1")
        );
        assert!(
            !accepted || has == index,
            "accepted, and the replica has 500 up to {has}, the index {index}"
        );
        assert!(!filled, "the observer's filler was accepted");
        assert_eq!(fx.body("p1"), before, "the locked body changed");
    }

    /// A delete set naming one client twice: yrs keeps only the last entry (IdSet::decode
    /// inserts into a map), the policy judges and records every entry. The ids of the first
    /// entry count as deleted in the index but not in the document; deleting them later is
    /// "nothing new" and goes through unjudged, after the paragraph is locked.
    #[test]
    fn a_delete_set_naming_a_client_twice_is_judged_as_yrs_applies_it() {
        let mut fx = Fixture::new();
        let p2 = fx.start_of(Editable::ParagraphBody("p2".into()));
        let mut twice = Upd::default();
        twice.delete_entry(p2.client, vec![(p2.clock, 5)]);
        twice.delete_entry(p2.client, vec![]);
        let twice = twice.encode();
        let mut once = Upd::default();
        once.delete(p2.client, p2.clock, 5);
        let once = once.encode();
        println!(
            "chair, unlocked: {}\nchair, locked: {}",
            hex(&twice),
            hex(&once)
        );
        let _ = fx.submit(&twice, CHAIR);
        assert_eq!(fx.body("p2"), "Open text.", "nothing was deleted");
        fx.lock("p2", true);
        let late = fx.submit(&once, CHAIR);
        println!(
            "after locking: {:?}; p2 reads {:?}",
            late.as_ref().map(|_| ()),
            fx.body("p2")
        );
        assert!(late.is_err(), "deleting locked text was accepted");
        assert_eq!(fx.body("p2"), "Open text.", "the locked body changed");
    }

    /// A zero-length deleted range counts for nothing in the policy (no undeleted ids), but
    /// yrs still splits the item at its clock: inside a surrogate pair, both halves become
    /// U+FFFD. Anyone, observers included, can so rewrite any text, locked ones too.
    #[test]
    fn a_zero_length_deletion_cannot_change_a_locked_text() {
        let mut fx = Fixture::new();
        let p1 = fx.start_of(Editable::ParagraphBody("p1".into()));
        // "Agreed 🌍 text.": the globe's two UTF-16 units are at offsets 7 and 8.
        let mut upd = Upd::default();
        upd.delete(p1.client, p1.clock + 8, 0);
        let bytes = upd.encode();
        println!("observer: {}", hex(&bytes));
        let before = fx.body("p1");
        let _ = fx.submit(&bytes, NGO);
        assert_eq!(fx.body("p1"), before, "the locked body changed");
    }

    /// The same range for a client the document lacks: yrs keeps an empty pending delete set.
    #[test]
    fn a_zero_length_deletion_of_unknown_ids_leaves_nothing_pending() {
        let mut fx = Fixture::new();
        let mut upd = Upd::default();
        upd.delete(999, 0, 0);
        let bytes = upd.encode();
        println!("observer: {}", hex(&bytes));
        if let Ok((_, pending)) = fx.submit(&bytes, NGO) {
            assert!(!pending, "yrs keeps a pending delete set");
        }
    }

    /// JSON content (ref 2) with count n holds n + 1 values in yrs (it reads one string more
    /// than the count, and the item's length is the number of values); the scanner measures
    /// it as n. Every clock after it in the section is one off. A re-send of the server's last
    /// id as JSON is "known" to the policy; yrs integrates its second value as a new item at
    /// the server's next clock, cut to follow the server's last item: the lock entry of p1, so
    /// the item becomes p1's new lock value. An observer unlocks a paragraph.
    #[test]
    fn json_content_is_measured_as_yrs_measures_it() {
        let mut fx = Fixture::new();
        let known = fx.state.index.clock(SERVER);
        let p1 = fx.start_of(Editable::ParagraphBody("p1".into()));
        let mut upd = Upd::default();
        upd.section(SERVER, known - 1)
            .push(item(Some(p1), None, c_json(&["1"])));
        let bytes = upd.encode();
        println!("observer: {}", hex(&bytes));
        let outcome = fx.submit(&bytes, NGO).map(|_| ());
        println!(
            "observer: {outcome:?}; server clock {} (index {}); p1 locked: {}",
            fx.has(SERVER),
            fx.state.index.clock(SERVER),
            fx.locked("p1")
        );
        assert_eq!(
            fx.has(SERVER),
            fx.state.index.clock(SERVER),
            "the replica and the index disagree on the server's clock"
        );
        assert!(fx.locked("p1"), "p1 was unlocked");
    }

    /// An item whose right origin lies left of its origin: where yrs puts it depends on how
    /// the items it refers to were split and squashed, so applying the log update by update
    /// (the live room, a client receiving them one by one) and in one transaction (a room
    /// loading its log; a client receiving the room's merged broadcast) gives different texts.
    #[test]
    #[ignore = "open: yrs places such an item according to batching (see the module docs)"]
    fn the_text_does_not_depend_on_how_updates_were_batched() {
        let mut fx = Fixture::new();
        let text = fx.start_of(Editable::AmendmentText("a1".into()));
        let x = |clock| Id { client: 600, clock };
        let mut first = Upd::default();
        let section = first.section(600, 0);
        section.push(item(Some(text), None, c_str("ab")));
        section.push(item(Some(x(1)), None, c_str("c")));
        let first = first.encode();
        let mut second = Upd::default();
        second
            .section(600, 3)
            .push(item(Some(x(2)), Some(x(1)), c_str("x")));
        let second = second.encode();
        println!("mex: {}\nmex: {}", hex(&first), hex(&second));
        fx.submit(&first, MEX).expect("accepted");
        fx.submit(&second, MEX).expect("accepted");
        let live = schema::amendment(&fx.server.transact(), "a1")
            .expect("a1")
            .text;
        let reloaded = server_replica(2);
        {
            let mut txn = reloaded.transact_mut();
            for bytes in &fx.log {
                txn.apply_update(Update::decode_v1(bytes).expect("decodes"))
                    .expect("applies");
            }
        }
        let again = schema::amendment(&reloaded.transact(), "a1")
            .expect("a1")
            .text;
        assert_eq!(live, again, "the reloaded room reads another text");
    }
}
