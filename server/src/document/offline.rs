//! Writing to a stored document with no server running: `concord import` and the demo. The
//! same document core a room uses writes it, so both credit and claim alike.

use concord_protocol::command::{Command, Outcome};

use super::{Author, DocumentCore};
use crate::storage::{DocumentLog, LogEntry};

/// Applies the `import-text` command to the stored document (no server may have it open) and
/// logs what it wrote with its audit record, through the same document core a room uses.
/// Returns how many paragraphs it made.
pub async fn import_text(
    data_dir: &std::path::Path,
    doc: &str,
    text: String,
) -> anyhow::Result<usize> {
    if crate::http::validate_document_id(doc).is_err() {
        anyhow::bail!("`{doc}` is not a document id (1-128 of A-Z a-z 0-9 - _ .)");
    }
    let log = crate::storage::sqlite::SqliteLog::open(data_dir)?;
    let stored = log.load(doc).await?;
    let mut core = DocumentCore::load(&stored).map_err(|e| anyhow::anyhow!("{doc}: {e}"))?;
    let author = Author {
        role: concord_protocol::Role::Facilitator,
        mission: concord_protocol::policy::SERVER_OWNER,
        person: "concord import",
    };
    let now_ms = crate::auth::now_seconds() * 1000;
    let (outcome, entry) = core.run_command(author, &Command::ImportText { text }, now_ms);
    let paragraphs = match outcome {
        Ok(Outcome::Imported { paragraphs }) => paragraphs,
        Ok(other) => anyhow::bail!("unexpected outcome {other:?}"),
        Err(refused) => {
            log.close().await?;
            anyhow::bail!("{}: {}", refused.code, refused.message)
        }
    };
    append_all(&log, doc, entry).await?;
    log.close().await?;
    Ok(paragraphs)
}

/// Appends `entries` to the log of `doc` in order, each once the one before is durable.
pub async fn append_all(
    log: &impl DocumentLog,
    doc: &str,
    entries: impl IntoIterator<Item = LogEntry>,
) -> anyhow::Result<()> {
    for entry in entries {
        let (tx, rx) = tokio::sync::oneshot::channel();
        log.append(
            doc,
            entry,
            Box::new(move |result| {
                let _ = tx.send(result);
            }),
        );
        rx.await??;
    }
    Ok(())
}

/// A stored document's full state and the owner of every client id, read with no server
/// needed: read-only, so a running server that has it open is not disturbed (this reads what
/// is committed).
pub async fn read(
    data_dir: &std::path::Path,
    doc: &str,
) -> anyhow::Result<(Vec<u8>, Vec<(u64, String)>)> {
    if crate::http::validate_document_id(doc).is_err() {
        anyhow::bail!("`{doc}` is not a document id (1-128 of A-Z a-z 0-9 - _ .)");
    }
    let dir = data_dir.to_path_buf();
    let name = doc.to_string();
    let stored =
        tokio::task::spawn_blocking(move || crate::storage::sqlite::read_stored(&dir, &name))
            .await??;
    if stored.is_new() {
        anyhow::bail!("{doc}: no such document in {}", data_dir.display());
    }
    let core = DocumentCore::load(&stored).map_err(|e| anyhow::anyhow!("{doc}: {e}"))?;
    Ok((core.full_state(), core.owners()))
}
