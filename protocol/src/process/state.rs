//! The whole process as the page and the read API read it, and the reading-range questions
//! commands and queries share.

use serde::{Deserialize, Serialize};
use yrs::ReadTxn;

use super::{Notice, Reading, Round, Silence};
use crate::schema::{self, keys, ParagraphKind};

/// Rounds, readings, silence procedures and notices, each in id order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcessState {
    pub rounds: Vec<Round>,
    pub readings: Vec<Reading>,
    pub silences: Vec<Silence>,
    pub notices: Vec<Notice>,
}

impl ProcessState {
    pub fn read(txn: &impl ReadTxn) -> Self {
        ProcessState {
            rounds: schema::process_values(txn, keys::ROUNDS, keys::ROUND_ID_PREFIX),
            readings: schema::process_values(txn, keys::READINGS, keys::READING_ID_PREFIX),
            silences: schema::process_values(txn, keys::SILENCES, keys::SILENCE_ID_PREFIX),
            notices: schema::process_values(txn, keys::NOTICES, keys::NOTICE_ID_PREFIX),
        }
    }

    /// The reading under way, if any (one at a time: the room has one pointer).
    pub fn open_reading(&self) -> Option<&Reading> {
        self.readings.iter().find(|r| r.is_open())
    }

    /// Only what `mission` is addressed (facilitators, `None`, see every notice).
    pub fn notices_for(mut self, mission: Option<&str>) -> Self {
        if let Some(mission) = mission {
            self.notices.retain(|n| n.is_for(mission));
            for notice in &mut self.notices {
                // A mission sees whether it read a notice, not who else did.
                notice.read_by.retain(|m, _| m == mission);
            }
        }
        self
    }
}

/// Whether a reading covers a paragraph: it lies between the reading's first and last
/// paragraph in reading order (a last paragraph that is a heading brings its whole section
/// along).
pub fn covers(txn: &impl ReadTxn, reading: &Reading, paragraph: &str) -> bool {
    let order: Vec<(String, Option<String>)> = schema::paragraphs(txn)
        .into_iter()
        .map(|p| (p.id, p.parent))
        .collect();
    let at = |id: &str| order.iter().position(|(p, _)| p == id);
    let from = match reading.from.as_deref() {
        None => 0,
        Some(id) => match at(id) {
            Some(at) => at,
            None => return false,
        },
    };
    let to = match reading.to.as_deref() {
        None => order.len(),
        Some(id) => {
            let Some(at) = at(id) else { return false };
            order
                .iter()
                .enumerate()
                .filter(|(_, (_, parent))| parent.as_deref() == Some(id))
                .map(|(i, _)| i)
                .fold(at, usize::max)
        }
    };
    at(paragraph).is_some_and(|p| from <= p && p <= to)
}

/// The paragraphs a reading has been on, in the order it first reached them: a visit to a
/// heading reads its section's paragraphs.
pub fn read_paragraphs(txn: &impl ReadTxn, reading: &Reading) -> Vec<String> {
    let paragraphs = schema::paragraphs(txn);
    let mut read: Vec<String> = Vec::new();
    let mut add = |id: &str| {
        if !read.iter().any(|r| r == id) {
            read.push(id.to_string());
        }
    };
    for visit in &reading.visits {
        add(&visit.paragraph);
        let heading = paragraphs
            .iter()
            .any(|p| p.id == visit.paragraph && p.kind == ParagraphKind::Heading);
        if heading {
            for p in paragraphs
                .iter()
                .filter(|p| p.parent.as_deref() == Some(visit.paragraph.as_str()))
            {
                add(&p.id);
            }
        }
    }
    read
}
