//! WebSocket close codes: why the server ended a connection, and whether reconnecting helps.
//!
//! Codes in 4400-4499 are final: a client must not reconnect blindly (its token, its input or
//! its permissions have to change first). The 1000-range codes are the standard ones; a client
//! may reconnect after them.

/// A close code the server sends, with its meaning.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u16)]
pub enum CloseCode {
    /// The server is shutting down (or the connection is going away); reconnect later.
    GoingAway = 1001,
    /// The server hit an internal error for this document; reconnect to reload it.
    InternalError = 1011,
    /// The peer stopped answering pings.
    LivenessTimeout = 4000,
    /// A frame could not be decoded, or a text frame was sent.
    Malformed = 4400,
    /// No valid token, or it expired.
    Unauthenticated = 4401,
    /// The token is valid but does not allow this.
    Forbidden = 4403,
    /// A frame exceeded the configured maximum size.
    TooLarge = 4413,
    /// Too many messages or connections for this mission.
    RateLimited = 4429,
}

impl CloseCode {
    pub fn code(self) -> u16 {
        self as u16
    }

    /// Whether a client may reconnect on its own after this close.
    pub fn is_final(self) -> bool {
        (4400..4500).contains(&self.code())
    }

    pub fn from_code(code: u16) -> Option<Self> {
        [
            CloseCode::GoingAway,
            CloseCode::InternalError,
            CloseCode::LivenessTimeout,
            CloseCode::Malformed,
            CloseCode::Unauthenticated,
            CloseCode::Forbidden,
            CloseCode::TooLarge,
            CloseCode::RateLimited,
        ]
        .into_iter()
        .find(|c| c.code() == code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_4400s_are_final() {
        assert!(CloseCode::Malformed.is_final());
        assert!(CloseCode::RateLimited.is_final());
        assert!(!CloseCode::GoingAway.is_final());
        assert!(!CloseCode::LivenessTimeout.is_final());
        assert_eq!(CloseCode::from_code(4413), Some(CloseCode::TooLarge));
        assert_eq!(CloseCode::from_code(4999), None);
    }
}
