//! Who a presence state says it is. Presence (Yjs awareness) is written by clients, so anyone
//! could publish "Chair, MEX, facilitator". The server stamps every state it relays with the
//! person, mission and role of the connection's token, overwriting whatever the client said;
//! the page shows only those fields.

use concord_protocol::Role;
use serde_json::{Map, Value};

/// `state` (a client's JSON presence) with the token's identity written over its own. A state
/// that is not a JSON object becomes one holding only the identity.
pub fn stamp(state: &str, person: &str, mission: &str, role: Role) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;

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
