//! Which node writes a document: one owner at a time, by a lease in Redis (`SET NX PX`,
//! renewed a few times per lease) that carries a fencing number (`INCR` at every change of
//! hands). Every append names the fencing number it was issued under and Redis refuses a
//! stale one (`scripts::APPEND`), so an owner that was paused past its lease and resumes
//! cannot append after its successor started: correctness rests on the fence, never on
//! clocks; the lease only decides who should be writing.
//!
//! A node holds a lease while a room of the document is loaded here (`hold`/`release`), and
//! for a short while after the last one retires, so that a quick return does not change
//! hands. A lease found lost at renewal is reported on `lost`: the server closes that room,
//! whose connections reconnect and are forwarded to the new owner.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use redis::aio::MultiplexedConnection;
use redis::Script;
use tokio::sync::mpsc;

use super::{keys, scripts, unreachable};
use crate::storage::StorageError;

/// Where a document is served.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// This node owns it.
    Here,
    /// Another node does, at this address.
    Node(String),
}

#[derive(Debug)]
struct Held {
    fence: u64,
    /// The lease's value in Redis ("fence node address").
    value: String,
    /// Rooms of the document loaded here.
    holders: usize,
    /// Since when no room holds it.
    idle_since: Option<Instant>,
    /// When Redis last confirmed it (taken or renewed).
    confirmed: Instant,
}

pub(super) struct Leases {
    pub(super) node: String,
    address: OnceLock<String>,
    pub(super) ttl: Duration,
    held: Mutex<HashMap<String, Held>>,
    /// Documents whose lease was lost while rooms of them were still loaded here: how many.
    /// Until they have retired, the document is not taken again here (a stale room would
    /// still be found by requests, and its release would count against the new one).
    retiring: Mutex<HashMap<String, usize>>,
    lost: mpsc::UnboundedSender<String>,
    stats: super::RedisStats,
    acquire: Script,
    renew: Script,
    release: Script,
}

impl Leases {
    pub(super) fn new(
        node: String,
        ttl: Duration,
        lost: mpsc::UnboundedSender<String>,
        stats: super::RedisStats,
    ) -> Self {
        Leases {
            node,
            address: OnceLock::new(),
            ttl,
            held: Mutex::default(),
            retiring: Mutex::default(),
            lost,
            stats,
            acquire: Script::new(scripts::ACQUIRE),
            renew: Script::new(scripts::RENEW),
            release: Script::new(scripts::RELEASE),
        }
    }

    /// Where other nodes forward this node's documents' requests (known once it listens).
    pub(super) fn advertise(&self, address: String) {
        let _ = self.address.set(address);
    }

    fn held(&self) -> std::sync::MutexGuard<'_, HashMap<String, Held>> {
        // The map is left consistent by every holder (one insert or remove at a time).
        self.held.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The fencing number this node appends to `doc` under, if it owns it.
    pub(super) fn fence(&self, doc: &str) -> Option<u64> {
        self.held().get(doc).map(|h| h.fence)
    }

    /// Where `doc` is served, taking its lease if nobody holds it.
    pub(super) async fn route(
        &self,
        conn: &mut MultiplexedConnection,
        doc: &str,
    ) -> Result<Route, StorageError> {
        // A lease not confirmed for most of its time may have expired (this process may have
        // been paused): Redis is asked again before anything is served from it.
        let unconfirmed = self.held().get(doc).map(|h| {
            let fresh = h.confirmed.elapsed() < self.ttl * 2 / 3;
            (fresh, h.value.clone(), h.fence)
        });
        if let Some((fresh, value, fence)) = unconfirmed {
            if fresh || self.renew_one(conn, doc, &value, fence).await? {
                return Ok(Route::Here);
            }
        }
        if self.retiring().get(doc).is_some_and(|&rooms| rooms > 0) {
            return Err(StorageError::Moving(format!(
                "{doc} is moving to another node; try again"
            )));
        }
        let Some(address) = self.address.get() else {
            return Err(StorageError::Moving("the node is not listening yet".into()));
        };
        let (fence, value): (u64, String) = self
            .acquire
            .key(keys::lease(doc))
            .key(keys::fence(doc))
            .arg(&self.node)
            .arg(address)
            .arg(self.ttl.as_millis() as u64)
            .invoke_async(conn)
            .await
            .map_err(unreachable)?;
        if fence == 0 {
            let owner = value.splitn(3, ' ').nth(2).unwrap_or_default().to_string();
            return Ok(Route::Node(owner));
        }
        let mut held = self.held();
        // Another task of this node may have taken it meanwhile: the newest fence wins (the
        // older one is refused by Redis from now on, and nothing was issued under it yet).
        let entry = held.entry(doc.to_string()).or_insert(Held {
            fence,
            value: value.clone(),
            holders: 0,
            idle_since: Some(Instant::now()),
            confirmed: Instant::now(),
        });
        if fence > entry.fence {
            entry.fence = fence;
            entry.value = value;
            entry.confirmed = Instant::now();
        }
        self.stats.leases_taken.inc();
        tracing::info!(doc, fence, node = %self.node, "took the document's lease");
        Ok(Route::Here)
    }

    /// A room of `doc` loads here; fails if another node owns it.
    pub(super) async fn hold(
        &self,
        conn: &mut MultiplexedConnection,
        doc: &str,
    ) -> Result<u64, StorageError> {
        match self.route(conn, doc).await? {
            Route::Here => {}
            Route::Node(owner) => {
                return Err(StorageError::Backend(format!(
                    "the document is owned by the node at {owner}"
                )))
            }
        }
        let mut held = self.held();
        let entry = held
            .get_mut(doc)
            .ok_or_else(|| StorageError::Backend("the lease was lost while loading".into()))?;
        entry.holders += 1;
        entry.idle_since = None;
        Ok(entry.fence)
    }

    /// A room of `doc` retired here.
    pub(super) fn release(&self, doc: &str) {
        // A room of a lease that was lost: it counts against the lost lease, not a new one.
        {
            let mut retiring = self.retiring();
            if let Some(rooms) = retiring.get_mut(doc) {
                *rooms = rooms.saturating_sub(1);
                if *rooms == 0 {
                    retiring.remove(doc);
                }
                return;
            }
        }
        if let Some(entry) = self.held().get_mut(doc) {
            entry.holders = entry.holders.saturating_sub(1);
            if entry.holders == 0 {
                entry.idle_since = Some(Instant::now());
            }
        }
    }

    fn retiring(&self) -> std::sync::MutexGuard<'_, HashMap<String, usize>> {
        self.retiring.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Renews every lease a few times per lease, gives back those no room held for a lease's
    /// time, and reports those another node took.
    pub(super) async fn keep(&self, client: redis::Client) {
        let mut conn: Option<MultiplexedConnection> = None;
        let mut tick = tokio::time::interval(self.ttl / 3);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if conn.is_none() {
                conn = super::connect(&client).await.ok();
            }
            let Some(c) = conn.as_mut() else { continue };
            // This node is alive (its connection counts stand) for three renewals more.
            let alive: Result<(), _> = redis::cmd("SET")
                .arg(keys::node(&self.node))
                .arg(1)
                .arg("PX")
                .arg(self.ttl.as_millis() as u64)
                .query_async(c)
                .await;
            if alive.is_err() {
                conn = None;
                continue;
            }
            let leases: Vec<(String, String, u64, bool)> = self
                .held()
                .iter()
                .map(|(doc, h)| {
                    let idle = h.idle_since.is_some_and(|since| since.elapsed() > self.ttl);
                    (doc.clone(), h.value.clone(), h.fence, idle)
                })
                .collect();
            for (doc, value, fence, idle) in leases {
                if idle {
                    self.give_back(c, &doc, &value).await;
                    continue;
                }
                match self.renew_one(c, &doc, &value, fence).await {
                    Ok(_) => {}
                    Err(err) => {
                        // Redis unreachable: appends fail meanwhile; whoever holds the fence
                        // when it returns is the owner.
                        tracing::warn!(doc, error = %err, "cannot renew the lease");
                        conn = None;
                        break;
                    }
                }
            }
        }
    }

    /// Renews one lease; a lease another node took is forgotten and reported.
    async fn renew_one(
        &self,
        conn: &mut MultiplexedConnection,
        doc: &str,
        value: &str,
        fence: u64,
    ) -> Result<bool, StorageError> {
        let asked = Instant::now();
        let renewed: u64 = self
            .renew
            .key(keys::lease(doc))
            .key(keys::fence(doc))
            .arg(value)
            .arg(fence)
            .arg(self.ttl.as_millis() as u64)
            .invoke_async(conn)
            .await
            .map_err(unreachable)?;
        let mut held = self.held();
        let Some(entry) = held.get_mut(doc).filter(|h| h.fence == fence) else {
            return Ok(false);
        };
        if renewed == 1 {
            // The lease runs from when it was asked for, not from the answer.
            entry.confirmed = asked;
            return Ok(true);
        }
        let rooms = held.remove(doc).map_or(0, |h| h.holders);
        drop(held);
        if rooms > 0 {
            *self.retiring().entry(doc.to_string()).or_insert(0) += rooms;
        }
        self.stats.leases_lost.inc();
        tracing::warn!(doc, fence, "lost the document's lease");
        let _ = self.lost.send(doc.to_string());
        Ok(false)
    }

    async fn give_back(&self, conn: &mut MultiplexedConnection, doc: &str, value: &str) {
        {
            let mut held = self.held();
            match held.get(doc) {
                Some(h) if h.holders == 0 && h.value == value => {
                    held.remove(doc);
                }
                _ => return,
            }
        }
        let released: Result<u64, _> = self
            .release
            .key(keys::lease(doc))
            .arg(value)
            .invoke_async(conn)
            .await;
        self.stats.leases_given_back.inc();
        if let Err(err) = released {
            tracing::warn!(doc, error = %err, "cannot give the lease back; it will expire");
        }
    }
}
