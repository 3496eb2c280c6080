//! The exported edge, compiled to wasm32 and run under Node (wasm-bindgen-test-runner): what the
//! page's JavaScript calls behaves as the native tests of the core say.
#![cfg(target_arch = "wasm32")]

use concord_client_wasm::wasm::Client;
use concord_protocol::command::{execute, Command, Context};
use concord_protocol::policy::Actor;
use concord_protocol::{Message, Role, Session};
use wasm_bindgen_test::wasm_bindgen_test;
use yrs::{ReadTxn, StateVector, Transact};

/// A server-side document with one paragraph, as the server would send it.
fn document() -> Vec<u8> {
    let doc = yrs::Doc::new();
    let mut txn = doc.transact_mut();
    let ctx = Context {
        actor: Actor {
            role: Role::Facilitator,
            mission: "MEX",
        },
        person: "chair",
        now_ms: 0,
    };
    let import = Command::ImportText {
        text: "[17] Cooperate.".into(),
    };
    execute(&mut txn, ctx, &import).expect("imports");
    txn.encode_state_as_update_v1(&StateVector::default())
}

fn signed_in(role: Role) -> Client {
    let mut client = Client::new();
    client.connected();
    let session = Session {
        document: "gcm".into(),
        person: Some("ana".into()),
        mission: Some("MEX".into()),
        role: Some(role),
        expires_at: None,
        server_time_ms: 0,
    };
    client.receive(&Message::Session(session).encode());
    client.receive(&Message::SyncStep2(&document()).encode());
    client
}

#[wasm_bindgen_test]
fn a_connection_starts_with_the_sync() {
    let mut client = Client::new();
    client.connected();
    let first = client.take_outgoing().expect("a frame to send");
    assert!(matches!(
        Message::decode_frame(&first).expect("decodes").as_slice(),
        [Message::SyncStep1(_)]
    ));
    let status: serde_json::Value = serde_json::from_str(&client.status()).expect("JSON");
    assert_eq!(status["connection"], "connecting");
}

#[wasm_bindgen_test]
fn a_facilitator_types_into_a_body_and_it_is_unsaved_until_acknowledged() {
    let mut client = signed_in(Role::Facilitator);
    let body = r#"{"kind":"body","id":"p1"}"#;
    client
        .edit(body, "Cooperate fully.")
        .expect("facilitators edit bodies");
    let model: serde_json::Value = serde_json::from_str(&client.model()).expect("JSON");
    assert_eq!(model["paragraphs"][0]["body"], "Cooperate fully.");
    let status: serde_json::Value = serde_json::from_str(&client.status()).expect("JSON");
    assert_eq!(status["saved"], false);
}

#[wasm_bindgen_test]
fn a_delegation_is_not_offered_a_body_and_an_observer_nothing() {
    let mut delegation = signed_in(Role::Delegation);
    let body = r#"{"kind":"body","id":"p1"}"#;
    let refused = delegation.edit(body, "rewritten").expect_err("refused");
    let refused: serde_json::Value =
        serde_json::from_str(&refused.as_string().expect("a JSON string")).expect("JSON");
    assert_eq!(refused["rule"], "body-facilitators-only");
    let observer = signed_in(Role::Observer);
    assert!(observer.may_edit(body).is_err());
    let model: serde_json::Value = serde_json::from_str(&observer.model()).expect("JSON");
    assert_eq!(model["paragraphs"][0]["editable"], false);
}
