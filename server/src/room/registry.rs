//! The registry of live rooms: at most one room per document in this process.
//!
//! Looking a document up and starting its room happen under one lock, so any number of
//! connections arriving at once for an unloaded document all reach the same replica (a peer
//! server was seen to load a document twice this way and lose updates). The new room loads the
//! document itself while its first visitors wait in its queue.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::{JoinError, Room, RoomConfig, RoomRequest};
use crate::peer::Peer;
use crate::storage::DocumentLog;

/// How many requests may wait in one room's queue before senders wait (backpressure that ends
/// at the writers' sockets).
const ROOM_QUEUE: usize = 4096;

#[derive(Clone)]
pub struct RoomHandle {
    requests: mpsc::Sender<RoomRequest>,
    generation: u64,
}

/// The room went away (unloaded or stopped) before it took the request.
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("the room is gone")]
pub struct RoomGone;

impl RoomHandle {
    pub async fn send(&self, request: RoomRequest) -> Result<(), RoomGone> {
        self.requests.send(request).await.map_err(|_| RoomGone)
    }

    /// Joins the room. `Ok(None)` means the room retired before taking the peer: look again.
    pub async fn join(&self, peer: Peer) -> Result<Option<()>, JoinError> {
        let (reply, answer) = oneshot::channel();
        if self.send(RoomRequest::Join { peer, reply }).await.is_err() {
            return Ok(None);
        }
        match answer.await {
            Ok(Ok(())) => Ok(Some(())),
            Ok(Err(err)) => Err(err),
            Err(_) => Ok(None),
        }
    }
}

pub struct Rooms {
    live: Mutex<HashMap<Arc<str>, RoomHandle>>,
    next_generation: AtomicU64,
    log: Arc<dyn DocumentLog>,
    config: RoomConfig,
    shutdown: CancellationToken,
    tasks: TaskTracker,
}

impl Rooms {
    pub fn new(
        log: Arc<dyn DocumentLog>,
        config: RoomConfig,
        shutdown: CancellationToken,
        tasks: TaskTracker,
    ) -> Arc<Self> {
        Arc::new(Rooms {
            live: Mutex::new(HashMap::new()),
            next_generation: AtomicU64::new(1),
            log,
            config,
            shutdown,
            tasks,
        })
    }

    /// The room of `doc`, started (and loading) if it was not live.
    pub fn get(self: &Arc<Self>, doc: &str) -> RoomHandle {
        // A poisoned lock only means another thread panicked while holding it; the map itself
        // is always left consistent (one insert or one remove), so keep using it.
        let mut live = self.live.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(handle) = live.get(doc) {
            return handle.clone();
        }
        let name: Arc<str> = doc.into();
        let generation = self.next_generation.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = mpsc::channel(ROOM_QUEUE);
        let handle = RoomHandle {
            requests: tx,
            generation,
        };
        live.insert(Arc::clone(&name), handle.clone());
        let room = Room::new(
            name,
            generation,
            Arc::clone(&self.log),
            self.config.clone(),
            Arc::downgrade(self),
        );
        self.tasks.spawn(room.run(rx, self.shutdown.clone()));
        handle
    }

    /// Another node owns `doc` now: its room here stops (new requests find no room, and are
    /// forwarded).
    pub fn relinquish(&self, doc: &str) {
        let handle = self
            .live
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(doc);
        if let Some(handle) = handle {
            // The room may be busy (its queue full): this waits for it, not the caller.
            tokio::spawn(async move {
                let _ = handle.send(RoomRequest::Relinquish).await;
            });
        }
    }

    /// Called by a room as it retires: forget it, unless a successor has already replaced it.
    pub(crate) fn retire(&self, doc: &str, generation: u64) {
        let mut live = self.live.lock().unwrap_or_else(|p| p.into_inner());
        if live.get(doc).is_some_and(|h| h.generation == generation) {
            live.remove(doc);
        }
    }

    /// How many documents are in memory.
    /// The storage every room logs to (REST reads of the audit go straight to it).
    pub fn log(&self) -> &Arc<dyn DocumentLog> {
        &self.log
    }

    /// Whether a room of `doc` is live here.
    pub fn is_live(&self, doc: &str) -> bool {
        self.live
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .contains_key(doc)
    }

    pub fn loaded(&self) -> usize {
        self.live.lock().unwrap_or_else(|p| p.into_inner()).len()
    }
}
