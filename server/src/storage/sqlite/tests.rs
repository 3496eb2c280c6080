//! The SQLite backend's own tests.

use super::*;
use crate::storage::LogSeq;
use bytes::Bytes;

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "concord-sqlite-{name}-{}-{}",
        std::process::id(),
        fastrand::u64(..)
    ));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

fn entry(update: Bytes) -> LogEntry {
    LogEntry {
        update,
        record: AuditRecord {
            at_ms: 1,
            person: "ana".into(),
            mission: "MEX".into(),
            action: "update".into(),
            ..AuditRecord::default()
        },
    }
}

async fn wait(issue: impl FnOnce(Completion)) -> Result<LogSeq, StorageError> {
    let (tx, rx) = oneshot::channel();
    issue(Box::new(move |r| {
        let _ = tx.send(r);
    }));
    rx.await.expect("completion fires")
}

#[tokio::test]
async fn appends_snapshots_and_loads_in_order() {
    let dir = temp_dir("order");
    let log = SqliteLog::open(&dir).expect("open");
    for i in 0..5u8 {
        wait(|d| log.append("a", entry(Bytes::from(vec![i])), d))
            .await
            .expect("append");
    }
    wait(|d| log.append("b", entry(Bytes::from_static(b"other")), d))
        .await
        .expect("append");
    let loaded = log.load("a").await.expect("load");
    assert_eq!(loaded.snapshot, None);
    assert_eq!(
        loaded.updates,
        vec![vec![0], vec![1], vec![2], vec![3], vec![4]]
    );

    wait(|d| log.snapshot("a", b"state".to_vec(), d))
        .await
        .expect("snapshot");
    wait(|d| log.append("a", entry(Bytes::from_static(b"after")), d))
        .await
        .expect("append");
    let loaded = log.load("a").await.expect("load");
    assert_eq!(loaded.snapshot.as_deref(), Some(&b"state"[..]));
    assert_eq!(loaded.updates, vec![b"after".to_vec()]);
    assert_eq!(
        log.load("b").await.expect("load").updates,
        vec![b"other".to_vec()]
    );
    assert!(log.load("c").await.expect("load").is_new());
    log.close().await.expect("close");

    // Reopening finds everything; work after close is refused, not lost silently.
    let reopened = SqliteLog::open(&dir).expect("reopen");
    assert_eq!(
        reopened.load("a").await.expect("load").updates,
        vec![b"after".to_vec()]
    );
    reopened.close().await.expect("close");
    assert!(matches!(
        wait(|d| reopened.append("a", entry(Bytes::new()), d)).await,
        Err(StorageError::Closed)
    ));
    std::fs::remove_dir_all(dir).ok();
}

/// A snapshot gives the pages of the log it replaced back to the file system: the file does
/// not stay at its largest.
#[tokio::test]
async fn a_snapshot_gives_the_log_it_replaced_back() {
    let dir = temp_dir("vacuum");
    let log = SqliteLog::open(&dir).expect("open");
    for i in 0..400u32 {
        let update = Bytes::from(vec![(i % 251) as u8; 2000]);
        wait(|d| log.append("a", entry(update), d))
            .await
            .expect("append");
    }
    let before = std::fs::metadata(dir.join("concord.db")).map_or(0, |m| m.len());
    wait(|d| log.snapshot("a", b"state".to_vec(), d))
        .await
        .expect("snapshot");
    log.close().await.expect("close");
    let conn = Connection::open(dir.join("concord.db")).expect("open");
    let free: i64 = conn
        .query_row("PRAGMA freelist_count", [], |r| r.get(0))
        .expect("freelist");
    let vacuum: i64 = conn
        .query_row("PRAGMA auto_vacuum", [], |r| r.get(0))
        .expect("auto_vacuum");
    let after = std::fs::metadata(dir.join("concord.db")).map_or(0, |m| m.len());
    assert_eq!(
        vacuum, 2,
        "a new database gives freed pages back incrementally"
    );
    assert_eq!(free, 0, "no free page is kept");
    assert!(
        after < before / 2,
        "{before} bytes before the snapshot, {after} after"
    );
    std::fs::remove_dir_all(dir).ok();
}

/// A database of schema 4 (each record storing its `prev` hash) is brought to schema 5 without
/// that column, and its chain still verifies, before and after.
#[tokio::test]
async fn the_stored_prev_hash_goes_and_the_chain_still_verifies() {
    let dir = temp_dir("prev");
    let log = SqliteLog::open(&dir).expect("open");
    for i in 0..5u8 {
        wait(|d| log.append("a", entry(Bytes::from(vec![i])), d))
            .await
            .expect("append");
    }
    log.close().await.expect("close");
    // As schema 4 had it.
    let conn = Connection::open(dir.join("concord.db")).expect("open");
    conn.execute_batch(
        "ALTER TABLE audit ADD COLUMN prev BLOB NOT NULL DEFAULT x'';
         PRAGMA user_version = 4;",
    )
    .expect("back to schema 4");
    drop(conn);
    assert!(verify_audit(&dir, None).expect("verify").is_intact());
    let log = SqliteLog::open(&dir).expect("migrates");
    log.close().await.expect("close");
    let conn = Connection::open(dir.join("concord.db")).expect("open");
    let columns: Vec<String> = conn
        .prepare("SELECT name FROM pragma_table_info('audit')")
        .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
        .expect("columns");
    assert!(!columns.iter().any(|c| c == "prev"), "{columns:?}");
    let report = verify_audit(&dir, None).expect("verify");
    assert!(report.is_intact(), "{:?}", report.problems);
    assert_eq!(report.records, 5);
    // A record removed in the middle is still found.
    conn.execute("DELETE FROM audit WHERE n = 3", [])
        .expect("delete");
    drop(conn);
    let report = verify_audit(&dir, None).expect("verify");
    assert!(report
        .problems
        .iter()
        .any(|p| p.contains("record 3 is missing")));
    assert!(report
        .problems
        .iter()
        .any(|p| p.contains("record 4 was altered")));
    std::fs::remove_dir_all(dir).ok();
}
