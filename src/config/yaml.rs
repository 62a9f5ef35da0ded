//! The first YAML document of a stream as a tree of positioned nodes, plus
//! yaml.v3's scalar resolution.
//!
//! Upstream kind decodes its config with go-yaml v3, a port of libyaml. We
//! read events from `unsafe-libyaml` (a port of the same C library, already
//! underneath serde_yaml) so that syntax errors, line numbers and scalar
//! styles are the ones go-yaml sees, and build the node tree the way go-yaml's
//! `parser` does (anchors, aliases, tags).

use std::collections::HashMap;
use std::mem::MaybeUninit;

use unsafe_libyaml as unsafe_yaml;

pub type NodeId = usize;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Scalar,
    Sequence,
    Mapping,
    Alias,
}

#[derive(Debug, Clone)]
pub struct Node {
    pub kind: Kind,
    /// As go-yaml records it: an explicit tag in short form, else `!!str` for
    /// quoted/block scalars, `!!seq`/`!!map`, else the resolved tag of a
    /// plain scalar (`!!merge` for a plain `<<`). Empty for aliases.
    pub tag: String,
    /// Scalar text, or the anchor name of an alias.
    pub value: String,
    /// 1-based line of the node's first event.
    pub line: usize,
    /// Sequence items, or mapping keys and values interleaved.
    pub children: Vec<NodeId>,
    /// Target of an alias.
    pub alias: Option<NodeId>,
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

/// A parsed first document; `root` is `None` for an empty stream.
#[derive(Debug, Default)]
pub struct Document {
    pub nodes: Vec<Node>,
    pub root: Option<NodeId>,
}

impl Document {
    pub fn node(&self, id: NodeId) -> &Node {
        &self.nodes[id]
    }

    /// go-yaml's `Node.ShortTag`.
    pub fn short_tag(&self, id: NodeId) -> &str {
        let n = &self.nodes[id];
        match n.kind {
            Kind::Alias => n.alias.map_or("", |a| self.short_tag(a)),
            _ => &n.tag,
        }
    }

    pub fn is_null(&self, id: NodeId) -> bool {
        self.short_tag(id) == NULL
    }

    /// A scalar that is a string whatever its text (quoted, block, `!!str`).
    pub fn is_indicated_string(&self, id: NodeId) -> bool {
        let n = &self.nodes[id];
        n.kind == Kind::Scalar && n.tag == STR
    }

    /// A `<<` merge key.
    pub fn is_merge_key(&self, id: NodeId) -> bool {
        let n = &self.nodes[id];
        n.kind == Kind::Scalar && n.value == "<<" && n.tag == MERGE
    }
}

/// go-yaml's nesting limit, kept so hostile input cannot exhaust memory.
const MAX_DEPTH: usize = 10000;

/// Parse the first document of `input`. The error is go-yaml's text
/// (`yaml: line N: <problem>`); later documents are not looked at beyond
/// what the parser needs to see where the first one ends.
pub fn parse_first_document(input: &[u8]) -> Result<Document, String> {
    let lookahead = Lookahead::scan(input);
    match build_tree(input) {
        Ok((doc, end)) => match lookahead.error_at(end, None) {
            Some(scanner_error) => Err(scanner_error),
            None => Ok(doc),
        },
        Err(stop) => Err(lookahead
            .error_at(stop.token_start, Some(stop.message))
            .unwrap_or_default()),
    }
}

/// go-yaml's scanner keeps two tokens more in hand than libyaml's, so a
/// scanner error up to two tokens past the point where the parser stops
/// (with an error, or at the end of the first document) is the one go-yaml
/// reports. One token-only pass over the input tells us where, if anywhere,
/// the scanner fails.
struct Lookahead {
    /// Start offsets of the tokens scanned before any scanner error, and
    /// whether each is a zero-width STREAM-START or BLOCK-END.
    tokens: Vec<(u64, bool)>,
    scanner_error: Option<String>,
}

impl Lookahead {
    fn scan(input: &[u8]) -> Self {
        let mut reader = EventReader::new(input);
        let mut tokens = Vec::new();
        loop {
            match reader.next_token() {
                Ok(Some(token)) => tokens.push(token),
                Ok(None) => {
                    return Lookahead {
                        tokens,
                        scanner_error: None,
                    }
                }
                Err(e) => {
                    return Lookahead {
                        tokens,
                        scanner_error: Some(e.message),
                    }
                }
            }
        }
    }

    /// The error go-yaml reports when the parser stops at the token starting
    /// at `token_start`, having found `message` (`None`: the first document
    /// ended there without error).
    fn error_at(&self, token_start: u64, message: Option<String>) -> Option<String> {
        if let Some(scanner_error) = &self.scanner_error {
            // Zero-width tokens share offsets. STREAM-START and BLOCK-ENDs
            // among them were consumed by the time the parser stops; it stops
            // at the next one.
            let at_offset = |&&(start, _): &&(u64, bool)| start == token_start;
            let stopped_at = self
                .tokens
                .iter()
                .position(|t| at_offset(&t) && !t.1)
                .or_else(|| self.tokens.iter().rposition(|t| at_offset(&t)));
            let failed_token = self.tokens.len();
            if stopped_at.is_none_or(|t| failed_token <= t + 2) {
                return Some(scanner_error.clone());
            }
        }
        message
    }
}

/// Where and why building the tree failed.
struct Stop {
    token_start: u64,
    message: String,
}

impl From<ParseError> for Stop {
    fn from(e: ParseError) -> Self {
        Stop {
            token_start: e.token_start,
            message: e.message,
        }
    }
}

/// The tree of the first document, and the offset of the token that ended it.
fn build_tree(input: &[u8]) -> Result<(Document, u64), Stop> {
    let mut events = EventReader::new(input);
    let fail = |ev: &Event, message: String| Stop {
        token_start: ev.token_start,
        message,
    };
    match events.next()? {
        Event {
            kind: EventKind::StreamStart,
            ..
        } => {}
        ev => return Err(fail(&ev, "yaml: expected STREAM-START".into())),
    }
    let mut doc = Document::default();
    match events.next()? {
        Event {
            kind: EventKind::StreamEnd,
            token_start,
            ..
        } => return Ok((doc, token_start)),
        Event {
            kind: EventKind::DocumentStart,
            ..
        } => {}
        ev => return Err(fail(&ev, "yaml: expected DOCUMENT-START".into())),
    }

    let mut anchors: HashMap<String, NodeId> = HashMap::new();
    let mut open: Vec<NodeId> = Vec::new();
    loop {
        let ev = events.next()?;
        let (line, token_start) = (ev.line, ev.token_start);
        let fail = |message: String| Stop {
            token_start,
            message,
        };
        let (kind, tag, value, anchor) = match ev.kind {
            EventKind::Scalar {
                anchor,
                tag,
                value,
                quoted,
            } => {
                let tag = match explicit_tag(&tag) {
                    Some(t) => t,
                    None if quoted => STR.to_string(),
                    None if value == "<<" => MERGE.to_string(),
                    None => resolve_plain_tag(&value),
                };
                (Kind::Scalar, tag, value, anchor)
            }
            EventKind::SequenceStart { anchor, tag } => (
                Kind::Sequence,
                explicit_tag(&tag).unwrap_or_else(|| SEQ.into()),
                String::new(),
                anchor,
            ),
            EventKind::MappingStart { anchor, tag } => (
                Kind::Mapping,
                explicit_tag(&tag).unwrap_or_else(|| MAP.into()),
                String::new(),
                anchor,
            ),
            EventKind::Alias { anchor } => (Kind::Alias, String::new(), anchor, None),
            EventKind::SequenceEnd | EventKind::MappingEnd => {
                open.pop();
                if open.is_empty() {
                    break;
                }
                continue;
            }
            _ => return Err(fail("yaml: unexpected event inside a document".into())),
        };
        let alias = if kind == Kind::Alias {
            match anchors.get(&value) {
                Some(&target) => Some(target),
                None => return Err(fail(format!("yaml: unknown anchor '{value}' referenced"))),
            }
        } else {
            None
        };
        let id = doc.nodes.len();
        doc.nodes.push(Node {
            kind,
            tag,
            value,
            line,
            children: Vec::new(),
            alias,
        });
        // Anchors are visible from the moment their node starts, as in go-yaml
        // (so an alias inside its own anchor is a cycle the decoder reports).
        if let Some(a) = anchor {
            anchors.insert(a, id);
        }
        match open.last() {
            Some(&parent) => doc.nodes[parent].children.push(id),
            None => doc.root = Some(id),
        }
        if matches!(kind, Kind::Sequence | Kind::Mapping) {
            if open.len() >= MAX_DEPTH {
                return Err(fail(format!(
                    "yaml: line {line}: exceeded max depth of {MAX_DEPTH}"
                )));
            }
            open.push(id);
        } else if open.is_empty() {
            break;
        }
    }
    match events.next()? {
        Event {
            kind: EventKind::DocumentEnd,
            token_start,
            ..
        } => Ok((doc, token_start)),
        ev => Err(fail(&ev, "yaml: expected DOCUMENT-END".into())),
    }
}

/// An explicit tag, shortened; the non-specific `!` counts as none.
fn explicit_tag(tag: &Option<String>) -> Option<String> {
    match tag.as_deref() {
        None | Some("") | Some("!") => None,
        Some(t) => Some(short_tag(t).to_string()),
    }
}

const LONG_TAG_PREFIX: &str = "tag:yaml.org,2002:";

pub fn short_tag(tag: &str) -> String {
    match tag.strip_prefix(LONG_TAG_PREFIX) {
        Some(rest) => format!("!!{rest}"),
        None => tag.to_string(),
    }
}

/// A scalar's value after yaml.v3's resolution.
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

fn resolve_plain_tag(value: &str) -> String {
    // Resolution without an explicit tag cannot fail.
    resolve("", value)
        .map(|(t, _)| t)
        .unwrap_or_else(|_| STR.into())
}

/// yaml.v3's `resolve`: the tag and value a scalar stands for. `tag` is the
/// node's (short) tag or empty. An explicit tag the text does not fit is
/// fatal (`yaml: cannot decode !!str `x` as a !!int`).
pub fn resolve(tag: &str, text: &str) -> Result<(String, Resolved), String> {
    let tag = short_tag(tag);
    if !matches!(
        tag.as_str(),
        "" | STR | BOOL | INT | FLOAT | NULL | TIMESTAMP
    ) {
        return Ok((tag, Resolved::Str(text.to_string())));
    }
    let (rtag, out) = resolve_untagged(&tag, text);
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

fn resolve_untagged(tag: &str, text: &str) -> (&'static str, Resolved) {
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
        "<<" => return (MERGE, Resolved::Str(text.to_string())),
        _ => {}
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

// ---------------------------------------------------------------------------
// libyaml event reading

struct Event {
    kind: EventKind,
    line: usize,
    /// Offset of the token the event came from.
    token_start: u64,
}

/// A libyaml failure: go-yaml's text and the offset of the problem token.
struct ParseError {
    message: String,
    token_start: u64,
}

enum EventKind {
    StreamStart,
    StreamEnd,
    DocumentStart,
    DocumentEnd,
    Alias {
        anchor: String,
    },
    Scalar {
        anchor: Option<String>,
        tag: Option<String>,
        value: String,
        quoted: bool,
    },
    SequenceStart {
        anchor: Option<String>,
        tag: Option<String>,
    },
    SequenceEnd,
    MappingStart {
        anchor: Option<String>,
        tag: Option<String>,
    },
    MappingEnd,
}

/// Owns a libyaml parser reading from a borrowed buffer.
struct EventReader<'a> {
    parser: Box<MaybeUninit<unsafe_yaml::yaml_parser_t>>,
    _input: &'a [u8],
}

impl<'a> EventReader<'a> {
    fn new(input: &'a [u8]) -> Self {
        let mut parser = Box::new(MaybeUninit::<unsafe_yaml::yaml_parser_t>::uninit());
        // SAFETY: initialize fills the boxed (address-stable) parser; the
        // input outlives the reader, which is the only user of the parser.
        unsafe {
            let p = parser.as_mut_ptr();
            if unsafe_yaml::yaml_parser_initialize(p).fail {
                panic!("libyaml: out of memory initialising the parser");
            }
            unsafe_yaml::yaml_parser_set_input_string(p, input.as_ptr(), input.len() as u64);
        }
        EventReader {
            parser,
            _input: input,
        }
    }

    fn next(&mut self) -> Result<Event, ParseError> {
        let mut event = MaybeUninit::<unsafe_yaml::yaml_event_t>::uninit();
        // SAFETY: the parser was initialised in `new`; a successfully parsed
        // event is copied out and then released with yaml_event_delete.
        unsafe {
            let p = self.parser.as_mut_ptr();
            if (&*p).error != unsafe_yaml::YAML_NO_ERROR
                || unsafe_yaml::yaml_parser_parse(p, event.as_mut_ptr()).fail
            {
                return Err(self.error());
            }
            let ev = event.as_mut_ptr();
            let out = convert(&*ev);
            unsafe_yaml::yaml_event_delete(ev);
            Ok(out)
        }
    }

    /// The start offset of the next token and whether it is a STREAM-START
    /// or BLOCK-END; `None` at the end of the stream.
    fn next_token(&mut self) -> Result<Option<(u64, bool)>, ParseError> {
        let mut token = MaybeUninit::<unsafe_yaml::yaml_token_t>::uninit();
        // SAFETY: as in `next`; the token is released after reading its mark.
        unsafe {
            let p = self.parser.as_mut_ptr();
            if (&*p).error != unsafe_yaml::YAML_NO_ERROR
                || unsafe_yaml::yaml_parser_scan(p, token.as_mut_ptr()).fail
            {
                return Err(self.error());
            }
            let t = token.as_mut_ptr();
            let out = ((*t).type_ != unsafe_yaml::YAML_STREAM_END_TOKEN).then_some((
                (*t).start_mark.index,
                matches!(
                    (*t).type_,
                    unsafe_yaml::YAML_BLOCK_END_TOKEN | unsafe_yaml::YAML_STREAM_START_TOKEN
                ),
            ));
            unsafe_yaml::yaml_token_delete(t);
            Ok(out)
        }
    }

    /// go-yaml's `parser.fail`: the context line (else the problem line),
    /// 0-based but bumped by one for scanner errors, omitted when zero.
    fn error(&self) -> ParseError {
        // SAFETY: the parser is initialised; problem/context are C strings or null.
        let (scanner, problem, problem_line, context_line, token_start) = unsafe {
            let p = &*self.parser.as_ptr();
            (
                p.error == unsafe_yaml::YAML_SCANNER_ERROR,
                c_string(p.problem as *const u8),
                p.problem_mark.line as usize,
                p.context_mark.line as usize,
                p.problem_mark.index,
            )
        };
        let line = if context_line != 0 {
            context_line
        } else {
            problem_line
        };
        let line = if line != 0 && scanner { line + 1 } else { line };
        let where_ = if line != 0 {
            format!("line {line}: ")
        } else {
            String::new()
        };
        // go-yaml's port keeps a typo of an older libyaml.
        let problem = problem
            .filter(|p| !p.is_empty())
            .map(|p| p.replace("hexadecimal", "hexdecimal"));
        let message = format!(
            "yaml: {where_}{}",
            problem
                .as_deref()
                .unwrap_or("unknown problem parsing YAML content")
        );
        ParseError {
            message,
            token_start,
        }
    }
}

impl Drop for EventReader<'_> {
    fn drop(&mut self) {
        // SAFETY: initialised in `new`, deleted exactly once.
        unsafe { unsafe_yaml::yaml_parser_delete(self.parser.as_mut_ptr()) }
    }
}

/// SAFETY: `ptr` is null or a NUL-terminated string owned by libyaml.
unsafe fn c_string(ptr: *const u8) -> Option<String> {
    if ptr.is_null() {
        return None;
    }
    let cstr = unsafe { std::ffi::CStr::from_ptr(ptr as *const std::ffi::c_char) };
    Some(String::from_utf8_lossy(cstr.to_bytes()).into_owned())
}

/// SAFETY: `ev` is an event just produced by yaml_parser_parse.
unsafe fn convert(ev: &unsafe_yaml::yaml_event_t) -> Event {
    let line = ev.start_mark.line as usize + 1;
    let token_start = ev.start_mark.index;
    let kind = unsafe {
        match ev.type_ {
            unsafe_yaml::YAML_STREAM_START_EVENT => EventKind::StreamStart,
            unsafe_yaml::YAML_STREAM_END_EVENT => EventKind::StreamEnd,
            unsafe_yaml::YAML_DOCUMENT_START_EVENT => EventKind::DocumentStart,
            unsafe_yaml::YAML_DOCUMENT_END_EVENT => EventKind::DocumentEnd,
            unsafe_yaml::YAML_ALIAS_EVENT => EventKind::Alias {
                anchor: c_string(ev.data.alias.anchor).unwrap_or_default(),
            },
            unsafe_yaml::YAML_SCALAR_EVENT => {
                let s = &ev.data.scalar;
                let bytes = std::slice::from_raw_parts(s.value, s.length as usize);
                EventKind::Scalar {
                    anchor: c_string(s.anchor),
                    tag: c_string(s.tag),
                    value: String::from_utf8_lossy(bytes).into_owned(),
                    quoted: s.style != unsafe_yaml::YAML_PLAIN_SCALAR_STYLE,
                }
            }
            unsafe_yaml::YAML_SEQUENCE_START_EVENT => EventKind::SequenceStart {
                anchor: c_string(ev.data.sequence_start.anchor),
                tag: c_string(ev.data.sequence_start.tag),
            },
            unsafe_yaml::YAML_SEQUENCE_END_EVENT => EventKind::SequenceEnd,
            unsafe_yaml::YAML_MAPPING_START_EVENT => EventKind::MappingStart {
                anchor: c_string(ev.data.mapping_start.anchor),
                tag: c_string(ev.data.mapping_start.tag),
            },
            _ => EventKind::MappingEnd,
        }
    };
    Event {
        kind,
        line,
        token_start,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolved(text: &str) -> (String, Resolved) {
        resolve("", text).unwrap()
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
        }
        assert_eq!(resolved("2020-1-1T1:1:1+01:00").0, TIMESTAMP);
        assert_eq!(resolved("2020-1-1T1:1:1-23:59").0, TIMESTAMP);
        assert_eq!(resolved("2020-1-1T1:1:1+24:00").0, STR);
        assert_eq!(resolved("2020-1-1T1:1:1+1:00").0, STR);
    }

    #[test]
    fn explicit_tags_must_fit_the_text() {
        assert_eq!(
            resolve("!!int", "abc").unwrap_err(),
            "yaml: cannot decode !!str `abc` as a !!int"
        );
        assert_eq!(
            resolve("!!float", "3").unwrap(),
            (FLOAT.into(), Resolved::Float(3.0))
        );
        assert_eq!(
            resolve("!!str", "3").unwrap(),
            (STR.into(), Resolved::Str("3".into()))
        );
        assert_eq!(
            resolve("!custom", "3").unwrap(),
            ("!custom".into(), Resolved::Str("3".into()))
        );
    }

    #[test]
    fn tree_records_lines_tags_and_aliases() {
        let doc = parse_first_document(b"a: &x 1\nb: \"2\"\nc: [*x]\n---\nd: 4\n").unwrap();
        let root = doc.node(doc.root.unwrap());
        assert_eq!(root.kind, Kind::Mapping);
        assert_eq!(root.children.len(), 6);
        let one = doc.node(root.children[1]);
        assert_eq!((one.tag.as_str(), one.line), (INT, 1));
        assert_eq!(doc.node(root.children[3]).tag, STR);
        let seq = doc.node(root.children[5]);
        assert_eq!(seq.line, 3);
        assert_eq!(doc.node(seq.children[0]).alias, Some(root.children[1]));
    }

    #[test]
    fn syntax_errors_use_go_yaml_text() {
        assert_eq!(
            parse_first_document(b"\":").unwrap_err(),
            "yaml: found unexpected end of stream"
        );
        assert_eq!(
            parse_first_document(b"a: b\nc: d: e\n").unwrap_err(),
            "yaml: line 2: mapping values are not allowed in this context"
        );
        assert_eq!(
            parse_first_document(b"a: *nope\n").unwrap_err(),
            "yaml: unknown anchor 'nope' referenced"
        );
    }

    #[test]
    fn empty_stream_has_no_root() {
        assert!(parse_first_document(b"").unwrap().root.is_none());
        assert!(parse_first_document(b"# only a comment\n")
            .unwrap()
            .root
            .is_none());
    }
}
