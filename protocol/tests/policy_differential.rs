//! The update policy against an independent oracle, on 10,000 random updates.
//!
//! Facilitators and delegations edit stale replicas (concurrent and delayed delivery), insert,
//! delete and format in paragraph bodies and amendment texts, sometimes re-send their whole
//! state as a reconnecting client does, while the server toggles locks. Every update is judged
//! twice:
//! - by the policy, from the scanned update and its own id index;
//! - by the oracle, which applies the update to a copy of the document and asks yrs which ids
//!   the transaction inserted and deleted, finds each one's text through yrs's sticky indexes,
//!   and applies the rules to what actually changed.
//!
//! They must agree on every update, and no locked body may ever change.

use std::collections::{HashMap, HashSet};

use concord_protocol::policy::{check, Actor, PolicyState};
use concord_protocol::schema::{
    self, keys, AmendmentStatus, Editable, Lock, NewAmendment, NewParagraph, ParagraphKind,
    ParagraphStatus,
};
use concord_protocol::update::scan_update_v1;
use concord_protocol::Role;
use yrs::updates::decoder::Decode;
use yrs::{
    Any, Assoc, BranchID, Doc, Map, Out, ReadTxn, StateVector, StickyIndex, Text, TextRef,
    Transact, Update, ID,
};

const UPDATES: usize = 10_000;
const PARAGRAPHS: [&str; 4] = ["p1", "p2", "p3", "p4"];

struct Participant {
    actor: Actor<'static>,
    replica: Doc,
}

fn fresh_replica(server: &Doc, rng: &mut fastrand::Rng) -> Doc {
    let doc = Doc::with_client_id(rng.u64(1000..(1 << 40)));
    sync(&doc, server);
    doc
}

/// Brings a replica up to date with the server (what a delivered update does).
fn sync(replica: &Doc, server: &Doc) {
    let sv = replica.transact().state_vector();
    let diff = server.transact().encode_state_as_update_v1(&sv);
    replica
        .transact_mut()
        .apply_update(Update::decode_v1(&diff).expect("decodes"))
        .expect("applies");
}

fn texts(doc: &Doc) -> Vec<TextRef> {
    let txn = doc.transact();
    let mut all = Vec::new();
    for root in [schema::PARAGRAPHS, schema::AMENDMENTS] {
        if let Some(map) = txn.get_map(root) {
            for (_, value) in map.iter(&txn) {
                if let Out::YMap(entry) = value {
                    for key in [keys::BODY, keys::TEXT, keys::RATIONALE] {
                        if let Some(Out::YText(text)) = entry.get(&txn, key) {
                            all.push(text);
                        }
                    }
                }
            }
        }
    }
    all
}

fn random_edit(doc: &Doc, rng: &mut fastrand::Rng) -> Vec<u8> {
    let all = texts(doc);
    let text = &all[rng.usize(..all.len())];
    let mut txn = doc.transact_mut();
    let len = text.len(&txn);
    match rng.u8(..10) {
        0..=5 => {
            let chunk: String = (0..rng.usize(1..6)).map(|_| rng.alphanumeric()).collect();
            text.insert(&mut txn, rng.u32(..=len), &chunk);
        }
        6..=8 if len > 0 => {
            let at = rng.u32(..len);
            text.remove_range(&mut txn, at, rng.u32(1..=(len - at).min(8)));
        }
        _ if len > 0 => {
            let at = rng.u32(..len);
            let attrs = HashMap::from([("bold".into(), Any::Bool(rng.bool()))]);
            text.format(&mut txn, at, rng.u32(1..=(len - at).min(8)), attrs);
        }
        _ => text.insert(&mut txn, 0, "x"),
    }
    txn.encode_update_v1()
}

/// The oracle: apply to a copy, see what changed, judge that.
fn oracle(server: &Doc, update: &[u8], actor: Actor<'_>, owners: &HashMap<u64, String>) -> bool {
    let copy = authority(2);
    let full = server
        .transact()
        .encode_state_as_update_v1(&StateVector::default());
    copy.transact_mut()
        .apply_update(Update::decode_v1(&full).expect("decodes"))
        .expect("applies");
    let Ok(decoded) = Update::decode_v1(update) else {
        return false;
    };
    let (inserted, deleted, pending) = {
        let mut txn = copy.transact_mut();
        if txn.apply_update(decoded).is_err() {
            return false;
        }
        let store = txn.store();
        let pending = store.pending_update().is_some() || store.pending_ds().is_some();
        (txn.insert_set().clone(), txn.delete_set().clone(), pending)
    };
    if pending {
        return false;
    }
    if inserted.is_empty() && deleted.is_empty() {
        return true;
    }
    if actor.role == Role::Observer {
        return false;
    }
    for client in inserted.client_ids() {
        if owners
            .get(&client.get())
            .is_some_and(|m| m != actor.mission)
        {
            return false;
        }
    }
    let txn = copy.transact();
    let meaning = schema::editable_branches(&txn);
    let mut branches = HashSet::new();
    for set in [&inserted, &deleted] {
        for (client, ranges) in set.iter() {
            for range in ranges.iter() {
                for clock in range.clone() {
                    let id = ID::new(*client, clock);
                    let Some(offset) = StickyIndex::from_id(id, Assoc::After).get_offset(&txn)
                    else {
                        return false;
                    };
                    branches.insert(offset.branch.id());
                }
            }
        }
    }
    drop(txn);
    let server_txn = server.transact();
    branches.iter().all(|branch: &BranchID| {
        let facilitator = actor.role == Role::Facilitator;
        match meaning.get(branch) {
            Some(Editable::ParagraphBody(p)) => {
                schema::paragraph(&server_txn, p).is_some_and(|p| {
                    facilitator && !p.is_locked() && p.status != ParagraphStatus::Deleted
                })
            }
            Some(Editable::AmendmentText(a)) | Some(Editable::AmendmentRationale(a)) => {
                schema::amendment(&server_txn, a).is_some_and(|a| {
                    (facilitator || a.is_sponsored_by(actor.mission))
                        && a.status == AmendmentStatus::Open
                        && schema::paragraph(&server_txn, &a.paragraph)
                            .is_some_and(|p| !p.is_locked())
                })
            }
            Some(Editable::CoverNote) => facilitator,
            None => false,
        }
    })
}

/// A replica as the server keeps it: it never deletes formatting on its own initiative.
fn authority(client: u64) -> Doc {
    Doc::with_options(yrs::Options {
        client_id: yrs::ClientID::new(client),
        skip_gc: true,
        cleanup_formatting: false,
        ..yrs::Options::default()
    })
}

fn body_of(server: &Doc, paragraph: &str) -> String {
    schema::paragraph(&server.transact(), paragraph)
        .expect("paragraph")
        .body
}

#[test]
fn the_policy_agrees_with_the_oracle_on_random_updates() {
    let seed = std::env::var("POLICY_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| fastrand::u64(..));
    println!("policy differential seed {seed} (POLICY_SEED={seed} to replay)");
    let mut rng = fastrand::Rng::with_seed(seed);

    let server = authority(1);
    {
        let mut txn = server.transact_mut();
        for (i, id) in PARAGRAPHS.iter().enumerate() {
            let new = NewParagraph {
                id: id.to_string(),
                label: format!("{}", 17 + i),
                kind: ParagraphKind::Operative,
                parent: None,
                body: format!("Paragraph {id} commits to cooperation."),
            };
            schema::insert_paragraph(&mut txn, i as u32, &new).expect("paragraph");
        }
        for (id, paragraph, author) in [("a1", "p1", "MEX"), ("a2", "p3", "CHE")] {
            let new = NewAmendment {
                id: id.into(),
                paragraph: paragraph.into(),
                new_after: false,
                author: author.into(),
                on_behalf_of: None,
                rationale: "Because.".into(),
                base_revision: None,
            };
            schema::create_amendment(&mut txn, &new).expect("amendment");
        }
    }
    let mut state = PolicyState::from_replica(&server.transact());
    let mut owners: HashMap<u64, String> = HashMap::new();
    let actors = [
        Actor {
            role: Role::Facilitator,
            mission: "UN",
        },
        Actor {
            role: Role::Facilitator,
            mission: "UN",
        },
        Actor {
            role: Role::Delegation,
            mission: "MEX",
        },
        Actor {
            role: Role::Delegation,
            mission: "CHE",
        },
        Actor {
            role: Role::Delegation,
            mission: "EU",
        },
        Actor {
            role: Role::Observer,
            mission: "NGO",
        },
    ];
    let mut participants: Vec<Participant> = actors
        .iter()
        .map(|actor| Participant {
            actor: *actor,
            replica: fresh_replica(&server, &mut rng),
        })
        .collect();
    let mut locked: HashMap<&str, String> = HashMap::new();
    let (mut accepted, mut refused) = (0, 0);
    let mut disagreements = Vec::new();

    for step in 0..UPDATES {
        // The chair locks and unlocks paragraphs now and then.
        if rng.u8(..20) == 0 {
            let p = PARAGRAPHS[rng.usize(..PARAGRAPHS.len())];
            let lock = Lock {
                mission: "UN".into(),
                person: "chair".into(),
                at_ms: step as u64,
                reason: "agreed ad ref".into(),
            };
            let now_locked = !locked.contains_key(p);
            // The server's own writes enter the index too, as the room's commands will.
            let command = {
                let mut txn = server.transact_mut();
                schema::set_lock(&mut txn, p, now_locked.then_some(&lock)).expect("lock");
                txn.encode_update_v1()
            };
            state
                .index
                .absorb(&scan_update_v1(&command).expect("command updates scan"));
            if now_locked {
                locked.insert(p, body_of(&server, p));
            } else {
                locked.remove(p);
            }
            state.refresh(&server.transact());
        }

        let who = rng.usize(..participants.len());
        let participant = &mut participants[who];
        // Delayed delivery: replicas catch up only some of the time.
        if rng.u8(..10) < 3 {
            sync(&participant.replica, &server);
        }
        let update = if rng.u8(..25) == 0 {
            // A reconnecting client re-sends everything it has, deletions included.
            participant
                .replica
                .transact()
                .encode_state_as_update_v1(&StateVector::default())
        } else {
            random_edit(&participant.replica, &mut rng)
        };

        let scanned = scan_update_v1(&update).expect("client updates scan");
        let verdict = check(&scanned, &state, participant.actor);
        let expected = oracle(&server, &update, participant.actor, &owners);
        if verdict.is_ok() != expected {
            if std::env::var("POLICY_DEBUG").is_ok() && disagreements.is_empty() {
                println!(
                    "first disagreement at step {step}: {:?}",
                    verdict.as_ref().err()
                );
                let sv = server.transact().state_vector();
                for block in &scanned.blocks {
                    if let concord_protocol::update::Block::Item(item) = block {
                        let last = concord_protocol::update::Id {
                            client: item.id.client,
                            clock: item.id.clock + item.len - 1,
                        };
                        let server_has = sv.get(&yrs::ClientID::new(item.id.client)) > last.clock;
                        let index_has = state.index.branch_of(last).is_some();
                        if server_has != index_has {
                            println!("block {:?} len {} server_has {server_has} index_has {index_has} content {:?} origin {:?} right {:?}", item.id, item.len, item.content, item.origin, item.right_origin);
                        }
                    }
                }
                for d in &scanned.deletions {
                    let undeleted = state.index.undeleted(d.client, d.clock, d.len);
                    if !undeleted.is_empty() {
                        println!("deletion {d:?} undeleted per index {undeleted:?}");
                    }
                }
            }
            disagreements.push(format!(
                "step {step}: policy {:?}, oracle {}, actor {:?}",
                verdict.as_ref().map(|_| "accept").map_err(|r| r.rule),
                if expected { "accept" } else { "refuse" },
                participant.actor
            ));
        }
        match verdict {
            Ok(verdict) => {
                accepted += 1;
                let deleted = {
                    let mut txn = server.transact_mut();
                    txn.apply_update(Update::decode_v1(&update).expect("decodes"))
                        .expect("applies");
                    txn.delete_set().clone()
                };
                state.record(&verdict, participant.actor.mission, &deleted);
                for client in verdict.claims {
                    owners
                        .entry(client)
                        .or_insert_with(|| participant.actor.mission.to_string());
                }
            }
            Err(_) => {
                refused += 1;
                // The refused replica has a gap now: start a fresh one, as the client does.
                participant.replica = fresh_replica(&server, &mut rng);
            }
        }
        for (p, body) in &locked {
            assert_eq!(
                &body_of(&server, p),
                body,
                "step {step}: locked paragraph {p} changed"
            );
        }
    }
    println!(
        "{accepted} accepted, {refused} refused, {} disagreements",
        disagreements.len()
    );
    assert!(
        disagreements.is_empty(),
        "{} disagreements (seed {seed}):\n{}",
        disagreements.len(),
        disagreements
            .iter()
            .take(20)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert!(
        accepted > UPDATES / 10 && refused > UPDATES / 10,
        "both outcomes were exercised"
    );
}
