//! Several nodes over one real Redis (`concord serve --redis`): convergence across nodes, the
//! update policy decided once for all of them, and what survives a node or Redis dying.

use std::time::Instant;

use concord_protocol::Role;
use concord_tests::client::amendment_text;
use concord_tests::cluster::Cluster;
use concord_tests::{http_get_with, http_post_json, Client};

const BIN: &str = env!("CARGO_BIN_EXE_concord-under-test");
const DOC: &str = "gcm";

async fn command(
    cluster: &Cluster,
    node: usize,
    token: &str,
    body: &str,
) -> anyhow::Result<String> {
    let path = format!("/api/docs/{DOC}/commands");
    let (status, answer) = http_post_json(cluster.node(node).addr, &path, token, body).await?;
    anyhow::ensure!(
        status == 200,
        "{body} answered {status} {answer} on node {node}"
    );
    Ok(answer)
}

/// Paragraph 1's body as node `node` serves it.
async fn body_on(cluster: &Cluster, node: usize, token: &str) -> anyhow::Result<String> {
    let auth = format!("Authorization: Bearer {token}");
    let path = format!("/api/docs/{DOC}/paragraphs/p1");
    let (status, answer) = http_get_with(cluster.node(node).addr, &path, &[&auth]).await?;
    anyhow::ensure!(status == 200, "paragraph read answered {status} {answer}");
    let read: serde_json::Value = serde_json::from_str(&answer)?;
    Ok(read["paragraph"]["body"]
        .as_str()
        .unwrap_or_default()
        .to_string())
}

/// A chunk of typing that occurs once in any text (`<w1c12>` is no part of `<w1c1>`).
fn chunk(writer: usize, n: usize) -> String {
    format!("<w{writer}c{n}>")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_nodes_converge_and_a_lock_made_on_one_refuses_the_next_edit_on_another(
) -> anyhow::Result<()> {
    let cluster = Cluster::start(BIN, 3).await?;
    let chair = cluster.token("chair", "UN", Role::Facilitator).await?;
    let mex = cluster.token("ana", "MEX", Role::Delegation).await?;
    command(
        &cluster,
        0,
        &chair,
        r#"{"type":"import-text","text":"[1] Text.\n[2] Other."}"#,
    )
    .await?;
    // Commands through another node go to the owner too.
    command(
        &cluster,
        1,
        &mex,
        r#"{"type":"create-amendment","paragraph":"p2"}"#,
    )
    .await?;

    let mut writers = Vec::new();
    for node in 0..3 {
        writers.push(Client::connect(&cluster.ws_url(node, DOC, &chair)).await?);
    }
    let mut last = [0u64; 3];
    for n in 0..20 {
        for (w, writer) in writers.iter_mut().enumerate() {
            last[w] = writer.append(&chunk(w, n))?;
        }
    }
    for (w, writer) in writers.iter().enumerate() {
        writer.wait_acked(last[w]).await?;
    }
    let everything: Vec<String> = (0..3)
        .flat_map(|w| (0..20).map(move |n| chunk(w, n)))
        .collect();
    for writer in &writers {
        writer
            .wait_text(|text| everything.iter().all(|c| text.contains(c.as_str())))
            .await?;
    }
    let text = writers[0].text();
    for writer in &writers[1..] {
        assert_eq!(
            writer.text(),
            text,
            "every node's clients hold the same text"
        );
    }
    for node in 0..3 {
        assert_eq!(
            body_on(&cluster, node, &chair).await?,
            text,
            "node {node} serves it"
        );
    }
    // Operators see it: the owner's lease and round trips, the others' forwarding.
    let (_, owner) = concord_tests::http_get(cluster.node(0).addr, "/metrics").await?;
    assert!(owner.contains("concord_leases_taken_total 1"), "{owner}");
    assert!(
        !owner.contains("concord_redis_round_trip_seconds_count 0"),
        "{owner}"
    );
    let (_, other) = concord_tests::http_get(cluster.node(2).addr, "/metrics").await?;
    assert!(
        other.contains(r#"concord_forwarded_total{kind="socket"} 1"#),
        "{other}"
    );

    // A lock made through node A; the delegation's next edit arrives at node C.
    let mut ana = Client::connect(&cluster.ws_url(2, DOC, &mex)).await?;
    command(
        &cluster,
        0,
        &chair,
        r#"{"type":"lock","paragraph":"p2","reason":"agreed ad ref"}"#,
    )
    .await?;
    ana.append_to(&amendment_text("a1"), " late words")?;
    let close = ana.wait_closed().await?;
    assert_eq!(close.map(|c| c.0), Some(4403));
    let seen = ana.seen();
    assert_eq!(seen.rejections.len(), 1, "one Rejected");
    assert_eq!(seen.rejections[0].rule, "paragraph-locked");
    assert_eq!(seen.rejections[0].paragraph.as_deref(), Some("p2"));
    Ok(())
}

/// Types `count` chunks as writer `w`; returns each chunk with the update that carried it.
fn type_chunks(client: &mut Client, w: usize, from: usize, count: usize) -> Vec<(String, u64)> {
    (from..from + count)
        .filter_map(|n| {
            let text = chunk(w, n);
            client.append(&text).ok().map(|seq| (text, seq))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_owner_killed_mid_typing_another_node_takes_over_and_nothing_acknowledged_is_lost(
) -> anyhow::Result<()> {
    let mut cluster = Cluster::start(BIN, 3).await?;
    let chair = cluster.token("chair", "UN", Role::Facilitator).await?;
    // Node 0 takes the document.
    command(
        &cluster,
        0,
        &chair,
        r#"{"type":"import-text","text":"[1] Start."}"#,
    )
    .await?;
    let mut writers = Vec::new();
    for node in 0..3 {
        writers.push(Client::connect(&cluster.ws_url(node, DOC, &chair)).await?);
    }
    let mut typed: Vec<Vec<(String, u64)>> = vec![Vec::new(); 3];
    for (w, writer) in writers.iter_mut().enumerate() {
        typed[w].extend(type_chunks(writer, w, 0, 10));
    }
    for (w, writer) in writers.iter().enumerate() {
        writer
            .wait_acked(typed[w].last().map_or(0, |c| c.1))
            .await?;
    }
    // More typing, and the owner dies in the middle of it.
    for (w, writer) in writers.iter_mut().enumerate() {
        typed[w].extend(type_chunks(writer, w, 10, 10));
    }
    let owner = cluster.take_node(0);
    let killed = Instant::now();
    owner.kill().await;
    for writer in &writers {
        writer
            .wait_until("the connection ended", |seen, _| {
                seen.close.is_some() || seen.ended
            })
            .await?;
    }
    let acknowledged: Vec<String> = writers
        .iter()
        .zip(&typed)
        .flat_map(|(writer, chunks)| {
            let acked = writer.seen().acked;
            chunks
                .iter()
                .filter(move |(_, seq)| *seq <= acked)
                .map(|(text, _)| text.clone())
                .collect::<Vec<_>>()
        })
        .collect();

    // Clients reconnect to the nodes still up; one of them takes the document over.
    let mut again = Client::connect(&cluster.ws_url(1, DOC, &chair)).await?;
    let seq = again.append("<after>")?;
    again.wait_acked(seq).await?;
    let failover = killed.elapsed();
    let other = Client::connect(&cluster.ws_url(2, DOC, &chair)).await?;
    other.wait_text(|text| text.contains("<after>")).await?;
    let text = again.text();
    for chunk in &acknowledged {
        assert_eq!(
            text.matches(chunk.as_str()).count(),
            1,
            "{chunk} acknowledged, kept once"
        );
    }
    for chunk in typed.iter().flatten().map(|(text, _)| text) {
        assert!(
            text.matches(chunk.as_str()).count() <= 1,
            "{chunk} applied twice"
        );
    }
    assert_eq!(other.text(), text, "the nodes still up agree");
    println!(
        "failover: {} ms from SIGKILL to the first accepted edit ({} acknowledged chunks kept)",
        failover.as_millis(),
        acknowledged.len()
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_owner_paused_past_its_lease_cannot_append_when_it_resumes() -> anyhow::Result<()> {
    let cluster = Cluster::start(BIN, 3).await?;
    let chair = cluster.token("chair", "UN", Role::Facilitator).await?;
    command(
        &cluster,
        0,
        &chair,
        r#"{"type":"import-text","text":"[1] Start."}"#,
    )
    .await?;
    let mut typist = Client::connect(&cluster.ws_url(1, DOC, &chair)).await?;
    let seq = typist.append("<before>")?;
    typist.wait_acked(seq).await?;

    cluster.node(0).signal("STOP")?;
    // Forwarded to the paused owner, which cannot answer.
    let late = typist.append("<while-paused>")?;
    // Another node takes the document once the lease ran out, and accepts edits.
    let mut successor = Client::connect(&cluster.ws_url(2, DOC, &chair)).await?;
    let seq = successor.append("<new-owner>")?;
    successor.wait_acked(seq).await?;

    // The old owner resumes: what it took while paused can no longer be appended.
    cluster.node(0).signal("CONT")?;
    typist
        .wait_until("the paused owner's connection ended", |seen, _| {
            seen.close.is_some() || seen.ended
        })
        .await?;
    assert!(
        typist.seen().acked < late,
        "nothing the paused owner took was acknowledged"
    );
    // Every node serves the same text, and the late edit is in none.
    let expected = body_on(&cluster, 2, &chair).await?;
    assert!(expected.contains("<before>") && expected.contains("<new-owner>"));
    assert!(!expected.contains("<while-paused>"));
    // A node that was paused asks Redis before serving anything from its old lease.
    for node in 0..3 {
        assert_eq!(
            body_on(&cluster, node, &chair).await?,
            expected,
            "node {node} agrees"
        );
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_killed_and_restarted_from_its_append_only_file_loses_nothing_acknowledged(
) -> anyhow::Result<()> {
    let mut cluster = Cluster::start(BIN, 2).await?;
    let chair = cluster.token("chair", "UN", Role::Facilitator).await?;
    command(
        &cluster,
        0,
        &chair,
        r#"{"type":"import-text","text":"[1] Start."}"#,
    )
    .await?;
    let mut writers = Vec::new();
    for node in 0..2 {
        writers.push(Client::connect(&cluster.ws_url(node, DOC, &chair)).await?);
    }
    let mut acknowledged = Vec::new();
    for (w, writer) in writers.iter_mut().enumerate() {
        let chunks = type_chunks(writer, w, 0, 15);
        writer.wait_acked(chunks.last().map_or(0, |c| c.1)).await?;
        acknowledged.extend(chunks.into_iter().map(|(text, _)| text));
    }
    cluster.redis.kill().await;
    // Not ready while Redis is away (alive all the same).
    let (ready, _) = concord_tests::http_get(cluster.node(0).addr, "/readyz").await?;
    assert_eq!(ready, 503, "/readyz while Redis is down");
    let (healthy, _) = concord_tests::http_get(cluster.node(0).addr, "/healthz").await?;
    assert_eq!(healthy, 200, "/healthz while Redis is down");
    cluster.redis.restart().await?;
    // The nodes recover by themselves: a new client on either is served again.
    let mut back = connect_when_served(&cluster, 1, &chair).await?;
    let seq = back.append("<after-restart>")?;
    back.wait_acked(seq).await?;
    let text = back.text();
    for chunk in &acknowledged {
        assert_eq!(
            text.matches(chunk.as_str()).count(),
            1,
            "{chunk} acknowledged, kept once"
        );
    }
    let other = connect_when_served(&cluster, 0, &chair).await?;
    other.wait_text(|t| t.contains("<after-restart>")).await?;
    assert_eq!(other.text(), text);
    Ok(())
}

/// A synced client on node `node`, once the node serves the document again (a node answers 503
/// while Redis is away; each try is itself bounded).
async fn connect_when_served(
    cluster: &Cluster,
    node: usize,
    token: &str,
) -> anyhow::Result<Client> {
    let deadline = Instant::now() + concord_tests::WAIT;
    loop {
        match Client::connect(&cluster.ws_url(node, DOC, token)).await {
            Ok(client) => return Ok(client),
            // As a client would: try again shortly.
            Err(_) if Instant::now() < deadline => {
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
            Err(err) => return Err(err),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_node_serves_everything_and_a_revoke_closes_sessions_on_every_node(
) -> anyhow::Result<()> {
    let mut cluster = Cluster::start(BIN, 2).await?;
    let chair = cluster.token("chair", "UN", Role::Facilitator).await?;
    command(
        &cluster,
        0,
        &chair,
        r#"{"type":"import-text","text":"[1] Start."}"#,
    )
    .await?;
    cluster.take_node(1).kill().await;
    let mut writer = Client::connect(&cluster.ws_url(0, DOC, &chair)).await?;
    let seq = writer.append("<while-node-1-was-away>")?;
    writer.wait_acked(seq).await?;
    cluster.restart_node(1).await?;
    let reader = Client::connect(&cluster.ws_url(1, DOC, &chair)).await?;
    reader
        .wait_text(|t| t.contains("<while-node-1-was-away>"))
        .await?;

    let mex = cluster.token("ana", "MEX", Role::Delegation).await?;
    let on_a = Client::connect(&cluster.ws_url(0, DOC, &mex)).await?;
    let on_b = Client::connect(&cluster.ws_url(1, DOC, &mex)).await?;
    let revoked = std::process::Command::new(BIN)
        .args([
            "revoke",
            "--mission",
            "MEX",
            "--redis",
            &cluster.redis.url(),
        ])
        .output()?;
    assert!(
        revoked.status.success(),
        "{}",
        String::from_utf8_lossy(&revoked.stderr)
    );
    for client in [&on_a, &on_b] {
        let close = client.wait_closed().await?;
        assert_eq!(close.map(|c| c.0), Some(4401), "revoked on every node");
    }
    // The chains verify from Redis.
    let verified = std::process::Command::new(BIN)
        .args(["audit", "verify", "--redis", &cluster.redis.url()])
        .output()?;
    assert!(
        verified.status.success(),
        "{}",
        String::from_utf8_lossy(&verified.stderr)
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_refuses_a_redis_that_acknowledges_before_it_fsyncs() -> anyhow::Result<()> {
    let redis = concord_tests::cluster::Redis::start_with(&["--appendfsync", "everysec"]).await?;
    let dir = concord_tests::TempDir::new("node");
    let started =
        concord_tests::ProcessServer::start(BIN, dir.path(), &["--redis", &redis.url()]).await;
    assert!(
        started.is_err(),
        "a node must not start on appendfsync everysec"
    );
    Ok(())
}

/// An edit a test client makes; returns the update's number.
type Edit = Box<dyn Fn(&mut Client) -> anyhow::Result<u64>>;

/// Hostile updates sent to a node that forwards them are judged by the owner exactly as on
/// one node: the same rule, the same paragraph, nothing stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_updates_through_a_forwarding_node_are_refused_by_the_same_rules(
) -> anyhow::Result<()> {
    let cluster = Cluster::start(BIN, 2).await?;
    let chair = cluster.token("chair", "UN", Role::Facilitator).await?;
    let mex = cluster.token("ana", "MEX", Role::Delegation).await?;
    let che = cluster.token("ben", "CHE", Role::Delegation).await?;
    let observer = cluster.token("olga", "IOM", Role::Observer).await?;
    command(
        &cluster,
        0,
        &chair,
        r#"{"type":"import-text","text":"[1] Body.\n[2] Other."}"#,
    )
    .await?;
    command(
        &cluster,
        0,
        &che,
        r#"{"type":"create-amendment","paragraph":"p2"}"#,
    )
    .await?;
    command(
        &cluster,
        0,
        &mex,
        r#"{"type":"create-amendment","paragraph":"p1"}"#,
    )
    .await?;
    let state = || async {
        let auth = format!("Authorization: Bearer {chair}");
        let path = format!("/api/docs/{DOC}/state");
        concord_tests::http_get_raw(cluster.node(0).addr, &path, &[&auth]).await
    };
    let before = state().await?;

    // Through node 1 (node 0 owns the document).
    let refused = |token: &str| cluster.ws_url(1, DOC, token);
    let cases: Vec<(String, &str, Option<&str>, Edit)> = vec![
        (
            refused(&mex),
            "body-facilitators-only",
            Some("p1"),
            Box::new(|c: &mut Client| c.append(" MEX")),
        ),
        (
            refused(&mex),
            "not-a-sponsor",
            Some("p2"),
            Box::new(|c: &mut Client| c.append_to(&amendment_text("a1"), " MEX")),
        ),
        (
            refused(&observer),
            "observer-read-only",
            None,
            Box::new(|c: &mut Client| c.append(" IOM")),
        ),
    ];
    for (url, rule, paragraph, edit) in cases {
        let mut client = Client::connect(&url).await?;
        edit(&mut client)?;
        let close = client.wait_closed().await?;
        assert_eq!(
            close.map(|c| c.0),
            Some(4403),
            "{rule}: close code through the forwarding node"
        );
        let seen = client.seen();
        assert_eq!(seen.rejections.len(), 1, "{rule}");
        assert_eq!(seen.rejections[0].rule, rule);
        assert_eq!(seen.rejections[0].paragraph.as_deref(), paragraph, "{rule}");
    }
    assert_eq!(state().await?, before, "nothing refused was stored");

    // Another mission's client id, through the forwarding node: CHE's writer types on node 0,
    // MEX re-uses its id on node 1.
    let mut ben = Client::connect(&cluster.ws_url(0, DOC, &che)).await?;
    let seq = ben.append_to(&amendment_text("a1"), " CHE")?;
    ben.wait_acked(seq).await?;
    let stolen = ben.with_doc(|doc| doc.client_id());
    let forged = {
        use yrs::updates::decoder::Decode;
        use yrs::Transact;
        let doc = yrs::Doc::with_client_id(stolen.get());
        let theirs = ben.with_doc(concord_tests::client::full_state);
        doc.transact_mut()
            .apply_update(yrs::Update::decode_v1(&theirs)?)?;
        let mut txn = doc.transact_mut();
        // MEX's own amendment, written under CHE's client id.
        let text = concord_protocol::schema::amendment_text(&txn, "a2")
            .ok_or_else(|| anyhow::anyhow!("no a2"))?;
        yrs::Text::push(&text, &mut txn, " forged");
        txn.encode_update_v1()
    };
    let mut ana = Client::connect(&cluster.ws_url(1, DOC, &mex)).await?;
    ana.send_update(&forged)?;
    let close = ana.wait_closed().await?;
    assert_eq!(close.map(|c| c.0), Some(4403));
    assert_eq!(
        ana.seen().rejections[0].rule,
        "client-id-of-another-mission"
    );
    Ok(())
}

/// What forwarding must not get wrong: a document larger than the nodes' frame limit syncs
/// through a forwarding node (the limit bounds what clients send, not what the owner sends);
/// a percent-encoded document id reaches the same document's owner; a request without a valid
/// token takes no lease.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forwarding_carries_large_documents_decoded_ids_and_only_authenticated_requests(
) -> anyhow::Result<()> {
    use redis::AsyncCommands;
    let cluster = Cluster::start_with(BIN, 2, &["--max-frame-bytes", "16384"]).await?;
    let cluster_token = cluster.token("chair", "UN", Role::Facilitator).await?;
    let chair = &cluster_token;
    let path = format!("/api/docs/{DOC}/commands");
    let (status, body) = http_post_json(
        cluster.node(0).addr,
        &path,
        chair,
        r#"{"type":"import-text","text":"[1] Start."}"#,
    )
    .await?;
    assert_eq!(status, 200, "{body}");
    // About 48 KB of text, typed in 1 KB frames on the owner.
    let mut typist = Client::connect(&cluster.ws_url(0, DOC, chair)).await?;
    let mut last = 0;
    for n in 0..48 {
        last = typist.append(&format!("<{n}>{}", "x".repeat(1000)))?;
    }
    typist.wait_acked(last).await?;
    let reader = Client::connect(&cluster.ws_url(1, DOC, chair)).await?;
    assert_eq!(
        reader.text(),
        typist.text(),
        "the whole document through node 1"
    );

    // `gc%6D` is `gcm`: forwarded to its owner, not served (or refused) here.
    let encoded = "/api/docs/gc%6D/commands";
    let (status, body) = http_post_json(
        cluster.node(1).addr,
        encoded,
        chair,
        r#"{"type":"lock","paragraph":"p1","reason":"agreed ad ref"}"#,
    )
    .await?;
    assert_eq!(status, 200, "{body}");

    // No token, a bad one: answered, and no lease taken for the document named.
    for auth in [None, Some("Authorization: Bearer not-a-token")] {
        let headers: Vec<&str> = auth.into_iter().collect();
        let (status, _) = http_get_with(
            cluster.node(1).addr,
            "/api/docs/unclaimed/paragraphs/p1",
            &headers,
        )
        .await?;
        assert_eq!(status, 401);
    }
    let mut conn =
        concord_server::storage::redis::RedisLog::connect_to(&cluster.redis.url()).await?;
    let leased: bool = conn.exists("concord:{unclaimed}:lease").await?;
    let fenced: bool = conn.exists("concord:{unclaimed}:fence").await?;
    assert!(
        !leased && !fenced,
        "an unauthenticated request took a lease"
    );
    Ok(())
}

/// A mission's connections are counted across nodes: its limit holds however its delegates
/// spread over documents served by different nodes, and a closed connection gives its slot back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missions_connection_limit_is_counted_across_nodes() -> anyhow::Result<()> {
    let cluster = Cluster::start_with(BIN, 2, &["--mission-connections", "2"]).await?;
    let token =
        |person: &'static str, mission: &'static str, role| cluster.token(person, mission, role);
    let chair = token("chair", "UN", Role::Facilitator).await?;
    let mex = token("ana", "MEX", Role::Delegation).await?;
    // Document `a` is node 0's, `b` node 1's.
    for (node, doc) in [(0, "a"), (1, "b")] {
        let (status, body) = http_post_json(
            cluster.node(node).addr,
            &format!("/api/docs/{doc}/commands"),
            &chair,
            r#"{"type":"import-text","text":"[1] Start."}"#,
        )
        .await?;
        assert_eq!(status, 200, "{body}");
    }
    let url = |node: usize, doc: &str| cluster.ws_url(node, doc, &mex);
    let first = Client::connect(&url(0, "a")).await?;
    let _second = Client::connect(&url(1, "b")).await?;
    // Served by node 1 (forwarded by node 0): the mission holds two across both nodes.
    let third = Client::connect(&url(0, "b")).await;
    let refused = third.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(
        refused.contains("429"),
        "a third connection is refused: {refused}"
    );
    // A closed connection's slot comes back.
    first.close();
    first.wait_closed().await?;
    let deadline = Instant::now() + concord_tests::WAIT;
    loop {
        match Client::connect(&url(1, "b")).await {
            Ok(_) => break,
            Err(_) if Instant::now() < deadline => {
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
            Err(err) => return Err(err),
        }
    }
    Ok(())
}

/// A silence procedure's deadline is acted on by exactly one node: its owner is paused past
/// its lease and the deadline with nobody connected, another node finds the open procedure in
/// Redis by itself, takes the document and adopts the text; the old owner, resumed, does not
/// conclude it again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silence_deadline_is_acted_on_once_when_its_owner_is_paused_with_nobody_connected(
) -> anyhow::Result<()> {
    use redis::AsyncCommands;
    let cluster = Cluster::start(BIN, 2).await?;
    let chair = cluster.token("chair", "UN", Role::Facilitator).await?;
    command(
        &cluster,
        0,
        &chair,
        r#"{"type":"import-text","text":"[1] Agreed wording.\n[2] Other."}"#,
    )
    .await?;
    command(
        &cluster,
        0,
        &chair,
        r#"{"type":"start-silence","paragraphs":["p1"],"seconds":4}"#,
    )
    .await?;
    let store = redis::Client::open(cluster.redis.url())?;
    let mut conn = store.get_multiplexed_async_connection().await?;
    let open: Vec<String> = conn.hkeys("concord:silences:open").await?;
    assert_eq!(open, [DOC], "the open procedure is counted in Redis");

    cluster.node(0).signal("STOP")?;
    // Nobody asks for the document: node 1 must find it by itself. Waiting reads Redis only
    // (a request to a node would load the document there).
    let deadline = Instant::now() + concord_tests::WAIT;
    loop {
        let open: Vec<String> = conn.hkeys("concord:silences:open").await?;
        if open.is_empty() {
            break;
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "the procedure was not concluded while its owner was paused"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    cluster.node(0).signal("CONT")?;
    // The resumed node finds its lease gone (its watch, due since, meanwhile asks Redis where
    // the document is served and finds another node).
    let deadline = Instant::now() + concord_tests::WAIT;
    loop {
        let (_, metrics) = concord_tests::http_get(cluster.node(0).addr, "/metrics").await?;
        if !metrics.contains("concord_leases_lost_total 0") {
            break;
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "the resumed node never saw its lease lost"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }

    let audit_path = format!("/api/docs/{DOC}/audit?limit=1000");
    let auth = format!("Authorization: Bearer {chair}");
    // The resumed node's watch still holds the deadline, passed now: it must find that it no
    // longer owns the document rather than conclude again. Every node reports one conclusion.
    // A paragraph read through the resumed node waits for it to see it no longer owns the
    // document (it asks Redis before serving anything from its old lease).
    assert!(body_on(&cluster, 0, &chair)
        .await?
        .contains("Agreed wording."));
    for node in 0..2 {
        let (status, body) = http_get_with(cluster.node(node).addr, &audit_path, &[&auth]).await?;
        assert_eq!(status, 200, "audit read on node {node}: {body}");
        let audit: serde_json::Value = serde_json::from_str(&body)?;
        let records = audit["records"].as_array().cloned().unwrap_or_default();
        let conclusions: Vec<_> = records
            .iter()
            .filter(|r| r["action"] == "conclude-silence")
            .collect();
        assert_eq!(conclusions.len(), 1, "node {node}: concluded once");
        assert_eq!(conclusions[0]["mission"], "concord:server");
    }
    let (status, body) = http_get_with(
        cluster.node(1).addr,
        &format!("/api/docs/{DOC}/paragraphs/p1"),
        &[&auth],
    )
    .await?;
    assert_eq!(status, 200, "{body}");
    let p1: serde_json::Value = serde_json::from_str(&body)?;
    assert_eq!(p1["paragraph"]["status"], "agreed", "{p1}");
    assert!(!p1["paragraph"]["lock"].is_null(), "adopted text is locked");
    // A count with no procedure behind it (left by an older version, or a write gone wrong)
    // is set right once a node loads the document: it does not keep nodes loading it.
    let () = conn.hset("concord:silences:open", "ghost", 2).await?;
    let deadline = Instant::now() + concord_tests::WAIT;
    while conn
        .hexists::<_, _, bool>("concord:silences:open", "ghost")
        .await?
    {
        anyhow::ensure!(Instant::now() < deadline, "the stale count stayed");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    Ok(())
}
