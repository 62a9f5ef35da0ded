//! YAML output byte-compatible with what upstream kind writes (spec §5.2).
//!
//! Upstream normalises every kubeconfig through sigs.k8s.io/yaml, i.e. the
//! go-yaml v2 (libyaml-derived) emitter: map keys sorted with go-yaml's
//! "natural" order, 2-space indentation, sequences inside mappings at the
//! parent's indentation, empty collections in flow style (`{}` / `[]`), YAML
//! 1.1 quoting rules (`"yes"`, `"1"`, `""` are double-quoted) and long lines
//! folded at column 80. We emit that style directly instead of relying on
//! serde_yaml's emitter, whose quoting follows YAML 1.2: it would write e.g. a
//! namespace `yes` unquoted, which kubectl (YAML 1.1) reads back as a bool.

use std::cmp::Ordering;

use serde_yaml::{Mapping, Value};

/// go-yaml's default line width: plain and quoted scalars are folded at the
/// first space after this column.
const BEST_WIDTH: usize = 80;
/// go-yaml's indentation step.
const INDENT: usize = 2;

/// A YAML tree as sigs.k8s.io/yaml sees it after its JSON round trip: keys
/// are strings, tags are gone.
#[derive(Debug, Clone, PartialEq)]
enum Node {
    Null,
    Bool(bool),
    /// Integer, already rendered in decimal.
    Int(String),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    /// Entries in emission (sorted) order.
    Map(Vec<(String, Node)>),
}

/// Encode a document; a top-level empty mapping is `{}\n` (callers decide
/// whether that means "write an empty file").
pub(crate) fn to_yaml(value: &Value) -> String {
    let node = to_node(value);
    let mut e = Emitter::default();
    match &node {
        Node::Map(entries) if !entries.is_empty() => e.mapping(entries, 0),
        Node::Seq(items) if !items.is_empty() => e.sequence(items, 0),
        other => e.scalar_or_empty(other, 0, false),
    }
    if e.column > 0 {
        e.newline();
    }
    if e.open_ended {
        // libyaml closes a document whose last scalar is a keep-chomped
        // literal (`|+`) with a document end marker.
        e.put("...");
        e.newline();
    }
    e.out
}

fn to_node(value: &Value) -> Node {
    match value {
        Value::Null => Node::Null,
        Value::Bool(b) => Node::Bool(*b),
        Value::Number(n) => number_node(n),
        Value::String(s) => Node::Str(s.clone()),
        Value::Sequence(items) => Node::Seq(items.iter().map(to_node).collect()),
        Value::Mapping(m) => Node::Map(sorted_entries(m)),
        // sigs.k8s.io/yaml converts through JSON, which has no tags.
        Value::Tagged(t) => to_node(&t.value),
    }
}

fn number_node(n: &serde_yaml::Number) -> Node {
    if let Some(i) = n.as_i64() {
        Node::Int(i.to_string())
    } else if let Some(u) = n.as_u64() {
        Node::Int(u.to_string())
    } else {
        Node::Float(n.as_f64().unwrap_or(f64::NAN))
    }
}

fn sorted_entries(m: &Mapping) -> Vec<(String, Node)> {
    let mut entries: Vec<(String, Node)> = m.iter().map(|(k, v)| (key_string(k), to_node(v))).collect();
    entries.sort_by(|a, b| go_key_cmp(&a.0, &b.0));
    entries
}

/// JSON object keys are strings: non-string YAML keys become their text.
fn key_string(key: &Value) -> String {
    match key {
        Value::String(s) => s.clone(),
        Value::Null => "null".to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => match number_node(n) {
            Node::Int(s) => s,
            Node::Float(f) => go_format_float(f),
            _ => unreachable!("number_node only returns numbers"),
        },
        Value::Tagged(t) => key_string(&t.value),
        complex => serde_yaml::to_string(complex).unwrap_or_default().trim_end().to_string(),
    }
}

/// go-yaml v2's map key order for string keys: letters compare by code
/// point, any non-letter sorts before a letter, and runs of digits compare
/// numerically.
pub(crate) fn go_key_cmp(a: &str, b: &str) -> Ordering {
    if go_key_less(a, b) {
        Ordering::Less
    } else if go_key_less(b, a) {
        Ordering::Greater
    } else {
        Ordering::Equal
    }
}

fn go_key_less(a: &str, b: &str) -> bool {
    let ar: Vec<char> = a.chars().collect();
    let br: Vec<char> = b.chars().collect();
    for i in 0..ar.len().min(br.len()) {
        if ar[i] == br[i] {
            continue;
        }
        let (al, bl) = (ar[i].is_alphabetic(), br[i].is_alphabetic());
        if al && bl {
            return ar[i] < br[i];
        }
        if al || bl {
            return bl;
        }
        // Both non-letters: compare the digit runs starting here as numbers
        // (a run continuing a non-zero number is never "leading zeros").
        let (mut an, mut bn): (i64, i64) = (0, 0);
        if ar[i] == '0' || br[i] == '0' {
            let mut j = i;
            while j > 0 && ar[j - 1].is_ascii_digit() {
                if ar[j - 1] != '0' {
                    an = 1;
                    bn = 1;
                    break;
                }
                j -= 1;
            }
        }
        let mut ai = i;
        while ai < ar.len() && ar[ai].is_ascii_digit() {
            an = an.wrapping_mul(10).wrapping_add(i64::from(ar[ai] as u8 - b'0'));
            ai += 1;
        }
        let mut bi = i;
        while bi < br.len() && br[bi].is_ascii_digit() {
            bn = bn.wrapping_mul(10).wrapping_add(i64::from(br[bi] as u8 - b'0'));
            bi += 1;
        }
        if an != bn {
            return an < bn;
        }
        if ai != bi {
            return ai < bi;
        }
        return ar[i] < br[i];
    }
    ar.len() < br.len()
}

/// `strconv.FormatFloat(f, 'g', -1, 64)` with YAML's spellings of the
/// non-finite values.
pub(crate) fn go_format_float(f: f64) -> String {
    if f.is_nan() {
        return ".nan".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { ".inf".into() } else { "-.inf".into() };
    }
    // Rust's `{:e}` gives the shortest round-tripping digits, like Go's -1
    // precision: "-1.2345e-7".
    let sci = format!("{f:e}");
    let (mantissa, exp) = sci.split_once('e').expect("{:e} always has an exponent");
    let exp: i32 = exp.parse().expect("{:e} exponent is an integer");
    let (sign, mantissa) = mantissa.strip_prefix('-').map_or(("", mantissa), |m| ("-", m));
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    // Shortest 'g' switches to exponent form outside [-4, 6).
    if !(-4..6).contains(&exp) {
        return format!("{sign}{}e{}{:02}", with_point(&digits, 1), if exp < 0 { '-' } else { '+' }, exp.abs());
    }
    let dp = exp + 1;
    let nd = digits.len() as i32;
    let body = if dp <= 0 {
        format!("0.{}{digits}", "0".repeat((-dp) as usize))
    } else if dp >= nd {
        format!("{digits}{}", "0".repeat((dp - nd) as usize))
    } else {
        with_point(&digits, dp as usize)
    };
    format!("{sign}{body}")
}

fn with_point(digits: &str, at: usize) -> String {
    if digits.len() <= at {
        digits.to_string()
    } else {
        format!("{}.{}", &digits[..at], &digits[at..])
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Style {
    Plain,
    SingleQuoted,
    DoubleQuoted,
    Literal,
}

/// What libyaml's scalar analysis allows for a string.
#[derive(Debug, Default)]
struct Analysis {
    multiline: bool,
    block_plain_allowed: bool,
    single_quoted_allowed: bool,
    block_allowed: bool,
}

fn is_break(c: char) -> bool {
    matches!(c, '\r' | '\n' | '\u{85}' | '\u{2028}' | '\u{2029}')
}

fn is_blank(c: char) -> bool {
    c == ' ' || c == '\t'
}

/// libyaml's printable set (note: characters outside the BMP are not).
fn is_printable(c: char) -> bool {
    matches!(c as u32, 0x0A | 0x20..=0x7E | 0xA0..=0xD7FF | 0xE000..=0xFFFD) && c != '\u{FEFF}'
}

fn analyze(s: &str) -> Analysis {
    if s.is_empty() {
        return Analysis {
            multiline: false,
            block_plain_allowed: true,
            single_quoted_allowed: true,
            block_allowed: false,
        };
    }
    let chars: Vec<char> = s.chars().collect();
    let mut block_indicators = s.starts_with("---") || s.starts_with("...");
    let (mut line_breaks, mut special) = (false, false);
    let (mut leading_space, mut leading_break, mut trailing_space, mut trailing_break) = (false, false, false, false);
    let (mut break_space, mut space_break) = (false, false);
    let (mut previous_space, mut previous_break) = (false, false);
    let mut preceded_by_ws = true;
    for (i, &c) in chars.iter().enumerate() {
        let last = i + 1 == chars.len();
        let followed_by_ws = last || is_blank(chars[i + 1]) || is_break(chars[i + 1]);
        if i == 0 {
            match c {
                '#' | ',' | '[' | ']' | '{' | '}' | '&' | '*' | '!' | '|' | '>' | '\'' | '"' | '%' | '@' | '`' => {
                    block_indicators = true
                }
                '?' | ':' | '-' if followed_by_ws => block_indicators = true,
                _ => {}
            }
        } else {
            match c {
                ':' if followed_by_ws => block_indicators = true,
                '#' if preceded_by_ws => block_indicators = true,
                _ => {}
            }
        }
        // U+2028/U+2029 are printable line breaks to libyaml; treating them
        // as special (double-quoted) is simpler and reads back the same.
        if !is_printable(c) || matches!(c, '\u{2028}' | '\u{2029}') {
            special = true;
        }
        if c == ' ' {
            leading_space |= i == 0;
            trailing_space |= last;
            break_space |= previous_break;
            previous_space = true;
            previous_break = false;
        } else if is_break(c) {
            line_breaks = true;
            leading_break |= i == 0;
            trailing_break |= last;
            space_break |= previous_space;
            previous_space = false;
            previous_break = true;
        } else {
            previous_space = false;
            previous_break = false;
        }
        preceded_by_ws = is_blank(c) || is_break(c) || c == '\0';
    }
    let mut a = Analysis {
        multiline: line_breaks,
        block_plain_allowed: true,
        single_quoted_allowed: true,
        block_allowed: true,
    };
    if leading_space || leading_break || trailing_space || trailing_break || line_breaks || block_indicators {
        a.block_plain_allowed = false;
    }
    if trailing_space {
        a.block_allowed = false;
    }
    if break_space {
        a.block_plain_allowed = false;
        a.single_quoted_allowed = false;
    }
    if space_break || special {
        a.block_plain_allowed = false;
        a.single_quoted_allowed = false;
        a.block_allowed = false;
    }
    a
}

/// Whether go-yaml v2 would read `s`, written plain, as something other than
/// a string (bool, null, int, float, timestamp, YAML 1.1 base-60 float).
pub(crate) fn resolves_to_non_string(s: &str) -> bool {
    const SPECIAL: &[&str] = &[
        "y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON", "n", "N", "no", "No", "NO", "false",
        "False", "FALSE", "off", "Off", "OFF", "", "~", "null", "Null", "NULL", ".nan", ".NaN", ".NAN", ".inf", ".Inf",
        ".INF", "+.inf", "+.Inf", "+.INF", "-.inf", "-.Inf", "-.INF",
    ];
    if SPECIAL.contains(&s) {
        return true;
    }
    match s.as_bytes()[0] {
        b'.' => is_go_float(s),
        b'+' | b'-' | b'0'..=b'9' => {
            let plain = s.replace('_', "");
            is_timestamp(s) || is_go_int(&plain) || is_yaml_float(&plain) || is_base60_float(s)
        }
        _ => false,
    }
}

fn all(s: &str, f: impl Fn(u8) -> bool) -> bool {
    !s.is_empty() && s.bytes().all(f)
}

/// strconv.ParseInt/ParseUint with base 0 (range errors ignored: over-quoting
/// is harmless).
fn is_go_int(s: &str) -> bool {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    let lower = digits.to_ascii_lowercase();
    if let Some(hex) = lower.strip_prefix("0x") {
        all(hex, |b| b.is_ascii_hexdigit())
    } else if let Some(oct) = lower.strip_prefix("0o") {
        all(oct, |b| (b'0'..=b'7').contains(&b))
    } else if let Some(bin) = lower.strip_prefix("0b") {
        all(bin, |b| b == b'0' || b == b'1')
    } else {
        all(digits, |b| b.is_ascii_digit())
    }
}

/// go-yaml's `yamlStyleFloat`: `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`.
fn is_yaml_float(s: &str) -> bool {
    let s = s.strip_prefix(['+', '-']).unwrap_or(s);
    let (num, exp) = match s.find(['e', 'E']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let num_ok = match num.split_once('.') {
        Some(("", frac)) => all(frac, |b| b.is_ascii_digit()),
        Some((int, frac)) => all(int, |b| b.is_ascii_digit()) && frac.bytes().all(|b| b.is_ascii_digit()),
        None => all(num, |b| b.is_ascii_digit()),
    };
    let exp_ok = exp.is_none_or(|e| all(e.strip_prefix(['+', '-']).unwrap_or(e), |b| b.is_ascii_digit()));
    num_ok && exp_ok
}

/// strconv.ParseFloat for strings starting with '.'.
fn is_go_float(s: &str) -> bool {
    is_yaml_float(s)
}

/// `^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$`
fn is_base60_float(s: &str) -> bool {
    let s = s.strip_prefix(['+', '-']).unwrap_or(s);
    let (s, frac) = s.split_once('.').map_or((s, None), |(a, b)| (a, Some(b)));
    if frac.is_some_and(|f| !f.bytes().all(|b| b.is_ascii_digit() || b == b'_')) {
        return false;
    }
    let mut parts = s.split(':');
    let head = parts.next().unwrap_or("");
    let head_ok = head.as_bytes().first().is_some_and(u8::is_ascii_digit)
        && head.bytes().all(|b| b.is_ascii_digit() || b == b'_');
    let mut sexagesimal = 0;
    for p in parts {
        let b = p.as_bytes();
        let ok = match b.len() {
            1 => b[0].is_ascii_digit(),
            2 => (b'0'..=b'5').contains(&b[0]) && b[1].is_ascii_digit(),
            _ => false,
        };
        if !ok {
            return false;
        }
        sexagesimal += 1;
    }
    head_ok && sexagesimal > 0
}

/// go-yaml's timestamp formats: `YYYY-M-D`, optionally followed by
/// `[Tt ]h:m:s[.frac]` (with a `Z`/`±hh:mm` zone after `T`/`t`).
fn is_timestamp(s: &str) -> bool {
    fn num(s: &str, max_len: usize) -> Option<(u32, &str)> {
        let n = s.bytes().take(max_len).take_while(u8::is_ascii_digit).count();
        if n == 0 {
            return None;
        }
        Some((s[..n].parse().ok()?, &s[n..]))
    }
    let b = s.as_bytes();
    if b.len() < 5 || !b[..4].iter().all(u8::is_ascii_digit) || b[4] != b'-' {
        return false;
    }
    let Some((month, rest)) = num(&s[5..], 2) else { return false };
    let Some(rest) = rest.strip_prefix('-') else { return false };
    let Some((day, rest)) = num(rest, 2) else { return false };
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return false;
    }
    if rest.is_empty() {
        return true;
    }
    let zoned = rest.starts_with(['T', 't']);
    if !zoned && !rest.starts_with(' ') {
        return false;
    }
    let time = &rest[1..];
    let Some((h, time)) = num(time, 2) else { return false };
    let Some(time) = time.strip_prefix(':') else { return false };
    let Some((m, time)) = num(time, 2) else { return false };
    let Some(time) = time.strip_prefix(':') else { return false };
    let Some((sec, mut time)) = num(time, 2) else { return false };
    if h > 23 || m > 59 || sec > 59 {
        return false;
    }
    if let Some(frac) = time.strip_prefix('.') {
        let n = frac.bytes().take_while(u8::is_ascii_digit).count();
        if n == 0 {
            return false;
        }
        time = &frac[n..];
    }
    if !zoned {
        return time.is_empty();
    }
    if time == "Z" {
        return true;
    }
    let zb = time.as_bytes();
    zb.len() == 6
        && (zb[0] == b'+' || zb[0] == b'-')
        && zb[1..3].iter().all(u8::is_ascii_digit)
        && zb[3] == b':'
        && zb[4..6].iter().all(u8::is_ascii_digit)
}

/// The style go-yaml v2 + libyaml end up using for a string, in block
/// context (`key` = simple mapping key).
fn string_style(s: &str, key: bool) -> Style {
    let a = analyze(s);
    let requested = if s.contains('\n') {
        Style::Literal
    } else if !resolves_to_non_string(s) && !is_base60_float(s) {
        Style::Plain
    } else {
        Style::DoubleQuoted
    };
    let mut style = requested;
    if key && a.multiline {
        style = Style::DoubleQuoted;
    }
    if style == Style::Plain && (!a.block_plain_allowed || (s.is_empty() && key)) {
        style = Style::SingleQuoted;
    }
    if style == Style::SingleQuoted && !a.single_quoted_allowed {
        style = Style::DoubleQuoted;
    }
    if style == Style::Literal && (!a.block_allowed || key) {
        style = Style::DoubleQuoted;
    }
    style
}

#[derive(Default)]
struct Emitter {
    out: String,
    /// Characters since the last line break.
    column: usize,
    /// The last thing written was a keep-chomped literal.
    open_ended: bool,
}

impl Emitter {
    fn put(&mut self, s: &str) {
        self.out.push_str(s);
        self.column += s.chars().count();
    }

    fn put_char(&mut self, c: char) {
        self.out.push(c);
        self.column += 1;
    }

    fn newline(&mut self) {
        self.out.push('\n');
        self.column = 0;
    }

    /// Start a new line at `indent`, unless a block scalar already left us at
    /// the start of one.
    fn line_at(&mut self, indent: usize) {
        if self.column > 0 {
            self.newline();
        }
        while self.column < indent {
            self.put_char(' ');
        }
    }

    /// An indicator (`:`, `-`, quotes, `|`) ends any open-ended block scalar.
    fn indicator(&mut self, s: &str) {
        self.put(s);
        self.open_ended = false;
    }

    /// Entries of a non-empty mapping; the cursor is at column `indent`.
    fn mapping(&mut self, entries: &[(String, Node)], indent: usize) {
        for (i, (key, value)) in entries.iter().enumerate() {
            if i > 0 {
                self.line_at(indent);
            }
            self.string(key, indent + INDENT, true);
            self.indicator(":");
            match value {
                Node::Map(m) if !m.is_empty() => {
                    self.line_at(indent + INDENT);
                    self.mapping(m, indent + INDENT);
                }
                // Block sequences in a mapping are not indented.
                Node::Seq(s) if !s.is_empty() => {
                    self.line_at(indent);
                    self.sequence(s, indent);
                }
                other => self.scalar_or_empty(other, indent + INDENT, true),
            }
        }
    }

    /// Items of a non-empty sequence; the cursor is at column `indent`.
    fn sequence(&mut self, items: &[Node], indent: usize) {
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                self.line_at(indent);
            }
            self.indicator("-");
            match item {
                Node::Map(m) if !m.is_empty() => {
                    self.put_char(' ');
                    self.mapping(m, indent + INDENT);
                }
                Node::Seq(s) if !s.is_empty() => {
                    self.put_char(' ');
                    self.sequence(s, indent + INDENT);
                }
                other => self.scalar_or_empty(other, indent + INDENT, true),
            }
        }
    }

    /// A scalar or empty collection; `indent` is where continuation lines of
    /// the scalar go. `after_indicator`: a separating space is needed.
    fn scalar_or_empty(&mut self, node: &Node, indent: usize, after_indicator: bool) {
        let sep = if after_indicator { " " } else { "" };
        match node {
            Node::Null => self.put(&format!("{sep}null")),
            Node::Bool(b) => self.put(&format!("{sep}{b}")),
            Node::Int(i) => self.put(&format!("{sep}{i}")),
            Node::Float(f) => self.put(&format!("{sep}{}", go_format_float(*f))),
            Node::Map(_) => self.put(&format!("{sep}{{}}")),
            Node::Seq(_) => self.put(&format!("{sep}[]")),
            Node::Str(s) => {
                if after_indicator {
                    self.put_char(' ');
                }
                self.string(s, indent, false);
            }
        }
    }

    fn string(&mut self, s: &str, indent: usize, key: bool) {
        let allow_breaks = !key;
        match string_style(s, key) {
            Style::Plain => self.plain(s, indent, allow_breaks),
            Style::SingleQuoted => self.single_quoted(s, indent, allow_breaks),
            Style::DoubleQuoted => self.double_quoted(s, indent, allow_breaks),
            Style::Literal => self.literal(s, indent),
        }
    }

    /// libyaml folds at a single space once past the width, never at the
    /// first/last character of a quoted scalar.
    fn may_fold(&self, chars: &[char], i: usize, spaces: bool, allow_breaks: bool, quoted: bool) -> bool {
        allow_breaks
            && !spaces
            && self.column > BEST_WIDTH
            && (!quoted || (i > 0 && i + 1 < chars.len()))
            && chars.get(i + 1) != Some(&' ')
    }

    fn plain(&mut self, s: &str, indent: usize, allow_breaks: bool) {
        let chars: Vec<char> = s.chars().collect();
        let mut spaces = false;
        for (i, &c) in chars.iter().enumerate() {
            if c == ' ' {
                if self.may_fold(&chars, i, spaces, allow_breaks, false) {
                    self.newline();
                    self.line_at(indent);
                } else {
                    self.put_char(' ');
                }
                spaces = true;
            } else {
                self.put_char(c);
                spaces = false;
            }
        }
    }

    fn single_quoted(&mut self, s: &str, indent: usize, allow_breaks: bool) {
        self.indicator("'");
        let chars: Vec<char> = s.chars().collect();
        let mut spaces = false;
        for (i, &c) in chars.iter().enumerate() {
            if c == ' ' {
                if self.may_fold(&chars, i, spaces, allow_breaks, true) {
                    self.newline();
                    self.line_at(indent);
                } else {
                    self.put_char(' ');
                }
                spaces = true;
            } else {
                if c == '\'' {
                    self.put_char('\'');
                }
                self.put_char(c);
                spaces = false;
            }
        }
        self.indicator("'");
    }

    fn double_quoted(&mut self, s: &str, indent: usize, allow_breaks: bool) {
        self.indicator("\"");
        let chars: Vec<char> = s.chars().collect();
        let mut spaces = false;
        for (i, &c) in chars.iter().enumerate() {
            if !is_printable(c) || c == '\u{FEFF}' || is_break(c) || c == '"' || c == '\\' {
                let escaped = match c {
                    '\0' => "\\0".to_string(),
                    '\u{07}' => "\\a".to_string(),
                    '\u{08}' => "\\b".to_string(),
                    '\t' => "\\t".to_string(),
                    '\n' => "\\n".to_string(),
                    '\u{0B}' => "\\v".to_string(),
                    '\u{0C}' => "\\f".to_string(),
                    '\r' => "\\r".to_string(),
                    '\u{1B}' => "\\e".to_string(),
                    '"' => "\\\"".to_string(),
                    '\\' => "\\\\".to_string(),
                    '\u{85}' => "\\N".to_string(),
                    '\u{A0}' => "\\_".to_string(),
                    '\u{2028}' => "\\L".to_string(),
                    '\u{2029}' => "\\P".to_string(),
                    c if (c as u32) <= 0xFF => format!("\\x{:02X}", c as u32),
                    c if (c as u32) <= 0xFFFF => format!("\\u{:04X}", c as u32),
                    c => format!("\\U{:08X}", c as u32),
                };
                self.put(&escaped);
                spaces = false;
            } else if c == ' ' {
                if self.may_fold_dq(&chars, i, spaces, allow_breaks) {
                    self.newline();
                    self.line_at(indent);
                    if chars.get(i + 1) == Some(&' ') {
                        self.put_char('\\');
                    }
                } else {
                    self.put_char(' ');
                }
                spaces = true;
            } else {
                self.put_char(c);
                spaces = false;
            }
        }
        self.indicator("\"");
    }

    /// Double-quoted scalars may fold before a second space (it is then
    /// escaped), unlike plain and single-quoted ones.
    fn may_fold_dq(&self, chars: &[char], i: usize, spaces: bool, allow_breaks: bool) -> bool {
        allow_breaks && !spaces && self.column > BEST_WIDTH && i > 0 && i + 1 < chars.len()
    }

    fn literal(&mut self, s: &str, indent: usize) {
        self.indicator("|");
        if s.starts_with(' ') || s.starts_with(is_break) {
            self.put(&INDENT.to_string());
        }
        let chars: Vec<char> = s.chars().collect();
        let n = chars.len();
        let keep = if !chars.last().copied().is_some_and(is_break) {
            self.put("-");
            false
        } else if n == 1 || is_break(chars[n - 2]) {
            self.put("+");
            true
        } else {
            false
        };
        self.newline();
        let mut at_break = true;
        for &c in &chars {
            if is_break(c) {
                self.newline();
                at_break = true;
            } else {
                if at_break {
                    self.line_at(indent);
                }
                self.put_char(c);
                at_break = false;
            }
        }
        self.open_ended = keep;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn yaml(src: &str) -> String {
        to_yaml(&serde_yaml::from_str::<Value>(src).unwrap())
    }

    fn enc_str(s: &str) -> String {
        let mut m = Mapping::new();
        m.insert(Value::String("k".into()), Value::String(s.into()));
        to_yaml(&Value::Mapping(m))
    }

    #[test]
    fn keys_sort_like_go_yaml() {
        let mut keys = vec!["users", "preferences", "kind", "current-context", "contexts", "clusters", "apiVersion"];
        keys.sort_by(|a, b| go_key_cmp(a, b));
        assert_eq!(keys, ["apiVersion", "clusters", "contexts", "current-context", "kind", "preferences", "users"]);
        // non-letters before letters (byte order would put 'B' before '_')
        assert_eq!(go_key_cmp("a_b", "aB"), Ordering::Less);
        // digit runs compare as numbers
        assert_eq!(go_key_cmp("a10", "a9"), Ordering::Greater);
        assert_eq!(go_key_cmp("a", "ab"), Ordering::Less);
        assert_eq!(go_key_cmp("B", "a"), Ordering::Less);
    }

    #[test]
    fn scalar_quoting_follows_go_yaml_v2() {
        let cases: &[(&str, &str)] = &[
            ("plain", "k: plain\n"),
            ("https://127.0.0.1:6443", "k: https://127.0.0.1:6443\n"),
            ("", "k: \"\"\n"),
            ("yes", "k: \"yes\"\n"),
            ("on", "k: \"on\"\n"),
            ("y", "k: \"y\"\n"),
            ("true", "k: \"true\"\n"),
            ("null", "k: \"null\"\n"),
            ("~", "k: \"~\"\n"),
            ("123", "k: \"123\"\n"),
            ("1_000", "k: \"1_000\"\n"),
            ("0x1F", "k: \"0x1F\"\n"),
            ("1.5e3", "k: \"1.5e3\"\n"),
            (".5", "k: \".5\"\n"),
            ("089", "k: \"089\"\n"),
            ("1:20", "k: \"1:20\"\n"),
            ("2001-12-14", "k: \"2001-12-14\"\n"),
            ("2001-12-14T21:59:43.10Z", "k: \"2001-12-14T21:59:43.10Z\"\n"),
            ("1.2.3", "k: 1.2.3\n"),
            ("v1", "k: v1\n"),
            ("- x", "k: '- x'\n"),
            ("a: b", "k: 'a: b'\n"),
            ("it's", "k: it's\n"),
            ("'q'", "k: '''q'''\n"),
            (" lead", "k: ' lead'\n"),
            ("#c", "k: '#c'\n"),
            ("a #c", "k: 'a #c'\n"),
            ("a#c", "k: a#c\n"),
            ("---", "k: '---'\n"),
            ("tab\there", "k: \"tab\\there\"\n"),
            ("emoji 😀", "k: \"emoji \\U0001F600\"\n"),
            ("a\nb", "k: |-\n  a\n  b\n"),
            ("a\nb\n", "k: |\n  a\n  b\n"),
            ("a\n\n", "k: |+\n  a\n\n...\n"),
            (" a\nb", "k: |2-\n   a\n  b\n"),
            ("a \nb", "k: \"a \\nb\"\n"),
        ];
        for (input, want) in cases {
            assert_eq!(enc_str(input), *want, "input {input:?}");
        }
    }

    #[test]
    fn long_strings_fold_at_80_columns_like_go_yaml() {
        let words = vec!["word"; 30].join(" ");
        let out = enc_str(&words);
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), 2, "{out}");
        // Folded at the first space after column 80, continuation indented.
        assert_eq!(lines[0].len(), 3 + 5 * 16 - 1);
        assert!(lines[1].starts_with("  word"));
        assert_eq!(serde_yaml::from_str::<Value>(&out).unwrap()["k"], Value::String(words));
        // Base64 data has no spaces and is never folded.
        let b64 = "A".repeat(500);
        assert_eq!(enc_str(&b64), format!("k: {b64}\n"));
    }

    #[test]
    fn block_layout() {
        let src = "b: {}\na:\n  - x: 1\n    l: [p, q]\n    e: []\n  - - n1\n    - n2\n  - null\nc:\n  d:\n    f: 1.5\n    g: true\n";
        assert_eq!(
            yaml(src),
            "a:\n- e: []\n  l:\n  - p\n  - q\n  x: 1\n- - n1\n  - n2\n- null\nb: {}\nc:\n  d:\n    f: 1.5\n    g: true\n"
        );
        assert_eq!(yaml("{}"), "{}\n");
        assert_eq!(yaml("'1': x\n2: w\ntrue: z\n"), "\"1\": x\n\"2\": w\n\"true\": z\n");
        assert_eq!(yaml("k: !custom v\n"), "k: v\n");
    }

    #[test]
    fn floats_format_like_go() {
        let cases: &[(f64, &str)] = &[
            (1.5, "1.5"),
            (0.0, "0"),
            (100000.0, "100000"),
            (1e21, "1e+21"),
            (1e6, "1e+06"),
            (1234567.5, "1.2345675e+06"),
            (1.25e-7, "1.25e-07"),
            (0.0001, "0.0001"),
            (f64::INFINITY, ".inf"),
            (f64::NEG_INFINITY, "-.inf"),
            (-2.5, "-2.5"),
        ];
        for (f, want) in cases {
            assert_eq!(go_format_float(*f), *want, "{f}");
        }
    }
}
