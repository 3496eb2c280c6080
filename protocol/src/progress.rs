//! How far a negotiation has come, as facilitators report it ("70 of about 420 paragraphs
//! agreed ad ref, 259 bracketed"): paragraphs by status overall, per section and per theme,
//! bracketed ones (with open amendments or wording in square brackets), and amendments by status; and the trend over time,
//! one point per day kept in the document by the commands that move the counts. Pure over a
//! transaction: the server answers `GET .../progress` with it, the page draws the trend.

use std::collections::{BTreeMap, HashSet};

use serde::{Deserialize, Serialize};
use yrs::{ReadTxn, TransactionMut};

use crate::process::CalendarDate;
use crate::schema::{self, keys, AmendmentStatus, ParagraphKind, ParagraphStatus};

/// Paragraphs (headings left out) by status, and how many are bracketed.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub paragraphs: usize,
    /// By status (`open`, `agreed-ad-ref`, `agreed`, `held`, `deleted`).
    pub by_status: BTreeMap<&'static str, usize>,
    /// Standing paragraphs with at least one open amendment.
    pub bracketed: usize,
}

impl Counts {
    fn add(&mut self, status: ParagraphStatus, bracketed: bool) {
        self.paragraphs += 1;
        *self.by_status.entry(status.as_str()).or_insert(0) += 1;
        if bracketed {
            self.bracketed += 1;
        }
    }
}

#[derive(Debug, Serialize)]
pub struct Section {
    /// The heading's id.
    pub heading: String,
    pub title: String,
    #[serde(flatten)]
    pub counts: Counts,
}

#[derive(Debug, Serialize)]
pub struct ThemeProgress {
    pub theme: String,
    pub name: String,
    #[serde(flatten)]
    pub counts: Counts,
}

#[derive(Debug, Serialize)]
pub struct Progress {
    pub overall: Counts,
    pub sections: Vec<Section>,
    pub themes: Vec<ThemeProgress>,
    /// Amendments by status.
    pub amendments: BTreeMap<&'static str, usize>,
    /// Each mission agreement waits for, with the labels of the paragraphs agreed pending it.
    pub pending_on: BTreeMap<String, Vec<String>>,
    /// The sentence a facilitator reports: "70 of 420 paragraphs agreed ad ref, 259 bracketed".
    pub summary: String,
    /// The counts day by day.
    pub trend: Vec<TrendPoint>,
}

/// Whether a paragraph is bracketed: it stands (not deleted) and has an open amendment, or
/// open wording (text still in square brackets, as negotiators mark what is not agreed).
pub fn is_bracketed(p: &schema::Paragraph, open_amendments_on: &HashSet<&str>) -> bool {
    p.status != ParagraphStatus::Deleted
        && (open_amendments_on.contains(p.id.as_str()) || p.body.contains('['))
}

pub fn of(txn: &impl ReadTxn) -> Progress {
    let paragraphs = schema::paragraphs(txn);
    let amendments = schema::amendments(txn);
    let bracketed: HashSet<&str> = amendments
        .iter()
        .filter(|a| a.status == AmendmentStatus::Open)
        .map(|a| a.paragraph.as_str())
        .collect();
    let themes = schema::themes(txn);
    let mut overall = Counts::default();
    let mut sections: Vec<Section> = Vec::new();
    let mut by_theme: Vec<ThemeProgress> = themes
        .iter()
        .map(|t| ThemeProgress {
            theme: t.id.clone(),
            name: t.name.clone(),
            counts: Counts::default(),
        })
        .collect();
    for p in &paragraphs {
        if p.kind == ParagraphKind::Heading {
            sections.push(Section {
                heading: p.id.clone(),
                title: p.body.clone(),
                counts: Counts::default(),
            });
            continue;
        }
        let is_bracketed = is_bracketed(p, &bracketed);
        overall.add(p.status, is_bracketed);
        if let Some(section) = p
            .parent
            .as_deref()
            .and_then(|parent| sections.iter_mut().find(|s| s.heading == parent))
        {
            section.counts.add(p.status, is_bracketed);
        }
        for (theme, progress) in themes.iter().zip(by_theme.iter_mut()) {
            let tagged = theme
                .paragraphs
                .iter()
                .any(|t| *t == p.id || p.parent.as_deref() == Some(t.as_str()));
            if tagged {
                progress.counts.add(p.status, is_bracketed);
            }
        }
    }
    let mut pending_on: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for p in paragraphs
        .iter()
        .filter(|p| p.status == ParagraphStatus::AgreedPending)
    {
        for mission in &p.pending {
            pending_on
                .entry(mission.clone())
                .or_default()
                .push(p.label.clone());
        }
    }
    let mut by_amendment = BTreeMap::new();
    for a in &amendments {
        *by_amendment.entry(a.status.as_str()).or_insert(0) += 1;
    }
    let standing = overall.paragraphs - overall.by_status.get("deleted").copied().unwrap_or(0);
    let count = |status: &str| overall.by_status.get(status).copied().unwrap_or(0);
    let summary = format!(
        "{} of {standing} paragraphs agreed ad ref, {} agreed, {} bracketed",
        count("agreed-ad-ref"),
        count("agreed"),
        overall.bracketed
    );
    Progress {
        overall,
        sections,
        themes: by_theme,
        amendments: by_amendment,
        pending_on,
        summary,
        trend: trend(txn),
    }
}

/// The counts at the end of one day (UTC): after the last command that day that changed them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrendPoint {
    /// `YYYY-MM-DD`.
    pub day: String,
    pub paragraphs: usize,
    pub by_status: BTreeMap<String, usize>,
    pub bracketed: usize,
    pub open_amendments: usize,
}

impl TrendPoint {
    fn now(txn: &impl ReadTxn, day: String) -> Self {
        let paragraphs = schema::paragraphs(txn);
        let open: Vec<String> = schema::amendments(txn)
            .into_iter()
            .filter(|a| a.status == AmendmentStatus::Open)
            .map(|a| a.paragraph)
            .collect();
        let bracketed: HashSet<&str> = open.iter().map(String::as_str).collect();
        let mut counts = Counts::default();
        for p in paragraphs
            .iter()
            .filter(|p| p.kind != ParagraphKind::Heading)
        {
            counts.add(p.status, is_bracketed(p, &bracketed));
        }
        TrendPoint {
            day,
            paragraphs: counts.paragraphs,
            by_status: counts
                .by_status
                .into_iter()
                .map(|(status, n)| (status.to_string(), n))
                .collect(),
            bracketed: counts.bracketed,
            open_amendments: open.len(),
        }
    }

    fn same_counts(&self, other: &TrendPoint) -> bool {
        (
            self.paragraphs,
            &self.by_status,
            self.bracketed,
            self.open_amendments,
        ) == (
            other.paragraphs,
            &other.by_status,
            other.bracketed,
            other.open_amendments,
        )
    }
}

/// The trend, oldest day first.
pub fn trend(txn: &impl ReadTxn) -> Vec<TrendPoint> {
    let mut points: Vec<TrendPoint> = schema::process_entries(txn, keys::PROGRESS_TREND)
        .into_iter()
        .filter_map(|(_, json)| serde_json::from_str(&json).ok())
        .collect();
    points.sort_by(|a, b| a.day.cmp(&b.day));
    points
}

/// After a command: today's point, if the counts differ from the last one kept. Written in the
/// command's own transaction, so the trend is in the log and chained by the command's audit
/// record like everything else the command wrote.
pub fn record_trend(txn: &mut TransactionMut, now_ms: u64) {
    let day = CalendarDate::from_days((now_ms / 86_400_000) as i64);
    let day = format!("{:04}-{:02}-{:02}", day.year, day.month, day.day);
    let now = TrendPoint::now(txn, day);
    let kept = trend(txn);
    if kept.last().is_some_and(|last| last.same_counts(&now)) {
        return;
    }
    // A failure to serialise a value of ours would leave the trend a point short, no more.
    let _ = schema::store_process_value(txn, keys::PROGRESS_TREND, &now.day.clone(), &now);
}
