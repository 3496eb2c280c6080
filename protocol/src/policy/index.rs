//! Which branch (shared type) every item of the document lives in, as yrs integrated it, and
//! the order in which yrs would integrate a new update's items.
//!
//! yrs keeps an item's branch private (and its public route walks the branch from the start),
//! so the policy keeps its own index: runs of ids per client with their branch, per-client
//! clocks, deleted ranges, and the holes an old server left. Lookups are by range, so a
//! hostile deletion of billions of ids costs what a small one does. One depth-first walk
//! in yrs's integration order ([`resolve_in_order`], linear in the items) resolves items for both [`IdIndex::absorb`] (what the server's own
//! replica integrated) and [`super::check`] (what a client's update would add).

use std::collections::{BTreeMap, HashMap, VecDeque};

use super::rules::Refusal;
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
    pub(super) fn fresh_part<'u>(&self, item: &Item<'u>) -> Option<Item<'u>> {
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
pub(super) type ClientQueues<'u> = Vec<VecDeque<Item<'u>>>;

pub(super) fn push_in_client_order<'u>(queues: &mut ClientQueues<'u>, item: Item<'u>) {
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
pub(super) struct InUpdate {
    runs: HashMap<u64, BTreeMap<u32, (u32, BranchKey)>>,
    order: Vec<(Id, u32, bool)>,
}

impl InUpdate {
    pub(super) fn new() -> Self {
        InUpdate {
            runs: HashMap::new(),
            order: Vec::new(),
        }
    }

    pub(super) fn add(&mut self, item: &Item<'_>, branch: BranchKey) {
        self.runs
            .entry(item.id.client)
            .or_default()
            .insert(item.id.clock, (item.len, branch));
        self.order
            .push((item.id, item.len, item.content == Content::Deleted));
    }

    pub(super) fn branch_of(&self, id: Id) -> Option<&BranchKey> {
        let runs = self.runs.get(&id.client)?;
        let (start, (len, branch)) = runs.range(..=id.clock).next_back()?;
        (id.clock < start + len).then_some(branch)
    }

    /// Whether the whole range was inserted by this update.
    pub(super) fn covers(&self, client: u64, clock: u32, len: u32) -> bool {
        self.runs.get(&client).is_some_and(|runs| {
            runs.range(..=clock)
                .next_back()
                .is_some_and(|(start, (l, _))| clock + len <= start + l)
        })
    }

    /// Every resolved item in resolution order: id, length, branch, arrives deleted.
    pub(super) fn into_items(mut self) -> Vec<(Id, u32, BranchKey, bool)> {
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
///
/// Like yrs, a depth-first walk: an item waiting for another client's item switches to that
/// client's queue, and comes back once something there resolved. Every step resolves an item
/// or switches once, so a hostile chain of dependencies across many clients costs linear
/// time, not a pass per link.
pub(super) fn resolve_in_order<'u>(
    queues: &mut ClientQueues<'u>,
    index: &IdIndex,
    in_update: &mut InUpdate,
    mut judge: impl FnMut(&Item<'u>, &BranchKey) -> Result<(), Refusal>,
) -> Result<(), Stuck> {
    let by_client: HashMap<u64, usize> = queues
        .iter()
        .enumerate()
        .filter_map(|(i, queue)| queue.front().map(|item| (item.id.client, i)))
        .collect();
    let mut on_stack = vec![false; queues.len()];
    let mut stack: Vec<usize> = Vec::new();
    for start in 0..queues.len() {
        stack.push(start);
        on_stack[start] = true;
        while let Some(&at) = stack.last() {
            let Some(item) = queues[at].front().cloned() else {
                stack.pop();
                on_stack[at] = false;
                continue;
            };
            match resolve(&item, index, in_update) {
                Ok(branch) => {
                    judge(&item, &branch).map_err(Stuck::Refused)?;
                    in_update.add(&item, branch);
                    queues[at].pop_front();
                    // Whoever waited for this client may go on now.
                    if stack.len() > 1 {
                        stack.pop();
                        on_stack[at] = false;
                    }
                }
                Err(ResolveError::Disagree) => return Err(Stuck::Disagree(item.id)),
                Err(ResolveError::Unknown) => {
                    let waits_for = missing_client(&item, index, in_update)
                        .and_then(|client| by_client.get(&client).copied())
                        .filter(|&queue| !on_stack[queue] && !queues[queue].is_empty());
                    match waits_for {
                        Some(queue) => {
                            stack.push(queue);
                            on_stack[queue] = true;
                        }
                        // Nothing in the update provides it, or a cycle: it would stay pending.
                        None => return Err(Stuck::Unknown(item.id)),
                    }
                }
            }
        }
    }
    Ok(())
}

/// The client of the first reference of `item` that neither the document nor the update so far
/// has.
fn missing_client(item: &Item<'_>, index: &IdIndex, in_update: &InUpdate) -> Option<u64> {
    let parent = match &item.parent {
        Some(Parent::Item(id)) => Some(*id),
        _ => None,
    };
    [item.origin, item.right_origin, parent]
        .into_iter()
        .flatten()
        .find(|id| index.branch_of(*id).is_none() && in_update.branch_of(*id).is_none())
        .map(|id| id.client)
}

pub(super) enum Stuck {
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
