//! The whole process as the page and the read API read it, and the reading-range questions
//! commands and queries share.

use serde::{Deserialize, Serialize};
use yrs::ReadTxn;

use super::{Notice, Reading, Round, Silence};
use crate::schema::{self, keys, Paragraph};

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

/// A paragraph and what sits under it: a heading's section (its children), an objective's
/// lettered actions ("18(a)", "18(b)" under "18"). What "objective 12" or "the Preamble"
/// means when a reading or a query names one paragraph.
pub fn under(paragraphs: &[Paragraph], head: &str) -> Vec<String> {
    let Some(top) = paragraphs.iter().find(|p| p.id == head) else {
        return Vec::new();
    };
    let prefix = (!top.label.is_empty()).then(|| format!("{}(", top.label));
    paragraphs
        .iter()
        .filter(|p| {
            p.id == head
                || p.parent.as_deref() == Some(head)
                || prefix
                    .as_deref()
                    .is_some_and(|prefix| p.label.starts_with(prefix))
        })
        .map(|p| p.id.clone())
        .collect()
}

/// Whether a reading covers a paragraph: it lies between the reading's first and last
/// paragraph in reading order, the last bringing along what sits under it (a heading's
/// section, an objective's actions).
pub fn covers(txn: &impl ReadTxn, reading: &Reading, paragraph: &str) -> bool {
    let paragraphs = schema::paragraphs(txn);
    let at = |id: &str| paragraphs.iter().position(|p| p.id == id);
    let from = match reading.from.as_deref() {
        None => 0,
        Some(id) => match at(id) {
            Some(at) => at,
            None => return false,
        },
    };
    let to = match reading.to.as_deref() {
        None => paragraphs.len(),
        Some(id) => match under(&paragraphs, id).iter().filter_map(|p| at(p)).max() {
            Some(at) => at,
            None => return false,
        },
    };
    at(paragraph).is_some_and(|p| from <= p && p <= to)
}

/// The paragraphs a reading has been on, in the order it first reached them: a visit reads
/// what sits under the paragraph too ([`under`]).
pub fn read_paragraphs(txn: &impl ReadTxn, reading: &Reading) -> Vec<String> {
    let paragraphs = schema::paragraphs(txn);
    let mut read: Vec<String> = Vec::new();
    for visit in &reading.visits {
        for id in under(&paragraphs, &visit.paragraph) {
            if !read.contains(&id) {
                read.push(id);
            }
        }
    }
    read
}
