//! Error texts as Go prints them, for messages that must match upstream
//! kind byte for byte.

use std::io;

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

#[cfg(test)]
mod tests {
    use super::*;

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
