//! A text as it reads now, for a revision or a comparison: every paragraph in reading order
//! with who wrote each run of its body.

use yrs::types::text::{ChangeKind, YChange};
use yrs::{IdSet, ReadTxn, Snapshot, StateVector, Text, TransactionMut};

use super::{TextParagraph, WrittenRun};
use crate::attribution::utf16_len;
use crate::schema;

/// Every paragraph of the document in reading order (tombstones included), with its body's
/// runs. Needs a write transaction because yrs's snapshot diff takes one; diffing the
/// current state against nothing splits no item, so nothing is written.
pub fn live_text(txn: &mut TransactionMut) -> Vec<TextParagraph> {
    let current = txn.snapshot();
    let nothing = Snapshot::new(StateVector::default(), IdSet::default());
    let paragraphs = schema::paragraphs(txn);
    paragraphs
        .into_iter()
        .map(|p| {
            let runs = match schema::body_text(txn, &p.id) {
                Some(body) => written_runs(txn, &body, &current, &nothing),
                None => Vec::new(),
            };
            TextParagraph {
                locked: p.is_locked(),
                id: p.id,
                label: p.label,
                kind: p.kind,
                parent: p.parent,
                status: p.status,
                body: p.body,
                runs,
                pending: p.pending,
            }
        })
        .collect()
}

/// Who wrote `text` (visible characters only), run by run in reading order.
pub fn text_runs(txn: &mut TransactionMut, text: &yrs::TextRef) -> Vec<WrittenRun> {
    let current = txn.snapshot();
    let nothing = Snapshot::new(StateVector::default(), IdSet::default());
    written_runs(txn, text, &current, &nothing)
}

fn written_runs(
    txn: &mut TransactionMut,
    body: &yrs::TextRef,
    current: &Snapshot,
    nothing: &Snapshot,
) -> Vec<WrittenRun> {
    let mut runs: Vec<WrittenRun> = Vec::new();
    for diff in body.diff_range(txn, Some(current), Some(nothing), YChange::identity) {
        let Some(change) = diff.ychange else { continue };
        if change.kind != ChangeKind::Added {
            continue;
        }
        let yrs::Out::Any(yrs::Any::String(text)) = diff.insert else {
            continue;
        };
        let len = utf16_len(&text);
        let client = change.id.client.get();
        let clock = change.id.clock;
        // yrs splits items; consecutive pieces of one client's typing are one run.
        match runs.last_mut() {
            Some(last) if last.client == client && last.clock + last.len == clock => {
                last.len += len
            }
            _ => runs.push(WrittenRun { len, client, clock }),
        }
    }
    runs
}
