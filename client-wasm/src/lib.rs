//! Concord's browser client, compiled to WebAssembly with wasm-bindgen.
//!
//! The logic is plain Rust over `concord-protocol` ([`core`], unit tested natively). `JsValue`
//! appears only in [`wasm`], the exported edge the page's JavaScript calls: frames in, frames
//! out, JSON for the model and events. The WebSocket itself is the page's (`web/concord.js`).

pub mod core;
pub mod wasm;

pub use crate::core::{ClientCore, Link, Recoverable, Refused, Target};
