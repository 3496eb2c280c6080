//! What the page hears about: typed events, drained by [`ClientCore::take_events`] as the JSON
//! objects (tagged by `type`) the page's script reads: `texts` (someone typed: only these
//! paragraph or amendment texts changed), `changed` (structure: re-read the model), `status`,
//! `session`, `presence`, `rejected`, `recoverable`, `command-result` and `error`.

use concord_protocol::command::Reply;
use serde::Serialize;
use serde_json::{json, Value};

use super::{ClientCore, Target};

/// One thing that happened, for the page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum Event {
    /// Someone typed: only these texts changed.
    Texts { targets: Vec<Target> },
    /// The structure changed (paragraphs, amendments, locks, comments) or a whole state
    /// arrived: the page re-reads the model.
    Changed,
    /// Connection, saving state or recoverable text changed: the page re-reads the status.
    Status,
    /// The server said who this is.
    Session,
    /// Someone else's presence changed.
    Presence,
    /// The server refused an update (the rule, the paragraph concerned, a sentence).
    Rejected {
        rule: String,
        paragraph: Option<String>,
        message: String,
    },
    /// Text the server would no longer accept, kept for the person to copy.
    Recoverable {
        target: Target,
        text: String,
        why: String,
    },
    /// The server's answer to a command sent with [`ClientCore::command`].
    CommandResult { id: u64, result: Reply },
    /// Something from the server could not be read or applied.
    Error { message: String },
}

impl ClientCore {
    /// What happened since the last call, for the page (JSON values with a `type`).
    pub fn take_events(&mut self) -> Vec<Value> {
        std::mem::take(&mut self.events)
            .into_iter()
            .map(|event| {
                serde_json::to_value(&event).unwrap_or_else(
                    |err| json!({"type": "error", "message": format!("unserializable event: {err}")}),
                )
            })
            .collect()
    }

    pub(super) fn event(&mut self, event: Event) {
        self.events.push(event);
    }

    /// One `status` event for a run of status changes.
    pub(super) fn status_changed(&mut self) {
        if !matches!(self.events.last(), Some(Event::Status)) {
            self.event(Event::Status);
        }
    }

    /// A whole state arrived: if the last event lists texts, it becomes `changed` (the page
    /// re-reads everything).
    pub(super) fn whole_state_changed(&mut self) {
        if let Some(last @ Event::Texts { .. }) = self.events.last_mut() {
            *last = Event::Changed;
        }
    }
}
