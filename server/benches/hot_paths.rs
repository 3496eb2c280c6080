//! Micro-benchmarks of the paths every keystroke takes through the server:
//! decode the frame, scan the update (the pre-check before yrs), decode and apply it to a
//! document the size of the Global Compact, encode the broadcast frame once, merge a batch,
//! and append to durable storage.
//!
//! Run: `cargo bench -p concord-server --bench hot_paths`

use std::sync::Arc;

use bytes::Bytes;
use concord_protocol::message::encode_update_frame;
use concord_protocol::update::scan_update_v1;
use concord_protocol::Message;
use concord_server::document::new_replica;
use concord_server::storage::sqlite::SqliteLog;
use concord_server::storage::DocumentLog;
use divan::Bencher;
use yrs::updates::decoder::Decode;
use yrs::{Doc, ReadTxn, StateVector, Text, Transact, Update};

fn main() {
    divan::main();
}

/// A document shaped like the Global Compact for Migration: 54 paragraphs, ~16,000 words,
/// typed by a few clients, plus the update of one more keystroke by a delegate.
struct Fixture {
    state: Vec<u8>,
    keystroke: Vec<u8>,
    keystroke_frame: Vec<u8>,
}

fn fixture() -> Fixture {
    let source = Doc::with_client_id(1);
    let text = source.get_or_insert_text("text");
    let mut rng = fastrand::Rng::with_seed(54);
    for paragraph in 0..54 {
        let words: Vec<String> = (0..300)
            .map(|_| (0..rng.usize(3..9)).map(|_| rng.lowercase()).collect())
            .collect();
        let mut txn = source.transact_mut();
        let len = text.len(&txn);
        text.insert(
            &mut txn,
            len,
            &format!("{}. {}\n", paragraph + 1, words.join(" ")),
        );
    }
    let state = source
        .transact()
        .encode_state_as_update_v1(&StateVector::default());
    let delegate = Doc::with_client_id(2);
    delegate
        .transact_mut()
        .apply_update(Update::decode_v1(&state).expect("decodes"))
        .expect("applies");
    let typed = delegate.get_or_insert_text("text");
    let keystroke = {
        let mut txn = delegate.transact_mut();
        typed.insert(&mut txn, 5_000, "s");
        txn.encode_update_v1()
    };
    let keystroke_frame = Message::Update(&keystroke).encode();
    Fixture {
        state,
        keystroke,
        keystroke_frame,
    }
}

/// A replica holding `state`, warmed by one read: the first transaction after a load costs
/// ~30 µs more (once per load), which is not what a keystroke costs.
fn loaded(state: &[u8]) -> Doc {
    let doc = new_replica();
    doc.transact_mut()
        .apply_update(Update::decode_v1(state).expect("decodes"))
        .expect("applies");
    let text = doc.get_or_insert_text("text");
    divan::black_box(text.len(&doc.transact()));
    doc
}

#[divan::bench]
fn decode_frame(bencher: Bencher) {
    let f = fixture();
    bencher.bench(|| Message::decode_frame(divan::black_box(&f.keystroke_frame)).map(|m| m.len()));
}

#[divan::bench]
fn scan_update(bencher: Bencher) {
    let f = fixture();
    bencher.bench(|| scan_update_v1(divan::black_box(&f.keystroke)).map(|s| s.blocks.len()));
}

/// What the room does with a keystroke: decode and integrate it into a 16,000-word document.
/// (Many samples: the first hundred keystrokes of a cold process cost several times more.)
#[divan::bench(sample_count = 2000)]
fn decode_and_apply_keystroke(bencher: Bencher) {
    let f = fixture();
    bencher
        .with_inputs(|| loaded(&f.state))
        .bench_local_values(|doc| {
            let update = Update::decode_v1(&f.keystroke).expect("decodes");
            doc.transact_mut().apply_update(update).expect("applies");
            doc
        });
}

/// The whole per-keystroke CPU path before storage: decode the frame, scan, decode, apply.
#[divan::bench(sample_count = 2000)]
fn keystroke_path(bencher: Bencher) {
    let f = fixture();
    bencher
        .with_inputs(|| loaded(&f.state))
        .bench_local_values(|doc| {
            let messages = Message::decode_frame(&f.keystroke_frame).expect("frame");
            if let Some(Message::Update(update)) = messages.first() {
                scan_update_v1(update).expect("scans");
                let decoded = Update::decode_v1(update).expect("decodes");
                doc.transact_mut().apply_update(decoded).expect("applies");
            }
            doc
        });
}

#[divan::bench]
fn encode_broadcast_frame(bencher: Bencher) {
    let f = fixture();
    bencher.bench(|| Bytes::from(encode_update_frame(divan::black_box(&f.keystroke))));
}

/// Ten queued keystrokes leaving the room as one merged frame.
#[divan::bench]
fn merge_ten_updates(bencher: Bencher) {
    let f = fixture();
    let doc = loaded(&f.state);
    let text = doc.get_or_insert_text("text");
    let updates: Vec<Vec<u8>> = (0..10)
        .map(|i| {
            let mut txn = doc.transact_mut();
            text.insert(&mut txn, 100 * i, "x");
            txn.encode_update_v1()
        })
        .collect();
    bencher.bench(|| yrs::merge_updates_v1(updates.iter().map(Vec::as_slice)).map(|m| m.len()));
}

/// Durable appends, 1,000 at a time (group commit: one fsync serves many), by one delegate
/// typing: time per append. Their audit records are one run, extended by each.
#[divan::bench(sample_count = 10, sample_size = 1)]
fn durable_append_batch_of_1000(bencher: Bencher) {
    durable_appends(
        bencher.counter(divan::counter::ItemsCount::new(1000usize)),
        1000,
        &["MEX"],
    );
}

/// The same, by two missions taking turns keystroke by keystroke: every append writes a new
/// audit record (the worst case for the audit).
#[divan::bench(sample_count = 10, sample_size = 1)]
fn durable_append_batch_of_1000_two_missions_in_turn(bencher: Bencher) {
    durable_appends(
        bencher.counter(divan::counter::ItemsCount::new(1000usize)),
        1000,
        &["MEX", "CHE"],
    );
}

/// One durable append on its own: the latency a lone keystroke waits for its `Ack`.
#[divan::bench(sample_count = 20, sample_size = 1)]
fn durable_append_alone(bencher: Bencher) {
    durable_appends(bencher, 1, &["MEX"]);
}

/// Appends `batch` keystrokes by `missions` in turn to a fresh SQLite log and waits until the
/// last is durable.
fn durable_appends(bencher: Bencher, batch: usize, missions: &[&str]) {
    let f = fixture();
    let dir = std::env::temp_dir().join(format!("concord-bench-{}", fastrand::u64(..)));
    let log = Arc::new(SqliteLog::open(&dir).expect("storage"));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    // A keystroke and its audit record, as the room logs it, for each mission.
    let entries: Vec<concord_server::storage::LogEntry> = missions
        .iter()
        .map(|mission| concord_server::storage::LogEntry {
            update: Bytes::from(f.keystroke.clone()),
            record: concord_server::audit::AuditRecord {
                at_ms: 1_790_000_000_000,
                until_ms: 1_790_000_000_000,
                updates: 1,
                person: format!("{mission}-delegate"),
                mission: (*mission).into(),
                action: "update".into(),
                paragraphs: vec!["p17".into()],
                deleted: Vec::new(),
                claims: Vec::new(),
            },
        })
        .collect();
    let entry = |i: usize| entries[i % entries.len()].clone();
    bencher.bench(|| {
        runtime.block_on(async {
            let (tx, rx) = tokio::sync::oneshot::channel();
            for i in 1..batch {
                log.append("bench", entry(i), Box::new(|_| {}));
            }
            log.append(
                "bench",
                entry(0),
                Box::new(move |r| {
                    let _ = tx.send(r);
                }),
            );
            rx.await.expect("completion").expect("durable")
        })
    });
    runtime.block_on(log.close()).expect("close");
    let _ = std::fs::remove_dir_all(dir);
}

/// The update policy on one facilitator keystroke in paragraph 17 of a 54-paragraph
/// negotiation with three amendments: scan the update, resolve its branch, decide.
#[divan::bench(sample_count = 2000)]
fn policy_check_keystroke(bencher: Bencher) {
    use concord_protocol::command::{execute, Command, Context};
    use concord_protocol::policy::{check, Actor, PolicyState};
    use concord_protocol::schema::{self, ParagraphKind};
    use concord_protocol::Role;

    let server = Doc::with_client_id(1);
    let chair = Actor {
        role: Role::Facilitator,
        mission: "UN",
    };
    let ctx = Context {
        actor: chair,
        person: "chair",
        now_ms: 0,
    };
    let mut rng = fastrand::Rng::with_seed(17);
    let mut after = None;
    for n in 1..=54 {
        let words: Vec<String> = (0..300)
            .map(|_| (0..rng.usize(3..9)).map(|_| rng.lowercase()).collect())
            .collect();
        let add = Command::AddParagraph {
            after: after.clone(),
            label: n.to_string(),
            kind: ParagraphKind::Operative,
            parent: None,
            body: words.join(" "),
        };
        execute(&mut server.transact_mut(), ctx, &add).expect("paragraph");
        after = Some(format!("p{n}"));
    }
    for mission in ["MEX", "CHE", "EU"] {
        let amend = Command::CreateAmendment {
            paragraph: "p17".into(),
            new_after: false,
            on_behalf_of: None,
            rationale: String::new(),
        };
        let delegation = Context {
            actor: Actor {
                role: Role::Delegation,
                mission,
            },
            person: "d",
            now_ms: 0,
        };
        execute(&mut server.transact_mut(), delegation, &amend).expect("amendment");
    }
    let state = PolicyState::from_replica(&server.transact());
    let client = Doc::with_client_id(2);
    let full = server
        .transact()
        .encode_state_as_update_v1(&StateVector::default());
    client
        .transact_mut()
        .apply_update(Update::decode_v1(&full).expect("decodes"))
        .expect("applies");
    let body = schema::body_text(&client.transact(), "p17").expect("p17");
    let keystroke = {
        let mut txn = client.transact_mut();
        body.insert(&mut txn, 1000, "s");
        txn.encode_update_v1()
    };
    // Measure the accepting path (the full resolution), not an early refusal.
    let scanned = scan_update_v1(&keystroke).expect("scans");
    check(&scanned, &state, chair).expect("a facilitator may type in an unlocked body");
    bencher.bench(|| {
        let scanned = scan_update_v1(divan::black_box(&keystroke)).expect("scans");
        check(&scanned, &state, chair).map(|v| v.items.len())
    });
}
