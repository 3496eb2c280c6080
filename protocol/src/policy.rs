//! The update policy (DESIGN.md section 3): may this connection write this update, now?
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

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::{Deserialize, Serialize};

use crate::schema::{AmendmentStatus, Editable, ParagraphStatus};
use crate::session::Role;
use std::collections::VecDeque;

use crate::update::{Block, Content, Id, Item, Parent, ScannedUpdate};

/// A shared type in the document: a root type by name, or a nested type by the id of the item
/// that created it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum BranchKey {
    Root(String),
    Nested(Id),
}

/// A run of consecutive ids of one client, all in one branch.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Run {
    len: u32,
    branch: BranchKey,
}

/// Which branch every item of the document lives in, and which ids are deleted.
#[derive(Debug, Clone, Default)]
pub struct IdIndex {
    runs: HashMap<u64, BTreeMap<u32, Run>>,
    deleted: HashMap<u64, BTreeMap<u32, u32>>,
    /// Per client, the clock past the last id the document holds.
    clocks: HashMap<u64, u32>,
    /// Ranges inside those clocks that the document lacks (start, length). Only a document
    /// written before the policy refused gaps has any: yrs integrated an item above its
    /// client's clock and left a hole before it, which a later update could fill unjudged.
    holes: HashMap<u64, BTreeMap<u32, u32>>,
}

/// Part of an id range, as the index knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    pub clock: u32,
    pub len: u32,
    /// `None`: the document has no such items (yet).
    pub branch: Option<BranchKey>,
}

impl IdIndex {
    /// The branch of the item with this id, if the document has it.
    pub fn branch_of(&self, id: Id) -> Option<&BranchKey> {
        let runs = self.runs.get(&id.client)?;
        let (start, run) = runs.range(..=id.clock).next_back()?;
        (id.clock < start + run.len).then_some(&run.branch)
    }

    /// The range `clock..clock+len` of `client`, cut where the branch changes.
    pub fn segments(&self, client: u64, clock: u32, len: u32) -> Vec<Segment> {
        let end = clock.saturating_add(len);
        let mut out = Vec::new();
        let mut at = clock;
        let runs = self.runs.get(&client);
        while at < end {
            let known = runs.and_then(|runs| {
                let (start, run) = runs.range(..=at).next_back()?;
                (at < start + run.len).then(|| (start + run.len, run.branch.clone()))
            });
            match known {
                Some((run_end, branch)) => {
                    let stop = run_end.min(end);
                    out.push(Segment {
                        clock: at,
                        len: stop - at,
                        branch: Some(branch),
                    });
                    at = stop;
                }
                None => {
                    // Unknown up to the next known run (or the end).
                    let next = runs
                        .and_then(|runs| runs.range(at..end).next().map(|(start, _)| *start))
                        .unwrap_or(end);
                    out.push(Segment {
                        clock: at,
                        len: next - at,
                        branch: None,
                    });
                    at = next;
                }
            }
        }
        out
    }

    /// The parts of a range not deleted yet.
    pub fn undeleted(&self, client: u64, clock: u32, len: u32) -> Vec<(u32, u32)> {
        let end = clock.saturating_add(len);
        let mut out = Vec::new();
        let mut at = clock;
        let deleted = self.deleted.get(&client);
        while at < end {
            let covering = deleted.and_then(|d| {
                let (start, dlen) = d.range(..=at).next_back()?;
                (at < start + dlen).then_some(start + dlen)
            });
            match covering {
                Some(deleted_end) => at = deleted_end.min(end),
                None => {
                    let next = deleted
                        .and_then(|d| d.range(at..end).next().map(|(start, _)| *start))
                        .unwrap_or(end);
                    out.push((at, next - at));
                    at = next;
                }
            }
        }
        out
    }

    /// Records that `len` ids from `id` live in `branch`.
    pub fn insert(&mut self, id: Id, len: u32, branch: BranchKey) {
        if len == 0 {
            return;
        }
        self.note_taken(id.client, id.clock, len);
        let runs = self.runs.entry(id.client).or_default();
        // Extend the previous run when it continues it (typing extends one run).
        if let Some((start, run)) = runs.range_mut(..=id.clock).next_back() {
            if start + run.len == id.clock && run.branch == branch {
                run.len += len;
                return;
            }
        }
        runs.insert(id.clock, Run { len, branch });
    }

    /// Marks every range of a yrs delete set.
    pub fn mark_deleted_set(&mut self, deleted: &yrs::IdSet) {
        for (client, ranges) in deleted.iter() {
            for range in ranges.iter() {
                let len = range.end.saturating_sub(range.start);
                self.mark_deleted(client.get(), range.start, len);
            }
        }
    }

    pub fn mark_deleted(&mut self, client: u64, clock: u32, len: u32) {
        for (at, len) in self.undeleted(client, clock, len) {
            self.deleted.entry(client).or_default().insert(at, len);
        }
    }

    /// Indexes a whole update the server's own replica integrated (its full state, or what a
    /// command wrote): items join the index in the order yrs integrated them, garbage-collected
    /// ranges count as taken ids. Returns how many blocks stayed unresolved (none, for an
    /// update yrs integrated whole).
    pub fn absorb(&mut self, update: &ScannedUpdate<'_>) -> usize {
        let mut queues = Vec::new();
        for block in &update.blocks {
            match block {
                Block::Gc { id, len } => self.note_taken(id.client, id.clock, *len),
                Block::Skip { id, len } => {
                    self.holes
                        .entry(id.client)
                        .or_default()
                        .insert(id.clock, *len);
                }
                Block::Item(item) => {
                    if let Some(fresh) = self.fresh_part(item) {
                        push_in_client_order(&mut queues, fresh);
                    }
                }
            }
        }
        let mut in_update = InUpdate::new();
        let stuck = resolve_in_order(&mut queues, self, &mut in_update, |_, _| Ok(()));
        for (id, len, branch, deleted) in in_update.into_items() {
            self.insert(id, len, branch);
            if deleted {
                self.mark_deleted(id.client, id.clock, len);
            }
        }
        for deletion in &update.deletions {
            self.mark_deleted(deletion.client, deletion.clock, deletion.len);
        }
        match stuck {
            Ok(()) => 0,
            Err(_) => queues.iter().map(VecDeque::len).sum(),
        }
    }

    /// How many ids of `client` the document holds. Everything below is integrated: Concord's
    /// replicas never hold gaps, because the policy refuses every update that would leave one.
    pub fn clock(&self, client: u64) -> u32 {
        self.clocks.get(&client).copied().unwrap_or(0)
    }

    /// The clock yrs reports for `client` (its state vector): where the first hole starts, if
    /// the document has one, else [`IdIndex::clock`].
    pub fn integrated_clock(&self, client: u64) -> u32 {
        self.holes
            .get(&client)
            .and_then(|holes| holes.keys().next().copied())
            .map_or_else(|| self.clock(client), |start| start.min(self.clock(client)))
    }

    /// Whether `clock..clock+len` of `client` reaches into a hole (see [`IdIndex`]).
    pub fn reaches_a_hole(&self, client: u64, clock: u32, len: u32) -> bool {
        let end = clock.saturating_add(len);
        self.holes.get(&client).is_some_and(|holes| {
            holes
                .range(..end)
                .next_back()
                .is_some_and(|(start, hole)| start.saturating_add(*hole) > clock)
        })
    }

    /// How many holes the document has (see [`IdIndex`]).
    pub fn holes(&self) -> usize {
        self.holes.values().map(BTreeMap::len).sum()
    }

    /// Ids that are taken without anything to write into (garbage-collected ranges).
    fn note_taken(&mut self, client: u64, clock: u32, len: u32) {
        let end = clock.saturating_add(len);
        let known = self.clocks.entry(client).or_insert(0);
        *known = (*known).max(end);
    }

    /// The part of `item` the document does not have yet, as yrs integrates it: nothing when
    /// the document has all of it; when it has a prefix, the rest, whose left origin becomes
    /// the id just before it (yrs cuts the item there and keeps its right origin and parent).
    fn fresh_part<'u>(&self, item: &Item<'u>) -> Option<Item<'u>> {
        let known = self.clock(item.id.client);
        let end = item.id.clock.saturating_add(item.len);
        if end <= known {
            return None;
        }
        if item.id.clock >= known {
            return Some(item.clone());
        }
        let offset = known - item.id.clock;
        Some(Item {
            id: Id {
                client: item.id.client,
                clock: known,
            },
            len: item.len - offset,
            origin: Some(Id {
                client: item.id.client,
                clock: known - 1,
            }),
            ..item.clone()
        })
    }
}

/// The fresh items of one update, grouped by client (each group in clock order).
type ClientQueues<'u> = Vec<VecDeque<Item<'u>>>;

fn push_in_client_order<'u>(queues: &mut ClientQueues<'u>, item: Item<'u>) {
    match queues.last_mut() {
        Some(queue)
            if queue
                .back()
                .is_some_and(|last| last.id.client == item.id.client) =>
        {
            queue.push_back(item)
        }
        _ => queues.push(VecDeque::from([item])),
    }
}

/// Items of the update being checked, resolved so far: runs of ids with their branch.
struct InUpdate {
    runs: HashMap<u64, BTreeMap<u32, (u32, BranchKey)>>,
    order: Vec<(Id, u32, bool)>,
}

impl InUpdate {
    fn new() -> Self {
        InUpdate {
            runs: HashMap::new(),
            order: Vec::new(),
        }
    }

    fn add(&mut self, item: &Item<'_>, branch: BranchKey) {
        self.runs
            .entry(item.id.client)
            .or_default()
            .insert(item.id.clock, (item.len, branch));
        self.order
            .push((item.id, item.len, item.content == Content::Deleted));
    }

    fn branch_of(&self, id: Id) -> Option<&BranchKey> {
        let runs = self.runs.get(&id.client)?;
        let (start, (len, branch)) = runs.range(..=id.clock).next_back()?;
        (id.clock < start + len).then_some(branch)
    }

    /// Whether the whole range was inserted by this update.
    fn covers(&self, client: u64, clock: u32, len: u32) -> bool {
        self.runs.get(&client).is_some_and(|runs| {
            runs.range(..=clock)
                .next_back()
                .is_some_and(|(start, (l, _))| clock + len <= start + l)
        })
    }

    /// Every resolved item in resolution order: id, length, branch, arrives deleted.
    fn into_items(mut self) -> Vec<(Id, u32, BranchKey, bool)> {
        let runs = &mut self.runs;
        self.order
            .into_iter()
            .filter_map(|(id, len, deleted)| {
                let (_, branch) = runs.get_mut(&id.client)?.remove(&id.clock)?;
                Some((id, len, branch, deleted))
            })
            .collect()
    }
}

/// Resolves the fresh items the way yrs integrates them: each client's items one after the
/// other, each as soon as everything it refers to (origins, explicit parent) is integrated or
/// resolved earlier in the update. `judge` sees every resolved item and may refuse it. What
/// never resolves would stay pending in yrs: the first such item is returned as the error.
fn resolve_in_order<'u>(
    queues: &mut ClientQueues<'u>,
    index: &IdIndex,
    in_update: &mut InUpdate,
    mut judge: impl FnMut(&Item<'u>, &BranchKey) -> Result<(), Refusal>,
) -> Result<(), Stuck> {
    loop {
        let mut progress = false;
        for queue in queues.iter_mut() {
            while let Some(item) = queue.front().cloned() {
                match resolve(&item, index, in_update) {
                    Ok(branch) => {
                        judge(&item, &branch).map_err(Stuck::Refused)?;
                        in_update.add(&item, branch);
                        queue.pop_front();
                        progress = true;
                    }
                    Err(ResolveError::Disagree) => return Err(Stuck::Disagree(item.id)),
                    Err(ResolveError::Unknown) => break,
                }
            }
        }
        let waiting = queues.iter().find_map(|queue| queue.front());
        match waiting {
            None => return Ok(()),
            Some(item) if !progress => return Err(Stuck::Unknown(item.id)),
            Some(_) => {}
        }
    }
}

enum Stuck {
    Unknown(Id),
    Disagree(Id),
    Refused(Refusal),
}

/// Where an item lands, resolved against the index and the items resolved earlier in the same
/// update. Every reference must be known (yrs would keep the item pending otherwise), and all
/// of them must point into one branch: its explicit parent, its left origin's branch, its right
/// origin's branch.
fn resolve(
    item: &Item<'_>,
    index: &IdIndex,
    in_update: &InUpdate,
) -> Result<BranchKey, ResolveError> {
    let lookup = |id: Id| -> Result<BranchKey, ResolveError> {
        index
            .branch_of(id)
            .or_else(|| in_update.branch_of(id))
            .cloned()
            .ok_or(ResolveError::Unknown)
    };
    let explicit = match &item.parent {
        Some(Parent::Root(name)) => Some(BranchKey::Root(name.to_string())),
        Some(Parent::Item(id)) => {
            // The type must exist before anything is written into it.
            lookup(*id)?;
            Some(BranchKey::Nested(*id))
        }
        None => None,
    };
    let left = item.origin.map(lookup).transpose()?;
    let right = item.right_origin.map(lookup).transpose()?;
    let mut found: Option<BranchKey> = None;
    for branch in [explicit, left, right].into_iter().flatten() {
        match &found {
            Some(seen) if *seen != branch => return Err(ResolveError::Disagree),
            Some(_) => {}
            None => found = Some(branch),
        }
    }
    // The scanner guarantees an explicit parent when there are no origins.
    found.ok_or(ResolveError::Disagree)
}

enum ResolveError {
    Unknown,
    Disagree,
}

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
    fn new(rule: Rule, paragraph: Option<&str>, message: impl Into<String>) -> Self {
        Refusal {
            rule,
            paragraph: paragraph.map(String::from),
            message: message.into(),
        }
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

fn key(editable: &Editable) -> EditableKey {
    match editable {
        Editable::ParagraphBody(p) => (0, p.clone()),
        Editable::AmendmentText(a) => (1, a.clone()),
        Editable::AmendmentRationale(a) => (2, a.clone()),
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
    let mut sections: Vec<u64> = Vec::new();
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
            if sections.contains(&id.client) {
                return Err(Refusal::new(
                    Rule::UnknownReference,
                    None,
                    format!("client {} appears twice in one update", id.client),
                ));
            }
            sections.push(id.client);
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

fn permit_item(
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
    }
}

/// May the actor write into this branch now? Returns what the branch is.
/// May `actor` write into the text `branch` now? The same decision [`check`] makes for every
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

fn permit_branch(
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
    }
    Ok(editable.clone())
}

/// The owner of the client ids the server itself writes under (commands, imports). Missions
/// named in tokens cannot take this name (the server refuses the `concord:` prefix), so no
/// delegation can write under the server's ids.
pub const SERVER_OWNER: &str = "concord:server";

/// A [`DocumentView`] built from a replica: the index of its items, the meaning of its texts,
/// the guards of its paragraphs and amendments, and the client ids each mission owns.
#[derive(Debug, Clone, Default)]
pub struct PolicyState {
    pub index: IdIndex,
    meaning: HashMap<BranchKey, Editable>,
    paragraphs: HashMap<String, ParagraphGuard>,
    amendments: HashMap<String, AmendmentGuard>,
    owners: HashMap<u64, String>,
}

/// The policy's name for a yrs branch id.
pub fn branch_key(id: &yrs::BranchID) -> BranchKey {
    match id {
        yrs::BranchID::Nested(id) => BranchKey::Nested(Id {
            client: id.client.get(),
            clock: id.clock,
        }),
        yrs::BranchID::Root(name) => BranchKey::Root(name.to_string()),
    }
}

impl PolicyState {
    /// Builds everything from a replica.
    pub fn from_replica(txn: &impl yrs::ReadTxn) -> Self {
        let full = txn.encode_state_as_update_v1(&yrs::StateVector::default());
        let mut state = PolicyState::default();
        if let Ok(scanned) = crate::update::scan_update_v1(&full) {
            state.index.absorb(&scanned);
        }
        state.refresh(txn);
        state
    }

    /// Re-reads meanings and guards (after the server applied a command).
    pub fn refresh(&mut self, txn: &impl yrs::ReadTxn) {
        self.meaning = crate::schema::editable_branches(txn)
            .into_iter()
            .map(|(id, editable)| (branch_key(&id), editable))
            .collect();
        self.paragraphs = crate::schema::paragraphs(txn)
            .into_iter()
            .map(|p| {
                let guard = ParagraphGuard {
                    locked: p.is_locked(),
                    status: p.status,
                };
                (p.id, guard)
            })
            .collect();
        self.amendments = crate::schema::amendments(txn)
            .into_iter()
            .map(|a| {
                let guard = AmendmentGuard {
                    paragraph: a.paragraph,
                    status: a.status,
                    sponsors: a.sponsors,
                };
                (a.id, guard)
            })
            .collect();
    }

    /// Records who owns a client id (claims are persisted by the caller).
    pub fn claim(&mut self, client: u64, mission: &str) {
        self.owners
            .entry(client)
            .or_insert_with(|| mission.to_string());
    }

    /// Remembers an accepted update once applied. `deleted` is what the applying transaction
    /// actually deleted (`TransactionMut::delete_set`): besides the update's own deletions,
    /// yrs deletes on its own (redundant formatting on commit), and a client that re-sends
    /// its delete set must find those counted as old.
    pub fn record(&mut self, verdict: &Verdict, mission: &str, deleted: &yrs::IdSet) {
        for client in &verdict.claims {
            self.claim(*client, mission);
        }
        for (id, len, branch) in &verdict.items {
            self.index.insert(*id, *len, branch.clone());
        }
        for (client, clock, len) in &verdict.deletions {
            self.index.mark_deleted(*client, *clock, *len);
        }
        self.index.mark_deleted_set(deleted);
    }
}

impl PolicyState {
    /// The paragraphs an accepted update wrote in: a body is its paragraph's, an amendment's
    /// text and rationale are the amended paragraph's.
    pub fn paragraphs_touched(&self, verdict: &Verdict) -> Vec<String> {
        let mut paragraphs = BTreeSet::new();
        for (kind, id) in &verdict.touched {
            if *kind == 0 {
                paragraphs.insert(id.clone());
            } else if let Some(amendment) = self.amendments.get(id) {
                paragraphs.insert(amendment.paragraph.clone());
            }
        }
        paragraphs.into_iter().collect()
    }

    /// Takes in what the server wrote itself (a command's update, already applied): its items
    /// join the index and its deletions are recorded, then meanings and guards are re-read.
    pub fn absorb_own(&mut self, update: &[u8], deleted: &yrs::IdSet, txn: &impl yrs::ReadTxn) {
        if let Ok(scanned) = crate::update::scan_update_v1(update) {
            self.index.absorb(&scanned);
        }
        self.index.mark_deleted_set(deleted);
        self.refresh(txn);
    }

    /// Every client id with its owner.
    pub fn owners(&self) -> impl Iterator<Item = (u64, &str)> {
        self.owners
            .iter()
            .map(|(client, owner)| (*client, owner.as_str()))
    }
}

impl DocumentView for PolicyState {
    fn index(&self) -> &IdIndex {
        &self.index
    }

    fn meaning(&self, branch: &BranchKey) -> Option<&Editable> {
        self.meaning.get(branch)
    }

    fn paragraph(&self, id: &str) -> Option<ParagraphGuard> {
        self.paragraphs.get(id).cloned()
    }

    fn amendment(&self, id: &str) -> Option<AmendmentGuard> {
        self.amendments.get(id).cloned()
    }

    fn owner(&self, client: u64) -> Option<&str> {
        self.owners.get(&client).map(String::as_str)
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lib0::write_var_u64;
    use crate::schema::{self, Lock, NewAmendment, NewParagraph, ParagraphKind, PARAGRAPHS};
    use crate::update::scan_update_v1;
    use yrs::updates::decoder::Decode;
    use yrs::{Any, Doc, Map, Out, ReadTxn, StateVector, Text, TextRef, Transact, Update};

    use super::test_actors::{CHAIR as FACILITATOR, CHE, MEX};

    /// The server's document: p1, p2, and amendment a1 on p1 sponsored by MEX.
    struct World {
        server: Doc,
        state: PolicyState,
    }

    impl World {
        fn new() -> Self {
            let server = Doc::with_client_id(1);
            {
                let mut txn = server.transact_mut();
                for (i, (id, body)) in [("p1", "Alpha text."), ("p2", "Beta text.")]
                    .iter()
                    .enumerate()
                {
                    let new = NewParagraph {
                        id: id.to_string(),
                        label: format!("{}", i + 1),
                        kind: ParagraphKind::Operative,
                        parent: None,
                        body: body.to_string(),
                    };
                    schema::insert_paragraph(&mut txn, i as u32, &new).expect("paragraph");
                }
                let amendment = NewAmendment {
                    id: "a1".into(),
                    paragraph: "p1".into(),
                    new_after: false,
                    author: "MEX".into(),
                    on_behalf_of: None,
                    rationale: "Why.".into(),
                    base_revision: None,
                };
                schema::create_amendment(&mut txn, &amendment).expect("amendment");
            }
            let state = PolicyState::from_replica(&server.transact());
            World { server, state }
        }

        /// A client's replica, synced.
        fn replica(&self, client: u64) -> Doc {
            let doc = Doc::with_client_id(client);
            let full = self
                .server
                .transact()
                .encode_state_as_update_v1(&StateVector::default());
            doc.transact_mut()
                .apply_update(Update::decode_v1(&full).expect("decodes"))
                .expect("applies");
            doc
        }

        fn check(&self, update: &[u8], actor: Actor<'_>) -> Result<Verdict, Refusal> {
            let scanned = scan_update_v1(update).expect("scans");
            check(&scanned, &self.state, actor)
        }

        /// Checks, and on success applies and records, as the room will.
        fn submit(&mut self, update: &[u8], actor: Actor<'_>) -> Result<Verdict, Refusal> {
            let verdict = self.check(update, actor)?;
            let deleted = {
                let mut txn = self.server.transact_mut();
                txn.apply_update(Update::decode_v1(update).expect("decodes"))
                    .expect("applies");
                txn.delete_set().clone()
            };
            self.state.record(&verdict, actor.mission, &deleted);
            Ok(verdict)
        }

        fn lock(&mut self, paragraph: &str, locked: bool) {
            let lock = Lock {
                mission: "UN".into(),
                person: "chair".into(),
                at_ms: 1,
                reason: "agreed ad ref".into(),
            };
            schema::set_lock(
                &mut self.server.transact_mut(),
                paragraph,
                locked.then_some(&lock),
            )
            .expect("lock");
            self.state.refresh(&self.server.transact());
        }
    }

    fn body(doc: &Doc, paragraph: &str) -> TextRef {
        let txn = doc.transact();
        match txn.get_map(PARAGRAPHS).and_then(|m| m.get(&txn, paragraph)) {
            Some(Out::YMap(map)) => match map.get(&txn, "body") {
                Some(Out::YText(text)) => text,
                _ => panic!("body"),
            },
            _ => panic!("paragraph {paragraph}"),
        }
    }

    fn amendment_text(doc: &Doc, amendment: &str) -> TextRef {
        let txn = doc.transact();
        match txn
            .get_map(schema::AMENDMENTS)
            .and_then(|m| m.get(&txn, amendment))
        {
            Some(Out::YMap(map)) => match map.get(&txn, "text") {
                Some(Out::YText(text)) => text,
                _ => panic!("text"),
            },
            _ => panic!("amendment {amendment}"),
        }
    }

    fn typing(doc: &Doc, text: &TextRef, at: u32, chunk: &str) -> Vec<u8> {
        let mut txn = doc.transact_mut();
        text.insert(&mut txn, at, chunk);
        txn.encode_update_v1()
    }

    fn rule(result: Result<Verdict, Refusal>) -> (Rule, Option<String>) {
        let refusal = result.expect_err("refused");
        (refusal.rule, refusal.paragraph)
    }

    #[test]
    fn only_facilitators_edit_a_paragraph_body() {
        let mut world = World::new();
        let mex = world.replica(200);
        let update = typing(&mex, &body(&mex, "p1"), 0, "Strongly ");
        assert_eq!(
            rule(world.check(&update, MEX)),
            (Rule::BodyFacilitatorsOnly, Some("p1".into()))
        );
        let chair = world.replica(100);
        let update = typing(&chair, &body(&chair, "p1"), 0, "Strongly ");
        let verdict = world.submit(&update, FACILITATOR).expect("facilitator may");
        assert_eq!(verdict.claims, vec![100]);
        assert!(verdict.touched.contains(&(0, "p1".to_string())));
    }

    #[test]
    fn a_locked_body_is_refused_even_to_facilitators() {
        let mut world = World::new();
        world.lock("p2", true);
        let chair = world.replica(100);
        let update = typing(&chair, &body(&chair, "p2"), 0, "x");
        assert_eq!(
            rule(world.check(&update, FACILITATOR)),
            (Rule::ParagraphLocked, Some("p2".into()))
        );
        world.lock("p2", false);
        assert!(world.check(&update, FACILITATOR).is_ok());
    }

    #[test]
    fn only_sponsors_and_facilitators_edit_an_amendment() {
        let mut world = World::new();
        let che = world.replica(300);
        let update = typing(&che, &amendment_text(&che, "a1"), 0, "CHE: ");
        assert_eq!(
            rule(world.check(&update, CHE)),
            (Rule::NotASponsor, Some("p1".into()))
        );
        let mex = world.replica(200);
        let update = typing(&mex, &amendment_text(&mex, "a1"), 0, "MEX: ");
        let verdict = world.submit(&update, MEX).expect("the sponsor may");
        assert!(verdict.touched.contains(&(1, "a1".to_string())));
        let chair = world.replica(100);
        let update = typing(&chair, &amendment_text(&chair, "a1"), 0, "UN: ");
        assert!(world.check(&update, FACILITATOR).is_ok());
    }

    #[test]
    fn an_amendment_of_a_locked_paragraph_or_a_closed_amendment_is_refused() {
        let mut world = World::new();
        let mex = world.replica(200);
        let update = typing(&mex, &amendment_text(&mex, "a1"), 0, "MEX: ");
        world.lock("p1", true);
        assert_eq!(
            rule(world.check(&update, MEX)),
            (Rule::ParagraphLocked, Some("p1".into()))
        );
        world.lock("p1", false);
        assert!(world.check(&update, MEX).is_ok());
        schema::set_amendment_status(
            &mut world.server.transact_mut(),
            "a1",
            AmendmentStatus::Withdrawn,
        )
        .expect("status");
        world.state.refresh(&world.server.transact());
        assert_eq!(
            rule(world.check(&update, MEX)),
            (Rule::AmendmentClosed, Some("p1".into()))
        );
    }

    #[test]
    fn a_deletion_spanning_unlocked_and_locked_text_is_refused_whole() {
        let mut world = World::new();
        world.lock("p2", true);
        let chair = world.replica(100);
        let (b1, b2) = (body(&chair, "p1"), body(&chair, "p2"));
        let both = {
            let mut txn = chair.transact_mut();
            b1.remove_range(&mut txn, 0, 6);
            b2.remove_range(&mut txn, 0, 5);
            txn.encode_update_v1()
        };
        assert_eq!(
            rule(world.check(&both, FACILITATOR)),
            (Rule::ParagraphLocked, Some("p2".into()))
        );
        let chair = world.replica(101);
        let b1 = body(&chair, "p1");
        let one = {
            let mut txn = chair.transact_mut();
            b1.remove_range(&mut txn, 0, 6);
            txn.encode_update_v1()
        };
        let verdict = world
            .submit(&one, FACILITATOR)
            .expect("unlocked text may be deleted");
        assert!(!verdict.deletions.is_empty());
        // A reconnecting client re-sends its delete set: nothing new, nothing refused, even
        // once the paragraph is locked.
        world.lock("p1", true);
        let verdict = world
            .check(&one, FACILITATOR)
            .expect("old deletions do not count");
        assert!(verdict.deletions.is_empty());
    }

    #[test]
    fn a_format_item_on_locked_text_is_refused() {
        let mut world = World::new();
        world.lock("p2", true);
        let chair = world.replica(100);
        let format = |doc: &Doc, text: &TextRef| {
            let mut txn = doc.transact_mut();
            text.format(
                &mut txn,
                0,
                4,
                HashMap::from([("bold".into(), Any::Bool(true))]),
            );
            txn.encode_update_v1()
        };
        let update = format(&chair, &body(&chair, "p2"));
        assert_eq!(
            rule(world.check(&update, FACILITATOR)),
            (Rule::ParagraphLocked, Some("p2".into()))
        );
        // A fresh replica: the refused update took clocks the server never integrated, so
        // anything further from `chair` would start above what the document has (a gap).
        let chair = world.replica(101);
        let update = format(&chair, &body(&chair, "p1"));
        assert!(world.check(&update, FACILITATOR).is_ok());
    }

    /// The ids of the first character of p1's and p2's bodies, as the index knows them.
    fn first_chars(world: &World) -> (Id, Id) {
        let full = world
            .server
            .transact()
            .encode_state_as_update_v1(&StateVector::default());
        let scanned = scan_update_v1(&full).expect("scans");
        let body_branch = |p: &str| {
            world
                .state
                .meaning
                .iter()
                .find(|(_, e)| **e == Editable::ParagraphBody(p.into()))
                .map(|(k, _)| k.clone())
                .expect("body")
        };
        let first_in = |branch: BranchKey| {
            scanned
                .blocks
                .iter()
                .find_map(|b| match b {
                    Block::Item(item)
                        if item.content == Content::String
                            && world.state.index.branch_of(item.id) == Some(&branch) =>
                    {
                        Some(item.id)
                    }
                    _ => None,
                })
                .expect("a character")
        };
        (first_in(body_branch("p1")), first_in(body_branch("p2")))
    }

    /// A hand-made update: one string item of client 500 with the given origins.
    fn crafted(origin: Option<Id>, right: Option<Id>, text: &str) -> Vec<u8> {
        let mut out = vec![1, 1];
        write_var_u64(&mut out, 500);
        out.push(0);
        let info =
            4 | if origin.is_some() { 0x80 } else { 0 } | if right.is_some() { 0x40 } else { 0 };
        out.push(info);
        for id in [origin, right].into_iter().flatten() {
            write_var_u64(&mut out, id.client);
            write_var_u64(&mut out, u64::from(id.clock));
        }
        write_var_u64(&mut out, text.len() as u64);
        out.extend_from_slice(text.as_bytes());
        out.push(0);
        out
    }

    #[test]
    fn origins_in_different_texts_are_refused() {
        let world = World::new();
        let (p1, p2) = first_chars(&world);
        assert_eq!(
            rule(world.check(&crafted(Some(p1), Some(p2), "x"), FACILITATOR)).0,
            Rule::OriginsDisagree
        );
        let next = Id {
            client: p1.client,
            clock: p1.clock + 1,
        };
        assert!(world
            .check(&crafted(Some(p1), Some(next), "x"), FACILITATOR)
            .is_ok());
    }

    #[test]
    fn references_to_content_the_document_lacks_are_refused() {
        let world = World::new();
        let nowhere = Id {
            client: 77,
            clock: 3,
        };
        assert_eq!(
            rule(world.check(&crafted(Some(nowhere), None, "x"), FACILITATOR)).0,
            Rule::UnknownReference
        );
        // Deleting what does not exist would stay pending: refused too.
        let deletion = vec![0, 1, 77, 1, 0, 5];
        assert_eq!(
            rule(world.check(&deletion, FACILITATOR)).0,
            Rule::UnknownReference
        );
    }

    #[test]
    fn a_client_id_of_another_mission_is_refused() {
        let mut world = World::new();
        let mex = world.replica(200);
        let update = typing(&mex, &amendment_text(&mex, "a1"), 0, "MEX ");
        world.submit(&update, MEX).expect("MEX claims 200");
        // CHE writes under MEX's client id (its own replica, the same id).
        let che = world.replica(200);
        let forged = typing(&che, &amendment_text(&che, "a1"), 0, "forged ");
        assert_eq!(
            rule(world.check(
                &forged,
                Actor {
                    role: Role::Facilitator,
                    mission: "CHE"
                }
            ))
            .0,
            Rule::ClientIdOfAnotherMission
        );
        // MEX itself may go on under it.
        let more = typing(&mex, &amendment_text(&mex, "a1"), 0, "more ");
        assert!(world.check(&more, MEX).is_ok());
    }

    #[test]
    fn new_root_types_and_structure_are_refused() {
        let world = World::new();
        let chair = world.replica(100);
        let sneaky = chair.get_or_insert_text("sneaky");
        let update = typing(&chair, &sneaky, 0, "hello");
        assert_eq!(rule(world.check(&update, FACILITATOR)).0, Rule::NotEditable);
        // The paragraphs map itself (its keys, statuses, locks) is written by commands only.
        let chair = world.replica(101);
        let paragraphs = chair.get_or_insert_map(PARAGRAPHS);
        let update = {
            let mut txn = chair.transact_mut();
            paragraphs.insert(&mut txn, "p9", "forged paragraph");
            txn.encode_update_v1()
        };
        assert_eq!(rule(world.check(&update, FACILITATOR)).0, Rule::NotEditable);
    }

    #[test]
    fn a_sub_document_inside_a_text_is_refused() {
        let world = World::new();
        let (p1, _) = first_chars(&world);
        // Content 9 (a sub-document) after p1's first character: guid "g", options {}.
        let mut update = vec![1, 1];
        write_var_u64(&mut update, 500);
        update.extend_from_slice(&[0, 0x80 | 9]);
        write_var_u64(&mut update, p1.client);
        write_var_u64(&mut update, u64::from(p1.clock));
        update.extend_from_slice(&[1, b'g', 118, 0, 0]);
        assert_eq!(
            rule(world.check(&update, FACILITATOR)),
            (Rule::ContentNotText, Some("p1".into()))
        );
    }

    #[test]
    fn observers_write_nothing_but_may_send_empty_updates() {
        let world = World::new();
        let viewer = world.replica(400);
        let update = typing(&viewer, &amendment_text(&viewer, "a1"), 0, "x");
        let observer = super::test_actors::NGO;
        assert_eq!(
            rule(world.check(&update, observer)).0,
            Rule::ObserverReadOnly
        );
        assert!(world.check(&[0, 0], observer).is_ok());
    }

    #[test]
    fn the_index_answers_ranges_in_runs() {
        let mut index = IdIndex::default();
        let branch = BranchKey::Root("t".into());
        index.insert(
            Id {
                client: 1,
                clock: 0,
            },
            5,
            branch.clone(),
        );
        index.insert(
            Id {
                client: 1,
                clock: 5,
            },
            5,
            branch.clone(),
        );
        index.insert(
            Id {
                client: 1,
                clock: 20,
            },
            5,
            BranchKey::Root("u".into()),
        );
        let segments = index.segments(1, 3, 4_000_000_000);
        assert_eq!(segments.len(), 4, "{segments:?}");
        assert_eq!(
            segments[0],
            Segment {
                clock: 3,
                len: 7,
                branch: Some(branch)
            }
        );
        assert_eq!(segments[1].branch, None);
        index.mark_deleted(1, 2, 4);
        assert_eq!(index.undeleted(1, 0, 10), vec![(0, 2), (6, 4)]);
    }
}
