//! The document observers read when they follow published revisions only: a replica with the
//! same layout as the live document (so that the page, and a stock Yjs client, read it as any
//! document) holding the published revisions and nothing of the live drafting.
//!
//! It is one line of descent: the first revision written into an empty replica, then each
//! later one written over the one before (labels, statuses, locks, bodies by their changed
//! stretch, the reading order, the open amendments), all under one client id, always in the
//! same way. So the view after revision N is the view after N-1 plus an update, and rebuilt
//! after a restart it is the same replica, id for id: an observer's replica of an older view
//! (a stock client reconnecting with it) syncs to the new one instead of doubling it.

use std::collections::HashSet;

use yrs::{Any, Array, Doc, Map, Out, Transact, TransactionMut, WriteTxn};

use super::{Revision, TextParagraph};
use crate::schema::{self, keys, Amendment, Lock, NewAmendment, NewParagraph, ObserverView};

/// The client id every view is written under: within the 53 bits Yjs allows, far from the
/// random ids replicas draw.
pub const VIEW_CLIENT_ID: u64 = 0x0F00_0000_0000;

/// The view after every revision of `history` (oldest first), with `published` (their ids and
/// stored JSON) in its `revisions` map and the setting that says it is the published text.
pub fn published_view(history: &[Revision], published: &[(String, String)]) -> Doc {
    let options = yrs::Options {
        client_id: yrs::ClientID::new(VIEW_CLIENT_ID),
        ..schema::replica_options()
    };
    let doc = Doc::with_options(options);
    schema::set_observer_view(&mut doc.transact_mut(), ObserverView::Published);
    for revision in history {
        let mut txn = doc.transact_mut();
        write_revision(&mut txn, revision);
        if let Some((id, json)) = published.iter().find(|(id, _)| *id == revision.id) {
            let revisions = txn.get_or_insert_map(keys::REVISIONS);
            revisions.insert(&mut txn, id.as_str(), json.as_str());
        }
    }
    doc
}

/// The view before anything is published: no text, and the setting that says it is the
/// published text.
pub fn empty_published_view() -> Doc {
    published_view(&[], &[])
}

/// Whether `client` is the id views are written under: what a reader that kept its replica
/// (a stock Yjs client does not start afresh after 4001) sends back.
pub fn is_view_client_id(client: u64) -> bool {
    client == VIEW_CLIENT_ID
}

/// Writes `revision` over what the view holds.
fn write_revision(txn: &mut TransactionMut, revision: &Revision) {
    for (at, p) in revision.paragraphs.iter().enumerate() {
        write_paragraph(txn, at as u32, p, revision);
    }
    write_order(txn, &revision.paragraphs);
    write_amendments(txn, &revision.amendments, &revision.id);
}

fn write_paragraph(txn: &mut TransactionMut, at: u32, p: &TextParagraph, revision: &Revision) {
    let Some(current) = schema::paragraph(txn, &p.id) else {
        let new = NewParagraph {
            id: p.id.clone(),
            label: p.label.clone(),
            kind: p.kind,
            parent: p.parent.clone(),
            body: p.body.clone(),
        };
        // Ids are unique in a revision (they are a map's keys in the document).
        if schema::insert_paragraph(txn, at, &new).is_ok() {
            let _ = schema::set_status_pending(txn, &p.id, p.status, &p.pending);
            set_locked(txn, p, revision);
        }
        return;
    };
    if current.label != p.label {
        let _ = schema::set_label(txn, &p.id, &p.label);
    }
    if current.status != p.status || current.pending != p.pending {
        let _ = schema::set_status_pending(txn, &p.id, p.status, &p.pending);
    }
    if current.is_locked() != p.locked {
        set_locked(txn, p, revision);
    }
    if current.body != p.body {
        if let Some(body) = schema::body_text(txn, &p.id) {
            schema::rewrite_text(txn, &body, &p.body);
        }
    }
}

fn set_locked(txn: &mut TransactionMut, p: &TextParagraph, revision: &Revision) {
    let lock = p.locked.then(|| Lock {
        mission: String::new(),
        person: String::new(),
        at_ms: revision.published_at_ms,
        reason: format!("locked in {}", revision.name),
    });
    let _ = schema::set_lock(txn, &p.id, lock.as_ref());
}

/// The reading order, rewritten whole when it differs.
fn write_order(txn: &mut TransactionMut, paragraphs: &[TextParagraph]) {
    let order = txn.get_or_insert_array(keys::ORDER);
    let current: Vec<String> = order
        .iter(txn)
        .filter_map(|v| match v {
            Out::Any(Any::String(id)) => Some(id.to_string()),
            _ => None,
        })
        .collect();
    let wanted: Vec<&str> = paragraphs.iter().map(|p| p.id.as_str()).collect();
    if current
        .iter()
        .map(String::as_str)
        .eq(wanted.iter().copied())
    {
        return;
    }
    let len = order.len(txn);
    order.remove_range(txn, 0, len);
    for (at, id) in wanted.iter().enumerate() {
        order.insert(txn, at as u32, *id);
    }
}

/// The open amendments: new ones made, changed ones rewritten, closed ones taken away.
fn write_amendments(txn: &mut TransactionMut, open: &[Amendment], revision: &str) {
    let root = txn.get_or_insert_map(keys::AMENDMENTS);
    let keep: HashSet<&str> = open.iter().map(|a| a.id.as_str()).collect();
    let gone: Vec<String> = root
        .keys(txn)
        .filter(|id| !keep.contains(id))
        .map(String::from)
        .collect();
    for id in gone {
        root.remove(txn, &id);
    }
    for a in open {
        if schema::amendment(txn, &a.id).is_none() {
            let new = NewAmendment {
                id: a.id.clone(),
                paragraph: a.paragraph.clone(),
                new_after: a.new_after,
                author: a.author().unwrap_or_default().to_string(),
                on_behalf_of: a.on_behalf_of.clone(),
                rationale: a.rationale.clone(),
                base_revision: Some(revision.to_string()),
            };
            if schema::create_amendment(txn, &new).is_err() {
                continue;
            }
        }
        if let Some(text) = schema::amendment_text(txn, &a.id) {
            schema::rewrite_text(txn, &text, &a.text);
        }
        if let Some(rationale) = schema::amendment_rationale(txn, &a.id) {
            schema::rewrite_text(txn, &rationale, &a.rationale);
        }
        for (key, missions) in [
            (keys::SPONSORS, &a.sponsors),
            (keys::SUPPORTERS, &a.supporters),
            (keys::OPPOSERS, &a.opposers),
        ] {
            if let Some(list) = schema::amendment_list(txn, &a.id, key) {
                let current: Vec<String> = list
                    .iter(txn)
                    .filter_map(|v| match v {
                        Out::Any(Any::String(m)) => Some(m.to_string()),
                        _ => None,
                    })
                    .collect();
                if current != *missions {
                    let len = list.len(txn);
                    list.remove_range(txn, 0, len);
                    for (at, m) in missions.iter().enumerate() {
                        list.insert(txn, at as u32, m.as_str());
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::revision::{Publisher, WrittenRun};
    use crate::schema::{ParagraphKind, ParagraphStatus};
    use yrs::updates::decoder::Decode;
    use yrs::{ReadTxn, StateVector, Update};

    fn paragraph(id: &str, label: &str, body: &str) -> TextParagraph {
        TextParagraph {
            id: id.into(),
            label: label.into(),
            kind: ParagraphKind::Operative,
            parent: None,
            status: ParagraphStatus::Open,
            locked: false,
            body: body.into(),
            runs: Vec::<WrittenRun>::new(),
            pending: Vec::new(),
        }
    }

    fn revision(number: u32, paragraphs: Vec<TextParagraph>) -> Revision {
        Revision {
            id: format!("r{number}"),
            number,
            name: format!("Rev {number}"),
            previous: None,
            published_at_ms: u64::from(number),
            published_by: Publisher {
                mission: "UN".into(),
                person: "chair".into(),
            },
            cover_note: String::new(),
            paragraphs,
            amendments: Vec::new(),
            change_notes: Vec::new(),
            themes: Vec::new(),
        }
    }

    fn bodies(doc: &Doc) -> Vec<(String, String)> {
        schema::paragraphs(&doc.transact())
            .into_iter()
            .map(|p| (p.label, p.body))
            .collect()
    }

    #[test]
    fn a_view_descends_from_the_one_before_so_an_old_replica_syncs_to_it() {
        let rev1 = revision(
            1,
            vec![paragraph("p1", "1", "One."), paragraph("p2", "2", "Two.")],
        );
        let mut p1 = paragraph("p1", "2", "One, amended.");
        p1.status = ParagraphStatus::AgreedAdRef;
        let rev2 = revision(
            2,
            vec![
                paragraph("p3", "1", "New first."),
                p1,
                paragraph("p2", "3", "Two."),
            ],
        );
        let first = published_view(std::slice::from_ref(&rev1), &[]);
        let second = published_view(&[rev1.clone(), rev2.clone()], &[]);
        // An observer kept the first view and syncs with the second.
        let old = Doc::new();
        let state = |doc: &Doc, sv: &StateVector| doc.transact().encode_state_as_update_v1(sv);
        old.transact_mut()
            .apply_update(Update::decode_v1(&state(&first, &StateVector::default())).expect("v1"))
            .expect("applies");
        let missing = state(&second, &old.transact().state_vector());
        old.transact_mut()
            .apply_update(Update::decode_v1(&missing).expect("v1"))
            .expect("applies");
        let expected = vec![
            ("1".to_string(), "New first.".to_string()),
            ("2".to_string(), "One, amended.".to_string()),
            ("3".to_string(), "Two.".to_string()),
        ];
        assert_eq!(bodies(&old), expected, "once each, in the new order");
        assert_eq!(bodies(&second), expected);
        // Made again (a restart), it is the same replica.
        let again = published_view(&[rev1, rev2], &[]);
        assert_eq!(
            state(&again, &StateVector::default()),
            state(&second, &StateVector::default())
        );
    }
}
