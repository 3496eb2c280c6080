//! How commands and refusals travel: the JSON of a command, and the spelling and HTTP status of every error code.

use super::*;

#[test]
fn commands_travel_as_json() {
    let command = Command::Lock {
        paragraph: "p7".into(),
        reason: "agreed ad ref".into(),
        status: None,
    };
    let json = serde_json::to_string(&command).expect("serializes");
    assert_eq!(
        json,
        r#"{"type":"lock","paragraph":"p7","reason":"agreed ad ref"}"#
    );
    assert_eq!(
        serde_json::from_str::<Command>(&json).expect("parses"),
        command
    );
}

#[test]
fn every_error_code_travels_as_its_spelling_with_its_http_status() {
    let expected: [(ErrorCode, &str, u16); 37] = [
        (ErrorCode::ForbiddenRole, "forbidden-role", 403),
        (ErrorCode::NotTheAuthor, "not-the-author", 403),
        (ErrorCode::NotASponsor, "not-a-sponsor", 403),
        (ErrorCode::SponsorCannotVote, "sponsor-cannot-vote", 403),
        (ErrorCode::TooLong, "too-long", 413),
        (ErrorCode::UnknownParagraph, "unknown-paragraph", 404),
        (ErrorCode::UnknownAmendment, "unknown-amendment", 404),
        (ErrorCode::ParagraphLocked, "paragraph-locked", 409),
        (ErrorCode::ParagraphDeleted, "paragraph-deleted", 409),
        (ErrorCode::AmendmentClosed, "amendment-closed", 409),
        (ErrorCode::AlreadyASponsor, "already-a-sponsor", 409),
        (ErrorCode::NotLocked, "not-locked", 409),
        (ErrorCode::DocumentNotEmpty, "document-not-empty", 409),
        (ErrorCode::ReasonRequired, "reason-required", 400),
        (ErrorCode::InvalidArgument, "invalid-argument", 400),
        (ErrorCode::InvalidCommand, "invalid-command", 400),
        (ErrorCode::RevisionNameTaken, "revision-name-taken", 409),
        (ErrorCode::BodyMovedOn, "body-moved-on", 409),
        (ErrorCode::UnknownTheme, "unknown-theme", 404),
        (ErrorCode::UnknownRevision, "unknown-revision", 404),
        (ErrorCode::UnknownRound, "unknown-round", 404),
        (ErrorCode::UnknownReading, "unknown-reading", 404),
        (ErrorCode::UnknownSilence, "unknown-silence", 404),
        (ErrorCode::UnknownNotice, "unknown-notice", 404),
        (ErrorCode::ReadingInProgress, "reading-in-progress", 409),
        (ErrorCode::ReadingClosed, "reading-closed", 409),
        (ErrorCode::SilenceClosed, "silence-closed", 409),
        (ErrorCode::UnderSilence, "under-silence", 409),
        (ErrorCode::AlreadyBroken, "already-broken", 409),
        (ErrorCode::NotAddressed, "not-addressed", 403),
        (ErrorCode::UnknownMission, "unknown-mission", 404),
        (ErrorCode::UnknownComment, "unknown-comment", 404),
        (ErrorCode::AlreadyInvited, "already-invited", 409),
        (ErrorCode::NotInvited, "not-invited", 403),
        (ErrorCode::StorageUnavailable, "storage-unavailable", 503),
        (ErrorCode::Offline, "offline", 400),
        (ErrorCode::NotSignedIn, "not-signed-in", 400),
    ];
    assert_eq!(
        ErrorCode::ALL.len(),
        expected.len(),
        "a code was added: list it here"
    );
    for (code, spelling, status) in expected {
        assert_eq!(code.as_str(), spelling);
        assert_eq!(code.to_string(), spelling);
        assert_eq!(ErrorCode::parse(spelling), Some(code));
        assert_eq!(code.http_status(), status, "{spelling}");
        let error = CommandError {
            code,
            message: "why".into(),
        };
        let json = format!(r#"{{"code":"{spelling}","message":"why"}}"#);
        assert_eq!(serde_json::to_string(&error).expect("serializes"), json);
        assert_eq!(
            serde_json::from_str::<CommandError>(&json).expect("parses"),
            error
        );
        assert_eq!(error.http_status(), status);
        assert_eq!(error.to_string(), format!("{spelling}: why"));
    }
    assert_eq!(INVALID_COMMAND, "invalid-command");
}

#[test]
fn a_refusal_travels_in_its_reply_as_before() {
    let reply = CommandReply {
        id: 3,
        result: Reply::Error(CommandError {
            code: ErrorCode::ParagraphLocked,
            message: "paragraph 1 is locked".into(),
        }),
    };
    let json = r#"{"id":3,"error":{"code":"paragraph-locked","message":"paragraph 1 is locked"}}"#;
    assert_eq!(serde_json::to_string(&reply).expect("serializes"), json);
    assert_eq!(
        serde_json::from_str::<CommandReply>(json).expect("parses"),
        reply
    );
}
