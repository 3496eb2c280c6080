//! A bounded sample of durations, for percentiles reported in the log (how long broadcasts
//! wait for their commit). Past its capacity it keeps a uniform reservoir sample, so a
//! long-lived room costs a fixed amount of memory.

use std::time::Duration;

/// 4,096 samples (16 KiB) put the 99th percentile within a fraction of a percent of the
/// true one, and a room keeps this for as long as it is loaded.
const CAPACITY: usize = 4096;

#[derive(Debug, Default)]
pub struct Samples {
    micros: Vec<u32>,
    seen: u64,
    rng: Option<fastrand::Rng>,
}

impl Samples {
    pub fn record(&mut self, duration: Duration) {
        let micros = u32::try_from(duration.as_micros()).unwrap_or(u32::MAX);
        self.seen += 1;
        if self.micros.len() < CAPACITY {
            self.micros.push(micros);
            return;
        }
        let rng = self.rng.get_or_insert_with(fastrand::Rng::new);
        let slot = rng.u64(..self.seen);
        if let Some(kept) = usize::try_from(slot)
            .ok()
            .and_then(|slot| self.micros.get_mut(slot))
        {
            *kept = micros;
        }
    }

    /// How many were recorded, and the median and 99th percentile.
    pub fn summary(&self) -> Option<(u64, Duration, Duration)> {
        if self.micros.is_empty() {
            return None;
        }
        let mut sorted = self.micros.clone();
        sorted.sort_unstable();
        let at = |q: f64| {
            let i = ((sorted.len() - 1) as f64 * q).round() as usize;
            Duration::from_micros(u64::from(sorted[i.min(sorted.len() - 1)]))
        };
        Some((self.seen, at(0.5), at(0.99)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_of_what_was_recorded() {
        let mut samples = Samples::default();
        assert!(samples.summary().is_none());
        for ms in 1..=100 {
            samples.record(Duration::from_millis(ms));
        }
        let (count, p50, p99) = samples.summary().expect("samples");
        assert_eq!(count, 100);
        assert_eq!(p50, Duration::from_millis(51));
        assert_eq!(p99, Duration::from_millis(99));
    }

    #[test]
    fn memory_stays_bounded() {
        let mut samples = Samples::default();
        for i in 0..(CAPACITY as u64 + 1000) {
            samples.record(Duration::from_micros(i));
        }
        assert_eq!(samples.micros.len(), CAPACITY);
        assert_eq!(samples.summary().map(|s| s.0), Some(CAPACITY as u64 + 1000));
    }
}
