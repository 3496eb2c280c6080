//! The Concord server: WebSocket rooms hosting yrs documents over a durable log.
//!
//! - [`server`]: start and stop ([`Server::start`], [`Server::start_with_log`] on the storage
//!   it is given, graceful shutdown).
//! - [`http`]: the REST and WebSocket routes, the extractors that decide who may open a
//!   document ([`http::DocumentAccess`]), JSON errors. [`web`]: the page's files.
//! - [`auth`]: who is asking: JWT verification (local HS256 secret or identity-provider keys by
//!   `kid`), the identity carried from the token to the room, the server's reserved missions.
//! - [`revocations`], [`sessions`], [`limits`]: revoked tokens and missions, the live sessions
//!   they close, per-mission connection and message limits.
//! - [`connection`]: one socket: decode and scan frames, forward them to the room, write back.
//! - [`peer`]: what a connection shares with its room (outbox, acks, lag, close).
//! - [`document`]: the document core (replica, policy, the server's client id; an update or a
//!   command in, the log entry out), and [`document::offline`] for `concord import`.
//! - [`room`]: one live document in one task: judge, apply, log, and send nothing before it is
//!   durable; its registry keeps one room per document.
//! - [`storage`]: the document log trait and its embedded SQLite backend. [`audit`]: records,
//!   their hash chain and its verification. [`attribution`]: who wrote and deleted each run.
//! - [`clock`]: the one clock everything reads. [`latency`]: percentile samples for the log.
//! - [`demo`]: the GCM-shaped demo negotiation. [`config`], [`cli`]: settings and the `concord`
//!   command line.
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
pub mod demo_history;
pub mod document;
pub mod export;
pub mod forward;
pub mod http;
pub mod latency;
pub mod limits;
pub mod metrics;
pub mod openapi;
pub mod peer;
pub mod process_routes;
pub mod read_routes;
pub mod revision_routes;
pub mod revisions;
pub mod revocations;
pub mod room;
pub mod server;
pub mod sessions;
pub mod silence;
pub mod storage;
pub mod theme_changes;
pub mod upgrade;
pub mod web;

pub use config::Config;
pub use server::Server;
