//! A connection served on its own TCP socket (`socket.rs`): tungstenite reads and parses what
//! the client sends through [`SocketIo`]; what is written goes through the socket's queue, by
//! the room directly and by the writer task here (the backlog, coalesced acks, pings, the
//! close frame).

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};
use std::time::Duration;

use bytes::{Buf, Bytes};
use concord_protocol::CloseCode;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use super::socket::{Socket, OP_BINARY, OP_PING};
use super::writer::{ack_due, ask_resync, ping_timer, truncate_reason};
use crate::peer::{ConnId, PeerState};
use crate::room::registry::RoomHandle;

/// The socket as tungstenite sees it: reads come from the TCP socket (after what the HTTP
/// layer had read past the handshake); writes (tungstenite's answers to pings and to the
/// client's close, whole frames) join the socket's queue like any other frame.
pub(super) struct SocketIo {
    socket: Arc<Socket>,
    read_ahead: Bytes,
}

impl SocketIo {
    pub(super) fn new(socket: Arc<Socket>, read_ahead: Bytes) -> Self {
        // A copy: the bytes are a slice of the HTTP layer's read buffer, which they would
        // otherwise keep alive for as long as the connection lasts.
        SocketIo {
            socket,
            read_ahead: Bytes::copy_from_slice(&read_ahead),
        }
    }
}

impl AsyncRead for SocketIo {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if !this.read_ahead.is_empty() {
            let n = this.read_ahead.len().min(buf.remaining());
            buf.put_slice(&this.read_ahead[..n]);
            this.read_ahead.advance(n);
            if this.read_ahead.is_empty() {
                this.read_ahead = Bytes::new();
            }
            return Poll::Ready(Ok(()));
        }
        loop {
            ready!(this.socket.tcp().poll_read_ready(cx))?;
            match this.socket.tcp().try_read(buf.initialize_unfilled()) {
                Ok(n) => {
                    buf.advance(n);
                    return Poll::Ready(Ok(()));
                }
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => continue,
                Err(err) => return Poll::Ready(Err(err)),
            }
        }
    }
}

impl AsyncWrite for SocketIo {
    fn poll_write(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        // Whole frames. After a close frame nothing more is taken (tungstenite's answer to the
        // client's close, when ours went first, is dropped); a pong for a client that does not
        // read is dropped once its queue is full.
        let _ = self.socket.send_raw(Bytes::copy_from_slice(buf));
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

/// Writes what the socket could not take at once, the coalesced acks and pings; ends with the
/// close frame, after whatever was queued before it.
pub(super) async fn write_loop(
    socket: Arc<Socket>,
    state: Arc<PeerState>,
    room: Option<(ConnId, RoomHandle)>,
    ping_interval: Duration,
    write_timeout: Duration,
) {
    let mut ping = ping_timer(ping_interval);
    let mut acked_sent = 0u64;
    loop {
        if socket.is_closed() {
            // The close frame is queued (or the socket failed): what waits before it goes out
            // within one write timeout, however slowly the client reads.
            let _ = tokio::time::timeout(write_timeout, drain(&socket, write_timeout)).await;
            return;
        }
        if drain(&socket, write_timeout).await.is_err() {
            // The socket is gone or stalled past the write timeout: abandon it.
            state.request_close(CloseCode::GoingAway, "write failed");
            return;
        }
        tokio::select! {
            biased;
            () = state.woken() => {
                if let Some((code, reason)) = state.close_requested() {
                    // After what was queued before it (a rejection, say).
                    socket.close(code.code(), &truncate_reason(&reason));
                    continue;
                }
                // The room stopped sending to us and sends the whole document once asked (what
                // was queued before still goes out: nothing of it is wrong, only late).
                if state.take_lagged() && !ask_resync(room.as_ref(), &state).await {
                    continue;
                }
                if let Some((acked, ack)) = ack_due(&state, acked_sent) {
                    if socket.send_control(OP_BINARY, ack).is_ok() {
                        acked_sent = acked;
                    }
                }
            }
            () = socket.queued() => {}
            _ = ping.tick() => {
                let _ = socket.send_control(OP_PING, Bytes::new());
            }
        }
    }
}

/// Writes everything queued, waiting for the socket to drain, at most `limit` each time it is
/// full.
async fn drain(socket: &Socket, limit: Duration) -> Result<(), ()> {
    loop {
        match socket.write_queued() {
            Ok(true) => return Ok(()),
            Ok(false) => {}
            Err(_) => return Err(()),
        }
        match tokio::time::timeout(limit, socket.tcp().writable()).await {
            Ok(Ok(())) => {}
            _ => return Err(()),
        }
    }
}
