//! One native client's socket: connect, start the sync, send frames, and read until the
//! document it mirrors is complete (answering the server's pings and sync requests meanwhile).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::bail;
use concord_protocol::Message;
use tokio::io::AsyncWriteExt;
use tokio::net::tcp::OwnedWriteHalf;
use tokio::sync::Mutex;
use yrs::updates::decoder::Decode;
use yrs::{Doc, StateVector, Transact, Update};

use crate::framing::Address;
use crate::target::{endpoint, Target};
use crate::ws;

/// A client's sending half, with the framing its server wants.
pub struct Socket {
    half: Mutex<OwnedWriteHalf>,
    pub address: Address,
}

impl Socket {
    /// Writes frames encoded already.
    pub async fn write_all(&self, frames: &[u8]) -> std::io::Result<()> {
        self.half.lock().await.write_all(frames).await
    }
}

pub type Writer = Arc<Socket>;

pub async fn send(writer: &Writer, opcode: u8, payload: &[u8]) -> anyhow::Result<()> {
    let payload = if opcode == ws::OP_BINARY {
        writer.address.wrap(payload)
    } else {
        std::borrow::Cow::Borrowed(payload)
    };
    let mut frame = Vec::with_capacity(payload.len() + 14);
    ws::encode_frame(&mut frame, opcode, &payload);
    writer.write_all(&frame).await?;
    Ok(())
}

/// Connects one client to `doc` and starts its sync (the caller reads the answer).
pub async fn synced_client(
    target: &Target,
    doc: &str,
) -> anyhow::Result<(Writer, tokio::net::tcp::OwnedReadHalf, Vec<u8>)> {
    let (addr, path) = endpoint(target, doc)?;
    connect_and_sync(addr, &path, Address::new(target.framing, doc)).await
}

/// Opens a WebSocket and sends the first sync step (an empty state vector: send everything),
/// after the greeting its framing needs.
pub async fn connect_and_sync(
    addr: SocketAddr,
    path: &str,
    address: Address,
) -> anyhow::Result<(Writer, tokio::net::tcp::OwnedReadHalf, Vec<u8>)> {
    let (read, write, leftover) = ws::connect(addr, path).await?;
    let greeting = address.greeting();
    let writer: Writer = Arc::new(Socket {
        half: Mutex::new(write),
        address,
    });
    if let Some(greeting) = greeting {
        let mut frame = Vec::with_capacity(greeting.len() + 14);
        ws::encode_frame(&mut frame, ws::OP_BINARY, &greeting);
        writer.write_all(&frame).await?;
    }
    send(
        &writer,
        ws::OP_BINARY,
        &Message::SyncStep1(StateVector::default()).encode(),
    )
    .await?;
    Ok((writer, read, leftover))
}

/// Reads frames, applying sync step 2 and updates to `doc`, until `done(doc)` holds.
/// Answers pings and the server's sync step 1 on the way. Returns the time spent decoding and
/// applying updates (the client's own share of a load).
pub async fn read_until(
    writer: &Writer,
    read: &mut tokio::net::tcp::OwnedReadHalf,
    leftover: Vec<u8>,
    doc: &Doc,
    done: impl Fn(&Doc, bool) -> bool,
) -> anyhow::Result<Duration> {
    let mut synced = false;
    let mut applying = Duration::ZERO;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(u8, Vec<u8>)>();
    let answer = Arc::clone(writer);
    let answering = tokio::spawn(async move {
        while let Some((op, payload)) = rx.recv().await {
            if send(&answer, op, &payload).await.is_err() {
                break;
            }
        }
    });
    let mut finished = done(doc, synced);
    if !finished {
        ws::read_frames(read, leftover, |opcode, payload| {
            match opcode {
                ws::OP_PING => {
                    let _ = tx.send((ws::OP_PONG, payload.to_vec()));
                }
                ws::OP_CLOSE => return false,
                ws::OP_BINARY => {
                    let Some(payload) = writer.address.unwrap(payload) else {
                        return true;
                    };
                    if let Ok(messages) = Message::decode_frame(&payload) {
                        for message in messages {
                            match message {
                                Message::SyncStep1(_) => {
                                    let _ = tx.send((
                                        ws::OP_BINARY,
                                        Message::SyncStep2(&[0, 0]).encode(),
                                    ));
                                }
                                Message::SyncStep2(update) | Message::Update(update) => {
                                    synced |= matches!(message, Message::SyncStep2(_));
                                    let started = Instant::now();
                                    if let Ok(update) = Update::decode_v1(update) {
                                        let _ = doc.transact_mut().apply_update(update);
                                    }
                                    applying += started.elapsed();
                                }
                                _ => {}
                            }
                        }
                    }
                    if done(doc, synced) {
                        finished = true;
                        return false;
                    }
                }
                _ => {}
            }
            true
        })
        .await?;
    }
    answering.abort();
    if !finished {
        bail!("the connection ended before the document was complete");
    }
    Ok(applying)
}
