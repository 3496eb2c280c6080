//! Observers who read published revisions only (`set-observers published`): they are sent a
//! replica made from the published revisions ([`published_view`], one line of descent) and nothing of the
//! live drafting: no broadcast, no presence, no live state over REST. When a revision is
//! published (once it is durable), or the setting changes, they are closed with `4001` and
//! reconnect to what they should read now.

use std::collections::HashSet;

use bytes::Bytes;
use concord_protocol::message::Message;
use concord_protocol::policy::{self, Actor};
use concord_protocol::revision::{
    empty_published_view, is_view_client_id, published_view, Revision,
};
use concord_protocol::schema::{self, ObserverView};
use concord_protocol::update::{scan_update_v1, Block};
use concord_protocol::{CloseCode, Role};
use yrs::{Doc, ReadTxn, StateVector, Transact};

use super::durable::Gated;
use super::Room;
use crate::auth::Identity;
use crate::peer::ConnId;

/// The replica readers are served, for the revision it was made from (`None`: nothing
/// published yet, an empty text).
pub(super) struct PublishedView {
    revision: Option<String>,
    doc: Doc,
    /// The client ids that wrote the published texts: whose owners a reader may learn (to
    /// credit the words it reads), and no other (that would tell who is typing live).
    writers: HashSet<u64>,
}

impl PublishedView {
    /// The view of the latest revision `live` holds, made again only when that changed.
    fn of<'a>(cached: &'a mut Option<PublishedView>, live: &Doc) -> &'a PublishedView {
        let txn = live.transact();
        let published = schema::revision_ids(&txn);
        let latest = published.last().map(|(id, _)| id.clone());
        let stale = cached.as_ref().is_none_or(|view| view.revision != latest);
        if stale {
            // Every revision, oldest first: the view is their line of descent.
            let history: Vec<Revision> = published
                .iter()
                .filter_map(|(_, json)| serde_json::from_str(json).ok())
                .collect();
            let doc = published_view(&history, &published);
            let writers = history
                .iter()
                .flat_map(|r| &r.paragraphs)
                .flat_map(|p| &p.runs)
                .map(|run| run.client)
                .collect();
            *cached = Some(PublishedView {
                revision: latest,
                doc,
                writers,
            });
        }
        cached.get_or_insert_with(|| PublishedView {
            revision: None,
            doc: empty_published_view(),
            writers: HashSet::new(),
        })
    }
}

impl Room {
    /// Whether `who` reads published revisions only in this document now: an observer, when
    /// the replica says so (a switch to published applies at once) or the last durable
    /// setting does (a switch to live applies once durable: readers are then renewed).
    pub(super) fn reads_published(&self, who: &Identity) -> bool {
        who.role == Role::Observer
            && (schema::observer_view(&self.core.doc().transact()) == ObserverView::Published
                || self.observers_durable == ObserverView::Published)
    }

    /// The published view's full state, and the owners of the client ids that wrote it, for
    /// a REST read.
    pub(super) fn published_read(&mut self) -> (Vec<u8>, Vec<(u64, String)>) {
        let view = PublishedView::of(&mut self.published_view, self.core.doc());
        let state = view
            .doc
            .transact()
            .encode_state_as_update_v1(&StateVector::default());
        let owners = self
            .core
            .owners()
            .into_iter()
            .filter(|(client, _)| view.writers.contains(client))
            .collect();
        (state, owners)
    }

    /// A reader joined: the view's state vector, so it asks for what it lacks; sent once
    /// everything issued is durable, like the view itself (the view may hold a revision whose
    /// publication is being written, and its state vector names that revision's view and
    /// length: were the write to fail, the reader would have learnt of a revision that never
    /// was).
    pub(super) fn greet_reader(&mut self, peer: ConnId) {
        let state_vector = PublishedView::of(&mut self.published_view, self.core.doc())
            .doc
            .transact()
            .state_vector();
        let frame: Bytes = Message::SyncStep1(state_vector).encode().into();
        self.after_durable(Gated::Send { peer, frame });
    }

    /// What a reader with `state_vector` lacks of the view: sent once everything issued is
    /// durable (the view may hold a revision whose publication is being written).
    pub(super) fn sync_reader(&mut self, peer: ConnId, state_vector: &StateVector) {
        let diff = PublishedView::of(&mut self.published_view, self.core.doc())
            .doc
            .transact()
            .encode_state_as_update_v1(state_vector);
        let frame: Bytes = Message::SyncStep2(&diff).encode().into();
        self.after_durable(Gated::Send { peer, frame });
    }

    /// An update from a reader: one that holds nothing the reader wrote is acknowledged (a
    /// stock client's empty answer to the sync, or the replica it kept: stock Yjs clients do
    /// not start afresh after 4001, and send back the views they were served and the live text
    /// they read before observers were switched to published); anything else is an observer
    /// writing, refused as the policy refuses it.
    pub(super) fn reader_update(&mut self, peer: ConnId, seq: u64, raw: &[u8]) {
        let mission = self
            .peers
            .get(peer)
            .map(|p| p.who.mission.clone())
            .unwrap_or_default();
        if self.only_what_readers_were_served(raw, &mission) {
            if let Some(reader) = self.peers.get(peer) {
                reader.state.ack(seq);
            }
            return;
        }
        let refusal = concord_protocol::policy::Refusal::observer_read_only();
        self.refuse(peer, &refusal, &mission);
    }

    /// Whether `raw` holds only items and deletions of the published views (any revision's,
    /// by their view client ids) and what the live document already has.
    fn only_what_readers_were_served(&self, raw: &[u8], mission: &str) -> bool {
        let Ok(mut scanned) = scan_update_v1(raw) else {
            return false;
        };
        let served = is_view_client_id;
        scanned.blocks.retain(|block| {
            let id = match block {
                Block::Item(item) => item.id,
                Block::Gc { id, .. } | Block::Skip { id, .. } => *id,
            };
            !served(id.client)
        });
        scanned.deletions.retain(|d| !served(d.client));
        if scanned.is_empty() {
            return true;
        }
        // What is left must be nothing new to the live document: the policy drops what it
        // has, and refuses an observer anything else.
        let actor = Actor {
            role: Role::Observer,
            mission,
        };
        policy::check(&scanned, self.core.policy(), actor).is_ok()
    }

    /// After a publication or a change of what observers read is durable: readers, and live
    /// observers who must now read the published text, reconnect.
    pub(super) fn renew_readers(&mut self) {
        self.published_view = None;
        self.peers
            .close_readers(CloseCode::ReadAgain, "a new revision was published");
        let view = schema::observer_view(&self.core.doc().transact());
        if view == ObserverView::Published {
            self.peers.close_role(
                Role::Observer,
                CloseCode::ReadAgain,
                "observers now read the published revisions",
            );
        }
    }
}

/// Whether a command changes what readers read.
pub(super) fn renews_readers(command: &concord_protocol::command::Command) -> bool {
    use concord_protocol::command::Command;
    matches!(
        command,
        Command::PublishRevision { .. } | Command::SetObservers { .. }
    )
}
