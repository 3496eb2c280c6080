//! How far a negotiation has come, as facilitators report it ("70 of about 420 paragraphs
//! agreed ad ref, 259 bracketed"): paragraphs by status overall, per section and per theme,
//! bracketed ones (with open amendments), and amendments by status. Pure over a replica.

use std::collections::{BTreeMap, HashSet};

use concord_protocol::schema::{self, AmendmentStatus, ParagraphKind, ParagraphStatus};
use serde::Serialize;
use yrs::{Doc, Transact};

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
}

pub fn of(doc: &Doc) -> Progress {
    let txn = doc.transact();
    let paragraphs = schema::paragraphs(&txn);
    let amendments = schema::amendments(&txn);
    let bracketed: HashSet<&str> = amendments
        .iter()
        .filter(|a| a.status == AmendmentStatus::Open)
        .map(|a| a.paragraph.as_str())
        .collect();
    let themes = schema::themes(&txn);
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
        let is_bracketed =
            p.status != ParagraphStatus::Deleted && bracketed.contains(p.id.as_str());
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
    }
}
