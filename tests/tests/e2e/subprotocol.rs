//! Concord's protocol is asked for: a client that offers the `concord.v1` subprotocol gets
//! Concord's own messages (`Session`, `Ack`, `Rejected`) beside y-websocket's, and a stock Yjs
//! client, which does not, gets plain y-websocket only. Browsers send their token as a
//! `concord.token.` subprotocol, so it is never in a URL; the server never echoes it.

use concord_protocol::message::{Message, CONCORD_BASE};
use concord_protocol::Role;
use concord_tests::{concord_request, TestServer};
use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use yrs::updates::decoder::Decode;
use yrs::{Text, Transact};

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// The next binary frame's message type, and for a sync message its step (0, 1 or 2).
async fn next_types(ws: &mut Socket) -> anyhow::Result<Option<Vec<u64>>> {
    loop {
        let frame = tokio::time::timeout(concord_tests::WAIT, ws.next()).await?;
        match frame {
            Some(Ok(WsMessage::Binary(bytes))) => {
                let mut reader = concord_protocol::lib0::Reader::new(&bytes);
                let kind = reader.read_var_u64()?;
                let mut types = vec![kind];
                if kind == 0 {
                    types.push(reader.read_var_u64()?);
                }
                return Ok(Some(types));
            }
            Some(Ok(WsMessage::Close(_))) | None => return Ok(None),
            Some(Ok(_)) => continue,
            Some(Err(e)) => return Err(e.into()),
        }
    }
}

/// Types into the document's first body from a replica synced with `state`.
fn keystroke(state: &[u8]) -> anyhow::Result<Vec<u8>> {
    let doc = concord_protocol::schema::new_replica();
    doc.transact_mut()
        .apply_update(yrs::Update::decode_v1(state)?)?;
    let body = concord_protocol::schema::body_text(&doc.transact(), "p1")
        .ok_or_else(|| anyhow::anyhow!("no body"))?;
    let mut txn = doc.transact_mut();
    body.insert(&mut txn, 0, "Further, ");
    Ok(txn.encode_update_v1())
}

async fn server_with_text() -> anyhow::Result<(TestServer, String, String)> {
    let server = TestServer::start().await;
    let chair = server.token("chair", "UN", Role::Facilitator, "gcm");
    let mex = server.token("ana", "MEX", Role::Delegation, "gcm");
    let (status, body) = concord_tests::http_post_json(
        server.addr,
        "/api/docs/gcm/commands",
        &chair,
        r#"{"type":"import-text","text":"[1] Commit to cooperate."}"#,
    )
    .await?;
    anyhow::ensure!(status == 200, "{body}");
    Ok((server, chair, mex))
}

async fn full_state(server: &TestServer, token: &str) -> anyhow::Result<Vec<u8>> {
    let auth = format!("Authorization: Bearer {token}");
    let (status, bytes) =
        concord_tests::http_get_raw(server.addr, "/api/docs/gcm/state", &[&auth]).await?;
    anyhow::ensure!(status == 200);
    Ok(bytes)
}

#[tokio::test]
async fn a_stock_client_gets_plain_y_websocket_and_a_concord_client_gets_concord_s_messages(
) -> anyhow::Result<()> {
    let (server, chair, mex) = server_with_text().await?;
    let state = full_state(&server, &chair).await?;
    let update = keystroke(&state)?;
    let stock_frames = |types: &[u64]| types.iter().all(|t| *t < CONCORD_BASE);

    // A stock client: no subprotocol asked, none answered.
    let (mut stock, response) =
        tokio_tungstenite::connect_async(server.ws_url_with("gcm", &chair)).await?;
    assert!(response.headers().get("sec-websocket-protocol").is_none());
    stock
        .send(WsMessage::Binary(Message::Update(&update).encode().into()))
        .await?;
    // Once the server answers a sync that includes the update, the update is durable (a sync
    // reply waits for every write before it): an Ack would have been sent by then.
    let sv = yrs::StateVector::default();
    for _ in 0..2 {
        stock
            .send(WsMessage::Binary(
                Message::SyncStep1(sv.clone()).encode().into(),
            ))
            .await?;
    }
    let mut seen = Vec::new();
    let mut step2s = 0;
    while step2s < 2 {
        let types = next_types(&mut stock)
            .await?
            .ok_or_else(|| anyhow::anyhow!("closed"))?;
        if types == [0, 1] {
            step2s += 1;
        }
        seen.push(types[0]);
    }
    assert!(
        stock_frames(&seen),
        "a stock client saw Concord frames: {seen:?}"
    );
    // A stock delegation's refused update: permission-denied and 4403, no `Rejected`.
    let (mut refused, _) =
        tokio_tungstenite::connect_async(server.ws_url_with("gcm", &mex)).await?;
    let body_edit = keystroke(&full_state(&server, &chair).await?)?;
    refused
        .send(WsMessage::Binary(
            Message::Update(&body_edit).encode().into(),
        ))
        .await?;
    let mut refused_types = Vec::new();
    while let Some(types) = next_types(&mut refused).await? {
        refused_types.push(types[0]);
    }
    assert!(
        refused_types.contains(&2),
        "permission-denied: {refused_types:?}"
    );
    assert!(stock_frames(&refused_types), "{refused_types:?}");

    // A Concord client asks for concord.v1, gets it, and gets Session and Ack.
    let (mut concord, response) =
        tokio_tungstenite::connect_async(concord_request(&server.ws_url_with("gcm", &chair))?)
            .await?;
    assert_eq!(
        response
            .headers()
            .get("sec-websocket-protocol")
            .map(|v| v.as_bytes()),
        Some(&b"concord.v1"[..])
    );
    let first = next_types(&mut concord).await?;
    assert_eq!(first, Some(vec![concord_protocol::message::MSG_SESSION]));
    let again = keystroke(&full_state(&server, &chair).await?)?;
    concord
        .send(WsMessage::Binary(Message::Update(&again).encode().into()))
        .await?;
    loop {
        let types = next_types(&mut concord)
            .await?
            .ok_or_else(|| anyhow::anyhow!("closed"))?;
        if types[0] == concord_protocol::message::MSG_ACK {
            break;
        }
    }
    Ok(())
}

#[tokio::test]
async fn a_browser_s_token_travels_as_a_subprotocol_and_is_never_echoed() -> anyhow::Result<()> {
    let (server, chair, _) = server_with_text().await?;
    let url = format!("ws://{}/ws/gcm", server.addr);
    let mut request = url.as_str().into_client_request()?;
    request.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        HeaderValue::from_str(&format!("concord.v1, concord.token.{chair}"))?,
    );
    let (mut ws, response) = tokio_tungstenite::connect_async(request).await?;
    assert_eq!(
        response
            .headers()
            .get("sec-websocket-protocol")
            .map(|v| v.as_bytes()),
        Some(&b"concord.v1"[..]),
        "only the protocol is selected; the token is not echoed"
    );
    assert_eq!(
        next_types(&mut ws).await?,
        Some(vec![concord_protocol::message::MSG_SESSION])
    );
    // A bad token the same way is refused before any upgrade, with its code.
    let mut bad = url.as_str().into_client_request()?;
    bad.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        HeaderValue::from_static("concord.v1, concord.token.not-a-jwt"),
    );
    match tokio_tungstenite::connect_async(bad).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), 401);
            let body =
                String::from_utf8_lossy(response.body().as_deref().unwrap_or_default()).to_string();
            assert!(body.contains("malformed-token"), "{body}");
        }
        other => panic!("a bad token was not refused: {other:?}"),
    }
    Ok(())
}
