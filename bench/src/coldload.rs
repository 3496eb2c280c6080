//! The cold-load scenario (S5): `build` writes one document with a long edit history (many
//! paragraphs, many small transactions at random places); after the server restarts,
//! `coldload` times a new client until it holds the whole text.

use std::time::{Duration, Instant};

use anyhow::Context;
use concord_protocol::Message;
use serde_json::json;
use yrs::{Doc, GetString, StateVector, Text, Transact};

use crate::client::{read_until, synced_client};
use crate::document::{prepare_document, text_len, texts, writer_replica};
use crate::report::print_report;
use crate::target::{doc_name, Schema, Target};
use crate::ws;

/// S5 part one: a document of `paragraphs` paragraphs and `chars` characters written in
/// `transactions` transactions, each typed at a random place.
pub async fn build(
    target: Target,
    paragraphs: usize,
    chars: usize,
    transactions: usize,
    pace: u32,
) -> anyhow::Result<()> {
    let name = doc_name(&target, 0);
    // Concord: the paragraphs come from an import; the root schema types them as lines.
    let initial = prepare_document(&target, &name, paragraphs).await?;
    let (writer, mut read, leftover) = synced_client(&target, &name).await?;
    let local = writer_replica(&initial)?;
    let bodies = texts(&local, target.schema);
    let text = bodies
        .first()
        .cloned()
        .context("the document has no text to type into")?;
    let per_tx = (chars / transactions.max(1)).max(1);
    let mut rng = fastrand::Rng::with_seed(5);
    let started = Instant::now();
    let mut batch = Vec::new();
    for t in 0..transactions {
        let update = {
            let mut txn = local.transact_mut();
            if t == 0 && target.schema == Schema::Root {
                let seed: String = (0..paragraphs).map(|p| format!("{}. \n", p + 1)).collect();
                text.insert(&mut txn, 0, &seed);
            } else {
                // A random place in a random paragraph (Concord) or in the one text.
                let text = &bodies[rng.usize(0..bodies.len())];
                let len = text.len(&txn);
                let at = rng.u32(0..len.max(1));
                let word: String = (0..per_tx).map(|_| rng.alphabetic()).collect();
                text.insert(&mut txn, at, &word);
            }
            txn.encode_update_v1()
        };
        ws::encode_frame(
            &mut batch,
            ws::OP_BINARY,
            &writer.address.wrap(&Message::Update(&update).encode()),
        );
        let due = (pace > 0).then(|| started + Duration::from_secs_f64(t as f64 / f64::from(pace)));
        if batch.len() > 64 * 1024 || due.is_some_and(|due| due > Instant::now()) {
            writer.write_all(&batch).await?;
            batch.clear();
            if let Some(due) = due {
                tokio::time::sleep_until(due.into()).await;
            }
        }
    }
    ws::encode_frame(
        &mut batch,
        ws::OP_BINARY,
        &writer
            .address
            .wrap(&Message::SyncStep1(StateVector::default()).encode()),
    );
    writer.write_all(&batch).await?;
    let expected = text_len(&local, target.schema);
    let mirror = Doc::new();
    read_until(&writer, &mut read, leftover, &mirror, |doc, _| {
        text_len(doc, target.schema) >= expected
    })
    .await?;
    let report = json!({
        "label": target.label,
        "scenario": "build",
        "transactions": transactions,
        "chars": expected,
        "seconds": started.elapsed().as_secs_f64(),
    });
    print_report(&target, &report)
}

/// S5 part two: connect a new client and time until it holds the whole text.
pub async fn coldload(target: Target, chars: usize) -> anyhow::Result<()> {
    let name = doc_name(&target, 0);
    let started = Instant::now();
    let (writer, mut read, leftover) = synced_client(&target, &name).await?;
    let mirror = Doc::new();
    let expected = chars as u32;
    // Done when the whole text is there. Some servers answer the first sync before their
    // persistence has loaded the document and send it later as updates, so "synced" is not
    // the finish line; a server that lost part of it is cut off after a bounded wait and the
    // report says how much came.
    let wait = read_until(&writer, &mut read, leftover, &mirror, |doc, _| {
        text_len(doc, target.schema) >= expected
    });
    let applying = match tokio::time::timeout(Duration::from_secs(15), wait).await {
        Ok(applying) => applying?,
        Err(_) => Duration::ZERO,
    };
    let elapsed = started.elapsed();
    let got = {
        // The texts first: for the root schema, finding one writes (a transaction of its own).
        let texts = texts(&mirror, target.schema);
        let txn = mirror.transact();
        texts
            .iter()
            .map(|t| t.get_string(&txn).chars().count())
            .sum::<usize>()
    };
    let report = json!({
        "label": target.label,
        "scenario": "coldload",
        "chars": got,
        "complete": got >= chars,
        "ms_to_full_text": elapsed.as_secs_f64() * 1000.0,
        "ms_client_applying": applying.as_secs_f64() * 1000.0,
    });
    print_report(&target, &report)
}
