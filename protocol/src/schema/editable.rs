//! The texts clients may write into, by what they are: the index the update policy resolves
//! every incoming item against (a paragraph's body, an amendment's text or its rationale, the
//! next revision's cover letter).
//! It changes only when the server applies a command.

use std::collections::HashMap;

use yrs::{BranchID, Map, Out, ReadTxn, TextRef};

use super::keys;
use super::read::text;

/// The Y.Texts clients may write into, by what they are. The update policy resolves every
/// item of an incoming update to one of these (or refuses it).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Editable {
    ParagraphBody(String),
    AmendmentText(String),
    AmendmentRationale(String),
    /// The next revision's cover letter: the facilitators'.
    CoverNote,
}

/// The branch of every Y.Text a client may write into, and what it is. The update policy
/// keeps this as its index (it changes only when the server applies a command).
pub fn editable_branches(txn: &impl ReadTxn) -> HashMap<BranchID, Editable> {
    let mut index = HashMap::new();
    if let Some(root) = txn.get_map(keys::PARAGRAPHS) {
        for (id, value) in root.iter(txn) {
            if let Out::YMap(map) = value {
                if let Some(body) = text(&map, txn, keys::BODY) {
                    index.insert(branch_id(&body), Editable::ParagraphBody(id.to_string()));
                }
            }
        }
    }
    if let Some(root) = txn.get_map(keys::AMENDMENTS) {
        for (id, value) in root.iter(txn) {
            if let Out::YMap(map) = value {
                if let Some(t) = text(&map, txn, keys::TEXT) {
                    index.insert(branch_id(&t), Editable::AmendmentText(id.to_string()));
                }
                if let Some(t) = text(&map, txn, keys::RATIONALE) {
                    index.insert(branch_id(&t), Editable::AmendmentRationale(id.to_string()));
                }
            }
        }
    }
    if let Some(note) = super::cover_note_text(txn) {
        index.insert(branch_id(&note), Editable::CoverNote);
    }
    index
}

pub(super) fn branch_id(text: &TextRef) -> BranchID {
    let branch: &yrs::branch::Branch = text.as_ref();
    branch.id()
}
