//! A storage fault injector: a [`DocumentLog`] around the real one that holds, fails or passes
//! writes on demand, so that tests hit the crash windows (a write issued but not durable) and
//! the full disk deterministically rather than by luck.
//!
//! The test binary (`concord-under-test`) wraps its storage in it when `CONCORD_TEST_FAULTS` is
//! set, and takes orders on stdin, one per line, answering each on stdout once it holds:
//! - `hold`: writes (appends, snapshots, barriers) wait, in order, without reaching the disk;
//!   each held write is announced as `faults: held <n>`;
//! - `fail`: appends and snapshots fail at once, as on a full disk (`no space left on device`);
//!   barriers, which write nothing, still pass;
//! - `pass`: held writes go on to the disk, in order, and later ones pass straight through.

use std::io::{BufRead, Write as _};
use std::sync::{Arc, Mutex};

use concord_server::audit::AuditRecord;
use concord_server::storage::{
    AuditQuery, BoxFuture, Completion, DocumentLog, LogEntry, StorageError, StoredDocument,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Pass,
    Hold,
    Fail,
}

enum Held {
    Append(String, LogEntry, Completion),
    Snapshot(String, Vec<u8>, Completion),
    Barrier(Completion),
}

pub struct FaultyLog {
    inner: Arc<dyn DocumentLog>,
    state: Mutex<(Mode, Vec<Held>)>,
}

impl FaultyLog {
    pub fn new(inner: Arc<dyn DocumentLog>) -> Arc<Self> {
        Arc::new(FaultyLog {
            inner,
            state: Mutex::new((Mode::Pass, Vec::new())),
        })
    }

    /// Wraps `inner` and follows the orders read from stdin (see the module docs).
    pub fn controlled_by_stdin(inner: Arc<dyn DocumentLog>) -> Arc<dyn DocumentLog> {
        let log = FaultyLog::new(inner);
        let control = Arc::clone(&log);
        std::thread::spawn(move || {
            for line in std::io::stdin().lock().lines() {
                let Ok(line) = line else { break };
                let mode = match line.trim() {
                    "hold" => Mode::Hold,
                    "fail" => Mode::Fail,
                    "pass" => Mode::Pass,
                    _ => continue,
                };
                control.set(mode);
                announce(&format!("faults: {}", line.trim()));
            }
        });
        log
    }

    pub fn set(&self, mode: Mode) {
        let held = {
            let Ok(mut state) = self.state.lock() else {
                return;
            };
            state.0 = mode;
            if mode == Mode::Hold {
                return;
            }
            std::mem::take(&mut state.1)
        };
        for write in held {
            match (mode, write) {
                (Mode::Fail, Held::Barrier(done)) => self.inner.barrier(done),
                (Mode::Fail, write) => fail(write),
                (_, write) => self.forward(write),
            }
        }
    }

    fn forward(&self, write: Held) {
        match write {
            Held::Append(doc, entry, done) => self.inner.append(&doc, entry, done),
            Held::Snapshot(doc, state, done) => self.inner.snapshot(&doc, state, done),
            Held::Barrier(done) => self.inner.barrier(done),
        }
    }

    fn submit(&self, write: Held) {
        let mode = {
            let Ok(mut state) = self.state.lock() else {
                return fail(write);
            };
            if state.0 == Mode::Hold {
                state.1.push(write);
                let held = state.1.len();
                drop(state);
                announce(&format!("faults: held {held}"));
                return;
            }
            state.0
        };
        match (mode, write) {
            (Mode::Fail, Held::Barrier(done)) => self.inner.barrier(done),
            (Mode::Fail, write) => fail(write),
            (_, write) => self.forward(write),
        }
    }
}

fn fail(write: Held) {
    let done = match write {
        Held::Append(_, _, done) | Held::Snapshot(_, _, done) | Held::Barrier(done) => done,
    };
    done(Err(StorageError::Backend(
        "injected fault: no space left on device".into(),
    )));
}

fn announce(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

impl DocumentLog for FaultyLog {
    fn load<'a>(&'a self, doc: &'a str) -> BoxFuture<'a, Result<StoredDocument, StorageError>> {
        self.inner.load(doc)
    }

    fn append(&self, doc: &str, entry: LogEntry, done: Completion) {
        self.submit(Held::Append(doc.to_string(), entry, done));
    }

    fn audit<'a>(
        &'a self,
        doc: &'a str,
        since_ms: u64,
    ) -> BoxFuture<'a, Result<Vec<AuditRecord>, StorageError>> {
        self.inner.audit(doc, since_ms)
    }

    fn audit_page<'a>(
        &'a self,
        doc: &'a str,
        query: &'a AuditQuery,
    ) -> BoxFuture<'a, Result<Vec<(u64, AuditRecord)>, StorageError>> {
        self.inner.audit_page(doc, query)
    }

    fn documents(&self) -> BoxFuture<'_, Result<Vec<String>, StorageError>> {
        self.inner.documents()
    }

    fn documents_with_action<'a>(
        &'a self,
        action: &'a str,
    ) -> BoxFuture<'a, Result<Vec<String>, StorageError>> {
        self.inner.documents_with_action(action)
    }

    fn barrier(&self, done: Completion) {
        self.submit(Held::Barrier(done));
    }

    fn snapshot(&self, doc: &str, state: Vec<u8>, done: Completion) {
        self.submit(Held::Snapshot(doc.to_string(), state, done));
    }

    fn close(&self) -> BoxFuture<'_, Result<(), StorageError>> {
        self.inner.close()
    }
}
