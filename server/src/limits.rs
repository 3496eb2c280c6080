//! Per-mission limits: live connections, and messages per second.
//!
//! Limits are per mission, not per IP address: a whole delegation often sits behind one
//! address, and one mission must not be able to crowd out the others.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

#[derive(Debug, Clone, Copy)]
pub struct LimitConfig {
    /// Live WebSocket connections one mission may hold.
    pub connections_per_mission: usize,
    /// Sustained messages (frames and REST requests) per second for one mission.
    pub messages_per_second: u32,
    /// How many messages a mission may send in a burst above the sustained rate.
    pub burst: u32,
}

impl Default for LimitConfig {
    fn default() -> Self {
        LimitConfig {
            connections_per_mission: 2000,
            messages_per_second: 2000,
            burst: 4000,
        }
    }
}

struct Usage {
    connections: usize,
    tokens: f64,
    refilled: Instant,
}

pub struct MissionLimits {
    config: LimitConfig,
    missions: Mutex<HashMap<String, Usage>>,
}

/// Holds one of a mission's connection slots; gives it back when dropped.
pub struct ConnectionPermit {
    limits: Arc<MissionLimits>,
    mission: String,
}

impl Drop for ConnectionPermit {
    fn drop(&mut self) {
        let mut missions = self
            .limits
            .missions
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if let Some(usage) = missions.get_mut(&self.mission) {
            usage.connections = usage.connections.saturating_sub(1);
        }
    }
}

impl MissionLimits {
    pub fn new(config: LimitConfig) -> Arc<Self> {
        Arc::new(MissionLimits {
            config,
            missions: Mutex::new(HashMap::new()),
        })
    }

    fn usage<'a>(&self, missions: &'a mut HashMap<String, Usage>, mission: &str) -> &'a mut Usage {
        missions
            .entry(mission.to_string())
            .or_insert_with(|| Usage {
                connections: 0,
                tokens: f64::from(self.config.burst),
                refilled: Instant::now(),
            })
    }

    /// Takes a connection slot for `mission`, or `None` if it holds all of its slots.
    pub fn connect(self: &Arc<Self>, mission: &str) -> Option<ConnectionPermit> {
        let mut missions = self.missions.lock().unwrap_or_else(|p| p.into_inner());
        let usage = self.usage(&mut missions, mission);
        if usage.connections >= self.config.connections_per_mission {
            return None;
        }
        usage.connections += 1;
        Some(ConnectionPermit {
            limits: Arc::clone(self),
            mission: mission.to_string(),
        })
    }

    /// Spends one message from the mission's budget (a token bucket); false when it is empty.
    pub fn allow_message(&self, mission: &str) -> bool {
        let mut missions = self.missions.lock().unwrap_or_else(|p| p.into_inner());
        let (rate, burst) = (
            f64::from(self.config.messages_per_second),
            f64::from(self.config.burst.max(1)),
        );
        let usage = self.usage(&mut missions, mission);
        let now = Instant::now();
        let elapsed = now.duration_since(usage.refilled).as_secs_f64();
        usage.tokens = (usage.tokens + elapsed * rate).min(burst);
        usage.refilled = now;
        if usage.tokens >= 1.0 {
            usage.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connection_slots_are_per_mission_and_returned() {
        let limits = MissionLimits::new(LimitConfig {
            connections_per_mission: 2,
            ..LimitConfig::default()
        });
        let a = limits.connect("MEX").expect("first");
        let _b = limits.connect("MEX").expect("second");
        assert!(limits.connect("MEX").is_none());
        assert!(
            limits.connect("CHE").is_some(),
            "other missions are unaffected"
        );
        drop(a);
        assert!(limits.connect("MEX").is_some());
    }

    #[test]
    fn the_message_budget_runs_out_after_the_burst() {
        let limits = MissionLimits::new(LimitConfig {
            messages_per_second: 1,
            burst: 5,
            ..LimitConfig::default()
        });
        let allowed = (0..10).filter(|_| limits.allow_message("MEX")).count();
        assert!((5..=6).contains(&allowed), "{allowed}");
        assert!(limits.allow_message("EU"));
    }
}
