//! The tokens of a body for the word diff: words, single punctuation marks and runs of
//! whitespace.
//!
//! Readers of negotiated texts argue over words and over single marks ("States," against
//! "States;"), so those are the units of the diff:
//!
//! - a word is a run of letters and digits in any script, with the marks that combine with them
//!   and with intra-word apostrophes and hyphens ("don't", "capacity-building", "15bis"), the
//!   plural possessive apostrophe ("Member States'") and decimal or thousands separators
//!   between digits ("1.5", "10,000");
//! - a Chinese or Japanese character is a word of its own: those scripts put no space between
//!   words, and a whole sentence as one token would make any edit replace the sentence;
//! - any other character (punctuation, symbols, emoji) is a token of its own, with what combines
//!   with it (an emoji's skin tone, a zero-width-joined sequence, a flag's two letters);
//! - a run of whitespace is one token.
//!
//! No token ever splits a character from the marks that combine with it, so a diff never cuts
//! an accented letter or an emoji in two. There are no Unicode tables here (no dependency for
//! them in a crate that also ships to the browser): the combining marks that are not already
//! letters for [`char::is_alphanumeric`] are listed by block in [`is_mark`]; a mark it misses
//! only becomes a token of its own, which keeps every result exact, just less tidy.

/// What a token is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Class {
    Word,
    Punct,
    Space,
}

/// A token: the byte range `start..end` of the text, and its class.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Span {
    pub start: usize,
    pub end: usize,
    pub class: Class,
}

const ZWJ: char = '\u{200D}';

/// The tokens of `text`, in order; they cover it exactly.
pub(super) fn tokenize(text: &str) -> Vec<Span> {
    let mut spans = Vec::new();
    let mut i = 0;
    while let Some(c) = char_at(text, i) {
        let (end, class) = if c.is_whitespace() {
            (scan_space(text, i), Class::Space)
        } else if is_ideograph(c) {
            (extend(text, i + c.len_utf8()), Class::Word)
        } else if is_word_char(c) {
            (scan_word(text, i), Class::Word)
        } else {
            (scan_symbol(text, i, c), Class::Punct)
        };
        spans.push(Span {
            start: i,
            end,
            class,
        });
        i = end;
    }
    spans
}

/// How many words `text` has (punctuation and whitespace are not counted).
pub(super) fn count_words(text: &str) -> usize {
    tokenize(text)
        .iter()
        .filter(|s| s.class == Class::Word)
        .count()
}

/// `text[start..end]`, or "" if that is not a range of it (it always is for the spans
/// [`tokenize`] makes: this only keeps a mistake from panicking).
pub(super) fn slice(text: &str, start: usize, end: usize) -> &str {
    text.get(start..end).unwrap_or_default()
}

fn char_at(text: &str, i: usize) -> Option<char> {
    text.get(i..).and_then(|rest| rest.chars().next())
}

fn scan_space(text: &str, mut i: usize) -> usize {
    while let Some(c) = char_at(text, i).filter(|c| c.is_whitespace()) {
        i += c.len_utf8();
    }
    i
}

/// Past the marks combining with the character that ends before `i`, and past what a
/// zero-width joiner joins to it.
fn extend(text: &str, mut i: usize) -> usize {
    while let Some(c) = char_at(text, i) {
        if c == ZWJ {
            i += c.len_utf8();
            match char_at(text, i) {
                Some(joined) if !joined.is_whitespace() => i += joined.len_utf8(),
                _ => break,
            }
        } else if is_mark(c) {
            i += c.len_utf8();
        } else {
            break;
        }
    }
    i
}

/// A word from `i` (where a word character stands) to its end.
fn scan_word(text: &str, start: usize) -> usize {
    let mut i = start;
    let mut last = ' ';
    while let Some(c) = char_at(text, i) {
        let len = c.len_utf8();
        if is_word_char(c) {
            last = c;
            i = extend(text, i + len);
            continue;
        }
        if c == ZWJ || is_mark(c) {
            i = extend(text, i);
            continue;
        }
        let after = char_at(text, i + len);
        let joins_next = after.is_some_and(is_word_char);
        match c {
            // "don't", "l'Etat"; "States'" keeps its possessive apostrophe.
            '\'' | '\u{2019}' if joins_next => i += len,
            '\'' | '\u{2019}' if last == 's' || last == 'S' => return i + len,
            // "capacity-building" (hyphen-minus, hyphen, non-breaking hyphen).
            '-' | '\u{2010}' | '\u{2011}' if joins_next => i += len,
            // "1.5", "10,000"; a full stop after a number ("by 2030.") stays punctuation.
            '.' | ',' if last.is_numeric() && after.is_some_and(char::is_numeric) => i += len,
            _ => break,
        }
    }
    i
}

/// One character that is neither a word's nor whitespace, with what combines with it.
fn scan_symbol(text: &str, i: usize, c: char) -> usize {
    let mut end = i + c.len_utf8();
    if is_regional_indicator(c) {
        if let Some(second) = char_at(text, end).filter(|&d| is_regional_indicator(d)) {
            end += second.len_utf8();
        }
    }
    extend(text, end)
}

fn is_word_char(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_alphanumeric();
    }
    c.is_alphanumeric() && !is_ideograph(c)
}

/// Han characters, hiragana and katakana: each one a word.
fn is_ideograph(c: char) -> bool {
    c >= '\u{3040}'
        && matches!(c,
            '\u{3040}'..='\u{30FF}'
            | '\u{31F0}'..='\u{31FF}'
            | '\u{3400}'..='\u{4DBF}'
            | '\u{4E00}'..='\u{9FFF}'
            | '\u{F900}'..='\u{FAFF}'
            | '\u{FF66}'..='\u{FF9F}'
            | '\u{20000}'..='\u{3FFFF}'
        )
        && c.is_alphanumeric()
}

fn is_regional_indicator(c: char) -> bool {
    matches!(c, '\u{1F1E6}'..='\u{1F1FF}')
}

/// A character that combines with the one before it and is not a letter for
/// [`char::is_alphanumeric`] (most vowel signs of Arabic and Indic scripts are letters there;
/// the accents, viramas, Hebrew points, variation selectors and emoji modifiers are not).
fn is_mark(c: char) -> bool {
    if c < '\u{0300}' {
        return false;
    }
    let indic = matches!(c, '\u{0900}'..='\u{0DFF}' | '\u{1000}'..='\u{109F}' | '\u{1780}'..='\u{17FF}')
        && !c.is_alphanumeric()
        && !matches!(c, '\u{0964}' | '\u{0965}' | '\u{0970}' | '\u{0DF4}' | '\u{104A}'..='\u{104F}' | '\u{17D4}'..='\u{17DA}');
    indic
        || matches!(c,
            '\u{0300}'..='\u{036F}'
            | '\u{0483}'..='\u{0489}'
            | '\u{0591}'..='\u{05BD}'
            | '\u{05BF}'
            | '\u{05C1}'..='\u{05C2}'
            | '\u{05C4}'..='\u{05C5}'
            | '\u{05C7}'
            | '\u{0610}'..='\u{061A}'
            | '\u{064B}'..='\u{065F}'
            | '\u{0670}'
            | '\u{06D6}'..='\u{06DC}'
            | '\u{06DF}'..='\u{06E4}'
            | '\u{06E7}'..='\u{06E8}'
            | '\u{06EA}'..='\u{06ED}'
            | '\u{0E31}'
            | '\u{0E34}'..='\u{0E3A}'
            | '\u{0E47}'..='\u{0E4E}'
            | '\u{1AB0}'..='\u{1AFF}'
            | '\u{1DC0}'..='\u{1DFF}'
            | '\u{200C}'
            | '\u{20D0}'..='\u{20FF}'
            | '\u{3099}'..='\u{309A}'
            | '\u{FE00}'..='\u{FE0F}'
            | '\u{FE20}'..='\u{FE2F}'
            | '\u{1F3FB}'..='\u{1F3FF}'
            | '\u{E0020}'..='\u{E007F}'
            | '\u{E0100}'..='\u{E01EF}'
        )
}
