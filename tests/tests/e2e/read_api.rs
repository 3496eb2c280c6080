//! The read API: the documents a token may open, a document's model, a paragraph, amendments
//! by status and mission, and the audit trail a page at a time (stable pages), each refusing
//! the wrong token and document with the usual codes.

use concord_protocol::Role;
use concord_tests::{http_get_with, http_post_json, Client, TestServer};
use serde_json::Value;

async fn command(server: &TestServer, doc: &str, token: &str, body: &str) -> anyhow::Result<()> {
    let path = format!("/api/docs/{doc}/commands");
    let (status, answer) = http_post_json(server.addr, &path, token, body).await?;
    anyhow::ensure!(status == 200, "{body} answered {status} {answer}");
    Ok(())
}

async fn get(server: &TestServer, token: &str, path: &str) -> anyhow::Result<(u16, Value)> {
    let auth = format!("Authorization: Bearer {token}");
    let (status, body) = http_get_with(server.addr, path, &[&auth]).await?;
    Ok((
        status,
        serde_json::from_str(&body).unwrap_or(Value::String(body)),
    ))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn integrators_read_documents_paragraphs_amendments_and_a_stable_audit() -> anyhow::Result<()>
{
    let server = TestServer::start().await;
    let chair = server.token("chair", "UN", Role::Facilitator, "gcm,sdg");
    let eu = server.token("eve", "EU", Role::Delegation, "gcm");
    command(
        &server,
        "gcm",
        &chair,
        r#"{"type":"import-text","text":"[1] One.\n[2] Two.\n[3] Three."}"#,
    )
    .await?;
    command(
        &server,
        "sdg",
        &chair,
        r#"{"type":"import-text","text":"[1] Goal."}"#,
    )
    .await?;
    command(
        &server,
        "gcm",
        &eu,
        r#"{"type":"create-amendment","paragraph":"p2"}"#,
    )
    .await?;
    command(
        &server,
        "gcm",
        &eu,
        r#"{"type":"create-amendment","paragraph":"p3"}"#,
    )
    .await?;
    command(
        &server,
        "gcm",
        &eu,
        r#"{"type":"withdraw","amendment":"a2"}"#,
    )
    .await?;
    command(
        &server,
        "gcm",
        &eu,
        r#"{"type":"comment","paragraph":"p1","text":"Why?"}"#,
    )
    .await?;
    command(
        &server,
        "gcm",
        &chair,
        r#"{"type":"lock","paragraph":"p1","reason":"agreed ad ref"}"#,
    )
    .await?;

    let (status, list) = get(&server, &chair, "/api/docs").await?;
    assert_eq!(status, 200, "{list}");
    let ids: Vec<&str> = list["documents"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|d| d["id"].as_str())
        .collect();
    assert_eq!(ids, ["gcm", "sdg"]);
    assert_eq!(list["documents"][0]["paragraphs"]["open"], 3);
    assert_eq!(list["documents"][0]["open_amendments"], 1);
    let (_, mine) = get(&server, &eu, "/api/docs").await?;
    assert_eq!(
        mine["documents"].as_array().map(Vec::len),
        Some(1),
        "{mine}"
    );

    let (status, model) = get(&server, &eu, "/api/docs/gcm").await?;
    assert_eq!(status, 200);
    assert_eq!(model["paragraphs"].as_array().map(Vec::len), Some(3));
    assert_eq!(model["paragraphs"][0]["lock"]["reason"], "agreed ad ref");
    assert_eq!(model["comments"]["p1"][0]["text"], "Why?");
    assert_eq!(model["amendments"].as_array().map(Vec::len), Some(2));

    let (status, p2) = get(&server, &eu, "/api/docs/gcm/paragraphs/p2").await?;
    assert_eq!(status, 200);
    assert_eq!(p2["paragraph"]["body"], "Two.");
    assert_eq!(p2["amendments"][0]["id"], "a1");
    let (status, missing) = get(&server, &eu, "/api/docs/gcm/paragraphs/p9").await?;
    assert_eq!(
        (status, &missing["error"]),
        (404, &Value::from("unknown-paragraph"))
    );

    let (_, open) = get(
        &server,
        &eu,
        "/api/docs/gcm/amendments?status=open&mission=EU",
    )
    .await?;
    let open: Vec<&str> = open["amendments"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|a| a["id"].as_str())
        .collect();
    assert_eq!(open, ["a1"]);
    let (_, none) = get(&server, &eu, "/api/docs/gcm/amendments?mission=CHE").await?;
    assert_eq!(none["amendments"].as_array().map(Vec::len), Some(0));
    let (status, bad) = get(&server, &eu, "/api/docs/gcm/amendments?status=maybe").await?;
    assert_eq!(
        (status, &bad["error"]),
        (400, &Value::from("invalid-query"))
    );

    // Two co-facilitators typing in turn (a record each), then the audit a page at a time.
    let co = server.token("cora", "MEX", Role::Facilitator, "gcm");
    let mut pen = Client::connect(&server.ws_url_with("gcm", &chair)).await?;
    let mut co_pen = Client::connect(&server.ws_url_with("gcm", &co)).await?;
    let body = |txn: &yrs::TransactionMut| concord_protocol::schema::body_text(txn, "p2");
    for i in 0..20 {
        let writer = if i % 2 == 0 { &mut pen } else { &mut co_pen };
        let seq = writer.insert_into(&body, 0, "x")?;
        writer.wait_acked(seq).await?;
    }
    let (_, everything) = get(&server, &chair, "/api/docs/gcm/audit?limit=1000").await?;
    let all: Vec<u64> = numbers(&everything);
    assert!(all.len() >= 26, "{everything}");
    assert!(all.windows(2).all(|w| w[0] < w[1]));
    let mut paged = Vec::new();
    let mut cursor = 0;
    loop {
        let (_, page) = get(
            &server,
            &chair,
            &format!("/api/docs/gcm/audit?limit=7&cursor={cursor}"),
        )
        .await?;
        paged.extend(numbers(&page));
        if cursor == 0 {
            // More records arrive while a reader pages: the pages already read stay as they were.
            let seq = pen.insert_into(&body, 0, "y")?;
            pen.wait_acked(seq).await?;
        }
        match page["next_cursor"].as_u64() {
            Some(next) => cursor = next,
            None => break,
        }
    }
    assert_eq!(&paged[..all.len()], &all[..], "pages are stable");
    assert_eq!(
        paged.len(),
        all.len() + 1,
        "the record added meanwhile comes last"
    );
    // The chair typing on is one record (a run), that says how many updates it stands for.
    for _ in 0..5 {
        let seq = pen.insert_into(&body, 0, "z")?;
        pen.wait_acked(seq).await?;
    }
    let (_, after) = get(&server, &chair, "/api/docs/gcm/audit?limit=1000").await?;
    assert_eq!(numbers(&after), paged, "no record was added");
    let last = after["records"]
        .as_array()
        .and_then(|records| records.last())
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        (&last["person"], &last["action"], &last["updates"]),
        (
            &Value::from("chair"),
            &Value::from("update"),
            &Value::from(6)
        ),
        "{last}"
    );
    assert!(
        last["until_ms"].as_u64() >= last["at_ms"].as_u64(),
        "{last}"
    );
    let (_, eu_records) = get(&server, &chair, "/api/docs/gcm/audit?mission=EU").await?;
    let actions: Vec<&str> = eu_records["records"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| r["action"].as_str())
        .collect();
    assert_eq!(
        actions,
        [
            "create-amendment",
            "create-amendment",
            "withdraw",
            "comment"
        ]
    );
    let (_, on_p3) = get(&server, &chair, "/api/docs/gcm/audit?paragraph=p3").await?;
    assert!(on_p3["records"]
        .as_array()
        .into_iter()
        .flatten()
        .all(|r| r["paragraphs"]
            .as_array()
            .is_some_and(|ps| ps.contains(&Value::from("p3")))));

    // The description of every route, with no token, as committed.
    let (status, described) = concord_tests::http_get(server.addr, "/api/openapi.json").await?;
    assert_eq!(status, 200);
    let committed = include_str!("../../../docs/openapi.json");
    assert_eq!(described, committed);

    // The usual refusals.
    let (status, _) = get(&server, "not-a-token", "/api/docs").await?;
    assert_eq!(status, 401);
    let (status, denied) = get(&server, &eu, "/api/docs/sdg").await?;
    assert_eq!(
        (status, &denied["error"]),
        (403, &Value::from("document-not-allowed"))
    );
    for route in [
        "",
        "/paragraphs/p1",
        "/amendments",
        "/audit",
        "/export?format=md",
    ] {
        let (status, body) = get(&server, &eu, &format!("/api/docs/sdg{route}")).await?;
        assert_eq!(
            (status, &body["error"]),
            (403, &Value::from("document-not-allowed")),
            "{route}"
        );
        let (status, body) = get(&server, "x.y.z", &format!("/api/docs/gcm{route}")).await?;
        assert_eq!(status, 401, "{route}: {body}");
        let (status, _) = get(&server, &eu, &format!("/api/docs/bad%20id{route}")).await?;
        assert_eq!(status, 400, "{route}");
    }
    Ok(())
}

fn numbers(page: &Value) -> Vec<u64> {
    page["records"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| r["n"].as_u64())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn progress_counts_what_the_model_says() -> anyhow::Result<()> {
    let server = TestServer::start().await;
    let chair = server.token("chair", "UN", Role::Facilitator, "gcm");
    let eu = server.token("eve", "EU", Role::Delegation, "gcm");
    command(
        &server,
        "gcm",
        &chair,
        r##"{"type":"import-text","text":"# Preamble\n[PP1] Recalling.\n[PP2] Noting.\n# Objectives\n[1] One.\n[2] Two.\n[3] Three [at least].\n[4] Four[, as appropriate]."}"##,
    )
    .await?;
    // p1 heading, p2 PP1, p3 PP2, p4 heading, p5 1, p6 2, p7 3, p8 4.
    for (token, body) in [
        (
            &chair,
            r#"{"type":"set-status","paragraph":"p2","status":"agreed-ad-ref"}"#,
        ),
        (
            &chair,
            r#"{"type":"set-status","paragraph":"p5","status":"agreed"}"#,
        ),
        (&chair, r#"{"type":"delete-paragraph","paragraph":"p7"}"#),
        (&eu, r#"{"type":"create-amendment","paragraph":"p6"}"#),
        (&eu, r#"{"type":"create-amendment","paragraph":"p3"}"#),
        (&eu, r#"{"type":"withdraw","amendment":"a2"}"#),
        (
            &chair,
            r#"{"type":"set-theme","name":"review","paragraphs":["p4"]}"#,
        ),
        (
            &chair,
            r#"{"type":"set-status","paragraph":"p3","status":"agreed-pending","pending":["EU","CHE"," EU "]}"#,
        ),
    ] {
        command(&server, "gcm", token, body).await?;
    }
    let (status, progress) = get(&server, &eu, "/api/docs/gcm/progress").await?;
    assert_eq!(status, 200, "{progress}");
    let (_, model) = get(&server, &eu, "/api/docs/gcm").await?;

    // The same counts, computed here from the model alone.
    let (by_status, bracketed) = concord_tests::progress_from_model(&model);
    let reported: std::collections::BTreeMap<String, u64> =
        serde_json::from_value(progress["overall"]["by_status"].clone())?;
    assert_eq!(reported, by_status);
    assert_eq!(
        progress["overall"]["paragraphs"].as_u64(),
        Some(by_status.values().sum::<u64>())
    );
    assert_eq!(progress["overall"]["bracketed"].as_u64(), Some(bracketed));
    assert_eq!(
        bracketed, 2,
        "p6 (an open amendment) and p8 (wording in brackets); a2 on p3 was withdrawn, p7 is deleted"
    );
    let objectives = &progress["sections"][1];
    assert_eq!(objectives["title"], "Objectives");
    assert_eq!(objectives["paragraphs"], 4);
    assert_eq!(objectives["bracketed"], 2);
    assert_eq!(progress["themes"][0]["name"], "review");
    assert_eq!(
        progress["themes"][0]["paragraphs"], 4,
        "a heading stands for its section"
    );
    assert_eq!(progress["amendments"]["open"], 1);
    assert_eq!(progress["amendments"]["withdrawn"], 1);
    assert_eq!(
        progress["summary"],
        "1 of 5 paragraphs agreed ad ref, 1 agreed, 2 bracketed"
    );
    assert_eq!(progress["overall"]["by_status"]["agreed-pending"], 1);
    assert_eq!(progress["pending_on"]["EU"], serde_json::json!(["PP2"]));
    assert_eq!(progress["pending_on"]["CHE"], serde_json::json!(["PP2"]));
    assert_eq!(
        model["paragraphs"][2]["pending"],
        serde_json::json!(["EU", "CHE"])
    );
    // Agreed pending whom: the missions are required, and only with that status.
    for body in [
        r#"{"type":"set-status","paragraph":"p6","status":"agreed-pending"}"#,
        r#"{"type":"set-status","paragraph":"p6","status":"agreed","pending":["EU"]}"#,
        r#"{"type":"set-status","paragraph":"p6","status":"agreed-pending","pending":["\u202eEU"]}"#,
    ] {
        let (status, answer) =
            http_post_json(server.addr, "/api/docs/gcm/commands", &chair, body).await?;
        assert_eq!(status, 400, "{body}: {answer}");
        assert!(answer.contains("invalid-argument"), "{answer}");
    }
    // A revision freezes whom agreement waits for.
    command(
        &server,
        "gcm",
        &chair,
        r#"{"type":"publish-revision","name":"Rev 1"}"#,
    )
    .await?;
    let (_, rev1) = get(&server, &eu, "/api/docs/gcm/revisions/r1").await?;
    assert_eq!(rev1["paragraphs"][2]["status"], "agreed-pending");
    assert_eq!(
        rev1["paragraphs"][2]["pending"],
        serde_json::json!(["EU", "CHE"])
    );
    // Agreed at last: nobody is pending any more.
    command(
        &server,
        "gcm",
        &chair,
        r#"{"type":"set-status","paragraph":"p3","status":"agreed"}"#,
    )
    .await?;
    let (_, p3) = get(&server, &eu, "/api/docs/gcm/paragraphs/p3").await?;
    assert!(p3["paragraph"]["pending"].is_null(), "{p3}");
    Ok(())
}
