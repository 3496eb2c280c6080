//! The crash windows, hit on purpose with the storage fault injector (`concord_tests::faults`):
//! a write the room issued is held short of the disk, then the real server process gets
//! SIGKILL, or the disk is "full". Nobody may hold words the log lacks (so nobody can re-send
//! them as their own), nothing answered `done` may be missing, and a failed write is never
//! answered as a success.

use concord_protocol::awareness::{encode_awareness, AwarenessEntry};
use concord_protocol::command::{Command, CommandRequest, Reply};
use concord_protocol::{Message, Role};
use concord_tests::client::full_state;
use concord_tests::{http_get_with, http_post_json, Client, ProcessServer, TempDir};

const BINARY: &str = env!("CARGO_BIN_EXE_concord-under-test");
const DOC: &str = "gcm";

fn url(server: &ProcessServer, token: &str) -> String {
    format!("ws://{}/ws/{DOC}?token={token}", server.addr)
}

async fn command(server: &ProcessServer, token: &str, body: &str) -> anyhow::Result<(u16, String)> {
    http_post_json(
        server.addr,
        &format!("/api/docs/{DOC}/commands"),
        token,
        body,
    )
    .await
}

/// Two co-facilitators (UN and CHE) on a drafted document.
async fn start(data: &TempDir) -> anyhow::Result<(ProcessServer, String, String)> {
    start_with(data, &[]).await
}

async fn start_with(
    data: &TempDir,
    extra: &[&str],
) -> anyhow::Result<(ProcessServer, String, String)> {
    let server = ProcessServer::start_with_faults(BINARY, data.path(), extra).await?;
    let un = server.token("ana", "UN", Role::Facilitator);
    let che = server.token("ben", "CHE", Role::Facilitator);
    let (status, body) = command(
        &server,
        &un,
        r#"{"type":"import-text","text":"[1] Commit to cooperate."}"#,
    )
    .await?;
    anyhow::ensure!(status == 200, "import: {status} {body}");
    Ok((server, un, che))
}

fn body(txn: &yrs::TransactionMut) -> Option<yrs::TextRef> {
    concord_tests::client::body(txn)
}

/// Waits until `watcher` has seen presence from `client` (relayed in order after anything
/// the room handled before it).
async fn presence_reaches(watcher: &Client, from: &Client, clock: u32) -> anyhow::Result<()> {
    let client = from.with_doc(|doc| doc.client_id().get());
    let update = encode_awareness([AwarenessEntry {
        client,
        clock,
        state: "{}",
    }]);
    from.send_message(&Message::Awareness(&update))?;
    watcher
        .wait_until("the author's presence", |seen, _| {
            !seen.awareness.is_empty() && seen.awareness.len() >= clock as usize
        })
        .await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_between_apply_and_commit_leaves_nobody_holding_the_words() -> anyhow::Result<()> {
    let data = TempDir::new("crash-broadcast");
    let (mut server, un, che) = start(&data).await?;
    let mut author = Client::connect(&url(&server, &un)).await?;
    let other = Client::connect(&url(&server, &che)).await?;

    server.fault("hold").await?;
    let seq = author.insert_into(&body, 0, "Unsaved words. ")?;
    server.wait_held(1).await?;
    // The room applied the update (its write is held). Presence published after it reaches the
    // other facilitator: had the update been broadcast, it would have arrived first.
    presence_reaches(&other, &author, 1).await?;
    assert!(
        !other.text().contains("Unsaved"),
        "a connection received words that were not durable"
    );
    assert!(author.seen().acked < seq, "acknowledged before durable");
    server.kill().await;

    // Restart. The other facilitator reconnects and re-sends everything it has, as stock
    // y-websocket does: it has nothing of the author's.
    let server = ProcessServer::start(BINARY, data.path(), &[]).await?;
    let mut che_again = Client::connect(&url(&server, &che)).await?;
    let seq_che = che_again.send_update(&other.with_doc(full_state))?;
    che_again.wait_acked(seq_che).await?;
    // The author re-sends its own: accepted, and theirs.
    let mut author_again = Client::connect(&url(&server, &un)).await?;
    let seq_author = author_again.send_update(&author.with_doc(full_state))?;
    author_again.wait_acked(seq_author).await?;
    assert!(author_again.seen().rejections.is_empty());
    che_again
        .wait_text(|t| t.starts_with("Unsaved words."))
        .await?;
    // And the author's next keystroke is theirs to type (their client id is theirs).
    let seq_next = author.with_doc(|doc| {
        use yrs::{Text, Transact};
        let mut txn = doc.transact_mut();
        let text = concord_protocol::schema::body_text(&txn, "p1");
        text.map(|text| {
            text.insert(&mut txn, 0, "More. ");
            txn.encode_update_v1()
        })
    });
    let seq_next = author_again.send_update(&seq_next.ok_or_else(|| anyhow::anyhow!("p1"))?)?;
    author_again.wait_acked(seq_next).await?;

    let path = format!("/api/docs/{DOC}/paragraphs/p1/attribution");
    let auth = format!("Authorization: Bearer {un}");
    let (status, answer) = http_get_with(server.addr, &path, &[&auth]).await?;
    assert_eq!(status, 200, "{answer}");
    let answer: serde_json::Value = serde_json::from_str(&answer)?;
    let runs = answer["runs"].as_array().cloned().unwrap_or_default();
    let unsaved: Vec<_> = runs
        .iter()
        .filter(|run| run["text"].as_str().is_some_and(|t| t.contains("Unsaved")))
        .collect();
    assert!(!unsaved.is_empty(), "{answer}");
    for run in unsaved {
        assert_eq!(
            run["mission"], "UN",
            "words credited to another mission: {answer}"
        );
    }
    server.kill().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_command_is_answered_only_once_durable() -> anyhow::Result<()> {
    let data = TempDir::new("crash-command");
    let (mut server, un, _) = start(&data).await?;
    let ws = Client::connect(&url(&server, &un)).await?;

    server.fault("hold").await?;
    // Over REST: the answer waits for the commit.
    let addr = server.addr;
    let token = un.clone();
    let rest = tokio::spawn(async move {
        http_post_json(
            addr,
            &format!("/api/docs/{DOC}/commands"),
            &token,
            r#"{"type":"lock","paragraph":"p1","reason":"agreed ad ref"}"#,
        )
        .await
    });
    server.wait_held(1).await?;
    // Over the WebSocket too.
    let request = CommandRequest {
        id: 7,
        command: Command::Comment {
            paragraph: "p1".into(),
            text: "A comment not yet stored.".into(),
            reply_to: None,
        },
    };
    ws.send_message(&Message::Command(request))?;
    server.wait_held(2).await?;
    // Presence after the command has come back: the command's answer would have come first.
    // (A new connection gets its sync reply only after the commit too: it does not wait for it.)
    let echo = Client::connect_unsynced(&url(&server, &un)).await?;
    presence_reaches(&ws, &echo, 1).await?;
    assert!(
        ws.seen().command_results.is_empty(),
        "answered before durable"
    );
    assert!(!rest.is_finished(), "REST answered before durable");
    server.kill().await;
    let answered = rest.await?;
    assert!(
        !matches!(answered, Ok((200, _))),
        "a command was answered done and then lost: {answered:?}"
    );

    // Nothing of either is there after the restart; commands answered done are.
    let server = ProcessServer::start(BINARY, data.path(), &[]).await?;
    let check = Client::connect(&url(&server, &un)).await?;
    let locked = check.with_doc(|doc| {
        use yrs::Transact;
        concord_protocol::schema::paragraph(&doc.transact(), "p1").map(|p| p.is_locked())
    });
    assert_eq!(locked, Some(false));
    for i in 0..20 {
        let body = format!(r#"{{"type":"comment","paragraph":"p1","text":"answered {i}"}}"#);
        let (status, answer) = command(&server, &un, &body).await?;
        assert_eq!(status, 200, "{answer}");
    }
    server.kill().await;
    let server = ProcessServer::start(BINARY, data.path(), &[]).await?;
    let check = Client::connect(&url(&server, &un)).await?;
    let comments = check.with_doc(|doc| {
        use yrs::Transact;
        concord_protocol::schema::comments(&doc.transact(), "p1")
    });
    let texts: Vec<String> = comments.into_iter().map(|c| c.text).collect();
    assert!(
        !texts.iter().any(|t| t.contains("not yet stored")),
        "{texts:?}"
    );
    for i in 0..20 {
        assert!(
            texts.contains(&format!("answered {i}")),
            "comment {i} was answered done and lost: {texts:?}"
        );
    }
    server.kill().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_is_answered_with_errors_never_done() -> anyhow::Result<()> {
    let data = TempDir::new("full-disk");
    let (mut server, un, _) = start(&data).await?;
    let writer = Client::connect(&url(&server, &un)).await?;

    server.fault("fail").await?;
    let (status, answer) = command(
        &server,
        &un,
        r#"{"type":"comment","paragraph":"p1","text":"Lost to a full disk."}"#,
    )
    .await?;
    assert_eq!(status, 503, "{answer}");
    let answer: serde_json::Value = serde_json::from_str(&answer)?;
    assert_eq!(answer["error"], "storage-unavailable", "{answer}");
    // The room stopped; the writer is closed (1011) without an Ack for anything unstored.
    let close = writer.wait_closed().await?;
    assert_eq!(close.map(|c| c.0), Some(1011));

    let mut writer = Client::connect(&url(&server, &un)).await?;
    let seq = writer.insert_into(&body, 0, "Typed on a full disk. ")?;
    let close = writer.wait_closed().await?;
    assert_eq!(close.map(|c| c.0), Some(1011));
    assert!(writer.seen().acked < seq, "acknowledged a failed write");
    // Over the WebSocket, a command gets an error answer too.
    let ws = Client::connect(&url(&server, &un)).await?;
    let request = CommandRequest {
        id: 9,
        command: Command::Comment {
            paragraph: "p1".into(),
            text: "Also lost.".into(),
            reply_to: None,
        },
    };
    ws.send_message(&Message::Command(request))?;
    ws.wait_until("an answer", |seen, _| !seen.command_results.is_empty())
        .await?;
    match &ws.seen().command_results[0].result {
        Reply::Error(error) => assert_eq!(error.code, "storage-unavailable"),
        Reply::Ok(outcome) => panic!("a failed write answered {outcome:?}"),
    }

    // Space again: the document is what was durable, and works.
    server.fault("pass").await?;
    let mut writer = Client::connect(&url(&server, &un)).await?;
    assert_eq!(writer.text(), "Commit to cooperate.");
    let comments = writer.with_doc(|doc| {
        use yrs::Transact;
        concord_protocol::schema::comments(&doc.transact(), "p1")
    });
    assert!(comments.is_empty(), "{comments:?}");
    let seq = writer.insert_into(&body, 0, "Stored. ")?;
    writer.wait_acked(seq).await?;
    server.kill().await;
    Ok(())
}

/// A slow disk slows writers down instead of filling memory: with at most 16 writes waiting
/// for their commit, a burst of 200 updates stops at 16 held writes (the rest stay unread in
/// the socket), and all 200 are stored and acknowledged once the disk catches up.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn waiting_writes_are_bounded_and_nothing_is_lost() -> anyhow::Result<()> {
    let data = TempDir::new("bounded-queue");
    let (mut server, un, _) = start_with(&data, &["--storage-queue", "16"]).await?;
    let mut writer = Client::connect(&url(&server, &un)).await?;
    server.fault("hold").await?;
    let mut last = 0;
    for i in 0..200 {
        last = writer.insert_into(&body, 0, &format!("<{i}>"))?;
    }
    server.wait_held(16).await?;
    server.fault("pass").await?;
    writer.wait_acked(last).await?;
    assert_eq!(
        server.most_held, 16,
        "more writes waited than the bound allows"
    );
    let check = Client::connect(&url(&server, &un)).await?;
    let text = check.text();
    for i in 0..200 {
        assert!(text.contains(&format!("<{i}>")), "update {i} lost");
    }
    server.kill().await;
    Ok(())
}

/// `Ack(n)` covers the first n updates: once a write failed, no later success (a barrier for
/// a re-sent update) may acknowledge past it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_ack_covers_a_failed_write() -> anyhow::Result<()> {
    let data = TempDir::new("ack-after-failure");
    let (mut server, un, _) = start(&data).await?;
    let mut writer = Client::connect(&url(&server, &un)).await?;
    server.fault("hold").await?;
    let typed = writer.insert_into(&body, 0, "Lost to a failed write. ")?;
    // Nothing new: the room answers it with a barrier, which will succeed.
    let resent = writer.send_update(&[0, 0])?;
    server.wait_held(2).await?;
    server.fault("fail").await?;
    let close = writer.wait_closed().await?;
    assert_eq!(close.map(|c| c.0), Some(1011));
    let acked = writer.seen().acked;
    assert!(
        acked < typed,
        "Ack({acked}) covers update {typed}, whose write failed (re-send was {resent})"
    );
    server.kill().await;
    Ok(())
}

/// The stored audit's records of typed text: (mission, how many updates each stands for).
fn typed_runs(data: &TempDir) -> anyhow::Result<Vec<(String, u32)>> {
    let stored = concord_server::storage::sqlite::read_stored_audit(data.path(), DOC)?;
    Ok(stored
        .iter()
        .filter(|r| r.action == "update")
        .map(|r| (r.mission.clone(), r.updates))
        .collect())
}

/// SIGKILL in the middle of a facilitator's run of typing: the run's record holds every
/// acknowledged keystroke and nothing else, the next server starts a record of its own, and
/// the chain verifies before and after.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_in_a_run_of_typing_keeps_every_answered_keystroke_in_the_audit(
) -> anyhow::Result<()> {
    let data = TempDir::new("crash-run");
    let (mut server, un, _) = start(&data).await?;
    let mut author = Client::connect(&url(&server, &un)).await?;
    for word in ["One ", "two ", "three ", "four ", "five "] {
        let seq = author.insert_into(&body, 0, word)?;
        author.wait_acked(seq).await?;
    }
    server.fault("hold").await?;
    let held = author.insert_into(&body, 0, "unsaved ")?;
    server.wait_held(1).await?;
    assert!(author.seen().acked < held);
    server.kill().await;

    let typed = typed_runs(&data)?;
    assert_eq!(typed, vec![("UN".to_string(), 5)]);
    let report = concord_server::storage::sqlite::verify_audit(data.path(), None)?;
    assert!(report.is_intact(), "{:?}", report.problems);

    // The author reconnects, re-sends what it holds (the lost keystroke among it) and types on.
    let server = ProcessServer::start(BINARY, data.path(), &[]).await?;
    let mut again = Client::connect(&url(&server, &un)).await?;
    let seq = again.send_update(&author.with_doc(full_state))?;
    again.wait_acked(seq).await?;
    assert!(again.seen().rejections.is_empty());
    for word in ["six ", "seven "] {
        let seq = again.insert_into(&body, 0, word)?;
        again.wait_acked(seq).await?;
    }
    server.kill().await;
    let typed = typed_runs(&data)?;
    assert_eq!(
        typed,
        vec![("UN".to_string(), 5), ("UN".to_string(), 3)],
        "{typed:?}"
    );
    let report = concord_server::storage::sqlite::verify_audit(data.path(), None)?;
    assert!(report.is_intact(), "{:?}", report.problems);
    Ok(())
}
