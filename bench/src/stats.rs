//! Measurements: a lock-free latency histogram, and process CPU and memory from /proc.

use std::sync::atomic::{AtomicU64, Ordering};

/// Sub-buckets per power of two: values are kept within about 3%.
const SUB: u64 = 32;
const BUCKETS: usize = 64 * SUB as usize;

/// A log-linear histogram of microseconds, shared by every client without locks.
pub struct Histogram {
    counts: Vec<AtomicU64>,
    max: AtomicU64,
    total: AtomicU64,
}

impl Default for Histogram {
    fn default() -> Self {
        Histogram {
            counts: (0..BUCKETS).map(|_| AtomicU64::new(0)).collect(),
            max: AtomicU64::new(0),
            total: AtomicU64::new(0),
        }
    }
}

fn bucket(value: u64) -> usize {
    if value < SUB {
        return value as usize;
    }
    let exp = 63 - value.leading_zeros() as u64; // >= 5
    let sub = (value >> (exp - 5)) & (SUB - 1);
    ((exp - 4) * SUB + sub) as usize
}

/// The smallest value that falls in bucket `index`.
fn lower_bound(index: usize) -> u64 {
    let index = index as u64;
    if index < SUB {
        return index;
    }
    let exp = index / SUB + 4;
    let sub = index % SUB;
    (1 << exp) | (sub << (exp - 5))
}

impl Histogram {
    pub fn record(&self, micros: u64) {
        let index = bucket(micros).min(BUCKETS - 1);
        self.counts[index].fetch_add(1, Ordering::Relaxed);
        self.total.fetch_add(1, Ordering::Relaxed);
        self.max.fetch_max(micros, Ordering::Relaxed);
    }

    pub fn max(&self) -> u64 {
        self.max.load(Ordering::Relaxed)
    }

    /// The value below which `p` percent of recordings fall (microseconds).
    pub fn percentile(&self, p: f64) -> u64 {
        let total = self.total.load(Ordering::Relaxed);
        if total == 0 {
            return 0;
        }
        let rank = ((p / 100.0) * total as f64).ceil().max(1.0) as u64;
        let mut seen = 0;
        for (index, count) in self.counts.iter().enumerate() {
            seen += count.load(Ordering::Relaxed);
            if seen >= rank {
                return lower_bound(index + 1).saturating_sub(1).min(self.max());
            }
        }
        self.max()
    }
}

/// CPU time and memory of a process.
#[derive(Debug, Clone)]
pub struct ProcStats {
    pub cpu_seconds: f64,
    /// Of which in user space (the rest is the kernel's: sends, receives, wake-ups).
    pub user_seconds: f64,
    pub rss_kib: u64,
    pub peak_rss_kib: u64,
}

impl ProcStats {
    pub fn read(pid: u32) -> Option<Self> {
        Self::read_path(&format!("/proc/{pid}"))
    }

    pub fn read_self() -> Option<Self> {
        Self::read_path("/proc/self")
    }

    fn read_path(dir: &str) -> Option<Self> {
        let stat = std::fs::read_to_string(format!("{dir}/stat")).ok()?;
        // Fields after the command name (which may hold spaces) start after the last ')'.
        let rest = &stat[stat.rfind(')')? + 2..];
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let user: f64 = fields.get(11)?.parse().ok()?;
        let ticks: f64 = user + fields.get(12)?.parse::<f64>().ok()?;
        let status = std::fs::read_to_string(format!("{dir}/status")).ok()?;
        let kib = |key: &str| {
            status
                .lines()
                .find(|l| l.starts_with(key))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        };
        Some(ProcStats {
            // Linux reports CPU time in clock ticks of 1/100 s (USER_HZ).
            cpu_seconds: ticks / 100.0,
            user_seconds: user / 100.0,
            rss_kib: kib("VmRSS:")?,
            peak_rss_kib: kib("VmHWM:")?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_within_a_few_percent() {
        let h = Histogram::default();
        for v in 1..=10_000u64 {
            h.record(v);
        }
        for (p, exact) in [(50.0, 5_000.0), (99.0, 9_900.0)] {
            let got = h.percentile(p) as f64;
            assert!((got - exact).abs() / exact < 0.05, "p{p}: {got}");
        }
        assert_eq!(h.max(), 10_000);
        assert!(h.percentile(100.0) <= 10_000);
    }

    #[test]
    fn buckets_are_monotonic() {
        let mut last = 0;
        for v in (0..1_000_000u64).step_by(37) {
            let b = bucket(v);
            assert!(b >= last);
            assert!(lower_bound(b) <= v, "{v}");
            last = b;
        }
    }

    #[test]
    fn this_process_can_be_read() {
        let stats = ProcStats::read_self().expect("/proc/self");
        assert!(stats.rss_kib > 0 && stats.peak_rss_kib >= stats.rss_kib);
    }
}
