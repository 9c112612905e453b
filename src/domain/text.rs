//! Free text typed by people (titles, tasks, summaries, reasons, rationales):
//! what may reach the store and every rendering of it.
//!
//! Control characters (NUL, ESC, BEL, ...) and the bidirectional overrides
//! that reorder what a reader sees (U+202A-U+202E, U+2066-U+2069, U+200E,
//! U+200F) are dropped. Every field is one line (chat commands are typed on
//! one), and a line break is refused, so no title or rationale can forge a
//! line of its own in a list, a post or an export. Emoji and every other
//! printable character are kept as typed.

use super::meeting::ValueError;

/// Characters that change the direction of the text around them.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}')
}

fn is_line_break(c: char) -> bool {
    matches!(
        c,
        '\n' | '\r' | '\u{0B}' | '\u{0C}' | '\u{85}' | '\u{2028}' | '\u{2029}'
    )
}

/// Drops control and bidi characters; tabs become spaces; every line break
/// becomes `\n`, for the caller to refuse.
fn clean(text: &str) -> String {
    let text = text.replace("\r\n", "\n");
    text.chars()
        .filter_map(|c| match c {
            '\t' => Some(' '),
            c if is_line_break(c) => Some('\n'),
            c if c.is_control() || is_bidi_control(c) => None,
            c => Some(c),
        })
        .collect()
}

fn bounded(what: &str, t: &str, max: usize) -> Result<String, ValueError> {
    if t.is_empty() {
        return Err(ValueError(format!("the {what} is empty")));
    }
    if t.chars().count() > max {
        return Err(ValueError(format!(
            "the {what} is longer than {max} characters; shorten it"
        )));
    }
    Ok(t.to_string())
}

/// A one-line field of 1 to `max` characters, cleaned; a line break is refused.
pub fn one_line(what: &str, text: &str, max: usize) -> Result<String, ValueError> {
    let t = clean(text);
    let t = t.trim();
    if t.contains('\n') {
        return Err(ValueError(format!(
            "the {what} must be one line; remove the line break"
        )));
    }
    bounded(what, t, max)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_and_bidi_characters_are_dropped_from_a_line() {
        assert_eq!(
            one_line(
                "title",
                "Bud\0get\u{1b}[31m \u{7}review\u{202E}\u{2066}\u{200F}",
                100
            )
            .unwrap(),
            "Budget[31m review"
        );
        assert_eq!(one_line("title", "a\tb", 100).unwrap(), "a b");
    }

    #[test]
    fn a_line_break_in_a_line_is_refused_with_a_clear_error() {
        for text in [
            "Q3\n[#finance] FAKE approved by CFO",
            "a\rb",
            "a\u{2028}b",
            "a\u{85}b",
        ] {
            let e = one_line("title", text, 100).unwrap_err().0;
            assert_eq!(e, "the title must be one line; remove the line break");
        }
        assert_eq!(one_line("title", " padded\n", 100).unwrap(), "padded");
    }

    #[test]
    fn emoji_and_ordinary_unicode_are_kept() {
        let t = "Presupuesto 2027 ✅ für Café — 日本 👩‍💻 مرحبا";
        assert_eq!(one_line("title", t, 100).unwrap(), t);
    }

    #[test]
    fn nothing_but_controls_is_empty_and_length_counts_characters() {
        assert_eq!(
            one_line("task", "\0\u{1b}\u{202E}", 10).unwrap_err().0,
            "the task is empty"
        );
        assert!(one_line("task", &"é".repeat(10), 10).is_ok());
        assert!(one_line("task", &"é".repeat(11), 10).is_err());
    }
}
