//! The exported edge: what the page's JavaScript calls. Values cross as bytes and JSON text.

use concord_protocol::command::Command;
use wasm_bindgen::prelude::*;

use crate::core::{ClientCore, Target};

/// One document's client: feed it the socket's frames, send what it gives back.
#[wasm_bindgen]
pub struct Client {
    core: ClientCore,
}

impl Default for Client {
    fn default() -> Self {
        Self::new()
    }
}

fn error(value: impl serde::Serialize) -> JsValue {
    JsValue::from_str(&serde_json::to_string(&value).unwrap_or_else(|_| "{}".into()))
}

#[wasm_bindgen]
impl Client {
    #[wasm_bindgen(constructor)]
    pub fn new() -> Client {
        Client {
            core: ClientCore::new(),
        }
    }

    /// The socket opened.
    pub fn connected(&mut self) {
        self.core.connected();
    }

    /// The socket closed; true when reconnecting makes sense.
    pub fn disconnected(&mut self, code: u16, reason: &str) -> bool {
        self.core.disconnected(code, reason)
    }

    #[wasm_bindgen(js_name = reconnectDelayMs)]
    pub fn reconnect_delay_ms(&self, jitter: f64) -> f64 {
        self.core.reconnect_delay_ms(jitter)
    }

    /// A binary frame from the socket.
    pub fn receive(&mut self, frame: &[u8]) {
        self.core.receive(frame);
    }

    /// The next frame to send, or `undefined`.
    #[wasm_bindgen(js_name = takeOutgoing)]
    pub fn take_outgoing(&mut self) -> Option<Vec<u8>> {
        self.core.take_outgoing()
    }

    /// Events since the last call, as a JSON array.
    #[wasm_bindgen(js_name = takeEvents)]
    pub fn take_events(&mut self) -> String {
        serde_json::Value::Array(self.core.take_events()).to_string()
    }

    /// The document as JSON (paragraphs, amendments, comments, what may be edited, presence,
    /// the published revisions and the next cover letter).
    pub fn model(&self) -> String {
        self.core.model_json()
    }

    /// Connection, saving state, session and recoverable text, as JSON.
    pub fn status(&self) -> String {
        self.core.status().to_string()
    }

    /// Sets a text to what an input now holds. `target` is JSON `{"kind": "body" |
    /// "amendment-text" | "amendment-rationale", "id": ...}` or `{"kind": "cover-note"}`.
    /// Throws a JSON `{rule, message}`.
    pub fn edit(&mut self, target: &str, value: &str) -> Result<(), JsValue> {
        let target: Target = serde_json::from_str(target).map_err(|e| {
            error(serde_json::json!({"rule": "bad-target", "message": e.to_string()}))
        })?;
        self.core.edit(&target, value).map_err(error)
    }

    /// May this person edit `target` now? Throws why not.
    #[wasm_bindgen(js_name = mayEdit)]
    pub fn may_edit(&self, target: &str) -> Result<(), JsValue> {
        let target: Target = serde_json::from_str(target).map_err(|e| {
            error(serde_json::json!({"rule": "bad-target", "message": e.to_string()}))
        })?;
        self.core.may_edit(&target).map_err(error)
    }

    /// Sends a command (JSON, as the REST route takes it); returns its id. Throws a JSON
    /// `{code, message}` for what the server would refuse.
    pub fn command(&mut self, command: &str) -> Result<f64, JsValue> {
        let command: Command = serde_json::from_str(command).map_err(|e| {
            error(serde_json::json!({"code": "invalid-command", "message": e.to_string()}))
        })?;
        self.core
            .command(command)
            .map(|id| id as f64)
            .map_err(error)
    }

    /// The current text of `target` (JSON as for `edit`), or `undefined`.
    pub fn text(&self, target: &str) -> Option<String> {
        let target: Target = serde_json::from_str(target).ok()?;
        self.core.text(&target)
    }

    /// The text the person is in (JSON as for `edit`), or `null`/empty for none: published
    /// with their presence.
    #[wasm_bindgen(js_name = setFocus)]
    pub fn set_focus(&mut self, target: &str) {
        let target = serde_json::from_str::<Option<Target>>(target)
            .ok()
            .flatten();
        self.core.set_focus(target);
    }

    /// As `setFocus`, with the caret's UTF-16 offset in that text (negative: not said).
    #[wasm_bindgen(js_name = setFocusAt)]
    pub fn set_focus_at(&mut self, target: &str, caret: i32) {
        let target = serde_json::from_str::<Option<Target>>(target)
            .ok()
            .flatten();
        self.core.set_focus_at(target, u32::try_from(caret).ok());
    }

    #[wasm_bindgen(js_name = dismissRecoverable)]
    pub fn dismiss_recoverable(&mut self, index: usize) {
        self.core.dismiss_recoverable(index);
    }
}
