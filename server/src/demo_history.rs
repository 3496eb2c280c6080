//! The demo's history, so that a newcomer sees at once what revisions look like: the zero
//! draft (5 February 2018), a "zero draft plus" (5 March) and "Rev 1" (26 March), with
//! amendments proposed, co-drafted, accepted and rejected between them, facilitators' edits,
//! change notes ("no changes were made to paragraph 41, as we are working on a proposal"), a
//! theme, and a paragraph agreed ad ref. Everything goes through the document core as a live
//! room would do it (delegations type into their amendments from replicas of their own), so
//! attribution, the audit and the revisions are real.

use concord_protocol::command::{Command, Outcome};
use concord_protocol::schema::{self, ParagraphStatus};
use concord_protocol::Role;
use yrs::updates::decoder::Decode;
use yrs::{Doc, ReadTxn, Transact, Update};

use crate::document::{Author, DocumentCore};
use crate::storage::LogEntry;

/// 5 February 2018, 10:00 UTC: the zero draft.
const ZERO_DRAFT_MS: u64 = 1_517_824_800_000;
const DAY_MS: u64 = 86_400_000;

/// Who acts in the demo's history (the demo's participants).
const MEX: Author<'static> = Author {
    role: Role::Facilitator,
    mission: "MEX",
    person: "Co-facilitator (Mexico)",
};
const CHE: Author<'static> = Author {
    role: Role::Facilitator,
    mission: "CHE",
    person: "Co-facilitator (Switzerland)",
};
const EU: Author<'static> = Author {
    role: Role::Delegation,
    mission: "EU",
    person: "Delegate of the EU",
};
const PHL: Author<'static> = Author {
    role: Role::Delegation,
    mission: "PHL",
    person: "Delegate of the Philippines",
};
const MAR: Author<'static> = Author {
    role: Role::Delegation,
    mission: "MAR",
    person: "Delegate of Morocco",
};

/// The document core with what it logged, and the time of the next step.
struct History {
    core: DocumentCore,
    entries: Vec<LogEntry>,
    now_ms: u64,
    /// Each writer's replica, by client id, as their page would keep it.
    replicas: Vec<(&'static str, Doc)>,
}

impl History {
    fn command(&mut self, who: Author<'_>, command: Command) -> anyhow::Result<Outcome> {
        self.now_ms += 60_000;
        let (result, entry) = self.core.run_command(who, &command, self.now_ms);
        self.entries.extend(entry);
        result.map_err(|e| anyhow::anyhow!("demo {}: {}: {}", command.name(), e.code, e.message))
    }

    fn created(&mut self, who: Author<'_>, command: Command) -> anyhow::Result<String> {
        match self.command(who, command)? {
            Outcome::Created { id } => Ok(id),
            other => anyhow::bail!("demo: expected an id, got {other:?}"),
        }
    }

    /// `who` types: `edit` changes a text of its replica (synced first), and the update goes
    /// through the policy like any client's.
    fn typing(
        &mut self,
        who: Author<'static>,
        edit: impl FnOnce(&yrs::TransactionMut) -> Option<(yrs::TextRef, String)>,
    ) -> anyhow::Result<()> {
        self.now_ms += 60_000;
        let at = match self.replicas.iter().position(|(m, _)| *m == who.mission) {
            Some(at) => at,
            None => {
                let client = 0x0D00_0000 + self.replicas.len() as u64;
                let options = yrs::Options {
                    client_id: yrs::ClientID::new(client),
                    ..schema::replica_options()
                };
                self.replicas
                    .push((who.mission, Doc::with_options(options)));
                self.replicas.len() - 1
            }
        };
        let replica = &self.replicas[at].1;
        let missing = self.core.diff(&replica.transact().state_vector());
        replica
            .transact_mut()
            .apply_update(Update::decode_v1(&missing)?)?;
        let update = {
            let mut txn = replica.transact_mut();
            let (text, new) = edit(&txn).ok_or_else(|| anyhow::anyhow!("demo: no such text"))?;
            // One splice, as the page sends a run of keystrokes.
            schema::rewrite_text(&mut txn, &text, &new);
            txn.encode_update_v1()
        };
        let decoded = Update::decode_v1(&update)?;
        let entry = self
            .core
            .apply_update(update.into(), decoded, who, self.now_ms)
            .map_err(|e| anyhow::anyhow!("demo typing refused: {e:?}"))?;
        self.entries.extend(entry);
        Ok(())
    }

    fn paragraph_id(&self, label: &str) -> anyhow::Result<String> {
        schema::paragraphs(&self.core.doc().transact())
            .into_iter()
            .find(|p| p.label == label)
            .map(|p| p.id)
            .ok_or_else(|| anyhow::anyhow!("demo: no paragraph {label}"))
    }

    fn body(&self, paragraph: &str) -> String {
        schema::paragraph(&self.core.doc().transact(), paragraph)
            .map(|p| p.body)
            .unwrap_or_default()
    }

    fn amend(
        &mut self,
        who: Author<'static>,
        label: &str,
        on_behalf_of: Option<&str>,
        rationale: &str,
        rewrite: impl FnOnce(&str) -> String,
    ) -> anyhow::Result<String> {
        let paragraph = self.paragraph_id(label)?;
        let amendment = self.created(
            who,
            Command::CreateAmendment {
                paragraph: paragraph.clone(),
                new_after: false,
                on_behalf_of: on_behalf_of.map(String::from),
                rationale: rationale.to_string(),
            },
        )?;
        let new = rewrite(&self.body(&paragraph));
        let id = amendment.clone();
        self.typing(who, move |txn| {
            schema::amendment_text(txn, &id).map(|text| (text, new))
        })?;
        Ok(amendment)
    }

    fn facilitator_edit(
        &mut self,
        who: Author<'static>,
        label: &str,
        rewrite: impl FnOnce(&str) -> String,
    ) -> anyhow::Result<()> {
        let paragraph = self.paragraph_id(label)?;
        let new = rewrite(&self.body(&paragraph));
        self.typing(who, move |txn| {
            schema::body_text(txn, &paragraph).map(|text| (text, new))
        })
    }

    fn cover_letter(&mut self, who: Author<'static>, letter: &str) -> anyhow::Result<()> {
        self.command(who, Command::PrepareRevision {})?;
        let letter = letter.to_string();
        self.typing(who, move |txn| {
            schema::cover_note_text(txn).map(|text| (text, letter))
        })
    }

    fn publish(&mut self, name: &str, at_ms: u64) -> anyhow::Result<()> {
        self.now_ms = self.now_ms.max(at_ms);
        self.created(
            MEX,
            Command::PublishRevision {
                name: name.to_string(),
                note: None,
            },
        )?;
        Ok(())
    }
}

/// Inserts `words` before the first occurrence of `before` (or at the end).
fn insert_before(text: &str, before: &str, words: &str) -> String {
    match text.find(before) {
        Some(at) => format!("{}{words}{}", &text[..at], &text[at..]),
        None => format!("{} {}", text.trim_end_matches('.'), words.trim()) + ".",
    }
}

/// The demo negotiation from import to Rev 1: every log entry, in order.
pub fn entries(text: String) -> anyhow::Result<Vec<LogEntry>> {
    let mut h = History {
        core: DocumentCore::default(),
        entries: Vec::new(),
        now_ms: ZERO_DRAFT_MS - DAY_MS,
        replicas: Vec::new(),
    };
    h.command(MEX, Command::ImportText { text })?;
    h.cover_letter(
        MEX,
        "Excellencies,\n\nWe have the honour to circulate the **zero draft** of the Global \
         Compact for Safe, Orderly and Regular Migration, the basis for the intergovernmental \
         negotiations starting on 20 February.\n\nThe Co-facilitators",
    )?;
    h.publish("Zero draft", ZERO_DRAFT_MS)?;

    // First round: proposals, co-drafting, the facilitators' edits.
    let safe = h.amend(
        EU,
        "3",
        None,
        "Align with the title of the Compact.",
        |body| {
            insert_before(
                body,
                "the importance",
                "safe, orderly and regular migration and ",
            )
        },
    )?;
    let g77 = h.amend(
        PHL,
        "20",
        Some("G77 and China"),
        "Remittances are private funds; say so.",
        |body| {
            insert_before(
                body,
                ".",
                ", recognizing that remittances are private funds",
            )
        },
    )?;
    let _ = h.amend(
        MAR,
        "41",
        None,
        "A capacity-building mechanism needs its own paragraph.",
        |body| insert_before(body, ".", ", through a capacity-building mechanism"),
    )?;
    h.facilitator_edit(CHE, "10", |body| {
        body.replacen(
            "We commit to",
            "We commit, in a spirit of shared responsibility, to",
            1,
        )
    })?;
    h.command(
        MEX,
        Command::Accept {
            amendment: safe,
            over_later_edits: false,
        },
    )?;
    h.command(
        CHE,
        Command::Reject {
            amendment: g77,
            reason: "not agreed".into(),
        },
    )?;
    let p41 = h.paragraph_id("41")?;
    h.command(
        MEX,
        Command::NoteChange {
            paragraph: p41,
            note: "No changes were made to paragraph 41, as we are working on a proposal on a \
                   capacity-building mechanism."
                .into(),
        },
    )?;
    let implementation = h.paragraph_id("40")?;
    let p18 = h.paragraph_id("18")?;
    h.command(
        MEX,
        Command::SetTheme {
            theme: None,
            name: "implementation and capacity-building".into(),
            paragraphs: vec![implementation, p18],
        },
    )?;
    h.cover_letter(
        MEX,
        "Excellencies,\n\nFollowing the first round, we circulate the **zero draft plus**. \
         The clarifications can be found mainly in the Preamble and paragraph 10.\n\nNo \
         changes were made to paragraph 41, as we are working on a proposal.",
    )?;
    h.publish("Zero draft plus", ZERO_DRAFT_MS + 28 * DAY_MS)?;

    // Second round: a paragraph agreed ad ref, one deleted, one more accepted amendment.
    let eu = h.amend(EU, "48", None, "Review every four years.", |body| {
        insert_before(body, ".", ", every four years")
    })?;
    h.command(
        CHE,
        Command::Accept {
            amendment: eu,
            over_later_edits: false,
        },
    )?;
    h.facilitator_edit(MEX, "18", |body| {
        format!("{body} This includes capacity-building.")
    })?;
    let p1 = h.paragraph_id("1")?;
    h.command(
        MEX,
        Command::SetStatus {
            paragraph: p1.clone(),
            status: ParagraphStatus::AgreedAdRef,
            pending: Vec::new(),
        },
    )?;
    h.command(
        MEX,
        Command::Lock {
            paragraph: p1,
            reason: "agreed ad ref in the second round".into(),
            status: None,
        },
    )?;
    let p54 = h.paragraph_id("54")?;
    h.command(CHE, Command::DeleteParagraph { paragraph: p54 })?;
    h.cover_letter(
        MEX,
        "Excellencies,\n\nWe are pleased to share **Draft Rev 1**. Paragraph 1 is agreed ad \
         ref; paragraph 54 was deleted; paragraph 48 now provides for a review every four \
         years.\n\nThe Co-facilitators",
    )?;
    h.publish("Rev 1", ZERO_DRAFT_MS + 49 * DAY_MS)?;
    third_round(&mut h)?;
    Ok(h.entries)
}

/// The third round under way (3-6 April 2018): its programme, the letter that circulated it
/// with Rev 1, a paragraph agreed pending two missions, and the second reading at objective 2
/// with a proposal made during it.
fn third_round(h: &mut History) -> anyhow::Result<()> {
    use concord_protocol::process::{Attachment, ItemKind, ProgrammeDay, ProgrammeItem};
    h.now_ms = h.now_ms.max(ZERO_DRAFT_MS + 57 * DAY_MS);
    // Objective n is paragraph n + 16 with its lettered actions.
    let (objective1, objective2, objective12) = (
        h.paragraph_id("17")?,
        h.paragraph_id("18")?,
        h.paragraph_id("28")?,
    );
    let theme = |kind, title: &str, theme: Option<&str>, time: &str| ProgrammeItem {
        kind,
        title: title.into(),
        theme: theme.map(String::from),
        paragraphs: Vec::new(),
        time: time.into(),
    };
    let reading = |title: &str, paragraphs: Vec<String>, time: &str| ProgrammeItem {
        kind: ItemKind::Reading,
        title: title.into(),
        theme: None,
        paragraphs,
        time: time.into(),
    };
    let programme = vec![
        ProgrammeDay {
            date: "2018-04-03".into(),
            items: vec![
                theme(
                    ItemKind::GeneralComments,
                    "General comments on Rev 1",
                    None,
                    "10:00-13:00",
                ),
                theme(
                    ItemKind::Theme,
                    "Implementation and capacity-building",
                    Some("t1"),
                    "15:00-18:00",
                ),
            ],
        },
        ProgrammeDay {
            date: "2018-04-04".into(),
            items: vec![reading(
                "Second reading, objectives 1 to 12",
                vec![objective1.clone(), objective12.clone()],
                "10:00-18:00",
            )],
        },
        ProgrammeDay {
            date: "2018-04-05".into(),
            items: vec![reading(
                "Second reading, objectives 13 to 23",
                Vec::new(),
                "10:00-18:00",
            )],
        },
        ProgrammeDay {
            date: "2018-04-06".into(),
            items: vec![theme(ItemKind::Other, "Way forward", None, "10:00-13:00")],
        },
    ];
    let round = h.created(
        MEX,
        Command::CreateRound {
            name: "Third round of intergovernmental negotiations".into(),
            starts_on: "2018-04-03".into(),
            ends_on: "2018-04-06".into(),
            place: "Conference Room 2, United Nations Headquarters".into(),
            programme,
        },
    )?;
    h.created(
        MEX,
        Command::PublishNotice {
            subject: "Third round of negotiations and Draft Rev 1".into(),
            body: "Excellencies,\n\nFurther to our letter circulating **Draft Rev 1**, we \
                   attach the programme of work of the third round, to be held from 3 to 6 \
                   April 2018 in Conference Room 2. We intend to conduct a full reading of the \
                   text, objective by objective, and invite delegations to submit their \
                   proposals with a rationale.\n\nPlease accept, Excellencies, the \
                   assurances of our highest consideration.\n\nThe Co-facilitators"
                .into(),
            to: Vec::new(),
            attachments: vec![
                Attachment::Revision {
                    revision: "r3".into(),
                },
                Attachment::Export {
                    format: "docx".into(),
                    revision: Some("r3".into()),
                },
            ],
            round: Some(round.clone()),
            revision: Some("r3".into()),
        },
    )?;
    let p2 = h.paragraph_id("2")?;
    h.command(
        CHE,
        Command::SetStatus {
            paragraph: p2,
            status: ParagraphStatus::AgreedPending,
            pending: vec!["EU".into(), "MAR".into()],
        },
    )?;
    h.command(
        MEX,
        Command::SetCurrentItem {
            round: round.clone(),
            day: Some(1),
            item: Some(0),
        },
    )?;
    let second = h.created(
        MEX,
        Command::StartReading {
            name: "Second reading".into(),
            round: Some(round),
            from: Some(objective1.clone()),
            to: Some(objective12),
        },
    )?;
    for to in [objective1, objective2.clone()] {
        h.command(
            MEX,
            Command::MovePointer {
                reading: second.clone(),
                paragraph: to,
            },
        )?;
    }
    h.amend(
        MAR,
        "18(a)",
        None,
        "Name the structural factors, as the New York Declaration does.",
        |body| insert_before(body, ".", ", including structural factors"),
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use concord_protocol::process::ProcessState;
    use yrs::updates::decoder::Decode;
    use yrs::{Transact, Update};

    #[test]
    fn the_demo_runs_a_round_with_a_programme_a_reading_under_way_and_a_letter() {
        let entries = super::entries(crate::demo::gcm_text()).expect("the demo's history");
        let doc = concord_protocol::schema::new_replica();
        for entry in &entries {
            let update = Update::decode_v1(&entry.update).expect("an update");
            doc.transact_mut().apply_update(update).expect("applies");
        }
        let txn = doc.transact();
        let process = ProcessState::read(&txn);
        let round = &process.rounds[0];
        assert_eq!((round.programme.len(), round.current), (4, Some((1, 0))));
        let reading = process.open_reading().expect("a reading under way");
        assert!(reading.pointer.is_some());
        assert_eq!(process.notices.len(), 1);
        let proposed = concord_protocol::schema::amendments(&txn)
            .into_iter()
            .filter(|a| a.reading.as_deref() == Some(reading.id.as_str()))
            .count();
        assert_eq!(proposed, 1);
        let progress = concord_protocol::progress::of(&txn);
        assert_eq!(progress.pending_on.get("EU").map(Vec::len), Some(1));
    }
}
