//! The mission names reserved for the server (`concord:…`), matched in any case and through
//! disguises, so that no token can act as the server.

/// The prefix of the server's own mission names (`concord:server`).
const RESERVED_PREFIX: &str = "concord:";

/// Whether a mission name reads as one of the server's: `concord:` in any case, also behind
/// whitespace, control or invisible characters (zero-width, bidi overrides, BOM) anywhere,
/// and spelled with fullwidth forms, colon look-alikes or the Cyrillic and Greek letters that
/// pass for c, o and d. Not a full confusables check (Unicode TR 39): it covers the
/// disguises that need no effort.
pub fn is_reserved_mission(mission: &str) -> bool {
    let skeleton = mission
        .chars()
        .filter(|&c| !(c.is_whitespace() || c.is_control() || is_invisible(c)))
        .map(look_alike)
        .flat_map(char::to_lowercase);
    let mut prefix = RESERVED_PREFIX.chars();
    // Compare only as far as the prefix: the rest of the name is never folded or copied.
    skeleton.zip(prefix.by_ref()).all(|(c, p)| c == p) && prefix.next().is_none()
}

/// Characters that render as nothing (format characters a name could hide behind).
fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00ad}'
            | '\u{034f}'
            | '\u{061c}'
            | '\u{115f}'
            | '\u{1160}'
            | '\u{17b4}'
            | '\u{17b5}'
            | '\u{180b}'..='\u{180f}'
            | '\u{200b}'..='\u{200f}'
            | '\u{202a}'..='\u{202e}'
            | '\u{2060}'..='\u{206f}'
            | '\u{3164}'
            | '\u{fe00}'..='\u{fe0f}'
            | '\u{feff}'
            | '\u{ffa0}'
    )
}

/// The ASCII character `c` passes for, if it is a common disguise of one in `concord:`.
fn look_alike(c: char) -> char {
    match c {
        // Fullwidth ASCII (U+FF01..U+FF5E) is ASCII shifted by 0xFEE0.
        '\u{ff01}'..='\u{ff5e}' => char::from_u32(c as u32 - 0xfee0).unwrap_or(c),
        '\u{0441}' | '\u{0421}' | '\u{03f2}' | '\u{03f9}' | '\u{217d}' | '\u{216d}' => 'c',
        '\u{043e}' | '\u{041e}' | '\u{03bf}' | '\u{039f}' | '\u{0585}' => 'o',
        '\u{0501}' | '\u{217e}' | '\u{216e}' => 'd',
        '\u{0578}' => 'n',
        '\u{0433}' => 'r',
        '\u{2236}' | '\u{a789}' | '\u{fe13}' | '\u{fe55}' | '\u{02d0}' | '\u{02f8}'
        | '\u{0589}' | '\u{05c3}' | '\u{0703}' | '\u{0704}' | '\u{16ec}' | '\u{205a}' => ':',
        _ => c,
    }
}
