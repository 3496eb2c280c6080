//! Publishing a revision and comparing it with the live text, on the heavy case of the domain
//! notes (a 420-paragraph compilation text, most paragraphs bracketed: an open amendment on
//! three in four, a hundred paragraphs edited since) and on the Global Compact's shape (the
//! demo: 54 numbered paragraphs with 190 actions and headings, 260 in all, as the demo's
//! Rev 1). Also prints the stored size of each revision.
//!
//! Also every export of the compilation text, with its size.
//!
//! Run: `cargo bench -p concord-server --bench revisions`
//! Targets (server side, 420 paragraphs): publish under 100 ms, compare under 50 ms, a
//! status change (with the day's progress point) under 5 ms.

use concord_protocol::command::{Command, Outcome};
use concord_protocol::schema;
use concord_protocol::Role;
use concord_server::document::{Author, DocumentCore};
use concord_server::revisions::{compare_sides, replica, Side};
use concord_server::storage::StoredDocument;
use divan::Bencher;
use yrs::updates::decoder::Decode;
use yrs::{Doc, ReadTxn, Text, Transact, Update};

fn main() {
    divan::main();
}

const CHAIR: Author<'static> = Author {
    role: Role::Facilitator,
    mission: "UN",
    person: "chair",
};

/// A compilation text: `paragraphs` paragraphs of about 60 words.
fn compilation_text(paragraphs: usize) -> String {
    let mut rng = fastrand::Rng::with_seed(420);
    let mut out = String::new();
    for n in 1..=paragraphs {
        let words: Vec<String> = (0..60)
            .map(|_| (0..rng.usize(2..10)).map(|_| rng.lowercase()).collect())
            .collect();
        out.push_str(&format!("[{n}] {}.\n\n", words.join(" ")));
    }
    out
}

/// A facilitator typing through the policy, from a replica of their own.
fn type_into(
    core: &mut DocumentCore,
    typist: &Doc,
    edit: impl FnOnce(&yrs::TransactionMut) -> Option<yrs::TextRef>,
    words: &str,
) {
    let missing = core.diff(&typist.transact().state_vector());
    typist
        .transact_mut()
        .apply_update(Update::decode_v1(&missing).expect("decodes"))
        .expect("applies");
    let update = {
        let mut txn = typist.transact_mut();
        let text = edit(&txn).expect("text");
        text.insert(&mut txn, 0, words);
        txn.encode_update_v1()
    };
    let decoded = Update::decode_v1(&update).expect("decodes");
    core.apply_update(update.into(), decoded, CHAIR, 2)
        .expect("accepted");
}

/// A document with `text`, an amendment typed into on three paragraphs in four, published as
/// Rev 1, then a hundred paragraphs edited: its full state and owners.
fn negotiation(text: String) -> (Vec<u8>, Vec<(u64, String)>) {
    let mut core = DocumentCore::default();
    let (result, _) = core.run_command(CHAIR, &Command::ImportText { text }, 1);
    result.expect("imported");
    let typist = Doc::with_options(yrs::Options {
        client_id: yrs::ClientID::new(7),
        ..schema::replica_options()
    });
    let ids: Vec<String> = schema::paragraphs(&core.doc().transact())
        .into_iter()
        .map(|p| p.id)
        .collect();
    for id in ids.iter().filter(|_| fastrand::u8(..4) != 0) {
        let create = Command::CreateAmendment {
            paragraph: id.clone(),
            new_after: false,
            on_behalf_of: None,
            rationale: "bracketed".into(),
        };
        let (result, _) = core.run_command(CHAIR, &create, 3);
        if let Ok(Outcome::Created { id: a }) = result {
            type_into(
                &mut core,
                &typist,
                |txn| schema::amendment_text(txn, &a),
                "[safe] ",
            );
        }
    }
    let publish = Command::PublishRevision {
        name: "Rev 1".into(),
        note: None,
    };
    let (result, _) = core.run_command(CHAIR, &publish, 4);
    result.expect("published");
    for id in ids.iter().step_by(ids.len().div_ceil(100).max(1)) {
        type_into(
            &mut core,
            &typist,
            |txn| schema::body_text(txn, id),
            "Further, ",
        );
    }
    (core.full_state(), core.owners())
}

fn core_of(state: &[u8], owners: &[(u64, String)]) -> DocumentCore {
    DocumentCore::load(&StoredDocument {
        snapshot: Some(state.to_vec()),
        updates: Vec::new(),
        owners: owners.to_vec(),
    })
    .expect("loads")
}

fn report_size(case: &str, state: &[u8]) {
    if let Some(doc) = replica(state) {
        let txn = doc.transact();
        for (id, json) in schema::revision_ids(&txn) {
            eprintln!(
                "{case}: revision {id} is stored as {} KiB",
                json.len() / 1024
            );
        }
    }
}

fn publish(bencher: Bencher, text: String, case: &str) {
    let (state, owners) = negotiation(text);
    report_size(case, &state);
    let command = Command::PublishRevision {
        name: "Rev 2".into(),
        note: None,
    };
    bencher
        .with_inputs(|| core_of(&state, &owners))
        .bench_local_values(|mut core| {
            let (result, entry) = core.run_command(CHAIR, &command, 5);
            assert!(result.is_ok());
            divan::black_box(entry)
        });
}

fn compare(bencher: Bencher, text: String) {
    let (state, owners) = negotiation(text);
    let doc = replica(&state).expect("decodes");
    let (from, to) = (Side::Revision("r1".into()), Side::Live);
    bencher.bench_local(|| {
        let answer = compare_sides(&doc, &owners, &from, &to).expect("compares");
        divan::black_box(answer.changed)
    });
}

#[divan::bench(sample_count = 10, sample_size = 1)]
fn publish_420_paragraphs(bencher: Bencher) {
    publish(bencher, compilation_text(420), "420 paragraphs");
}

/// A command that moves the progress counts, on 420 paragraphs: its validation, its write and
/// the day's trend point (progress counted again) with it.
#[divan::bench(sample_count = 20, sample_size = 1)]
fn set_status_420_paragraphs(bencher: Bencher) {
    let (state, owners) = negotiation(compilation_text(420));
    let command = Command::SetStatus {
        paragraph: "p7".into(),
        status: schema::ParagraphStatus::AgreedAdRef,
        pending: Vec::new(),
    };
    bencher
        .with_inputs(|| core_of(&state, &owners))
        .bench_local_values(|mut core| {
            let (result, entry) = core.run_command(CHAIR, &command, 86_400_000 * 3);
            assert!(result.is_ok());
            divan::black_box(entry)
        });
}

#[divan::bench(sample_count = 10, sample_size = 1)]
fn compare_420_paragraphs_with_live(bencher: Bencher) {
    compare(bencher, compilation_text(420));
}

#[divan::bench(sample_count = 10, sample_size = 1)]
fn publish_global_compact(bencher: Bencher) {
    publish(bencher, concord_server::demo::gcm_text(), "global compact");
}

#[divan::bench(sample_count = 10, sample_size = 1)]
fn compare_global_compact_with_live(bencher: Bencher) {
    compare(bencher, concord_server::demo::gcm_text());
}

/// What the REST route does per request: a scratch replica of the full state, then compare.
#[divan::bench(sample_count = 10, sample_size = 1)]
fn compare_420_paragraphs_with_live_from_state(bencher: Bencher) {
    let (state, owners) = negotiation(compilation_text(420));
    eprintln!("420 paragraphs: full state {} KiB", state.len() / 1024);
    let (from, to) = (Side::Revision("r1".into()), Side::Live);
    bencher.bench_local(|| {
        let doc = replica(&state).expect("decodes");
        let answer = compare_sides(&doc, &owners, &from, &to).expect("compares");
        divan::black_box(answer.changed)
    });
}

/// Every export of the 420-paragraph compilation text (live, its open amendments inline),
/// with its size; targets: under 100 ms for each format but DOCX, under 300 ms for DOCX.
#[divan::bench(
    sample_count = 10,
    sample_size = 1,
    args = ["md", "clean", "clean-txt", "compilation", "akn", "docx", "docx-redline"]
)]
fn export_420_paragraphs(bencher: Bencher, format: &str) {
    use concord_server::export::{export, redline, Format, Source};
    let (state, owners) = negotiation(compilation_text(420));
    let doc = replica(&state).expect("decodes");
    let run = || {
        let source = Source::read(&doc, "bench", None, 0).expect("reads");
        if format == "docx-redline" {
            let comparison =
                compare_sides(&doc, &owners, &Side::Revision("r1".into()), &Side::Live)
                    .expect("compares");
            redline(&source, &comparison, "UN").bytes.len()
        } else {
            let format = Format::parse(format).expect("a format");
            export(&source, format).bytes.len()
        }
    };
    eprintln!("420 paragraphs, {format}: {} KiB", run() / 1024);
    bencher.bench_local(|| divan::black_box(run()));
}
