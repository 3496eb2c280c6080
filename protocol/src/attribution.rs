//! Who wrote what in a text: its runs of characters with the client id that inserted them.
//!
//! A client id belongs to one mission (claimed on first use, see [`crate::policy`]), so these
//! runs, mapped through the ownership table, say which mission wrote every word of a paragraph.
//! Deleted runs are kept too (replicas never garbage-collect), so that the audit's record of
//! who deleted which ids can be shown as text.
//!
//! yrs keeps its item list private; its snapshot diff is the public route to it. Diffing the
//! current state against an empty snapshot marks every visible item as added, one chunk per
//! item with the item's id; against a snapshot without deletions, every deleted item as removed.

use yrs::types::text::{ChangeKind, YChange};
use yrs::{Any, Doc, IdSet, Out, ReadTxn, Snapshot, StateVector, Text, TextRef, Transact};

/// A stretch of text inserted by one client, in reading order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Run {
    pub text: String,
    /// The client id that inserted it, and the clock of its first character.
    pub client: u64,
    pub clock: u32,
}

/// A text's visible runs, and its deleted ones (both in the order they stand or stood).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TextRuns {
    pub visible: Vec<Run>,
    pub deleted: Vec<Run>,
}

/// The runs of the text `find` picks in `doc`. `doc` is a scratch replica: the snapshot diff
/// needs a write transaction (it may split items at snapshot boundaries).
pub fn text_runs(
    doc: &Doc,
    find: impl Fn(&yrs::TransactionMut) -> Option<TextRef>,
) -> Option<TextRuns> {
    let mut txn = doc.transact_mut();
    let text = find(&txn)?;
    let current = txn.snapshot();
    let nothing = Snapshot::new(StateVector::default(), IdSet::default());
    let undeleted = Snapshot::new(current.state_map.clone(), IdSet::default());
    let visible = text.diff_range(&mut txn, Some(&current), Some(&nothing), YChange::identity);
    let all = text.diff_range(
        &mut txn,
        Some(&current),
        Some(&undeleted),
        YChange::identity,
    );
    let runs = |diffs: Vec<yrs::types::text::Diff<YChange>>, kind: ChangeKind| {
        let mut out: Vec<Run> = Vec::new();
        for diff in diffs {
            let Some(change) = diff.ychange else { continue };
            if change.kind != kind {
                continue;
            }
            let text = match diff.insert {
                Out::Any(Any::String(s)) => s.to_string(),
                _ => continue,
            };
            let client = change.id.client.get();
            let clock = change.id.clock;
            // yrs splits items; consecutive pieces of one client's typing read as one run.
            match out.last_mut() {
                Some(last)
                    if last.client == client && last.clock + utf16_len(&last.text) == clock =>
                {
                    last.text.push_str(&text);
                }
                _ => out.push(Run {
                    text,
                    client,
                    clock,
                }),
            }
        }
        out
    };
    Some(TextRuns {
        visible: runs(visible, ChangeKind::Added),
        deleted: runs(all, ChangeKind::Removed),
    })
}

/// The length of a string in UTF-16 code units, as Yjs clocks count text.
pub fn utf16_len(s: &str) -> u32 {
    s.encode_utf16().count() as u32
}

/// `text` split after `units` UTF-16 code units (never inside a character: a pair stays
/// whole, on the right).
pub fn split_utf16(text: &str, units: u32) -> (&str, &str) {
    let mut counted = 0u32;
    for (at, ch) in text.char_indices() {
        if counted >= units {
            return text.split_at(at);
        }
        counted += ch.len_utf16() as u32;
    }
    (text, "")
}

#[cfg(test)]
mod tests {
    use super::*;
    use yrs::{GetString, Text};

    #[test]
    fn runs_follow_who_typed_each_stretch_and_keep_deletions() {
        // Replicas keep deleted items (no garbage collection), as Concord's do.
        let replica = |client: u64| {
            Doc::with_options(yrs::Options {
                client_id: yrs::block::ClientID::new(client),
                skip_gc: true,
                ..yrs::Options::default()
            })
        };
        let ana = replica(7);
        let ben = replica(9);
        let text = ana.get_or_insert_text("t");
        text.insert(&mut ana.transact_mut(), 0, "Reaffirming commitments");
        let state = ana
            .transact()
            .encode_state_as_update_v1(&StateVector::default());
        ben.transact_mut()
            .apply_update(yrs::Update::decode_v1(&state).expect("decodes"))
            .expect("applies");
        let bens = ben.get_or_insert_text("t");
        {
            let mut txn = ben.transact_mut();
            bens.insert(&mut txn, 11, " our");
            bens.remove_range(&mut txn, 0, 2);
        }
        assert_eq!(
            bens.get_string(&ben.transact()),
            "affirming our commitments"
        );
        let runs = text_runs(&ben, |txn| txn.get_text("t")).expect("text exists");
        let visible: Vec<(&str, u64)> = runs
            .visible
            .iter()
            .map(|r| (r.text.as_str(), r.client))
            .collect();
        assert_eq!(
            visible,
            vec![("affirming", 7), (" our", 9), (" commitments", 7)]
        );
        assert_eq!(
            runs.deleted,
            vec![Run {
                text: "Re".into(),
                client: 7,
                clock: 0
            }]
        );
    }

    use yrs::updates::decoder::Decode;
}
