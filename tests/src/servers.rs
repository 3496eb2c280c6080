//! Servers for tests: in-process, or as a child process.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;

use anyhow::{anyhow, bail, Context};
use concord_protocol::Role;
use concord_server::auth::{
    issue_local_token, now_seconds, DocAccess, TokenRequest, DEFAULT_AUDIENCE,
};
use concord_server::{Config, Server};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::process::{Child, Command};

/// A data directory removed when dropped.
#[derive(Debug)]
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(label: &str) -> Self {
        let dir = std::env::temp_dir().join(format!(
            "concord-test-{label}-{}-{:x}",
            std::process::id(),
            fastrand::u64(..)
        ));
        std::fs::create_dir_all(&dir).expect("create temp dir");
        TempDir(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A server running in the test's own process.
pub struct TestServer {
    pub server: Option<Server>,
    pub addr: SocketAddr,
    pub config: Config,
    pub data: std::sync::Arc<TempDir>,
}

impl TestServer {
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    /// Starts a server on a fresh data directory; `tweak` adjusts the configuration.
    pub async fn start_with(tweak: impl FnOnce(&mut Config)) -> Self {
        let data = std::sync::Arc::new(TempDir::new("srv"));
        let mut config = Config {
            listen: "127.0.0.1:0".parse().expect("address"),
            data_dir: data.path().to_path_buf(),
            ..Config::default()
        };
        tweak(&mut config);
        Self::start_config(config, data).await
    }

    async fn start_config(config: Config, data: std::sync::Arc<TempDir>) -> Self {
        let server = Server::start(config.clone()).await.expect("server starts");
        let addr = server.addr();
        TestServer {
            server: Some(server),
            addr,
            config,
            data,
        }
    }

    /// The WebSocket URL of `doc` for a delegate `person` of `mission`.
    pub fn delegate_url(&self, doc: &str, person: &str, mission: &str) -> String {
        self.ws_url_with(doc, &self.token(person, mission, Role::Delegation, doc))
    }

    /// The WebSocket URL of `doc`, with a facilitator's token for every document.
    pub fn ws_url(&self, doc: &str) -> String {
        self.ws_url_with(doc, &self.token("chair", "UN", Role::Facilitator, "*"))
    }

    pub fn ws_url_with(&self, doc: &str, token: &str) -> String {
        format!("ws://{}/ws/{doc}?token={token}", self.addr)
    }

    /// Gives `doc` its first paragraph (empty, label 1) if it has none, and returns the
    /// facilitator's WebSocket URL: what the test [`crate::Client`] types into.
    pub async fn draft(&self, doc: &str) -> anyhow::Result<String> {
        let chair = self.token("chair", "UN", Role::Facilitator, "*");
        draft(self.addr, doc, &chair).await?;
        Ok(self.ws_url(doc))
    }

    /// A token signed with this server's local key, valid for an hour.
    pub fn token(&self, person: &str, mission: &str, role: Role, docs: &str) -> String {
        mint(self.data.path(), person, mission, role, docs, 3600)
    }

    /// Shuts down gracefully and starts again on the same data directory (a new port).
    pub async fn restart(mut self) -> Self {
        if let Some(server) = self.server.take() {
            server.shutdown().await.expect("clean shutdown");
        }
        let mut config = self.config.clone();
        config.listen = "127.0.0.1:0".parse().expect("address");
        Self::start_config(config, self.data.clone()).await
    }

    pub async fn stop(mut self) {
        if let Some(server) = self.server.take() {
            server.shutdown().await.expect("clean shutdown");
        }
    }

    pub async fn health(&self) -> serde_json::Value {
        let (status, body) = http_get(self.addr, "/healthz")
            .await
            .expect("healthz answers");
        assert_eq!(status, 200);
        serde_json::from_str(&body).expect("healthz is JSON")
    }
}

/// A token signed with the local key of `data_dir`.
pub fn mint(
    data_dir: &Path,
    person: &str,
    mission: &str,
    role: Role,
    docs: &str,
    ttl_seconds: u64,
) -> String {
    let request = TokenRequest {
        person: person.into(),
        mission: mission.into(),
        role,
        docs: DocAccess::parse(docs),
        ttl_seconds,
        audience: DEFAULT_AUDIENCE.into(),
    };
    issue_local_token(data_dir, &request, now_seconds()).expect("token")
}

/// The `concord` binary as a child process.
pub struct ProcessServer {
    child: Child,
    pub addr: SocketAddr,
    data_dir: PathBuf,
    /// What the server prints after its address line (fault announcements).
    lines: tokio::io::Lines<BufReader<tokio::process::ChildStdout>>,
    /// Fault orders, when started with [`ProcessServer::start_with_faults`].
    control: Option<tokio::process::ChildStdin>,
    /// The most writes storage announced holding at once, of the lines read so far.
    pub most_held: usize,
}

impl ProcessServer {
    /// Starts `binary` (pass `env!("CARGO_BIN_EXE_concord-under-test")`, which only
    /// integration tests can see) serving `data_dir`.
    pub async fn start(binary: &str, data_dir: &Path, extra: &[&str]) -> anyhow::Result<Self> {
        Self::spawn(binary, data_dir, extra, false).await
    }

    /// As [`ProcessServer::start`], with storage that takes fault orders
    /// ([`crate::faults`]; see [`ProcessServer::fault`]).
    pub async fn start_with_faults(
        binary: &str,
        data_dir: &Path,
        extra: &[&str],
    ) -> anyhow::Result<Self> {
        Self::spawn(binary, data_dir, extra, true).await
    }

    async fn spawn(
        binary: &str,
        data_dir: &Path,
        extra: &[&str],
        faults: bool,
    ) -> anyhow::Result<Self> {
        let mut command = Command::new(binary);
        if faults {
            command
                .env("CONCORD_TEST_FAULTS", "1")
                .stdin(Stdio::piped());
        } else {
            command.stdin(Stdio::null());
        }
        let mut child = command
            .arg("serve")
            .arg("--listen")
            .arg("127.0.0.1:0")
            .arg("--data-dir")
            .arg(data_dir)
            .args(extra)
            .env("CONCORD_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .context("spawn concord")?;
        let stdout = child.stdout.take().ok_or_else(|| anyhow!("no stdout"))?;
        let mut lines = BufReader::new(stdout).lines();
        let line = tokio::time::timeout(crate::WAIT, lines.next_line())
            .await
            .context("server did not announce its address")??
            .ok_or_else(|| anyhow!("server exited before listening"))?;
        let addr = line
            .strip_prefix("listening on ")
            .ok_or_else(|| anyhow!("unexpected first line {line:?}"))?
            .parse()?;
        let control = child.stdin.take();
        Ok(ProcessServer {
            child,
            addr,
            data_dir: data_dir.to_path_buf(),
            lines,
            control,
            most_held: 0,
        })
    }

    /// Gives the storage a fault order (`hold`, `fail`, `pass`) and waits until it holds.
    pub async fn fault(&mut self, order: &str) -> anyhow::Result<()> {
        let control = self
            .control
            .as_mut()
            .ok_or_else(|| anyhow!("started without faults"))?;
        control.write_all(format!("{order}\n").as_bytes()).await?;
        control.flush().await?;
        let expected = format!("faults: {order}");
        self.next_line_where(|line| line == expected)
            .await
            .map(drop)
    }

    /// Waits until storage has held at least `count` writes since the last `hold`.
    pub async fn wait_held(&mut self, count: usize) -> anyhow::Result<()> {
        self.next_line_where(|line| {
            line.strip_prefix("faults: held ")
                .and_then(|n| n.parse::<usize>().ok())
                .is_some_and(|n| n >= count)
        })
        .await
        .map(drop)
    }

    async fn next_line_where(&mut self, wanted: impl Fn(&str) -> bool) -> anyhow::Result<String> {
        tokio::time::timeout(crate::WAIT, async {
            loop {
                let line = self.lines.next_line().await?;
                if let Some(held) = line
                    .as_deref()
                    .and_then(|line| line.strip_prefix("faults: held "))
                    .and_then(|n| n.parse::<usize>().ok())
                {
                    self.most_held = self.most_held.max(held);
                }
                match line {
                    Some(line) if wanted(&line) => return Ok(line),
                    Some(_) => {}
                    None => bail!("the server's output ended"),
                }
            }
        })
        .await
        .context("the server did not say it")?
    }

    /// A token for `person` of `mission` on every document.
    pub fn token(&self, person: &str, mission: &str, role: Role) -> String {
        mint(&self.data_dir, person, mission, role, "*", 3600)
    }

    /// The WebSocket URL of `doc`, with a facilitator's token.
    pub fn ws_url(&self, doc: &str) -> String {
        let token = mint(&self.data_dir, "chair", "UN", Role::Facilitator, "*", 3600);
        format!("ws://{}/ws/{doc}?token={token}", self.addr)
    }

    /// As [`TestServer::draft`].
    pub async fn draft(&self, doc: &str) -> anyhow::Result<String> {
        let chair = mint(&self.data_dir, "chair", "UN", Role::Facilitator, "*", 3600);
        draft(self.addr, doc, &chair).await?;
        Ok(self.ws_url(doc))
    }

    /// SIGTERM, as a service manager stops it; waits for the process to exit.
    pub async fn terminate(mut self) -> anyhow::Result<std::process::ExitStatus> {
        let pid = self.child.id().ok_or_else(|| anyhow!("already exited"))?;
        let sent = std::process::Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()?;
        anyhow::ensure!(sent.success(), "kill -TERM failed");
        Ok(tokio::time::timeout(crate::WAIT, self.child.wait()).await??)
    }

    /// Sends a signal (`STOP`, `CONT`, `KILL`) to the process.
    pub fn signal(&self, name: &str) -> anyhow::Result<()> {
        let pid = self.child.id().ok_or_else(|| anyhow!("already exited"))?;
        let sent = std::process::Command::new("kill")
            .args([format!("-{name}"), pid.to_string()])
            .status()?;
        anyhow::ensure!(sent.success(), "kill -{name} failed");
        Ok(())
    }

    /// SIGKILL: no chance to flush anything.
    pub async fn kill(mut self) {
        let _ = self.child.start_kill();
        let _ = self.child.wait().await;
    }
}

/// Imports a one-paragraph text into `doc` unless it already has content (clients may only
/// type into paragraph bodies and amendments, which only commands create).
pub async fn draft(addr: SocketAddr, doc: &str, facilitator: &str) -> anyhow::Result<()> {
    let command = serde_json::json!({ "type": "import-text", "text": "[1]" }).to_string();
    let path = format!("/api/docs/{doc}/commands");
    let (status, body) = http_post_json(addr, &path, facilitator, &command).await?;
    match status {
        200 => Ok(()),
        409 if body.contains("document-not-empty") => Ok(()),
        _ => bail!("drafting {doc} failed: {status} {body}"),
    }
}

/// A minimal HTTP/1.1 GET (the tests need nothing more than status and body).
pub async fn http_get(addr: SocketAddr, path: &str) -> anyhow::Result<(u16, String)> {
    http_get_with(addr, path, &[]).await
}

/// A GET with extra header lines (e.g. `Authorization: Bearer ...`); the body as text.
pub async fn http_get_with(
    addr: SocketAddr,
    path: &str,
    headers: &[&str],
) -> anyhow::Result<(u16, String)> {
    let (status, body) = http_get_raw(addr, path, headers).await?;
    Ok((status, String::from_utf8_lossy(&body).into_owned()))
}

/// A GET with extra header lines; the body as bytes.
pub async fn http_get_raw(
    addr: SocketAddr,
    path: &str,
    headers: &[&str],
) -> anyhow::Result<(u16, Vec<u8>)> {
    http_request(addr, "GET", path, headers, &[]).await
}

/// A POST of a JSON body with a bearer token; the response body as text.
pub async fn http_post_json(
    addr: SocketAddr,
    path: &str,
    token: &str,
    body: &str,
) -> anyhow::Result<(u16, String)> {
    let auth = format!("Authorization: Bearer {token}");
    let headers = [auth.as_str(), "Content-Type: application/json"];
    let (status, body) = http_request(addr, "POST", path, &headers, body.as_bytes()).await?;
    Ok((status, String::from_utf8_lossy(&body).into_owned()))
}

/// One HTTP/1.1 request; the status and the body as bytes.
pub async fn http_request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[&str],
    body: &[u8],
) -> anyhow::Result<(u16, Vec<u8>)> {
    let mut stream = TcpStream::connect(addr).await?;
    let extra: String = headers.iter().map(|h| format!("{h}\r\n")).collect();
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\n{extra}Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(request.as_bytes()).await?;
    stream.write_all(body).await?;
    let mut response = Vec::new();
    tokio::time::timeout(crate::WAIT, stream.read_to_end(&mut response)).await??;
    let head_end = response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| anyhow!("no end of headers"))?;
    let head = String::from_utf8_lossy(&response[..head_end]).into_owned();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| anyhow!("no status in {head:?}"))?;
    anyhow::ensure!(
        !head
            .to_ascii_lowercase()
            .contains("transfer-encoding: chunked"),
        "chunked responses are not expected here"
    );
    Ok((status, response[head_end + 4..].to_vec()))
}
