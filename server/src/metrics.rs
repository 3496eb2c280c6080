//! `/metrics`: what an operator watches, in the Prometheus text format, from a registry of
//! this server's own (several servers in one test process stay apart). Labels stay
//! low-cardinality: outcomes, rules, command names and error codes, never a mission or a
//! document.
//!
//! - `concord_connections`, `concord_documents_loaded`: gauges, read at each scrape;
//! - `concord_updates_total{outcome}`: client updates, `accepted` or the rule that refused them;
//! - `concord_commands_total{command, outcome}`: commands, `ok` or the refusal's code;
//! - `concord_commit_wait_seconds`: how long a broadcast waited for its commit (the price of
//!   relaying only what is durable);
//! - `concord_broadcast_recipients`: connections each broadcast of updates went to;
//! - `concord_resyncs_total`: lagging connections sent the whole document again;
//! - with Redis: `concord_redis_round_trip_seconds`, `concord_leases_{taken,lost,given_back}_total`
//!   and `concord_forwarded_total{kind}` (`socket`, `request`).

use std::sync::Mutex;
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct UpdateLabels {
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CommandLabels {
    command: &'static str,
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ForwardLabels {
    kind: &'static str,
}

#[derive(Debug)]
pub struct Metrics {
    registry: Mutex<Registry>,
    connections: Gauge,
    documents: Gauge,
    updates: Family<UpdateLabels, Counter>,
    /// `updates{outcome="accepted"}`, resolved once: it counts every keystroke.
    accepted: Counter,
    commands: Family<CommandLabels, Counter>,
    commit_wait: Histogram,
    recipients: Histogram,
    resyncs: Counter,
    forwarded: Family<ForwardLabels, Counter>,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("concord");
        let connections = Gauge::default();
        registry.register(
            "connections",
            "Open WebSocket connections",
            connections.clone(),
        );
        let documents = Gauge::default();
        registry.register("documents_loaded", "Documents in memory", documents.clone());
        let updates = Family::<UpdateLabels, Counter>::default();
        registry.register(
            "updates",
            "Client updates, accepted or refused by rule",
            updates.clone(),
        );
        let accepted = updates
            .get_or_create(&UpdateLabels {
                outcome: "accepted",
            })
            .clone();
        let commands = Family::<CommandLabels, Counter>::default();
        registry.register("commands", "Commands by outcome", commands.clone());
        // 50 µs to about 1.6 s.
        let commit_wait = Histogram::new(exponential_buckets(0.000_05, 2.0, 16));
        registry.register(
            "commit_wait_seconds",
            "How long a broadcast waited for its log commit",
            commit_wait.clone(),
        );
        let recipients = Histogram::new(exponential_buckets(1.0, 4.0, 9));
        registry.register(
            "broadcast_recipients",
            "Connections one broadcast of updates went to",
            recipients.clone(),
        );
        let resyncs = Counter::default();
        registry.register(
            "resyncs",
            "Lagging connections sent the whole document again",
            resyncs.clone(),
        );
        Metrics {
            registry: Mutex::new(registry),
            connections,
            documents,
            updates,
            accepted,
            commands,
            commit_wait,
            recipients,
            resyncs,
            forwarded: Family::default(),
        }
    }

    pub fn update_accepted(&self) {
        self.accepted.inc();
    }

    pub fn update_refused(&self, rule: &'static str) {
        self.updates
            .get_or_create(&UpdateLabels { outcome: rule })
            .inc();
    }

    pub fn command(&self, command: &'static str, outcome: &'static str) {
        self.commands
            .get_or_create(&CommandLabels { command, outcome })
            .inc();
    }

    pub fn commit_waited(&self, wait: Duration) {
        self.commit_wait.observe(wait.as_secs_f64());
    }

    pub fn broadcast(&self, recipients: usize) {
        self.recipients.observe(recipients as f64);
    }

    pub fn resynced(&self) {
        self.resyncs.inc();
    }

    /// The text a scrape reads, with the gauges as they are now.
    /// With several nodes: Redis round trips and lease changes, and forwarding.
    pub fn register_redis(&self, stats: &crate::storage::redis::RedisStats) {
        let mut registry = self.registry.lock().unwrap_or_else(|p| p.into_inner());
        registry.register(
            "redis_round_trip_seconds",
            "One pipeline of log writes, sent to answered (fsynced) by Redis",
            stats.round_trip.clone(),
        );
        registry.register(
            "leases_taken",
            "Documents this node took the lease of",
            stats.leases_taken.clone(),
        );
        registry.register(
            "leases_lost",
            "Leases another node took from this one",
            stats.leases_lost.clone(),
        );
        registry.register(
            "leases_given_back",
            "Leases given back after their document left this node",
            stats.leases_given_back.clone(),
        );
        registry.register(
            "forwarded",
            "Connections and requests sent on to the node that owns their document",
            self.forwarded.clone(),
        );
    }

    pub fn forwarded(&self, kind: &'static str) {
        self.forwarded.get_or_create(&ForwardLabels { kind }).inc();
    }

    pub fn encode(&self, connections: usize, documents: usize) -> String {
        self.connections.set(connections as i64);
        self.documents.set(documents as i64);
        let mut text = String::new();
        let registry = self.registry.lock().unwrap_or_else(|p| p.into_inner());
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut text, &registry);
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_servers_count_apart_and_the_text_is_prometheus_s() {
        let (a, b) = (Metrics::new(), Metrics::new());
        a.update_accepted();
        a.update_accepted();
        a.update_refused("paragraph-locked");
        a.command("lock", "ok");
        a.command("lock", "paragraph-locked");
        a.commit_waited(Duration::from_millis(2));
        a.broadcast(500);
        let text = a.encode(3, 1);
        assert!(
            text.contains("concord_updates_total{outcome=\"accepted\"} 2"),
            "{text}"
        );
        assert!(text.contains("concord_updates_total{outcome=\"paragraph-locked\"} 1"));
        assert!(text.contains("concord_commands_total{command=\"lock\",outcome=\"ok\"} 1"));
        assert!(text.contains("concord_connections 3"));
        assert!(text.contains("concord_commit_wait_seconds_count 1"));
        assert!(
            text.contains("concord_broadcast_recipients_sum 500.0"),
            "{text}"
        );
        assert!(text.trim_end().ends_with("# EOF"));
        assert!(b
            .encode(0, 0)
            .contains("concord_updates_total{outcome=\"accepted\"} 0"));
    }
}
