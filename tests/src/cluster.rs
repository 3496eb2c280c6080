//! Several nodes over one real Redis: Debian's `redis-server`, started by the test on a free
//! port with its own data directory, the append-only file on and fsynced at every write (as
//! Concord requires), and the `concord` binary as child processes pointing at it.

use std::path::PathBuf;
use std::process::Stdio;

use anyhow::{anyhow, Context};
use concord_protocol::Role;
use concord_server::auth::{issue_token, now_seconds, DocAccess, TokenRequest, DEFAULT_AUDIENCE};
use concord_server::storage::redis::{shared, RedisLog};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use crate::{ProcessServer, TempDir};

/// A `redis-server` of the test's own.
pub struct Redis {
    child: Option<Child>,
    pub port: u16,
    dir: TempDir,
    /// Settings after the test's own (a later `--appendfsync` wins).
    extra: Vec<String>,
}

impl Redis {
    pub async fn start() -> anyhow::Result<Self> {
        Self::start_with(&[]).await
    }

    /// As [`Redis::start`], with settings of the test's own (`--appendfsync everysec`).
    pub async fn start_with(extra: &[&str]) -> anyhow::Result<Self> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let mut redis = Redis {
            child: None,
            port,
            dir: TempDir::new("redis"),
            extra: extra.iter().map(|s| s.to_string()).collect(),
        };
        redis.spawn().await?;
        Ok(redis)
    }

    async fn spawn(&mut self) -> anyhow::Result<()> {
        let mut child = Command::new("redis-server")
            .args(["--bind", "127.0.0.1", "--port", &self.port.to_string()])
            .arg("--dir")
            .arg(self.dir.path())
            .args([
                "--appendonly",
                "yes",
                "--appendfsync",
                "always",
                "--save",
                "",
            ])
            .args(&self.extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .context("redis-server is not installed (scripts/test.sh installs it)")?;
        let stdout = child.stdout.take().ok_or_else(|| anyhow!("no stdout"))?;
        self.child = Some(child);
        // Ready once it says so (it listens only after loading its append-only file).
        let mut lines = BufReader::new(stdout).lines();
        tokio::time::timeout(crate::WAIT, async {
            while let Some(line) = lines.next_line().await? {
                if line.contains("Ready to accept connections") {
                    return Ok(());
                }
            }
            Err(anyhow!("redis-server exited before it was ready"))
        })
        .await
        .context("redis-server did not start")??;
        // Keep reading what it prints, so that it never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Ok(())
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// SIGKILL: whatever is not in the append-only file is gone.
    pub async fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.start_kill();
            let _ = child.wait().await;
        }
    }

    /// Starts again on the same port and directory: it reloads its append-only file.
    pub async fn restart(&mut self) -> anyhow::Result<()> {
        self.kill().await;
        self.spawn().await
    }

    pub fn dir(&self) -> PathBuf {
        self.dir.path().to_path_buf()
    }
}

/// Nodes sharing one Redis.
pub struct Cluster {
    pub redis: Redis,
    pub nodes: Vec<Option<ProcessServer>>,
    dirs: Vec<TempDir>,
    binary: String,
    extra: Vec<String>,
}

impl Cluster {
    /// Redis and `count` nodes of `binary` (pass `env!("CARGO_BIN_EXE_concord-under-test")`).
    pub async fn start(binary: &str, count: usize) -> anyhow::Result<Self> {
        Self::start_with(binary, count, &[]).await
    }

    /// As [`Cluster::start`], every node given `extra` arguments (`--mission-connections 2`).
    pub async fn start_with(binary: &str, count: usize, extra: &[&str]) -> anyhow::Result<Self> {
        let redis = Redis::start().await?;
        let mut cluster = Cluster {
            redis,
            nodes: Vec::new(),
            dirs: Vec::new(),
            binary: binary.to_string(),
            extra: extra.iter().map(|s| s.to_string()).collect(),
        };
        for _ in 0..count {
            let node = cluster.spawn_node().await?;
            cluster.nodes.push(Some(node));
        }
        Ok(cluster)
    }

    async fn spawn_node(&mut self) -> anyhow::Result<ProcessServer> {
        let dir = TempDir::new("node");
        let url = self.redis.url();
        let mut args = vec!["--redis", url.as_str()];
        args.extend(self.extra.iter().map(String::as_str));
        let node = ProcessServer::start(&self.binary, dir.path(), &args).await?;
        self.dirs.push(dir);
        Ok(node)
    }

    pub fn node(&self, i: usize) -> &ProcessServer {
        self.nodes[i].as_ref().expect("the node is running")
    }

    /// Starts node `i` again (after it was killed), on a new port.
    pub async fn restart_node(&mut self, i: usize) -> anyhow::Result<()> {
        if let Some(node) = self.nodes[i].take() {
            node.kill().await;
        }
        let node = self.spawn_node().await?;
        self.nodes[i] = Some(node);
        Ok(())
    }

    /// Takes node `i` out (to SIGKILL it).
    pub fn take_node(&mut self, i: usize) -> ProcessServer {
        self.nodes[i].take().expect("the node is running")
    }

    /// A token for every document, signed with the secret the nodes share.
    pub async fn token(&self, person: &str, mission: &str, role: Role) -> anyhow::Result<String> {
        let mut conn = RedisLog::connect_to(&self.redis.url()).await?;
        let secret = shared::secret(&mut conn).await?;
        let request = TokenRequest {
            person: person.into(),
            mission: mission.into(),
            role,
            docs: DocAccess::parse("*"),
            ttl_seconds: 3600,
            audience: DEFAULT_AUDIENCE.into(),
        };
        issue_token(&secret, &request, now_seconds()).map_err(|e| anyhow!("{e}"))
    }

    /// The WebSocket URL of `doc` on node `i`, with `token`.
    pub fn ws_url(&self, i: usize, doc: &str, token: &str) -> String {
        format!("ws://{}/ws/{doc}?token={token}", self.node(i).addr)
    }
}
