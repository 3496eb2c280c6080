//! Word documents: the text of a revision (or the live text) with heading and numbered-
//! paragraph styles, the compilation text with every open amendment bracketed, and the redline of one text against another with real tracked changes
//! (`w:ins`, `w:del`, each with `w:author` the mission that made it and `w:date`), so that a
//! secretariat can accept or reject them in Word. Written with `docx-rs`.

use docx_rs::{
    AlignmentType, Delete, Docx, Insert, Paragraph, Run, SpecialIndentType, Style, StyleType,
};

use super::compilation::{compile, Bracket, Part, Proposed};
use super::Source;
use crate::revisions::{ComparisonAnswer, CreditedParagraph};
use concord_protocol::revision::{DiffOp, ParagraphOperation};
use concord_protocol::schema::{ParagraphKind, ParagraphStatus};

const TITLE: &str = "Title";
const HEADING: &str = "Heading1";
const NUMBERED: &str = "NumberedParagraph";
const NOTE: &str = "Note";
/// The colour of a bracketed proposal (dark red, as the HTML compilation's).
const BRACKET_COLOUR: &str = "7A1F00";

/// The styles every export carries: a title, a heading, a numbered paragraph with the label
/// hanging in the margin, a small note.
fn styled() -> Docx {
    Docx::new()
        .add_style(
            Style::new(TITLE, StyleType::Paragraph)
                .name("Title")
                .size(32)
                .bold()
                .align(AlignmentType::Center),
        )
        .add_style(
            Style::new(HEADING, StyleType::Paragraph)
                .name("Heading 1")
                .size(26)
                .bold(),
        )
        .add_style(
            Style::new(NUMBERED, StyleType::Paragraph)
                .name("Numbered Paragraph")
                .size(22)
                .indent(Some(720), Some(SpecialIndentType::Hanging(720)), None, None),
        )
        .add_style(
            Style::new(NOTE, StyleType::Paragraph)
                .name("Note")
                .size(18)
                .italic(),
        )
}

fn pack(docx: Docx) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    // Packing into memory cannot fail for want of space; a failure would be a bug in the
    // writer, and an empty file is what the caller then gets.
    if docx.build().pack(&mut out).is_err() {
        return Vec::new();
    }
    out.into_inner()
}

/// A numbered paragraph: its label, a tab, then `runs`.
fn numbered(label: &str) -> Paragraph {
    Paragraph::new()
        .style(NUMBERED)
        .add_run(Run::new().add_text(label).bold().add_tab())
}

/// The text as it reads: title, version, headings, numbered paragraphs.
pub fn text(source: &Source) -> Vec<u8> {
    let mut docx = styled()
        .add_paragraph(
            Paragraph::new()
                .style(TITLE)
                .add_run(Run::new().add_text(source.title())),
        )
        .add_paragraph(
            Paragraph::new()
                .style(NOTE)
                .add_run(Run::new().add_text(source.version_name())),
        );
    for p in source.standing() {
        if p.kind == ParagraphKind::Heading {
            if !source.is_title(p) {
                docx = docx.add_paragraph(
                    Paragraph::new()
                        .style(HEADING)
                        .add_run(Run::new().add_text(&p.body)),
                );
            }
            continue;
        }
        docx = docx.add_paragraph(numbered(&p.label).add_run(Run::new().add_text(&p.body)));
    }
    pack(docx)
}

/// A date as Word records a change's (`2018-03-26T10:01:00Z`).
fn word_date(ms: u64) -> String {
    crate::revisions::format_utc(ms)
        .replacen(' ', "T", 1)
        .replace(" UTC", ":00Z")
}

/// The redline of `answer.from` against `answer.to`: every insertion and deletion a tracked
/// change. An insertion's author is the mission that wrote it, a deletion's the mission that
/// deleted it (the audit's record); a deletion the audit does not name (the comparison was
/// made without it) takes the author of the insertion it makes way for, else `deleted_by`.
pub fn redline(answer: &ComparisonAnswer, title: &str, deleted_by: &str, at_ms: u64) -> Vec<u8> {
    let date = word_date(at_ms);
    let mut docx = styled()
        .add_paragraph(
            Paragraph::new()
                .style(TITLE)
                .add_run(Run::new().add_text(title)),
        )
        .add_paragraph(
            Paragraph::new()
                .style(NOTE)
                .add_run(Run::new().add_text(format!(
                    "{} compared with {}: {} paragraph(s) changed",
                    answer.to.name, answer.from.name, answer.changed
                ))),
        );
    for p in &answer.paragraphs {
        docx = docx.add_paragraph(redline_paragraph(p, deleted_by, &date));
    }
    pack(docx)
}

fn redline_paragraph(p: &CreditedParagraph, deleted_by: &str, date: &str) -> Paragraph {
    let c = &p.comparison;
    let label = c
        .label_to
        .as_deref()
        .or(c.label_from.as_deref())
        .unwrap_or("");
    let heading = c.label_to.as_deref() == Some("") || c.label_from.as_deref() == Some("");
    let mut paragraph = if heading && label.is_empty() {
        Paragraph::new().style(HEADING)
    } else {
        numbered(label)
    };
    let deleted_whole =
        c.operation == ParagraphOperation::Deleted || c.status_to == Some(ParagraphStatus::Deleted);
    let pieces = &p.pieces;
    for (i, piece) in pieces.iter().enumerate() {
        match piece.piece.op {
            DiffOp::Equal => {
                paragraph = paragraph.add_run(Run::new().add_text(&piece.piece.text));
            }
            DiffOp::Delete if !piece.by.is_empty() => {
                // Who deleted each stretch, as the audit records it.
                for by in &piece.by {
                    let author = by
                        .by
                        .mission
                        .clone()
                        .unwrap_or_else(|| deleted_by.to_string());
                    paragraph = paragraph.add_delete(
                        Delete::new()
                            .add_run(Run::new().add_delete_text(&by.text))
                            .author(author)
                            .date(date),
                    );
                }
            }
            DiffOp::Delete => {
                let author = pieces
                    .get(i + 1)
                    .filter(|next| next.piece.op == DiffOp::Insert && !deleted_whole)
                    .and_then(|next| next.by.first())
                    .and_then(|by| by.by.mission.clone())
                    .unwrap_or_else(|| deleted_by.to_string());
                paragraph = paragraph.add_delete(
                    Delete::new()
                        .add_run(Run::new().add_delete_text(&piece.piece.text))
                        .author(author)
                        .date(date),
                );
            }
            DiffOp::Insert => {
                for by in &piece.by {
                    let author = by
                        .by
                        .mission
                        .clone()
                        .unwrap_or_else(|| "Secretariat".into());
                    paragraph = paragraph.add_insert(
                        Insert::new(Run::new().add_text(&by.text))
                            .author(author)
                            .date(date),
                    );
                }
            }
        }
    }
    paragraph
}

/// Runs for one bracket: `[add “safe” – EU]`, inserted words underlined and deleted ones
/// struck through (proposals, not tracked changes: nothing is accepted yet).
fn bracket_runs(mut paragraph: Paragraph, b: &Bracket) -> Paragraph {
    let tone = |run: Run| run.color(BRACKET_COLOUR);
    paragraph = paragraph.add_run(tone(Run::new().add_text(" [")));
    if b.changes.is_empty() {
        paragraph = paragraph.add_run(tone(Run::new().add_text("no change proposed yet")));
    }
    for (n, change) in b.changes.iter().enumerate() {
        if n > 0 {
            paragraph = paragraph.add_run(tone(Run::new().add_text("; ")));
        }
        let (verb, deleted, inserted) = match change {
            Proposed::Add(text) => ("add ", None, Some(text)),
            Proposed::Delete(text) => ("delete ", Some(text), None),
            Proposed::Replace { deleted, inserted } => ("replace ", Some(deleted), Some(inserted)),
            Proposed::NewParagraph(text) => ("new paragraph: ", None, Some(text)),
        };
        paragraph = paragraph.add_run(tone(Run::new().add_text(verb)));
        if let Some(text) = deleted {
            paragraph = paragraph.add_run(tone(Run::new().add_text(format!("“{text}”")).strike()));
        }
        if let Some(text) = inserted {
            if deleted.is_some() {
                paragraph = paragraph.add_run(tone(Run::new().add_text(" with ")));
            }
            paragraph = paragraph.add_run(tone(
                Run::new().add_text(format!("“{text}”")).underline("single"),
            ));
        }
    }
    paragraph = paragraph.add_run(tone(Run::new().add_text(format!(" – {}]", b.sponsors))));
    if !b.positions.is_empty() {
        paragraph = paragraph.add_run(
            Run::new()
                .add_text(format!(" ({}: {})", b.amendment, b.positions))
                .italic()
                .size(18),
        );
    }
    paragraph
}

/// The compilation text for Word: every open amendment bracketed where it applies.
pub fn compilation(source: &Source) -> Vec<u8> {
    let mut docx = styled()
        .add_paragraph(
            Paragraph::new()
                .style(TITLE)
                .add_run(Run::new().add_text(source.title())),
        )
        .add_paragraph(
            Paragraph::new()
                .style(NOTE)
                .add_run(Run::new().add_text(format!(
                    "{} – compilation text: proposals in square brackets with their sponsors",
                    source.version_name()
                ))),
        );
    for part in compile(source) {
        match part {
            Part::Heading(text) => {
                docx = docx.add_paragraph(
                    Paragraph::new()
                        .style(HEADING)
                        .add_run(Run::new().add_text(text)),
                );
            }
            Part::Paragraph {
                label,
                body,
                brackets,
                new_after,
                ..
            } => {
                let mut paragraph = numbered(&label).add_run(Run::new().add_text(body));
                if let [one] = brackets.as_slice() {
                    paragraph = bracket_runs(paragraph, one);
                }
                docx = docx.add_paragraph(paragraph);
                if brackets.len() > 1 {
                    for (n, b) in brackets.iter().enumerate() {
                        let alt = Paragraph::new()
                            .style(NUMBERED)
                            .add_run(Run::new().add_tab().add_text(format!("Alt {}:", n + 1)));
                        docx = docx.add_paragraph(bracket_runs(alt, b));
                    }
                }
                for b in &new_after {
                    let proposed = Paragraph::new()
                        .style(NUMBERED)
                        .add_run(Run::new().add_tab());
                    docx = docx.add_paragraph(bracket_runs(proposed, b));
                }
            }
        }
    }
    pack(docx)
}
