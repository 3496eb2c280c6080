//! The audit trail: every accepted update and command is recorded with who and what, chained
//! by hashes; `concord audit verify` passes on a real history and names a record altered or
//! removed in the database. Attribution reads who wrote and who deleted each run of a body.

use concord_protocol::Role;
use concord_tests::{http_get_with, http_post_json, Client, TestServer};
use std::process::Command as StdCommand;

const BINARY: &str = env!("CARGO_BIN_EXE_concord-under-test");

fn verify(data_dir: &std::path::Path) -> anyhow::Result<(bool, String)> {
    let output = StdCommand::new(BINARY)
        .args(["audit", "verify", "--data-dir"])
        .arg(data_dir)
        .output()?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    Ok((output.status.success(), text))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_audit_attributes_every_run_and_detects_tampering() -> anyhow::Result<()> {
    let server = TestServer::start().await;
    // Co-facilitators from two missions hold the pen together.
    let mex = server.token("ana", "MEX", Role::Facilitator, "gcm");
    let che = server.token("ben", "CHE", Role::Facilitator, "gcm");
    let started = concord_tests::now_ms();
    let (status, _) = http_post_json(
        server.addr,
        "/api/docs/gcm/commands",
        &mex,
        r#"{"type":"import-text","text":"[17] Strengthen cooperation."}"#,
    )
    .await?;
    assert_eq!(status, 200);

    let mut ana = Client::connect(&server.ws_url_with("gcm", &mex)).await?;
    let seq = ana.append(" Mexico proposes more.")?;
    ana.wait_acked(seq).await?;
    let mut ben = Client::connect(&server.ws_url_with("gcm", &che)).await?;
    ben.wait_text(|t| t.ends_with("more.")).await?;
    // Ben deletes Ana's word "more" and types his own.
    let at = "Strengthen cooperation. Mexico proposes "
        .encode_utf16()
        .count() as u32;
    let body = |txn: &yrs::TransactionMut| concord_tests::client::body(txn);
    ben.remove_from(&body, at, 4)?;
    let seq = ben.insert_into(&body, at, "less")?;
    ben.wait_acked(seq).await?;
    assert_eq!(ben.text(), "Strengthen cooperation. Mexico proposes less.");

    let path = format!("/api/docs/gcm/paragraphs/p1/attribution?since={started}");
    let (status, answer) = http_get_with(
        server.addr,
        &path,
        &[&format!("Authorization: Bearer {mex}")],
    )
    .await?;
    assert_eq!(status, 200, "{answer}");
    let answer: serde_json::Value = serde_json::from_str(&answer)?;
    assert_eq!(
        answer["text"],
        "Strengthen cooperation. Mexico proposes less."
    );
    let runs: Vec<(String, serde_json::Value, bool)> = answer["runs"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| {
            (
                r["text"].as_str().unwrap_or_default().to_string(),
                r["mission"].clone(),
                r["by_server"].as_bool().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        runs,
        vec![
            (
                "Strengthen cooperation.".into(),
                serde_json::Value::Null,
                true
            ),
            (" Mexico proposes ".into(), "MEX".into(), false),
            ("less".into(), "CHE".into(), false),
            (".".into(), "MEX".into(), false),
        ]
    );
    let deletions = answer["deletions"].as_array().cloned().unwrap_or_default();
    assert_eq!(deletions.len(), 1, "{deletions:?}");
    assert_eq!(deletions[0]["text"], "more");
    assert_eq!(deletions[0]["written_by"], "MEX");
    assert_eq!(deletions[0]["deleted_by"], "CHE");
    assert_eq!(deletions[0]["person"], "ben");
    // Unknown paragraphs are a 404 with a code.
    let (status, answer) = http_get_with(
        server.addr,
        "/api/docs/gcm/paragraphs/p99/attribution",
        &[&format!("Authorization: Bearer {mex}")],
    )
    .await?;
    assert_eq!(status, 404);
    assert!(answer.contains("unknown-paragraph"));

    let data = server.data.clone();
    server.stop().await;
    let (intact, report) = verify(data.path())?;
    assert!(intact, "{report}");
    assert!(
        report.contains("audit intact: 3 record(s) in 1 document(s)"),
        "{report}"
    );

    // Each record says who did what; Ben's deletion and his word are one run of two updates.
    let db_path = data.path().join("concord.db");
    let db = rusqlite::Connection::open(&db_path)?;
    let actions: Vec<(String, String, String, i64)> = db
        .prepare(
            "SELECT action, mission, paragraphs, updates FROM audit WHERE doc = 'gcm' ORDER BY n",
        )?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
        .collect::<Result<_, _>>()?;
    assert_eq!(
        actions,
        vec![
            ("import-text".into(), "MEX".into(), r#"["p1"]"#.into(), 1),
            ("update".into(), "MEX".into(), r#"["p1"]"#.into(), 1),
            ("update".into(), "CHE".into(), r#"["p1"]"#.into(), 2),
        ]
    );
    drop(db);
    let pristine = std::fs::read(&db_path)?;

    // A record altered in the database.
    let db = rusqlite::Connection::open(&db_path)?;
    db.execute(
        "UPDATE audit SET mission = 'MEX' WHERE doc = 'gcm' AND n = 3",
        [],
    )?;
    drop(db);
    let (intact, report) = verify(data.path())?;
    assert!(!intact);
    assert!(report.contains("gcm: record 3 was altered"), "{report}");

    // A record removed.
    std::fs::write(&db_path, &pristine)?;
    let db = rusqlite::Connection::open(&db_path)?;
    db.execute("DELETE FROM audit WHERE doc = 'gcm' AND n = 2", [])?;
    drop(db);
    let (intact, report) = verify(data.path())?;
    assert!(!intact);
    assert!(report.contains("gcm: record 2 is missing"), "{report}");

    // The last record removed: the head says the chain was longer.
    std::fs::write(&db_path, &pristine)?;
    let db = rusqlite::Connection::open(&db_path)?;
    db.execute("DELETE FROM audit WHERE doc = 'gcm' AND n = 3", [])?;
    drop(db);
    let (intact, report) = verify(data.path())?;
    assert!(!intact);
    assert!(
        report.contains("ends at record 2 but its head says 3"),
        "{report}"
    );
    Ok(())
}
