//! The `concord` command line. `main.rs` only calls [`main`].

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, Subcommand};

use concord_protocol::Role;

use std::sync::Arc;

use crate::auth::{self, AuthConfig, DocAccess, PublicKeySpec, TokenRequest};
use crate::config::{parse_duration, Config};
use crate::limits::LimitConfig;
use crate::revocations::{self, Revocation};
use crate::server::Server;
use crate::storage::redis::RedisLog;
use crate::storage::DocumentLog;

#[derive(Debug, Parser)]
#[command(
    name = "concord",
    version,
    about = "Co-draft negotiated texts in real time"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Logs as lines of text, or as one JSON object per line (for a log collector).
    #[arg(long, global = true, env = "CONCORD_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve documents over WebSocket (and the web page) on embedded storage.
    Serve(ServeArgs),
    /// Print a token signed with this data directory's local key.
    Token(TokenArgs),
    /// Revoke a token (by its id) or every token of a mission issued until now.
    Revoke(RevokeArgs),
    /// Fill an empty document from a structured text (Markdown with [labelled] paragraphs).
    /// Run it while no server has the document open; a live server takes the same text as the
    /// `import-text` command.
    Import(ImportArgs),
    /// The published revisions of a document, in order.
    Revisions(RevisionsArgs),
    /// Compare two revisions of a document (or one and the live text): every changed
    /// paragraph as a redline, each insertion with the mission that wrote it.
    Compare(CompareArgs),
    /// Export a document (the live text or a published revision): md, clean, clean-txt,
    /// compilation (HTML), akn (Akoma Ntoso 3.0) or docx; with --against, a Word redline.
    Export(ExportArgs),
    /// The audit trail: `concord audit verify` checks every record's hash chain.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
}

#[derive(Debug, Subcommand)]
enum AuditCommand {
    /// Recompute every document's hash chain; exits non-zero naming any record altered or
    /// removed.
    Verify {
        /// Only this document.
        #[arg(long)]
        doc: Option<String>,
        #[arg(long, env = "CONCORD_DATA_DIR", default_value = "./concord-data")]
        data_dir: PathBuf,
        /// Verify the chains stored in this Redis instead.
        #[arg(long, env = "CONCORD_REDIS_URL")]
        redis: Option<String>,
    },
}

#[derive(Debug, clap::Args)]
struct RevisionsArgs {
    #[arg(long)]
    doc: String,
    /// Print the JSON the REST route answers.
    #[arg(long)]
    json: bool,
    #[arg(long, env = "CONCORD_DATA_DIR", default_value = "./concord-data")]
    data_dir: PathBuf,
}

#[derive(Debug, clap::Args)]
struct CompareArgs {
    #[arg(long)]
    doc: String,
    /// A revision id (`r1`), or `live`.
    #[arg(long)]
    from: String,
    /// A revision id, or `live`.
    #[arg(long, default_value = "live")]
    to: String,
    /// Print the JSON the REST route answers.
    #[arg(long)]
    json: bool,
    #[arg(long, env = "CONCORD_DATA_DIR", default_value = "./concord-data")]
    data_dir: PathBuf,
}

#[derive(Debug, clap::Args)]
struct ExportArgs {
    #[arg(long)]
    doc: String,
    /// md, clean, clean-txt, compilation, compilation-docx, akn or docx.
    #[arg(long)]
    format: String,
    /// A published revision (`r1`, `latest`); the live text when absent.
    #[arg(long)]
    revision: Option<String>,
    /// With `--format docx`: a redline against this revision (or `live`), tracked changes.
    #[arg(long)]
    against: Option<String>,
    /// Where to write it (standard output when absent).
    #[arg(short = 'o', long)]
    output: Option<PathBuf>,
    #[arg(long, env = "CONCORD_DATA_DIR", default_value = "./concord-data")]
    data_dir: PathBuf,
}

#[derive(Debug, clap::Args)]
struct ImportArgs {
    /// The structured text.
    file: PathBuf,
    /// The document to fill.
    #[arg(long)]
    doc: String,
    #[arg(long, env = "CONCORD_DATA_DIR", default_value = "./concord-data")]
    data_dir: PathBuf,
}

#[derive(Debug, clap::Args)]
struct TokenArgs {
    /// The person (token subject).
    #[arg(long)]
    sub: String,
    /// The mission the person acts for, e.g. MEX, CHE, EU.
    #[arg(long)]
    mission: String,
    /// facilitator, delegation or observer.
    #[arg(long, value_parser = parse_role)]
    role: Role,
    /// Document ids, comma-separated, or `*` for all.
    #[arg(long)]
    docs: String,
    /// Lifetime, e.g. 8h, 30m.
    #[arg(long, default_value = "8h", value_parser = parse_duration)]
    ttl: Duration,
    #[arg(long, env = "CONCORD_DATA_DIR", default_value = "./concord-data")]
    data_dir: PathBuf,
    #[arg(long, env = "CONCORD_JWT_AUDIENCE", default_value = auth::DEFAULT_AUDIENCE)]
    audience: String,
    /// Sign with the secret the nodes on this Redis share.
    #[arg(long, env = "CONCORD_REDIS_URL")]
    redis: Option<String>,
}

#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("target").required(true).args(["jti", "mission"])))]
struct RevokeArgs {
    /// The token id (`jti`) to revoke.
    #[arg(long)]
    jti: Option<String>,
    /// Revoke every token of this mission issued until now.
    #[arg(long)]
    mission: Option<String>,
    #[arg(long, env = "CONCORD_DATA_DIR", default_value = "./concord-data")]
    data_dir: PathBuf,
    /// Revoke on every node sharing this Redis.
    #[arg(long, env = "CONCORD_REDIS_URL")]
    redis: Option<String>,
}

fn parse_role(text: &str) -> Result<Role, String> {
    Role::parse(text).ok_or_else(|| format!("`{text}`: use facilitator, delegation or observer"))
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
    /// Log writes waiting for their commit at most (then connections stop being read).
    #[arg(long, env = "CONCORD_STORAGE_QUEUE", default_value_t = crate::room::STORAGE_CREDITS)]
    storage_queue: usize,
    /// How often to ping each connection.
    #[arg(long, env = "CONCORD_PING_INTERVAL", default_value = "20s", value_parser = parse_duration)]
    ping_interval: Duration,
    /// Close connections silent for this long.
    #[arg(long, env = "CONCORD_LIVENESS_TIMEOUT", default_value = "60s", value_parser = parse_duration)]
    liveness_timeout: Duration,
    /// An identity provider's public key, as KID=ALG:PATH (ALG: RS256, ES256, EdDSA). Repeat
    /// for several keys (rotation). When given, the local HS256 secret is not accepted.
    #[arg(long = "jwt-key", env = "CONCORD_JWT_KEYS", value_delimiter = ',', value_parser = PublicKeySpec::parse)]
    jwt_keys: Vec<PublicKeySpec>,
    /// The audience tokens must name.
    #[arg(long, env = "CONCORD_JWT_AUDIENCE", default_value = auth::DEFAULT_AUDIENCE)]
    jwt_audience: String,
    /// The issuer tokens must name (unchecked when absent).
    #[arg(long, env = "CONCORD_JWT_ISSUER")]
    jwt_issuer: Option<String>,
    /// Live connections one mission may hold.
    #[arg(long, env = "CONCORD_MISSION_CONNECTIONS", default_value_t = LimitConfig::default().connections_per_mission)]
    mission_connections: usize,
    /// Messages per second one mission may send (sustained).
    #[arg(long, env = "CONCORD_MISSION_RATE", default_value_t = LimitConfig::default().messages_per_second)]
    mission_rate: u32,
    /// Messages one mission may send in a burst.
    #[arg(long, env = "CONCORD_MISSION_BURST", default_value_t = LimitConfig::default().burst)]
    mission_burst: u32,
    /// Serve the web page's files from this directory (for working on the page); by default
    /// the binary serves the copy embedded when it was built.
    #[arg(long, env = "CONCORD_WEB_DIR")]
    web_dir: Option<PathBuf>,
    /// Share documents with other nodes through this Redis (`redis://HOST:PORT`); without it,
    /// one node keeps them in SQLite in the data directory.
    #[arg(long, env = "CONCORD_REDIS_URL")]
    redis: Option<String>,
    /// Create a demo negotiation shaped like the Global Compact for Migration (document `gcm`,
    /// if it does not exist yet) and print sign-in links for its participants.
    #[arg(long)]
    demo: bool,
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
            storage_queue: self.storage_queue.max(1),
            ping_interval: self.ping_interval,
            liveness_timeout: self.liveness_timeout,
            auth: AuthConfig {
                public_keys: self.jwt_keys,
                audience: self.jwt_audience,
                issuer: self.jwt_issuer,
            },
            limits: LimitConfig {
                connections_per_mission: self.mission_connections,
                messages_per_second: self.mission_rate,
                burst: self.mission_burst,
            },
            web_dir: self.web_dir,
            redis: self.redis,
            ..Config::default()
        }
    }
}

/// Parses the command line and runs it.
pub fn main() -> anyhow::Result<()> {
    main_with(|log| log)
}

/// As [`main`], with `wrap` around the storage `serve` uses (the test binary injects storage
/// faults this way; nothing else should need it).
pub fn main_with(
    wrap: impl FnOnce(Arc<dyn DocumentLog>) -> Arc<dyn DocumentLog> + Send + 'static,
) -> anyhow::Result<()> {
    let cli = Cli::parse();
    let filter = tracing_subscriber::EnvFilter::try_from_env("CONCORD_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match cli.log_format {
        LogFormat::Text => logs.init(),
        LogFormat::Json => logs.json().init(),
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    match cli.command {
        Command::Serve(args) => {
            let demo = args.demo;
            runtime.block_on(serve(args.into_config(), demo, wrap))
        }
        Command::Token(args) => {
            let request = TokenRequest {
                person: args.sub,
                mission: args.mission,
                role: args.role,
                docs: DocAccess::parse(&args.docs),
                ttl_seconds: args.ttl.as_secs().max(1),
                audience: args.audience,
            };
            let now = auth::now_seconds();
            let token = match &args.redis {
                Some(url) => runtime.block_on(async {
                    let mut conn = RedisLog::connect_to(url).await?;
                    let secret = crate::storage::redis::shared::secret(&mut conn).await?;
                    anyhow::Ok(auth::issue_token(&secret, &request, now)?)
                })?,
                None => auth::issue_local_token(&args.data_dir, &request, now)?,
            };
            println!("{token}");
            Ok(())
        }
        Command::Import(args) => runtime.block_on(import(args)),
        Command::Revisions(args) => runtime.block_on(list_revisions(args)),
        Command::Compare(args) => runtime.block_on(compare(args)),
        Command::Export(args) => runtime.block_on(export(args)),
        Command::Audit {
            command:
                AuditCommand::Verify {
                    doc,
                    data_dir,
                    redis,
                },
        } => {
            let report = match redis {
                Some(url) => runtime.block_on(async {
                    let log = RedisLog::open(&url).await?;
                    anyhow::Ok(log.verify_audit(doc.as_deref()).await?)
                })?,
                None => crate::storage::sqlite::verify_audit(&data_dir, doc.as_deref())?,
            };
            for problem in &report.problems {
                eprintln!("{problem}");
            }
            if !report.is_intact() {
                anyhow::bail!(
                    "audit verification failed: {} problem(s) in {} record(s) of {} document(s)",
                    report.problems.len(),
                    report.records,
                    report.documents
                );
            }
            println!(
                "audit intact: {} record(s) in {} document(s)",
                report.records, report.documents
            );
            Ok(())
        }
        Command::Revoke(args) => {
            let what = match (args.jti, args.mission) {
                (Some(jti), _) => Revocation::Token(jti),
                (None, Some(mission)) => Revocation::Mission(mission),
                (None, None) => anyhow::bail!("give --jti or --mission"),
            };
            match &args.redis {
                Some(url) => runtime.block_on(async {
                    let mut conn = RedisLog::connect_to(url).await?;
                    let (kind, value) = what.kind_and_value();
                    let now = auth::now_seconds();
                    crate::storage::redis::shared::revoke(&mut conn, kind, value, now).await
                })?,
                None => revocations::revoke(&args.data_dir, &what, auth::now_seconds())?,
            }
            println!("revoked {what:?}; live sessions close within a second");
            Ok(())
        }
    }
}

/// `concord import FILE --doc ID`.
async fn import(args: ImportArgs) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(&args.file)
        .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", args.file.display()))?;
    let paragraphs = crate::document::offline::import_text(&args.data_dir, &args.doc, text).await?;
    println!("imported {paragraphs} paragraphs into {}", args.doc);
    Ok(())
}

/// `concord revisions --doc ID`.
async fn list_revisions(args: RevisionsArgs) -> anyhow::Result<()> {
    let (state, _) = crate::document::offline::read(&args.data_dir, &args.doc).await?;
    let doc = crate::revisions::replica(&state)
        .ok_or_else(|| anyhow::anyhow!("{}: stored state does not decode", args.doc))?;
    let list = crate::revisions::list(&doc);
    if args.json {
        println!("{}", serde_json::to_string_pretty(&list)?);
        return Ok(());
    }
    if list.revisions.is_empty() {
        println!("{}: no revision published yet", args.doc);
    }
    for r in &list.revisions {
        println!(
            "{:<4} {:<20} {}  {} ({})  {} paragraph(s) changed  {:.1} KiB",
            r.id,
            r.name,
            crate::revisions::format_utc(r.published_at_ms),
            r.published_by.mission,
            r.published_by.person,
            r.changed,
            r.stored_bytes as f64 / 1024.0
        );
    }
    println!("observers read: {}", list.observers.as_str());
    Ok(())
}

/// Who deleted what in `doc`, from its audit, read-only.
fn stored_deleters(
    data_dir: &std::path::Path,
    doc: &str,
    replica: &yrs::Doc,
) -> anyhow::Result<crate::revisions::Deleters> {
    let records = crate::storage::sqlite::read_stored_audit(data_dir, doc)?;
    let amendments = concord_protocol::schema::amendments(&yrs::Transact::transact(replica));
    Ok(crate::revisions::Deleters::new(&records, &amendments))
}

/// `concord compare --doc ID --from R1 --to R2`.
async fn compare(args: CompareArgs) -> anyhow::Result<()> {
    use crate::revisions::{compare_sides_with, CompareError, Side};
    let (state, owners) = crate::document::offline::read(&args.data_dir, &args.doc).await?;
    let doc = crate::revisions::replica(&state)
        .ok_or_else(|| anyhow::anyhow!("{}: stored state does not decode", args.doc))?;
    let deleters = stored_deleters(&args.data_dir, &args.doc, &doc)?;
    let answer = compare_sides_with(
        &doc,
        &owners,
        &deleters,
        &Side::parse(&args.from),
        &Side::parse(&args.to),
    )
    .map_err(|CompareError::UnknownRevision(id)| {
        anyhow::anyhow!("{}: no published revision {id}", args.doc)
    })?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&answer)?);
    } else {
        print!("{}", crate::revisions::redline_text(&answer));
    }
    Ok(())
}

/// `concord export --doc ID --format F [--revision R] [-o FILE]`.
async fn export(args: ExportArgs) -> anyhow::Result<()> {
    use crate::export::{export, Format, Source};
    let format = Format::parse(&args.format).map_err(|e| anyhow::anyhow!("{e}"))?;
    let (state, owners) = crate::document::offline::read(&args.data_dir, &args.doc).await?;
    let doc = crate::revisions::replica(&state)
        .ok_or_else(|| anyhow::anyhow!("{}: stored state does not decode", args.doc))?;
    let now_ms = crate::auth::now_seconds() * 1000;
    let source = Source::read(&doc, &args.doc, args.revision.as_deref(), now_ms)
        .map_err(|e| anyhow::anyhow!("{}: {e}", args.doc))?;
    let exported = match &args.against {
        None => export(&source, format),
        Some(_) if format != Format::Docx => {
            anyhow::bail!("--against makes a redline, which is exported with --format docx")
        }
        Some(against) => {
            use crate::revisions::{compare_sides_with, CompareError, Side};
            let deleters = stored_deleters(&args.data_dir, &args.doc, &doc)?;
            let to = args
                .revision
                .clone()
                .filter(|r| r != "live")
                .map_or(Side::Live, Side::Revision);
            let comparison =
                compare_sides_with(&doc, &owners, &deleters, &Side::parse(against), &to).map_err(
                    |CompareError::UnknownRevision(id)| {
                        anyhow::anyhow!("{}: no published revision {id}", args.doc)
                    },
                )?;
            let deleted_by = source
                .revision
                .as_ref()
                .and_then(|r| source.history.iter().find(|h| h.id == r.id))
                .map_or_else(
                    || "Facilitators".to_string(),
                    |r| r.published_by.mission.clone(),
                );
            crate::export::redline(&source, &comparison, &deleted_by)
        }
    };
    match &args.output {
        Some(path) => {
            std::fs::write(path, &exported.bytes)
                .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
            eprintln!("wrote {} ({} bytes)", path.display(), exported.bytes.len());
        }
        None => {
            use std::io::Write as _;
            std::io::stdout().write_all(&exported.bytes)?;
        }
    }
    Ok(())
}

async fn serve(
    config: Config,
    demo: bool,
    wrap: impl FnOnce(Arc<dyn DocumentLog>) -> Arc<dyn DocumentLog>,
) -> anyhow::Result<()> {
    if demo {
        crate::demo::create(&config.data_dir).await?;
    }
    if !crate::web::page_is_built(config.web_dir.as_deref()) {
        tracing::warn!(
            web_dir = ?config.web_dir,
            "the web page is not built: run scripts/build-web.sh (scripts/run.sh does it), \
             then rebuild"
        );
    }
    let data_dir = config.data_dir.clone();
    let server = Server::start_wrapped(config, wrap).await?;
    // The address line is machine-read by tests and scripts (e.g. with --listen 127.0.0.1:0).
    println!("listening on {}", server.addr());
    if demo {
        crate::demo::print_links(&data_dir, server.addr())?;
    }
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
