//! Acknowledged means durable: SIGKILL at random moments loses nothing that was acked; a
//! restart from snapshot + log reproduces the document exactly.

use std::collections::BTreeSet;
use std::time::Duration;

use concord_tests::{Client, ProcessServer, TempDir, TestServer};

const BINARY: &str = env!("CARGO_BIN_EXE_concord-under-test");
const KILL_POINTS: usize = 24;
const WRITERS: usize = 3;
/// Updates per writer per round at most, so the document stays a realistic size.
const MAX_PER_ROUND: u64 = 400;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_at_random_moments_loses_no_acknowledged_update() -> anyhow::Result<()> {
    let seed = fastrand::u64(..);
    println!("durability seed {seed}");
    let mut rng = fastrand::Rng::with_seed(seed);
    let data = TempDir::new("kill");
    // Frequent snapshots, so that kills also land during compaction.
    let options = ["--snapshot-every", "25"];
    let mut acked: BTreeSet<String> = BTreeSet::new();

    for round in 0..KILL_POINTS {
        let server = ProcessServer::start(BINARY, data.path(), &options).await?;
        let url = server.draft("kill").await?;

        // Everything acknowledged in earlier lives is here.
        let check = Client::connect(&url).await?;
        let text = check.text();
        let missing: Vec<_> = acked
            .iter()
            .filter(|t| !text.contains(t.as_str()))
            .collect();
        assert!(
            missing.is_empty(),
            "round {round}: lost acknowledged updates {missing:?}"
        );
        check.close();

        let mut writers = Vec::new();
        for w in 0..WRITERS {
            writers.push(Client::connect(&url).await?);
            let _ = w;
        }
        // Odd rounds: a paced stream, killed at a random moment. Even rounds: a burst, killed
        // at a random moment while the server is still working through it.
        let burst = round % 2 == 0;
        let window = if burst { 0..25 } else { 30..300 };
        let deadline = tokio::time::Instant::now() + Duration::from_millis(rng.u64(window));
        // Per writer: (sequence number, token) of every update it sent.
        let mut tokens: Vec<Vec<(u64, String)>> = vec![Vec::new(); WRITERS];
        let mut n = 0u64;
        while (burst || tokio::time::Instant::now() < deadline) && n < MAX_PER_ROUND {
            for (w, writer) in writers.iter_mut().enumerate() {
                let token = format!("<{round}.{w}.{n}>");
                let seq = writer.append(&token)?;
                tokens[w].push((seq, token));
            }
            n += 1;
            if !burst {
                // Pacing, not synchronisation: a steady stream for the kill to land in.
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        }
        tokio::time::sleep_until(deadline).await;
        server.kill().await;

        // What each writer saw acknowledged before the kill: every update numbered up to its
        // last `Ack`.
        let mut acked_this_round = 0;
        for (w, writer) in writers.iter().enumerate() {
            let ack = writer.seen().acked;
            assert!(ack <= writer.sent());
            for (seq, token) in &tokens[w] {
                if *seq <= ack {
                    acked.insert(token.clone());
                    acked_this_round += 1;
                }
            }
        }
        println!(
            "round {round}: {} written, {acked_this_round} acknowledged",
            n * WRITERS as u64
        );
    }
    assert!(
        !acked.is_empty(),
        "some updates must have been acknowledged"
    );

    let server = ProcessServer::start(BINARY, data.path(), &options).await?;
    let check = Client::connect(&server.ws_url("kill")).await?;
    let text = check.text();
    let missing: Vec<_> = acked
        .iter()
        .filter(|t| !text.contains(t.as_str()))
        .collect();
    assert!(missing.is_empty(), "lost acknowledged updates {missing:?}");
    server.kill().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_from_snapshot_and_log_reproduces_the_document_exactly() -> anyhow::Result<()> {
    let server = TestServer::start_with(|c| c.snapshot_every = 10).await;
    let url = server.draft("exact").await?;
    let mut ana = Client::connect(&url).await?;
    let mut last = 0;
    for i in 0..94 {
        last = ana.insert(0, &format!("{i},"))?;
        if i % 7 == 0 {
            // Deletions too: they must survive as tombstones.
            last = ana.remove_from(&|txn| concord_tests::client::body(txn), 0, 1)?;
        }
    }
    ana.wait_acked(last).await?;
    let before = Client::connect(&url).await?;
    let (text, sv, state) = (
        before.text(),
        before.state_vector(),
        before.with_doc(concord_tests::client::full_state),
    );
    assert_eq!(text, ana.text());

    // The log was compacted: a snapshot plus fewer than `snapshot_every` updates after it.
    let db = rusqlite::Connection::open(server.data.path().join("concord.db"))?;
    let logged: i64 = db.query_row(
        "SELECT count(*) FROM updates WHERE doc = 'exact'",
        [],
        |r| r.get(0),
    )?;
    let snapshots: i64 = db.query_row(
        "SELECT count(*) FROM snapshots WHERE doc = 'exact'",
        [],
        |r| r.get(0),
    )?;
    assert_eq!(snapshots, 1);
    assert!(logged < 10, "{logged} updates left after the snapshot");
    assert!(
        logged > 0,
        "the load exercises snapshot + log, not the snapshot alone"
    );
    drop(db);

    let server = server.restart().await;
    let after = Client::connect(&server.ws_url("exact")).await?;
    assert_eq!(after.text(), text);
    assert_eq!(after.state_vector(), sv);
    // Same content, deletions included: each replica holds exactly what the other holds.
    let after_state = after.with_doc(concord_tests::client::full_state);
    assert_eq!(replica_of(&after_state), replica_of(&state));
    server.stop().await;
    Ok(())
}

/// A canonical form of a replica: its state vector, text, and delete set encoding.
fn replica_of(update: &[u8]) -> (String, Vec<u8>) {
    use yrs::updates::decoder::Decode;
    use yrs::updates::encoder::Encode;
    use yrs::{GetString, ReadTxn, Transact};
    let doc = yrs::Doc::new();
    let decoded = yrs::Update::decode_v1(update).expect("decodes");
    doc.transact_mut().apply_update(decoded).expect("applies");
    let txn = doc.transact();
    let text = concord_tests::client::body(&txn).expect("drafted");
    (text.get_string(&txn), txn.snapshot().encode_v1())
}
