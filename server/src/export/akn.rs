//! Akoma Ntoso 3.0 (OASIS LegalDocML): the text as a `statement`. Its `meta/identification`
//! names the work (the negotiated text), the expression (this revision, or the live text) and
//! the manifestation (this export); the `preface` its title, revision and date; the
//! `preamble` the preambular paragraphs as recitals; the `mainBody` each section (a heading)
//! with its paragraphs, each `paragraph` with `num` and `content`, an `eId` from its number
//! now, a `wId` from the number it had in the first revision that held it when it was
//! renumbered since, and its stable id as `GUID`. The open amendments follow as an
//! `amendmentList` attachment: one `amendment` each, its proposed wording in
//! `amendmentContent`, its rationale in `amendmentJustification`, its sponsors as references.

use std::collections::{HashMap, HashSet};

use concord_protocol::revision::TextParagraph;
use concord_protocol::schema::{Amendment, ParagraphKind};

use super::xml::{escape, id_token};
use super::Source;

const NAMESPACE: &str = "http://docs.oasis-open.org/legaldocml/ns/akn/3.0";

/// `YYYY-MM-DD` of Unix milliseconds.
fn date(ms: u64) -> String {
    crate::revisions::format_utc(ms)
        .split_whitespace()
        .next()
        .unwrap_or("1970-01-01")
        .to_string()
}

/// The FRBR identification of one document: `work` its URI (`/akn/un/statement/...`),
/// `version` the expression's version (`r1`, `live`).
fn identification(work: &str, version: &str, version_date: &str, export_date: &str) -> String {
    let expression = format!("{work}/eng@{version}");
    format!(
        "<identification source=\"#concord\">\
<FRBRWork><FRBRthis value=\"{work}/!main\"/><FRBRuri value=\"{work}\"/>\
<FRBRdate date=\"{version_date}\" name=\"work\"/><FRBRauthor href=\"#facilitators\"/>\
<FRBRcountry value=\"un\"/></FRBRWork>\
<FRBRExpression><FRBRthis value=\"{expression}/!main\"/><FRBRuri value=\"{expression}\"/>\
<FRBRdate date=\"{version_date}\" name=\"version\"/><FRBRauthor href=\"#facilitators\"/>\
<FRBRlanguage language=\"eng\"/></FRBRExpression>\
<FRBRManifestation><FRBRthis value=\"{expression}/!main.xml\"/>\
<FRBRuri value=\"{expression}.akn\"/><FRBRdate date=\"{export_date}\" name=\"export\"/>\
<FRBRauthor href=\"#concord\"/></FRBRManifestation></identification>"
    )
}

/// An id-safe organisation reference for a mission.
fn mission_ref(mission: &str) -> String {
    format!("mission-{}", id_token(mission))
}

/// Every paragraph's `eId` (from its number now, unique) and `wId` (from its first number,
/// when that differs).
struct Ids {
    e: HashMap<String, String>,
    w: HashMap<String, String>,
}

impl Ids {
    fn of(source: &Source) -> Ids {
        let mut first: HashMap<&str, &str> = HashMap::new();
        for revision in &source.history {
            for p in &revision.paragraphs {
                first.entry(p.id.as_str()).or_insert(p.label.as_str());
            }
        }
        let mut taken = HashSet::new();
        let mut e = HashMap::new();
        let mut w = HashMap::new();
        for p in &source.paragraphs {
            let stem = match p.kind {
                ParagraphKind::Heading => format!("sec_{}", id_token(&p.id)),
                ParagraphKind::Preambular => format!("preamble__recital_{}", id_token(&p.label)),
                _ => format!("para_{}", id_token(&p.label)),
            };
            // Labels are unique in a text; a duplicate (or an empty label) falls back to the id.
            let eid = if p.label.is_empty() || !taken.insert(stem.clone()) {
                let fallback = format!("{stem}__{}", id_token(&p.id));
                taken.insert(fallback.clone());
                fallback
            } else {
                stem
            };
            if let Some(old) = first.get(p.id.as_str()) {
                if *old != p.label && p.kind != ParagraphKind::Heading {
                    w.insert(p.id.clone(), format!("para_{}", id_token(old)));
                }
            }
            e.insert(p.id.clone(), eid);
        }
        Ids { e, w }
    }

    fn attributes(&self, p: &TextParagraph) -> String {
        let mut out = format!(
            " eId=\"{}\" GUID=\"{}\"",
            escape(self.e.get(&p.id).map_or(p.id.as_str(), String::as_str)),
            escape(&p.id)
        );
        if let Some(wid) = self.w.get(&p.id) {
            out.push_str(&format!(" wId=\"{}\"", escape(wid)));
        }
        out
    }
}

/// A numbered paragraph: `paragraph` (a hierarchy: its words in `content`) or `recital` (an
/// item: its words straight in a block).
fn numbered(tag: &str, ids: &Ids, p: &TextParagraph) -> String {
    let words = format!("<p>{}</p>", escape(&p.body));
    let words = if tag == "recital" {
        words
    } else {
        format!("<content>{words}</content>")
    };
    format!(
        "<{tag}{}><num>{}</num>{words}</{tag}>",
        ids.attributes(p),
        escape(&p.label)
    )
}

pub fn statement(source: &Source) -> String {
    let work = format!(
        "/akn/un/statement/negotiated-text/{}",
        id_token(&source.doc)
    );
    let version = source
        .revision
        .as_ref()
        .map_or_else(|| "live".to_string(), |r| id_token(&r.id));
    let version_date = date(
        source
            .revision
            .as_ref()
            .map_or(source.exported_at_ms, |r| r.published_at_ms),
    );
    let export_date = date(source.exported_at_ms);
    let ids = Ids::of(source);
    let mut missions: Vec<&str> = source
        .amendments
        .iter()
        .flat_map(|a| a.sponsors.iter().chain(a.on_behalf_of.iter()))
        .map(String::as_str)
        .collect();
    missions.sort_unstable();
    missions.dedup();

    let mut out = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<akomaNtoso xmlns=\"{NAMESPACE}\">\
<statement name=\"negotiatedText\"><meta>{}<references source=\"#concord\">\
<TLCOrganization eId=\"concord\" href=\"/ontology/organization/concord\" showAs=\"Concord\"/>\
<TLCOrganization eId=\"facilitators\" href=\"/ontology/organization/facilitators\" showAs=\"The co-facilitators\"/>",
        identification(&work, &version, &version_date, &export_date)
    );
    for m in &missions {
        out.push_str(&format!(
            "<TLCOrganization eId=\"{}\" href=\"/ontology/organization/{}\" showAs=\"{}\"/>",
            escape(&mission_ref(m)),
            escape(&id_token(m)),
            escape(m)
        ));
    }
    out.push_str("</references></meta>");
    out.push_str(&format!(
        "<preface><p class=\"title\"><docTitle>{}</docTitle></p>\
<p><docStage>{}</docStage> <docDate date=\"{version_date}\">{version_date}</docDate></p></preface>",
        escape(&source.title()),
        escape(&source.version_name())
    ));

    let standing: Vec<&TextParagraph> = source.standing().collect();
    let recitals: Vec<&&TextParagraph> = standing
        .iter()
        .filter(|p| p.kind == ParagraphKind::Preambular)
        .collect();
    if !recitals.is_empty() {
        out.push_str("<preamble><recitals eId=\"preamble__recitals\">");
        for p in recitals {
            out.push_str(&numbered("recital", &ids, p));
        }
        out.push_str("</recitals></preamble>");
    }

    out.push_str("<mainBody>");
    let mut open_section = false;
    let mut wrote_any = false;
    for p in standing
        .iter()
        .filter(|p| p.kind != ParagraphKind::Preambular)
    {
        if p.kind == ParagraphKind::Heading {
            if source.is_title(p) {
                continue;
            }
            if open_section {
                out.push_str("</section>");
            }
            out.push_str(&format!(
                "<section{}><heading>{}</heading>",
                ids.attributes(p),
                escape(&p.body)
            ));
            open_section = true;
            continue;
        }
        out.push_str(&numbered("paragraph", &ids, p));
        wrote_any = true;
    }
    if open_section {
        out.push_str("</section>");
    }
    if !wrote_any && !open_section {
        // mainBody may not be empty.
        out.push_str("<p/>");
    }
    out.push_str("</mainBody>");

    if !source.amendments.is_empty() {
        out.push_str(&amendment_list(
            source,
            &work,
            &version,
            &version_date,
            &export_date,
            &ids,
        ));
    }
    out.push_str("</statement></akomaNtoso>\n");
    out
}

fn amendment_list(
    source: &Source,
    work: &str,
    version: &str,
    version_date: &str,
    export_date: &str,
    ids: &Ids,
) -> String {
    let labels: HashMap<&str, &str> = source
        .paragraphs
        .iter()
        .map(|p| (p.id.as_str(), p.label.as_str()))
        .collect();
    let list_work = format!("{work}/amendments");
    let mut out = format!(
        "<attachments><attachment eId=\"att_1\"><amendmentList name=\"openAmendments\"><meta>{}\
</meta><preface><p><docTitle>Open amendments</docTitle></p></preface><collectionBody>",
        identification(&list_work, version, version_date, export_date)
    );
    for (n, a) in source.amendments.iter().enumerate() {
        out.push_str(&amendment(
            a,
            n + 1,
            &list_work,
            version,
            version_date,
            export_date,
            &labels,
            ids,
        ));
    }
    out.push_str("</collectionBody></amendmentList></attachment></attachments>");
    out
}

#[allow(clippy::too_many_arguments)]
fn amendment(
    a: &Amendment,
    n: usize,
    list_work: &str,
    version: &str,
    version_date: &str,
    export_date: &str,
    labels: &HashMap<&str, &str>,
    ids: &Ids,
) -> String {
    let work = format!("{list_work}/{}", id_token(&a.id));
    let label = labels.get(a.paragraph.as_str()).copied().unwrap_or("?");
    let target = ids.e.get(&a.paragraph).cloned().unwrap_or_default();
    let what = if a.new_after {
        format!("New paragraph after paragraph {label}")
    } else {
        format!("Paragraph {label}")
    };
    let sponsors: Vec<String> = a
        .sponsors
        .iter()
        .map(|m| {
            format!(
                "<organization refersTo=\"#{}\">{}</organization>",
                escape(&mission_ref(m)),
                escape(m)
            )
        })
        .collect();
    let behalf = a.on_behalf_of.as_ref().map_or_else(String::new, |g| {
        format!(
            " on behalf of <organization refersTo=\"#{}\">{}</organization>",
            escape(&mission_ref(g)),
            escape(g)
        )
    });
    format!(
        "<component eId=\"cmp_{n}\"><amendment name=\"{}\"><meta>{}</meta><amendmentBody>\
<amendmentHeading><p>{} (<ref href=\"#{}\">{}</ref>), proposed by {}{}</p></amendmentHeading>\
<amendmentContent><p>{}</p></amendmentContent>\
<amendmentJustification><p>{}</p></amendmentJustification></amendmentBody></amendment></component>",
        escape(&id_token(&a.id)),
        identification(&work, version, version_date, export_date),
        escape(&what),
        escape(&target),
        escape(label),
        sponsors.join(", "),
        behalf,
        escape(&a.text),
        escape(&a.rationale)
    )
}
