//! Concord's wire protocol, shared by the server and every client.
//!
//! This crate is pure: no I/O, no clocks, no threads. It builds for native targets and for
//! `wasm32-unknown-unknown`, so the server and the browser client decode the same bytes with the
//! same code.
//!
//! - [`message`]: the messages of one WebSocket frame. The y-websocket protocol (sync step 1,
//!   sync step 2, update, awareness, query awareness, auth) plus Concord's extensions (`Session`,
//!   `Ack`, `Refresh`, `Rejected`, `Command`, `CommandResult`), which live in the protocol's
//!   extension space so stock Yjs clients skip them. [`error`]: `DecodeError` and the id limits.
//!   [`lib0`]: the varints and buffers underneath.
//! - [`update`]: the bounded scan of a Yjs update every server runs before yrs sees it.
//! - [`schema`]: the negotiation document's layout, typed reads and writes, `new_replica`.
//! - [`policy`]: the update policy (who may write which text now; nothing pending).
//! - [`command`]: the typed commands, `execute`, and their error codes.
//! - [`revision`]: revisions, change notes, comparisons. [`process`]: rounds, readings,
//!   silence procedures, notices. [`progress`]: counts by status and their trend.
//! - [`attribution`]: who inserted each run of a text. [`import`]: the structured text a
//!   negotiation starts from. [`awareness`]: presence updates.
//! - [`close`]: WebSocket close codes and what a client does after each.
//! - [`session`]: who a connection is (person, mission, role) as told by the server.
//!
//! # Example
//! ```
//! use concord_protocol::message::Message;
//!
//! let frame = Message::Update(b"\x00\x00").encode();
//! let decoded = Message::decode_frame(&frame).unwrap();
//! assert_eq!(decoded, vec![Message::Update(b"\x00\x00")]);
//! ```

pub mod attribution;
pub mod awareness;
pub mod close;
pub mod command;
pub mod error;
pub mod import;
pub mod lib0;
pub mod message;
pub mod policy;
pub mod process;
pub mod progress;
pub mod revision;
pub mod schema;
pub mod session;
pub mod update;

pub use close::CloseCode;
pub use error::DecodeError;
pub use message::Message;
pub use session::{Rejection, Role, Session};
