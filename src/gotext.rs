//! Texts as Go prints them (`%q`, errno messages), for messages that must
//! match upstream kind byte for byte.

use std::io;
use std::time::Duration;

/// Go prints an errno as the lower-cased C message (`no such file or
/// directory`, `file exists`); Rust capitalises it and appends
/// ` (os error N)`.
pub fn io_error_text(err: &io::Error) -> String {
    let text = err.to_string();
    let text = match text.find(" (os error ") {
        Some(i) => &text[..i],
        None => &text,
    };
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// Go's `%q` of a string.
pub fn quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{b}' => out.push_str("\\v"),
            c if c == ' ' || !(c.is_control() || c.is_whitespace()) => out.push(c),
            c if (c as u32) < 0x80 => out.push_str(&format!("\\x{:02x}", c as u32)),
            c if (c as u32) < 0x10000 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push_str(&format!("\\U{:08x}", c as u32)),
        }
    }
    out.push('"');
    out
}

/// Go's `%q` of a rune: single-quoted, escaped where Go's `strconv` escapes.
pub fn quote_rune(c: char) -> String {
    let body = match c {
        '\'' => "\\'".to_string(),
        '\\' => "\\\\".to_string(),
        '\u{7}' => "\\a".to_string(),
        '\u{8}' => "\\b".to_string(),
        '\u{c}' => "\\f".to_string(),
        '\n' => "\\n".to_string(),
        '\r' => "\\r".to_string(),
        '\t' => "\\t".to_string(),
        '\u{b}' => "\\v".to_string(),
        ' ' => " ".to_string(),
        c if (c as u32) < 0x80 && c.is_control() => format!("\\x{:02x}", c as u32),
        c if c.is_control() || c.is_whitespace() || c == '\u{ad}' => {
            if (c as u32) < 0x10000 {
                format!("\\u{:04x}", c as u32)
            } else {
                format!("\\U{:08x}", c as u32)
            }
        }
        c => c.to_string(),
    };
    format!("'{body}'")
}

/// Go's `%q` of a string slice: `["a" "b"]`.
pub fn quote_list(items: &[String]) -> String {
    let quoted: Vec<String> = items.iter().map(|s| quote(s)).collect();
    format!("[{}]", quoted.join(" "))
}

/// Go's `time.Duration.String()` for whole seconds: `30s`, `5m0s`, `1h0m0s`.
pub fn go_duration(d: Duration) -> String {
    let s = d.as_secs();
    let (h, m, sec) = (s / 3600, (s % 3600) / 60, s % 60);
    if h > 0 {
        format!("{h}h{m}m{sec}s")
    } else if m > 0 {
        format!("{m}m{sec}s")
    } else {
        format!("{sec}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_print_like_go() {
        assert_eq!(go_duration(Duration::from_secs(30)), "30s");
        assert_eq!(go_duration(Duration::from_secs(300)), "5m0s");
        assert_eq!(go_duration(Duration::from_secs(3600)), "1h0m0s");
        assert_eq!(go_duration(Duration::from_secs(0)), "0s");
    }

    #[test]
    fn strings_and_lists_quote_like_go() {
        assert_eq!(quote("a\"b\\c\n\t"), "\"a\\\"b\\\\c\\n\\t\"");
        assert_eq!(quote("\u{a0}"), "\"\\u00a0\"");
        assert_eq!(quote("\u{1}"), "\"\\x01\"");
        assert_eq!(quote_rune('\u{c3}'), "'\u{c3}'");
        assert_eq!(quote_rune('\u{85}'), "'\\u0085'");
        assert_eq!(quote_rune('\''), "'\\''");
        assert_eq!(quote_rune('\u{1}'), "'\\x01'");
        assert_eq!(quote("é"), "\"é\"");
        assert_eq!(quote_list(&[]), "[]");
        assert_eq!(quote_list(&["a".into(), "b-c".into()]), r#"["a" "b-c"]"#);
    }

    #[test]
    fn errnos_read_like_go() {
        assert_eq!(
            io_error_text(&io::Error::from_raw_os_error(13)),
            "permission denied"
        );
        assert_eq!(
            io_error_text(&io::Error::from_raw_os_error(2)),
            "no such file or directory"
        );
        assert_eq!(
            io_error_text(&io::Error::from_raw_os_error(17)),
            "file exists"
        );
        assert_eq!(
            io_error_text(&io::Error::from_raw_os_error(21)),
            "is a directory"
        );
    }
}
