//! A small, deliberately permissive model of Yjs v1 updates: sections of blocks per client
//! (items with origins or an explicit parent, GC and Skip ranges) and a delete set, encoded
//! exactly as written (repeated sections, repeated delete-set clients, unsorted or empty ranges
//! included) and parsed back from real yrs updates so that they can be mutated.

use concord_protocol::lib0::{write_buf, write_var_u64, Reader};
use concord_protocol::update::Id;

/// Where an item without origins says it lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Par {
    Root(String),
    Item(Id),
}

/// An item: its references, and its content as encoded (content ref and bytes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct It {
    pub origin: Option<Id>,
    pub right: Option<Id>,
    /// Written only when the item has neither origin.
    pub parent: Option<Par>,
    pub sub: Option<String>,
    pub kind: u8,
    pub content: Vec<u8>,
    pub len: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Blk {
    Item(It),
    Gc(u32),
    Skip(u32),
}

impl Blk {
    pub fn len(&self) -> u32 {
        match self {
            Blk::Item(it) => it.len,
            Blk::Gc(len) | Blk::Skip(len) => *len,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    pub client: u64,
    pub clock: u32,
    pub blocks: Vec<Blk>,
}

impl Section {
    /// The clock after the section's last block.
    pub fn end(&self) -> u32 {
        self.blocks
            .iter()
            .fold(self.clock, |at, b| at.saturating_add(b.len()))
    }

    /// Appends a block; returns the id of its first element.
    pub fn push(&mut self, block: Blk) -> Id {
        let id = Id {
            client: self.client,
            clock: self.end(),
        };
        self.blocks.push(block);
        id
    }
}

/// A whole update as written on the wire.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Upd {
    pub sections: Vec<Section>,
    /// Delete-set entries in wire order; a client may appear more than once.
    pub ds: Vec<(u64, Vec<(u32, u32)>)>,
}

impl Upd {
    pub fn section(&mut self, client: u64, clock: u32) -> &mut Section {
        self.sections.push(Section {
            client,
            clock,
            blocks: Vec::new(),
        });
        let last = self.sections.len() - 1;
        &mut self.sections[last]
    }

    /// Adds a deleted range to the last delete-set entry when it is this client's, else opens
    /// a new entry.
    pub fn delete(&mut self, client: u64, clock: u32, len: u32) {
        match self.ds.last_mut() {
            Some((c, ranges)) if *c == client => ranges.push((clock, len)),
            _ => self.ds.push((client, vec![(clock, len)])),
        }
    }

    /// Opens a new delete-set entry, even for a client that has one already.
    pub fn delete_entry(&mut self, client: u64, ranges: Vec<(u32, u32)>) {
        self.ds.push((client, ranges));
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        write_var_u64(&mut out, self.sections.len() as u64);
        for section in &self.sections {
            write_var_u64(&mut out, section.blocks.len() as u64);
            write_var_u64(&mut out, section.client);
            write_var_u64(&mut out, u64::from(section.clock));
            for block in &section.blocks {
                encode_block(&mut out, block);
            }
        }
        write_var_u64(&mut out, self.ds.len() as u64);
        for (client, ranges) in &self.ds {
            write_var_u64(&mut out, *client);
            write_var_u64(&mut out, ranges.len() as u64);
            for (clock, len) in ranges {
                write_var_u64(&mut out, u64::from(*clock));
                write_var_u64(&mut out, u64::from(*len));
            }
        }
        out
    }
}

fn write_id(out: &mut Vec<u8>, id: Id) {
    write_var_u64(out, id.client);
    write_var_u64(out, u64::from(id.clock));
}

fn encode_block(out: &mut Vec<u8>, block: &Blk) {
    match block {
        Blk::Gc(len) => {
            out.push(0);
            write_var_u64(out, u64::from(*len));
        }
        Blk::Skip(len) => {
            out.push(10);
            write_var_u64(out, u64::from(*len));
        }
        Blk::Item(it) => {
            let explicit = it.origin.is_none() && it.right.is_none();
            let info = (it.kind & 0x1f)
                | if it.origin.is_some() { 0x80 } else { 0 }
                | if it.right.is_some() { 0x40 } else { 0 }
                | if explicit && it.sub.is_some() {
                    0x20
                } else {
                    0
                };
            out.push(info);
            if let Some(origin) = it.origin {
                write_id(out, origin);
            }
            if let Some(right) = it.right {
                write_id(out, right);
            }
            if explicit {
                match &it.parent {
                    Some(Par::Root(name)) => {
                        write_var_u64(out, 1);
                        write_buf(out, name.as_bytes());
                    }
                    Some(Par::Item(id)) => {
                        write_var_u64(out, 0);
                        write_id(out, *id);
                    }
                    // No origins and no parent: not a valid item; written as a root named "".
                    None => {
                        write_var_u64(out, 1);
                        write_buf(out, b"");
                    }
                }
                if let Some(sub) = &it.sub {
                    write_buf(out, sub.as_bytes());
                }
            }
            out.extend_from_slice(&it.content);
        }
    }
}

/// Content as the encoder writes it: content ref, bytes, length in clock ticks.
pub type Payload = (u8, Vec<u8>, u32);

pub fn utf16_len(text: &str) -> u32 {
    text.encode_utf16().count() as u32
}

pub fn c_str(text: &str) -> Payload {
    let mut bytes = Vec::new();
    write_buf(&mut bytes, text.as_bytes());
    (4, bytes, utf16_len(text))
}

pub fn c_deleted(len: u32) -> Payload {
    let mut bytes = Vec::new();
    write_var_u64(&mut bytes, u64::from(len));
    (1, bytes, len)
}

pub fn c_format(key: &str, json: &str) -> Payload {
    let mut bytes = Vec::new();
    write_buf(&mut bytes, key.as_bytes());
    write_buf(&mut bytes, json.as_bytes());
    (6, bytes, 1)
}

pub fn c_embed(json: &str) -> Payload {
    let mut bytes = Vec::new();
    write_buf(&mut bytes, json.as_bytes());
    (5, bytes, 1)
}

pub fn c_any_string(text: &str) -> Payload {
    let mut bytes = Vec::new();
    write_var_u64(&mut bytes, 1);
    bytes.push(119);
    write_buf(&mut bytes, text.as_bytes());
    (8, bytes, 1)
}

pub fn c_type(type_ref: u8) -> Payload {
    let mut bytes = Vec::new();
    write_var_u64(&mut bytes, u64::from(type_ref));
    if type_ref == 3 {
        write_buf(&mut bytes, b"p");
    }
    (7, bytes, 1)
}

pub fn c_binary(data: &[u8]) -> Payload {
    let mut bytes = Vec::new();
    write_buf(&mut bytes, data);
    (3, bytes, 1)
}

pub fn c_doc(guid: &str) -> Payload {
    let mut bytes = Vec::new();
    write_buf(&mut bytes, guid.as_bytes());
    bytes.extend_from_slice(&[118, 0]);
    (9, bytes, 1)
}

/// JSON content: yrs reads one string more than the count (the scanner mirrors it).
pub fn c_json(values: &[&str]) -> Payload {
    let mut bytes = Vec::new();
    write_var_u64(&mut bytes, values.len() as u64);
    for value in values.iter().chain(values.last()) {
        write_buf(&mut bytes, value.as_bytes());
    }
    (2, bytes, values.len() as u32)
}

pub fn item(origin: Option<Id>, right: Option<Id>, content: Payload) -> Blk {
    Blk::Item(It {
        origin,
        right,
        parent: None,
        sub: None,
        kind: content.0,
        content: content.1,
        len: content.2,
    })
}

pub fn item_in(parent: Par, sub: Option<&str>, content: Payload) -> Blk {
    Blk::Item(It {
        origin: None,
        right: None,
        parent: Some(parent),
        sub: sub.map(String::from),
        kind: content.0,
        content: content.1,
        len: content.2,
    })
}

/// Parses a v1 update into the model (`None` if it is not one).
pub fn parse_v1(bytes: &[u8]) -> Option<Upd> {
    let mut r = Reader::new(bytes);
    let mut upd = Upd::default();
    let sections = r.read_var_u64().ok()?;
    if sections > bytes.len() as u64 {
        return None;
    }
    for _ in 0..sections {
        let blocks = r.read_var_u64().ok()?;
        if blocks > bytes.len() as u64 {
            return None;
        }
        let client = r.read_var_u64().ok()?;
        let clock = u32::try_from(r.read_var_u64().ok()?).ok()?;
        let mut section = Section {
            client,
            clock,
            blocks: Vec::new(),
        };
        for _ in 0..blocks {
            section.blocks.push(parse_block(&mut r, bytes)?);
        }
        upd.sections.push(section);
    }
    let entries = r.read_var_u64().ok()?;
    if entries > bytes.len() as u64 {
        return None;
    }
    for _ in 0..entries {
        let client = r.read_var_u64().ok()?;
        let count = r.read_var_u64().ok()?;
        if count > bytes.len() as u64 {
            return None;
        }
        let mut ranges = Vec::new();
        for _ in 0..count {
            let clock = u32::try_from(r.read_var_u64().ok()?).ok()?;
            let len = u32::try_from(r.read_var_u64().ok()?).ok()?;
            ranges.push((clock, len));
        }
        upd.ds.push((client, ranges));
    }
    r.is_empty().then_some(upd)
}

fn read_id(r: &mut Reader<'_>) -> Option<Id> {
    let client = r.read_var_u64().ok()?;
    let clock = u32::try_from(r.read_var_u64().ok()?).ok()?;
    Some(Id { client, clock })
}

fn parse_block(r: &mut Reader<'_>, bytes: &[u8]) -> Option<Blk> {
    let info = *r.read_raw(1).ok()?.first()?;
    match info {
        0 => return Some(Blk::Gc(u32::try_from(r.read_var_u64().ok()?).ok()?)),
        10 => return Some(Blk::Skip(u32::try_from(r.read_var_u64().ok()?).ok()?)),
        _ => {}
    }
    let origin = if info & 0x80 != 0 { read_id(r) } else { None };
    let right = if info & 0x40 != 0 { read_id(r) } else { None };
    let (parent, sub) = if info & 0xc0 == 0 {
        let parent = if r.read_var_u64().ok()? == 1 {
            Par::Root(r.read_string().ok()?.to_string())
        } else {
            Par::Item(read_id(r)?)
        };
        let sub = if info & 0x20 != 0 {
            Some(r.read_string().ok()?.to_string())
        } else {
            None
        };
        (Some(parent), sub)
    } else {
        (None, None)
    };
    let start = r.position();
    let len = skip_content(r, info & 0x1f)?;
    Some(Blk::Item(It {
        origin,
        right,
        parent,
        sub,
        kind: info & 0x1f,
        content: bytes[start..r.position()].to_vec(),
        len,
    }))
}

fn skip_content(r: &mut Reader<'_>, kind: u8) -> Option<u32> {
    Some(match kind & 0x0f {
        1 => u32::try_from(r.read_var_u64().ok()?).ok()?,
        2 => {
            let count = r.read_var_u64().ok()?;
            for _ in 0..=count {
                r.read_string().ok()?;
            }
            u32::try_from(count).ok()?
        }
        3 => {
            r.read_buf().ok()?;
            1
        }
        4 => utf16_len(r.read_string().ok()?),
        5 => {
            r.read_string().ok()?;
            1
        }
        6 => {
            r.read_string().ok()?;
            r.read_string().ok()?;
            1
        }
        7 => {
            if r.read_var_u64().ok()? == 3 {
                r.read_string().ok()?;
            }
            1
        }
        8 => {
            let count = r.read_var_u64().ok()?;
            for _ in 0..count {
                skip_any(r, 0)?;
            }
            u32::try_from(count).ok()?
        }
        9 => {
            r.read_string().ok()?;
            skip_any(r, 0)?;
            1
        }
        _ => return None,
    })
}

fn skip_any(r: &mut Reader<'_>, depth: usize) -> Option<()> {
    if depth > 40 {
        return None;
    }
    match *r.read_raw(1).ok()?.first()? {
        127 | 126 | 121 | 120 => {}
        125 => {
            r.read_var_u64().ok()?;
        }
        124 => {
            r.read_raw(4).ok()?;
        }
        123 | 122 => {
            r.read_raw(8).ok()?;
        }
        119 => {
            r.read_string().ok()?;
        }
        118 => {
            for _ in 0..r.read_var_u64().ok()? {
                r.read_string().ok()?;
                skip_any(r, depth + 1)?;
            }
        }
        117 => {
            for _ in 0..r.read_var_u64().ok()? {
                skip_any(r, depth + 1)?;
            }
        }
        116 => {
            r.read_buf().ok()?;
        }
        _ => return None,
    }
    Some(())
}

/// The string of a string item's content, if it is one.
pub fn string_of(it: &It) -> Option<String> {
    if it.kind & 0x0f != 4 {
        return None;
    }
    Reader::new(&it.content)
        .read_string()
        .ok()
        .map(String::from)
}
