//! A room's end: what it issued becomes durable, what waited for it goes out, the registry
//! forgets it, and what is still queued is turned away to its successor.

use concord_protocol::CloseCode;
use tokio::sync::{mpsc, oneshot};

use super::{CommandReplyTo, JoinError, Room, RoomRequest};

impl Room {
    /// Leaves the registry only once everything the room issued is durable, so that a new room
    /// for the same document loads all of it.
    pub(super) async fn retire(
        mut self,
        mut requests: mpsc::Receiver<RoomRequest>,
        load_error: Option<JoinError>,
    ) {
        // Held broadcasts are durable: they leave now, while the connections are still open
        // (at shutdown they close as soon as their queue is sent).
        self.flush_broadcasts();
        if self.unsnapshotted > 0 && load_error.is_none() && !self.failed {
            self.snapshot();
        }
        let (tx, rx) = oneshot::channel();
        self.log.barrier(Box::new(move |result| {
            let _ = tx.send(result);
        }));
        if let Ok(Err(err)) = rx.await {
            tracing::error!(doc = %self.name, error = %err, "final flush failed");
        }
        // Everything issued is settled now: what waited for it goes out (answers to commands
        // included) before the room goes.
        if let Some(mut committed) = self.committed.take() {
            while let Ok(commit) = committed.try_recv() {
                self.on_commit(commit);
            }
            self.flush_broadcasts();
        }
        if let Some((count, p50, p99)) = self.commit_waits.summary() {
            tracing::info!(
                doc = %self.name,
                broadcasts = count,
                p50_us = p50.as_micros() as u64,
                p99_us = p99.as_micros() as u64,
                "broadcasts waited for their commit"
            );
        }
        if let Some(rooms) = self.rooms.upgrade() {
            rooms.retire(&self.name, self.generation);
        }
        self.log.release(&self.name);
        requests.close();
        if let Some(request) = self.stalled.take() {
            self.turn_away(request, load_error.as_ref());
        }
        while let Some(request) = requests.recv().await {
            self.turn_away(request, load_error.as_ref());
        }
        // Connections still attached (shutdown, failure) are told to go.
        self.peers
            .close_all(CloseCode::GoingAway, "document closed");
    }

    /// Answers a request the retiring room will not handle: a failed load's error, or a sign
    /// to look the room up again (its successor handles it).
    pub(super) fn turn_away(&mut self, request: RoomRequest, load_error: Option<&JoinError>) {
        match request {
            RoomRequest::Join { reply, .. } => {
                if let Some(err) = load_error {
                    let _ = reply.send(Err(err.clone()));
                }
                // Otherwise the dropped reply tells the connection to look the room up
                // again: it will find (or start) the room's successor.
            }
            RoomRequest::Update { peer, .. } => {
                self.peers
                    .close(peer, CloseCode::GoingAway, "document unloaded");
            }
            RoomRequest::Read { reply, .. } => {
                if let Some(err) = load_error {
                    let _ = reply.send(Err(err.clone()));
                }
            }
            // A REST caller seeing its reply dropped looks the room up again; a socket is
            // told to reconnect (to the room's successor) and send it again.
            RoomRequest::Command {
                reply: CommandReplyTo::Socket { peer, .. },
                ..
            } => self
                .peers
                .close(peer, CloseCode::GoingAway, "document unloaded"),
            _ => {}
        }
    }
}
