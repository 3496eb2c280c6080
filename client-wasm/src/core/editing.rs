//! What the person types: the texts they can type into (a paragraph's body, an amendment's
//! text or rationale), the server's own rule for whether they may, each text with unsaved
//! changes until the server acknowledges it, and the recovery after a refusal: on a fresh
//! replica the remembered edits go in again where still permitted, and the rest is kept as
//! text to copy.

use concord_protocol::policy::{branch_key, permit_text};
use concord_protocol::schema::{self, Editable};
use concord_protocol::{Message, Rejection};
use serde::{Deserialize, Serialize};
use yrs::{GetString, ReadTxn, TextRef, Transact};

use super::splice::{difference, splice};
use super::{ClientCore, Event, Link};

/// A text a person can type into.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "kebab-case")]
pub enum Target {
    Body(String),
    AmendmentText(String),
    AmendmentRationale(String),
    /// The next revision's cover letter (facilitators).
    CoverNote,
}

impl Target {
    pub(super) fn text(&self, txn: &impl ReadTxn) -> Option<TextRef> {
        match self {
            Target::Body(p) => schema::body_text(txn, p),
            Target::AmendmentText(a) => schema::amendment_text(txn, a),
            Target::AmendmentRationale(a) => schema::amendment_rationale(txn, a),
            Target::CoverNote => schema::cover_note_text(txn),
        }
    }

    fn describe(&self) -> String {
        match self {
            Target::Body(p) => format!("the text of paragraph {p}"),
            Target::AmendmentText(a) => format!("the text of amendment {a}"),
            Target::AmendmentRationale(a) => format!("the rationale of amendment {a}"),
            Target::CoverNote => "the cover letter of the next revision".to_string(),
        }
    }
}

/// Editable kinds as the page names them.
pub fn target_of(editable: &Editable) -> Target {
    match editable {
        Editable::ParagraphBody(p) => Target::Body(p.clone()),
        Editable::AmendmentText(a) => Target::AmendmentText(a.clone()),
        Editable::AmendmentRationale(a) => Target::AmendmentRationale(a.clone()),
        Editable::CoverNote => Target::CoverNote,
    }
}

/// A text with changes the server does not have durably yet.
#[derive(Debug, Clone)]
pub(super) struct Unsaved {
    pub(super) target: Target,
    /// What the text read before the first unsaved change.
    pub(super) base: String,
    /// What the person made of it.
    pub(super) value: String,
    /// The update (this connection's count) that carries the latest change; `None` while it is
    /// only in the replica (offline, or before the sync).
    pub(super) seq: Option<u64>,
}

/// Text the server would no longer accept, kept for the person to copy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Recoverable {
    pub target: Target,
    pub text: String,
    pub why: String,
}

/// Why an edit or a command was not even sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Refused {
    pub rule: String,
    pub message: String,
}

impl Refused {
    fn new(rule: &str, message: impl Into<String>) -> Self {
        Refused {
            rule: rule.to_string(),
            message: message.into(),
        }
    }
}

impl ClientCore {
    /// Makes the text `target` read `value` (what an input element now holds): the difference
    /// from what it read is applied, so concurrent edits elsewhere in the text survive.
    pub fn edit(&mut self, target: &Target, value: &str) -> Result<(), Refused> {
        self.may_edit(target)?;
        let mut txn = self.doc.transact_mut();
        let text = target
            .text(&txn)
            .ok_or_else(|| Refused::new("not-editable", format!("no {}", target.describe())))?;
        let before = text.get_string(&txn);
        if before == value {
            return Ok(());
        }
        splice(&text, &mut txn, &before, value);
        let update = txn.encode_update_v1();
        let deleted = txn.delete_set().clone();
        self.policy.absorb_own(&update, &deleted, &txn);
        drop(txn);

        // Once the server's sync step 1 is answered, an update follows that answer on the same
        // socket: it can leave at once, before the server's own state has arrived.
        let live = matches!(self.link, Link::Syncing | Link::Synced);
        let seq = if live && self.answered && !self.reapply_pending {
            self.send(Message::Update(&update).encode());
            Some(self.sent)
        } else {
            // Not sent now: the next sync step 2 carries it.
            None
        };
        match self.unsaved.iter_mut().find(|u| &u.target == target) {
            Some(unsaved) => {
                unsaved.value = value.to_string();
                unsaved.seq = seq;
            }
            None => self.unsaved.push(Unsaved {
                target: target.clone(),
                base: before,
                value: value.to_string(),
                seq,
            }),
        }
        self.status_changed();
        Ok(())
    }

    /// May this person type into `target` now? The server's own rule.
    pub fn may_edit(&self, target: &Target) -> Result<(), Refused> {
        let actor = self
            .actor()
            .ok_or_else(|| Refused::new("not-signed-in", "not signed in"))?;
        if let Link::Closed(why) = &self.link {
            return Err(Refused::new("closed", why.clone()));
        }
        let txn = self.doc.transact();
        let text = target
            .text(&txn)
            .ok_or_else(|| Refused::new("not-editable", format!("no {}", target.describe())))?;
        let branch: &yrs::branch::Branch = text.as_ref();
        permit_text(&branch_key(&branch.id()), &self.policy, actor)
            .map(drop)
            .map_err(|refusal| Refused::new(refusal.rule.as_str(), refusal.message))
    }

    pub fn recoverable(&self) -> &[Recoverable] {
        &self.recoverable
    }

    /// Forgets recovered text the person has dealt with.
    pub fn dismiss_recoverable(&mut self, index: usize) {
        if index < self.recoverable.len() {
            self.recoverable.remove(index);
            self.status_changed();
        }
    }

    /// The server refused an update: this replica now has a gap the server will never fill,
    /// so the next connection starts a fresh one.
    pub(super) fn rejected(&mut self, rejection: Rejection) {
        self.fresh_replica_needed = true;
        self.event(Event::Rejected {
            rule: rejection.rule,
            paragraph: rejection.paragraph,
            message: rejection.message,
        });
    }

    /// After a fresh replica has the server's state: the remembered edits go in again where
    /// still permitted; the rest is kept for the person.
    pub(super) fn reapply(&mut self) {
        let unsaved = std::mem::take(&mut self.unsaved);
        for entry in unsaved {
            let current = self.text(&entry.target);
            let permitted = self.may_edit(&entry.target);
            match (current, permitted) {
                (Some(current), Ok(())) => match rebase(&entry.base, &entry.value, &current) {
                    Some(rebased) => {
                        if self.edit(&entry.target, &rebased).is_err() {
                            self.recover(entry, "it could not be applied again");
                        }
                    }
                    None => self.recover(entry, "the text changed meanwhile where you typed"),
                },
                (None, _) => self.recover(entry, "the text no longer exists"),
                (Some(_), Err(refused)) => {
                    let why = refused.message;
                    self.recover(entry, &why)
                }
            }
        }
        self.status_changed();
    }

    fn recover(&mut self, entry: Unsaved, why: &str) {
        self.event(Event::Recoverable {
            target: entry.target.clone(),
            text: entry.value.clone(),
            why: why.to_string(),
        });
        self.recoverable.push(Recoverable {
            target: entry.target,
            text: entry.value,
            why: why.to_string(),
        });
    }

    /// The session ended for good: every unsaved text becomes text to copy.
    pub(super) fn keep_unsaved_as_recoverable(&mut self, why: &str) {
        for entry in std::mem::take(&mut self.unsaved) {
            self.recover(entry, why);
        }
    }
}

/// The person's change from `base` to `value`, carried over to a text that now reads
/// `current` (others edited it meanwhile): the change goes where the same text still precedes
/// it, or else follows it. `None` when the stretch the person replaced is no longer there.
pub(super) fn rebase(base: &str, value: &str, current: &str) -> Option<String> {
    if current == base {
        return Some(value.to_string());
    }
    let (start, removed, inserted) = difference(base, value);
    let replaced = &base[start..start + removed];
    let (before, after) = (&base[..start], &base[start + removed..]);
    let at = if current.starts_with(before) {
        Some(before.len())
    } else if current.ends_with(after) {
        (current.len() - after.len()).checked_sub(removed)
    } else {
        None
    }?;
    let end = at + removed;
    if !current.is_char_boundary(at)
        || !current.is_char_boundary(end)
        || current.get(at..end)? != replaced
    {
        return None;
    }
    Some(format!("{}{inserted}{}", &current[..at], &current[end..]))
}
