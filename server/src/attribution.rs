//! Attribution of a paragraph's text: which mission wrote each run (client ids belong to one
//! mission each), and which mission deleted what, when (the audit's deletion ranges).

use std::collections::{BTreeMap, HashMap};

use concord_protocol::attribution::{text_runs, utf16_len, Run};
use concord_protocol::policy::SERVER_OWNER;
use concord_protocol::schema;
use serde::Serialize;
use yrs::updates::decoder::Decode;
use yrs::{Transact, Update};

use crate::audit::AuditRecord;

#[derive(Debug, Serialize)]
pub struct Attribution {
    pub paragraph: String,
    pub label: String,
    /// The body as it reads now.
    pub text: String,
    /// The body in reading order, run by run.
    pub runs: Vec<AttributedRun>,
    /// Text deleted at or after `since_ms`, in the order it stood (a run of typing that
    /// reaches into `since_ms` is taken whole: its deletions may predate it by up to the
    /// run's span).
    pub deletions: Vec<Deletion>,
    pub since_ms: u64,
}

#[derive(Debug, Serialize)]
pub struct AttributedRun {
    pub text: String,
    /// The mission that typed it; `null` for text written before ownership was recorded.
    /// Text the server wrote (imports, accepted amendments) is the secretariat's.
    pub mission: Option<String>,
    pub by_server: bool,
}

#[derive(Debug, Serialize)]
pub struct Deletion {
    pub text: String,
    pub written_by: Option<String>,
    pub deleted_by: String,
    pub person: String,
    /// When: between `at_ms` and `until_ms`, the first and last update of the record that
    /// deleted it (one person's run of typing; the same time for a single update or command).
    pub at_ms: u64,
    pub until_ms: u64,
}

/// Builds the attribution of `paragraph` from the document's full state, the client-id owners
/// and the audit records since `since_ms`. `None` when there is no such paragraph.
pub fn paragraph(
    full_state: &[u8],
    owners: &[(u64, String)],
    records: &[AuditRecord],
    paragraph: &str,
    since_ms: u64,
) -> Option<Attribution> {
    let doc = crate::document::new_replica();
    let update = Update::decode_v1(full_state).ok()?;
    doc.transact_mut().apply_update(update).ok()?;
    let meta = schema::paragraph(&doc.transact(), paragraph)?;
    let runs = text_runs(&doc, |txn| schema::body_text(txn, paragraph))?;
    let owners: HashMap<u64, &str> = owners.iter().map(|(c, m)| (*c, m.as_str())).collect();
    let owner = |client: u64| owners.get(&client).copied();

    let mut attributed: Vec<AttributedRun> = Vec::new();
    for run in &runs.visible {
        let mission = owner(run.client);
        let by_server = mission == Some(SERVER_OWNER);
        let mission = mission.filter(|m| *m != SERVER_OWNER).map(String::from);
        match attributed.last_mut() {
            Some(last) if last.mission == mission && last.by_server == by_server => {
                last.text.push_str(&run.text)
            }
            _ => attributed.push(AttributedRun {
                text: run.text.clone(),
                mission,
                by_server,
            }),
        }
    }

    // Which record deleted each id: (client, first clock) -> (len, record). The policy records
    // only new deletions, so the ranges of different records do not overlap.
    let mut deleters: BTreeMap<(u64, u32), (u32, usize)> = BTreeMap::new();
    for (i, record) in records.iter().enumerate() {
        if !record.paragraphs.iter().any(|p| p == paragraph) {
            continue;
        }
        for &(client, clock, len) in &record.deleted {
            deleters.insert((client, clock), (len, i));
        }
    }
    let deleter = |client: u64, clock: u32| {
        let (&(c, start), &(len, record)) = deleters.range(..=(client, clock)).next_back()?;
        (c == client && clock < start.saturating_add(len)).then_some(record)
    };
    let mut deletions: Vec<Deletion> = Vec::new();
    for run in &runs.deleted {
        split_by_deleter(run, &deleter, |text, record| {
            let record = &records[record];
            let written_by = owner(run.client).map(String::from);
            match deletions.last_mut() {
                Some(last)
                    if last.deleted_by == record.mission
                        && last.at_ms == record.at_ms
                        && last.until_ms == record.last_ms()
                        && last.written_by == written_by =>
                {
                    last.text.push_str(text)
                }
                _ => deletions.push(Deletion {
                    text: text.to_string(),
                    written_by,
                    deleted_by: record.mission.clone(),
                    person: record.person.clone(),
                    at_ms: record.at_ms,
                    until_ms: record.last_ms(),
                }),
            }
        });
    }
    let text = runs.visible.iter().map(|r| r.text.as_str()).collect();
    Some(Attribution {
        paragraph: paragraph.to_string(),
        label: meta.label,
        text,
        runs: attributed,
        deletions,
        since_ms,
    })
}

/// Calls `emit` for each stretch of `run` deleted by one record (stretches deleted before the
/// records begin are skipped).
fn split_by_deleter(
    run: &Run,
    deleter: &impl Fn(u64, u32) -> Option<usize>,
    mut emit: impl FnMut(&str, usize),
) {
    let mut clock = run.clock;
    let mut start = 0;
    let mut current: Option<usize> = None;
    for (at, ch) in run.text.char_indices() {
        let who = deleter(run.client, clock);
        if who != current {
            if let Some(record) = current {
                emit(&run.text[start..at], record);
            }
            start = at;
            current = who;
        }
        clock += utf16_len(ch.encode_utf8(&mut [0; 4]));
    }
    if let Some(record) = current {
        emit(&run.text[start..], record);
    }
}
