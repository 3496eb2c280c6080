//! The negotiation document (DESIGN.md section 2): its shape inside the Y.Doc, typed reads
//! shared by server and client, and the writes the server makes when it applies a command.
//!
//! Layout (root types):
//! - `paragraphs`: map, paragraph id → map { `label`, `kind`, `parent`, `status`, `lock`,
//!   `body` (Y.Text) }. Ids are stable and never reused; a deleted paragraph stays, as a
//!   tombstone, so that its number is not given to another.
//! - `order`: array of paragraph ids, in the order the text reads.
//! - `amendments`: map, amendment id → map { `paragraph`, `new_after`, `sponsors`,
//!   `on_behalf_of`, `text` (Y.Text), `rationale` (Y.Text), `supporters`, `opposers`,
//!   `status`, `base_revision`, `stale` }.
//! - `comments`: map, paragraph id → array of comment values (append-only).
//!
//! Clients only ever write characters into the three kinds of Y.Text ([`Editable`]); every
//! other value is written by the server, applying commands under its own client id.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use yrs::{
    Any, Array, ArrayPrelim, ArrayRef, BranchID, GetString, Map, MapPrelim, MapRef, Out, ReadTxn,
    TextPrelim, TextRef, TransactionMut, WriteTxn,
};

pub const PARAGRAPHS: &str = "paragraphs";
pub const ORDER: &str = "order";
pub const AMENDMENTS: &str = "amendments";
pub const COMMENTS: &str = "comments";

/// Where a paragraph sits in the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ParagraphKind {
    Heading,
    Preambular,
    Operative,
    Action,
}

/// How far a paragraph has come (DOMAIN.md, "Paragraph states").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ParagraphStatus {
    Open,
    AgreedAdRef,
    Agreed,
    Held,
    Deleted,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AmendmentStatus {
    Open,
    Accepted,
    Rejected,
    Withdrawn,
}

macro_rules! text_enum {
    ($ty:ty { $($variant:ident => $text:literal),* $(,)? }) => {
        impl $ty {
            pub fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $text),* }
            }
            pub fn parse(text: &str) -> Option<Self> {
                match text { $($text => Some(Self::$variant),)* _ => None }
            }
        }
    };
}

text_enum!(ParagraphKind { Heading => "heading", Preambular => "preambular", Operative => "operative", Action => "action" });
text_enum!(ParagraphStatus { Open => "open", AgreedAdRef => "agreed-ad-ref", Agreed => "agreed", Held => "held", Deleted => "deleted" });
text_enum!(AmendmentStatus { Open => "open", Accepted => "accepted", Rejected => "rejected", Withdrawn => "withdrawn" });

/// Who locked a paragraph, when, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lock {
    pub mission: String,
    pub person: String,
    /// Milliseconds since the Unix epoch, by the server's clock.
    pub at_ms: u64,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Paragraph {
    pub id: String,
    /// The displayed number: "17", "15bis", "PP3", "OP6alt".
    pub label: String,
    pub kind: ParagraphKind,
    /// The section or objective this paragraph belongs to (a heading's id).
    pub parent: Option<String>,
    pub status: ParagraphStatus,
    pub lock: Option<Lock>,
    pub body: String,
}

impl Paragraph {
    pub fn is_locked(&self) -> bool {
        self.lock.is_some()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Amendment {
    pub id: String,
    /// The paragraph it rewords, or after which it proposes a new one.
    pub paragraph: String,
    /// True for a proposed new paragraph after `paragraph`.
    pub new_after: bool,
    /// Sponsor missions; the first is the author.
    pub sponsors: Vec<String>,
    pub on_behalf_of: Option<String>,
    pub text: String,
    pub rationale: String,
    pub supporters: Vec<String>,
    pub opposers: Vec<String>,
    pub status: AmendmentStatus,
    pub base_revision: Option<String>,
    /// The paragraph's body changed (another amendment was accepted) since this one began.
    pub stale: bool,
}

impl Amendment {
    /// The author: the first sponsor.
    pub fn author(&self) -> Option<&str> {
        self.sponsors.first().map(String::as_str)
    }

    pub fn is_sponsored_by(&self, mission: &str) -> bool {
        self.sponsors.iter().any(|s| s == mission)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Comment {
    pub mission: String,
    pub person: String,
    pub at_ms: u64,
    pub text: String,
}

/// The Y.Texts clients may write into, by what they are. The update policy resolves every
/// item of an incoming update to one of these (or refuses it).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Editable {
    ParagraphBody(String),
    AmendmentText(String),
    AmendmentRationale(String),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SchemaError {
    #[error("no paragraph {0}")]
    UnknownParagraph(String),
    #[error("no amendment {0}")]
    UnknownAmendment(String),
    #[error("paragraph {0} exists already")]
    DuplicateParagraph(String),
    #[error("amendment {0} exists already")]
    DuplicateAmendment(String),
}

// ---- reading -------------------------------------------------------------------------------

fn string(map: &MapRef, txn: &impl ReadTxn, key: &str) -> Option<String> {
    match map.get(txn, key) {
        Some(Out::Any(Any::String(s))) => Some(s.to_string()),
        _ => None,
    }
}

fn boolean(map: &MapRef, txn: &impl ReadTxn, key: &str) -> bool {
    matches!(map.get(txn, key), Some(Out::Any(Any::Bool(true))))
}

fn text(map: &MapRef, txn: &impl ReadTxn, key: &str) -> Option<TextRef> {
    match map.get(txn, key) {
        Some(Out::YText(text)) => Some(text),
        _ => None,
    }
}

fn strings(map: &MapRef, txn: &impl ReadTxn, key: &str) -> Vec<String> {
    match map.get(txn, key) {
        Some(Out::YArray(array)) => array
            .iter(txn)
            .filter_map(|v| match v {
                Out::Any(Any::String(s)) => Some(s.to_string()),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

fn entry(txn: &impl ReadTxn, root: &str, id: &str) -> Option<MapRef> {
    match txn.get_map(root)?.get(txn, id) {
        Some(Out::YMap(map)) => Some(map),
        _ => None,
    }
}

fn read_paragraph(txn: &impl ReadTxn, id: &str, map: &MapRef) -> Option<Paragraph> {
    let lock = match map.get(txn, "lock") {
        Some(Out::Any(any @ Any::Map(_))) => {
            let mut json = String::new();
            any.to_json(&mut json);
            serde_json::from_str(&json).ok()
        }
        _ => None,
    };
    Some(Paragraph {
        id: id.to_string(),
        label: string(map, txn, "label").unwrap_or_default(),
        kind: ParagraphKind::parse(&string(map, txn, "kind")?)?,
        parent: string(map, txn, "parent"),
        status: ParagraphStatus::parse(&string(map, txn, "status")?)?,
        lock,
        body: text(map, txn, "body")
            .map(|t| t.get_string(txn))
            .unwrap_or_default(),
    })
}

/// One paragraph, by id.
pub fn paragraph(txn: &impl ReadTxn, id: &str) -> Option<Paragraph> {
    read_paragraph(txn, id, &entry(txn, PARAGRAPHS, id)?)
}

/// Every paragraph, in reading order (tombstones included: check `status`).
pub fn paragraphs(txn: &impl ReadTxn) -> Vec<Paragraph> {
    let Some(order) = txn.get_array(ORDER) else {
        return Vec::new();
    };
    order
        .iter(txn)
        .filter_map(|id| match id {
            Out::Any(Any::String(id)) => paragraph(txn, &id),
            _ => None,
        })
        .collect()
}

fn read_amendment(txn: &impl ReadTxn, id: &str, map: &MapRef) -> Option<Amendment> {
    Some(Amendment {
        id: id.to_string(),
        paragraph: string(map, txn, "paragraph")?,
        new_after: boolean(map, txn, "new_after"),
        sponsors: strings(map, txn, "sponsors"),
        on_behalf_of: string(map, txn, "on_behalf_of"),
        text: text(map, txn, "text")
            .map(|t| t.get_string(txn))
            .unwrap_or_default(),
        rationale: text(map, txn, "rationale")
            .map(|t| t.get_string(txn))
            .unwrap_or_default(),
        supporters: strings(map, txn, "supporters"),
        opposers: strings(map, txn, "opposers"),
        status: AmendmentStatus::parse(&string(map, txn, "status")?)?,
        base_revision: string(map, txn, "base_revision"),
        stale: boolean(map, txn, "stale"),
    })
}

pub fn amendment(txn: &impl ReadTxn, id: &str) -> Option<Amendment> {
    read_amendment(txn, id, &entry(txn, AMENDMENTS, id)?)
}

/// Every amendment, ordered by id.
pub fn amendments(txn: &impl ReadTxn) -> Vec<Amendment> {
    let Some(root) = txn.get_map(AMENDMENTS) else {
        return Vec::new();
    };
    let mut all: Vec<Amendment> = root
        .iter(txn)
        .filter_map(|(id, value)| match value {
            Out::YMap(map) => read_amendment(txn, id, &map),
            _ => None,
        })
        .collect();
    all.sort_by(|a, b| a.id.cmp(&b.id));
    all
}

/// The comments on one paragraph, oldest first.
pub fn comments(txn: &impl ReadTxn, paragraph: &str) -> Vec<Comment> {
    let Some(Out::YArray(list)) = txn.get_map(COMMENTS).and_then(|m| m.get(txn, paragraph)) else {
        return Vec::new();
    };
    list.iter(txn)
        .filter_map(|value| match value {
            Out::Any(any) => {
                let mut json = String::new();
                any.to_json(&mut json);
                serde_json::from_str(&json).ok()
            }
            _ => None,
        })
        .collect()
}

/// The branch of every Y.Text a client may write into, and what it is. The update policy
/// keeps this as its index (it changes only when the server applies a command).
pub fn editable_branches(txn: &impl ReadTxn) -> HashMap<BranchID, Editable> {
    let mut index = HashMap::new();
    if let Some(root) = txn.get_map(PARAGRAPHS) {
        for (id, value) in root.iter(txn) {
            if let Out::YMap(map) = value {
                if let Some(body) = text(&map, txn, "body") {
                    index.insert(branch_id(&body), Editable::ParagraphBody(id.to_string()));
                }
            }
        }
    }
    if let Some(root) = txn.get_map(AMENDMENTS) {
        for (id, value) in root.iter(txn) {
            if let Out::YMap(map) = value {
                if let Some(t) = text(&map, txn, "text") {
                    index.insert(branch_id(&t), Editable::AmendmentText(id.to_string()));
                }
                if let Some(t) = text(&map, txn, "rationale") {
                    index.insert(branch_id(&t), Editable::AmendmentRationale(id.to_string()));
                }
            }
        }
    }
    index
}

fn branch_id(text: &TextRef) -> BranchID {
    let branch: &yrs::branch::Branch = text.as_ref();
    branch.id()
}

/// A paragraph's body text, for writes.
pub fn body_text(txn: &impl ReadTxn, paragraph: &str) -> Option<TextRef> {
    text(&entry(txn, PARAGRAPHS, paragraph)?, txn, "body")
}

/// An amendment's proposed text, for writes.
pub fn amendment_text(txn: &impl ReadTxn, amendment: &str) -> Option<TextRef> {
    text(&entry(txn, AMENDMENTS, amendment)?, txn, "text")
}

/// An amendment's rationale, for writes.
pub fn amendment_rationale(txn: &impl ReadTxn, amendment: &str) -> Option<TextRef> {
    text(&entry(txn, AMENDMENTS, amendment)?, txn, "rationale")
}

/// One of an amendment's mission lists (`sponsors`, `supporters`, `opposers`), for writes.
pub fn amendment_list(txn: &impl ReadTxn, amendment: &str, key: &str) -> Option<ArrayRef> {
    match entry(txn, AMENDMENTS, amendment)?.get(txn, key) {
        Some(Out::YArray(list)) => Some(list),
        _ => None,
    }
}

// ---- writing (server only, applying commands) ----------------------------------------------

/// A paragraph to create.
#[derive(Debug, Clone)]
pub struct NewParagraph {
    pub id: String,
    pub label: String,
    pub kind: ParagraphKind,
    pub parent: Option<String>,
    pub body: String,
}

/// Inserts a paragraph at position `at` of the reading order (clamped to the end).
pub fn insert_paragraph(
    txn: &mut TransactionMut,
    at: u32,
    new: &NewParagraph,
) -> Result<(), SchemaError> {
    let root = txn.get_or_insert_map(PARAGRAPHS);
    if root.get(txn, &new.id).is_some() {
        return Err(SchemaError::DuplicateParagraph(new.id.clone()));
    }
    let order = txn.get_or_insert_array(ORDER);
    let map = root.insert(txn, new.id.as_str(), MapPrelim::default());
    map.insert(txn, "label", new.label.as_str());
    map.insert(txn, "kind", new.kind.as_str());
    if let Some(parent) = &new.parent {
        map.insert(txn, "parent", parent.as_str());
    }
    map.insert(txn, "status", ParagraphStatus::Open.as_str());
    map.insert(txn, "body", TextPrelim::new(new.body.as_str()));
    let at = at.min(order.len(txn));
    order.insert(txn, at, new.id.as_str());
    Ok(())
}

fn paragraph_map(txn: &mut TransactionMut, id: &str) -> Result<MapRef, SchemaError> {
    entry(txn, PARAGRAPHS, id).ok_or_else(|| SchemaError::UnknownParagraph(id.to_string()))
}

pub fn set_status(
    txn: &mut TransactionMut,
    id: &str,
    status: ParagraphStatus,
) -> Result<(), SchemaError> {
    let map = paragraph_map(txn, id)?;
    map.insert(txn, "status", status.as_str());
    Ok(())
}

pub fn set_label(txn: &mut TransactionMut, id: &str, label: &str) -> Result<(), SchemaError> {
    let map = paragraph_map(txn, id)?;
    map.insert(txn, "label", label);
    Ok(())
}

/// Locks (`Some`) or unlocks (`None`) a paragraph.
pub fn set_lock(
    txn: &mut TransactionMut,
    id: &str,
    lock: Option<&Lock>,
) -> Result<(), SchemaError> {
    let map = paragraph_map(txn, id)?;
    match lock {
        Some(lock) => {
            let value: Any = Any::from(HashMap::from([
                ("mission".to_string(), Any::from(lock.mission.as_str())),
                ("person".to_string(), Any::from(lock.person.as_str())),
                ("at_ms".to_string(), Any::from(lock.at_ms as f64)),
                ("reason".to_string(), Any::from(lock.reason.as_str())),
            ]));
            map.insert(txn, "lock", value);
        }
        None => {
            map.remove(txn, "lock");
        }
    }
    Ok(())
}

/// An amendment to create. Its text starts as a copy of the paragraph's body.
#[derive(Debug, Clone)]
pub struct NewAmendment {
    pub id: String,
    pub paragraph: String,
    pub new_after: bool,
    pub author: String,
    pub on_behalf_of: Option<String>,
    pub rationale: String,
    pub base_revision: Option<String>,
}

pub fn create_amendment(txn: &mut TransactionMut, new: &NewAmendment) -> Result<(), SchemaError> {
    let body = paragraph(txn, &new.paragraph)
        .ok_or_else(|| SchemaError::UnknownParagraph(new.paragraph.clone()))?
        .body;
    let root = txn.get_or_insert_map(AMENDMENTS);
    if root.get(txn, &new.id).is_some() {
        return Err(SchemaError::DuplicateAmendment(new.id.clone()));
    }
    let map = root.insert(txn, new.id.as_str(), MapPrelim::default());
    map.insert(txn, "paragraph", new.paragraph.as_str());
    map.insert(txn, "new_after", new.new_after);
    let sponsors = map.insert(txn, "sponsors", ArrayPrelim::default());
    sponsors.push_back(txn, new.author.as_str());
    if let Some(group) = &new.on_behalf_of {
        map.insert(txn, "on_behalf_of", group.as_str());
    }
    let text = if new.new_after { String::new() } else { body };
    map.insert(txn, "text", TextPrelim::new(text.as_str()));
    map.insert(txn, "rationale", TextPrelim::new(new.rationale.as_str()));
    map.insert(txn, "supporters", ArrayPrelim::default());
    map.insert(txn, "opposers", ArrayPrelim::default());
    map.insert(txn, "status", AmendmentStatus::Open.as_str());
    if let Some(revision) = &new.base_revision {
        map.insert(txn, "base_revision", revision.as_str());
    }
    Ok(())
}

/// Marks an amendment as based on an older body (another amendment was accepted meanwhile).
pub fn set_stale(txn: &mut TransactionMut, id: &str) -> Result<(), SchemaError> {
    let map = entry(txn, AMENDMENTS, id).ok_or_else(|| SchemaError::UnknownAmendment(id.into()))?;
    map.insert(txn, "stale", true);
    Ok(())
}

/// Moves a paragraph to position `at` of the reading order.
pub fn move_paragraph(txn: &mut TransactionMut, id: &str, at: u32) -> Result<(), SchemaError> {
    let order = txn.get_or_insert_array(ORDER);
    let position = order
        .iter(txn)
        .position(|v| matches!(v, Out::Any(Any::String(s)) if &*s == id))
        .ok_or_else(|| SchemaError::UnknownParagraph(id.to_string()))?;
    order.remove(txn, position as u32);
    let at = at.min(order.len(txn));
    order.insert(txn, at, id);
    Ok(())
}

/// The position of a paragraph in the reading order.
pub fn position(txn: &impl ReadTxn, id: &str) -> Option<u32> {
    txn.get_array(ORDER)?
        .iter(txn)
        .position(|v| matches!(v, Out::Any(Any::String(s)) if &*s == id))
        .map(|p| p as u32)
}

pub fn set_amendment_status(
    txn: &mut TransactionMut,
    id: &str,
    status: AmendmentStatus,
) -> Result<(), SchemaError> {
    let map = entry(txn, AMENDMENTS, id).ok_or_else(|| SchemaError::UnknownAmendment(id.into()))?;
    map.insert(txn, "status", status.as_str());
    Ok(())
}

/// Appends a comment to a paragraph's thread.
pub fn add_comment(
    txn: &mut TransactionMut,
    paragraph_id: &str,
    comment: &Comment,
) -> Result<(), SchemaError> {
    if entry(txn, PARAGRAPHS, paragraph_id).is_none() {
        return Err(SchemaError::UnknownParagraph(paragraph_id.to_string()));
    }
    let root = txn.get_or_insert_map(COMMENTS);
    let list: ArrayRef = match root.get(txn, paragraph_id) {
        Some(Out::YArray(list)) => list,
        _ => root.insert(txn, paragraph_id, ArrayPrelim::default()),
    };
    let value = Any::from(HashMap::from([
        ("mission".to_string(), Any::from(comment.mission.as_str())),
        ("person".to_string(), Any::from(comment.person.as_str())),
        ("at_ms".to_string(), Any::from(comment.at_ms as f64)),
        ("text".to_string(), Any::from(comment.text.as_str())),
    ]));
    list.push_back(txn, value);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use yrs::{Doc, Text, Transact};

    fn paragraph_spec(id: &str, label: &str, kind: ParagraphKind, body: &str) -> NewParagraph {
        NewParagraph {
            id: id.into(),
            label: label.into(),
            kind,
            parent: None,
            body: body.into(),
        }
    }

    fn sample() -> Doc {
        let doc = Doc::with_client_id(1);
        let mut txn = doc.transact_mut();
        insert_paragraph(
            &mut txn,
            0,
            &paragraph_spec(
                "p1",
                "PP1",
                ParagraphKind::Preambular,
                "Recalling the Charter,",
            ),
        )
        .expect("p1");
        insert_paragraph(
            &mut txn,
            1,
            &paragraph_spec("p3", "OP1", ParagraphKind::Operative, "Decides to act;"),
        )
        .expect("p3");
        // Inserted between: "15bis"-style numbering keeps ids stable and labels free.
        insert_paragraph(
            &mut txn,
            1,
            &paragraph_spec("p2", "PP1bis", ParagraphKind::Preambular, "Noting,"),
        )
        .expect("p2");
        drop(txn);
        doc
    }

    #[test]
    fn paragraphs_read_back_in_order_with_their_fields() {
        let doc = sample();
        let txn = doc.transact();
        let all = paragraphs(&txn);
        let labels: Vec<&str> = all.iter().map(|p| p.label.as_str()).collect();
        assert_eq!(labels, ["PP1", "PP1bis", "OP1"]);
        assert_eq!(all[2].body, "Decides to act;");
        assert_eq!(all[2].kind, ParagraphKind::Operative);
        assert_eq!(all[0].status, ParagraphStatus::Open);
        assert!(!all[0].is_locked());
    }

    #[test]
    fn a_duplicate_paragraph_id_is_refused() {
        let doc = sample();
        let mut txn = doc.transact_mut();
        let again = paragraph_spec("p1", "X", ParagraphKind::Heading, "");
        assert_eq!(
            insert_paragraph(&mut txn, 0, &again),
            Err(SchemaError::DuplicateParagraph("p1".into()))
        );
    }

    #[test]
    fn status_label_and_lock_change_and_read_back() {
        let doc = sample();
        let lock = Lock {
            mission: "UN".into(),
            person: "chair".into(),
            at_ms: 1_800_000_000_000,
            reason: "agreed ad ref".into(),
        };
        {
            let mut txn = doc.transact_mut();
            set_status(&mut txn, "p3", ParagraphStatus::AgreedAdRef).expect("status");
            set_label(&mut txn, "p3", "OP1alt").expect("label");
            set_lock(&mut txn, "p3", Some(&lock)).expect("lock");
            assert_eq!(
                set_status(&mut txn, "p9", ParagraphStatus::Held),
                Err(SchemaError::UnknownParagraph("p9".into()))
            );
        }
        let p3 = paragraph(&doc.transact(), "p3").expect("p3");
        assert_eq!(p3.status, ParagraphStatus::AgreedAdRef);
        assert_eq!(p3.label, "OP1alt");
        assert_eq!(p3.lock, Some(lock));
        set_lock(&mut doc.transact_mut(), "p3", None).expect("unlock");
        assert!(!paragraph(&doc.transact(), "p3").expect("p3").is_locked());
    }

    #[test]
    fn an_amendment_starts_as_a_copy_of_the_body_and_lists_its_sponsors() {
        let doc = sample();
        let new = NewAmendment {
            id: "a1".into(),
            paragraph: "p3".into(),
            new_after: false,
            author: "MEX".into(),
            on_behalf_of: Some("G77 and China".into()),
            rationale: "Clarity.".into(),
            base_revision: Some("rev1".into()),
        };
        create_amendment(&mut doc.transact_mut(), &new).expect("amendment");
        let a1 = amendment(&doc.transact(), "a1").expect("a1");
        assert_eq!(a1.text, "Decides to act;");
        assert_eq!(a1.sponsors, vec!["MEX".to_string()]);
        assert!(a1.is_sponsored_by("MEX") && !a1.is_sponsored_by("EU"));
        assert_eq!(a1.on_behalf_of.as_deref(), Some("G77 and China"));
        assert_eq!(a1.status, AmendmentStatus::Open);
        assert_eq!(a1.rationale, "Clarity.");
        set_amendment_status(&mut doc.transact_mut(), "a1", AmendmentStatus::Withdrawn)
            .expect("status");
        assert_eq!(
            amendments(&doc.transact())[0].status,
            AmendmentStatus::Withdrawn
        );
        let missing = NewAmendment {
            paragraph: "p9".into(),
            ..new
        };
        assert!(create_amendment(&mut doc.transact_mut(), &missing).is_err());
    }

    #[test]
    fn comments_append_in_order() {
        let doc = sample();
        for (i, text) in ["first", "second"].iter().enumerate() {
            let comment = Comment {
                mission: "CHE".into(),
                person: "eva".into(),
                at_ms: i as u64,
                text: text.to_string(),
            };
            add_comment(&mut doc.transact_mut(), "p1", &comment).expect("comment");
        }
        let thread = comments(&doc.transact(), "p1");
        assert_eq!(
            thread.iter().map(|c| c.text.as_str()).collect::<Vec<_>>(),
            ["first", "second"]
        );
        assert!(comments(&doc.transact(), "p2").is_empty());
    }

    #[test]
    fn the_editable_index_names_every_text_a_client_may_write() {
        let doc = sample();
        let new = NewAmendment {
            id: "a1".into(),
            paragraph: "p1".into(),
            new_after: false,
            author: "EU".into(),
            on_behalf_of: None,
            rationale: String::new(),
            base_revision: None,
        };
        create_amendment(&mut doc.transact_mut(), &new).expect("amendment");
        let txn = doc.transact();
        let index = editable_branches(&txn);
        assert_eq!(index.len(), 3 + 2);
        let body = match txn.get_map(PARAGRAPHS).and_then(|m| m.get(&txn, "p2")) {
            Some(Out::YMap(map)) => text(&map, &txn, "body").expect("body"),
            _ => panic!("p2 exists"),
        };
        assert_eq!(
            index.get(&branch_id(&body)),
            Some(&Editable::ParagraphBody("p2".into()))
        );
        assert!(index
            .values()
            .any(|e| e == &Editable::AmendmentRationale("a1".into())));
        drop(txn);
        // A client's edit to a body changes the text, not the index.
        let body_len = body.len(&doc.transact());
        body.insert(&mut doc.transact_mut(), body_len, " (as amended)");
        assert_eq!(
            paragraph(&doc.transact(), "p2").expect("p2").body,
            "Noting, (as amended)"
        );
    }
}
