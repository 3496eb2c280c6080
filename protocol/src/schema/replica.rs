//! The one way a replica of a negotiation document is made, on the server and in the client,
//! so that both count and keep the same: every Y.Doc of a negotiation takes these options.

use yrs::{Doc, OffsetKind, Options};

/// Concord's settings for a negotiation's Y.Doc (the client id is yrs's random default):
/// - garbage collection off, so every revision and deletion stays reconstructible;
/// - offsets in UTF-16 code units, as Yjs and JavaScript strings count them;
/// - no formatting clean-up, which would delete items on the replica's own initiative: the
///   server's replica only ever applies what it is given (logged updates and commands), so
///   that it and its log never drift apart, and every deletion a client sends is one the
///   person made (the server's policy judges each).
pub fn replica_options() -> Options {
    Options {
        skip_gc: true,
        offset_kind: OffsetKind::Utf16,
        cleanup_formatting: false,
        ..Options::default()
    }
}

/// A new, empty replica with [`replica_options`].
pub fn new_replica() -> Doc {
    Doc::with_options(replica_options())
}
