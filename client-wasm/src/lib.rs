//! Concord's browser client, compiled to WebAssembly with wasm-bindgen.
//!
//! The client logic lives in plain Rust on top of `concord-protocol`, so it is unit tested
//! natively; `JsValue` appears only in the exported functions below. (The full editing client
//! and the web page arrive with the browser-client issue; this crate already proves that the
//! protocol builds and decodes frames in the browser.)

use concord_protocol::Message;
use wasm_bindgen::prelude::*;

/// What kind of message a frame holds, as a browser would show it in a debug panel.
pub fn describe_frame(frame: &[u8]) -> String {
    match Message::decode_frame(frame) {
        Ok(messages) => messages
            .iter()
            .map(|message| match message {
                Message::SyncStep1(_) => "sync-step-1",
                Message::SyncStep2(_) => "sync-step-2",
                Message::Update(_) => "update",
                Message::Awareness(_) => "awareness",
                Message::QueryAwareness => "query-awareness",
                Message::PermissionDenied(_) => "permission-denied",
                Message::Session(_) => "session",
                Message::Ack(_) => "ack",
                Message::Refresh(_) => "refresh",
                Message::Rejected(_) => "rejected",
                Message::Command(_) => "command",
                Message::CommandResult(_) => "command-result",
            })
            .collect::<Vec<_>>()
            .join(","),
        Err(err) => format!("error: {err}"),
    }
}

/// Exported: describes a received frame.
#[wasm_bindgen(js_name = describeFrame)]
pub fn describe_frame_js(frame: &[u8]) -> String {
    describe_frame(frame)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_are_described() {
        assert_eq!(describe_frame(&Message::Ack(3).encode()), "ack");
        assert!(describe_frame(&[0x2a]).starts_with("error: unknown message type"));
    }
}
