//! The document observers read when they follow published revisions only: a replica made
//! from the latest revision alone, with the same layout as the live document, so that the
//! page (and a stock Yjs client) reads it as it reads any document, and nothing of the live
//! drafting is in it.

use yrs::{Doc, Map, Text, Transact, WriteTxn};

use super::Revision;
use crate::schema::{self, keys, Lock, NewAmendment, NewParagraph, ObserverView};

/// The client id the view of revision `number` is written under: a different one for every
/// revision, so that no two views share an id with different content.
pub fn view_client_id(number: u32) -> u64 {
    // Within the 53 bits Yjs allows, far from the random ids replicas draw.
    0x0F00_0000_0000 + u64::from(number)
}

/// The view before anything is published: no text, the setting that says it is the published
/// text, under the view id of "revision 0" (a fixed id, so that a reader that kept it and sends
/// it back is recognised, see [`is_view_client_id`]).
pub fn empty_published_view() -> Doc {
    let options = yrs::Options {
        client_id: yrs::ClientID::new(view_client_id(0)),
        ..schema::replica_options()
    };
    let doc = Doc::with_options(options);
    schema::set_observer_view(&mut doc.transact_mut(), ObserverView::Published);
    doc
}

/// Whether `client` is the id of a view of revision 0 (nothing published) to `latest`: what
/// the server wrote its readers' replicas under. A reader that reconnects with the replica it
/// kept (a stock Yjs client does not start afresh after 4001) sends those back.
pub fn is_view_client_id(client: u64, latest: u32) -> bool {
    (view_client_id(0)..=view_client_id(latest)).contains(&client)
}

/// A replica holding `latest` (every paragraph, the amendments open when it was published),
/// the list of every published revision (`published`: ids with their stored JSON), and the
/// setting that says it is the published text.
pub fn published_view(latest: &Revision, published: &[(String, String)]) -> Doc {
    let options = yrs::Options {
        client_id: yrs::ClientID::new(view_client_id(latest.number)),
        ..schema::replica_options()
    };
    let doc = Doc::with_options(options);
    {
        let mut txn = doc.transact_mut();
        for (at, p) in latest.paragraphs.iter().enumerate() {
            let new = NewParagraph {
                id: p.id.clone(),
                label: p.label.clone(),
                kind: p.kind,
                parent: p.parent.clone(),
                body: p.body.clone(),
            };
            // Ids are unique in a revision (they are a map's keys in the document).
            if schema::insert_paragraph(&mut txn, at as u32, &new).is_err() {
                continue;
            }
            let _ = schema::set_status(&mut txn, &p.id, p.status);
            if p.locked {
                let lock = Lock {
                    mission: String::new(),
                    person: String::new(),
                    at_ms: latest.published_at_ms,
                    reason: format!("locked in {}", latest.name),
                };
                let _ = schema::set_lock(&mut txn, &p.id, Some(&lock));
            }
        }
        for a in &latest.amendments {
            let new = NewAmendment {
                id: a.id.clone(),
                paragraph: a.paragraph.clone(),
                new_after: a.new_after,
                author: a.author().unwrap_or_default().to_string(),
                on_behalf_of: a.on_behalf_of.clone(),
                rationale: a.rationale.clone(),
                base_revision: Some(latest.id.clone()),
            };
            if schema::create_amendment(&mut txn, &new).is_err() {
                continue;
            }
            if let Some(text) = schema::amendment_text(&txn, &a.id) {
                let len = text.len(&txn);
                text.remove_range(&mut txn, 0, len);
                text.insert(&mut txn, 0, &a.text);
            }
            if let Some(sponsors) = schema::amendment_list(&txn, &a.id, keys::SPONSORS) {
                for co in a.sponsors.iter().skip(1) {
                    yrs::Array::push_back(&sponsors, &mut txn, co.as_str());
                }
            }
            for (key, missions) in [
                (keys::SUPPORTERS, &a.supporters),
                (keys::OPPOSERS, &a.opposers),
            ] {
                if let Some(list) = schema::amendment_list(&txn, &a.id, key) {
                    for m in missions {
                        yrs::Array::push_back(&list, &mut txn, m.as_str());
                    }
                }
            }
        }
        let revisions = txn.get_or_insert_map(keys::REVISIONS);
        for (id, json) in published {
            revisions.insert(&mut txn, id.as_str(), json.as_str());
        }
        schema::set_observer_view(&mut txn, ObserverView::Published);
    }
    doc
}
