//! The compilation text: the text with every open amendment inline where it applies, in square
//! brackets with its sponsors and the group they speak for (`[add "safe" – EU]`, `[delete
//! "all" – G77 and China]`), several amendments to one paragraph side by side as alternatives,
//! supporters and opposers in a note. [`compile`] makes the model; [`html`] writes it ready to
//! print, and `docx` writes it for Word.

use concord_protocol::revision::{word_diff, DiffOp};
use concord_protocol::schema::{Amendment, ParagraphKind};

use super::xml::escape;
use super::Source;

/// One change an amendment proposes to the body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Proposed {
    Add(String),
    Delete(String),
    Replace {
        deleted: String,
        inserted: String,
    },
    /// A new paragraph after this one.
    NewParagraph(String),
}

/// One amendment, bracketed.
#[derive(Debug, Clone)]
pub struct Bracket {
    pub amendment: String,
    pub changes: Vec<Proposed>,
    /// "EU", "PHL, MEX on behalf of G77 and China".
    pub sponsors: String,
    /// "supported by ...; opposed by ...", empty when nobody took a side.
    pub positions: String,
}

/// A part of the compilation, in reading order.
#[derive(Debug, Clone)]
pub enum Part {
    Heading(String),
    Paragraph {
        id: String,
        label: String,
        body: String,
        /// Amendments rewording it: one inline, several as alternatives.
        brackets: Vec<Bracket>,
        /// Amendments proposing a new paragraph after it.
        new_after: Vec<Bracket>,
    },
}

/// Who proposes: the sponsors, and the group the author speaks for.
fn sponsors(a: &Amendment) -> String {
    let names = a.sponsors.join(", ");
    match &a.on_behalf_of {
        Some(group) => format!("{names} on behalf of {group}"),
        None => names,
    }
}

fn positions(a: &Amendment) -> String {
    let mut parts = Vec::new();
    if !a.supporters.is_empty() {
        parts.push(format!("supported by {}", a.supporters.join(", ")));
    }
    if !a.opposers.is_empty() {
        parts.push(format!("opposed by {}", a.opposers.join(", ")));
    }
    parts.join("; ")
}

/// What an amendment does to the body, change by change.
fn bracket(body: &str, a: &Amendment) -> Bracket {
    let mut changes = Vec::new();
    if a.new_after {
        changes.push(Proposed::NewParagraph(a.text.trim().to_string()));
    } else {
        let pieces = word_diff(body, &a.text);
        let mut i = 0;
        while i < pieces.len() {
            let text = pieces[i].text.trim().to_string();
            match pieces[i].op {
                DiffOp::Equal => {}
                DiffOp::Delete => match pieces.get(i + 1).filter(|n| n.op == DiffOp::Insert) {
                    Some(next) => {
                        changes.push(Proposed::Replace {
                            deleted: text,
                            inserted: next.text.trim().to_string(),
                        });
                        i += 1;
                    }
                    None if !text.is_empty() => changes.push(Proposed::Delete(text)),
                    None => {}
                },
                DiffOp::Insert if !text.is_empty() => changes.push(Proposed::Add(text)),
                DiffOp::Insert => {}
            }
            i += 1;
        }
    }
    Bracket {
        amendment: a.id.clone(),
        changes,
        sponsors: sponsors(a),
        positions: positions(a),
    }
}

/// The compilation of `source`: headings and paragraphs with their open amendments.
pub fn compile(source: &Source) -> Vec<Part> {
    let mut parts = Vec::new();
    for p in source.standing() {
        if p.kind == ParagraphKind::Heading {
            if !source.is_title(p) {
                parts.push(Part::Heading(p.body.clone()));
            }
            continue;
        }
        let on_it = source.amendments.iter().filter(|a| a.paragraph == p.id);
        let (rewording, new_after): (Vec<&Amendment>, Vec<&Amendment>) =
            on_it.partition(|a| !a.new_after);
        parts.push(Part::Paragraph {
            id: p.id.clone(),
            label: p.label.clone(),
            body: p.body.clone(),
            brackets: rewording.iter().map(|a| bracket(&p.body, a)).collect(),
            new_after: new_after.iter().map(|a| bracket(&p.body, a)).collect(),
        });
    }
    parts
}

/// A change as the compilation says it, with `quote` around the words (markup or plain).
pub fn describe(
    change: &Proposed,
    ins: impl Fn(&str) -> String,
    del: impl Fn(&str) -> String,
) -> String {
    match change {
        Proposed::Add(text) => format!("add “{}”", ins(text)),
        Proposed::Delete(text) => format!("delete “{}”", del(text)),
        Proposed::Replace { deleted, inserted } => {
            format!("replace “{}” with “{}”", del(deleted), ins(inserted))
        }
        Proposed::NewParagraph(text) => format!("new paragraph: “{}”", ins(text)),
    }
}

const STYLE: &str = "body{font:12pt/1.5 Georgia,'Times New Roman',serif;max-width:46em;\
margin:2em auto;padding:0 1em;color:#111}h1{font-size:1.4em}h2{font-size:1.15em;margin-top:2em}\
.label{font-weight:bold;margin-right:.5em}.bracket{color:#7a1f00}.bracket del{color:#7a1f00}\
.bracket ins{color:#0b4f1a}.alternatives{margin:.3em 0 .3em 2em;padding:0}\
.alternatives li{list-style:none;margin:.2em 0}.note{font-size:.85em;color:#444}\
.version{color:#444}@media print{body{margin:0;max-width:none;font-size:11pt}\
h2{break-after:avoid}p,li{break-inside:avoid}a{color:inherit;text-decoration:none}}";

fn html_bracket(b: &Bracket) -> String {
    let who = escape(&b.sponsors);
    let changes: Vec<String> = b
        .changes
        .iter()
        .map(|c| {
            describe(
                c,
                |t| format!("<ins>{}</ins>", escape(t)),
                |t| format!("<del>{}</del>", escape(t)),
            )
        })
        .collect();
    let said = if changes.is_empty() {
        "no change proposed yet".to_string()
    } else {
        changes.join("; ")
    };
    let note = if b.positions.is_empty() {
        String::new()
    } else {
        format!(
            " <span class=\"note\">({}: {})</span>",
            escape(&b.amendment),
            escape(&b.positions)
        )
    };
    format!("<span class=\"bracket\">[{said} – {who}]</span>{note}")
}

pub fn html(source: &Source) -> String {
    let title = source.title();
    let mut out = format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>{} – {} (compilation)</title><style>{STYLE}</style></head><body>\n\
         <h1>{}</h1>\n<p class=\"version\">{} – compilation text: proposals in square brackets \
         with their sponsors</p>\n",
        escape(&title),
        escape(&source.version_name()),
        escape(&title),
        escape(&source.version_name())
    );
    for part in compile(source) {
        match part {
            Part::Heading(text) => out.push_str(&format!("<h2>{}</h2>\n", escape(&text))),
            Part::Paragraph {
                id,
                label,
                body,
                brackets,
                new_after,
            } => {
                out.push_str(&format!(
                    "<p id=\"{}\"><span class=\"label\">{}</span>{}",
                    escape(&id),
                    escape(&label),
                    escape(&body)
                ));
                match brackets.as_slice() {
                    [] => out.push_str("</p>\n"),
                    [one] => out.push_str(&format!(" {}</p>\n", html_bracket(one))),
                    // Alternatives side by side, each with its sponsors.
                    several => {
                        out.push_str("</p>\n<ul class=\"alternatives\">");
                        for (n, b) in several.iter().enumerate() {
                            out.push_str(&format!("<li>Alt {}: {}</li>", n + 1, html_bracket(b)));
                        }
                        out.push_str("</ul>\n");
                    }
                }
                for b in &new_after {
                    out.push_str(&format!("<p class=\"proposed\">{}</p>\n", html_bracket(b)));
                }
            }
        }
    }
    out.push_str("</body></html>\n");
    out
}
