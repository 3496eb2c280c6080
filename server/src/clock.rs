//! The server's one clock: what rooms stamp audit records and comments with, what connections
//! check token expiry against, what `Session` reports. Passed in through [`crate::Config`] so
//! that tests can run the server at a time of their choosing.

use std::fmt;
use std::sync::Arc;

/// Unix time in milliseconds, from the system clock unless a test sets another.
#[derive(Clone)]
pub struct Clock(Arc<dyn Fn() -> u64 + Send + Sync>);

impl Clock {
    /// The system's wall clock.
    pub fn system() -> Self {
        Clock(Arc::new(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_millis() as u64)
                .unwrap_or(0)
        }))
    }

    /// A clock that reads `now_ms` (tests).
    pub fn from_fn(now_ms: impl Fn() -> u64 + Send + Sync + 'static) -> Self {
        Clock(Arc::new(now_ms))
    }

    pub fn now_ms(&self) -> u64 {
        (self.0)()
    }

    pub fn now_seconds(&self) -> u64 {
        self.now_ms() / 1000
    }
}

impl Default for Clock {
    fn default() -> Self {
        Clock::system()
    }
}

impl fmt::Debug for Clock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Clock({} ms)", self.now_ms())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU64, Ordering};

    #[test]
    fn a_test_clock_reads_what_it_is_given() {
        let now = Arc::new(AtomicU64::new(1_500));
        let read = Arc::clone(&now);
        let clock = Clock::from_fn(move || read.load(Ordering::Relaxed));
        assert_eq!((clock.now_ms(), clock.now_seconds()), (1_500, 1));
        now.store(62_000, Ordering::Relaxed);
        assert_eq!(clock.clone().now_seconds(), 62);
        assert!(Clock::system().now_ms() > 1_700_000_000_000);
    }
}
