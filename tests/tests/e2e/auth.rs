//! Missions, roles and authentication: every refusal has its status and code, on the WebSocket
//! and on REST; identity-provider keys rotate; sessions expire, refresh and get revoked;
//! observers cannot write and are invisible; limits are per mission.

use std::path::Path;
use std::process::Command as StdCommand;

use anyhow::Context;
use concord_protocol::awareness::{decode_awareness, encode_awareness, AwarenessEntry};
use concord_protocol::{Message, Role};
use concord_server::auth::{
    local_secret, now_seconds, Audience, AuthConfig, Claims, DocAccess, PublicKeySpec,
};
use concord_tests::{http_get_with, Client, TempDir, TestServer};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::Value;

const BINARY: &str = env!("CARGO_BIN_EXE_concord-under-test");
const ISSUER: &str = "concord-test-idp";

fn claims(mission: &str, role: &str, docs: &str) -> Claims {
    let now = now_seconds();
    Claims {
        sub: "ana".into(),
        mission: mission.into(),
        role: role.into(),
        docs: DocAccess::parse(docs),
        exp: now + 3600,
        iat: now,
        aud: "concord".into(),
        jti: format!("jti-{}", fastrand::u64(..)),
        iss: Some(ISSUER.into()),
        nbf: None,
    }
}

fn sign_hs(secret: &[u8], claims: &Claims) -> String {
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(secret),
    )
    .expect("sign")
}

/// What a refused WebSocket upgrade answered: status and JSON error code.
async fn ws_refusal(url: &str) -> anyhow::Result<(u16, String)> {
    match tokio_tungstenite::connect_async(url).await {
        Ok(_) => anyhow::bail!("the upgrade was accepted"),
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            let body: Value =
                serde_json::from_slice(response.body().as_deref().unwrap_or_default())
                    .context("JSON error body")?;
            Ok((
                response.status().as_u16(),
                body["error"].as_str().unwrap_or_default().into(),
            ))
        }
        Err(other) => anyhow::bail!("unexpected error {other}"),
    }
}

/// The token is refused the same way over REST and before a WebSocket upgrade.
async fn refused_everywhere(
    server: &TestServer,
    token: &str,
    status: u16,
    code: &str,
) -> anyhow::Result<()> {
    let expected = (status, code.to_string());
    assert_eq!(
        rest(server, "/api/session", Some(token)).await?,
        expected,
        "REST"
    );
    let url = format!("ws://{}/ws/gcm?token={token}", server.addr);
    assert_eq!(ws_refusal(&url).await?, expected, "WebSocket");
    Ok(())
}

/// What a REST request answered: status and JSON error code (empty when it succeeded).
async fn rest(
    server: &TestServer,
    path: &str,
    token: Option<&str>,
) -> anyhow::Result<(u16, String)> {
    let header = token.map(|t| format!("Authorization: Bearer {t}"));
    let headers: Vec<&str> = header.iter().map(String::as_str).collect();
    let (status, body) = http_get_with(server.addr, path, &headers).await?;
    let code = serde_json::from_str::<Value>(&body)
        .ok()
        .and_then(|v| v["error"].as_str().map(String::from))
        .unwrap_or_default();
    Ok((status, code))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_refusal_has_its_status_and_code_on_websocket_and_rest() -> anyhow::Result<()> {
    let server = TestServer::start_with(|c| c.auth.issuer = Some(ISSUER.into())).await;
    let secret = local_secret(server.data.path())?;
    let other_secret = [7u8; 32];
    let ok = claims("MEX", "delegation", "gcm");

    let mut cases: Vec<(&str, Option<String>, u16, &str)> = vec![
        ("missing", None, 401, "missing-token"),
        (
            "malformed",
            Some("not.a.jwt".into()),
            401,
            "malformed-token",
        ),
        (
            "bad signature",
            Some(sign_hs(&other_secret, &ok)),
            401,
            "bad-signature",
        ),
    ];
    let mut expired = ok.clone();
    expired.exp = now_seconds() - 60;
    expired.iat = now_seconds() - 3600;
    cases.push((
        "expired",
        Some(sign_hs(&secret, &expired)),
        401,
        "token-expired",
    ));
    let mut early = ok.clone();
    early.iat = now_seconds() + 3600;
    early.exp = now_seconds() + 7200;
    cases.push((
        "not yet valid",
        Some(sign_hs(&secret, &early)),
        401,
        "token-not-yet-valid",
    ));
    let mut audience = ok.clone();
    audience.aud = "another-app".into();
    cases.push((
        "wrong audience",
        Some(sign_hs(&secret, &audience)),
        401,
        "wrong-audience",
    ));
    let mut issuer = ok.clone();
    issuer.iss = Some("someone-else".into());
    cases.push((
        "wrong issuer",
        Some(sign_hs(&secret, &issuer)),
        401,
        "wrong-issuer",
    ));
    let mut no_issuer = ok.clone();
    no_issuer.iss = None;
    cases.push((
        "no issuer",
        Some(sign_hs(&secret, &no_issuer)),
        401,
        "wrong-issuer",
    ));
    cases.push((
        "unknown role",
        Some(sign_hs(&secret, &claims("MEX", "chair", "gcm"))),
        403,
        "unknown-role",
    ));
    cases.push((
        "document not allowed",
        Some(sign_hs(&secret, &claims("MEX", "delegation", "rio"))),
        403,
        "document-not-allowed",
    ));
    let mut audiences = ok.clone();
    audiences.aud = Audience::Many(vec!["another-app".into(), "concord-staging".into()]);
    cases.push((
        "audience list without ours",
        Some(sign_hs(&secret, &audiences)),
        401,
        "wrong-audience",
    ));
    for reserved in ["Concord:server", " concord:server"] {
        cases.push((
            "the server's mission, disguised",
            Some(sign_hs(&secret, &claims(reserved, "facilitator", "gcm"))),
            403,
            "reserved-mission",
        ));
    }

    for (name, token, status, code) in &cases {
        let url = match token {
            Some(token) => format!("ws://{}/ws/gcm?token={token}", server.addr),
            None => format!("ws://{}/ws/gcm", server.addr),
        };
        assert_eq!(
            ws_refusal(&url).await?,
            (*status, code.to_string()),
            "websocket: {name}"
        );
        let answer = rest(&server, "/api/docs/gcm/state", token.as_deref()).await?;
        assert_eq!(answer, (*status, code.to_string()), "REST: {name}");
    }

    // The valid token passes both, by header and by query parameter; so does one whose
    // audience is a list naming ours.
    let token = sign_hs(&secret, &ok);
    assert_eq!(
        rest(&server, "/api/docs/gcm/state", Some(&token)).await?.0,
        200
    );
    let mut listed = ok.clone();
    listed.aud = Audience::Many(vec!["another-app".into(), "concord".into()]);
    let listed = sign_hs(&secret, &listed);
    assert_eq!(
        rest(&server, "/api/docs/gcm/state", Some(&listed)).await?.0,
        200
    );
    Client::connect(&format!("ws://{}/ws/gcm?token={token}", server.addr)).await?;
    let (status, body) = http_get_with(
        server.addr,
        "/api/session",
        &[&format!("authorization: bearer {token}")],
    )
    .await?;
    assert_eq!(status, 200);
    let session: Value = serde_json::from_str(&body)?;
    assert_eq!(
        (session["mission"].as_str(), session["role"].as_str()),
        (Some("MEX"), Some("delegation"))
    );
    // Nothing about keys leaks into refusals.
    let (_, body) = http_get_with(
        server.addr,
        "/api/session",
        &["Authorization: Bearer x.y.z"],
    )
    .await?;
    assert!(!body.to_lowercase().contains("secret") && !body.contains(&format!("{secret:?}")));
    server.stop().await;
    Ok(())
}

fn openssl(args: &[&str]) -> anyhow::Result<()> {
    let status = StdCommand::new("openssl")
        .args(args)
        .stderr(std::process::Stdio::null())
        .status()
        .context("openssl is needed")?;
    anyhow::ensure!(status.success(), "openssl {args:?} failed");
    Ok(())
}

/// Generates a key pair with openssl; returns (private PEM, path of the public PEM).
fn key_pair(
    dir: &Path,
    name: &str,
    algorithm: &str,
) -> anyhow::Result<(Vec<u8>, std::path::PathBuf)> {
    let private = dir.join(format!("{name}.key"));
    let public = dir.join(format!("{name}.pub"));
    let private_arg = private.to_string_lossy().to_string();
    let mut generate = vec!["genpkey", "-algorithm", algorithm, "-out", &private_arg];
    if algorithm == "RSA" {
        generate.extend(["-pkeyopt", "rsa_keygen_bits:2048"]);
    }
    openssl(&generate)?;
    openssl(&[
        "pkey",
        "-in",
        &private_arg,
        "-pubout",
        "-out",
        &public.to_string_lossy(),
    ])?;
    Ok((std::fs::read(&private)?, public))
}

fn sign_with(
    kid: Option<&str>,
    algorithm: Algorithm,
    key: &EncodingKey,
    claims: &Claims,
) -> String {
    let mut header = Header::new(algorithm);
    header.kid = kid.map(String::from);
    jsonwebtoken::encode(&header, claims, key).expect("sign")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn identity_provider_keys_verify_by_kid_and_rotate() -> anyhow::Result<()> {
    let keys = TempDir::new("keys");
    let (rsa_private, rsa_public) = key_pair(keys.path(), "rsa", "RSA")?;
    let (ed_private, ed_public) = key_pair(keys.path(), "ed", "ed25519")?;
    let (impostor_private, _) = key_pair(keys.path(), "impostor", "RSA")?;
    let server = TestServer::start_with(|c| {
        c.auth = AuthConfig {
            public_keys: vec![
                PublicKeySpec {
                    kid: "rsa-2026".into(),
                    algorithm: Algorithm::RS256,
                    pem_path: rsa_public,
                },
                PublicKeySpec {
                    kid: "ed-2027".into(),
                    algorithm: Algorithm::EdDSA,
                    pem_path: ed_public,
                },
            ],
            audience: "concord".into(),
            issuer: None,
        }
    })
    .await;
    let rsa = EncodingKey::from_rsa_pem(&rsa_private)?;
    let ed = EncodingKey::from_ed_pem(&ed_private)?;
    let impostor = EncodingKey::from_rsa_pem(&impostor_private)?;
    let mut who = claims("CHE", "facilitator", "*");
    who.iss = None;

    // Both keys are live at once (rotation): each verifies its own tokens.
    for token in [
        sign_with(Some("rsa-2026"), Algorithm::RS256, &rsa, &who),
        sign_with(Some("ed-2027"), Algorithm::EdDSA, &ed, &who),
    ] {
        assert_eq!(rest(&server, "/api/session", Some(&token)).await?.0, 200);
        Client::connect(&format!("ws://{}/ws/gcm?token={token}", server.addr)).await?;
    }
    // The same claims signed with another key under a known kid: bad signature.
    let forged = sign_with(Some("rsa-2026"), Algorithm::RS256, &impostor, &who);
    refused_everywhere(&server, &forged, 401, "bad-signature").await?;
    // A kid nobody configured, or none with several keys: unknown key.
    let stranger = sign_with(Some("rsa-2019"), Algorithm::RS256, &rsa, &who);
    refused_everywhere(&server, &stranger, 401, "unknown-key").await?;
    let anonymous = sign_with(None, Algorithm::RS256, &rsa, &who);
    assert_eq!(
        rest(&server, "/api/session", Some(&anonymous)).await?,
        (401, "unknown-key".into())
    );
    // An HS256 token claiming a public key's kid (the classic algorithm confusion) fails.
    let confused = sign_with(
        Some("rsa-2026"),
        Algorithm::HS256,
        &EncodingKey::from_secret(b"x"),
        &who,
    );
    assert_eq!(
        rest(&server, "/api/session", Some(&confused)).await?,
        (401, "bad-signature".into())
    );
    server.stop().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expiry_closes_the_session_and_a_refresh_extends_it() -> anyhow::Result<()> {
    let server = TestServer::start().await;
    let secret = local_secret(server.data.path())?;
    let mut short = claims("MEX", "delegation", "gcm");
    short.iss = None;
    short.exp = now_seconds() + 2;
    let short_token = sign_hs(&secret, &short);
    let url = |token: &str| format!("ws://{}/ws/gcm?token={token}", server.addr);

    let stays = Client::connect(&url(&short_token)).await?;
    let expires = Client::connect(&url(&short_token)).await?;
    assert_eq!(
        stays.seen().session.and_then(|s| s.expires_at),
        Some(short.exp)
    );

    // A fresh token for the same person, mission and role extends the session.
    let fresh = server.token("ana", "MEX", Role::Delegation, "gcm");
    stays.send_message(&Message::Refresh(&fresh))?;
    stays
        .wait_until("a second Session", |s, _| s.sessions >= 2)
        .await?;
    assert!(stays.seen().session.and_then(|s| s.expires_at) > Some(short.exp));

    // The other one is closed with 4401 when its token runs out...
    let close = expires.wait_closed().await?;
    assert_eq!(close.map(|c| c.0), Some(4401));
    // ...by which time the refreshed one is past its old expiry and still open.
    assert!(now_seconds() >= short.exp);
    assert_eq!(stays.seen().close, None);
    assert!(!stays.seen().ended);

    // A refresh token for another mission closes the session.
    let other = server.token("ana", "CHE", Role::Delegation, "gcm");
    stays.send_message(&Message::Refresh(&other))?;
    let close = stays.wait_closed().await?;
    assert_eq!(close.map(|c| c.0), Some(4401));
    server.stop().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revocation_closes_live_sessions_and_refuses_reconnection() -> anyhow::Result<()> {
    let server = TestServer::start().await;
    let data = server.data.path().to_string_lossy().to_string();
    let mex = server.token("ana", "MEX", Role::Delegation, "gcm");
    let che = server.token("ben", "CHE", Role::Delegation, "gcm");
    let url = |token: &str| format!("ws://{}/ws/gcm?token={token}", server.addr);
    let ana = Client::connect(&url(&mex)).await?;
    let ben = Client::connect(&url(&che)).await?;

    // `concord revoke --mission MEX`, run as the operator would, from another process.
    let status = StdCommand::new(BINARY)
        .args(["revoke", "--mission", "MEX", "--data-dir", &data])
        .status()?;
    assert!(status.success());
    let revoked_at = std::time::Instant::now();
    // Bounded generously; the figure itself (not asserted) is printed for the record.
    let closed =
        tokio::time::timeout(std::time::Duration::from_secs(3), ana.wait_closed()).await??;
    println!(
        "revocation closed the live session {:?} after `concord revoke` returned",
        revoked_at.elapsed()
    );
    assert_eq!(closed.map(|c| c.0), Some(4401));
    assert_eq!(ws_refusal(&url(&mex)).await?, (401, "token-revoked".into()));
    assert_eq!(
        rest(&server, "/api/session", Some(&mex)).await?,
        (401, "token-revoked".into())
    );
    assert_eq!(ben.seen().close, None, "other missions are untouched");

    // Revoking one token by its id.
    let jti = jsonwebtoken::dangerous::insecure_decode::<Claims>(&che)?
        .claims
        .jti;
    let status = StdCommand::new(BINARY)
        .args(["revoke", "--jti", &jti, "--data-dir", &data])
        .status()?;
    assert!(status.success());
    let closed =
        tokio::time::timeout(std::time::Duration::from_secs(3), ben.wait_closed()).await??;
    assert_eq!(closed.map(|c| c.0), Some(4401));
    assert_eq!(ws_refusal(&url(&che)).await?, (401, "token-revoked".into()));
    // Another token of the same mission still works.
    let che_again = server.token("cleo", "CHE", Role::Delegation, "gcm");
    Client::connect(&url(&che_again)).await?;
    server.stop().await;
    Ok(())
}

fn awareness(client: u64, clock: u32, state: &str) -> Vec<u8> {
    encode_awareness([AwarenessEntry {
        client,
        clock,
        state,
    }])
}

fn presence_clients(client: &Client) -> Vec<(u64, String)> {
    client
        .seen()
        .awareness
        .iter()
        .flat_map(|update| {
            decode_awareness(update)
                .expect("valid awareness")
                .into_iter()
                .map(|e| (e.client, e.state.to_string()))
                .collect::<Vec<_>>()
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_observer_cannot_write_and_is_invisible() -> anyhow::Result<()> {
    let server = TestServer::start().await;
    let chair = server.token("chair", "UN", Role::Facilitator, "gcm");
    let gallery = server.token("ngo", "NGO-1", Role::Observer, "gcm");
    let url = |token: &str| format!("ws://{}/ws/gcm?token={token}", server.addr);
    server.draft("gcm").await?;
    let mut facilitator = Client::connect(&url(&chair)).await?;
    let seq = facilitator.insert(0, "PP1 Reaffirming")?;
    facilitator.wait_acked(seq).await?;
    let state_before = http_get_bytes(&server, "/api/docs/gcm/state", &chair).await?;

    // An observer syncs and reads (its empty sync step 2 is fine)...
    let mut observer = Client::connect(&url(&gallery)).await?;
    assert_eq!(observer.text(), "PP1 Reaffirming");
    assert_eq!(
        observer.seen().session.and_then(|s| s.role),
        Some(Role::Observer)
    );
    // ...its presence goes nowhere...
    publish(&observer, 4242, 1, r#"{"user":"ngo"}"#)?;
    // ...and a write is refused: Rejected, permission denied, close 4403.
    observer.insert(0, "observers rewrite the text")?;
    let close = observer.wait_closed().await?;
    assert_eq!(close.map(|c| c.0), Some(4403));
    let seen = observer.seen();
    assert_eq!(seen.rejections.len(), 1);
    assert_eq!(seen.rejections[0].rule, "observer-read-only");
    assert_eq!(seen.denied.len(), 1);

    // The stored document is byte-for-byte what it was.
    let state_after = http_get_bytes(&server, "/api/docs/gcm/state", &chair).await?;
    assert_eq!(state_before, state_after);
    // The facilitator saw no presence of the observer. A delegation's presence, published
    // after the observer's, arrives: had the observer's been broadcast it would be there too.
    let delegate =
        Client::connect(&url(&server.token("dan", "MEX", Role::Delegation, "gcm"))).await?;
    delegate.send_message(&Message::Awareness(&awareness(777, 1, r#"{"user":"MEX"}"#)))?;
    facilitator
        .wait_until("MEX presence", |s, _| !s.awareness.is_empty())
        .await?;
    let clients: Vec<u64> = presence_clients(&facilitator)
        .into_iter()
        .map(|(c, _)| c)
        .collect();
    assert_eq!(clients, vec![777]);
    server.stop().await;
    Ok(())
}

async fn http_get_bytes(server: &TestServer, path: &str, token: &str) -> anyhow::Result<Vec<u8>> {
    let (status, body) = concord_tests::http_get_raw(
        server.addr,
        path,
        &[&format!("Authorization: Bearer {token}")],
    )
    .await?;
    anyhow::ensure!(status == 200, "{path}: {status}");
    Ok(body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_presence_for_another_client_id_is_dropped() -> anyhow::Result<()> {
    let server = TestServer::start().await;
    let url = |person: &str, mission: &str| server.delegate_url("gcm", person, mission);
    let watcher = Client::connect(&url("wes", "EU")).await?;
    let mex = Client::connect(&url("ana", "MEX")).await?;
    let forger = Client::connect(&url("fox", "XYZ")).await?;

    publish(&mex, 1001, 1, r#"{"user":"MEX"}"#)?;
    watcher
        .wait_until("MEX presence", |s, _| !s.awareness.is_empty())
        .await?;
    // The forger claims MEX's client id, then publishes its own presence.
    publish(&forger, 1001, 2, r#"{"user":"forged"}"#)?;
    publish(&forger, 2002, 1, r#"{"user":"XYZ"}"#)?;
    watcher
        .wait_until("XYZ presence", |s, _| s.awareness.len() >= 2)
        .await?;
    let seen = presence_clients(&watcher);
    assert!(
        seen.iter().all(|(_, state)| !state.contains("forged")),
        "{seen:?}"
    );
    assert_relayed_for_mission(&seen, 2002, "XYZ");
    server.stop().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn presence_for_a_client_id_another_mission_owns_is_dropped() -> anyhow::Result<()> {
    let server = TestServer::start().await;
    // The chair's client id writes in the document: it now belongs to mission UN, also after
    // the chair's connection is gone.
    let mut chair = Client::connect(&server.draft("gcm").await?).await?;
    let seq = chair.append("Cooperate.")?;
    chair.wait_acked(seq).await?;
    let owned = chair.with_doc(|doc| doc.client_id().get());
    chair.close();
    chair.wait_closed().await?;

    let url = |person: &str, mission: &str| server.delegate_url("gcm", person, mission);
    let watcher = Client::connect(&url("wes", "EU")).await?;
    let forger = Client::connect(&url("fox", "XYZ")).await?;
    publish(&forger, owned, 5, r#"{"user":"UN chair"}"#)?;
    publish(&forger, 2002, 1, r#"{"user":"XYZ"}"#)?;
    watcher
        .wait_until("XYZ presence", |s, _| !s.awareness.is_empty())
        .await?;
    let seen = presence_clients(&watcher);
    assert!(seen.iter().all(|(client, _)| *client != owned), "{seen:?}");
    assert_relayed_for_mission(&seen, 2002, "XYZ");
    server.stop().await;
    Ok(())
}

/// Client id `id`'s presence was relayed, naming `mission` (both as its own `user` and as the
/// token's mission).
fn assert_relayed_for_mission(seen: &[(u64, String)], id: u64, mission: &str) {
    let state = relayed_state(seen, id);
    assert_eq!(
        (&state["user"], &state["mission"]),
        (&mission.into(), &mission.into()),
        "{state}"
    );
}

/// `client` publishes presence `state` for client id `id` at `clock`.
fn publish(client: &Client, id: u64, clock: u32, state: &str) -> anyhow::Result<()> {
    client
        .send_message(&Message::Awareness(&awareness(id, clock, state)))
        .map(drop)
}

/// The state relayed for `client`, as JSON.
fn relayed_state(seen: &[(u64, String)], client: u64) -> serde_json::Value {
    let state = seen
        .iter()
        .find(|(c, _)| *c == client)
        .map(|(_, state)| state.as_str())
        .unwrap_or_else(|| panic!("no presence for {client}: {seen:?}"));
    serde_json::from_str(state).expect("presence is JSON")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn presence_carries_the_tokens_identity_not_the_clients_claim() -> anyhow::Result<()> {
    let server = TestServer::start().await;
    let url = |person: &str, mission: &str| server.delegate_url("gcm", person, mission);
    let watcher = Client::connect(&url("wes", "MAR")).await?;
    let eu = Client::connect(&url("eve", "EU")).await?;
    publish(
        &eu,
        3003,
        1,
        r#"{"person":"Chair","mission":"MEX","role":"facilitator","user":{"name":"Chair"}}"#,
    )?;
    watcher
        .wait_until("EU presence", |s, _| !s.awareness.is_empty())
        .await?;
    let state = relayed_state(&presence_clients(&watcher), 3003);
    assert_eq!(state["person"], "eve", "{state}");
    assert_eq!(state["mission"], "EU", "{state}");
    assert_eq!(state["role"], "delegation", "{state}");
    assert_eq!(state["user"]["name"], "eve", "{state}");
    // A late joiner gets the stamped state from the room's table too.
    let late = Client::connect(&url("lee", "PHL")).await?;
    late.wait_until("presence", |s, _| !s.awareness.is_empty())
        .await?;
    assert_eq!(
        relayed_state(&presence_clients(&late), 3003)["mission"],
        "EU"
    );
    server.stop().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn limits_are_per_mission() -> anyhow::Result<()> {
    let server = TestServer::start_with(|c| {
        c.limits.connections_per_mission = 2;
        c.limits.messages_per_second = 1;
        c.limits.burst = 40;
    })
    .await;
    let mex = server.token("ana", "MEX", Role::Delegation, "gcm");
    let url = |token: &str| format!("ws://{}/ws/gcm?token={token}", server.addr);
    let _one = Client::connect(&url(&mex)).await?;
    let two = Client::connect(&url(&mex)).await?;
    assert_eq!(
        ws_refusal(&url(&mex)).await?,
        (429, "too-many-connections".into())
    );
    // Another mission behind the same address is not affected.
    let che = server.token("ben", "CHE", Role::Delegation, "gcm");
    let _che = Client::connect(&url(&che)).await?;

    // A flood from one mission is cut off with 4429; its REST requests get 429.
    for _ in 0..200 {
        two.send_message(&Message::QueryAwareness)?;
    }
    let close = two.wait_closed().await?;
    assert_eq!(close.map(|c| c.0), Some(4429));
    // The bucket refills at one message a second: of a few quick requests, most are refused.
    let mut refused = 0;
    for _ in 0..5 {
        let answer = rest(&server, "/api/session", Some(&mex)).await?;
        if answer == (429, "rate-limited".to_string()) {
            refused += 1;
        }
    }
    assert!(refused >= 3, "{refused} of 5 refused");
    assert_eq!(rest(&server, "/api/session", Some(&che)).await?.0, 200);
    server.stop().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concord_token_prints_a_token_the_server_accepts() -> anyhow::Result<()> {
    let server = TestServer::start().await;
    let output = StdCommand::new(BINARY)
        .args([
            "token",
            "--sub",
            "ana",
            "--mission",
            "MEX",
            "--role",
            "observer",
        ])
        .args(["--docs", "gcm,rio", "--ttl", "2h", "--data-dir"])
        .arg(server.data.path())
        .output()?;
    assert!(output.status.success());
    let token = String::from_utf8(output.stdout)?.trim().to_string();
    let client = Client::connect(&format!("ws://{}/ws/rio?token={token}", server.addr)).await?;
    let session = client.seen().session.expect("session");
    assert_eq!(session.person.as_deref(), Some("ana"));
    assert_eq!(session.mission.as_deref(), Some("MEX"));
    assert_eq!(session.role, Some(Role::Observer));
    let lifetime = session
        .expires_at
        .unwrap_or_default()
        .saturating_sub(now_seconds());
    assert!((7100..=7200).contains(&lifetime), "{lifetime}");
    // An unknown role is refused by the command itself.
    let refused = StdCommand::new(BINARY)
        .args([
            "token",
            "--sub",
            "x",
            "--mission",
            "MEX",
            "--role",
            "chair",
            "--docs",
            "*",
        ])
        .output()?;
    assert!(!refused.status.success());
    server.stop().await;
    Ok(())
}
