//! Server settings. Every field has a default that suits one node on one machine.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::auth::AuthConfig;
use crate::limits::LimitConfig;

#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    /// Frames larger than this close the connection with 4413.
    pub max_frame_bytes: usize,
    /// Frames one connection may have queued before it is lagged (and later resynced).
    pub outbox_frames: usize,
    /// How long a document nobody uses stays in memory.
    pub idle_unload_after: Duration,
    /// Compact a document's log into a snapshot after this many updates.
    pub snapshot_every: u64,
    /// Log writes that may wait for their commit at once, across all documents; beyond it,
    /// rooms stop taking requests and connections stop reading their sockets.
    pub storage_queue: usize,
    /// The server's clock (the system's; tests set their own).
    pub clock: crate::clock::Clock,
    /// How often the server pings each connection.
    pub ping_interval: Duration,
    /// A connection from which nothing (not even a pong) arrives for this long is closed.
    pub liveness_timeout: Duration,
    /// A socket write that takes longer than this abandons the connection.
    pub write_timeout: Duration,
    /// How long shutdown waits for connections and rooms to finish.
    pub shutdown_grace: Duration,
    /// How tokens are verified.
    pub auth: AuthConfig,
    /// Per-mission connection and message limits.
    pub limits: LimitConfig,
    /// How often revocations recorded by `concord revoke` are picked up.
    pub revocation_poll: Duration,
    /// Where the web page's files (`index.html`, scripts, the wasm build in `pkg/`) are read
    /// from; `None`: the copy embedded in the binary when it was built.
    pub web_dir: Option<PathBuf>,
    /// Several nodes share their documents through this Redis (`redis://HOST:PORT`); `None`:
    /// one node, SQLite in the data directory.
    pub redis: Option<String>,
    /// Rooms with at least this many connections hold their broadcasts briefly and send them
    /// merged (`room/coalesce.rs`), for at least `coalesce_floor`; tests change both.
    pub coalesce_from: usize,
    pub coalesce_floor: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_dir: PathBuf::from("./concord-data"),
            max_frame_bytes: 8 * 1024 * 1024,
            outbox_frames: 1024,
            idle_unload_after: Duration::from_secs(30),
            snapshot_every: 1000,
            storage_queue: crate::room::STORAGE_CREDITS,
            clock: crate::clock::Clock::system(),
            ping_interval: Duration::from_secs(20),
            liveness_timeout: Duration::from_secs(60),
            write_timeout: Duration::from_secs(30),
            shutdown_grace: Duration::from_secs(10),
            auth: AuthConfig::default(),
            limits: LimitConfig::default(),
            revocation_poll: Duration::from_millis(200),
            web_dir: None,
            redis: None,
            coalesce_from: crate::room::COALESCE_FROM,
            coalesce_floor: crate::room::COALESCE_FLOOR,
        }
    }
}

/// Parses durations written as `250ms`, `30s`, `5m`, `8h` or `2d` (a bare number is seconds).
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let value: u64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not a duration like 30s, 5m or 8h"))?;
    let millis = match unit {
        "ms" => Some(value),
        "" | "s" => value.checked_mul(1000),
        "m" => value.checked_mul(60_000),
        "h" => value.checked_mul(3_600_000),
        "d" => value.checked_mul(86_400_000),
        _ => {
            return Err(format!(
                "`{text}`: unknown unit `{unit}` (use ms, s, m, h or d)"
            ))
        }
    };
    millis
        .map(Duration::from_millis)
        .ok_or_else(|| format!("`{text}` is too long"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse() {
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("30"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("8h"), Ok(Duration::from_secs(8 * 3600)));
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("5y").is_err());
        assert!(parse_duration("99999999999999999d").is_err());
    }
}
