//! The web page's files: served at `/` without a token, with their types; nothing outside the
//! page's directory can be named.

use concord_tests::{http_get, http_request, TestServer};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_is_served_and_nothing_else_is() -> anyhow::Result<()> {
    let server = TestServer::start().await;
    let (status, body) = http_get(server.addr, "/").await?;
    assert_eq!(status, 200);
    assert!(body.contains("<title>Concord</title>"), "{body}");
    let (status, head) = http_request(server.addr, "GET", "/app.js", &[], &[]).await?;
    assert_eq!(status, 200);
    assert!(String::from_utf8_lossy(&head).contains("import"));
    // The icon browsers ask for unprompted is there (no 404 in every page's console).
    for path in ["/favicon.ico", "/favicon.svg"] {
        let (status, icon) = http_request(server.addr, "GET", path, &[], &[]).await?;
        assert_eq!(status, 200, "{path}");
        let icon = String::from_utf8_lossy(&icon);
        assert!(icon.starts_with("<svg"), "{path}: {icon}");
    }
    for path in [
        "/../Cargo.toml",
        "/%2e%2e/Cargo.toml",
        "/.gitignore",
        "/pkg/../../Cargo.toml",
        "/web//app.js",
        "/Cargo.toml",
        "/no-such-page.html",
    ] {
        let (status, body) = http_get(server.addr, path).await?;
        assert_eq!(status, 404, "{path}: {body}");
        assert!(body.contains("not-found"), "{path}: {body}");
    }
    // A query the attribution route cannot read is a 400 with a code, not a silent default.
    let token = server.token("ana", "MEX", concord_protocol::Role::Delegation, "*");
    let auth = format!("Authorization: Bearer {token}");
    let (status, body) = concord_tests::http_get_with(
        server.addr,
        "/api/docs/gcm/paragraphs/p1/attribution?since=yesterday",
        &[&auth],
    )
    .await?;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("invalid-query"), "{body}");
    server.stop().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_wasm_build_goes_gzipped_to_browsers_that_take_it() -> anyhow::Result<()> {
    let web = concord_tests::TempDir::new("web");
    std::fs::create_dir_all(web.path().join("pkg"))?;
    std::fs::write(web.path().join("pkg/client.wasm"), b"\0asm plain")?;
    std::fs::write(web.path().join("pkg/client.wasm.gz"), b"\x1f\x8b gzipped")?;
    let dir = web.path().to_path_buf();
    let server = TestServer::start_with(move |c| c.web_dir = Some(dir)).await;
    let (status, body) = http_request(
        server.addr,
        "GET",
        "/pkg/client.wasm",
        &["Accept-Encoding: br, gzip"],
        &[],
    )
    .await?;
    assert_eq!((status, body.as_slice()), (200, &b"\x1f\x8b gzipped"[..]));
    let (status, body) = http_request(server.addr, "GET", "/pkg/client.wasm", &[], &[]).await?;
    assert_eq!((status, body.as_slice()), (200, &b"\0asm plain"[..]));
    // The page is not built in this directory: `/` says how to build it.
    let (status, body) = http_get(server.addr, "/").await?;
    assert_eq!(status, 503);
    assert!(body.contains("scripts/run.sh"), "{body}");
    server.stop().await;
    Ok(())
}

/// The page travels in the binary: a copy of it, run from a directory of its own, serves the
/// page's files as they were built; `--web-dir` serves another directory instead.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_serves_the_page_it_embeds_from_anywhere() -> anyhow::Result<()> {
    let elsewhere = concord_tests::TempDir::new("installed");
    let binary = elsewhere.path().join("concord");
    std::fs::copy(env!("CARGO_BIN_EXE_concord-under-test"), &binary)?;
    let data = elsewhere.path().join("data");
    let server =
        concord_tests::ProcessServer::start(binary.to_str().unwrap_or_default(), &data, &[])
            .await?;
    let source = concat!(env!("CARGO_MANIFEST_DIR"), "/../client-wasm/web");
    for file in ["index.html", "app.js", "style.css"] {
        let (status, body) =
            http_request(server.addr, "GET", &format!("/{file}"), &[], &[]).await?;
        let on_disk = std::fs::read(format!("{source}/{file}"))?;
        assert_eq!(status, 200, "{file}");
        assert!(body.ends_with(&on_disk), "{file} is the built copy");
    }
    server.kill().await;
    let empty = concord_tests::TempDir::new("empty-web");
    let web_dir = empty.path().to_str().unwrap_or_default().to_string();
    let server = concord_tests::ProcessServer::start(
        binary.to_str().unwrap_or_default(),
        &data,
        &["--web-dir", &web_dir],
    )
    .await?;
    let (status, body) = http_get(server.addr, "/").await?;
    assert_eq!(status, 503, "nothing to serve there: {body}");
    assert!(body.contains("not built"), "{body}");
    Ok(())
}
