//! A hostile review of published revisions: what a client (any role, crafted bytes), a
//! command, a crash or a hostile query can do to a revision, to the cover letter, to what
//! observers of published text receive, and to who a comparison credits.
//!
//! Each test says the guarantee it attacks. Timings are measured and printed (run with
//! `--nocapture`), never asserted.

use std::time::Instant;

use concord_protocol::command::{Command, CommandRequest, Reply};
use concord_protocol::schema::{self, ObserverView};
use concord_protocol::{Message, Role};
use concord_tests::client::full_state;
use concord_tests::{
    http_get_with, http_post_json, Client, ProcessServer, RawSocket, TempDir, TestServer,
};
use serde_json::Value;
use yrs::{Map, ReadTxn, StateVector, Transact, WriteTxn};

const BINARY: &str = env!("CARGO_BIN_EXE_concord-under-test");
const DOC: &str = "gcm";
const MARKER: &str = "LIVE-MARKER-Z9";

// ---- fixtures ------------------------------------------------------------------------------

use concord_tests::revision_room::{body_of, RevisionRoom as Room};

fn ws_command(id: u64, command: Command) -> CommandRequest {
    CommandRequest { id, command }
}

/// A process server with the storage fault injector, a drafted document and its tokens.
struct Faulty {
    server: ProcessServer,
    chair: String,
    ngo: String,
}

impl Faulty {
    async fn start(data: &TempDir) -> anyhow::Result<Self> {
        let server = ProcessServer::start_with_faults(BINARY, data.path(), &[]).await?;
        let faulty = Faulty {
            chair: server.token("chair", "UN", Role::Facilitator),
            ngo: server.token("nora", "NGO-1", Role::Observer),
            server,
        };
        faulty
            .command(
                &faulty.chair,
                r#"{"type":"import-text","text":"[1] Commit to cooperate.\n[2] Agreed wording."}"#,
            )
            .await?;
        Ok(faulty)
    }

    fn url(&self, token: &str) -> String {
        format!("ws://{}/ws/{DOC}?token={token}", self.server.addr)
    }

    async fn command(&self, token: &str, body: &str) -> anyhow::Result<String> {
        let path = format!("/api/docs/{DOC}/commands");
        let (status, answer) = http_post_json(self.server.addr, &path, token, body).await?;
        anyhow::ensure!(status == 200, "{body} answered {status} {answer}");
        Ok(answer)
    }

    async fn get(&self, token: &str, path: &str) -> anyhow::Result<(u16, String)> {
        let auth = format!("Authorization: Bearer {token}");
        http_get_with(
            self.server.addr,
            &format!("/api/docs/{DOC}{path}"),
            &[&auth],
        )
        .await
    }
}

/// Whether any document frame a client received carries `needle`.
fn received(client: &Client, needle: &str) -> bool {
    let seen = client.seen();
    let in_updates = seen
        .updates
        .iter()
        .any(|u| String::from_utf8_lossy(u).contains(needle));
    let in_replica = String::from_utf8_lossy(&client.with_doc(full_state)).contains(needle);
    in_updates || in_replica
}

/// Presence from `from`, and waits until `watcher` has received `count` presence frames.
async fn presence(from: &Client, clock: u32, watcher: &Client, count: usize) -> anyhow::Result<()> {
    use concord_protocol::awareness::{encode_awareness, AwarenessEntry};
    let client = from.with_doc(|doc| doc.client_id().get());
    let update = encode_awareness([AwarenessEntry {
        client,
        clock,
        state: "{}",
    }]);
    from.send_message(&Message::Awareness(&update))?;
    watcher
        .wait_until("presence", |seen, _| seen.awareness.len() >= count)
        .await
}

// ---- 3. observers of published text ----------------------------------------------------------

/// Guarantee 3: once `set-observers published` is applied, nothing typed after it reaches an
/// observer. A public observer on a slow link (its socket backed up with earlier, legitimate
/// live text) is connected when the switch is made; the switch's write and an edit typed after
/// it are held short of the disk (behind another document's large write, so that they reach
/// the disk together). When the disk catches up, the observer is closed with 4001; once its
/// link drains it must not have received the edit typed after the switch.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_live_observer_switched_to_published_gets_nothing_typed_after_the_switch(
) -> anyhow::Result<()> {
    let data = TempDir::new("switch-leak");
    let mut room = Faulty::start(&data).await?;
    let observer = Client::connect(&room.url(&room.ngo)).await?;
    let mut chair = Client::connect(&room.url(&room.chair)).await?;

    // The observer's link backs up with live text it may read (the document is live).
    observer.pause_reading();
    let chunk = "x".repeat(4 << 20);
    let mut last = 0;
    for _ in 0..5 {
        last = chair.append_to(&body_of("p2"), &chunk)?;
    }
    chair.wait_acked(last).await?;

    room.server.fault("hold").await?;
    // Another document's large import first: the disk is busy with it while the switch and
    // the edit after it queue up behind.
    let other = format!("/api/docs/{DOC}-other/commands");
    let import = serde_json::json!({
        "type": "import-text",
        "text": (1..=45)
            .map(|n| format!("[{n}] {}", "y".repeat(19_000)))
            .collect::<Vec<_>>()
            .join("\n"),
    })
    .to_string();
    let (addr, token) = (room.server.addr, room.chair.clone());
    let importing =
        tokio::spawn(async move { http_post_json(addr, &other, &token, &import).await });
    room.server.wait_held(1).await?;
    chair.send_message(&Message::Command(ws_command(
        1,
        Command::SetObservers {
            observers: ObserverView::Published,
        },
    )))?;
    room.server.wait_held(2).await?;
    let typed_after = chair.insert_into(&body_of("p1"), 0, MARKER)?;
    room.server.wait_held(3).await?;
    room.server.fault("pass").await?;
    chair.wait_acked(typed_after).await?;
    importing.await??;

    observer.resume_reading();
    let close = observer.wait_closed().await?;
    assert_eq!(close.map(|c| c.0), Some(4001));
    assert!(
        !received(&observer, MARKER),
        "an observer of published text received words typed after the switch"
    );
    room.server.kill().await;
    Ok(())
}

/// Guarantee 3: an observer connecting while a publication is not yet durable is sent
/// nothing derived from it. The publication is held, an observer of published text connects
/// and is greeted; then the write fails (a full disk) and the revision never exists. The
/// greeting must not have told the observer about it (its view's state vector names the
/// revision's view client id and its length).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_observer_greeted_while_a_publication_is_not_durable_learns_nothing_of_it(
) -> anyhow::Result<()> {
    let data = TempDir::new("greet-leak");
    let mut room = Faulty::start(&data).await?;
    room.command(
        &room.chair,
        r#"{"type":"set-observers","observers":"published"}"#,
    )
    .await?;
    let chair = Client::connect(&room.url(&room.chair)).await?;
    // Its answer to the sync (an update with nothing new, a barrier in the log) is durable:
    // the first write held below is the command's.
    chair.wait_acked(chair.sent()).await?;

    room.server.fault("hold").await?;
    chair.send_message(&Message::Command(ws_command(
        1,
        Command::PublishRevision {
            name: "Rev 1".into(),
            note: Some("Not durable yet".into()),
        },
    )))?;
    room.server.wait_held(1).await?;

    // The observer connects (its join is handled after the publication was applied), then
    // sends a text frame: the server reads it only once the join is done, and closes with
    // 4400 after whatever was queued for it. Then the write fails.
    let mut raw = RawSocket::connect(&room.url(&room.ngo)).await?;
    raw.send_text("joined?").await?;
    let told = state_vectors_until_closed(&mut raw).await?;
    room.server.fault("fail").await?;
    let answered = chair
        .wait_until("the publication's answer", |seen, _| {
            !seen.command_results.is_empty()
        })
        .await;
    if answered.is_ok() {
        assert!(matches!(
            chair.seen().command_results[0].result,
            Reply::Error(_)
        ));
    }
    room.server.fault("pass").await?;
    // The room failed (its connections closed with 1011); the next one loads what is durable.
    assert_eq!(chair.wait_closed().await?.map(|c| c.0), Some(1011));
    Client::connect(&room.url(&room.chair)).await?;
    let (status, list) = room.get(&room.chair, "/revisions").await?;
    assert_eq!(status, 200, "{list}");
    let list: Value = serde_json::from_str(&list)?;
    assert_eq!(list["revisions"], serde_json::json!([]), "never published");
    // Views descend from the empty one under one id: told nothing past the empty view.
    let view = yrs::ClientID::new(concord_protocol::revision::VIEW_CLIENT_ID);
    let empty = yrs::ReadTxn::state_vector(&yrs::Transact::transact(
        &concord_protocol::revision::empty_published_view(),
    ))
    .get(&view);
    for sv in &told {
        assert!(
            sv.get(&view) <= empty,
            "the observer was told of the view of a revision that was never published: {sv:?}"
        );
    }
    room.server.kill().await;
    Ok(())
}

/// Reads frames until the server closes; returns the state vectors of its sync step 1s.
async fn state_vectors_until_closed(raw: &mut RawSocket) -> anyhow::Result<Vec<StateVector>> {
    use futures_util::StreamExt;
    use tokio_tungstenite::tungstenite::Message as WsMessage;
    let read = async {
        let mut told = Vec::new();
        while let Some(frame) = raw.ws.next().await {
            match frame {
                Ok(WsMessage::Binary(bytes)) => {
                    for message in Message::decode_frame(&bytes)? {
                        if let Message::SyncStep1(sv) = message {
                            told.push(sv);
                        }
                    }
                }
                Ok(WsMessage::Close(_)) | Err(_) => break,
                Ok(_) => {}
            }
        }
        Ok(told)
    };
    tokio::time::timeout(concord_tests::WAIT, read).await?
}

/// Guarantee 3, stock behaviour: a y-websocket client does not know 4001 and reconnects with
/// the replica it had, answering the server's sync step 1 with everything the new view lacks
/// (the old view, or the live text it read before the switch). It wrote nothing: it must not
/// be refused as an observer writing (4403, final), and it must read the new revision.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stock_observer_reconnecting_with_its_old_replica_after_4001_is_not_refused(
) -> anyhow::Result<()> {
    let room = Room::start().await?;
    // Live first: the observer's replica holds the live text.
    let live = room.connect(&room.ngo).await?;
    room.command(
        &room.chair,
        r#"{"type":"set-observers","observers":"published"}"#,
    )
    .await?;
    assert_eq!(live.wait_closed().await?.map(|c| c.0), Some(4001));
    let live_replica = live.with_doc(full_state);

    // It reconnects with that replica: nothing published yet, so the empty view.
    let again = room.connect(&room.ngo).await?;
    let seq = again.send_message(&Message::SyncStep2(&live_replica))?;
    again.wait_acked(seq).await?;
    assert!(again.seen().rejections.is_empty());
    let empty_view = again.with_doc(full_state);

    // A first revision: it reconnects with the empty view it had.
    room.command(&room.chair, r#"{"type":"publish-revision","name":"Rev 1"}"#)
        .await?;
    assert_eq!(again.wait_closed().await?.map(|c| c.0), Some(4001));
    let third = room.connect(&room.ngo).await?;
    let seq = third.send_message(&Message::SyncStep2(&empty_view))?;
    third.wait_acked(seq).await?;
    assert!(third.seen().rejections.is_empty());
    let r1_view = third.with_doc(full_state);

    // A second: it reconnects with the view of Rev 1.
    room.command(&room.chair, r#"{"type":"publish-revision","name":"Rev 2"}"#)
        .await?;
    assert_eq!(third.wait_closed().await?.map(|c| c.0), Some(4001));
    let fourth = room.connect(&room.ngo).await?;
    let seq = fourth.send_message(&Message::SyncStep2(&r1_view))?;
    fourth.wait_acked(seq).await?;
    assert!(fourth.seen().rejections.is_empty());

    // Something it did write is still refused.
    let forged = {
        let doc = yrs::Doc::new();
        let mut txn = doc.transact_mut();
        txn.get_or_insert_map("paragraphs")
            .insert(&mut txn, "p9", "x");
        txn.encode_update_v1()
    };
    fourth.send_message(&Message::Update(&forged))?;
    assert_eq!(fourth.wait_closed().await?.map(|c| c.0), Some(4403));
    assert_eq!(fourth.seen().rejections[0].rule, "observer-read-only");
    Ok(())
}

// ---- 1. a published revision is immutable ----------------------------------------------------

/// Hand-made v1 updates: one item, or one deletion.
mod craft {
    use concord_protocol::lib0::{write_buf, write_var_u64};

    /// Where an item says it goes.
    pub enum At<'a> {
        /// After this id (its parent and key are the origin's).
        Origin((u64, u32)),
        /// Before this id.
        RightOrigin((u64, u32)),
        /// Into a root type, under a key for maps.
        Root(&'a str, Option<&'a str>),
        /// Into the type this item created, under a key for maps.
        InItem((u64, u32), Option<&'a str>),
    }

    /// What it holds.
    pub enum Holds<'a> {
        Text(&'a str),
        /// A plain value: one string (how a revision is stored).
        Value(&'a str),
        /// A new Y.Text.
        NewText,
    }

    fn id(out: &mut Vec<u8>, (client, clock): (u64, u32)) {
        write_var_u64(out, client);
        write_var_u64(out, u64::from(clock));
    }

    pub fn item(client: u64, clock: u32, at: At<'_>, holds: Holds<'_>) -> Vec<u8> {
        let mut out = vec![1, 1];
        write_var_u64(&mut out, client);
        write_var_u64(&mut out, u64::from(clock));
        let content: u8 = match holds {
            Holds::Text(_) => 4,
            Holds::Value(_) => 8,
            Holds::NewText => 7,
        };
        let sub = match &at {
            At::Root(_, sub) | At::InItem(_, sub) => *sub,
            _ => None,
        };
        let info = content
            | match at {
                At::Origin(_) => 0x80,
                At::RightOrigin(_) => 0x40,
                _ => 0,
            }
            | if sub.is_some() { 0x20 } else { 0 };
        out.push(info);
        match at {
            At::Origin(origin) | At::RightOrigin(origin) => id(&mut out, origin),
            At::Root(name, _) => {
                out.push(1);
                write_buf(&mut out, name.as_bytes());
            }
            At::InItem(parent, _) => {
                out.push(0);
                id(&mut out, parent);
            }
        }
        if let Some(sub) = sub {
            write_buf(&mut out, sub.as_bytes());
        }
        match holds {
            Holds::Text(text) => write_buf(&mut out, text.as_bytes()),
            Holds::Value(value) => {
                out.push(1);
                out.push(119);
                write_buf(&mut out, value.as_bytes());
            }
            Holds::NewText => out.push(2),
        }
        out.push(0);
        out
    }

    /// No items; one deleted range.
    pub fn deletion(client: u64, clock: u32, len: u32) -> Vec<u8> {
        let mut out = vec![0, 1];
        write_var_u64(&mut out, client);
        out.push(1);
        write_var_u64(&mut out, u64::from(clock));
        write_var_u64(&mut out, u64::from(len));
        out
    }
}

/// The id of the item that holds the map entry `root[key]` now: the first value names its
/// root and key, each later one (an overwrite) has the one before as its origin.
fn entry_item(state: &[u8], root: &str, key: &str) -> anyhow::Result<(u64, u32)> {
    use concord_protocol::update::{scan_update_v1, Block, Id, Parent};
    let scanned = scan_update_v1(state)?;
    let items: Vec<_> = scanned
        .blocks
        .iter()
        .filter_map(|block| match block {
            Block::Item(item) => Some(item),
            _ => None,
        })
        .collect();
    let mut current: Id = items
        .iter()
        .find(|item| item.parent_sub == Some(key) && item.parent == Some(Parent::Root(root)))
        .map(|item| item.id)
        .ok_or_else(|| anyhow::anyhow!("no entry {root}[{key}]"))?;
    while let Some(next) = items.iter().find(|item| item.origin == Some(current)) {
        current = next.id;
    }
    Ok((current.client, current.clock))
}

/// Guarantee 1 and 2: crafted bytes at the revision, the cover letter and the change notes,
/// from a facilitator (who may write the most) and a delegation: map overwrites, values
/// slipped before the revision, items parented inside it, deletions of its item and by range
/// over the server's id, the server's own id continued, a gap. Each is refused, the document
/// is unchanged, and the revision reads the same bytes after all of them (and a restart).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crafted_updates_cannot_touch_a_revision_the_cover_letter_or_the_change_notes(
) -> anyhow::Result<()> {
    use craft::{deletion, item, At, Holds};
    let room = Room::start().await?;
    room.command(&room.chair, r#"{"type":"prepare-revision"}"#)
        .await?;
    let mut chair = room.connect(&room.chair).await?;
    let seq = chair.insert_into(&|txn| schema::cover_note_text(txn), 0, "Excellencies,")?;
    chair.wait_acked(seq).await?;
    room.command(&room.chair, r#"{"type":"publish-revision","name":"Rev 1"}"#)
        .await?;
    room.command(
        &room.chair,
        r#"{"type":"note-change","paragraph":"p1","note":"Tightened."}"#,
    )
    .await?;
    let seq = chair.insert_into(&|txn| schema::cover_note_text(txn), 0, "Dear all,")?;
    chair.wait_acked(seq).await?;
    let (_, published) = room.get(&room.mex, "/revisions/r1").await?;

    let state = room.state().await?;
    let r1 = entry_item(&state, "revisions", "r1")?;
    let cover = entry_item(&state, "drafting", "cover_note")?;
    let note = entry_item(&state, "change_notes", "p1")?;
    let server = r1.0;
    let server_clock = {
        let doc = yrs::Doc::new();
        doc.transact_mut()
            .apply_update(yrs::updates::decoder::Decode::decode_v1(&state)?)?;
        let clock = doc
            .transact()
            .state_vector()
            .get(&yrs::ClientID::new(server));
        clock
    };
    let own = 7_000_001; // a fresh client id of the sender's mission
    let forged = r#"{"id":"r1","forged":true}"#;

    let attempts: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "a value for r1 with no origin (concurrent with the revision)",
            item(
                own,
                0,
                At::Root("revisions", Some("r1")),
                Holds::Value(forged),
            ),
            "not-editable",
        ),
        (
            "a value for r1 after the revision (an overwrite)",
            item(own, 0, At::Origin(r1), Holds::Value(forged)),
            "not-editable",
        ),
        (
            "a value for r1 before the revision",
            item(own, 0, At::RightOrigin(r1), Holds::Value(forged)),
            "not-editable",
        ),
        (
            "the next revision's id, taken ahead",
            item(
                own,
                0,
                At::Root("revisions", Some("r2")),
                Holds::Value(forged),
            ),
            "not-editable",
        ),
        (
            "text parented inside the revision's value",
            item(own, 0, At::InItem(r1, None), Holds::Text("forged")),
            "not-editable",
        ),
        (
            "a keyed value parented inside the revision's value",
            item(own, 0, At::InItem(r1, Some("name")), Holds::Value("Forged")),
            "not-editable",
        ),
        (
            "a deletion of the revision's item",
            deletion(server, r1.1, 1),
            "not-editable",
        ),
        (
            "a deletion of everything the server wrote",
            deletion(server, 0, server_clock),
            "not-editable",
        ),
        (
            "a deletion over the server's id far past its clock",
            deletion(server, 0, u32::MAX),
            "not-editable",
        ),
        (
            "the server's own id, continued",
            item(
                server,
                server_clock,
                At::Root("revisions", Some("r1")),
                Holds::Value(forged),
            ),
            "client-id-of-another-mission",
        ),
        (
            "the server's own id, past a gap",
            item(
                server,
                server_clock + 5,
                At::Root("revisions", Some("r1")),
                Holds::Value(forged),
            ),
            "unknown-reference",
        ),
        (
            "a new cover-letter text",
            item(
                own,
                0,
                At::Root("drafting", Some("cover_note")),
                Holds::NewText,
            ),
            "not-editable",
        ),
        (
            "a new cover-letter text after the current one",
            item(own, 0, At::Origin(cover), Holds::NewText),
            "not-editable",
        ),
        (
            "a deletion of the cover letter's item",
            deletion(cover.0, cover.1, 1),
            "not-editable",
        ),
        (
            "a change note overwritten",
            item(own, 0, At::Origin(note), Holds::Value("Forged note")),
            "not-editable",
        ),
        (
            "a change note added",
            item(
                own,
                0,
                At::Root("change_notes", Some("p2")),
                Holds::Value("Forged"),
            ),
            "not-editable",
        ),
        (
            "a change note deleted",
            deletion(note.0, note.1, 1),
            "not-editable",
        ),
        (
            "a new change-notes map",
            item(
                own,
                0,
                At::Root("drafting", Some("change_notes")),
                Holds::NewText,
            ),
            "not-editable",
        ),
    ];
    for (what, update, rule) in &attempts {
        room.refused(what, &room.chair, update, rule).await?;
    }
    // A delegation: the same, and the cover letter's text itself.
    for (what, update, rule) in attempts.iter().take(3) {
        room.refused(what, &room.mex, update, rule).await?;
    }
    let typed = char_of_cover_letter(&room).await?;
    room.refused(
        "a delegation deleting a character of the cover letter",
        &room.mex,
        &deletion(typed.0, typed.1, 1),
        "cover-note-facilitators-only",
    )
    .await?;
    room.refused(
        "a delegation typing after a character of the cover letter",
        &room.mex,
        &item(own + 1, 0, At::Origin(typed), Holds::Text("Forged ")),
        "cover-note-facilitators-only",
    )
    .await?;
    let observer_edit = item(own + 2, 0, At::Origin(typed), Holds::Text("Forged "));
    room.refused(
        "an observer typing into the cover letter",
        &room.ngo,
        &observer_edit,
        "observer-read-only",
    )
    .await?;

    // A re-send of everything (the server's own items, the revision included) changes
    // nothing and is acknowledged.
    let mut resender = room.connect(&room.chair).await?;
    let seq = resender.send_update(&state)?;
    resender.wait_acked(seq).await?;
    assert!(resender.seen().rejections.is_empty());

    let (_, after) = room.get(&room.mex, "/revisions/r1").await?;
    assert_eq!(after, published);
    let draft = room.get_json(&room.chair, "/draft").await?;
    assert_eq!(draft["cover_note"], "Dear all,");
    let notes: Vec<&Value> = draft["change_notes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|n| !n["note"].is_null())
        .collect();
    assert_eq!(notes.len(), 1, "{draft}");
    assert_eq!(notes[0]["note"], "Tightened.");
    let room = Room {
        server: room.server.restart().await,
        ..room
    };
    let (_, restarted) = room.get(&room.mex, "/revisions/r1").await?;
    assert_eq!(restarted, published);
    Ok(())
}

/// The id of the first character of the cover letter being typed.
async fn char_of_cover_letter(room: &Room) -> anyhow::Result<(u64, u32)> {
    use concord_protocol::update::{scan_update_v1, Block, Content};
    let state = room.state().await?;
    let cover = entry_item(&state, "drafting", "cover_note")?;
    let scanned = scan_update_v1(&state)?;
    scanned
        .blocks
        .iter()
        .find_map(|block| match block {
            Block::Item(item)
                if item.content == Content::String
                    && item.parent
                        == Some(concord_protocol::update::Parent::Item(
                            concord_protocol::update::Id {
                                client: cover.0,
                                clock: cover.1,
                            },
                        )) =>
            {
                Some((item.id.client, item.id.clock))
            }
            _ => None,
        })
        .ok_or_else(|| anyhow::anyhow!("the cover letter has no typed text"))
}

/// Guarantee 1, crashes: a publication answered is there after SIGKILL, byte for byte, and
/// through snapshots; one killed before its answer (its write held short of the disk) leaves
/// no revision, not half of one, and the next publication takes its number afresh.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_publication_is_whole_or_absent_after_sigkill() -> anyhow::Result<()> {
    let data = TempDir::new("publish-kill");
    let mut room = Faulty::start(&data).await?;
    let answer = room
        .command(
            &room.chair,
            r#"{"type":"publish-revision","name":"Rev 1","note":"First."}"#,
        )
        .await?;
    assert_eq!(answer, r#"{"outcome":"created","id":"r1"}"#);
    // Killed right after the answer.
    room.server.kill().await;

    let server =
        ProcessServer::start_with_faults(BINARY, data.path(), &["--snapshot-every", "2"]).await?;
    room.server = server;
    let (status, r1) = room.get(&room.chair, "/revisions/r1").await?;
    assert_eq!(status, 200, "an answered publication was lost: {r1}");
    let revision: Value = serde_json::from_str(&r1)?;
    assert_eq!(revision["name"], "Rev 1");
    assert_eq!(revision["cover_note"], "First.");
    assert_eq!(revision["paragraphs"].as_array().map(Vec::len), Some(2));

    // Many updates (and so snapshots) later, and another kill: the same bytes.
    let mut chair = Client::connect(&room.url(&room.chair)).await?;
    let mut last = 0;
    for _ in 0..20 {
        last = chair.insert_into(&body_of("p2"), 0, "z")?;
    }
    chair.wait_acked(last).await?;

    // A publication whose write never reaches the disk.
    room.server.fault("hold").await?;
    chair.send_message(&Message::Command(ws_command(
        1,
        Command::PublishRevision {
            name: "Rev 2".into(),
            note: Some("Lost.".into()),
        },
    )))?;
    room.server.wait_held(1).await?;
    assert!(
        chair.seen().command_results.is_empty(),
        "answered before durable"
    );
    room.server.kill().await;

    room.server = ProcessServer::start(BINARY, data.path(), &[]).await?;
    let (_, again) = room.get(&room.chair, "/revisions/r1").await?;
    assert_eq!(again, r1, "byte for byte across kills and snapshots");
    let (status, r2) = room.get(&room.chair, "/revisions/r2").await?;
    assert_eq!(status, 404, "half a publication survived: {r2}");
    let list: Value = serde_json::from_str(&room.get(&room.chair, "/revisions").await?.1)?;
    assert_eq!(
        list["revisions"].as_array().map(Vec::len),
        Some(1),
        "{list}"
    );
    let answer = room
        .command(&room.chair, r#"{"type":"publish-revision","name":"Rev 2"}"#)
        .await?;
    assert_eq!(answer, r#"{"outcome":"created","id":"r2"}"#);
    let r2: Value = serde_json::from_str(&room.get(&room.chair, "/revisions/r2").await?.1)?;
    assert_eq!(r2["previous"], "r1");
    assert_eq!(r2["cover_note"], "", "nothing of the lost publication");
    room.server.kill().await;
    Ok(())
}

// ---- 4. who a comparison credits; 5. what acceptance rewrites ----------------------------------

/// Every credited stretch of a compared paragraph's insertions: (text, mission or "-",
/// amendment or "-").
fn credits(comparison: &Value, paragraph: &str) -> Vec<(String, String, String)> {
    comparison["paragraphs"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|p| p["id"] == paragraph)
        .flat_map(|p| p["pieces"].as_array().cloned().unwrap_or_default())
        .filter(|piece| piece["op"] == "insert")
        .flat_map(|piece| piece["by"].as_array().cloned().unwrap_or_default())
        .map(|by| {
            let text = by["text"].as_str().unwrap_or_default().to_string();
            let mission = by["mission"].as_str().unwrap_or("-").to_string();
            let amendment = by["amendment"].as_str().unwrap_or("-").to_string();
            (text, mission, amendment)
        })
        .collect()
}

/// Asserts that every credited stretch containing one of `words` names `mission`.
fn credited_to(credited: &[(String, String, String)], words: &[&str], mission: &str) {
    let mut found = 0;
    for (text, by, amendment) in credited {
        for word in words {
            if text.contains(word) {
                found += 1;
                assert_eq!(
                    by, mission,
                    "{word:?} (in {text:?}, amendment {amendment}) credited to {by}, typed by \
                     {mission}: {credited:?}"
                );
            }
        }
    }
    assert!(
        found >= words.len(),
        "not all of {words:?} credited: {credited:?}"
    );
}

/// Guarantee 4: text typed by two facilitators of different missions, interleaved, with
/// characters outside the Basic Multilingual Plane (two UTF-16 units, where offsets and clocks
/// could slip), is credited stretch by stretch to the mission that typed it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn interleaved_typing_by_two_facilitators_is_credited_to_each() -> anyhow::Result<()> {
    let room = Room::start().await?;
    let che_chair = room.server.token("carla", "CHE", Role::Facilitator, DOC);
    room.command(&room.chair, r#"{"type":"publish-revision","name":"Rev 1"}"#)
        .await?;
    let mut un = room.connect(&room.chair).await?;
    let mut che = room.connect(&che_chair).await?;
    let p2 = body_of("p2");
    // "Agreed wording." -> "😀Alpha 𝔅eta Agreed 𝔅delta wording 😀gamma."
    let seq = un.insert_into(&p2, 0, "😀Alpha ")?;
    un.wait_acked(seq).await?;
    che.wait_text_of(&p2, |t| t.starts_with("😀Alpha")).await?;
    // The test client's replica counts offsets in bytes (yrs's default).
    let at = "😀Alpha ".len() as u32;
    let seq = che.insert_into(&p2, at, "𝔅eta ")?;
    che.wait_acked(seq).await?;
    un.wait_text_of(&p2, |t| t.contains("𝔅eta")).await?;
    let at = "😀Alpha 𝔅eta Agreed ".len() as u32;
    let seq = che.insert_into(&p2, at, "𝔅delta ")?;
    che.wait_acked(seq).await?;
    un.wait_text_of(&p2, |t| t.contains("𝔅delta")).await?;
    let at = "😀Alpha 𝔅eta Agreed 𝔅delta wording".len() as u32;
    let seq = un.insert_into(&p2, at, " 😀gamma")?;
    un.wait_acked(seq).await?;

    let live = room.get_json(&room.mex, "/compare?from=r1&to=live").await?;
    let p2_now = un.with_doc(|doc| {
        use yrs::GetString;
        let txn = doc.transact();
        schema::body_text(&txn, "p2").map(|t| t.get_string(&txn))
    });
    assert_eq!(
        p2_now.as_deref(),
        Some("😀Alpha 𝔅eta Agreed 𝔅delta wording 😀gamma.")
    );
    let credited = credits(&live, "p2");
    credited_to(&credited, &["Alpha", "gamma"], "UN");
    credited_to(&credited, &["eta", "delta"], "CHE");
    // Published, the same from what the revision stored.
    room.command(&room.chair, r#"{"type":"publish-revision","name":"Rev 2"}"#)
        .await?;
    let between = room.get_json(&room.mex, "/compare?from=r1&to=r2").await?;
    assert_eq!(credits(&between, "p2"), credited);
    Ok(())
}

fn utf16(text: &str) -> u32 {
    text.encode_utf16().count() as u32
}

trait WaitTextOf {
    async fn wait_text_of(
        &self,
        target: &(dyn Fn(&yrs::TransactionMut) -> Option<yrs::TextRef> + Sync),
        check: impl Fn(&str) -> bool,
    ) -> anyhow::Result<()>;
}

impl WaitTextOf for Client {
    async fn wait_text_of(
        &self,
        target: &(dyn Fn(&yrs::TransactionMut) -> Option<yrs::TextRef> + Sync),
        check: impl Fn(&str) -> bool,
    ) -> anyhow::Result<()> {
        use yrs::GetString;
        self.wait_until("text", |_, doc| {
            let txn = doc.transact_mut();
            target(&txn).is_some_and(|t| check(&t.get_string(&txn)))
        })
        .await
    }
}

/// Guarantee 4: an amendment co-drafted by two sponsors and accepted. MEX (the author) typed
/// "closely", CHE (its co-sponsor) typed "promptly": the comparison must not credit CHE's
/// words to MEX.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_co_drafted_amendment_credits_each_sponsor_with_the_words_it_typed() -> anyhow::Result<()>
{
    let room = Room::start().await?;
    room.command(&room.chair, r#"{"type":"publish-revision","name":"Rev 1"}"#)
        .await?;
    room.command(
        &room.mex,
        r#"{"type":"invite-sponsor","amendment":"a1","mission":"CHE"}"#,
    )
    .await?;
    room.command(
        &room.che,
        r#"{"type":"accept-invitation","amendment":"a1"}"#,
    )
    .await?;
    let text = concord_tests::client::amendment_text("a1");
    // "Commit to cooperate." -> "Commit to cooperate closely and promptly."
    let mut mex = room.connect(&room.mex).await?;
    let seq = mex.insert_into(&text, utf16("Commit to cooperate"), " closely")?;
    mex.wait_acked(seq).await?;
    let mut che = room.connect(&room.che).await?;
    che.wait_text_of(&text, |t| t.contains("closely")).await?;
    let seq = che.insert_into(&text, utf16("Commit to cooperate closely"), " and promptly")?;
    che.wait_acked(seq).await?;
    room.command(&room.chair, r#"{"type":"accept","amendment":"a1"}"#)
        .await?;

    let live = room.get_json(&room.ngo, "/compare?from=r1&to=live").await?;
    let credited = credits(&live, "p1");
    credited_to(&credited, &["closely"], "MEX");
    credited_to(&credited, &["promptly"], "CHE");
    Ok(())
}

/// The body's runs as the attribution route gives them: (text, mission or "-", by server).
async fn attribution(room: &Room, paragraph: &str) -> anyhow::Result<Vec<(String, String, bool)>> {
    let answer = room
        .get_json(&room.chair, &format!("/paragraphs/{paragraph}/attribution"))
        .await?;
    Ok(answer["runs"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|run| {
            (
                run["text"].as_str().unwrap_or_default().to_string(),
                run["mission"].as_str().unwrap_or("-").to_string(),
                run["by_server"].as_bool().unwrap_or(false),
            )
        })
        .collect())
}

/// Guarantee 5: accepting rewrites only the words the amendment changes, and the rest of the
/// body keeps its authors; over later edits it is refused `body-moved-on` unless asked, and
/// then too only the words that differ are rewritten.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accepting_rewrites_only_the_changed_words_and_keeps_every_other_author(
) -> anyhow::Result<()> {
    let room = Room::start().await?;
    let che_chair = room.server.token("carla", "CHE", Role::Facilitator, DOC);
    let p1 = body_of("p1");
    // The body by three hands: the import, UN and CHE facilitators.
    let mut un = room.connect(&room.chair).await?;
    let seq = un.insert_into(&p1, 0, "Member States ")?;
    un.wait_acked(seq).await?;
    let mut che = room.connect(&che_chair).await?;
    che.wait_text_of(&p1, |t| t.starts_with("Member States"))
        .await?;
    let seq = che.insert_into(&p1, utf16("Member States Commit to "), "fully ")?;
    che.wait_acked(seq).await?;
    // "Member States Commit to fully cooperate." MEX amends one word.
    let created = room
        .command(&room.mex, r#"{"type":"create-amendment","paragraph":"p1"}"#)
        .await?;
    let a: Value = serde_json::from_str(&created)?;
    let a = a["id"].as_str().unwrap_or_default().to_string();
    let mut mex = room.connect(&room.mex).await?;
    let text = concord_tests::client::amendment_text(&a);
    mex.wait_text_of(&text, |t| t.contains("fully")).await?;
    let from = utf16("Member States Commit to ");
    let seq = mex.edit(&text, |t, txn| {
        use yrs::Text;
        t.remove_range(txn, from, utf16("fully"));
        t.insert(txn, from, "jointly");
    })?;
    mex.wait_acked(seq).await?;
    let before = attribution(&room, "p1").await?;

    // Later edits by UN: accepting is refused until asked, then overwrites only the word.
    let seq = un.insert_into(
        &p1,
        utf16("Member States Commit to fully cooperate"),
        " now",
    )?;
    un.wait_acked(seq).await?;
    let accept = format!(r#"{{"type":"accept","amendment":"{a}"}}"#);
    let (status, body) = room.post(&room.chair, &accept).await?;
    assert_eq!(status, 409, "{body}");
    assert!(body.contains("body-moved-on"), "{body}");
    let accept = format!(r#"{{"type":"accept","amendment":"{a}","over_later_edits":true}}"#);
    room.command(&room.chair, &accept).await?;
    let after = attribution(&room, "p1").await?;
    let text_after: String = after.iter().map(|(t, _, _)| t.as_str()).collect();
    assert_eq!(text_after, "Member States Commit to jointly cooperate.");
    let by = |runs: &[(String, String, bool)], word: &str| {
        runs.iter()
            .find(|(t, _, _)| t.contains(word))
            .map(|(_, m, s)| (m.clone(), *s))
    };
    assert_eq!(
        by(&before, "Member"),
        by(&after, "Member"),
        "{before:?} -> {after:?}"
    );
    assert_eq!(
        by(&after, "Member"),
        Some(("UN".into(), false)),
        "{after:?}"
    );
    assert_eq!(
        by(&after, "cooperate"),
        by(&before, "cooperate"),
        "{after:?}"
    );
    assert_eq!(by(&after, "jointly"), Some(("-".into(), true)), "{after:?}");
    // Only "fully" and " now" went: what was deleted is credited to who wrote it.
    let answer = room
        .get_json(&room.chair, "/paragraphs/p1/attribution")
        .await?;
    let deleted: Vec<(String, String)> = answer["deletions"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|d| {
            (
                d["text"].as_str().unwrap_or_default().to_string(),
                d["written_by"].as_str().unwrap_or("-").to_string(),
            )
        })
        .collect();
    let gone: String = deleted.iter().map(|(t, _)| t.as_str()).collect();
    assert!(
        !gone.contains("Member") && !gone.contains("cooperate"),
        "acceptance rewrote words it does not change: {deleted:?}"
    );
    Ok(())
}

/// Guarantee 4: a paragraph split after an accepted amendment, the split-off part with words
/// of several missions; every stretch any comparison credits names a mission that typed it
/// (or the secretariat), never another one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn split_paragraphs_and_accepted_amendments_never_credit_another_mission(
) -> anyhow::Result<()> {
    let room = Room::start().await?;
    room.command(&room.chair, r#"{"type":"publish-revision","name":"Rev 1"}"#)
        .await?;
    let text = concord_tests::client::amendment_text("a2");
    let mut che = room.connect(&room.che).await?;
    let seq = che.insert_into(&text, utf16("Commit to cooperate"), " openly")?;
    che.wait_acked(seq).await?;
    room.command(&room.chair, r#"{"type":"accept","amendment":"a2"}"#)
        .await?;
    let mut un = room.connect(&room.chair).await?;
    let p1 = body_of("p1");
    un.wait_text_of(&p1, |t| t.contains("openly")).await?;
    let seq = un.insert_into(&p1, utf16("Commit to cooperate openly."), " Unchair words.")?;
    un.wait_acked(seq).await?;
    room.command(
        &room.chair,
        &format!(
            r#"{{"type":"split-paragraph","paragraph":"p1","at":{},"label":"1bis"}}"#,
            utf16("Commit to ")
        ),
    )
    .await?;
    room.command(&room.chair, r#"{"type":"publish-revision","name":"Rev 2"}"#)
        .await?;
    for path in ["/compare?from=r1&to=r2", "/compare?from=r1&to=live"] {
        let compared = room.get_json(&room.mex, path).await?;
        for paragraph in ["p1", "p3"] {
            for (text, mission, _) in credits(&compared, paragraph) {
                if text.contains("openly") {
                    assert!(
                        mission == "CHE" || mission == "-",
                        "{path} {text:?}: {mission}"
                    );
                }
                if text.contains("Unchair") {
                    assert!(
                        mission == "UN" || mission == "-",
                        "{path} {text:?}: {mission}"
                    );
                }
                if text.contains("cooperate") {
                    assert_eq!(mission, "-", "{path} {text:?}: imported text");
                }
            }
        }
    }
    Ok(())
}

// ---- 4. hostile queries; 6. bad input -----------------------------------------------------------

/// Guarantee 4: hostile query strings and ids on the revision routes get a clear 4xx (a JSON
/// error naming a code), never a 5xx; the server answers throughout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_revision_queries_get_clear_errors() -> anyhow::Result<()> {
    let room = Room::start().await?;
    room.command(&room.chair, r#"{"type":"publish-revision","name":"Rev 1"}"#)
        .await?;
    let long_id = format!("r{}", "9".repeat(60_000));
    let cases: Vec<(String, u16, &str)> = vec![
        ("/compare?from=r9&to=live".into(), 404, "unknown-revision"),
        ("/compare?from=r1&to=r9".into(), 404, "unknown-revision"),
        ("/compare?from=r01".into(), 404, "unknown-revision"),
        ("/compare?from=R1".into(), 404, "unknown-revision"),
        ("/compare?from=r%EF%BC%91".into(), 404, "unknown-revision"),
        ("/compare?from=r1%00".into(), 404, "unknown-revision"),
        (
            "/compare?from=%2e%2e%2f%2e%2e%2fetc%2fpasswd".into(),
            404,
            "unknown-revision",
        ),
        ("/compare?from=".into(), 404, "unknown-revision"),
        ("/compare?from=%FF%FE".into(), 404, "unknown-revision"),
        ("/compare?to=r1".into(), 400, "invalid-query"),
        ("/compare?from=r1&from=live".into(), 400, "invalid-query"),
        ("/compare?from[]=r1".into(), 400, "invalid-query"),
        (format!("/compare?from={long_id}"), 404, "unknown-revision"),
        ("/revisions/r9".into(), 404, "unknown-revision"),
        (
            "/revisions/..%2F..%2Fetc%2Fpasswd".into(),
            404,
            "unknown-revision",
        ),
        ("/revisions/%00".into(), 404, "unknown-revision"),
        ("/revisions/r1%20".into(), 404, "unknown-revision"),
        (format!("/revisions/{long_id}"), 404, "unknown-revision"),
        ("/amendments/a9/redline".into(), 404, "unknown-amendment"),
        (
            "/amendments/..%2Fa1/redline".into(),
            404,
            "unknown-amendment",
        ),
        (
            "/paragraphs/%00/attribution".into(),
            404,
            "unknown-paragraph",
        ),
    ];
    for (path, status, code) in &cases {
        let (got, body) = room.get(&room.mex, path).await?;
        let shown = &path[..path.len().min(80)];
        assert_eq!(got, *status, "{shown}: {}", &body[..body.len().min(200)]);
        let error: Value = serde_json::from_str(&body)
            .map_err(|e| anyhow::anyhow!("{shown}: not a JSON error ({e}): {body:.200}"))?;
        assert_eq!(error["error"], *code, "{shown}");
    }
    // The same text against itself: nothing changed (not an error).
    for path in [
        "/compare?from=live&to=live",
        "/compare?from=r1&to=r1",
        "/compare?from=latest",
    ] {
        let same = room.get_json(&room.mex, path).await?;
        assert_eq!(same["changed"], 0, "{path}: {same}");
    }
    // A query string far past any sensible size: a 4xx, not a 5xx or a dropped connection.
    let huge = format!("/compare?from={}", "r".repeat(1 << 20));
    let answered = room.get(&room.mex, &huge).await;
    eprintln!(
        "a 1 MiB query string: {:?}",
        answered.as_ref().map(|(s, b)| (*s, b.len()))
    );
    match answered {
        Ok((status, _)) => assert!((400..500).contains(&status), "{status}"),
        Err(err) => panic!("a 1 MiB query string got no answer: {err}"),
    }
    assert_eq!(room.server.health().await["status"], "ok");
    Ok(())
}

/// The code of a REST command's refusal (or "done").
async fn refusal(room: &Room, token: &str, body: &str) -> anyhow::Result<(u16, String)> {
    let (status, answer) = room.post(token, body).await?;
    let code = serde_json::from_str::<Value>(&answer)
        .ok()
        .and_then(|v| v["error"].as_str().map(String::from))
        .unwrap_or_else(|| format!("(not a JSON error: {:.80})", answer));
    Ok((status, if status == 200 { "done".into() } else { code }))
}

/// Guarantee 6: bad input to the revision commands gets a clear error: who may ask, sizes
/// (a 10 MB note over REST and the WebSocket, a theme of 5,001 paragraphs), unknown ids, empty
/// names.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_revision_commands_get_clear_errors() -> anyhow::Result<()> {
    let room = Room::start().await?;
    let big_note = "n".repeat(10 << 20);
    let over_note = "n".repeat(100_001);
    let theme_of = |n: usize| {
        let ids: Vec<String> = (0..n).map(|_| "p1".to_string()).collect();
        serde_json::json!({"type": "set-theme", "name": "Big", "paragraphs": ids}).to_string()
    };
    let cases: Vec<(&str, &String, String, u16, &str)> = vec![
        (
            "a delegation publishing",
            &room.mex,
            r#"{"type":"publish-revision","name":"Rev 1"}"#.into(),
            403,
            "forbidden-role",
        ),
        (
            "an observer publishing",
            &room.ngo,
            r#"{"type":"publish-revision","name":"Rev 1"}"#.into(),
            403,
            "forbidden-role",
        ),
        (
            "a delegation setting observers",
            &room.mex,
            r#"{"type":"set-observers","observers":"published"}"#.into(),
            403,
            "forbidden-role",
        ),
        (
            "a delegation noting a change",
            &room.che,
            r#"{"type":"note-change","paragraph":"p1","note":"x"}"#.into(),
            403,
            "forbidden-role",
        ),
        (
            "a delegation preparing",
            &room.che,
            r#"{"type":"prepare-revision"}"#.into(),
            403,
            "forbidden-role",
        ),
        (
            "a delegation setting a theme",
            &room.che,
            r#"{"type":"set-theme","name":"T"}"#.into(),
            403,
            "forbidden-role",
        ),
        (
            "an empty name",
            &room.chair,
            r#"{"type":"publish-revision","name":"  "}"#.into(),
            400,
            "invalid-argument",
        ),
        (
            "a 129-byte name",
            &room.chair,
            serde_json::json!({"type":"publish-revision","name":"R".repeat(129)}).to_string(),
            413,
            "too-long",
        ),
        (
            "a note over its limit",
            &room.chair,
            serde_json::json!({"type":"publish-revision","name":"Rev 1","note":over_note})
                .to_string(),
            413,
            "too-long",
        ),
        (
            "observers reading something else",
            &room.chair,
            r#"{"type":"set-observers","observers":"everything"}"#.into(),
            400,
            "invalid-command",
        ),
        (
            "a note on an unknown paragraph",
            &room.chair,
            r#"{"type":"note-change","paragraph":"p99","note":"x"}"#.into(),
            404,
            "unknown-paragraph",
        ),
        (
            "a theme of 5,001 paragraphs",
            &room.chair,
            theme_of(5_001),
            413,
            "too-long",
        ),
        (
            "an unknown theme",
            &room.chair,
            r#"{"type":"set-theme","theme":"t7","name":"T"}"#.into(),
            404,
            "unknown-theme",
        ),
        (
            "a theme id of another kind",
            &room.chair,
            r#"{"type":"set-theme","theme":"p1","name":"T"}"#.into(),
            404,
            "unknown-theme",
        ),
        (
            "a theme of an unknown paragraph",
            &room.chair,
            r#"{"type":"set-theme","name":"T","paragraphs":["p1","p99"]}"#.into(),
            404,
            "unknown-paragraph",
        ),
        (
            "a theme without a name",
            &room.chair,
            r#"{"type":"set-theme","name":" "}"#.into(),
            400,
            "invalid-argument",
        ),
    ];
    for (what, token, body, status, code) in &cases {
        let (got, answer) = refusal(&room, token, body).await?;
        assert_eq!((got, answer.as_str()), (*status, *code), "{what}");
    }
    // A theme of 5,000 paragraphs is taken, once each.
    let started = Instant::now();
    let (status, answer) = refusal(&room, &room.chair, &theme_of(5_000)).await?;
    eprintln!("a theme of 5,000 paragraph ids: {:?}", started.elapsed());
    assert_eq!((status, answer.as_str()), (200, "done"));
    // 10 MB: over REST the body limit, over the WebSocket the frame limit, each said.
    let body =
        serde_json::json!({"type":"publish-revision","name":"Rev 1","note":big_note}).to_string();
    let status = post_ignoring_a_closed_write(&room, &room.chair, body.as_bytes()).await?;
    assert_eq!(status, 413);
    let ws = room.connect(&room.chair).await?;
    ws.send_message(&Message::Command(ws_command(
        1,
        Command::PublishRevision {
            name: "Rev 1".into(),
            note: Some(big_note.clone()),
        },
    )))?;
    let close = ws.wait_closed().await?;
    assert_eq!(close.map(|c| c.0), Some(4413));
    // Nothing of it was published; the document works.
    let list = room.get_json(&room.mex, "/revisions").await?;
    assert_eq!(list["revisions"], serde_json::json!([]));
    room.command(&room.chair, r#"{"type":"publish-revision","name":"Rev 1"}"#)
        .await?;
    let (status, answer) = refusal(
        &room,
        &room.chair,
        r#"{"type":"publish-revision","name":"rev 1"}"#,
    )
    .await?;
    assert_eq!((status, answer.as_str()), (409, "revision-name-taken"));
    Ok(())
}

/// Guarantee 6: names with control, bidi and invisible characters are refused with a clear
/// error. A revision's name is frozen for good and printed by `concord revisions` on a
/// terminal: an escape sequence, a NUL or a right-to-left override stored there can never be
/// corrected, and "Rev 1" and "Rev\u{200B} 1" would be two revisions that read alike.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn names_with_control_or_invisible_characters_are_refused() -> anyhow::Result<()> {
    let room = Room::start().await?;
    for name in [
        "Rev\u{0}1",
        "Rev\n1",
        "\u{1b}[2J\u{1b}[31mRev 1",
        "\u{202e}1 veR",
        "Rev\u{200b} 1",
        "Rev 1\u{7f}",
    ] {
        for body in [
            serde_json::json!({"type": "publish-revision", "name": name}),
            serde_json::json!({"type": "set-theme", "name": name}),
        ] {
            let (status, answer) = refusal(&room, &room.chair, &body.to_string()).await?;
            assert_eq!(
                (status, answer.as_str()),
                (400, "invalid-argument"),
                "{body}"
            );
        }
    }
    let list = room.get_json(&room.mex, "/revisions").await?;
    assert_eq!(list["revisions"], serde_json::json!([]), "{list}");
    // Letters of any script, spaces and punctuation are names.
    for name in ["Révision 1", "第一稿", "Rev. 1 (corrigendum)", "مسودة"] {
        let body = serde_json::json!({"type": "publish-revision", "name": name});
        room.command(&room.chair, &body.to_string()).await?;
    }
    Ok(())
}

/// A POST whose body the server may refuse before reading it all (it answers, then closes):
/// the status it answered, read even when writing the rest of the body failed.
async fn post_ignoring_a_closed_write(
    room: &Room,
    token: &str,
    body: &[u8],
) -> anyhow::Result<u16> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = room.server.addr;
    let mut stream = tokio::net::TcpStream::connect(addr).await?;
    let head = format!(
        "POST /api/docs/{DOC}/commands HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer \
         {token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: \
         close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await?;
    let _ = stream.write_all(body).await;
    let mut response = Vec::new();
    let _ = tokio::time::timeout(concord_tests::WAIT, stream.read_to_end(&mut response)).await?;
    let text = String::from_utf8_lossy(&response);
    text.split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| anyhow::anyhow!("no status in {:.200}", text))
}

/// Guarantee 6: a hundred publications in a row. Each is answered, the document stays usable
/// (typing is acknowledged, a new client syncs, observers of published text read the latest)
/// and the first revision is the same bytes at the end. Sizes and times are printed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_publications_in_a_row_leave_the_document_usable() -> anyhow::Result<()> {
    let server = TestServer::start_with(|config| {
        config.limits.messages_per_second = 1_000_000;
        config.limits.burst = 1_000_000;
    })
    .await;
    let room = Room {
        chair: server.token("chair", "UN", Role::Facilitator, DOC),
        mex: server.token("ana", "MEX", Role::Delegation, DOC),
        che: server.token("ben", "CHE", Role::Delegation, DOC),
        ngo: server.token("nora", "NGO-1", Role::Observer, DOC),
        server,
    };
    // Thirty paragraphs of about 500 characters: a 15 KB text.
    let text: Vec<String> = (1..=30)
        .map(|n| {
            let words: Vec<String> = (0..80).map(|w| format!("word{}", (n * w) % 97)).collect();
            format!("[{n}] {}.", words.join(" "))
        })
        .collect();
    let import = serde_json::json!({"type": "import-text", "text": text.join("\n")});
    room.command(&room.chair, &import.to_string()).await?;
    let mut chair = room.connect(&room.chair).await?;
    let mut times = Vec::new();
    for n in 1..=100u32 {
        let paragraph = format!("p{}", 1 + n % 30);
        let target = move |txn: &yrs::TransactionMut| schema::body_text(txn, &paragraph);
        let seq = chair.insert_into(&target, 0, &format!("edit{n} "))?;
        chair.wait_acked(seq).await?;
        let body = serde_json::json!({"type": "publish-revision", "name": format!("Rev {n}")});
        let started = Instant::now();
        let answer = room.command(&room.chair, &body.to_string()).await?;
        times.push(started.elapsed());
        assert_eq!(answer, format!(r#"{{"outcome":"created","id":"r{n}"}}"#));
        if n == 1 {
            let (_, r1) = room.get(&room.mex, "/revisions/r1").await?;
            eprintln!("r1: {} bytes", r1.len());
        }
    }
    let state = room.state().await?;
    let started = Instant::now();
    let list = room.get_json(&room.mex, "/revisions").await?;
    let list_time = started.elapsed();
    let stored: Vec<u64> = list["revisions"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| r["stored_bytes"].as_u64())
        .collect();
    assert_eq!(stored.len(), 100);
    let started = Instant::now();
    let compared = room.get_json(&room.mex, "/compare?from=r1&to=r100").await?;
    let compare_time = started.elapsed();
    assert_eq!(compared["changed"], 30);
    let started = Instant::now();
    let fresh = room.connect(&room.mex).await?;
    let sync_time = started.elapsed();
    let synced = fresh.with_doc(full_state).len();
    eprintln!(
        "100 publications: publish took {:?} (1st), {:?} (100th); revisions stored {}..{} bytes \
         each; full state {} bytes; a new client synced {} bytes in {:?}; list {:?}; compare \
         r1..r100 {:?}",
        times[0],
        times[99],
        stored.iter().min().unwrap_or(&0),
        stored.iter().max().unwrap_or(&0),
        state.len(),
        synced,
        sync_time,
        list_time,
        compare_time,
    );
    // One revision, asked for by many at once: each request reads the whole document into a
    // scratch replica.
    let started = Instant::now();
    let many: Vec<_> = (0..32)
        .map(|_| {
            let (addr, token) = (room.server.addr, room.mex.clone());
            tokio::spawn(async move {
                let auth = format!("Authorization: Bearer {token}");
                http_get_with(addr, &format!("/api/docs/{DOC}/revisions/r1"), &[&auth]).await
            })
        })
        .collect();
    let mut health = std::time::Duration::ZERO;
    while many.iter().any(|r| !r.is_finished()) {
        let t = Instant::now();
        room.server.health().await;
        health = health.max(t.elapsed());
    }
    for request in many {
        assert_eq!(request.await??.0, 200);
    }
    eprintln!(
        "32 requests at once for r1 (23 KB) of a {} byte document: {:?}; /healthz at most {:?}",
        state.len(),
        started.elapsed(),
        health
    );
    let seq = chair.insert_into(&body_of("p1"), 0, "still typing ")?;
    chair.wait_acked(seq).await?;
    room.command(
        &room.chair,
        r#"{"type":"set-observers","observers":"published"}"#,
    )
    .await?;
    let started = Instant::now();
    let observer = room.connect(&room.ngo).await?;
    observer
        .wait_until("the latest revision", |_, doc| {
            schema::revision(&doc.transact(), "r100").is_some()
                && schema::paragraph(&doc.transact(), "p1").is_some()
        })
        .await?;
    eprintln!(
        "an observer of published text synced {} bytes in {:?}",
        observer.with_doc(full_state).len(),
        started.elapsed()
    );
    Ok(())
}

/// Random words from a two-word alphabet: prose Myers finds hardest to diff (few tokens
/// anchor anything), `bytes` long.
fn hostile_body(seed: u64, bytes: usize) -> String {
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut out = String::with_capacity(bytes + 8);
    while out.len() < bytes {
        out.push_str(if rng.bool() { "x " } else { "y " });
    }
    out.truncate(bytes);
    out
}

/// Guarantee 4: pathological bodies near the 20,000-byte limit. Twenty paragraphs rewritten
/// as different random sequences of two words are compared (REST), drafted, published (in the
/// room) and redlined (an amendment of 2 MB typed by its sponsor), while the server is asked
/// for its health and a keystroke is acknowledged: every answer is correct, and the times are
/// printed, not asserted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pathological_bodies_are_compared_exactly_and_the_server_stays_responsive(
) -> anyhow::Result<()> {
    let server = TestServer::start_with(|config| {
        config.limits.messages_per_second = 1_000_000;
        config.limits.burst = 1_000_000;
    })
    .await;
    let room = Room {
        chair: server.token("chair", "UN", Role::Facilitator, DOC),
        mex: server.token("ana", "MEX", Role::Delegation, DOC),
        che: server.token("ben", "CHE", Role::Delegation, DOC),
        ngo: server.token("nora", "NGO-1", Role::Observer, DOC),
        server,
    };
    const PARAGRAPHS: usize = 20;
    let text: Vec<String> = (0..PARAGRAPHS)
        .map(|n| format!("[{}] {}", n + 1, hostile_body(n as u64, 19_990)))
        .collect();
    let import = serde_json::json!({"type": "import-text", "text": text.join("\n")});
    room.command(&room.chair, &import.to_string()).await?;
    room.command(&room.chair, r#"{"type":"publish-revision","name":"Rev 1"}"#)
        .await?;
    let mut chair = room.connect(&room.chair).await?;
    let mut expected = Vec::new();
    for n in 0..PARAGRAPHS {
        let id = format!("p{}", n + 1);
        let new = hostile_body(1000 + n as u64, 19_990);
        let target = move |txn: &yrs::TransactionMut| schema::body_text(txn, &id);
        let seq = chair.edit(&target, |t, txn| {
            use yrs::Text;
            let len = t.len(txn);
            t.remove_range(txn, 0, len);
            t.insert(txn, 0, &new);
        })?;
        chair.wait_acked(seq).await?;
        expected.push(new);
    }
    let created = room
        .command(&room.mex, r#"{"type":"create-amendment","paragraph":"p1"}"#)
        .await?;
    let a: Value = serde_json::from_str(&created)?;
    let a = a["id"].as_str().unwrap_or_default().to_string();
    let mut mex = room.connect(&room.mex).await?;
    let amendment = concord_tests::client::amendment_text(&a);
    for part in 0..4 {
        let seq = mex.append_to(&amendment, &hostile_body(5000 + part, 500_000))?;
        mex.wait_acked(seq).await?;
    }

    let heavy = [
        ("compare r1..live", "/compare?from=r1&to=live".to_string()),
        ("draft", "/draft".to_string()),
        (
            "redline of a 2 MB amendment",
            format!("/amendments/{a}/redline"),
        ),
    ];
    for (what, path) in &heavy {
        let (addr, token, path) = (room.server.addr, room.mex.clone(), path.clone());
        let started = Instant::now();
        let request = tokio::spawn(async move {
            let auth = format!("Authorization: Bearer {token}");
            let answer = http_get_with(addr, &format!("/api/docs/{DOC}{path}"), &[&auth]).await;
            (answer, started.elapsed())
        });
        let (health, keystroke) = responsiveness(&room, &mut chair, &request).await?;
        let (answer, took) = request.await?;
        let (status, body) = answer?;
        assert_eq!(status, 200, "{what}: {body:.200}");
        eprintln!(
            "{what}: {took:?} for {} bytes; meanwhile /healthz took at most {health:?}, a \
             keystroke's ack at most {keystroke:?}",
            body.len()
        );
        if what.starts_with("compare") {
            // Exact: the kept and inserted pieces of each paragraph give the new body.
            let compared: Value = serde_json::from_str(&body)?;
            for (n, new) in expected.iter().enumerate() {
                let id = format!("p{}", n + 1);
                let rebuilt: String = compared["paragraphs"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter(|p| p["id"] == id.as_str())
                    .flat_map(|p| p["pieces"].as_array().cloned().unwrap_or_default())
                    .filter(|piece| piece["op"] != "delete")
                    .map(|piece| piece["text"].as_str().unwrap_or_default().to_string())
                    .collect();
                assert_eq!(&rebuilt, new, "{id} is not what it reads");
            }
        }
    }
    // Several at once, from the amendment's own sponsor (within its mission's rate): the
    // server's other work (its health, another document's keystrokes) goes on meanwhile.
    let other_doc = format!("{DOC}-quiet");
    let quiet = room.server.draft(&other_doc).await?;
    let mut other = Client::connect(&quiet).await?;
    let started = Instant::now();
    let many: Vec<_> = (0..4)
        .map(|_| {
            let (addr, token) = (room.server.addr, room.mex.clone());
            let path = format!("/api/docs/{DOC}/amendments/{a}/redline");
            tokio::spawn(async move {
                let auth = format!("Authorization: Bearer {token}");
                http_get_with(addr, &path, &[&auth]).await
            })
        })
        .collect();
    let (mut health, mut keystroke) = (std::time::Duration::ZERO, std::time::Duration::ZERO);
    while many.iter().any(|r| !r.is_finished()) {
        let t = Instant::now();
        room.server.health().await;
        health = health.max(t.elapsed());
        let t = Instant::now();
        let seq = other.insert(0, "k")?;
        other.wait_acked(seq).await?;
        keystroke = keystroke.max(t.elapsed());
    }
    for request in many {
        assert_eq!(request.await??.0, 200);
    }
    eprintln!(
        "4 redlines at once: {:?}; meanwhile /healthz took at most {health:?}, a keystroke in \
         another document at most {keystroke:?}",
        started.elapsed()
    );
    // Publishing runs the change notes in the room itself.
    let (addr, token) = (room.server.addr, room.chair.clone());
    let started = Instant::now();
    let publish = tokio::spawn(async move {
        let answer = http_post_json(
            addr,
            &format!("/api/docs/{DOC}/commands"),
            &token,
            r#"{"type":"publish-revision","name":"Rev 2"}"#,
        )
        .await;
        (answer, started.elapsed())
    });
    let (health, keystroke) = responsiveness(&room, &mut chair, &publish).await?;
    let (answer, took) = publish.await?;
    assert_eq!(answer?.0, 200);
    let list = room.get_json(&room.mex, "/revisions").await?;
    eprintln!(
        "Rev 2 (20 paragraphs of 20 KB and a 2 MB open amendment) stored {} bytes",
        list["revisions"][1]["stored_bytes"]
    );
    eprintln!(
        "publish of 20 hostile paragraphs: {took:?}; meanwhile /healthz at most {health:?}, a \
         keystroke's ack (same room) at most {keystroke:?}"
    );
    Ok(())
}

/// While `request` runs: the longest /healthz answer and the longest keystroke
/// acknowledgement (the same document's room), measured back to back.
async fn responsiveness<T>(
    room: &Room,
    chair: &mut Client,
    request: &tokio::task::JoinHandle<T>,
) -> anyhow::Result<(std::time::Duration, std::time::Duration)> {
    let (mut health, mut keystroke) = (std::time::Duration::ZERO, std::time::Duration::ZERO);
    let mut rounds = 0;
    while !request.is_finished() || rounds == 0 {
        rounds += 1;
        let started = Instant::now();
        room.server.health().await;
        health = health.max(started.elapsed());
        let started = Instant::now();
        let seq = chair.insert_into(&body_of("p20"), 0, "k")?;
        chair.wait_acked(seq).await?;
        keystroke = keystroke.max(started.elapsed());
    }
    Ok((health, keystroke))
}

/// Guarantee 3, loading: a document of published text only, with a long log of live typing
/// after its revision, is loaded afresh while an observer connects (over the WebSocket and
/// REST at once), a delegation joins early (it is answered from the stored bytes while the
/// log is integrated), and presence flows. The observer gets the published view only: no live
/// text, no presence, no live state.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_observer_connecting_while_the_room_loads_a_long_log_reads_published_text_only(
) -> anyhow::Result<()> {
    let room = Room::start_with(|config| {
        config.snapshot_every = 1_000_000;
        config.limits.messages_per_second = 1_000_000;
        config.limits.burst = 1_000_000;
    })
    .await?;
    room.command(
        &room.chair,
        r#"{"type":"set-observers","observers":"published"}"#,
    )
    .await?;
    room.command(&room.chair, r#"{"type":"publish-revision","name":"Rev 1"}"#)
        .await?;
    let mut chair = room.connect(&room.chair).await?;
    let mut last = 0;
    for i in 0..4000u32 {
        let text = if i % 500 == 0 { MARKER } else { "x" };
        last = chair.insert_into(&body_of("p2"), 0, text)?;
    }
    chair.wait_acked(last).await?;
    chair.close();
    let room = Room {
        server: room.server.restart().await,
        ..room
    };

    // All at once, on the cold document.
    let (ngo_url, mex_url) = (room.url(&room.ngo), room.url(&room.mex));
    let observer = tokio::spawn(async move { Client::connect(&ngo_url).await });
    let delegation = tokio::spawn(async move { Client::connect(&mex_url).await });
    let (status, state) = room.get(&room.ngo, "/state").await?;
    let observer = observer.await??;
    let delegation = delegation.await??;
    assert_eq!(status, 200);
    assert!(
        !state.contains(MARKER),
        "REST state during the load leaked live text"
    );
    assert!(
        received(&delegation, MARKER),
        "the delegation reads the live text"
    );
    presence(&delegation, 1, &delegation, 1).await?;
    observer.send_message(&Message::QueryAwareness)?;
    observer
        .wait_until("the published text", |_, doc| {
            schema::paragraph(&doc.transact(), "p2").is_some()
        })
        .await?;
    // Something the room answers after the presence and the query: a command's answer.
    observer.send_message(&Message::Command(ws_command(
        1,
        Command::PublishRevision {
            name: "Rev 2".into(),
            note: None,
        },
    )))?;
    observer
        .wait_until("an answer", |seen, _| !seen.command_results.is_empty())
        .await?;
    let seen = observer.seen();
    match &seen.command_results[0].result {
        Reply::Error(e) => assert_eq!(e.code, "forbidden-role"),
        Reply::Ok(o) => panic!("an observer published: {o:?}"),
    }
    assert!(
        seen.awareness.is_empty(),
        "presence reached an observer of published text"
    );
    assert!(
        !received(&observer, MARKER),
        "live text reached an observer while loading"
    );
    Ok(())
}

/// Guarantee 3, the other way: while `set-observers live` is not yet durable the document is
/// still one whose observers read published text only. An observer connecting then must not
/// be greeted as a live one (the live state vector, everyone's presence) nor be answered with
/// presence: the write fails, and observers never were allowed live.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_observer_joining_while_a_switch_to_live_is_not_durable_gets_nothing_live(
) -> anyhow::Result<()> {
    use concord_protocol::awareness::{encode_awareness, AwarenessEntry};
    let data = TempDir::new("switch-live");
    let mut room = Faulty::start(&data).await?;
    room.command(
        &room.chair,
        r#"{"type":"set-observers","observers":"published"}"#,
    )
    .await?;
    let chair = Client::connect(&room.url(&room.chair)).await?;
    // Its answer to the sync (an update with nothing new, a barrier in the log) is durable:
    // the first write held below is the command's.
    chair.wait_acked(chair.sent()).await?;
    let cursor = format!(r#"{{"user":"{MARKER}","cursor":{{"paragraph":"p1","at":3}}}}"#);
    let publish_presence = |clock: u32| -> anyhow::Result<()> {
        let client = chair.with_doc(|doc| doc.client_id().get());
        let update = encode_awareness([AwarenessEntry {
            client,
            clock,
            state: &cursor,
        }]);
        chair.send_message(&Message::Awareness(&update))?;
        Ok(())
    };
    publish_presence(1)?;
    chair
        .wait_until("its presence", |seen, _| !seen.awareness.is_empty())
        .await?;

    room.server.fault("hold").await?;
    chair.send_message(&Message::Command(ws_command(
        1,
        Command::SetObservers {
            observers: ObserverView::Live,
        },
    )))?;
    room.server.wait_held(1).await?;
    // The observer joins, asks for presence, then sends a text frame: read only once the
    // join is done, it closes the connection (4400) after whatever was queued for it.
    let mut raw = RawSocket::connect(&room.url(&room.ngo)).await?;
    raw.send_binary(Message::QueryAwareness.encode()).await?;
    raw.send_text("joined?").await?;
    let frames = frames_until_closed(&mut raw).await?;
    room.server.fault("fail").await?;
    let (mut presence, mut live_state_vectors) = (0, 0);
    for message in frames
        .iter()
        .filter_map(|f| Message::decode_frame(f).ok())
        .flatten()
    {
        match message {
            Message::Awareness(_) => presence += 1,
            Message::SyncStep1(sv)
                if sv.iter().any(|(client, _)| {
                    !concord_protocol::revision::is_view_client_id(client.get())
                }) =>
            {
                live_state_vectors += 1
            }
            _ => {}
        }
    }
    room.server.fault("pass").await?;
    // The room failed (its connections closed with 1011); the next one loads what is durable.
    assert_eq!(chair.wait_closed().await?.map(|c| c.0), Some(1011));
    Client::connect(&room.url(&room.chair)).await?;
    let list: Value = serde_json::from_str(&room.get(&room.chair, "/revisions").await?.1)?;
    assert_eq!(
        list["observers"], "published",
        "the switch was never stored"
    );
    assert_eq!(
        (presence, live_state_vectors),
        (0, 0),
        "an observer of published text was greeted as a live one (presence frames, live state \
         vectors)"
    );
    // Once a switch to live is durable, observers reading published text are renewed and
    // read live.
    let reader = Client::connect(&room.url(&room.ngo)).await?;
    room.command(
        &room.chair,
        r#"{"type":"set-observers","observers":"live"}"#,
    )
    .await?;
    assert_eq!(reader.wait_closed().await?.map(|c| c.0), Some(4001));
    let live = Client::connect(&room.url(&room.ngo)).await?;
    live.wait_text(|t| t == "Commit to cooperate.").await?;
    room.server.kill().await;
    Ok(())
}

/// Every binary frame until the server closes.
async fn frames_until_closed(raw: &mut RawSocket) -> anyhow::Result<Vec<Vec<u8>>> {
    use futures_util::StreamExt;
    use tokio_tungstenite::tungstenite::Message as WsMessage;
    let read = async {
        let mut frames = Vec::new();
        while let Some(frame) = raw.ws.next().await {
            match frame {
                Ok(WsMessage::Binary(bytes)) => frames.push(bytes.to_vec()),
                Ok(WsMessage::Close(_)) | Err(_) => break,
                Ok(_) => {}
            }
        }
        frames
    };
    Ok(tokio::time::timeout(concord_tests::WAIT, read).await?)
}

/// Guarantee 6: the cover letter a revision freezes is held to the same limit whether it is
/// given with the command (`note`, 100,000 bytes) or typed into the letter beforehand: typed
/// past the limit, publishing says so (`too-long`) rather than freezing it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_typed_cover_letter_over_the_limit_is_refused_at_publication() -> anyhow::Result<()> {
    let room = Room::start().await?;
    room.command(&room.chair, r#"{"type":"prepare-revision"}"#)
        .await?;
    let mut chair = room.connect(&room.chair).await?;
    let letter = |txn: &yrs::TransactionMut| schema::cover_note_text(txn);
    let seq = chair.insert_into(&letter, 0, &"Excellencies, ".repeat(10_000))?;
    chair.wait_acked(seq).await?;
    let (status, answer) = refusal(
        &room,
        &room.chair,
        r#"{"type":"publish-revision","name":"Rev 1"}"#,
    )
    .await?;
    assert_eq!((status, answer.as_str()), (413, "too-long"));
    // Cut to size, it is published.
    let seq = chair.edit(&letter, |t, txn| {
        use yrs::Text;
        t.remove_range(txn, 0, 14 * 9_000);
    })?;
    chair.wait_acked(seq).await?;
    room.command(&room.chair, r#"{"type":"publish-revision","name":"Rev 1"}"#)
        .await?;
    Ok(())
}

/// Guarantee 3, stock behaviour, what the reader reads: a stock client that kept the view of
/// Rev 1 across the 4001 and merges the view of Rev 2 into it must read Rev 2, each paragraph
/// once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stock_observer_merging_the_next_view_into_its_old_one_reads_the_new_revision(
) -> anyhow::Result<()> {
    let room = Room::start().await?;
    room.command(
        &room.chair,
        r#"{"type":"set-observers","observers":"published"}"#,
    )
    .await?;
    room.command(&room.chair, r#"{"type":"publish-revision","name":"Rev 1"}"#)
        .await?;
    let first = room.connect(&room.ngo).await?;
    let r1_view = first.with_doc(full_state);
    room.command(
        &room.chair,
        r#"{"type":"add-paragraph","after":"p2","label":"3","kind":"operative","body":"New."}"#,
    )
    .await?;
    room.command(&room.chair, r#"{"type":"publish-revision","name":"Rev 2"}"#)
        .await?;
    assert_eq!(first.wait_closed().await?.map(|c| c.0), Some(4001));
    let second = room.connect(&room.ngo).await?;
    let r2_view = second.with_doc(full_state);
    let merged = yrs::Doc::new();
    for state in [&r1_view, &r2_view] {
        merged
            .transact_mut()
            .apply_update(yrs::updates::decoder::Decode::decode_v1(state)?)?;
    }
    let ids: Vec<String> = schema::paragraphs(&merged.transact())
        .into_iter()
        .map(|p| p.id)
        .collect();
    assert_eq!(
        ids,
        ["p1", "p2", "p3"],
        "the merged replica reads otherwise"
    );
    Ok(())
}

/// Guarantee 3 with a real stock client (npm `yjs` + `y-websocket`, which reconnects on its own
/// with the replica it has): an observer of published text reads Rev 1, is closed with 4001
/// when Rev 2 is published, reconnects, and reads Rev 2; it is never refused (4403) for
/// sending back the view it was served.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stock_yjs_observer_reads_the_next_revision_after_4001() -> anyhow::Result<()> {
    use tokio::io::{AsyncBufReadExt, BufReader};
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("interop");
    if !dir.join("node_modules/y-websocket").exists() {
        anyhow::bail!(
            "tests/interop/node_modules is missing: run scripts/test.sh (it runs npm ci)"
        );
    }
    let room = Room::start().await?;
    room.command(
        &room.chair,
        r#"{"type":"set-observers","observers":"published"}"#,
    )
    .await?;
    room.command(&room.chair, r#"{"type":"publish-revision","name":"Rev 1"}"#)
        .await?;
    let mut node = tokio::process::Command::new("node")
        .current_dir(&dir)
        .env("CONCORD_TOKEN", &room.ngo)
        .arg("yjs-observer.mjs")
        .arg(format!("ws://{}/ws", room.server.addr))
        .arg(DOC)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::inherit())
        .kill_on_drop(true)
        .spawn()?;
    let stdout = node
        .stdout
        .take()
        .ok_or_else(|| anyhow::anyhow!("stdout"))?;
    let mut lines = BufReader::new(stdout).lines();
    let mut printed = Vec::new();
    let mut next = async || -> anyhow::Result<String> {
        let line = tokio::time::timeout(concord_tests::WAIT, lines.next_line())
            .await??
            .ok_or_else(|| anyhow::anyhow!("the observer exited"))?;
        Ok(line)
    };
    let first = next().await?;
    assert_eq!(first, "READ p1,p2 Commit to cooperate.");
    printed.push(first);

    room.command(
        &room.chair,
        r#"{"type":"add-paragraph","after":"p2","label":"3","kind":"operative","body":"New."}"#,
    )
    .await?;
    room.command(&room.chair, r#"{"type":"publish-revision","name":"Rev 2"}"#)
        .await?;
    loop {
        let line = next().await?;
        printed.push(line.clone());
        assert_ne!(
            line, "CLOSED 4403",
            "refused for what it was served: {printed:?}"
        );
        if line.starts_with("READ") && line.contains("p3") {
            break;
        }
    }
    assert!(printed.contains(&"CLOSED 4001".to_string()), "{printed:?}");
    // It answered the server's sync step 1 (with the view of Rev 1 it kept) before it read
    // Rev 2. The next close it gets is the next publication's, not a refusal.
    room.command(&room.chair, r#"{"type":"publish-revision","name":"Rev 3"}"#)
        .await?;
    let closed = loop {
        let line = next().await?;
        printed.push(line.clone());
        if line.starts_with("CLOSED") {
            break line;
        }
    };
    assert_eq!(closed, "CLOSED 4001", "{printed:?}");
    eprintln!("the stock observer printed {printed:?}");
    let _ = node.kill().await;
    Ok(())
}
