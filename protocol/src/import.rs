//! The structured text a negotiation starts from: a Markdown form with headings and labelled
//! paragraphs.
//!
//! ```text
//! # Global Compact for Safe, Orderly and Regular Migration
//! ## Preamble
//! [PP1] Recalling the Charter of the United Nations,
//! ## Our commitments
//! ### Objective 1: Collect and utilize accurate data
//! [17] We commit to strengthen the global evidence base
//! [17(a)] Elaborate and implement a comprehensive strategy
//! continued on a second line of the same paragraph.
//! ```
//!
//! - A line starting with `#` is a heading (its level is ignored for now; its text is the
//!   heading's body, its label is empty). Headings are the parents of what follows them.
//! - A line starting with `[label]` starts a paragraph with that label. Its kind follows the
//!   label: `PP…` preambular, a trailing `(a)`-style sub-label an action, anything else
//!   operative; or it is said right after the label: `[3]{preambular}`.
//! - Other non-empty lines continue the current paragraph (joined with a space); blank lines
//!   end it.

use crate::schema::ParagraphKind;

/// One paragraph of a structured text, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportedParagraph {
    pub label: String,
    pub kind: ParagraphKind,
    /// Index (in the returned list) of the heading this paragraph sits under.
    pub parent: Option<usize>,
    pub body: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImportError {
    #[error("line {line}: text before any heading or [label]")]
    Orphan { line: usize },
    #[error("line {line}: an unclosed or empty [label]")]
    BadLabel { line: usize },
    #[error("line {line}: label {label} is used twice")]
    DuplicateLabel { line: usize, label: String },
    #[error("the text has no paragraphs")]
    Empty,
}

/// The kind a label implies.
pub fn kind_of(label: &str) -> ParagraphKind {
    let upper = label.to_ascii_uppercase();
    if upper.starts_with("PP") {
        ParagraphKind::Preambular
    } else if label.ends_with(')') && label.contains('(') {
        ParagraphKind::Action
    } else {
        ParagraphKind::Operative
    }
}

/// A `{kind}` right after the label (`[3]{preambular} Recalling ...`): the kind when the label
/// alone would imply another (an export writes it then, so that the text imports back alike).
fn explicit_kind(after_label: &str) -> Option<(ParagraphKind, &str)> {
    let rest = after_label.strip_prefix('{')?;
    let (kind, body) = rest.split_once('}')?;
    let kind = ParagraphKind::parse(kind.trim())?;
    (kind != ParagraphKind::Heading).then_some((kind, body))
}

/// Parses a structured text.
pub fn parse(text: &str) -> Result<Vec<ImportedParagraph>, ImportError> {
    let mut out: Vec<ImportedParagraph> = Vec::new();
    let mut heading: Option<usize> = None;
    let mut open = false;
    let mut labels = std::collections::HashSet::new();
    for (n, raw) in text.lines().enumerate() {
        let line_no = n + 1;
        let line = raw.trim();
        if line.is_empty() {
            open = false;
            continue;
        }
        if let Some(title) = line.strip_prefix('#') {
            let title = title.trim_start_matches('#').trim();
            out.push(ImportedParagraph {
                label: String::new(),
                kind: ParagraphKind::Heading,
                parent: None,
                body: title.to_string(),
            });
            heading = Some(out.len() - 1);
            open = false;
            continue;
        }
        if let Some(rest) = line.strip_prefix('[') {
            let Some((label, body)) = rest.split_once(']') else {
                return Err(ImportError::BadLabel { line: line_no });
            };
            let label = label.trim();
            if label.is_empty() {
                return Err(ImportError::BadLabel { line: line_no });
            }
            if !labels.insert(label.to_string()) {
                return Err(ImportError::DuplicateLabel {
                    line: line_no,
                    label: label.to_string(),
                });
            }
            let (kind, body) = explicit_kind(body).unwrap_or((kind_of(label), body));
            out.push(ImportedParagraph {
                label: label.to_string(),
                kind,
                parent: heading,
                body: body.trim().to_string(),
            });
            open = true;
            continue;
        }
        match out.last_mut() {
            Some(last) if open => {
                if !last.body.is_empty() {
                    last.body.push(' ');
                }
                last.body.push_str(line);
            }
            _ => return Err(ImportError::Orphan { line: line_no }),
        }
    }
    if out.iter().all(|p| p.kind == ParagraphKind::Heading) {
        return Err(ImportError::Empty);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GCM: &str = "\
# Global Compact for Safe, Orderly and Regular Migration
## Preamble
[PP1] Recalling the Charter of the United Nations,

## Objectives
### Objective 1: Collect and utilize accurate data
[17] We commit to strengthen the global evidence base
on international migration.
[17(a)] Elaborate and implement a comprehensive strategy
";

    #[test]
    fn headings_labels_kinds_parents_and_continuations() {
        let parsed = parse(GCM).expect("parses");
        let summary: Vec<(&str, ParagraphKind, Option<usize>)> = parsed
            .iter()
            .map(|p| (p.label.as_str(), p.kind, p.parent))
            .collect();
        assert_eq!(
            summary,
            vec![
                ("", ParagraphKind::Heading, None),
                ("", ParagraphKind::Heading, None),
                ("PP1", ParagraphKind::Preambular, Some(1)),
                ("", ParagraphKind::Heading, None),
                ("", ParagraphKind::Heading, None),
                ("17", ParagraphKind::Operative, Some(4)),
                ("17(a)", ParagraphKind::Action, Some(4)),
            ]
        );
        assert_eq!(
            parsed[5].body,
            "We commit to strengthen the global evidence base on international migration."
        );
        assert_eq!(
            parsed[4].body,
            "Objective 1: Collect and utilize accurate data"
        );
    }

    #[test]
    fn malformed_texts_name_the_line() {
        assert_eq!(parse("stray text"), Err(ImportError::Orphan { line: 1 }));
        assert_eq!(
            parse("# T\n[PP1 no end"),
            Err(ImportError::BadLabel { line: 2 })
        );
        assert_eq!(parse("# T\n[] x"), Err(ImportError::BadLabel { line: 2 }));
        assert_eq!(
            parse("# T\n[1] a\n[1] b"),
            Err(ImportError::DuplicateLabel {
                line: 3,
                label: "1".into()
            })
        );
        assert_eq!(parse("# Only a title"), Err(ImportError::Empty));
        assert_eq!(
            parse("# T\n[1] a\n\nafter a blank line"),
            Err(ImportError::Orphan { line: 4 })
        );
    }
}
