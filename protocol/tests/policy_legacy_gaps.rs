//! A document stored before the policy refused gaps may hold one: yrs integrated an item above
//! its client's clock and left a hole before it (no pending part, so nothing looked wrong). An
//! update filling that hole would be integrated into it; the policy must not take the hole for
//! content the document has.

use concord_protocol::policy::{check, Actor, PolicyState, Rule};
use concord_protocol::schema::{self, Lock, NewParagraph, ParagraphKind};
use concord_protocol::update::scan_update_v1;
use concord_protocol::Role;
use yrs::updates::decoder::Decode;
use yrs::{Doc, Options, ReadTxn, StateVector, Text, Transact, Update};

const CHAIR: Actor<'static> = Actor {
    role: Role::Facilitator,
    mission: "UN",
};

#[test]
fn a_hole_left_by_an_old_server_cannot_be_filled() {
    let server = Doc::with_options(Options {
        client_id: yrs::block::ClientID::new(1),
        skip_gc: true,
        ..Options::default()
    });
    {
        let mut txn = server.transact_mut();
        for (i, id) in ["p1", "p2"].iter().enumerate() {
            let new = NewParagraph {
                id: id.to_string(),
                label: format!("{}", i + 1),
                kind: ParagraphKind::Operative,
                parent: None,
                body: "Agreed text.".into(),
            };
            schema::insert_paragraph(&mut txn, i as u32, &new).expect("paragraph");
        }
        let lock = Lock {
            mission: "UN".into(),
            person: "chair".into(),
            at_ms: 1,
            reason: "agreed ad ref".into(),
        };
        schema::set_lock(&mut txn, "p2", Some(&lock)).expect("lock");
    }
    // The attacker's replica: clocks 0..5 typed into locked p2, clock 5 into p1.
    let attacker = Doc::with_client_id(77);
    let full = server
        .transact()
        .encode_state_as_update_v1(&StateVector::default());
    attacker
        .transact_mut()
        .apply_update(Update::decode_v1(&full).expect("decodes"))
        .expect("applies");
    let filler = {
        let mut txn = attacker.transact_mut();
        let p2 = schema::body_text(&txn, "p2").expect("p2");
        p2.insert(&mut txn, 0, "EVIL ");
        txn.encode_update_v1()
    };
    let gap = {
        let mut txn = attacker.transact_mut();
        let p1 = schema::body_text(&txn, "p1").expect("p1");
        p1.insert(&mut txn, 0, "x");
        txn.encode_update_v1()
    };
    // An old server took the gap item: yrs integrated it behind a hole.
    {
        let mut txn = server.transact_mut();
        txn.apply_update(Update::decode_v1(&gap).expect("decodes"))
            .expect("applies");
        assert!(
            txn.store().pending_update().is_none(),
            "integrated, not pending"
        );
    }
    let state = PolicyState::from_replica(&server.transact());
    assert_eq!(state.index.holes(), 1);
    assert_eq!(
        state.index.integrated_clock(77),
        server
            .transact()
            .state_vector()
            .get(&yrs::block::ClientID::new(77))
    );
    let refusal = check(&scan_update_v1(&filler).expect("scans"), &state, CHAIR)
        .expect_err("the filler lands in locked p2");
    assert_eq!(refusal.rule, Rule::UnknownReference, "{refusal:?}");
}
