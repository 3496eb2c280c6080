//! The update policy through the server (docs/design.md section 3): for each rule, an update crafted
//! with yrs directly (the test client has no client-side checks) is refused with `Rejected`
//! naming the rule and the paragraph, the connection closes with 4403 and the stored document
//! is byte-for-byte unchanged; and its permitted counterpart is accepted.

use concord_protocol::lib0::{write_buf, write_var_u64};
use concord_protocol::schema;
use concord_tests::client::{amendment_text, Target};
use concord_tests::{Client, Negotiation};
use yrs::{Text, TextRef, Transact};

fn body(paragraph: &'static str) -> impl Fn(&yrs::TransactionMut) -> Option<TextRef> {
    move |txn| schema::body_text(txn, paragraph)
}

fn type_into<'a>(
    target: Target<'a>,
    text: &'static str,
) -> impl FnOnce(&mut Client) -> anyhow::Result<u64> + 'a {
    move |client| client.insert_into(target, 0, text)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bodies_are_the_facilitators_and_locks_hold() -> anyhow::Result<()> {
    let n = Negotiation::start().await?;
    let p1 = body("p1");
    let p2 = body("p2");
    // A delegation edits a paragraph body; a facilitator may.
    n.refused(
        &n.mex,
        type_into(&p1, "MEX: "),
        "body-facilitators-only",
        Some("p1"),
    )
    .await?;
    n.accepted(&n.chair, type_into(&p1, "Chair: ")).await?;

    // A facilitator edits a locked body; unlocked, it may.
    n.lock("p2").await?;
    n.refused(
        &n.chair,
        type_into(&p2, "late "),
        "paragraph-locked",
        Some("p2"),
    )
    .await?;
    n.unlock("p2").await?;
    n.accepted(&n.chair, type_into(&p2, "reopened ")).await?;
    n.server.stop().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn amendments_are_their_sponsors_while_their_paragraph_is_open() -> anyhow::Result<()> {
    let n = Negotiation::start().await?;
    let a1 = amendment_text("a1");
    let a2 = amendment_text("a2");
    // A delegation edits an amendment it does not sponsor; its sponsor may.
    n.refused(&n.che, type_into(&a1, "CHE "), "not-a-sponsor", Some("p1"))
        .await?;
    n.accepted(&n.mex, type_into(&a1, "MEX ")).await?;

    // An amendment of a locked paragraph; once unlocked, its sponsor may edit it again.
    n.lock("p2").await?;
    n.refused(
        &n.mex,
        type_into(&a2, "more "),
        "paragraph-locked",
        Some("p2"),
    )
    .await?;
    n.unlock("p2").await?;
    n.accepted(&n.mex, type_into(&a2, "more ")).await?;
    n.server.stop().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deletions_and_formatting_reaching_locked_text_are_refused() -> anyhow::Result<()> {
    let n = Negotiation::start().await?;
    // One client types into p1 and then p2 in one transaction: its ids run on from one body
    // into the other, so one deletion range can span both.
    let mut chair = n.connect(&n.chair).await?;
    let seq = chair.edit(&|txn| schema::body_text(txn, "p1"), |p1, txn| {
        p1.insert(txn, 0, "aaa");
        if let Some(p2) = schema::body_text(txn, "p2") {
            p2.insert(txn, 0, "bbb");
        }
    })?;
    chair.wait_acked(seq).await?;
    let own = chair.with_doc(|doc| doc.client_id().get());
    n.lock("p2").await?;
    chair
        .wait_until("the lock", |_, doc| {
            schema::paragraph(&doc.transact(), "p2").is_some_and(|p| p.is_locked())
        })
        .await?;
    chair.close();

    // The deletion of ids own:1..own:6 ("aa" in p1, "bbb" in p2) as one range.
    let mut spanning = Vec::new();
    write_var_u64(&mut spanning, 0); // no blocks
    write_var_u64(&mut spanning, 1); // one client in the delete set
    write_var_u64(&mut spanning, own);
    write_var_u64(&mut spanning, 1); // one range
    write_var_u64(&mut spanning, 1); // clock
    write_var_u64(&mut spanning, 5); // length
    let same_client = |update: Vec<u8>| move |client: &mut Client| client.send_update(&update);
    n.refused(
        &n.chair,
        same_client(spanning),
        "paragraph-locked",
        Some("p2"),
    )
    .await?;
    // The same deletion, only within unlocked p1.
    let mut within = Vec::new();
    for v in [0, 1, own, 1, 1, 2] {
        write_var_u64(&mut within, v);
    }
    n.accepted(&n.chair, same_client(within)).await?;

    // A format item on locked text; on unlocked text it is fine.
    let bold = || {
        let mut attrs = yrs::types::Attrs::new();
        attrs.insert("bold".into(), yrs::Any::Bool(true));
        attrs
    };
    let p1 = body("p1");
    let p2 = body("p2");
    n.refused(
        &n.chair,
        |c: &mut Client| c.edit(&p2, |t, txn| t.format(txn, 0, 2, bold())),
        "paragraph-locked",
        Some("p2"),
    )
    .await?;
    n.accepted(&n.chair, |c: &mut Client| {
        c.edit(&p1, |t, txn| t.format(txn, 0, 1, bold()))
    })
    .await?;
    n.server.stop().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn structure_identity_and_references_are_the_servers() -> anyhow::Result<()> {
    let n = Negotiation::start().await?;

    // Origins that disagree: an item whose left neighbour is in p1 and right one in p2.
    let state = n.state().await?;
    let first_id = |paragraph: &str| {
        concord_protocol::attribution::text_runs(&replica_mut(&state), |t| {
            schema::body_text(t, paragraph)
        })
        .and_then(|runs| runs.visible.first().map(|r| (r.client, r.clock)))
    };
    let (left, right) = (first_id("p1"), first_id("p2"));
    let (Some(left), Some(right)) = (left, right) else {
        anyhow::bail!("the imported bodies have no items");
    };
    let sender = 0x1234_5678;
    let mut crossed = Vec::new();
    for v in [1, 1, sender, 0] {
        write_var_u64(&mut crossed, v);
    }
    crossed.push(0x80 | 0x40 | 4); // origin, right origin, string content
    for v in [left.0, u64::from(left.1), right.0, u64::from(right.1)] {
        write_var_u64(&mut crossed, v);
    }
    write_buf(&mut crossed, b"z");
    write_var_u64(&mut crossed, 0);
    n.refused(
        &n.chair,
        move |c: &mut Client| c.send_update(&crossed),
        "origins-disagree",
        None,
    )
    .await?;

    // Another mission's client id: CHE claims one by typing in its amendment a3; MEX then
    // writes in its own amendment under that id.
    let che = n
        .accepted(&n.che, type_into(&amendment_text("a3"), "CHE "))
        .await?;
    let che_id = che.with_doc(|doc| doc.client_id().get());
    let state = n.state().await?;
    let forged = {
        let doc = yrs::Doc::with_options(yrs::Options {
            client_id: yrs::block::ClientID::new(che_id),
            ..yrs::Options::default()
        });
        apply(&doc, &state)?;
        let mut txn = doc.transact_mut();
        let a1 = schema::amendment_text(&txn, "a1").ok_or_else(|| anyhow::anyhow!("a1"))?;
        a1.insert(&mut txn, 0, "forged ");
        txn.encode_update_v1()
    };
    n.refused(
        &n.mex,
        move |c: &mut Client| c.send_update(&forged),
        "client-id-of-another-mission",
        None,
    )
    .await?;
    n.accepted(&n.mex, type_into(&amendment_text("a1"), "own "))
        .await?;

    // A new root type, and a sub-document in a body.
    n.refused(
        &n.chair,
        |c: &mut Client| {
            let update = c.with_doc(|doc| {
                let notes = doc.get_or_insert_text("notes");
                let mut txn = doc.transact_mut();
                notes.insert(&mut txn, 0, "side channel");
                txn.encode_update_v1()
            });
            c.send_update(&update)
        },
        "not-editable",
        None,
    )
    .await?;
    // Content 9 (a sub-document, guid "g", no options) after p1's first character.
    let mut subdoc = vec![1, 1];
    write_var_u64(&mut subdoc, sender + 1);
    subdoc.extend_from_slice(&[0, 0x80 | 9]);
    write_var_u64(&mut subdoc, left.0);
    write_var_u64(&mut subdoc, u64::from(left.1));
    subdoc.extend_from_slice(&[1, b'g', 118, 0, 0]);
    n.refused(
        &n.chair,
        move |c: &mut Client| c.send_update(&subdoc),
        "content-not-text",
        Some("p1"),
    )
    .await?;
    let p1 = body("p1");
    n.accepted(&n.chair, type_into(&p1, "plain ")).await?;
    n.server.stop().await;
    Ok(())
}

fn apply(doc: &yrs::Doc, state: &[u8]) -> anyhow::Result<()> {
    use yrs::updates::decoder::Decode;
    doc.transact_mut()
        .apply_update(yrs::Update::decode_v1(state)?)?;
    Ok(())
}

fn replica_mut(state: &[u8]) -> yrs::Doc {
    let doc = yrs::Doc::with_options(yrs::Options {
        skip_gc: true,
        ..yrs::Options::default()
    });
    let _ = apply(&doc, state);
    doc
}
