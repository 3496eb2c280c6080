//! The policy's unit tests: one per rule, with updates crafted through yrs or by hand.

use std::collections::HashMap;

use super::*;
use crate::lib0::write_var_u64;
use crate::schema::{self, Lock, NewAmendment, NewParagraph, ParagraphKind, PARAGRAPHS};
use crate::update::scan_update_v1;
use crate::update::Content;
use yrs::updates::decoder::Decode;
use yrs::{Any, Doc, Map, Out, ReadTxn, StateVector, Text, TextRef, Transact, Update};

use super::test_actors::{CHAIR as FACILITATOR, CHE, MEX};

/// The server's document: p1, p2, and amendment a1 on p1 sponsored by MEX.
struct World {
    server: Doc,
    state: PolicyState,
}

impl World {
    fn new() -> Self {
        let server = Doc::with_client_id(1);
        {
            let mut txn = server.transact_mut();
            for (i, (id, body)) in [("p1", "Alpha text."), ("p2", "Beta text.")]
                .iter()
                .enumerate()
            {
                let new = NewParagraph {
                    id: id.to_string(),
                    label: format!("{}", i + 1),
                    kind: ParagraphKind::Operative,
                    parent: None,
                    body: body.to_string(),
                };
                schema::insert_paragraph(&mut txn, i as u32, &new).expect("paragraph");
            }
            let amendment = NewAmendment {
                id: "a1".into(),
                paragraph: "p1".into(),
                new_after: false,
                author: "MEX".into(),
                on_behalf_of: None,
                rationale: "Why.".into(),
                base_revision: None,
            };
            schema::create_amendment(&mut txn, &amendment).expect("amendment");
        }
        let state = PolicyState::from_replica(&server.transact());
        World { server, state }
    }

    /// A client's replica, synced.
    fn replica(&self, client: u64) -> Doc {
        let doc = Doc::with_client_id(client);
        let full = self
            .server
            .transact()
            .encode_state_as_update_v1(&StateVector::default());
        doc.transact_mut()
            .apply_update(Update::decode_v1(&full).expect("decodes"))
            .expect("applies");
        doc
    }

    fn check(&self, update: &[u8], actor: Actor<'_>) -> Result<Verdict, Refusal> {
        let scanned = scan_update_v1(update).expect("scans");
        check(&scanned, &self.state, actor)
    }

    /// Checks, and on success applies and records, as the room will.
    fn submit(&mut self, update: &[u8], actor: Actor<'_>) -> Result<Verdict, Refusal> {
        let verdict = self.check(update, actor)?;
        let deleted = {
            let mut txn = self.server.transact_mut();
            txn.apply_update(Update::decode_v1(update).expect("decodes"))
                .expect("applies");
            txn.delete_set().clone()
        };
        self.state.record(&verdict, actor.mission, &deleted);
        Ok(verdict)
    }

    fn lock(&mut self, paragraph: &str, locked: bool) {
        let lock = Lock {
            mission: "UN".into(),
            person: "chair".into(),
            at_ms: 1,
            reason: "agreed ad ref".into(),
        };
        schema::set_lock(
            &mut self.server.transact_mut(),
            paragraph,
            locked.then_some(&lock),
        )
        .expect("lock");
        self.state.refresh(&self.server.transact());
    }
}

fn body(doc: &Doc, paragraph: &str) -> TextRef {
    let txn = doc.transact();
    match txn.get_map(PARAGRAPHS).and_then(|m| m.get(&txn, paragraph)) {
        Some(Out::YMap(map)) => match map.get(&txn, schema::keys::BODY) {
            Some(Out::YText(text)) => text,
            _ => panic!("body"),
        },
        _ => panic!("paragraph {paragraph}"),
    }
}

fn amendment_text(doc: &Doc, amendment: &str) -> TextRef {
    let txn = doc.transact();
    match txn
        .get_map(schema::AMENDMENTS)
        .and_then(|m| m.get(&txn, amendment))
    {
        Some(Out::YMap(map)) => match map.get(&txn, schema::keys::TEXT) {
            Some(Out::YText(text)) => text,
            _ => panic!("text"),
        },
        _ => panic!("amendment {amendment}"),
    }
}

fn typing(doc: &Doc, text: &TextRef, at: u32, chunk: &str) -> Vec<u8> {
    let mut txn = doc.transact_mut();
    text.insert(&mut txn, at, chunk);
    txn.encode_update_v1()
}

fn rule(result: Result<Verdict, Refusal>) -> (Rule, Option<String>) {
    let refusal = result.expect_err("refused");
    (refusal.rule, refusal.paragraph)
}

#[test]
fn only_facilitators_edit_a_paragraph_body() {
    let mut world = World::new();
    let mex = world.replica(200);
    let update = typing(&mex, &body(&mex, "p1"), 0, "Strongly ");
    assert_eq!(
        rule(world.check(&update, MEX)),
        (Rule::BodyFacilitatorsOnly, Some("p1".into()))
    );
    let chair = world.replica(100);
    let update = typing(&chair, &body(&chair, "p1"), 0, "Strongly ");
    let verdict = world.submit(&update, FACILITATOR).expect("facilitator may");
    assert_eq!(verdict.claims, vec![100]);
    assert!(verdict.touched.contains(&(0, "p1".to_string())));
}

#[test]
fn a_locked_body_is_refused_even_to_facilitators() {
    let mut world = World::new();
    world.lock("p2", true);
    let chair = world.replica(100);
    let update = typing(&chair, &body(&chair, "p2"), 0, "x");
    assert_eq!(
        rule(world.check(&update, FACILITATOR)),
        (Rule::ParagraphLocked, Some("p2".into()))
    );
    world.lock("p2", false);
    assert!(world.check(&update, FACILITATOR).is_ok());
}

#[test]
fn only_sponsors_and_facilitators_edit_an_amendment() {
    let mut world = World::new();
    let che = world.replica(300);
    let update = typing(&che, &amendment_text(&che, "a1"), 0, "CHE: ");
    assert_eq!(
        rule(world.check(&update, CHE)),
        (Rule::NotASponsor, Some("p1".into()))
    );
    let mex = world.replica(200);
    let update = typing(&mex, &amendment_text(&mex, "a1"), 0, "MEX: ");
    let verdict = world.submit(&update, MEX).expect("the sponsor may");
    assert!(verdict.touched.contains(&(1, "a1".to_string())));
    let chair = world.replica(100);
    let update = typing(&chair, &amendment_text(&chair, "a1"), 0, "UN: ");
    assert!(world.check(&update, FACILITATOR).is_ok());
}

#[test]
fn an_amendment_of_a_locked_paragraph_or_a_closed_amendment_is_refused() {
    let mut world = World::new();
    let mex = world.replica(200);
    let update = typing(&mex, &amendment_text(&mex, "a1"), 0, "MEX: ");
    world.lock("p1", true);
    assert_eq!(
        rule(world.check(&update, MEX)),
        (Rule::ParagraphLocked, Some("p1".into()))
    );
    world.lock("p1", false);
    assert!(world.check(&update, MEX).is_ok());
    schema::set_amendment_status(
        &mut world.server.transact_mut(),
        "a1",
        AmendmentStatus::Withdrawn,
    )
    .expect("status");
    world.state.refresh(&world.server.transact());
    assert_eq!(
        rule(world.check(&update, MEX)),
        (Rule::AmendmentClosed, Some("p1".into()))
    );
}

#[test]
fn a_deletion_spanning_unlocked_and_locked_text_is_refused_whole() {
    let mut world = World::new();
    world.lock("p2", true);
    let chair = world.replica(100);
    let (b1, b2) = (body(&chair, "p1"), body(&chair, "p2"));
    let both = {
        let mut txn = chair.transact_mut();
        b1.remove_range(&mut txn, 0, 6);
        b2.remove_range(&mut txn, 0, 5);
        txn.encode_update_v1()
    };
    assert_eq!(
        rule(world.check(&both, FACILITATOR)),
        (Rule::ParagraphLocked, Some("p2".into()))
    );
    let chair = world.replica(101);
    let b1 = body(&chair, "p1");
    let one = {
        let mut txn = chair.transact_mut();
        b1.remove_range(&mut txn, 0, 6);
        txn.encode_update_v1()
    };
    let verdict = world
        .submit(&one, FACILITATOR)
        .expect("unlocked text may be deleted");
    assert!(!verdict.deletions.is_empty());
    // A reconnecting client re-sends its delete set: nothing new, nothing refused, even
    // once the paragraph is locked.
    world.lock("p1", true);
    let verdict = world
        .check(&one, FACILITATOR)
        .expect("old deletions do not count");
    assert!(verdict.deletions.is_empty());
}

#[test]
fn a_format_item_on_locked_text_is_refused() {
    let mut world = World::new();
    world.lock("p2", true);
    let chair = world.replica(100);
    let format = |doc: &Doc, text: &TextRef| {
        let mut txn = doc.transact_mut();
        text.format(
            &mut txn,
            0,
            4,
            HashMap::from([("bold".into(), Any::Bool(true))]),
        );
        txn.encode_update_v1()
    };
    let update = format(&chair, &body(&chair, "p2"));
    assert_eq!(
        rule(world.check(&update, FACILITATOR)),
        (Rule::ParagraphLocked, Some("p2".into()))
    );
    // A fresh replica: the refused update took clocks the server never integrated, so
    // anything further from `chair` would start above what the document has (a gap).
    let chair = world.replica(101);
    let update = format(&chair, &body(&chair, "p1"));
    assert!(world.check(&update, FACILITATOR).is_ok());
}

/// The ids of the first character of p1's and p2's bodies, as the index knows them.
fn first_chars(world: &World) -> (Id, Id) {
    let full = world
        .server
        .transact()
        .encode_state_as_update_v1(&StateVector::default());
    let scanned = scan_update_v1(&full).expect("scans");
    let body_branch = |p: &str| {
        world
            .state
            .meaning
            .iter()
            .find(|(_, e)| **e == Editable::ParagraphBody(p.into()))
            .map(|(k, _)| k.clone())
            .expect("body")
    };
    let first_in = |branch: BranchKey| {
        scanned
            .blocks
            .iter()
            .find_map(|b| match b {
                Block::Item(item)
                    if item.content == Content::String
                        && world.state.index.branch_of(item.id) == Some(&branch) =>
                {
                    Some(item.id)
                }
                _ => None,
            })
            .expect("a character")
    };
    (first_in(body_branch("p1")), first_in(body_branch("p2")))
}

/// A hand-made update: one string item of client 500 with the given origins.
fn crafted(origin: Option<Id>, right: Option<Id>, text: &str) -> Vec<u8> {
    let mut out = vec![1, 1];
    write_var_u64(&mut out, 500);
    out.push(0);
    let info = 4 | if origin.is_some() { 0x80 } else { 0 } | if right.is_some() { 0x40 } else { 0 };
    out.push(info);
    for id in [origin, right].into_iter().flatten() {
        write_var_u64(&mut out, id.client);
        write_var_u64(&mut out, u64::from(id.clock));
    }
    write_var_u64(&mut out, text.len() as u64);
    out.extend_from_slice(text.as_bytes());
    out.push(0);
    out
}

#[test]
fn origins_in_different_texts_are_refused() {
    let world = World::new();
    let (p1, p2) = first_chars(&world);
    assert_eq!(
        rule(world.check(&crafted(Some(p1), Some(p2), "x"), FACILITATOR)).0,
        Rule::OriginsDisagree
    );
    let next = Id {
        client: p1.client,
        clock: p1.clock + 1,
    };
    assert!(world
        .check(&crafted(Some(p1), Some(next), "x"), FACILITATOR)
        .is_ok());
}

#[test]
fn references_to_content_the_document_lacks_are_refused() {
    let world = World::new();
    let nowhere = Id {
        client: 77,
        clock: 3,
    };
    assert_eq!(
        rule(world.check(&crafted(Some(nowhere), None, "x"), FACILITATOR)).0,
        Rule::UnknownReference
    );
    // Deleting what does not exist would stay pending: refused too.
    let deletion = vec![0, 1, 77, 1, 0, 5];
    assert_eq!(
        rule(world.check(&deletion, FACILITATOR)).0,
        Rule::UnknownReference
    );
}

#[test]
fn a_client_id_of_another_mission_is_refused() {
    let mut world = World::new();
    let mex = world.replica(200);
    let update = typing(&mex, &amendment_text(&mex, "a1"), 0, "MEX ");
    world.submit(&update, MEX).expect("MEX claims 200");
    // CHE writes under MEX's client id (its own replica, the same id).
    let che = world.replica(200);
    let forged = typing(&che, &amendment_text(&che, "a1"), 0, "forged ");
    assert_eq!(
        rule(world.check(
            &forged,
            Actor {
                role: Role::Facilitator,
                mission: "CHE"
            }
        ))
        .0,
        Rule::ClientIdOfAnotherMission
    );
    // MEX itself may go on under it.
    let more = typing(&mex, &amendment_text(&mex, "a1"), 0, "more ");
    assert!(world.check(&more, MEX).is_ok());
}

#[test]
fn new_root_types_and_structure_are_refused() {
    let world = World::new();
    let chair = world.replica(100);
    let sneaky = chair.get_or_insert_text("sneaky");
    let update = typing(&chair, &sneaky, 0, "hello");
    assert_eq!(rule(world.check(&update, FACILITATOR)).0, Rule::NotEditable);
    // The paragraphs map itself (its keys, statuses, locks) is written by commands only.
    let chair = world.replica(101);
    let paragraphs = chair.get_or_insert_map(PARAGRAPHS);
    let update = {
        let mut txn = chair.transact_mut();
        paragraphs.insert(&mut txn, "p9", "forged paragraph");
        txn.encode_update_v1()
    };
    assert_eq!(rule(world.check(&update, FACILITATOR)).0, Rule::NotEditable);
}

#[test]
fn a_sub_document_inside_a_text_is_refused() {
    let world = World::new();
    let (p1, _) = first_chars(&world);
    // Content 9 (a sub-document) after p1's first character: guid "g", options {}.
    let mut update = vec![1, 1];
    write_var_u64(&mut update, 500);
    update.extend_from_slice(&[0, 0x80 | 9]);
    write_var_u64(&mut update, p1.client);
    write_var_u64(&mut update, u64::from(p1.clock));
    update.extend_from_slice(&[1, b'g', 118, 0, 0]);
    assert_eq!(
        rule(world.check(&update, FACILITATOR)),
        (Rule::ContentNotText, Some("p1".into()))
    );
}

#[test]
fn observers_write_nothing_but_may_send_empty_updates() {
    let world = World::new();
    let viewer = world.replica(400);
    let update = typing(&viewer, &amendment_text(&viewer, "a1"), 0, "x");
    let observer = super::test_actors::NGO;
    assert_eq!(
        rule(world.check(&update, observer)).0,
        Rule::ObserverReadOnly
    );
    assert!(world.check(&[0, 0], observer).is_ok());
}

#[test]
fn the_index_answers_ranges_in_runs() {
    let mut index = IdIndex::default();
    let branch = BranchKey::Root("t".into());
    index.insert(
        Id {
            client: 1,
            clock: 0,
        },
        5,
        branch.clone(),
    );
    index.insert(
        Id {
            client: 1,
            clock: 5,
        },
        5,
        branch.clone(),
    );
    index.insert(
        Id {
            client: 1,
            clock: 20,
        },
        5,
        BranchKey::Root("u".into()),
    );
    let segments = index.segments(1, 3, 4_000_000_000);
    assert_eq!(segments.len(), 4, "{segments:?}");
    assert_eq!(
        segments[0],
        Segment {
            clock: 3,
            len: 7,
            branch: Some(branch)
        }
    );
    assert_eq!(segments[1].branch, None);
    index.mark_deleted(1, 2, 4);
    assert_eq!(index.undeleted(1, 0, 10), vec![(0, 2), (6, 4)]);
}

/// Two clients typing in turn: each one's next character follows the other's last. Their
/// items depend on each other back and forth, and resolve (in yrs's order) all the same.
#[test]
fn items_depending_back_and_forth_across_clients_resolve() {
    let a = Doc::with_client_id(7);
    let b = Doc::with_client_id(8);
    let ta = a.get_or_insert_text("t");
    let tb = b.get_or_insert_text("t");
    let sync = |from: &Doc, to: &Doc| {
        let sv = to.transact().state_vector();
        let diff = from.transact().encode_state_as_update_v1(&sv);
        to.transact_mut()
            .apply_update(Update::decode_v1(&diff).expect("decodes"))
            .expect("applies");
    };
    for round in 0..50 {
        let (doc, text, other) = if round % 2 == 0 {
            (&a, &ta, &b)
        } else {
            (&b, &tb, &a)
        };
        {
            let mut txn = doc.transact_mut();
            let end = text.len(&txn);
            text.insert(&mut txn, end, "x");
        }
        sync(doc, other);
    }
    let full = a
        .transact()
        .encode_state_as_update_v1(&StateVector::default());
    let mut index = IdIndex::default();
    assert_eq!(index.absorb(&scan_update_v1(&full).expect("scans")), 0);
    assert_eq!((index.clock(7), index.clock(8)), (25, 25));
}
