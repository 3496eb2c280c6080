//! `concord serve --demo`: a negotiation shaped like the Global Compact for Migration
//! (docs/domain.md: 54 paragraphs numbered straight through, 23 objectives with 190 lettered
//! actions), with generated wording, a history of three published revisions
//! (`demo_history`), and sign-in links for two co-facilitators, three delegations and an
//! observer.

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::Path;

use concord_protocol::Role;

use crate::auth::{self, DocAccess, TokenRequest};

/// The demo's document id.
pub const DOC: &str = "gcm";

/// Who the demo signs in: (person, mission, role).
pub const PARTICIPANTS: [(&str, &str, Role); 6] = [
    ("Co-facilitator (Mexico)", "MEX", Role::Facilitator),
    ("Co-facilitator (Switzerland)", "CHE", Role::Facilitator),
    ("Delegate of the Philippines", "PHL", Role::Delegation),
    ("Delegate of the EU", "EU", Role::Delegation),
    ("Delegate of Morocco", "MAR", Role::Delegation),
    ("Observer (IOM)", "IOM", Role::Observer),
];

/// Lettered actions per objective (3 to 12, 190 in all, as in the reference text).
const ACTIONS: [usize; 23] = [
    11, 6, 8, 12, 5, 9, 7, 10, 4, 8, 9, 7, 11, 6, 8, 10, 3, 9, 12, 7, 8, 9, 11,
];

const TOPICS: [&str; 23] = [
    "accurate and disaggregated data",
    "the drivers that compel people to leave their country of origin",
    "timely information at all stages of migration",
    "proof of legal identity and adequate documentation",
    "the availability and flexibility of pathways for regular migration",
    "fair and ethical recruitment and decent work",
    "vulnerabilities in migration",
    "saving lives and coordinated efforts on missing migrants",
    "the transnational response to smuggling of migrants",
    "the prevention of trafficking in persons",
    "integrated, secure and coordinated border management",
    "certainty and predictability in migration procedures",
    "detention as a measure of last resort",
    "consular protection and assistance throughout the migration cycle",
    "access to basic services for migrants",
    "full inclusion and social cohesion",
    "the elimination of all forms of discrimination",
    "skills development and the mutual recognition of qualifications",
    "conditions for migrants and diasporas to contribute to sustainable development",
    "faster, safer and cheaper transfer of remittances",
    "safe and dignified return, readmission and reintegration",
    "the portability of social security entitlements",
    "international cooperation and global partnerships",
];

const OPENERS: [&str; 7] = [
    "Recalling",
    "Reaffirming",
    "Recognizing",
    "Acknowledging",
    "Bearing in mind",
    "Emphasizing",
    "Noting with concern",
];

const VERBS: [&str; 12] = [
    "Develop",
    "Strengthen",
    "Establish",
    "Promote",
    "Review",
    "Enhance",
    "Support",
    "Ensure",
    "Invest in",
    "Facilitate",
    "Implement",
    "Share",
];

const PHRASES: [&str; 16] = [
    "in cooperation with relevant stakeholders",
    "in accordance with international law",
    "taking into account national realities, capacities and levels of development",
    "with full respect for human rights",
    "through a whole-of-government approach",
    "including at the local level",
    "in a gender-responsive and child-sensitive manner",
    "building on existing mechanisms",
    "with a view to reducing costs",
    "while upholding the sovereign right of States",
    "through regional and bilateral partnerships",
    "so that migrants can make informed decisions",
    "drawing on the expertise of the United Nations system",
    "based on evidence and good practices",
    "with the participation of migrants and diaspora communities",
    "so that no one is left behind",
];

/// A sentence of generated wording of about `words` words.
fn wording(rng: &mut fastrand::Rng, start: &str, topic: &str, words: usize) -> String {
    let mut text = format!("{start} {topic}");
    // Each phrase at most once per sentence, as a drafter would.
    let mut phrases = PHRASES.to_vec();
    rng.shuffle(&mut phrases);
    for phrase in phrases {
        if text.split_whitespace().count() >= words {
            break;
        }
        let _ = write!(text, ", {phrase}");
    }
    text.push('.');
    text
}

/// The demo negotiation as a structured text (`import-text`).
pub fn gcm_text() -> String {
    let mut rng = fastrand::Rng::with_seed(2018);
    let mut out = String::from("# Preamble\n\n");
    for n in 1..=7 {
        let topic = TOPICS[rng.usize(..TOPICS.len())];
        let body = wording(
            &mut rng,
            OPENERS[n - 1],
            &format!("the importance of {topic}"),
            40,
        );
        let _ = writeln!(out, "[{n}] {body}\n");
    }
    out.push_str("# Our vision and guiding principles\n\n");
    for n in 8..=15 {
        let topic = TOPICS[rng.usize(..TOPICS.len())];
        let body = wording(&mut rng, "We commit to", topic, 45);
        let _ = writeln!(out, "[{n}] {body}\n");
    }
    for (i, letter) in ('a'..='j').enumerate() {
        let body = wording(&mut rng, "Principle:", TOPICS[(i * 3) % TOPICS.len()], 25);
        let _ = writeln!(out, "[15({letter})] {body}\n");
    }
    out.push_str("# Our cooperative framework\n\n");
    let body = wording(
        &mut rng,
        "This Global Compact offers",
        "a cooperative framework",
        60,
    );
    let _ = writeln!(out, "[16] {body}\n");
    out.push_str("# Objectives and commitments\n\n");
    for (objective, (&actions, topic)) in ACTIONS.iter().zip(TOPICS).enumerate() {
        let n = objective + 17;
        let words = 55 + rng.usize(..56);
        let body = wording(
            &mut rng,
            &format!("Objective {}: We commit to improve", objective + 1),
            topic,
            words,
        );
        let _ = writeln!(out, "[{n}] {body}\n");
        for (a, letter) in ('a'..).take(actions).enumerate() {
            let verb = VERBS[(objective + a) % VERBS.len()];
            let words = 35 + rng.usize(..30);
            let body = wording(&mut rng, verb, &format!("measures on {topic}"), words);
            let _ = writeln!(out, "[{n}({letter})] {body}\n");
        }
    }
    out.push_str("# Implementation\n\n");
    for n in 40..=47 {
        let topic = TOPICS[rng.usize(..TOPICS.len())];
        let body = wording(
            &mut rng,
            "We will implement this Global Compact on",
            topic,
            50,
        );
        let _ = writeln!(out, "[{n}] {body}\n");
    }
    out.push_str("# Follow-up and review\n\n");
    for n in 48..=54 {
        let topic = TOPICS[rng.usize(..TOPICS.len())];
        let body = wording(&mut rng, "We will review progress on", topic, 45);
        let _ = writeln!(out, "[{n}] {body}\n");
    }
    out
}

/// Creates the demo document unless it exists already (the server is not running yet).
pub async fn create(data_dir: &Path) -> anyhow::Result<()> {
    use crate::storage::DocumentLog;
    let exists = {
        let log = crate::storage::sqlite::SqliteLog::open(data_dir)?;
        let stored = log.load(DOC).await?;
        log.close().await?;
        !stored.is_new()
    };
    if exists {
        tracing::info!(doc = DOC, "demo document exists; leaving it as it is");
        return Ok(());
    }
    let entries = crate::demo_history::entries(gcm_text())?;
    let log = crate::storage::sqlite::SqliteLog::open(data_dir)?;
    let logged = entries.len();
    crate::document::offline::append_all(&log, DOC, entries).await?;
    log.close().await?;
    tracing::info!(
        doc = DOC,
        logged,
        "demo document created: zero draft, zero draft plus and Rev 1"
    );
    Ok(())
}

/// Prints a sign-in link for each participant (tokens valid for 12 hours).
pub fn print_links(data_dir: &Path, addr: SocketAddr) -> anyhow::Result<()> {
    println!("demo negotiation `{DOC}`: sign-in links (valid 12 hours)");
    for (person, mission, role) in PARTICIPANTS {
        let request = TokenRequest {
            person: person.to_string(),
            mission: mission.to_string(),
            role,
            docs: DocAccess::parse(DOC),
            ttl_seconds: 12 * 3600,
            audience: auth::DEFAULT_AUDIENCE.to_string(),
        };
        let token = auth::issue_local_token(data_dir, &request, auth::now_seconds())?;
        println!(
            "  {:<30} {:<12} http://{addr}/#doc={DOC}&token={token}",
            person,
            role.as_str()
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use concord_protocol::import::parse;
    use concord_protocol::schema::ParagraphKind;

    #[test]
    fn the_demo_has_the_shape_of_the_global_compact() {
        let paragraphs = parse(&gcm_text()).expect("the demo text imports");
        let numbered = paragraphs
            .iter()
            .filter(|p| p.kind != ParagraphKind::Heading && !p.label.contains('('))
            .count();
        let actions = paragraphs
            .iter()
            .filter(|p| p.label.contains('(') && p.label.starts_with(|c: char| c.is_ascii_digit()))
            .filter(|p| !p.label.starts_with("15("))
            .count();
        assert_eq!(numbered, 54);
        assert_eq!(actions, 190);
        assert!(paragraphs.iter().all(|p| !p.body.is_empty()));
    }
}
