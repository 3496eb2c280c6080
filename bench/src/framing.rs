//! How a server frames the y-protocols messages: plain y-websocket (Concord, y-sweet, the
//! reference server), or Hocuspocus, which multiplexes documents over one socket and puts
//! the document's name (a lib0 string) before every message, and authenticates each document
//! with an `Auth` message before it syncs.
//!
//! The generator speaks y-websocket throughout; a connection's [`Framing`] wraps what it sends
//! and unwraps what it reads, so the scenarios are the same against every server.

use std::borrow::Cow;

use concord_protocol::lib0::{write_buf, write_var_u64, Reader};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Framing {
    /// `[message type][payload]`: Concord, y-sweet, @y/websocket-server.
    YWebsocket,
    /// `[document name][message type][payload]`, an `Auth` message first: Hocuspocus.
    Hocuspocus,
}

/// Hocuspocus's message types that the generator reads or writes.
const SYNC: u64 = 0;
const AWARENESS: u64 = 1;
const AUTH: u64 = 2;
/// A sync message sent in answer to one: read as a sync message.
const SYNC_REPLY: u64 = 4;
/// `Auth` submessage: the client's token.
const AUTH_TOKEN: u64 = 0;

/// One connection's framing: for Hocuspocus, the document's address put before every message.
#[derive(Debug, Clone, Default)]
pub struct Address(Option<Vec<u8>>);

impl Address {
    pub fn new(framing: Framing, doc: &str) -> Self {
        match framing {
            Framing::YWebsocket => Address(None),
            Framing::Hocuspocus => {
                let mut address = Vec::with_capacity(doc.len() + 2);
                write_buf(&mut address, doc.as_bytes());
                Address(Some(address))
            }
        }
    }

    /// The messages a connection sends before its first sync step (Hocuspocus: an `Auth`
    /// with an empty token, which a server without an authentication hook accepts).
    pub fn greeting(&self) -> Option<Vec<u8>> {
        let address = self.0.as_ref()?;
        let mut auth = address.clone();
        write_var_u64(&mut auth, AUTH);
        write_var_u64(&mut auth, AUTH_TOKEN);
        write_buf(&mut auth, b"");
        Some(auth)
    }

    /// A y-websocket message as this connection sends it.
    pub fn wrap<'a>(&self, message: &'a [u8]) -> Cow<'a, [u8]> {
        match &self.0 {
            None => Cow::Borrowed(message),
            Some(address) => {
                let mut framed = Vec::with_capacity(address.len() + message.len());
                framed.extend_from_slice(address);
                framed.extend_from_slice(message);
                Cow::Owned(framed)
            }
        }
    }

    /// A message read from this connection, as y-websocket frames it; `None` for what
    /// y-websocket has no message for (Hocuspocus's authentication answers, sync statuses,
    /// stateless messages) or another document's.
    pub fn unwrap<'a>(&self, message: &'a [u8]) -> Option<Cow<'a, [u8]>> {
        let Some(address) = &self.0 else {
            return Some(Cow::Borrowed(message));
        };
        let rest = message.strip_prefix(address.as_slice())?;
        let mut reader = Reader::new(rest);
        let kind = reader.read_var_u64().ok()?;
        let payload = &rest[reader.position()..];
        match kind {
            SYNC | AWARENESS => Some(Cow::Borrowed(rest)),
            SYNC_REPLY => {
                let mut sync = Vec::with_capacity(payload.len() + 1);
                write_var_u64(&mut sync, SYNC);
                sync.extend_from_slice(payload);
                Some(Cow::Owned(sync))
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hocuspocus_messages_carry_the_document_and_come_back_as_y_websocket() {
        let address = Address::new(Framing::Hocuspocus, "S2-0");
        assert_eq!(
            address.greeting().expect("an auth"),
            [4, b'S', b'2', b'-', b'0', 2, 0, 0]
        );
        let update = [0u8, 2, 3, 1, 2, 3];
        let wrapped = address.wrap(&update);
        assert_eq!(&wrapped[..5], &[4, b'S', b'2', b'-', b'0']);
        assert_eq!(address.unwrap(&wrapped).as_deref(), Some(&update[..]));
        // A sync reply reads as sync; an authentication answer and another document's
        // messages are nothing to the generator.
        let reply = [4, b'S', b'2', b'-', b'0', 4, 1, 2, 0, 0];
        assert_eq!(
            address.unwrap(&reply).as_deref(),
            Some(&[0u8, 1, 2, 0, 0][..])
        );
        assert!(address
            .unwrap(&[4, b'S', b'2', b'-', b'0', 2, 2, 0])
            .is_none());
        assert!(address
            .unwrap(&[4, b'S', b'2', b'-', b'1', 0, 2, 0])
            .is_none());
        // y-websocket: untouched.
        let plain = Address::new(Framing::YWebsocket, "S2-0");
        assert!(plain.greeting().is_none());
        assert_eq!(plain.wrap(&update).as_ref(), &update[..]);
    }
}
