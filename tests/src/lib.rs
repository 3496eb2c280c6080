//! The end-to-end test harness: real servers on 127.0.0.1:0 and real clients.
//!
//! - [`TestServer`]: a server in this process, with its own data directory.
//! - [`ProcessServer`]: the `concord` binary as a child process, for kill -9 tests.
//! - [`Client`]: a native y-websocket client on yrs, as a delegate's browser would be.
//! - [`cluster::Cluster`]: a real `redis-server` and nodes sharing it (`--redis`).
//! - [`RawSocket`]: a bare WebSocket for crafted, hostile frames.
//! - [`Negotiation`]: a drafted negotiation with tokens for a facilitator and two delegations,
//!   and the checks every policy test makes (refused as named, or accepted).
//! - [`faults`]: the storage fault injector the test binary wraps its log in
//!   (`CONCORD_TEST_FAULTS`): writes held, failed or passed on orders from stdin.
//!
//! Nothing here sleeps to synchronise: every wait is on an event, bounded by a timeout.

pub mod client;
pub mod cluster;
pub mod faults;
pub mod negotiation;
pub mod raw;
pub mod revision_room;
pub mod servers;

pub use client::Client;
pub use negotiation::Negotiation;
pub use raw::{close_code, RawSocket, SilentPeer};
pub use servers::{
    http_get, http_get_raw, http_get_with, http_post_json, http_request, mint, ProcessServer,
    TempDir, TestServer,
};

use std::time::Duration;

/// How long any single wait in a test may take before the test fails.
pub const WAIT: Duration = Duration::from_secs(20);

/// The wall clock in Unix milliseconds (for `since` parameters, never for timing).
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// Connects a delegation once and waits until the document lists its mission among those that
/// joined (the server records that on a mission's first join): fixtures do it up front, so
/// that a test's "the document is unchanged" is about what the test sends.
pub async fn join_once(url: &str, mission: &str) -> anyhow::Result<()> {
    let client = Client::connect(url).await?;
    client
        .wait_until(&format!("{mission} recorded as joined"), |_, doc| {
            let txn = yrs::Transact::transact(doc);
            concord_protocol::schema::missions(&txn)
                .iter()
                .any(|m| m == mission)
        })
        .await
}

/// A WebSocket request for `url` asking for Concord's protocol (`concord.v1`), as Concord's
/// clients do: only such connections get `Session`, `Ack`, `Rejected`.
pub fn concord_request(
    url: &str,
) -> anyhow::Result<tokio_tungstenite::tungstenite::handshake::client::Request> {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let mut request = url.into_client_request()?;
    request.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        tokio_tungstenite::tungstenite::http::HeaderValue::from_static("concord.v1"),
    );
    Ok(request)
}

/// The counts `GET .../progress` must report, computed from the model (`GET /api/docs/{doc}`)
/// alone: paragraphs (headings left out) by status, and how many are bracketed (standing, with
/// an open amendment or wording in square brackets). Tests compare the server's counts with
/// these.
pub fn progress_from_model(
    model: &serde_json::Value,
) -> (std::collections::BTreeMap<String, u64>, u64) {
    let open: Vec<&str> = model["amendments"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|a| a["status"] == "open")
        .filter_map(|a| a["paragraph"].as_str())
        .collect();
    let mut by_status = std::collections::BTreeMap::new();
    let mut bracketed = 0;
    for p in model["paragraphs"].as_array().into_iter().flatten() {
        if p["kind"] == "heading" {
            continue;
        }
        let status = p["status"].as_str().unwrap_or_default().to_string();
        let open_wording = p["body"].as_str().is_some_and(|b| b.contains('['));
        let amended = p["id"].as_str().is_some_and(|id| open.contains(&id));
        if status != "deleted" && (amended || open_wording) {
            bracketed += 1;
        }
        *by_status.entry(status).or_insert(0) += 1;
    }
    (by_status, bracketed)
}
