//! What the page reads: the model (paragraphs in reading order, each with its amendments and
//! comments and whether this person may edit its texts, who else is here, the revisions:
//! which are published, the latest one's heading, what observers read, the next cover letter;
//! the themes; and the process: rounds, readings, silence procedures and the notices addressed
//! to this mission, with the paragraphs the reading under way covers), the status
//! (connection, saving, session, text to recover), and which texts an update from the server
//! touched, so typing elsewhere re-renders only those.

use concord_protocol::policy::{BranchKey, DocumentView};
use concord_protocol::process::{ProcessState, Reading};
use concord_protocol::revision::{Publisher, Theme};
use concord_protocol::schema::{self, Amendment, Comment, ObserverView, Paragraph};
use concord_protocol::update::{scan_update_v1, Block};
use concord_protocol::{Role, Session};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use yrs::{GetString, Transact};

use super::{target_of, ClientCore, Link, Recoverable, Target};

/// The document as the page renders it.
#[derive(Serialize)]
struct Model<'a> {
    paragraphs: Vec<ParagraphView>,
    presence: Vec<&'a Value>,
    revisions: RevisionsView,
    themes: Vec<Theme>,
    process: ProcessView,
    /// The missions that joined the document as delegations (whom an author may invite).
    missions: Vec<String>,
}

/// The negotiation's process as this session may see it: everything for facilitators, the
/// notices addressed to this mission (and whether it read them) for a delegation, those
/// addressed to all for observers (as `GET /api/docs/{doc}/process` answers); and the
/// paragraphs the reading under way covers, in reading order (empty without one).
#[derive(Serialize)]
struct ProcessView {
    #[serde(flatten)]
    state: ProcessState,
    in_reading: Vec<String>,
}

/// The revisions as the page shows them: the published ones (ids, in order; the page reads
/// the rest from the revision routes), the latest one's heading, what observers read, and the
/// next revision's cover letter while facilitators prepare it.
#[derive(Serialize)]
struct RevisionsView {
    published: Vec<String>,
    latest: Option<RevisionHead>,
    observers: ObserverView,
    /// The draft cover letter (`null` until a facilitator prepared it).
    cover_note: Option<String>,
    cover_note_editable: bool,
}

/// What a header says of a revision: "Rev 1, published 3 April 2018 by UN". Read from the
/// stored revision, whose other fields are skipped.
#[derive(Serialize, Deserialize)]
struct RevisionHead {
    id: String,
    number: u32,
    name: String,
    published_at_ms: u64,
    published_by: Publisher,
}

/// A paragraph, with what this person may edit in it.
#[derive(Serialize)]
struct ParagraphView {
    #[serde(flatten)]
    paragraph: Paragraph,
    editable: bool,
    amendments: Vec<AmendmentView>,
    comments: Vec<Comment>,
}

#[derive(Serialize)]
struct AmendmentView {
    #[serde(flatten)]
    amendment: Amendment,
    text_editable: bool,
    rationale_editable: bool,
    /// The paragraph's body changed since the amendment was made (accepting it would
    /// overwrite those edits). Said here instead of sending the body it was made on, which
    /// is as long as the paragraph: on a large text with hundreds of amendments that halves
    /// what the page reads after every change.
    moved_on: bool,
}

/// Connection and saving state, who this is, and text to recover.
#[derive(Serialize)]
struct Status<'a> {
    connection: &'static str,
    closed: Option<&'a str>,
    unsaved: bool,
    saved: bool,
    session: &'a Option<Session>,
    recoverable: &'a [Recoverable],
    presence: Vec<&'a Value>,
}

/// As JSON for the page (these views always serialize).
fn to_json(view: impl Serialize) -> Value {
    serde_json::to_value(view).unwrap_or_default()
}

impl ClientCore {
    /// The document as the page renders it (JSON): paragraphs in reading order with their
    /// amendments and comments, and what this person may edit.
    pub fn model(&self) -> Value {
        serde_json::from_str(&self.model_json()).unwrap_or_default()
    }

    /// [`ClientCore::model`] as the JSON text the page parses, written straight from the
    /// views (no intermediate tree: on a large text that is most of the cost).
    pub fn model_json(&self) -> String {
        let shown = self.previous.as_ref().unwrap_or(&self.doc);
        let txn = shown.transact();
        let amendments = schema::amendments(&txn);
        let editable = |target: Target| self.may_edit(&target).is_ok();
        let published = schema::revision_ids(&txn);
        let all = schema::paragraphs(&txn);
        let state = self.process_seen(ProcessState::read(&txn));
        let in_reading = state
            .open_reading()
            .map(|r| covered(&all, r))
            .unwrap_or_default();
        let mut by_paragraph: std::collections::HashMap<String, Vec<Amendment>> =
            std::collections::HashMap::new();
        for a in amendments {
            by_paragraph.entry(a.paragraph.clone()).or_default().push(a);
        }
        let paragraphs = all
            .into_iter()
            .map(|p| {
                let own = by_paragraph
                    .remove(&p.id)
                    .unwrap_or_default()
                    .into_iter()
                    .map(|mut a| {
                        let moved_on =
                            !a.new_after && a.base_body.take().is_some_and(|base| base != p.body);
                        // What credits accepted words to their writers: the server's business.
                        a.applied_as = None;
                        a.applied_by.clear();
                        a.applied_deleting.clear();
                        AmendmentView {
                            text_editable: editable(Target::AmendmentText(a.id.clone())),
                            rationale_editable: editable(Target::AmendmentRationale(a.id.clone())),
                            moved_on,
                            amendment: a,
                        }
                    })
                    .collect();
                ParagraphView {
                    editable: editable(Target::Body(p.id.clone())),
                    amendments: own,
                    comments: schema::comments(&txn, &p.id),
                    paragraph: p,
                }
            })
            .collect();
        serde_json::to_string(&Model {
            paragraphs,
            presence: self.presence_list(),
            revisions: RevisionsView {
                latest: published
                    .last()
                    .and_then(|(_, json)| serde_json::from_str(json).ok()),
                published: published.into_iter().map(|(id, _)| id).collect(),
                observers: schema::observer_view(&txn),
                cover_note: schema::cover_note_text(&txn).map(|t| t.get_string(&txn)),
                cover_note_editable: editable(Target::CoverNote),
            },
            themes: schema::themes(&txn),
            process: ProcessView { state, in_reading },
            missions: schema::missions(&txn),
        })
        .unwrap_or_default()
    }

    /// The process as the read API shows it to this session (nothing addressed before
    /// signing in).
    fn process_seen(&self, process: ProcessState) -> ProcessState {
        let session = self.session.as_ref();
        match (
            session.and_then(|s| s.role),
            session.and_then(|s| s.mission.as_deref()),
        ) {
            (Some(Role::Facilitator), _) => process,
            (Some(Role::Delegation), Some(mission)) => process.notices_for(Some(mission)),
            _ => {
                let mut process = process.notices_for(Some(""));
                process.notices.retain(|n| n.to.is_empty());
                if session.is_none() {
                    process.notices.clear();
                }
                process
            }
        }
    }

    /// Connection and saving state, who this is, and text to recover (JSON).
    pub fn status(&self) -> Value {
        let (connection, closed) = match &self.link {
            Link::Offline => ("offline", None),
            Link::Syncing => ("connecting", None),
            Link::Synced => ("synced", None),
            Link::Closed(why) => ("closed", Some(why.as_str())),
        };
        to_json(Status {
            connection,
            closed,
            unsaved: !self.is_saved(),
            saved: self.is_saved(),
            session: &self.session,
            recoverable: &self.recoverable,
            presence: self.presence_list(),
        })
    }

    /// The texts an applied update wrote into, if that is all it did (else `None`: structure
    /// changed, and the page re-reads the whole model).
    pub(super) fn texts_touched(&self, update: &[u8]) -> Option<Vec<Target>> {
        let scanned = scan_update_v1(update).ok()?;
        let mut targets: Vec<Target> = Vec::new();
        let mut add = |branch: &BranchKey| {
            let target = target_of(self.policy.meaning(branch)?);
            if !targets.contains(&target) {
                targets.push(target);
            }
            Some(())
        };
        for block in &scanned.blocks {
            if let Block::Item(item) = block {
                add(self.policy.index().branch_of(item.id)?)?;
            }
        }
        for d in &scanned.deletions {
            for segment in self.policy.index().segments(d.client, d.clock, d.len) {
                add(segment.branch.as_ref()?)?;
            }
        }
        Some(targets)
    }
}

/// The paragraphs a reading covers, in reading order: from its first paragraph to its last (a
/// last paragraph that is a heading brings its section), as [`concord_protocol::process::covers`]
/// decides for one paragraph, in one pass.
fn covered(paragraphs: &[Paragraph], reading: &Reading) -> Vec<String> {
    let at = |id: &str| paragraphs.iter().position(|p| p.id == id);
    let from = match reading.from.as_deref() {
        None => 0,
        Some(id) => match at(id) {
            Some(at) => at,
            None => return Vec::new(),
        },
    };
    let to = match reading.to.as_deref() {
        None => paragraphs.len(),
        Some(id) => {
            let Some(at) = at(id) else {
                return Vec::new();
            };
            paragraphs
                .iter()
                .enumerate()
                .filter(|(_, p)| p.parent.as_deref() == Some(id))
                .map(|(i, _)| i)
                .fold(at, usize::max)
        }
    };
    paragraphs
        .iter()
        .enumerate()
        .filter(|(i, _)| from <= *i && *i <= to)
        .map(|(_, p)| p.id.clone())
        .collect()
}
