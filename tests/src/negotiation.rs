//! A negotiation to test the update policy and commands against: a server with two
//! paragraphs, amendments by two missions, and the tokens of a facilitator and two
//! delegations; with the checks every policy test makes (refused: `Rejected` naming the rule
//! and paragraph, permission-denied, 4403, the document unchanged; accepted: acknowledged,
//! the document changed).

use concord_protocol::Role;

use crate::{http_get_raw, http_post_json, Client, TestServer};

const DOC: &str = "gcm";

/// A negotiation: p1 and p2; amendment a1 on p1 by MEX, a2 on p2 by MEX, a3 on p1 by CHE.
pub struct Negotiation {
    pub server: TestServer,
    /// A facilitator of mission UN.
    pub chair: String,
    /// Delegations of MEX and CHE.
    pub mex: String,
    pub che: String,
}

impl Negotiation {
    pub async fn start() -> anyhow::Result<Self> {
        let server = TestServer::start().await;
        let chair = server.token("chair", "UN", Role::Facilitator, DOC);
        let mex = server.token("ana", "MEX", Role::Delegation, DOC);
        let che = server.token("ben", "CHE", Role::Delegation, DOC);
        let n = Negotiation {
            server,
            chair,
            mex,
            che,
        };
        n.command(
            &n.chair,
            r#"{"type":"import-text","text":"[1] Commit to cooperate.\n[2] Agreed wording."}"#,
        )
        .await?;
        for (token, paragraph) in [(&n.mex, "p1"), (&n.mex, "p2"), (&n.che, "p1")] {
            let body = format!(r#"{{"type":"create-amendment","paragraph":"{paragraph}"}}"#);
            n.command(token, &body).await?;
        }
        for (token, mission) in [(&n.mex, "MEX"), (&n.che, "CHE")] {
            crate::join_once(&n.server.ws_url_with(DOC, token), mission).await?;
        }
        Ok(n)
    }

    pub async fn command(&self, token: &str, body: &str) -> anyhow::Result<String> {
        let path = format!("/api/docs/{DOC}/commands");
        let (status, answer) = http_post_json(self.server.addr, &path, token, body).await?;
        anyhow::ensure!(status == 200, "{body} answered {status} {answer}");
        Ok(answer)
    }

    pub async fn lock(&self, paragraph: &str) -> anyhow::Result<()> {
        let body =
            format!(r#"{{"type":"lock","paragraph":"{paragraph}","reason":"agreed ad ref"}}"#);
        self.command(&self.chair, &body).await.map(drop)
    }

    pub async fn unlock(&self, paragraph: &str) -> anyhow::Result<()> {
        let body = format!(r#"{{"type":"unlock","paragraph":"{paragraph}","reason":"reopened"}}"#);
        self.command(&self.chair, &body).await.map(drop)
    }

    pub async fn state(&self) -> anyhow::Result<Vec<u8>> {
        let auth = format!("Authorization: Bearer {}", self.chair);
        let (status, bytes) = http_get_raw(
            self.server.addr,
            &format!("/api/docs/{DOC}/state"),
            &[&auth],
        )
        .await?;
        anyhow::ensure!(status == 200, "state answered {status}");
        Ok(bytes)
    }

    pub async fn connect(&self, token: &str) -> anyhow::Result<Client> {
        Client::connect(&self.server.ws_url_with(DOC, token)).await
    }

    /// Sends `edit` from a fresh connection and expects it refused by `rule` in `paragraph`,
    /// with nothing stored changed.
    pub async fn refused(
        &self,
        token: &str,
        edit: impl FnOnce(&mut Client) -> anyhow::Result<u64>,
        rule: &str,
        paragraph: Option<&str>,
    ) -> anyhow::Result<()> {
        let before = self.state().await?;
        let mut client = self.connect(token).await?;
        edit(&mut client)?;
        let close = client.wait_closed().await?;
        assert_eq!(close.map(|c| c.0), Some(4403), "{rule}: close code");
        let seen = client.seen();
        assert_eq!(seen.rejections.len(), 1, "{rule}: one Rejected");
        assert_eq!(seen.rejections[0].rule, rule);
        assert_eq!(seen.rejections[0].paragraph.as_deref(), paragraph, "{rule}");
        assert_eq!(
            seen.denied.len(),
            1,
            "{rule}: permission denied for stock clients"
        );
        assert_eq!(self.state().await?, before, "{rule}: the document changed");
        Ok(())
    }

    /// The same negotiation after a restart of its server.
    pub async fn restart(self) -> Self {
        let Negotiation {
            server,
            chair,
            mex,
            che,
        } = self;
        Negotiation {
            server: server.restart().await,
            chair,
            mex,
            che,
        }
    }

    /// Sends `edit` from a fresh connection and expects it acknowledged.
    pub async fn accepted(
        &self,
        token: &str,
        edit: impl FnOnce(&mut Client) -> anyhow::Result<u64>,
    ) -> anyhow::Result<Client> {
        let before = self.state().await?;
        let mut client = self.connect(token).await?;
        let seq = edit(&mut client)?;
        client.wait_acked(seq).await?;
        assert!(client.seen().rejections.is_empty());
        assert_ne!(
            self.state().await?,
            before,
            "an accepted edit changes the document"
        );
        Ok(client)
    }
}
