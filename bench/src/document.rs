//! The document a scenario writes into: which texts writers type into, giving a Concord
//! document its paragraphs first (an `import-text` command), and the replica each writer
//! starts from.

use concord_protocol::Message;
use yrs::updates::decoder::Decode;
use yrs::{Doc, ReadTxn, StateVector, Text, Transact, Update};

use crate::client::{read_until, send, synced_client};
use crate::target::{Schema, Target};
use crate::ws;

/// The texts writers type into: every paragraph body (Concord) or the root text. For the root
/// schema this takes a write transaction: call it with no transaction of `doc` held.
pub fn texts(doc: &Doc, schema: Schema) -> Vec<yrs::TextRef> {
    match schema {
        Schema::Root => vec![doc.get_or_insert_text("text")],
        Schema::Concord => {
            let txn = doc.transact();
            concord_protocol::schema::paragraphs(&txn)
                .iter()
                .filter_map(|p| concord_protocol::schema::body_text(&txn, &p.id))
                .collect()
        }
    }
}

/// Gives `doc` its paragraphs (Concord: `import-text` with `paragraphs` empty paragraphs, unless
/// it has content already) and returns the state every writer starts from (empty for `root`).
pub async fn prepare_document(
    target: &Target,
    doc: &str,
    paragraphs: usize,
) -> anyhow::Result<Vec<u8>> {
    if target.schema == Schema::Root {
        return Ok(Vec::new());
    }
    let (writer, mut read, leftover) = synced_client(target, doc).await?;
    let text: String = (1..=paragraphs.max(1))
        .map(|p| format!("[{p}]\n"))
        .collect();
    let request = concord_protocol::command::CommandRequest {
        id: 1,
        command: concord_protocol::command::Command::ImportText { text },
    };
    send(&writer, ws::OP_BINARY, &Message::Command(request).encode()).await?;
    let replica = Doc::new();
    // Either the import's update arrives, or the sync shows the document had content already.
    read_until(&writer, &mut read, leftover, &replica, |doc, _| {
        !texts(doc, Schema::Concord).is_empty()
    })
    .await?;
    let state = replica
        .transact()
        .encode_state_as_update_v1(&StateVector::default());
    Ok(state)
}

/// A writer's replica: a fresh client id, starting from `initial`.
pub fn writer_replica(initial: &[u8]) -> anyhow::Result<Doc> {
    let doc = Doc::new();
    if !initial.is_empty() {
        doc.transact_mut()
            .apply_update(Update::decode_v1(initial)?)?;
    }
    Ok(doc)
}

/// Characters in all the texts writers type into.
pub fn text_len(doc: &Doc, schema: Schema) -> u32 {
    // The texts first: for the root schema, finding one writes, which a read transaction held
    // meanwhile would block forever.
    let texts = texts(doc, schema);
    let txn = doc.transact();
    texts.iter().map(|t| t.len(&txn)).sum()
}
