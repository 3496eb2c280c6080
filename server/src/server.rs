//! Starting and stopping a server: bind, serve, and shut down in order.
//!
//! Shutdown: stop accepting, tell every connection to close with 1001 and every room to write
//! its snapshot, wait for them (bounded by the grace period), then make storage durable.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize};
use std::sync::Arc;

use axum::serve::ListenerExt;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::auth::{Authenticator, KeyError};
use crate::config::Config;
use crate::connection::ConnectionContext;
use crate::http::{router, AppState};
use crate::limits::MissionLimits;
use crate::revocations::Revocations;
use crate::room::registry::Rooms;
use crate::room::RoomConfig;
use crate::sessions::Sessions;
use crate::storage::redis::{shared, RedisLog};
use crate::storage::sqlite::SqliteLog;
use crate::storage::{DocumentLog, StorageError};

#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error(transparent)]
    Keys(#[from] KeyError),
    #[error("server task failed: {0}")]
    Task(String),
}

/// A running server.
pub struct Server {
    addr: SocketAddr,
    shutdown: CancellationToken,
    task: JoinHandle<Result<(), ServerError>>,
}

impl Server {
    /// Opens storage (SQLite, or the Redis of `config.redis`), binds the listener and starts
    /// serving in the background.
    pub async fn start(config: Config) -> Result<Server, ServerError> {
        Self::start_wrapped(config, |log| log).await
    }

    /// As [`Server::start`], with `wrap` around the storage (fault injection in tests).
    pub async fn start_wrapped(
        config: Config,
        wrap: impl FnOnce(Arc<dyn DocumentLog>) -> Arc<dyn DocumentLog>,
    ) -> Result<Server, ServerError> {
        match config.redis.clone() {
            Some(url) => {
                let redis = Arc::new(RedisLog::open(&url).await?);
                let log = wrap(Arc::clone(&redis) as Arc<dyn DocumentLog>);
                Self::start_inner(config, log, Some(redis)).await
            }
            None => {
                let log: Arc<dyn DocumentLog> = Arc::new(SqliteLog::open(&config.data_dir)?);
                Self::start_inner(config, wrap(log), None).await
            }
        }
    }

    /// As [`Server::start`], on the storage it is given (one node).
    pub async fn start_with_log(
        config: Config,
        log: Arc<dyn DocumentLog>,
    ) -> Result<Server, ServerError> {
        Self::start_inner(config, log, None).await
    }

    async fn start_inner(
        config: Config,
        log: Arc<dyn DocumentLog>,
        cluster: Option<Arc<RedisLog>>,
    ) -> Result<Server, ServerError> {
        let (auth, revocations) = match &cluster {
            // Every node verifies the same tokens and sees the same revocations.
            Some(redis) => {
                let auth = if config.auth.public_keys.is_empty() {
                    let secret = shared::secret(&mut redis.shared().await?).await?;
                    Authenticator::with_secret(&config.auth, &secret)
                } else {
                    Authenticator::new(&config.auth, &config.data_dir)?
                };
                (auth, Revocations::shared(Arc::clone(redis)).await?)
            }
            None => (
                Authenticator::new(&config.auth, &config.data_dir)?,
                Revocations::open(&config.data_dir)?,
            ),
        };
        let (auth, revocations) = (Arc::new(auth), Arc::new(revocations));
        let listener =
            TcpListener::bind(config.listen)
                .await
                .map_err(|source| ServerError::Bind {
                    addr: config.listen,
                    source,
                })?;
        let addr = listener.local_addr().map_err(|source| ServerError::Bind {
            addr: config.listen,
            source,
        })?;
        if let Some(redis) = &cluster {
            redis.advertise(addr.to_string());
            tracing::info!(node = redis.node(), %addr, "serving documents shared through redis");
        }
        let shutdown = CancellationToken::new();
        let tasks = TaskTracker::new();
        let silences = Arc::new(crate::silence::SilenceWatch::default());
        let metrics = Arc::new(crate::metrics::Metrics::new());
        if let Some(redis) = &cluster {
            metrics.register_redis(redis.stats());
        }
        let rooms = Rooms::new(
            Arc::clone(&log),
            RoomConfig {
                idle_unload_after: config.idle_unload_after,
                snapshot_every: config.snapshot_every,
                storage_credits: Arc::new(tokio::sync::Semaphore::new(config.storage_queue)),
                clock: config.clock.clone(),
                silences: Arc::clone(&silences),
                metrics: Arc::clone(&metrics),
                coalesce_from: config.coalesce_from,
                coalesce_floor: config.coalesce_floor,
            },
            shutdown.clone(),
            tasks.clone(),
        );
        tasks.spawn(Arc::clone(&silences).run(
            Arc::clone(&rooms),
            config.clock.clone(),
            shutdown.clone(),
        ));
        tasks.spawn(crate::silence::discover(Arc::clone(&rooms)));
        if cluster.is_some() {
            tasks.spawn(crate::silence::patrol(
                Arc::clone(&silences),
                Arc::clone(&rooms),
                shutdown.clone(),
            ));
        }
        let grace = config.shutdown_grace;
        let sessions = Arc::new(Sessions::default());
        tasks.spawn(watch_revocations(
            Arc::clone(&revocations),
            Arc::clone(&sessions),
            config.revocation_poll,
            shutdown.clone(),
        ));
        if let Some(mut lost) = cluster.as_ref().and_then(|redis| redis.take_lost_leases()) {
            let (rooms, stop) = (Arc::clone(&rooms), shutdown.clone());
            tasks.spawn(async move {
                loop {
                    let doc = tokio::select! {
                        doc = lost.recv() => doc,
                        () = stop.cancelled() => None,
                    };
                    let Some(doc) = doc else { return };
                    rooms.relinquish(&doc);
                }
            });
        }
        let limits = MissionLimits::new(config.limits);
        let state = Arc::new(AppState {
            ctx: ConnectionContext {
                config: Arc::new(config),
                rooms,
                shutdown: shutdown.clone(),
                auth,
                revocations,
                sessions,
                limits,
                metrics,
                cluster,
            },
            open_connections: AtomicUsize::new(0),
            next_connection: AtomicU64::new(1),
            tasks: tasks.clone(),
        });
        // Small frames (a keystroke) must leave at once, not wait for Nagle's algorithm.
        let listener = listener.tap_io(|tcp| {
            if let Err(err) = tcp.set_nodelay(true) {
                tracing::warn!(error = %err, "cannot set TCP_NODELAY");
            }
        });
        let app = router(state);
        let stop = shutdown.clone();
        let task = tokio::spawn(async move {
            let served = axum::serve(listener, app)
                .with_graceful_shutdown(stop.clone().cancelled_owned())
                .await;
            // axum's graceful shutdown does not wait for upgraded sockets: the tracker does.
            stop.cancel();
            tasks.close();
            if tokio::time::timeout(grace, tasks.wait()).await.is_err() {
                tracing::warn!("shutdown grace period elapsed with connections still open");
            }
            log.close().await?;
            served.map_err(|e| ServerError::Task(e.to_string()))
        });
        tracing::info!(%addr, "concord listening");
        Ok(Server {
            addr,
            shutdown,
            task,
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// A token that stops the server when cancelled.
    pub fn shutdown_token(&self) -> CancellationToken {
        self.shutdown.clone()
    }

    /// Stops the server gracefully and waits until storage is durable.
    pub async fn shutdown(self) -> Result<(), ServerError> {
        self.shutdown.cancel();
        self.wait().await
    }

    /// Waits until the server stops (after its shutdown token is cancelled).
    pub async fn wait(self) -> Result<(), ServerError> {
        self.task
            .await
            .map_err(|e| ServerError::Task(e.to_string()))?
    }
}

/// Picks up revocations written by `concord revoke` and closes the sessions they refuse.
async fn watch_revocations(
    revocations: Arc<Revocations>,
    sessions: Arc<Sessions>,
    every: std::time::Duration,
    shutdown: CancellationToken,
) {
    let mut tick = tokio::time::interval(every);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            () = shutdown.cancelled() => return,
        }
        match revocations.refresh().await {
            Ok(true) => {
                let closed = sessions.close_revoked(&revocations);
                tracing::info!(closed, "revocations changed");
            }
            Ok(false) => {}
            Err(err) => tracing::warn!(error = %err, "cannot read revocations"),
        }
    }
}
