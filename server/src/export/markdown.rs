//! The Markdown exports: `md`, the structured text `concord import` reads (headings as `#`,
//! paragraphs as `[label] body`, a `{kind}` after the label only when the label alone would
//! imply another kind), and the clean text without proposals (Markdown or plain).

use concord_protocol::import::kind_of;
use concord_protocol::schema::ParagraphKind;

use super::Source;

/// A body on one line (the structured text joins continuation lines with a space).
fn one_line(body: &str) -> String {
    body.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The structured text: import it into an empty document and the same paragraphs, labels,
/// kinds and headings come back.
pub fn structured(source: &Source) -> String {
    let mut out = String::new();
    for p in source.standing() {
        if p.kind == ParagraphKind::Heading {
            out.push_str(&format!("# {}\n\n", one_line(&p.body)));
            continue;
        }
        let kind = if kind_of(&p.label) == p.kind {
            String::new()
        } else {
            format!("{{{}}}", p.kind.as_str())
        };
        out.push_str(&format!("[{}]{kind} {}\n\n", p.label, one_line(&p.body)));
    }
    out
}

/// Markdown that renders a label as text, never as a list number.
fn escape_markdown(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        if matches!(ch, '\\' | '*' | '_' | '`' | '[' | ']' | '<' | '>' | '#') {
            out.push('\\');
        }
        out.push(ch);
    }
    out
}

/// The text as it reads, without proposals: title, version, headings, numbered paragraphs.
pub fn clean(source: &Source) -> String {
    let mut out = format!(
        "# {}\n\n_{}_\n\n",
        escape_markdown(&source.title()),
        escape_markdown(&source.version_name())
    );
    for p in source.standing() {
        match p.kind {
            ParagraphKind::Heading if source.is_title(p) => {}
            ParagraphKind::Heading => {
                out.push_str(&format!("## {}\n\n", escape_markdown(&one_line(&p.body))))
            }
            _ => out.push_str(&format!(
                "**{}** {}\n\n",
                escape_markdown(&p.label),
                escape_markdown(&one_line(&p.body))
            )),
        }
    }
    out
}

/// The clean text as plain text: `17. We commit ...`, headings in capitals of their own.
pub fn clean_text(source: &Source) -> String {
    let mut out = format!("{}\n{}\n\n", source.title(), source.version_name());
    for p in source.standing() {
        match p.kind {
            ParagraphKind::Heading if source.is_title(p) => {}
            ParagraphKind::Heading => out.push_str(&format!("{}\n\n", one_line(&p.body))),
            _ => out.push_str(&format!("{}. {}\n\n", p.label, one_line(&p.body))),
        }
    }
    out
}
