//! A native y-websocket client on yrs, speaking Concord's protocol crate.

use std::sync::{Arc, Mutex, MutexGuard};

use anyhow::{anyhow, bail};
use concord_protocol::{Message, Session};
use futures_util::{SinkExt, StreamExt};
use tokio::sync::{mpsc, watch};
use tokio_tungstenite::tungstenite::Message as WsMessage;
use yrs::updates::decoder::Decode;
use yrs::{Doc, GetString, ReadTxn, StateVector, Text, TextRef, Transact, Update};

/// The text the tests type into: the body of the document's first paragraph (the only texts
/// clients may write are paragraph bodies and amendments; `TestServer::draft` creates it).
pub fn body(txn: &impl ReadTxn) -> Option<TextRef> {
    let first = concord_protocol::schema::paragraphs(txn)
        .into_iter()
        .next()?;
    concord_protocol::schema::body_text(txn, &first.id)
}

/// The text of an amendment.
pub fn amendment_text(amendment: &str) -> impl Fn(&yrs::TransactionMut) -> Option<TextRef> + '_ {
    move |txn| concord_protocol::schema::amendment_text(txn, amendment)
}

/// The text a test types into, found in the client's replica.
pub type Target<'a> = &'a dyn Fn(&yrs::TransactionMut) -> Option<TextRef>;

/// What the client has seen so far.
#[derive(Debug, Default, Clone)]
pub struct Seen {
    pub acked: u64,
    pub session: Option<Session>,
    /// A sync step 2 arrived from the server (the first one completes the initial sync).
    pub sync_step2s: u64,
    pub close: Option<(u16, String)>,
    pub ended: bool,
    /// Payloads of every incremental update received.
    pub updates: Vec<Vec<u8>>,
    pub awareness: Vec<Vec<u8>>,
    pub rejections: Vec<concord_protocol::Rejection>,
    /// Reasons of y-protocols permission-denied messages.
    pub denied: Vec<String>,
    /// Every `Session` received (the first, then one per refresh).
    pub sessions: u64,
    /// Answers to commands, in arrival order.
    pub command_results: Vec<concord_protocol::command::CommandReply>,
}

struct Shared {
    doc: Mutex<Doc>,
    /// The outgoing queue and the count of document updates (sync step 2 or update) put on
    /// it, under one lock so that the count follows the order on the wire, as `Ack` does.
    out: Mutex<(mpsc::UnboundedSender<WsMessage>, u64)>,
    seen: Mutex<Seen>,
    changed: watch::Sender<u64>,
}

impl Shared {
    fn touch(&self) {
        self.changed.send_modify(|v| *v += 1);
    }
}

pub struct Client {
    shared: Arc<Shared>,
    paused: watch::Sender<bool>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Client {
    /// Connects and waits for the initial sync.
    pub async fn connect(url: &str) -> anyhow::Result<Self> {
        let client = Self::connect_unsynced(url).await?;
        client
            .wait_until("initial sync", |s, _| s.sync_step2s > 0)
            .await?;
        Ok(client)
    }

    /// Connects and starts syncing without waiting.
    pub async fn connect_unsynced(url: &str) -> anyhow::Result<Self> {
        let (ws, _) = tokio_tungstenite::connect_async(crate::concord_request(url)?).await?;
        let (mut sink, mut stream) = ws.split();
        let (out, mut out_rx) = mpsc::unbounded_channel::<WsMessage>();
        let (paused, mut paused_rx) = watch::channel(false);
        let shared = Arc::new(Shared {
            doc: Mutex::new(Doc::new()),
            out: Mutex::new((out, 0)),
            seen: Mutex::new(Seen::default()),
            changed: watch::channel(0).0,
        });

        tokio::spawn(async move {
            while let Some(frame) = out_rx.recv().await {
                if sink.send(frame).await.is_err() {
                    break;
                }
            }
        });

        let reader_shared = Arc::clone(&shared);
        tokio::spawn(async move {
            loop {
                if paused_rx.wait_for(|paused| !paused).await.is_err() {
                    break;
                }
                let Some(frame) = stream.next().await else {
                    break;
                };
                match frame {
                    Ok(WsMessage::Binary(bytes)) => {
                        handle_frame(&reader_shared, &bytes);
                    }
                    Ok(WsMessage::Close(close)) => {
                        lock(&reader_shared.seen).close =
                            close.map(|c| (u16::from(c.code), c.reason.to_string()));
                        reader_shared.touch();
                    }
                    Ok(_) => {}
                    Err(_) => break,
                }
            }
            lock(&reader_shared.seen).ended = true;
            reader_shared.touch();
        });

        let client = Client { shared, paused };
        let state_vector = client.with_doc(|doc| doc.transact().state_vector());
        client.send_message(&Message::SyncStep1(state_vector))?;
        Ok(client)
    }

    /// Sends a message; returns how many document updates have been sent, this one included.
    pub fn send_message(&self, message: &Message<'_>) -> anyhow::Result<u64> {
        self.shared.send(message)
    }

    /// Sends a frame as it is, for crafted input a [`Message`] cannot express. It is not
    /// counted as a document update.
    pub fn send_frame(&self, frame: Vec<u8>) -> anyhow::Result<()> {
        lock(&self.shared.out)
            .0
            .send(WsMessage::Binary(frame.into()))
            .map_err(|_| anyhow!("connection closed"))
    }

    /// Document updates sent so far; the n-th is acknowledged by `Ack(n)`.
    pub fn sent(&self) -> u64 {
        lock(&self.shared.out).1
    }

    pub fn with_doc<R>(&self, f: impl FnOnce(&Doc) -> R) -> R {
        f(&lock(&self.shared.doc))
    }

    /// The first paragraph's body ("" while there is none).
    pub fn text(&self) -> String {
        self.with_doc(|doc| {
            let txn = doc.transact();
            body(&txn).map(|t| t.get_string(&txn)).unwrap_or_default()
        })
    }

    pub fn state_vector(&self) -> StateVector {
        self.with_doc(|doc| doc.transact().state_vector())
    }

    pub fn seen(&self) -> Seen {
        lock(&self.shared.seen).clone()
    }

    /// Inserts into the first paragraph's body and sends the update; returns its sequence
    /// number.
    pub fn insert(&mut self, index: u32, chunk: &str) -> anyhow::Result<u64> {
        self.insert_into(&|txn| body(txn), index, chunk)
    }

    /// Appends to the end of the first paragraph's body.
    pub fn append(&mut self, chunk: &str) -> anyhow::Result<u64> {
        self.append_to(&|txn| body(txn), chunk)
    }

    /// Inserts into the text `target` finds and sends the update.
    pub fn insert_into(
        &mut self,
        target: Target<'_>,
        index: u32,
        chunk: &str,
    ) -> anyhow::Result<u64> {
        self.edit(target, |text, txn| text.insert(txn, index, chunk))
    }

    /// Appends to the text `target` finds. Length and insertion happen in one transaction, so
    /// an update arriving meanwhile cannot turn the append into an insertion mid-text.
    pub fn append_to(&mut self, target: Target<'_>, chunk: &str) -> anyhow::Result<u64> {
        self.edit(target, |text, txn| {
            let len = text.len(txn);
            text.insert(txn, len, chunk)
        })
    }

    /// Removes `len` UTF-16 units at `index` of the text `target` finds.
    pub fn remove_from(&mut self, target: Target<'_>, index: u32, len: u32) -> anyhow::Result<u64> {
        self.edit(target, |text, txn| text.remove_range(txn, index, len))
    }

    /// Edits a text of the local replica (whatever the server will say) and sends the update.
    pub fn edit(
        &mut self,
        target: Target<'_>,
        change: impl FnOnce(&TextRef, &mut yrs::TransactionMut),
    ) -> anyhow::Result<u64> {
        let update = self.with_doc(|doc| {
            let mut txn = doc.transact_mut();
            let text = target(&txn).ok_or_else(|| {
                anyhow!("no such text in the replica (was the document drafted and synced?)")
            })?;
            change(&text, &mut txn);
            Ok::<_, anyhow::Error>(txn.encode_update_v1())
        })?;
        self.send_update(&update)
    }

    pub fn send_update(&mut self, update: &[u8]) -> anyhow::Result<u64> {
        self.send_message(&Message::Update(update))
    }

    /// Waits until `check` holds, or fails after [`crate::WAIT`].
    pub async fn wait_until(
        &self,
        what: &str,
        check: impl Fn(&Seen, &Doc) -> bool,
    ) -> anyhow::Result<()> {
        let mut changed = self.shared.changed.subscribe();
        let wait = async {
            loop {
                {
                    let seen = lock(&self.shared.seen);
                    let doc = lock(&self.shared.doc);
                    if check(&seen, &doc) {
                        return Ok(());
                    }
                    if seen.ended {
                        bail!(
                            "connection ended while waiting for {what} (close: {:?})",
                            seen.close
                        );
                    }
                }
                if changed.changed().await.is_err() {
                    bail!("client dropped");
                }
            }
        };
        match tokio::time::timeout(crate::WAIT, wait).await {
            Ok(result) => result,
            Err(_) => bail!("timed out waiting for {what}; text is {:?}", self.text()),
        }
    }

    pub async fn wait_acked(&self, seq: u64) -> anyhow::Result<()> {
        self.wait_until(&format!("ack {seq}"), |s, _| s.acked >= seq)
            .await
    }

    pub async fn wait_text(&self, check: impl Fn(&str) -> bool) -> anyhow::Result<()> {
        self.wait_until("text", |_, doc| {
            let txn = doc.transact();
            check(&body(&txn).map(|t| t.get_string(&txn)).unwrap_or_default())
        })
        .await
    }

    pub async fn wait_closed(&self) -> anyhow::Result<Option<(u16, String)>> {
        self.wait_until("close", |s, _| s.close.is_some() || s.ended)
            .await?;
        Ok(self.seen().close)
    }

    /// Stops reading from the socket (the server's sends back up), until resumed.
    pub fn pause_reading(&self) {
        let _ = self.paused.send(true);
    }

    pub fn resume_reading(&self) {
        let _ = self.paused.send(false);
    }

    pub fn close(&self) {
        let _ = lock(&self.shared.out).0.send(WsMessage::Close(None));
    }
}

impl Shared {
    fn send(&self, message: &Message<'_>) -> anyhow::Result<u64> {
        let mut out = lock(&self.out);
        out.0
            .send(WsMessage::Binary(message.encode().into()))
            .map_err(|_| anyhow!("connection closed"))?;
        if message.is_document_update() {
            out.1 += 1;
        }
        Ok(out.1)
    }
}

fn handle_frame(shared: &Shared, bytes: &[u8]) {
    let Ok(messages) = Message::decode_frame(bytes) else {
        return;
    };
    for message in messages {
        match message {
            Message::SyncStep1(sv) => {
                let diff = {
                    let doc = lock(&shared.doc);
                    let txn = doc.transact();
                    txn.encode_state_as_update_v1(&sv)
                };
                let _ = shared.send(&Message::SyncStep2(&diff));
            }
            Message::SyncStep2(update) | Message::Update(update) => {
                if let Ok(decoded) = Update::decode_v1(update) {
                    let doc = lock(&shared.doc);
                    let mut txn = doc.transact_mut();
                    let _ = txn.apply_update(decoded);
                }
                let mut seen = lock(&shared.seen);
                if matches!(message, Message::SyncStep2(_)) {
                    seen.sync_step2s += 1;
                } else {
                    seen.updates.push(update.to_vec());
                }
            }
            Message::Awareness(update) => lock(&shared.seen).awareness.push(update.to_vec()),
            Message::Session(session) => {
                let mut seen = lock(&shared.seen);
                seen.session = Some(session);
                seen.sessions += 1;
            }
            Message::Rejected(rejection) => lock(&shared.seen).rejections.push(rejection),
            Message::PermissionDenied(reason) => lock(&shared.seen).denied.push(reason.to_string()),
            Message::Ack(n) => {
                let mut seen = lock(&shared.seen);
                seen.acked = seen.acked.max(n);
            }
            Message::CommandResult(reply) => lock(&shared.seen).command_results.push(reply),
            Message::QueryAwareness
            | Message::Refresh(_)
            | Message::Command(_)
            | Message::UnreadableCommand { .. } => {}
        }
    }
    shared.touch();
}

/// The full state of a document as one update (for comparing replicas).
pub fn full_state(doc: &Doc) -> Vec<u8> {
    doc.transact()
        .encode_state_as_update_v1(&StateVector::default())
}
