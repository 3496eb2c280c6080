//! A bounded, allocation-safe re-reading of a Yjs v1 update.
//!
//! yrs decodes updates trustingly: it reserves memory for whatever counts an update claims and
//! recurses into nested values without a depth bound, so a few hostile bytes can ask for
//! gigabytes or overflow the stack. Every update that reaches a document is first walked here.
//! The walk checks every count against the bytes that remain, bounds nesting, refuses client
//! ids yrs cannot represent (over 53 bits) and clock ranges that overflow, and yields each block
//! with its id, origins, parent and content kind: everything the update policy needs to decide
//! which branch an item lands in.
//!
//! The layout mirrors yrs 0.28 (`Update::decode`, `Block::decode`, `ItemContent::decode`), which
//! in turn mirrors Yjs: clients, each with a run of blocks, followed by a delete set.

use crate::error::DecodeError;
pub use crate::error::MAX_CLIENT_ID;
use crate::lib0::Reader;

/// How deeply nested a `lib0` `Any` value may be. Yjs documents store flat JSON-like values;
/// real ones nest a handful of levels.
pub const MAX_ANY_DEPTH: usize = 32;

const HAS_ORIGIN: u8 = 0b1000_0000;
const HAS_RIGHT_ORIGIN: u8 = 0b0100_0000;
const HAS_PARENT_SUB: u8 = 0b0010_0000;
const CONTENT_MASK: u8 = 0b0001_1111;

/// A Yjs item id: the client that created it and the clock of its first element.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Id {
    pub client: u64,
    pub clock: u32,
}

/// Where an item says it lives, when it says so explicitly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parent<'a> {
    /// A root type of the document, by name.
    Root(&'a str),
    /// A nested type: the item that created it.
    Item(Id),
}

/// What an item holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Content {
    Deleted,
    Json,
    Binary,
    String,
    Embed,
    Format,
    /// A nested shared type; the value is the yrs type ref (0 array, 1 map, 2 text, ...).
    Type(u8),
    Any,
    /// A sub-document.
    Doc,
}

/// One block of an update.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Block<'a> {
    Item(Item<'a>),
    /// Garbage-collected range: content gone, ids still taken.
    Gc {
        id: Id,
        len: u32,
    },
    /// A gap the encoder skipped.
    Skip {
        id: Id,
        len: u32,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item<'a> {
    pub id: Id,
    /// Number of clock ticks the item spans (UTF-16 code units for strings, as in Yjs).
    pub len: u32,
    pub origin: Option<Id>,
    pub right_origin: Option<Id>,
    /// Only present when the item has neither origin (otherwise it is inherited from them).
    pub parent: Option<Parent<'a>>,
    /// The map key, for items that are map entries.
    pub parent_sub: Option<&'a str>,
    pub content: Content,
}

/// A deleted range of one client's clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeletedRange {
    pub client: u64,
    pub clock: u32,
    pub len: u32,
}

/// The structure of one update, borrowing its strings from the update's bytes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScannedUpdate<'a> {
    pub blocks: Vec<Block<'a>>,
    pub deletions: Vec<DeletedRange>,
}

impl ScannedUpdate<'_> {
    /// True when the update carries neither blocks nor deletions (Yjs sends such updates, e.g.
    /// `[0, 0]`, as a no-op sync step 2).
    pub fn is_empty(&self) -> bool {
        self.blocks.is_empty() && self.deletions.is_empty()
    }
}

/// Walks a v1 update. Never panics and never allocates more than the update's own size implies.
pub fn scan_update_v1(update: &[u8]) -> Result<ScannedUpdate<'_>, DecodeError> {
    let mut r = Reader::new(update);
    let mut scanned = ScannedUpdate::default();

    // Each client section takes at least three bytes (block count, client, clock).
    let clients = read_count(&mut r, 3)?;
    let mut sections = std::collections::HashSet::new();
    for _ in 0..clients {
        // Each block takes at least two bytes (info and something).
        let blocks = read_count(&mut r, 2)?;
        let at = r.position();
        let client = read_client(&mut r)?;
        if !sections.insert(client) {
            return Err(DecodeError::RepeatedClient { at, client });
        }
        let mut clock = read_u32(&mut r)?;
        for _ in 0..blocks {
            let id = Id { client, clock };
            let block = read_block(&mut r, id)?;
            let len = match &block {
                Block::Item(item) => item.len,
                Block::Gc { len, .. } | Block::Skip { len, .. } => *len,
            };
            clock = clock
                .checked_add(len)
                .ok_or(DecodeError::ClockOverflow { at: r.position() })?;
            scanned.blocks.push(block);
        }
    }

    let ds_clients = read_count(&mut r, 2)?;
    let mut deleting = std::collections::HashSet::new();
    for _ in 0..ds_clients {
        let at = r.position();
        let client = read_client(&mut r)?;
        if !deleting.insert(client) {
            return Err(DecodeError::RepeatedClient { at, client });
        }
        let ranges = read_count(&mut r, 2)?;
        for _ in 0..ranges {
            let at = r.position();
            let clock = read_u32(&mut r)?;
            let len = read_u32(&mut r)?;
            if len == 0 {
                return Err(DecodeError::EmptyDeletion { at });
            }
            if clock.checked_add(len).is_none() {
                return Err(DecodeError::ClockOverflow { at: r.position() });
            }
            scanned.deletions.push(DeletedRange { client, clock, len });
        }
    }
    if !r.is_empty() {
        return Err(DecodeError::TrailingBytes {
            at: r.position(),
            count: r.remaining(),
        });
    }
    Ok(scanned)
}

fn read_block<'a>(r: &mut Reader<'a>, id: Id) -> Result<Block<'a>, DecodeError> {
    let at = r.position();
    let info = read_u8(r)?;
    match info {
        10 => {
            let len = read_nonzero_len(r, at)?;
            return Ok(Block::Skip { id, len });
        }
        0 => {
            let len = read_nonzero_len(r, at)?;
            return Ok(Block::Gc { id, len });
        }
        _ => {}
    }
    let origin = if info & HAS_ORIGIN != 0 {
        Some(read_id(r)?)
    } else {
        None
    };
    let right_origin = if info & HAS_RIGHT_ORIGIN != 0 {
        Some(read_id(r)?)
    } else {
        None
    };
    let explicit_parent = info & (HAS_ORIGIN | HAS_RIGHT_ORIGIN) == 0;
    let (parent, parent_sub) = if explicit_parent {
        let parent = if r.read_var_u64()? == 1 {
            Parent::Root(r.read_string()?)
        } else {
            Parent::Item(read_id(r)?)
        };
        let sub = if info & HAS_PARENT_SUB != 0 {
            Some(r.read_string()?)
        } else {
            None
        };
        (Some(parent), sub)
    } else {
        (None, None)
    };
    let (content, len) = read_content(r, info & CONTENT_MASK, at)?;
    if len == 0 {
        return Err(DecodeError::EmptyBlock { at });
    }
    Ok(Block::Item(Item {
        id,
        len,
        origin,
        right_origin,
        parent,
        parent_sub,
        content,
    }))
}

fn read_content(r: &mut Reader<'_>, kind: u8, at: usize) -> Result<(Content, u32), DecodeError> {
    // yrs dispatches on the low four bits of the content ref.
    Ok(match kind & 0b1111 {
        1 => (Content::Deleted, read_u32(r)?),
        // Legacy JSON content: yrs reads one value more than the count says (and counts the
        // item that long), Yjs reads as many as it says. The two would integrate different
        // ids from the same bytes, and no Concord document holds JSON content: refused.
        2 => return Err(DecodeError::UnknownContent { at, content: 2 }),
        3 => {
            r.read_buf()?;
            (Content::Binary, 1)
        }
        4 => {
            let text = r.read_string()?;
            let units = text.encode_utf16().count();
            (
                Content::String,
                u32::try_from(units).map_err(|_| DecodeError::ClockOverflow { at })?,
            )
        }
        5 => {
            read_json(r)?;
            (Content::Embed, 1)
        }
        6 => {
            r.read_string()?;
            read_json(r)?;
            (Content::Format, 1)
        }
        7 => {
            let type_ref = read_u8_var(r)?;
            match type_ref {
                // An XML element carries its tag name.
                3 => {
                    r.read_string()?;
                }
                0 | 1 | 2 | 4 | 5 | 6 | 9 | 15 => {}
                other => {
                    return Err(DecodeError::UnknownTypeRef {
                        at,
                        type_ref: other,
                    })
                }
            }
            (Content::Type(type_ref), 1)
        }
        8 => {
            let count = read_count(r, 1)?;
            for _ in 0..count {
                skip_any(r, 0)?;
            }
            (Content::Any, count as u32)
        }
        9 => {
            r.read_string()?;
            skip_any(r, 0)?;
            (Content::Doc, 1)
        }
        other => return Err(DecodeError::UnknownContent { at, content: other }),
    })
}

/// Skips one lib0 `Any` value, refusing nesting past [`MAX_ANY_DEPTH`].
fn skip_any(r: &mut Reader<'_>, depth: usize) -> Result<(), DecodeError> {
    let at = r.position();
    if depth > MAX_ANY_DEPTH {
        return Err(DecodeError::TooDeep { at });
    }
    match read_u8(r)? {
        127 | 126 | 121 | 120 => {}
        125 => {
            r.read_var_u64()?;
        }
        124 => skip_fixed(r, 4)?,
        123 | 122 => skip_fixed(r, 8)?,
        119 => {
            r.read_string()?;
        }
        118 => {
            let entries = read_count(r, 2)?;
            for _ in 0..entries {
                r.read_string()?;
                skip_any(r, depth + 1)?;
            }
        }
        117 => {
            let values = read_count(r, 1)?;
            for _ in 0..values {
                skip_any(r, depth + 1)?;
            }
        }
        116 => {
            r.read_buf()?;
        }
        tag => return Err(DecodeError::UnknownAnyTag { at, tag }),
    }
    Ok(())
}

/// Embedded JSON (embeds, format attributes) is parsed by yrs with serde_json, whose own
/// recursion limit applies; here it only has to be well-formed.
fn read_json(r: &mut Reader<'_>) -> Result<(), DecodeError> {
    let at = r.position();
    let text = r.read_string()?;
    serde_json::from_str::<serde::de::IgnoredAny>(text)
        .map(|_| ())
        .map_err(|_| DecodeError::InvalidJson { at })
}

fn skip_fixed(r: &mut Reader<'_>, len: usize) -> Result<(), DecodeError> {
    if r.remaining() < len {
        return Err(DecodeError::LengthExceedsFrame {
            at: r.position(),
            claimed: len as u64,
            available: r.remaining(),
        });
    }
    for _ in 0..len {
        read_u8(r)?;
    }
    Ok(())
}

/// Reads a count of things that each take at least `min_bytes`; a count the remaining bytes
/// cannot possibly hold is refused before anything is reserved for it.
fn read_count(r: &mut Reader<'_>, min_bytes: usize) -> Result<usize, DecodeError> {
    let at = r.position();
    let claimed = r.read_var_u64()?;
    let available = r.remaining();
    if claimed > (available / min_bytes.max(1)) as u64 {
        return Err(DecodeError::LengthExceedsFrame {
            at,
            claimed,
            available,
        });
    }
    Ok(claimed as usize)
}

fn read_client(r: &mut Reader<'_>) -> Result<u64, DecodeError> {
    let at = r.position();
    let client = r.read_var_u64()?;
    if client > MAX_CLIENT_ID {
        return Err(DecodeError::ClientIdTooLarge { at, client });
    }
    Ok(client)
}

fn read_id(r: &mut Reader<'_>) -> Result<Id, DecodeError> {
    Ok(Id {
        client: read_client(r)?,
        clock: read_u32(r)?,
    })
}

fn read_u32(r: &mut Reader<'_>) -> Result<u32, DecodeError> {
    let at = r.position();
    let value = r.read_var_u64()?;
    u32::try_from(value).map_err(|_| DecodeError::VarintOverflow { at })
}

fn read_u8_var(r: &mut Reader<'_>) -> Result<u8, DecodeError> {
    let at = r.position();
    let value = r.read_var_u64()?;
    u8::try_from(value).map_err(|_| DecodeError::VarintOverflow { at })
}

fn read_nonzero_len(r: &mut Reader<'_>, at: usize) -> Result<u32, DecodeError> {
    match read_u32(r)? {
        0 => Err(DecodeError::EmptyBlock { at }),
        len => Ok(len),
    }
}

fn read_u8(r: &mut Reader<'_>) -> Result<u8, DecodeError> {
    let at = r.position();
    let byte = r.read_raw(1)?;
    byte.first()
        .copied()
        .ok_or(DecodeError::TruncatedVarint { at })
}

#[cfg(test)]
mod tests {
    use super::*;
    use yrs::updates::decoder::Decode;
    use yrs::{Any, Array, Doc, GetString, Map, ReadTxn, StateVector, Text, Transact, Update};

    fn rich_update() -> Vec<u8> {
        let doc = Doc::with_client_id(7);
        let text = doc.get_or_insert_text("body");
        let map = doc.get_or_insert_map("meta");
        let array = doc.get_or_insert_array("list");
        let mut txn = doc.transact_mut();
        text.insert(&mut txn, 0, "Hello 🌍 world");
        text.remove_range(&mut txn, 2, 3);
        text.format(
            &mut txn,
            0,
            3,
            [("bold".into(), Any::Bool(true))].into_iter().collect(),
        );
        map.insert(&mut txn, "label", "15bis");
        map.insert(
            &mut txn,
            "nested",
            Any::from(vec![Any::from(1.5), Any::Null]),
        );
        array.insert(&mut txn, 0, 42);
        drop(txn);
        let update = doc
            .transact()
            .encode_state_as_update_v1(&StateVector::default());
        update
    }

    #[test]
    fn a_real_update_scans_and_yrs_agrees_on_its_shape() {
        let bytes = rich_update();
        let scanned = scan_update_v1(&bytes).expect("valid update scans");
        let update = Update::decode_v1(&bytes).expect("yrs decodes it too");
        assert_eq!(
            scanned.blocks.iter().filter_map(block_end).max(),
            Some(update.state_vector().get(&yrs::ClientID::new(7)))
        );
        assert!(
            !scanned.deletions.is_empty(),
            "the removal is in the delete set"
        );
        let doc = Doc::new();
        doc.transact_mut().apply_update(update).expect("applies");
        let text = doc.get_or_insert_text("body");
        assert_eq!(text.get_string(&doc.transact()), "He 🌍 world");
    }

    fn block_end(block: &Block<'_>) -> Option<u32> {
        match block {
            Block::Item(item) => Some(item.id.clock + item.len),
            Block::Gc { id, len } | Block::Skip { id, len } => Some(id.clock + len),
        }
    }

    #[test]
    fn strings_are_measured_in_utf16_units_like_yjs() {
        let doc = Doc::with_client_id(1);
        let text = doc.get_or_insert_text("t");
        text.insert(&mut doc.transact_mut(), 0, "a🌍");
        let bytes = doc
            .transact()
            .encode_state_as_update_v1(&StateVector::default());
        let scanned = scan_update_v1(&bytes).expect("scans");
        let Block::Item(item) = &scanned.blocks[0] else {
            panic!("expected an item")
        };
        assert_eq!(item.len, 3);
        assert_eq!(item.parent, Some(Parent::Root("t")));
    }

    #[test]
    fn the_empty_update_is_empty() {
        assert!(scan_update_v1(&[0, 0]).expect("scans").is_empty());
    }

    #[test]
    fn a_client_count_claiming_billions_is_refused() {
        assert!(matches!(
            scan_update_v1(&[0xff, 0xff, 0xff, 0xff, 0x0f, 0, 0]),
            Err(DecodeError::LengthExceedsFrame { .. })
        ));
    }

    #[test]
    fn deeply_nested_values_are_refused_before_yrs_recurses() {
        // One client (5, clock 0) with one block: an Any item (info 8, no origins) whose
        // explicit parent is the root type "a", holding one array nested 10,000 deep.
        let mut bytes = vec![1, 1, 5, 0, 8, 1, 1, b'a', 1];
        for _ in 0..10_000 {
            bytes.extend_from_slice(&[117, 1]);
        }
        bytes.push(126);
        bytes.push(0);
        assert!(matches!(
            scan_update_v1(&bytes),
            Err(DecodeError::TooDeep { .. })
        ));
    }

    #[test]
    fn client_ids_beyond_53_bits_are_refused() {
        let mut bytes = vec![1, 1];
        crate::lib0::write_var_u64(&mut bytes, 1 << 60);
        bytes.extend_from_slice(&[0, 4, 1, 1, b't', 1, b'x', 0]);
        assert!(matches!(
            scan_update_v1(&bytes),
            Err(DecodeError::ClientIdTooLarge { .. })
        ));
    }

    #[test]
    fn truncations_of_a_real_update_never_panic_and_never_pass() {
        let bytes = rich_update();
        for cut in 0..bytes.len() {
            assert!(
                scan_update_v1(&bytes[..cut]).is_err(),
                "cut at {cut} passed"
            );
        }
    }

    #[test]
    fn random_mutations_never_panic() {
        let bytes = rich_update();
        let mut rng = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..20_000 {
            let mut mutated = bytes.clone();
            for _ in 0..3 {
                rng ^= rng << 13;
                rng ^= rng >> 7;
                rng ^= rng << 17;
                let at = (rng as usize) % mutated.len();
                mutated[at] = (rng >> 32) as u8;
            }
            if scan_update_v1(&mutated).is_ok() {
                // Whatever the walk accepts, yrs must be able to decode.
                assert!(Update::decode_v1(&mutated).is_ok());
            }
        }
    }
}
