//! End-to-end tests: one binary, one module per concern (helpers live in `concord_tests`).

#[path = "e2e/audit.rs"]
mod audit;
#[path = "e2e/auth.rs"]
mod auth;
#[path = "e2e/bad_input.rs"]
mod bad_input;
#[path = "e2e/clock.rs"]
mod clock;
#[path = "e2e/cluster.rs"]
mod cluster;
#[path = "e2e/commands.rs"]
mod commands;
#[path = "e2e/crash_windows.rs"]
mod crash_windows;
#[path = "e2e/damaged_store.rs"]
mod damaged_store;
#[path = "e2e/durability.rs"]
mod durability;
#[path = "e2e/exports.rs"]
mod exports;
#[path = "e2e/handshake.rs"]
mod handshake;
#[path = "e2e/integrity.rs"]
mod integrity;
#[path = "e2e/interop.rs"]
mod interop;
#[path = "e2e/lifecycle.rs"]
mod lifecycle;
#[path = "e2e/operations.rs"]
mod operations;
#[path = "e2e/policy.rs"]
mod policy;
#[path = "e2e/process.rs"]
mod process;
#[path = "e2e/read_api.rs"]
mod read_api;
#[path = "e2e/revision_attacks.rs"]
mod revision_attacks;
#[path = "e2e/revisions.rs"]
mod revisions;
#[path = "e2e/slow_reader.rs"]
mod slow_reader;
#[path = "e2e/storage_credits.rs"]
mod storage_credits;
#[path = "e2e/subprotocol.rs"]
mod subprotocol;
#[path = "e2e/sync.rs"]
mod sync;
#[path = "e2e/web.rs"]
mod web;
