//! The server runs silence procedures' deadlines itself. Rooms hand every open procedure's
//! deadline to the [`SilenceWatch`] when their document loads and when one starts; at the
//! deadline the watch asks the document's room (loading it if nobody is connected) to run
//! `conclude-silence` as the server, whose mission no token may carry. At startup it loads
//! the documents whose audit shows a procedure ever started, so a deadline that passed while
//! the server was down is concluded as soon as it is back.
//!
//! With several nodes, each node also patrols the documents Redis counts open procedures for
//! (the count moves in the same script as the start's and the conclusion's append): one that
//! no node serves, because its owner died with nobody connected, is taken over and loaded, so
//! its deadline is still acted on.
//!
//! Acting twice is harmless by construction: the command refuses a procedure concluded
//! already (`silence-closed`), and the room runs commands one at a time, so the text is
//! adopted once however often, and by however many tasks, the deadline is acted on.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use concord_protocol::command::{Command, ErrorCode};
use tokio::sync::{oneshot, Notify};
use tokio_util::sync::CancellationToken;

use crate::auth::Identity;
use crate::clock::Clock;
use crate::room::registry::Rooms;
use crate::room::{CommandReplyTo, RoomRequest};

/// The deadlines to act on: `(deadline_ms, document, procedure)`, earliest first.
#[derive(Debug, Default)]
pub struct SilenceWatch {
    due: Mutex<BTreeSet<(u64, String, String)>>,
    changed: Notify,
}

/// The watch looks at the clock at least this often, so that a clock set by a test, or a
/// system clock that jumped, is noticed without a new deadline.
const RECHECK: Duration = Duration::from_millis(500);
/// After a failed attempt (the document could not be loaded), it tries again after this.
const RETRY_MS: u64 = 1_000;

/// How often a deadline of a document another node serves is looked at again.
const ELSEWHERE_MS: u64 = 5_000;

/// How often each node looks for documents with open procedures that no node serves.
const PATROL: Duration = Duration::from_secs(5);

impl SilenceWatch {
    /// Whether a deadline of `doc` is watched here.
    fn watches(&self, doc: &str) -> bool {
        let due = self.due.lock().unwrap_or_else(|p| p.into_inner());
        due.iter().any(|(_, d, _)| d == doc)
    }

    pub fn watch(&self, doc: &str, silence: &str, deadline_ms: u64) {
        let mut due = self.due.lock().unwrap_or_else(|p| p.into_inner());
        let known = due.iter().any(|(_, d, s)| d == doc && s == silence);
        if !known {
            due.insert((deadline_ms, doc.to_string(), silence.to_string()));
            drop(due);
            self.changed.notify_one();
        }
    }

    /// What is due at `now_ms`, taken out of the watch.
    fn take_due(&self, now_ms: u64) -> Vec<(u64, String, String)> {
        let mut due = self.due.lock().unwrap_or_else(|p| p.into_inner());
        let ready: Vec<_> = due
            .iter()
            .take_while(|(at, _, _)| *at <= now_ms)
            .cloned()
            .collect();
        for entry in &ready {
            due.remove(entry);
        }
        ready
    }

    fn next_deadline(&self) -> Option<u64> {
        let due = self.due.lock().unwrap_or_else(|p| p.into_inner());
        due.first().map(|(at, _, _)| *at)
    }

    /// Acts on deadlines until shutdown.
    pub async fn run(
        self: Arc<Self>,
        rooms: Arc<Rooms>,
        clock: Clock,
        shutdown: CancellationToken,
    ) {
        let server = Arc::new(Identity::server("silence procedure"));
        loop {
            let now = clock.now_ms();
            for (deadline, doc, silence) in self.take_due(now) {
                // With several nodes, the owner concludes; this node looks again later, and
                // takes the document over if its owner is gone.
                if !rooms.log().serves_here(&doc).await {
                    let mut due = self.due.lock().unwrap_or_else(|p| p.into_inner());
                    due.insert((now + ELSEWHERE_MS, doc, silence));
                    continue;
                }
                match conclude(&rooms, &server, &doc, &silence).await {
                    Ok(()) => tracing::info!(doc, silence, "silence procedure concluded"),
                    Err(Retry) => {
                        tracing::warn!(doc, silence, "silence procedure not concluded; retrying");
                        let mut due = self.due.lock().unwrap_or_else(|p| p.into_inner());
                        due.insert((deadline.max(now + RETRY_MS), doc, silence));
                    }
                }
            }
            let wait = self
                .next_deadline()
                .map_or(RECHECK, |at| {
                    Duration::from_millis(at.saturating_sub(clock.now_ms()))
                })
                .min(RECHECK);
            tokio::select! {
                () = tokio::time::sleep(wait) => {}
                () = self.changed.notified() => {}
                () = shutdown.cancelled() => return,
            }
        }
    }
}

/// Loads, at startup, the documents where a silence procedure ever started: each room hands
/// its open procedures to the watch as it loads.
pub async fn discover(rooms: Arc<Rooms>) {
    let docs = match rooms.log().documents_with_action("start-silence").await {
        Ok(docs) => docs,
        Err(err) => {
            tracing::error!(error = %err, "cannot list documents with silence procedures");
            return;
        }
    };
    for doc in docs {
        // With several nodes, the first node up serves them; the others forward.
        if rooms.log().serves_here(&doc).await {
            load(&rooms, &doc).await;
        }
    }
}

/// With several nodes: every [`PATROL`], the documents with an open procedure that this node
/// does not watch and that no live node serves (asking takes them) are loaded here.
pub async fn patrol(watch: Arc<SilenceWatch>, rooms: Arc<Rooms>, shutdown: CancellationToken) {
    let mut every = tokio::time::interval(PATROL);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = every.tick() => {}
            () = shutdown.cancelled() => return,
        }
        let docs = match rooms.log().documents_with_open_silences().await {
            Ok(docs) => docs,
            Err(err) => {
                tracing::debug!(error = %err, "cannot list documents with open silence procedures");
                continue;
            }
        };
        for doc in docs {
            // A room live here handed its procedures over as it loaded (and set the count).
            if watch.watches(&doc) || rooms.is_live(&doc) {
                continue;
            }
            if rooms.log().serves_here(&doc).await {
                load(&rooms, &doc).await;
            }
        }
    }
}

/// Loads `doc` here: its room hands its open procedures to the watch as it loads.
async fn load(rooms: &Arc<Rooms>, doc: &str) {
    let (reply, answer) = oneshot::channel();
    let request = RoomRequest::Read {
        who: Arc::new(Identity::server("silence procedure")),
        reply,
    };
    if rooms.get(doc).send(request).await.is_err() || answer.await.is_err() {
        tracing::warn!(doc, "cannot load a document with silence procedures");
    }
}

struct Retry;

/// Asks the room to conclude; done when it did, or when there is nothing left to conclude.
async fn conclude(
    rooms: &Arc<Rooms>,
    server: &Arc<Identity>,
    doc: &str,
    silence: &str,
) -> Result<(), Retry> {
    let command = Box::new(Command::ConcludeSilence {
        silence: silence.to_string(),
    });
    let (reply, answer) = oneshot::channel();
    let request = RoomRequest::Command {
        who: Arc::clone(server),
        command,
        reply: CommandReplyTo::Caller(reply),
    };
    rooms.get(doc).send(request).await.map_err(|_| Retry)?;
    match answer.await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(refused))
            if matches!(
                refused.code,
                ErrorCode::SilenceClosed | ErrorCode::UnknownSilence
            ) =>
        {
            Ok(())
        }
        // The deadline by this clock is not the command's yet (a clock set back), or the
        // write failed: try again.
        Ok(Err(refused)) => {
            tracing::warn!(doc, silence, code = %refused.code, message = %refused.message, "conclude-silence refused");
            Err(Retry)
        }
        Err(_) => Err(Retry),
    }
}
