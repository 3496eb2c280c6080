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
        let rounds: Vec<Round> = schema::process_values(txn, keys::ROUNDS, keys::ROUND_ID_PREFIX);
        let readings: Vec<Reading> =
            schema::process_values(txn, keys::READINGS, keys::READING_ID_PREFIX);
        let silences: Vec<Silence> =
            schema::process_values(txn, keys::SILENCES, keys::SILENCE_ID_PREFIX);
        let notices: Vec<Notice> =
            schema::process_values(txn, keys::NOTICES, keys::NOTICE_ID_PREFIX);
        ProcessState {
            rounds: rounds.into_iter().map(|r| with_current(txn, r)).collect(),
            readings: readings.into_iter().map(|r| with_visits(txn, r)).collect(),
            silences: silences.into_iter().map(|s| with_breaks(txn, s)).collect(),
            notices: notices.into_iter().map(|n| with_reads(txn, n)).collect(),
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

// What changes often is kept beside each value (`keys::ROUND_CURRENT` and the rest): a value
// is read with it laid over.

fn with_current(txn: &impl ReadTxn, mut round: Round) -> Round {
    round.current = schema::process_marks::<(usize, usize)>(txn, keys::ROUND_CURRENT, &round.id)
        .into_iter()
        .find(|(rest, _)| rest.is_empty())
        .map(|(_, at)| at);
    round
}

fn with_visits(txn: &impl ReadTxn, mut reading: Reading) -> Reading {
    reading.visits = schema::process_entries_of(txn, keys::READING_VISITS, &reading.id);
    reading.pointer = if reading.is_open() {
        reading.visits.last().map(|v| v.paragraph.clone())
    } else {
        None
    };
    reading
}

fn with_breaks(txn: &impl ReadTxn, mut silence: Silence) -> Silence {
    silence.breaks = schema::process_entries_of(txn, keys::SILENCE_BREAKS, &silence.id);
    silence
}

fn with_reads(txn: &impl ReadTxn, mut notice: Notice) -> Notice {
    notice.read_by =
        schema::process_marks::<u64>(txn, keys::NOTICE_READS, &format!("{}/", notice.id))
            .into_iter()
            .collect();
    notice
}

pub fn round(txn: &impl ReadTxn, id: &str) -> Option<Round> {
    schema::process_value(txn, keys::ROUNDS, id).map(|r| with_current(txn, r))
}

pub fn reading(txn: &impl ReadTxn, id: &str) -> Option<Reading> {
    schema::process_value(txn, keys::READINGS, id).map(|r| with_visits(txn, r))
}

pub fn silence(txn: &impl ReadTxn, id: &str) -> Option<Silence> {
    schema::process_value(txn, keys::SILENCES, id).map(|s| with_breaks(txn, s))
}

pub fn notice(txn: &impl ReadTxn, id: &str) -> Option<Notice> {
    schema::process_value(txn, keys::NOTICES, id).map(|n| with_reads(txn, n))
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
