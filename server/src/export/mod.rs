//! Exports: the same model (the live text, or a published revision, with the amendments open
//! in it) written in the forms delegations and secretariats use, so that nobody retypes
//! anything.
//!
//! - `markdown`: `md`, the structured text `concord import` reads (export then import gives the
//!   same paragraphs, labels, kinds and headings), and `clean`, the text without proposals
//!   (Markdown, or plain text with `clean-txt`);
//! - `compilation`: every open amendment inline where it applies, bracketed with its sponsors,
//!   as print-ready HTML (and `compilation-docx`, for Word);
//! - `akn`: Akoma Ntoso 3.0 XML;
//! - `docx`: Word, the text with its styles, or a redline against another text with tracked
//!   changes ([`redline`]).
//!
//! Everything here is pure over a [`Source`]: the routes and `concord export` build one from a
//! scratch replica of the document.

mod akn;
mod compilation;
mod docx;
mod markdown;
mod xml;

use concord_protocol::revision::{live_text, Revision, TextParagraph};
use concord_protocol::schema::{self, Amendment, AmendmentStatus};
use yrs::{Doc, Transact};

use crate::revisions::ComparisonAnswer;

/// What an export reads: a text, the amendments open in it, and what it is.
#[derive(Debug, Clone)]
pub struct Source {
    /// The document's id.
    pub doc: String,
    /// Paragraphs in reading order, tombstones included.
    pub paragraphs: Vec<TextParagraph>,
    /// The amendments open in this text.
    pub amendments: Vec<Amendment>,
    /// The revision exported (`None`: the live text).
    pub revision: Option<RevisionName>,
    /// Every published revision (oldest first): where a paragraph's first number comes from.
    pub history: Vec<Revision>,
    /// When the export is made (Unix ms).
    pub exported_at_ms: u64,
}

#[derive(Debug, Clone)]
pub struct RevisionName {
    pub id: String,
    pub name: String,
    pub published_at_ms: u64,
}

/// Why an export could not be made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExportError {
    UnknownRevision(String),
    UnknownFormat(String),
}

impl std::fmt::Display for ExportError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ExportError::UnknownRevision(id) => write!(f, "no published revision {id}"),
            ExportError::UnknownFormat(format) => write!(
                f,
                "no export format {format}: use md, clean, clean-txt, compilation, compilation-docx, akn or docx"
            ),
        }
    }
}

impl Source {
    /// The live text of `doc` (`revision: None`) or one of its published revisions.
    pub fn read(
        replica: &Doc,
        doc: &str,
        revision: Option<&str>,
        now_ms: u64,
    ) -> Result<Source, ExportError> {
        let history = schema::revisions(&replica.transact());
        let (paragraphs, amendments, revision) = match revision {
            None | Some("live") => {
                let paragraphs = live_text(&mut replica.transact_mut());
                let open = schema::amendments(&replica.transact())
                    .into_iter()
                    .filter(|a| a.status == AmendmentStatus::Open)
                    .collect();
                (paragraphs, open, None)
            }
            Some(id) => {
                let wanted = if id == "latest" {
                    history.last()
                } else {
                    history.iter().find(|r| r.id == id)
                };
                let r = wanted.ok_or_else(|| ExportError::UnknownRevision(id.to_string()))?;
                let name = RevisionName {
                    id: r.id.clone(),
                    name: r.name.clone(),
                    published_at_ms: r.published_at_ms,
                };
                (r.paragraphs.clone(), r.amendments.clone(), Some(name))
            }
        };
        Ok(Source {
            doc: doc.to_string(),
            paragraphs,
            amendments,
            revision,
            history,
            exported_at_ms: now_ms,
        })
    }

    /// The paragraphs a reader of this text reads: tombstones left out.
    pub fn standing(&self) -> impl Iterator<Item = &TextParagraph> {
        self.paragraphs
            .iter()
            .filter(|p| p.status != schema::ParagraphStatus::Deleted)
    }

    /// The heading that titles the whole text: the first paragraph, when it is a heading
    /// followed straight by another (`# Global Compact ...` then `## Preamble`).
    pub fn title_heading(&self) -> Option<&TextParagraph> {
        let mut standing = self.standing();
        let first = standing.next()?;
        let second = standing.next()?;
        let heading = |p: &TextParagraph| p.kind == schema::ParagraphKind::Heading;
        (heading(first) && heading(second) && !first.body.trim().is_empty()).then_some(first)
    }

    /// The document's title: its title heading, else its id.
    pub fn title(&self) -> String {
        self.title_heading()
            .map_or_else(|| self.doc.clone(), |p| p.body.clone())
    }

    /// Whether `p` is the title heading (written as the title, not as a section).
    pub fn is_title(&self, p: &TextParagraph) -> bool {
        self.title_heading().is_some_and(|t| t.id == p.id)
    }

    /// "Rev 1" or "Live text".
    pub fn version_name(&self) -> String {
        self.revision
            .as_ref()
            .map_or_else(|| "Live text".to_string(), |r| r.name.clone())
    }
}

/// The formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Markdown,
    Clean,
    CleanText,
    Compilation,
    AkomaNtoso,
    Docx,
    CompilationDocx,
}

impl Format {
    pub fn parse(text: &str) -> Result<Format, ExportError> {
        Ok(match text {
            "md" => Format::Markdown,
            "clean" => Format::Clean,
            "clean-txt" => Format::CleanText,
            "compilation" | "html" => Format::Compilation,
            "akn" => Format::AkomaNtoso,
            "docx" => Format::Docx,
            "compilation-docx" => Format::CompilationDocx,
            other => return Err(ExportError::UnknownFormat(other.to_string())),
        })
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Format::Markdown | Format::Clean => "text/markdown; charset=utf-8",
            Format::CleanText => "text/plain; charset=utf-8",
            Format::Compilation => "text/html; charset=utf-8",
            Format::AkomaNtoso => "application/akn+xml; charset=utf-8",
            Format::Docx | Format::CompilationDocx => DOCX_TYPE,
        }
    }

    fn suffix(self) -> &'static str {
        match self {
            Format::Markdown => "md",
            Format::Clean => "clean.md",
            Format::CleanText => "clean.txt",
            Format::Compilation => "compilation.html",
            Format::AkomaNtoso => "akn.xml",
            Format::Docx => "docx",
            Format::CompilationDocx => "compilation.docx",
        }
    }
}

/// An export: its bytes and how to offer them.
#[derive(Debug, Clone)]
pub struct Export {
    pub content_type: &'static str,
    pub file_name: String,
    pub bytes: Vec<u8>,
}

const DOCX_TYPE: &str = "application/vnd.openxmlformats-officedocument.wordprocessingml.document";

impl Source {
    /// `r3`, or `live`.
    fn version_id(&self) -> String {
        self.revision
            .as_ref()
            .map_or_else(|| "live".to_string(), |r| r.id.clone())
    }
}

/// Writes `source` in `format`.
pub fn export(source: &Source, format: Format) -> Export {
    let bytes = match format {
        Format::Markdown => markdown::structured(source).into_bytes(),
        Format::Clean => markdown::clean(source).into_bytes(),
        Format::CleanText => markdown::clean_text(source).into_bytes(),
        Format::Compilation => compilation::html(source).into_bytes(),
        Format::AkomaNtoso => akn::statement(source).into_bytes(),
        Format::Docx => docx::text(source),
        Format::CompilationDocx => docx::compilation(source),
    };
    Export {
        content_type: format.content_type(),
        file_name: format!("{}-{}.{}", source.doc, source.version_id(), format.suffix()),
        bytes,
    }
}

/// The Word redline of `comparison` (from `against` to the text `source` reads): tracked
/// changes with their authors. Deletions the comparison does not credit go to `deleted_by`.
pub fn redline(source: &Source, comparison: &ComparisonAnswer, deleted_by: &str) -> Export {
    let at_ms = source
        .revision
        .as_ref()
        .map_or(source.exported_at_ms, |r| r.published_at_ms);
    Export {
        content_type: DOCX_TYPE,
        file_name: format!(
            "{}-{}-against-{}.docx",
            source.doc,
            source.version_id(),
            xml::id_token(&comparison.from.id)
        ),
        bytes: docx::redline(comparison, &source.title(), deleted_by, at_ms),
    }
}

#[cfg(test)]
mod tests {
    use super::Format;

    /// Notices attach exports by format name; the protocol's list is what this module writes.
    #[test]
    fn every_format_a_notice_may_attach_is_one_this_server_writes() {
        for format in concord_protocol::process::EXPORT_FORMATS {
            assert!(Format::parse(format).is_ok(), "{format}");
        }
        assert!(Format::parse("pdf").is_err());
    }
}
