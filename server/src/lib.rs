//! The Concord server: WebSocket rooms hosting yrs documents over a durable log.
//!
//! - [`server`]: start and stop ([`Server::start`], graceful shutdown).
//! - [`http`]: routes (`GET /ws/{doc}`, REST under `/api`, `GET /healthz`), the auth
//!   extractor, JSON errors.
//! - [`auth`]: JWT verification (local HS256 secret or identity-provider keys by `kid`).
//! - [`revocations`], [`sessions`], [`limits`]: revoked tokens and missions, the live
//!   sessions they close, per-mission connection and message limits.
//! - [`connection`]: one socket: decode and check frames, forward to the room, write back.
//! - [`peer`]: what a connection shares with its room (outbox, acks, lag, close).
//! - [`room`]: one live document in one task: apply, broadcast once, log, snapshot, unload.
//! - [`rooms`]: the registry that guarantees one room per document.
//! - [`storage`]: the document log trait and its embedded SQLite backend.
//! - [`config`], [`cli`]: settings and the `concord` command line.
//!
//! # Example
//! ```no_run
//! # async fn run() -> Result<(), concord_server::server::ServerError> {
//! let config = concord_server::config::Config {
//!     listen: "127.0.0.1:0".parse().unwrap(),
//!     ..Default::default()
//! };
//! let server = concord_server::Server::start(config).await?;
//! println!("ws://{}/ws/my-document", server.addr());
//! server.shutdown().await
//! # }
//! ```

pub mod attribution;
pub mod audit;
pub mod auth;
pub mod cli;
pub mod clock;
pub mod config;
pub mod connection;
pub mod demo;
pub mod document;
pub mod http;
pub mod latency;
pub mod limits;
pub mod peer;
pub mod presence;
pub mod revocations;
pub mod room;
pub mod server;
pub mod sessions;
pub mod storage;

pub use config::Config;
pub use server::Server;
