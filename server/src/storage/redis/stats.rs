//! What the Redis backend reports to `/metrics` (registered by the server that uses it):
//! Redis round trips and lease changes, without any document id.

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};

#[derive(Debug, Clone)]
pub struct RedisStats {
    /// One writer pipeline (its appends, snapshots, barriers), sent to answered.
    pub round_trip: Histogram,
    pub leases_taken: Counter,
    pub leases_lost: Counter,
    pub leases_given_back: Counter,
}

impl Default for RedisStats {
    fn default() -> Self {
        RedisStats {
            // 50 µs to about 1.6 s.
            round_trip: Histogram::new(exponential_buckets(0.000_05, 2.0, 16)),
            leases_taken: Counter::default(),
            leases_lost: Counter::default(),
            leases_given_back: Counter::default(),
        }
    }
}
