//! The rules: who may write which text now, and how a refusal is named.

use serde::{Deserialize, Serialize};

use super::{key, Actor, DocumentView, Verdict};
use crate::schema::{AmendmentStatus, Editable, ParagraphStatus};
use crate::session::Role;
use crate::update::{Content, Item};

use super::index::BranchKey;

/// A rule an update broke.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Rule {
    ObserverReadOnly,
    ClientIdOfAnotherMission,
    UnknownReference,
    OriginsDisagree,
    ContentNotText,
    NotEditable,
    BodyFacilitatorsOnly,
    ParagraphLocked,
    ParagraphDeleted,
    NotASponsor,
    AmendmentClosed,
    CoverNoteFacilitatorsOnly,
}

impl Rule {
    pub fn as_str(self) -> &'static str {
        match self {
            Rule::ObserverReadOnly => "observer-read-only",
            Rule::ClientIdOfAnotherMission => "client-id-of-another-mission",
            Rule::UnknownReference => "unknown-reference",
            Rule::OriginsDisagree => "origins-disagree",
            Rule::ContentNotText => "content-not-text",
            Rule::NotEditable => "not-editable",
            Rule::BodyFacilitatorsOnly => "body-facilitators-only",
            Rule::ParagraphLocked => "paragraph-locked",
            Rule::ParagraphDeleted => "paragraph-deleted",
            Rule::NotASponsor => "not-a-sponsor",
            Rule::AmendmentClosed => "amendment-closed",
            Rule::CoverNoteFacilitatorsOnly => "cover-note-facilitators-only",
        }
    }
}

/// Why an update was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub rule: Rule,
    pub paragraph: Option<String>,
    pub message: String,
}

impl Refusal {
    pub(crate) fn new(rule: Rule, paragraph: Option<&str>, message: impl Into<String>) -> Self {
        Refusal {
            rule,
            paragraph: paragraph.map(String::from),
            message: message.into(),
        }
    }

    /// An observer tried to write.
    pub fn observer_read_only() -> Self {
        Refusal::new(
            Rule::ObserverReadOnly,
            None,
            "observers follow the text; they cannot edit it",
        )
    }

    /// As the wire's `Rejected` message.
    pub fn to_rejection(&self) -> crate::session::Rejection {
        crate::session::Rejection {
            rule: self.rule.as_str().to_string(),
            paragraph: self.paragraph.clone(),
            message: self.message.clone(),
        }
    }
}

pub(super) fn permit_item(
    item: &Item<'_>,
    branch: &BranchKey,
    view: &impl DocumentView,
    actor: Actor<'_>,
    verdict: &mut Verdict,
) -> Result<(), Refusal> {
    let editable = permit_branch(branch, view, actor)?;
    let paragraph = paragraph_of(&editable, view);
    match item.content {
        Content::String | Content::Format | Content::Deleted => {}
        other => {
            return Err(Refusal::new(
                Rule::ContentNotText,
                paragraph.as_deref(),
                format!("only text can be written here, not {other:?}"),
            ))
        }
    }
    if item.parent_sub.is_some() {
        return Err(Refusal::new(
            Rule::NotEditable,
            paragraph.as_deref(),
            "texts have no keyed entries",
        ));
    }
    verdict.touched.insert(key(&editable));
    Ok(())
}

fn paragraph_of(editable: &Editable, view: &impl DocumentView) -> Option<String> {
    match editable {
        Editable::ParagraphBody(p) => Some(p.clone()),
        Editable::AmendmentText(a) | Editable::AmendmentRationale(a) => {
            view.amendment(a).map(|g| g.paragraph)
        }
        Editable::CoverNote => None,
    }
}

/// May the actor write into this branch now? Returns what the branch is.
/// May `actor` write into the text `branch` now? The same decision [`check`](super::check) makes for every
/// item of an update; clients ask it before they let a person type.
pub fn permit_text(
    branch: &BranchKey,
    view: &impl DocumentView,
    actor: Actor<'_>,
) -> Result<Editable, Refusal> {
    if actor.role == Role::Observer {
        return Err(Refusal::new(
            Rule::ObserverReadOnly,
            None,
            "observers follow the text; they cannot edit it",
        ));
    }
    permit_branch(branch, view, actor)
}

pub(super) fn permit_branch(
    branch: &BranchKey,
    view: &impl DocumentView,
    actor: Actor<'_>,
) -> Result<Editable, Refusal> {
    let Some(editable) = view.meaning(branch) else {
        return Err(Refusal::new(
            Rule::NotEditable,
            None,
            "only paragraph and amendment texts can be edited; everything else is a command",
        ));
    };
    let facilitator = actor.role == Role::Facilitator;
    match editable {
        Editable::ParagraphBody(p) => {
            let guard = view
                .paragraph(p)
                .ok_or_else(|| Refusal::new(Rule::NotEditable, Some(p), "no such paragraph"))?;
            if !facilitator {
                return Err(Refusal::new(
                    Rule::BodyFacilitatorsOnly,
                    Some(p),
                    "only facilitators edit a paragraph's text; propose an amendment instead",
                ));
            }
            if guard.locked {
                return Err(Refusal::new(
                    Rule::ParagraphLocked,
                    Some(p),
                    "the paragraph is locked",
                ));
            }
            if guard.status == ParagraphStatus::Deleted {
                return Err(Refusal::new(
                    Rule::ParagraphDeleted,
                    Some(p),
                    "the paragraph is deleted",
                ));
            }
        }
        Editable::AmendmentText(a) | Editable::AmendmentRationale(a) => {
            let guard = view
                .amendment(a)
                .ok_or_else(|| Refusal::new(Rule::NotEditable, None, "no such amendment"))?;
            let p = Some(guard.paragraph.as_str());
            if !facilitator && !guard.sponsors.iter().any(|s| s == actor.mission) {
                return Err(Refusal::new(
                    Rule::NotASponsor,
                    p,
                    format!("mission {} does not sponsor amendment {a}", actor.mission),
                ));
            }
            if guard.status != AmendmentStatus::Open {
                return Err(Refusal::new(
                    Rule::AmendmentClosed,
                    p,
                    format!("amendment {a} is {}", guard.status.as_str()),
                ));
            }
            if view.paragraph(&guard.paragraph).is_some_and(|g| g.locked) {
                return Err(Refusal::new(
                    Rule::ParagraphLocked,
                    p,
                    "the paragraph is locked",
                ));
            }
        }
        Editable::CoverNote => {
            if !facilitator {
                return Err(Refusal::new(
                    Rule::CoverNoteFacilitatorsOnly,
                    None,
                    "only facilitators write the cover letter of a revision",
                ));
            }
        }
    }
    Ok(editable.clone())
}
