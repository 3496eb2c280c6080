//! WebSocket close codes (docs/design.md section 4).
//!
//! Codes in 4400-4499 are final: a client must not reconnect blindly (its token, its input or
//! its permissions have to change first). The 1000-range codes are the standard ones; a client
//! may reconnect after them.

/// What a client should do once the server closed its connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterClose {
    /// Reconnect (with backoff) and sync again.
    Reconnect,
    /// Reconnect with a fresh replica (new client id): the old one has a refused update in it.
    ReconnectFresh,
    /// Stop: only the person can fix it (sign in again, send less).
    Stop,
}

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
    /// What this connection reads changed (a new revision was published, or observers now
    /// read otherwise): reconnect with a fresh replica.
    ReadAgain = 4001,
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

    /// What a client does after a close with `code` (any code, the standard ones and those a
    /// proxy sends included): the one classification the server's and Concord's clients share.
    pub fn after_close(code: u16) -> AfterClose {
        match CloseCode::from_code(code) {
            // The writer's replica has a gap the server will never fill: reconnect, but from
            // a fresh replica.
            Some(CloseCode::Forbidden) => AfterClose::ReconnectFresh,
            // The document this connection read is replaced by another.
            Some(CloseCode::ReadAgain) => AfterClose::ReconnectFresh,
            // Too fast: the backoff slows the mission down.
            Some(CloseCode::RateLimited) => AfterClose::Reconnect,
            Some(code) if code.is_final() => AfterClose::Stop,
            _ => AfterClose::Reconnect,
        }
    }

    pub fn from_code(code: u16) -> Option<Self> {
        [
            CloseCode::GoingAway,
            CloseCode::InternalError,
            CloseCode::LivenessTimeout,
            CloseCode::ReadAgain,
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
    fn clients_stop_only_where_reconnecting_cannot_help() {
        assert_eq!(CloseCode::after_close(4400), AfterClose::Stop);
        assert_eq!(CloseCode::after_close(4401), AfterClose::Stop);
        assert_eq!(CloseCode::after_close(4413), AfterClose::Stop);
        assert_eq!(CloseCode::after_close(4403), AfterClose::ReconnectFresh);
        assert_eq!(CloseCode::after_close(4429), AfterClose::Reconnect);
        assert_eq!(CloseCode::after_close(1006), AfterClose::Reconnect);
        assert_eq!(CloseCode::after_close(1011), AfterClose::Reconnect);
        assert_eq!(CloseCode::after_close(4000), AfterClose::Reconnect);
    }

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
