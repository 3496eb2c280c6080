//! The client itself, in plain Rust: a replica of the document, the connection's life, and what
//! the person typed until the server has it durably. No I/O: the transport (a browser WebSocket,
//! or a test) hands frames in with [`ClientCore::receive`] and takes frames out with
//! [`ClientCore::take_outgoing`]; the page reads [`ClientCore::model`] and drains
//! [`ClientCore::take_events`].
//!
//! Nothing a person types is lost. Each text with unsaved changes is remembered (what it read
//! before, what the person made of it) until the server acknowledges the update that carried
//! it. Offline, edits go into the replica and leave with the next sync. If the server refuses an
//! update (`Rejected`, then close 4403), the replica has a gap the server will never fill, so the
//! next connection starts a fresh replica from the server's state, re-applies the remembered
//! edits the policy still permits, and hands the others to the page as text to copy.

use std::collections::{BTreeMap, VecDeque};

use concord_protocol::awareness::{decode_awareness, encode_awareness, AwarenessEntry};
use concord_protocol::command::{
    execute, Command, CommandError, CommandRequest, Context, ErrorCode, Reply,
};
use concord_protocol::policy::{branch_key, permit_text, Actor, PolicyState};
use concord_protocol::schema::{self, new_replica, Editable};
use concord_protocol::{Message, Role, Session};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use yrs::updates::decoder::Decode;
use yrs::{Doc, GetString, ReadTxn, StateVector, Text, TextRef, Transact, Update};

/// A text a person can type into.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "kebab-case")]
pub enum Target {
    Body(String),
    AmendmentText(String),
    AmendmentRationale(String),
}

impl Target {
    fn text(&self, txn: &impl ReadTxn) -> Option<TextRef> {
        match self {
            Target::Body(p) => schema::body_text(txn, p),
            Target::AmendmentText(a) => schema::amendment_text(txn, a),
            Target::AmendmentRationale(a) => schema::amendment_rationale(txn, a),
        }
    }

    fn describe(&self) -> String {
        match self {
            Target::Body(p) => format!("the text of paragraph {p}"),
            Target::AmendmentText(a) => format!("the text of amendment {a}"),
            Target::AmendmentRationale(a) => format!("the rationale of amendment {a}"),
        }
    }
}

/// Where the connection stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Link {
    /// No socket; the transport will (re)connect.
    Offline,
    /// Socket open, initial sync not complete.
    Syncing,
    Synced,
    /// The server ended the session for good (expired or revoked token, ...): the reason.
    Closed(String),
}

/// A text with changes the server does not have durably yet.
#[derive(Debug, Clone)]
struct Unsaved {
    target: Target,
    /// What the text read before the first unsaved change.
    base: String,
    /// What the person made of it.
    value: String,
    /// The update (this connection's count) that carries the latest change; `None` while it is
    /// only in the replica (offline, or before the sync).
    seq: Option<u64>,
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

/// Close codes after which reconnecting cannot help.
fn is_final(code: u16) -> bool {
    matches!(code, 4400 | 4401 | 4413)
}

#[derive(Debug)]
pub struct ClientCore {
    doc: Doc,
    policy: PolicyState,
    session: Option<Session>,
    link: Link,
    /// Document updates sent on this connection, and how many the server acknowledged.
    sent: u64,
    acked: u64,
    /// The server's sync step 1 has been answered on this connection.
    answered: bool,
    unsaved: Vec<Unsaved>,
    outgoing: VecDeque<Vec<u8>>,
    events: Vec<Value>,
    next_command: u64,
    /// A refused update left a gap: the next connection starts a fresh replica.
    fresh_replica_needed: bool,
    /// The fresh replica is waiting for the server's state to re-apply the unsaved edits.
    reapply_pending: bool,
    /// The replica before the rebuild, still shown (read-only) until the fresh one has the
    /// server's state, so the page does not go blank for a round trip.
    previous: Option<Doc>,
    recoverable: Vec<Recoverable>,
    attempts: u32,
    /// Others' presence: client id -> (clock, state).
    presence: BTreeMap<u64, (u32, Value)>,
    presence_clock: u32,
}

impl Default for ClientCore {
    fn default() -> Self {
        Self::new()
    }
}

impl ClientCore {
    pub fn new() -> Self {
        ClientCore {
            doc: new_replica(),
            policy: PolicyState::default(),
            session: None,
            link: Link::Offline,
            sent: 0,
            acked: 0,
            answered: false,
            unsaved: Vec::new(),
            outgoing: VecDeque::new(),
            events: Vec::new(),
            next_command: 1,
            fresh_replica_needed: false,
            reapply_pending: false,
            previous: None,
            recoverable: Vec::new(),
            attempts: 0,
            presence: BTreeMap::new(),
            presence_clock: 0,
        }
    }

    // ----- the connection's life -----

    /// The socket opened: start the sync (with a fresh replica if the last one had a gap).
    pub fn connected(&mut self) {
        if self.fresh_replica_needed {
            let old = std::mem::replace(&mut self.doc, new_replica());
            self.previous.get_or_insert(old);
            self.policy = PolicyState::default();
            self.fresh_replica_needed = false;
            self.reapply_pending = true;
        }
        self.sent = 0;
        self.acked = 0;
        self.answered = false;
        self.presence.clear();
        self.link = Link::Syncing;
        let state_vector = self.doc.transact().state_vector();
        self.send(Message::SyncStep1(state_vector).encode());
        self.status_changed();
    }

    /// The socket closed. Returns whether to reconnect.
    pub fn disconnected(&mut self, code: u16, reason: &str) -> bool {
        // Whatever was sent and not acknowledged is still in the replica: the next sync
        // carries it again.
        for unsaved in &mut self.unsaved {
            unsaved.seq = None;
        }
        self.presence.clear();
        if is_final(code) {
            let why = match code {
                4401 => "Your sign-in has expired or was revoked. Sign in again to continue; \
                         your unsaved text is kept below."
                    .to_string(),
                _ => format!("The server closed the connection: {reason}"),
            };
            self.link = Link::Closed(why);
            self.keep_unsaved_as_recoverable("the session ended before the server saved it");
            self.status_changed();
            return false;
        }
        if code == 4403 {
            self.fresh_replica_needed = true;
        }
        self.link = Link::Offline;
        self.attempts = self.attempts.saturating_add(1);
        self.status_changed();
        true
    }

    /// How long to wait before reconnecting: exponential backoff from 250 ms to 10 s, spread
    /// by `jitter` (0..1) so that a room of delegates does not reconnect in one instant.
    pub fn reconnect_delay_ms(&self, jitter: f64) -> f64 {
        let exponent = self.attempts.saturating_sub(1).min(6);
        let base = (250.0 * f64::from(1u32 << exponent)).min(10_000.0);
        base * (0.5 + jitter.clamp(0.0, 1.0) / 2.0)
    }

    /// Everything received in one frame.
    pub fn receive(&mut self, frame: &[u8]) {
        let messages = match Message::decode_frame(frame) {
            Ok(messages) => messages,
            Err(err) => {
                self.event(json!({"type": "error", "message": format!("unreadable frame: {err}")}));
                return;
            }
        };
        for message in messages {
            match message {
                Message::Session(session) => {
                    self.session = Some(session);
                    self.publish_presence();
                    self.event(json!({"type": "session"}));
                }
                Message::SyncStep1(state_vector) => self.answer_sync(&state_vector),
                Message::SyncStep2(update) => {
                    self.integrate(update);
                    // A whole state: the page re-reads everything.
                    if let Some(last) = self.events.last_mut() {
                        if last["type"] == "texts" {
                            *last = json!({"type": "changed"});
                        }
                    }
                    if self.link == Link::Syncing {
                        self.link = Link::Synced;
                        self.attempts = 0;
                        if self.reapply_pending {
                            self.reapply_pending = false;
                            self.previous = None;
                            self.reapply();
                        }
                        self.status_changed();
                    }
                }
                Message::Update(update) => self.integrate(update),
                Message::Ack(n) => {
                    self.acked = self.acked.max(n);
                    let acked = self.acked;
                    self.unsaved
                        .retain(|u| !matches!(u.seq, Some(seq) if seq <= acked));
                    self.status_changed();
                }
                Message::Rejected(rejection) => {
                    self.fresh_replica_needed = true;
                    self.event(json!({
                        "type": "rejected",
                        "rule": rejection.rule,
                        "paragraph": rejection.paragraph,
                        "message": rejection.message,
                    }));
                }
                Message::CommandResult(reply) => {
                    let result = match reply.result {
                        Reply::Ok(outcome) => json!({"ok": outcome}),
                        Reply::Error(error) => json!({"error": error}),
                    };
                    self.event(json!({"type": "command-result", "id": reply.id, "result": result}));
                }
                Message::Awareness(update) => self.receive_presence(update),
                Message::QueryAwareness => self.publish_presence(),
                // The server's permission-denied follows its `Rejected`, which says more.
                Message::PermissionDenied(_) => {}
                Message::Refresh(_) | Message::Command(_) | Message::UnreadableCommand { .. } => {}
            }
        }
    }

    /// The next frame to send, if any.
    pub fn take_outgoing(&mut self) -> Option<Vec<u8>> {
        self.outgoing.pop_front()
    }

    /// What happened since the last call, for the page (JSON values with a `type`).
    pub fn take_events(&mut self) -> Vec<Value> {
        std::mem::take(&mut self.events)
    }

    // ----- editing -----

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

        let seq = if self.link == Link::Synced && self.answered {
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

    /// Sends a command; returns its id (the `command-result` event carries the same id). It is
    /// first tried on a scratch copy of the replica, so what the server would refuse is refused
    /// here with the same code.
    pub fn command(&mut self, command: Command) -> Result<u64, CommandError> {
        self.check_command(&command)?;
        if self.link != Link::Synced {
            return Err(CommandError {
                code: ErrorCode::Offline,
                message: "not connected; try again once the page says it is connected".into(),
            });
        }
        let id = self.next_command;
        self.next_command += 1;
        self.send(Message::Command(CommandRequest { id, command }).encode());
        Ok(id)
    }

    /// Would the server accept this command now (as far as this replica knows)?
    pub fn check_command(&self, command: &Command) -> Result<(), CommandError> {
        let Some(actor) = self.actor() else {
            return Err(CommandError {
                code: ErrorCode::NotSignedIn,
                message: "not signed in".into(),
            });
        };
        let person = self
            .session
            .as_ref()
            .and_then(|s| s.person.clone())
            .unwrap_or_default();
        let scratch = new_replica();
        let state = self
            .doc
            .transact()
            .encode_state_as_update_v1(&StateVector::default());
        if let Ok(update) = Update::decode_v1(&state) {
            let _ = scratch.transact_mut().apply_update(update);
        }
        let ctx = Context {
            actor,
            person: &person,
            now_ms: 0,
        };
        let mut txn = scratch.transact_mut();
        let result = execute(&mut txn, ctx, command).map(drop);
        drop(txn);
        result
    }

    // ----- what the page shows -----

    /// The document as the page renders it (JSON): paragraphs in reading order with their
    /// amendments and comments, and what this person may edit.
    pub fn model(&self) -> Value {
        let shown = self.previous.as_ref().unwrap_or(&self.doc);
        let txn = shown.transact();
        let amendments = schema::amendments(&txn);
        let editable = |target: Target| self.may_edit(&target).is_ok();
        let paragraphs: Vec<Value> = schema::paragraphs(&txn)
            .into_iter()
            .map(|p| {
                let own: Vec<Value> = amendments
                    .iter()
                    .filter(|a| a.paragraph == p.id)
                    .map(|a| {
                        let mut value = json!(a);
                        value["text_editable"] =
                            json!(editable(Target::AmendmentText(a.id.clone())));
                        value["rationale_editable"] =
                            json!(editable(Target::AmendmentRationale(a.id.clone())));
                        value
                    })
                    .collect();
                let comments = schema::comments(&txn, &p.id);
                let mut value = json!(p);
                value["editable"] = json!(editable(Target::Body(p.id.clone())));
                value["amendments"] = json!(own);
                value["comments"] = json!(comments);
                value
            })
            .collect();
        json!({
            "paragraphs": paragraphs,
            "presence": self.presence_list(),
        })
    }

    /// Connection and saving state, who this is, and text to recover (JSON).
    pub fn status(&self) -> Value {
        let (connection, closed) = match &self.link {
            Link::Offline => ("offline", None),
            Link::Syncing => ("connecting", None),
            Link::Synced => ("synced", None),
            Link::Closed(why) => ("closed", Some(why.clone())),
        };
        json!({
            "connection": connection,
            "closed": closed,
            "unsaved": !self.is_saved(),
            "saved": self.is_saved(),
            "session": self.session,
            "recoverable": self.recoverable,
            "presence": self.presence_list(),
        })
    }

    fn presence_list(&self) -> Vec<Value> {
        self.presence
            .values()
            .map(|(_, state)| state.clone())
            .collect()
    }

    /// Every local change is acknowledged as durable.
    pub fn is_saved(&self) -> bool {
        self.unsaved.is_empty() && self.acked >= self.sent
    }

    pub fn link(&self) -> &Link {
        &self.link
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

    /// The current text of `target` in the replica.
    pub fn text(&self, target: &Target) -> Option<String> {
        let txn = self.doc.transact();
        target.text(&txn).map(|t| t.get_string(&txn))
    }

    pub fn client_id(&self) -> u64 {
        self.doc.client_id().get()
    }

    // ----- internals -----

    fn actor(&self) -> Option<Actor<'_>> {
        let session = self.session.as_ref()?;
        Some(Actor {
            role: session.role?,
            mission: session.mission.as_deref()?,
        })
    }

    fn send(&mut self, frame: Vec<u8>) {
        if let Ok(messages) = Message::decode_frame(&frame) {
            if messages.iter().any(Message::is_document_update) {
                self.sent += 1;
            }
        }
        self.outgoing.push_back(frame);
    }

    fn answer_sync(&mut self, state_vector: &StateVector) {
        let diff = self.doc.transact().encode_state_as_update_v1(state_vector);
        self.send(Message::SyncStep2(&diff).encode());
        self.answered = true;
        let seq = self.sent;
        // Everything the server lacks is in that answer, unsent edits included.
        for unsaved in &mut self.unsaved {
            if unsaved.seq.is_none() {
                unsaved.seq = Some(seq);
            }
        }
    }

    fn integrate(&mut self, update: &[u8]) {
        let Ok(decoded) = Update::decode_v1(update) else {
            self.event(json!({"type": "error", "message": "the server sent an unreadable update"}));
            return;
        };
        let mut txn = self.doc.transact_mut();
        if txn.apply_update(decoded).is_err() {
            drop(txn);
            self.event(json!({"type": "error", "message": "an update could not be applied"}));
            return;
        }
        let deleted = txn.delete_set().clone();
        self.policy.absorb_own(update, &deleted, &txn);
        drop(txn);
        // Typing (the common case) only changes texts: the page updates just those.
        match self.texts_touched(update) {
            Some(targets) => self.event(json!({"type": "texts", "targets": targets})),
            None => self.event(json!({"type": "changed"})),
        }
    }

    /// The texts an applied update wrote into, if that is all it did (else `None`: structure
    /// changed, and the page re-reads the whole model).
    fn texts_touched(&self, update: &[u8]) -> Option<Vec<Target>> {
        use concord_protocol::policy::DocumentView;
        use concord_protocol::update::{scan_update_v1, Block};
        let scanned = scan_update_v1(update).ok()?;
        let mut targets: Vec<Target> = Vec::new();
        let mut add = |branch: &concord_protocol::policy::BranchKey| {
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

    /// After a fresh replica has the server's state: the remembered edits go in again where
    /// still permitted; the rest is kept for the person.
    fn reapply(&mut self) {
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
        self.event(json!({
            "type": "recoverable",
            "target": entry.target,
            "text": entry.value,
            "why": why,
        }));
        self.recoverable.push(Recoverable {
            target: entry.target,
            text: entry.value,
            why: why.to_string(),
        });
    }

    fn keep_unsaved_as_recoverable(&mut self, why: &str) {
        for entry in std::mem::take(&mut self.unsaved) {
            self.recover(entry, why);
        }
    }

    fn publish_presence(&mut self) {
        let Some(session) = &self.session else { return };
        if self.link == Link::Offline || session.role == Some(Role::Observer) {
            return;
        }
        self.presence_clock += 1;
        let state = json!({
            "person": session.person,
            "mission": session.mission,
            "role": session.role,
        })
        .to_string();
        let update = encode_awareness([AwarenessEntry {
            client: self.client_id(),
            clock: self.presence_clock,
            state: &state,
        }]);
        self.outgoing
            .push_back(Message::Awareness(&update).encode());
    }

    fn receive_presence(&mut self, update: &[u8]) {
        let Ok(entries) = decode_awareness(update) else {
            return;
        };
        let own = self.client_id();
        for entry in entries {
            if entry.client == own {
                continue;
            }
            if entry.is_removal() {
                self.presence.remove(&entry.client);
                continue;
            }
            let newer = self
                .presence
                .get(&entry.client)
                .is_none_or(|(clock, _)| entry.clock >= *clock);
            if newer {
                if let Ok(state) = serde_json::from_str::<Value>(entry.state) {
                    self.presence.insert(entry.client, (entry.clock, state));
                }
            }
        }
        self.event(json!({"type": "presence"}));
    }

    fn status_changed(&mut self) {
        if !matches!(self.events.last(), Some(last) if last["type"] == "status") {
            self.event(json!({"type": "status"}));
        }
    }

    fn event(&mut self, event: Value) {
        self.events.push(event);
    }
}

/// Editable kinds as the page names them.
pub fn target_of(editable: &Editable) -> Target {
    match editable {
        Editable::ParagraphBody(p) => Target::Body(p.clone()),
        Editable::AmendmentText(a) => Target::AmendmentText(a.clone()),
        Editable::AmendmentRationale(a) => Target::AmendmentRationale(a.clone()),
    }
}

/// The one change that turns `old` into `new`: (start, removed, inserted), in chars, found by
/// the common prefix and suffix.
fn difference<'a>(old: &'a str, new: &'a str) -> (usize, usize, &'a str) {
    let prefix: usize = old
        .chars()
        .zip(new.chars())
        .take_while(|(a, b)| a == b)
        .map(|(a, _)| a.len_utf8())
        .sum();
    let (old_rest, new_rest) = (&old[prefix..], &new[prefix..]);
    let suffix: usize = old_rest
        .chars()
        .rev()
        .zip(new_rest.chars().rev())
        .take_while(|(a, b)| a == b)
        .map(|(a, _)| a.len_utf8())
        .sum();
    let removed = old_rest.len() - suffix;
    let inserted = &new_rest[..new_rest.len() - suffix];
    (prefix, removed, inserted)
}

fn utf16_len(s: &str) -> u32 {
    s.encode_utf16().count() as u32
}

/// Applies the difference between `old` (what `text` reads) and `new` to `text`.
fn splice(text: &TextRef, txn: &mut yrs::TransactionMut, old: &str, new: &str) {
    let (start, removed, inserted) = difference(old, new);
    let at = utf16_len(&old[..start]);
    let removed_len = utf16_len(&old[start..start + removed]);
    if removed_len > 0 {
        text.remove_range(txn, at, removed_len);
    }
    if !inserted.is_empty() {
        text.insert(txn, at, inserted);
    }
}

/// The person's change from `base` to `value`, carried over to a text that now reads
/// `current` (others edited it meanwhile): the change goes where the same text still precedes
/// it, or else follows it. `None` when the stretch the person replaced is no longer there.
fn rebase(base: &str, value: &str, current: &str) -> Option<String> {
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

#[cfg(test)]
mod tests;
