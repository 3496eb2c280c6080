//! The compilation text: the text with every open amendment inline where it applies, in square
//! brackets with its sponsors and the group they speak for (`[add "safe" – EU]`, `[delete
//! "all" – G77 and China]`), several amendments to one paragraph side by side as alternatives,
//! supporters and opposers in a note; as HTML ready to print.

use concord_protocol::revision::{word_diff, DiffOp};
use concord_protocol::schema::{Amendment, ParagraphKind};

use super::xml::escape;
use super::Source;

const STYLE: &str = "body{font:12pt/1.5 Georgia,'Times New Roman',serif;max-width:46em;\
margin:2em auto;padding:0 1em;color:#111}h1{font-size:1.4em}h2{font-size:1.15em;margin-top:2em}\
.label{font-weight:bold;margin-right:.5em}.bracket{color:#7a1f00}.bracket del{color:#7a1f00}\
.bracket ins{color:#0b4f1a}.alternatives{margin:.3em 0 .3em 2em;padding:0}\
.alternatives li{list-style:none;margin:.2em 0}.note{font-size:.85em;color:#444}\
.version{color:#444}@media print{body{margin:0;max-width:none;font-size:11pt}\
h2{break-after:avoid}p,li{break-inside:avoid}a{color:inherit;text-decoration:none}}";

/// Who proposes: the sponsors, and the group the author speaks for.
fn sponsors(a: &Amendment) -> String {
    let names = a.sponsors.join(", ");
    match &a.on_behalf_of {
        Some(group) => format!("{names} on behalf of {group}"),
        None => names,
    }
}

/// What an amendment does to the body, bracketed: `[add "x"]`, `[delete "y"]`, `[replace "y"
/// with "x"]`, one bracket per change, with its sponsors.
fn brackets(body: &str, a: &Amendment) -> String {
    let who = escape(&sponsors(a));
    if a.new_after {
        return format!(
            "<span class=\"bracket\">[new paragraph: &#8220;{}&#8221; – {who}]</span>",
            escape(a.text.trim())
        );
    }
    let pieces = word_diff(body, &a.text);
    let mut changes: Vec<String> = Vec::new();
    let mut i = 0;
    while i < pieces.len() {
        let piece = &pieces[i];
        match piece.op {
            DiffOp::Equal => {}
            DiffOp::Delete => {
                let replaced = pieces
                    .get(i + 1)
                    .filter(|next| next.op == DiffOp::Insert)
                    .map(|next| next.text.trim().to_string());
                let deleted = escape(piece.text.trim());
                match replaced {
                    Some(with) => {
                        changes.push(format!(
                            "replace &#8220;<del>{deleted}</del>&#8221; with &#8220;<ins>{}</ins>&#8221;",
                            escape(&with)
                        ));
                        i += 1;
                    }
                    None if !deleted.is_empty() => {
                        changes.push(format!("delete &#8220;<del>{deleted}</del>&#8221;"))
                    }
                    None => {}
                }
            }
            DiffOp::Insert => {
                let added = escape(piece.text.trim());
                if !added.is_empty() {
                    changes.push(format!("add &#8220;<ins>{added}</ins>&#8221;"));
                }
            }
        }
        i += 1;
    }
    if changes.is_empty() {
        return format!("<span class=\"bracket\">[no change proposed yet – {who}]</span>");
    }
    format!(
        "<span class=\"bracket\">[{} – {who}]</span>",
        changes.join("; ")
    )
}

/// Supporters and opposers of an amendment, if any.
fn positions(a: &Amendment) -> String {
    let mut parts = Vec::new();
    if !a.supporters.is_empty() {
        parts.push(format!("supported by {}", a.supporters.join(", ")));
    }
    if !a.opposers.is_empty() {
        parts.push(format!("opposed by {}", a.opposers.join(", ")));
    }
    if parts.is_empty() {
        String::new()
    } else {
        format!(
            " <span class=\"note\">({}: {})</span>",
            escape(&a.id),
            escape(&parts.join("; "))
        )
    }
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
    for p in source.standing() {
        if p.kind == ParagraphKind::Heading {
            if !source.is_title(p) {
                out.push_str(&format!("<h2>{}</h2>\n", escape(&p.body)));
            }
            continue;
        }
        let on_it: Vec<&Amendment> = source
            .amendments
            .iter()
            .filter(|a| a.paragraph == p.id)
            .collect();
        let (rewording, new_after): (Vec<&Amendment>, Vec<&Amendment>) =
            on_it.into_iter().partition(|a| !a.new_after);
        out.push_str(&format!(
            "<p id=\"{}\"><span class=\"label\">{}</span>{}",
            escape(&p.id),
            escape(&p.label),
            escape(&p.body)
        ));
        match rewording.as_slice() {
            [] => out.push_str("</p>\n"),
            [one] => out.push_str(&format!(
                " {}{}</p>\n",
                brackets(&p.body, one),
                positions(one)
            )),
            // Alternatives side by side, each with its sponsors.
            several => {
                out.push_str("</p>\n<ul class=\"alternatives\">");
                for (n, a) in several.iter().enumerate() {
                    out.push_str(&format!(
                        "<li>Alt {}: {}{}</li>",
                        n + 1,
                        brackets(&p.body, a),
                        positions(a)
                    ));
                }
                out.push_str("</ul>\n");
            }
        }
        for a in new_after {
            out.push_str(&format!(
                "<p class=\"proposed\">{}{}</p>\n",
                brackets(&p.body, a),
                positions(a)
            ));
        }
    }
    out.push_str("</body></html>\n");
    out
}
