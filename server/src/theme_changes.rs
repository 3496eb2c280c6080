//! Where a theme's changes are, as a cover letter says it: "The changes on implementation and
//! capacity-building can be found mainly in the Preamble, objectives 2, 4 and 5, and
//! paragraphs 40 and 41." Computed from the theme's tags (a tagged heading covers its section,
//! a tagged objective its lettered actions) and the change notes against the previous
//! revision.

use std::collections::{HashMap, HashSet};

use concord_protocol::revision::{ChangeNote, TextParagraph, Theme};
use concord_protocol::schema::ParagraphKind;
use serde::Serialize;

/// The places (the Preamble, objectives, sections by their heading, paragraphs) that changed
/// among those the theme covers, in reading order, and the sentence that says so.
#[derive(Debug, Serialize)]
pub struct ThemeChanges {
    pub theme: Theme,
    pub places: Vec<String>,
    pub sentence: String,
}

/// Where a place is, grouped as letters group them.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Place {
    Preamble,
    /// "Objective 12".
    Objective(String),
    /// A section, by its heading's name.
    Section(String),
    Paragraph(String),
}

/// "Objective 12" from a text starting so ("Objective 12: Strengthen ...").
fn objective_number(text: &str) -> Option<String> {
    let rest = text.trim_start().strip_prefix("Objective ")?;
    let number: String = rest.chars().take_while(char::is_ascii_digit).collect();
    (!number.is_empty()).then_some(number)
}

/// A heading as a place name: its text up to a colon, else its label.
fn heading_name(heading: &TextParagraph) -> String {
    let title = heading.body.split(':').next().unwrap_or_default().trim();
    if title.is_empty() || title.chars().count() > 60 {
        heading.label.clone()
    } else {
        title.to_string()
    }
}

pub fn of(theme: Theme, text: &[TextParagraph], notes: &[ChangeNote]) -> ThemeChanges {
    let changed: HashSet<&str> = notes
        .iter()
        .filter(|n| !n.is_unchanged())
        .map(|n| n.paragraph.as_str())
        .collect();
    let by_id: HashMap<&str, &TextParagraph> = text.iter().map(|p| (p.id.as_str(), p)).collect();
    let by_label: HashMap<&str, &TextParagraph> = text
        .iter()
        .filter(|p| !p.label.is_empty())
        .map(|p| (p.label.as_str(), p))
        .collect();
    // The objective an action belongs to: "18(a)" sits under "18".
    let head_of = |p: &'_ TextParagraph| -> Option<&TextParagraph> {
        let (head, _) = p.label.split_once('(')?;
        by_label.get(head).copied()
    };
    let covers = |p: &TextParagraph| {
        let tagged = |id: &str| theme.paragraphs.iter().any(|t| t == id);
        tagged(&p.id)
            || p.parent.as_deref().is_some_and(tagged)
            || head_of(p).is_some_and(|head| tagged(&head.id))
    };
    let place_of = |p: &TextParagraph| -> Place {
        let objective = objective_number(&p.body)
            .or_else(|| head_of(p).and_then(|head| objective_number(&head.body)));
        if let Some(n) = objective {
            return Place::Objective(n);
        }
        match p.parent.as_deref().and_then(|h| by_id.get(h)) {
            Some(heading) => match objective_number(&heading.body) {
                Some(n) => Place::Objective(n),
                None if p.kind == ParagraphKind::Preambular => Place::Preamble,
                None => Place::Section(heading_name(heading)),
            },
            None if p.kind == ParagraphKind::Preambular => Place::Preamble,
            None if p.kind == ParagraphKind::Heading => Place::Section(heading_name(p)),
            None => Place::Paragraph(p.label.clone()),
        }
    };
    let mut places: Vec<Place> = Vec::new();
    for p in text {
        if changed.contains(p.id.as_str()) && covers(p) {
            let place = place_of(p);
            if !places.contains(&place) {
                places.push(place);
            }
        }
    }
    let names = grouped(&places);
    let sentence = if names.is_empty() {
        format!("No changes were made on {}.", theme.name)
    } else {
        format!(
            "The changes on {} can be found mainly in {}.",
            theme.name,
            join(&names)
        )
    };
    ThemeChanges {
        theme,
        places: names,
        sentence,
    }
}

/// The places as a letter lists them: objectives together ("objectives 2, 4 and 5"), and
/// paragraphs together, where the first of each stands.
fn grouped(places: &[Place]) -> Vec<String> {
    let objectives: Vec<&str> = places
        .iter()
        .filter_map(|p| match p {
            Place::Objective(n) => Some(n.as_str()),
            _ => None,
        })
        .collect();
    let paragraphs: Vec<&str> = places
        .iter()
        .filter_map(|p| match p {
            Place::Paragraph(label) => Some(label.as_str()),
            _ => None,
        })
        .collect();
    let mut names = Vec::new();
    let (mut objectives_named, mut paragraphs_named) = (false, false);
    for place in places {
        match place {
            Place::Preamble => names.push("the Preamble".to_string()),
            Place::Section(name) => names.push(name.clone()),
            Place::Objective(_) if !objectives_named => {
                objectives_named = true;
                names.push(match objectives.as_slice() {
                    [one] => format!("objective {one}"),
                    many => format!("objectives {}", join_words(many)),
                });
            }
            Place::Paragraph(_) if !paragraphs_named => {
                paragraphs_named = true;
                names.push(match paragraphs.as_slice() {
                    [one] => format!("paragraph {one}"),
                    many => format!("paragraphs {}", join_words(many)),
                });
            }
            Place::Objective(_) | Place::Paragraph(_) => {}
        }
    }
    names
}

fn join_words(words: &[&str]) -> String {
    let owned: Vec<String> = words.iter().map(|w| w.to_string()).collect();
    join(&owned)
}

/// "a", "a and b", "a, b and c".
fn join(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use concord_protocol::revision::Change;
    use concord_protocol::schema::ParagraphStatus;

    fn paragraph(
        id: &str,
        label: &str,
        kind: ParagraphKind,
        parent: Option<&str>,
        body: &str,
    ) -> TextParagraph {
        TextParagraph {
            id: id.into(),
            label: label.into(),
            kind,
            parent: parent.map(String::from),
            status: ParagraphStatus::Open,
            locked: false,
            body: body.into(),
            runs: Vec::new(),
            pending: Vec::new(),
        }
    }

    fn changed(ids: &[&str]) -> Vec<ChangeNote> {
        ids.iter()
            .map(|id| ChangeNote {
                paragraph: (*id).into(),
                label: String::new(),
                changes: vec![Change::Wording {
                    added: 1,
                    removed: 0,
                }],
                note: None,
            })
            .collect()
    }

    #[test]
    fn a_theme_s_changes_are_named_as_a_cover_letter_names_them() {
        use ParagraphKind::*;
        let text = vec![
            paragraph("h1", "", Heading, None, "Preamble"),
            paragraph("p1", "PP1", Preambular, Some("h1"), "Recalling"),
            paragraph("h2", "", Heading, None, "Objectives and commitments"),
            paragraph(
                "p2",
                "17",
                Operative,
                Some("h2"),
                "Objective 1: We commit to data.",
            ),
            paragraph(
                "p3",
                "18",
                Operative,
                Some("h2"),
                "Objective 2: We commit to drivers.",
            ),
            paragraph("p4", "18(a)", Action, Some("h2"), "Invest in programmes."),
            paragraph(
                "p5",
                "21",
                Operative,
                Some("h2"),
                "Objective 5: We commit to pathways.",
            ),
            paragraph("h3", "", Heading, None, "Implementation"),
            paragraph("p6", "40", Operative, Some("h3"), "We will implement."),
            paragraph("p7", "41", Operative, None, "A mechanism."),
            paragraph("p8", "42", Operative, None, "Follow-up."),
        ];
        let theme = Theme {
            id: "t1".into(),
            name: "capacity-building".into(),
            paragraphs: vec![
                "h1".into(),
                "p3".into(),
                "p5".into(),
                "h3".into(),
                "p7".into(),
                "p8".into(),
            ],
        };
        let changes = of(
            theme.clone(),
            &text,
            &changed(&["p1", "p4", "p5", "p6", "p7", "p8", "p2"]),
        );
        assert_eq!(
            changes.sentence,
            "The changes on capacity-building can be found mainly in the Preamble, objectives 2 \
             and 5, Implementation and paragraphs 41 and 42."
        );
        // Objective 1 is not tagged; its change is not the theme's.
        let none = of(theme, &text, &changed(&["p2"]));
        assert_eq!(none.sentence, "No changes were made on capacity-building.");
    }
}
