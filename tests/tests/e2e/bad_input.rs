//! Hostile and broken input: each gets its close code; everyone else keeps being served and
//! nothing stored changes.

use concord_protocol::lib0::write_var_u64;
use concord_tests::{Client, RawSocket, TestServer};

const MAX_FRAME: usize = 64 * 1024;

/// Every case: what is sent, and the close code it must get.
fn cases() -> Vec<(&'static str, Frame, u16)> {
    let mut huge_length = vec![0, 2];
    write_var_u64(&mut huge_length, 4 << 30);
    huge_length.extend_from_slice(&[1, 2, 3]);

    let mut deep_nesting = vec![0, 2];
    let mut update = vec![1, 1, 5, 0, 8, 1, 1, b'a', 1];
    for _ in 0..20_000 {
        update.extend_from_slice(&[117, 1]);
    }
    update.extend_from_slice(&[126, 0]);
    write_var_u64(&mut deep_nesting, update.len() as u64);
    deep_nesting.extend_from_slice(&update);

    let mut wide_client = vec![0, 2, 12, 1, 1];
    write_var_u64(&mut wide_client, 1 << 60);
    wide_client.extend_from_slice(&[0, 4, 1, 1, b't', 1, b'x', 0]);
    wide_client[2] = (wide_client.len() - 3) as u8;

    vec![
        (
            "garbage bytes",
            Frame::Binary(vec![0xde, 0xad, 0xbe, 0xef, 0xff]),
            4400,
        ),
        (
            "truncated varint",
            Frame::Binary(vec![0x00, 0x02, 0x80]),
            4400,
        ),
        (
            "unknown message type",
            Frame::Binary(vec![0x2a, 0x00]),
            4400,
        ),
        ("text frame", Frame::Text("hello"), 4400),
        (
            "length prefix claiming gigabytes",
            Frame::Binary(huge_length),
            4400,
        ),
        (
            "update that does not decode",
            Frame::Binary(vec![0, 2, 4, 1, 2, 3, 4]),
            4400,
        ),
        (
            "values nested 20,000 deep",
            Frame::Binary(deep_nesting),
            4400,
        ),
        ("client id over 53 bits", Frame::Binary(wide_client), 4400),
        ("empty frame", Frame::Binary(vec![]), 4400),
        (
            "frame over the limit",
            Frame::Binary(vec![0; MAX_FRAME + 1]),
            4413,
        ),
        (
            "frame far over the limit",
            Frame::Binary(vec![0; 4 * MAX_FRAME]),
            4413,
        ),
    ]
}

enum Frame {
    Binary(Vec<u8>),
    Text(&'static str),
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_bad_input_gets_its_close_code_and_others_are_unaffected() -> anyhow::Result<()> {
    let server = TestServer::start_with(|c| c.max_frame_bytes = MAX_FRAME).await;
    let url = server.draft("hostile").await?;
    let mut writer = Client::connect(&url).await?;
    let reader = Client::connect(&url).await?;
    let seq = writer.insert(0, "agreed text")?;
    writer.wait_acked(seq).await?;
    reader.wait_text(|t| t == "agreed text").await?;
    let before = reader.state_vector();

    for (i, (name, frame, expected)) in cases().into_iter().enumerate() {
        let mut attacker = RawSocket::connect(&url).await?;
        match frame {
            Frame::Binary(bytes) => attacker.send_binary(bytes).await?,
            Frame::Text(text) => attacker.send_text(text).await?,
        }
        let (code, reason) = attacker.expect_close().await?;
        assert_eq!(code, expected, "{name}: closed with {code} ({reason})");
        assert!(!reason.is_empty(), "{name}: the close carries a reason");

        // The other clients on the same document carry on.
        let marker = format!(" [{i}]");
        let seq = writer.append(&marker)?;
        writer.wait_acked(seq).await?;
        reader.wait_text(|t| t.ends_with(&marker)).await?;
    }
    assert_eq!(reader.seen().close, None);

    // Nothing stored was damaged: after a restart the document is exactly what the clients wrote.
    let expected_text = reader.text();
    let mut after_sv = before;
    after_sv.merge(writer.state_vector());
    let server = server.restart().await;
    let fresh = Client::connect(&server.ws_url("hostile")).await?;
    assert_eq!(fresh.text(), expected_text);
    assert_eq!(fresh.state_vector(), writer.state_vector());
    server.stop().await;
    Ok(())
}
