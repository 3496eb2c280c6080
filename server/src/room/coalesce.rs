//! Coalescing broadcasts in large rooms. Every delivered update costs one `send` per recipient,
//! and in a room of thousands that kernel work is the whole cost of a keystroke. So when a
//! room's fan-out is large, its durable updates are held for a short interval and leave as one
//! merged frame per recipient (`Peers::broadcast_updates`): one send carries every update of
//! the interval. The interval grows with the room, so that the latency it adds stays a small
//! part of what the sends themselves would cost at that size; a small room keeps immediate
//! delivery.
//!
//! Holding changes only when updates leave, never what leaves or in which order: anything
//! else sent to a connection (a sync answer, a command's answer) flushes what is held first.

use std::time::Duration;

use tokio::time::Instant;

use super::Room;

/// Rooms with fewer recipients send every batch at once.
pub const COALESCE_FROM: usize = 1000;

/// A hold ends early past this many distinct senders, or bytes.
const MAX_HELD_SENDERS: usize = 8;
const MAX_HELD_BYTES: usize = 256 * 1024;

/// The shortest hold.
pub const COALESCE_FLOOR: Duration = Duration::from_millis(6);

/// How long a room with `recipients` connections holds its broadcasts: `None` below `from`
/// ([`COALESCE_FROM`] but in tests), then 1 ms per 150 recipients, from `floor`
/// ([`COALESCE_FLOOR`]) up to 70 ms (about 10,000).
pub fn interval(recipients: usize, from: usize, floor: Duration) -> Option<Duration> {
    let by_size = Duration::from_millis(recipients as u64 / 150).min(Duration::from_millis(70));
    (recipients >= from).then(|| by_size.max(floor))
}

impl Room {
    /// After a batch or a commit: broadcasts leave now, or once the room's interval has passed
    /// since the first of them was held.
    pub(super) fn flush_or_hold(&mut self) {
        if self.unsent.is_empty() {
            return;
        }
        let (from, floor) = (self.config.coalesce_from, self.config.coalesce_floor);
        let Some(interval) = interval(self.peers.recipients(), from, floor) else {
            self.flush_broadcasts();
            return;
        };
        let now = Instant::now();
        let until = *self.hold_until.get_or_insert(now + interval);
        if now >= until || self.hold_is_full() {
            self.flush_broadcasts();
        }
    }

    /// Each sender of held updates gets a merge of everyone else's, made on the room's task:
    /// with many senders, or many bytes, the hold ends early so that this stays small.
    fn hold_is_full(&self) -> bool {
        let bytes: usize = self.unsent.iter().map(|(_, update)| update.len()).sum();
        if bytes > MAX_HELD_BYTES {
            return true;
        }
        let mut senders: Vec<_> = self.unsent.iter().map(|(from, _)| *from).collect();
        senders.sort_unstable();
        senders.dedup();
        senders.len() > MAX_HELD_SENDERS
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_rooms_send_at_once_and_large_ones_hold_briefly() {
        assert_eq!(interval(1, COALESCE_FROM, COALESCE_FLOOR), None);
        assert_eq!(interval(999, COALESCE_FROM, COALESCE_FLOOR), None);
        assert_eq!(
            interval(1000, COALESCE_FROM, COALESCE_FLOOR),
            Some(Duration::from_millis(6))
        );
        assert_eq!(
            interval(5000, COALESCE_FROM, COALESCE_FLOOR),
            Some(Duration::from_millis(33))
        );
        assert_eq!(
            interval(10_000, COALESCE_FROM, COALESCE_FLOOR),
            Some(Duration::from_millis(66))
        );
        assert_eq!(
            interval(100_000, COALESCE_FROM, COALESCE_FLOOR),
            Some(Duration::from_millis(70))
        );
    }
}
