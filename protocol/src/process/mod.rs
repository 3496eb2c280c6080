//! The negotiation's process, beside its text: rounds with their programme of work, readings
//! with the "now under discussion" pointer, silence procedures, and the facilitators' letters
//! to missions (notices). Each is a plain value the server writes, whole, as one JSON string
//! under its id in a root map of the document (`rounds`, `readings`, `silences`, `notices`),
//! through commands only: clients write none of it (the policy maps no text there), every
//! change is a command's update with its audit record, and every replica reads the same.
//!
//! - this file: the types, shared by the server, the page and the read API;
//! - `state`: [`ProcessState`], everything at once as the page and the API read it;
//! - `dates`: calendar dates ("2018-04-03") and the UTC times letters print.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::revision::Publisher;

mod dates;
mod state;

pub use dates::{parse_date, utc_minute, CalendarDate};
pub use state::{covers, notice, read_paragraphs, reading, round, silence, under, ProcessState};

/// A round of negotiations: "Third round, 3-6 April 2018, Conference Room 2", with its
/// programme day by day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Round {
    pub id: String,
    pub name: String,
    /// The first and last day, `YYYY-MM-DD`.
    pub starts_on: String,
    pub ends_on: String,
    pub place: String,
    pub programme: Vec<ProgrammeDay>,
    /// The item under way: `(day, item)`, indices into `programme`.
    #[serde(default)]
    pub current: Option<(usize, usize)>,
    pub created_by: Publisher,
    pub created_at_ms: u64,
}

/// One day of a programme of work.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProgrammeDay {
    /// `YYYY-MM-DD`, within the round's dates.
    pub date: String,
    pub items: Vec<ProgrammeItem>,
}

/// One item of a day: a theme discussion, a reading of part of the text, general comments.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProgrammeItem {
    pub kind: ItemKind,
    pub title: String,
    /// For a theme discussion: the theme's id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub theme: Option<String>,
    /// For a reading: the paragraphs or headings it covers (a heading stands for its section).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub paragraphs: Vec<String>,
    /// A time of day as the programme prints it ("10:00-13:00"), free text.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub time: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ItemKind {
    Theme,
    Reading,
    GeneralComments,
    Other,
}

/// A reading of the text ("second reading, objectives 1 to 12"): its range, the pointer the
/// room follows, and every paragraph it was on, when. Amendments created while it runs on a
/// paragraph it covers name it (`Amendment::reading`), so what was proposed during it is a
/// query.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reading {
    pub id: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub round: Option<String>,
    /// The first and last paragraph it covers, in reading order (absent: from the start, to
    /// the end).
    #[serde(default)]
    pub from: Option<String>,
    #[serde(default)]
    pub to: Option<String>,
    /// Now under discussion: a paragraph, or a heading for its whole section.
    #[serde(default)]
    pub pointer: Option<String>,
    /// Where the pointer went, in order.
    #[serde(default)]
    pub visits: Vec<Visit>,
    pub started_by: Publisher,
    pub started_at_ms: u64,
    #[serde(default)]
    pub ended_at_ms: Option<u64>,
}

impl Reading {
    pub fn is_open(&self) -> bool {
        self.ended_at_ms.is_none()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Visit {
    pub paragraph: String,
    pub at_ms: u64,
}

/// A silence procedure: a text (a revision, or some paragraphs) is adopted at the deadline
/// unless a delegation breaks silence first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Silence {
    pub id: String,
    /// The revision put under silence, when it was one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revision: Option<String>,
    /// The paragraphs it adopts (headings left out).
    pub paragraphs: Vec<String>,
    /// Those the procedure itself locked (the others were locked already): unlocked again if
    /// silence is broken.
    pub locked: Vec<String>,
    pub deadline_ms: u64,
    pub started_by: Publisher,
    pub started_at_ms: u64,
    /// Who broke silence, with their statements.
    #[serde(default)]
    pub breaks: Vec<SilenceBreak>,
    /// How it ended, once the deadline passed.
    #[serde(default)]
    pub outcome: Option<SilenceOutcome>,
    #[serde(default)]
    pub concluded_at_ms: Option<u64>,
}

impl Silence {
    pub fn is_open(&self) -> bool {
        self.outcome.is_none()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SilenceBreak {
    pub mission: String,
    pub person: String,
    pub at_ms: u64,
    pub statement: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SilenceOutcome {
    /// Nobody broke silence: the paragraphs are agreed and locked.
    Adopted,
    /// A delegation broke silence: nothing was adopted.
    Broken,
}

/// A letter to missions: a subject, a Markdown body, what it attaches, whom it is addressed to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notice {
    pub id: String,
    pub subject: String,
    pub body: String,
    /// The missions it is addressed to; empty: all missions.
    #[serde(default)]
    pub to: Vec<String>,
    #[serde(default)]
    pub attachments: Vec<Attachment>,
    /// The round or revision it belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub round: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revision: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub silence: Option<String>,
    pub published_by: Publisher,
    pub published_at_ms: u64,
    /// Each mission that read it, and when.
    #[serde(default)]
    pub read_by: BTreeMap<String, u64>,
}

impl Notice {
    /// Whether a mission is among those the notice is addressed to.
    pub fn is_for(&self, mission: &str) -> bool {
        self.to.is_empty() || self.to.iter().any(|m| m == mission)
    }
}

/// What a notice attaches: a published revision, or an export of one (or of the live text).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Attachment {
    Revision {
        revision: String,
    },
    Export {
        /// One of [`EXPORT_FORMATS`].
        format: String,
        /// The revision exported; absent: the live text.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        revision: Option<String>,
    },
}

/// The formats `GET /api/docs/{doc}/export` writes (the server's test checks the two lists
/// agree).
pub const EXPORT_FORMATS: &[&str] = &[
    "md",
    "clean",
    "clean-txt",
    "compilation",
    "compilation-docx",
    "akn",
    "docx",
];

/// The silence procedure's deadline when the facilitators name none: 72 hours.
pub const DEFAULT_SILENCE_SECONDS: u64 = 72 * 3600;
/// The longest silence procedure (30 days) and the shortest (one second, for tests).
pub const MAX_SILENCE_SECONDS: u64 = 30 * 24 * 3600;
