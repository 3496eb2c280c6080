//! Revoked tokens and missions, persisted beside the documents.
//!
//! `concord revoke` writes here from its own process; the server re-reads the table several
//! times a second and closes the live sessions it now refuses. Revoking a mission refuses every
//! token of that mission issued at or before the revocation (so a delegation can be cut off,
//! then issued fresh tokens).

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::{Mutex, RwLock};

use rusqlite::{params, Connection};

use crate::auth::Identity;
use crate::storage::sqlite::backend;
use crate::storage::StorageError;

#[derive(Debug, Default, PartialEq, Eq)]
struct Revoked {
    tokens: HashSet<String>,
    /// Mission → the time (seconds) up to which its tokens are revoked.
    missions: HashMap<String, u64>,
}

pub struct Revocations {
    source: Source,
    revoked: RwLock<Revoked>,
}

/// Where revocations are recorded: the database beside the documents, or the Redis every
/// node shares (a revoke on any node reaches every node).
enum Source {
    Sqlite(Mutex<Connection>),
    Redis(std::sync::Arc<crate::storage::redis::RedisLog>),
}

impl std::fmt::Debug for Revocations {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Revocations").finish_non_exhaustive()
    }
}

/// The database beside the documents, its schema (the `revocations` table among the rest)
/// brought up to date.
fn open(data_dir: &Path) -> Result<Connection, StorageError> {
    crate::storage::sqlite::schema::open_connection(data_dir)
}

/// What `concord revoke` revokes.
#[derive(Debug, Clone)]
pub enum Revocation {
    Token(String),
    Mission(String),
}

impl Revocation {
    /// How it is recorded: `("token", jti)` or `("mission", id)`.
    pub fn kind_and_value(&self) -> (&'static str, &str) {
        match self {
            Revocation::Token(jti) => ("token", jti),
            Revocation::Mission(mission) => ("mission", mission),
        }
    }
}

/// Records a revocation (used by `concord revoke`, from outside the server).
pub fn revoke(data_dir: &Path, what: &Revocation, now: u64) -> Result<(), StorageError> {
    let conn = open(data_dir)?;
    let (kind, value) = what.kind_and_value();
    conn.execute(
        "INSERT INTO revocations (kind, value, revoked_at) VALUES (?1, ?2, ?3)
         ON CONFLICT (kind, value) DO UPDATE SET revoked_at = max(revoked_at, excluded.revoked_at)",
        params![kind, value, now as i64],
    )
    .map_err(backend)?;
    Ok(())
}

impl Revocations {
    pub fn open(data_dir: &Path) -> Result<Self, StorageError> {
        let revocations = Revocations {
            source: Source::Sqlite(Mutex::new(open(data_dir)?)),
            revoked: RwLock::default(),
        };
        revocations.reload()?;
        Ok(revocations)
    }

    /// Revocations shared by every node, in Redis.
    pub async fn shared(
        log: std::sync::Arc<crate::storage::redis::RedisLog>,
    ) -> Result<Self, StorageError> {
        let revocations = Revocations {
            source: Source::Redis(log),
            revoked: RwLock::default(),
        };
        revocations.refresh_shared().await?;
        Ok(revocations)
    }

    /// Re-reads the revocations; returns whether anything changed.
    pub async fn refresh(self: &std::sync::Arc<Self>) -> Result<bool, StorageError> {
        match &self.source {
            Source::Sqlite(_) => {
                let this = std::sync::Arc::clone(self);
                tokio::task::spawn_blocking(move || this.reload())
                    .await
                    .map_err(backend)?
            }
            Source::Redis(_) => self.refresh_shared().await,
        }
    }

    async fn refresh_shared(&self) -> Result<bool, StorageError> {
        let Source::Redis(log) = &self.source else {
            return Ok(false);
        };
        let mut conn = log.shared().await?;
        let read = crate::storage::redis::shared::revocations(&mut conn).await;
        log.done_with(&read).await;
        let mut fresh = Revoked::default();
        for (kind, value, at) in read? {
            if kind == "token" {
                fresh.tokens.insert(value);
            } else {
                fresh.missions.insert(value, at);
            }
        }
        self.replace(fresh)
    }

    fn replace(&self, fresh: Revoked) -> Result<bool, StorageError> {
        let mut revoked = self.revoked.write().map_err(|_| backend("lock poisoned"))?;
        if *revoked == fresh {
            return Ok(false);
        }
        *revoked = fresh;
        Ok(true)
    }

    /// Re-reads the table; returns whether anything changed.
    pub fn reload(&self) -> Result<bool, StorageError> {
        let Source::Sqlite(conn) = &self.source else {
            return Ok(false);
        };
        let fresh = {
            let conn = conn.lock().map_err(|_| backend("lock poisoned"))?;
            let mut statement = conn
                .prepare_cached("SELECT kind, value, revoked_at FROM revocations")
                .map_err(backend)?;
            let mut fresh = Revoked::default();
            let rows = statement
                .query_map([], |row| {
                    Ok((
                        row.get::<_, String>(0)?,
                        row.get::<_, String>(1)?,
                        row.get::<_, i64>(2)?,
                    ))
                })
                .map_err(backend)?;
            for row in rows {
                let (kind, value, at) = row.map_err(backend)?;
                if kind == "token" {
                    fresh.tokens.insert(value);
                } else {
                    fresh.missions.insert(value, at.max(0) as u64);
                }
            }
            fresh
        };
        self.replace(fresh)
    }

    pub fn is_revoked(&self, identity: &Identity) -> bool {
        let Ok(revoked) = self.revoked.read() else {
            // A poisoned lock means a panic mid-update: refuse rather than guess.
            return true;
        };
        revoked.tokens.contains(&identity.token_id)
            || revoked
                .missions
                .get(&identity.mission)
                .is_some_and(|&until| identity.issued_at <= until)
    }
}
