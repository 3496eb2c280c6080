//! Integrity through the server: the policy judges exactly what yrs integrates (no update that
//! would leave anything pending gets in, so no later "filler" slips in unjudged), and the
//! server's own client id stays the server's across restarts.

use concord_protocol::lib0::write_var_u64;
use concord_protocol::schema;
use concord_tests::{http_get_with, Negotiation};
use yrs::updates::decoder::Decode;
use yrs::{Assoc, Doc, GetString, IndexedSequence, ReadTxn, Text, Transact, Update};

const DOC: &str = "gcm";

/// Sends `update` from a fresh connection of `token`: refused by `rule` in `paragraph`, the
/// document unchanged.
async fn refused(
    n: &Negotiation,
    token: &str,
    update: &[u8],
    rule: &str,
    paragraph: Option<&str>,
) -> anyhow::Result<()> {
    n.refused(token, |client| client.send_update(update), rule, paragraph)
        .await
}

/// The server's document as a replica.
fn replica(state: &[u8], client: u64) -> anyhow::Result<Doc> {
    let doc = Doc::with_client_id(client);
    doc.transact_mut().apply_update(Update::decode_v1(state)?)?;
    Ok(doc)
}

/// Clocks per client, and texts.
type Fingerprint = (Vec<(u64, u32)>, Vec<String>);

/// What a state holds, independent of encoding order: its state vector and its texts.
fn fingerprint(state: &[u8]) -> anyhow::Result<Fingerprint> {
    let doc = replica(state, 1)?;
    let txn = doc.transact();
    let mut clocks: Vec<(u64, u32)> = txn
        .state_vector()
        .iter()
        .map(|(client, clock)| (client.get(), *clock))
        .collect();
    clocks.sort_unstable();
    let texts = ["p1", "p2"]
        .iter()
        .filter_map(|p| schema::body_text(&txn, p))
        .chain(schema::amendment_text(&txn, "a1"))
        .map(|text| text.get_string(&txn))
        .collect();
    Ok((clocks, texts))
}

/// The id of the character at `index` of a text of `doc`.
fn char_id(
    doc: &Doc,
    text: impl Fn(&yrs::Transaction) -> Option<yrs::TextRef>,
    index: u32,
) -> anyhow::Result<(u64, u32)> {
    let txn = doc.transact();
    let text = text(&txn).ok_or_else(|| anyhow::anyhow!("no such text"))?;
    let sticky = text
        .sticky_index(&txn, index, Assoc::After)
        .ok_or_else(|| anyhow::anyhow!("no index {index}"))?;
    let id = sticky.id().ok_or_else(|| anyhow::anyhow!("no id"))?;
    Ok((id.client.get(), id.clock))
}

/// A hand-made update: one string item of `client` at `clock`, with a left origin.
fn string_item(client: u64, clock: u32, origin: (u64, u32), text: &str) -> Vec<u8> {
    let mut out = vec![1, 1];
    write_var_u64(&mut out, client);
    write_var_u64(&mut out, u64::from(clock));
    push_string_item(&mut out, origin, text);
    out.push(0);
    out
}

/// The same with a Skip struct of `skip` ids before the item (at clock 0).
fn skip_then_item(client: u64, skip: u32, origin: (u64, u32), text: &str) -> Vec<u8> {
    let mut out = vec![1, 2];
    write_var_u64(&mut out, client);
    out.push(0);
    out.push(10);
    write_var_u64(&mut out, u64::from(skip));
    push_string_item(&mut out, origin, text);
    out.push(0);
    out
}

/// A string item's block: info (string content, left origin), the origin, the text.
fn push_string_item(out: &mut Vec<u8>, origin: (u64, u32), text: &str) {
    out.push(0x80 | 4);
    write_var_u64(out, origin.0);
    write_var_u64(out, u64::from(origin.1));
    write_var_u64(out, text.len() as u64);
    out.extend_from_slice(text.as_bytes());
}

/// The attack that got through: an allowed item above the client's clock (yrs keeps it, with a
/// hole before it), then one item covering the hole and the first item's ids, typed into a
/// locked body. Each step, and every variant of the gap, is refused before it is applied.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_update_that_would_leave_a_gap_is_refused_and_no_filler_lands() -> anyhow::Result<()> {
    let n = Negotiation::start().await?;
    n.lock("p2").await?;
    let doc = replica(&n.state().await?, 1)?;
    let in_a1 = char_id(&doc, |txn| schema::amendment_text(txn, "a1"), 0)?;
    let in_p2 = char_id(&doc, |txn| schema::body_text(txn, "p2"), 0)?;
    let attacker = 0x5eed;

    // A gap: MEX's amendment (allowed) at clock 5 of a client id the document has nothing of.
    let gap = string_item(attacker, 5, in_a1, "ok");
    refused(&n, &n.mex, &gap, "unknown-reference", None).await?;
    // The same behind a Skip struct.
    let skipped = skip_then_item(attacker, 5, in_a1, "ok");
    refused(&n, &n.mex, &skipped, "unknown-reference", None).await?;
    // The filler, sent as if the gap had been taken: ids 0..7 into the locked body, from MEX
    // and from another mission. Judged as what it is.
    let filler = string_item(attacker, 0, in_p2, "EVIL ok");
    refused(&n, &n.mex, &filler, "body-facilitators-only", Some("p2")).await?;
    refused(&n, &n.che, &filler, "body-facilitators-only", Some("p2")).await?;
    // A facilitator's filler into the locked body: locked.
    refused(&n, &n.chair, &filler, "paragraph-locked", Some("p2")).await?;
    // Deleting ids the document does not have would stay pending too.
    let mut deletion = vec![0, 1];
    write_var_u64(&mut deletion, attacker);
    deletion.extend_from_slice(&[1, 0, 3]);
    refused(&n, &n.mex, &deletion, "unknown-reference", None).await?;

    // After a restart, the same: nothing pending was ever stored.
    let before = n.state().await?;
    let n = n.restart().await;
    assert_eq!(fingerprint(&n.state().await?)?, fingerprint(&before)?);
    n.server.stop().await;
    Ok(())
}

/// A partly known item: yrs integrates only its new part, placed after the client's last
/// known character. That character is in a body locked since: the new part is judged there,
/// not where the item's stated origin is.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_re_sent_item_is_judged_by_where_its_new_part_lands() -> anyhow::Result<()> {
    let n = Negotiation::start().await?;
    let mut chair = n.connect(&n.chair).await?;
    let client = chair.with_doc(|doc| doc.client_id().get());
    let seq = chair.insert_into(&|txn| schema::body_text(txn, "p1"), 0, "abc")?;
    chair.wait_acked(seq).await?;
    chair.close();
    n.lock("p1").await?;
    let doc = replica(&n.state().await?, 1)?;
    let in_p2 = char_id(&doc, |txn| schema::body_text(txn, "p2"), 0)?;
    // Ids 0..5 of the chair's client: 0..3 are known ("abc" in p1), 3..5 are new. The item
    // claims an origin in p2 (open: the chair may write there); yrs would put "de" after "c".
    let resent = string_item(client, 0, in_p2, "abcde");
    refused(&n, &n.chair, &resent, "paragraph-locked", Some("p1")).await?;
    n.server.stop().await;
    Ok(())
}

/// What the server writes (imports, accepted text) stays the server's after a restart, and
/// the mission whose command came first does not get the server's client id.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_servers_client_id_stays_the_servers_across_restarts() -> anyhow::Result<()> {
    let n = Negotiation::start().await?;
    let state = n.state().await?;
    let server_id = {
        let doc = replica(&state, 1)?;
        char_id(&doc, |txn| schema::body_text(txn, "p1"), 0)?.0
    };
    let n = n.restart().await;
    let path = format!("/api/docs/{DOC}/paragraphs/p1/attribution");
    let auth = format!("Authorization: Bearer {}", n.chair);
    let (status, answer) = http_get_with(n.server.addr, &path, &[&auth]).await?;
    assert_eq!(status, 200, "{answer}");
    let answer: serde_json::Value = serde_json::from_str(&answer)?;
    let runs = answer["runs"].as_array().cloned().unwrap_or_default();
    assert!(!runs.is_empty(), "{answer}");
    for run in &runs {
        assert_eq!(run["by_server"], true, "{answer}");
        assert_ne!(run["mission"], "UN", "{answer}");
    }
    // The facilitator of UN (whose import came first) cannot write under the server's old id.
    let doc = replica(&n.state().await?, server_id)?;
    let update = {
        let mut txn = doc.transact_mut();
        let text = schema::amendment_text(&txn, "a1").ok_or_else(|| anyhow::anyhow!("a1"))?;
        text.insert(&mut txn, 0, "UN ");
        txn.encode_update_v1()
    };
    refused(&n, &n.chair, &update, "client-id-of-another-mission", None).await?;
    n.server.stop().await;
    Ok(())
}
