//! go-yaml's scalar resolution, the one rule set both directions use: the
//! parser (`parse`) types plain scalars with it, and the emitter (`emit`)
//! writes a string plain only when it would resolve back to a string.
//! Upstream parses configs with go-yaml v3 and writes YAML with go-yaml v2;
//! the two differ only in v2's YAML 1.1 booleans (`y`, `yes`, `on`, `n`,
//! `no`, `off`), chosen with [`GoYaml`].

/// Which go-yaml's resolution table applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GoYaml {
    /// gopkg.in/yaml.v2 (the emitter upstream writes YAML with).
    V2,
    /// gopkg.in/yaml.v3 (the decoder of upstream's config).
    V3,
}

pub const NULL: &str = "!!null";
pub const BOOL: &str = "!!bool";
pub const STR: &str = "!!str";
pub const INT: &str = "!!int";
pub const FLOAT: &str = "!!float";
pub const TIMESTAMP: &str = "!!timestamp";
pub const SEQ: &str = "!!seq";
pub const MAP: &str = "!!map";
pub const BINARY: &str = "!!binary";
pub const MERGE: &str = "!!merge";

const LONG_TAG_PREFIX: &str = "tag:yaml.org,2002:";

pub fn short_tag(tag: &str) -> String {
    match tag.strip_prefix(LONG_TAG_PREFIX) {
        Some(rest) => format!("!!{rest}"),
        None => tag.to_string(),
    }
}

/// A scalar's value after resolution.
#[derive(Debug, Clone, PartialEq)]
pub enum Resolved {
    Null,
    Bool(bool),
    Int(i64),
    Uint(u64),
    Float(f64),
    Str(String),
    Timestamp,
}

/// yaml.v3's `resolve`: the tag and value a scalar stands for. `tag` is the
/// node's (short) tag or empty. An explicit tag the text does not fit is
/// fatal (`yaml: cannot decode !!str `x` as a !!int`).
pub fn tagged(tag: &str, text: &str) -> Result<(String, Resolved), String> {
    let tag = short_tag(tag);
    if !matches!(
        tag.as_str(),
        "" | STR | BOOL | INT | FLOAT | NULL | TIMESTAMP
    ) {
        return Ok((tag, Resolved::Str(text.to_string())));
    }
    let (rtag, out) = untagged(&tag, text, GoYaml::V3);
    match tag.as_str() {
        "" | STR | BINARY => Ok((rtag.into(), out)),
        t if t == rtag => Ok((rtag.into(), out)),
        FLOAT if rtag == INT => match out {
            Resolved::Int(v) => Ok((FLOAT.into(), Resolved::Float(v as f64))),
            _ => Err(format!("yaml: cannot decode {rtag} `{text}` as a {tag}")),
        },
        _ => Err(format!("yaml: cannot decode {rtag} `{text}` as a {tag}")),
    }
}

/// The tag and value of a plain scalar without an explicit tag.
pub fn plain(text: &str, version: GoYaml) -> (&'static str, Resolved) {
    untagged("", text, version)
}

/// Resolution under `tag` (empty, or one of the core tags).
fn untagged(tag: &str, text: &str, version: GoYaml) -> (&'static str, Resolved) {
    let str_value = || (STR, Resolved::Str(text.to_string()));
    if tag == STR || tag == BINARY {
        return str_value();
    }
    let hint = match text.as_bytes().first() {
        None => b'N',
        Some(b'+' | b'-') => b'S',
        Some(b'0'..=b'9') => b'D',
        Some(b'y' | b'Y' | b'n' | b'N' | b't' | b'T' | b'f' | b'F' | b'o' | b'O' | b'~') => b'M',
        Some(b'.') => b'.',
        Some(_) => return str_value(),
    };
    match text {
        "true" | "True" | "TRUE" => return (BOOL, Resolved::Bool(true)),
        "false" | "False" | "FALSE" => return (BOOL, Resolved::Bool(false)),
        "" | "~" | "null" | "Null" | "NULL" => return (NULL, Resolved::Null),
        ".nan" | ".NaN" | ".NAN" => return (FLOAT, Resolved::Float(f64::NAN)),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return (FLOAT, Resolved::Float(f64::INFINITY))
        }
        "-.inf" | "-.Inf" | "-.INF" => return (FLOAT, Resolved::Float(f64::NEG_INFINITY)),
        _ => {}
    }
    if version == GoYaml::V2 {
        // YAML 1.1's booleans, which v3 reads as strings.
        match text {
            "y" | "Y" | "yes" | "Yes" | "YES" | "on" | "On" | "ON" => {
                return (BOOL, Resolved::Bool(true))
            }
            "n" | "N" | "no" | "No" | "NO" | "off" | "Off" | "OFF" => {
                return (BOOL, Resolved::Bool(false))
            }
            _ => {}
        }
    }
    match hint {
        b'.' => {
            if let Some(f) = go_parse_float(text) {
                return (FLOAT, Resolved::Float(f));
            }
        }
        b'D' | b'S' => {
            if (tag.is_empty() || tag == TIMESTAMP) && is_timestamp(text) {
                return (TIMESTAMP, Resolved::Timestamp);
            }
            let plain = text.replace('_', "");
            if let Some(v) = go_parse_int(&plain) {
                return (INT, v);
            }
            if is_yaml_float(&plain) {
                if let Some(f) = go_parse_float(&plain) {
                    return (FLOAT, Resolved::Float(f));
                }
            }
        }
        _ => {}
    }
    str_value()
}

/// Go's `strconv.ParseInt(s, 0, 64)`, falling back to `ParseUint`: optional
/// sign, then `0x`/`0o`/`0b` or a leading `0` (octal) prefix.
fn go_parse_int(s: &str) -> Option<Resolved> {
    let (neg, body) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let lower = body.to_ascii_lowercase();
    let (radix, digits) = if let Some(d) = lower.strip_prefix("0x") {
        (16, d)
    } else if let Some(d) = lower.strip_prefix("0o") {
        (8, d)
    } else if let Some(d) = lower.strip_prefix("0b") {
        (2, d)
    } else if lower.len() > 1 && lower.starts_with('0') {
        (8, &lower[1..])
    } else {
        (10, lower.as_str())
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let magnitude = u128::from_str_radix(digits, radix).ok()?;
    if neg {
        (magnitude <= 1u128 << 63).then(|| Resolved::Int((magnitude as i128).wrapping_neg() as i64))
    } else if magnitude <= i64::MAX as u128 {
        Some(Resolved::Int(magnitude as i64))
    } else if s.starts_with('+') {
        None // ParseUint takes no sign
    } else {
        u64::try_from(magnitude).ok().map(Resolved::Uint)
    }
}

/// yaml.v3's `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`.
fn is_yaml_float(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    let digits = |i: &mut usize| {
        let start = *i;
        while *i < b.len() && b[*i].is_ascii_digit() {
            *i += 1;
        }
        *i - start
    };
    if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
        i += 1;
    }
    if i < b.len() && b[i] == b'.' {
        i += 1;
        if digits(&mut i) == 0 {
            return false;
        }
    } else {
        if digits(&mut i) == 0 {
            return false;
        }
        if i < b.len() && b[i] == b'.' {
            i += 1;
            digits(&mut i);
        }
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        i += 1;
        if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == b.len()
}

/// Go's `strconv.ParseFloat` for decimal text: out-of-range values are errors.
fn go_parse_float(s: &str) -> Option<f64> {
    if !s
        .bytes()
        .all(|c| c.is_ascii_digit() || matches!(c, b'.' | b'e' | b'E' | b'+' | b'-'))
    {
        return None;
    }
    s.parse::<f64>().ok().filter(|f| f.is_finite())
}

/// The timestamp forms yaml.v3 recognises: `YYYY-M-D`, optionally followed
/// by `[Tt]h:m:s[.frac](Z|±hh:mm)` or ` h:m:s[.frac]`.
fn is_timestamp(s: &str) -> bool {
    fn num(s: &str, min_len: usize, max_len: usize) -> Option<u32> {
        (s.len() >= min_len && s.len() <= max_len && s.bytes().all(|c| c.is_ascii_digit()))
            .then(|| s.parse().ok())
            .flatten()
    }
    let (date, time) = match s.find(['T', 't', ' ']) {
        Some(i) => (&s[..i], Some((s.as_bytes()[i], &s[i + 1..]))),
        None => (s, None),
    };
    let mut parts = date.splitn(3, '-');
    let (Some(y), Some(m), Some(d)) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    let (Some(y), Some(m), Some(d)) = (num(y, 4, 4), num(m, 1, 2), num(d, 1, 2)) else {
        return false;
    };
    let leap = y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
    let days = [
        31,
        if leap { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    if !(1..=12).contains(&m) || d < 1 || d > days[m as usize - 1] {
        return false;
    }
    let Some((sep, time)) = time else { return true };
    let (clock, zone_ok) = if sep == b' ' {
        (time, true)
    } else if let Some(c) = time.strip_suffix('Z') {
        (c, true)
    } else {
        match time.rfind(['+', '-']) {
            Some(i) => {
                // `±hh:mm`, split at ':' rather than by byte offsets: the
                // text is arbitrary UTF-8 and offsets may fall inside a char.
                let ok = time[i + 1..].split_once(':').is_some_and(|(h, m)| {
                    num(h, 2, 2).is_some_and(|h| h < 24) && num(m, 2, 2).is_some_and(|m| m < 60)
                });
                (&time[..i], ok)
            }
            None => (time, false),
        }
    };
    let (hms, frac) = match clock.split_once('.') {
        Some((a, f)) => (a, Some(f)),
        None => (clock, None),
    };
    let mut f = hms.splitn(3, ':');
    let (Some(h), Some(mi), Some(sec)) = (f.next(), f.next(), f.next()) else {
        return false;
    };
    zone_ok
        && num(h, 1, 2).is_some_and(|h| h < 24)
        && num(mi, 1, 2).is_some_and(|m| m < 60)
        && num(sec, 1, 2).is_some_and(|s| s < 60)
        && frac.is_none_or(|f| num(f, 1, 9).is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolved(text: &str) -> (String, Resolved) {
        tagged("", text).unwrap()
    }

    #[test]
    fn plain_scalars_resolve_like_yaml_v3() {
        let cases: &[(&str, &str, Resolved)] = &[
            ("80", INT, Resolved::Int(80)),
            ("-1", INT, Resolved::Int(-1)),
            ("0x1F", INT, Resolved::Int(31)),
            ("0o17", INT, Resolved::Int(15)),
            ("017", INT, Resolved::Int(15)),
            ("0b101", INT, Resolved::Int(5)),
            ("1_000", INT, Resolved::Int(1000)),
            ("18446744073709551615", INT, Resolved::Uint(u64::MAX)),
            ("8.5", FLOAT, Resolved::Float(8.5)),
            (".5", FLOAT, Resolved::Float(0.5)),
            ("1e3", FLOAT, Resolved::Float(1000.0)),
            ("1e400", STR, Resolved::Str("1e400".into())),
            ("true", BOOL, Resolved::Bool(true)),
            ("False", BOOL, Resolved::Bool(false)),
            ("yes", STR, Resolved::Str("yes".into())),
            ("~", NULL, Resolved::Null),
            ("", NULL, Resolved::Null),
            ("2001-12-14", TIMESTAMP, Resolved::Timestamp),
            ("2001-12-14T21:59:43.10Z", TIMESTAMP, Resolved::Timestamp),
            ("2001-02-30", STR, Resolved::Str("2001-02-30".into())),
            ("08", FLOAT, Resolved::Float(8.0)),
            ("0x", STR, Resolved::Str("0x".into())),
            ("kind", STR, Resolved::Str("kind".into())),
        ];
        for (text, tag, value) in cases {
            assert_eq!(resolved(text), (tag.to_string(), value.clone()), "{text}");
        }
    }

    /// Issue 6: a multi-byte character where the zone's digits belong
    /// panicked (byte slicing inside a char); such text is a plain string.
    #[test]
    fn timestamp_like_text_with_multibyte_chars_is_a_string() {
        for text in [
            "2020-1-1T1:1:1+0é00",
            "2020-1-1T1:1:1+00:é0",
            "2020-1-1T1:1:1+é:00",
            "2020-1-1T1:1:1-00é0",
            "2020-1-1T1:1:1.é+00:00",
            "2020-1-1T1:é:1Z",
            "2020-1-é",
            "2020-é-1 1:1:1",
        ] {
            assert_eq!(
                resolved(text),
                (STR.into(), Resolved::Str(text.into())),
                "{text}"
            );
            // The emitter resolves with v2: the same text must not panic there.
            assert_eq!(plain(text, GoYaml::V2).0, STR, "{text}");
        }
        assert_eq!(resolved("2020-1-1T1:1:1+01:00").0, TIMESTAMP);
        assert_eq!(resolved("2020-1-1T1:1:1-23:59").0, TIMESTAMP);
        assert_eq!(resolved("2020-1-1T1:1:1+24:00").0, STR);
        assert_eq!(resolved("2020-1-1T1:1:1+1:00").0, STR);
    }

    #[test]
    fn explicit_tags_must_fit_the_text() {
        assert_eq!(
            tagged("!!int", "abc").unwrap_err(),
            "yaml: cannot decode !!str `abc` as a !!int"
        );
        assert_eq!(
            tagged("!!float", "3").unwrap(),
            (FLOAT.into(), Resolved::Float(3.0))
        );
        assert_eq!(
            tagged("!!str", "3").unwrap(),
            (STR.into(), Resolved::Str("3".into()))
        );
        assert_eq!(
            tagged("!custom", "3").unwrap(),
            ("!custom".into(), Resolved::Str("3".into()))
        );
    }

    #[test]
    fn v2_also_reads_yaml_1_1_booleans() {
        for (text, want) in [
            ("yes", true),
            ("On", true),
            ("y", true),
            ("NO", false),
            ("off", false),
        ] {
            assert_eq!(
                plain(text, GoYaml::V2),
                (BOOL, Resolved::Bool(want)),
                "{text}"
            );
            assert_eq!(plain(text, GoYaml::V3).0, STR, "{text}");
        }
        for text in ["true", "~", "0x1F", "1e3", "2001-12-14", ".inf"] {
            assert_eq!(plain(text, GoYaml::V2), plain(text, GoYaml::V3), "{text}");
        }
        // `<<` is a merge key only as a plain mapping key (the parser's
        // business); as a scalar it resolves to a string in both.
        assert_eq!(plain("<<", GoYaml::V2).0, STR);
    }
}
