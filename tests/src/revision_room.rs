//! A drafting room for the revision tests: an in-process server with a small negotiation and
//! the tokens of its participants, and the REST and WebSocket calls the tests make.

use concord_protocol::Role;
use serde_json::Value;

use crate::{http_get_with, http_post_json, Client, TestServer};

/// The document the room drafts.
pub const DOC: &str = "gcm";

/// An in-process server with p1 "Commit to cooperate." and p2 "Agreed wording.", amendment
/// a1 (MEX) and a2 (CHE) on p1, and tokens for a chair (UN), MEX, CHE and an observer.
pub struct RevisionRoom {
    pub server: TestServer,
    pub chair: String,
    pub mex: String,
    pub che: String,
    pub ngo: String,
}

impl RevisionRoom {
    pub async fn start() -> anyhow::Result<Self> {
        Self::start_with(|_| {}).await
    }

    pub async fn start_with(
        tweak: impl FnOnce(&mut concord_server::Config),
    ) -> anyhow::Result<Self> {
        let server = TestServer::start_with(tweak).await;
        let room = RevisionRoom {
            chair: server.token("chair", "UN", Role::Facilitator, DOC),
            mex: server.token("ana", "MEX", Role::Delegation, DOC),
            che: server.token("ben", "CHE", Role::Delegation, DOC),
            ngo: server.token("nora", "NGO-1", Role::Observer, DOC),
            server,
        };
        room.command(
            &room.chair,
            r#"{"type":"import-text","text":"[1] Commit to cooperate.\n[2] Agreed wording."}"#,
        )
        .await?;
        for token in [&room.mex, &room.che] {
            room.command(token, r#"{"type":"create-amendment","paragraph":"p1"}"#)
                .await?;
        }
        for (token, mission) in [(&room.mex, "MEX"), (&room.che, "CHE")] {
            crate::join_once(&room.url(token), mission).await?;
        }
        Ok(room)
    }

    pub async fn post(&self, token: &str, body: &str) -> anyhow::Result<(u16, String)> {
        let path = format!("/api/docs/{DOC}/commands");
        http_post_json(self.server.addr, &path, token, body).await
    }

    pub async fn command(&self, token: &str, body: &str) -> anyhow::Result<String> {
        let (status, answer) = self.post(token, body).await?;
        anyhow::ensure!(status == 200, "{body} answered {status} {answer}");
        Ok(answer)
    }

    pub async fn get(&self, token: &str, path: &str) -> anyhow::Result<(u16, String)> {
        let auth = format!("Authorization: Bearer {token}");
        http_get_with(
            self.server.addr,
            &format!("/api/docs/{DOC}{path}"),
            &[&auth],
        )
        .await
    }

    pub async fn get_json(&self, token: &str, path: &str) -> anyhow::Result<Value> {
        let (status, body) = self.get(token, path).await?;
        anyhow::ensure!(status == 200, "{path} answered {status} {body}");
        Ok(serde_json::from_str(&body)?)
    }

    pub async fn connect(&self, token: &str) -> anyhow::Result<Client> {
        Client::connect(&self.url(token)).await
    }

    pub fn url(&self, token: &str) -> String {
        self.server.ws_url_with(DOC, token)
    }
}

impl RevisionRoom {
    /// The document's full state, as the chair reads it.
    pub async fn state(&self) -> anyhow::Result<Vec<u8>> {
        let auth = format!("Authorization: Bearer {}", self.chair);
        let (status, bytes) = crate::http_get_raw(
            self.server.addr,
            &format!("/api/docs/{DOC}/state"),
            &[&auth],
        )
        .await?;
        anyhow::ensure!(status == 200, "state answered {status}");
        Ok(bytes)
    }

    /// Sends `update` from a fresh connection of `token`: closed 4403 naming `rule`, and the
    /// document (its full state) unchanged.
    pub async fn refused(
        &self,
        what: &str,
        token: &str,
        update: &[u8],
        rule: &str,
    ) -> anyhow::Result<()> {
        let before = self.state().await?;
        let mut client = self.connect(token).await?;
        client.send_update(update)?;
        let close = client.wait_closed().await?;
        assert_eq!(
            close.map(|c| c.0),
            Some(4403),
            "{what}: {:?}",
            client.seen().close
        );
        let seen = client.seen();
        assert_eq!(
            seen.rejections.first().map(|r| r.rule.as_str()),
            Some(rule),
            "{what}"
        );
        assert_eq!(self.state().await?, before, "{what}: the document changed");
        Ok(())
    }
}

/// The body of `paragraph`, for typing into.
pub fn body_of(paragraph: &'static str) -> impl Fn(&yrs::TransactionMut) -> Option<yrs::TextRef> {
    move |txn| concord_protocol::schema::body_text(txn, paragraph)
}
