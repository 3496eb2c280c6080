//! `concord-load`: a y-websocket load generator for Concord and for any other Yjs server.
//!
//! - `run`: many clients on one or more documents, some of them writers typing at a steady
//!   rate; reports end-to-end delivery latency (a writer's edit to its arrival at every other
//!   client), deliveries and losses, and the server's CPU and memory.
//! - `memory`: many documents of a given size held open; reports server memory per document.
//! - `build` then `coldload`: a document with a long edit history; after the server restarts,
//!   the time until a new client holds the full text.
//!
//! Every edit carries a marker `~E<id>~`; receivers find markers in the raw frames, so
//! observers need no replica and one process holds thousands of clients.
//!
//! Against Concord (`--schema concord`, the default) writers type into paragraph bodies, the
//! only texts its update policy lets a facilitator write: each document is first given its
//! paragraphs with an `import-text` command over the socket, and every writer starts from that
//! state. Against other servers (`--schema root`) they type into a root text named `text`.

mod client;
mod coldload;
mod document;
mod framing;
mod memory;
mod report;
mod run;
mod stats;
mod target;
mod ws;

use clap::{Parser, Subcommand};

use run::RunParams;
use target::Target;

#[derive(Debug, Parser)]
#[command(
    name = "concord-load",
    about = "Load generator for y-websocket servers"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Runtime worker threads for the generator itself.
    #[arg(long, global = true, default_value_t = 1)]
    threads: usize,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Clients and writers on documents; latency and delivery.
    Run(RunParams),
    /// Many documents of a given size held open; memory per document.
    Memory {
        #[command(flatten)]
        target: Target,
        #[arg(long, default_value_t = 1000)]
        docs: usize,
        /// Bytes of text per document.
        #[arg(long, default_value_t = 5000)]
        bytes: usize,
    },
    /// Writes a document with a long history (for `coldload` after a restart).
    Build {
        #[command(flatten)]
        target: Target,
        #[arg(long, default_value_t = 200)]
        paragraphs: usize,
        #[arg(long, default_value_t = 120_000)]
        chars: usize,
        #[arg(long, default_value_t = 20_000)]
        transactions: usize,
        /// At most this many transactions a second (0: as fast as the socket takes them).
        /// Some servers drop what a connection's queue cannot hold; paced, every server gets
        /// the whole history.
        #[arg(long, default_value_t = 0)]
        pace: u32,
    },
    /// Time until a new client holds the whole text of the document `build` wrote.
    Coldload {
        #[command(flatten)]
        target: Target,
        #[arg(long, default_value_t = 120_000)]
        chars: usize,
    },
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(cli.threads.max(1))
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        match cli.command {
            Command::Run(params) => run::run(params).await,
            Command::Memory {
                target,
                docs,
                bytes,
            } => memory::memory(target, docs, bytes).await,
            Command::Build {
                target,
                paragraphs,
                chars,
                transactions,
                pace,
            } => coldload::build(target, paragraphs, chars, transactions, pace).await,
            Command::Coldload { target, chars } => coldload::coldload(target, chars).await,
        }
    })
}
