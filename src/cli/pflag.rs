//! Flag parsing with spf13/pflag v1.0.5's rules, which kind's users script
//! against: flags interspersed with arguments, the last of a repeated flag
//! wins, booleans take a value only as `--flag=v`, value flags take the next
//! word even when it begins with `-`, `--` ends the flags, and pflag's error
//! texts. Also Go's value syntaxes (`strconv`, `time.ParseDuration`).
//!
//! Arguments are handled as bytes where pflag does (`-é` names the flag
//! byte 0xC3), so no input can split a character and panic.

use std::borrow::Cow;
use std::collections::BTreeMap;

use crate::gotext;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlagKind {
    Bool,
    String,
    Int32,
    Duration,
    StringSlice,
}

impl FlagKind {
    /// The type name pflag shows in usage lines (empty for booleans).
    pub fn type_name(self) -> &'static str {
        match self {
            FlagKind::Bool => "",
            FlagKind::String => "string",
            FlagKind::Int32 => "int32",
            FlagKind::Duration => "duration",
            FlagKind::StringSlice => "strings",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlagSpec {
    pub name: &'static str,
    pub short: Option<char>,
    pub kind: FlagKind,
    /// pflag's `DefValue` text (`false`, `0`, `0s`, `[]`, or the string).
    pub default: &'static str,
    pub usage: Cow<'static, str>,
}

impl FlagSpec {
    pub const fn new(
        name: &'static str,
        short: Option<char>,
        kind: FlagKind,
        default: &'static str,
        usage: &'static str,
    ) -> FlagSpec {
        FlagSpec {
            name,
            short,
            kind,
            default,
            usage: Cow::Borrowed(usage),
        }
    }

    /// Booleans take no separate value word (pflag's `NoOptDefVal`).
    pub fn takes_no_value(&self) -> bool {
        self.kind == FlagKind::Bool
    }

    /// `-n, --name` or `--wait`, as pflag names a flag in value errors.
    fn display_name(&self) -> String {
        match self.short {
            Some(s) => format!("-{s}, --{}", self.name),
            None => format!("--{}", self.name),
        }
    }
}

/// The help flag cobra adds to the command that runs.
pub fn help_flag(command_name: &str) -> FlagSpec {
    FlagSpec {
        usage: Cow::Owned(format!("help for {command_name}")),
        ..FlagSpec::new("help", Some('h'), FlagKind::Bool, "false", "")
    }
}

/// The root's `--version`.
pub fn version_flag() -> FlagSpec {
    FlagSpec::new("version", None, FlagKind::Bool, "false", "version for kind")
}

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Bool(bool),
    Str(String),
    Int32(i32),
    /// Nanoseconds, signed as in Go.
    Duration(i64),
    Strings(Vec<String>),
}

/// Parsed flag values: every flag of the set, with its default unless given.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FlagValues {
    values: BTreeMap<&'static str, (Value, bool)>,
}

impl FlagValues {
    fn defaults(specs: &[FlagSpec]) -> FlagValues {
        let mut values = BTreeMap::new();
        for spec in specs {
            let v = match spec.kind {
                FlagKind::Bool => Value::Bool(spec.default == "true"),
                FlagKind::String => Value::Str(spec.default.to_string()),
                FlagKind::Int32 => Value::Int32(spec.default.parse().unwrap_or(0)),
                FlagKind::Duration => Value::Duration(parse_duration(spec.default).unwrap_or(0)),
                FlagKind::StringSlice => Value::Strings(Vec::new()),
            };
            values.insert(spec.name, (v, false));
        }
        FlagValues { values }
    }

    /// Whether the flag was given on the command line (pflag's `Changed`).
    pub fn changed(&self, name: &str) -> bool {
        self.values.get(name).is_some_and(|(_, c)| *c)
    }

    pub fn bool(&self, name: &str) -> bool {
        matches!(self.values.get(name), Some((Value::Bool(true), _)))
    }

    pub fn string(&self, name: &str) -> String {
        match self.values.get(name) {
            Some((Value::Str(s), _)) => s.clone(),
            _ => String::new(),
        }
    }

    pub fn int32(&self, name: &str) -> i32 {
        match self.values.get(name) {
            Some((Value::Int32(i), _)) => *i,
            _ => 0,
        }
    }

    /// Nanoseconds; negative when the user wrote a negative duration.
    pub fn duration_nanos(&self, name: &str) -> i64 {
        match self.values.get(name) {
            Some((Value::Duration(d), _)) => *d,
            _ => 0,
        }
    }

    pub fn strings(&self, name: &str) -> Vec<String> {
        match self.values.get(name) {
            Some((Value::Strings(v), _)) => v.clone(),
            _ => Vec::new(),
        }
    }

    /// pflag's `Set`: parse `value` for `spec` and record it as changed.
    fn set(&mut self, spec: &FlagSpec, value: &str) -> Result<(), String> {
        let parsed = match spec.kind {
            FlagKind::Bool => parse_bool(value).map(Value::Bool),
            FlagKind::String => Ok(Value::Str(value.to_string())),
            FlagKind::Int32 => parse_int32(value).map(Value::Int32),
            FlagKind::Duration => parse_duration(value).map(Value::Duration),
            FlagKind::StringSlice => read_csv_line(value).map(|items| {
                // The first Set replaces the default, later ones append.
                match self.values.get(spec.name) {
                    Some((Value::Strings(old), true)) => {
                        let mut all = old.clone();
                        all.extend(items);
                        Value::Strings(all)
                    }
                    _ => Value::Strings(items),
                }
            }),
        };
        match parsed {
            Ok(v) => {
                self.values.insert(spec.name, (v, true));
                Ok(())
            }
            Err(cause) => Err(format!(
                "invalid argument {} for {} flag: {cause}",
                gotext::quote(value),
                gotext::quote(&spec.display_name())
            )),
        }
    }
}

/// How a parse ended other than successfully.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParseError {
    /// `-h`/`--help` given but not defined in the set (pflag's `ErrHelp`).
    Help,
    Failed(String),
}

/// The result of parsing one command's flags.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Parsed {
    pub values: FlagValues,
    /// Positional arguments, in order (everything after `--` included).
    pub args: Vec<String>,
}

/// A flag set: the flags one command accepts.
pub struct FlagSet<'a> {
    pub specs: &'a [FlagSpec],
    /// pflag's `ParseErrorsWhitelist.UnknownFlags` (kind's quiet pre-scan).
    pub ignore_unknown: bool,
}

impl<'a> FlagSet<'a> {
    pub fn new(specs: &'a [FlagSpec]) -> FlagSet<'a> {
        FlagSet {
            specs,
            ignore_unknown: false,
        }
    }

    pub fn long(&self, name: &[u8]) -> Option<&'a FlagSpec> {
        self.specs.iter().find(|s| s.name.as_bytes() == name)
    }

    pub fn short(&self, c: u8) -> Option<&'a FlagSpec> {
        self.specs
            .iter()
            .find(|s| s.short.is_some_and(|sc| sc.is_ascii() && sc as u8 == c))
    }

    /// Parse `args`. On failure the values parsed so far are returned too
    /// (the quiet pre-scan uses them).
    pub fn parse(&self, args: &[String]) -> (Parsed, Option<ParseError>) {
        let mut out = Parsed {
            values: FlagValues::defaults(self.specs),
            args: Vec::new(),
        };
        let mut rest: &[String] = args;
        while let Some((s, tail)) = rest.split_first() {
            rest = tail;
            let b = s.as_bytes();
            if b.len() < 2 || b[0] != b'-' {
                out.args.push(s.clone());
                continue;
            }
            let result = if b[1] == b'-' {
                if b.len() == 2 {
                    out.args.extend(rest.iter().cloned());
                    break;
                }
                self.parse_long(s, rest, &mut out.values)
            } else {
                self.parse_short(s, rest, &mut out.values)
            };
            match result {
                Ok(r) => rest = r,
                Err(e) => return (out, Some(e)),
            }
        }
        (out, None)
    }

    fn parse_long<'s>(
        &self,
        s: &str,
        args: &'s [String],
        values: &mut FlagValues,
    ) -> Result<&'s [String], ParseError> {
        let name = &s[2..];
        if name.is_empty() || name.starts_with('-') || name.starts_with('=') {
            return Err(ParseError::Failed(format!("bad flag syntax: {s}")));
        }
        let (name, inline) = match name.split_once('=') {
            Some((n, v)) => (n, Some(v)),
            None => (name, None),
        };
        let Some(spec) = self.long(name.as_bytes()) else {
            if name == "help" {
                return Err(ParseError::Help);
            }
            if self.ignore_unknown {
                return Ok(if inline.is_some() {
                    args
                } else {
                    strip_unknown_flag_value(args)
                });
            }
            return Err(ParseError::Failed(format!("unknown flag: --{name}")));
        };
        let (value, rest) = match inline {
            Some(v) => (v, args),
            None if spec.takes_no_value() => ("true", args),
            None => match args.split_first() {
                Some((v, rest)) => (v.as_str(), rest),
                None => return Err(ParseError::Failed(format!("flag needs an argument: {s}"))),
            },
        };
        values.set(spec, value).map_err(ParseError::Failed)?;
        Ok(rest)
    }

    fn parse_short<'s>(
        &self,
        s: &str,
        args: &'s [String],
        values: &mut FlagValues,
    ) -> Result<&'s [String], ParseError> {
        let mut shorthands: &[u8] = &s.as_bytes()[1..];
        let mut out = args;
        // pflag hands every letter of `-abc` the words after the whole group
        // (not what an earlier letter left), and keeps the last result.
        while !shorthands.is_empty() {
            let (next, rest) = self.parse_single_short(shorthands, args, values)?;
            shorthands = next;
            out = rest;
        }
        Ok(out)
    }

    fn parse_single_short<'b, 's>(
        &self,
        shorthands: &'b [u8],
        args: &'s [String],
        values: &mut FlagValues,
    ) -> Result<(&'b [u8], &'s [String]), ParseError> {
        if shorthands.starts_with(b"test.") {
            return Ok((&[], args));
        }
        let c = shorthands[0];
        let after = &shorthands[1..];
        let Some(spec) = self.short(c) else {
            if c == b'h' {
                return Err(ParseError::Help);
            }
            if self.ignore_unknown {
                if shorthands.len() > 2 && shorthands[1] == b'=' {
                    return Ok((&[], args));
                }
                return Ok((after, strip_unknown_flag_value(args)));
            }
            return Err(ParseError::Failed(format!(
                "unknown shorthand flag: {} in -{}",
                gotext::quote_rune(char::from(c)),
                String::from_utf8_lossy(shorthands)
            )));
        };
        let (value, next, rest): (String, &'b [u8], &'s [String]) =
            if shorthands.len() > 2 && shorthands[1] == b'=' {
                (lossy(&shorthands[2..]), &[], args)
            } else if spec.takes_no_value() {
                ("true".to_string(), after, args)
            } else if !after.is_empty() {
                (lossy(after), &[], args)
            } else if let Some((v, rest)) = args.split_first() {
                (v.clone(), &[], rest)
            } else {
                return Err(ParseError::Failed(format!(
                    "flag needs an argument: {} in -{}",
                    gotext::quote_rune(char::from(c)),
                    String::from_utf8_lossy(shorthands)
                )));
            };
        values.set(spec, &value).map_err(ParseError::Failed)?;
        Ok((next, rest))
    }
}

fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// An unknown flag's value is the next word unless that looks like a flag.
fn strip_unknown_flag_value(args: &[String]) -> &[String] {
    match args.first() {
        None => args,
        Some(first) if first.starts_with('-') => args,
        Some(_) => &args[1..],
    }
}

/// kind's quiet pre-scan (`app.checkQuiet`): a pflag set holding only
/// `-q/--quiet` that ignores unknown flags and stops at `-h`, any error, or `--`.
pub fn quiet_prescan(args: &[String]) -> bool {
    let specs = [FlagSpec::new(
        "quiet",
        Some('q'),
        FlagKind::Bool,
        "false",
        "silence all stderr output",
    )];
    let set = FlagSet {
        specs: &specs,
        ignore_unknown: true,
    };
    let (parsed, _) = set.parse(args);
    parsed.values.bool("quiet")
}

/// Go's `strconv.ParseBool`.
pub fn parse_bool(s: &str) -> Result<bool, String> {
    match s {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Ok(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Ok(false),
        _ => Err(format!(
            "strconv.ParseBool: parsing {}: invalid syntax",
            gotext::quote(s)
        )),
    }
}

/// Go's `strconv.ParseInt(s, 0, 32)`: sign, `0x`/`0o`/`0b`/leading-`0`
/// prefixes, and `_` between digits when a base prefix or plain decimal.
pub fn parse_int32(s: &str) -> Result<i32, String> {
    let syntax = || {
        format!(
            "strconv.ParseInt: parsing {}: invalid syntax",
            gotext::quote(s)
        )
    };
    let range = || {
        format!(
            "strconv.ParseInt: parsing {}: value out of range",
            gotext::quote(s)
        )
    };
    let (neg, body) = match s.as_bytes().first() {
        Some(b'+') => (false, &s[1..]),
        Some(b'-') => (true, &s[1..]),
        _ => (false, s),
    };
    if body.is_empty() {
        return Err(syntax());
    }
    let lower = body.to_ascii_lowercase();
    let (base, digits, prefixed) = if let Some(d) = lower.strip_prefix("0x") {
        (16, d.to_string(), true)
    } else if let Some(d) = lower.strip_prefix("0o") {
        (8, d.to_string(), true)
    } else if let Some(d) = lower.strip_prefix("0b") {
        (2, d.to_string(), true)
    } else if lower.len() > 1 && lower.starts_with('0') {
        (8, lower[1..].to_string(), true)
    } else {
        (10, lower.clone(), false)
    };
    if !underscores_ok(&lower, prefixed) {
        return Err(syntax());
    }
    let digits: String = digits.chars().filter(|c| *c != '_').collect();
    if digits.is_empty() {
        return Err(syntax());
    }
    let mut value: i128 = 0;
    for c in digits.chars() {
        let d = c.to_digit(base).ok_or_else(syntax)? as i128;
        value = value * base as i128 + d;
        if value > (1i128 << 40) {
            // Keep accumulating syntax checks, but the value is out of range.
            value = 1i128 << 40;
        }
    }
    let value = if neg { -value } else { value };
    i32::try_from(value).map_err(|_| range())
}

/// Go's `underscoreOK`: underscores only between digits (or after a base
/// prefix), and only when the literal is base-prefixed or decimal.
fn underscores_ok(s: &str, prefixed: bool) -> bool {
    if !s.contains('_') {
        return true;
    }
    let b = s.as_bytes();
    let mut saw = b'^';
    let mut i = 0;
    let hex = prefixed && s.starts_with("0x");
    if prefixed && s.len() >= 2 && matches!(b[1], b'x' | b'o' | b'b') {
        i = 2;
        saw = b'0';
    } else if s.starts_with('0') && s.len() > 1 {
        saw = b'0';
        i = 1;
    }
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_digit() || (hex && c.is_ascii_hexdigit()) {
            saw = b'0';
        } else if c == b'_' {
            if saw != b'0' {
                return false;
            }
            saw = b'_';
        } else {
            if saw == b'_' {
                return false;
            }
            saw = b'!';
        }
        i += 1;
    }
    saw != b'_'
}

/// Go's `time.ParseDuration`, in nanoseconds, with Go's error texts.
pub fn parse_duration(s: &str) -> Result<i64, String> {
    let orig = s;
    let invalid = || format!("time: invalid duration {}", time_quote(orig));
    let mut rest = s.as_bytes();
    let mut neg = false;
    if let Some((&c, tail)) = rest.split_first() {
        if c == b'-' || c == b'+' {
            neg = c == b'-';
            rest = tail;
        }
    }
    if rest == b"0" {
        return Ok(0);
    }
    if rest.is_empty() {
        return Err(invalid());
    }
    let mut total: u64 = 0;
    while !rest.is_empty() {
        if !(rest[0] == b'.' || rest[0].is_ascii_digit()) {
            return Err(invalid());
        }
        // Integer part.
        let int_len = rest.iter().take_while(|c| c.is_ascii_digit()).count();
        let mut v: u64 = 0;
        for &c in &rest[..int_len] {
            v = v
                .checked_mul(10)
                .and_then(|v| v.checked_add(u64::from(c - b'0')))
                .ok_or_else(invalid)?;
        }
        let pre = int_len != 0;
        rest = &rest[int_len..];
        // Fraction.
        let (mut f, mut scale, mut post) = (0u64, 1f64, false);
        if rest.first() == Some(&b'.') {
            rest = &rest[1..];
            let frac_len = rest.iter().take_while(|c| c.is_ascii_digit()).count();
            let mut overflow = false;
            for &c in &rest[..frac_len] {
                if overflow {
                    continue;
                }
                match f
                    .checked_mul(10)
                    .and_then(|y| y.checked_add(u64::from(c - b'0')))
                {
                    Some(y) if y <= (1u64 << 63) => {
                        f = y;
                        scale *= 10.0;
                    }
                    _ => overflow = true,
                }
            }
            post = frac_len != 0;
            rest = &rest[frac_len..];
        }
        if !pre && !post {
            return Err(invalid());
        }
        let unit_len = rest
            .iter()
            .take_while(|c| **c != b'.' && !c.is_ascii_digit())
            .count();
        if unit_len == 0 {
            return Err(format!(
                "time: missing unit in duration {}",
                time_quote(orig)
            ));
        }
        let unit = &rest[..unit_len];
        rest = &rest[unit_len..];
        let per: u64 = match unit {
            b"ns" => 1,
            b"us" | b"\xc2\xb5s" | b"\xce\xbcs" => 1_000,
            b"ms" => 1_000_000,
            b"s" => 1_000_000_000,
            b"m" => 60_000_000_000,
            b"h" => 3_600_000_000_000,
            _ => {
                return Err(format!(
                    "time: unknown unit {} in duration {}",
                    time_quote(&String::from_utf8_lossy(unit)),
                    time_quote(orig)
                ))
            }
        };
        if v > (1u64 << 63) / per {
            return Err(invalid());
        }
        v *= per;
        if f > 0 {
            v += (f as f64 * (per as f64 / scale)) as u64;
            if v > 1u64 << 63 {
                return Err(invalid());
            }
        }
        total = total.checked_add(v).ok_or_else(invalid)?;
        if total > 1u64 << 63 {
            return Err(invalid());
        }
    }
    if neg {
        Ok((total as i128).wrapping_neg() as i64)
    } else if total > i64::MAX as u64 {
        Err(invalid())
    } else {
        Ok(total as i64)
    }
}

/// The `time` package's own quoting: non-ASCII and control bytes as `\xNN`.
fn time_quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        if !c.is_ascii() || (c as u32) < 0x20 {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("\\x{b:02x}"));
            }
        } else {
            if c == '"' || c == '\\' {
                out.push('\\');
            }
            out.push(c);
        }
    }
    out.push('"');
    out
}

/// pflag's string-slice value: one line of CSV (Go's `encoding/csv`).
fn read_csv_line(s: &str) -> Result<Vec<String>, String> {
    if s.is_empty() {
        return Ok(Vec::new());
    }
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut chars = s.chars().peekable();
    let mut col = 0usize;
    loop {
        // Start of a field.
        if chars.peek() == Some(&'"') {
            chars.next();
            col += 1;
            loop {
                match chars.next() {
                    Some('"') => {
                        col += 1;
                        match chars.peek() {
                            Some('"') => {
                                chars.next();
                                col += 1;
                                field.push('"');
                            }
                            Some(',') | Some('\n') | Some('\r') | None => break,
                            Some(_) => {
                                return Err(format!(
                                    "parse error on line 1, column {}: extraneous or missing \" in quoted-field",
                                    col + 1
                                ))
                            }
                        }
                    }
                    Some(c) => {
                        col += c.len_utf8();
                        field.push(c);
                    }
                    None => {
                        return Err(format!(
                            "parse error on line 1, column {}: extraneous or missing \" in quoted-field",
                            col + 1
                        ))
                    }
                }
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c == ',' || c == '\n' || c == '\r' {
                    break;
                }
                if c == '"' {
                    return Err(format!(
                        "parse error on line 1, column {}: bare \" in non-quoted-field",
                        col + 1
                    ));
                }
                chars.next();
                col += c.len_utf8();
                field.push(c);
            }
        }
        fields.push(std::mem::take(&mut field));
        match chars.next() {
            Some(',') => col += 1,
            _ => break,
        }
    }
    Ok(fields)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &[&str]) -> Vec<String> {
        s.iter().map(|x| x.to_string()).collect()
    }

    fn specs() -> Vec<FlagSpec> {
        vec![
            FlagSpec::new("name", Some('n'), FlagKind::String, "kind", ""),
            FlagSpec::new("all", Some('A'), FlagKind::Bool, "false", ""),
            FlagSpec::new("wait", None, FlagKind::Duration, "0s", ""),
            FlagSpec::new("nodes", None, FlagKind::StringSlice, "[]", ""),
            FlagSpec::new("verbosity", Some('v'), FlagKind::Int32, "0", ""),
        ]
    }

    #[test]
    fn last_value_wins_and_values_may_start_with_dash() {
        let s = specs();
        let (p, e) = FlagSet::new(&s).parse(&v(&["--name", "a", "x", "-n", "-b", "--wait=-1s"]));
        assert_eq!(e, None);
        assert_eq!(p.values.string("name"), "-b");
        assert_eq!(p.values.duration_nanos("wait"), -1_000_000_000);
        assert_eq!(p.args, v(&["x"]));
    }

    #[test]
    fn booleans_take_values_only_with_equals() {
        let s = specs();
        let (p, e) = FlagSet::new(&s).parse(&v(&["--all", "false"]));
        assert_eq!(e, None);
        assert!(p.values.bool("all"));
        assert_eq!(p.args, v(&["false"]));
        let (p, _) = FlagSet::new(&s).parse(&v(&["-A=false"]));
        assert!(!p.values.bool("all") && p.values.changed("all"));
        let (_, e) = FlagSet::new(&s).parse(&v(&["--all=maybe"]));
        assert_eq!(
            e,
            Some(ParseError::Failed(
                "invalid argument \"maybe\" for \"-A, --all\" flag: strconv.ParseBool: parsing \"maybe\": invalid syntax".into()
            ))
        );
    }

    #[test]
    fn shorthand_groups_and_bytes() {
        let s = specs();
        let (p, e) = FlagSet::new(&s).parse(&v(&["-Anfoo"]));
        assert_eq!(e, None);
        assert!(p.values.bool("all"));
        assert_eq!(p.values.string("name"), "foo");
        let (_, e) = FlagSet::new(&s).parse(&v(&["-é"]));
        assert_eq!(
            e,
            Some(ParseError::Failed(
                "unknown shorthand flag: 'Ã' in -é".into()
            ))
        );
        let (_, e) = FlagSet::new(&s).parse(&v(&["-A\u{80}"]));
        assert!(matches!(e, Some(ParseError::Failed(_))));
    }

    #[test]
    fn slices_append_after_the_first_set() {
        let s = specs();
        let (p, _) = FlagSet::new(&s).parse(&v(&["--nodes", "a,b", "--nodes=\"c,d\""]));
        assert_eq!(p.values.strings("nodes"), v(&["a", "b", "c,d"]));
    }

    #[test]
    fn dash_dash_ends_flags_and_help_is_reported() {
        let s = specs();
        let (p, e) = FlagSet::new(&s).parse(&v(&["a", "--", "-n", "x"]));
        assert_eq!(e, None);
        assert_eq!(p.args, v(&["a", "-n", "x"]));
        assert_eq!(
            FlagSet::new(&s).parse(&v(&["-h"])).1,
            Some(ParseError::Help)
        );
        assert_eq!(
            FlagSet::new(&s).parse(&v(&["--name"])).1,
            Some(ParseError::Failed("flag needs an argument: --name".into()))
        );
    }

    #[test]
    fn quiet_prescan_like_kind() {
        assert!(quiet_prescan(&v(&["get", "--bogus", "x", "-q"])));
        assert!(quiet_prescan(&v(&["-vq"])));
        assert!(!quiet_prescan(&v(&["-h", "-q"])));
        assert!(!quiet_prescan(&v(&["--", "-q"])));
        assert!(!quiet_prescan(&v(&["-q", "--quiet=false"])));
    }

    #[test]
    fn go_ints() {
        assert_eq!(parse_int32("0x10"), Ok(16));
        assert_eq!(parse_int32("010"), Ok(8));
        assert_eq!(parse_int32("-3"), Ok(-3));
        assert_eq!(parse_int32("1_000"), Ok(1000));
        assert!(parse_int32("1__0").is_err());
        assert_eq!(
            parse_int32("99999999999"),
            Err("strconv.ParseInt: parsing \"99999999999\": value out of range".into())
        );
        assert_eq!(
            parse_int32("x"),
            Err("strconv.ParseInt: parsing \"x\": invalid syntax".into())
        );
    }

    #[test]
    fn go_durations() {
        assert_eq!(parse_duration("0"), Ok(0));
        assert_eq!(parse_duration("1m30s"), Ok(90_000_000_000));
        assert_eq!(parse_duration("1.5s"), Ok(1_500_000_000));
        assert_eq!(parse_duration(".5ms"), Ok(500_000));
        assert_eq!(parse_duration("-2h"), Ok(-7_200_000_000_000));
        assert_eq!(
            parse_duration("5"),
            Err("time: missing unit in duration \"5\"".into())
        );
        assert_eq!(
            parse_duration("5x"),
            Err("time: unknown unit \"x\" in duration \"5x\"".into())
        );
        assert_eq!(
            parse_duration(""),
            Err("time: invalid duration \"\"".into())
        );
        assert_eq!(
            parse_duration("9999999999h"),
            Err("time: invalid duration \"9999999999h\"".into())
        );
        assert_eq!(
            parse_duration("é"),
            Err("time: invalid duration \"\\xc3\\xa9\"".into())
        );
    }
}
