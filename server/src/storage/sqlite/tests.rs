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
    typed_by("MEX", 1, update)
}

/// A typed update of `mission`'s delegate, accepted at `at_ms`.
fn typed_by(mission: &str, at_ms: u64, update: Bytes) -> LogEntry {
    LogEntry {
        update,
        record: AuditRecord {
            at_ms,
            person: format!("{mission}-delegate"),
            mission: mission.into(),
            action: "update".into(),
            paragraphs: vec![format!("p{at_ms}")],
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
    // Two missions taking turns: one record per update (schema 4 had no runs).
    for i in 0..5u8 {
        let mission = ["MEX", "CHE"][usize::from(i % 2)];
        wait(|d| log.append("a", typed_by(mission, 1, Bytes::from(vec![i])), d))
            .await
            .expect("append");
    }
    log.close().await.expect("close");
    // As schema 4 had it.
    let conn = Connection::open(dir.join("concord.db")).expect("open");
    conn.execute_batch(
        "ALTER TABLE audit DROP COLUMN until_ms;
         ALTER TABLE audit DROP COLUMN updates;
         ALTER TABLE audit ADD COLUMN prev BLOB NOT NULL DEFAULT x'';
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

/// MEX's delegate types into document `a` at each of `times`, update bytes `[byte]`.
async fn type_in(log: &SqliteLog, times: &[u64], byte: u8) {
    for &at_ms in times {
        wait(|d| log.append("a", typed_by("MEX", at_ms, Bytes::from(vec![byte])), d))
            .await
            .expect("append");
    }
}

fn runs(dir: &Path) -> Vec<(i64, String, Option<i64>, i64, String)> {
    let conn = Connection::open(dir.join("concord.db")).expect("open");
    conn.prepare("SELECT n, mission, until_ms, updates, paragraphs FROM audit ORDER BY n")
        .and_then(|mut s| {
            s.query_map([], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
            })?
            .collect()
        })
        .expect("records")
}

/// A writer's consecutive keystrokes are one record, extended as each is stored; another
/// writer, a command or a pause starts the next. Every update stays in the log, and the chain
/// verifies.
#[tokio::test]
async fn a_writers_consecutive_updates_are_one_record_and_still_chained() {
    let dir = temp_dir("runs");
    let log = SqliteLog::open(&dir).expect("open");
    let appends = [
        ("MEX", 1_000),
        ("MEX", 1_100),
        ("MEX", 1_200),
        ("CHE", 1_300),
        ("MEX", 1_400),
        ("MEX", 1_400 + crate::audit::RUN_GAP_MS + 1),
    ];
    for (i, (mission, at_ms)) in appends.into_iter().enumerate() {
        let update = Bytes::from(vec![i as u8]);
        wait(|d| log.append("a", typed_by(mission, at_ms, update), d))
            .await
            .expect("append");
    }
    let mut command = typed_by("MEX", 9_000, Bytes::from_static(b"lock"));
    command.record.action = "lock".into();
    wait(|d| log.append("a", command, d)).await.expect("append");
    wait(|d| log.append("a", typed_by("MEX", 9_001, Bytes::from_static(b"x")), d))
        .await
        .expect("append");
    assert_eq!(log.load("a").await.expect("load").updates.len(), 8);
    let pages = log
        .audit_page(
            "a",
            &crate::storage::AuditQuery {
                since_ms: 1_150,
                limit: 100,
                ..Default::default()
            },
        )
        .await
        .expect("audit");
    log.close().await.expect("close");

    assert_eq!(
        runs(&dir),
        vec![
            (
                1,
                "MEX".into(),
                Some(1_200),
                3,
                r#"["p1000","p1100","p1200"]"#.into()
            ),
            (2, "CHE".into(), None, 1, r#"["p1300"]"#.into()),
            (3, "MEX".into(), None, 1, r#"["p1400"]"#.into()),
            (4, "MEX".into(), None, 1, r#"["p6401"]"#.into()),
            (5, "MEX".into(), None, 1, r#"["p9000"]"#.into()),
            (6, "MEX".into(), None, 1, r#"["p9001"]"#.into()),
        ]
    );
    // The run began before `since` but reaches into it.
    assert_eq!(
        pages.first().map(|(n, r)| (*n, r.updates, r.until_ms)),
        Some((1, 3, 1_200))
    );
    let report = verify_audit(&dir, None).expect("verify");
    assert!(report.is_intact(), "{:?}", report.problems);
    assert_eq!(report.records, 6);

    // A run passed off as fewer updates, or given to another mission, is seen.
    for tamper in [
        "UPDATE audit SET updates = 2 WHERE n = 1",
        "UPDATE audit SET until_ms = NULL, updates = 1 WHERE n = 1",
        "UPDATE audit SET mission = 'CHE' WHERE n = 1",
        "UPDATE audit SET paragraphs = '[\"p1000\"]' WHERE n = 1",
    ] {
        let pristine = std::fs::read(dir.join("concord.db")).expect("read");
        let conn = Connection::open(dir.join("concord.db")).expect("open");
        conn.execute(tamper, []).expect("tamper");
        drop(conn);
        let report = verify_audit(&dir, None).expect("verify");
        assert!(
            report
                .problems
                .iter()
                .any(|p| p.contains("record 1 was altered")),
            "{tamper}: {:?}",
            report.problems
        );
        std::fs::write(dir.join("concord.db"), pristine).expect("restore");
    }
    std::fs::remove_dir_all(dir).ok();
}

/// The run open when the server stopped is not extended by the next server: its next update
/// starts a record of its own, and the chain verifies.
#[tokio::test]
async fn a_restart_closes_the_open_run() {
    let dir = temp_dir("restart-run");
    let log = SqliteLog::open(&dir).expect("open");
    type_in(&log, &[1_000, 1_001], 1).await;
    log.close().await.expect("close");
    let log = SqliteLog::open(&dir).expect("reopen");
    type_in(&log, &[1_002, 1_003], 2).await;
    log.close().await.expect("close");
    let counts: Vec<(i64, i64)> = runs(&dir).into_iter().map(|r| (r.0, r.3)).collect();
    assert_eq!(counts, vec![(1, 2), (2, 2)]);
    assert!(verify_audit(&dir, None).expect("verify").is_intact());
    std::fs::remove_dir_all(dir).ok();
}

/// Another process on the same file extends the chain while this writer holds a run open:
/// the writer's next keystroke fails (and the document must be reloaded) rather than rewrite
/// a record that is no longer the last, which would break the chain.
#[tokio::test]
async fn a_run_extended_elsewhere_is_a_failed_write_not_a_broken_chain() {
    let dir = temp_dir("two-writers");
    let server = SqliteLog::open(&dir).expect("open");
    wait(|d| server.append("a", typed_by("MEX", 1_000, Bytes::from_static(b"1")), d))
        .await
        .expect("append");
    let other = SqliteLog::open(&dir).expect("second process");
    wait(|d| other.append("a", typed_by("CHE", 1_001, Bytes::from_static(b"2")), d))
        .await
        .expect("append elsewhere");
    other.close().await.expect("close");
    let joined =
        wait(|d| server.append("a", typed_by("MEX", 1_002, Bytes::from_static(b"3")), d)).await;
    assert!(
        matches!(&joined, Err(StorageError::Backend(e)) if e.contains("extended elsewhere")),
        "{joined:?}"
    );
    server.close().await.expect("close");
    let report = verify_audit(&dir, None).expect("verify");
    assert!(report.is_intact(), "{:?}", report.problems);
    assert_eq!(report.records, 2);
    std::fs::remove_dir_all(dir).ok();
}

/// A commit that fails in the middle of a run leaves nothing cached ahead of the file: once
/// the document is loaded again, the next update starts a record of its own after what was
/// committed, and the chain verifies.
#[tokio::test]
async fn a_failed_commit_in_a_run_leaves_the_chain_whole() {
    let dir = temp_dir("run-fails");
    let log = SqliteLog::open(&dir).expect("open");
    type_in(&log, &[1_000, 1_001], 1).await;
    let conn = Connection::open(dir.join("concord.db")).expect("open");
    conn.execute_batch(
        "CREATE TRIGGER refuse BEFORE UPDATE ON audit WHEN NEW.updates = 3
         BEGIN SELECT RAISE(ABORT, 'the disk says no'); END;",
    )
    .expect("trigger");
    let failed = wait(|d| log.append("a", typed_by("MEX", 1_002, Bytes::from(vec![2])), d)).await;
    assert!(failed.is_err(), "{failed:?}");
    let refused = wait(|d| log.append("a", typed_by("MEX", 1_003, Bytes::from(vec![3])), d)).await;
    assert!(
        refused.is_err(),
        "later writes wait for a reload: {refused:?}"
    );
    conn.execute_batch("DROP TRIGGER refuse;").expect("drop");
    drop(conn);
    let reloaded = log.load("a").await.expect("load");
    assert_eq!(
        reloaded.updates,
        vec![vec![1], vec![1]],
        "what failed is not stored"
    );
    wait(|d| log.append("a", typed_by("MEX", 1_004, Bytes::from(vec![4])), d))
        .await
        .expect("append after reload");
    log.close().await.expect("close");
    let counts: Vec<(i64, i64)> = runs(&dir).into_iter().map(|r| (r.0, r.3)).collect();
    assert_eq!(counts, vec![(1, 2), (2, 1)]);
    let report = verify_audit(&dir, None).expect("verify");
    assert!(report.is_intact(), "{:?}", report.problems);
    std::fs::remove_dir_all(dir).ok();
}

/// The command-line readers read the audit of a database an older server still has at
/// schema 5 (no runs yet): every record is one update.
#[tokio::test]
async fn the_audit_of_an_unmigrated_database_reads_as_single_updates() {
    let dir = temp_dir("schema5");
    let log = SqliteLog::open(&dir).expect("open");
    for (i, mission) in ["MEX", "CHE"].into_iter().enumerate() {
        wait(|d| {
            log.append(
                "a",
                typed_by(mission, 1_000 + i as u64, Bytes::from(vec![1])),
                d,
            )
        })
        .await
        .expect("append");
    }
    log.close().await.expect("close");
    let conn = Connection::open(dir.join("concord.db")).expect("open");
    conn.execute_batch(
        "ALTER TABLE audit DROP COLUMN until_ms;
         ALTER TABLE audit DROP COLUMN updates;
         PRAGMA user_version = 5;",
    )
    .expect("back to schema 5");
    drop(conn);
    let records = read_stored_audit(&dir, "a").expect("read");
    let read: Vec<(String, u32, u64)> = records
        .iter()
        .map(|r| (r.mission.clone(), r.updates, r.until_ms))
        .collect();
    assert_eq!(
        read,
        vec![("MEX".into(), 1, 1_000), ("CHE".into(), 1, 1_001)]
    );
    assert!(verify_audit(&dir, None).expect("verify").is_intact());
    std::fs::remove_dir_all(dir).ok();
}
