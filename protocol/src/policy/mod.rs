//! The update policy (docs/design.md section 3): may this connection write this update, now?
//!
//! Every incoming update is scanned ([`crate::update::scan_update_v1`]) and checked here before
//! yrs sees it. For each inserted item the policy resolves the branch it lands in (its explicit
//! parent, else the parent of its origins, which must agree), for each *new* deletion the
//! branches of the items it deletes, and asks whether the actor (role, mission) may write that
//! branch now: a paragraph body (facilitators, while unlocked), an amendment's text or
//! rationale (its sponsors and facilitators, while the amendment is open and its paragraph
//! unlocked), and nothing else for anyone. It also checks that every client id the update
//! writes under belongs to the actor's mission, and that nothing refers to items the document
//! does not have. A refusal names the rule and the paragraph.
//!
//! The policy needs to know, for any item id, which branch the item lives in. yrs keeps that
//! private (and its public route walks the branch from the start), so the policy keeps its own
//! [`IdIndex`]: runs of ids per client with their branch, extended with every accepted update.
//! Lookups are by range, so a hostile deletion of billions of ids costs what a small one does.
//!
//! The module is pure: the server checks with it, and the browser client pre-checks with the
//! same code so that people are not offered what the server would refuse.

mod index;
mod rules;
mod state;
#[cfg(test)]
mod tests;

use std::collections::BTreeSet;

use crate::schema::{AmendmentStatus, Editable, ParagraphStatus};
use crate::session::Role;
use crate::update::{Block, Id, ScannedUpdate};

use index::{push_in_client_order, resolve_in_order, ClientQueues, InUpdate, Stuck};
pub use index::{BranchKey, IdIndex, Segment};
use rules::{permit_branch, permit_item};
pub use rules::{permit_text, Refusal, Rule};
pub use state::{branch_key, PolicyState};

/// What the policy needs to know about the document beyond its items.
pub trait DocumentView {
    fn index(&self) -> &IdIndex;
    /// What a branch is, if clients may write into it at all.
    fn meaning(&self, branch: &BranchKey) -> Option<&Editable>;
    fn paragraph(&self, id: &str) -> Option<ParagraphGuard>;
    fn amendment(&self, id: &str) -> Option<AmendmentGuard>;
    /// The mission that owns a client id (claimed on first use), if any.
    fn owner(&self, client: u64) -> Option<&str>;
}

/// What decides whether a paragraph's body may be written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParagraphGuard {
    pub locked: bool,
    pub status: ParagraphStatus,
}

/// What decides whether an amendment's text and rationale may be written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AmendmentGuard {
    pub paragraph: String,
    pub status: AmendmentStatus,
    pub sponsors: Vec<String>,
}

/// Who is writing.
#[derive(Debug, Clone, Copy)]
pub struct Actor<'a> {
    pub role: Role,
    pub mission: &'a str,
}

/// An accepted update: what to remember of it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Verdict {
    /// Client ids this update claims for the actor's mission (first use).
    pub claims: Vec<u64>,
    /// The texts it writes into (for the audit: "who wrote in paragraph 7").
    pub touched: BTreeSet<EditableKey>,
    /// Its items and their branches, to extend the index once the update is applied.
    pub items: Vec<(Id, u32, BranchKey)>,
    /// Its new deletions.
    pub deletions: Vec<(u64, u32, u32)>,
}

/// [`Editable`] with an order, for sets.
pub type EditableKey = (u8, String);

pub(crate) fn key(editable: &Editable) -> EditableKey {
    match editable {
        Editable::ParagraphBody(p) => (0, p.clone()),
        Editable::AmendmentText(a) => (1, a.clone()),
        Editable::AmendmentRationale(a) => (2, a.clone()),
        Editable::CoverNote => (3, String::new()),
    }
}

/// Checks an update. Nothing is changed: on `Ok`, apply the update, then
/// [`PolicyState::record`] the verdict.
///
/// The verdict covers exactly what yrs will integrate, and an update yrs would not integrate
/// whole is refused (`unknown-reference`): a gap in a client's clocks (an item starting above
/// what the document has, a skipped range), a reference to an item the document lacks, a
/// cycle between clients, a deletion of ids the document does not have. yrs would keep such
/// parts pending and integrate them later, when another update fills the gap: judged now,
/// they would slip in unjudged then.
pub fn check(
    update: &ScannedUpdate<'_>,
    view: &impl DocumentView,
    actor: Actor<'_>,
) -> Result<Verdict, Refusal> {
    let mut verdict = Verdict::default();
    let index = view.index();

    // What the document does not have yet, cut as yrs cuts it. A reconnecting client re-sends
    // all it has, other clients' content and old deletions included: that part counts for
    // nothing.
    let mut queues: ClientQueues<'_> = Vec::new();
    // The scanner refuses a client named twice, so each client's blocks form one section.
    let mut section: Option<u64> = None;
    for block in &update.blocks {
        let (id, len) = match block {
            Block::Item(item) => (item.id, item.len),
            Block::Gc { id, len } | Block::Skip { id, len } => (*id, *len),
        };
        // A client's blocks follow one another without gaps (their clocks are implied), so
        // only a section's first block can start above what the document has.
        let first_of_section = section != Some(id.client);
        if first_of_section {
            section = Some(id.client);
        }
        let known = index.clock(id.client);
        if index.reaches_a_hole(id.client, id.clock, len) {
            return Err(Refusal::new(
                Rule::UnknownReference,
                None,
                format!(
                    "{}:{} fills a gap the document was left with",
                    id.client, id.clock
                ),
            ));
        }
        if first_of_section && id.clock > known {
            return Err(Refusal::new(
                Rule::UnknownReference,
                None,
                format!(
                    "{}:{} leaves a gap: the document has client {} up to clock {known}",
                    id.client, id.clock, id.client
                ),
            ));
        }
        match block {
            Block::Skip { .. } => {
                return Err(Refusal::new(
                    Rule::UnknownReference,
                    None,
                    format!("skipped range at {}:{}", id.client, id.clock),
                ))
            }
            Block::Gc { .. } => {
                if id.clock.saturating_add(len) > known {
                    return Err(Refusal::new(
                        Rule::ContentNotText,
                        None,
                        format!("garbage-collected range at {}:{}", id.client, id.clock),
                    ));
                }
            }
            Block::Item(item) => {
                if let Some(fresh) = index.fresh_part(item) {
                    push_in_client_order(&mut queues, fresh);
                }
            }
        }
    }
    let new_deletions: Vec<(u64, u32, u32)> = update
        .deletions
        .iter()
        .flat_map(|d| {
            index
                .undeleted(d.client, d.clock, d.len)
                .into_iter()
                .map(move |(clock, len)| (d.client, clock, len))
        })
        .collect();
    if queues.is_empty() && new_deletions.is_empty() {
        return Ok(verdict);
    }
    if actor.role == Role::Observer {
        return Err(Refusal::new(
            Rule::ObserverReadOnly,
            None,
            "observers follow the text; they cannot edit it",
        ));
    }

    // Client ids: every id this update writes under must be the actor mission's.
    for queue in &queues {
        let Some(client) = queue.front().map(|item| item.id.client) else {
            continue;
        };
        match view.owner(client) {
            Some(owner) if owner == actor.mission => {}
            Some(owner) => {
                return Err(Refusal::new(
                    Rule::ClientIdOfAnotherMission,
                    None,
                    format!("client id {client} belongs to mission {owner}"),
                ))
            }
            None => verdict.claims.push(client),
        }
    }

    // Inserted items: each judged in the branch yrs will put it in, in yrs's order.
    let mut in_update = InUpdate::new();
    let resolved = resolve_in_order(&mut queues, index, &mut in_update, |item, branch| {
        permit_item(item, branch, view, actor, &mut verdict)
    });
    match resolved {
        Ok(()) => {}
        Err(Stuck::Refused(refusal)) => return Err(refusal),
        Err(Stuck::Disagree(id)) => {
            return Err(Refusal::new(
                Rule::OriginsDisagree,
                None,
                format!(
                    "item {}:{} refers to items in different texts",
                    id.client, id.clock
                ),
            ))
        }
        Err(Stuck::Unknown(id)) => {
            return Err(Refusal::new(
                Rule::UnknownReference,
                None,
                format!(
                    "item {}:{} refers to content the document does not have",
                    id.client, id.clock
                ),
            ))
        }
    }

    // New deletions: each deleted item's text must be writable by the actor.
    for (client, clock, len) in new_deletions {
        for segment in index.segments(client, clock, len) {
            let branch = match segment.branch {
                Some(branch) => branch,
                // Deleting what this very update inserts is fine (its texts were judged);
                // anything else unknown would stay pending.
                None if in_update.covers(client, segment.clock, segment.len) => {
                    verdict.deletions.push((client, segment.clock, segment.len));
                    continue;
                }
                None => {
                    return Err(Refusal::new(
                        Rule::UnknownReference,
                        None,
                        format!(
                            "deletion of {client}:{} refers to content the document does not have",
                            segment.clock
                        ),
                    ));
                }
            };
            let editable = permit_branch(&branch, view, actor)?;
            verdict.touched.insert(key(&editable));
            verdict.deletions.push((client, segment.clock, segment.len));
        }
    }
    for (id, len, branch, deleted) in in_update.into_items() {
        // A tombstone (typed and deleted before it was sent) arrives deleted.
        if deleted {
            verdict.deletions.push((id.client, id.clock, len));
        }
        verdict.items.push((id, len, branch));
    }
    Ok(verdict)
}

/// The owner of the client ids the server itself writes under (commands, imports). Missions
/// named in tokens cannot take this name (the server refuses the `concord:` prefix), so no
/// delegation can write under the server's ids.
pub const SERVER_OWNER: &str = "concord:server";

/// The actors the unit tests of the policy and of commands share.
#[cfg(test)]
pub(crate) mod test_actors {
    use super::Actor;
    use crate::session::Role;

    pub const CHAIR: Actor<'static> = Actor {
        role: Role::Facilitator,
        mission: "UN",
    };
    pub const MEX: Actor<'static> = Actor {
        role: Role::Delegation,
        mission: "MEX",
    };
    pub const CHE: Actor<'static> = Actor {
        role: Role::Delegation,
        mission: "CHE",
    };
    pub const NGO: Actor<'static> = Actor {
        role: Role::Observer,
        mission: "NGO",
    };
}
