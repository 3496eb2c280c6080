//! The client's logic against a scripted server built from the same protocol code the real
//! server runs (policy check, commands, acks). The real server and a real browser are in the
//! end-to-end tests (tests/browser).

use super::editing::rebase;
use super::splice::{difference, splice};
use super::*;
use concord_protocol::command::{execute, Command, CommandError, Context, Reply};
use concord_protocol::policy::check;
use concord_protocol::update::scan_update_v1;
use concord_protocol::Role;
use serde_json::json;
use yrs::updates::decoder::Decode;
use yrs::{OffsetKind, Options, ReadTxn, Text, Update};

/// One document as the server holds it, and one connection's bookkeeping.
struct Server {
    doc: Doc,
    policy: PolicyState,
}

/// What the server did with a client's frame.
#[derive(Debug, PartialEq)]
enum Outcome {
    Replied(Vec<Vec<u8>>),
    /// `Rejected` was sent; the connection closes with 4403.
    Refused(Vec<Vec<u8>>),
}

impl Server {
    fn new(text: &str) -> Self {
        let doc = Doc::with_options(Options {
            skip_gc: true,
            offset_kind: OffsetKind::Utf16,
            ..Options::default()
        });
        let server = Server {
            doc,
            policy: PolicyState::default(),
        };
        let mut server = server;
        server
            .command(CHAIR, Command::ImportText { text: text.into() })
            .expect("import");
        server
    }

    fn command(&mut self, who: (Role, &str), command: Command) -> Result<Vec<u8>, CommandError> {
        let mut txn = self.doc.transact_mut();
        let ctx = Context {
            actor: Actor {
                role: who.0,
                mission: who.1,
            },
            person: "someone",
            now_ms: 1,
        };
        execute(&mut txn, ctx, &command)?;
        let update = txn.encode_update_v1();
        let deleted = txn.delete_set().clone();
        self.policy.absorb_own(&update, &deleted, &txn);
        Ok(Message::Update(&update).encode())
    }

    fn session(&self, who: (Role, &str)) -> Vec<u8> {
        Message::Session(Session {
            document: "gcm".into(),
            person: Some("p".into()),
            mission: Some(who.1.into()),
            role: Some(who.0),
            expires_at: None,
            server_time_ms: 0,
        })
        .encode()
    }

    /// Handles one frame from a client acting as `who`, whose `seq`-th update this may be.
    fn handle(&mut self, who: (Role, &str), frame: &[u8], seq: &mut u64) -> Outcome {
        let mut replies = Vec::new();
        for message in Message::decode_frame(frame).expect("client frames decode") {
            match message {
                Message::SyncStep1(sv) => {
                    let diff = self.doc.transact().encode_state_as_update_v1(&sv);
                    replies.push(Message::SyncStep2(&diff).encode());
                }
                Message::SyncStep2(update) | Message::Update(update) => {
                    *seq += 1;
                    let scanned = scan_update_v1(update).expect("scans");
                    let actor = Actor {
                        role: who.0,
                        mission: who.1,
                    };
                    match check(&scanned, &self.policy, actor) {
                        Ok(verdict) => {
                            let mut txn = self.doc.transact_mut();
                            txn.apply_update(Update::decode_v1(update).expect("decodes"))
                                .expect("applies");
                            let deleted = txn.delete_set().clone();
                            drop(txn);
                            self.policy.record(&verdict, who.1, &deleted);
                            replies.push(Message::Ack(*seq).encode());
                        }
                        Err(refusal) => {
                            replies.push(Message::Rejected(refusal.to_rejection()).encode());
                            return Outcome::Refused(replies);
                        }
                    }
                }
                Message::Command(request) => {
                    let result = self.command(who, request.command.clone());
                    let reply = match result {
                        Ok(update) => {
                            replies.push(update);
                            Reply::Ok(concord_protocol::command::Outcome::Done)
                        }
                        Err(error) => Reply::Error(error),
                    };
                    replies.push(
                        Message::CommandResult(concord_protocol::command::CommandReply {
                            id: request.id,
                            result: reply,
                        })
                        .encode(),
                    );
                }
                _ => {}
            }
        }
        Outcome::Replied(replies)
    }

    fn text(&self, target: &Target) -> String {
        let txn = self.doc.transact();
        target
            .text(&txn)
            .map(|t| t.get_string(&txn))
            .unwrap_or_default()
    }
}

const CHAIR: (Role, &str) = (Role::Facilitator, "UN");
const MEX: (Role, &str) = (Role::Delegation, "MEX");
const NGO: (Role, &str) = (Role::Observer, "NGO");

/// A client connected to `server` as `who`.
struct Connection {
    client: ClientCore,
    who: (Role, &'static str),
    seq: u64,
    open: bool,
}

impl Connection {
    fn new(who: (Role, &'static str)) -> Self {
        Connection {
            client: ClientCore::new(),
            who,
            seq: 0,
            open: false,
        }
    }

    /// Opens the socket and runs the exchange until nothing moves.
    fn connect(&mut self, server: &mut Server) {
        self.open = true;
        self.seq = 0;
        self.client.connected();
        self.client.receive(&server.session(self.who));
        let greeting = Message::SyncStep1(server.doc.transact().state_vector()).encode();
        self.client.receive(&greeting);
        self.pump(server);
    }

    /// Delivers the client's frames to the server and the answers back, until quiet.
    /// Returns the close code if the server refused something.
    fn pump(&mut self, server: &mut Server) -> Option<u16> {
        while self.open {
            let frame = self.client.take_outgoing()?;
            match server.handle(self.who, &frame, &mut self.seq) {
                Outcome::Replied(replies) => {
                    for reply in replies {
                        self.client.receive(&reply);
                    }
                }
                Outcome::Refused(replies) => {
                    for reply in replies {
                        self.client.receive(&reply);
                    }
                    self.drop_connection(4403);
                    return Some(4403);
                }
            }
        }
        None
    }

    fn drop_connection(&mut self, code: u16) -> bool {
        self.open = false;
        while self.client.take_outgoing().is_some() {}
        self.client.disconnected(code, "test")
    }
}

fn amendment(server: &mut Server, who: (Role, &str), paragraph: &str) {
    server
        .command(
            who,
            Command::CreateAmendment {
                paragraph: paragraph.into(),
                new_after: false,
                on_behalf_of: None,
                rationale: String::new(),
            },
        )
        .expect("amendment");
}

#[test]
fn the_difference_of_two_texts_is_one_splice_in_utf16() {
    assert_eq!(difference("abc", "abXc"), (2, 0, "X"));
    assert_eq!(difference("abc", "ac"), (1, 1, ""));
    assert_eq!(difference("same", "same"), (4, 0, ""));
    // Astral characters count two in JavaScript: offsets must agree with the browser's.
    let doc = new_replica();
    let text = doc.get_or_insert_text("t");
    {
        let mut txn = doc.transact_mut();
        text.insert(&mut txn, 0, "🇲🇽 safe");
        splice(&text, &mut txn, "🇲🇽 safe", "🇲🇽 safe, orderly");
        splice(&text, &mut txn, "🇲🇽 safe, orderly", "🇲🇽 orderly");
    }
    assert_eq!(text.get_string(&doc.transact()), "🇲🇽 orderly");
}

#[test]
fn a_change_is_carried_over_to_text_others_edited() {
    assert_eq!(rebase("ab", "aXb", "ab").as_deref(), Some("aXb"));
    // Someone appended meanwhile: the insertion still goes after "a".
    assert_eq!(
        rebase("ab", "aXb", "ab and more").as_deref(),
        Some("aXb and more")
    );
    // Someone prepended: found by what followed it.
    assert_eq!(rebase("ab", "aXb", "so ab").as_deref(), Some("so aXb"));
    // The replaced words are gone: a conflict, left to the person.
    assert_eq!(rebase("one two", "one 2", "three"), None);
}

#[test]
fn typing_is_saved_once_the_server_acknowledges_it() {
    let mut server = Server::new("[1] Commit to cooperate.");
    let mut chair = Connection::new(CHAIR);
    chair.connect(&mut server);
    assert_eq!(chair.client.link(), &Link::Synced);
    assert!(chair.client.is_saved());
    let body = Target::Body("p1".into());
    chair
        .client
        .edit(&body, "Commit to cooperate fully.")
        .expect("facilitator edits");
    assert!(!chair.client.is_saved(), "sent, not yet acknowledged");
    chair.pump(&mut server);
    assert!(chair.client.is_saved());
    assert_eq!(server.text(&body), "Commit to cooperate fully.");
    // Someone else's keystroke reaches this client as a change to one text only.
    let typing = {
        let mut txn = server.doc.transact_mut();
        let text = body.text(&txn).expect("body");
        text.insert(&mut txn, 0, "We ");
        txn.encode_update_v1()
    };
    chair.client.take_events();
    chair.client.receive(&Message::Update(&typing).encode());
    let events = chair.client.take_events();
    assert_eq!(
        events,
        vec![json!({"type": "texts", "targets": [{"kind": "body", "id": "p1"}]})]
    );
    assert_eq!(
        chair.client.text(&body).as_deref(),
        Some("We Commit to cooperate fully.")
    );
    let status = chair.client.status();
    assert_eq!(status["connection"], "synced");
    assert_eq!(status["saved"], true);
}

#[test]
fn offline_edits_leave_with_the_next_sync_and_nothing_is_lost() {
    let mut server = Server::new("[1] Commit.");
    let mut chair = Connection::new(CHAIR);
    chair.connect(&mut server);
    assert!(chair.drop_connection(1006), "a network loss is retried");
    assert!(chair.client.reconnect_delay_ms(0.0) >= 125.0);
    let body = Target::Body("p1".into());
    chair
        .client
        .edit(&body, "Commit, offline.")
        .expect("edits offline");
    chair
        .client
        .edit(&body, "Commit, offline, twice.")
        .expect("edits offline");
    assert!(
        chair.client.take_outgoing().is_none(),
        "nothing is sent while offline"
    );
    assert_eq!(chair.client.status()["connection"], "offline");
    assert!(!chair.client.is_saved());
    chair.connect(&mut server);
    assert_eq!(server.text(&body), "Commit, offline, twice.");
    assert!(chair.client.is_saved());
}

#[test]
fn a_refused_update_rebuilds_the_replica_and_keeps_what_cannot_be_applied() {
    let mut server = Server::new("[1] First.\n[2] Second.");
    amendment(&mut server, MEX, "p1");
    amendment(&mut server, MEX, "p2");
    let mut mex = Connection::new(MEX);
    mex.connect(&mut server);
    let a1 = Target::AmendmentText("a1".into());
    let a2 = Target::AmendmentText("a2".into());
    // Offline, the delegation works on both amendments; meanwhile p1 is locked.
    mex.drop_connection(1006);
    mex.client
        .edit(&a1, "First, with MEX wording.")
        .expect("offline edit");
    mex.client
        .edit(&a2, "Second, improved.")
        .expect("offline edit");
    server
        .command(
            CHAIR,
            Command::Lock {
                paragraph: "p1".into(),
                reason: "agreed ad ref".into(),
                status: None,
            },
        )
        .expect("lock");
    let old_client_id = mex.client.client_id();
    // The sync carries both edits; the server refuses the update (a1's paragraph is locked).
    mex.open = true;
    mex.seq = 0;
    mex.client.connected();
    mex.client.receive(&server.session(MEX));
    mex.client
        .receive(&Message::SyncStep1(server.doc.transact().state_vector()).encode());
    assert_eq!(mex.pump(&mut server), Some(4403));
    // Until the fresh replica has the server's state, the page keeps showing the text (with
    // nothing editable) rather than an empty document.
    mex.client.connected();
    let shown = mex.client.model();
    assert_eq!(shown["paragraphs"].as_array().map(Vec::len), Some(2));
    assert_eq!(
        shown["paragraphs"][1]["amendments"][0]["text_editable"],
        false
    );
    mex.client.disconnected(1006, "test");
    mex.client.fresh_replica_needed = true;
    let events = mex.client.take_events();
    assert!(events
        .iter()
        .any(|e| e["type"] == "rejected" && e["rule"] == "paragraph-locked"));
    assert_eq!(
        server.text(&a1),
        "First.",
        "the refused update changed nothing"
    );

    // Reconnecting starts a fresh replica; a2's edit goes in again, a1's is kept to copy.
    mex.connect(&mut server);
    assert_ne!(
        mex.client.client_id(),
        old_client_id,
        "a fresh replica, a new client id"
    );
    assert_eq!(server.text(&a2), "Second, improved.");
    assert_eq!(server.text(&a1), "First.");
    let recoverable = mex.client.recoverable();
    assert_eq!(recoverable.len(), 1);
    assert_eq!(recoverable[0].target, a1);
    assert_eq!(recoverable[0].text, "First, with MEX wording.");
    assert!(mex.client.is_saved());
    assert!(mex
        .client
        .take_events()
        .iter()
        .any(|e| e["type"] == "recoverable" && e["text"] == "First, with MEX wording."));
}

#[test]
fn the_client_offers_only_what_the_server_permits() {
    let mut server = Server::new("[1] First.");
    amendment(&mut server, MEX, "p1");
    let mut mex = Connection::new(MEX);
    mex.connect(&mut server);
    let body = Target::Body("p1".into());
    let a1 = Target::AmendmentText("a1".into());
    assert_eq!(
        mex.client.may_edit(&body).map_err(|r| r.rule),
        Err("body-facilitators-only".into())
    );
    assert!(mex.client.edit(&body, "rewritten").is_err());
    assert!(mex.client.may_edit(&a1).is_ok());
    let model = mex.client.model();
    assert_eq!(model["paragraphs"][0]["editable"], false);
    assert_eq!(
        model["paragraphs"][0]["amendments"][0]["text_editable"],
        true
    );

    let mut ngo = Connection::new(NGO);
    ngo.connect(&mut server);
    assert_eq!(
        ngo.client.edit(&a1, "observer text").map_err(|r| r.rule),
        Err("observer-read-only".into())
    );
    // Commands are tried on a scratch copy first, with the server's codes.
    let lock = Command::Lock {
        paragraph: "p1".into(),
        reason: "x".into(),
        status: None,
    };
    assert_eq!(
        mex.client
            .command(lock.clone())
            .map_err(|e| e.code.as_str()),
        Err("forbidden-role")
    );
    let mut chair = Connection::new(CHAIR);
    chair.connect(&mut server);
    let id = chair.client.command(lock).expect("a facilitator may lock");
    chair.pump(&mut server);
    assert!(chair
        .client
        .take_events()
        .iter()
        .any(|e| e["type"] == "command-result"
            && e["id"] == id
            && e["result"].get("ok").is_some()));
}

#[test]
fn backoff_grows_to_ten_seconds_and_final_codes_stop_reconnecting() {
    let mut client = ClientCore::new();
    let mut last = 0.0;
    for _ in 0..12 {
        assert!(client.disconnected(1006, "network"));
        let delay = client.reconnect_delay_ms(1.0);
        assert!(delay >= last && delay <= 10_000.0);
        last = delay;
    }
    assert_eq!(last, 10_000.0);
    assert!(!client.disconnected(4401, "token expired"));
    assert_eq!(client.status()["connection"], "closed");
}

#[test]
fn the_model_names_the_revisions_and_the_cover_letter_facilitators_type() {
    let mut server = Server::new("[1] Commit to cooperate.");
    let mut chair = Connection::new(CHAIR);
    chair.connect(&mut server);
    let model = chair.client.model();
    assert_eq!(model["revisions"]["published"], json!([]));
    assert_eq!(model["revisions"]["latest"], Value::Null);
    assert_eq!(model["revisions"]["observers"], "live");
    assert_eq!(model["revisions"]["cover_note"], Value::Null);

    for command in [
        Command::PublishRevision {
            name: "Zero draft".into(),
            note: None,
        },
        Command::PrepareRevision {},
    ] {
        let update = server.command(CHAIR, command).expect("facilitators may");
        chair.client.receive(&update);
    }
    let model = chair.client.model();
    assert_eq!(model["revisions"]["published"], json!(["r1"]));
    let latest = &model["revisions"]["latest"];
    assert_eq!(latest["name"], "Zero draft");
    assert_eq!(latest["number"], 1);
    assert_eq!(latest["published_by"]["mission"], "UN");
    assert_eq!(model["revisions"]["cover_note"], "");
    assert_eq!(model["revisions"]["cover_note_editable"], true);

    // The cover letter is a text like the others: typed, saved, heard as one text.
    chair
        .client
        .edit(&Target::CoverNote, "Dear colleagues,")
        .expect("facilitators type the cover letter");
    chair.pump(&mut server);
    assert!(chair.client.is_saved());
    assert_eq!(server.text(&Target::CoverNote), "Dear colleagues,");
    assert_eq!(
        serde_json::to_value(Target::CoverNote).expect("serializes"),
        json!({"kind": "cover-note"})
    );

    let mut mex = Connection::new(MEX);
    mex.connect(&mut server);
    let model = mex.client.model();
    assert_eq!(model["revisions"]["cover_note"], "Dear colleagues,");
    assert_eq!(model["revisions"]["cover_note_editable"], false);
}

#[test]
fn the_model_carries_the_process_with_the_notices_addressed_to_this_mission() {
    use concord_protocol::process::{covers, ItemKind, ProcessState, ProgrammeDay, ProgrammeItem};
    use concord_protocol::schema;
    let mut server =
        Server::new("# Objectives\n\n[1] Cooperate.\n\n# Commitments\n\n[2] Invest.\n\n[3] Train.");
    let mut mex = Connection::new(MEX);
    mex.connect(&mut server);
    let mut ngo = Connection::new(NGO);
    ngo.connect(&mut server);
    let item = |title: &str| ProgrammeItem {
        kind: ItemKind::Reading,
        title: title.into(),
        theme: None,
        paragraphs: Vec::new(),
        time: "10:00-13:00".into(),
    };
    let commands = [
        Command::CreateRound {
            name: "Third round".into(),
            starts_on: "2018-04-03".into(),
            ends_on: "2018-04-06".into(),
            place: "Conference Room 2".into(),
            programme: vec![ProgrammeDay {
                date: "2018-04-03".into(),
                items: vec![item("First reading"), item("Second reading")],
            }],
        },
        Command::SetCurrentItem {
            round: "round1".into(),
            day: Some(0),
            item: Some(1),
        },
        Command::StartReading {
            name: "Second reading".into(),
            round: None,
            from: Some("p2".into()),
            to: Some("p3".into()),
        },
        Command::PublishNotice {
            subject: "To Mexico".into(),
            body: "Dear colleagues,".into(),
            to: vec!["MEX".into()],
            attachments: Vec::new(),
            round: None,
            revision: None,
        },
        Command::PublishNotice {
            subject: "To Switzerland".into(),
            body: "Dear colleagues,".into(),
            to: vec!["CHE".into()],
            attachments: Vec::new(),
            round: None,
            revision: None,
        },
        Command::PublishNotice {
            subject: "To all".into(),
            body: "Dear colleagues,".into(),
            to: Vec::new(),
            attachments: Vec::new(),
            round: None,
            revision: None,
        },
    ];
    // The delegations have joined (a letter goes only to missions the document knows).
    for mission in ["MEX", "CHE"] {
        let record = Command::RecordMission {
            mission: mission.into(),
        };
        let server_itself = (Role::Facilitator, concord_protocol::policy::SERVER_OWNER);
        let update = server.command(server_itself, record).expect("recorded");
        mex.client.receive(&update);
        ngo.client.receive(&update);
    }
    for command in commands {
        let update = server.command(CHAIR, command).expect("facilitators may");
        mex.client.receive(&update);
        ngo.client.receive(&update);
    }
    let read = server
        .command(
            MEX,
            Command::ReadNotice {
                notice: "notice1".into(),
            },
        )
        .expect("addressed to Mexico");
    mex.client.receive(&read);
    ngo.client.receive(&read);

    let model = mex.client.model();
    let process = &model["process"];
    let round = &process["rounds"][0];
    assert_eq!(round["name"], "Third round");
    assert_eq!(round["current"], json!([0, 1]));
    assert_eq!(process["readings"][0]["name"], "Second reading");
    let subjects: Vec<&str> = process["notices"]
        .as_array()
        .expect("notices")
        .iter()
        .map(|n| n["subject"].as_str().expect("subject"))
        .collect();
    assert_eq!(subjects, ["To Mexico", "To all"]);
    assert!(process["notices"][0]["read_by"]["MEX"].is_u64());
    // Observers see what is addressed to all, and nobody's read marks.
    let model = ngo.client.model();
    assert_eq!(
        model["process"]["notices"].as_array().map(Vec::len),
        Some(1)
    );
    assert_eq!(model["process"]["notices"][0]["read_by"], json!({}));

    // The paragraphs the reading covers are those `covers` names, in reading order (its last,
    // p3, is the heading "Commitments": its section comes along).
    let txn = server.doc.transact();
    let state = ProcessState::read(&txn);
    let reading = state.open_reading().expect("a reading is open");
    let expected: Vec<String> = schema::paragraphs(&txn)
        .into_iter()
        .filter(|p| covers(&txn, reading, &p.id))
        .map(|p| p.id)
        .collect();
    assert_eq!(expected, ["p2", "p3", "p4", "p5"]);
    assert_eq!(model["process"]["in_reading"], json!(expected));
}

#[test]
fn presence_names_the_text_the_person_is_in_once_per_move() {
    use concord_protocol::awareness::decode_awareness;
    let mut server = Server::new("[1] Commit to cooperate.");
    let mut mex = Connection::new(MEX);
    mex.connect(&mut server);
    while mex.client.take_outgoing().is_some() {}
    let focus = |client: &mut ClientCore| -> Vec<Value> {
        let mut states = Vec::new();
        while let Some(frame) = client.take_outgoing() {
            for message in Message::decode_frame(&frame).expect("frame") {
                if let Message::Awareness(update) = message {
                    for entry in decode_awareness(update).expect("awareness") {
                        let state: Value = serde_json::from_str(entry.state).expect("json");
                        states.push(state["focus"].clone());
                    }
                }
            }
        }
        states
    };
    mex.client.set_focus(Some(Target::Body("p1".into())));
    assert_eq!(
        focus(&mut mex.client),
        vec![json!({"kind": "body", "id": "p1"})]
    );
    mex.client.set_focus(Some(Target::Body("p1".into())));
    assert!(focus(&mut mex.client).is_empty(), "unchanged: nothing sent");
    mex.client.set_focus(None);
    assert_eq!(focus(&mut mex.client), vec![Value::Null]);
    // The caret goes with the focus, and moving it alone is published.
    mex.client
        .set_focus_at(Some(Target::Body("p1".into())), Some(4));
    assert_eq!(focus(&mut mex.client).len(), 1);
    mex.client
        .set_focus_at(Some(Target::Body("p1".into())), Some(9));
    assert_eq!(focus(&mut mex.client).len(), 1, "the caret moved");
}

/// After a refusal, the fresh replica's answer to the server's sync step 1 is empty: the
/// remembered edits are not in it. A server may acknowledge that answer before its own sync
/// step 2 arrives (it did, under load); the acknowledgement must not count as saving them.
#[test]
fn an_early_ack_on_a_fresh_replica_does_not_mark_the_remembered_edits_saved() {
    let mut server = Server::new("[1] First.");
    amendment(&mut server, MEX, "p1");
    let mut mex = Connection::new(MEX);
    mex.connect(&mut server);
    let a1 = Target::AmendmentText("a1".into());
    mex.drop_connection(1006);
    mex.client
        .edit(&a1, "First, offline words.")
        .expect("offline edit");
    let lock = Command::Lock {
        paragraph: "p1".into(),
        reason: "agreed ad ref".into(),
        status: None,
    };
    server.command(CHAIR, lock).expect("lock");
    mex.connect(&mut server);
    assert!(!mex.open, "the offline edit was refused");
    assert!(mex.client.recoverable().is_empty());

    // The fresh replica: its sync step 1 and its (empty) answer leave together, and the
    // server's acknowledgement of the answer overtakes the server's sync step 2.
    mex.open = true;
    mex.seq = 0;
    mex.client.connected();
    mex.client.receive(&server.session(MEX));
    mex.client
        .receive(&Message::SyncStep1(server.doc.transact().state_vector()).encode());
    let frames: Vec<Vec<u8>> = std::iter::from_fn(|| mex.client.take_outgoing()).collect();
    let is_step1 = |f: &Vec<u8>| {
        matches!(
            Message::decode_frame(f).as_deref(),
            Ok([Message::SyncStep1(_)])
        )
    };
    let (step1, answers): (Vec<_>, Vec<_>) = frames.into_iter().partition(is_step1);
    let mut replies = Vec::new();
    for frame in answers.into_iter().chain(step1) {
        match server.handle(MEX, &frame, &mut mex.seq) {
            Outcome::Replied(r) => replies.extend(r),
            Outcome::Refused(_) => panic!("an empty answer is not refused"),
        }
    }
    assert!(
        matches!(
            Message::decode_frame(&replies[0]).as_deref(),
            Ok([Message::Ack(1)])
        ),
        "the acknowledgement comes first: {:?}",
        Message::decode_frame(&replies[0])
    );
    for reply in &replies {
        mex.client.receive(reply);
    }
    mex.pump(&mut server);
    let recoverable = mex.client.recoverable();
    assert_eq!(recoverable.len(), 1, "the refused words are kept to copy");
    assert_eq!(recoverable[0].text, "First, offline words.");
    assert_eq!(server.text(&a1), "First.");
}

/// Typing between the client's answer to the server's sync step 1 and the server's own state
/// leaves at once, and is saved without waiting for another connection.
#[test]
fn typing_during_the_sync_is_sent_and_saved_on_the_same_connection() {
    let mut server = Server::new("[1] Commit.");
    let mut chair = Connection::new(CHAIR);
    chair.connect(&mut server);
    chair.drop_connection(1006);
    let body = Target::Body("p1".into());
    chair.open = true;
    chair.seq = 0;
    chair.client.connected();
    chair.client.receive(&server.session(CHAIR));
    chair
        .client
        .receive(&Message::SyncStep1(server.doc.transact().state_vector()).encode());
    assert_eq!(chair.client.status()["connection"], "connecting");
    chair
        .client
        .edit(&body, "Commit, while syncing.")
        .expect("edits while syncing");
    chair.pump(&mut server);
    assert_eq!(server.text(&body), "Commit, while syncing.");
    assert!(chair.client.is_saved(), "saved on this connection");
}
