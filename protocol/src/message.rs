//! The messages of one WebSocket frame, and their one encoding.
//!
//! The base is the y-websocket protocol as Yjs speaks it: a lib0 varuint message type, then its
//! body. Types 0-3 are y-protocols' own (sync, awareness, auth, query awareness). Concord's
//! messages use types from [`CONCORD_BASE`] up and always carry their body as one length-prefixed
//! buffer, so a reader that does not know them can skip them (stock y-websocket clients log and
//! ignore unknown types).
//!
//! The server sends exactly one message per frame: stock y-websocket clients read only the first
//! message of a frame. It accepts several messages in one frame from clients, each decoded in
//! turn; anything malformed anywhere in the frame rejects the frame.

use yrs::updates::decoder::Decode;
use yrs::updates::encoder::Encode;
use yrs::StateVector;

use crate::command::{CommandReply, CommandRequest};
pub use crate::error::DecodeError;
use crate::error::MAX_CLIENT_ID;
use crate::lib0::{var_u64_len, write_buf, write_var_u64, Reader};
use crate::session::{Rejection, Session};

/// y-protocols sync message (its sub-type follows).
pub const MSG_SYNC: u64 = 0;
/// y-protocols awareness update.
pub const MSG_AWARENESS: u64 = 1;
/// y-protocols auth message (permission denied, with a reason).
pub const MSG_AUTH: u64 = 2;
/// y-protocols request for everyone's awareness state.
pub const MSG_QUERY_AWARENESS: u64 = 3;

pub const SYNC_STEP_1: u64 = 0;
pub const SYNC_STEP_2: u64 = 1;
pub const SYNC_UPDATE: u64 = 2;

/// First message type of Concord's extension space.
pub const CONCORD_BASE: u64 = 100;
/// Concord: who this connection is (sent by the server right after the upgrade).
pub const MSG_SESSION: u64 = 100;
/// Concord: every update this connection sent, up to the given count, is durably stored.
pub const MSG_ACK: u64 = 101;
/// Concord (client to server): a fresh token for this session, before the current one expires.
pub const MSG_REFRESH: u64 = 102;
/// Concord: an update or command was refused (rule, paragraph, message).
pub const MSG_REJECTED: u64 = 103;
/// Concord (client to server): a command (JSON [`CommandRequest`]).
pub const MSG_COMMAND: u64 = 104;
/// Concord: the answer to a command (JSON [`CommandReply`]).
pub const MSG_COMMAND_RESULT: u64 = 105;

const AUTH_PERMISSION_DENIED: u64 = 0;

/// One protocol message. Payloads borrow from the frame they were decoded from.
#[derive(Debug, Clone, PartialEq)]
pub enum Message<'a> {
    /// "Here is my state vector; send me what I lack."
    SyncStep1(StateVector),
    /// The answer to a sync step 1: an update with everything the asker lacked.
    SyncStep2(&'a [u8]),
    /// An incremental document update.
    Update(&'a [u8]),
    /// An encoded awareness update (presence: cursors, names).
    Awareness(&'a [u8]),
    /// "Send me everyone's awareness state."
    QueryAwareness,
    /// y-protocols permission denied, with a reason (stock clients surface it).
    PermissionDenied(&'a str),
    /// Concord: the session as the server sees it.
    Session(Session),
    /// Concord (client to server): a fresh token extending this session.
    Refresh(&'a str),
    /// Concord: what the server refused, and why.
    Rejected(Rejection),
    /// Concord (client to server): a structural change, numbered by the client.
    Command(CommandRequest),
    /// Concord (client to server): a `Command` message whose body is not a command this
    /// protocol knows (an unknown `type`, a missing field, not JSON at all). The frame around
    /// it is well formed, so the server answers it with a `CommandResult` error, as REST
    /// answers 400, instead of closing the connection. `id` is the request's, if it could be
    /// read; `error` says what was wrong.
    UnreadableCommand {
        id: Option<u64>,
        body: &'a [u8],
        error: String,
    },
    /// Concord: the answer to a command.
    CommandResult(CommandReply),
    /// Concord: the first `n` document updates (sync step 2 or update messages, counted
    /// together in the order sent) this connection sent are durable.
    Ack(u64),
}

impl<'a> Message<'a> {
    /// Decodes every message of a frame. An empty frame, or one with anything malformed in it,
    /// is an error.
    pub fn decode_frame(frame: &'a [u8]) -> Result<Vec<Message<'a>>, DecodeError> {
        if frame.is_empty() {
            return Err(DecodeError::Empty);
        }
        let mut reader = Reader::new(frame);
        let mut messages = Vec::with_capacity(1);
        while !reader.is_empty() {
            messages.push(Self::decode(&mut reader)?);
        }
        Ok(messages)
    }

    /// Decodes one message from the reader's position.
    pub fn decode(r: &mut Reader<'a>) -> Result<Self, DecodeError> {
        let at = r.position();
        let kind = r.read_var_u64()?;
        match kind {
            MSG_SYNC => {
                let sub_at = r.position();
                match r.read_var_u64()? {
                    SYNC_STEP_1 => {
                        let at = r.position();
                        let bytes = r.read_buf()?;
                        // A state vector entry takes at least two bytes; refuse counts the
                        // bytes cannot hold before yrs reserves room for them.
                        let mut sv = Reader::new(bytes);
                        let entries = sv.read_var_u64()?;
                        if entries > (sv.remaining() / 2) as u64 {
                            return Err(DecodeError::LengthExceedsFrame {
                                at,
                                claimed: entries,
                                available: sv.remaining(),
                            });
                        }
                        for _ in 0..entries {
                            let client = sv.read_var_u64()?;
                            if client > MAX_CLIENT_ID {
                                return Err(DecodeError::ClientIdTooLarge { at, client });
                            }
                            if sv.read_var_u64()? > u64::from(u32::MAX) {
                                return Err(DecodeError::VarintOverflow { at });
                            }
                        }
                        if !sv.is_empty() {
                            return Err(DecodeError::InvalidStateVector { at });
                        }
                        let state_vector = StateVector::decode_v1(bytes)
                            .map_err(|_| DecodeError::InvalidStateVector { at })?;
                        Ok(Message::SyncStep1(state_vector))
                    }
                    SYNC_STEP_2 => Ok(Message::SyncStep2(r.read_buf()?)),
                    SYNC_UPDATE => Ok(Message::Update(r.read_buf()?)),
                    sub => Err(DecodeError::UnknownSyncStep { at: sub_at, sub }),
                }
            }
            MSG_AWARENESS => Ok(Message::Awareness(r.read_buf()?)),
            MSG_AUTH => match r.read_var_u64()? {
                AUTH_PERMISSION_DENIED => Ok(Message::PermissionDenied(r.read_string()?)),
                other => Err(DecodeError::UnknownMessageType { at, kind: other }),
            },
            MSG_QUERY_AWARENESS => Ok(Message::QueryAwareness),
            MSG_SESSION => {
                let json = r.read_buf()?;
                let session =
                    serde_json::from_slice(json).map_err(|_| DecodeError::InvalidJson { at })?;
                Ok(Message::Session(session))
            }
            MSG_REFRESH => Ok(Message::Refresh(r.read_string()?)),
            MSG_REJECTED => {
                let json = r.read_buf()?;
                let rejection =
                    serde_json::from_slice(json).map_err(|_| DecodeError::InvalidJson { at })?;
                Ok(Message::Rejected(rejection))
            }
            MSG_COMMAND => {
                let json = r.read_buf()?;
                Ok(match serde_json::from_slice(json) {
                    Ok(request) => Message::Command(request),
                    Err(err) => Message::UnreadableCommand {
                        id: request_id(json),
                        body: json,
                        error: err.to_string(),
                    },
                })
            }
            MSG_COMMAND_RESULT => {
                let json = r.read_buf()?;
                serde_json::from_slice(json)
                    .map(Message::CommandResult)
                    .map_err(|_| DecodeError::InvalidJson { at })
            }
            MSG_ACK => {
                let body = r.read_buf()?;
                let mut body = Reader::new(body);
                let count = body.read_var_u64()?;
                if !body.is_empty() {
                    return Err(DecodeError::TrailingBytes {
                        at,
                        count: body.remaining(),
                    });
                }
                Ok(Message::Ack(count))
            }
            kind => Err(DecodeError::UnknownMessageType { at, kind }),
        }
    }

    /// Encodes the message as one frame.
    pub fn encode(&self) -> Vec<u8> {
        match self {
            Message::SyncStep1(sv) => sync_frame(SYNC_STEP_1, &sv.encode_v1()),
            Message::SyncStep2(update) => sync_frame(SYNC_STEP_2, update),
            Message::Update(update) => sync_frame(SYNC_UPDATE, update),
            Message::Awareness(update) => {
                let mut out =
                    Vec::with_capacity(1 + var_u64_len(update.len() as u64) + update.len());
                write_var_u64(&mut out, MSG_AWARENESS);
                write_buf(&mut out, update);
                out
            }
            Message::QueryAwareness => vec![MSG_QUERY_AWARENESS as u8],
            Message::PermissionDenied(reason) => {
                let mut out = Vec::with_capacity(reason.len() + 8);
                write_var_u64(&mut out, MSG_AUTH);
                write_var_u64(&mut out, AUTH_PERMISSION_DENIED);
                write_buf(&mut out, reason.as_bytes());
                out
            }
            Message::Session(session) => {
                // Serialising a plain struct of strings and numbers cannot fail.
                let json = serde_json::to_vec(session).unwrap_or_default();
                concord_frame(MSG_SESSION, &json)
            }
            Message::Refresh(token) => concord_frame(MSG_REFRESH, token.as_bytes()),
            Message::Rejected(rejection) => {
                let json = serde_json::to_vec(rejection).unwrap_or_default();
                concord_frame(MSG_REJECTED, &json)
            }
            Message::Command(request) => concord_frame(
                MSG_COMMAND,
                &serde_json::to_vec(request).unwrap_or_default(),
            ),
            Message::UnreadableCommand { body, .. } => concord_frame(MSG_COMMAND, body),
            Message::CommandResult(reply) => concord_frame(
                MSG_COMMAND_RESULT,
                &serde_json::to_vec(reply).unwrap_or_default(),
            ),
            Message::Ack(count) => {
                let mut body = Vec::with_capacity(var_u64_len(*count));
                write_var_u64(&mut body, *count);
                concord_frame(MSG_ACK, &body)
            }
        }
    }

    /// Whether this message carries document content (and so counts towards `Ack`).
    pub fn is_document_update(&self) -> bool {
        matches!(self, Message::SyncStep2(_) | Message::Update(_))
    }
}

/// The `id` of a command request whose command could not be read, so that the refusal can
/// still be matched to it.
fn request_id(json: &[u8]) -> Option<u64> {
    #[derive(serde::Deserialize)]
    struct Numbered {
        id: u64,
    }
    serde_json::from_slice::<Numbered>(json).ok().map(|n| n.id)
}

/// Encodes a sync update frame for `update` without building a [`Message`] first: the broadcast
/// hot path.
pub fn encode_update_frame(update: &[u8]) -> Vec<u8> {
    sync_frame(SYNC_UPDATE, update)
}

fn sync_frame(step: u64, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(2 + var_u64_len(payload.len() as u64) + payload.len());
    write_var_u64(&mut out, MSG_SYNC);
    write_var_u64(&mut out, step);
    write_buf(&mut out, payload);
    out
}

fn concord_frame(kind: u64, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(2 + var_u64_len(body.len() as u64) + body.len());
    write_var_u64(&mut out, kind);
    write_buf(&mut out, body);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::Role;
    use yrs::sync::{Message as YMessage, SyncMessage};

    fn every_message() -> Vec<Message<'static>> {
        let sv = StateVector::from_iter([(yrs::ClientID::new(3), 17), (yrs::ClientID::new(9), 2)]);
        vec![
            Message::SyncStep1(sv),
            Message::SyncStep1(StateVector::default()),
            Message::SyncStep2(b"\x00\x00"),
            Message::Update(b"\x01\x02\x03"),
            Message::Awareness(b"\x00"),
            Message::QueryAwareness,
            Message::PermissionDenied("paragraph 7 is locked"),
            Message::Session(Session {
                document: "gcm".into(),
                person: Some("ana".into()),
                mission: Some("MEX".into()),
                role: Some(Role::Facilitator),
                expires_at: Some(1_900_000_000),
                server_time_ms: 1_800_000_000_000,
            }),
            Message::Ack(0),
            Message::Ack(u64::MAX),
            Message::Refresh("eyJhbGciOiJIUzI1NiJ9.e30.sig"),
            Message::Rejected(Rejection {
                rule: "observer-read-only".into(),
                paragraph: Some("p17".into()),
                message: "observers cannot edit".into(),
            }),
            Message::Command(CommandRequest {
                id: 7,
                command: crate::command::Command::Lock {
                    paragraph: "p3".into(),
                    reason: "agreed ad ref".into(),
                    status: None,
                },
            }),
            Message::CommandResult(CommandReply {
                id: 7,
                result: crate::command::Reply::Error(crate::command::CommandError {
                    code: crate::command::ErrorCode::ParagraphLocked,
                    message: "paragraph 3 is locked".into(),
                }),
            }),
            Message::CommandResult(CommandReply {
                id: 8,
                result: crate::command::Reply::Ok(crate::command::Outcome::Created {
                    id: "p9".into(),
                }),
            }),
        ]
    }

    #[test]
    fn every_message_round_trips() {
        for message in every_message() {
            let frame = message.encode();
            assert_eq!(Message::decode_frame(&frame), Ok(vec![message.clone()]));
        }
    }

    #[test]
    fn y_protocol_messages_match_yrs_byte_for_byte() {
        let sv = StateVector::from_iter([(yrs::ClientID::new(3), 17)]);
        let pairs = [
            (
                Message::SyncStep1(sv.clone()),
                YMessage::Sync(SyncMessage::SyncStep1(sv)),
            ),
            (
                Message::SyncStep2(b"\x00\x00"),
                YMessage::Sync(SyncMessage::SyncStep2(b"\x00\x00".to_vec())),
            ),
            (
                Message::Update(b"\x07"),
                YMessage::Sync(SyncMessage::Update(b"\x07".to_vec())),
            ),
            (Message::QueryAwareness, YMessage::AwarenessQuery),
            (
                Message::PermissionDenied("no"),
                YMessage::Auth(Some("no".to_string())),
            ),
        ];
        for (ours, theirs) in pairs {
            assert_eq!(ours.encode(), theirs.encode_v1(), "{ours:?}");
        }
    }

    #[test]
    fn concord_messages_are_skippable_by_a_y_protocols_reader() {
        // yrs reads an unknown type as "tag, then one buffer": exactly our layout.
        let frame = Message::Ack(42).encode();
        let decoded = YMessage::decode_v1(&frame).expect("yrs skips it");
        assert!(matches!(decoded, YMessage::Custom(101, _)));
    }

    #[test]
    fn several_messages_in_one_frame_decode_in_order() {
        let mut frame = Message::QueryAwareness.encode();
        frame.extend(Message::Update(b"\x00\x00").encode());
        assert_eq!(
            Message::decode_frame(&frame),
            Ok(vec![Message::QueryAwareness, Message::Update(b"\x00\x00")])
        );
    }

    #[test]
    fn malformed_frames_name_what_is_wrong() {
        let cases: Vec<(&[u8], DecodeError)> = vec![
            (b"", DecodeError::Empty),
            (b"\x80", DecodeError::TruncatedVarint { at: 1 }),
            (b"\x2a", DecodeError::UnknownMessageType { at: 0, kind: 42 }),
            (b"\x00\x07", DecodeError::UnknownSyncStep { at: 1, sub: 7 }),
            (
                b"\x00\x02\xff\xff\xff\xff\x0f",
                DecodeError::LengthExceedsFrame {
                    at: 2,
                    claimed: u64::from(u32::MAX),
                    available: 0,
                },
            ),
            (
                b"\x00\x00\x02\xff\x0f",
                DecodeError::LengthExceedsFrame {
                    at: 2,
                    claimed: 0x7ff,
                    available: 0,
                },
            ),
        ];
        for (frame, expected) in cases {
            assert_eq!(Message::decode_frame(frame), Err(expected), "{frame:?}");
        }
    }

    #[test]
    fn an_unreadable_command_is_a_message_not_a_malformed_frame() {
        let unreadable = |json: &'static str| {
            let mut frame = Vec::new();
            write_var_u64(&mut frame, MSG_COMMAND);
            write_buf(&mut frame, json.as_bytes());
            match Message::decode_frame(&frame).as_deref() {
                Ok([message @ Message::UnreadableCommand { id, body, error }]) => {
                    assert_eq!(*body, json.as_bytes());
                    assert!(!error.is_empty());
                    // It encodes back to the bytes it came from.
                    assert_eq!(message.encode(), frame);
                    *id
                }
                other => panic!("{json}: {other:?}"),
            }
        };
        assert_eq!(
            unreadable(r#"{"id":3,"command":{"type":"frobnicate"}}"#),
            Some(3)
        );
        assert_eq!(unreadable(r#"{"command":{"type":"lock"},"id":4}"#), Some(4));
        assert_eq!(unreadable(r#"{"id":-1,"command":{}}"#), None);
        assert_eq!(unreadable("not json"), None);
        // A body whose length runs past the frame is still a malformed frame.
        assert_eq!(
            Message::decode_frame(&[MSG_COMMAND as u8, 9, b'{']),
            Err(DecodeError::LengthExceedsFrame {
                at: 1,
                claimed: 9,
                available: 1
            })
        );
    }

    #[test]
    fn garbage_never_panics() {
        let mut rng = 0x9e37_79b9_7f4a_7c15u64;
        for len in 0..2_000 {
            let frame: Vec<u8> = (0..len % 64)
                .map(|_| {
                    rng ^= rng << 13;
                    rng ^= rng >> 7;
                    rng ^= rng << 17;
                    rng as u8
                })
                .collect();
            let _ = Message::decode_frame(&frame);
        }
    }
}
