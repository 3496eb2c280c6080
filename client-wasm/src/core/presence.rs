//! Presence: who else has the document open (person, mission, role, as the server stamped
//! them), and this person's own presence, published once signed in unless they observe, with
//! the text they are in (`focus`), so others see "EU is editing a1".

use concord_protocol::awareness::{decode_awareness, encode_awareness, AwarenessEntry};
use concord_protocol::{Message, Role};
use serde_json::{json, Value};

use super::{ClientCore, Event, Link, Target};

impl ClientCore {
    pub(super) fn publish_presence(&mut self) {
        let Some(session) = &self.session else { return };
        if self.link == Link::Offline || session.role == Some(Role::Observer) {
            return;
        }
        self.presence_clock += 1;
        let state = json!({
            "person": session.person,
            "mission": session.mission,
            "role": session.role,
            "focus": self.focus,
            "caret": self.caret,
        })
        .to_string();
        let update = encode_awareness([AwarenessEntry {
            client: self.client_id(),
            clock: self.presence_clock,
            state: &state,
        }]);
        self.outgoing
            .push_back(Message::Awareness(&update).encode());
    }

    /// The person moved into `focus` (or out of every text): published if it changed.
    pub fn set_focus(&mut self, focus: Option<Target>) {
        self.set_focus_at(focus, None);
    }

    /// As [`ClientCore::set_focus`], with where the caret is in that text (UTF-16 offset), so
    /// others can show it: published if either changed.
    pub fn set_focus_at(&mut self, focus: Option<Target>, caret: Option<u32>) {
        let caret = if focus.is_some() { caret } else { None };
        if self.focus == focus && self.caret == caret {
            return;
        }
        self.focus = focus;
        self.caret = caret;
        self.publish_presence();
    }

    pub(super) fn receive_presence(&mut self, update: &[u8]) {
        let Ok(entries) = decode_awareness(update) else {
            return;
        };
        let own = self.client_id();
        for entry in entries {
            if entry.client == own {
                continue;
            }
            if entry.is_removal() {
                self.presence.remove(&entry.client);
                continue;
            }
            let newer = self
                .presence
                .get(&entry.client)
                .is_none_or(|(clock, _)| entry.clock >= *clock);
            if newer {
                if let Ok(state) = serde_json::from_str::<Value>(entry.state) {
                    self.presence.insert(entry.client, (entry.clock, state));
                }
            }
        }
        self.event(Event::Presence);
    }

    /// Others' presence states, by client id.
    pub(super) fn presence_list(&self) -> Vec<&Value> {
        self.presence.values().map(|(_, state)| state).collect()
    }
}
