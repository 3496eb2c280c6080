//! Why a command was refused: a stable [`ErrorCode`] (its spelling is part of the wire format
//! and of REST answers), the HTTP status a REST client gets for it, and [`CommandError`], the
//! code with a sentence for people.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::schema::SchemaError;

macro_rules! error_codes {
    ($($(#[$doc:meta])* $variant:ident => $text:literal,)*) => {
        /// The reason a command was refused, as clients match on it.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum ErrorCode {
            $($(#[$doc])* $variant,)*
        }

        impl ErrorCode {
            /// Every code, in the order declared.
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant),*];
            const SPELLINGS: &'static [&'static str] = &[$($text),*];

            /// The code as it travels: in a `CommandResult`, in a REST error body.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(ErrorCode::$variant => $text,)*
                }
            }

            /// The code spelled `code`, if there is one.
            pub fn parse(code: &str) -> Option<Self> {
                match code {
                    $($text => Some(ErrorCode::$variant),)*
                    _ => None,
                }
            }
        }
    };
}

error_codes! {
    /// The actor's role may not do this (observers change nothing; some commands are the
    /// facilitators').
    ForbiddenRole => "forbidden-role",
    /// Only the amendment's author may do this.
    NotTheAuthor => "not-the-author",
    /// The mission to remove does not sponsor the amendment.
    NotASponsor => "not-a-sponsor",
    /// Sponsors support their amendment already; they do not vote on it.
    SponsorCannotVote => "sponsor-cannot-vote",
    /// A text field is over its limit ([`super::limits`]).
    TooLong => "too-long",
    UnknownParagraph => "unknown-paragraph",
    UnknownAmendment => "unknown-amendment",
    /// The paragraph is locked: nothing about it may change until it is unlocked.
    ParagraphLocked => "paragraph-locked",
    /// The paragraph is a tombstone.
    ParagraphDeleted => "paragraph-deleted",
    /// The amendment is accepted, rejected or withdrawn.
    AmendmentClosed => "amendment-closed",
    AlreadyASponsor => "already-a-sponsor",
    /// Unlocking a paragraph that is not locked.
    NotLocked => "not-locked",
    /// Importing into a document that has paragraphs already.
    DocumentNotEmpty => "document-not-empty",
    /// Locking and unlocking need a reason; it is recorded.
    ReasonRequired => "reason-required",
    /// A value the command cannot use (an offset inside a character, an empty label, a text
    /// that is not a structured text, ...).
    InvalidArgument => "invalid-argument",
    /// The request is not a command at all (not JSON, an unknown `type`, a missing field).
    InvalidCommand => "invalid-command",
    /// A revision of that name was published already.
    RevisionNameTaken => "revision-name-taken",
    /// The paragraph's body changed since the amendment was made: accepting it would
    /// overwrite those edits (say `over_later_edits` once they have been seen).
    BodyMovedOn => "body-moved-on",
    UnknownTheme => "unknown-theme",
    UnknownRevision => "unknown-revision",
    UnknownRound => "unknown-round",
    UnknownReading => "unknown-reading",
    UnknownSilence => "unknown-silence",
    UnknownNotice => "unknown-notice",
    /// Another reading is under way: end it first (the room has one pointer).
    ReadingInProgress => "reading-in-progress",
    /// The reading has ended.
    ReadingClosed => "reading-closed",
    /// The silence procedure has ended, or its deadline passed.
    SilenceClosed => "silence-closed",
    /// A paragraph is under a silence procedure already.
    UnderSilence => "under-silence",
    /// This mission broke this silence already.
    AlreadyBroken => "already-broken",
    /// The notice is not addressed to this mission.
    NotAddressed => "not-addressed",
    /// The mission has not joined the document as a delegation.
    UnknownMission => "unknown-mission",
    UnknownComment => "unknown-comment",
    /// The mission is invited to co-sponsor already.
    AlreadyInvited => "already-invited",
    /// The mission is not invited to co-sponsor this amendment.
    NotInvited => "not-invited",
    /// The server could not make the change durable: nothing was done.
    StorageUnavailable => "storage-unavailable",
    /// The browser client's own, before anything is sent: it is not connected.
    Offline => "offline",
    /// The browser client's own, before anything is sent: no session yet.
    NotSignedIn => "not-signed-in",
}

impl ErrorCode {
    /// The HTTP status a REST client gets for this refusal.
    pub const fn http_status(self) -> u16 {
        use ErrorCode::*;
        match self {
            ForbiddenRole | NotTheAuthor | NotASponsor | SponsorCannotVote | NotAddressed
            | NotInvited => 403,
            TooLong => 413,
            UnknownParagraph | UnknownAmendment | UnknownTheme | UnknownRevision | UnknownRound
            | UnknownReading | UnknownSilence | UnknownNotice | UnknownMission | UnknownComment => {
                404
            }
            ParagraphLocked | ParagraphDeleted | AmendmentClosed | AlreadyASponsor | NotLocked
            | DocumentNotEmpty | RevisionNameTaken | BodyMovedOn | ReadingInProgress
            | ReadingClosed | SilenceClosed | UnderSilence | AlreadyBroken | AlreadyInvited => 409,
            StorageUnavailable => 503,
            ReasonRequired | InvalidArgument | InvalidCommand | Offline | NotSignedIn => 400,
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq<str> for ErrorCode {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for ErrorCode {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl Serialize for ErrorCode {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ErrorCode {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let code = String::deserialize(deserializer)?;
        ErrorCode::parse(&code)
            .ok_or_else(|| serde::de::Error::unknown_variant(&code, ErrorCode::SPELLINGS))
    }
}

/// The code of a request that is not a command at all ([`ErrorCode::InvalidCommand`]): REST
/// answers it with 400, the WebSocket with a `CommandResult` error.
pub const INVALID_COMMAND: &str = ErrorCode::InvalidCommand.as_str();

/// A refused command: a stable code and a sentence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{code}: {message}")]
pub struct CommandError {
    pub code: ErrorCode,
    pub message: String,
}

impl CommandError {
    /// The HTTP status a REST client gets for this refusal.
    pub fn http_status(&self) -> u16 {
        self.code.http_status()
    }

    /// A request that could not be read as a command ([`ErrorCode::InvalidCommand`]).
    pub fn invalid_command(message: impl Into<String>) -> Self {
        refuse(ErrorCode::InvalidCommand, message)
    }
}

pub(super) fn refuse(code: ErrorCode, message: impl Into<String>) -> CommandError {
    CommandError {
        code,
        message: message.into(),
    }
}

/// A write the schema refused (an id it does not know, or one it has already).
pub(super) fn schema_error(e: SchemaError) -> CommandError {
    refuse(ErrorCode::InvalidArgument, e.to_string())
}
