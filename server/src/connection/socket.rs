//! A connection's TCP socket, written to directly by whoever has a frame for it.
//!
//! With one task per connection draining a queue, every delivered update cost a wake-up, a
//! channel hop, a lock of the split WebSocket and a copy into tungstenite's buffer before its
//! `send`. Here the room writes a broadcast frame straight into the socket (`try_write`, never
//! waiting) when nothing is queued before it; only what the socket cannot take at once is
//! queued, and the connection's writer task drains that as the socket drains. Server frames are
//! unmasked, so a frame is a few header bytes in front of the payload every recipient shares.
//!
//! Order is kept by one rule: a frame is written directly only while the queue is empty, under
//! the lock that guards the queue. Bytes of one frame are never interleaved with another's.

use std::collections::VecDeque;
use std::io::{self, IoSlice};
use std::sync::{Mutex, MutexGuard};

use bytes::Bytes;
use tokio::net::TcpStream;
use tokio::sync::Notify;

pub const OP_BINARY: u8 = 0x2;
pub const OP_CLOSE: u8 = 0x8;
pub const OP_PING: u8 = 0x9;

/// Frames one vectored write takes at most while draining.
const DRAIN_FRAMES: usize = 64;

/// Why a frame was not taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// As many frames are waiting as the connection may hold: it is too slow.
    Full,
    /// The close frame was sent, or the socket failed.
    Closed,
}

/// The socket and what waits to be written to it.
#[derive(Debug)]
pub struct Socket {
    tcp: TcpStream,
    queue: Mutex<Queue>,
    /// Tells the writer task that something is queued, or that the socket is closed.
    queued: Notify,
    /// How many frames may wait.
    max_frames: usize,
}

#[derive(Debug, Default)]
struct Queue {
    frames: VecDeque<Frame>,
    /// No frame is taken any more: the close frame was queued, or the socket failed.
    closed: bool,
    /// A write failed: the socket is gone.
    failed: bool,
}

/// A frame as written: its header and payload, and how much of both is out already.
#[derive(Debug)]
struct Frame {
    header: [u8; 10],
    header_len: u8,
    payload: Bytes,
    written: usize,
}

impl Frame {
    fn new(opcode: u8, payload: Bytes) -> Self {
        let mut header = [0u8; 10];
        header[0] = 0x80 | opcode;
        let len = payload.len();
        let header_len = if len < 126 {
            header[1] = len as u8;
            2
        } else if let Ok(len) = u16::try_from(len) {
            header[1] = 126;
            header[2..4].copy_from_slice(&len.to_be_bytes());
            4
        } else {
            header[1] = 127;
            header[2..10].copy_from_slice(&(len as u64).to_be_bytes());
            10
        };
        Frame {
            header,
            header_len,
            payload,
            written: 0,
        }
    }

    /// Bytes already framed (tungstenite's own replies): sent as they are.
    fn raw(bytes: Bytes) -> Self {
        Frame {
            header: [0; 10],
            header_len: 0,
            payload: bytes,
            written: 0,
        }
    }

    fn len(&self) -> usize {
        usize::from(self.header_len) + self.payload.len()
    }

    /// What is left to write, as at most two slices.
    fn remaining(&self) -> [IoSlice<'_>; 2] {
        let header_len = usize::from(self.header_len);
        let header = &self.header[self.written.min(header_len)..header_len];
        let payload = &self.payload[self.written.saturating_sub(header_len)..];
        [IoSlice::new(header), IoSlice::new(payload)]
    }
}

impl Socket {
    pub fn new(tcp: TcpStream, max_frames: usize) -> Self {
        Socket {
            tcp,
            queue: Mutex::new(Queue::default()),
            queued: Notify::new(),
            max_frames: max_frames.max(8),
        }
    }

    pub(super) fn tcp(&self) -> &TcpStream {
        &self.tcp
    }

    fn lock(&self) -> MutexGuard<'_, Queue> {
        // A panic while holding the lock leaves a queue that is still consistent (frames are
        // pushed and popped whole): keep using it.
        self.queue
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Sends a binary frame carrying `payload`, now if the socket takes it, else after what
    /// waits; never waits itself. Refused when the connection already holds its most.
    pub fn send_binary(&self, payload: Bytes) -> Result<(), Refused> {
        let how = Sending {
            bounded: true,
            last: false,
        };
        self.send(Frame::new(OP_BINARY, payload), how)
    }

    /// A control frame of the connection's own (ping, ack): taken even when the queue is full
    /// (there is at most one of each waiting at a time).
    pub fn send_control(&self, opcode: u8, payload: Bytes) -> Result<(), Refused> {
        let how = Sending {
            bounded: false,
            last: false,
        };
        self.send(Frame::new(opcode, payload), how)
    }

    /// Bytes tungstenite framed (its answers to pings and to the client's close). Bounded like
    /// the room's frames: a client that pings without reading cannot grow the queue. Its
    /// answer to a close is the last frame taken, as [`Socket::close`]'s is.
    pub fn send_raw(&self, bytes: Bytes) -> Result<(), Refused> {
        let last = holds_close_frame(&bytes);
        self.send(
            Frame::raw(bytes),
            Sending {
                bounded: !last,
                last,
            },
        )
    }

    /// Queues the close frame after everything waiting; nothing is taken after it.
    pub fn close(&self, code: u16, reason: &str) {
        let mut payload = Vec::with_capacity(2 + reason.len());
        payload.extend_from_slice(&code.to_be_bytes());
        payload.extend_from_slice(reason.as_bytes());
        let frame = Frame::new(OP_CLOSE, payload.into());
        let _ = self.send(
            frame,
            Sending {
                bounded: false,
                last: true,
            },
        );
        self.queued.notify_one();
    }

    /// The connection is over (its task ended, however): nothing more is written, what waits
    /// is dropped, and the client is told at the TCP level, even while the room still holds
    /// this socket until it handles the connection's leave.
    pub fn abandon(&self) {
        let mut queue = self.lock();
        queue.closed = true;
        queue.frames.clear();
        drop(queue);
        let _ = socket2::SockRef::from(&self.tcp).shutdown(std::net::Shutdown::Both);
        self.queued.notify_one();
    }

    fn send(&self, mut frame: Frame, how: Sending) -> Result<(), Refused> {
        let mut queue = self.lock();
        if queue.closed {
            return Err(Refused::Closed);
        }
        // Set before the frame leaves the lock: nothing can follow a close frame.
        queue.closed = how.last;
        if !queue.frames.is_empty() {
            if how.bounded && queue.frames.len() >= self.max_frames {
                queue.closed = false;
                return Err(Refused::Full);
            }
            queue.frames.push_back(frame);
            return Ok(());
        }
        match self.tcp.try_write_vectored(&frame.remaining()) {
            Ok(n) if n >= frame.len() => return Ok(()),
            Ok(0) => {
                queue.failed = true;
                queue.closed = true;
                drop(queue);
                self.queued.notify_one();
                return Err(Refused::Closed);
            }
            Ok(n) => frame.written = n,
            Err(err) if err.kind() == io::ErrorKind::WouldBlock => {}
            Err(_) => {
                queue.failed = true;
                queue.closed = true;
                drop(queue);
                self.queued.notify_one();
                return Err(Refused::Closed);
            }
        }
        queue.frames.push_back(frame);
        drop(queue);
        self.queued.notify_one();
        Ok(())
    }

    /// Waits until something is queued (or the socket is closed).
    pub async fn queued(&self) {
        self.queued.notified().await
    }

    /// Whether the close frame was queued (or the socket failed).
    pub fn is_closed(&self) -> bool {
        self.lock().closed
    }

    /// Writes what is queued, as the socket takes it. `Ok(true)` once nothing waits,
    /// `Ok(false)` when the socket is full for now (wait until it is writable, then again);
    /// an error when it failed. The lock is taken for one vectored write at a time, so that a
    /// room writing to this socket waits for one system call at most.
    pub fn write_queued(&self) -> io::Result<bool> {
        loop {
            let mut queue = self.lock();
            if queue.failed {
                return Err(io::ErrorKind::BrokenPipe.into());
            }
            if queue.frames.is_empty() {
                return Ok(true);
            }
            let result = {
                let slices: Vec<IoSlice<'_>> = queue
                    .frames
                    .iter()
                    .take(DRAIN_FRAMES)
                    .flat_map(|frame| frame.remaining())
                    .collect();
                self.tcp.try_write_vectored(&slices)
            };
            let written = match result {
                Ok(0) => Err(io::Error::from(io::ErrorKind::WriteZero)),
                Ok(n) => Ok(n),
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => return Ok(false),
                Err(err) => Err(err),
            };
            let mut left = match written {
                Ok(n) => n,
                Err(err) => {
                    queue.failed = true;
                    queue.closed = true;
                    return Err(err);
                }
            };
            while let Some(front) = queue.frames.front_mut() {
                let rest = front.len() - front.written;
                if left < rest {
                    front.written += left;
                    break;
                }
                left -= rest;
                queue.frames.pop_front();
            }
        }
    }
}

/// How a frame is taken.
#[derive(Clone, Copy)]
struct Sending {
    /// Refused when the queue holds its most.
    bounded: bool,
    /// The close frame: nothing is taken after it.
    last: bool,
}

/// Whether server frames `bytes` (as tungstenite frames them: unmasked, whole) hold a close.
fn holds_close_frame(bytes: &[u8]) -> bool {
    let mut at = 0;
    while at + 2 <= bytes.len() {
        if bytes[at] & 0x0f == OP_CLOSE {
            return true;
        }
        let (len, header) = match bytes[at + 1] & 0x7f {
            126 if at + 4 <= bytes.len() => (
                usize::from(u16::from_be_bytes([bytes[at + 2], bytes[at + 3]])),
                4,
            ),
            127 if at + 10 <= bytes.len() => {
                let mut be = [0u8; 8];
                be.copy_from_slice(&bytes[at + 2..at + 10]);
                (
                    usize::try_from(u64::from_be_bytes(be)).unwrap_or(usize::MAX),
                    10,
                )
            }
            126 | 127 => return false,
            short => (usize::from(short), 2),
        };
        at = at.saturating_add(header).saturating_add(len);
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncReadExt;
    use tokio::net::TcpListener;

    async fn pair(max_frames: usize) -> (Socket, TcpStream) {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let client = TcpStream::connect(addr).await.expect("connect");
        let (server, _) = listener.accept().await.expect("accept");
        (Socket::new(server, max_frames), client)
    }

    /// Writes what `socket` queued as it drains, as the connection's writer task does.
    fn drain_in_background(socket: Socket) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            while !socket.write_queued().expect("drain") {
                socket.tcp().writable().await.expect("writable");
            }
        })
    }

    /// Reads server frames (unmasked) off `client` until `count` have come.
    async fn read_frames(client: &mut TcpStream, count: usize) -> Vec<(u8, Vec<u8>)> {
        let mut frames = Vec::new();
        while frames.len() < count {
            let mut head = [0u8; 2];
            client.read_exact(&mut head).await.expect("header");
            let len = match head[1] {
                126 => {
                    let mut ext = [0u8; 2];
                    client.read_exact(&mut ext).await.expect("length");
                    usize::from(u16::from_be_bytes(ext))
                }
                127 => {
                    let mut ext = [0u8; 8];
                    client.read_exact(&mut ext).await.expect("length");
                    u64::from_be_bytes(ext) as usize
                }
                short => usize::from(short),
            };
            let mut payload = vec![0u8; len];
            client.read_exact(&mut payload).await.expect("payload");
            frames.push((head[0], payload));
        }
        frames
    }

    #[tokio::test]
    async fn frames_arrive_whole_and_in_order_however_the_socket_takes_them() {
        let (socket, mut client) = pair(100_000).await;
        // Far more than a socket buffer holds, of every header size: most of it queues.
        let sizes = [0usize, 1, 125, 126, 65_535, 65_536, 300_000];
        let mut sent = Vec::new();
        for round in 0..20u8 {
            for &size in &sizes {
                let payload = vec![round; size];
                socket
                    .send_binary(Bytes::from(payload.clone()))
                    .expect("taken");
                sent.push((0x82, payload));
            }
        }
        let drainer = drain_in_background(socket);
        let received = read_frames(&mut client, sent.len()).await;
        drainer.await.expect("drained");
        assert!(received == sent, "frames differ");
    }

    #[tokio::test]
    async fn a_full_queue_refuses_and_a_close_ends_it() {
        let (socket, mut client) = pair(8).await;
        // Fill the socket's buffers: the client does not read yet.
        let big = Bytes::from(vec![7u8; 1 << 20]);
        let mut taken = 0;
        let refused = loop {
            match socket.send_binary(big.clone()) {
                Ok(()) => taken += 1,
                Err(refused) => break refused,
            }
            assert!(taken < 1000, "never full");
        };
        assert_eq!(refused, Refused::Full);
        // The writer's own frames still go in, and the close comes last.
        socket
            .send_control(OP_PING, Bytes::new())
            .expect("a ping is taken");
        socket.close(1001, "bye");
        assert_eq!(socket.send_binary(Bytes::new()), Err(Refused::Closed));
        let drainer = drain_in_background(socket);
        let frames = read_frames(&mut client, taken + 2).await;
        drainer.await.expect("drained");
        assert!(frames[..taken]
            .iter()
            .all(|(op, p)| *op == 0x82 && p.len() == 1 << 20));
        assert_eq!(frames[taken].0, 0x89);
        assert_eq!(frames[taken + 1].0, 0x88);
        assert_eq!(&frames[taken + 1].1[..2], &1001u16.to_be_bytes());
        assert_eq!(&frames[taken + 1].1[2..], b"bye");
    }
}
