//! The live sessions of this server, so that a revocation can close them at once.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use concord_protocol::CloseCode;

use crate::auth::Identity;
use crate::peer::{ConnId, PeerState};
use crate::revocations::Revocations;

struct LiveSession {
    identity: Identity,
    state: Arc<PeerState>,
}

#[derive(Default)]
pub struct Sessions {
    live: Mutex<HashMap<ConnId, LiveSession>>,
}

impl Sessions {
    pub fn insert(&self, id: ConnId, identity: Identity, state: Arc<PeerState>) {
        self.lock().insert(id, LiveSession { identity, state });
    }

    /// The session's token was refreshed.
    pub fn update(&self, id: ConnId, identity: Identity) {
        if let Some(session) = self.lock().get_mut(&id) {
            session.identity = identity;
        }
    }

    pub fn remove(&self, id: ConnId) {
        self.lock().remove(&id);
    }

    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Closes (4401) every live session whose token is now revoked.
    pub fn close_revoked(&self, revocations: &Revocations) -> usize {
        let live = self.lock();
        let mut closed = 0;
        for session in live.values() {
            if revocations.is_revoked(&session.identity) {
                session
                    .state
                    .request_close(CloseCode::Unauthenticated, "token revoked");
                closed += 1;
            }
        }
        closed
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<ConnId, LiveSession>> {
        self.live.lock().unwrap_or_else(|p| p.into_inner())
    }
}
