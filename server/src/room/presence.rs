//! Who is present in a document (Yjs awareness), as the room relays it. Pure: the room feeds
//! it what connections publish and relays what it returns.
//!
//! Presence is written by clients, so the table trusts nothing in it: a state is stamped with
//! the publishing connection's person, mission and role ([`stamp`]); a client
//! id's presence belongs to the connection that first published it; a client id that wrote in
//! the document belongs to its mission, in presence too; clocks only move forward.

use std::collections::HashMap;

use bytes::Bytes;
use concord_protocol::awareness::{encode_awareness, AwarenessEntry};
use concord_protocol::{Message, Role};
use serde_json::{Map, Value};

use crate::peer::ConnId;

/// One client id's presence, and the connection that published it.
struct Presence {
    clock: u32,
    state: String,
    owner: ConnId,
}

/// Who publishes: a connection and the identity its token gives it.
pub(crate) struct Publisher<'a> {
    pub conn: ConnId,
    pub person: &'a str,
    pub mission: &'a str,
    pub role: Role,
}

/// An entry to relay: a client id, its clock, and its state (`None`: it left).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Relayed {
    pub client: u64,
    pub clock: u32,
    pub state: Option<String>,
}

#[derive(Default)]
pub(crate) struct PresenceTable {
    entries: HashMap<u64, Presence>,
}

impl PresenceTable {
    /// Takes what `publisher` sent; returns what to relay to everyone. `owner` names the
    /// mission that owns a client id, if it wrote in the document.
    pub fn publish<'o>(
        &mut self,
        publisher: &Publisher<'_>,
        entries: Vec<AwarenessEntry<'_>>,
        owner: impl Fn(u64) -> Option<&'o str>,
    ) -> Vec<Relayed> {
        // Observers are invisible: their presence goes nowhere.
        if publisher.role == Role::Observer {
            return Vec::new();
        }
        let mut relayed = Vec::with_capacity(entries.len());
        for entry in entries {
            if owner(entry.client).is_some_and(|owner| owner != publisher.mission) {
                continue;
            }
            match self.entries.get(&entry.client) {
                Some(current) if current.owner != publisher.conn => continue,
                Some(current) if entry.clock < current.clock => continue,
                Some(current) if entry.clock == current.clock && !entry.is_removal() => continue,
                _ => {}
            }
            if entry.is_removal() {
                self.entries.remove(&entry.client);
                relayed.push(Relayed {
                    client: entry.client,
                    clock: entry.clock,
                    state: None,
                });
                continue;
            }
            let state = stamp(
                entry.state,
                publisher.person,
                publisher.mission,
                publisher.role,
            );
            self.entries.insert(
                entry.client,
                Presence {
                    clock: entry.clock,
                    state: state.clone(),
                    owner: publisher.conn,
                },
            );
            relayed.push(Relayed {
                client: entry.client,
                clock: entry.clock,
                state: Some(state),
            });
        }
        relayed
    }

    /// A connection left: its presence goes with it, as y-websocket does. Returns the
    /// removals to relay.
    pub fn leave(&mut self, conn: ConnId) -> Vec<Relayed> {
        let mut gone = Vec::new();
        self.entries.retain(|client, presence| {
            if presence.owner == conn {
                gone.push(Relayed {
                    client: *client,
                    clock: presence.clock + 1,
                    state: None,
                });
                false
            } else {
                true
            }
        });
        gone
    }

    /// Everyone's presence as one awareness frame (for a joining connection).
    pub fn frame(&self) -> Option<Bytes> {
        if self.entries.is_empty() {
            return None;
        }
        let update = encode_awareness(self.entries.iter().map(|(client, p)| AwarenessEntry {
            client: *client,
            clock: p.clock,
            state: &p.state,
        }));
        Some(Message::Awareness(&update).encode().into())
    }
}

/// `state` (a client's JSON presence) with the token's identity written over its own. A state
/// that is not a JSON object becomes one holding only the identity.
pub(crate) fn stamp(state: &str, person: &str, mission: &str, role: Role) -> String {
    let mut object = match serde_json::from_str::<Value>(state) {
        Ok(Value::Object(object)) => object,
        _ => Map::new(),
    };
    object.insert("person".into(), Value::from(person));
    object.insert("mission".into(), Value::from(mission));
    object.insert("role".into(), Value::from(role.as_str()));
    // Stock Yjs editors show `user.name` (y-protocols' convention): it names the person too.
    if let Some(Value::Object(user)) = object.get_mut("user") {
        user.insert("name".into(), Value::from(person));
    }
    Value::Object(object).to_string()
}

/// `relayed` as one awareness frame.
pub(crate) fn frame_of(relayed: &[Relayed]) -> Bytes {
    let update = encode_awareness(relayed.iter().map(|r| AwarenessEntry {
        client: r.client,
        clock: r.clock,
        state: r.state.as_deref().unwrap_or("null"),
    }));
    Message::Awareness(&update).encode().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(client: u64, clock: u32, state: &str) -> AwarenessEntry<'_> {
        AwarenessEntry {
            client,
            clock,
            state,
        }
    }

    const EU: Publisher<'static> = Publisher {
        conn: 1,
        person: "eve",
        mission: "EU",
        role: Role::Delegation,
    };
    const MEX: Publisher<'static> = Publisher {
        conn: 2,
        person: "ana",
        mission: "MEX",
        role: Role::Delegation,
    };

    fn nobody(_: u64) -> Option<&'static str> {
        None
    }

    #[test]
    fn states_are_stamped_with_the_publishers_identity() {
        let mut table = PresenceTable::default();
        let relayed = table.publish(&EU, vec![entry(10, 1, r#"{"mission":"MEX"}"#)], nobody);
        let state: serde_json::Value =
            serde_json::from_str(relayed[0].state.as_deref().expect("state")).expect("json");
        assert_eq!(state["mission"], "EU");
        assert_eq!(state["person"], "eve");
    }

    #[test]
    fn a_client_id_belongs_to_its_first_connection_and_to_its_mission() {
        let mut table = PresenceTable::default();
        assert_eq!(
            table.publish(&EU, vec![entry(10, 1, "{}")], nobody).len(),
            1
        );
        // Another connection cannot take client 10 over, even with a later clock.
        assert!(table
            .publish(&MEX, vec![entry(10, 5, "{}")], nobody)
            .is_empty());
        // A client id MEX wrote under is MEX's: EU cannot speak for it.
        let owned = |client: u64| (client == 20).then_some("MEX");
        assert!(table
            .publish(&EU, vec![entry(20, 1, "{}")], owned)
            .is_empty());
        assert_eq!(
            table.publish(&MEX, vec![entry(20, 1, "{}")], owned).len(),
            1
        );
    }

    #[test]
    fn clocks_only_move_forward_and_removals_are_relayed() {
        let mut table = PresenceTable::default();
        table.publish(&EU, vec![entry(10, 3, "{}")], nobody);
        assert!(table
            .publish(&EU, vec![entry(10, 2, "{}")], nobody)
            .is_empty());
        assert!(table
            .publish(&EU, vec![entry(10, 3, "{}")], nobody)
            .is_empty());
        let removal = table.publish(&EU, vec![entry(10, 3, "null")], nobody);
        assert_eq!(removal[0].state, None);
        assert!(table.frame().is_none());
    }

    #[test]
    fn observers_are_invisible() {
        let mut table = PresenceTable::default();
        let observer = Publisher {
            conn: 3,
            person: "nora",
            mission: "IOM",
            role: Role::Observer,
        };
        assert!(table
            .publish(&observer, vec![entry(30, 1, "{}")], nobody)
            .is_empty());
        assert!(table.frame().is_none());
    }

    #[test]
    fn leaving_removes_what_the_connection_published() {
        let mut table = PresenceTable::default();
        table.publish(&EU, vec![entry(10, 1, "{}"), entry(11, 4, "{}")], nobody);
        table.publish(&MEX, vec![entry(20, 1, "{}")], nobody);
        let mut gone = table.leave(EU.conn);
        gone.sort_by_key(|r| r.client);
        assert_eq!(
            gone,
            vec![
                Relayed {
                    client: 10,
                    clock: 2,
                    state: None
                },
                Relayed {
                    client: 11,
                    clock: 5,
                    state: None
                }
            ]
        );
        assert!(table.frame().is_some(), "MEX's presence stays");
        assert!(table.leave(EU.conn).is_empty());
    }

    #[test]
    fn the_token_overwrites_a_claimed_identity() {
        let forged = r#"{"person":"Chair","mission":"MEX","role":"facilitator","cursor":3,"user":{"name":"Chair","color":"red"}}"#;
        let stamped: Value =
            serde_json::from_str(&stamp(forged, "eve", "EU", Role::Delegation)).expect("json");
        assert_eq!(stamped["person"], "eve");
        assert_eq!(stamped["mission"], "EU");
        assert_eq!(stamped["role"], "delegation");
        assert_eq!(stamped["user"]["name"], "eve");
        assert_eq!(stamped["user"]["color"], "red", "the rest is kept");
        assert_eq!(stamped["cursor"], 3);
    }

    #[test]
    fn a_state_that_is_not_an_object_carries_only_the_identity() {
        for state in ["\"Chair\"", "[1]", "not json", "42"] {
            let stamped: Value =
                serde_json::from_str(&stamp(state, "eve", "EU", Role::Observer)).expect("json");
            assert_eq!(stamped["mission"], "EU", "{state}");
            assert_eq!(stamped["role"], "observer", "{state}");
        }
    }
}
