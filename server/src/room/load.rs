//! Loading a document into its room: the stored snapshot and log are integrated on a blocking
//! thread while the room already admits connections and answers new clients from the stored
//! bytes (they are durable); everything else waits, in order, for the integrated replica.

use concord_protocol::Message;
use tokio::sync::mpsc;

use super::{JoinError, Room, RoomRequest};

/// Requests a loading room keeps for later at most; past that it stops reading its queue (and
/// connections stop reading their sockets) until the replica is integrated.
const MAX_DEFERRED: usize = 4096;
use crate::document::DocumentCore;
use crate::storage::StoredDocument;

impl Room {
    /// Loads the document. Integrating a long-lived document into yrs is the slow part of a
    /// load, so it runs on a blocking thread while the room already serves what the stored
    /// bytes can answer: connections join, and a new client (empty state vector) gets the
    /// stored state at once. Everything else waits, in order, for the integrated replica.
    pub(super) async fn load(
        &mut self,
        requests: &mut mpsc::Receiver<RoomRequest>,
    ) -> Result<(), String> {
        let started = std::time::Instant::now();
        let stored = self.log.load(&self.name).await.map_err(|e| e.to_string())?;
        let read = started.elapsed();
        let logged = stored.updates.len();
        let stored_state = stored_full_state(&stored);
        let mut integrating = tokio::task::spawn_blocking(move || DocumentCore::load(&stored));

        let mut joined_early = Vec::new();
        let mut deferred = Vec::new();
        let loaded: Result<DocumentCore, String> = loop {
            tokio::select! {
                integrated = &mut integrating => {
                    break integrated.map_err(|e| e.to_string()).and_then(|core| core);
                }
                request = requests.recv(), if deferred.len() < MAX_DEFERRED => match request {
                    // Observers wait for the load: whether they may read the live text at all
                    // is the document's setting.
                    Some(RoomRequest::Join { peer, reply })
                        if peer.who.role != concord_protocol::Role::Observer =>
                    {
                        joined_early.push(peer.id);
                        self.peers.join(peer);
                        let _ = reply.send(Ok(()));
                    }
                    Some(RoomRequest::SyncStep1 { peer, state_vector })
                        if state_vector.is_empty() && stored_state.is_some() =>
                    {
                        if let Some(state) = &stored_state {
                            self.peers.send_to(peer, Message::SyncStep2(state).encode().into());
                        }
                    }
                    Some(other) => deferred.push(other),
                    None => {
                        break integrating
                            .await
                            .map_err(|e| e.to_string())
                            .and_then(|core| core)
                    }
                },
            }
        };
        let core = match loaded {
            Ok(core) => core,
            Err(err) => {
                // What waited is told why, rather than left to time out.
                let failed = JoinError::LoadFailed(err.clone());
                for request in deferred {
                    self.turn_away(request, Some(&failed));
                }
                return Err(err);
            }
        };
        self.core = core;
        self.observers_durable =
            concord_protocol::schema::observer_view(&yrs::Transact::transact(self.core.doc()));
        self.unsnapshotted = logged as u64;
        // A long log left by an earlier life is compacted now, so the next load is fast.
        if self.unsnapshotted >= self.config.snapshot_every {
            self.snapshot();
        }
        // The count a shared backend keeps of open procedures is set from the document
        // itself (it may predate the count, or have been moved by a write that was refused).
        let open = self.watch_silences();
        self.log.open_silences(&self.name, open);
        for peer in joined_early {
            self.greet(peer);
            // Recorded without a storage credit: at most once per mission that joined while
            // the document loaded.
            if let Some(who) = self.peers.get(peer).map(|p| std::sync::Arc::clone(&p.who)) {
                self.record_mission(&who);
            }
        }
        for request in deferred {
            self.handle(request);
        }
        self.flush_broadcasts();
        tracing::debug!(
            doc = %self.name,
            logged,
            read_ms = read.as_secs_f64() * 1e3,
            total_ms = started.elapsed().as_secs_f64() * 1e3,
            "document loaded"
        );
        Ok(())
    }
}

/// The whole stored document as one update, without integrating it: the snapshot when
/// nothing was logged after it, else the merge of snapshot and log.
pub(super) fn stored_full_state(stored: &StoredDocument) -> Option<Vec<u8>> {
    match (&stored.snapshot, stored.updates.as_slice()) {
        (None, []) => None,
        (Some(snapshot), []) => Some(snapshot.clone()),
        (None, [only]) => Some(only.clone()),
        (snapshot, updates) => {
            yrs::merge_updates_v1(snapshot.iter().chain(updates.iter()).map(Vec::as_slice)).ok()
        }
    }
}
