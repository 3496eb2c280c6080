//! What the revision routes and the CLI answer, built from a document's state (no I/O): the
//! list of revisions, one revision, the draft of the next one (the server's change notes
//! against the latest revision, the facilitators' notes, the cover letter, where each theme's
//! changes are), a comparison of any two texts with who wrote every inserted word, and an
//! amendment's redline against the body it amends.

use std::collections::HashMap;

use concord_protocol::attribution::split_utf16;
use concord_protocol::policy::SERVER_OWNER;
use concord_protocol::revision::{
    change_notes, compare, live_text, runs_within, word_diff, ChangeNote, Comparison, DiffOp,
    Piece, Revision, RevisionSummary, TextParagraph, WrittenRun,
};
use concord_protocol::schema::{self, Amendment, ObserverView};
use serde::Serialize;
use yrs::updates::decoder::Decode;
use yrs::{Doc, Transact, Update};

/// A scratch replica of a document's full state (the snapshot diff behind `live_text` needs
/// a write transaction, which the live room's replica must not be given).
pub fn replica(state: &[u8]) -> Option<Doc> {
    let doc = crate::document::new_replica();
    let update = Update::decode_v1(state).ok()?;
    doc.transact_mut().apply_update(update).ok()?;
    Some(doc)
}

#[derive(Debug, Serialize)]
pub struct RevisionList {
    /// What observers read: `live` or `published`.
    pub observers: ObserverView,
    pub revisions: Vec<RevisionSummary>,
}

pub fn list(doc: &Doc) -> RevisionList {
    let txn = doc.transact();
    let revisions = schema::revision_ids(&txn)
        .into_iter()
        .filter_map(|(_, json)| {
            let revision: Revision = serde_json::from_str(&json).ok()?;
            Some(revision.summary(json.len()))
        })
        .collect();
    RevisionList {
        observers: schema::observer_view(&txn),
        revisions,
    }
}

/// A revision's stored JSON, byte for byte (`latest` names the newest).
pub fn stored(doc: &Doc, id: &str) -> Option<String> {
    let txn = doc.transact();
    if id == "latest" {
        return schema::revision_ids(&txn).pop().map(|(_, json)| json);
    }
    schema::revision(&txn, id)
}

/// Which text a comparison reads: a published revision or the live text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Side {
    Revision(String),
    Live,
}

impl Side {
    pub fn parse(text: &str) -> Side {
        match text {
            "live" => Side::Live,
            id => Side::Revision(id.to_string()),
        }
    }
}

/// A side as the answer names it.
#[derive(Debug, Serialize)]
pub struct SideName {
    /// The revision id, or `live`.
    pub id: String,
    pub name: String,
}

/// Who wrote a stretch of inserted text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Credit {
    /// The mission that typed it, or whose amendment it came from (`null`: text the
    /// secretariat wrote itself, such as the imported draft, or older than ownership records).
    pub mission: Option<String>,
    /// The accepted amendment that wrote it, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub amendment: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub on_behalf_of: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct CreditedText {
    pub text: String,
    #[serde(flatten)]
    pub by: Credit,
}

#[derive(Debug, Serialize)]
pub struct CreditedPiece {
    #[serde(flatten)]
    pub piece: Piece,
    /// For an insertion, who wrote each stretch of it; for a deletion, who deleted it (when
    /// the audit says).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub by: Vec<CreditedText>,
}

#[derive(Debug, Serialize)]
pub struct CreditedParagraph {
    #[serde(flatten)]
    pub comparison: concord_protocol::revision::ParagraphComparison,
    pub pieces: Vec<CreditedPiece>,
}

#[derive(Debug, Serialize)]
pub struct ComparisonAnswer {
    pub from: SideName,
    pub to: SideName,
    pub paragraphs: Vec<CreditedParagraph>,
    /// Paragraphs that differ.
    pub changed: usize,
}

/// Why a comparison could not be made.
#[derive(Debug, PartialEq, Eq)]
pub enum CompareError {
    UnknownRevision(String),
}

/// Who owns each client id, and which of the server's clocks accepted amendments wrote.
pub struct Credits<'a> {
    owners: HashMap<u64, &'a str>,
    applied: Vec<(u64, u32, u32, &'a Amendment)>,
}

impl<'a> Credits<'a> {
    pub fn new(owners: &'a [(u64, String)], amendments: &'a [Amendment]) -> Self {
        Credits {
            owners: owners.iter().map(|(c, m)| (*c, m.as_str())).collect(),
            applied: amendments
                .iter()
                .filter_map(|a| a.applied_as.map(|(c, from, to)| (c, from, to, a)))
                .collect(),
        }
    }

    /// The credits of `len` clocks of `client` from `clock` on, as `(units, credit)` in order:
    /// where an accepted amendment's stretches by different writers meet, the credit changes.
    pub fn over(&self, client: u64, clock: u32, len: u32) -> Vec<(u32, Credit)> {
        let end = clock.saturating_add(len);
        let mut out: Vec<(u32, Credit)> = Vec::new();
        let mut at = clock;
        while at < end {
            // The next clock where the credit may change: the end of the stretch `at` is in.
            let boundary = self
                .applied
                .iter()
                .filter(|(c, from, to, _)| *c == client && (*from..*to).contains(&at))
                .flat_map(|(_, _, to, a)| {
                    let stretch = a
                        .applied_by
                        .iter()
                        .find(|(from, to, _)| (*from..*to).contains(&at))
                        .map(|(_, to, _)| *to);
                    std::iter::once(*to).chain(stretch)
                })
                .min()
                .unwrap_or(end)
                .min(end);
            let next = boundary.max(at + 1);
            let credit = self.of(client, at);
            match out.last_mut() {
                Some((units, last)) if *last == credit => *units += next - at,
                _ => out.push((next - at, credit)),
            }
            at = next;
        }
        out
    }

    pub fn of(&self, client: u64, clock: u32) -> Credit {
        if let Some((_, _, _, a)) = self
            .applied
            .iter()
            .find(|(c, from, to, _)| *c == client && (*from..*to).contains(&clock))
        {
            // Words an accepted amendment brought in are whoever typed them in its text (a
            // co-sponsor, a facilitator); its author's when that is not recorded.
            let writer = a
                .applied_by
                .iter()
                .find(|(from, to, _)| (*from..*to).contains(&clock))
                .and_then(|(_, _, writer)| self.owners.get(writer))
                .filter(|m| **m != SERVER_OWNER)
                .map(|m| m.to_string());
            return Credit {
                mission: writer.or_else(|| a.author().map(String::from)),
                amendment: Some(a.id.clone()),
                on_behalf_of: a.on_behalf_of.clone(),
            };
        }
        let mission = self
            .owners
            .get(&client)
            .filter(|m| **m != SERVER_OWNER)
            .map(|m| m.to_string());
        Credit {
            mission,
            amendment: None,
            on_behalf_of: None,
        }
    }
}

/// The paragraphs of one side, with who wrote each run.
fn text_of(doc: &Doc, side: &Side) -> Result<(SideName, Vec<TextParagraph>), CompareError> {
    match side {
        Side::Live => Ok((
            SideName {
                id: "live".into(),
                name: "Live text".into(),
            },
            live_text(&mut doc.transact_mut()),
        )),
        Side::Revision(id) => {
            let json = stored(doc, id).ok_or_else(|| CompareError::UnknownRevision(id.clone()))?;
            let revision: Revision = serde_json::from_str(&json)
                .map_err(|_| CompareError::UnknownRevision(id.clone()))?;
            Ok((
                SideName {
                    id: revision.id,
                    name: revision.name,
                },
                revision.paragraphs,
            ))
        }
    }
}

/// Who deleted what, from the audit: the id ranges each record deleted, and the paragraphs
/// deleted whole (`delete-paragraph`, or `set-status` on a paragraph now deleted), each with
/// the mission of the record.
#[derive(Debug, Default)]
pub struct Deleters {
    /// `(client, first clock)` → `(len, mission)`; records delete only what was not deleted
    /// before, so ranges do not overlap.
    ranges: std::collections::BTreeMap<(u64, u32), (u32, Credit)>,
    paragraphs: HashMap<String, String>,
}

impl Deleters {
    /// From the audit's records, and the accepted amendments' deletions (credited to the
    /// amendment, as the words it brought in are, rather than to who accepted it).
    pub fn new(records: &[crate::audit::AuditRecord], amendments: &[Amendment]) -> Self {
        let mut deleters = Self::from_records(records);
        for a in amendments {
            for &(client, clock, len) in &a.applied_deleting {
                let credit = Credit {
                    mission: a.author().map(String::from),
                    amendment: Some(a.id.clone()),
                    on_behalf_of: a.on_behalf_of.clone(),
                };
                deleters.ranges.insert((client, clock), (len, credit));
            }
        }
        deleters
    }

    pub fn from_records(records: &[crate::audit::AuditRecord]) -> Self {
        let mut deleters = Deleters::default();
        for record in records {
            for &(client, clock, len) in &record.deleted {
                let credit = Credit {
                    mission: Some(record.mission.clone()),
                    amendment: None,
                    on_behalf_of: None,
                };
                deleters.ranges.insert((client, clock), (len, credit));
            }
            if matches!(record.action.as_str(), "delete-paragraph" | "set-status") {
                for p in &record.paragraphs {
                    deleters
                        .paragraphs
                        .insert(p.clone(), record.mission.clone());
                }
            }
        }
        deleters
    }

    fn of(&self, client: u64, clock: u32) -> Option<&Credit> {
        let (&(c, start), (len, credit)) = self.ranges.range(..=(client, clock)).next_back()?;
        (c == client && clock < start.saturating_add(*len)).then_some(credit)
    }
}

/// From when the audit can name who deleted words of `from`: words deleted before a revision
/// was published are not in it, so only records since its publication matter (all of them for
/// the live text).
pub fn deletions_since(doc: &Doc, from: &Side) -> u64 {
    match from {
        Side::Live => 0,
        Side::Revision(id) => stored(doc, id)
            .and_then(|json| serde_json::from_str::<Revision>(&json).ok())
            .map_or(0, |r| r.published_at_ms),
    }
}

/// Compares two sides paragraph by paragraph, crediting every inserted stretch (deletions
/// stay uncredited: see [`compare_sides_with`]).
pub fn compare_sides(
    doc: &Doc,
    owners: &[(u64, String)],
    from: &Side,
    to: &Side,
) -> Result<ComparisonAnswer, CompareError> {
    compare_sides_with(doc, owners, &Deleters::default(), from, to)
}

/// Compares two sides paragraph by paragraph, crediting every inserted stretch to who wrote
/// it and every deleted one to who deleted it (`deleters`, from the audit).
pub fn compare_sides_with(
    doc: &Doc,
    owners: &[(u64, String)],
    deleters: &Deleters,
    from: &Side,
    to: &Side,
) -> Result<ComparisonAnswer, CompareError> {
    let (from_name, from_text) = text_of(doc, from)?;
    let (to_name, to_text) = text_of(doc, to)?;
    let old_runs: HashMap<&str, &[WrittenRun]> = from_text
        .iter()
        .map(|p| (p.id.as_str(), p.runs.as_slice()))
        .collect();
    let amendments = schema::amendments(&doc.transact());
    let credits = Credits::new(owners, &amendments);
    let Comparison { paragraphs } = compare(&from_text, &to_text);
    let runs: HashMap<&str, &[WrittenRun]> = to_text
        .iter()
        .map(|p| (p.id.as_str(), p.runs.as_slice()))
        .collect();
    let changed = paragraphs
        .iter()
        .filter(|p| p.operation != concord_protocol::revision::ParagraphOperation::Unchanged)
        .count();
    let paragraphs = paragraphs
        .into_iter()
        .map(|mut comparison| {
            let runs = runs.get(comparison.id.as_str()).copied().unwrap_or(&[]);
            let old = old_runs.get(comparison.id.as_str()).copied().unwrap_or(&[]);
            let whole = deleters.paragraphs.get(&comparison.id).map(String::as_str);
            let pieces = std::mem::take(&mut comparison.pieces)
                .into_iter()
                .map(|piece| match piece.op {
                    DiffOp::Delete => credit_deletion(piece, old, deleters, whole),
                    _ => credit_piece(piece, runs, &credits),
                })
                .collect();
            CreditedParagraph { comparison, pieces }
        })
        .collect();
    Ok(ComparisonAnswer {
        from: from_name,
        to: to_name,
        paragraphs,
        changed,
    })
}

/// A deleted piece split by who deleted it: the audit's record of the ids deleted, else (a
/// paragraph deleted whole keeps its text) whoever deleted the paragraph.
fn credit_deletion(
    piece: Piece,
    old_runs: &[WrittenRun],
    deleters: &Deleters,
    whole: Option<&str>,
) -> CreditedPiece {
    let len = concord_protocol::attribution::utf16_len(&piece.text);
    let mut by: Vec<CreditedText> = Vec::new();
    let mut rest = piece.text.as_str();
    let whole = Credit {
        mission: whole.map(String::from),
        amendment: None,
        on_behalf_of: None,
    };
    let mut push = |text: &str, who: Credit| match by.last_mut() {
        Some(last) if last.by == who => last.text.push_str(text),
        _ => by.push(CreditedText {
            text: text.to_string(),
            by: who,
        }),
    };
    let deleter = |client: u64, clock: u32| deleters.of(client, clock).unwrap_or(&whole);
    for run in runs_within(old_runs, piece.at, len) {
        // Split where the deleter changes, one character's clock at a time.
        let mut start = 0u32;
        while start < run.len {
            let who = deleter(run.client, run.clock + start);
            let mut end = start + 1;
            while end < run.len && deleter(run.client, run.clock + end) == who {
                end += 1;
            }
            let (head, tail) = split_utf16(rest, end - start);
            rest = tail;
            push(head, who.clone());
            start = end;
        }
    }
    if !rest.is_empty() {
        push(rest, whole.clone());
    }
    if by.iter().all(|b| b.by.mission.is_none()) {
        by.clear();
    }
    CreditedPiece { piece, by }
}

/// An inserted piece split by who wrote it (consecutive stretches by the same hand merged).
fn credit_piece(piece: Piece, runs: &[WrittenRun], credits: &Credits<'_>) -> CreditedPiece {
    if piece.op != DiffOp::Insert {
        return CreditedPiece {
            piece,
            by: Vec::new(),
        };
    }
    let len = concord_protocol::attribution::utf16_len(&piece.text);
    let mut by: Vec<CreditedText> = Vec::new();
    let mut rest = piece.text.as_str();
    for run in runs_within(runs, piece.at, len) {
        // One run of one client's clocks may carry several writers' words (an accepted
        // amendment written by its sponsors in turn): split it where the credit changes.
        for (units, credit) in credits.over(run.client, run.clock, run.len) {
            let (head, tail) = split_utf16(rest, units);
            rest = tail;
            match by.last_mut() {
                Some(last) if last.by == credit => last.text.push_str(head),
                _ => by.push(CreditedText {
                    text: head.to_string(),
                    by: credit,
                }),
            }
        }
    }
    if !rest.is_empty() {
        // Runs unknown (a revision published without them): the text is nobody's yet.
        by.push(CreditedText {
            text: rest.to_string(),
            by: Credit {
                mission: None,
                amendment: None,
                on_behalf_of: None,
            },
        });
    }
    CreditedPiece { piece, by }
}

#[derive(Debug, Serialize)]
pub struct Draft {
    /// The revision the notes are against (`null` before the first).
    pub against: Option<SideNameOwned>,
    pub cover_note: String,
    pub change_notes: Vec<ChangeNote>,
    pub changed: usize,
    pub themes: Vec<crate::theme_changes::ThemeChanges>,
}

#[derive(Debug, Serialize)]
pub struct SideNameOwned {
    pub id: String,
    pub name: String,
}

/// The next revision as it would be published now: the server's notes against the latest
/// revision, with the facilitators' own, and where each theme's changes are.
pub fn draft(doc: &Doc) -> Draft {
    let live = live_text(&mut doc.transact_mut());
    let txn = doc.transact();
    let latest: Option<Revision> = schema::revision_ids(&txn)
        .pop()
        .and_then(|(_, json)| serde_json::from_str(&json).ok());
    let mut notes = change_notes(latest.as_ref().map(|r| r.paragraphs.as_slice()), &live);
    let mut drafted = schema::change_notes_drafted(&txn);
    for note in &mut notes {
        note.note = drafted.remove(&note.paragraph);
    }
    let themes = schema::themes(&txn)
        .into_iter()
        .map(|theme| crate::theme_changes::of(theme, &live, &notes))
        .collect();
    Draft {
        against: latest.map(|r| SideNameOwned {
            id: r.id,
            name: r.name,
        }),
        cover_note: schema::cover_note(&txn),
        changed: notes.iter().filter(|n| !n.is_unchanged()).count(),
        change_notes: notes,
        themes,
    }
}

/// An amendment as a change to the body it amends.
#[derive(Debug, Serialize)]
pub struct Redline {
    pub amendment: Amendment,
    pub paragraph: String,
    /// The body now.
    pub body: String,
    /// The body the amendment was made on (`null` for older amendments and new paragraphs).
    pub base_body: Option<String>,
    /// The body changed since the amendment was made: accepting it would overwrite that.
    pub moved_on: bool,
    /// The amendment's text against the body now: what accepting it does.
    pub redline: Vec<Piece>,
    /// Three-way, when the body moved on: what the amendment proposes against its base, and
    /// what others changed in the body since.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub proposed: Option<Vec<Piece>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub since: Option<Vec<Piece>>,
}

pub fn redline(doc: &Doc, amendment: &str) -> Option<Redline> {
    let txn = doc.transact();
    let a = schema::amendment(&txn, amendment)?;
    let body = if a.new_after {
        String::new()
    } else {
        schema::paragraph(&txn, &a.paragraph)?.body
    };
    let moved_on = a.base_body.as_deref().is_some_and(|base| base != body);
    let (proposed, since) = match (&a.base_body, moved_on) {
        (Some(base), true) => (Some(word_diff(base, &a.text)), Some(word_diff(base, &body))),
        _ => (None, None),
    };
    Some(Redline {
        redline: word_diff(&body, &a.text),
        paragraph: a.paragraph.clone(),
        base_body: a.base_body.clone(),
        body,
        moved_on,
        proposed,
        since,
        amendment: a,
    })
}

/// A comparison as text for a terminal: each changed paragraph, `[-deleted-]` and
/// `{+inserted+}` with the missions that wrote the insertion.
pub fn redline_text(answer: &ComparisonAnswer) -> String {
    use concord_protocol::revision::ParagraphOperation;
    let mut out = format!(
        "{} -> {}: {} paragraph(s) changed\n",
        answer.from.name, answer.to.name, answer.changed
    );
    for p in &answer.paragraphs {
        let c = &p.comparison;
        if c.operation == ParagraphOperation::Unchanged {
            continue;
        }
        let label = c
            .label_to
            .as_deref()
            .or(c.label_from.as_deref())
            .unwrap_or("?");
        let mut head = format!("\n{label} ({}) {:?}", c.id, c.operation).to_lowercase();
        if c.renumbered {
            head.push_str(&format!(
                ", renumbered from {}",
                c.label_from.as_deref().unwrap_or("?")
            ));
        }
        if c.moved {
            head.push_str(", moved");
        }
        if c.status_from != c.status_to {
            let status = |s: Option<concord_protocol::schema::ParagraphStatus>| {
                s.map_or("-", |s| s.as_str())
            };
            head.push_str(&format!(
                ", status {} -> {}",
                status(c.status_from),
                status(c.status_to)
            ));
        }
        out.push_str(&head);
        out.push('\n');
        for piece in &p.pieces {
            match piece.piece.op {
                DiffOp::Equal => out.push_str(&piece.piece.text),
                DiffOp::Delete => out.push_str(&format!("[-{}-]", piece.piece.text)),
                DiffOp::Insert => {
                    for by in &piece.by {
                        let who = by.by.mission.as_deref().unwrap_or("secretariat");
                        out.push_str(&format!("{{+{}+}}({who})", by.text));
                    }
                    if piece.by.is_empty() {
                        out.push_str(&format!("{{+{}+}}", piece.piece.text));
                    }
                }
            }
        }
        out.push('\n');
    }
    out
}

/// Unix milliseconds as `YYYY-MM-DD HH:MM UTC`.
pub fn format_utc(ms: u64) -> String {
    let secs = i64::try_from(ms / 1000).unwrap_or(i64::MAX);
    match time::OffsetDateTime::from_unix_timestamp(secs) {
        Ok(at) => format!(
            "{:04}-{:02}-{:02} {:02}:{:02} UTC",
            at.year(),
            u8::from(at.month()),
            at.day(),
            at.hour(),
            at.minute()
        ),
        Err(_) => format!("{ms} ms"),
    }
}
