//! The writer half of a connection: sends queued frames in batches, coalesced acks and pings,
//! and ends with the close frame, after whatever was queued before the close.

use std::future::Future;
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message as WsMessage, WebSocket};
use bytes::Bytes;
use concord_protocol::{CloseCode, Message};
use futures_util::stream::SplitSink;
use futures_util::SinkExt;
use tokio::sync::mpsc;

use crate::peer::{ConnId, PeerState};
use crate::room::registry::RoomHandle;
use crate::room::RoomRequest;

/// Frames the writer sends before one flush.
const WRITE_BATCH: usize = 64;

/// Sends queued frames, coalesced acks and pings; ends with the close frame.
pub(super) async fn write_loop(
    mut sink: SplitSink<WebSocket, WsMessage>,
    mut outbox: mpsc::Receiver<Bytes>,
    state: Arc<PeerState>,
    room: Option<(ConnId, RoomHandle)>,
    ping_interval: Duration,
    write_timeout: Duration,
) {
    let mut ping = ping_timer(ping_interval);
    let mut acked_sent = 0u64;
    loop {
        let result = tokio::select! {
            biased;
            () = state.woken() => {
                if let Some((code, reason)) = state.close_requested() {
                    // What was queued before the close (a rejection, say) goes out first.
                    let close = async {
                        while let Ok(frame) = outbox.try_recv() {
                            sink.feed(WsMessage::Binary(frame)).await?;
                        }
                        sink.send(WsMessage::Close(Some(CloseFrame {
                            code: code.code(),
                            reason: truncate_reason(&reason).into(),
                        })))
                        .await
                    };
                    let _ = tokio::time::timeout(write_timeout, close).await;
                    return;
                }
                if state.take_lagged() {
                    // The room stopped sending to us; what is queued is superseded by the whole
                    // document the room sends once asked.
                    while outbox.try_recv().is_ok() {}
                    if !ask_resync(room.as_ref(), &state).await {
                        continue;
                    }
                }
                match ack_due(&state, acked_sent) {
                    Some((acked, ack)) => {
                        acked_sent = acked;
                        send(&mut sink, write_timeout, ack).await
                    }
                    None => Ok(()),
                }
            }
            frame = outbox.recv() => match frame {
                Some(frame) => send_batch(&mut sink, &mut outbox, write_timeout, frame).await,
                None => return,
            },
            _ = ping.tick() => within(write_timeout, sink.send(WsMessage::Ping(Bytes::new()))).await,
        };
        if result.is_err() {
            // The socket is gone or stalled past the write timeout: abandon it.
            state.request_close(CloseCode::GoingAway, "write failed");
            return;
        }
    }
}

/// The connection's ping timer: the first ping one interval after it starts.
pub(super) fn ping_timer(every: Duration) -> tokio::time::Interval {
    tokio::time::interval_at(tokio::time::Instant::now() + every, every)
}

/// The coalesced `Ack` to send, when more updates are durable than the last one said: the
/// count and its frame's payload. Acks are Concord's: a stock Yjs client would not know them.
pub(super) fn ack_due(state: &PeerState, sent: u64) -> Option<(u64, Bytes)> {
    let acked = state.acked();
    (acked > sent && state.speaks_concord()).then(|| (acked, Message::Ack(acked).encode().into()))
}

/// Asks the room for the whole document again (the connection lagged). False when the room
/// is gone: the connection is then closing.
pub(super) async fn ask_resync(room: Option<&(ConnId, RoomHandle)>, state: &PeerState) -> bool {
    let Some((peer, room)) = room else {
        return true;
    };
    if room
        .send(RoomRequest::Resync { peer: *peer })
        .await
        .is_err()
    {
        state.request_close(CloseCode::GoingAway, "document unloaded");
        return false;
    }
    true
}

async fn send(
    sink: &mut SplitSink<WebSocket, WsMessage>,
    timeout: Duration,
    frame: Bytes,
) -> Result<(), ()> {
    within(timeout, sink.send(WsMessage::Binary(frame))).await
}

/// Runs a socket write, giving up after `limit`. The timer is armed only when the write does
/// not complete at once: on the hot path (a socket with room in its buffer) a delivery costs
/// no timer registration.
async fn within<E>(limit: Duration, write: impl Future<Output = Result<(), E>>) -> Result<(), ()> {
    let mut write = std::pin::pin!(write);
    let first = std::future::poll_fn(|cx| Poll::Ready(write.as_mut().poll(cx))).await;
    let result = match first {
        Poll::Ready(result) => result,
        Poll::Pending => match tokio::time::timeout(limit, write).await {
            Ok(result) => result,
            Err(_) => return Err(()),
        },
    };
    result.map_err(|_| ())
}

/// Feeds the frame and whatever else is already queued, then flushes once: many small frames
/// cost one write system call instead of one each.
async fn send_batch(
    sink: &mut SplitSink<WebSocket, WsMessage>,
    outbox: &mut mpsc::Receiver<Bytes>,
    timeout: Duration,
    first: Bytes,
) -> Result<(), ()> {
    let batch = async {
        sink.feed(WsMessage::Binary(first)).await?;
        for _ in 1..WRITE_BATCH {
            match outbox.try_recv() {
                Ok(frame) => sink.feed(WsMessage::Binary(frame)).await?,
                Err(_) => break,
            }
        }
        sink.flush().await
    };
    within(timeout, batch).await
}

/// Close reasons are limited to 123 bytes by RFC 6455.
pub(super) fn truncate_reason(reason: &str) -> String {
    let mut end = reason.len().min(123);
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    reason[..end].to_string()
}
