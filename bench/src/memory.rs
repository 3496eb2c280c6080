//! The `memory` scenario (S4): many documents of a given size held open at once; the server's
//! resident memory per document.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use concord_protocol::Message;
use serde_json::json;
use tokio::sync::Semaphore;
use yrs::{Doc, StateVector, Text, Transact};

use crate::client::{read_until, send, synced_client};
use crate::document::{prepare_document, text_len, texts, writer_replica};
use crate::report::print_report;
use crate::stats::ProcStats;
use crate::target::{doc_name, Target};
use crate::ws;

/// S4: `docs` documents of `bytes` bytes each, held open; server memory per document.
pub async fn memory(target: Target, docs: usize, bytes: usize) -> anyhow::Result<()> {
    let pid = *target
        .server_pid
        .first()
        .context("memory needs --server-pid")?;
    let before = ProcStats::read(pid).context("cannot read the server's /proc")?;
    let mut held = Vec::with_capacity(docs);
    let started = Instant::now();
    let gate = Arc::new(Semaphore::new(100));
    let mut joins = Vec::new();
    for d in 0..docs {
        let target = target.clone();
        let gate = Arc::clone(&gate);
        joins.push(tokio::spawn(async move {
            let _permit = gate.acquire_owned().await?;
            let name = doc_name(&target, d);
            let initial = prepare_document(&target, &name, 1).await?;
            let (writer, mut read, leftover) = synced_client(&target, &name).await?;
            // One paragraph of ~`bytes` bytes, typed in 100-byte transactions.
            let local = writer_replica(&initial)?;
            let text = texts(&local, target.schema)
                .into_iter()
                .next()
                .context("the document has no text to type into")?;
            let chunk: String = "Migrants shall be protected in all circumstances; "
                .chars()
                .cycle()
                .take(100)
                .collect();
            let mut written = 0;
            while written < bytes {
                let update = {
                    let mut txn = local.transact_mut();
                    let len = text.len(&txn);
                    text.insert(&mut txn, len, &chunk);
                    txn.encode_update_v1()
                };
                send(&writer, ws::OP_BINARY, &Message::Update(&update).encode()).await?;
                written += chunk.len();
            }
            // The server answers a sync step 1 after everything sent before it: once the
            // answer holds all the text, the document is in the server's memory.
            send(
                &writer,
                ws::OP_BINARY,
                &Message::SyncStep1(StateVector::default()).encode(),
            )
            .await?;
            let mirror = Doc::new();
            let expected = text_len(&local, target.schema);
            read_until(&writer, &mut read, leftover, &mirror, |doc, _| {
                text_len(doc, target.schema) >= expected
            })
            .await?;
            anyhow::Ok((writer, read))
        }));
    }
    let mut errors = 0;
    for join in joins {
        match join.await? {
            Ok(connection) => held.push(connection),
            Err(_) => errors += 1,
        }
    }
    let loaded = started.elapsed();
    // Let the server settle (allocator, background snapshot writes), bounded.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let after = ProcStats::read(pid).context("cannot read the server's /proc")?;
    let per_doc_kib = (after.rss_kib as f64 - before.rss_kib as f64) / docs.max(1) as f64;
    let report = json!({
        "label": target.label,
        "scenario": "memory",
        "docs": docs,
        "bytes_per_doc": bytes,
        "errors": errors,
        "seconds_to_load": loaded.as_secs_f64(),
        "server_rss_before_mib": before.rss_kib as f64 / 1024.0,
        "server_rss_after_mib": after.rss_kib as f64 / 1024.0,
        "server_kib_per_doc": per_doc_kib,
    });
    drop(held);
    print_report(&target, &report)
}
