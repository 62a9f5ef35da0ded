//! The syntax check Go's `encoding/json` runs before it decodes anything,
//! with its error texts (`invalid character 'o' looking for beginning of
//! value`, `unexpected end of JSON input`, ...): upstream kind shows these
//! verbatim for a JSON 6902 patch that is not JSON. Reimplemented from the
//! behaviour of Go's byte-at-a-time JSON scanner: each state accepts some
//! bytes and names what it was reading when it meets any other.

/// Nesting deeper than this is refused, as by Go.
const MAX_DEPTH: usize = 10000;

#[derive(Clone, Copy, PartialEq)]
enum Scope {
    ObjectKey,
    ObjectValue,
    ArrayValue,
}

#[derive(Clone, Copy, PartialEq)]
enum State {
    BeginValueOrEmpty,
    BeginValue,
    BeginStringOrEmpty,
    BeginString,
    EndValue,
    EndTop,
    InString,
    InStringEsc,
    /// Inside `\u`, with this many hex digits read.
    InStringEscU(u8),
    Neg,
    One,
    Zero,
    Dot,
    Dot0,
    E,
    ESign,
    E0,
    /// Inside a literal (`true`, `false`, `null`): the rest expected.
    Literal(&'static str, &'static str),
}

struct Scanner {
    state: State,
    scopes: Vec<Scope>,
    end_top: bool,
}

fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\r' | b'\n')
}

/// Go's `quoteChar`: the byte as a rune (Latin-1), quoted with `'`.
fn quote_char(c: u8) -> String {
    match c {
        b'\'' => r"'\''".to_string(),
        b'"' => "'\"'".to_string(),
        _ => {
            let ch = c as char;
            let inner = match c {
                0x07 => r"\a".to_string(),
                0x08 => r"\b".to_string(),
                0x0c => r"\f".to_string(),
                b'\n' => r"\n".to_string(),
                b'\r' => r"\r".to_string(),
                b'\t' => r"\t".to_string(),
                0x0b => r"\v".to_string(),
                b'\\' => r"\\".to_string(),
                0x00..=0x1f | 0x7f => format!(r"\x{c:02x}"),
                // Not printable for Go: C1 controls, no-break space, soft hyphen.
                0x80..=0xa0 | 0xad => format!(r"\u{:04x}", c as u32),
                _ => ch.to_string(),
            };
            format!("'{inner}'")
        }
    }
}

impl Scanner {
    fn new() -> Scanner {
        Scanner {
            state: State::BeginValue,
            scopes: Vec::new(),
            end_top: false,
        }
    }

    fn error(c: u8, context: &str) -> Result<(), String> {
        Err(format!("invalid character {} {context}", quote_char(c)))
    }

    fn push(&mut self, c: u8, scope: Scope, next: State) -> Result<(), String> {
        self.scopes.push(scope);
        if self.scopes.len() > MAX_DEPTH {
            return Scanner::error(c, "exceeded max depth");
        }
        self.state = next;
        Ok(())
    }

    fn pop(&mut self) {
        self.scopes.pop();
        if self.scopes.is_empty() {
            self.state = State::EndTop;
            self.end_top = true;
        } else {
            self.state = State::EndValue;
        }
    }

    fn step(&mut self, c: u8) -> Result<(), String> {
        use State::*;
        match self.state {
            BeginValueOrEmpty => {
                if is_space(c) {
                    Ok(())
                } else if c == b']' {
                    self.end_value(c)
                } else {
                    self.begin_value(c)
                }
            }
            BeginValue => self.begin_value(c),
            BeginStringOrEmpty => {
                if is_space(c) {
                    Ok(())
                } else if c == b'}' {
                    if let Some(last) = self.scopes.last_mut() {
                        *last = Scope::ObjectValue;
                    }
                    self.end_value(c)
                } else {
                    self.begin_string(c)
                }
            }
            BeginString => self.begin_string(c),
            EndValue => self.end_value(c),
            EndTop => {
                if is_space(c) {
                    Ok(())
                } else {
                    Scanner::error(c, "after top-level value")
                }
            }
            InString => {
                match c {
                    b'"' => self.state = EndValue,
                    b'\\' => self.state = InStringEsc,
                    0x00..=0x1f => return Scanner::error(c, "in string literal"),
                    _ => {}
                }
                Ok(())
            }
            InStringEsc => match c {
                b'b' | b'f' | b'n' | b'r' | b't' | b'\\' | b'/' | b'"' => {
                    self.state = InString;
                    Ok(())
                }
                b'u' => {
                    self.state = InStringEscU(0);
                    Ok(())
                }
                _ => Scanner::error(c, "in string escape code"),
            },
            InStringEscU(n) => {
                if c.is_ascii_hexdigit() {
                    self.state = if n == 3 {
                        InString
                    } else {
                        InStringEscU(n + 1)
                    };
                    Ok(())
                } else {
                    Scanner::error(c, "in \\u hexadecimal character escape")
                }
            }
            Neg => match c {
                b'0' => {
                    self.state = Zero;
                    Ok(())
                }
                b'1'..=b'9' => {
                    self.state = One;
                    Ok(())
                }
                _ => Scanner::error(c, "in numeric literal"),
            },
            One => {
                if c.is_ascii_digit() {
                    Ok(())
                } else {
                    self.zero(c)
                }
            }
            Zero => self.zero(c),
            Dot => {
                if c.is_ascii_digit() {
                    self.state = Dot0;
                    Ok(())
                } else {
                    Scanner::error(c, "after decimal point in numeric literal")
                }
            }
            Dot0 => match c {
                b'0'..=b'9' => Ok(()),
                b'e' | b'E' => {
                    self.state = E;
                    Ok(())
                }
                _ => self.end_value(c),
            },
            E => {
                if c == b'+' || c == b'-' {
                    self.state = ESign;
                    Ok(())
                } else {
                    self.e_sign(c)
                }
            }
            ESign => self.e_sign(c),
            E0 => {
                if c.is_ascii_digit() {
                    Ok(())
                } else {
                    self.end_value(c)
                }
            }
            Literal(word, rest) => {
                let want = rest.as_bytes()[0];
                if c != want {
                    return Scanner::error(
                        c,
                        &format!("in literal {word} (expecting '{}')", want as char),
                    );
                }
                self.state = if rest.len() == 1 {
                    EndValue
                } else {
                    Literal(word, &rest[1..])
                };
                Ok(())
            }
        }
    }

    fn begin_value(&mut self, c: u8) -> Result<(), String> {
        use State::*;
        if is_space(c) {
            return Ok(());
        }
        match c {
            b'{' => return self.push(c, Scope::ObjectKey, BeginStringOrEmpty),
            b'[' => return self.push(c, Scope::ArrayValue, BeginValueOrEmpty),
            b'"' => self.state = InString,
            b'-' => self.state = Neg,
            b'0' => self.state = Zero,
            b't' => self.state = Literal("true", "rue"),
            b'f' => self.state = Literal("false", "alse"),
            b'n' => self.state = Literal("null", "ull"),
            b'1'..=b'9' => self.state = One,
            _ => return Scanner::error(c, "looking for beginning of value"),
        }
        Ok(())
    }

    fn begin_string(&mut self, c: u8) -> Result<(), String> {
        if is_space(c) {
            return Ok(());
        }
        if c == b'"' {
            self.state = State::InString;
            return Ok(());
        }
        Scanner::error(c, "looking for beginning of object key string")
    }

    fn zero(&mut self, c: u8) -> Result<(), String> {
        match c {
            b'.' => {
                self.state = State::Dot;
                Ok(())
            }
            b'e' | b'E' => {
                self.state = State::E;
                Ok(())
            }
            _ => self.end_value(c),
        }
    }

    fn e_sign(&mut self, c: u8) -> Result<(), String> {
        if c.is_ascii_digit() {
            self.state = State::E0;
            Ok(())
        } else {
            Scanner::error(c, "in exponent of numeric literal")
        }
    }

    fn end_value(&mut self, c: u8) -> Result<(), String> {
        let Some(&scope) = self.scopes.last() else {
            self.state = State::EndTop;
            self.end_top = true;
            return self.step(c);
        };
        if is_space(c) {
            self.state = State::EndValue;
            return Ok(());
        }
        match (scope, c) {
            (Scope::ObjectKey, b':') => {
                *self.scopes.last_mut().expect("non-empty") = Scope::ObjectValue;
                self.state = State::BeginValue;
                Ok(())
            }
            (Scope::ObjectKey, _) => Scanner::error(c, "after object key"),
            (Scope::ObjectValue, b',') => {
                *self.scopes.last_mut().expect("non-empty") = Scope::ObjectKey;
                self.state = State::BeginString;
                Ok(())
            }
            (Scope::ObjectValue, b'}') | (Scope::ArrayValue, b']') => {
                self.pop();
                Ok(())
            }
            (Scope::ObjectValue, _) => Scanner::error(c, "after object key:value pair"),
            (Scope::ArrayValue, b',') => {
                self.state = State::BeginValue;
                Ok(())
            }
            (Scope::ArrayValue, _) => Scanner::error(c, "after array element"),
        }
    }
}

/// The error Go's `json.Unmarshal` reports for `data` that is not one JSON
/// value (optionally surrounded by white space), None when it is.
pub fn syntax_error(data: &[u8]) -> Option<String> {
    let mut s = Scanner::new();
    for &c in data {
        if let Err(e) = s.step(c) {
            return Some(e);
        }
    }
    if s.end_top {
        return None;
    }
    // Go ends the input by feeding one space: a number ends there, anything
    // else unfinished is either an error of its own or an unexpected end.
    if let Err(e) = s.step(b' ') {
        return Some(e);
    }
    if s.end_top {
        None
    } else {
        Some("unexpected end of JSON input".to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every text here is what upstream kind v0.32.0's json-patch decoder
    /// (Go's encoding/json, go1.19) printed for the same input.
    #[test]
    fn syntax_errors_read_as_gos() {
        let cases: &[(&[u8], &str)] = &[
            (b"", "unexpected end of JSON input"),
            (b" ", "unexpected end of JSON input"),
            (b"- op: add", "invalid character ' ' in numeric literal"),
            (
                b"op: add",
                "invalid character 'o' looking for beginning of value",
            ),
            (
                b"[{\"op\": \"add\", \"path\": \"/a\", \"value\": 1},]",
                "invalid character ']' looking for beginning of value",
            ),
            (
                b"[{op: add}]",
                "invalid character 'o' looking for beginning of object key string",
            ),
            (
                b"[{'op': 'add'}]",
                r"invalid character '\'' looking for beginning of object key string",
            ),
            (
                b"[{\"op\":\"add\"} {\"op\":\"add\"}]",
                "invalid character '{' after array element",
            ),
            (
                b"[{\"op\" \"add\"}]",
                "invalid character '\"' after object key",
            ),
            (b"-", "invalid character ' ' in numeric literal"),
            (
                b"1.",
                "invalid character ' ' after decimal point in numeric literal",
            ),
            (
                b"1e",
                "invalid character ' ' in exponent of numeric literal",
            ),
            (
                b"[tru]",
                "invalid character ']' in literal true (expecting 'e')",
            ),
            (b"\"\\x\"", "invalid character 'x' in string escape code"),
            (
                b"\"\\u12g4\"",
                r"invalid character 'g' in \u hexadecimal character escape",
            ),
            (b"[1] x", "invalid character 'x' after top-level value"),
            (b"[{\"a\":1", "unexpected end of JSON input"),
            (b"{\"a\"", "unexpected end of JSON input"),
            (b"\"\x01\"", r"invalid character '\x01' in string literal"),
            (
                b"\xe9",
                "invalid character 'é' looking for beginning of value",
            ),
            (
                b"\xad",
                r"invalid character '\u00ad' looking for beginning of value",
            ),
            (
                b"\xa1",
                "invalid character '¡' looking for beginning of value",
            ),
        ];
        for (input, want) in cases {
            assert_eq!(
                syntax_error(input).as_deref(),
                Some(*want),
                "{:?}",
                String::from_utf8_lossy(input)
            );
        }
    }

    #[test]
    fn more_of_gos_contexts() {
        let cases: &[(&str, &str)] = &[
            (
                "{\"a\":1 \"b\"}",
                "invalid character '\"' after object key:value pair",
            ),
            (
                "[fals]",
                "invalid character ']' in literal false (expecting 'e')",
            ),
            (
                "nul",
                "invalid character ' ' in literal null (expecting 'l')",
            ),
            ("01", "invalid character '1' after top-level value"),
            ("[1 2]", "invalid character '2' after array element"),
            (
                "{\"a\":}",
                "invalid character '}' looking for beginning of value",
            ),
            (
                "1e+",
                "invalid character ' ' in exponent of numeric literal",
            ),
            (
                "\u{a0}",
                "invalid character 'Â' looking for beginning of value",
            ),
            (
                "\u{7f}",
                r"invalid character '\x7f' looking for beginning of value",
            ),
            (
                "\u{a1}",
                "invalid character 'Â' looking for beginning of value",
            ),
            (
                "\t\u{b}",
                r"invalid character '\v' looking for beginning of value",
            ),
        ];
        for (input, want) in cases {
            assert_eq!(
                syntax_error(input.as_bytes()).as_deref(),
                Some(*want),
                "{input}"
            );
        }
    }

    #[test]
    fn valid_json_passes() {
        for ok in [
            "null",
            " [ ] ",
            "{}",
            "[{\"op\":\"add\",\"path\":\"/a\",\"value\":{\"b\":[1,-2.5e+3,true,false,null,\"\\u00e9\\n\"]}}]",
            "12",
            "-0.5E7",
            "\"é\"",
        ] {
            assert_eq!(syntax_error(ok.as_bytes()), None, "{ok}");
        }
    }
}
