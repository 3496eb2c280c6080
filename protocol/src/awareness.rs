//! y-protocols awareness updates: presence (who is here, where their cursor is).
//!
//! An update is a list of `(client id, clock, JSON state)`; the state `null` means the client
//! left. Decoded here with every count checked against the bytes that remain.

use crate::error::DecodeError;
use crate::error::MAX_CLIENT_ID;
use crate::lib0::{write_buf, write_var_u64, Reader};

/// One client's presence state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AwarenessEntry<'a> {
    pub client: u64,
    pub clock: u32,
    /// JSON text; `"null"` when the client is gone.
    pub state: &'a str,
}

impl AwarenessEntry<'_> {
    pub fn is_removal(&self) -> bool {
        self.state == "null"
    }
}

pub fn decode_awareness(update: &[u8]) -> Result<Vec<AwarenessEntry<'_>>, DecodeError> {
    let mut r = Reader::new(update);
    let at = r.position();
    let count = r.read_var_u64()?;
    // An entry takes at least three bytes (client, clock, empty string).
    if count > (r.remaining() / 3) as u64 {
        return Err(DecodeError::LengthExceedsFrame {
            at,
            claimed: count,
            available: r.remaining(),
        });
    }
    let mut entries = Vec::with_capacity(count as usize);
    for _ in 0..count {
        let at = r.position();
        let client = r.read_var_u64()?;
        if client > MAX_CLIENT_ID {
            return Err(DecodeError::ClientIdTooLarge { at, client });
        }
        let clock_at = r.position();
        let clock = u32::try_from(r.read_var_u64()?)
            .map_err(|_| DecodeError::VarintOverflow { at: clock_at })?;
        let state_at = r.position();
        let state = r.read_string()?;
        if serde_json::from_str::<serde::de::IgnoredAny>(state).is_err() {
            return Err(DecodeError::InvalidJson { at: state_at });
        }
        entries.push(AwarenessEntry {
            client,
            clock,
            state,
        });
    }
    if !r.is_empty() {
        return Err(DecodeError::TrailingBytes {
            at: r.position(),
            count: r.remaining(),
        });
    }
    Ok(entries)
}

pub fn encode_awareness<'a>(entries: impl IntoIterator<Item = AwarenessEntry<'a>>) -> Vec<u8> {
    let entries: Vec<_> = entries.into_iter().collect();
    let mut out = Vec::with_capacity(8 + entries.iter().map(|e| e.state.len() + 12).sum::<usize>());
    write_var_u64(&mut out, entries.len() as u64);
    for entry in entries {
        write_var_u64(&mut out, entry.client);
        write_var_u64(&mut out, u64::from(entry.clock));
        write_buf(&mut out, entry.state.as_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use yrs::sync::awareness::AwarenessUpdate;
    use yrs::updates::decoder::Decode;

    #[test]
    fn round_trips_and_yrs_reads_it() {
        let entries = vec![
            AwarenessEntry {
                client: 12,
                clock: 3,
                state: r#"{"user":{"name":"MEX"}}"#,
            },
            AwarenessEntry {
                client: 99,
                clock: 1,
                state: "null",
            },
        ];
        let bytes = encode_awareness(entries.clone());
        assert_eq!(decode_awareness(&bytes), Ok(entries));
        let theirs = AwarenessUpdate::decode_v1(&bytes).expect("yrs decodes");
        assert_eq!(theirs.clients.len(), 2);
    }

    #[test]
    fn bad_updates_are_refused() {
        assert!(decode_awareness(&[0xff, 0xff, 0xff, 0x0f]).is_err());
        assert!(decode_awareness(&encode_awareness([AwarenessEntry {
            client: 1,
            clock: 1,
            state: "{not json"
        }]))
        .is_err());
    }
}
