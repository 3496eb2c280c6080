//! What can be wrong with bytes from the network, before any meaning is read into them: the
//! errors of decoding a frame, an update or a presence update, and the limit every client id
//! they carry is held to. Everything that reads bytes (`lib0`, `update`, `awareness`,
//! `message`) depends on this module, and it on nothing of the crate.

/// The largest client id Yjs can represent (53 bits: a JavaScript safe integer).
pub const MAX_CLIENT_ID: u64 = (1 << 53) - 1;

/// Why a frame could not be decoded. Offsets are byte positions in the frame (or update).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("empty frame")]
    Empty,
    #[error("truncated varint at byte {at}")]
    TruncatedVarint { at: usize },
    #[error("varint too large at byte {at}")]
    VarintOverflow { at: usize },
    #[error("length at byte {at} claims {claimed} bytes but only {available} remain")]
    LengthExceedsFrame {
        at: usize,
        claimed: u64,
        available: usize,
    },
    #[error("unknown message type {kind} at byte {at}")]
    UnknownMessageType { at: usize, kind: u64 },
    #[error("unknown sync message {sub} at byte {at}")]
    UnknownSyncStep { at: usize, sub: u64 },
    #[error("invalid UTF-8 at byte {at}")]
    InvalidUtf8 { at: usize },
    #[error("invalid JSON at byte {at}")]
    InvalidJson { at: usize },
    #[error("invalid state vector at byte {at}")]
    InvalidStateVector { at: usize },
    #[error("{count} trailing bytes at byte {at}")]
    TrailingBytes { at: usize, count: usize },
    #[error("client id {client} at byte {at} exceeds 53 bits")]
    ClientIdTooLarge { at: usize, client: u64 },
    #[error("clock overflows at byte {at}")]
    ClockOverflow { at: usize },
    #[error("empty block at byte {at}")]
    EmptyBlock { at: usize },
    /// yrs keeps one section (of blocks, or of deletions) per client: it would integrate only
    /// one of the two, and the other would have been judged for nothing.
    #[error("client {client} appears twice at byte {at}")]
    RepeatedClient { at: usize, client: u64 },
    /// yrs still splits the item at a zero-length deletion's clock (inside a surrogate pair,
    /// both halves of the character are lost), though nothing is deleted.
    #[error("empty deletion at byte {at}")]
    EmptyDeletion { at: usize },
    #[error("unknown content kind {content} at byte {at}")]
    UnknownContent { at: usize, content: u8 },
    #[error("unknown type ref {type_ref} at byte {at}")]
    UnknownTypeRef { at: usize, type_ref: u8 },
    #[error("unknown value tag {tag} at byte {at}")]
    UnknownAnyTag { at: usize, tag: u8 },
    #[error("values nested too deeply at byte {at}")]
    TooDeep { at: usize },
}
