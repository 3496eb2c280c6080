//! Who receives what a room sends: joined connections, lagging ones (their outbox overflowed;
//! they get the whole document again once they catch up) and refused ones (closing after a
//! refused update; nothing more of theirs is applied). The room never waits on a connection:
//! frames are `try_send`, and a full outbox lags its connection rather than skip it silently.

use std::collections::{HashMap, HashSet};

use bytes::Bytes;
use concord_protocol::message::encode_update_frame;
use concord_protocol::CloseCode;

use crate::peer::{ConnId, OutboxError, Peer};

#[derive(Default)]
pub(crate) struct Peers {
    /// Connections that receive broadcasts.
    joined: HashMap<ConnId, Peer>,
    /// Connections whose outbox overflowed, waiting to be resynced.
    lagging: HashMap<ConnId, Peer>,
    /// Connections whose update was refused: they are closing, and whatever they sent after
    /// the refused update may build on it.
    refused: HashSet<ConnId>,
    /// Observers who read published revisions only: nothing broadcast reaches them (it is
    /// live drafting); they are sent the published view alone, one connection at a time.
    readers: HashMap<ConnId, Peer>,
    /// Live connections told to close because they may no longer read the live text
    /// ([`Peers::close_role`]): nothing of the document reaches them any more, only what goes
    /// straight to the outbox (a command's answer). Their writer sends whatever is queued
    /// before the close frame, possibly long after the close was asked (a backed-up link),
    /// so they must leave the broadcast set at once, not when their `Leave` arrives.
    closing: HashMap<ConnId, Peer>,
}

impl Peers {
    pub fn join(&mut self, peer: Peer) {
        self.joined.insert(peer.id, peer);
    }

    /// An observer who reads published revisions only.
    pub fn join_reader(&mut self, peer: Peer) {
        self.readers.insert(peer.id, peer);
    }

    pub fn is_reader(&self, id: ConnId) -> bool {
        self.readers.contains_key(&id)
    }

    /// Closes every reader (a new revision was published, or observers now read otherwise):
    /// each reconnects to what it should read now.
    pub fn close_readers(&self, code: CloseCode, reason: &str) {
        for peer in self.readers.values() {
            peer.state.request_close(code, reason);
        }
    }

    /// Closes every live connection whose role is `role` (they are to read otherwise): from
    /// now on they receive no broadcast, sync reply or resync.
    pub fn close_role(&mut self, role: concord_protocol::Role, code: CloseCode, reason: &str) {
        let ids: Vec<ConnId> = self
            .joined
            .values()
            .chain(self.lagging.values())
            .filter(|peer| peer.who.role == role)
            .map(|peer| peer.id)
            .collect();
        for id in ids {
            let Some(peer) = self.joined.remove(&id).or_else(|| self.lagging.remove(&id)) else {
                continue;
            };
            peer.state.request_close(code, reason);
            self.closing.insert(id, peer);
        }
    }

    pub fn leave(&mut self, id: ConnId) {
        self.readers.remove(&id);
        self.closing.remove(&id);
        self.joined.remove(&id);
        self.lagging.remove(&id);
        self.refused.remove(&id);
    }

    /// A connection of the room: joined, lagging, a reader, or closing.
    pub fn get(&self, id: ConnId) -> Option<&Peer> {
        self.joined
            .get(&id)
            .or_else(|| self.lagging.get(&id))
            .or_else(|| self.readers.get(&id))
            .or_else(|| self.closing.get(&id))
    }

    /// How many connections a broadcast of updates goes to.
    pub fn recipients(&self) -> usize {
        self.joined.len()
    }

    pub fn is_empty(&self) -> bool {
        self.joined.is_empty()
            && self.lagging.is_empty()
            && self.readers.is_empty()
            && self.closing.is_empty()
    }

    pub fn refuse(&mut self, id: ConnId) {
        self.refused.insert(id);
    }

    pub fn is_refused(&self, id: ConnId) -> bool {
        self.refused.contains(&id)
    }

    /// A lagging connection caught up: it receives broadcasts again. False if it was not
    /// lagging.
    pub fn resync(&mut self, id: ConnId) -> bool {
        match self.lagging.remove(&id) {
            Some(peer) => {
                self.joined.insert(id, peer);
                true
            }
            None => false,
        }
    }

    /// One frame to one joined connection.
    pub fn send_to(&mut self, id: ConnId, frame: Bytes) {
        if let Some(peer) = self.joined.get(&id) {
            if let Err(OutboxError::Full) = peer.outbox.try_send(frame) {
                self.lag(id);
            }
        } else if let Some(reader) = self.readers.get(&id) {
            // A reader is sent whole states only: one that cannot take one reconnects.
            if let Err(OutboxError::Full) = reader.outbox.try_send(frame) {
                reader
                    .state
                    .request_close(CloseCode::GoingAway, "too far behind; reconnect");
            }
        }
    }

    /// A frame straight into a connection's outbox, lagging or not (a refusal, a command's
    /// answer: not document content a resync would bring back).
    pub fn send_directly(&self, id: ConnId, frame: Bytes) {
        if let Some(peer) = self.get(id) {
            let _ = peer.outbox.try_send(frame);
        }
    }

    /// One frame to every joined connection not in `except`. (A closed outbox belongs to a
    /// connection whose Leave is already queued.)
    pub fn broadcast_except(&mut self, frame: &Bytes, except: &[ConnId]) {
        let mut lagged = Vec::new();
        for (id, peer) in &self.joined {
            if except.contains(id) {
                continue;
            }
            if let Err(OutboxError::Full) = peer.outbox.try_send(frame.clone()) {
                lagged.push(*id);
            }
        }
        for id in lagged {
            self.lag(id);
        }
    }

    /// Accepted updates, in order: one goes out as it came; several as one merge, except that
    /// a sender gets the merge of the others' (an update is never echoed to its sender).
    pub fn broadcast_updates(&mut self, updates: &[(ConnId, Bytes)]) {
        match updates {
            [] => {}
            [(from, raw)] => {
                let frame: Bytes = encode_update_frame(raw).into();
                self.broadcast_except(&frame, &[*from]);
            }
            many => {
                let mut senders: Vec<ConnId> = many.iter().map(|(from, _)| *from).collect();
                senders.sort_unstable();
                senders.dedup();
                let everything: Vec<&[u8]> = many.iter().map(|(_, raw)| raw.as_ref()).collect();
                let Some(frame) = merged_frame(&everything) else {
                    // Merging failed (it should not, all were applied): send them one by one.
                    for (from, raw) in many {
                        let frame: Bytes = encode_update_frame(raw).into();
                        self.broadcast_except(&frame, &[*from]);
                    }
                    return;
                };
                self.broadcast_except(&frame, &senders);
                // The server (commands) is no connection: nothing to make for it.
                for sender in senders.into_iter().filter(|s| *s != super::SERVER) {
                    let others: Vec<&[u8]> = many
                        .iter()
                        .filter(|(from, _)| *from != sender)
                        .map(|(_, raw)| raw.as_ref())
                        .collect();
                    if let Some(frame) = merged_frame(&others) {
                        self.send_to(sender, frame);
                    }
                }
            }
        }
    }

    pub fn close(&self, id: ConnId, code: CloseCode, reason: impl Into<String>) {
        if let Some(peer) = self.get(id) {
            peer.state.request_close(code, reason);
        }
    }

    pub fn close_all(&self, code: CloseCode, reason: &str) {
        let everyone = self.joined.values().chain(self.lagging.values());
        let everyone = everyone.chain(self.closing.values());
        for peer in everyone.chain(self.readers.values()) {
            peer.state.request_close(code, reason);
        }
    }

    fn lag(&mut self, id: ConnId) {
        if let Some(peer) = self.joined.remove(&id) {
            tracing::debug!(peer = id, "outbox full; connection lagged");
            peer.state.mark_lagged();
            self.lagging.insert(id, peer);
        }
    }
}

/// One sync-update frame carrying the merge of `updates` (`None` when there are none).
fn merged_frame(updates: &[&[u8]]) -> Option<Bytes> {
    match updates {
        [] => None,
        [one] => Some(encode_update_frame(one).into()),
        many => yrs::merge_updates_v1(many)
            .ok()
            .map(|merged| encode_update_frame(&merged).into()),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use concord_protocol::{Message, Role};
    use yrs::updates::decoder::Decode;
    use yrs::{Doc, GetString, Text, Transact, Update};

    use super::*;

    fn peer(id: ConnId, outbox: usize) -> (Peer, tokio::sync::mpsc::Receiver<Bytes>) {
        let (tx, rx) = tokio::sync::mpsc::channel(outbox);
        let peer = Peer {
            id,
            outbox: crate::peer::Outbox::Queue(tx),
            state: Arc::default(),
            who: Arc::new(crate::auth::Identity {
                person: "chair".into(),
                mission: "UN".into(),
                role: Role::Facilitator,
                docs: crate::auth::DocAccess::parse("*"),
                expires_at: u64::MAX,
                issued_at: 0,
                token_id: "t".into(),
            }),
        };
        (peer, rx)
    }

    fn typed(client: u64, text: &str) -> Bytes {
        let doc = Doc::with_client_id(client);
        let t = doc.get_or_insert_text("t");
        let mut txn = doc.transact_mut();
        t.insert(&mut txn, 0, text);
        txn.encode_update_v1().into()
    }

    /// The text of every update frame received.
    fn texts(rx: &mut tokio::sync::mpsc::Receiver<Bytes>) -> Vec<String> {
        let mut out = Vec::new();
        while let Ok(frame) = rx.try_recv() {
            let Ok(messages) = Message::decode_frame(&frame) else {
                continue;
            };
            let Some(Message::Update(update)) = messages.into_iter().next() else {
                continue;
            };
            let doc = Doc::new();
            let t = doc.get_or_insert_text("t");
            doc.transact_mut()
                .apply_update(Update::decode_v1(update).expect("decodes"))
                .expect("applies");
            let mut chars: Vec<char> = t.get_string(&doc.transact()).chars().collect();
            chars.sort_unstable();
            out.push(chars.into_iter().collect());
        }
        out
    }

    #[test]
    fn updates_are_never_echoed_and_merged_for_everyone_else() {
        let mut peers = Peers::default();
        let (a, mut a_rx) = peer(1, 8);
        let (b, mut b_rx) = peer(2, 8);
        let (c, mut c_rx) = peer(3, 8);
        peers.join(a);
        peers.join(b);
        peers.join(c);
        peers.broadcast_updates(&[(1, typed(11, "a")), (2, typed(12, "b"))]);
        assert_eq!(texts(&mut a_rx), vec!["b"], "a gets only b's");
        assert_eq!(texts(&mut b_rx), vec!["a"], "b gets only a's");
        assert_eq!(texts(&mut c_rx), vec!["ab"], "c gets one merged frame");
    }

    #[test]
    fn a_full_outbox_lags_its_connection_until_it_is_resynced() {
        let mut peers = Peers::default();
        let (slow, mut slow_rx) = peer(1, 1);
        let state = Arc::clone(&slow.state);
        peers.join(slow);
        peers.broadcast_updates(&[(0, typed(11, "x"))]);
        peers.broadcast_updates(&[(0, typed(11, "y"))]);
        assert!(state.take_lagged(), "marked lagged, not skipped silently");
        // While lagging it receives nothing more, and it is still a connection of the room.
        peers.broadcast_updates(&[(0, typed(11, "z"))]);
        assert_eq!(texts(&mut slow_rx).len(), 1);
        assert!(peers.get(1).is_some());
        assert!(peers.resync(1));
        assert!(!peers.resync(1));
        peers.broadcast_updates(&[(0, typed(11, "w"))]);
        assert_eq!(texts(&mut slow_rx), vec!["w"]);
    }

    #[test]
    fn observers_told_to_close_get_nothing_more_of_the_document() {
        let mut peers = Peers::default();
        let (mut observer, mut observer_rx) = peer(1, 8);
        observer.who = Arc::new(crate::auth::Identity {
            role: Role::Observer,
            ..(*observer.who).clone()
        });
        let state = Arc::clone(&observer.state);
        let (chair, mut chair_rx) = peer(2, 8);
        peers.join(observer);
        peers.join(chair);
        peers.close_role(Role::Observer, CloseCode::ReadAgain, "read again");
        assert!(state.close_requested().is_some());
        // Typed after the close was asked, before the observer's writer sent it.
        peers.broadcast_updates(&[(0, typed(11, "x"))]);
        peers.send_to(1, encode_update_frame(&typed(11, "y")).into());
        assert!(
            texts(&mut observer_rx).is_empty(),
            "live text after the close"
        );
        assert_eq!(texts(&mut chair_rx), vec!["x"]);
        assert!(!peers.resync(1));
        // Still a connection of the room until it leaves: answers reach it.
        assert!(peers.get(1).is_some());
        peers.leave(1);
        peers.leave(2);
        assert!(peers.is_empty());
    }

    #[test]
    fn leaving_forgets_a_refused_connection() {
        let mut peers = Peers::default();
        let (a, _rx) = peer(1, 1);
        peers.join(a);
        peers.refuse(1);
        assert!(peers.is_refused(1));
        peers.leave(1);
        assert!(!peers.is_refused(1));
        assert!(peers.is_empty());
    }
}
