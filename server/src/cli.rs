//! The `concord` command line. `main.rs` only calls [`main`].

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, Subcommand};

use crate::config::{parse_duration, Config};
use crate::server::Server;

#[derive(Debug, Parser)]
#[command(
    name = "concord",
    version,
    about = "Co-draft negotiated texts in real time"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve documents over WebSocket (and the web page) on embedded storage.
    Serve(ServeArgs),
}

#[derive(Debug, clap::Args)]
struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "CONCORD_LISTEN", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Where the database (and, later, keys) live.
    #[arg(long, env = "CONCORD_DATA_DIR", default_value = "./concord-data")]
    data_dir: PathBuf,
    /// Largest accepted frame in bytes; larger ones close the connection with 4413.
    #[arg(long, env = "CONCORD_MAX_FRAME_BYTES", default_value_t = 8 * 1024 * 1024)]
    max_frame_bytes: usize,
    /// Frames queued per connection before it is resynced.
    #[arg(long, env = "CONCORD_OUTBOX_FRAMES", default_value_t = 1024)]
    outbox_frames: usize,
    /// How long an unused document stays in memory (e.g. 30s, 5m).
    #[arg(long, env = "CONCORD_IDLE_UNLOAD_AFTER", default_value = "30s", value_parser = parse_duration)]
    idle_unload_after: Duration,
    /// Updates between snapshots of a document.
    #[arg(long, env = "CONCORD_SNAPSHOT_EVERY", default_value_t = 1000)]
    snapshot_every: u64,
    /// How often to ping each connection.
    #[arg(long, env = "CONCORD_PING_INTERVAL", default_value = "20s", value_parser = parse_duration)]
    ping_interval: Duration,
    /// Close connections silent for this long.
    #[arg(long, env = "CONCORD_LIVENESS_TIMEOUT", default_value = "60s", value_parser = parse_duration)]
    liveness_timeout: Duration,
}

impl ServeArgs {
    fn into_config(self) -> Config {
        Config {
            listen: self.listen,
            data_dir: self.data_dir,
            max_frame_bytes: self.max_frame_bytes,
            outbox_frames: self.outbox_frames,
            idle_unload_after: self.idle_unload_after,
            snapshot_every: self.snapshot_every.max(1),
            ping_interval: self.ping_interval,
            liveness_timeout: self.liveness_timeout,
            ..Config::default()
        }
    }
}

/// Parses the command line and runs it.
pub fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("CONCORD_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    match cli.command {
        Command::Serve(args) => runtime.block_on(serve(args.into_config())),
    }
}

async fn serve(config: Config) -> anyhow::Result<()> {
    let server = Server::start(config).await?;
    // The address line is machine-read by tests and scripts (e.g. with --listen 127.0.0.1:0).
    println!("listening on {}", server.addr());
    let token = server.shutdown_token();
    tokio::spawn(async move {
        wait_for_signal().await;
        tracing::info!("shutting down");
        token.cancel();
    });
    server.wait().await?;
    tracing::info!("stopped");
    Ok(())
}

async fn wait_for_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(term) => term,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}
