//! Every name the negotiation document uses inside the Y.Doc: its root types, the fields of a
//! paragraph's and an amendment's map, and the fields of the plain values a lock and a comment
//! are stored as. Reads, writes, commands and the policy's index all name the document's
//! parts through these, so that the layout is spelled once. A stock Yjs client reads the same
//! names (`tests/interop/yjs-client.mjs`): changing one is a change of format.

// ---- roots ---------------------------------------------------------------------------------

/// Map: paragraph id → the paragraph's map.
pub const PARAGRAPHS: &str = "paragraphs";
/// Array of paragraph ids, in the order the text reads.
pub const ORDER: &str = "order";
/// Map: amendment id → the amendment's map.
pub const AMENDMENTS: &str = "amendments";
/// Map: paragraph id → array of comment values (append-only).
pub const COMMENTS: &str = "comments";

// ---- ids -----------------------------------------------------------------------------------

/// Paragraph ids are this prefix and a number (`p17`), never reused.
pub const PARAGRAPH_ID_PREFIX: &str = "p";
/// Amendment ids are this prefix and a number (`a3`), never reused.
pub const AMENDMENT_ID_PREFIX: &str = "a";

// ---- a paragraph's map ---------------------------------------------------------------------

/// String: the displayed number ("17", "15bis").
pub const LABEL: &str = "label";
/// String: a [`super::ParagraphKind`].
pub const KIND: &str = "kind";
/// String, optional: the heading this paragraph belongs to.
pub const PARENT: &str = "parent";
/// String: a [`super::ParagraphStatus`] in a paragraph, an [`super::AmendmentStatus`] in an
/// amendment.
pub const STATUS: &str = "status";
/// Array of missions, present while the paragraph is `agreed-pending`: whose agreement it
/// waits for.
pub const PENDING: &str = "pending";
/// Map value, present while the paragraph is locked: a [`super::Lock`] (fields below).
pub const LOCK: &str = "lock";
/// Y.Text: the paragraph's wording, typed by facilitators.
pub const BODY: &str = "body";

// ---- an amendment's map (and `STATUS`) -----------------------------------------------------

/// String: the paragraph the amendment rewords, or after which it proposes a new one.
pub const PARAGRAPH: &str = "paragraph";
/// Boolean: a proposed new paragraph after `PARAGRAPH`.
pub const NEW_AFTER: &str = "new_after";
/// Array of missions; the first is the author.
pub const SPONSORS: &str = "sponsors";
/// String, optional: the group the author speaks for.
pub const ON_BEHALF_OF: &str = "on_behalf_of";
/// Y.Text: the proposed wording, typed by the sponsors (also a comment's field, below).
pub const TEXT: &str = "text";
/// Y.Text: why, typed by the sponsors.
pub const RATIONALE: &str = "rationale";
/// Array of missions that support the amendment.
pub const SUPPORTERS: &str = "supporters";
/// Array of missions that oppose the amendment.
pub const OPPOSERS: &str = "opposers";
/// String, optional: the revision of the body the amendment was drafted on.
pub const BASE_REVISION: &str = "base_revision";
/// Boolean: the body changed since the amendment began.
pub const STALE: &str = "stale";

// ---- a lock's and a comment's value (and `TEXT`) ---------------------------------------------
// These spell the fields of [`super::Lock`] and [`super::Comment`] as serde reads them back.

/// Who: the mission.
pub const MISSION: &str = "mission";
/// Who: the person, as the token names them.
pub const PERSON: &str = "person";
/// When: milliseconds since the Unix epoch, by the server's clock.
pub const AT_MS: &str = "at_ms";
/// Why a paragraph is locked.
pub const REASON: &str = "reason";

// ---- revisions, their preparation, themes, settings -----------------------------------------

/// Map: revision id (`r1`, `r2`, ...) → the published [`crate::revision::Revision`] as one
/// JSON string, written once by `publish-revision` and never again.
pub const REVISIONS: &str = "revisions";
/// Revision ids are this prefix and the revision's number.
pub const REVISION_ID_PREFIX: &str = "r";
/// Map: what the facilitators prepare for the next revision (fields below).
pub const DRAFTING: &str = "drafting";
/// Y.Text in [`DRAFTING`]: the next revision's cover letter (Markdown), typed by facilitators;
/// a fresh one after each publication.
pub const COVER_NOTE: &str = "cover_note";
/// Map: paragraph id → the facilitators' own note on it for the next revision (a string).
pub const CHANGE_NOTES: &str = "change_notes";
/// Map: theme id (`t1`, ...) → { [`NAME`], [`THEME_PARAGRAPHS`] } as a plain value.
pub const THEMES: &str = "themes";
/// Theme ids are this prefix and a number, never reused.
pub const THEME_ID_PREFIX: &str = "t";
/// A theme's name.
pub const NAME: &str = "name";
/// A theme's paragraphs (ids; a heading stands for its section).
pub const THEME_PARAGRAPHS: &str = "paragraphs";
/// Map: the document's settings (fields below), written by facilitators' commands.
pub const SETTINGS: &str = "settings";
/// String in [`SETTINGS`]: what observers read, `live` or `published`.
pub const OBSERVERS: &str = "observers";

// ---- an amendment's provenance ---------------------------------------------------------------

/// String: the paragraph's body when the amendment was created (what it amends).
pub const BASE_BODY: &str = "base_body";
/// Array `[client, from, to]`, set on acceptance: the server's clocks that wrote the accepted
/// text into the body, so that those words are credited to the amendment.
pub const APPLIED_AS: &str = "applied_as";
/// Array of `[writer, from, to]`, set on acceptance: which of the `APPLIED_AS` clocks wrote
/// words typed by which client (`writer`) in the amendment's text.
pub const APPLIED_BY: &str = "applied_by";
/// Array of `[client, clock, len]`, set on acceptance: the ids of the body it deleted.
pub const APPLIED_DELETING: &str = "applied_deleting";

// ---- the process: rounds, readings, silence procedures, notices, progress -------------------
// Each map holds id → one JSON string (a [`crate::process`] value), rewritten whole by the
// command that changes it. Ids are the prefix and a number, never reused.

/// Map: round id → [`crate::process::Round`].
pub const ROUNDS: &str = "rounds";
pub const ROUND_ID_PREFIX: &str = "round";
/// Map: reading id → [`crate::process::Reading`].
pub const READINGS: &str = "readings";
pub const READING_ID_PREFIX: &str = "reading";
/// Map: silence id → [`crate::process::Silence`].
pub const SILENCES: &str = "silences";
pub const SILENCE_ID_PREFIX: &str = "silence";
/// Map: notice id → [`crate::process::Notice`].
pub const NOTICES: &str = "notices";
pub const NOTICE_ID_PREFIX: &str = "notice";
/// Map: day (`YYYY-MM-DD`, UTC) → the progress counts after the day's last command that
/// changed them ([`crate::progress::TrendPoint`], JSON).
pub const PROGRESS_TREND: &str = "progress_trend";
/// String in an amendment's map: the reading during which it was proposed.
pub const READING: &str = "reading";

// ---- sponsorship, decisions, comments, the missions of a document -----------------------------

/// Array of missions in an amendment's map: invited to co-sponsor, not yet accepted.
pub const INVITED: &str = "invited";
/// Plain value in an amendment's map: the last [`super::Decision`] on it.
pub const DECISION: &str = "decision";
/// String in a comment's value: the comment of the thread it answers.
pub const REPLY_TO: &str = "reply_to";
/// Map: `{paragraph}/{comment}` → the [`super::Decision`] that resolved the comment.
pub const COMMENT_RESOLUTIONS: &str = "comment_resolutions";
/// Map: mission → the Unix ms it first joined the document as a delegation (the missions
/// co-sponsors are invited from).
pub const MISSIONS: &str = "missions";
/// Comment ids are this prefix and the comment's place in its thread, from 1.
pub const COMMENT_ID_PREFIX: &str = "c";

// ---- what changes often in the process, kept beside its values ------------------------------
// The document keeps every value a map ever held (no garbage collection: attribution needs the
// history), so what changes often is not rewritten inside a process value: each change is a
// small entry of its own.

/// Map: round id → `[day, item]`, the item under way (absent: none).
pub const ROUND_CURRENT: &str = "round_current";
/// Map: reading id → array of `{paragraph, at_ms}`, where the pointer went (the last is where
/// it is while the reading runs).
pub const READING_VISITS: &str = "reading_visits";
/// Map: silence id → array of [`crate::process::SilenceBreak`] values.
pub const SILENCE_BREAKS: &str = "silence_breaks";
/// Map: `{notice}/{mission}` → Unix ms the mission read the notice.
pub const NOTICE_READS: &str = "notice_reads";
